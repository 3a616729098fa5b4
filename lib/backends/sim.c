/*
 * The "sim" backend: simulated PCI functions that behave like hardware.
 *
 * Each device is a config-space image with a per-byte write mask and RW1C
 * mask (the register semantics), a model of its BARs (sizing, backing
 * memory holding the MSI-X table and PBA), of its MSI/MSI-X/PCIe
 * capabilities (pending bits, delivery, function level reset) and fault
 * injection state. Interrupt messages are routed to a pool of IRQs, each
 * with a lazily created eventfd. docs/simulator.md describes the behaviour.
 *
 * Locking:
 *  - g.mu (pthread mutex): structural calls (add, clear, load, IRQ pool).
 *  - dev->lock (spin lock): the device's registers and BAR memory; taken by
 *    the access ops, which never allocate, never sleep and make no system
 *    call except the eventfd write of a delivery (done after unlocking).
 *  - slot->lock (spin lock): one IRQ's state against deliveries.
 *  Device lookup is a three-level radix tree of atomic pointers, filled
 *  under g.mu and read without any lock; nodes and devices are only freed
 *  by pcicap_sim_clear() and fini.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* mmap flags, strdup, strtok_r, eventfd */
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pcicap/sim.h>

#include "internal.h"
#include "sim_internal.h"

/* ------------------------------------------------------------------ model */

enum { BK_NONE, BK_MEM32, BK_MEM64, BK_MEM64_HI, BK_IO };

/* BAR memory: calloc() up to this size, anonymous mmap() above it (pages
 * only materialise when touched); never more than BAR_BACKING_MAX bytes are
 * backed (beyond: reads 0, writes dropped). */
#define BAR_CALLOC_MAX  (64u << 10)
#define BAR_BACKING_MAX (1ull << 30)

/* Command register bits a driver can write: I/O, Memory, Bus Master,
 * Special Cycles, MWI, VGA snoop, Parity Error Response, SERR#, Fast
 * back-to-back, INTx Disable. */
#define CMD_WMASK  0x077Fu
/* Status: Master Data Parity Error (8) and bits 15..11 are RW1C. */
#define STATUS_W1C 0xF900u

#define MSIX_MAX    2048u
#define FLUSH_BATCH 32u

struct sim_bar {
	uint8_t kind;
	bool prefetch;
	bool mapped; /* backing from mmap() */
	uint64_t size;
	uint64_t backing; /* bytes of mem */
	uint8_t *mem;
};

struct sim_log {
	size_t cap;
	size_t n;
	pcicap_sim_access_t e[];
};

struct sim_dev {
	pci_bdf_t bdf;
	uint64_t uid;
	uint_t cfg_size;
	pci_cs_t cs;

	/* fault injection, counters: atomics, no lock */
	atomic_bool removed, held;
	_Atomic uint64_t fail_k, remove_k;
	atomic_int fail_err;
	_Atomic uint64_t n_cfg_r, n_cfg_w, n_bar_r, n_bar_w, n_irq, n_stray;

	pcii_spin_t lock; /* everything below */
	struct sim_log *log;

	struct sim_bar bar[6];
	uint16_t rom_off; /* 0x30 / 0x38, 0 = no ROM */
	uint32_t rom_size;
	uint16_t msi_off, msix_off, pcie_off, pm_off;
	uint8_t msi_mmc; /* capable vectors: 1..32 */
	bool msi_64, msi_pvm;
	uint16_t msix_n;
	uint8_t msix_tbir, msix_pbir;
	uint32_t msix_toff, msix_poff;
	bool msix_table_ok, msix_pba_ok; /* backed by BAR memory */
	bool flr;

	uint32_t msi_pend;   /* internal pending flags (MSI) */
	uint32_t msix_npend; /* number of bits set in msix_pend */
	uint64_t *msix_pend; /* internal pending flags (MSI-X), msix_n bits */

	uint8_t *reset_img; /* power-on image, reset_len bytes, rest zero */
	uint_t reset_len;

	uint8_t wmask[PCII_CFG_SIZE];
	uint8_t w1c[PCII_CFG_SIZE];
	uint8_t ext_ro[(PCII_CFG_SIZE_EXT - PCII_CFG_SIZE) / 32]; /* RO dwords of 0x100.. */
	uint8_t cfg[];
};

/* ---------------------------------------------------------------- globals */

struct radix_leaf {
	_Atomic(struct sim_dev *) dev[256];
};
struct radix_mid {
	_Atomic(struct radix_leaf *) leaf[4096];
};

struct irq_slot {
	pcii_spin_t lock;
	bool allocated, addr64, mark;
	uint64_t owner_uid;
	uint64_t fired;
	int efd_p1;           /* eventfd + 1; 0 = none yet */
	atomic_uint inflight; /* deliveries writing to the eventfd */
};

static struct {
	pthread_mutex_t mu;
	struct sim_dev **devs;
	size_t ndevs, cap;
	uint_t irqs_held;
	bool config_loaded;
	char **old_scopes;
	size_t nold_scopes;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

static _Atomic(struct radix_mid *) g_root[4096];
static _Atomic uint64_t g_generation;
static _Atomic uint64_t g_uid;
static _Atomic(char *) g_scope;
static atomic_uint g_pool = PCII_SIM_IRQS_DEFAULT;
static struct irq_slot g_irq[PCII_SIM_IRQS_MAX];

/* ---------------------------------------------------------------- helpers */

static inline uint32_t rd16(const uint8_t *p)
{
	return pcii_le_get(p, 2);
}
static inline uint32_t rd32(const uint8_t *p)
{
	return pcii_le_get(p, 4);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static uint64_t next_pow2(uint64_t v)
{
	uint64_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

static uint64_t low_bit(uint64_t v)
{
	return v & (~v + 1);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static struct sim_dev *sim_find(pci_bdf_t bdf)
{
	struct radix_mid *m = atomic_load_explicit(&g_root[bdf >> 20], memory_order_acquire);
	if (!m)
		return NULL;
	struct radix_leaf *l =
	    atomic_load_explicit(&m->leaf[(bdf >> 8) & 0xFFF], memory_order_acquire);
	if (!l)
		return NULL;
	return atomic_load_explicit(&l->dev[bdf & 0xFF], memory_order_acquire);
}

/* Make sure the radix nodes for @p bdf exist (under g.mu). */
static bool radix_prepare(pci_bdf_t bdf)
{
	struct radix_mid *m = atomic_load(&g_root[bdf >> 20]);
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return false;
		atomic_store_explicit(&g_root[bdf >> 20], m, memory_order_release);
	}
	struct radix_leaf *l = atomic_load(&m->leaf[(bdf >> 8) & 0xFFF]);
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return false;
		atomic_store_explicit(&m->leaf[(bdf >> 8) & 0xFFF], l, memory_order_release);
	}
	return true;
}

static void radix_set(pci_bdf_t bdf, struct sim_dev *d)
{
	struct radix_mid *m = atomic_load(&g_root[bdf >> 20]);
	struct radix_leaf *l = atomic_load(&m->leaf[(bdf >> 8) & 0xFFF]);
	atomic_store_explicit(&l->dev[bdf & 0xFF], d, memory_order_release);
}

static void radix_free_all(void)
{
	for (size_t i = 0; i < PCII_ARRAY_SIZE(g_root); i++) {
		struct radix_mid *m = atomic_exchange(&g_root[i], NULL);
		if (!m)
			continue;
		for (size_t j = 0; j < PCII_ARRAY_SIZE(m->leaf); j++)
			free(atomic_load(&m->leaf[j]));
		free(m);
	}
}

/* --------------------------------------------------- declarative devices */

PCICAP_EXPORT void pcicap_sim_device_init(pcicap_sim_device_t *d)
{
	if (!d)
		return;
	memset(d, 0, sizeof(*d));
	d->vid = 0x1234;
	d->did = 0x0001;
	d->ccode = 0xFF0000;
	d->bar[0].kind = PCICAP_SIM_BAR_MEM32;
	d->bar[0].size = 4096;
}

/* One BAR of a declarative device, by value. */
struct bar_desc {
	pcicap_sim_bar_kind_t kind;
	uint64_t size;
	bool prefetch;
	uint64_t addr;
};

static struct bar_desc desc_bar(const pcicap_sim_device_t *d, unsigned i)
{
	struct bar_desc b = {d->bar[i].kind, d->bar[i].size, d->bar[i].prefetch, d->bar[i].addr};
	return b;
}

static bool bar_is_mem(const pcicap_sim_device_t *d, unsigned i)
{
	if (i > 5)
		return false;
	if (i > 0 && d->bar[i - 1].kind == PCICAP_SIM_BAR_MEM64)
		return false; /* upper half */
	return d->bar[i].kind == PCICAP_SIM_BAR_MEM32 || d->bar[i].kind == PCICAP_SIM_BAR_MEM64;
}

pci_err_t pcii_sim_check_desc(const pcicap_sim_device_t *d, const char **why)
{
#define BAD(msg)                                                                                   \
	do {                                                                                       \
		*why = (msg);                                                                      \
		return PCI_ERR_EINVAL;                                                             \
	} while (0)
	if (d->hdr_type > 1)
		BAD("header type must be 0 (endpoint) or 1 (bridge)");
	if (d->ccode > 0xFFFFFF)
		BAD("class code has more than 24 bits");
	if (d->flr && !d->pcie)
		BAD("flr needs pcie");
	unsigned nbars = d->hdr_type ? 2 : 6;
	for (unsigned i = 0; i < 6; i++) {
		const struct bar_desc b = desc_bar(d, i);
		if (b.kind == PCICAP_SIM_BAR_NONE)
			continue;
		if (i > 0 && d->bar[i - 1].kind == PCICAP_SIM_BAR_MEM64)
			BAD("a 64-bit BAR takes the next BAR too");
		if (i >= nbars)
			BAD("a bridge has BARs 0 and 1 only");
		if (b.kind > PCICAP_SIM_BAR_IO)
			BAD("unknown BAR kind");
		if (!is_pow2(b.size))
			BAD("BAR size must be a power of two");
		if (b.addr & (b.size - 1))
			BAD("BAR address must be aligned to its size");
		switch (b.kind) {
		case PCICAP_SIM_BAR_IO:
			if (b.size < 4 || b.size > 256)
				BAD("I/O BAR size must be 4..256");
			if (b.prefetch)
				BAD("an I/O BAR cannot be prefetchable");
			if (b.addr + b.size > (1ull << 32))
				BAD("I/O BAR address beyond 4 GiB");
			break;
		case PCICAP_SIM_BAR_MEM32:
			if (b.size < 16 || b.size > (1ull << 31))
				BAD("32-bit memory BAR size must be 16 bytes..2 GiB");
			if (b.addr + b.size > (1ull << 32))
				BAD("32-bit memory BAR address beyond 4 GiB");
			break;
		case PCICAP_SIM_BAR_MEM64:
			if (i + 1 >= nbars)
				BAD("a 64-bit BAR cannot be the last BAR");
			if (b.size < 16 || b.size > (1ull << 40))
				BAD("64-bit memory BAR size must be 16 bytes..1 TiB");
			if (b.addr + b.size < b.addr)
				BAD("BAR address overflows");
			break;
		default: break;
		}
	}
	switch (d->msi.vectors) {
	case 0:
	case 1:
	case 2:
	case 4:
	case 8:
	case 16:
	case 32: break;
	default: BAD("MSI vectors must be 1, 2, 4, 8, 16 or 32");
	}
	if (d->msix.entries) {
		uint64_t n = d->msix.entries;
		if (n > MSIX_MAX)
			BAD("MSI-X entries must be 1..2048");
		if (!bar_is_mem(d, d->msix.table_bir))
			BAD("MSI-X table BIR does not name a memory BAR");
		if (!bar_is_mem(d, d->msix.pba_bir))
			BAD("MSI-X PBA BIR does not name a memory BAR");
		if ((d->msix.table_off & 7) || (d->msix.pba_off & 7))
			BAD("MSI-X table and PBA offsets must be 8-byte aligned");
		uint64_t tlen = 16 * n, plen = 8 * ((n + 63) / 64);
		if (d->msix.table_off + tlen > d->bar[d->msix.table_bir].size)
			BAD("MSI-X table does not fit in its BAR");
		if (d->msix.pba_off + plen > d->bar[d->msix.pba_bir].size)
			BAD("MSI-X PBA does not fit in its BAR");
		if (d->msix.table_bir == d->msix.pba_bir &&
		    ranges_overlap(d->msix.table_off, tlen, d->msix.pba_off, plen))
			BAD("MSI-X table and PBA overlap");
	}
	return PCI_ERR_OK;
#undef BAD
}

/* Capability layout of a declarative device. */
#define DESC_CAP_START 0x40u
#define PCIE_CAP_LEN   0x3Cu

/* Build the power-on config image of @p d into @p cfg (zeroed, 4096 bytes). */
static uint_t build_image(const pcicap_sim_device_t *d, uint8_t *cfg)
{
	pcii_le_put(cfg + 0x00, 2, d->vid);
	pcii_le_put(cfg + 0x02, 2, d->did);
	cfg[0x08] = d->revid;
	pcii_le_put(cfg + 0x09, 3, d->ccode);
	cfg[0x0E] = (uint8_t)(d->hdr_type | (d->multifunction ? 0x80 : 0));
	unsigned nbars = d->hdr_type ? 2 : 6;
	for (unsigned i = 0; i < nbars; i++) {
		const struct bar_desc b = desc_bar(d, i);
		uint8_t *r = cfg + PCII_CFG_BAR0 + 4 * i;
		switch (b.kind) {
		case PCICAP_SIM_BAR_IO: pcii_le_put(r, 4, (uint32_t)b.addr | 1u); break;
		case PCICAP_SIM_BAR_MEM32:
			pcii_le_put(r, 4, (uint32_t)b.addr | (b.prefetch ? 8u : 0u));
			break;
		case PCICAP_SIM_BAR_MEM64:
			pcii_le_put(r, 4, (uint32_t)b.addr | 4u | (b.prefetch ? 8u : 0u));
			pcii_le_put(r + 4, 4, b.addr >> 32);
			i++;
			break;
		default: break;
		}
	}
	if (d->hdr_type == 0) {
		pcii_le_put(cfg + PCII_CFG_SSVID, 2, d->ssvid);
		pcii_le_put(cfg + PCII_CFG_SSID, 2, d->ssid);
	}
	cfg[0x3D] = 1; /* INTA# */

	uint_t pos = DESC_CAP_START;
	uint8_t *prev_next = cfg + PCII_CFG_CAPPTR;
	if (d->pcie) {
		uint8_t *c = cfg + pos;
		c[0] = PCII_CAPID_PCIE;
		unsigned type = d->hdr_type ? 4u /* root port */ : 0u /* endpoint */;
		uint32_t caps = 2u | (type << 4);
		if (d->hdr_type && PCI_SLOT(d->chassis_slot))
			caps |= 1u << 8; /* slot implemented */
		pcii_le_put(c + 2, 2, caps);
		pcii_le_put(c + 4, 4, d->flr ? (1u << 28) : 0u); /* DevCap */
		pcii_le_put(c + 8, 2, 0x2010);                   /* DevCtl: MRRS 512, RO */
		pcii_le_put(c + 0x0C, 4, 0x11);                  /* LnkCap: 2.5GT/s x1 */
		pcii_le_put(c + 0x12, 2, 0x11);                  /* LnkSta: 2.5GT/s x1 */
		if (caps & (1u << 8))
			pcii_le_put(c + 0x14, 4, (uint32_t)PCI_SLOT(d->chassis_slot) << 19);
		*prev_next = (uint8_t)pos;
		prev_next = c + 1;
		pos += PCIE_CAP_LEN + 4; /* 0x40 */
	}
	if (d->msi.vectors) {
		uint8_t *c = cfg + pos;
		c[0] = PCII_CAPID_MSI;
		unsigned mmc = 0;
		while ((1u << mmc) < d->msi.vectors)
			mmc++;
		uint16_t ctrl = (uint16_t)(mmc << 1);
		if (d->msi.addr64)
			ctrl |= 0x80;
		if (d->msi.maskable)
			ctrl |= 0x100;
		pcii_le_put(c + 2, 2, ctrl);
		*prev_next = (uint8_t)pos;
		prev_next = c + 1;
		pos += 24;
	}
	if (d->msix.entries) {
		uint8_t *c = cfg + pos;
		c[0] = PCII_CAPID_MSIX;
		pcii_le_put(c + 2, 2, d->msix.entries - 1);
		pcii_le_put(c + 4, 4, d->msix.table_off | d->msix.table_bir);
		pcii_le_put(c + 8, 4, d->msix.pba_off | d->msix.pba_bir);
		*prev_next = (uint8_t)pos;
		prev_next = c + 1;
		pos += 12;
	}
	if (pos != DESC_CAP_START)
		cfg[PCII_CFG_STATUS] |= PCII_STATUS_CAPLIST;
	return d->pcie ? PCII_CFG_SIZE_EXT : PCII_CFG_SIZE;
}

/* ------------------------------------------------------ register semantics */

static void set_wmask(struct sim_dev *d, uint_t off, uint_t len, uint32_t mask)
{
	for (uint_t i = 0; i < len; i++)
		if (off + i < PCII_CFG_SIZE)
			d->wmask[off + i] = (uint8_t)(mask >> (8 * i));
}

static void set_w1c(struct sim_dev *d, uint_t off, uint_t len, uint32_t mask)
{
	for (uint_t i = 0; i < len; i++)
		if (off + i < PCII_CFG_SIZE)
			d->w1c[off + i] = (uint8_t)(mask >> (8 * i));
}

static bool ext_is_ro(const struct sim_dev *d, uint_t off)
{
	uint_t dw = (off - PCII_CFG_SIZE) / 4;
	return d->ext_ro[dw / 8] & (1u << (dw % 8));
}

static void ext_set_ro(struct sim_dev *d, uint_t off)
{
	uint_t dw = (off - PCII_CFG_SIZE) / 4;
	d->ext_ro[dw / 8] |= (uint8_t)(1u << (dw % 8));
}

typedef struct {
	uint_t off;
	uint8_t id;
} cap_ent_t;

/* Walk the standard capability list defensively (visited map, bounds, id
 * 0xff stops). */
static unsigned walk_caps(const uint8_t *cfg, cap_ent_t *out, unsigned max)
{
	if (!(rd16(cfg + PCII_CFG_STATUS) & PCII_STATUS_CAPLIST))
		return 0;
	bool seen[PCII_CFG_SIZE] = {false};
	unsigned n = 0;
	uint_t p = cfg[PCII_CFG_CAPPTR] & 0xFC;
	while (p >= PCII_CFG_DEVSPEC && p < PCII_CFG_SIZE && !seen[p] && n < max) {
		seen[p] = true;
		if (cfg[p] == 0xFF)
			break;
		out[n].off = p;
		out[n].id = cfg[p];
		n++;
		p = cfg[p + 1] & 0xFC;
	}
	return n;
}

static uint_t msi_data_off(const struct sim_dev *d)
{
	return d->msi_off + (d->msi_64 ? 0xC : 0x8);
}
static uint_t msi_mask_off(const struct sim_dev *d)
{
	return d->msi_off + (d->msi_64 ? 0x10 : 0xC);
}

static uint32_t msi_vec_mask(unsigned n)
{
	return n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1;
}

/* Masks of the capabilities found in the image. */
static void setup_caps(struct sim_dev *d)
{
	cap_ent_t caps[64];
	unsigned nc = walk_caps(d->cfg, caps, PCII_ARRAY_SIZE(caps));
	for (unsigned k = 0; k < nc; k++) {
		uint_t o = caps[k].off;
		set_wmask(d, o, 2, 0); /* ID and next pointer */
		switch (caps[k].id) {
		case PCII_CAPID_PM:
			if (d->pm_off)
				break;
			d->pm_off = (uint16_t)o;
			set_wmask(d, o + 2, 2, 0);      /* PMC */
			set_wmask(d, o + 4, 2, 0x0103); /* PMCSR: power state, PME_En */
			set_w1c(d, o + 4, 2, 0x8000);   /* PME_Status */
			set_wmask(d, o + 6, 2, 0);
			break;
		case PCII_CAPID_MSI: {
			if (d->msi_off || o + 10 > PCII_CFG_SIZE)
				break;
			uint16_t ctrl = (uint16_t)rd16(d->cfg + o + 2);
			if (o + pcii_msi_cap_len(ctrl) > PCII_CFG_SIZE)
				break;
			d->msi_off = (uint16_t)o;
			d->msi_64 = ctrl & 0x80;
			d->msi_pvm = ctrl & 0x100;
			unsigned mmc = (ctrl >> 1) & 7;
			d->msi_mmc = (uint8_t)(1u << (mmc > 5 ? 5 : mmc));
			set_wmask(d, o + 2, 2, 0x0071); /* enable, MME */
			set_wmask(d, o + 4, 4, 0xFFFFFFFC);
			if (d->msi_64)
				set_wmask(d, o + 8, 4, 0xFFFFFFFF);
			set_wmask(d, msi_data_off(d), 2, 0xFFFF);
			if (d->msi_pvm) {
				set_wmask(d, msi_data_off(d) + 2, 2, 0); /* extended data: RO 0 */
				set_wmask(d, msi_mask_off(d), 4, msi_vec_mask(d->msi_mmc));
				set_wmask(d, msi_mask_off(d) + 4, 4, 0); /* pending: RO */
			}
			break;
		}
		case PCII_CAPID_MSIX:
			if (d->msix_off || o + PCII_MSIX_CAP_LEN > PCII_CFG_SIZE)
				break;
			d->msix_off = (uint16_t)o;
			d->msix_n = (uint16_t)((rd16(d->cfg + o + 2) & 0x7FF) + 1);
			d->msix_tbir = d->cfg[o + 4] & 7;
			d->msix_toff = rd32(d->cfg + o + 4) & ~7u;
			d->msix_pbir = d->cfg[o + 8] & 7;
			d->msix_poff = rd32(d->cfg + o + 8) & ~7u;
			set_wmask(d, o + 2, 2, 0xC000); /* enable, function mask */
			set_wmask(d, o + 4, 4, 0);
			set_wmask(d, o + 8, 4, 0);
			break;
		case PCII_CAPID_PCIE: {
			if (d->pcie_off || o + 0x24 > PCII_CFG_SIZE)
				break;
			d->pcie_off = (uint16_t)o;
			unsigned ver = rd16(d->cfg + o + 2) & 0xF;
			d->flr = rd32(d->cfg + o + 4) & (1u << 28);
			set_wmask(d, o + 2, 2, 0);      /* PCIe capabilities */
			set_wmask(d, o + 4, 4, 0);      /* DevCap */
			set_wmask(d, o + 8, 2, 0x7FFF); /* DevCtl; bit 15 = Initiate FLR */
			set_wmask(d, o + 0x0A, 2, 0);   /* DevSta */
			set_w1c(d, o + 0x0A, 2, 0x000F);
			set_wmask(d, o + 0x0C, 4, 0);      /* LnkCap */
			set_wmask(d, o + 0x10, 2, 0xFFFF); /* LnkCtl */
			set_wmask(d, o + 0x12, 2, 0);      /* LnkSta */
			set_wmask(d, o + 0x14, 4, 0);      /* SltCap */
			set_wmask(d, o + 0x18, 2, 0xFFFF); /* SltCtl */
			set_wmask(d, o + 0x1A, 2, 0);      /* SltSta */
			set_wmask(d, o + 0x1C, 2, 0xFFFF); /* RootCtl */
			set_wmask(d, o + 0x1E, 2, 0);      /* RootCap */
			set_wmask(d, o + 0x20, 4, 0);      /* RootSta */
			if (ver >= 2 && o + PCIE_CAP_LEN <= PCII_CFG_SIZE) {
				set_wmask(d, o + 0x24, 4, 0);      /* DevCap2 */
				set_wmask(d, o + 0x28, 2, 0xFFFF); /* DevCtl2 */
				set_wmask(d, o + 0x2A, 2, 0);
				set_wmask(d, o + 0x2C, 4, 0);      /* LnkCap2 */
				set_wmask(d, o + 0x30, 2, 0xFFFF); /* LnkCtl2 */
				set_wmask(d, o + 0x32, 2, 0);
				set_wmask(d, o + 0x34, 4, 0);      /* SltCap2 */
				set_wmask(d, o + 0x38, 2, 0xFFFF); /* SltCtl2 */
				set_wmask(d, o + 0x3A, 2, 0);
			}
			break;
		}
		default: break; /* body stays plain RW */
		}
	}
	/* capability headers stay RO even where a broken list overlaps them
	 * with another capability's body */
	for (unsigned k = 0; k < nc; k++)
		set_wmask(d, caps[k].off, 2, 0);
	if (d->cfg_size > PCII_CFG_SIZE) {
		bool seen[(PCII_CFG_SIZE_EXT - PCII_CFG_SIZE) / 4] = {false};
		uint_t p = PCII_CFG_SIZE;
		ext_set_ro(d, p);
		while (p >= PCII_CFG_SIZE && p < PCII_CFG_SIZE_EXT &&
		       !seen[(p - PCII_CFG_SIZE) / 4]) {
			seen[(p - PCII_CFG_SIZE) / 4] = true;
			uint32_t h = rd32(d->cfg + p);
			if (h == 0 || h == 0xFFFFFFFF)
				break;
			ext_set_ro(d, p);
			p = (h >> 20) & 0xFFC;
		}
	}
}

/* Header masks and BAR masks. */
static void setup_header(struct sim_dev *d)
{
	unsigned ht = d->cfg[PCII_CFG_HDRTYPE] & 0x7F;
	memset(d->wmask, 0, PCII_CFG_DEVSPEC);
	memset(d->w1c, 0, PCII_CFG_DEVSPEC);
	set_wmask(d, PCII_CFG_CMD, 2, CMD_WMASK);
	set_w1c(d, PCII_CFG_STATUS, 2, STATUS_W1C);
	set_wmask(d, PCII_CFG_CLSIZE, 2, 0xFFFF); /* cache line, latency timer */
	set_wmask(d, PCII_CFG_INTLINE, 1, 0xFF);
	if (ht == 1) {
		set_wmask(d, 0x18, 4, 0xFFFFFFFF); /* bus numbers, secondary latency */
		set_wmask(d, 0x1C, 2, 0xF0F0);     /* I/O base/limit */
		set_w1c(d, 0x1E, 2, STATUS_W1C);   /* secondary status */
		set_wmask(d, 0x20, 4, 0xFFF0FFF0); /* memory base/limit */
		set_wmask(d, 0x24, 4, 0xFFF0FFF0); /* prefetchable base/limit */
		if ((d->cfg[0x24] & 0xF) == 1)
			set_wmask(d, 0x28, 4, 0xFFFFFFFF), set_wmask(d, 0x2C, 4, 0xFFFFFFFF);
		if ((d->cfg[0x1C] & 0xF) == 1)
			set_wmask(d, 0x30, 4, 0xFFFFFFFF);
		set_wmask(d, 0x3E, 2, 0x0FFF); /* bridge control */
	}
	for (unsigned i = 0; i < 6; i++) {
		const struct sim_bar *b = &d->bar[i];
		uint_t r = PCII_CFG_BAR0 + 4 * i;
		uint64_t m = ~(b->size - 1);
		switch (b->kind) {
		case BK_IO: set_wmask(d, r, 4, (uint32_t)m & ~3u); break;
		case BK_MEM32: set_wmask(d, r, 4, (uint32_t)m & ~0xFu); break;
		case BK_MEM64:
			set_wmask(d, r, 4, (uint32_t)m & ~0xFu);
			set_wmask(d, r + 4, 4, (uint32_t)(m >> 32));
			break;
		default: break;
		}
	}
	if (d->rom_off)
		set_wmask(d, d->rom_off, 4, (~(d->rom_size - 1) & 0xFFFFF800u) | 1u);
}

/* BARs of a raw image (dump or pcicap_sim_add_config): sizes are not in the
 * image, so they are synthesised (docs/simulator.md). Also fixes address
 * bits below the size so that sizing reads back correctly. */
static void synth_bars(struct sim_dev *d)
{
	uint8_t *cfg = d->cfg;
	unsigned ht = cfg[PCII_CFG_HDRTYPE] & 0x7F;
	unsigned nbars = ht == 0 ? 6 : ht == 1 ? 2 : 0;
	uint64_t msix_end[6] = {0};
	if (d->msix_off) {
		uint64_t n = d->msix_n;
		if (d->msix_tbir < 6)
			msix_end[d->msix_tbir] =
			    PCII_MAX(msix_end[d->msix_tbir], d->msix_toff + 16 * n);
		if (d->msix_pbir < 6)
			msix_end[d->msix_pbir] =
			    PCII_MAX(msix_end[d->msix_pbir], d->msix_poff + 8 * ((n + 63) / 64));
	}
	for (unsigned i = 0; i < nbars; i++) {
		struct sim_bar *b = &d->bar[i];
		uint8_t *r = cfg + PCII_CFG_BAR0 + 4 * i;
		uint32_t lo = rd32(r);
		uint64_t synth = msix_end[i] ? PCII_MAX(4096u, next_pow2(msix_end[i])) : 0;
		if (lo & 1) {
			b->kind = BK_IO;
			uint32_t a = lo & ~3u;
			b->size = a ? PCII_MAX(4u, low_bit(a)) : 4;
			pcii_le_put(r, 4, (a & ~(uint32_t)(b->size - 1)) | 1u);
			continue;
		}
		bool is64 = ((lo >> 1) & 3) == 2 && i + 1 < nbars;
		uint64_t addr = (lo & ~0xFu) | (is64 ? (uint64_t)rd32(r + 4) << 32 : 0);
		uint64_t raw = lo | (is64 ? (uint64_t)rd32(r + 4) << 32 : 0);
		if (raw == 0 && !synth)
			continue; /* unimplemented */
		b->kind = is64 ? BK_MEM64 : BK_MEM32;
		b->prefetch = lo & 8;
		if (synth)
			b->size = synth;
		else
			b->size = addr ? PCII_MAX(16u, low_bit(addr)) : 16;
		if (!is64 && b->size > (1ull << 31))
			b->size = 1ull << 31;
		addr &= ~(b->size - 1);
		pcii_le_put(r, 4, (uint32_t)addr | (lo & 0xFu));
		if (is64) {
			pcii_le_put(r + 4, 4, addr >> 32);
			d->bar[++i].kind = BK_MEM64_HI;
		}
	}
	unsigned rom = ht == 0 ? 0x30 : ht == 1 ? 0x38 : 0;
	if (rom && rd32(cfg + rom)) {
		uint32_t v = rd32(cfg + rom);
		uint32_t a = v & 0xFFFFF800u;
		uint32_t size = a ? PCII_MAX(2048u, (uint32_t)low_bit(a)) : 2048;
		d->rom_off = (uint16_t)rom;
		d->rom_size = size;
		pcii_le_put(cfg + rom, 4, (a & ~(size - 1)) | (v & 1u));
	}
}

static void desc_bars(struct sim_dev *d, const pcicap_sim_device_t *desc)
{
	for (unsigned i = 0; i < 6; i++) {
		struct sim_bar *b = &d->bar[i];
		switch (desc->bar[i].kind) {
		case PCICAP_SIM_BAR_MEM32: b->kind = BK_MEM32; break;
		case PCICAP_SIM_BAR_MEM64: b->kind = BK_MEM64; break;
		case PCICAP_SIM_BAR_IO: b->kind = BK_IO; break;
		default: continue;
		}
		b->size = desc->bar[i].size;
		b->prefetch = desc->bar[i].prefetch;
		if (b->kind == BK_MEM64)
			d->bar[++i].kind = BK_MEM64_HI;
	}
}

static void free_dev(struct sim_dev *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < 6; i++) {
		struct sim_bar *b = &d->bar[i];
		if (!b->mem)
			continue;
		if (b->mapped)
			munmap(b->mem, b->backing);
		else
			free(b->mem);
	}
	free(d->msix_pend);
	free(d->reset_img);
	free(d->log);
	free(d);
}

static void msix_reset_table_locked(struct sim_dev *d)
{
	if (d->msix_table_ok) {
		uint8_t *t = d->bar[d->msix_tbir].mem + d->msix_toff;
		for (unsigned v = 0; v < d->msix_n; v++) {
			memset(t + 16 * v, 0, 16);
			t[16 * v + 12] = 1; /* masked */
		}
	}
	if (d->msix_pba_ok)
		memset(d->bar[d->msix_pbir].mem + d->msix_poff, 0, 8 * ((d->msix_n + 63u) / 64u));
	if (d->msix_pend)
		memset(d->msix_pend, 0, 8 * ((d->msix_n + 63u) / 64u));
	d->msix_npend = 0;
	d->msi_pend = 0;
}

/* Power-on image of a raw device: the image with interrupt state quiesced. */
static void sanitize_reset_image(const struct sim_dev *d, uint8_t *img)
{
	uint32_t cmd =
	    rd16(img + PCII_CFG_CMD) & ~(uint32_t)(PCII_CMD_IO | PCII_CMD_MEM | PCII_CMD_MASTER);
	pcii_le_put(img + PCII_CFG_CMD, 2, cmd);
	pcii_le_put(img + PCII_CFG_STATUS, 2, rd16(img + PCII_CFG_STATUS) & ~STATUS_W1C);
	if (d->msi_off) {
		uint_t o = d->msi_off;
		pcii_le_put(img + o + 2, 2, rd16(img + o + 2) & ~0x0071u);
		if (d->msi_pvm)
			memset(img + msi_mask_off(d), 0, 8);
	}
	if (d->msix_off) {
		uint_t o = d->msix_off;
		pcii_le_put(img + o + 2, 2, rd16(img + o + 2) & ~0xC000u);
	}
	if (d->pcie_off) {
		uint_t o = d->pcie_off;
		pcii_le_put(img + o + 0x0A, 2, rd16(img + o + 0x0A) & ~0x000Fu);
	}
}

/* Create a device from a config image; @p desc given for declarative
 * devices (BAR sizes from it), NULL for raw images. */
static pci_err_t dev_new(pci_bdf_t bdf, const uint8_t *img, uint_t len,
			 const pcicap_sim_device_t *desc, struct sim_dev **out)
{
	*out = NULL;
	struct sim_dev *d = calloc(1, sizeof(*d) + len);
	if (!d)
		return PCI_ERR_ENOMEM;
	atomic_flag_clear(&d->lock.f);
	atomic_init(&d->removed, false);
	atomic_init(&d->held, false);
	atomic_init(&d->fail_k, 0);
	atomic_init(&d->remove_k, 0);
	atomic_init(&d->fail_err, 0);
	d->bdf = bdf;
	d->cfg_size = len;
	memcpy(d->cfg, img, len);
	if (desc)
		d->cs = desc->chassis_slot;

	/* capabilities first: the MSI-X location drives BAR synthesis; the
	 * header masks (0x00..0x3f) come last */
	memset(d->wmask + PCII_CFG_DEVSPEC, 0xFF, PCII_CFG_SIZE - PCII_CFG_DEVSPEC);
	setup_caps(d);
	if (desc)
		desc_bars(d, desc);
	else
		synth_bars(d);
	setup_header(d);

	pci_err_t err = PCI_ERR_ENOMEM;
	for (unsigned i = 0; i < 6; i++) {
		struct sim_bar *b = &d->bar[i];
		if (b->kind == BK_NONE || b->kind == BK_MEM64_HI)
			continue;
		b->backing = PCII_MIN(b->size, BAR_BACKING_MAX);
		if (b->backing <= BAR_CALLOC_MAX) {
			b->mem = calloc(1, b->backing);
		} else {
			void *p = mmap(NULL, b->backing, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			b->mem = p == MAP_FAILED ? NULL : p;
			b->mapped = b->mem != NULL;
		}
		if (!b->mem)
			goto fail;
	}
	if (d->msix_off) {
		uint64_t n = d->msix_n;
		const struct sim_bar *tb = d->msix_tbir < 6 ? &d->bar[d->msix_tbir] : NULL;
		const struct sim_bar *pb = d->msix_pbir < 6 ? &d->bar[d->msix_pbir] : NULL;
		d->msix_table_ok = tb && tb->mem && d->msix_toff + 16 * n <= tb->backing;
		d->msix_pba_ok = pb && pb->mem && d->msix_poff + 8 * ((n + 63) / 64) <= pb->backing;
		d->msix_pend = calloc((n + 63) / 64, sizeof(uint64_t));
		if (!d->msix_pend)
			goto fail;
		msix_reset_table_locked(d);
	}

	/* power-on image, trimmed of trailing zeroes */
	uint8_t *ri = malloc(len);
	if (!ri)
		goto fail;
	memcpy(ri, d->cfg, len);
	if (!desc)
		sanitize_reset_image(d, ri);
	uint_t rl = len;
	while (rl > 0 && ri[rl - 1] == 0)
		rl--;
	d->reset_len = rl;
	if (rl < len) {
		uint8_t *t = realloc(ri, rl ? rl : 1);
		if (t)
			ri = t;
	}
	d->reset_img = ri;
	*out = d;
	return PCI_ERR_OK;
fail:
	free_dev(d);
	return err;
}

/* ------------------------------------------------------------- interrupts */

typedef struct {
	uint64_t addr;
	uint32_t data;
} msg_t;

static void irq_index_msg(uint_t i, bool addr64, uint64_t *addr, uint32_t *data)
{
	*addr =
	    PCII_SIM_MSG_ADDR + ((uint64_t)(i >> 5) << 12) + (addr64 ? PCII_SIM_MSG_ADDR64_BIT : 0);
	*data = PCII_SIM_MSG_DATA + (i & 0x1F);
}

/* The pool index a message would belong to, or -1. */
static long msg_index(uint64_t addr, uint32_t data, bool *addr64)
{
	if (data < PCII_SIM_MSG_DATA || data >= PCII_SIM_MSG_DATA + 32)
		return -1;
	if ((addr >> 32) > 1)
		return -1;
	*addr64 = (addr >> 32) == 1;
	uint32_t lo = (uint32_t)addr;
	if (lo < PCII_SIM_MSG_ADDR || ((lo - PCII_SIM_MSG_ADDR) & 0xFFF))
		return -1;
	long i = (long)(((lo - PCII_SIM_MSG_ADDR) >> 12) << 5) | (long)(data - PCII_SIM_MSG_DATA);
	if (i >= (long)atomic_load_explicit(&g_pool, memory_order_relaxed))
		return -1;
	return i;
}

/* Deliver one message from device @p d (no device lock held). */
static void deliver(struct sim_dev *d, uint64_t addr, uint32_t data)
{
	bool a64;
	long i = msg_index(addr, data, &a64);
	if (i >= 0) {
		struct irq_slot *s = &g_irq[i];
		int fd = -1;
		bool hit = false;
		pcii_spin_lock(&s->lock);
		if (s->allocated && s->addr64 == a64) {
			hit = true;
			s->fired++;
			fd = s->efd_p1 - 1;
			if (fd >= 0)
				atomic_fetch_add(&s->inflight, 1);
		}
		pcii_spin_unlock(&s->lock);
		if (hit) {
			atomic_fetch_add_explicit(&d->n_irq, 1, memory_order_relaxed);
			if (fd >= 0) {
				uint64_t one = 1;
				ssize_t r = write(fd, &one, sizeof(one));
				(void)r;
				atomic_fetch_sub(&s->inflight, 1);
			}
			return;
		}
	}
	atomic_fetch_add_explicit(&d->n_stray, 1, memory_order_relaxed);
}

static bool bme(const struct sim_dev *d)
{
	return d->cfg[PCII_CFG_CMD] & PCII_CMD_MASTER;
}
static bool msi_on(const struct sim_dev *d)
{
	return d->msi_off && (d->cfg[d->msi_off + 2] & 1);
}
static bool msix_on(const struct sim_dev *d)
{
	return d->msix_off && (d->cfg[d->msix_off + 3] & 0x80);
}
static bool msix_fmask(const struct sim_dev *d)
{
	return d->cfg[d->msix_off + 3] & 0x40;
}

static bool msi_masked(const struct sim_dev *d, unsigned v)
{
	return d->msi_pvm && (rd32(d->cfg + msi_mask_off(d)) & (1u << v));
}

static void msi_msg(const struct sim_dev *d, unsigned v, msg_t *m)
{
	uint_t o = d->msi_off;
	m->addr = rd32(d->cfg + o + 4);
	if (d->msi_64)
		m->addr |= (uint64_t)rd32(d->cfg + o + 8) << 32;
	uint32_t data = rd16(d->cfg + msi_data_off(d));
	unsigned mme = (d->cfg[o + 2] >> 4) & 7;
	uint32_t en = 1u << (mme > 5 ? 5 : mme);
	if (en > d->msi_mmc)
		en = d->msi_mmc;
	m->data = (data & ~(en - 1)) | (v & (en - 1));
}

static bool msix_entry_masked(const struct sim_dev *d, unsigned v)
{
	if (!d->msix_table_ok)
		return false;
	return d->bar[d->msix_tbir].mem[d->msix_toff + 16 * v + 12] & 1;
}

static void msix_msg(const struct sim_dev *d, unsigned v, msg_t *m)
{
	if (!d->msix_table_ok) {
		m->addr = 0;
		m->data = 0;
		return;
	}
	const uint8_t *e = d->bar[d->msix_tbir].mem + d->msix_toff + 16 * v;
	m->addr = rd32(e) | ((uint64_t)rd32(e + 4) << 32);
	m->data = rd32(e + 8);
}

static void msi_set_pending(struct sim_dev *d, unsigned v, bool on)
{
	if (on)
		d->msi_pend |= 1u << v;
	else
		d->msi_pend &= ~(1u << v);
	if (d->msi_pvm) {
		uint8_t *p = d->cfg + msi_mask_off(d) + 4 + v / 8;
		if (on)
			*p |= (uint8_t)(1u << (v % 8));
		else
			*p &= (uint8_t) ~(1u << (v % 8));
	}
}

static void msix_set_pending(struct sim_dev *d, unsigned v, bool on)
{
	uint64_t bit = 1ull << (v % 64);
	bool was = d->msix_pend[v / 64] & bit;
	if (on && !was) {
		d->msix_pend[v / 64] |= bit;
		d->msix_npend++;
	} else if (!on && was) {
		d->msix_pend[v / 64] &= ~bit;
		d->msix_npend--;
	}
	if (d->msix_pba_ok) {
		uint8_t *p = d->bar[d->msix_pbir].mem + d->msix_poff + v / 8;
		if (on)
			*p |= (uint8_t)(1u << (v % 8));
		else
			*p &= (uint8_t) ~(1u << (v % 8));
	}
}

/* Under the device lock: take up to FLUSH_BATCH pending vectors that are now
 * deliverable, clearing their pending bits. */
static unsigned collect_locked(struct sim_dev *d, msg_t *out)
{
	unsigned n = 0;
	if (atomic_load_explicit(&d->held, memory_order_relaxed) || !bme(d))
		return 0;
	if (d->msi_pend && msi_on(d)) {
		for (unsigned v = 0; v < 32 && n < FLUSH_BATCH; v++) {
			if (!(d->msi_pend & (1u << v)) || msi_masked(d, v))
				continue;
			msi_msg(d, v, &out[n++]);
			msi_set_pending(d, v, false);
		}
	}
	if (d->msix_npend && msix_on(d) && !msix_fmask(d)) {
		for (unsigned w = 0; w < (d->msix_n + 63u) / 64u && n < FLUSH_BATCH; w++) {
			uint64_t bits = d->msix_pend[w];
			while (bits && n < FLUSH_BATCH) {
				unsigned b = (unsigned)__builtin_ctzll(bits);
				bits &= bits - 1;
				unsigned v = w * 64 + b;
				if (msix_entry_masked(d, v))
					continue;
				msix_msg(d, v, &out[n++]);
				msix_set_pending(d, v, false);
			}
		}
	}
	return n;
}

/* Release the device lock, deliver @p m[0..n), then keep flushing while
 * batches come back full. */
static void unlock_and_deliver(struct sim_dev *d, msg_t *m, unsigned n)
{
	pcii_spin_unlock(&d->lock);
	for (;;) {
		for (unsigned i = 0; i < n; i++)
			deliver(d, m[i].addr, m[i].data);
		if (n < FLUSH_BATCH)
			return;
		pcii_spin_lock(&d->lock);
		n = collect_locked(d, m);
		pcii_spin_unlock(&d->lock);
	}
}

static void flush_pending(struct sim_dev *d)
{
	msg_t m[FLUSH_BATCH];
	pcii_spin_lock(&d->lock);
	unsigned n = collect_locked(d, m);
	unlock_and_deliver(d, m, n);
}

/* Function level reset, under the device lock. */
static void flr_locked(struct sim_dev *d)
{
	if (d->reset_len)
		memcpy(d->cfg, d->reset_img, d->reset_len);
	memset(d->cfg + d->reset_len, 0, d->cfg_size - d->reset_len);
	msix_reset_table_locked(d);
}

/* -------------------------------------------------------- access helpers */

/* Count down @p ctr (0 = disarmed); true when this access is the k-th. */
static bool countdown_hit(_Atomic uint64_t *ctr)
{
	uint64_t k = atomic_load_explicit(ctr, memory_order_acquire);
	while (k) {
		if (atomic_compare_exchange_weak(ctr, &k, k - 1))
			return k == 1;
	}
	return false;
}

static pci_err_t access_gate(struct sim_dev *d)
{
	if (atomic_load_explicit(&d->held, memory_order_acquire))
		return PCI_ERR_DEV_NOT_AVAIL;
	if (countdown_hit(&d->remove_k))
		atomic_store(&d->removed, true); /* this access already finds it gone */
	if (countdown_hit(&d->fail_k))
		return (pci_err_t)atomic_load(&d->fail_err);
	return PCI_ERR_OK;
}

static uint64_t le_val(const void *buf, uint_t len)
{
	const uint8_t *p = buf;
	uint64_t v = 0;
	for (uint_t i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void log_locked(struct sim_dev *d, pcicap_sim_access_kind_t kind, int bar, uint64_t off,
		       uint_t width, const void *buf)
{
	struct sim_log *l = d->log;
	if (!l)
		return;
	if (l->n < l->cap) {
		pcicap_sim_access_t *e = &l->e[l->n];
		e->kind = kind;
		e->bar = bar;
		e->offset = off;
		e->width = width;
		e->value = le_val(buf, width);
	}
	l->n++;
}

static bool overlaps(uint_t off, uint_t len, uint_t reg, uint_t rlen)
{
	return off < reg + rlen && reg < off + len;
}

/* ------------------------------------------------------------ backend ops */

static pci_err_t op_present(void *ctx, pci_bdf_t bdf)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d || atomic_load(&d->removed))
		return PCI_ERR_ENODEV;
	if (atomic_load(&d->held))
		return PCI_ERR_DEV_NOT_AVAIL;
	return PCI_ERR_OK;
}

static pci_err_t cfg_check(struct sim_dev *d, uint_t off, const void *buf, uint_t len)
{
	if (!buf || (len != 1 && len != 2 && len != 4) || (off & (len - 1)) ||
	    off + len > d->cfg_size)
		return PCI_ERR_EINVAL;
	return PCI_ERR_OK;
}

static pci_err_t op_cfg_read(void *ctx, pci_bdf_t bdf, uint_t off, void *buf, uint_t len)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	pci_err_t err = cfg_check(d, off, buf, len);
	if (err || (err = access_gate(d)))
		return err;
	pcii_spin_lock(&d->lock);
	if (atomic_load_explicit(&d->removed, memory_order_relaxed))
		memset(buf, 0xFF, len);
	else
		memcpy(buf, d->cfg + off, len);
	log_locked(d, PCICAP_SIM_CFG_READ, -1, off, len, buf);
	pcii_spin_unlock(&d->lock);
	atomic_fetch_add_explicit(&d->n_cfg_r, 1, memory_order_relaxed);
	return PCI_ERR_OK;
}

static pci_err_t op_cfg_write(void *ctx, pci_bdf_t bdf, uint_t off, const void *buf, uint_t len)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	pci_err_t err = cfg_check(d, off, buf, len);
	if (err || (err = access_gate(d)))
		return err;
	const uint8_t *v = buf;
	msg_t m[FLUSH_BATCH];
	unsigned n = 0;
	pcii_spin_lock(&d->lock);
	log_locked(d, PCICAP_SIM_CFG_WRITE, -1, off, len, buf);
	if (!atomic_load_explicit(&d->removed, memory_order_relaxed)) {
		for (uint_t i = 0; i < len; i++) {
			uint_t o = off + i;
			uint8_t old = d->cfg[o];
			if (o < PCII_CFG_SIZE) {
				uint8_t wm = d->wmask[o], c = d->w1c[o];
				d->cfg[o] =
				    (uint8_t)((old & ~(wm | c)) | (v[i] & wm) | (old & c & ~v[i]));
			} else if (!ext_is_ro(d, o)) {
				d->cfg[o] = v[i];
			}
		}
		if (d->pcie_off && d->flr && overlaps(off, len, d->pcie_off + 9u, 1) &&
		    (v[d->pcie_off + 9u - off] & 0x80))
			flr_locked(d);
		bool reeval = overlaps(off, len, PCII_CFG_CMD, 1);
		if (d->msi_off)
			reeval |= overlaps(off, len, d->msi_off + 2u, 1) ||
				  (d->msi_pvm && overlaps(off, len, msi_mask_off(d), 4));
		if (d->msix_off)
			reeval |= overlaps(off, len, d->msix_off + 3u, 1);
		if (reeval)
			n = collect_locked(d, m);
	}
	unlock_and_deliver(d, m, n);
	atomic_fetch_add_explicit(&d->n_cfg_w, 1, memory_order_relaxed);
	return PCI_ERR_OK;
}

static bool bar_mem_ok(const struct sim_dev *d, int bar)
{
	if (bar < 0 || bar > 5)
		return false;
	unsigned k = d->bar[bar].kind;
	return (k == BK_MEM32 || k == BK_MEM64 || k == BK_IO) && d->bar[bar].mem;
}

static pci_err_t bar_check(const struct sim_dev *d, int bar, uint64_t off, const void *buf,
			   uint_t len)
{
	if (!buf || !bar_mem_ok(d, bar) || (len != 1 && len != 2 && len != 4 && len != 8) ||
	    (off & (len - 1)) || off >= d->bar[bar].size || len > d->bar[bar].size - off)
		return PCI_ERR_EINVAL;
	return PCI_ERR_OK;
}

static pci_err_t op_bar_read(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, void *buf, uint_t len)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	pci_err_t err = bar_check(d, bar, off, buf, len);
	if (err || (err = access_gate(d)))
		return err;
	const struct sim_bar *b = &d->bar[bar];
	uint8_t *out = buf;
	pcii_spin_lock(&d->lock);
	if (atomic_load_explicit(&d->removed, memory_order_relaxed))
		memset(out, 0xFF, len);
	else
		for (uint_t i = 0; i < len; i++)
			out[i] = off + i < b->backing ? b->mem[off + i] : 0;
	log_locked(d, PCICAP_SIM_BAR_READ, bar, off, len, buf);
	pcii_spin_unlock(&d->lock);
	atomic_fetch_add_explicit(&d->n_bar_r, 1, memory_order_relaxed);
	return PCI_ERR_OK;
}

static pci_err_t op_bar_write(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, const void *buf,
			      uint_t len)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	pci_err_t err = bar_check(d, bar, off, buf, len);
	if (err || (err = access_gate(d)))
		return err;
	struct sim_bar *b = &d->bar[bar];
	const uint8_t *v = buf;
	msg_t m[FLUSH_BATCH];
	unsigned n = 0;
	bool in_table = d->msix_table_ok && (unsigned)bar == d->msix_tbir &&
			ranges_overlap(off, len, d->msix_toff, 16ull * d->msix_n);
	bool in_pba = d->msix_pba_ok && (unsigned)bar == d->msix_pbir &&
		      ranges_overlap(off, len, d->msix_poff, 8ull * ((d->msix_n + 63u) / 64u));
	pcii_spin_lock(&d->lock);
	log_locked(d, PCICAP_SIM_BAR_WRITE, bar, off, len, buf);
	if (!atomic_load_explicit(&d->removed, memory_order_relaxed)) {
		bool ctrl_written = false;
		for (uint_t i = 0; i < len; i++) {
			uint64_t o = off + i;
			if (o >= b->backing)
				continue;
			if (in_pba && o >= d->msix_poff &&
			    o < d->msix_poff + 8ull * ((d->msix_n + 63u) / 64u))
				continue; /* the PBA is read-only */
			if (in_table && o >= d->msix_toff && o < d->msix_toff + 16ull * d->msix_n) {
				unsigned byte = (unsigned)((o - d->msix_toff) % 16);
				uint8_t wm = byte == 0    ? 0xFC
					     : byte < 12  ? 0xFF
					     : byte == 12 ? 0x01
							  : 0;
				b->mem[o] = (uint8_t)((b->mem[o] & ~wm) | (v[i] & wm));
				ctrl_written |= byte == 12;
				continue;
			}
			b->mem[o] = v[i];
		}
		if (ctrl_written && d->msix_npend)
			n = collect_locked(d, m);
	}
	unlock_and_deliver(d, m, n);
	atomic_fetch_add_explicit(&d->n_bar_w, 1, memory_order_relaxed);
	return PCI_ERR_OK;
}

static pci_err_t op_bar_info(void *ctx, pci_bdf_t bdf, int bar, pci_ba_t *ba)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!ba || bar < -1 || bar > 5)
		return PCI_ERR_EINVAL;
	memset(ba, 0, sizeof(*ba));
	ba->bar_num = bar;
	ba->type = pci_asType_e_NONE;
	pcii_spin_lock(&d->lock);
	if (bar == -1) {
		if (d->rom_off) {
			ba->type = pci_asType_e_MEM;
			ba->addr = rd32(d->cfg + d->rom_off) & 0xFFFFF800u;
			ba->size = d->rom_size;
			ba->attr = (pci_asAttr_e)(pci_asAttr_e_EXPANSION_ROM | pci_asAttr_e_32BIT);
		}
	} else {
		const struct sim_bar *b = &d->bar[bar];
		uint32_t lo = rd32(d->cfg + PCII_CFG_BAR0 + 4 * bar);
		switch (b->kind) {
		case BK_IO:
			ba->type = pci_asType_e_IO;
			ba->addr = lo & ~3u & ~(uint32_t)(b->size - 1);
			ba->size = b->size;
			ba->attr = pci_asAttr_e_32BIT;
			break;
		case BK_MEM32:
		case BK_MEM64: {
			uint64_t a = lo & ~0xFu;
			unsigned attr = pci_asAttr_e_32BIT;
			if (b->kind == BK_MEM64) {
				a |= (uint64_t)rd32(d->cfg + PCII_CFG_BAR0 + 4 * bar + 4) << 32;
				attr = pci_asAttr_e_64BIT;
			}
			if (b->prefetch)
				attr |= pci_asAttr_e_PREFETCH;
			ba->type = pci_asType_e_MEM;
			ba->addr = a & ~(b->size - 1);
			ba->size = b->size;
			ba->attr = (pci_asAttr_e)attr;
			break;
		}
		default: break;
		}
	}
	pcii_spin_unlock(&d->lock);
	return PCI_ERR_OK;
}

static pci_err_t op_bar_map(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, uint64_t len,
			    const volatile void **ptr)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!ptr || !bar_mem_ok(d, bar) || len == 0 || off >= d->bar[bar].backing ||
	    len > d->bar[bar].backing - off)
		return PCI_ERR_EINVAL;
	*ptr = d->bar[bar].mem + off;
	return PCI_ERR_OK;
}

static pci_err_t op_bar_unmap(void *ctx, pci_bdf_t bdf, const volatile void *ptr, uint64_t len)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	const volatile uint8_t *p = ptr;
	for (unsigned i = 0; i < 6; i++) {
		const struct sim_bar *b = &d->bar[i];
		if (b->mem && p >= b->mem && p < b->mem + b->backing &&
		    len <= (uint64_t)(b->mem + b->backing - p))
			return PCI_ERR_OK;
	}
	return PCI_ERR_EINVAL;
}

/* Release IRQ slot @p s (under g.mu). */
static void slot_release(struct irq_slot *s)
{
	pcii_spin_lock(&s->lock);
	int fd = s->efd_p1 - 1;
	s->allocated = false;
	s->addr64 = false;
	s->owner_uid = 0;
	s->fired = 0;
	s->efd_p1 = 0;
	pcii_spin_unlock(&s->lock);
	while (atomic_load(&s->inflight))
		sched_yield();
	if (fd >= 0)
		close(fd);
	g.irqs_held--;
}

static pci_err_t op_irq_alloc(void *ctx, pci_bdf_t bdf, uint_t n, uint_t flags,
			      pcicap_irq_msg_t *out)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!out || n == 0)
		return PCI_ERR_EINVAL;
	bool contig = flags & PCICAP_IRQ_CONTIG;
	if (contig && (!is_pow2(n) || n > 32))
		return PCI_ERR_EINVAL;
	pthread_mutex_lock(&g.mu);
	uint_t pool = atomic_load(&g_pool);
	pci_err_t err = PCI_ERR_IRQ_NOT_AVAIL;
	uint_t got = 0;
	if (n <= pool - g.irqs_held) {
		if (contig) {
			for (uint_t base = 0; base + n <= pool && !got; base += n) {
				uint_t k = 0;
				while (k < n && !g_irq[base + k].allocated)
					k++;
				if (k == n)
					for (k = 0; k < n; k++)
						out[got++].irq =
						    (pci_irq_t)(PCII_SIM_IRQ_BASE + base + k);
			}
		} else {
			for (uint_t i = 0; i < pool && got < n; i++)
				if (!g_irq[i].allocated)
					out[got++].irq = (pci_irq_t)(PCII_SIM_IRQ_BASE + i);
		}
	}
	if (got == n) {
		bool a64 = flags & PCICAP_IRQ_ADDR64;
		for (uint_t k = 0; k < n; k++) {
			uint_t i = (uint_t)out[k].irq - PCII_SIM_IRQ_BASE;
			struct irq_slot *s = &g_irq[i];
			pcii_spin_lock(&s->lock);
			s->allocated = true;
			s->addr64 = a64;
			s->owner_uid = d->uid;
			s->fired = 0;
			s->efd_p1 = 0;
			pcii_spin_unlock(&s->lock);
			irq_index_msg(i, a64, &out[k].addr, &out[k].data);
		}
		g.irqs_held += n;
		err = PCI_ERR_OK;
	}
	pthread_mutex_unlock(&g.mu);
	return err;
}

static struct irq_slot *slot_of(pci_irq_t irq)
{
	if (irq < PCII_SIM_IRQ_BASE)
		return NULL;
	uint_t i = (uint_t)irq - PCII_SIM_IRQ_BASE;
	if (i >= atomic_load(&g_pool))
		return NULL;
	return &g_irq[i];
}

static pci_err_t op_irq_free(void *ctx, pci_bdf_t bdf, const pci_irq_t *irqs, uint_t n)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (n && !irqs)
		return PCI_ERR_EINVAL;
	pthread_mutex_lock(&g.mu);
	pci_err_t err = PCI_ERR_OK;
	uint_t k;
	for (k = 0; k < n; k++) {
		struct irq_slot *s = slot_of(irqs[k]);
		if (!s || !s->allocated || s->owner_uid != d->uid || s->mark) {
			/* a double free or a foreign IRQ: said, so tests catch it */
			pcii_log(PCICAP_LOG_WARN, "sim: irq_free refused: IRQ %d is not held by %02x:%02x.%x",
				 (int)irqs[k], PCI_BUS(bdf), PCI_DEV(bdf), PCI_FUNC(bdf));
			err = PCI_ERR_EINVAL;
			break;
		}
		s->mark = true;
	}
	for (uint_t j = 0; j < k; j++)
		slot_of(irqs[j])->mark = false;
	if (!err)
		for (k = 0; k < n; k++)
			slot_release(slot_of(irqs[k]));
	pthread_mutex_unlock(&g.mu);
	return err;
}

static int op_irq_fd(void *ctx, pci_irq_t irq)
{
	(void)ctx;
	pthread_mutex_lock(&g.mu);
	struct irq_slot *s = slot_of(irq);
	if (!s || !s->allocated) {
		pthread_mutex_unlock(&g.mu);
		errno = EINVAL;
		return -1;
	}
	int fd = s->efd_p1 - 1;
	if (fd < 0) {
		fd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			pthread_mutex_unlock(&g.mu);
			errno = e;
			return -1;
		}
		pcii_spin_lock(&s->lock);
		s->efd_p1 = fd + 1;
		uint64_t fired = s->fired;
		pcii_spin_unlock(&s->lock);
		if (fired) {
			ssize_t r = write(fd, &fired, sizeof(fired));
			(void)r;
		}
	}
	pthread_mutex_unlock(&g.mu);
	return fd;
}

static pci_err_t op_reset(void *ctx, pci_bdf_t bdf, pci_resetType_e type)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d || atomic_load(&d->removed))
		return PCI_ERR_ENODEV;
	if (type != pci_resetType_e_FUNCTION || !d->flr)
		return PCI_ERR_ENOTSUP;
	pcii_spin_lock(&d->lock);
	flr_locked(d);
	pcii_spin_unlock(&d->lock);
	return PCI_ERR_OK;
}

static pci_err_t op_chassis_slot(void *ctx, pci_bdf_t bdf, pci_cs_t *cs)
{
	(void)ctx;
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!cs)
		return PCI_ERR_EINVAL;
	*cs = d->cs;
	return PCI_ERR_OK;
}

static const char *op_scope(void *ctx, pci_bdf_t bdf)
{
	(void)ctx;
	if (!sim_find(bdf))
		return NULL;
	return atomic_load(&g_scope);
}

static pci_err_t op_scan(void *ctx, pcicap_backend_dev_t **devs, size_t *ndevs)
{
	(void)ctx;
	if (!devs || !ndevs)
		return PCI_ERR_EINVAL;
	pthread_mutex_lock(&g.mu);
	pcicap_backend_dev_t *a = NULL;
	if (g.ndevs) {
		a = malloc(g.ndevs * sizeof(*a));
		if (!a) {
			pthread_mutex_unlock(&g.mu);
			return PCI_ERR_ENOMEM;
		}
		for (size_t i = 0; i < g.ndevs; i++) {
			a[i].bdf = g.devs[i]->bdf;
			a[i].uid = g.devs[i]->uid;
			a[i].cfg_size = g.devs[i]->cfg_size;
		}
	}
	*devs = a;
	*ndevs = g.ndevs;
	pthread_mutex_unlock(&g.mu);
	return PCI_ERR_OK;
}

static uint64_t op_generation(void *ctx)
{
	(void)ctx;
	return atomic_load(&g_generation);
}

static pci_err_t op_init(void **ctx)
{
	if (!ctx)
		return PCI_ERR_EINVAL;
	pthread_mutex_lock(&g.mu);
	bool loaded = g.config_loaded;
	pthread_mutex_unlock(&g.mu);
	if (!loaded) {
		const char *path = getenv("PCI_SIM_CONFIG");
		if (path && *path) {
			pci_err_t err = pcicap_sim_load(path);
			if (err) {
				pcii_log(PCICAP_LOG_ERROR, "sim: PCI_SIM_CONFIG=%s: %s", path,
					 pci_strerror(err));
				return err;
			}
		}
		pthread_mutex_lock(&g.mu);
		g.config_loaded = true;
		pthread_mutex_unlock(&g.mu);
	}
	*ctx = &g;
	return PCI_ERR_OK;
}

static void op_fini(void *ctx)
{
	(void)ctx;
	pcicap_sim_clear();
	pthread_mutex_lock(&g.mu);
	g.config_loaded = false;
	pthread_mutex_unlock(&g.mu);
}

const pcicap_backend_t pcii_backend_sim = {
    .struct_size = sizeof(pcicap_backend_t),
    .abi_version = PCICAP_BACKEND_ABI_VERSION,
    .name = "sim",
    .init = op_init,
    .fini = op_fini,
    .scan = op_scan,
    .generation = op_generation,
    .present = op_present,
    .cfg_read = op_cfg_read,
    .cfg_write = op_cfg_write,
    .bar_info = op_bar_info,
    .bar_read = op_bar_read,
    .bar_write = op_bar_write,
    .bar_map = op_bar_map,
    .bar_unmap = op_bar_unmap,
    .irq_alloc = op_irq_alloc,
    .irq_free = op_irq_free,
    .irq_fd = op_irq_fd,
    .msg_enable = NULL, /* the library programs address/data itself */
    .msg_disable = NULL,
    .reset = op_reset,
    .chassis_slot = op_chassis_slot,
    .scope = op_scope,
};

/* --------------------------------------------------------- builder calls */

static int cmp_bdf(const void *a, const void *b)
{
	pci_bdf_t x = *(const pci_bdf_t *)a, y = *(const pci_bdf_t *)b;
	return x < y ? -1 : x > y;
}

static void retire_scope_locked(char *s)
{
	if (!s)
		return;
	char **n = realloc(g.old_scopes, (g.nold_scopes + 1) * sizeof(*n));
	if (!n) {
		/* cannot keep it for late readers: leak rather than free under them */
		return;
	}
	g.old_scopes = n;
	g.old_scopes[g.nold_scopes++] = s;
}

/* Validate and add everything in @p b, or nothing. */
static pci_err_t commit_batch(pcii_sim_batch_t *b)
{
	pci_err_t err = PCI_ERR_OK;
	struct sim_dev **nd = NULL;
	pci_bdf_t *bdfs = NULL;
	if (b->n) {
		nd = calloc(b->n, sizeof(*nd));
		bdfs = malloc(b->n * sizeof(*bdfs));
		if (!nd || !bdfs) {
			err = PCI_ERR_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < b->n; i++) {
		pcii_sim_item_t *it = &b->items[i];
		bdfs[i] = it->bdf;
		if (it->raw) {
			err = dev_new(it->bdf, it->cfg, it->len, NULL, &nd[i]);
		} else {
			const char *why = "";
			if (pcii_sim_check_desc(&it->desc, &why)) {
				err = PCI_ERR_EINVAL;
				pcii_log(PCICAP_LOG_ERROR, "sim: %s: %s", it->where, why);
				goto out;
			}
			uint8_t *img = calloc(1, PCII_CFG_SIZE_EXT);
			if (!img) {
				err = PCI_ERR_ENOMEM;
				goto out;
			}
			uint_t len = build_image(&it->desc, img);
			err = dev_new(it->bdf, img, len, &it->desc, &nd[i]);
			free(img);
		}
		if (err)
			goto out;
	}
	if (b->n > 1) {
		qsort(bdfs, b->n, sizeof(*bdfs), cmp_bdf);
		for (size_t i = 1; i < b->n; i++) {
			if (bdfs[i] == bdfs[i - 1]) {
				pcii_log(PCICAP_LOG_ERROR,
					 "sim: device %04x:%02x:%02x.%u given twice",
					 PCICAP_BDF_DOMAIN(bdfs[i]), PCI_BUS(bdfs[i]),
					 PCI_DEV(bdfs[i]), PCI_FUNC(bdfs[i]));
				err = PCI_ERR_EEXIST;
				goto out;
			}
		}
	}

	pthread_mutex_lock(&g.mu);
	for (size_t i = 0; i < b->n; i++) {
		if (sim_find(b->items[i].bdf)) {
			pcii_log(PCICAP_LOG_ERROR, "sim: %s: address already taken",
				 b->items[i].where);
			err = PCI_ERR_EEXIST;
			goto unlock;
		}
	}
	if (b->have_irqs && g.irqs_held) {
		pcii_log(PCICAP_LOG_ERROR, "sim: irqs: cannot resize the pool while IRQs are held");
		err = PCI_ERR_EAGAIN;
		goto unlock;
	}
	char *scope = NULL;
	if (b->have_scope && b->scope && !(scope = strdup(b->scope))) {
		err = PCI_ERR_ENOMEM;
		goto unlock;
	}
	if (g.ndevs + b->n > g.cap) {
		size_t ncap = PCII_MAX(g.cap * 2, g.ndevs + b->n);
		ncap = PCII_MAX(ncap, 64u);
		struct sim_dev **nv = realloc(g.devs, ncap * sizeof(*nv));
		if (!nv) {
			free(scope);
			err = PCI_ERR_ENOMEM;
			goto unlock;
		}
		g.devs = nv;
		g.cap = ncap;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (!radix_prepare(b->items[i].bdf)) {
			free(scope);
			err = PCI_ERR_ENOMEM; /* empty radix nodes stay: harmless */
			goto unlock;
		}
	}
	/* nothing can fail from here on */
	for (size_t i = 0; i < b->n; i++) {
		nd[i]->uid = atomic_fetch_add(&g_uid, 1) + 1;
		g.devs[g.ndevs++] = nd[i];
		radix_set(nd[i]->bdf, nd[i]);
		nd[i] = NULL;
	}
	if (b->have_irqs)
		atomic_store(&g_pool, b->irqs);
	if (b->have_scope)
		retire_scope_locked(atomic_exchange(&g_scope, scope));
	atomic_fetch_add(&g_generation, 1);
unlock:
	pthread_mutex_unlock(&g.mu);
out:
	if (nd)
		for (size_t i = 0; i < b->n; i++)
			free_dev(nd[i]);
	free(nd);
	free(bdfs);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_sim_add_device(pci_bdf_t bdf, const pcicap_sim_device_t *d)
{
	if (!d || PCICAP_BDF_DOMAIN(bdf) > PCICAP_DOMAIN_MAX)
		return PCI_ERR_EINVAL;
	const char *why = "";
	if (pcii_sim_check_desc(d, &why)) {
		pcii_log(PCICAP_LOG_ERROR, "sim: add_device %02x:%02x.%u: %s", PCI_BUS(bdf),
			 PCI_DEV(bdf), PCI_FUNC(bdf), why);
		return PCI_ERR_EINVAL;
	}
	pcii_sim_batch_t b = {0};
	pcii_sim_item_t *it = pcii_sim_batch_add(&b);
	if (!it)
		return PCI_ERR_ENOMEM;
	it->bdf = bdf;
	it->desc = *d;
	snprintf(it->where, sizeof(it->where), "add_device %04x:%02x:%02x.%u",
		 PCICAP_BDF_DOMAIN(bdf), PCI_BUS(bdf), PCI_DEV(bdf), PCI_FUNC(bdf));
	pci_err_t err = commit_batch(&b);
	pcii_sim_batch_free(&b);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_sim_add_config(pci_bdf_t bdf, const void *cfg, size_t len)
{
	if (!cfg || (len != PCII_CFG_SIZE && len != PCII_CFG_SIZE_EXT) ||
	    PCICAP_BDF_DOMAIN(bdf) > PCICAP_DOMAIN_MAX)
		return PCI_ERR_EINVAL;
	pcii_sim_batch_t b = {0};
	pcii_sim_item_t *it = pcii_sim_batch_add(&b);
	if (!it)
		return PCI_ERR_ENOMEM;
	it->bdf = bdf;
	it->raw = true;
	it->len = (uint_t)len;
	it->cfg = malloc(len);
	if (!it->cfg) {
		pcii_sim_batch_free(&b);
		return PCI_ERR_ENOMEM;
	}
	memcpy(it->cfg, cfg, len);
	snprintf(it->where, sizeof(it->where), "add_config %04x:%02x:%02x.%u",
		 PCICAP_BDF_DOMAIN(bdf), PCI_BUS(bdf), PCI_DEV(bdf), PCI_FUNC(bdf));
	pci_err_t err = commit_batch(&b);
	pcii_sim_batch_free(&b);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_sim_add_dump(const char *path)
{
	if (!path)
		return PCI_ERR_EINVAL;
	pcii_sim_batch_t b = {0};
	pci_err_t err = pcii_sim_parse_dump_file(path, &b);
	if (!err)
		err = commit_batch(&b);
	pcii_sim_batch_free(&b);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_sim_load_string(const char *text, const char *basedir)
{
	if (!text)
		return PCI_ERR_EINVAL;
	pcii_sim_batch_t b = {0};
	pci_err_t err = pcii_sim_parse_topology(text, "<string>", basedir, &b);
	if (!err)
		err = commit_batch(&b);
	pcii_sim_batch_free(&b);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_sim_load(const char *path)
{
	if (!path)
		return PCI_ERR_EINVAL;
	char *text;
	pci_err_t err = pcii_sim_read_file(path, &text);
	if (err)
		return err;
	char *dir = strdup(path);
	if (!dir) {
		free(text);
		return PCI_ERR_ENOMEM;
	}
	char *slash = strrchr(dir, '/');
	const char *basedir = NULL;
	if (slash) {
		if (slash == dir)
			slash[1] = '\0'; /* "/file" */
		else
			*slash = '\0';
		basedir = dir;
	}
	pcii_sim_batch_t b = {0};
	err = pcii_sim_parse_topology(text, path, basedir, &b);
	if (!err)
		err = commit_batch(&b);
	pcii_sim_batch_free(&b);
	free(dir);
	free(text);
	return err;
}

PCICAP_EXPORT void pcicap_sim_clear(void)
{
	pthread_mutex_lock(&g.mu);
	uint_t pool = atomic_load(&g_pool);
	for (uint_t i = 0; i < pool; i++)
		if (g_irq[i].allocated)
			slot_release(&g_irq[i]);
	g.irqs_held = 0;
	atomic_store(&g_pool, PCII_SIM_IRQS_DEFAULT);
	radix_free_all();
	for (size_t i = 0; i < g.ndevs; i++)
		free_dev(g.devs[i]);
	free(g.devs);
	g.devs = NULL;
	g.ndevs = g.cap = 0;
	free(atomic_exchange(&g_scope, NULL));
	for (size_t i = 0; i < g.nold_scopes; i++)
		free(g.old_scopes[i]);
	free(g.old_scopes);
	g.old_scopes = NULL;
	g.nold_scopes = 0;
	atomic_fetch_add(&g_generation, 1);
	pthread_mutex_unlock(&g.mu);
}

PCICAP_EXPORT pci_err_t pcicap_sim_set_irqs(uint_t n)
{
	if (n < 1 || n > PCII_SIM_IRQS_MAX)
		return PCI_ERR_EINVAL;
	pthread_mutex_lock(&g.mu);
	pci_err_t err = PCI_ERR_OK;
	if (g.irqs_held)
		err = PCI_ERR_EAGAIN;
	else
		atomic_store(&g_pool, n);
	pthread_mutex_unlock(&g.mu);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_sim_set_scope(const char *name)
{
	char *s = NULL;
	if (name) {
		if (!pcii_sim_scope_ok(name))
			return PCI_ERR_EINVAL;
		if (!(s = strdup(name)))
			return PCI_ERR_ENOMEM;
	}
	pthread_mutex_lock(&g.mu);
	retire_scope_locked(atomic_exchange(&g_scope, s));
	pthread_mutex_unlock(&g.mu);
	return PCI_ERR_OK;
}

/* ------------------------------------------------------ device-side calls */

PCICAP_EXPORT pci_err_t pcicap_sim_raise(pci_bdf_t bdf, uint_t vector)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d || atomic_load(&d->removed))
		return PCI_ERR_ENODEV;
	msg_t m;
	bool send = false;
	pcii_spin_lock(&d->lock);
	bool use_msix;
	if (d->msix_off && msix_on(d))
		use_msix = true;
	else if (d->msi_off && msi_on(d))
		use_msix = false;
	else if (d->msix_off)
		use_msix = true;
	else if (d->msi_off)
		use_msix = false;
	else {
		pcii_spin_unlock(&d->lock);
		return PCI_ERR_EINVAL;
	}
	bool gate = !atomic_load(&d->held) && bme(d);
	if (use_msix) {
		if (vector >= d->msix_n) {
			pcii_spin_unlock(&d->lock);
			return PCI_ERR_EINVAL;
		}
		if (gate && msix_on(d) && !msix_fmask(d) && !msix_entry_masked(d, vector)) {
			msix_msg(d, vector, &m);
			send = true;
		} else {
			msix_set_pending(d, vector, true);
		}
	} else {
		if (vector >= d->msi_mmc) {
			pcii_spin_unlock(&d->lock);
			return PCI_ERR_EINVAL;
		}
		if (gate && msi_on(d) && !msi_masked(d, vector)) {
			msi_msg(d, vector, &m);
			send = true;
		} else {
			msi_set_pending(d, vector, true);
		}
	}
	pcii_spin_unlock(&d->lock);
	if (send)
		deliver(d, m.addr, m.data);
	return PCI_ERR_OK;
}

/* Removal and hold-off: set the flag; leaving either state delivers what
 * was held pending meanwhile. */
static pci_err_t set_unavailable(pci_bdf_t bdf, bool removed_flag, bool on)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	atomic_store(removed_flag ? &d->removed : &d->held, on);
	if (!on)
		flush_pending(d);
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_set_removed(pci_bdf_t bdf, bool removed)
{
	return set_unavailable(bdf, true, removed);
}

PCICAP_EXPORT pci_err_t pcicap_sim_set_hold_off(pci_bdf_t bdf, bool held)
{
	return set_unavailable(bdf, false, held);
}

PCICAP_EXPORT pci_err_t pcicap_sim_fail_access(pci_bdf_t bdf, uint64_t k, pci_err_t err)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (k && err == PCI_ERR_OK)
		return PCI_ERR_EINVAL;
	atomic_store(&d->fail_k, 0);
	atomic_store(&d->fail_err, (int)err);
	atomic_store(&d->fail_k, k);
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_remove_at(pci_bdf_t bdf, uint64_t k)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	atomic_store(&d->remove_k, k);
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_get_counters(pci_bdf_t bdf, pcicap_sim_counters_t *c)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!c)
		return PCI_ERR_EINVAL;
	c->cfg_reads = atomic_load(&d->n_cfg_r);
	c->cfg_writes = atomic_load(&d->n_cfg_w);
	c->bar_reads = atomic_load(&d->n_bar_r);
	c->bar_writes = atomic_load(&d->n_bar_w);
	c->irqs_delivered = atomic_load(&d->n_irq);
	c->stray_msgs = atomic_load(&d->n_stray);
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_reset_counters(pci_bdf_t bdf)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	atomic_store(&d->n_cfg_r, 0);
	atomic_store(&d->n_cfg_w, 0);
	atomic_store(&d->n_bar_r, 0);
	atomic_store(&d->n_bar_w, 0);
	atomic_store(&d->n_irq, 0);
	atomic_store(&d->n_stray, 0);
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_log_start(pci_bdf_t bdf, size_t capacity)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	struct sim_log *l = NULL;
	if (capacity) {
		if (capacity > (SIZE_MAX - sizeof(*l)) / sizeof(l->e[0]))
			return PCI_ERR_ENOMEM;
		l = malloc(sizeof(*l) + capacity * sizeof(l->e[0]));
		if (!l)
			return PCI_ERR_ENOMEM;
		l->cap = capacity;
		l->n = 0;
	}
	pcii_spin_lock(&d->lock);
	struct sim_log *old = d->log;
	d->log = l;
	pcii_spin_unlock(&d->lock);
	free(old);
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_log_get(pci_bdf_t bdf, pcicap_sim_access_t *out, size_t max,
					   size_t *n)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!n || (max && !out))
		return PCI_ERR_EINVAL;
	pcii_spin_lock(&d->lock);
	const struct sim_log *l = d->log;
	size_t total = l ? l->n : 0;
	size_t kept = l ? PCII_MIN(total, l->cap) : 0;
	size_t c = PCII_MIN(kept, max);
	if (c)
		memcpy(out, l->e, c * sizeof(*out));
	pcii_spin_unlock(&d->lock);
	*n = total;
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_peek_cfg(pci_bdf_t bdf, uint_t off, void *buf, size_t len)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if ((len && !buf) || off > d->cfg_size || len > d->cfg_size - off)
		return PCI_ERR_EINVAL;
	pcii_spin_lock(&d->lock);
	if (len)
		memcpy(buf, d->cfg + off, len);
	pcii_spin_unlock(&d->lock);
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_peek_bar(pci_bdf_t bdf, int bar, uint64_t off, void *buf,
					    size_t len)
{
	struct sim_dev *d = sim_find(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if ((len && !buf) || !bar_mem_ok(d, bar) || off > d->bar[bar].size ||
	    len > d->bar[bar].size - off)
		return PCI_ERR_EINVAL;
	const struct sim_bar *b = &d->bar[bar];
	uint8_t *out = buf;
	pcii_spin_lock(&d->lock);
	for (size_t i = 0; i < len; i++)
		out[i] = off + i < b->backing ? b->mem[off + i] : 0;
	pcii_spin_unlock(&d->lock);
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_sim_irq_msg(pci_irq_t irq, uint64_t *addr, uint32_t *data)
{
	struct irq_slot *s = slot_of(irq);
	if (!s)
		return PCI_ERR_EINVAL;
	pcii_spin_lock(&s->lock);
	bool a64 = s->allocated && s->addr64;
	pcii_spin_unlock(&s->lock);
	uint64_t a;
	uint32_t dt;
	irq_index_msg((uint_t)irq - PCII_SIM_IRQ_BASE, a64, &a, &dt);
	if (addr)
		*addr = a;
	if (data)
		*data = dt;
	return PCI_ERR_OK;
}

PCICAP_EXPORT uint64_t pcicap_sim_irq_count(pci_irq_t irq)
{
	struct irq_slot *s = slot_of(irq);
	if (!s)
		return 0;
	pcii_spin_lock(&s->lock);
	uint64_t n = s->allocated ? s->fired : 0;
	pcii_spin_unlock(&s->lock);
	return n;
}

PCICAP_EXPORT const pcicap_backend_t *pcicap_sim_backend(void **ctx)
{
	if (ctx)
		*ctx = &g;
	return &pcii_backend_sim;
}
