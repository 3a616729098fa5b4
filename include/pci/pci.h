/**
 * @file pci/pci.h
 * @brief The QNX libpci API: types, error codes, and the calls to find,
 * attach, read, write and configure PCI functions.
 *
 * Names, types and numeric values follow QNX SDP 8.0 (PCI_LIB_VERSION 300);
 * the errno-aliased error codes take Linux errno values. Installed as
 * `<includedir>/pcicap/pci/pci.h`: `pkg-config --cflags pcicap` puts
 * `<includedir>/pcicap` on the include path, so a driver keeps its
 * `#include <pci/pci.h>` and never meets pciutils' header of that name.
 *
 * Conventions of every call here (details in docs/errors.md):
 * - Output parameters are written only on PCI_ERR_OK (the two documented
 *   exceptions are pci_device_read_ba() with MANDATORY and
 *   pci_device_read_cap()).
 * - "BDF calls" take a pci_bdf_t and need no attachment; "handle calls" take
 *   a pci_devhdl_t from pci_device_attach() and validate it: a NULL, forged
 *   or detached handle is PCI_ERR_EINVAL, never a crash.
 * - The first call that needs the backend selects and initialises it
 *   (pcicap_set_backend(), `PCI_HW_MODULE`); an error of that
 *   initialisation (for the simulator, a bad `PCI_SIM_CONFIG` file:
 *   PCI_ERR_ENOENT, PCI_ERR_EIO) is returned by that call and by every
 *   later call until one succeeds. Errors of the backend's device accesses
 *   (including faults injected with pcicap_sim_fail_access()) are returned
 *   unchanged.
 * - The library never exits, aborts or prints on its own: see pci_verbosity.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_PCI_PCI_H
#define PCICAP_PCI_PCI_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup types Core types and macros
 *  @brief The types of <pci/pci.h>, the BDF, chassis/slot and class-code
 *  macros, and the library's verbosity.
 *  @{ */

/** QNX library version: major * 100 + minor (the QNX SDP 8.0 value). */
#define PCI_LIB_VERSION   300
/** QNX library major version (PCI_LIB_VERSION / 100). */
#define PCI_MAJOR_VERSION 3

#ifndef EOK
/** Success (QNX errno name; Linux has none). */
#define EOK 0
#endif

#ifndef _PCICAP_UINT_T_DEFINED
/** @cond INTERNAL */
#define _PCICAP_UINT_T_DEFINED
/** @endcond */
/** QNX's `uint_t` (from its <sys/types.h>); glibc has none. */
typedef unsigned int uint_t;
#endif
#ifndef int_t
/** QNX's `int_t`. */
typedef int int_t;
#endif
#ifndef bool_t
/** QNX's `bool_t`: true or false. */
typedef bool bool_t;
#endif

/** Number of elements of an array, as uint_t. */
#define NELEMENTS(x) ((uint_t)(sizeof(x) / sizeof((x)[0])))

/** Vendor ID (config offset 0x00). */
typedef uint16_t pci_vid_t;
/** Device ID (0x02). */
typedef uint16_t pci_did_t;
/** Subsystem ID (0x2E, type-0 header). */
typedef uint16_t pci_ssid_t;
/** Subsystem vendor ID (0x2C, type-0 header). */
typedef uint16_t pci_ssvid_t;
/** Command register (0x04). */
typedef uint16_t pci_cmd_t;
/** Status register (0x06), or a bridge's secondary status (0x1E). */
typedef uint16_t pci_stat_t;
/** Class code, laid out 0x00CCssrr: base class, subclass, register-level interface. */
typedef uint32_t pci_ccode_t;
/** Revision ID (0x08). */
typedef uint8_t pci_revid_t;
/** Header type (0x0E): bits 6:0 the layout (0 endpoint, 1 PCI-PCI bridge), bit 7 multifunction. */
typedef uint8_t pci_hdrType_t;
/** Capability ID (0x05 MSI, 0x10 PCI Express, 0x11 MSI-X, ...). */
typedef uint8_t pci_capid_t;
/** Latency timer (0x0D), or a bridge's secondary latency timer (0x1B). */
typedef uint8_t pci_latency_t;
/** Cache line size in dwords (0x0C). */
typedef uint8_t pci_clsize_t;
/** A bus number (bridge registers 0x18..0x1A). */
typedef uint8_t pci_busnum_t;
/** Bridge control register (0x3E). */
typedef uint16_t pci_bctrl_t;
/** An address or a bridge window bound. */
typedef uint64_t pci_ba_val_t;
/** An IRQ number; negative means invalid. On Linux, wait on it with pcicap_irq_fd(). */
typedef int_t pci_irq_t;
/** Chassis/slot: bits 15:13 chassis, 12:0 slot; slot 0 = not in a slot. */
typedef uint16_t pci_cs_t;
/** Opaque attach handle returned by pci_device_attach(). */
typedef void *pci_devhdl_t;

/** Bus/device/function. Bits 15:8 bus, 7:3 device, 2:0 function; bit 16 = ARI
 *  (then bits 7:0 are the function). pcicap keeps the PCI domain (segment) in
 *  bits 31:17 (see <pcicap/pcicap.h>: PCICAP_BDF_DOMAIN); domain 0 leaves them 0,
 *  so PCI_BDF() values compare equal to what pci_device_find() returns. */
typedef uint32_t pci_bdf_t;

/** @cond INTERNAL */
#define _PCI_ARI_BIT       16
#define _PCI_BDF_FUNC(bdf) (((bdf) >> 0) & 0x7u)
#define _PCI_BDF_DEV(bdf)  (((bdf) >> 3) & 0x1Fu)
#define _PCI_BDF_BUS(bdf)  (((bdf) >> 8) & 0xFFu)
#define _PCI_ARI_FUNC(bdf) (((bdf) >> 0) & 0xFFu)
#define _PCI_ARI_DEV(bdf)  (0u)
#define _PCI_ARI_BUS(bdf)  (((bdf) >> 8) & 0xFFu)
/** @endcond */

/** Nonzero when @p bdf uses the ARI encoding (bit 16 set). */
#define PCI_IS_ARI(bdf)   ((((pci_bdf_t)(bdf)) >> _PCI_ARI_BIT) & 1u)
/** The pci_bdf_t of bus @p b, device @p d, function @p f (domain 0). */
#define PCI_BDF(b, d, f)  ((pci_bdf_t)((((b)&0xFFu) << 8) | (((d)&0x1Fu) << 3) | ((f)&0x7u)))
/** The ARI pci_bdf_t of bus @p b, function @p f (0..255); it names the same
 *  function as PCI_BDF(b, f >> 3, f & 7). */
#define PCI_BDF_ARI(b, f) ((pci_bdf_t)((1u << _PCI_ARI_BIT) | (((b)&0xFFu) << 8) | ((f)&0xFFu)))
/** The bus number of @p bdf (either encoding). */
#define PCI_BUS(bdf)      (PCI_IS_ARI(bdf) ? _PCI_ARI_BUS(bdf) : _PCI_BDF_BUS(bdf))
/** The device number of @p bdf (always 0 in the ARI encoding). */
#define PCI_DEV(bdf)      (PCI_IS_ARI(bdf) ? _PCI_ARI_DEV(bdf) : _PCI_BDF_DEV(bdf))
/** The function number of @p bdf (0..7, or 0..255 in the ARI encoding).
 *  Not Linux's PCI_FUNC(devfn) of <linux/pci.h>. */
#define PCI_FUNC(bdf)     (PCI_IS_ARI(bdf) ? _PCI_ARI_FUNC(bdf) : _PCI_BDF_FUNC(bdf))
/** No function: what pci_device_find() and pci_bdf() return for none. */
#define PCI_BDF_NONE      ((pci_bdf_t)-1)
/** The 16-bit requester ID (bus, device, function) of @p bdf. */
#define PCI_BDF_RID(bdf)  ((uint16_t)((bdf)&0xFFFFu))

/** Number of bus numbers in a domain. */
#define PCI_MAX_BUSES     256
/** Devices per bus. */
#define PCI_BDF_MAX_DEVS  32
/** Functions per device. */
#define PCI_BDF_MAX_FUNCS 8
/** Devices per bus with ARI. */
#define PCI_ARI_MAX_DEVS  1
/** Functions per device with ARI. */
#define PCI_ARI_MAX_FUNCS 256

/** Number of chassis a pci_cs_t can name. */
#define PCI_CS_MAX_CHASSIS 8
/** Number of slots per chassis a pci_cs_t can name. */
#define PCI_CS_MAX_SLOTS   8192
/** The chassis number of @p cs. */
#define PCI_CHASSIS(cs)    ((((pci_cs_t)(cs)) >> 13) & 0x7u)
/** The slot number of @p cs (0: not in a slot). Not Linux's PCI_SLOT(devfn). */
#define PCI_SLOT(cs)       (((pci_cs_t)(cs)) & 0x1FFFu)
/** The pci_cs_t of chassis @p c, slot @p s. */
#define PCI_CS(c, s)       ((pci_cs_t)((((c)&0x7u) << 13) | ((s)&0x1FFFu)))
/** No chassis/slot: pci_device_chassis_slot() of an unknown function. */
#define PCI_CS_NONE        ((pci_cs_t)-1)

/** The base class of class code @p cc. */
#define PCI_CCODE_CLASS(cc)    ((((pci_ccode_t)(cc)) >> 16) & 0xFFu)
/** The subclass of class code @p cc. */
#define PCI_CCODE_SUBCLASS(cc) ((((pci_ccode_t)(cc)) >> 8) & 0xFFu)
/** The register-level programming interface of class code @p cc. */
#define PCI_CCODE_REG_IF(cc)   (((pci_ccode_t)(cc)) & 0xFFu)
/* clang-format off */
/** The class code of base class @p C, subclass @p c, interface @p r. */
#define PCI_CCODE(C, c, r) \
	((pci_ccode_t)((((C) & 0xFFu) << 16) | (((c) & 0xFFu) << 8) | ((r) & 0xFFu)))
/* clang-format on */

/** pci_device_find(): any vendor. */
#define PCI_VID_ANY            ((pci_vid_t)0xFFFF)
/** pci_device_find(): any device ID. */
#define PCI_DID_ANY            ((pci_did_t)0xFFFF)
/** pci_device_find(): any subclass (within the given base class). */
#define PCI_CCODE_SUBCLASS_ANY 0xFFu
/** pci_device_find(): any programming interface. */
#define PCI_CCODE_REG_IF_ANY   0xFFu
/** pci_device_find(): any class code. */
#define PCI_CCODE_ANY          PCI_CCODE(0xFF, 0xFF, 0xFF)

/** Version of a capability module API ({major, minor}). */
typedef struct {
	uint16_t major; /**< incompatible changes */
	uint16_t minor; /**< compatible additions */
} __attribute__((packed, aligned(4))) pci_version_t;

/** Public head of a capability object. Allocated by pci_device_read_cap() as
 *  one malloc() block (with a private tail); release it with free(). The
 *  layout is QNX's: 16 bytes on LP64, api_p at offset 8. */
struct _pci_cap {
	pci_version_t api_version; /**< stamped by each cap_* call with the caller's API version */
	uint32_t reserved;         /**< 0 */
	void *api_p;               /**< the module's function table; NULL = not read */
} __attribute__((packed, aligned(8)));
/** A capability object: see pci_device_read_cap(). */
typedef struct _pci_cap *pci_cap_t;

/** Attach flags (pci_device_attach()); OR them together. */
typedef enum {
	/** Others may attach too (the default "mode"). */
	pci_attachFlags_e_SHARED = 0,
	/** Nobody else may attach while this attachment lasts; implies OWNER. */
	pci_attachFlags_e_EXCLUSIVE = 1,
	/** The handle owns the device: config writes, capability enable,
	 *  IRQs, BARs. One owner unless the first owner set MULTI. */
	pci_attachFlags_e_OWNER = 0x2,
	/** With OWNER: further OWNER|MULTI attaches are allowed, if the first
	 *  owner set MULTI too. */
	pci_attachFlags_e_MULTI = 0x4,
	/** On the process's first attach: intermediate detaches answer
	 *  PCI_ERR_EAGAIN until the last (treat it as success). */
	pci_attachFlags_e_DETACH_DISCONNECT = 0x8,
	/** Raw config writes may touch the MSI and MSI-X structures, and
	 *  pcicap_bar_write() the MSI-X table and PBA (refused otherwise:
	 *  they belong to the capability modules). */
	pci_attachFlags_e_FULL_CONFIG_ACCESS = 0x10,
} pci_attachFlags_e;
/** A set of pci_attachFlags_e bits. */
typedef uint32_t pci_attachFlags_t;
/** SHARED | OWNER: the usual driver attach. */
#define pci_attachFlags_OWNER                                                                      \
	((pci_attachFlags_t)(pci_attachFlags_e_SHARED | pci_attachFlags_e_OWNER))
/** SHARED | OWNER | MULTI: one of several owners. */
#define pci_attachFlags_MULTI_OWNER                                                                \
	((pci_attachFlags_t)(pci_attachFlags_e_SHARED | pci_attachFlags_e_OWNER |                  \
			     pci_attachFlags_e_MULTI))
/** EXCLUSIVE | OWNER: the only attachment. */
#define pci_attachFlags_EXCLUSIVE_OWNER                                                            \
	((pci_attachFlags_t)(pci_attachFlags_e_EXCLUSIVE | pci_attachFlags_e_OWNER))
/** pci_attachFlags_OWNER. */
#define pci_attachFlags_DEFAULT pci_attachFlags_OWNER

/** Request types for capability enable/disable and pci_device_read_ba(). */
typedef enum {
	/** Exactly what was asked, or the call fails (MSI/MSI-X enable:
	 *  PCI_ERR_CAP_NIRQ; pci_device_read_ba(): the BARs named by the
	 *  caller). */
	pci_reqType_e_MANDATORY = 100,
	/** As much as can be had, at least one (MSI/MSI-X enable). */
	pci_reqType_e_ADVISORY = 101,
	/** No constraint: the library chooses (as ADVISORY). */
	pci_reqType_e_UNSPECIFIED = 102,
} pci_reqType_t;

/** Address-space types. */
typedef enum {
	pci_asType_e_NONE = 0, /**< no such address space (unimplemented BAR) */
	pci_asType_e_MEM = 1,  /**< memory space */
	pci_asType_e_IO = 2,   /**< I/O space */
} pci_asType_e;

/** Address-space attributes (bit-OR). */
typedef enum {
	pci_asAttr_e_NONE = 0,                /**< no attribute */
	pci_asAttr_e_ALIGN = 0x3F,            /**< mask: log2 of the required alignment */
	pci_asAttr_e_ALIGN_MEM_MIN = 4,       /**< smallest memory alignment (16 bytes) */
	pci_asAttr_e_ALIGN_IO_MIN = 2,        /**< smallest I/O alignment (4 bytes) */
	pci_asAttr_e_BIT_MASK = 0xC000,       /**< mask of the address width field */
	pci_asAttr_e_16BIT = 0x0000,          /**< 16-bit addresses (I/O) */
	pci_asAttr_e_32BIT = 0x4000,          /**< 32-bit addresses */
	pci_asAttr_e_64BIT = 0x8000,          /**< 64-bit addresses */
	pci_asAttr_e_128BIT = 0xC000,         /**< 128-bit addresses (unused) */
	pci_asAttr_e_PREFETCH = 1 << 16,      /**< prefetchable memory */
	pci_asAttr_e_spare = 1 << 17,         /**< unused */
	pci_asAttr_e_CONTIG = 1 << 18,        /**< physically contiguous */
	pci_asAttr_e_EXPANSION_ROM = 1 << 19, /**< the entry is the expansion ROM */
	pci_asAttr_e_ENABLED = 1 << 20,       /**< the expansion ROM decode is on */
	pci_asAttr_e_SHARED = 1 << 21,        /**< shared (slot reservations) */
	pci_asAttr_e_INBOUND = 1 << 22,       /**< pci_device_map_as(): device to CPU (DMA) */
	pci_asAttr_e_OUTBOUND = 1 << 23,      /**< pci_device_map_as(): CPU to device */
} pci_asAttr_e;

/** One address space (BAR or expansion ROM) of a device. */
typedef struct {
	pci_ba_val_t addr; /**< base address (bus address == CPU address on Linux) */
	uint64_t size;     /**< size in bytes */
	pci_asType_e type; /**< MEM, IO or NONE (no such BAR) */
	pci_asAttr_e attr; /**< width, PREFETCH, EXPANSION_ROM, ENABLED, ... */
	int_t bar_num;     /**< 0..5, or -1 for the expansion ROM */
} pci_ba_t;

/** Reset types (pci_device_reset()). */
typedef enum {
	pci_resetType_e_BUS = 1,                /**< secondary bus reset (needs the backend) */
	pci_resetType_e_FUNCTION = 2,           /**< Function Level Reset */
	pci_resetType_e_RST = 8,                /**< assert RST# (needs the backend) */
	pci_resetType_e_PERST = 8,              /**< assert PERST# (needs the backend) */
	pci_resetType_e_SEGMENT = 9,            /**< segment reset (needs the backend) */
	pci_resetType_e_hw_specific_first = 10, /**< backend-defined types start here */
} pci_resetType_e;

/** Device types (pci_device_get_type()). */
typedef enum {
	pci_device_type_e_UNKNOWN = -1,          /**< no such function */
	pci_device_type_e_PCIe = 100,            /**< has a PCI Express capability */
	pci_device_type_e_PCI_BRIDGE = 101,      /**< conventional PCI-PCI bridge */
	pci_device_type_e_PCI_DEVICE = 102,      /**< conventional PCI function */
	pci_device_type_e_PCI_HOST_BRIDGE = 103, /**< class 06 00 (host bridge) */
} pci_device_type_e;

/**
 * The library's logging verbosity (0: silent).
 * The library's logging verbosity: messages of level 1 (PCICAP_LOG_ERROR)
 * up to this value are produced, and go to the handler of
 * pcicap_set_log_handler() or to stderr. 0 (the default) keeps the library
 * silent. Its initial value comes from the environment variable
 * `PCI_BASE_VERBOSITY` (a number below 100), read once when the library is
 * loaded; a program's own assignment wins.
 *
 * The library reads it without a lock: assign it before starting threads,
 * or accept that a change shows at some later message.
 */
extern uint_t pci_verbosity;

/** @} */

/** @defgroup errors Error codes
 *  @brief pci_err_t and pci_strerror().
 *
 *  The errno-aliased codes take Linux errno values; the PCI-specific codes
 *  use the QNX SDP 8.0 numbering from 400. Each function's documentation
 *  lists the codes it returns and when; docs/errors.md lists, for each code,
 *  every call that returns it. Codes marked "not returned by pcicap" exist
 *  for QNX compatibility: a capability module or an external backend may
 *  still return them, and the core passes them on.
 *  @{ */
/** The result of a libpci call. */
typedef enum {
	PCI_ERR_OK = EOK,            /**< success */
	PCI_ERR_EINVAL = EINVAL,     /**< invalid argument, handle or capability object */
	PCI_ERR_EALREADY = EALREADY, /**< already in the requested state */
	PCI_ERR_ENODEV = ENODEV,     /**< no such function, or it was removed */
	PCI_ERR_ENOENT = ENOENT,     /**< no such entry (capability index, BAR, file) */
	PCI_ERR_EIO = EIO, /**< malformed capability list, dump or topology; failed access */
	PCI_ERR_ENOTSUP = ENOTSUP, /**< the device, the module or the backend cannot do it */
	PCI_ERR_ENOMEM = ENOMEM,   /**< out of memory (or of IOVA space) */
	PCI_ERR_EEXIST = EEXIST,   /**< already exists (simulator: address taken) */
	PCI_ERR_EAGAIN = EAGAIN,   /**< try again (see the calls that return it) */
	PCI_ERR_ENOSPC = ENOSPC,   /**< no space (not returned by pcicap) */

	pci_err_t_first = 400, /**< the first PCI-specific code */
	/** 400: register not implemented (not returned by pcicap) */
	PCI_ERR_REG_UNIMPLEMENTED = pci_err_t_first,
	PCI_ERR_LOCK_FAILURE,     /**< 401: an ownership lock could not be created or taken */
	PCI_ERR_NOT_OWNER,        /**< 402: the handle is not an owner of the device */
	PCI_ERR_ATTACH_LIMIT,     /**< 403: too many attachments to the device */
	PCI_ERR_ATTACH_EXCLUSIVE, /**< 404: the device is exclusively attached */
	PCI_ERR_ATTACH_SHARED,    /**< 405: exclusive use refused: others are attached */
	PCI_ERR_ATTACH_OWNED,     /**< 406: the device already has an owner */
	PCI_ERR_IRQ_NOT_AVAIL,    /**< 407: no interrupts available */
	PCI_ERR_IRQ_CFG,          /**< 408: interrupt configuration error */
	PCI_ERR_ASPACE_NOT_AVAIL, /**< 409: address space not available */
	PCI_ERR_ASPACE_CFG,       /**< 410: address space setup error (not returned by pcicap) */
	PCI_ERR_ASPACE_INVALID, /**< 411: invalid address space (MSI-X table outside a memory BAR) */
	PCI_ERR_CAP_ENOTSUP,    /**< 412: capability not supported (not returned by pcicap) */
	PCI_ERR_CAP_NIRQ,       /**< 413: MANDATORY interrupt count cannot be met */
	PCI_ERR_MSI_ENABLED,    /**< 414: MSI is enabled (MSI-X refused) */
	PCI_ERR_MSIX_ENABLED,   /**< 415: MSI-X is enabled (MSI refused) */
	PCI_ERR_MODULE_INIT,    /**< 416: module initialisation failed (not returned by pcicap) */
	PCI_ERR_MODULE_SYM,     /**< 417: the module lacks its entry symbol */
	PCI_ERR_MOD_COMPAT,     /**< 418: the module or backend is incompatible */
	PCI_ERR_MOD_API_COMPAT,     /**< 419: module API incompatible (not returned by pcicap) */
	PCI_ERR_NO_MODULE,          /**< 420: no module (or backend) found */
	PCI_ERR_MODULE_NOT_ENABLED, /**< 421: module not enabled (not returned by pcicap) */
	PCI_ERR_MODULE_BLACKLISTED, /**< 422: the module is blacklisted (PCI_MODULE_BLACKLIST) */
	PCI_ERR_SLOG,               /**< 423: system log error (not returned by pcicap) */
	PCI_ERR_SLOG_VERBOSITY,     /**< 424: system log verbosity (not returned by pcicap) */
	PCI_ERR_SLOG_TYPE,          /**< 425: system log type (not returned by pcicap) */
	PCI_ERR_MMAP_DEV,           /**< 426: device memory cannot be mapped */
	PCI_ERR_MMAP_MEM,           /**< 427: memory mapping error (not returned by pcicap) */
	PCI_ERR_DEV_NOT_AVAIL,      /**< 428: device temporarily unavailable (held off, in reset) */
	PCI_ERR_PCIe_LINK_RETRAIN,  /**< 429: PCIe link retraining (not returned by pcicap) */
	PCI_ERR_PCIe_LINK_NOT_ACTIVE, /**< 430: PCIe link not active (not returned by pcicap) */
	PCI_ERR_CFG_ACCESS,           /**< 431: config or BAR write refused */
	PCI_ERR_NTB_DOMAIN_NOT_AVAIL, /**< 432: NTB (not returned by pcicap) */
	PCI_ERR_NTB_RESOURCE_BUSY,    /**< 433: NTB (not returned by pcicap) */
	PCI_ERR_NTB_RESOURCE_CONFIG,  /**< 434: NTB (not returned by pcicap) */
	PCI_ERR_SERVER_STATE_EXITING, /**< 435: PCI server (not returned by pcicap) */
	PCI_ERR_SERVER_STATE_IDLE,    /**< 436: PCI server (not returned by pcicap) */
	PCI_ERR_SERVER_NOT_AVAILABLE, /**< 437: PCI server (not returned by pcicap) */
	PCI_ERR_SERVER_ID_IN_USE,     /**< 438: PCI server (not returned by pcicap) */
	PCI_ERR_SEGMENTATION_NOT_SUPPORTED, /**< 439: PCI server (not returned by pcicap) */
	PCI_ERR_ADDRESS_TRANSLATION, /**< 440: address translation (not returned by pcicap) */
	pci_err_t_last               /**< 441: one past the last code */
} pci_err_t;

/**
 * Get the text of an error code.
 * Human-readable text for an error code.
 *
 * (QNX declares the return as `const char * const`; the top-level const is
 * dropped here because it has no effect and trips -Wignored-qualifiers.)
 *
 * @param err any value, valid code or not
 * @return a static, non-empty string: the code's text, or "Unknown PCI
 *   error" for a value that is not a code. Never NULL.
 * @isr_yes
 * @par Thread safety
 * MT-Safe: it reads no state.
 */
const char *pci_strerror(pci_err_t err);
/** @} */

/** @defgroup device Finding, attaching, detaching
 *  @brief Enumerate functions, attach to them, and what a handle names.
 *  @{ */

/**
 * Find a function by vendor, device and class.
 * Find function number @p idx (0-based, in domain/bus/device/function order)
 * that matches every filter that is not a wildcard. Iterate @p idx from 0
 * until it returns PCI_BDF_NONE to visit every match. The first call selects
 * and initialises the backend; a set of devices that changes (the simulator
 * adding or removing devices) is scanned again.
 *
 * @param idx which match, from 0
 * @param vid vendor ID, or PCI_VID_ANY
 * @param did device ID, or PCI_DID_ANY
 * @param classcode class code, or PCI_CCODE_ANY; the base class (0xFF =
 *   any), the subclass (PCI_CCODE_SUBCLASS_ANY) and the interface
 *   (PCI_CCODE_REG_IF_ANY) can each be a wildcard
 * @return the function's BDF, or PCI_BDF_NONE when there are not that many
 *   matches or the backend cannot be initialised. A function held off
 *   (PCI_ERR_DEV_NOT_AVAIL) while the table was built matches no filter but
 *   the all-wildcard one until it is back.
 * @isr_no
 * @mt_safe
 * @see pci_device_attach(), pci_device_read_vid()
 */
pci_bdf_t pci_device_find(uint_t idx, pci_vid_t vid, pci_did_t did, pci_ccode_t classcode);

/**
 * Attach to a function.
 * The handle is what config writes, capability enable, IRQs, BARs and
 * reset need (with OWNER). Ownership holds across processes
 * wherever they share the device: host devices (`pciaccess`, `vfio`) and
 * simulated devices in a named scope use lock files that the kernel
 * releases when the process dies. The process's first OWNER attach of a
 * device quiesces the interrupt state earlier users left (MSI and MSI-X
 * enable bits cleared, MSI-X entries masked), unless another owner has it
 * live; on `vfio` it is also when the device is opened through VFIO.
 *
 * @param bdf the function
 * @param flags pci_attachFlags_e bits, usually pci_attachFlags_DEFAULT
 *   (SHARED|OWNER); EXCLUSIVE implies OWNER
 * @param[out] err receives PCI_ERR_OK or the reason for a NULL handle; may
 *   be NULL
 * @return the handle, or NULL with *@p err set to one of:
 * @retval PCI_ERR_EINVAL unknown flag bits; MULTI without OWNER; MULTI
 *   with EXCLUSIVE; DETACH_DISCONNECT when the process already has handles
 *   and its first attach lacked it
 * @retval PCI_ERR_ENODEV no function at @p bdf, or it was removed
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off; `vfio`: its IOMMU
 *   group is not viable (another member is bound to a host driver)
 * @retval PCI_ERR_ATTACH_LIMIT the process has 256 handles on the function
 * @retval PCI_ERR_ATTACH_EXCLUSIVE someone (this or another process of the
 *   scope) holds an EXCLUSIVE attachment
 * @retval PCI_ERR_ATTACH_SHARED EXCLUSIVE asked while others are attached
 * @retval PCI_ERR_ATTACH_OWNED OWNER asked while a sole owner exists, or
 *   without MULTI while MULTI owners exist; `vfio`: the group is open in a
 *   process that does not use pcicap (QEMU, another driver)
 * @retval PCI_ERR_LOCK_FAILURE the runtime directory or lock file of a
 *   scoped device is unusable (`PCICAP_RUNTIME_DIR`, docs/errors.md)
 * @retval PCI_ERR_ENOMEM out of memory
 * @retval PCI_ERR_ENOTSUP `vfio`, OWNER: the function is not bound to
 *   vfio-pci, has no IOMMU group, or `/dev/vfio/N` is missing
 * @retval PCI_ERR_NOT_OWNER `vfio`, OWNER: no permission on the group's `/dev/vfio/N`
 * @retval PCI_ERR_IRQ_CFG `vfio`, OWNER: the platform has no interrupt
 *   remapping
 * @retval PCI_ERR_MOD_COMPAT `vfio`, OWNER: unknown kernel VFIO API version
 * @isr_no
 * @mt_safe
 * @see pci_device_detach(), docs/vfio.md
 */
pci_devhdl_t pci_device_attach(pci_bdf_t bdf, pci_attachFlags_t flags, pci_err_t *err);

/**
 * Release a handle.
 * Every capability the handle enabled is disabled first
 * (its IRQs released, their pcicap_irq_fd() descriptors closed); the
 * ownership lock is dropped; after the process's last owner handle the
 * backend lets the device go (`vfio`: the device, group and container are
 * closed and the kernel resets the device). The handle is invalid after
 * the call whatever it returns, except for PCI_ERR_EINVAL.
 *
 * @param hdl a handle from pci_device_attach()
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or already detached
 * @retval PCI_ERR_ENODEV the function left the bus; the handle is released
 *   all the same
 * @retval PCI_ERR_EAGAIN the process's first attach set DETACH_DISCONNECT
 *   and other handles remain; the handle is released (treat as success)
 * @isr_no
 * @mt_safe Detaching a handle that another thread is using makes that
 *   thread's calls fail with PCI_ERR_EINVAL, never crash.
 * @see pci_device_attach()
 */
pci_err_t pci_device_detach(pci_devhdl_t hdl);

/**
 * Get the function a handle is attached to.
 * The function a handle is attached to.
 *
 * @param hdl a handle from pci_device_attach()
 * @return its BDF; PCI_BDF_NONE for a NULL, forged or detached handle, or
 *   when the function was removed
 * @isr_no
 * @mt_safe
 */
pci_bdf_t pci_bdf(pci_devhdl_t hdl);

/**
 * Tell the kind of a function: PCIe, bridge, host bridge or device.
 * Whether a function is PCI Express, a PCI-PCI bridge, a host bridge or a
 * conventional function.
 *
 * @param bdf the function
 * @param[out] sub_type for PCI Express, the Device/Port Type of its PCI
 *   Express capability (0 endpoint, 4 root port, ...); (uint_t)-1
 *   otherwise and on failure. May be NULL.
 * @return the type, or pci_device_type_e_UNKNOWN when there is no such
 *   function (or it is removed or held off)
 * @isr_no
 * @mt_safe
 */
pci_device_type_e pci_device_get_type(pci_bdf_t bdf, uint_t *sub_type);

/**
 * Tell whether a function is part of a multifunction device.
 * Whether the function's header type has the multifunction bit (bit 7).
 *
 * @param bdf the function
 * @return true when it has; false when not, and when there is no such
 *   function (or it is removed or held off)
 * @isr_no
 * @mt_safe
 */
bool_t pci_device_is_multi_func(pci_bdf_t bdf);

/**
 * Get the chassis and slot a function sits in.
 * The chassis and slot a function sits in, as the backend reports it (the
 * simulator: the `slot=` attribute of a topology `device` line).
 *
 * @param bdf the function
 * @return its pci_cs_t; PCI_CS(0, 0) when it is not in a slot or the
 *   backend does not say; PCI_CS_NONE when there is no such function (or
 *   it is removed or held off)
 * @isr_no
 * @mt_safe
 * @see pci_chassis_slot_device(), pci_chassis_slot_bridge()
 */
pci_cs_t pci_device_chassis_slot(pci_bdf_t bdf);

/**
 * Find the function in a slot.
 * The function in a slot: the one with the lowest BDF whose
 * pci_device_chassis_slot() is @p cs.
 *
 * @param cs a chassis and slot, PCI_CS(c, s) with s > 0
 * @param[out] err receives PCI_ERR_OK or the reason for PCI_BDF_NONE; may
 *   be NULL
 * @return the BDF, or PCI_BDF_NONE with *@p err set to one of:
 * @retval PCI_ERR_EINVAL @p cs is PCI_CS_NONE or names slot 0
 * @retval PCI_ERR_ENODEV no function in that slot
 * @isr_no
 * @mt_safe
 */
pci_bdf_t pci_chassis_slot_device(pci_cs_t cs, pci_err_t *err);

/**
 * Find the bridge that leads to a slot.
 * The bridge (root port, downstream port) that leads to a slot: the
 * PCI-PCI bridge of the same domain whose secondary bus is the bus of
 * pci_chassis_slot_device(@p cs).
 *
 * @param cs a chassis and slot, PCI_CS(c, s) with s > 0
 * @return the bridge's BDF, or PCI_BDF_NONE when @p cs is invalid, the slot
 *   is empty, or no bridge leads to it
 * @isr_no
 * @mt_safe
 */
pci_bdf_t pci_chassis_slot_bridge(pci_cs_t cs);
/** @} */

/** @defgroup header Header register reads and writes
 *  @brief The registers of the type-0 and type-1 (bridge) headers, by name.
 *
 *  Reads take a BDF and need no attachment; writes need an OWNER handle and
 *  optionally read the register back. The raw config calls do not reach the
 *  header (0x00..0x3F): these are the way to it.
 *  @{ */
/**
 * Read the Vendor ID (0x00). No attachment needed.
 * @param bdf the function
 * @param[out] vid receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_vid(pci_bdf_t bdf, pci_vid_t *vid);
/**
 * Read the Device ID (0x02). No attachment needed.
 * @param bdf the function
 * @param[out] did receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_did(pci_bdf_t bdf, pci_did_t *did);
/**
 * Read the Revision ID (0x08). No attachment needed.
 * @param bdf the function
 * @param[out] revid receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_revid(pci_bdf_t bdf, pci_revid_t *revid);
/**
 * Read the Subsystem ID (0x2E) of a type-0 header. No attachment needed.
 * @param bdf the function
 * @param[out] ssid receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function's header type is not 0
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_ssid(pci_bdf_t bdf, pci_ssid_t *ssid);
/**
 * Read the Subsystem Vendor ID (0x2C) of a type-0 header. No attachment needed.
 * @param bdf the function
 * @param[out] ssvid receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function's header type is not 0
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_ssvid(pci_bdf_t bdf, pci_ssvid_t *ssvid);
/**
 * Read the class code (0x09..0x0B) as 0x00CCssrr. No attachment needed.
 * @param bdf the function
 * @param[out] ccode receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_ccode(pci_bdf_t bdf, pci_ccode_t *ccode);
/**
 * Read the Header Type register (0x0E), multifunction bit included. No attachment needed.
 * @param bdf the function
 * @param[out] hdrType receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_hdrType(pci_bdf_t bdf, pci_hdrType_t *hdrType);
/**
 * Read the Command register (0x04). No attachment needed.
 * @param bdf the function
 * @param[out] cmd receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_cmd(pci_bdf_t bdf, pci_cmd_t *cmd);
/**
 * Read the Status register (0x06). No attachment needed.
 * @param bdf the function
 * @param[out] status receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_status(pci_bdf_t bdf, pci_stat_t *status);
/**
 * Read the Latency Timer (0x0D). No attachment needed.
 * @param bdf the function
 * @param[out] latency receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_latency(pci_bdf_t bdf, pci_latency_t *latency);
/**
 * Read the Cache Line Size (0x0C). No attachment needed.
 * @param bdf the function
 * @param[out] clsize receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_clsize(pci_bdf_t bdf, pci_clsize_t *clsize);

/**
 * Read a bridge's Secondary Status register (0x1E). No attachment needed.
 * @param bdf the function
 * @param[out] status receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_sec_status(pci_bdf_t bdf, pci_stat_t *status);
/**
 * Read a bridge's Secondary Latency Timer (0x1B). No attachment needed.
 * @param bdf the function
 * @param[out] latency receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_sec_latency(pci_bdf_t bdf, pci_latency_t *latency);
/**
 * Read a bridge's Bridge Control register (0x3E). No attachment needed.
 * @param bdf the function
 * @param[out] bctrl receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_bridge_ctrl(pci_bdf_t bdf, pci_bctrl_t *bctrl);
/**
 * Read a bridge's Primary Bus Number (0x18). No attachment needed.
 * @param bdf the function
 * @param[out] busnum receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_pri_busnum(pci_bdf_t bdf, pci_busnum_t *busnum);
/**
 * Read a bridge's Secondary Bus Number (0x19). No attachment needed.
 * @param bdf the function
 * @param[out] busnum receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_sec_busnum(pci_bdf_t bdf, pci_busnum_t *busnum);
/**
 * Read a bridge's Subordinate Bus Number (0x1A). No attachment needed.
 * @param bdf the function
 * @param[out] busnum receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_sub_busnum(pci_bdf_t bdf, pci_busnum_t *busnum);
/**
 * The base is in (0x20: a multiple of 1 MiB). No attachment needed.
 * @param bdf the function
 * @param[out] base receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_mem_base(pci_bdf_t bdf, pci_ba_val_t *base);
/**
 * Read the limit of a bridge's memory window.
 * The limit is the window's last address (0x22: the low 20 bits all ones). No attachment needed.
 * @param bdf the function
 * @param[out] limit receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_mem_limit(pci_bdf_t bdf, pci_ba_val_t *limit);
/**
 * Read the base of a bridge's prefetchable memory window.
 * Registers 0x24 and, when the window is 64-bit, 0x28. No attachment needed.
 * @param bdf the function
 * @param[out] base receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_pfmem_base(pci_bdf_t bdf, pci_ba_val_t *base);
/**
 * Read the limit of a bridge's prefetchable memory window.
 * The limit is the window's last address (0x26, with 0x2C when 64-bit). No attachment needed.
 * @param bdf the function
 * @param[out] limit receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_pfmem_limit(pci_bdf_t bdf, pci_ba_val_t *limit);
/**
 * Read the base of a bridge's I/O window.
 * Registers 0x1C and, when the window is 32-bit, 0x30; a multiple of 4 KiB. No attachment
 * needed.
 * @param bdf the function
 * @param[out] base receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_io_base(pci_bdf_t bdf, pci_ba_val_t *base);
/**
 * Read the limit of a bridge's I/O window.
 * The limit is the window's last address (0x1D, with 0x32 when 32-bit: the low 12 bits all ones).
 * No attachment needed.
 * @param bdf the function
 * @param[out] limit receives the value
 * @ret_be
 * @retval PCI_ERR_EINVAL the output pointer is NULL, or the function is not a PCI-PCI bridge
 *   (header type 1)
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_io_limit(pci_bdf_t bdf, pci_ba_val_t *limit);

/**
 * Write the Command register (0x04).
 * @param hdl an OWNER handle
 * @param cmd the value to write
 * @param[out] cmd_p receives the register as read back after the write;
 *   may be NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_cmd(pci_devhdl_t hdl, pci_cmd_t cmd, pci_cmd_t *cmd_p);
/**
 * Write the Status register (0x06): its error bits are write-1-to-clear.
 * @param hdl an OWNER handle
 * @param status the value to write
 * @param[out] status_p receives the register as read back after the write;
 *   may be NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_status(pci_devhdl_t hdl, pci_stat_t status, pci_stat_t *status_p);
/**
 * Write a bridge's Secondary Status register (0x1E): write-1-to-clear bits.
 * @param hdl an OWNER handle
 * @param status the value to write
 * @param[out] status_p receives the register as read back after the write;
 *   may be NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; the function is not a PCI-PCI bridge
 *   (header type 1)
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_sec_status(pci_devhdl_t hdl, pci_stat_t status, pci_stat_t *status_p);
/**
 * Write a bridge's Bridge Control register (0x3E).
 * @param hdl an OWNER handle
 * @param bctrl the value to write
 * @param[out] bctrl_p receives the register as read back after the write;
 *   may be NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; the function is not a PCI-PCI bridge
 *   (header type 1)
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_bridge_ctrl(pci_devhdl_t hdl, pci_bctrl_t bctrl, pci_bctrl_t *bctrl_p);
/**
 * Write a bridge's Primary Bus Number (0x18).
 * @param hdl an OWNER handle
 * @param busnum the value to write
 * @param[out] busnum_p receives the register as read back after the write;
 *   may be NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; the function is not a PCI-PCI bridge
 *   (header type 1)
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_pri_busnum(pci_devhdl_t hdl, pci_busnum_t busnum,
				      pci_busnum_t *busnum_p);
/**
 * Write a bridge's Secondary Bus Number (0x19).
 * @param hdl an OWNER handle
 * @param busnum the value to write
 * @param[out] busnum_p receives the register as read back after the write;
 *   may be NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; the function is not a PCI-PCI bridge
 *   (header type 1)
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_sec_busnum(pci_devhdl_t hdl, pci_busnum_t busnum,
				      pci_busnum_t *busnum_p);
/**
 * Write a bridge's Subordinate Bus Number (0x1A).
 * @param hdl an OWNER handle
 * @param busnum the value to write
 * @param[out] busnum_p receives the register as read back after the write;
 *   may be NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; the function is not a PCI-PCI bridge
 *   (header type 1)
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_sub_busnum(pci_devhdl_t hdl, pci_busnum_t busnum,
				      pci_busnum_t *busnum_p);
/**
 * The base is a multiple of 1 MiB below 4 GiB.
 * The window register's width bits (read-only, read first) decide whether
 * the upper-address register is written too.
 * @param hdl an OWNER handle
 * @param base the address
 * @param[out] base_p receives the window bound as read back after the
 *   write; may be NULL
 * @ret_be
 * @retval PCI_ERR_EINVAL @p base is not aligned as described (checked
 *   before the handle) or does not fit the window's width; @p hdl is NULL,
 *   forged or detached; the function is not a PCI-PCI bridge
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_mem_base(pci_devhdl_t hdl, pci_ba_val_t base, pci_ba_val_t *base_p);
/**
 * Write the limit of a bridge's memory window.
 * The limit is the window's last address: the low 20 bits all ones, below 4 GiB.
 * The window register's width bits (read-only, read first) decide whether
 * the upper-address register is written too.
 * @param hdl an OWNER handle
 * @param limit the address
 * @param[out] limit_p receives the window bound as read back after the
 *   write; may be NULL
 * @ret_be
 * @retval PCI_ERR_EINVAL @p limit is not aligned as described (checked
 *   before the handle) or does not fit the window's width; @p hdl is NULL,
 *   forged or detached; the function is not a PCI-PCI bridge
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_mem_limit(pci_devhdl_t hdl, pci_ba_val_t limit, pci_ba_val_t *limit_p);
/**
 * Write the base of a bridge's prefetchable memory window.
 * The base is a multiple of 1 MiB, below 4 GiB unless the window is 64-bit.
 * The window register's width bits (read-only, read first) decide whether
 * the upper-address register is written too.
 * @param hdl an OWNER handle
 * @param base the address
 * @param[out] base_p receives the window bound as read back after the
 *   write; may be NULL
 * @ret_be
 * @retval PCI_ERR_EINVAL @p base is not aligned as described (checked
 *   before the handle) or does not fit the window's width; @p hdl is NULL,
 *   forged or detached; the function is not a PCI-PCI bridge
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_pfmem_base(pci_devhdl_t hdl, pci_ba_val_t base, pci_ba_val_t *base_p);
/**
 * Write the limit of a bridge's prefetchable memory window.
 * The limit is the window's last address: the low 20 bits all ones, below 4 GiB unless the window
 * is 64-bit.
 * The window register's width bits (read-only, read first) decide whether
 * the upper-address register is written too.
 * @param hdl an OWNER handle
 * @param limit the address
 * @param[out] limit_p receives the window bound as read back after the
 *   write; may be NULL
 * @ret_be
 * @retval PCI_ERR_EINVAL @p limit is not aligned as described (checked
 *   before the handle) or does not fit the window's width; @p hdl is NULL,
 *   forged or detached; the function is not a PCI-PCI bridge
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_pfmem_limit(pci_devhdl_t hdl, pci_ba_val_t limit, pci_ba_val_t *limit_p);
/**
 * Write the base of a bridge's I/O window.
 * The base is a multiple of 4 KiB, below 64 KiB unless the window is 32-bit.
 * The window register's width bits (read-only, read first) decide whether
 * the upper-address register is written too.
 * @param hdl an OWNER handle
 * @param base the address
 * @param[out] base_p receives the window bound as read back after the
 *   write; may be NULL
 * @ret_be
 * @retval PCI_ERR_EINVAL @p base is not aligned as described (checked
 *   before the handle) or does not fit the window's width; @p hdl is NULL,
 *   forged or detached; the function is not a PCI-PCI bridge
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_io_base(pci_devhdl_t hdl, pci_ba_val_t base, pci_ba_val_t *base_p);
/**
 * Write the limit of a bridge's I/O window.
 * The limit is the window's last address: the low 12 bits all ones, below 64 KiB unless the window
 * is 32-bit.
 * The window register's width bits (read-only, read first) decide whether
 * the upper-address register is written too.
 * @param hdl an OWNER handle
 * @param limit the address
 * @param[out] limit_p receives the window bound as read back after the
 *   write; may be NULL
 * @ret_be
 * @retval PCI_ERR_EINVAL @p limit is not aligned as described (checked
 *   before the handle) or does not fit the window's width; @p hdl is NULL,
 *   forged or detached; the function is not a PCI-PCI bridge
 * @owner_gone
 * @cfg_ro
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_write_io_limit(pci_devhdl_t hdl, pci_ba_val_t limit, pci_ba_val_t *limit_p);
/** @} */

/** @defgroup config Raw config space access
 *  @brief Config space from 0x40 up to the end (256 or 4096 bytes).
 *
 *  Offsets below 0x40 are the header's: reach them with the calls of
 *  @ref header. Accesses are naturally aligned; the 64-bit forms are two
 *  32-bit accesses, the low dword first.
 *  @{ */
/**
 * Read 8 bits of config space. No attachment needed.
 * @param bdf the function
 * @param offset from 0x40 to the config size (pcicap_device_cfg_size())
 *   minus 1, a multiple of 1
 * @param[out] val receives the value (host byte order)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p val is NULL; @p offset is below 0x40, not a
 *   multiple of 1, or beyond the config space
 * @bdf_gone
 * @retval PCI_ERR_CFG_ACCESS pciaccess without privileges: Linux shows
 *   unprivileged readers only the first 64 bytes
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_wr8()
 */
pci_err_t pci_device_cfg_rd8(pci_bdf_t bdf, uint_t offset, uint8_t *val);
/**
 * Read 16 bits of config space. No attachment needed.
 * @param bdf the function
 * @param offset from 0x40 to the config size (pcicap_device_cfg_size())
 *   minus 2, a multiple of 2
 * @param[out] val receives the value (host byte order)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p val is NULL; @p offset is below 0x40, not a
 *   multiple of 2, or beyond the config space
 * @bdf_gone
 * @retval PCI_ERR_CFG_ACCESS pciaccess without privileges: Linux shows
 *   unprivileged readers only the first 64 bytes
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_wr16()
 */
pci_err_t pci_device_cfg_rd16(pci_bdf_t bdf, uint_t offset, uint16_t *val);
/**
 * Read 32 bits of config space. No attachment needed.
 * @param bdf the function
 * @param offset from 0x40 to the config size (pcicap_device_cfg_size())
 *   minus 4, a multiple of 4
 * @param[out] val receives the value (host byte order)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p val is NULL; @p offset is below 0x40, not a
 *   multiple of 4, or beyond the config space
 * @bdf_gone
 * @retval PCI_ERR_CFG_ACCESS pciaccess without privileges: Linux shows
 *   unprivileged readers only the first 64 bytes
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_wr32()
 */
pci_err_t pci_device_cfg_rd32(pci_bdf_t bdf, uint_t offset, uint32_t *val);
/**
 * Read 64 bits of config space. No attachment needed.
 * @param bdf the function
 * @param offset from 0x40 to the config size (pcicap_device_cfg_size())
 *   minus 8, a multiple of 8
 * @param[out] val receives the value (host byte order)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p val is NULL; @p offset is below 0x40, not a
 *   multiple of 8, or beyond the config space
 * @bdf_gone
 * @retval PCI_ERR_CFG_ACCESS pciaccess without privileges: Linux shows
 *   unprivileged readers only the first 64 bytes
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_wr64()
 */
pci_err_t pci_device_cfg_rd64(pci_bdf_t bdf, uint_t offset, uint64_t *val);
/**
 * Write 8 bits of config space. A write that overlaps the MSI or MSI-X
 * capability structure is refused unless the handle was attached with
 * pci_attachFlags_e_FULL_CONFIG_ACCESS: those registers belong to the
 * capability modules, whose view of them must not go stale.
 * @param hdl an OWNER handle
 * @param offset from 0x40 to the config size minus 1, a multiple of 1
 * @param val the value (host byte order)
 * @param[out] val_p receives the value read back after the write; may be
 *   NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p offset is
 *   below 0x40, not a multiple of 1, or beyond the config space
 * @owner_gone
 * @retval PCI_ERR_CFG_ACCESS the write overlaps the MSI or MSI-X structure
 *   and the handle lacks FULL_CONFIG_ACCESS; or the backend cannot write
 *   this function's config space
 * @retval PCI_ERR_EIO the capability list cannot be walked to check the
 *   protection (a read failed): the write is refused
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_rd8()
 */
pci_err_t pci_device_cfg_wr8(pci_devhdl_t hdl, uint_t offset, uint8_t val, uint8_t *val_p);
/**
 * Write 16 bits of config space. A write that overlaps the MSI or MSI-X
 * capability structure is refused unless the handle was attached with
 * pci_attachFlags_e_FULL_CONFIG_ACCESS: those registers belong to the
 * capability modules, whose view of them must not go stale.
 * @param hdl an OWNER handle
 * @param offset from 0x40 to the config size minus 2, a multiple of 2
 * @param val the value (host byte order)
 * @param[out] val_p receives the value read back after the write; may be
 *   NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p offset is
 *   below 0x40, not a multiple of 2, or beyond the config space
 * @owner_gone
 * @retval PCI_ERR_CFG_ACCESS the write overlaps the MSI or MSI-X structure
 *   and the handle lacks FULL_CONFIG_ACCESS; or the backend cannot write
 *   this function's config space
 * @retval PCI_ERR_EIO the capability list cannot be walked to check the
 *   protection (a read failed): the write is refused
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_rd16()
 */
pci_err_t pci_device_cfg_wr16(pci_devhdl_t hdl, uint_t offset, uint16_t val, uint16_t *val_p);
/**
 * Write 32 bits of config space. A write that overlaps the MSI or MSI-X
 * capability structure is refused unless the handle was attached with
 * pci_attachFlags_e_FULL_CONFIG_ACCESS: those registers belong to the
 * capability modules, whose view of them must not go stale.
 * @param hdl an OWNER handle
 * @param offset from 0x40 to the config size minus 4, a multiple of 4
 * @param val the value (host byte order)
 * @param[out] val_p receives the value read back after the write; may be
 *   NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p offset is
 *   below 0x40, not a multiple of 4, or beyond the config space
 * @owner_gone
 * @retval PCI_ERR_CFG_ACCESS the write overlaps the MSI or MSI-X structure
 *   and the handle lacks FULL_CONFIG_ACCESS; or the backend cannot write
 *   this function's config space
 * @retval PCI_ERR_EIO the capability list cannot be walked to check the
 *   protection (a read failed): the write is refused
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_rd32()
 */
pci_err_t pci_device_cfg_wr32(pci_devhdl_t hdl, uint_t offset, uint32_t val, uint32_t *val_p);
/**
 * Write 64 bits of config space. A write that overlaps the MSI or MSI-X
 * capability structure is refused unless the handle was attached with
 * pci_attachFlags_e_FULL_CONFIG_ACCESS: those registers belong to the
 * capability modules, whose view of them must not go stale.
 * @param hdl an OWNER handle
 * @param offset from 0x40 to the config size minus 8, a multiple of 8
 * @param val the value (host byte order)
 * @param[out] val_p receives the value read back after the write; may be
 *   NULL (no read)
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p offset is
 *   below 0x40, not a multiple of 8, or beyond the config space
 * @owner_gone
 * @retval PCI_ERR_CFG_ACCESS the write overlaps the MSI or MSI-X structure
 *   and the handle lacks FULL_CONFIG_ACCESS; or the backend cannot write
 *   this function's config space
 * @retval PCI_ERR_EIO the capability list cannot be walked to check the
 *   protection (a read failed): the write is refused
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_rd64()
 */
pci_err_t pci_device_cfg_wr64(pci_devhdl_t hdl, uint_t offset, uint64_t val, uint64_t *val_p);
/** @} */

/** @defgroup caps Capabilities
 *  @brief The capability list, capability objects (pci_cap_t), enable and
 *  disable.
 *
 *  A capability is named by its index in the function's standard
 *  capability list (pci_device_find_capid()). pci_device_read_cap() loads
 *  the capability's module (pci_cap-0x05.so for MSI, pci_cap-0x11.so for
 *  MSI-X) and returns a pci_cap_t; the module's calls (<pci/cap_msi.h>,
 *  <pci/cap_msix.h>) take it, and settings made through them take effect at
 *  pci_device_cfg_cap_enable(). Extended (PCIe) capabilities:
 *  pcicap_device_read_xcap().
 *  @{ */
/**
 * Find a capability by ID.
 * Index of the first capability with ID @p capid in the function's
 * standard capability list. Loads no module. The list is walked once and
 * cached; a malformed list (a loop, a pointer into the header, too many
 * entries) is searched up to where it breaks.
 * @param bdf the function
 * @param capid the capability ID (CAPID_MSI, CAPID_MSIX, ...)
 * @return the index (0-based), or -1 when the list has no such capability,
 *   there is no such function (or it is removed or held off), or the list
 *   cannot be read
 * @isr_no
 * @mt_safe
 * @see pci_device_find_capid_next(), pci_device_read_cap()
 */
int_t pci_device_find_capid(pci_bdf_t bdf, pci_capid_t capid);
/**
 * Find the next capability with a given ID.
 * Index of the next capability with ID @p capid after index @p start_idx,
 * for functions with several capabilities of one ID.
 * @param bdf the function
 * @param capid the capability ID
 * @param start_idx the index to search after; -1 searches from the start
 *   (as pci_device_find_capid())
 * @return the index, or -1 as for pci_device_find_capid()
 * @isr_no
 * @mt_safe
 */
int_t pci_device_find_capid_next(pci_bdf_t bdf, pci_capid_t capid, int_t start_idx);
/**
 * Read the ID of the capability at an index.
 * The ID of the capability at index @p idx. Loads no module.
 * @param bdf the function
 * @param[out] capid receives the ID
 * @param idx index in the standard capability list
 * @ret_be
 * @retval PCI_ERR_EINVAL @p capid is NULL
 * @retval PCI_ERR_ENOENT @p idx is past the end of a well-formed list (any
 *   index when the function has no capabilities)
 * @retval PCI_ERR_EIO @p idx is at or past the point where the list is
 *   malformed
 * @bdf_gone
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_capid(pci_bdf_t bdf, pci_capid_t *capid, uint_t idx);
/**
 * Read a capability into a capability object, loading its module.
 * The module is loaded on first use: `pci_cap-0xNN-VVVVDDDD.so` (this vendor and device only), else
 * `pci_cap-0xNN.so`, from `PCI_CAP_MODULE_DIR` (default
 * `<libdir>/pcicap`), skipping what `PCI_MODULE_BLACKLIST` names.
 *
 * Set *@p cap to NULL before the first read of an index. Calling again
 * with the object re-reads it in place. The object is one malloc() block:
 * release it with free() when done (it may be freed right after
 * pci_device_cfg_cap_enable(): enable state is not kept in it). A pointer
 * that was freed must not be passed again.
 *
 * @param bdf the function
 * @param[in,out] cap NULL, or an object this call returned before
 * @param idx index in the standard capability list (pci_device_find_capid())
 * @return PCI_ERR_OK with *@p cap the object; on any error but the first
 *   PCI_ERR_EINVAL case below, the object *@p cap held is destroyed and
 *   *@p cap set to NULL. The codes, or an error of the backend or of the
 *   module's own setup, passed on unchanged:
 * @retval PCI_ERR_EINVAL @p cap is NULL, or *@p cap is neither NULL nor a
 *   live object of this library (*@p cap is left as it was)
 * @retval PCI_ERR_ENOENT @p idx is past the end of a well-formed list
 * @retval PCI_ERR_EIO @p idx is at or past where the list is malformed
 * @bdf_gone
 * @retval PCI_ERR_NO_MODULE no module file for the capability
 * @retval PCI_ERR_MODULE_BLACKLISTED every module file found is blacklisted
 * @retval PCI_ERR_MODULE_SYM the module has no `pcicap_cap_module_entry`
 * @retval PCI_ERR_MOD_COMPAT the module cannot be loaded, is built for
 *   another ABI, serves another capability ID, lacks mandatory ops, or the
 *   capability is already served by another module
 * @retval PCI_ERR_ENOMEM out of memory
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_cap_enable(), cap_msi_get_nirq(), cap_msix_get_nirq()
 */
pci_err_t pci_device_read_cap(pci_bdf_t bdf, pci_cap_t *cap, uint_t idx);
/**
 * Enable a capability.
 * The settings made through its module's calls take effect now.
 * For MSI and MSI-X: the IRQs are allocated (@p reqType decides how many,
 * decisions.md section 7), the messages programmed in a safe order, Bus
 * Master and INTx Disable set in the Command register, and every used
 * vector left **masked**: unmask each one when its handler is ready. Then
 * pci_device_read_irq() reports the IRQs in slot order and
 * pcicap_irq_fd() gives a descriptor for each. A failed enable leaves the
 * device and the library exactly as they were.
 *
 * @param hdl an OWNER handle of the capability's function
 * @param reqType MANDATORY (exactly the count asked for), ADVISORY or
 *   UNSPECIFIED (as many as can be had, at least one)
 * @param cap an object from pci_device_read_cap() of the same function
 * @return PCI_ERR_OK, one of the codes below, or an error of the backend or
 *   of the module passed on unchanged:
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p cap is
 *   NULL, not an object of this library, or of another function; @p reqType
 *   is not one of the three; MSI-X: a disposition set earlier is no longer
 *   below the cap_msix_set_nirq() count
 * @owner_gone
 * @retval PCI_ERR_EALREADY the capability is enabled already (by any
 *   handle), or its module says it is always enabled
 * @retval PCI_ERR_MSIX_ENABLED MSI: MSI-X is enabled on the function
 * @retval PCI_ERR_MSI_ENABLED MSI-X: MSI is enabled on the function
 * @retval PCI_ERR_CAP_NIRQ MANDATORY and the backend cannot supply exactly
 *   the count (MSI: the cap_msi_set_nirq() count as one aligned block;
 *   MSI-X: the IRQ slots the dispositions use); MSI-X: every entry is unused
 * @retval PCI_ERR_IRQ_NOT_AVAIL ADVISORY or UNSPECIFIED and not even one
 *   IRQ is free; any request type on a backend without interrupts
 *   (pciaccess)
 * @retval PCI_ERR_ASPACE_INVALID MSI-X: the table is not inside a memory BAR
 * @retval PCI_ERR_ENOTSUP MSI-X: the backend has no BAR access
 * @retval PCI_ERR_CFG_ACCESS the backend cannot write the function
 * @retval PCI_ERR_IRQ_CFG vfio: the kernel refused the vectors
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_cap_disable(), pci_device_read_irq(), pcicap_irq_fd(),
 *   docs/msi.md, docs/msix.md
 */
pci_err_t pci_device_cfg_cap_enable(pci_devhdl_t hdl, pci_reqType_t reqType, pci_cap_t cap);
/**
 * Disable a capability.
 * For MSI and MSI-X: every vector is masked, the
 * enable bit cleared, the IRQs released (their pcicap_irq_fd() descriptors
 * are closed; pci_device_read_irq() reports none), INTx Disable restored to
 * its value before the enable; Bus Master stays set. Settings made through
 * the module's calls are kept for the next enable. Detaching the handle
 * that enabled a capability disables it too.
 *
 * @param hdl an OWNER handle of the capability's function
 * @param reqType any of the three; UNSPECIFIED is the usual one
 * @param cap an object from pci_device_read_cap() of the same function
 * @return PCI_ERR_OK, one of the codes below, or an error of the backend or
 *   of the module passed on unchanged:
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p cap is
 *   NULL, not an object of this library, or of another function; @p reqType
 *   is not one of the three
 * @owner_gone
 * @retval PCI_ERR_ENOTSUP the module says the capability is always enabled
 * @retval PCI_ERR_EALREADY the capability is not enabled
 * @retval PCI_ERR_CFG_ACCESS the backend cannot write the function
 * @isr_no
 * @mt_safe
 * @see pci_device_cfg_cap_enable()
 */
pci_err_t pci_device_cfg_cap_disable(pci_devhdl_t hdl, pci_reqType_t reqType, pci_cap_t cap);
/**
 * Tell whether a capability is enabled.
 * Whether a capability is enabled, as the library recorded it (VFIO, for
 * one, does not show the MSI enable bit in config space).
 * @param hdl any handle of the capability's function
 * @param cap an object from pci_device_read_cap() of the same function
 * @return true when it is enabled (by any handle) or always enabled; false
 *   when not, and for a bad handle or object
 * @isr_no
 * @mt_safe
 */
bool_t pci_device_cfg_cap_isenabled(pci_devhdl_t hdl, pci_cap_t cap);
/** @} */

/** @defgroup resources IRQs, address spaces, reset
 *  @brief What a driver owns: its IRQs, its BARs and expansion ROM, its
 *  reset.
 *
 *  The array calls follow QNX's conventions: a NULL array asks for the
 *  count only; *n in is the array's capacity, out the number of entries
 *  returned, or negative (-(entries that did not fit)) when the array was
 *  too small and has been filled.
 *  @{ */
/**
 * Read the function's IRQs.
 * The IRQs of the function: after an MSI or MSI-X enable, one per IRQ slot
 * in slot order (MSI: vector order). Wait on each with pcicap_irq_fd().
 * @param hdl an OWNER handle
 * @param[in,out] nirq in: the capacity of @p irq; out: the number returned,
 *   or negative as described for the group. NULL with a non-NULL @p irq
 *   means one entry.
 * @param[out] irq the array, or NULL to ask for the count only
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p nirq and
 *   @p irq are both NULL; *@p nirq is negative with an array
 * @owner_gone
 * @retval PCI_ERR_IRQ_NOT_AVAIL @p nirq is NULL, @p irq is not, and the
 *   function has no IRQs
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_irq(pci_devhdl_t hdl, int_t *nirq, pci_irq_t *irq);
/**
 * Read the function's BARs and expansion ROM.
 * The function's address spaces: its implemented BARs (0..5) and the
 * expansion ROM (bar_num -1), with address, size, type and attributes
 * (the backend's description, or sizing through config space). On Linux
 * `addr` is the bus address, which is also the CPU physical address; reach
 * the memory with pcicap_bar_read() and pcicap_bar_write().
 * @param hdl an OWNER handle
 * @param[in,out] nba in: the capacity of @p ba; out: the number returned,
 *   or negative as described for the group. NULL with a non-NULL @p ba
 *   means one entry.
 * @param[in,out] ba the array, or NULL to ask for the count. With
 *   MANDATORY, the caller names the BARs in ba[i].bar_num and each entry is
 *   filled (type pci_asType_e_NONE for a BAR that is not implemented).
 * @param reqType UNSPECIFIED or ADVISORY: every address space; MANDATORY:
 *   the ones named in @p ba
 * @return PCI_ERR_OK, one of the codes below, or an error of the backend
 *   passed on unchanged (a failing MANDATORY call may have filled the
 *   entries before the failing one):
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached; @p nba and
 *   @p ba both NULL; @p reqType not one of the three; MANDATORY with @p ba
 *   NULL or *@p nba negative; *@p nba negative with an array
 * @owner_gone
 * @retval PCI_ERR_ENOTSUP the backend can neither describe nor size BARs
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_read_ba(pci_devhdl_t hdl, int_t *nba, pci_ba_t *ba, pci_reqType_t reqType);
/**
 * Turn on the expansion ROM's address decode (bit 0 of the ROM BAR). The
 * Command register's Memory Space bit is the caller's business.
 * @param hdl an OWNER handle
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached
 * @owner_gone
 * @retval PCI_ERR_ENOTSUP the function has no expansion ROM, or the backend
 *   can neither describe nor size it
 * @cfg_ro
 * @isr_no
 * @mt_safe
 * @see pci_device_rom_disable()
 */
pci_err_t pci_device_rom_enable(pci_devhdl_t hdl);
/**
 * Turn off the expansion ROM's address decode.
 * @param hdl an OWNER handle
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached
 * @owner_gone
 * @retval PCI_ERR_ENOTSUP the function has no expansion ROM, or the backend
 *   can neither describe nor size it
 * @cfg_ro
 * @isr_no
 * @mt_safe
 * @see pci_device_rom_enable()
 */
pci_err_t pci_device_rom_disable(pci_devhdl_t hdl);
/**
 * Translate an address space between CPU and bus views.
 * Translate an address space between the CPU's and the bus's view. On
 * Linux (and on the simulator) both views are the same: *@p as_xlate is a
 * copy of *@p as. For DMA through an IOMMU use pcicap_dma_map() instead.
 * @param hdl any handle of the function (OWNER not needed)
 * @param as the address space; its attr must have exactly one of
 *   pci_asAttr_e_INBOUND and pci_asAttr_e_OUTBOUND
 * @param[out] as_xlate receives the translation
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL @p as or @p as_xlate NULL; neither or both
 *   directions in attr; a type other than MEM or IO; addr + size wraps
 *   around; @p hdl NULL, forged or detached
 * @retval PCI_ERR_ENODEV the function left the bus
 * @isr_no
 * @mt_safe
 */
pci_err_t pci_device_map_as(pci_devhdl_t hdl, const pci_ba_t *const as, pci_ba_t *as_xlate);
/**
 * Reset the function.
 * The caller must be its only attachment, in every
 * process. pci_resetType_e_FUNCTION is a Function Level Reset: through the
 * backend where it has a reset op (vfio: VFIO_DEVICE_RESET), else by the
 * library through the PCIe Device Control register or the Advanced
 * Features capability, then polling the function (100 ms, then every
 * 100 ms up to about 1.1 s, with the library's mutex released). Other types
 * need the backend. After a reset the device's MSI/MSI-X state is gone: the
 * library forgets enabled capabilities and their IRQs (enable them again).
 * @param hdl an OWNER handle, the function's only attachment
 * @param resetType pci_resetType_e_FUNCTION, or a type the backend offers;
 *   values below pci_resetType_e_BUS do nothing
 * @ret_be
 * @retval PCI_ERR_EINVAL @p hdl is NULL, forged or detached (also when
 *   another thread detaches it during the wait)
 * @retval PCI_ERR_ENODEV the function left the bus or was removed
 * @retval PCI_ERR_NOT_OWNER the handle was attached without OWNER
 * @retval PCI_ERR_ATTACH_SHARED another handle is attached to the function
 *   (in this process, or for a scoped device in another)
 * @retval PCI_ERR_ENOTSUP FUNCTION on a function without FLR; another type
 *   the backend does not offer
 * @retval PCI_ERR_DEV_NOT_AVAIL the function is held off; or it still
 *   reads all ones 1.1 s after the FLR
 * @cfg_ro
 * @isr_no It may also sleep for up to 1.1 s.
 * @mt_safe
 */
pci_err_t pci_device_reset(pci_devhdl_t hdl, pci_resetType_e resetType);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PCICAP_PCI_PCI_H */
