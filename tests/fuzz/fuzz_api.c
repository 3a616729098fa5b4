/* libFuzzer harness 3: API sequences against simulated devices.
 *
 * The first three bytes shape the devices (MSI vector count and features,
 * MSI-X table size, IRQ pool size); the rest is a sequence of calls, each
 * an opcode byte and its arguments: attach/detach, read_cap,
 * set_nirq/set_irq_entry, enable/disable, every mask call (plain and _isr),
 * raise, removal, hold-off, a fault injected into the next call, reset,
 * read_irq, the PBA pointer, raw config writes, forged handles and objects.
 *
 * After every step, for each device that is present and was not touched by
 * a fault since its last clean first-owner attach: the library's enable
 * record of MSI and MSI-X equals the Enable bits in the device, the MSI
 * mask the library reports equals the Mask Bits register, the IRQs it
 * reports are held (allocated in the simulator) exactly while a capability
 * is enabled, inside the pool, never shared between devices. A raw write into an MSI/MSI-X structure is
 * refused and changes nothing. At the end, after detaching everything,
 * every IRQ is back in the pool. */
#include <pcicap/irq.h>

#include "fuzz_common.h"

#define NDEV   3
#define NSLOT  8
#define NSTALE 4
#define MSI    0
#define MSIX   1

static const pci_bdf_t bdfs[NDEV] = {PCI_BDF(1, 0, 0), PCI_BDF(2, 0, 0), PCI_BDF(3, 0, 0)};

typedef struct {
	pci_devhdl_t h;
	int dev;
	bool owner;
} slot_t;

static slot_t slots[NSLOT];
static pci_devhdl_t stale[NSTALE];
static unsigned nstale;
static pci_cap_t caps[NDEV][2];
static uint_t capoff[NDEV][2]; /* 0: the device has no such capability */
static uint8_t caplen[NDEV][2];
static bool removed[NDEV], held[NDEV], tainted[NDEV], pvm0;
static int fault_dev = -1;
static uint_t pool;

/* Seeds: three driver sessions in the harness's encoding (shape bytes,
 * then opcode and arguments): MSI with 8 maskable vectors; MSI-X with 16
 * entries on a pool of 4 IRQs, dispositions, masks and the function mask;
 * an enable with a fault at its third access, then a clean one. */
static void write_seeds(const char *dir)
{
	static const uint8_t msi[] = {0x83, 7, 63, 0, 0, 1, 0, 2, 0, 3, 0, 0, 8, 5, 0, 0, 1, 7,
				      0,    0, 0,  3, 9, 0, 3, 8, 0, 0, 1, 6, 0, 0, 2, 1, 0};
	static const uint8_t msix[] = {0,  15, 3, 0, 1, 1, 0, 2, 4,  3, 0,  4, 6, 4, 0,
				       4,  9,  2, 5, 0, 4, 1, 7, 0,  4, 0,  5, 7, 0, 4,
				       10, 9,  1, 5, 7, 0, 4, 8, 14, 0, 10, 1, 0};
	static const uint8_t fault[] = {0x83, 7, 63, 0, 0, 1, 0, 2, 0, 12, 0,
					3,    5, 0,  0, 0, 5, 0, 0, 0, 1,  0};
	fz_seed(dir, "msi", msi[0], msi + 1, sizeof(msi) - 1);
	fz_seed(dir, "msix", msix[0], msix + 1, sizeof(msix) - 1);
	fz_seed(dir, "fault", fault[0], fault + 1, sizeof(fault) - 1);
}

FZ_HARNESS(write_seeds)

static void setup(fz_in_t *in)
{
	uint8_t s0 = fz_u8(in), s1 = fz_u8(in), s2 = fz_u8(in);
	pcicap_sim_clear();
	pool = 1 + s2 % 64u;
	FZ_CHECK(pcicap_sim_set_irqs(pool) == PCI_ERR_OK);
	pcicap_sim_device_t d;
	/* 1:0.0: MSI only, shaped by the input */
	pcicap_sim_device_init(&d);
	d.msi.vectors = 1u << (s0 % 6);
	d.msi.addr64 = s0 & 0x40;
	d.msi.maskable = pvm0 = s0 & 0x80;
	FZ_CHECK(pcicap_sim_add_device(bdfs[0], &d) == PCI_ERR_OK);
	/* 2:0.0: MSI-X of 1..64 entries, and MSI */
	pcicap_sim_device_init(&d);
	d.bar[0].size = 16384;
	d.msix.entries = 1 + s1 % 64u;
	d.msix.pba_off = 0x2000;
	d.msi.vectors = 4;
	d.msi.addr64 = d.msi.maskable = true;
	FZ_CHECK(pcicap_sim_add_device(bdfs[1], &d) == PCI_ERR_OK);
	/* 3:0.0: PCIe with FLR, MSI and MSI-X */
	pcicap_sim_device_init(&d);
	d.pcie = d.flr = true;
	d.bar[0].size = 8192;
	d.msix.entries = 8;
	d.msix.pba_off = 0x1000;
	d.msi.vectors = 8;
	d.msi.maskable = true;
	FZ_CHECK(pcicap_sim_add_device(bdfs[2], &d) == PCI_ERR_OK);
	memset(slots, 0, sizeof(slots));
	memset(caps, 0, sizeof(caps));
	memset(capoff, 0, sizeof(capoff));
	nstale = 0;
	fault_dev = -1;
	for (int i = 0; i < NDEV; i++) {
		removed[i] = held[i] = tainted[i] = false;
		for (int k = 0; k < 2; k++) {
			int_t idx =
			    pci_device_find_capid(bdfs[i], k == MSI ? CAPID_MSI : CAPID_MSIX);
			if (idx >= 0)
				FZ_CHECK(pcicap_device_cap_offset(bdfs[i], (uint_t)idx,
								  &capoff[i][k]) == PCI_ERR_OK);
		}
		caplen[i][MSI] =
		    (uint8_t)(0x0A + (fz_peek(bdfs[i], capoff[i][MSI] + 2, 2) & 0x80 ? 4 : 0) +
			      (fz_peek(bdfs[i], capoff[i][MSI] + 2, 2) & 0x100 ? 10 : 0));
		caplen[i][MSIX] = 12;
	}
}

static bool unavailable(int dev)
{
	return removed[dev] || held[dev] || fault_dev == dev;
}

static slot_t *pick_slot(fz_in_t *in)
{
	return &slots[fz_u8(in) % NSLOT];
}

/* A handle: live, stale, forged or NULL. */
static pci_devhdl_t pick_handle(fz_in_t *in, int *dev)
{
	uint8_t b = fz_u8(in);
	*dev = -1;
	if (b < 200) {
		slot_t *s = &slots[b % NSLOT];
		if (s->h)
			*dev = s->dev;
		return s->h;
	}
	if (b < 240)
		return nstale ? stale[b % nstale] : NULL;
	return (pci_devhdl_t)(uintptr_t)fz_u32(in);
}

/* A capability object: read ones, NULL, or a forged block. */
static pci_cap_t pick_cap(fz_in_t *in, int *dev, int *kind)
{
	static uint64_t forged[4];
	uint8_t b = fz_u8(in);
	*dev = b % NDEV;
	*kind = (b / NDEV) % 2;
	if (b >= 250) {
		for (int i = 0; i < 4; i++)
			forged[i] = (uint64_t)fz_u32(in) << 32 | fz_u32(in);
		return (pci_cap_t)forged;
	}
	return caps[*dev][*kind];
}

static void op_attach(fz_in_t *in)
{
	static const pci_attachFlags_t flags[] = {
	    pci_attachFlags_e_SHARED,    pci_attachFlags_OWNER,
	    pci_attachFlags_MULTI_OWNER, pci_attachFlags_EXCLUSIVE_OWNER,
	    pci_attachFlags_e_EXCLUSIVE,
	};
	int dev = fz_u8(in) % NDEV;
	uint8_t fb = fz_u8(in);
	pci_attachFlags_t f = fb < 200 ? flags[fb % 5] : (fz_u32(in) & ~(pci_attachFlags_t)0x18);
	slot_t *s = pick_slot(in);
	bool other_owner = false;
	for (int i = 0; i < NSLOT; i++)
		other_owner |= slots[i].h && slots[i].dev == dev && slots[i].owner;
	pci_err_t e;
	pci_devhdl_t h = pci_device_attach(bdfs[dev], f, &e);
	FZ_CHECK((h != NULL) == (e == PCI_ERR_OK));
	if (!h) {
		FZ_CHECK(e == PCI_ERR_EINVAL || e == PCI_ERR_ATTACH_EXCLUSIVE ||
			 e == PCI_ERR_ATTACH_SHARED || e == PCI_ERR_ATTACH_OWNED ||
			 e == PCI_ERR_ATTACH_LIMIT || e == PCI_ERR_ENODEV ||
			 e == PCI_ERR_DEV_NOT_AVAIL);
		return;
	}
	bool owner = f & (pci_attachFlags_e_OWNER | pci_attachFlags_e_EXCLUSIVE);
	/* a clean first-owner attach quiesced the device: the record (nothing
	 * enabled) and the registers agree again */
	if (owner && !other_owner && !unavailable(dev))
		tainted[dev] = false;
	if (s->h) {
		FZ_CHECK(pci_device_detach(h) == PCI_ERR_OK);
		return;
	}
	*s = (slot_t){.h = h, .dev = dev, .owner = owner};
}

static void op_detach(fz_in_t *in)
{
	int dev;
	pci_devhdl_t h = pick_handle(in, &dev);
	pci_err_t e = pci_device_detach(h);
	if (dev < 0) {
		FZ_CHECK(e == PCI_ERR_EINVAL);
		return;
	}
	FZ_CHECK(e == PCI_ERR_OK || e == PCI_ERR_ENODEV);
	if (unavailable(dev))
		tainted[dev] = true; /* a failed disable: the next owner quiesces */
	for (int i = 0; i < NSLOT; i++)
		if (slots[i].h == h)
			slots[i].h = NULL;
	stale[nstale++ % NSTALE] = h;
	if (nstale > NSTALE)
		nstale = NSTALE;
	/* a second detach of the same handle is refused */
	FZ_CHECK(pci_device_detach(h) == PCI_ERR_EINVAL);
}

static void op_read_cap(fz_in_t *in)
{
	uint8_t b = fz_u8(in);
	int dev = b % NDEV, kind = (b / NDEV) % 2;
	int_t idx = pci_device_find_capid(bdfs[dev], kind == MSI ? CAPID_MSI : CAPID_MSIX);
	if (idx < 0)
		return;
	pci_cap_t c = caps[dev][kind];
	pci_err_t e = pci_device_read_cap(bdfs[dev], &c, (uint_t)idx);
	if (e == PCI_ERR_OK)
		FZ_CHECK(c && (!caps[dev][kind] || c == caps[dev][kind]));
	else
		FZ_CHECK(!c); /* the old object was released */
	caps[dev][kind] = c;
}

static pci_err_t set_nirq(int kind, pci_devhdl_t h, pci_cap_t c, uint_t n)
{
	return kind == MSI ? cap_msi_set_nirq(h, c, n) : cap_msix_set_nirq(h, c, n);
}

static void op_set(fz_in_t *in, bool entry)
{
	int hdev, dev, kind;
	pci_devhdl_t h = pick_handle(in, &hdev);
	pci_cap_t c = pick_cap(in, &dev, &kind);
	uint8_t nb = fz_u8(in);
	uint_t n = nb < 128 ? nb % 70u : fz_u32(in);
	pci_err_t e;
	if (entry)
		e = cap_msix_set_irq_entry(h, c, n, (int_t)(int8_t)fz_u8(in));
	else
		e = set_nirq(kind, h, c, n);
	FZ_CHECK(e == PCI_ERR_OK || e == PCI_ERR_EINVAL || e == PCI_ERR_NOT_OWNER ||
		 e == PCI_ERR_ENODEV || e == PCI_ERR_DEV_NOT_AVAIL);
}

static pci_reqType_t pick_req(fz_in_t *in)
{
	uint8_t b = fz_u8(in);
	return b < 250 ? (pci_reqType_t)(pci_reqType_e_MANDATORY + b % 3) : (pci_reqType_t)b;
}

static void op_enable(fz_in_t *in, bool on)
{
	int hdev, dev, kind;
	pci_devhdl_t h = pick_handle(in, &hdev);
	pci_cap_t c = pick_cap(in, &dev, &kind);
	pci_reqType_t r = pick_req(in);
	bool before = pci_device_cfg_cap_isenabled(h, c);
	pci_err_t e = on ? pci_device_cfg_cap_enable(h, r, c) : pci_device_cfg_cap_disable(h, r, c);
	bool after = pci_device_cfg_cap_isenabled(h, c);
	if (e == PCI_ERR_OK)
		FZ_CHECK(after == on && before != on);
	else
		FZ_CHECK(after == before);
	if (hdev >= 0 && unavailable(hdev))
		tainted[hdev] = true;
}

static pci_err_t mask_entry(int kind, pci_devhdl_t h, pci_cap_t c, uint_t e, bool mask, bool isr)
{
	if (kind == MSI) {
		if (mask)
			return isr ? cap_msi_mask_irq_entry_isr(h, c, e)
				   : cap_msi_mask_irq_entry(h, c, e);
		return isr ? cap_msi_unmask_irq_entry_isr(h, c, e)
			   : cap_msi_unmask_irq_entry(h, c, e);
	}
	if (mask)
		return isr ? cap_msix_mask_irq_entry_isr(h, c, e)
			   : cap_msix_mask_irq_entry(h, c, e);
	return isr ? cap_msix_unmask_irq_entry_isr(h, c, e) : cap_msix_unmask_irq_entry(h, c, e);
}

static bool mask_err_ok(pci_err_t e)
{
	return e == PCI_ERR_OK || e == PCI_ERR_EINVAL || e == PCI_ERR_NOT_OWNER ||
	       e == PCI_ERR_ENODEV || e == PCI_ERR_DEV_NOT_AVAIL || e == PCI_ERR_ENOTSUP ||
	       e == PCI_ERR_EALREADY || e == PCI_ERR_EIO || e == PCI_ERR_ASPACE_INVALID;
}

static void op_mask(fz_in_t *in)
{
	int hdev, dev, kind;
	pci_devhdl_t h = pick_handle(in, &hdev);
	pci_cap_t c = pick_cap(in, &dev, &kind);
	uint8_t how = fz_u8(in);
	bool isr = how & 1, mask = how & 2;
	pci_err_t e;
	switch ((how >> 2) % 3) {
	case 0: e = mask_entry(kind, h, c, fz_u8(in) % 80u, mask, isr); break;
	case 1: {
		cap_msi_mask_t bits = fz_u32(in);
		if (mask)
			e = isr ? cap_msi_mask_irq_isr(h, c, bits) : cap_msi_mask_irq(h, c, bits);
		else
			e = isr ? cap_msi_unmask_irq_isr(h, c, bits)
				: cap_msi_unmask_irq(h, c, bits);
		break;
	}
	default:
		if (mask)
			e = isr ? cap_msix_mask_irq_all_isr(h, c) : cap_msix_mask_irq_all(h, c);
		else
			e = isr ? cap_msix_unmask_irq_all_isr(h, c) : cap_msix_unmask_irq_all(h, c);
		break;
	}
	FZ_CHECK(mask_err_ok(e));
	if (hdev >= 0 && unavailable(hdev))
		tainted[hdev] = true;
}

static void op_query(fz_in_t *in)
{
	int hdev, dev, kind;
	pci_devhdl_t h = pick_handle(in, &hdev);
	pci_cap_t c = pick_cap(in, &dev, &kind);
	cap_msi_mask_t m;
	cap_msi_pend_t p;
	uint8_t how = fz_u8(in);
	pci_err_t e;
	if (how & 1)
		e = (how & 2) ? cap_msi_get_irq_mask_isr(h, c, &m) : cap_msi_get_irq_mask(h, c, &m);
	else
		e = (how & 2) ? cap_msi_get_irq_pend_isr(h, c, &p) : cap_msi_get_irq_pend(h, c, &p);
	FZ_CHECK(mask_err_ok(e));
	cap_msix_pba_t *pba = cap_msix_get_pba_ptr(h, c);
	if (pba)
		(void)pba[0];
	uint_t n = kind == MSI ? cap_msi_get_nirq(c) : cap_msix_get_nirq(c);
	FZ_CHECK(n <= 2048);
}

static void op_raise(fz_in_t *in)
{
	int dev = fz_u8(in) % NDEV;
	pci_err_t e = pcicap_sim_raise(bdfs[dev], fz_u8(in) % 80u);
	FZ_CHECK(e == PCI_ERR_OK || e == PCI_ERR_EINVAL || e == PCI_ERR_ENODEV);
}

static void op_toggle(fz_in_t *in, bool removal)
{
	int dev = fz_u8(in) % NDEV;
	bool *flag = removal ? &removed[dev] : &held[dev];
	*flag = !*flag;
	FZ_CHECK((removal ? pcicap_sim_set_removed : pcicap_sim_set_hold_off)(bdfs[dev], *flag) ==
		 PCI_ERR_OK);
	tainted[dev] = true;
}

static void op_reset(fz_in_t *in)
{
	int hdev;
	pci_devhdl_t h = pick_handle(in, &hdev);
	uint8_t t = fz_u8(in);
	pci_resetType_e type = t < 200 ? pci_resetType_e_FUNCTION : (pci_resetType_e)(t - 200);
	pci_err_t e = pci_device_reset(h, type);
	FZ_CHECK(e != PCI_ERR_OK || hdev >= 0);
	if (hdev >= 0 && unavailable(hdev))
		tainted[hdev] = true;
}

static void op_read_irq(fz_in_t *in)
{
	int hdev;
	pci_devhdl_t h = pick_handle(in, &hdev);
	pci_irq_t irqs[64];
	int_t n = fz_u8(in) % 66;
	pci_err_t e = pci_device_read_irq(h, &n, n ? irqs : NULL);
	FZ_CHECK(e == PCI_ERR_OK || e == PCI_ERR_EINVAL || e == PCI_ERR_NOT_OWNER ||
		 e == PCI_ERR_ENODEV || e == PCI_ERR_DEV_NOT_AVAIL);
}

/* Raw config writes: refused (and nothing changed) over MSI and MSI-X. */
static void op_cfg_write(fz_in_t *in)
{
	int dev;
	pci_devhdl_t h = pick_handle(in, &dev);
	if (dev < 0)
		return;
	uint8_t wb = fz_u8(in);
	uint_t width = 1u << (wb % 4);
	uint_t off = fz_u8(in) & ~(width - 1);
	uint32_t v = fz_u32(in);
	if (dev == 2 && off < 0x80)
		return; /* the PCIe capability (an FLR behind the library's back) */
	uint8_t before[256], after[256];
	FZ_CHECK(pcicap_sim_peek_cfg(bdfs[dev], 0, before, 256) == PCI_ERR_OK);
	pci_err_t e;
	switch (width) {
	case 1: e = pci_device_cfg_wr8(h, off, (uint8_t)v, NULL); break;
	case 2: e = pci_device_cfg_wr16(h, off, (uint16_t)v, NULL); break;
	case 4: e = pci_device_cfg_wr32(h, off, v, NULL); break;
	default: e = pci_device_cfg_wr64(h, off, (uint64_t)v << 32 | fz_u32(in), NULL); break;
	}
	bool hits = false;
	for (int k = 0; k < 2; k++)
		if (capoff[dev][k] && off < capoff[dev][k] + caplen[dev][k] &&
		    capoff[dev][k] < off + width)
			hits = true;
	if (hits) {
		FZ_CHECK(e != PCI_ERR_OK);
		FZ_CHECK(pcicap_sim_peek_cfg(bdfs[dev], 0, after, 256) == PCI_ERR_OK);
		FZ_CHECK(memcmp(before, after, 256) == 0);
	}
	if (unavailable(dev))
		tainted[dev] = true;
}

static void op_forged(fz_in_t *in)
{
	uint64_t blk[4] = {fz_u32(in), fz_u32(in), fz_u32(in), fz_u32(in)};
	pci_cap_t c = (pci_cap_t)blk;
	pci_devhdl_t h = (pci_devhdl_t)(uintptr_t)fz_u32(in);
	FZ_CHECK(cap_msi_get_nirq(c) == 0 && cap_msix_get_nirq(c) == 0);
	FZ_CHECK(!pci_device_cfg_cap_isenabled(h, c));
	FZ_CHECK(pci_device_cfg_cap_enable(h, pci_reqType_e_ADVISORY, c) == PCI_ERR_EINVAL);
	FZ_CHECK(cap_msix_mask_irq_entry_isr(h, c, 0) == PCI_ERR_EINVAL);
	FZ_CHECK(pci_bdf(h) == PCI_BDF_NONE); /* a 32-bit value is never a handle */
}

static void step(fz_in_t *in);

/* The next call runs with a failure at its k-th device access. */
static void op_fault(fz_in_t *in)
{
	int dev = fz_u8(in) % NDEV;
	uint8_t kb = fz_u8(in);
	pci_err_t err = (kb & 0x80) ? PCI_ERR_DEV_NOT_AVAIL : PCI_ERR_EIO;
	FZ_CHECK(pcicap_sim_fail_access(bdfs[dev], 1 + kb % 32u, err) == PCI_ERR_OK);
	fault_dev = dev;
	tainted[dev] = true;
	step(in);
	FZ_CHECK(pcicap_sim_fail_access(bdfs[dev], 0, PCI_ERR_OK) == PCI_ERR_OK);
	fault_dev = -1;
}

static void step(fz_in_t *in)
{
	switch (fz_u8(in) % 17) {
	case 0: op_attach(in); break;
	case 1: op_detach(in); break;
	case 2: op_read_cap(in); break;
	case 3: op_set(in, false); break;
	case 4: op_set(in, true); break;
	case 5: op_enable(in, true); break;
	case 6: op_enable(in, false); break;
	case 7: op_mask(in); break;
	case 8: op_query(in); break;
	case 9: op_raise(in); break;
	case 10: op_toggle(in, true); break;
	case 11: op_toggle(in, false); break;
	case 12:
		if (fault_dev < 0)
			op_fault(in);
		break;
	case 13: op_reset(in); break;
	case 14: op_read_irq(in); break;
	case 15: op_cfg_write(in); break;
	default: op_forged(in); break;
	}
}

/* An owner handle of @dev, or NULL. */
static pci_devhdl_t owner_of(int dev)
{
	for (int i = 0; i < NSLOT; i++)
		if (slots[i].h && slots[i].dev == dev && slots[i].owner)
			return slots[i].h;
	return NULL;
}

static pci_devhdl_t any_of(int dev)
{
	for (int i = 0; i < NSLOT; i++)
		if (slots[i].h && slots[i].dev == dev)
			return slots[i].h;
	return NULL;
}

static void check_invariants(void)
{
	pci_irq_t all[NDEV * 64];
	int_t nall = 0;
	for (int d = 0; d < NDEV; d++) {
		if (removed[d] || held[d] || tainted[d])
			continue;
		pci_devhdl_t h = any_of(d);
		if (!h)
			continue;
		bool any_on = false;
		for (int k = 0; k < 2; k++) {
			if (!caps[d][k])
				continue;
			bool rec = pci_device_cfg_cap_isenabled(h, caps[d][k]);
			bool hw =
			    fz_hw_enabled(bdfs[d], k == MSI ? CAPID_MSI : CAPID_MSIX, capoff[d][k]);
			FZ_CHECK(rec == hw);
			any_on |= rec;
		}
		/* the MSI mask the library reports is the register's */
		cap_msi_mask_t m;
		if (caps[d][MSI] && (d != 0 || pvm0) &&
		    cap_msi_get_irq_mask(h, caps[d][MSI], &m) == PCI_ERR_OK) {
			uint32_t ctrl = fz_peek(bdfs[d], capoff[d][MSI] + 2, 2);
			uint_t mreg = capoff[d][MSI] + ((ctrl & 0x80) ? 0x10 : 0x0C);
			FZ_CHECK(m == fz_peek(bdfs[d], mreg, 4));
		}
		pci_devhdl_t o = owner_of(d);
		if (!o)
			continue;
		int_t n = 64;
		pci_irq_t irqs[64];
		FZ_CHECK(pci_device_read_irq(o, &n, irqs) == PCI_ERR_OK);
		/* both capability objects read: IRQs are held exactly while one is on */
		if (caps[d][MSI] && (caps[d][MSIX] || !capoff[d][MSIX]))
			FZ_CHECK((n > 0) == any_on);
		for (int_t i = 0; i < n; i++) {
			FZ_CHECK(irqs[i] >= 256 && irqs[i] < 256 + (pci_irq_t)pool);
			/* reported and held: the simulator has it allocated */
			FZ_CHECK(pcicap_irq_fd(o, irqs[i]) >= 0);
			for (int_t j = 0; j < nall; j++)
				FZ_CHECK(all[j] != irqs[i]);
		}
		/* slots may share an IRQ (MSI-X folding) within one device only */
		for (int_t i = 0; i < n; i++)
			all[nall + i] = irqs[i];
		nall += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in_t in = {data, size};
	setup(&in);
	for (int steps = 0; in.n && steps < 200; steps++) {
		step(&in);
		check_invariants();
	}
	for (int i = 0; i < NSLOT; i++)
		if (slots[i].h) {
			pci_err_t e = pci_device_detach(slots[i].h);
			FZ_CHECK(e == PCI_ERR_OK || e == PCI_ERR_ENODEV);
		}
	for (int d = 0; d < NDEV; d++) {
		FZ_CHECK(pcicap_sim_set_removed(bdfs[d], false) == PCI_ERR_OK);
		FZ_CHECK(pcicap_sim_set_hold_off(bdfs[d], false) == PCI_ERR_OK);
		for (int k = 0; k < 2; k++)
			free(caps[d][k]);
	}
	/* nothing leaked: every IRQ is back in the pool */
	FZ_CHECK(fz_pool_free(pool));
	pcicap_sim_clear();
	return 0;
}
