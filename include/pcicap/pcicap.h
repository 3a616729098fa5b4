/**
 * @file pcicap/pcicap.h
 * @brief pcicap's extensions to the QNX libpci API: PCI domains, backend
 * selection, logging, capability list details, and device memory (BARs and
 * DMA) for drivers.
 *
 * Everything here is pcicap's own (the pcicap_ prefix); a driver that must
 * also build on QNX keeps these calls behind a preprocessor conditional.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_PCICAP_H
#define PCICAP_PCICAP_H

#include <stdarg.h>
#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup pcicap_version Version
 *  @brief pcicap's own version (not QNX's PCI_LIB_VERSION), for
 *  compile-time feature checks; docs/versioning.md says what each part
 *  promises.
 *  @{ */
/** Major version: changes with the soname (libpcicap.so.N). */
#define PCICAP_VERSION_MAJOR 0
/** Minor version: grows when functions, enum values or macros are added. */
#define PCICAP_VERSION_MINOR 1
/** @} */

/** @defgroup pcicap_domain PCI domains in a pci_bdf_t
 *  @brief pcicap keeps the PCI domain (segment) in bits 31:17 of a
 *  pci_bdf_t, so domains 0..0x7FFE are representable and domain 0 is plain
 *  QNX encoding.
 *  @{ */
/** The highest domain a pci_bdf_t can carry. */
#define PCICAP_DOMAIN_MAX        0x7FFEu
/** The domain of @p bdf. */
#define PCICAP_BDF_DOMAIN(bdf)   ((((pci_bdf_t)(bdf)) >> 17) & 0x7FFFu)
/** The pci_bdf_t of domain @p dom, bus @p b, device @p d, function @p f. */
#define PCICAP_BDF(dom, b, d, f) ((pci_bdf_t)((((dom)&0x7FFFu) << 17) | PCI_BDF(b, d, f)))
/** The bus/device/function part (domain stripped). */
#define PCICAP_BDF_NODOMAIN(bdf) (((pci_bdf_t)(bdf)) & 0x1FFFFu)
/** @} */

/** @defgroup pcicap_backend_select Backend selection
 *  @brief Which backend moves the bytes: the simulator, the host through
 *  libpciaccess, VFIO, or an external shared object.
 *  @{ */
/**
 * Select the backend.
 * Call it before the first libpci call: a process uses one backend for its
 * whole life. Without this call `PCI_HW_MODULE` decides;
 * unset, "pciaccess" where /sys/bus/pci/devices lists a device (and the
 * library was built with libpciaccess), else "sim". Selecting the backend
 * already in use again (same name or path) is PCI_ERR_OK. A failed
 * selection selects nothing.
 * @param name "sim", "pciaccess", "vfio", or the path of a shared object
 *   that exports `pcicap_backend_entry` (<pcicap/backend.h>)
 * @return PCI_ERR_OK, one of the codes below, or the error of the backend's
 *   own initialisation ("sim" with a `PCI_SIM_CONFIG` that does not load:
 *   PCI_ERR_ENOENT, PCI_ERR_EIO, ...):
 * @retval PCI_ERR_EINVAL @p name is NULL or empty
 * @retval PCI_ERR_EALREADY another backend is already in use
 * @retval PCI_ERR_NO_MODULE an unknown name, or a file that cannot be loaded
 * @retval PCI_ERR_MODULE_SYM the file has no `pcicap_backend_entry`
 * @retval PCI_ERR_MOD_COMPAT the table has the wrong ABI version or size,
 *   or lacks a mandatory op
 * @isr_no
 * @mt_safe
 * @see pcicap_backend_name(), docs/backends.md
 */
pci_err_t pcicap_set_backend(const char *name);
/**
 * Get the name of the backend in use.
 * The name of the backend in use, selecting and initialising it first if no
 * call has yet.
 * @return "sim", "pciaccess", "vfio" or an external backend's name (a
 *   static string); NULL when no backend can be initialised
 * @isr_no
 * @mt_safe
 */
const char *pcicap_backend_name(void);
/** @} */

/** @defgroup pcicap_log Logging
 *  @brief The library is silent unless pci_verbosity (initially
 *  `PCI_BASE_VERBOSITY`, read when the library is loaded) asks for
 *  messages: those up to that level go to the handler, or to stderr
 *  without one.
 *  @{ */
/** Message levels; a message is produced when its level <= pci_verbosity. */
typedef enum {
	PCICAP_LOG_ERROR = 1, /**< a call failed; caller misuse */
	PCICAP_LOG_WARN = 2,  /**< something is off but the call goes on */
	PCICAP_LOG_INFO = 3,  /**< what the backends and modules do */
	PCICAP_LOG_DEBUG = 4, /**< details */
} pcicap_log_level_t;
/** A log handler: @p msg is one line without the newline, valid only during
 *  the call; @p arg is what pcicap_set_log_handler() was given. */
typedef void (*pcicap_log_fn)(pcicap_log_level_t level, const char *msg, void *arg);
/**
 * Install a log handler.
 * The handler receives the messages whose level is at most
 * pci_verbosity (none at all at the default 0). The handler may be called
 * from any thread, with the library's mutex held: it must not call libpci.
 * @param fn the handler; NULL restores the default (stderr, as
 *   `pcicap <level>: <message>`)
 * @param arg passed to @p fn with every message
 * @isr_no
 * @mt_safe
 * @see pci_verbosity
 */
void pcicap_set_log_handler(pcicap_log_fn fn, void *arg);
/** @} */

/** @defgroup pcicap_caps Capability list details
 *  @brief Offsets of standard capabilities, the extended (PCIe) list, raw
 *  reads for inspection tools.
 *  @{ */
/**
 * Get the config offset of a standard capability.
 * Config-space offset of the standard capability at index @p idx.
 * @param bdf the function
 * @param idx index in the standard capability list
 * @param[out] offset receives the offset (0x40..0xFC)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p offset is NULL
 * @retval PCI_ERR_ENOENT @p idx is past the end of a well-formed list
 * @retval PCI_ERR_EIO @p idx is at or past where the list is malformed
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pcicap_device_cap_offset(pci_bdf_t bdf, uint_t idx, uint_t *offset);
/**
 * Read an extended (PCIe) capability's ID, version and offset.
 * The extended (PCIe, config offset 0x100 and up) capability at index
 * @p idx, with its ID, version and offset. The list is walked once and cached,
 * and only for functions with 4096 bytes of config space.
 * @param bdf the function
 * @param idx index in the extended capability list
 * @param[out] xcapid receives the 16-bit ID; may be NULL
 * @param[out] version receives the capability version; may be NULL
 * @param[out] offset receives the offset; may be NULL
 * @ret_be
 * @retval PCI_ERR_ENOENT @p idx is past the end of a well-formed list
 *   (any index without extended capabilities)
 * @retval PCI_ERR_EIO @p idx is at or past where the list is malformed (a
 *   pointer outside 0x100..0xFFC, a loop, more than 960 entries)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pcicap_device_read_xcap(pci_bdf_t bdf, uint_t idx, uint16_t *xcapid, uint8_t *version,
				  uint_t *offset);
/**
 * Find an extended (PCIe) capability by ID.
 * Index of the first extended capability with ID @p xcapid after index
 * @p start_idx.
 * @param bdf the function
 * @param xcapid the 16-bit extended capability ID
 * @param start_idx the index to search after; -1 searches from the start
 * @return the index, or -1 when there is none, no such function, or the
 *   list cannot be read
 * @isr_no
 * @mt_safe
 */
int_t pcicap_device_find_xcapid(pci_bdf_t bdf, uint16_t xcapid, int_t start_idx);
/**
 * Get the size of the function's config space.
 * Size of the function's config space as the backend reaches it.
 * @param bdf the function
 * @return 256, or 4096 for PCIe with extended config space; 0 when there is
 *   no such function
 * @isr_no
 * @mt_safe
 */
uint_t pcicap_device_cfg_size(pci_bdf_t bdf);
/**
 * Read raw config bytes, header included, without a handle.
 * Read @p len bytes of the function's config space from @p off, header
 * included, without a handle: the bytes exactly as the backend returns
 * them, in aligned dword reads. Nothing is written. For inspection tools
 * (pcicap-tool -x).
 * @param bdf the function
 * @param off the first byte
 * @param[out] buf receives the bytes; on a backend error it holds those
 *   read before it
 * @param len how many bytes; off + len at most pcicap_device_cfg_size()
 * @ret_be
 * @retval PCI_ERR_EINVAL the range is beyond the config space; @p buf is
 *   NULL with a nonzero @p len
 * @bdf_gone
 * @retval PCI_ERR_CFG_ACCESS pciaccess without privileges and the range
 *   reaches beyond the first 64 bytes
 * @isr_no
 * @mt_safe
 */
pci_err_t pcicap_device_cfg_read(pci_bdf_t bdf, uint_t off, void *buf, uint_t len);
/**
 * Get the name of the kernel driver bound to the function.
 * Name of the kernel driver bound to the function (e.g. "virtio-pci"), as
 * lspci's "Kernel driver in use": the sysfs driver link, read by the
 * pciaccess and vfio backends.
 * @param bdf the function
 * @param[out] buf receives the NUL-terminated name ("" on error)
 * @param len size of @p buf
 * @ret_be
 * @retval PCI_ERR_EINVAL @p buf is NULL or @p len 0, or the name does not
 *   fit
 * @retval PCI_ERR_ENOENT no driver is bound; always on the simulator and on
 *   external backends without the op
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pcicap_device_driver(pci_bdf_t bdf, char *buf, size_t len);
/**
 * Get the config offset of a capability object.
 * Config-space offset of the capability a capability object describes.
 * @param cap an object from pci_device_read_cap()
 * @return the offset; 0 when @p cap is NULL or not a live capability object
 * @isr_yes
 * @mt_lockfree
 */
uint_t pcicap_cap_offset(pci_cap_t cap);
/** @} */

/** @defgroup pcicap_devmem Device memory for drivers
 *  @brief BAR access and DMA mappings through the backend.
 *
 *  A QNX driver reaches its BARs with mmap_device_memory() and gives DMA
 *  buffers to its device by physical address; Linux userspace can do
 *  neither, so these calls go through the backend: VFIO regions and the
 *  IOMMU ("vfio"), the simulated BAR memory ("sim").
 *  @{ */
/**
 * Read BAR memory.
 * Read @p width bytes of BAR memory, naturally aligned.
 * @param hdl an OWNER handle
 * @param bar the BAR, 0..5
 * @param off offset in the BAR, a multiple of @p width
 * @param width 1, 2, 4 or 8
 * @param[out] val receives the little-endian register value
 * @ret_be
 * @retval PCI_ERR_EINVAL @p val is NULL; @p hdl is NULL, forged or
 *   detached; @p bar, @p width or the alignment is bad; the range runs past
 *   the end of the BAR
 * @owner_gone
 * @retval PCI_ERR_ENOENT the BAR is not implemented (or is the upper half
 *   of a 64-bit BAR)
 * @retval PCI_ERR_ENOTSUP the backend has no BAR access (pciaccess: an I/O
 *   BAR)
 * @retval PCI_ERR_MMAP_DEV pciaccess: the BAR cannot be mapped
 * @isr_no
 * @mt_safe
 * @see pcicap_bar_write(), pci_device_read_ba()
 */
pci_err_t pcicap_bar_read(pci_devhdl_t hdl, int bar, uint64_t off, uint_t width, uint64_t *val);
/**
 * Write BAR memory.
 * Write @p width bytes of BAR memory, naturally aligned. A write that
 * touches the MSI-X table or PBA is refused unless the handle was attached
 * with pci_attachFlags_e_FULL_CONFIG_ACCESS: they belong to the MSI-X
 * module.
 * @param hdl an OWNER handle
 * @param bar the BAR, 0..5
 * @param off offset in the BAR, a multiple of @p width
 * @param width 1, 2, 4 or 8
 * @param val the value; it must fit in @p width bytes
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p bar,
 *   @p width or the alignment is bad; the range runs past the end of the
 *   BAR; @p val does not fit @p width
 * @owner_gone
 * @retval PCI_ERR_ENOENT the BAR is not implemented
 * @retval PCI_ERR_ENOTSUP the backend has no BAR access
 * @retval PCI_ERR_CFG_ACCESS the write touches the MSI-X table or PBA
 *   without FULL_CONFIG_ACCESS; pciaccess: the function is bound to a
 *   kernel driver and PCICAP_PCIACCESS_WRITE=1 is not set
 * @retval PCI_ERR_MMAP_DEV pciaccess: the BAR cannot be mapped
 * @isr_no
 * @mt_safe
 * @see pcicap_bar_read()
 */
pci_err_t pcicap_bar_write(pci_devhdl_t hdl, int bar, uint64_t off, uint_t width, uint64_t val);
/**
 * Map process memory for the function's DMA through the IOMMU.
 * Make process memory reachable by the function's DMA through the IOMMU;
 * *@p iova receives the bus address to program into the device. IOVAs are
 * handed out first-fit from 1 MiB up, within what the IOMMU allows. The
 * mapping lasts until pcicap_dma_unmap() or until the process's last owner
 * handle of the function is detached; the memory must stay allocated that
 * long.
 * @param hdl an OWNER handle
 * @param va the memory, page aligned
 * @param len its length, a nonzero multiple of the page size
 * @param[out] iova receives the bus address
 * @ret_be
 * @retval PCI_ERR_EINVAL @p va or @p iova NULL, @p len 0, @p va or @p len
 *   not page aligned; @p hdl NULL, forged or detached; the range overlaps
 *   an existing mapping or the IOMMU refuses it
 * @owner_gone
 * @retval PCI_ERR_ENOTSUP the backend has no DMA (the simulator,
 *   pciaccess, a no-IOMMU VFIO group)
 * @retval PCI_ERR_ENOMEM no IOVA space left, or the IOMMU is out of memory
 * @isr_no
 * @mt_safe
 * @see pcicap_dma_unmap(), docs/vfio.md
 */
pci_err_t pcicap_dma_map(pci_devhdl_t hdl, void *va, size_t len, uint64_t *iova);
/**
 * Undo a DMA mapping.
 * Undo pcicap_dma_map() for exactly the range it returned.
 * @param hdl an OWNER handle
 * @param iova the address pcicap_dma_map() returned
 * @param len the length given to it
 * @ret_be
 * @retval PCI_ERR_EINVAL @p len 0, @p iova or @p len not page aligned;
 *   @p hdl NULL, forged or detached; not a range pcicap_dma_map() returned
 * @owner_gone
 * @retval PCI_ERR_ENOTSUP the backend has no DMA
 * @isr_no
 * @mt_safe
 */
pci_err_t pcicap_dma_unmap(pci_devhdl_t hdl, uint64_t iova, size_t len);
/** @} */

#ifdef __cplusplus
}
#endif
#endif
