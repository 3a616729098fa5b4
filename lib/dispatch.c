/*
 * The exported cap_msi_* (and, with the MSI-X module, cap_msix_*) calls:
 * thin dispatchers into the function table of the module that served
 * pci_device_read_cap() (decisions.md section 6). A NULL or foreign
 * pci_cap_t gives PCI_ERR_EINVAL (0 for get_nirq), never a crash. Every
 * module call runs inside the library's ISR section, so the records the
 * module reaches through host->check() stay alive for the call.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pci/cap_msi.h>
#include <pci/cap_msix.h>

#include "core.h"

/* Look the table up, call slot @fn with (cap, args...), or return @bad.
 * The validated object is the thread's pcii_isr_cap during the call. */
#define DISPATCH(api_t, capid, version, bad, fn, cap, ...)                                         \
	do {                                                                                       \
		unsigned e_ = pcii_isr_enter();                                                    \
		const api_t *t_ = pcii_cap_api(cap, capid, version);                               \
		__typeof__(bad) r_ = (bad);                                                        \
		if (t_ && t_->fn) {                                                                \
			pci_cap_t outer_ = pcii_isr_cap;                                           \
			pcii_isr_cap = (cap);                                                      \
			r_ = t_->fn(cap, ##__VA_ARGS__);                                           \
			pcii_isr_cap = outer_;                                                     \
		}                                                                                  \
		pcii_isr_exit(e_);                                                                 \
		return r_;                                                                         \
	} while (0)

#define MSI_CALL(bad, fn, cap, ...)                                                                \
	DISPATCH(cap_msi_api_t, CAPID_MSI, MSI_API_VERSION, bad, fn, cap, ##__VA_ARGS__)

PCICAP_EXPORT uint_t cap_msi_get_nirq(pci_cap_t cap)
{
	MSI_CALL((uint_t)0, get_nirq, cap);
}

PCICAP_EXPORT uint_t cap_msi_get_nirq_isr(pci_cap_t cap)
{
	MSI_CALL((uint_t)0, get_nirq_isr, cap);
}

PCICAP_EXPORT pci_err_t cap_msi_set_nirq(pci_devhdl_t hdl, pci_cap_t cap, uint_t nirq)
{
	MSI_CALL(PCI_ERR_EINVAL, set_nirq, cap, hdl, nirq);
}

#define MSI_PAIR(name, arg_t)                                                                      \
	PCICAP_EXPORT pci_err_t cap_msi_##name(pci_devhdl_t hdl, pci_cap_t cap, arg_t a)           \
	{                                                                                          \
		MSI_CALL(PCI_ERR_EINVAL, name, cap, hdl, a);                                       \
	}                                                                                          \
	PCICAP_EXPORT pci_err_t cap_msi_##name##_isr(pci_devhdl_t hdl, pci_cap_t cap, arg_t a)     \
	{                                                                                          \
		MSI_CALL(PCI_ERR_EINVAL, name##_isr, cap, hdl, a);                                 \
	}

MSI_PAIR(get_irq_pend, cap_msi_pend_t *)
MSI_PAIR(get_irq_mask, cap_msi_mask_t *)
MSI_PAIR(mask_irq, cap_msi_mask_t)
MSI_PAIR(unmask_irq, cap_msi_mask_t)
MSI_PAIR(mask_irq_entry, uint_t)
MSI_PAIR(unmask_irq_entry, uint_t)

/* ---------------------------------------------------------------- MSI-X */

#define MSIX_CALL(bad, fn, cap, ...)                                                               \
	DISPATCH(cap_msix_api_t, CAPID_MSIX, MSIX_API_VERSION, bad, fn, cap, ##__VA_ARGS__)

PCICAP_EXPORT uint_t cap_msix_get_nirq(pci_cap_t cap)
{
	MSIX_CALL((uint_t)0, get_nirq, cap);
}

PCICAP_EXPORT uint_t cap_msix_get_nirq_isr(pci_cap_t cap)
{
	MSIX_CALL((uint_t)0, get_nirq_isr, cap);
}

PCICAP_EXPORT pci_err_t cap_msix_set_nirq(pci_devhdl_t hdl, pci_cap_t cap, uint_t nirq)
{
	MSIX_CALL(PCI_ERR_EINVAL, set_nirq, cap, hdl, nirq);
}

PCICAP_EXPORT pci_err_t cap_msix_set_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry,
					       int_t disposition)
{
	MSIX_CALL(PCI_ERR_EINVAL, set_irq_entry, cap, hdl, irq_entry, disposition);
}

PCICAP_EXPORT cap_msix_pba_t *cap_msix_get_pba_ptr(pci_devhdl_t hdl, pci_cap_t cap)
{
	MSIX_CALL((cap_msix_pba_t *)NULL, get_pba_ptr, cap, hdl);
}

/* A call on one table entry, and its _isr flavour. */
#define MSIX_ENTRY_PAIR(name)                                                                      \
	PCICAP_EXPORT pci_err_t cap_msix_##name(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry) \
	{                                                                                          \
		MSIX_CALL(PCI_ERR_EINVAL, name, cap, hdl, irq_entry);                              \
	}                                                                                          \
	PCICAP_EXPORT pci_err_t cap_msix_##name##_isr(pci_devhdl_t hdl, pci_cap_t cap,             \
						      uint_t irq_entry)                            \
	{                                                                                          \
		MSIX_CALL(PCI_ERR_EINVAL, name##_isr, cap, hdl, irq_entry);                        \
	}

/* A call on the Function Mask, and its _isr flavour. */
#define MSIX_ALL_PAIR(name)                                                                        \
	PCICAP_EXPORT pci_err_t cap_msix_##name(pci_devhdl_t hdl, pci_cap_t cap)                   \
	{                                                                                          \
		MSIX_CALL(PCI_ERR_EINVAL, name, cap, hdl);                                         \
	}                                                                                          \
	PCICAP_EXPORT pci_err_t cap_msix_##name##_isr(pci_devhdl_t hdl, pci_cap_t cap)             \
	{                                                                                          \
		MSIX_CALL(PCI_ERR_EINVAL, name##_isr, cap, hdl);                                   \
	}

MSIX_ENTRY_PAIR(mask_irq_entry)
MSIX_ENTRY_PAIR(unmask_irq_entry)
MSIX_ALL_PAIR(mask_irq_all)
MSIX_ALL_PAIR(unmask_irq_all)
