/*
 * pcicap core: device records, handles, capability instances.
 *
 * Locking: every libpci call that changes or walks core state holds
 * pcii_core_lock (a plain mutex). The access paths used by modules from
 * interrupt context (host cfg/bar access through a capability instance)
 * take no lock: records they reach stay alive while a handle or an
 * instance refers to them, and a record is freed only after
 * pcii_isr_quiesce() has seen no ISR-path call in flight.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_CORE_H
#define PCICAP_CORE_H

#include <pthread.h>
#include <stdbool.h>

#include "internal.h"

#define PCII_MAX_CAPS           48  /* 192 bytes of 4-byte-aligned caps fit in 0x40..0xff */
#define PCII_MAX_XCAPS          960 /* (4096 - 256) / 4 */
#define PCII_MAX_ATTACH_PER_DEV 256

typedef struct pcii_dev pcii_dev_t;

/* One capability of a list. */
typedef struct {
	uint16_t id;
	uint16_t off;
	uint8_t ver; /* extended capabilities */
	uint8_t len; /* bytes protected from raw writes (MSI, MSI-X), else 0 */
} pcii_capent_t;

/* A capability list as walked: entries up to where it ends or breaks. */
typedef struct {
	bool walked;
	pci_err_t err; /* PCI_ERR_EIO: the list is malformed after n entries */
	uint_t n;
	pcii_capent_t *e;
} pcii_caplist_t;
typedef struct pcii_hdl pcii_hdl_t;

/* A capability instance: public head for modules, then core fields. */
typedef struct pcii_capinst {
	pcicap_capinst_t pub;
	const pcicap_cap_module_t *mod;
	pcii_dev_t *dev;
	bool enabled;
	uint32_t enabled_by; /* handle slot index + 1 that enabled it, 0 = none */
	struct pcii_capinst *next;
} pcii_capinst_t;

/* Process-local ownership state of a device (scope NULL). */
typedef struct {
	uint_t attach_sh; /* shared attachers */
	bool attach_ex;   /* an exclusive attacher */
	uint_t owner_sh;  /* MULTI owners */
	bool owner_ex;    /* a single owner */
} pcii_localown_t;

struct pcii_dev {
	pci_bdf_t bdf;
	uint64_t uid;
	uint_t cfg_size;
	bool gone; /* no longer reported by the backend */
	/* read-only identity, cached at scan */
	uint16_t vid, did;
	pci_ccode_t ccode;
	uint8_t hdr;
	/* capability lists, walked once: standard (caps) and extended (xcaps) */
	pcii_caplist_t caps, xcaps;
	pcii_capent_t cap_store[PCII_MAX_CAPS];
	/* capability instances */
	pcii_capinst_t *insts;
	/* attachments in this process */
	uint_t nhandles, nowners;
	pcii_localown_t local;
	/* BAR size masks found by sizing through config space (a backend
	 * without bar_info): index (reg - 0x10) / 4 for BARs, 6 for the ROM */
	uint32_t bar_mask[7];
	uint8_t bar_masked; /* bit i: bar_mask[i] is known */
	/* identity read successfully (a device held off at scan is retried) */
	bool identified;
	/* a disable failed and left MSI/MSI-X state behind: quiesce again */
	bool needs_quiesce;
	/* IRQs reported by pci_device_read_irq(), in slot order */
	pci_irq_t *irqs;
	uint_t nirqs;
	/* BAR memory for pcicap_bar_read/write: sizes (bit i of bar_sized:
	 * bar_size[i] known) and the MSI-X table and PBA windows they guard */
	uint64_t bar_size[6];
	uint8_t bar_sized;
	bool msix_win_known;
	int msix_win_bar[2]; /* table, PBA; -1: none */
	uint64_t msix_win_off[2], msix_win_len[2];
};

struct pcii_hdl {
	_Atomic uint32_t gen; /* odd: live */
	pcii_dev_t *dev;
	pci_attachFlags_t flags;
	bool owner;
	int lock_fd; /* cross-process lock file, -1 for process-local scope */
};

/* ---- core.c / device.c ---- */
extern PCII_HIDDEN pthread_mutex_t pcii_core_lock;
extern PCII_HIDDEN const pcicap_backend_t *pcii_be;
extern PCII_HIDDEN void *pcii_be_ctx;

/* Make sure a backend is up and the device table current. Lock held. */
pci_err_t pcii_ready(void);
/* Device by BDF (lock held; refreshes the table when the backend's
 * generation changed). NULL when none. */
pcii_dev_t *pcii_dev_find(pci_bdf_t bdf);
/* Device plus availability check: PCI_ERR_ENODEV, PCI_ERR_DEV_NOT_AVAIL. */
pci_err_t pcii_dev_get(pci_bdf_t bdf, pcii_dev_t **dev);
pci_err_t pcii_dev_present(const pcii_dev_t *dev);
/* The idx-th device of the current table, in BDF order (lock held). */
pcii_dev_t *pcii_dev_at(size_t idx);
/* Handle lookup (lock held or not: lock-free read). NULL if invalid. */
pcii_hdl_t *pcii_hdl_get(pci_devhdl_t h);
/* The same, with the slot's generation as it matched: while h->gen still
 * holds *gen_seen the handle is the same live attachment. */
pcii_hdl_t *pcii_hdl_get_gen(pci_devhdl_t h, uint32_t *gen_seen);
uint32_t pcii_hdl_slot(const pcii_hdl_t *h);
/* Handle + live device; err receives EINVAL / ENODEV. */
pcii_hdl_t *pcii_hdl_dev(pci_devhdl_t h, pci_err_t *err);
/* An owner handle whose device is present: EINVAL, ENODEV, NOT_OWNER,
 * DEV_NOT_AVAIL otherwise. Either output may be NULL. Lock held. */
pci_err_t pcii_owner_get(pci_devhdl_t h, pcii_hdl_t **hp, pcii_dev_t **devp);

/* Backend access, width 1/2/4, bounds and alignment checked by callers. */
pci_err_t pcii_cfg_read(const pcii_dev_t *dev, uint_t off, uint_t width, uint32_t *val);
pci_err_t pcii_cfg_write(const pcii_dev_t *dev, uint_t off, uint_t width, uint32_t val);

/* ---- backend.c ---- */
pci_err_t pcii_backend_select(const char *name);
/* The selected backend's access ops for the modules (pcicap_capinst_t.access),
 * set with the backend, the ops it lacks filled in. */
extern PCII_HIDDEN pcicap_access_t pcii_access;

/* ---- owner.c ---- */
pci_err_t pcii_own_acquire(pcii_dev_t *dev, pcii_hdl_t *h, pci_attachFlags_t flags);
void pcii_own_release(pcii_dev_t *dev, pcii_hdl_t *h);
/* Whether an owner other than @h (in any process) holds the device; call
 * before counting @h in dev->nowners. */
bool pcii_own_others(pcii_dev_t *dev, pcii_hdl_t *h);
/* Whether @h is the only attachment of its device in every process. */
bool pcii_own_sole(pcii_dev_t *dev, pcii_hdl_t *h);

/* ---- caps.c ---- */
/* Walk (once) and return the standard or extended list; the error is the
 * list's own (OK or EIO) or the access error that stopped the walk. */
pci_err_t pcii_caps_walk(pcii_dev_t *dev);
pci_err_t pcii_xcaps_walk(pcii_dev_t *dev);
/* Config offset of the first standard capability @id, or -1. */
int pcii_cap_find(pcii_dev_t *dev, pci_capid_t id);
pcii_capinst_t *pcii_inst_find(pcii_dev_t *dev, uint_t offset);
/* Disable every capability @h enabled (detach). */
void pcii_caps_release_handle(pcii_dev_t *dev, pcii_hdl_t *h);
/* Quiesce MSI/MSI-X state left by earlier users (first owner attach). */
void pcii_caps_quiesce(pcii_dev_t *dev);
/* Device reset or gone: modules forget their state. */
void pcii_caps_forget(pcii_dev_t *dev);
void pcii_caps_free(pcii_dev_t *dev);
extern PCII_HIDDEN const pcicap_host_t pcii_host;
/* The module behind a valid capability object of @capid, with the caller's
 * API @version stamped in the object; NULL otherwise. Lock-free: call it
 * inside pcii_isr_enter/exit. */
const pcicap_cap_module_t *pcii_cap_mod(pci_cap_t cap, pci_capid_t capid, pci_version_t version);
/* host->check() for an object pcii_cap_mod() has just accepted, in the same
 * ISR section: PCI_ERR_EINVAL, PCI_ERR_NOT_OWNER, PCI_ERR_ENODEV. */
pci_err_t pcii_cap_check(pci_cap_t cap, pci_devhdl_t hdl, bool need_owner, pcicap_capinst_t **ci);
/* The capability object that this thread's dispatcher has validated for the
 * module call it is making, inside its ISR section (NULL: none). The
 * dispatcher sets it around the call and puts back what was there (a signal
 * handler's call nests), so host->check() of that call needs no second
 * lookup. Initial-exec TLS: one register-relative access, no allocation. */
extern PCII_HIDDEN __thread pci_cap_t pcii_isr_cap __attribute__((tls_model("initial-exec")));

/* ---- loader.c ---- */
pci_err_t pcii_module_get(pci_capid_t capid, uint16_t vid, uint16_t did,
			  const pcicap_cap_module_t **mod);

/* ---- resources.c ---- */
void pcii_irqs_clear(pcii_dev_t *dev);
/* Describe BAR @bar (0..5, -1 = ROM): backend bar_info or config sizing. */
pci_err_t pcii_bar_info(pcii_dev_t *dev, int bar, pci_ba_t *ba);

/* ---- ISR-path quiescence ---- */
/* Readers count themselves in the counter of the current epoch; a freeing
 * thread flips the epoch and waits for the old counter only, so a steady
 * stream of overlapping ISR-path calls cannot starve it (each call ends,
 * and new ones count in the new epoch). All seq_cst: a freeing thread that
 * unpublished a record and then sees the old counter at zero cannot race
 * with a reader that loaded the record. */
extern PCII_HIDDEN _Atomic unsigned pcii_isr_epoch;
extern PCII_HIDDEN _Atomic int pcii_isr_count[2];
/* The counter an ISR-path call counts itself in, from pcii_isr_enter() to
 * pcii_isr_exit(). */
typedef _Atomic int *pcii_isr_t;
static inline pcii_isr_t pcii_isr_enter(void)
{
	for (;;) {
		unsigned e = atomic_load(&pcii_isr_epoch);
		pcii_isr_t c = &pcii_isr_count[e & 1];
		atomic_fetch_add(c, 1);
		if (__builtin_expect(atomic_load(&pcii_isr_epoch) == e, 1))
			return c;
		atomic_fetch_sub(c, 1); /* flipped meanwhile: again */
	}
}
static inline void pcii_isr_exit(pcii_isr_t c)
{
	atomic_fetch_sub(c, 1);
}
/* Wait until every ISR-path call that began before now has ended. Called
 * with the core lock held, after unpublishing what is to be freed. */
void pcii_isr_quiesce(void);

/* ---- what a validated (pci_cap_t, handle) pair stands on ----
 * The dispatchers' masking calls remember, per thread, the last pair they
 * validated with the instance it resolved to and the value of this counter
 * then (lib/dispatch.c). The counter starts at 1 and moves after anything
 * that can make such a pair invalid or resolve differently: a handle
 * detached, a device retired, a pci_cap_t registered, destroyed or read
 * again in place. Always moved after the change (and before any
 * pcii_isr_quiesce() that precedes freeing what the pair reached), under
 * the core lock. */
extern PCII_HIDDEN _Atomic uint64_t pcii_bind_gen;
static inline void pcii_bind_changed(void)
{
	atomic_fetch_add(&pcii_bind_gen, 1);
}

#endif
