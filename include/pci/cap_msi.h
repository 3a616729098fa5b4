/*
 * pcicap - <pci/cap_msi.h>: the MSI capability (ID 0x05) module API, as QNX
 * defines it. The calls are exported by libpcicap and dispatched into the
 * module pci_cap-0x05.so through the pci_cap_t that pci_device_read_cap()
 * returned; see docs/msi.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_PCI_CAP_MSI_H
#define PCICAP_PCI_CAP_MSI_H

#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Capability ID of MSI. */
#define CAPID_MSI ((pci_capid_t)0x05)
/** Version of the MSI module API this header describes. */
#define MSI_API_VERSION ((pci_version_t){.major = 1, .minor = 0})

/** Image of the Pending Bits register: bit n = vector n. */
typedef uint32_t cap_msi_pend_t;
/** Image of the Mask Bits register: bit n = vector n. */
typedef uint32_t cap_msi_mask_t;

/** The module's function table (pci_cap_t.api_p), in QNX's order. Table
 *  entries take (cap, hdl, ...); the public calls take (hdl, cap, ...). */
typedef struct {
	uint_t (*get_nirq)(pci_cap_t cap);
	pci_err_t (*set_nirq)(pci_cap_t cap, pci_devhdl_t hdl, uint_t nirq);
	pci_err_t (*get_irq_pend)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_pend_t *pend);
	pci_err_t (*get_irq_mask)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t *mask);
	pci_err_t (*mask_irq)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t mask_val);
	pci_err_t (*unmask_irq)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t unmask_val);
	pci_err_t (*mask_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	pci_err_t (*unmask_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	uint_t (*get_nirq_isr)(pci_cap_t cap);
	pci_err_t (*get_irq_pend_isr)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_pend_t *pend);
	pci_err_t (*get_irq_mask_isr)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t *mask);
	pci_err_t (*mask_irq_isr)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t mask_val);
	pci_err_t (*unmask_irq_isr)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t unmask_val);
	pci_err_t (*mask_irq_entry_isr)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	pci_err_t (*unmask_irq_entry_isr)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
} cap_msi_api_t;

/** Number of vectors the device supports (1..32), 0 on error. ISR-safe
 *  variant: cap_msi_get_nirq_isr(). */
uint_t cap_msi_get_nirq(pci_cap_t cap);
/** Number of vectors to use at the next enable: a power of two from 1 to
 *  cap_msi_get_nirq(). @return PCI_ERR_OK, PCI_ERR_EINVAL (bad value, cap or
 *  handle), PCI_ERR_NOT_OWNER, PCI_ERR_ENODEV. */
pci_err_t cap_msi_set_nirq(pci_devhdl_t hdl, pci_cap_t cap, uint_t nirq);
/** Read the Pending Bits register. @return PCI_ERR_OK, PCI_ERR_ENOTSUP (no
 *  per-vector masking), PCI_ERR_EINVAL, PCI_ERR_ENODEV, PCI_ERR_DEV_NOT_AVAIL. */
pci_err_t cap_msi_get_irq_pend(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_pend_t *pend);
/** The Mask Bits register (the library's shadow of it). Errors as above. */
pci_err_t cap_msi_get_irq_mask(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t *mask);
/** Mask the vectors whose bits are set (bits at or beyond the capable count
 *  are refused with PCI_ERR_EINVAL). One config write. */
pci_err_t cap_msi_mask_irq(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t mask_val);
/** Unmask the vectors whose bits are set. One config write. */
pci_err_t cap_msi_unmask_irq(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t unmask_val);
/** Mask vector @p irq_entry (0-based, below the capable count). */
pci_err_t cap_msi_mask_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/** Unmask vector @p irq_entry. */
pci_err_t cap_msi_unmask_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);

/* Callable from an interrupt service routine, a signal handler or any
 * thread: no allocation, no sleeping lock, no system call but the device
 * access. PCI_ERR_DEV_NOT_AVAIL while the device is removed or held off;
 * PCI_ERR_EAGAIN from a signal handler that interrupted a mask call on the
 * same capability in the same thread (the call would otherwise deadlock). */
uint_t cap_msi_get_nirq_isr(pci_cap_t cap);
pci_err_t cap_msi_get_irq_pend_isr(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_pend_t *pend);
pci_err_t cap_msi_get_irq_mask_isr(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t *mask);
pci_err_t cap_msi_mask_irq_isr(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t mask_val);
pci_err_t cap_msi_unmask_irq_isr(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t unmask_val);
pci_err_t cap_msi_mask_irq_entry_isr(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
pci_err_t cap_msi_unmask_irq_entry_isr(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);

#ifdef __cplusplus
}
#endif
#endif
