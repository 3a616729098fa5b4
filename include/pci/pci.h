/*
 * pcicap - the QNX PCI server client API (libpci) for Linux userspace.
 *
 * <pci/pci.h>: core types, macros, error codes and the libpci calls.
 * Names, types and numeric values follow QNX SDP 8.0 (PCI_LIB_VERSION 300);
 * errno-aliased error codes take Linux errno values.
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
 *  @{ */

/** QNX library version: major * 100 + minor (QNX SDP 8.0 value). */
#define PCI_LIB_VERSION   300
#define PCI_MAJOR_VERSION 3

#ifndef EOK
/** Success (QNX errno name; Linux has none). */
#define EOK 0
#endif

#ifndef _PCICAP_UINT_T_DEFINED
#define _PCICAP_UINT_T_DEFINED
/** QNX's `uint_t` (from its <sys/types.h>); glibc has none. */
typedef unsigned int uint_t;
#endif
#ifndef int_t
typedef int int_t;
#endif
#ifndef bool_t
typedef bool bool_t;
#endif

/** Number of elements of an array, as uint_t. */
#define NELEMENTS(x) ((uint_t)(sizeof(x) / sizeof((x)[0])))

typedef uint16_t pci_vid_t;
typedef uint16_t pci_did_t;
typedef uint16_t pci_ssid_t;
typedef uint16_t pci_ssvid_t;
typedef uint16_t pci_cmd_t;
typedef uint16_t pci_stat_t;
/** Class code, laid out 0x00CCssrr: base class, subclass, register-level interface. */
typedef uint32_t pci_ccode_t;
typedef uint8_t pci_revid_t;
typedef uint8_t pci_hdrType_t;
typedef uint8_t pci_capid_t;
typedef uint8_t pci_latency_t;
typedef uint8_t pci_clsize_t;
typedef uint8_t pci_busnum_t;
typedef uint16_t pci_bctrl_t;
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

#define _PCI_ARI_BIT       16
#define _PCI_BDF_FUNC(bdf) (((bdf) >> 0) & 0x7u)
#define _PCI_BDF_DEV(bdf)  (((bdf) >> 3) & 0x1Fu)
#define _PCI_BDF_BUS(bdf)  (((bdf) >> 8) & 0xFFu)
#define _PCI_ARI_FUNC(bdf) (((bdf) >> 0) & 0xFFu)
#define _PCI_ARI_DEV(bdf)  (0u)
#define _PCI_ARI_BUS(bdf)  (((bdf) >> 8) & 0xFFu)

#define PCI_IS_ARI(bdf)   ((((pci_bdf_t)(bdf)) >> _PCI_ARI_BIT) & 1u)
#define PCI_BDF(b, d, f)  ((pci_bdf_t)((((b)&0xFFu) << 8) | (((d)&0x1Fu) << 3) | ((f)&0x7u)))
#define PCI_BDF_ARI(b, f) ((pci_bdf_t)((1u << _PCI_ARI_BIT) | (((b)&0xFFu) << 8) | ((f)&0xFFu)))
#define PCI_BUS(bdf)      (PCI_IS_ARI(bdf) ? _PCI_ARI_BUS(bdf) : _PCI_BDF_BUS(bdf))
#define PCI_DEV(bdf)      (PCI_IS_ARI(bdf) ? _PCI_ARI_DEV(bdf) : _PCI_BDF_DEV(bdf))
#define PCI_FUNC(bdf)     (PCI_IS_ARI(bdf) ? _PCI_ARI_FUNC(bdf) : _PCI_BDF_FUNC(bdf))
#define PCI_BDF_NONE      ((pci_bdf_t)-1)
#define PCI_BDF_RID(bdf)  ((uint16_t)((bdf)&0xFFFFu))

#define PCI_MAX_BUSES     256
#define PCI_BDF_MAX_DEVS  32
#define PCI_BDF_MAX_FUNCS 8
#define PCI_ARI_MAX_DEVS  1
#define PCI_ARI_MAX_FUNCS 256

#define PCI_CS_MAX_CHASSIS 8
#define PCI_CS_MAX_SLOTS   8192
#define PCI_CHASSIS(cs)    ((((pci_cs_t)(cs)) >> 13) & 0x7u)
#define PCI_SLOT(cs)       (((pci_cs_t)(cs)) & 0x1FFFu)
#define PCI_CS(c, s)       ((pci_cs_t)((((c)&0x7u) << 13) | ((s)&0x1FFFu)))
#define PCI_CS_NONE        ((pci_cs_t)-1)

#define PCI_CCODE_CLASS(cc)    ((((pci_ccode_t)(cc)) >> 16) & 0xFFu)
#define PCI_CCODE_SUBCLASS(cc) ((((pci_ccode_t)(cc)) >> 8) & 0xFFu)
#define PCI_CCODE_REG_IF(cc)   (((pci_ccode_t)(cc)) & 0xFFu)
/* clang-format off */
#define PCI_CCODE(C, c, r) \
	((pci_ccode_t)((((C) & 0xFFu) << 16) | (((c) & 0xFFu) << 8) | ((r) & 0xFFu)))
/* clang-format on */

#define PCI_VID_ANY            ((pci_vid_t)0xFFFF)
#define PCI_DID_ANY            ((pci_did_t)0xFFFF)
#define PCI_CCODE_SUBCLASS_ANY 0xFFu
#define PCI_CCODE_REG_IF_ANY   0xFFu
#define PCI_CCODE_ANY          PCI_CCODE(0xFF, 0xFF, 0xFF)

/** Version of a capability module API ({major, minor}). */
typedef struct {
	uint16_t major;
	uint16_t minor;
} __attribute__((packed, aligned(4))) pci_version_t;

/** Public head of a capability object. Allocated by pci_device_read_cap() as
 *  one malloc() block (with a private tail); release it with free(). */
struct _pci_cap {
	pci_version_t api_version; /**< stamped by each cap_* call with the caller's API version */
	uint32_t reserved;
	void *api_p; /**< the module's function table; NULL = not read */
} __attribute__((packed, aligned(8)));
typedef struct _pci_cap *pci_cap_t;

/** Attach flags (pci_device_attach()). */
typedef enum {
	pci_attachFlags_e_SHARED = 0,
	pci_attachFlags_e_EXCLUSIVE = 1,
	pci_attachFlags_e_OWNER = 0x2,
	pci_attachFlags_e_MULTI = 0x4,
	pci_attachFlags_e_DETACH_DISCONNECT = 0x8,
	pci_attachFlags_e_FULL_CONFIG_ACCESS = 0x10,
} pci_attachFlags_e;
typedef uint32_t pci_attachFlags_t;
#define pci_attachFlags_OWNER                                                                      \
	((pci_attachFlags_t)(pci_attachFlags_e_SHARED | pci_attachFlags_e_OWNER))
#define pci_attachFlags_MULTI_OWNER                                                                \
	((pci_attachFlags_t)(pci_attachFlags_e_SHARED | pci_attachFlags_e_OWNER |                  \
			     pci_attachFlags_e_MULTI))
#define pci_attachFlags_EXCLUSIVE_OWNER                                                            \
	((pci_attachFlags_t)(pci_attachFlags_e_EXCLUSIVE | pci_attachFlags_e_OWNER))
#define pci_attachFlags_DEFAULT pci_attachFlags_OWNER

/** Request types for capability enable/disable and pci_device_read_ba(). */
typedef enum {
	pci_reqType_e_MANDATORY = 100,
	pci_reqType_e_ADVISORY = 101,
	pci_reqType_e_UNSPECIFIED = 102,
} pci_reqType_t;

/** Address-space types. */
typedef enum {
	pci_asType_e_NONE = 0,
	pci_asType_e_MEM = 1,
	pci_asType_e_IO = 2,
} pci_asType_e;

/** Address-space attributes (bit-OR). */
typedef enum {
	pci_asAttr_e_NONE = 0,
	pci_asAttr_e_ALIGN = 0x3F,
	pci_asAttr_e_ALIGN_MEM_MIN = 4,
	pci_asAttr_e_ALIGN_IO_MIN = 2,
	pci_asAttr_e_BIT_MASK = 0xC000,
	pci_asAttr_e_16BIT = 0x0000,
	pci_asAttr_e_32BIT = 0x4000,
	pci_asAttr_e_64BIT = 0x8000,
	pci_asAttr_e_128BIT = 0xC000,
	pci_asAttr_e_PREFETCH = 1 << 16,
	pci_asAttr_e_spare = 1 << 17,
	pci_asAttr_e_CONTIG = 1 << 18,
	pci_asAttr_e_EXPANSION_ROM = 1 << 19,
	pci_asAttr_e_ENABLED = 1 << 20,
	pci_asAttr_e_SHARED = 1 << 21,
	pci_asAttr_e_INBOUND = 1 << 22,
	pci_asAttr_e_OUTBOUND = 1 << 23,
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
	pci_resetType_e_BUS = 1,
	pci_resetType_e_FUNCTION = 2,
	pci_resetType_e_RST = 8,
	pci_resetType_e_PERST = 8,
	pci_resetType_e_SEGMENT = 9,
	pci_resetType_e_hw_specific_first = 10,
} pci_resetType_e;

/** Device types (pci_device_get_type()). */
typedef enum {
	pci_device_type_e_UNKNOWN = -1,
	pci_device_type_e_PCIe = 100,
	pci_device_type_e_PCI_BRIDGE = 101,
	pci_device_type_e_PCI_DEVICE = 102,
	pci_device_type_e_PCI_HOST_BRIDGE = 103,
} pci_device_type_e;

/** Library logging verbosity (0 = silent; see pcicap_set_log_handler()). */
extern uint_t pci_verbosity;

/** @} */

/** @defgroup errors Error codes
 *  errno-aliased codes take Linux errno values; PCI-specific codes use the
 *  QNX SDP 8.0 numbering from 400.
 *  @{ */
typedef enum {
	PCI_ERR_OK = EOK,
	PCI_ERR_EINVAL = EINVAL,
	PCI_ERR_EALREADY = EALREADY,
	PCI_ERR_ENODEV = ENODEV,
	PCI_ERR_ENOENT = ENOENT,
	PCI_ERR_EIO = EIO,
	PCI_ERR_ENOTSUP = ENOTSUP,
	PCI_ERR_ENOMEM = ENOMEM,
	PCI_ERR_EEXIST = EEXIST,
	PCI_ERR_EAGAIN = EAGAIN,
	PCI_ERR_ENOSPC = ENOSPC,

	pci_err_t_first = 400,
	PCI_ERR_REG_UNIMPLEMENTED = pci_err_t_first, /* 400 */
	PCI_ERR_LOCK_FAILURE,                        /* 401 */
	PCI_ERR_NOT_OWNER,                           /* 402 */
	PCI_ERR_ATTACH_LIMIT,                        /* 403 */
	PCI_ERR_ATTACH_EXCLUSIVE,                    /* 404 */
	PCI_ERR_ATTACH_SHARED,                       /* 405 */
	PCI_ERR_ATTACH_OWNED,                        /* 406 */
	PCI_ERR_IRQ_NOT_AVAIL,                       /* 407 */
	PCI_ERR_IRQ_CFG,                             /* 408 */
	PCI_ERR_ASPACE_NOT_AVAIL,                    /* 409 */
	PCI_ERR_ASPACE_CFG,                          /* 410 */
	PCI_ERR_ASPACE_INVALID,                      /* 411 */
	PCI_ERR_CAP_ENOTSUP,                         /* 412 */
	PCI_ERR_CAP_NIRQ,                            /* 413 */
	PCI_ERR_MSI_ENABLED,                         /* 414 */
	PCI_ERR_MSIX_ENABLED,                        /* 415 */
	PCI_ERR_MODULE_INIT,                         /* 416 */
	PCI_ERR_MODULE_SYM,                          /* 417 */
	PCI_ERR_MOD_COMPAT,                          /* 418 */
	PCI_ERR_MOD_API_COMPAT,                      /* 419 */
	PCI_ERR_NO_MODULE,                           /* 420 */
	PCI_ERR_MODULE_NOT_ENABLED,                  /* 421 */
	PCI_ERR_MODULE_BLACKLISTED,                  /* 422 */
	PCI_ERR_SLOG,                                /* 423 */
	PCI_ERR_SLOG_VERBOSITY,                      /* 424 */
	PCI_ERR_SLOG_TYPE,                           /* 425 */
	PCI_ERR_MMAP_DEV,                            /* 426 */
	PCI_ERR_MMAP_MEM,                            /* 427 */
	PCI_ERR_DEV_NOT_AVAIL,                       /* 428 */
	PCI_ERR_PCIe_LINK_RETRAIN,                   /* 429 */
	PCI_ERR_PCIe_LINK_NOT_ACTIVE,                /* 430 */
	PCI_ERR_CFG_ACCESS,                          /* 431 */
	PCI_ERR_NTB_DOMAIN_NOT_AVAIL,                /* 432 */
	PCI_ERR_NTB_RESOURCE_BUSY,                   /* 433 */
	PCI_ERR_NTB_RESOURCE_CONFIG,                 /* 434 */
	PCI_ERR_SERVER_STATE_EXITING,                /* 435 */
	PCI_ERR_SERVER_STATE_IDLE,                   /* 436 */
	PCI_ERR_SERVER_NOT_AVAILABLE,                /* 437 */
	PCI_ERR_SERVER_ID_IN_USE,                    /* 438 */
	PCI_ERR_SEGMENTATION_NOT_SUPPORTED,          /* 439 */
	PCI_ERR_ADDRESS_TRANSLATION,                 /* 440 */
	pci_err_t_last                               /* 441 */
} pci_err_t;

/** Human-readable text for @p err: a static, non-empty string for every code,
 *  a generic text for unknown values. Thread-safe, async-signal-safe.
 *  (QNX declares the return as `const char * const`; the top-level const is
 *  dropped here because it has no effect and trips -Wignored-qualifiers.) */
const char *pci_strerror(pci_err_t err);
/** @} */

/** @defgroup device Finding, attaching, detaching
 *  @{ */
pci_bdf_t pci_device_find(uint_t idx, pci_vid_t vid, pci_did_t did, pci_ccode_t classcode);
pci_devhdl_t pci_device_attach(pci_bdf_t bdf, pci_attachFlags_t flags, pci_err_t *err);
pci_err_t pci_device_detach(pci_devhdl_t hdl);
pci_bdf_t pci_bdf(pci_devhdl_t hdl);
pci_device_type_e pci_device_get_type(pci_bdf_t bdf, uint_t *sub_type);
bool_t pci_device_is_multi_func(pci_bdf_t bdf);

pci_cs_t pci_device_chassis_slot(pci_bdf_t bdf);
pci_bdf_t pci_chassis_slot_device(pci_cs_t cs, pci_err_t *err);
pci_bdf_t pci_chassis_slot_bridge(pci_cs_t cs);
/** @} */

/** @defgroup header Header register reads and writes
 *  @{ */
pci_err_t pci_device_read_vid(pci_bdf_t bdf, pci_vid_t *vid);
pci_err_t pci_device_read_did(pci_bdf_t bdf, pci_did_t *did);
pci_err_t pci_device_read_revid(pci_bdf_t bdf, pci_revid_t *revid);
pci_err_t pci_device_read_ssid(pci_bdf_t bdf, pci_ssid_t *ssid);
pci_err_t pci_device_read_ssvid(pci_bdf_t bdf, pci_ssvid_t *ssvid);
pci_err_t pci_device_read_ccode(pci_bdf_t bdf, pci_ccode_t *ccode);
pci_err_t pci_device_read_hdrType(pci_bdf_t bdf, pci_hdrType_t *hdrType);
pci_err_t pci_device_read_cmd(pci_bdf_t bdf, pci_cmd_t *cmd);
pci_err_t pci_device_read_status(pci_bdf_t bdf, pci_stat_t *status);
pci_err_t pci_device_read_latency(pci_bdf_t bdf, pci_latency_t *latency);
pci_err_t pci_device_read_clsize(pci_bdf_t bdf, pci_clsize_t *clsize);

pci_err_t pci_device_read_sec_status(pci_bdf_t bdf, pci_stat_t *status);
pci_err_t pci_device_read_sec_latency(pci_bdf_t bdf, pci_latency_t *latency);
pci_err_t pci_device_read_bridge_ctrl(pci_bdf_t bdf, pci_bctrl_t *bctrl);
pci_err_t pci_device_read_pri_busnum(pci_bdf_t bdf, pci_busnum_t *busnum);
pci_err_t pci_device_read_sec_busnum(pci_bdf_t bdf, pci_busnum_t *busnum);
pci_err_t pci_device_read_sub_busnum(pci_bdf_t bdf, pci_busnum_t *busnum);
pci_err_t pci_device_read_mem_base(pci_bdf_t bdf, pci_ba_val_t *base);
pci_err_t pci_device_read_mem_limit(pci_bdf_t bdf, pci_ba_val_t *limit);
pci_err_t pci_device_read_pfmem_base(pci_bdf_t bdf, pci_ba_val_t *base);
pci_err_t pci_device_read_pfmem_limit(pci_bdf_t bdf, pci_ba_val_t *limit);
pci_err_t pci_device_read_io_base(pci_bdf_t bdf, pci_ba_val_t *base);
pci_err_t pci_device_read_io_limit(pci_bdf_t bdf, pci_ba_val_t *limit);

pci_err_t pci_device_write_cmd(pci_devhdl_t hdl, pci_cmd_t cmd, pci_cmd_t *cmd_p);
pci_err_t pci_device_write_status(pci_devhdl_t hdl, pci_stat_t status, pci_stat_t *status_p);
pci_err_t pci_device_write_sec_status(pci_devhdl_t hdl, pci_stat_t status, pci_stat_t *status_p);
pci_err_t pci_device_write_bridge_ctrl(pci_devhdl_t hdl, pci_bctrl_t bctrl, pci_bctrl_t *bctrl_p);
pci_err_t pci_device_write_pri_busnum(pci_devhdl_t hdl, pci_busnum_t busnum,
				      pci_busnum_t *busnum_p);
pci_err_t pci_device_write_sec_busnum(pci_devhdl_t hdl, pci_busnum_t busnum,
				      pci_busnum_t *busnum_p);
pci_err_t pci_device_write_sub_busnum(pci_devhdl_t hdl, pci_busnum_t busnum,
				      pci_busnum_t *busnum_p);
pci_err_t pci_device_write_mem_base(pci_devhdl_t hdl, pci_ba_val_t base, pci_ba_val_t *base_p);
pci_err_t pci_device_write_mem_limit(pci_devhdl_t hdl, pci_ba_val_t limit, pci_ba_val_t *limit_p);
pci_err_t pci_device_write_pfmem_base(pci_devhdl_t hdl, pci_ba_val_t base, pci_ba_val_t *base_p);
pci_err_t pci_device_write_pfmem_limit(pci_devhdl_t hdl, pci_ba_val_t limit, pci_ba_val_t *limit_p);
pci_err_t pci_device_write_io_base(pci_devhdl_t hdl, pci_ba_val_t base, pci_ba_val_t *base_p);
pci_err_t pci_device_write_io_limit(pci_devhdl_t hdl, pci_ba_val_t limit, pci_ba_val_t *limit_p);
/** @} */

/** @defgroup config Raw config space access (0x40 up to the end of config space)
 *  @{ */
pci_err_t pci_device_cfg_rd8(pci_bdf_t bdf, uint_t offset, uint8_t *val);
pci_err_t pci_device_cfg_rd16(pci_bdf_t bdf, uint_t offset, uint16_t *val);
pci_err_t pci_device_cfg_rd32(pci_bdf_t bdf, uint_t offset, uint32_t *val);
pci_err_t pci_device_cfg_rd64(pci_bdf_t bdf, uint_t offset, uint64_t *val);
pci_err_t pci_device_cfg_wr8(pci_devhdl_t hdl, uint_t offset, uint8_t val, uint8_t *val_p);
pci_err_t pci_device_cfg_wr16(pci_devhdl_t hdl, uint_t offset, uint16_t val, uint16_t *val_p);
pci_err_t pci_device_cfg_wr32(pci_devhdl_t hdl, uint_t offset, uint32_t val, uint32_t *val_p);
pci_err_t pci_device_cfg_wr64(pci_devhdl_t hdl, uint_t offset, uint64_t val, uint64_t *val_p);
/** @} */

/** @defgroup caps Capabilities
 *  @{ */
int_t pci_device_find_capid(pci_bdf_t bdf, pci_capid_t capid);
int_t pci_device_find_capid_next(pci_bdf_t bdf, pci_capid_t capid, int_t start_idx);
pci_err_t pci_device_read_capid(pci_bdf_t bdf, pci_capid_t *capid, uint_t idx);
pci_err_t pci_device_read_cap(pci_bdf_t bdf, pci_cap_t *cap, uint_t idx);
pci_err_t pci_device_cfg_cap_enable(pci_devhdl_t hdl, pci_reqType_t reqType, pci_cap_t cap);
pci_err_t pci_device_cfg_cap_disable(pci_devhdl_t hdl, pci_reqType_t reqType, pci_cap_t cap);
bool_t pci_device_cfg_cap_isenabled(pci_devhdl_t hdl, pci_cap_t cap);
/** @} */

/** @defgroup resources IRQs, address spaces, reset
 *  @{ */
pci_err_t pci_device_read_irq(pci_devhdl_t hdl, int_t *nirq, pci_irq_t *irq);
pci_err_t pci_device_read_ba(pci_devhdl_t hdl, int_t *nba, pci_ba_t *ba, pci_reqType_t reqType);
pci_err_t pci_device_rom_enable(pci_devhdl_t hdl);
pci_err_t pci_device_rom_disable(pci_devhdl_t hdl);
pci_err_t pci_device_map_as(pci_devhdl_t hdl, const pci_ba_t *const as, pci_ba_t *as_xlate);
pci_err_t pci_device_reset(pci_devhdl_t hdl, pci_resetType_e resetType);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* PCICAP_PCI_PCI_H */
