/*
 * pcicap capability-module ABI.
 *
 * A capability module is a shared object named pci_cap-0xNN.so (or
 * pci_cap-0xNN-VVVVDDDD.so for one vendor/device), loaded on demand by
 * pci_device_read_cap() from PCI_CAP_MODULE_DIR. It exports exactly one
 * symbol, `pcicap_cap_module_entry`, of type pcicap_cap_module_t, defined
 * with PCICAP_MODULE_REGISTER(). Everything a module needs from the device
 * it asks of the core through the pcicap_host_t table reachable from each
 * capability instance, so modules link against nothing but libc. Their
 * masking calls, the interrupt-time hot path, reach the backend's access ops
 * directly through the instance's pcicap_access_t instead.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_CAP_MODULE_H
#define PCICAP_CAP_MODULE_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <pci/pci.h>
#include <pcicap/backend.h>
#include <pcicap/pcicap.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI major version; a module built for another is refused with
 *  PCI_ERR_MOD_COMPAT. Both structs below only ever grow at the end. */
#define PCICAP_MODULE_ABI_VERSION  1u
#define PCICAP_MODULE_ENTRY_SYMBOL "pcicap_cap_module_entry"

typedef struct pcicap_host pcicap_host_t;

/**
 * The backend's access ops for a module's interrupt-time paths (appended in
 * ABI 1, see pcicap_capinst_t.access and pcicap_mod_access()): called as
 * `a->bar_write(a->ctx, ci->bdf, ...)`, with the rules of <pcicap/backend.h>
 * (buffers hold little-endian bytes; offsets naturally aligned and inside
 * the config space or the BAR). Unlike the host services nothing checks the
 * arguments: the module uses offsets it has checked itself (at attach). No op
 * is NULL: where the backend lacks one the core supplies what the host
 * service would answer (present: PCI_ERR_OK; cfg_write: PCI_ERR_CFG_ACCESS;
 * bar_read, bar_write: PCI_ERR_ENOTSUP). present() is the backend's only: a
 * device the core has retired is refused by the core before the module is
 * called (dispatcher or host->check()).
 */
typedef struct pcicap_access {
	void *ctx;
	pci_err_t (*present)(void *ctx, pci_bdf_t bdf);
	pci_err_t (*cfg_read)(void *ctx, pci_bdf_t bdf, uint_t off, void *buf, uint_t len);
	pci_err_t (*cfg_write)(void *ctx, pci_bdf_t bdf, uint_t off, const void *buf, uint_t len);
	pci_err_t (*bar_read)(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, void *buf,
			      uint_t len);
	pci_err_t (*bar_write)(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, const void *buf,
			       uint_t len);
} pcicap_access_t;

/**
 * One capability of one device, as the core tracks it (one per device and
 * capability offset, living as long as the device does). The fields shown
 * are read-only for the module; the core keeps private fields after them.
 */
typedef struct pcicap_capinst {
	const pcicap_host_t *host; /**< the core's services */
	pci_bdf_t bdf;             /**< the device */
	uint_t offset;             /**< config offset of the capability */
	pci_capid_t capid;         /**< its ID */
	void *state;               /**< state_size bytes for the module, zeroed at creation */
	/** Appended in ABI 1: present when host->capinst_size covers it (read
	 *  it with pcicap_mod_access()). The backend's access ops. */
	const pcicap_access_t *access;
} pcicap_capinst_t;

/**
 * Services of the core. Access calls are ISR-safe (no allocation, no
 * sleeping lock) and are counted by the backend like any other access.
 * Config calls reach the whole config space without the write protection
 * that pci_device_cfg_wr*() applies: the module owns its capability.
 */
struct pcicap_host {
	uint32_t struct_size;
	/** Config read/write of @p width 1, 2 or 4 bytes, naturally aligned. */
	pci_err_t (*cfg_rd)(const pcicap_capinst_t *ci, uint_t off, uint_t width, uint32_t *val);
	pci_err_t (*cfg_wr)(const pcicap_capinst_t *ci, uint_t off, uint_t width, uint32_t val);
	/** BAR memory read/write of @p width 1, 2, 4 or 8 bytes. */
	pci_err_t (*bar_rd)(const pcicap_capinst_t *ci, int bar, uint64_t off, uint_t width,
			    uint64_t *val);
	pci_err_t (*bar_wr)(const pcicap_capinst_t *ci, int bar, uint64_t off, uint_t width,
			    uint64_t val);
	/** Describe a BAR (size, type); PCI_ERR_ENOENT when not implemented. */
	pci_err_t (*bar_info)(const pcicap_capinst_t *ci, int bar, pci_ba_t *ba);
	/** Read-only live view of BAR memory (NULL op in the backend:
	 *  PCI_ERR_ENOTSUP). */
	pci_err_t (*bar_map)(const pcicap_capinst_t *ci, int bar, uint64_t off, uint64_t len,
			     const volatile void **p);
	pci_err_t (*bar_unmap)(const pcicap_capinst_t *ci, const volatile void *p, uint64_t len);
	/** Interrupt messages from the backend (all or nothing). */
	pci_err_t (*irq_alloc)(const pcicap_capinst_t *ci, uint_t n, uint_t flags,
			       pcicap_irq_msg_t *out);
	pci_err_t (*irq_free)(const pcicap_capinst_t *ci, const pci_irq_t *irqs, uint_t n);
	/** True when the backend programs messages itself (then use
	 *  msg_enable/msg_disable instead of irq_alloc + register writes). */
	bool (*backend_programs_msgs)(const pcicap_capinst_t *ci);
	pci_err_t (*msg_enable)(const pcicap_capinst_t *ci, pcicap_irq_kind_t kind, uint_t nentries,
				const int_t *entry_slot, uint_t nslots, pci_irq_t *irqs);
	pci_err_t (*msg_disable)(const pcicap_capinst_t *ci, pcicap_irq_kind_t kind);
	/** Set the IRQs that pci_device_read_irq() reports for the device, in
	 *  slot order (n = 0 clears them). */
	pci_err_t (*set_irqs)(const pcicap_capinst_t *ci, const pci_irq_t *irqs, uint_t n);
	/** PCI_ERR_OK, PCI_ERR_ENODEV or PCI_ERR_DEV_NOT_AVAIL. ISR-safe. */
	pci_err_t (*present)(const pcicap_capinst_t *ci);
	/** Whether some capability with @p capid on the same device is enabled
	 *  (for MSI/MSI-X mutual exclusion). */
	bool (*cap_enabled)(const pcicap_capinst_t *ci, pci_capid_t capid);
	/** Log through the library's handler. */
	void (*log)(const pcicap_capinst_t *ci, pcicap_log_level_t level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	/** Check a (hdl, cap) pair handed to a module call: the handle is live,
	 *  attached to the capability's device, and (when @p need_owner) an
	 *  owner. Yields the instance. ISR-safe. PCI_ERR_EINVAL (bad handle or
	 *  cap, other device), PCI_ERR_NOT_OWNER, PCI_ERR_ENODEV.
	 *  The instance stays valid for the rest of the module call: the core's
	 *  cap_* dispatchers keep the library's ISR section open around every
	 *  call into a module, so no record is freed under it. A module must not
	 *  keep instance pointers beyond the call (nor in a pci_cap_t). */
	pci_err_t (*check)(pci_cap_t cap, pci_devhdl_t hdl, bool need_owner, pcicap_capinst_t **ci);
	/** The module's private bytes in a pci_cap_t (cap_priv_size of them),
	 *  NULL for a cap that is not a valid object of this module. */
	void *(*cap_priv)(pci_cap_t cap);
	/** The instance a pci_cap_t was read from; NULL when the object is not
	 *  valid or its device is gone. Takes the core's lock, so it is for the
	 *  module ops the core calls (attach, read, enable, ...) and for tests,
	 *  NOT for the module's API entries: those run inside the library's ISR
	 *  section (the dispatchers), where waiting for the lock can deadlock
	 *  against a thread that waits for the section to end. API entries use
	 *  check() or, without a handle (get_nirq), data kept in cap_priv(). */
	pcicap_capinst_t *(*cap_inst)(pci_cap_t cap);
	/** Allocate interrupt messages with the request-type rules that MSI and
	 *  MSI-X share (decisions.md section 7): MANDATORY exactly @p want or
	 *  PCI_ERR_CAP_NIRQ; ADVISORY and UNSPECIFIED the largest count up to
	 *  @p want that the pool has (a power of two with PCICAP_IRQ_CONTIG), or
	 *  PCI_ERR_IRQ_NOT_AVAIL when it has none. *got receives the count;
	 *  out[0..*got-1] the messages. All or nothing. */
	pci_err_t (*irq_alloc_req)(const pcicap_capinst_t *ci, uint_t want, pci_reqType_t req,
				   uint_t flags, pcicap_irq_msg_t *out, uint_t *got);
	/** The Command register around message interrupts: @p on sets Bus
	 *  Master and INTx Disable and stores the previous INTx Disable in
	 *  *saved; !on restores INTx Disable from *saved and keeps Bus Master.
	 *  One read and at most one write. */
	pci_err_t (*cmd_msgs)(const pcicap_capinst_t *ci, bool on, bool *saved);
	/** Appended in ABI 1 (present when struct_size covers it): the bytes
	 *  of pcicap_capinst_t that the core fills, `access` included. */
	uint32_t capinst_size;
};

/** host->struct_size of a core that has capinst_size. */
#define PCICAP_HOST_SIZE_CAPINST (offsetof(pcicap_host_t, capinst_size) + sizeof(uint32_t))

/** Module flags. */
enum {
	/** The capability cannot be switched: enable answers
	 *  PCI_ERR_EALREADY, disable PCI_ERR_ENOTSUP, isenabled true. */
	PCICAP_MODULE_ALWAYS_ENABLED = 1u << 0,
};

/** Flags of the masking ops (pcicap_cap_module_t.mask_entry, ...). */
enum {
	PCICAP_MASK_SET = 1u << 0, /**< mask; without it, unmask */
	PCICAP_MASK_ISR = 1u << 1, /**< the _isr flavour: an unavailable device answers
				        PCI_ERR_DEV_NOT_AVAIL */
};

/** A module's description, exported as `pcicap_cap_module_entry`. */
typedef struct pcicap_cap_module {
	uint32_t struct_size; /**< sizeof(pcicap_cap_module_t) at build */
	uint32_t abi_version; /**< PCICAP_MODULE_ABI_VERSION */
	pci_capid_t capid;    /**< the capability ID it serves */
	uint8_t reserved0;
	uint16_t flags;            /**< PCICAP_MODULE_* */
	const char *name;          /**< e.g. "msi" */
	pci_version_t api_version; /**< version of its public API table */
	const void *api;           /**< the table pci_cap_t.api_p points at */
	size_t state_size;         /**< per-device state (pcicap_capinst_t.state) */
	size_t cap_priv_size;      /**< private bytes in each pci_cap_t */

	/** Optional. Called once when the capability of a device is first read
	 *  (read its read-only registers, set up state). */
	pci_err_t (*attach)(pcicap_capinst_t *ci);
	/** Optional. Called at every pci_device_read_cap() to fill the
	 *  pci_cap_t's private part. */
	pci_err_t (*read)(pcicap_capinst_t *ci, pci_cap_t cap);
	/** Mandatory. Enable with @p req (the core has checked the handle is an
	 *  owner and that the capability is not enabled). On error nothing may
	 *  have changed. */
	pci_err_t (*enable)(pcicap_capinst_t *ci, pci_devhdl_t hdl, pci_reqType_t req,
			    pci_cap_t cap);
	/** Mandatory. Disable (the core has checked it is enabled). When the
	 *  enabling handle detaches, the core calls it with @p hdl and @p cap
	 *  NULL and pci_reqType_e_UNSPECIFIED; if it fails then, forget() follows. */
	pci_err_t (*disable)(pcicap_capinst_t *ci, pci_devhdl_t hdl, pci_reqType_t req,
			     pci_cap_t cap);
	/** Optional. The core has just quiesced the device (a process became
	 *  its first owner: MSI and MSI-X enable bits cleared, MSI-X entries
	 *  masked, as the Linux PCI core does at enumeration); called for the
	 *  modules already serving the device, to reset their view of it. */
	pci_err_t (*quiesce)(pcicap_capinst_t *ci);
	/** Optional. The device was reset or removed, or a disable at detach
	 *  failed: drop enable state and release what the module holds (IRQs,
	 *  mappings) without touching registers. */
	void (*forget)(pcicap_capinst_t *ci);
	/** Optional. The instance is being destroyed. */
	void (*destroy)(pcicap_capinst_t *ci);

	/* Appended in ABI 1: the loader zero-fills what a module's struct_size
	 * does not cover, so that a module built before them has none. */

	/** Optional: the masking calls of <pci/cap_msi.h> and <pci/cap_msix.h>
	 *  on an instance the core has resolved, for the interrupt-time path.
	 *  The exported dispatcher has checked that the pci_cap_t is a valid
	 *  object of this module and that the handle is live, attached to the
	 *  capability's device (not retired) and an owner, and keeps its ISR
	 *  section open for the call, so the instance stays valid. @p flags:
	 *  PCICAP_MASK_* (second, so that the exported call's own argument
	 *  stays in its register). They follow the _isr rules (no allocation, no
	 *  sleeping lock, no system call beyond the backend's access), check
	 *  the rest of the arguments themselves, and reach the device through
	 *  the instance's pcicap_access_t. The core uses them when the module
	 *  has every one that its capability's API needs (MSI: mask_entry and
	 *  mask_bits; MSI-X: mask_entry and mask_all); otherwise it calls the
	 *  slots of the API table as before.
	 *  mask_entry: cap_msi/msix_(un)mask_irq_entry[_isr]; mask_bits:
	 *  cap_msi_(un)mask_irq[_isr]; mask_all: cap_msix_(un)mask_irq_all[_isr]. */
	pci_err_t (*mask_entry)(pcicap_capinst_t *ci, uint_t flags, uint_t entry);
	pci_err_t (*mask_bits)(pcicap_capinst_t *ci, uint_t flags, uint32_t bits);
	pci_err_t (*mask_all)(pcicap_capinst_t *ci, uint_t flags);
} pcicap_cap_module_t;

/* ---- helpers for modules (inline: nothing more to link) ---- */

/** A value that names the calling thread (never 0): its thread pointer, one
 *  register read where the compiler offers it (what pthread_self() returns
 *  with glibc on these targets), else pthread_self(). */
static inline uintptr_t pcicap_mod_self(void)
{
#if defined(__has_builtin) && (defined(__x86_64__) || defined(__aarch64__))
#if __has_builtin(__builtin_thread_pointer)
	return (uintptr_t)__builtin_thread_pointer();
#else
	return (uintptr_t)pthread_self();
#endif
#else
	return (uintptr_t)pthread_self();
#endif
}

/** A spin lock for module state that the _isr calls change. The lock word
 *  holds the owning thread (pcicap_mod_self(): no system call, no
 *  allocation), so a signal handler that re-enters a call on the same
 *  object in the same thread is told (false) instead of spinning forever.
 *  Zero is unlocked. */
static inline bool pcicap_mod_lock(uintptr_t *lock)
{
	uintptr_t me = pcicap_mod_self();
	for (;;) {
		uintptr_t seen = 0;
		if (__atomic_compare_exchange_n(lock, &seen, me, true, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		if (seen == me)
			return false;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
}

static inline void pcicap_mod_unlock(uintptr_t *lock)
{
	__atomic_store_n(lock, (uintptr_t)0, __ATOMIC_RELEASE);
}

/** host->check() for a module call, with QNX's _isr rule: from an _isr
 *  call a device that is gone is "temporarily unavailable"
 *  (PCI_ERR_DEV_NOT_AVAIL), not PCI_ERR_ENODEV. */
static inline pci_err_t pcicap_mod_check(const pcicap_host_t *host, pci_cap_t cap, pci_devhdl_t hdl,
					 bool need_owner, bool isr, pcicap_capinst_t **ci)
{
	pci_err_t err = host ? host->check(cap, hdl, need_owner, ci) : PCI_ERR_EINVAL;
	return (err == PCI_ERR_ENODEV && isr) ? PCI_ERR_DEV_NOT_AVAIL : err;
}

/** host->present() with the same _isr rule (removed or held off: both
 *  PCI_ERR_DEV_NOT_AVAIL from an _isr call). */
static inline pci_err_t pcicap_mod_available(const pcicap_host_t *host, pcicap_capinst_t *ci,
					     bool isr)
{
	pci_err_t err = host->present(ci);
	return (err != PCI_ERR_OK && isr) ? PCI_ERR_DEV_NOT_AVAIL : err;
}

/** The _isr rule for a backend's answer to present() (removed or held off:
 *  PCI_ERR_DEV_NOT_AVAIL from an _isr call). */
static inline pci_err_t pcicap_mod_present(const pcicap_access_t *a, const pcicap_capinst_t *ci,
					   bool isr)
{
	pci_err_t err = a->present(a->ctx, ci->bdf);
	return (err != PCI_ERR_OK && isr) ? PCI_ERR_DEV_NOT_AVAIL : err;
}

/* pcicap_access_t over the host services, for a core that publishes none
 * (ctx is the instance; the bdf argument is the instance's). */
static inline void pcicap_mod_le_put(void *buf, uint_t len, uint64_t v)
{
	for (uint_t i = 0; i < len; i++)
		((unsigned char *)buf)[i] = (unsigned char)(v >> (8 * i));
}
static inline uint64_t pcicap_mod_le_get(const void *buf, uint_t len)
{
	uint64_t v = 0;
	for (uint_t i = 0; i < len; i++)
		v |= (uint64_t)((const unsigned char *)buf)[i] << (8 * i);
	return v;
}
static inline pci_err_t pcicap_mod_host_present(void *ctx, pci_bdf_t bdf)
{
	const pcicap_capinst_t *ci = (const pcicap_capinst_t *)ctx;
	(void)bdf;
	return ci->host->present(ci);
}
static inline pci_err_t pcicap_mod_host_cfg_read(void *ctx, pci_bdf_t bdf, uint_t off, void *buf,
						 uint_t len)
{
	const pcicap_capinst_t *ci = (const pcicap_capinst_t *)ctx;
	uint32_t v = 0;
	pci_err_t err = ci->host->cfg_rd(ci, off, len, &v);
	(void)bdf;
	pcicap_mod_le_put(buf, len, v);
	return err;
}
static inline pci_err_t pcicap_mod_host_cfg_write(void *ctx, pci_bdf_t bdf, uint_t off,
						  const void *buf, uint_t len)
{
	const pcicap_capinst_t *ci = (const pcicap_capinst_t *)ctx;
	(void)bdf;
	return ci->host->cfg_wr(ci, off, len, (uint32_t)pcicap_mod_le_get(buf, len));
}
static inline pci_err_t pcicap_mod_host_bar_read(void *ctx, pci_bdf_t bdf, int bar, uint64_t off,
						 void *buf, uint_t len)
{
	const pcicap_capinst_t *ci = (const pcicap_capinst_t *)ctx;
	uint64_t v = 0;
	pci_err_t err = ci->host->bar_rd(ci, bar, off, len, &v);
	(void)bdf;
	pcicap_mod_le_put(buf, len, v);
	return err;
}
static inline pci_err_t pcicap_mod_host_bar_write(void *ctx, pci_bdf_t bdf, int bar, uint64_t off,
						  const void *buf, uint_t len)
{
	const pcicap_capinst_t *ci = (const pcicap_capinst_t *)ctx;
	(void)bdf;
	return ci->host->bar_wr(ci, bar, off, len, pcicap_mod_le_get(buf, len));
}

/** The access ops of instance @p ci: the core's (ci->access), or, from a
 *  core that publishes none (older than the field), @p own filled with ops
 *  over the host services. Call it at attach and keep the result (and @p own)
 *  in the instance state. Defining PCICAP_MODULE_ABI1_HEAD before including
 *  this header builds a module as one written before these fields (the
 *  entry's struct_size ends at `destroy`, the host services always): the
 *  compatibility tests do. */
static inline const pcicap_access_t *pcicap_mod_access(const pcicap_capinst_t *ci,
						       pcicap_access_t *own)
{
#ifndef PCICAP_MODULE_ABI1_HEAD
	const pcicap_host_t *h = ci->host;
	if (h->struct_size >= PCICAP_HOST_SIZE_CAPINST &&
	    h->capinst_size >= offsetof(pcicap_capinst_t, access) + sizeof(ci->access) &&
	    ci->access)
		return ci->access;
#endif
	own->ctx = (void *)(uintptr_t)ci;
	own->present = pcicap_mod_host_present;
	own->cfg_read = pcicap_mod_host_cfg_read;
	own->cfg_write = pcicap_mod_host_cfg_write;
	own->bar_read = pcicap_mod_host_bar_read;
	own->bar_write = pcicap_mod_host_bar_write;
	return own;
}

/** Smallest module struct the loader accepts (ABI 1: up to `destroy`). */
#define PCICAP_MODULE_MIN_SIZE (offsetof(pcicap_cap_module_t, destroy) + sizeof(void *))

/** Define the module's entry: PCICAP_MODULE_REGISTER(.capid = 0x05, ...). */
#ifdef PCICAP_MODULE_ABI1_HEAD
#define PCICAP_MODULE_STRUCT_SIZE PCICAP_MODULE_MIN_SIZE
#else
#define PCICAP_MODULE_STRUCT_SIZE sizeof(pcicap_cap_module_t)
#endif
#define PCICAP_MODULE_REGISTER(...)                                                                \
	__attribute__((                                                                            \
	    visibility("default"))) extern const pcicap_cap_module_t pcicap_cap_module_entry;      \
	__attribute__((visibility("default")))                                                     \
	const pcicap_cap_module_t pcicap_cap_module_entry = {                                      \
	    .struct_size = PCICAP_MODULE_STRUCT_SIZE,                                              \
	    .abi_version = PCICAP_MODULE_ABI_VERSION,                                              \
	    __VA_ARGS__}

#ifdef __cplusplus
}
#endif
#endif
