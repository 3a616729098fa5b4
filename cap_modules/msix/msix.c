/*
 * pci_cap-0x11.so: the MSI-X capability module.
 *
 * Register layout (PCI Local Bus 3.0, 6.8.2; PCIe Base 7.7.2): Message
 * Control at +2 (enable bit 15, Function Mask bit 14, table size - 1 in bits
 * 10:0), Table Offset/BIR at +4 and PBA Offset/BIR at +8 (BIR in bits 2:0,
 * the offset in the rest). The table, in the memory BAR that its BIR names,
 * has one 16-byte entry per vector: address (two dwords), data, vector
 * control (bit 0 = mask). The Pending Bit Array has one bit per entry.
 *
 * Shadows: the module keeps Message Control and every entry's vector
 * control word. A mask is one table write plus one read that flushes it, an
 * unmask one write, a function mask one config write. The shadows change
 * under one spin lock per capability, which holds the owning thread: any
 * number of threads and interrupt handlers lose no update, every device
 * access of a mask call happens under the lock, and a signal handler that
 * interrupts a call on the same capability gets PCI_ERR_EAGAIN instead of
 * spinning forever. The masking calls reach the table and Message Control
 * through the backend's access ops that the core publishes in the instance
 * (pcicap_access_t), not through the host services; the core's dispatcher
 * hands them the instance it has resolved (the module's mask_entry and
 * mask_all ops). See docs/msix.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <pci/cap_msix.h>
#include <pcicap/cap_module.h>

#define MSIX_CTRL    2
#define MSIX_TABLE   4
#define MSIX_PBA     8
#define CTRL_ENABLE  0x8000u
#define CTRL_FMASK   0x4000u
#define CTRL_QSIZE   0x07FFu
#define BIR_MASK     7u
#define ENTRY        16u /* bytes per table entry */
#define ENTRY_VC     12u /* vector control within an entry */
#define VC_MASKBIT   1u
#define DISP_DEFAULT INT16_MIN /* set_irq_entry() never called for the entry */

typedef struct {
	/* what the capability is (read once, at attach) */
	uint_t n;            /* table size: 1..2048 */
	int tbir, pbir;      /* BARs of the table and the PBA */
	uint64_t toff, poff; /* their offsets in those BARs */
	uint64_t plen;       /* bytes of PBA: 8 * ceil(n / 64) */
	pci_err_t table_err; /* PCI_ERR_OK when the table lies in a memory BAR */
	bool pba_ok;         /* the PBA lies in a memory BAR */
	/* what the driver asked for, used at the next enable */
	uint_t want;   /* IRQ slots (set_nirq) */
	int16_t *disp; /* [n] dispositions, DISP_DEFAULT when never set */
	/* while enabled */
	_Atomic uint_t nirq; /* IRQs held (0: disabled) */
	pci_irq_t *irqs;     /* [n] the IRQs, in slot order */
	bool by_backend;     /* the backend programmed the messages (VFIO) */
	bool intx_saved;
	const volatile void *_Atomic pba; /* live PBA view, NULL when disabled */
	/* a reset or a failed disable: the shadows may not match the device */
	bool stale;
	/* the shadows, changed under the lock, which holds the thread changing
	 * them (0: nobody), so that a signal handler interrupting a call on the
	 * same capability is told PCI_ERR_EAGAIN instead of spinning forever */
	uintptr_t lock;
	uint32_t ctrl; /* Message Control */
	uint32_t fmask_calls; /* mask_irq_all/unmask_irq_all answered (under the lock) */
	uint32_t *vc;  /* [n] vector control words */
	/* the device access of the masking calls: pcicap_mod_access()'s ops,
	 * copied, and the instance's BDF, so that the hot path reaches
	 * everything from the state */
	pcicap_access_t io;
	pci_bdf_t bdf;
	uint_t n_ok;  /* n when table_err is PCI_ERR_OK, else 0: one check */
	uint32_t buf; /* the bytes of a vector control access (under the lock) */
} msix_state_t;

/* The private part of each pci_cap_t: what get_nirq() needs, lock-free. */
typedef struct {
	uint32_t n;
} msix_priv_t;

/* What enable changed in a table entry, to put back when it fails. */
typedef struct {
	uint32_t e;
	bool full;       /* address, data and vector control; else vector control */
	uint64_t q0, q1; /* the entry's two quadwords as they were */
} saved_t;

static const pcicap_host_t *host;

/* ---------------------------------------------------------- shadow words */

/* Take the capability's lock and give the shadow @sh; false when this
 * thread holds the lock already (re-entered from a signal handler). */
static bool shadow_lock(msix_state_t *st, const uint32_t *sh, uint32_t *val)
{
	if (!pcicap_mod_lock(&st->lock))
		return false;
	*val = *sh;
	return true;
}

/* Store @val in the shadow @sh and let the lock go. */
static void shadow_unlock(msix_state_t *st, uint32_t *sh, uint32_t val)
{
	__atomic_store_n(sh, val, __ATOMIC_RELAXED);
	pcicap_mod_unlock(&st->lock);
}

/* A shadow without the lock (enable and disable decide with it). */
static uint32_t shadow_peek(const uint32_t *sh)
{
	return __atomic_load_n(sh, __ATOMIC_RELAXED);
}

static uint64_t vc_off(const msix_state_t *st, uint_t e)
{
	return st->toff + (uint64_t)ENTRY * e + ENTRY_VC;
}

/* Write Message Control, keeping the shadow. */
static pci_err_t ctrl_write(pcicap_capinst_t *ci, uint32_t val)
{
	msix_state_t *st = ci->state;
	uint32_t old;
	if (!shadow_lock(st, &st->ctrl, &old))
		return PCI_ERR_EAGAIN;
	pci_err_t err = host->cfg_wr(ci, ci->offset + MSIX_CTRL, 2, val);
	shadow_unlock(st, &st->ctrl, err == PCI_ERR_OK ? val : old);
	return err;
}

/* Set @set and clear @clr in Message Control from its shadow, under the
 * lock (a read-modify-write of the shadow: no update of another thread is
 * lost). With @only_if_calls, only when no function-mask call was
 * answered since *@only_if_calls was read (else PCI_ERR_OK, nothing done). */
static pci_err_t ctrl_update(pcicap_capinst_t *ci, uint32_t set, uint32_t clr,
			     const uint32_t *only_if_calls)
{
	msix_state_t *st = ci->state;
	uint32_t old;
	if (!shadow_lock(st, &st->ctrl, &old))
		return PCI_ERR_EAGAIN;
	uint32_t v = (old | set) & ~clr;
	pci_err_t err = PCI_ERR_OK;
	if (v != old && (!only_if_calls || *only_if_calls == st->fmask_calls))
		err = host->cfg_wr(ci, ci->offset + MSIX_CTRL, 2, v);
	else
		v = old;
	shadow_unlock(st, &st->ctrl, err == PCI_ERR_OK ? v : old);
	return err;
}

/* Read Message Control into the shadow. */
static pci_err_t ctrl_read(pcicap_capinst_t *ci, uint32_t *val)
{
	msix_state_t *st = ci->state;
	uint32_t old, v;
	if (!shadow_lock(st, &st->ctrl, &old))
		return PCI_ERR_EAGAIN;
	pci_err_t err = host->cfg_rd(ci, ci->offset + MSIX_CTRL, 2, &v);
	shadow_unlock(st, &st->ctrl, err == PCI_ERR_OK ? v : old);
	if (err == PCI_ERR_OK)
		*val = v;
	return err;
}

/* Read every vector control word into the shadows. */
static pci_err_t vc_refresh(pcicap_capinst_t *ci)
{
	msix_state_t *st = ci->state;
	pci_err_t err = PCI_ERR_OK;
	for (uint_t e = 0; e < st->n && err == PCI_ERR_OK; e++) {
		uint32_t old;
		if (!shadow_lock(st, &st->vc[e], &old))
			return PCI_ERR_EAGAIN;
		uint64_t v;
		err = host->bar_rd(ci, st->tbir, vc_off(st, e), 4, &v);
		shadow_unlock(st, &st->vc[e], err == PCI_ERR_OK ? (uint32_t)v : old);
	}
	return err;
}

/* ------------------------------------------------------------ lifecycle */

/* Whether [off, off + len) lies inside memory BAR @bir. */
static pci_err_t region_check(pcicap_capinst_t *ci, const char *what, uint_t bir, uint64_t off,
			      uint64_t len)
{
	pci_ba_t ba;
	pci_err_t err = bir > 5 ? PCI_ERR_ENOENT : host->bar_info(ci, (int)bir, &ba);
	if (err == PCI_ERR_OK && ba.type != pci_asType_e_MEM)
		err = PCI_ERR_ENOENT;
	if (err == PCI_ERR_OK && (off > ba.size || len > ba.size - off)) {
		host->log(ci, PCICAP_LOG_WARN,
			  "MSI-X %s (0x%llx bytes at 0x%llx) does not fit in BAR %u (0x%llx bytes)",
			  what, (unsigned long long)len, (unsigned long long)off, bir,
			  (unsigned long long)ba.size);
		return PCI_ERR_ASPACE_INVALID;
	}
	if (err != PCI_ERR_OK) {
		host->log(ci, PCICAP_LOG_WARN, "MSI-X %s: BIR %u names no memory BAR (%d)", what,
			  bir, (int)err);
		return PCI_ERR_ASPACE_INVALID;
	}
	return PCI_ERR_OK;
}

static void state_free(msix_state_t *st)
{
	free(st->disp);
	free(st->irqs);
	free(st->vc);
	st->disp = NULL;
	st->irqs = NULL;
	st->vc = NULL;
}

static pci_err_t msix_attach(pcicap_capinst_t *ci)
{
	host = ci->host;
	msix_state_t *st = ci->state;
	uint32_t ctrl, table, pba;
	pci_err_t err = host->cfg_rd(ci, ci->offset + MSIX_CTRL, 2, &ctrl);
	if (err == PCI_ERR_OK)
		err = host->cfg_rd(ci, ci->offset + MSIX_TABLE, 4, &table);
	if (err == PCI_ERR_OK)
		err = host->cfg_rd(ci, ci->offset + MSIX_PBA, 4, &pba);
	if (err != PCI_ERR_OK)
		return err;
	st->n = (ctrl & CTRL_QSIZE) + 1;
	st->tbir = (int)(table & BIR_MASK);
	st->toff = table & ~BIR_MASK;
	st->pbir = (int)(pba & BIR_MASK);
	st->poff = pba & ~BIR_MASK;
	st->plen = 8 * (((uint64_t)st->n + 63) / 64);
	st->table_err =
	    region_check(ci, "table", table & BIR_MASK, st->toff, (uint64_t)ENTRY * st->n);
	st->n_ok = st->table_err == PCI_ERR_OK ? st->n : 0;
	st->pba_ok = region_check(ci, "PBA", pba & BIR_MASK, st->poff, st->plen) == PCI_ERR_OK;
	st->want = st->n;
	st->disp = malloc(st->n * sizeof(*st->disp));
	st->irqs = calloc(st->n, sizeof(*st->irqs));
	st->vc = calloc(st->n, sizeof(*st->vc));
	if (!st->disp || !st->irqs || !st->vc) {
		state_free(st);
		return PCI_ERR_ENOMEM;
	}
	for (uint_t e = 0; e < st->n; e++) {
		st->disp[e] = DISP_DEFAULT;
		st->vc[e] = VC_MASKBIT;
	}
	st->lock = 0;
	st->ctrl = ctrl;
	const pcicap_access_t *io = pcicap_mod_access(ci, &st->io);
	if (io != &st->io)
		st->io = *io;
	st->bdf = ci->bdf;
	atomic_init(&st->nirq, 0);
	atomic_init(&st->pba, NULL);
	/* a table we cannot read now is read again at enable */
	st->stale = st->table_err == PCI_ERR_OK && vc_refresh(ci) != PCI_ERR_OK;
	return PCI_ERR_OK;
}

static pci_err_t msix_read(pcicap_capinst_t *ci, pci_cap_t cap)
{
	msix_priv_t *p = host->cap_priv(cap);
	if (!p)
		return PCI_ERR_EINVAL;
	p->n = ((msix_state_t *)ci->state)->n;
	return PCI_ERR_OK;
}

static void msix_destroy(pcicap_capinst_t *ci)
{
	msix_state_t *st = ci->state;
	const volatile void *p = atomic_exchange(&st->pba, NULL);
	if (p)
		host->bar_unmap(ci, p, st->plen);
	state_free(st);
}

/* ------------------------------------------------------ count and setting */

static uint_t msix_get_nirq(pci_cap_t cap)
{
	const msix_priv_t *p = host ? host->cap_priv(cap) : NULL;
	return p ? p->n : 0;
}

static pci_err_t msix_set_nirq(pci_cap_t cap, pci_devhdl_t hdl, uint_t nirq)
{
	pcicap_capinst_t *ci;
	pci_err_t err = host ? host->check(cap, hdl, true, &ci) : PCI_ERR_EINVAL;
	if (err != PCI_ERR_OK)
		return err;
	msix_state_t *st = ci->state;
	if (nirq == 0 || nirq > st->n)
		return PCI_ERR_EINVAL;
	__atomic_store_n(&st->want, nirq, __ATOMIC_RELAXED); /* at the next enable */
	return PCI_ERR_OK;
}

static pci_err_t msix_set_irq_entry(pci_cap_t cap, pci_devhdl_t hdl, uint_t entry, int_t disp)
{
	pcicap_capinst_t *ci;
	pci_err_t err = host ? host->check(cap, hdl, true, &ci) : PCI_ERR_EINVAL;
	if (err != PCI_ERR_OK)
		return err;
	msix_state_t *st = ci->state;
	if (entry >= st->n || disp < -1 ||
	    (disp >= 0 && (uint_t)disp >= __atomic_load_n(&st->want, __ATOMIC_RELAXED)))
		return PCI_ERR_EINVAL;
	__atomic_store_n(&st->disp[entry], (int16_t)disp,
			 __ATOMIC_RELAXED); /* at the next enable */
	return PCI_ERR_OK;
}

static cap_msix_pba_t *msix_get_pba_ptr(pci_cap_t cap, pci_devhdl_t hdl)
{
	pcicap_capinst_t *ci;
	if (!host || host->check(cap, hdl, false, &ci) != PCI_ERR_OK)
		return NULL;
	msix_state_t *st = ci->state;
	return (cap_msix_pba_t *)atomic_load_explicit(&st->pba, memory_order_acquire);
}

/* ---------------------------------------------------------------- masking */

/* The masking calls: the API table's entries check (cap, hdl) with
 * host->check() (the _isr flavour reports a device that is gone as
 * temporarily unavailable, as QNX documents, and touches nothing then) and
 * go on as the masking ops, which the core's dispatcher calls with the
 * instance it has resolved. Every device access goes through st->io. */
#define prep(cap, hdl, isr, cip) pcicap_mod_check(host, cap, hdl, true, isr, cip)

static pci_err_t available(pcicap_capinst_t *ci, uint_t flags)
{
	const msix_state_t *st = ci->state;
	return pcicap_mod_present(&st->io, ci, flags & PCICAP_MASK_ISR);
}

/* Set or clear the mask bit of entry @e: one write, plus one read of the
 * entry when @flush (a mask is complete only once the write has landed).
 * The shadow changes when the write succeeded. */
static inline __attribute__((always_inline)) pci_err_t entry_mask(msix_state_t *st, uint_t e,
								  bool mask, bool flush)
{
	uint32_t *sh = &st->vc[e];
	if (!pcicap_mod_lock(&st->lock))
		return PCI_ERR_EAGAIN;
	uint32_t v = __atomic_load_n(sh, __ATOMIC_RELAXED);
	v = mask ? v | VC_MASKBIT : v & ~VC_MASKBIT;
	uint64_t off = vc_off(st, e);
	st->buf = htole32(v);
	pci_err_t err = st->io.bar_write(st->io.ctx, st->bdf, st->tbir, off, &st->buf, 4);
	if (err == PCI_ERR_OK) {
		__atomic_store_n(sh, v, __ATOMIC_RELAXED);
		if (flush)
			err = st->io.bar_read(st->io.ctx, st->bdf, st->tbir, off, &st->buf, 4);
	}
	pcicap_mod_unlock(&st->lock);
	return err;
}

/* The same outside the masking calls (enable, disable). */
static pci_err_t entry_set(pcicap_capinst_t *ci, uint_t e, bool mask)
{
	return entry_mask(ci->state, e, mask, false);
}

/* Mask (PCICAP_MASK_SET) or unmask entry @e, a mask flushed. The hot path
 * of the library: one present(), the lock, one write, one read. */
static pci_err_t msix_mask_entry(pcicap_capinst_t *ci, uint_t flags, uint_t e)
{
	msix_state_t *st = ci->state;
	if (__builtin_expect(e >= st->n_ok, 0))
		return e >= st->n ? PCI_ERR_EINVAL : st->table_err;
	pci_err_t err = st->io.present(st->io.ctx, st->bdf);
	if (__builtin_expect(err != PCI_ERR_OK, 0))
		return (flags & PCICAP_MASK_ISR) ? PCI_ERR_DEV_NOT_AVAIL : err;
	return (flags & PCICAP_MASK_SET) ? entry_mask(st, e, true, true)
					 : entry_mask(st, e, false, false);
}

/* Message Control, 16 bits, through the access ops. */
static pci_err_t ctrl_rd16(pcicap_capinst_t *ci, uint32_t *val)
{
	const pcicap_access_t *a = &((msix_state_t *)ci->state)->io;
	uint16_t b = 0;
	pci_err_t err = a->cfg_read(a->ctx, ci->bdf, ci->offset + MSIX_CTRL, &b, 2);
	*val = le16toh(b);
	return err;
}

static pci_err_t ctrl_wr16(pcicap_capinst_t *ci, uint32_t val)
{
	const pcicap_access_t *a = &((msix_state_t *)ci->state)->io;
	uint16_t b = htole16((uint16_t)val);
	return a->cfg_write(a->ctx, ci->bdf, ci->offset + MSIX_CTRL, &b, 2);
}

/* Set (PCICAP_MASK_SET) or clear the Function Mask: one config write, none
 * when it is in that state already (PCI_ERR_EALREADY). While MSI-X is
 * disabled the register is read first: a reset the library does not see
 * clears it. */
static pci_err_t msix_mask_all(pcicap_capinst_t *ci, uint_t flags)
{
	bool mask = flags & PCICAP_MASK_SET;
	pci_err_t err = available(ci, flags);
	if (err != PCI_ERR_OK)
		return err;
	msix_state_t *st = ci->state;
	uint32_t c;
	if (!shadow_lock(st, &st->ctrl, &c))
		return PCI_ERR_EAGAIN;
	if (atomic_load_explicit(&st->nirq, memory_order_acquire) == 0) {
		uint32_t v;
		err = ctrl_rd16(ci, &v);
		if (err == PCI_ERR_OK)
			c = v;
	}
	if (err == PCI_ERR_OK) {
		st->fmask_calls++; /* an enable in progress leaves the mask to us */
		if (!(c & CTRL_FMASK) == !mask) {
			err = PCI_ERR_EALREADY;
		} else {
			uint32_t v = mask ? c | CTRL_FMASK : c & ~CTRL_FMASK;
			err = ctrl_wr16(ci, v);
			if (err == PCI_ERR_OK)
				c = v;
		}
	}
	shadow_unlock(st, &st->ctrl, c);
	return err;
}

static pci_err_t do_mask_entry(pci_cap_t cap, pci_devhdl_t hdl, uint_t e, uint_t flags)
{
	pcicap_capinst_t *ci;
	pci_err_t err = prep(cap, hdl, flags & PCICAP_MASK_ISR, &ci);
	return err != PCI_ERR_OK ? err : msix_mask_entry(ci, flags, e);
}

static pci_err_t do_mask_all(pci_cap_t cap, pci_devhdl_t hdl, uint_t flags)
{
	pcicap_capinst_t *ci;
	pci_err_t err = prep(cap, hdl, flags & PCICAP_MASK_ISR, &ci);
	return err != PCI_ERR_OK ? err : msix_mask_all(ci, flags);
}

#define MSIX_ENTRY_POINTS(sfx, isr)                                                                \
	static pci_err_t msix_mask_irq_entry##sfx(pci_cap_t c, pci_devhdl_t h, uint_t e)           \
	{                                                                                          \
		return do_mask_entry(c, h, e, PCICAP_MASK_SET | (isr));                            \
	}                                                                                          \
	static pci_err_t msix_unmask_irq_entry##sfx(pci_cap_t c, pci_devhdl_t h, uint_t e)         \
	{                                                                                          \
		return do_mask_entry(c, h, e, isr);                                                \
	}                                                                                          \
	static pci_err_t msix_mask_irq_all##sfx(pci_cap_t c, pci_devhdl_t h)                       \
	{                                                                                          \
		return do_mask_all(c, h, PCICAP_MASK_SET | (isr));                                 \
	}                                                                                          \
	static pci_err_t msix_unmask_irq_all##sfx(pci_cap_t c, pci_devhdl_t h)                     \
	{                                                                                          \
		return do_mask_all(c, h, isr);                                                     \
	}

MSIX_ENTRY_POINTS(, 0u)
MSIX_ENTRY_POINTS(_isr, PCICAP_MASK_ISR)

/* ------------------------------------------------------ enable, disable */

/* The IRQ slot of every entry (-1: unused) from the dispositions and the
 * count; *nslots = highest slot + 1, so that IRQ i serves slot i. */
static pci_err_t entry_slots(msix_state_t *st, int_t *slot, uint_t *nslots)
{
	uint_t want = __atomic_load_n(&st->want, __ATOMIC_RELAXED), top = 0;
	for (uint_t e = 0; e < st->n; e++) {
		int_t d = __atomic_load_n(&st->disp[e], __ATOMIC_RELAXED);
		if (d == DISP_DEFAULT)
			d = e < want ? (int_t)e : -1;
		if (d >= (int_t)want)
			return PCI_ERR_EINVAL; /* set_nirq() lowered the count below it */
		slot[e] = d;
		if (d >= 0 && (uint_t)d + 1 > top)
			top = (uint_t)d + 1;
	}
	*nslots = top;
	return top ? PCI_ERR_OK : PCI_ERR_CAP_NIRQ; /* every entry unused */
}

/* Program used entry @e with @m, masked: read the entry (for the way
 * back), write data and vector control (mask set, the other bits kept),
 * then the address. Four accesses. */
static pci_err_t entry_program(pcicap_capinst_t *ci, uint_t e, const pcicap_irq_msg_t *m,
			       saved_t *sv, uint_t *nsv)
{
	msix_state_t *st = ci->state;
	uint64_t base = st->toff + (uint64_t)ENTRY * e, q0, q1;
	uint32_t vc;
	if (!shadow_lock(st, &st->vc[e], &vc))
		return PCI_ERR_EAGAIN;
	pci_err_t err = host->bar_rd(ci, st->tbir, base, 8, &q0);
	if (err == PCI_ERR_OK)
		err = host->bar_rd(ci, st->tbir, base + 8, 8, &q1);
	if (err == PCI_ERR_OK) {
		uint32_t nvc = (uint32_t)(q1 >> 32) | VC_MASKBIT;
		vc = (uint32_t)(q1 >> 32);
		err = host->bar_wr(ci, st->tbir, base + 8, 8, m->data | (uint64_t)nvc << 32);
		if (err == PCI_ERR_OK) {
			vc = nvc;
			sv[(*nsv)++] = (saved_t){.e = e, .full = true, .q0 = q0, .q1 = q1};
			err = host->bar_wr(ci, st->tbir, base, 8, m->addr);
		}
	}
	shadow_unlock(st, &st->vc[e], vc);
	return err;
}

/* Mask unused entry @e if it is not (read, write when needed). */
static pci_err_t entry_quiet(pcicap_capinst_t *ci, uint_t e, saved_t *sv, uint_t *nsv)
{
	msix_state_t *st = ci->state;
	uint32_t vc;
	if (!shadow_lock(st, &st->vc[e], &vc))
		return PCI_ERR_EAGAIN;
	uint64_t v;
	pci_err_t err = host->bar_rd(ci, st->tbir, vc_off(st, e), 4, &v);
	if (err == PCI_ERR_OK) {
		vc = (uint32_t)v;
		if (!(vc & VC_MASKBIT)) {
			err = host->bar_wr(ci, st->tbir, vc_off(st, e), 4, vc | VC_MASKBIT);
			if (err == PCI_ERR_OK) {
				sv[(*nsv)++] = (saved_t){.e = e, .q1 = vc};
				vc |= VC_MASKBIT;
			}
		}
	}
	shadow_unlock(st, &st->vc[e], vc);
	return err;
}

/* Put an entry back as enable found it. */
static void entry_restore(pcicap_capinst_t *ci, const saved_t *s)
{
	msix_state_t *st = ci->state;
	uint64_t base = st->toff + (uint64_t)ENTRY * s->e;
	uint32_t vc;
	if (!shadow_lock(st, &st->vc[s->e], &vc))
		return;
	if (s->full) {
		host->bar_wr(ci, st->tbir, base, 8, s->q0); /* address first, still masked */
		if (host->bar_wr(ci, st->tbir, base + 8, 8, s->q1) == PCI_ERR_OK)
			vc = (uint32_t)(s->q1 >> 32);
	} else if (host->bar_wr(ci, st->tbir, base + ENTRY_VC, 4, s->q1) == PCI_ERR_OK) {
		vc = (uint32_t)s->q1;
	}
	shadow_unlock(st, &st->vc[s->e], vc);
}

/* Undo a failed enable (best effort: the device failed once already):
 * MSI-X off with the function mask on, the entries, then Message Control
 * as it was. */
static void restore(pcicap_capinst_t *ci, uint32_t old_ctrl, const saved_t *sv, uint_t nsv)
{
	msix_state_t *st = ci->state;
	uint32_t quiet = (old_ctrl | CTRL_FMASK) & ~CTRL_ENABLE;
	uint32_t cur = shadow_peek(&st->ctrl);
	if (cur != old_ctrl && cur != quiet)
		ctrl_write(ci, quiet);
	for (uint_t i = nsv; i-- > 0;)
		entry_restore(ci, &sv[i]);
	if (shadow_peek(&st->ctrl) != old_ctrl)
		ctrl_write(ci, old_ctrl);
}

/* Allocate, then program the table in a safe order. *got = IRQs held. */
static pci_err_t enable_direct(pcicap_capinst_t *ci, pci_reqType_t req, const int_t *slot,
			       uint_t nslots, uint_t *got)
{
	msix_state_t *st = ci->state;
	pcicap_irq_msg_t *msgs = malloc(nslots * sizeof(*msgs));
	saved_t *sv = malloc(st->n * sizeof(*sv));
	uint_t k = 0, nsv = 0;
	pci_err_t err = (msgs && sv) ? PCI_ERR_OK : PCI_ERR_ENOMEM;
	if (err == PCI_ERR_OK)
		err = host->irq_alloc_req(ci, nslots, req, PCICAP_IRQ_ADDR64, msgs, &k);
	if (err != PCI_ERR_OK)
		goto out;
	for (uint_t i = 0; i < k; i++)
		st->irqs[i] = msgs[i].irq;

	/* 1. Function Mask on, MSI-X off, while the table is written */
	uint32_t old;
	err = ctrl_read(ci, &old);
	if (err != PCI_ERR_OK) {
		host->irq_free(ci, st->irqs, k);
		goto out;
	}
	uint32_t calls = __atomic_load_n(&st->fmask_calls, __ATOMIC_RELAXED);
	uint32_t ctrl = (old | CTRL_FMASK) & ~CTRL_ENABLE;
	if (ctrl != old)
		err = ctrl_update(ci, CTRL_FMASK, CTRL_ENABLE, NULL);
	/* 2. used entries programmed masked (slot d folded onto IRQ d mod k),
	 *    unused ones masked where they are not */
	for (uint_t e = 0; e < st->n && err == PCI_ERR_OK; e++) {
		if (slot[e] >= 0)
			err = entry_program(ci, e, &msgs[(uint_t)slot[e] % k], sv, &nsv);
		else if (st->stale || !(shadow_peek(&st->vc[e]) & VC_MASKBIT))
			err = entry_quiet(ci, e, sv, &nsv);
	}
	/* 3. MSI-X on, 4. Function Mask as it was */
	if (err == PCI_ERR_OK)
		err = ctrl_update(ci, CTRL_ENABLE, 0, NULL);
	/* the Function Mask as it was, unless the driver set it meanwhile */
	if (err == PCI_ERR_OK && !(old & CTRL_FMASK))
		err = ctrl_update(ci, 0, CTRL_FMASK, &calls);
	/* 5. the IRQs in slot order, then Bus Master and INTx Disable */
	if (err == PCI_ERR_OK)
		err = host->set_irqs(ci, st->irqs, k);
	if (err == PCI_ERR_OK && (err = host->cmd_msgs(ci, true, &st->intx_saved)) != PCI_ERR_OK)
		host->set_irqs(ci, NULL, 0);
	if (err != PCI_ERR_OK) {
		host->irq_free(ci, st->irqs, k);
		restore(ci, old, sv, nsv);
	} else {
		st->stale = false;
		*got = k;
	}
out:
	free(msgs);
	free(sv);
	return err;
}

/* The backend programs the messages itself (VFIO): ask it for the slots,
 * folding them onto fewer IRQs as the request type allows. */
static pci_err_t enable_by_backend(pcicap_capinst_t *ci, pci_reqType_t req, const int_t *slot,
				   uint_t nslots, uint_t *got)
{
	msix_state_t *st = ci->state;
	/* every entry masked first, as on the direct path: the driver unmasks
	 * (the backend keeps the vector controls: VFIO's table is the kernel's) */
	uint64_t masked[(2048 + 63) / 64] = {0};
	pci_err_t err = st->stale ? vc_refresh(ci) : PCI_ERR_OK;
	for (uint_t e = 0; e < st->n && err == PCI_ERR_OK; e++)
		if (!(shadow_peek(&st->vc[e]) & VC_MASKBIT) &&
		    (err = entry_set(ci, e, true)) == PCI_ERR_OK)
			masked[e / 64] |= 1ull << (e % 64);
	int_t *folded = err == PCI_ERR_OK ? malloc(st->n * sizeof(*folded)) : NULL;
	if (!folded) {
		err = err == PCI_ERR_OK ? PCI_ERR_ENOMEM : err;
		goto undo;
	}
	st->stale = false;
	err = PCI_ERR_IRQ_NOT_AVAIL;
	uint_t k = nslots;
	for (; k >= 1; k--) {
		for (uint_t e = 0; e < st->n; e++)
			folded[e] = slot[e] < 0 ? -1 : (int_t)((uint_t)slot[e] % k);
		err = host->msg_enable(ci, PCICAP_IRQ_KIND_MSIX, st->n, folded, k, st->irqs);
		if (err != PCI_ERR_IRQ_NOT_AVAIL || req == pci_reqType_e_MANDATORY)
			break;
	}
	free(folded);
	if (err == PCI_ERR_IRQ_NOT_AVAIL && req == pci_reqType_e_MANDATORY)
		err = PCI_ERR_CAP_NIRQ;
	if (err != PCI_ERR_OK)
		goto undo;
	uint32_t ctrl;
	ctrl_read(ci, &ctrl); /* the shadow follows what the backend did */
	err = host->set_irqs(ci, st->irqs, k);
	if (err == PCI_ERR_OK && (err = host->cmd_msgs(ci, true, &st->intx_saved)) != PCI_ERR_OK)
		host->set_irqs(ci, NULL, 0);
	if (err == PCI_ERR_OK) {
		*got = k;
		return PCI_ERR_OK;
	}
	host->msg_disable(ci, PCICAP_IRQ_KIND_MSIX);
undo:
	/* as it was: unmask what was unmasked before */
	for (uint_t e = 0; e < st->n; e++)
		if (masked[e / 64] & (1ull << (e % 64)))
			entry_set(ci, e, false);
	return err;
}

static pci_err_t msix_enable(pcicap_capinst_t *ci, pci_devhdl_t hdl, pci_reqType_t req,
			     pci_cap_t cap)
{
	(void)hdl;
	(void)cap;
	msix_state_t *st = ci->state;
	if (host->cap_enabled(ci, 0x05))
		return PCI_ERR_MSI_ENABLED;
	if (st->table_err != PCI_ERR_OK)
		return st->table_err;
	int_t *slot = malloc(st->n * sizeof(*slot));
	if (!slot)
		return PCI_ERR_ENOMEM;
	uint_t nslots = 0, k = 0;
	pci_err_t err = entry_slots(st, slot, &nslots);
	if (err == PCI_ERR_OK) {
		st->by_backend = host->backend_programs_msgs(ci);
		err = st->by_backend ? enable_by_backend(ci, req, slot, nslots, &k)
				     : enable_direct(ci, req, slot, nslots, &k);
	}
	free(slot);
	if (err != PCI_ERR_OK) {
		host->log(ci, PCICAP_LOG_WARN, "MSI-X enable failed (%d): nothing changed",
			  (int)err);
		return err;
	}
	/* the live PBA for cap_msix_get_pba_ptr(), when the backend maps BARs */
	const volatile void *p = NULL;
	if (st->pba_ok && host->bar_map(ci, st->pbir, st->poff, st->plen, &p) != PCI_ERR_OK)
		p = NULL;
	atomic_store_explicit(&st->pba, p, memory_order_release);
	atomic_store_explicit(&st->nirq, k, memory_order_release);
	return PCI_ERR_OK;
}

/* Let the IRQs and the PBA view go; no register access. */
static void release(pcicap_capinst_t *ci)
{
	msix_state_t *st = ci->state;
	const volatile void *p = atomic_exchange(&st->pba, NULL);
	if (p)
		host->bar_unmap(ci, p, st->plen);
	uint_t k = atomic_exchange(&st->nirq, 0);
	if (k) {
		if (st->by_backend)
			host->msg_disable(ci, PCICAP_IRQ_KIND_MSIX);
		else
			host->irq_free(ci, st->irqs, k);
	}
	host->set_irqs(ci, NULL, 0);
}

static pci_err_t msix_disable(pcicap_capinst_t *ci, pci_devhdl_t hdl, pci_reqType_t req,
			      pci_cap_t cap)
{
	(void)hdl;
	(void)req;
	(void)cap;
	msix_state_t *st = ci->state;
	pci_err_t err = PCI_ERR_OK;
	if (st->by_backend) {
		/* the backend masks and disables: the point of no return */
		err = host->msg_disable(ci, PCICAP_IRQ_KIND_MSIX);
		if (err != PCI_ERR_OK)
			return err;
		st->stale = true;
		st->by_backend = false; /* done: release() has no messages to give back */
		atomic_store(&st->nirq, 0);
		host->set_irqs(ci, NULL, 0);
	} else {
		/* 1. every entry masked (those the shadows show unmasked; the
		 *    config write of step 2 is ordered after these writes) */
		uint64_t masked[(2048 + 63) / 64] = {0};
		for (uint_t e = 0; e < st->n && err == PCI_ERR_OK; e++) {
			if (shadow_peek(&st->vc[e]) & VC_MASKBIT)
				continue;
			err = entry_set(ci, e, true);
			if (err == PCI_ERR_OK)
				masked[e / 64] |= 1ull << (e % 64);
		}
		/* 2. MSI-X off (the Function Mask stays as the driver left it):
		 *    from here on the device is disabled */
		if (err == PCI_ERR_OK)
			err = ctrl_update(ci, 0, CTRL_ENABLE, NULL);
		if (err != PCI_ERR_OK) {
			/* as it was: unmask what step 1 masked */
			for (uint_t e = 0; e < st->n; e++)
				if (masked[e / 64] & (1ull << (e % 64)))
					entry_set(ci, e, false);
			host->log(ci, PCICAP_LOG_WARN, "MSI-X disable failed (%d): nothing changed",
				  (int)err);
			return err;
		}
	}
	/* 3. INTx Disable as before enable; Bus Master stays */
	pci_err_t cmd_err = host->cmd_msgs(ci, false, &st->intx_saved);
	if (cmd_err != PCI_ERR_OK)
		host->log(ci, PCICAP_LOG_WARN, "INTx Disable not restored: %d", (int)cmd_err);
	/* 4. IRQs back */
	release(ci);
	return PCI_ERR_OK;
}

static void msix_forget(pcicap_capinst_t *ci)
{
	msix_state_t *st = ci->state;
	release(ci);
	st->stale = true;
}

static pci_err_t msix_quiesce(pcicap_capinst_t *ci)
{
	/* the core cleared Enable and Function Mask and masked every entry */
	msix_state_t *st = ci->state;
	uint32_t ctrl;
	pci_err_t err = ctrl_read(ci, &ctrl);
	if (err == PCI_ERR_OK && st->table_err == PCI_ERR_OK)
		err = vc_refresh(ci);
	st->stale = err != PCI_ERR_OK;
	return PCI_ERR_OK;
}

static const cap_msix_api_t msix_api = {
    .get_nirq = msix_get_nirq,
    .set_nirq = msix_set_nirq,
    .set_irq_entry = msix_set_irq_entry,
    .get_pba_ptr = msix_get_pba_ptr,
    .mask_irq_entry = msix_mask_irq_entry,
    .unmask_irq_entry = msix_unmask_irq_entry,
    .mask_irq_all = msix_mask_irq_all,
    .unmask_irq_all = msix_unmask_irq_all,
    .get_nirq_isr = msix_get_nirq,
    .mask_irq_entry_isr = msix_mask_irq_entry_isr,
    .unmask_irq_entry_isr = msix_unmask_irq_entry_isr,
    .mask_irq_all_isr = msix_mask_irq_all_isr,
    .unmask_irq_all_isr = msix_unmask_irq_all_isr,
};

PCICAP_MODULE_REGISTER(.capid = 0x11, .name = "msix", .api_version = {1, 0}, .api = &msix_api,
		       .state_size = sizeof(msix_state_t), .cap_priv_size = sizeof(msix_priv_t),
		       .attach = msix_attach, .read = msix_read, .enable = msix_enable,
		       .disable = msix_disable, .quiesce = msix_quiesce, .forget = msix_forget,
		       .destroy = msix_destroy, .mask_entry = msix_mask_entry,
		       .mask_all = msix_mask_all);
