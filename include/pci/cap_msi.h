/**
 * @file pci/cap_msi.h
 * @brief The MSI capability (ID 0x05) module API, as QNX defines it.
 *
 * The calls are exported by libpcicap and dispatched into the module
 * pci_cap-0x05.so through the pci_cap_t that pci_device_read_cap()
 * returned; see docs/msi.md for the enable and disable sequences, the
 * masking model and what each call costs in config accesses.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_PCI_CAP_MSI_H
#define PCICAP_PCI_CAP_MSI_H

#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup msi MSI (<pci/cap_msi.h>)
 *  @brief The cap_msi_* calls: vector counts, masking, pending bits.
 *
 *  Every call takes the pci_cap_t of an MSI capability (PCI_ERR_EINVAL, or
 *  0 from the get_nirq calls, for anything else). Counts set here take
 *  effect at pci_device_cfg_cap_enable(). The _isr forms run the same code
 *  as the plain ones and are promised async-signal-safe; they answer
 *  PCI_ERR_DEV_NOT_AVAIL (and make no access) for a function that is gone,
 *  removed or held off, where the plain forms say PCI_ERR_ENODEV for gone
 *  and removed.
 *  @{ */

/** Capability ID of MSI. */
#define CAPID_MSI       ((pci_capid_t)0x05)
/** Version of the MSI module API this header describes. */
#define MSI_API_VERSION ((pci_version_t){.major = 1, .minor = 0})

/** Image of the Pending Bits register: bit n = vector n. */
typedef uint32_t cap_msi_pend_t;
/** Image of the Mask Bits register: bit n = vector n. */
typedef uint32_t cap_msi_mask_t;

/** The module's function table (pci_cap_t.api_p), in QNX's order. Table
 *  entries take (cap, hdl, ...); the public calls, which drivers use, take
 *  (hdl, cap, ...) and are documented under their own names. */
typedef struct {
	/** cap_msi_get_nirq() */
	uint_t (*get_nirq)(pci_cap_t cap);
	/** cap_msi_set_nirq() */
	pci_err_t (*set_nirq)(pci_cap_t cap, pci_devhdl_t hdl, uint_t nirq);
	/** cap_msi_get_irq_pend() */
	pci_err_t (*get_irq_pend)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_pend_t *pend);
	/** cap_msi_get_irq_mask() */
	pci_err_t (*get_irq_mask)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t *mask);
	/** cap_msi_mask_irq() */
	pci_err_t (*mask_irq)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t mask_val);
	/** cap_msi_unmask_irq() */
	pci_err_t (*unmask_irq)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t unmask_val);
	/** cap_msi_mask_irq_entry() */
	pci_err_t (*mask_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	/** cap_msi_unmask_irq_entry() */
	pci_err_t (*unmask_irq_entry)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	/** cap_msi_get_nirq_isr() */
	uint_t (*get_nirq_isr)(pci_cap_t cap);
	/** cap_msi_get_irq_pend_isr() */
	pci_err_t (*get_irq_pend_isr)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_pend_t *pend);
	/** cap_msi_get_irq_mask_isr() */
	pci_err_t (*get_irq_mask_isr)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t *mask);
	/** cap_msi_mask_irq_isr() */
	pci_err_t (*mask_irq_isr)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t mask_val);
	/** cap_msi_unmask_irq_isr() */
	pci_err_t (*unmask_irq_isr)(pci_cap_t cap, pci_devhdl_t hdl, cap_msi_mask_t unmask_val);
	/** cap_msi_mask_irq_entry_isr() */
	pci_err_t (*mask_irq_entry_isr)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
	/** cap_msi_unmask_irq_entry_isr() */
	pci_err_t (*unmask_irq_entry_isr)(pci_cap_t cap, pci_devhdl_t hdl, uint_t irq_entry);
} cap_msi_api_t;

/**
 * Get how many MSI vectors the function supports.
 * The number of vectors the function supports (Multiple Message Capable):
 * 1, 2, 4, 8, 16 or 32. Read at pci_device_read_cap(): no handle, no device
 * access, and it still answers after the function is gone.
 * @param cap the MSI capability object
 * @return the count; 0 for a NULL, unknown or destroyed object, or one of
 *   another capability
 * @isr_yes (cap_msi_get_nirq_isr() is the same call under the name QNX
 *   promises for interrupt context.)
 * @mt_lockfree
 * @see cap_msi_set_nirq()
 */
uint_t cap_msi_get_nirq(pci_cap_t cap);
/**
 * Set how many MSI vectors the next enable asks for.
 * The number of vectors the next enable asks for: a power of two from 1 to
 * cap_msi_get_nirq(). Never set: 1. The value belongs to the capability (one
 * per function and process, shared by every handle, kept across detach and
 * attach); set while MSI is enabled, it takes effect at the next enable.
 * Makes no device access.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param nirq the count
 * @return PCI_ERR_OK, or:
 * @cap_bad; @p nirq is 0, not a power of two, or above the capable count
 * @retval PCI_ERR_ENODEV the backend no longer lists the function
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @par Interrupt context
 * Not promised (there is no _isr form), although it takes no lock and makes
 * no access: set counts before enabling, from a thread.
 * @mt_lockfree
 * @see pci_device_cfg_cap_enable()
 */
pci_err_t cap_msi_set_nirq(pci_devhdl_t hdl, pci_cap_t cap, uint_t nirq);
/**
 * Read the MSI Pending Bits.
 * Read the Pending Bits register (one config read), bits at or beyond the
 * capable count cleared. Any attached handle may ask.
 * @param hdl a handle of the function (OWNER not needed)
 * @param cap the MSI capability object
 * @param[out] pend receives the bits (bit n = vector n)
 * @ret_be
 * @cap_bad; @p pend is NULL
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking (and so no
 *   pending bits)
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @isr_plain
 * @mt_lockfree
 */
pci_err_t cap_msi_get_irq_pend(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_pend_t *pend);
/**
 * Read the MSI Mask Bits.
 * The Mask Bits register, from the library's shadow of it: no device
 * access. Any attached handle may ask.
 * @param hdl a handle of the function (OWNER not needed)
 * @param cap the MSI capability object
 * @param[out] mask receives the bits (bit n = vector n; 0 at or beyond the
 *   capable count)
 * @return PCI_ERR_OK, or:
 * @cap_bad; @p mask is NULL
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msi_get_irq_mask(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t *mask);
/**
 * Mask a set of MSI vectors.
 * Mask the vectors whose bits are set in @p mask_val. One config write of the Mask Bits register,
 * no read (the library
 * keeps a shadow of it); other vectors keep their state. Works whether MSI
 * is enabled or not.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param mask_val bit n set = mask vector n
 * @ret_be
 * @cap_bad; a bit at or beyond the capable count is set
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msi_mask_irq(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t mask_val);
/**
 * Unmask a set of MSI vectors.
 * Unmask the vectors whose bits are set in @p unmask_val; a vector that was raised while masked is
 * delivered now. One config write of the Mask Bits register, no read (the library
 * keeps a shadow of it); other vectors keep their state. Works whether MSI
 * is enabled or not.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param unmask_val bit n set = unmask vector n
 * @ret_be
 * @cap_bad; a bit at or beyond the capable count is set
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msi_unmask_irq(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t unmask_val);
/**
 * Mask one MSI vector.
 * Mask vector @p irq_entry. One config write of the Mask Bits register, no read (the library
 * keeps a shadow of it); other vectors keep their state. Works whether MSI
 * is enabled or not.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param irq_entry the vector, 0-based
 * @ret_be
 * @cap_bad; @p irq_entry is at or beyond the capable count
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msi_mask_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/**
 * Unmask one MSI vector.
 * Unmask vector @p irq_entry; if it was raised while masked, it is delivered now. One config write
 * of the Mask Bits register, no read (the library
 * keeps a shadow of it); other vectors keep their state. Works whether MSI
 * is enabled or not.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param irq_entry the vector, 0-based
 * @ret_be
 * @cap_bad; @p irq_entry is at or beyond the capable count
 * @retval PCI_ERR_ENODEV the function is no longer listed, or removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off
 * @retval PCI_ERR_EAGAIN a signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_plain
 * @mt_masks
 */
pci_err_t cap_msi_unmask_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);

/**
 * Get how many MSI vectors the function supports, in interrupt context.
 * cap_msi_get_nirq() under the name QNX promises for interrupt context.
 * @param cap the MSI capability object
 * @return the capable count; 0 for a bad object
 * @isr_yes
 * @mt_lockfree
 */
uint_t cap_msi_get_nirq_isr(pci_cap_t cap);
/**
 * Read the MSI Pending Bits, in interrupt context.
 * cap_msi_get_irq_pend() for interrupt context: one config read.
 * @param hdl a handle of the function (OWNER not needed)
 * @param cap the MSI capability object
 * @param[out] pend receives the pending bits
 * @ret_be
 * @cap_bad; @p pend is NULL
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @isr_yes
 * @mt_lockfree
 */
pci_err_t cap_msi_get_irq_pend_isr(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_pend_t *pend);
/**
 * Read the MSI Mask Bits, in interrupt context.
 * cap_msi_get_irq_mask() for interrupt context: the shadow, no access.
 * @param hdl a handle of the function (OWNER not needed)
 * @param cap the MSI capability object
 * @param[out] mask receives the mask bits
 * @return PCI_ERR_OK, or:
 * @cap_bad; @p mask is NULL
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off
 * @retval PCI_ERR_EAGAIN this signal handler interrupted a mask call on this
 *   capability in this thread
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msi_get_irq_mask_isr(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t *mask);
/**
 * Mask a set of MSI vectors, in interrupt context.
 * cap_msi_mask_irq() for interrupt context: one config write, no read.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param mask_val bit n set = mask vector n
 * @ret_be
 * @cap_bad; a bit at or beyond the capable count is set
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @retval PCI_ERR_EAGAIN this signal handler interrupted a mask call on this
 *   capability in this thread (no access is made)
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msi_mask_irq_isr(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t mask_val);
/**
 * Unmask a set of MSI vectors, in interrupt context.
 * cap_msi_unmask_irq() for interrupt context: one config write, no read.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param unmask_val bit n set = unmask vector n
 * @ret_be
 * @cap_bad; a bit at or beyond the capable count is set
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @retval PCI_ERR_EAGAIN this signal handler interrupted a mask call on this
 *   capability in this thread (no access is made)
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msi_unmask_irq_isr(pci_devhdl_t hdl, pci_cap_t cap, cap_msi_mask_t unmask_val);
/**
 * Mask one MSI vector, in interrupt context.
 * cap_msi_mask_irq_entry() for interrupt context: one config write, no read.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param irq_entry the vector, 0-based
 * @ret_be
 * @cap_bad; @p irq_entry is at or beyond the capable count
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @retval PCI_ERR_EAGAIN this signal handler interrupted a mask call on this
 *   capability in this thread (no access is made)
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msi_mask_irq_entry_isr(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/**
 * Unmask one MSI vector, in interrupt context.
 * cap_msi_unmask_irq_entry() for interrupt context: one config write, no read.
 * @param hdl an OWNER handle of the function
 * @param cap the MSI capability object
 * @param irq_entry the vector, 0-based
 * @ret_be
 * @cap_bad; @p irq_entry is at or beyond the capable count
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ENOTSUP the function has no per-vector masking
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is no longer listed, removed
 *   or held off (no access is made)
 * @retval PCI_ERR_EAGAIN this signal handler interrupted a mask call on this
 *   capability in this thread (no access is made)
 * @isr_yes
 * @mt_masks
 */
pci_err_t cap_msi_unmask_irq_entry_isr(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry);
/** @} */

#ifdef __cplusplus
}
#endif
#endif
