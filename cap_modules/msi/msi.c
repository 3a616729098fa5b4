/*
 * pci_cap-0x05.so: the MSI capability module.
 *
 * Register layout (PCI Local Bus 3.0, 6.8.1): Message Control at +2
 * (enable bit 0, Multiple Message Capable 3:1, Multiple Message Enable 6:4,
 * 64-bit 7, per-vector masking 8), address at +4 (+8 upper half when
 * 64-bit), data at +8 / +0xC, mask bits at +0xC / +0x10 and pending bits at
 * +0x10 / +0x14 when per-vector masking is there.
 *
 * Masking keeps a shadow of the mask register: a mask or unmask is one
 * config write and no read, under a spin lock so that any number of threads
 * (and interrupt handlers) lose no update. The masking calls reach the mask
 * register through the backend's access ops that the core publishes in the
 * instance (pcicap_access_t); the core's dispatcher hands them the instance
 * it has resolved (the module's mask_entry and mask_bits ops). See
 * docs/msi.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <pci/cap_msi.h>
#include <pcicap/cap_module.h>

#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_CTRL_ENABLE 0x0001u
#define MSI_CTRL_MMC(c) (((c) >> 1) & 7u)
#define MSI_CTRL_MME_MASK 0x0070u
#define MSI_CTRL_MME_SHIFT 4
#define MSI_CTRL_64BIT 0x0080u
#define MSI_CTRL_PVM 0x0100u

typedef struct {
	/* what the capability is (read once, at attach) */
	uint16_t ctrl;   /* Message Control at attach: its read-only bits */
	bool is64, pvm;
	uint_t mmc;      /* vectors the device can use: 1..32 */
	uint32_t capmask; /* mask bits below mmc */
	uint_t off_data, off_mask, off_pend;
	/* what the driver asked for, used at the next enable */
	uint_t want;
	/* while enabled */
	uint_t nvec;
	pci_irq_t irqs[32];
	bool by_backend; /* the backend programmed the messages (VFIO) */
	bool intx_saved;
	/* the mask register's shadow, changed under the lock; the lock word
	 * holds the owning thread, so a signal handler that interrupts a call
	 * on the same capability is told PCI_ERR_EAGAIN instead of spinning */
	uintptr_t lock;
	uint32_t shadow;
	uint32_t buf; /* the bytes of a mask register write (under the lock) */
	/* the device access of the masking calls: pcicap_mod_access()'s ops,
	 * copied, and the instance's BDF */
	pcicap_access_t io;
	pci_bdf_t bdf;
} msi_state_t;

/* The private part of each pci_cap_t: what get_nirq() needs, lock-free. */
typedef struct {
	uint32_t mmc;
} msi_priv_t;

static const pcicap_host_t *host;

#define spin_lock(l) pcicap_mod_lock(l)
#define spin_unlock(l) pcicap_mod_unlock(l)

/* ------------------------------------------------------------ lifecycle */

static pci_err_t msi_attach(pcicap_capinst_t *ci)
{
	host = ci->host;
	msi_state_t *st = ci->state;
	uint32_t ctrl, mask = 0;
	pci_err_t err = host->cfg_rd(ci, ci->offset + MSI_CTRL, 2, &ctrl);
	if (err != PCI_ERR_OK)
		return err;
	st->ctrl = (uint16_t)ctrl;
	st->is64 = ctrl & MSI_CTRL_64BIT;
	st->pvm = ctrl & MSI_CTRL_PVM;
	uint_t mmc_log2 = MSI_CTRL_MMC(ctrl);
	st->mmc = 1u << (mmc_log2 > 5 ? 5 : mmc_log2); /* 6 and 7 are reserved */
	st->capmask = st->mmc == 32 ? 0xFFFFFFFFu : (1u << st->mmc) - 1;
	st->off_data = ci->offset + (st->is64 ? 0x0C : 0x08);
	st->off_mask = ci->offset + (st->is64 ? 0x10 : 0x0C);
	st->off_pend = ci->offset + (st->is64 ? 0x14 : 0x10);
	st->want = 1;
	st->lock = 0;
	const pcicap_access_t *io = pcicap_mod_access(ci, &st->io);
	if (io != &st->io)
		st->io = *io;
	st->bdf = ci->bdf;
	if (st->pvm) {
		err = host->cfg_rd(ci, st->off_mask, 4, &mask);
		if (err != PCI_ERR_OK)
			return err;
	}
	st->shadow = mask & st->capmask;
	return PCI_ERR_OK;
}

static pci_err_t msi_read(pcicap_capinst_t *ci, pci_cap_t cap)
{
	msi_priv_t *p = host->cap_priv(cap);
	if (!p)
		return PCI_ERR_EINVAL;
	p->mmc = ((msi_state_t *)ci->state)->mmc;
	return PCI_ERR_OK;
}

/* ------------------------------------------------------ count and setting */

static uint_t msi_get_nirq(pci_cap_t cap)
{
	const msi_priv_t *p = host ? host->cap_priv(cap) : NULL;
	return p ? p->mmc : 0;
}

static pci_err_t msi_set_nirq(pci_cap_t cap, pci_devhdl_t hdl, uint_t nirq)
{
	pcicap_capinst_t *ci;
	pci_err_t err = host ? host->check(cap, hdl, true, &ci) : PCI_ERR_EINVAL;
	if (err != PCI_ERR_OK)
		return err;
	msi_state_t *st = ci->state;
	if (nirq == 0 || (nirq & (nirq - 1)) || nirq > st->mmc)
		return PCI_ERR_EINVAL;
	__atomic_store_n(&st->want, nirq, __ATOMIC_RELAXED); /* used at the next enable */
	return PCI_ERR_OK;
}

/* ---------------------------------------------------------------- masking */

/* Common checks of the mask/pending calls of the API table: a valid (cap,
 * hdl), and per-vector masking. */
static pci_err_t prep(pci_cap_t cap, pci_devhdl_t hdl, bool owner, bool isr, pcicap_capinst_t **cip)
{
	pcicap_capinst_t *ci;
	pci_err_t err = pcicap_mod_check(host, cap, hdl, owner, isr, &ci);
	if (err != PCI_ERR_OK)
		return err;
	if (!((msi_state_t *)ci->state)->pvm)
		return PCI_ERR_ENOTSUP;
	*cip = ci;
	return PCI_ERR_OK;
}

#define available(ci, isr) pcicap_mod_available(host, ci, isr)

/* Set @set and clear @clr in the mask register: one write (through the
 * access ops), no read. */
static pci_err_t mask_update(msi_state_t *st, uint32_t set, uint32_t clr)
{
	if (!spin_lock(&st->lock))
		return PCI_ERR_EAGAIN;
	uint32_t v = (st->shadow | set) & ~clr & st->capmask;
	st->buf = htole32(v);
	pci_err_t err = st->io.cfg_write(st->io.ctx, st->bdf, st->off_mask, &st->buf, 4);
	if (err == PCI_ERR_OK)
		st->shadow = v;
	spin_unlock(&st->lock);
	return err;
}

/* The masking ops (the core's dispatcher calls them with the instance it has
 * resolved; the API table's entries after prep()): mask (PCICAP_MASK_SET) or
 * unmask @bits. */
static pci_err_t msi_mask_bits(pcicap_capinst_t *ci, uint_t flags, uint32_t bits)
{
	msi_state_t *st = ci->state;
	if (!st->pvm)
		return PCI_ERR_ENOTSUP;
	if (bits & ~st->capmask)
		return PCI_ERR_EINVAL; /* no such vector */
	pci_err_t err = pcicap_mod_present(&st->io, ci, flags & PCICAP_MASK_ISR);
	if (err != PCI_ERR_OK)
		return err;
	return (flags & PCICAP_MASK_SET) ? mask_update(st, bits, 0) : mask_update(st, 0, bits);
}

static pci_err_t msi_mask_entry(pcicap_capinst_t *ci, uint_t flags, uint_t entry)
{
	msi_state_t *st = ci->state;
	if (st->pvm && entry >= st->mmc)
		return PCI_ERR_EINVAL;
	return msi_mask_bits(ci, flags, entry < 32 ? 1u << entry : 0);
}

static pci_err_t do_mask(pci_cap_t cap, pci_devhdl_t hdl, uint32_t bits, uint_t flags)
{
	pcicap_capinst_t *ci;
	pci_err_t err = prep(cap, hdl, true, flags & PCICAP_MASK_ISR, &ci);
	return err != PCI_ERR_OK ? err : msi_mask_bits(ci, flags, bits);
}

static pci_err_t do_mask_entry(pci_cap_t cap, pci_devhdl_t hdl, uint_t entry, uint_t flags)
{
	pcicap_capinst_t *ci;
	pci_err_t err = prep(cap, hdl, true, flags & PCICAP_MASK_ISR, &ci);
	return err != PCI_ERR_OK ? err : msi_mask_entry(ci, flags, entry);
}

/* The mask register (from the shadow: no access) or the pending register
 * (one read of the device). */
static pci_err_t do_get(pci_cap_t cap, pci_devhdl_t hdl, uint32_t *out, bool pending, bool isr)
{
	pcicap_capinst_t *ci;
	pci_err_t err = prep(cap, hdl, false, isr, &ci);
	if (err != PCI_ERR_OK)
		return err;
	if (!out)
		return PCI_ERR_EINVAL;
	err = available(ci, isr);
	if (err != PCI_ERR_OK)
		return err;
	msi_state_t *st = ci->state;
	/* under the lock in both cases: a signal handler re-entering on this
	 * capability then gets EAGAIN instead of meeting the device access */
	if (!spin_lock(&st->lock))
		return PCI_ERR_EAGAIN;
	uint32_t v = st->shadow;
	if (pending)
		err = host->cfg_rd(ci, st->off_pend, 4, &v);
	spin_unlock(&st->lock);
	if (err == PCI_ERR_OK)
		*out = v & st->capmask;
	return err;
}

#define MSI_ENTRY_POINTS(sfx, isr)                                                                 \
	static pci_err_t msi_get_irq_pend##sfx(pci_cap_t c, pci_devhdl_t h, cap_msi_pend_t *p)     \
	{                                                                                          \
		return do_get(c, h, p, true, isr);                                                 \
	}                                                                                          \
	static pci_err_t msi_get_irq_mask##sfx(pci_cap_t c, pci_devhdl_t h, cap_msi_mask_t *m)     \
	{                                                                                          \
		return do_get(c, h, m, false, isr);                                                \
	}                                                                                          \
	static pci_err_t msi_mask_irq##sfx(pci_cap_t c, pci_devhdl_t h, cap_msi_mask_t v)          \
	{                                                                                          \
		return do_mask(c, h, v, PCICAP_MASK_SET | ((isr) ? PCICAP_MASK_ISR : 0u));         \
	}                                                                                          \
	static pci_err_t msi_unmask_irq##sfx(pci_cap_t c, pci_devhdl_t h, cap_msi_mask_t v)        \
	{                                                                                          \
		return do_mask(c, h, v, (isr) ? PCICAP_MASK_ISR : 0u);                             \
	}                                                                                          \
	static pci_err_t msi_mask_irq_entry##sfx(pci_cap_t c, pci_devhdl_t h, uint_t e)            \
	{                                                                                          \
		return do_mask_entry(c, h, e, PCICAP_MASK_SET | ((isr) ? PCICAP_MASK_ISR : 0u));   \
	}                                                                                          \
	static pci_err_t msi_unmask_irq_entry##sfx(pci_cap_t c, pci_devhdl_t h, uint_t e)          \
	{                                                                                          \
		return do_mask_entry(c, h, e, (isr) ? PCICAP_MASK_ISR : 0u);                       \
	}

MSI_ENTRY_POINTS(, false)
MSI_ENTRY_POINTS(_isr, true)

/* ------------------------------------------------------ enable, disable */

/* Registers that enable writes, as they were, to put back on failure. */
typedef struct {
	uint32_t ctrl, lo, hi, data, mask;
} msi_regs_t;

static pci_err_t snapshot(pcicap_capinst_t *ci, msi_regs_t *r)
{
	msi_state_t *st = ci->state;
	pci_err_t err = host->cfg_rd(ci, ci->offset + MSI_CTRL, 2, &r->ctrl);
	if (err == PCI_ERR_OK)
		err = host->cfg_rd(ci, ci->offset + MSI_ADDR_LO, 4, &r->lo);
	if (err == PCI_ERR_OK && st->is64)
		err = host->cfg_rd(ci, ci->offset + 8, 4, &r->hi);
	if (err == PCI_ERR_OK)
		err = host->cfg_rd(ci, st->off_data, 2, &r->data);
	r->mask = st->shadow;
	return err;
}

/* Put the registers back after a failed enable (best effort: the device
 * failed once already), control first so that nothing is live meanwhile. */
static void restore(pcicap_capinst_t *ci, const msi_regs_t *r)
{
	msi_state_t *st = ci->state;
	host->cfg_wr(ci, ci->offset + MSI_CTRL, 2, r->ctrl & ~MSI_CTRL_ENABLE);
	host->cfg_wr(ci, ci->offset + MSI_ADDR_LO, 4, r->lo);
	if (st->is64)
		host->cfg_wr(ci, ci->offset + 8, 4, r->hi);
	host->cfg_wr(ci, st->off_data, 2, r->data);
	if (st->pvm && spin_lock(&st->lock)) {
		if (host->cfg_wr(ci, st->off_mask, 4, r->mask) == PCI_ERR_OK)
			st->shadow = r->mask;
		spin_unlock(&st->lock);
	}
	host->cfg_wr(ci, ci->offset + MSI_CTRL, 2, r->ctrl);
}

static uint_t log2u(uint_t n)
{
	uint_t l = 0;
	while ((1u << l) < n)
		l++;
	return l;
}

/* The backend programs the messages itself (VFIO): ask it for the largest
 * count the request type allows. */
static pci_err_t enable_by_backend(pcicap_capinst_t *ci, pci_reqType_t req, uint_t *n)
{
	msi_state_t *st = ci->state;
	pci_err_t err = PCI_ERR_IRQ_NOT_AVAIL;
	for (uint_t k = __atomic_load_n(&st->want, __ATOMIC_RELAXED); k >= 1; k /= 2) {
		err = host->msg_enable(ci, PCICAP_IRQ_KIND_MSI, 0, NULL, k, st->irqs);
		if (err == PCI_ERR_OK) {
			*n = k;
			return PCI_ERR_OK;
		}
		if (err != PCI_ERR_IRQ_NOT_AVAIL || req == pci_reqType_e_MANDATORY)
			break;
	}
	if (err == PCI_ERR_IRQ_NOT_AVAIL && req == pci_reqType_e_MANDATORY)
		err = PCI_ERR_CAP_NIRQ;
	return err;
}

static pci_err_t msi_enable(pcicap_capinst_t *ci, pci_devhdl_t hdl, pci_reqType_t req,
			    pci_cap_t cap)
{
	(void)hdl;
	(void)cap;
	msi_state_t *st = ci->state;
	if (host->cap_enabled(ci, 0x11))
		return PCI_ERR_MSIX_ENABLED;
	msi_regs_t old;
	pci_err_t err = snapshot(ci, &old);
	if (err != PCI_ERR_OK)
		return err;
	uint_t n = 0;
	pcicap_irq_msg_t msgs[32];
	st->by_backend = host->backend_programs_msgs(ci);
	if (!st->by_backend) {
		err = host->irq_alloc_req(ci, __atomic_load_n(&st->want, __ATOMIC_RELAXED), req,
					  PCICAP_IRQ_CONTIG | (st->is64 ? PCICAP_IRQ_ADDR64 : 0u),
					  msgs, &n);
		if (err != PCI_ERR_OK)
			return err;
		for (uint_t i = 0; i < n; i++)
			st->irqs[i] = msgs[i].irq;
	}
	bool have_irqs = !st->by_backend, cmd_set = false;

	/* 1. MSI off while it is programmed */
	uint32_t ctrl = old.ctrl & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME_MASK);
	if (old.ctrl != ctrl)
		err = host->cfg_wr(ci, ci->offset + MSI_CTRL, 2, ctrl);
	/* 2. every vector masked: the driver unmasks when its handler is ready */
	if (err == PCI_ERR_OK && st->pvm)
		err = mask_update(st, st->capmask, 0);
	if (st->by_backend) {
		/* 3'. the backend allocates, programs and enables */
		if (err == PCI_ERR_OK)
			err = enable_by_backend(ci, req, &n);
		have_irqs = err == PCI_ERR_OK;
	} else {
		/* 3. address, data, vector count */
		if (err == PCI_ERR_OK)
			err = host->cfg_wr(ci, ci->offset + MSI_ADDR_LO, 4, (uint32_t)msgs[0].addr);
		if (err == PCI_ERR_OK && st->is64)
			err = host->cfg_wr(ci, ci->offset + 8, 4, (uint32_t)(msgs[0].addr >> 32));
		if (err == PCI_ERR_OK)
			err = host->cfg_wr(ci, st->off_data, 2, msgs[0].data & 0xFFFF);
		ctrl |= log2u(n) << MSI_CTRL_MME_SHIFT;
		if (err == PCI_ERR_OK)
			err = host->cfg_wr(ci, ci->offset + MSI_CTRL, 2, ctrl);
		/* 4. then enable */
		if (err == PCI_ERR_OK)
			err = host->cfg_wr(ci, ci->offset + MSI_CTRL, 2, ctrl | MSI_CTRL_ENABLE);
	}
	/* 5. the IRQs for pci_device_read_irq(), then Bus Master and INTx
	 *    Disable last: nothing can fail after them */
	if (err == PCI_ERR_OK)
		err = host->set_irqs(ci, st->irqs, n);
	if (err == PCI_ERR_OK) {
		err = host->cmd_msgs(ci, true, &st->intx_saved);
		cmd_set = err == PCI_ERR_OK;
		if (err != PCI_ERR_OK)
			host->set_irqs(ci, NULL, 0);
	}
	if (err != PCI_ERR_OK) {
		/* put everything back: IRQs, registers, Command */
		if (have_irqs && st->by_backend)
			host->msg_disable(ci, PCICAP_IRQ_KIND_MSI);
		else if (have_irqs)
			host->irq_free(ci, st->irqs, n);
		restore(ci, &old);
		if (cmd_set)
			host->cmd_msgs(ci, false, &st->intx_saved);
		host->log(ci, PCICAP_LOG_WARN, "MSI enable failed (%d): registers put back", (int)err);
		return err;
	}
	st->nvec = n;
	return PCI_ERR_OK;
}

static void release(pcicap_capinst_t *ci)
{
	msi_state_t *st = ci->state;
	if (st->nvec) {
		if (st->by_backend)
			host->msg_disable(ci, PCICAP_IRQ_KIND_MSI);
		else
			host->irq_free(ci, st->irqs, st->nvec);
	}
	st->nvec = 0;
	host->set_irqs(ci, NULL, 0);
}

static pci_err_t msi_disable(pcicap_capinst_t *ci, pci_devhdl_t hdl, pci_reqType_t req,
			     pci_cap_t cap)
{
	(void)hdl;
	(void)req;
	(void)cap;
	msi_state_t *st = ci->state;
	uint32_t ctrl;
	pci_err_t err = host->cfg_rd(ci, ci->offset + MSI_CTRL, 2, &ctrl);
	if (err != PCI_ERR_OK)
		return err;
	uint32_t old_mask = st->shadow;
	/* 1. every vector masked */
	if (st->pvm && (err = mask_update(st, st->capmask, 0)) != PCI_ERR_OK)
		return err;
	/* 2. MSI off: from here on the device is disabled (by the backend
	 *    when it programmed the messages: a refusal leaves MSI on) */
	if (!st->by_backend)
		err = host->cfg_wr(ci, ci->offset + MSI_CTRL, 2,
				   ctrl & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME_MASK));
	else if (st->nvec && (err = host->msg_disable(ci, PCICAP_IRQ_KIND_MSI)) == PCI_ERR_OK)
		st->nvec = 0; /* given back: release() has nothing left to give */
	if (err != PCI_ERR_OK) {
		if (st->pvm)
			mask_update(st, 0, ~old_mask); /* as it was */
		return err;
	}
	/* 3. INTx Disable as before enable; Bus Master stays */
	pci_err_t e = host->cmd_msgs(ci, false, &st->intx_saved);
	if (e != PCI_ERR_OK)
		host->log(ci, PCICAP_LOG_WARN, "INTx Disable not restored: %d", (int)e);
	/* 4. IRQs back */
	release(ci);
	return PCI_ERR_OK;
}

static void msi_forget(pcicap_capinst_t *ci)
{
	release(ci);
}

static pci_err_t msi_quiesce(pcicap_capinst_t *ci)
{
	/* the core cleared the enable bit (first owner), or the function was
	 * reset: read the mask register again */
	msi_state_t *st = ci->state;
	uint32_t mask;
	if (st->pvm && host->cfg_rd(ci, st->off_mask, 4, &mask) == PCI_ERR_OK && spin_lock(&st->lock)) {
		st->shadow = mask & st->capmask;
		spin_unlock(&st->lock);
	}
	return PCI_ERR_OK;
}

static const cap_msi_api_t msi_api = {
    .get_nirq = msi_get_nirq,
    .set_nirq = msi_set_nirq,
    .get_irq_pend = msi_get_irq_pend,
    .get_irq_mask = msi_get_irq_mask,
    .mask_irq = msi_mask_irq,
    .unmask_irq = msi_unmask_irq,
    .mask_irq_entry = msi_mask_irq_entry,
    .unmask_irq_entry = msi_unmask_irq_entry,
    .get_nirq_isr = msi_get_nirq,
    .get_irq_pend_isr = msi_get_irq_pend_isr,
    .get_irq_mask_isr = msi_get_irq_mask_isr,
    .mask_irq_isr = msi_mask_irq_isr,
    .unmask_irq_isr = msi_unmask_irq_isr,
    .mask_irq_entry_isr = msi_mask_irq_entry_isr,
    .unmask_irq_entry_isr = msi_unmask_irq_entry_isr,
};

PCICAP_MODULE_REGISTER(.capid = 0x05, .name = "msi", .api_version = {1, 0}, .api = &msi_api,
		       .state_size = sizeof(msi_state_t), .cap_priv_size = sizeof(msi_priv_t),
		       .attach = msi_attach, .read = msi_read, .enable = msi_enable,
		       .disable = msi_disable, .quiesce = msi_quiesce, .forget = msi_forget,
		       .mask_entry = msi_mask_entry, .mask_bits = msi_mask_bits);
