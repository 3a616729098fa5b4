/*
 * pcicap extensions to the QNX libpci API: PCI domains, backend selection,
 * logging, the extended capability list.
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

/** pcicap's own version (the library's, not QNX's PCI_LIB_VERSION). */
#define PCICAP_VERSION_MAJOR 0
#define PCICAP_VERSION_MINOR 1

/** @defgroup pcicap_domain PCI domains in a pci_bdf_t
 *  pcicap keeps the PCI domain (segment) in bits 31:17 of a pci_bdf_t, so
 *  domains 0..0x7FFE are representable and domain 0 is plain QNX encoding.
 *  @{ */
#define PCICAP_DOMAIN_MAX        0x7FFEu
#define PCICAP_BDF_DOMAIN(bdf)   ((((pci_bdf_t)(bdf)) >> 17) & 0x7FFFu)
#define PCICAP_BDF(dom, b, d, f) ((pci_bdf_t)((((dom)&0x7FFFu) << 17) | PCI_BDF(b, d, f)))
/** The bus/device/function part (domain stripped). */
#define PCICAP_BDF_NODOMAIN(bdf) (((pci_bdf_t)(bdf)) & 0x1FFFFu)
/** @} */

/** @defgroup pcicap_backend_select Backend selection
 *  @{ */
/**
 * Select the backend before the first libpci call: "sim", "pciaccess", or the
 * path of a shared object exporting `pcicap_backend_entry` (see
 * <pcicap/backend.h>). Without it, PCI_HW_MODULE decides; unset, "pciaccess"
 * where /sys/bus/pci/devices lists a device, else "sim".
 * Selecting the backend already in use again (same name or path) is
 * PCI_ERR_OK.
 * @return PCI_ERR_OK; PCI_ERR_EINVAL for NULL/empty; PCI_ERR_EALREADY when
 *   another backend is already in use; PCI_ERR_NO_MODULE for an unknown name
 *   or a file that cannot be loaded; PCI_ERR_MODULE_SYM when the entry symbol
 *   is missing; PCI_ERR_MOD_COMPAT for a table of the wrong size/version; or
 *   the error of the backend's own init (e.g. "sim" with a PCI_SIM_CONFIG that
 *   does not load: PCI_ERR_ENOENT, PCI_ERR_EIO). A failed selection selects
 *   nothing.
 */
pci_err_t pcicap_set_backend(const char *name);
/** Name of the backend in use ("sim", "pciaccess", ...), selecting it first
 *  if needed; NULL when none could be initialised. */
const char *pcicap_backend_name(void);
/** @} */

/** @defgroup pcicap_log Logging
 *  The library is silent unless pci_verbosity (initially PCI_BASE_VERBOSITY,
 *  read when the library is loaded) asks for messages: those up to that
 *  level go to the handler, or to stderr without one.
 *  @{ */
typedef enum {
	PCICAP_LOG_ERROR = 1,
	PCICAP_LOG_WARN = 2,
	PCICAP_LOG_INFO = 3,
	PCICAP_LOG_DEBUG = 4,
} pcicap_log_level_t;
typedef void (*pcicap_log_fn)(pcicap_log_level_t level, const char *msg, void *arg);
/** Install a log handler (NULL restores the default, stderr). It receives
 *  the messages whose level is at most pci_verbosity. */
void pcicap_set_log_handler(pcicap_log_fn fn, void *arg);
/** @} */

/** @defgroup pcicap_caps Capability list details
 *  @{ */
/** Config-space offset of the standard capability at position @p idx.
 *  @return PCI_ERR_OK, PCI_ERR_ENOENT (no such index), PCI_ERR_EIO (list
 *  malformed before @p idx), PCI_ERR_ENODEV, PCI_ERR_EINVAL (NULL out). */
pci_err_t pcicap_device_cap_offset(pci_bdf_t bdf, uint_t idx, uint_t *offset);
/** The extended (PCIe, 0x100+) capability at position @p idx: its ID,
 *  version and offset (each out pointer may be NULL).
 *  @return as pcicap_device_cap_offset(). */
pci_err_t pcicap_device_read_xcap(pci_bdf_t bdf, uint_t idx, uint16_t *xcapid, uint8_t *version,
				  uint_t *offset);
/** Position of the first extended capability with ID @p xcapid after
 *  @p start_idx (-1 = from the start), or -1. */
int_t pcicap_device_find_xcapid(pci_bdf_t bdf, uint16_t xcapid, int_t start_idx);
/** Size of the device's config space (256 or 4096), 0 for no such device. */
uint_t pcicap_device_cfg_size(pci_bdf_t bdf);
/** Read @p len bytes of the device's config space from @p off, header
 *  included (0x00..cfg_size), without a handle: the bytes exactly as the
 *  backend returns them, in aligned dword reads. Nothing is written; for
 *  inspection tools (pcicap-tool -x). On a host device a read that the OS
 *  refuses (e.g. beyond 0x40 without root) fails.
 *  @return PCI_ERR_OK; PCI_ERR_EINVAL (range beyond the config size, NULL
 *  @p buf); PCI_ERR_ENODEV; or the backend's error (then @p buf holds the
 *  bytes read before it). */
pci_err_t pcicap_device_cfg_read(pci_bdf_t bdf, uint_t off, void *buf, uint_t len);
/** Name of the kernel driver bound to the device (e.g. "virtio-pci"), as
 *  lspci's "Kernel driver in use"; read-only (the sysfs driver link of the
 *  pciaccess backend). @p buf receives a NUL-terminated name ("" on error).
 *  @return PCI_ERR_OK; PCI_ERR_ENOENT (no driver bound, and always on the
 *  simulator and external backends); PCI_ERR_ENODEV; PCI_ERR_EINVAL (NULL
 *  @p buf, @p len 0, or a name that does not fit). */
pci_err_t pcicap_device_driver(pci_bdf_t bdf, char *buf, size_t len);
/** Config-space offset of the capability described by @p cap, 0 if @p cap is
 *  NULL or not a pcicap capability object. */
uint_t pcicap_cap_offset(pci_cap_t cap);
/** @} */

/** @name Device memory for drivers
 *  A QNX driver reaches its BARs with mmap_device_memory() and gives DMA
 *  buffers to its device by physical address; Linux userspace can do
 *  neither, so these calls go through the backend: VFIO regions and the
 *  IOMMU ("vfio"), the simulated BAR memory ("sim").
 *  @{ */
/** Read @p width (1, 2, 4 or 8) bytes of BAR @p bar (0..5) at @p off,
 *  naturally aligned, into *val (little-endian register value). Needs an
 *  OWNER handle. Not for interrupt context (takes the library lock).
 *  @return PCI_ERR_OK; PCI_ERR_EINVAL (bad handle, bar, width, alignment,
 *  range beyond the BAR, NULL @p val); PCI_ERR_NOT_OWNER; PCI_ERR_ENOENT
 *  (BAR not implemented); PCI_ERR_ENOTSUP (the backend has no BAR access);
 *  PCI_ERR_ENODEV / PCI_ERR_DEV_NOT_AVAIL; or the backend's error. */
pci_err_t pcicap_bar_read(pci_devhdl_t hdl, int bar, uint64_t off, uint_t width, uint64_t *val);
/** Write @p val (it must fit in @p width bytes) to BAR memory; the rules of
 *  pcicap_bar_read(). A write that touches the MSI-X table or PBA is
 *  refused with PCI_ERR_CFG_ACCESS unless the handle was attached with
 *  pci_attachFlags_e_FULL_CONFIG_ACCESS: they belong to the MSI-X module. */
pci_err_t pcicap_bar_write(pci_devhdl_t hdl, int bar, uint64_t off, uint_t width, uint64_t val);
/** Make @p len bytes of this process's memory at @p va (both page aligned;
 *  the memory must stay allocated until unmapped) reachable by the device's
 *  DMA; *iova receives the bus address to program into the device. The
 *  mapping lasts until pcicap_dma_unmap() or the process's last owner
 *  handle of the device is detached. Needs an OWNER handle.
 *  @return PCI_ERR_OK; PCI_ERR_EINVAL (bad handle, NULL, unaligned, zero
 *  length, or overlapping an existing mapping); PCI_ERR_NOT_OWNER;
 *  PCI_ERR_ENOTSUP (the backend has no DMA: the simulator, a no-IOMMU VFIO
 *  group); PCI_ERR_ENOMEM (no IOVA space or the IOMMU refused). */
pci_err_t pcicap_dma_map(pci_devhdl_t hdl, void *va, size_t len, uint64_t *iova);
/** Undo pcicap_dma_map() for exactly the range it returned.
 *  @return PCI_ERR_OK; PCI_ERR_EINVAL (bad handle, or not a mapping made by
 *  pcicap_dma_map()); PCI_ERR_NOT_OWNER; PCI_ERR_ENOTSUP. */
pci_err_t pcicap_dma_unmap(pci_devhdl_t hdl, uint64_t iova, size_t len);
/** @} */

#ifdef __cplusplus
}
#endif
#endif
