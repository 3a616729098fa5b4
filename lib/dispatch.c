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

#include "core.h"

/* Look the table up, call slot @fn with (cap, args...), or return @bad. */
#define DISPATCH(api_t, capid, version, bad, fn, cap, ...)                                         \
	do {                                                                                       \
		pcii_isr_enter();                                                                  \
		const api_t *t_ = pcii_cap_api(cap, capid, version);                               \
		__typeof__(bad) r_ = (t_ && t_->fn) ? t_->fn(cap, ##__VA_ARGS__) : (bad);          \
		pcii_isr_exit();                                                                   \
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
