/*
 * pcicap - <pci/cap_msix.h>: the MSI-X capability (ID 0x11) module API, as
 * QNX defines it. The calls are exported by libpcicap and dispatched into the
 * module pci_cap-0x11.so through the pci_cap_t that pci_device_read_cap()
 * returned; see docs/msix.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_PCI_CAP_MSIX_H
#define PCICAP_PCI_CAP_MSIX_H

#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Capability ID of MSI-X. */
#define CAPID_MSIX       ((pci_capid_t)0x11)
/** Version of the MSI-X module API this header describes. */
#define MSIX_API_VERSION ((pci_version_t){.major = 1, .minor = 0})

/** One 64-bit word of the Pending Bit Array (bit n of word w = table entry
 *  64 * w + n), read-only and volatile: it is the device's memory. */
typedef volatile const uint64_t cap_msix_pba_t;

/** The module's function table (pci_cap_t.api_p), in QNX's order. Table
 *  entries take (cap, hdl, ...); the public calls take (hdl, cap, ...). */
typedef struct {
	uint_t (*get_nirq)(pci_cap_t cap);
	pci_err_t (*set_nirq)(pci_cap_t cap, pci_devhdl_t hdl, uint_t nirq);
	pci_err_t (*set_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry,
				   int_t disposition);
	cap_msix_pba_t *(*get_pba_ptr)(pci_cap_t cap, pci_devhdl_t hdl);
	pci_err_t (*mask_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	pci_err_t (*unmask_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	pci_err_t (*mask_irq_all)(pci_cap_t cap, pci_devhdl_t hdl);
	pci_err_t (*unmask_irq_all)(pci_cap_t cap, pci_devhdl_t hdl);
	uint_t (*get_nirq_isr)(pci_cap_t cap);
	pci_err_t (*mask_irq_entry_isr)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	pci_err_t (*unmask_irq_entry_isr)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	pci_err_t (*mask_irq_all_isr)(pci_cap_t cap, pci_devhdl_t hdl);
	pci_err_t (*unmask_irq_all_isr)(pci_cap_t cap, pci_devhdl_t hdl);
} cap_msix_api_t;

/** Size of the MSI-X table (1..2048), 0 on error. ISR-safe variant:
 *  cap_msix_get_nirq_isr(). */
uint_t cap_msix_get_nirq(pci_cap_t cap);
/** Number of IRQ slots to use at the next enable: 1 to cap_msix_get_nirq()
 *  (never set: the table size). Set while enabled, it is stored for the next
 *  enable. @return PCI_ERR_OK, PCI_ERR_EINVAL (bad value, cap or handle),
 *  PCI_ERR_NOT_OWNER, PCI_ERR_ENODEV. */
pci_err_t cap_msix_set_nirq(pci_devhdl_t hdl, pci_cap_t cap, uint_t nirq);
/** Disposition of table entry @p irq_entry at the next enable: -1 = unused
 *  (left masked, no IRQ), d >= 0 = the entry uses IRQ slot d (entries with the
 *  same d share one IRQ). d must be below the set_nirq() count. Never set:
 *  entry i uses slot i when i < nirq, else unused.
 *  @return PCI_ERR_OK, PCI_ERR_EINVAL (entry >= table size, d < -1 or
 *  d >= nirq, bad cap or handle), PCI_ERR_NOT_OWNER, PCI_ERR_ENODEV. */
pci_err_t cap_msix_set_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry,
				 int_t disposition);
/** A read-only pointer to the live Pending Bit Array (ceil(nirq / 64) words)
 *  while MSI-X is enabled; it stays valid until the capability is disabled.
 *  NULL when MSI-X is not enabled, for a bad cap or handle, or when the
 *  backend cannot map BAR memory. */
cap_msix_pba_t *cap_msix_get_pba_ptr(pci_devhdl_t hdl, pci_cap_t cap);
/** Set the Mask bit of entry @p irq_entry: one table write and one read
 *  that flushes it. @return PCI_ERR_OK, PCI_ERR_EINVAL (entry out of range,
 *  bad cap or handle), PCI_ERR_NOT_OWNER, PCI_ERR_ENODEV,
 *  PCI_ERR_DEV_NOT_AVAIL, PCI_ERR_ASPACE_INVALID (the capability's table is
 *  not inside a memory BAR). */
pci_err_t cap_msix_mask_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/** Clear the Mask bit of entry @p irq_entry: one table write. Errors as
 *  cap_msix_mask_irq_entry(). */
pci_err_t cap_msix_unmask_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/** Set the Function Mask (Message Control bit 14); the entries' own mask
 *  bits are untouched. One config write. @return PCI_ERR_OK,
 *  PCI_ERR_EALREADY (it was set already: nothing written), PCI_ERR_EINVAL,
 *  PCI_ERR_NOT_OWNER, PCI_ERR_ENODEV, PCI_ERR_DEV_NOT_AVAIL. */
pci_err_t cap_msix_mask_irq_all(pci_devhdl_t hdl, pci_cap_t cap);
/** Clear the Function Mask. PCI_ERR_EALREADY when it was clear; other errors
 *  as cap_msix_mask_irq_all(). */
pci_err_t cap_msix_unmask_irq_all(pci_devhdl_t hdl, pci_cap_t cap);

/* Callable from an interrupt service routine, a signal handler or any
 * thread: no allocation, no sleeping lock, no system call but the device
 * access. PCI_ERR_DEV_NOT_AVAIL (and no access) while the device is removed
 * or held off; PCI_ERR_EAGAIN from a signal handler that interrupted a mask
 * call on the same capability in the same thread (the call would otherwise
 * deadlock). */
uint_t cap_msix_get_nirq_isr(pci_cap_t cap);
pci_err_t cap_msix_mask_irq_entry_isr(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
pci_err_t cap_msix_unmask_irq_entry_isr(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
pci_err_t cap_msix_mask_irq_all_isr(pci_devhdl_t hdl, pci_cap_t cap);
pci_err_t cap_msix_unmask_irq_all_isr(pci_devhdl_t hdl, pci_cap_t cap);

#ifdef __cplusplus
}
#endif
#endif
