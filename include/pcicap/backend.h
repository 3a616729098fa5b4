/**
 * @file pcicap/backend.h
 * @brief The backend interface (the QNX "hardware module" equivalent):
 * what a backend provides, for writers of external backends.
 *
 * A backend moves bytes and owns nothing else: config reads and writes, BAR
 * memory access, interrupt message allocation and delivery, and telling
 * whether a device is present. Alignment, bounds, capability walking,
 * ownership and all MSI/MSI-X logic belong to the core and the modules.
 *
 * Built-in backends: "sim" (simulator), "pciaccess" (host, read-mostly,
 * through libpciaccess) and "vfio" (host devices bound to vfio-pci, with real
 * interrupts). A third-party backend is a shared object that exports
 *     const pcicap_backend_t pcicap_backend_entry;
 * and is selected with PCI_HW_MODULE=/path/to/backend.so.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_BACKEND_H
#define PCICAP_BACKEND_H

#include <stddef.h>
#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup pcicap_backend_abi Backend interface
 *  @brief The table a backend exports; docs/backends.md describes the
 *  contract and how to write one.
 *  @{ */

/** Major version of this table; a backend with another value is refused
 *  (PCI_ERR_MOD_COMPAT). Fields are only ever appended. */
#define PCICAP_BACKEND_ABI_VERSION  1u
/** Name of the entry symbol of an external backend. */
#define PCICAP_BACKEND_ENTRY_SYMBOL "pcicap_backend_entry"

/** One function the backend can reach. */
typedef struct {
	pci_bdf_t bdf;   /**< with the domain in bits 31:17 (PCICAP_BDF()) */
	uint64_t uid;    /**< unique per device instance: a device replaced at the same
			      address gets a new uid, so stale handles are detected */
	uint_t cfg_size; /**< 256, or 4096 when extended config space is reachable */
} pcicap_backend_dev_t;

/** One interrupt message and the IRQ it raises. */
typedef struct {
	pci_irq_t irq; /**< the IRQ number drivers see (pci_device_read_irq()) */
	uint64_t addr; /**< message address */
	uint32_t data; /**< message data */
} pcicap_irq_msg_t;

/** irq_alloc() flags (bit-OR). */
enum {
	/** The n messages must form an MSI multi-message block: one address,
	 *  data values base..base+n-1 with base a multiple of n (n a power of 2). */
	PCICAP_IRQ_CONTIG = 1u << 0,
	/** The device can take a 64-bit message address. Without it the
	 *  address must be below 4 GiB. */
	PCICAP_IRQ_ADDR64 = 1u << 1,
};

/** Interrupt mechanisms, for backends that program messages themselves. */
typedef enum {
	PCICAP_IRQ_KIND_MSI = 1,  /**< MSI */
	PCICAP_IRQ_KIND_MSIX = 2, /**< MSI-X */
} pcicap_irq_kind_t;

/**
 * The backend table. Every op returns a pci_err_t unless noted; `ctx` is the
 * pointer that init() returned. A NULL optional op means "not supported" and
 * the core answers PCI_ERR_ENOTSUP (or the error named below) for it.
 *
 * Concurrency: the core serialises structural ops (init, fini, scan,
 * irq_alloc/free, msg_enable/disable, reset) under its own lock. The access
 * ops (present, cfg_read, cfg_write, bar_read, bar_write) may be called from
 * any number of threads at once, and from the `_isr` calls: they must not
 * allocate, take sleeping locks, or make system calls other than the access
 * itself (a spin lock is fine).
 */
typedef struct pcicap_backend {
	uint32_t struct_size; /**< sizeof(pcicap_backend_t) of the backend's build */
	uint32_t abi_version; /**< PCICAP_BACKEND_ABI_VERSION */
	const char *name;     /**< short name, e.g. "sim" */

	/** Mandatory. Set up; store private state in *ctx. Errors are returned
	 *  to whichever libpci call first needed the backend. */
	pci_err_t (*init)(void **ctx);
	/** Optional. Release everything (called at library unload). */
	void (*fini)(void *ctx);

	/** Mandatory. List every function: *devs is a malloc()ed array that the
	 *  core releases with free(); order does not matter. */
	pci_err_t (*scan)(void *ctx, pcicap_backend_dev_t **devs, size_t *ndevs);
	/** Optional. A number that changes whenever the set of devices changes
	 *  (the core then scans again). NULL: the set never changes. */
	uint64_t (*generation)(void *ctx);
	/** Optional. PCI_ERR_OK, PCI_ERR_ENODEV (removed) or
	 *  PCI_ERR_DEV_NOT_AVAIL (present but held off: reset, link down). */
	pci_err_t (*present)(void *ctx, pci_bdf_t bdf);

	/** Mandatory. Read @p len (1, 2 or 4) bytes at @p off, naturally
	 *  aligned and inside cfg_size (the core guarantees it); @p buf receives
	 *  little-endian bytes. */
	pci_err_t (*cfg_read)(void *ctx, pci_bdf_t bdf, uint_t off, void *buf, uint_t len);
	/** Optional (NULL: read-only backend, writes fail with
	 *  PCI_ERR_CFG_ACCESS). Same rules as cfg_read. A backend that refuses a
	 *  particular device returns PCI_ERR_CFG_ACCESS. */
	pci_err_t (*cfg_write)(void *ctx, pci_bdf_t bdf, uint_t off, const void *buf, uint_t len);

	/** Optional. Describe BAR @p bar (0..5, or -1 for the expansion ROM):
	 *  fill addr, size, type, attr (width, PREFETCH), bar_num. Without it the
	 *  core sizes BARs through config space (decode off, write ones, restore). */
	pci_err_t (*bar_info)(void *ctx, pci_bdf_t bdf, int bar, pci_ba_t *ba);
	/** Optional. Access @p len (1, 2, 4 or 8) bytes at offset @p off of
	 *  BAR @p bar's memory, naturally aligned (MSI-X table and PBA). */
	pci_err_t (*bar_read)(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, void *buf,
			      uint_t len);
	/** Optional. The write counterpart of bar_read(), same rules. */
	pci_err_t (*bar_write)(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, const void *buf,
			       uint_t len);
	/** Optional. A live, read-only view of @p len bytes of BAR memory at
	 *  @p off (for cap_msix_get_pba_ptr()); undone with bar_unmap(). */
	pci_err_t (*bar_map)(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, uint64_t len,
			     const volatile void **ptr);
	/** Optional (with bar_map()). Undo bar_map() of @p ptr, @p len. */
	pci_err_t (*bar_unmap)(void *ctx, pci_bdf_t bdf, const volatile void *ptr, uint64_t len);

	/** Optional (NULL: PCI_ERR_IRQ_NOT_AVAIL). Allocate @p n interrupt
	 *  messages for the device, filling out[0..n-1]. All or nothing:
	 *  PCI_ERR_IRQ_NOT_AVAIL when fewer than @p n are free. */
	pci_err_t (*irq_alloc)(void *ctx, pci_bdf_t bdf, uint_t n, uint_t flags,
			       pcicap_irq_msg_t *out);
	/** Optional. Release IRQs that irq_alloc() gave this device. */
	pci_err_t (*irq_free)(void *ctx, pci_bdf_t bdf, const pci_irq_t *irqs, uint_t n);
	/** Optional. A pollable fd (eventfd semantics) that becomes readable
	 *  when @p irq fires; -1 with errno set when there is none. Returns the
	 *  same fd for the life of the allocation; the backend owns it. */
	int (*irq_fd)(void *ctx, pci_irq_t irq);

	/** Optional. For backends whose kernel programs the messages (VFIO):
	 *  enable @p kind with @p nslots IRQs, the device's entries mapped to
	 *  slots by @p entry_slot (MSI-X: one per table entry, -1 = unused,
	 *  @p nentries long; MSI: NULL). Fills irqs[0..nslots-1]. When present,
	 *  the modules use it instead of irq_alloc() + writing address/data. */
	pci_err_t (*msg_enable)(void *ctx, pci_bdf_t bdf, pcicap_irq_kind_t kind, uint_t nentries,
				const int_t *entry_slot, uint_t nslots, pci_irq_t *irqs);
	/** Optional (with msg_enable()). Disable @p kind and release its IRQs. */
	pci_err_t (*msg_disable)(void *ctx, pci_bdf_t bdf, pcicap_irq_kind_t kind);

	/** Optional. Reset the function. The core has checked that the caller
	 *  may (sole owner) and, for pci_resetType_e_FUNCTION, that the device
	 *  offers FLR (PCIe DevCap or AF capability); other types are passed as
	 *  they are: answer PCI_ERR_ENOTSUP for those the backend cannot do.
	 *  Without the op the core performs FLR itself through config space. */
	pci_err_t (*reset)(void *ctx, pci_bdf_t bdf, pci_resetType_e type);
	/** Optional. Chassis/slot the device sits in (PCI_CS(0,0): none). */
	pci_err_t (*chassis_slot)(void *ctx, pci_bdf_t bdf, pci_cs_t *cs);
	/** Optional. The ownership scope of the device: NULL = ownership is
	 *  private to this process (simulated devices), a name = ownership is
	 *  shared by every process that sees the same name, through lock files in
	 *  the runtime directory (host devices: "host"). */
	const char *(*scope)(void *ctx, pci_bdf_t bdf);
	/** Optional (appended in ABI 1; the core checks struct_size). The name
	 *  of the kernel driver bound to the device in @p buf (NUL-terminated):
	 *  PCI_ERR_OK, PCI_ERR_ENOENT (none), PCI_ERR_EINVAL (does not fit). */
	pci_err_t (*driver)(void *ctx, pci_bdf_t bdf, char *buf, size_t len);

	/** Optional (appended in ABI 1). The process is becoming an owner of
	 *  the device (its first OWNER attach): take whatever the backend needs
	 *  to drive it (VFIO: group, container and device). An error fails the
	 *  attach with that code. Called before the core's first-owner quiesce. */
	pci_err_t (*open)(void *ctx, pci_bdf_t bdf);
	/** Optional (appended in ABI 1). The process's last owner handle of the
	 *  device has been detached (its capabilities are disabled by then):
	 *  release what open() took. */
	void (*close)(void *ctx, pci_bdf_t bdf);
	/** Optional (appended in ABI 1; NULL: PCI_ERR_ENOTSUP). Make @p len
	 *  bytes at @p va (both page aligned) reachable by the device's DMA;
	 *  *iova receives the bus address the device must use. */
	pci_err_t (*dma_map)(void *ctx, pci_bdf_t bdf, void *va, size_t len, uint64_t *iova);
	/** Optional. Undo dma_map() for exactly the range it returned. */
	pci_err_t (*dma_unmap)(void *ctx, pci_bdf_t bdf, uint64_t iova, size_t len);
} pcicap_backend_t;

/** Smallest struct_size the core accepts (the table up to `scope`). */
#define PCICAP_BACKEND_MIN_SIZE (offsetof(pcicap_backend_t, scope) + sizeof(void *))
/** @} */

#ifdef __cplusplus
}
#endif
#endif
