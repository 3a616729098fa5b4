/**
 * @file pci/cap_msix.h
 * @brief The MSI-X capability (ID 0x11) module API, as QNX defines it.
 *
 * The calls are exported by libpcicap and dispatched into the module
 * pci_cap-0x11.so through the pci_cap_t that pci_device_read_cap()
 * returned; see docs/msix.md for dispositions and folding, the enable and
 * disable sequences, masking, the PBA pointer and the access counts.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_PCI_CAP_MSIX_H
#define PCICAP_PCI_CAP_MSIX_H

#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup msix MSI-X (<pci/cap_msix.h>)
 *  @brief The cap_msix_* calls: IRQ slots, dispositions, masking, the PBA.
 *
 *  Every call takes the pci_cap_t of an MSI-X capability (PCI_ERR_EINVAL,
 *  0 or NULL for anything else). The IRQ count and the dispositions set
 *  here take effect at pci_device_cfg_cap_enable(). The _isr forms run the
 *  same code as the plain ones and are promised async-signal-safe; they
 *  answer PCI_ERR_DEV_NOT_AVAIL (and make no access) for a function that is
 *  gone, removed or held off, where the plain forms say PCI_ERR_ENODEV for
 *  gone and removed.
 *  @{ */

/** Capability ID of MSI-X. */
#define CAPID_MSIX       ((pci_capid_t)0x11)
/** Version of the MSI-X module API this header describes. */
#define MSIX_API_VERSION ((pci_version_t){.major = 1, .minor = 0})

/** One 64-bit word of the Pending Bit Array (bit n of word w = table entry
 *  64 * w + n), read-only and volatile: it is the device's memory. */
typedef volatile const uint64_t cap_msix_pba_t;

/** The module's function table (pci_cap_t.api_p), in QNX's order. Table
 *  entries take (cap, hdl, ...); the public calls, which drivers use, take
 *  (hdl, cap, ...) and are documented under their own names. */
typedef struct {
	/** cap_msix_get_nirq() */
	uint_t (*get_nirq)(pci_cap_t cap);
	/** cap_msix_set_nirq() */
	pci_err_t (*set_nirq)(pci_cap_t cap, pci_devhdl_t hdl, uint_t nirq);
	/** cap_msix_set_irq_entry() */
	pci_err_t (*set_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry,
				   int_t disposition);
	/** cap_msix_get_pba_ptr() */
	cap_msix_pba_t *(*get_pba_ptr)(pci_cap_t cap, pci_devhdl_t hdl);
	/** cap_msix_mask_irq_entry() */
	pci_err_t (*mask_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	/** cap_msix_unmask_irq_entry() */
	pci_err_t (*unmask_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	/** cap_msix_mask_irq_all() */
	pci_err_t (*mask_irq_all)(pci_cap_t cap, pci_devhdl_t hdl);
	/** cap_msix_unmask_irq_all() */
	pci_err_t (*unmask_irq_all)(pci_cap_t cap, pci_devhdl_t hdl);
	/** cap_msix_get_nirq_isr() */
	uint_t (*get_nirq_isr)(pci_cap_t cap);
	/** cap_msix_mask_irq_entry_isr() */
	pci_err_t (*mask_irq_entry_isr)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	/** cap_msix_unmask_irq_entry_isr() */
	pci_err_t (*unmask_irq_entry_isr)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	/** cap_msix_mask_irq_all_isr() */
	pci_err_t (*mask_irq_all_isr)(pci_cap_t cap, pci_devhdl_t hdl);
	/** cap_msix_unmask_irq_all_isr() */
	pci_err_t (*unmask_irq_all_isr)(pci_cap_t cap, pci_devhdl_t hdl);
} cap_msix_api_t;

/**
 * Get the size of the MSI-X table.
 * The size of the MSI-X table: 1..2048 entries. Read at
 * pci_device_read_cap(): no handle, no device access, and it still answers
 * after the function is gone.
 * @param cap the MSI-X capability object
 * @return the table size; 0 for a NULL, unknown or destroyed object, or one
 *   of another capability
 * @isr_yes (cap_msix_get_nirq_isr() is the same call under the name QNX
 *   promises for interrupt context.)
 * @mt_lockfree
 * @see cap_msix_set_nirq()
 */
uint_t cap_msix_get_nirq(pci_cap_t cap);
/**
 * Set how many IRQ slots the next MSI-X enable may use.
 * The number of IRQ slots the next enable may use: 1 to the table size.
 * Never set: the table size. Stored per capability (per function and
 * process, kept across detach and attach); set while MSI-X is enabled, it
 * takes effect at the next enable. Makes no device access.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @param nirq the number of slots
 * @return PCI_ERR_OK, or:
 * @cap_bad; @p nirq is 0 or above the table size
 * @retval PCI_ERR_ENODEV the backend no longer lists the function
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @par Interrupt context
 * Not promised (there is no _isr form), although it takes no lock and makes
 * no access: configure before enabling, from a thread.
 * @mt_lockfree
 * @see cap_msix_set_irq_entry(), pci_device_cfg_cap_enable()
 */
pci_err_t cap_msix_set_nirq(pci_devhdl_t hdl, pci_cap_t cap, uint_t nirq);
/**
 * Set which IRQ slot an MSI-X table entry uses at the next enable.
 * The disposition of table entry @p irq_entry at the next enable: -1 =
 * unused (left masked, no IRQ); d >= 0 = the entry uses IRQ slot d, and
 * entries with the same d share that slot's IRQ. Never set: entry i uses
 * slot i when i is below the cap_msix_set_nirq() count, else it is unused.
 * With ADVISORY or UNSPECIFIED an enable that gets k IRQs for n > k slots
 * folds slot d onto IRQ d mod k. Stored only; makes no device access.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @param irq_entry the table entry, 0-based
 * @param disposition -1, or a slot below the cap_msix_set_nirq() count
 * @return PCI_ERR_OK, or:
 * @cap_bad; @p irq_entry is at or beyond the table size; @p disposition is
 *   below -1 or not below the cap_msix_set_nirq() count
 * @retval PCI_ERR_ENODEV the backend no longer lists the function
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @par Interrupt context
 * Not promised (there is no _isr form), although it takes no lock and makes
 * no access: configure before enabling, from a thread.
 * @mt_lockfree
 * @see cap_msix_set_nirq(), pci_device_read_irq()
 */
pci_err_t cap_msix_set_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry,
				 int_t disposition);
/**
 * Get a pointer to the live MSI-X Pending Bit Array.
 * A read-only pointer to the live Pending Bit Array: ceil(table size / 64)
 * words, bit n of word w = entry 64 * w + n. Valid while MSI-X stays
 * enabled (until it is disabled, also by the detach of the enabling handle
 * or a reset). On vfio it is the library's emulated array (docs/vfio.md).
 * @param hdl a handle of the function (OWNER not needed)
 * @param cap the MSI-X capability object
 * @return the pointer; NULL when MSI-X is not enabled, for a bad object or
 *   handle, a handle of another function, when the backend cannot map BAR
 *   memory, or when the PBA is not inside a memory BAR
 * @par Interrupt context
 * Not promised (there is no _isr form), although it takes no lock; reading
 * the returned pointer is a plain memory read and may be done anywhere.
 * @mt_lockfree
 */
cap_msix_pba_t *cap_msix_get_pba_ptr(pci_devhdl_t hdl, pci_cap_t cap);
/**
 * Mask one MSI-X table entry.
 * Set the Mask bit of table entry @p irq_entry (one table write and one table read that flushes
 * it; the other Vector Control bits are written back from the library's shadow). Works whether
 * MSI-X is enabled or not.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @param irq_entry the table entry, 0-based
 * @ret_be
 * @cap_bad; @p irq_entry is at or beyond the table size
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ASPACE_INVALID the table is not inside a memory BAR
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @retval PCI_ERR_ENOTSUP the backend has no BAR access
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msix_mask_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/**
 * Unmask one MSI-X table entry.
 * Clear the Mask bit of table entry @p irq_entry (one table write). If the entry was raised while
 * masked, its pending message is delivered now.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @param irq_entry the table entry, 0-based
 * @ret_be
 * @cap_bad; @p irq_entry is at or beyond the table size
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ASPACE_INVALID the table is not inside a memory BAR
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @retval PCI_ERR_ENOTSUP the backend has no BAR access
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msix_unmask_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/**
 * Set the MSI-X Function Mask.
 * Set the Function Mask (Message Control bit 14): no entry can signal; the entries' own Mask bits
 * are untouched. One config write while MSI-X is enabled; one read more while it is disabled (the
 * register is read first). Works before enable too, and the enable keeps it.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @ret_be
 * @cap_bad
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_EALREADY the Function Mask already was in that state;
 *   nothing is written
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msix_mask_irq_all(pci_devhdl_t hdl, pci_cap_t cap);
/**
 * Clear the MSI-X Function Mask.
 * Clear the Function Mask; pending messages of unmasked entries are delivered now. Costs as
 * cap_msix_mask_irq_all().
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @ret_be
 * @cap_bad
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_EALREADY the Function Mask already was in that state;
 *   nothing is written
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msix_unmask_irq_all(pci_devhdl_t hdl, pci_cap_t cap);

/**
 * Get the size of the MSI-X table, in interrupt context.
 * cap_msix_get_nirq() under the name QNX promises for interrupt context.
 * @param cap the MSI-X capability object
 * @return the table size; 0 for a bad object
 * @isr_yes
 * @mt_lockfree
 */
uint_t cap_msix_get_nirq_isr(pci_cap_t cap);
/**
 * Mask one MSI-X table entry, in interrupt context.
 * cap_msix_mask_irq_entry() for interrupt context: one table write and one flushing read.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @param irq_entry the table entry, 0-based
 * @ret_be
 * @cap_bad; @p irq_entry is at or beyond the table size
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ASPACE_INVALID the table is not inside a memory BAR
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @retval PCI_ERR_ENOTSUP the backend has no BAR access
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msix_mask_irq_entry_isr(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/**
 * Unmask one MSI-X table entry, in interrupt context.
 * cap_msix_unmask_irq_entry() for interrupt context: one table write.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @param irq_entry the table entry, 0-based
 * @ret_be
 * @cap_bad; @p irq_entry is at or beyond the table size
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ASPACE_INVALID the table is not inside a memory BAR
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @retval PCI_ERR_ENOTSUP the backend has no BAR access
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msix_unmask_irq_entry_isr(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/**
 * Set the MSI-X Function Mask, in interrupt context.
 * cap_msix_mask_irq_all() for interrupt context.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @ret_be
 * @cap_bad
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_EALREADY the Function Mask already was in that state;
 *   nothing is written
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msix_mask_irq_all_isr(pci_devhdl_t hdl, pci_cap_t cap);
/**
 * Clear the MSI-X Function Mask, in interrupt context.
 * cap_msix_unmask_irq_all() for interrupt context.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI-X capability object
 * @ret_be
 * @cap_bad
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_EALREADY the Function Mask already was in that state;
 *   nothing is written
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msix_unmask_irq_all_isr(pci_devhdl_t hdl, pci_cap_t cap);
/** @} */

#ifdef __cplusplus
}
#endif
#endif
