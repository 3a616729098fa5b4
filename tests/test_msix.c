/* The MSI-X module (pci_cap-0x11.so) through the cap_msix_* API, against the
 * simulator: counts and dispositions, request types and folding end to end,
 * the enable sequence and its access costs, masking (entries and function
 * mask), pending bits and the PBA pointer, every dump with MSI-X, table
 * layouts up to 2048 entries, faults at every access, removal and hold-off,
 * bad input, threads, signal handlers, the masking calls' memory of the last
 * pair. The suite also runs against the module built as an ABI-1-head
 * module (msix-abi1, tests/abi1-modules). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <pci/cap_msi.h>
#include <pci/cap_msix.h>
#include <pcicap/irq.h>

#include "expected_caps.h"
#include "testutil.h"

#define BDF  PCI_BDF(1, 0, 0)
#define BDF2 PCI_BDF(2, 0, 0)
#define MAXE 2048

typedef struct {
	pci_bdf_t bdf;
	pci_devhdl_t h;
	pci_cap_t cap;
	uint_t off; /* capability offset */
	uint_t n;   /* table size */
	int tbir, pbir;
	uint32_t toff, poff;
} msix_t;

/* A declarative device: the table in BAR @tbir at @toff, the PBA in BAR
 * @pbir at @poff; every BAR named is a 32-bit memory BAR big enough. */
static pci_bdf_t add_msix_at(pci_bdf_t bdf, uint_t entries, int tbir, uint32_t toff, int pbir,
			     uint32_t poff)
{
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.vid = 0x8086;
	d.did = 0x10c9;
	d.bar[0].kind = PCICAP_SIM_BAR_NONE;
	d.bar[0].size = 0;
	uint64_t end[6] = {0};
	end[tbir] = toff + 16ull * entries;
	uint64_t pend = poff + 8ull * ((entries + 63) / 64);
	if (pend > end[pbir])
		end[pbir] = pend;
	for (int b = 0; b < 6; b++) {
		if (!end[b])
			continue;
		uint64_t size = 4096;
		while (size < end[b])
			size *= 2;
		d.bar[b].kind = PCICAP_SIM_BAR_MEM32;
		d.bar[b].size = size;
		d.bar[b].addr = 0xf0000000u + 0x01000000u * (uint32_t)b;
	}
	d.msix.entries = entries;
	d.msix.table_bir = (uint8_t)tbir;
	d.msix.table_off = toff;
	d.msix.pba_bir = (uint8_t)pbir;
	d.msix.pba_off = poff;
	return tu_add(bdf, &d);
}

/* Table at BAR 0 offset 0, PBA after it on the next 4 KiB boundary. */
static pci_bdf_t add_msix(pci_bdf_t bdf, uint_t entries)
{
	return add_msix_at(bdf, entries, 0, 0, 0, (16 * entries + 0xFFF) & ~0xFFFu);
}

static msix_t open_msix(pci_bdf_t bdf, pci_attachFlags_t flags)
{
	msix_t x = {.bdf = bdf};
	pci_err_t err;
	x.h = pci_device_attach(bdf, flags, &err);
	assert_int_equal(err, PCI_ERR_OK);
	int_t idx = pci_device_find_capid(bdf, CAPID_MSIX);
	assert_true(idx >= 0);
	assert_int_equal(pcicap_device_cap_offset(bdf, (uint_t)idx, &x.off), PCI_ERR_OK);
	assert_int_equal(pci_device_read_cap(bdf, &x.cap, (uint_t)idx), PCI_ERR_OK);
	uint32_t t = tu_peek32(bdf, x.off + 4), p = tu_peek32(bdf, x.off + 8);
	x.tbir = (int)(t & 7);
	x.toff = t & ~7u;
	x.pbir = (int)(p & 7);
	x.poff = p & ~7u;
	x.n = cap_msix_get_nirq(x.cap);
	assert_int_equal(x.n, (tu_peek32(bdf, x.off) >> 16 & 0x7FF) + 1);
	return x;
}

static void close_msix(msix_t *x)
{
	assert_int_equal(pci_device_detach(x->h), PCI_ERR_OK);
	free(x->cap);
}

static uint16_t ctrl_of(const msix_t *x)
{
	return (uint16_t)(tu_peek32(x->bdf, x->off) >> 16);
}

static uint32_t vc_of(const msix_t *x, uint_t e)
{
	uint8_t b[4];
	assert_int_equal(pcicap_sim_peek_bar(x->bdf, x->tbir, x->toff + 16ull * e + 12, b, 4),
			 PCI_ERR_OK);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void entry_of(const msix_t *x, uint_t e, uint64_t *addr, uint32_t *data)
{
	uint8_t b[12];
	assert_int_equal(pcicap_sim_peek_bar(x->bdf, x->tbir, x->toff + 16ull * e, b, 12),
			 PCI_ERR_OK);
	uint64_t a = 0;
	for (int i = 7; i >= 0; i--)
		a = a << 8 | b[i];
	*addr = a;
	*data =
	    (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
}

static bool pba_bit(const msix_t *x, uint_t e)
{
	uint8_t b;
	assert_int_equal(pcicap_sim_peek_bar(x->bdf, x->pbir, x->poff + e / 8, &b, 1), PCI_ERR_OK);
	return b & (1u << (e % 8));
}

static uint64_t accesses(pci_bdf_t bdf)
{
	pcicap_sim_counters_t c = tu_counters(bdf);
	return c.cfg_reads + c.cfg_writes + c.bar_reads + c.bar_writes;
}

/* Config space, table and PBA as the device holds them. */
static size_t snap_size(const msix_t *x)
{
	return 256 + 16ull * x->n + 8ull * ((x->n + 63) / 64);
}

static void snap(const msix_t *x, uint8_t *buf)
{
	assert_int_equal(pcicap_sim_peek_cfg(x->bdf, 0, buf, 256), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_peek_bar(x->bdf, x->tbir, x->toff, buf + 256, 16ull * x->n),
			 PCI_ERR_OK);
	assert_int_equal(pcicap_sim_peek_bar(x->bdf, x->pbir, x->poff, buf + 256 + 16ull * x->n,
					     8ull * ((x->n + 63) / 64)),
			 PCI_ERR_OK);
}

static int_t irq_count_of(pci_devhdl_t h)
{
	int_t n = -1;
	assert_int_equal(pci_device_read_irq(h, &n, NULL), PCI_ERR_OK);
	return n;
}

static int_t read_irqs(pci_devhdl_t h, pci_irq_t *irqs)
{
	int_t n = MAXE;
	assert_int_equal(pci_device_read_irq(h, &n, irqs), PCI_ERR_OK);
	return n;
}

/* Raise every entry and check where it lands. @slot[e] is the entry's slot
 * (-1: unused). Each used entry is raised while masked (held pending, its
 * PBA bit set, nothing delivered), then unmasked: delivered to IRQ
 * slot mod k and to no other (with fds when k is small). Unused entries
 * stay pending. Leaves the used entries unmasked. */
static void check_routing(const msix_t *x, const int_t *slot)
{
	static pci_irq_t irqs[MAXE];
	int_t k = read_irqs(x->h, irqs);
	assert_true(k >= 1);
	bool use_fds = k <= 64;
	int fds[64];
	for (int_t i = 0; use_fds && i < k; i++) {
		fds[i] = pcicap_irq_fd(x->h, irqs[i]);
		assert_true(fds[i] >= 0);
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		uint64_t drain;
		if (poll(&p, 1, 0) == 1)
			assert_int_equal(read(fds[i], &drain, 8), 8);
	}
	cap_msix_pba_t *pba = cap_msix_get_pba_ptr(x->h, x->cap);
	assert_non_null(pba);
	for (uint_t e = 0; e < x->n; e++) {
		pcicap_sim_counters_t c0 = tu_counters(x->bdf);
		assert_true(vc_of(x, e) & 1); /* masked since enable */
		assert_int_equal(pcicap_sim_raise(x->bdf, e), PCI_ERR_OK);
		assert_true(pba_bit(x, e));
		assert_true(pba[e / 64] & (1ull << (e % 64))); /* seen through the pointer */
		pcicap_sim_counters_t c1 = tu_counters(x->bdf);
		assert_true(c1.irqs_delivered == c0.irqs_delivered);
		if (slot[e] < 0)
			continue;
		pci_irq_t target = irqs[(uint_t)slot[e] % (uint_t)k];
		uint64_t before = pcicap_sim_irq_count(target);
		assert_int_equal(cap_msix_unmask_irq_entry(x->h, x->cap, e), PCI_ERR_OK);
		assert_false(pba_bit(x, e));
		assert_false(pba[e / 64] & (1ull << (e % 64)));
		pcicap_sim_counters_t c2 = tu_counters(x->bdf);
		assert_true(c2.irqs_delivered == c1.irqs_delivered + 1);
		assert_true(c2.stray_msgs == c0.stray_msgs);
		assert_true(pcicap_sim_irq_count(target) == before + 1);
		/* again, unmasked: delivered at once */
		assert_int_equal(pcicap_sim_raise(x->bdf, e), PCI_ERR_OK);
		assert_true(pcicap_sim_irq_count(target) == before + 2);
		for (int_t i = 0; use_fds && i < k; i++) {
			struct pollfd p = {.fd = fds[i], .events = POLLIN};
			assert_int_equal(poll(&p, 1, 0), irqs[i] == target ? 1 : 0);
			if (irqs[i] == target) {
				uint64_t cnt = 0;
				assert_int_equal(read(fds[i], &cnt, 8), 8);
				assert_true(cnt == 2);
			}
		}
	}
	assert_true(tu_counters(x->bdf).stray_msgs == 0);
}

/* The slots an enable uses by default: entry i -> i below nirq. */
static void default_slots(int_t *slot, uint_t n, uint_t nirq)
{
	for (uint_t e = 0; e < n; e++)
		slot[e] = e < nirq ? (int_t)e : -1;
}

/* ------------------------------------------------------------------- */

static void test_get_and_set_nirq(void **state)
{
	(void)state;
	const uint_t sizes[] = {1, 2, 7, 64, 65, 2048};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		pcicap_sim_clear();
		uint_t n = sizes[i];
		add_msix(BDF, n);
		msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
		assert_int_equal(cap_msix_get_nirq(x.cap), n);
		assert_int_equal(cap_msix_get_nirq_isr(x.cap), n);
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 1), PCI_ERR_OK);
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, n), PCI_ERR_OK);
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, (n + 1) / 2), PCI_ERR_OK);
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 0), PCI_ERR_EINVAL);
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, n + 1), PCI_ERR_EINVAL);
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 0xFFFFFFFFu), PCI_ERR_EINVAL);
		close_msix(&x);
	}
	/* NULL and foreign objects: 0 or EINVAL, never a crash */
	struct _pci_cap fake = {{1, 0}, 0, NULL};
	assert_int_equal(cap_msix_get_nirq(NULL), 0);
	assert_int_equal(cap_msix_get_nirq(&fake), 0);
	assert_int_equal(cap_msix_get_nirq_isr(NULL), 0);
	assert_int_equal(cap_msix_get_nirq_isr(&fake), 0);
	assert_int_equal(cap_msix_set_nirq(NULL, NULL, 1), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_set_nirq(NULL, &fake, 1), PCI_ERR_EINVAL);
}

static void test_set_irq_entry(void **state)
{
	(void)state;
	add_msix(BDF, 16);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	pcicap_sim_reset_counters(BDF);
	/* never set: nirq = table size, so any slot below 16 */
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0, 15), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 15, 0), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 3, -1), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0, 16), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 16, 0), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0xFFFFFFFFu, 0), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0, -2), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0, INT32_MIN), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0, INT32_MAX), PCI_ERR_EINVAL);
	/* the bound is the requested count */
	assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 4), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 9, 3), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 9, 4), PCI_ERR_EINVAL);
	/* settings are stored: no device access */
	assert_int_equal(accesses(BDF), 0);
	/* owners only */
	pci_devhdl_t sh = pci_device_attach(BDF, pci_attachFlags_e_SHARED, NULL);
	assert_non_null(sh);
	assert_int_equal(cap_msix_set_irq_entry(sh, x.cap, 0, 0), PCI_ERR_NOT_OWNER);
	assert_int_equal(cap_msix_set_nirq(sh, x.cap, 2), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	/* a stale handle */
	pci_devhdl_t stale = x.h;
	close_msix(&x);
	x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msix_set_irq_entry(stale, x.cap, 0, 0), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_set_nirq(stale, x.cap, 2), PCI_ERR_EINVAL);
	close_msix(&x);
}

/* The registers an enable touches, in order, and the result. */
static void test_enable_sequence(void **state)
{
	(void)state;
	add_msix(BDF, 4);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 2), PCI_ERR_OK); /* entries 0, 1 */
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pcicap_sim_log_start(BDF, 64), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	pcicap_sim_access_t log[64];
	size_t n = 0;
	assert_int_equal(pcicap_sim_log_get(BDF, log, 64, &n), PCI_ERR_OK);
	assert_int_equal(n, 14);
	pci_irq_t irqs[MAXE];
	assert_int_equal(read_irqs(x.h, irqs), 2);
	uint64_t addr[2];
	uint32_t data[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pcicap_sim_irq_msg(irqs[i], &addr[i], &data[i]), PCI_ERR_OK);
	const uint_t ctrl = x.off + 2;
	/* Message Control read, then Function Mask on with MSI-X off */
	assert_int_equal(log[0].kind, PCICAP_SIM_CFG_READ);
	assert_int_equal(log[0].offset, ctrl);
	assert_int_equal(log[1].kind, PCICAP_SIM_CFG_WRITE);
	assert_int_equal(log[1].offset, ctrl);
	assert_int_equal(log[1].value & 0xC000, 0x4000);
	/* each used entry: read it, data + vector control (masked), address */
	for (uint_t e = 0; e < 2; e++) {
		const pcicap_sim_access_t *l = &log[2 + 4 * e];
		uint64_t base = x.toff + 16 * e;
		assert_int_equal(l[0].kind, PCICAP_SIM_BAR_READ);
		assert_int_equal(l[0].offset, base);
		assert_int_equal(l[0].width, 8);
		assert_int_equal(l[1].kind, PCICAP_SIM_BAR_READ);
		assert_int_equal(l[1].offset, base + 8);
		assert_int_equal(l[2].kind, PCICAP_SIM_BAR_WRITE);
		assert_int_equal(l[2].offset, base + 8);
		assert_int_equal(l[2].width, 8);
		assert_int_equal((uint32_t)l[2].value, data[e]);
		assert_int_equal(l[2].value >> 32 & 1, 1);
		assert_int_equal(l[3].kind, PCICAP_SIM_BAR_WRITE);
		assert_int_equal(l[3].offset, base);
		assert_true(l[3].value == addr[e]);
		for (int i = 0; i < 4; i++)
			assert_int_equal(l[i].bar, x.tbir);
	}
	/* enable with the function mask on, then the function mask as it was */
	assert_int_equal(log[10].kind, PCICAP_SIM_CFG_WRITE);
	assert_int_equal(log[10].offset, ctrl);
	assert_int_equal(log[10].value & 0xC000, 0xC000);
	assert_int_equal(log[11].kind, PCICAP_SIM_CFG_WRITE);
	assert_int_equal(log[11].offset, ctrl);
	assert_int_equal(log[11].value & 0xC000, 0x8000);
	/* Command: Bus Master and INTx Disable */
	assert_int_equal(log[12].kind, PCICAP_SIM_CFG_READ);
	assert_int_equal(log[12].offset, 0x04);
	assert_int_equal(log[13].kind, PCICAP_SIM_CFG_WRITE);
	assert_int_equal(log[13].offset, 0x04);
	assert_int_equal(log[13].value & 0x0404, 0x0404);
	/* the result: used entries hold their messages, every entry masked */
	for (uint_t e = 0; e < 4; e++) {
		uint64_t a;
		uint32_t d;
		entry_of(&x, e, &a, &d);
		if (e < 2) {
			assert_true(a == addr[e]);
			assert_int_equal(d, data[e]);
		} else {
			assert_true(a == 0);
			assert_int_equal(d, 0);
		}
		assert_int_equal(vc_of(&x, e), 1);
	}
	assert_int_equal(ctrl_of(&x) & 0xC000, 0x8000);
	assert_true(pci_device_cfg_cap_isenabled(x.h, x.cap));
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_EALREADY);
	assert_int_equal(pcicap_sim_log_start(BDF, 0), PCI_ERR_OK);
	close_msix(&x);
	/* detach disabled it */
	assert_int_equal(tu_peek32(BDF, x.off) >> 16 & 0x8000, 0);
}

/* QNX's sequence (function mask before enable): it stays set after
 * enable until the driver clears it, and the enable makes two accesses
 * fewer. */
static void test_function_mask_kept(void **state)
{
	(void)state;
	add_msix(BDF, 8);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(cap_msix_mask_irq_all(x.h, x.cap), PCI_ERR_OK);
	/* disabled: the register is read first */
	assert_int_equal(tu_counters(BDF).cfg_reads, 1);
	assert_int_equal(tu_counters(BDF).cfg_writes, 1);
	assert_int_equal(cap_msix_mask_irq_all(x.h, x.cap), PCI_ERR_EALREADY);
	for (uint_t e = 0; e < 8; e++)
		assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, e, (int_t)e), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 8), PCI_ERR_OK);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	assert_int_equal(accesses(BDF), 4 * 8 + 4);
	assert_int_equal(ctrl_of(&x) & 0xC000, 0xC000);
	for (uint_t e = 0; e < 8; e++)
		assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, e), PCI_ERR_OK);
	/* raised under the function mask: pending */
	assert_int_equal(pcicap_sim_raise(BDF, 5), PCI_ERR_OK);
	assert_true(pba_bit(&x, 5));
	assert_true(tu_counters(BDF).irqs_delivered == 0);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(cap_msix_unmask_irq_all(x.h, x.cap), PCI_ERR_OK);
	pcicap_sim_counters_t c = tu_counters(BDF);
	assert_true(c.cfg_writes == 1 && c.cfg_reads == 0 && c.bar_reads == 0 && c.bar_writes == 0);
	assert_true(c.irqs_delivered == 1);
	assert_false(pba_bit(&x, 5));
	assert_int_equal(cap_msix_unmask_irq_all(x.h, x.cap), PCI_ERR_EALREADY);
	close_msix(&x);
}

/* Capability lookups once the list has been walked and the modules have
 * read their registers: find_capid and read_cap touch the device no more,
 * for MSI-X and MSI alike (pcicap-bench: cap_lookup_cfg_accesses). */
static void test_lookup_costs(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.pcie = true;
	d.msi.vectors = 8;
	d.msi.addr64 = true;
	d.msi.maskable = true;
	d.msix.entries = 16;
	d.msix.pba_off = 0x800;
	tu_add(BDF, &d);
	const pci_capid_t ids[] = {CAPID_MSI, CAPID_MSIX};
	for (int round = 0; round < 3; round++) {
		pcicap_sim_reset_counters(BDF);
		for (size_t i = 0; i < 2; i++) {
			int_t idx = pci_device_find_capid(BDF, ids[i]);
			assert_int_equal(idx, (int_t)i + 1); /* after the PCIe capability */
			pci_cap_t cap = NULL;
			assert_int_equal(pci_device_read_cap(BDF, &cap, (uint_t)idx), PCI_ERR_OK);
			/* re-read in place as well */
			assert_int_equal(pci_device_read_cap(BDF, &cap, (uint_t)idx), PCI_ERR_OK);
			free(cap);
		}
		pcicap_sim_counters_t c = tu_counters(BDF);
		if (round == 0) {
			/* the identity (IDs, class, header type) when the core first
			 * sees the device; the walk: Status, the pointer, 3 headers,
			 * MSI control; the modules' attach: MSI control and mask,
			 * MSI-X control, table and PBA offsets, and the 16 vector
			 * control words */
			assert_int_equal(c.cfg_reads, 3 + 6 + 2 + 3);
			assert_int_equal(c.bar_reads, 16);
		} else {
			assert_int_equal(c.cfg_reads, 0);
			assert_int_equal(c.bar_reads, 0);
		}
		assert_int_equal(c.cfg_writes + c.bar_writes, 0);
	}
}

/* @fn on entry @e alone: @writes table writes, @reads table reads, no
 * config access, and the entry's mask bit @vc after it. */
static void entry_costs(const msix_t *x, pci_err_t (*fn)(pci_devhdl_t, pci_cap_t, uint_t), uint_t e,
			uint64_t writes, uint64_t reads, uint32_t vc)
{
	pcicap_sim_reset_counters(x->bdf);
	assert_int_equal(fn(x->h, x->cap, e), PCI_ERR_OK);
	pcicap_sim_counters_t c = tu_counters(x->bdf);
	assert_int_equal(c.bar_writes, writes);
	assert_int_equal(c.bar_reads, reads);
	assert_int_equal(c.cfg_reads + c.cfg_writes, 0);
	assert_int_equal(vc_of(x, e), vc);
}

/* Exact access counts: enable as a function of the used entries, masking,
 * disable. */
static void test_access_counts(void **state)
{
	(void)state;
	const uint_t used[] = {1, 16, 2048};
	for (size_t i = 0; i < 3; i++) {
		pcicap_sim_clear();
		assert_int_equal(pcicap_sim_set_irqs(MAXE), PCI_ERR_OK);
		add_msix(BDF, MAXE);
		msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
		uint_t u = used[i];
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, u), PCI_ERR_OK);
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
				 PCI_ERR_OK);
		pcicap_sim_counters_t c = tu_counters(BDF);
		print_message("enable, %u used entries: %llu config reads, %llu config writes, "
			      "%llu table reads, %llu table writes\n",
			      u, (unsigned long long)c.cfg_reads, (unsigned long long)c.cfg_writes,
			      (unsigned long long)c.bar_reads, (unsigned long long)c.bar_writes);
		assert_int_equal(c.cfg_reads, 2);  /* Message Control, Command */
		assert_int_equal(c.cfg_writes, 4); /* mask on, enable, mask off, Command */
		assert_int_equal(c.bar_reads, 2 * u);
		assert_int_equal(c.bar_writes, 2 * u);
		assert_true(accesses(BDF) <= 4 * MAXE + 8);
		assert_int_equal(irq_count_of(x.h), (int_t)u);

		/* masking: one write and one flushing read (also of a masked
		 * entry: no read to decide); unmasking one write */
		entry_costs(&x, cap_msix_unmask_irq_entry, 0, 1, 0, 0);
		entry_costs(&x, cap_msix_mask_irq_entry_isr, 0, 1, 1, 1);
		entry_costs(&x, cap_msix_unmask_irq_entry_isr, u - 1, 1, 0, 0);
		entry_costs(&x, cap_msix_mask_irq_entry, u - 1, 1, 1, 1);
		entry_costs(&x, cap_msix_mask_irq_entry_isr, u - 1, 1, 1, 1);
		/* the function mask: one config write; EALREADY: none */
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(cap_msix_mask_irq_all_isr(x.h, x.cap), PCI_ERR_OK);
		assert_int_equal(cap_msix_mask_irq_all(x.h, x.cap), PCI_ERR_EALREADY);
		assert_int_equal(cap_msix_unmask_irq_all(x.h, x.cap), PCI_ERR_OK);
		assert_int_equal(cap_msix_unmask_irq_all_isr(x.h, x.cap), PCI_ERR_EALREADY);
		c = tu_counters(BDF);
		assert_true(c.cfg_writes == 2 && c.cfg_reads == 0 &&
			    c.bar_reads + c.bar_writes == 0);

		/* disable: one write per unmasked entry, Message Control, Command */
		uint_t unmasked = u < 8 ? u : 8;
		for (uint_t e = 0; e < unmasked; e++)
			assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, e), PCI_ERR_OK);
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
				 PCI_ERR_OK);
		c = tu_counters(BDF);
		print_message(
		    "disable, %u unmasked entries: %llu config reads, %llu config writes, "
		    "%llu table reads, %llu table writes\n",
		    unmasked, (unsigned long long)c.cfg_reads, (unsigned long long)c.cfg_writes,
		    (unsigned long long)c.bar_reads, (unsigned long long)c.bar_writes);
		assert_int_equal(c.bar_writes, unmasked);
		assert_int_equal(c.bar_reads, 0);
		assert_int_equal(c.cfg_reads, 1);  /* Command */
		assert_int_equal(c.cfg_writes, 2); /* Message Control, Command */
		for (uint_t e = 0; e < MAXE; e += 97)
			assert_int_equal(vc_of(&x, e), 1);
		assert_int_equal(ctrl_of(&x) & 0xC000, 0);
		pci_cmd_t cmd;
		assert_int_equal(pci_device_read_cmd(BDF, &cmd), PCI_ERR_OK);
		assert_int_equal(cmd & 0x0404,
				 0x0004); /* Bus Master stays, INTx Disable as before */
		assert_int_equal(irq_count_of(x.h), 0);
		assert_null(cap_msix_get_pba_ptr(x.h, x.cap));
		assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
				 PCI_ERR_EALREADY);
		close_msix(&x);
	}
}

/* Request types against small and large pools, with the folding checked
 * end to end. */
static void test_request_types(void **state)
{
	(void)state;
	struct {
		uint_t pool, nirq;
		pci_reqType_t req;
		pci_err_t err;
		int_t got;
	} cases[] = {
	    {64, 16, pci_reqType_e_MANDATORY, PCI_ERR_OK, 16},
	    {64, 16, pci_reqType_e_ADVISORY, PCI_ERR_OK, 16},
	    {64, 16, pci_reqType_e_UNSPECIFIED, PCI_ERR_OK, 16},
	    {16, 16, pci_reqType_e_MANDATORY, PCI_ERR_OK, 16},
	    {5, 16, pci_reqType_e_MANDATORY, PCI_ERR_CAP_NIRQ, 0},
	    {5, 16, pci_reqType_e_ADVISORY, PCI_ERR_OK, 5},
	    {5, 16, pci_reqType_e_UNSPECIFIED, PCI_ERR_OK, 5},
	    {3, 7, pci_reqType_e_ADVISORY, PCI_ERR_OK, 3},
	    {1, 16, pci_reqType_e_ADVISORY, PCI_ERR_OK, 1},
	    {1, 16, pci_reqType_e_UNSPECIFIED, PCI_ERR_OK, 1},
	    {1, 2, pci_reqType_e_MANDATORY, PCI_ERR_CAP_NIRQ, 0},
	    {1, 1, pci_reqType_e_MANDATORY, PCI_ERR_OK, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pcicap_sim_clear();
		assert_int_equal(pcicap_sim_set_irqs(cases[i].pool), PCI_ERR_OK);
		add_msix(BDF, 16);
		msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, cases[i].nirq), PCI_ERR_OK);
		uint8_t before[1024], after[1024];
		snap(&x, before);
		assert_int_equal(pci_device_cfg_cap_enable(x.h, cases[i].req, x.cap), cases[i].err);
		assert_int_equal(irq_count_of(x.h), cases[i].got);
		if (cases[i].err != PCI_ERR_OK) {
			snap(&x, after);
			assert_memory_equal(before, after, snap_size(&x));
			assert_false(pci_device_cfg_cap_isenabled(x.h, x.cap));
			assert_null(cap_msix_get_pba_ptr(x.h, x.cap));
		} else {
			int_t slot[16];
			default_slots(slot, 16, cases[i].nirq);
			check_routing(&x, slot);
		}
		close_msix(&x);
	}
	/* the pool taken by another device: none at all */
	pcicap_sim_clear();
	assert_int_equal(pcicap_sim_set_irqs(8), PCI_ERR_OK);
	add_msix(BDF2, 8);
	add_msix(BDF, 4);
	msix_t hog = open_msix(BDF2, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(hog.h, pci_reqType_e_MANDATORY, hog.cap),
			 PCI_ERR_OK);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_ADVISORY, x.cap),
			 PCI_ERR_IRQ_NOT_AVAIL);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
			 PCI_ERR_IRQ_NOT_AVAIL);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_CAP_NIRQ);
	assert_int_equal(pci_device_cfg_cap_disable(hog.h, pci_reqType_e_UNSPECIFIED, hog.cap),
			 PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	int_t slot[4];
	default_slots(slot, 4, 4);
	check_routing(&x, slot);
	close_msix(&x);
	close_msix(&hog);
}

/* Dispositions: shared slots, gaps, unused entries, folding of custom
 * dispositions, and the errors. */
static void test_dispositions(void **state)
{
	(void)state;
	struct {
		uint_t pool, nirq;
		pci_reqType_t req;
		int_t disp[12]; /* -2: leave as never set */
		int_t got;
	} cases[] = {
	    /* a shared pair (entries 2, 3 on slot 2), the rest unused */
	    {64, 4, pci_reqType_e_MANDATORY, {0, 1, 2, 2, 3, -1, -1, -1, -1, -1, -1, -1}, 4},
	    /* reversed order and a gap: slot 1 used by nobody still gets its IRQ */
	    {64, 6, pci_reqType_e_MANDATORY, {5, 4, 3, 2, 0, 0, -1, -1, -1, -1, -1, -1}, 6},
	    /* entries never set: identity below nirq, unused beyond */
	    {64, 5, pci_reqType_e_MANDATORY, {-2, -2, 4, -2, -2, -2, -2, -2, -2, -2, -2, -2}, 5},
	    /* only high slots: the count is the highest slot + 1 */
	    {64, 12, pci_reqType_e_MANDATORY, {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2}, 3},
	    /* folded: 6 slots onto 4 IRQs (slot 4 -> 0, 5 -> 1) */
	    {4, 6, pci_reqType_e_ADVISORY, {0, 1, 2, 3, 4, 5, 5, 4, -1, 0, -1, 3}, 4},
	    /* folded onto 2 and onto 1 */
	    {2, 12, pci_reqType_e_UNSPECIFIED, {11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, 2},
	    {1, 12, pci_reqType_e_ADVISORY, {-2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2}, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pcicap_sim_clear();
		assert_int_equal(pcicap_sim_set_irqs(cases[i].pool), PCI_ERR_OK);
		add_msix(BDF, 12);
		msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
		assert_int_equal(cap_msix_set_nirq(x.h, x.cap, cases[i].nirq), PCI_ERR_OK);
		int_t slot[12];
		for (uint_t e = 0; e < 12; e++) {
			int_t d = cases[i].disp[e];
			if (d == -2) {
				slot[e] = e < cases[i].nirq ? (int_t)e : -1;
				continue;
			}
			assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, e, d), PCI_ERR_OK);
			slot[e] = d;
		}
		assert_int_equal(pci_device_cfg_cap_enable(x.h, cases[i].req, x.cap), PCI_ERR_OK);
		assert_int_equal(irq_count_of(x.h), cases[i].got);
		/* entries sharing a (folded) slot share a message; unused ones
		 * are not programmed */
		pci_irq_t irqs[MAXE];
		int_t k = read_irqs(x.h, irqs);
		for (uint_t e = 0; e < 12; e++) {
			uint64_t a;
			uint32_t d;
			entry_of(&x, e, &a, &d);
			if (slot[e] < 0) {
				assert_true(a == 0 && d == 0);
				continue;
			}
			uint64_t ea;
			uint32_t ed;
			pci_irq_t irq = irqs[(uint_t)slot[e] % (uint_t)k];
			assert_int_equal(pcicap_sim_irq_msg(irq, &ea, &ed), PCI_ERR_OK);
			assert_true(a == ea);
			assert_int_equal(d, ed);
		}
		check_routing(&x, slot);
		close_msix(&x);
	}

	/* every entry unused: nothing to enable */
	pcicap_sim_clear();
	add_msix(BDF, 4);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	for (uint_t e = 0; e < 4; e++)
		assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, e, -1), PCI_ERR_OK);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_ADVISORY, x.cap),
			 PCI_ERR_CAP_NIRQ);
	assert_int_equal(accesses(BDF), 0);
	/* a disposition left beyond a lowered count: the enable refuses */
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0, 3), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 2), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_ADVISORY, x.cap),
			 PCI_ERR_EINVAL);
	assert_int_equal(accesses(BDF), 0);
	assert_int_equal(irq_count_of(x.h), 0);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0, 1), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_ADVISORY, x.cap), PCI_ERR_OK);
	assert_int_equal(irq_count_of(x.h), 2);
	close_msix(&x);
}

/* Settings changed while enabled are stored for the next enable. */
static void test_set_while_enabled(void **state)
{
	(void)state;
	add_msix(BDF, 8);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 2), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	uint8_t before[1024], after[1024];
	snap(&x, before);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 8), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 7, 0), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 0, -1), PCI_ERR_OK);
	assert_int_equal(accesses(BDF), 0);
	snap(&x, after);
	assert_memory_equal(before, after, snap_size(&x));
	assert_int_equal(irq_count_of(x.h), 2);
	assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	/* slot 7 is used by no entry: 7 IRQs serve slots 0..6 */
	assert_int_equal(irq_count_of(x.h), 7);
	int_t slot[8] = {-1, 1, 2, 3, 4, 5, 6, 0};
	check_routing(&x, slot);
	close_msix(&x);
}

/* Table and PBA in each BAR, the PBA before or after the table, in the same
 * BAR or another; tables of 1 to 2048 entries. */
static void test_layouts(void **state)
{
	(void)state;
	struct {
		uint_t n;
		int tbir;
		uint32_t toff;
		int pbir;
		uint32_t poff;
	} cases[] = {
	    {1, 0, 0x0, 0, 0x800},  {2, 1, 0x1000, 1, 0x0},    {3, 2, 0x2000, 3, 0x3000},
	    {64, 3, 0x0, 2, 0x400}, {65, 4, 0x800, 4, 0x0},    {100, 5, 0x3000, 5, 0x1000},
	    {256, 5, 0x0, 0, 0x10}, {2048, 2, 0x0, 2, 0x8000}, {2048, 4, 0x1000, 4, 0x0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pcicap_sim_clear();
		uint_t n = cases[i].n;
		assert_int_equal(pcicap_sim_set_irqs(n), PCI_ERR_OK);
		add_msix_at(BDF, n, cases[i].tbir, cases[i].toff, cases[i].pbir, cases[i].poff);
		msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
		assert_int_equal(x.n, n);
		assert_int_equal(x.tbir, cases[i].tbir);
		assert_int_equal(x.pbir, cases[i].pbir);
		assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
				 PCI_ERR_OK);
		assert_int_equal(irq_count_of(x.h), (int_t)n);
		static int_t slot[MAXE];
		default_slots(slot, n, n);
		check_routing(&x, slot);
		assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
				 PCI_ERR_OK);
		for (uint_t e = 0; e < n; e++)
			assert_int_equal(vc_of(&x, e), 1);
		close_msix(&x);
	}
}

/* Every function of the shared dumps with MSI-X. */
static void test_dumps(void **state)
{
	(void)state;
	const char *last = "";
	uint_t seen = 0, bir_seen = 0;
	for (size_t i = 0; i < N_EXPECTED; i++) {
		const expect_t *ex = &expected[i];
		if (!ex->msix_ctrl)
			continue;
		if (strcmp(last, ex->file) != 0) {
			pcicap_sim_clear();
			char rel[256];
			snprintf(rel, sizeof(rel), "dumps/%s", ex->file);
			assert_int_equal(pcicap_sim_add_dump(tu_fixture(rel)), PCI_ERR_OK);
			last = ex->file;
		}
		uint_t n = (ex->msix_ctrl & 0x7FF) + 1;
		msix_t x = open_msix(ex->bdf, pci_attachFlags_OWNER);
		assert_int_equal(x.n, n);
		assert_int_equal(x.tbir, (int)(ex->msix_table & 7));
		assert_int_equal(x.toff, ex->msix_table & ~7u);
		assert_int_equal(x.pbir, (int)(ex->msix_pba & 7));
		assert_int_equal(x.poff, ex->msix_pba & ~7u);
		bir_seen |= 1u << x.tbir;
		/* the first owner found MSI-X off and every entry masked */
		assert_int_equal(ctrl_of(&x) & 0xC000, 0);
		for (uint_t e = 0; e < n; e++)
			assert_int_equal(vc_of(&x, e) & 1, 1);
		/* the default pool (64) folds the larger tables */
		assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_ADVISORY, x.cap),
				 PCI_ERR_OK);
		assert_int_equal(irq_count_of(x.h), (int_t)(n < 64 ? n : 64));
		static int_t slot[MAXE];
		default_slots(slot, n, n);
		check_routing(&x, slot);
		assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
				 PCI_ERR_OK);
		close_msix(&x);
		seen++;
	}
	assert_int_equal(seen, 11);
	print_message("%u dumped functions with MSI-X, table BIRs 0x%x\n", seen, bir_seen);
}

/* Entries start masked; pending is delivered on unmask, under the entry
 * mask and under the function mask; the PBA pointer shows it. */
static void test_pending_and_pba(void **state)
{
	(void)state;
	add_msix(BDF, 70);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	/* before enable: NULL; raising keeps the vector pending */
	assert_null(cap_msix_get_pba_ptr(x.h, x.cap));
	assert_int_equal(pcicap_sim_raise(BDF, 3), PCI_ERR_OK);
	assert_true(pba_bit(&x, 3));
	assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 8), PCI_ERR_OK);
	assert_int_equal(cap_msix_set_irq_entry(x.h, x.cap, 66, 7), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	cap_msix_pba_t *pba = cap_msix_get_pba_ptr(x.h, x.cap);
	assert_non_null(pba);
	/* a shared (non-owner) handle sees it too; the pointer is live */
	pci_devhdl_t sh = pci_device_attach(BDF, pci_attachFlags_e_SHARED, NULL);
	assert_non_null(sh);
	assert_true(cap_msix_get_pba_ptr(sh, x.cap) == pba);
	pci_irq_t irqs[MAXE];
	assert_int_equal(read_irqs(x.h, irqs), 8);
	/* still masked after enable: 3 stays pending */
	assert_true(pba[0] == 1ull << 3);
	assert_true(pcicap_sim_irq_count(irqs[3]) == 0);
	assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 3), PCI_ERR_OK);
	assert_true(pba[0] == 0);
	assert_true(pcicap_sim_irq_count(irqs[3]) == 1);
	/* the second PBA word */
	assert_int_equal(pcicap_sim_raise(BDF, 66), PCI_ERR_OK);
	assert_true(pba[1] == 1ull << 2);
	assert_int_equal(cap_msix_unmask_irq_entry_isr(x.h, x.cap, 66), PCI_ERR_OK);
	assert_true(pba[1] == 0);
	assert_true(pcicap_sim_irq_count(irqs[7]) == 1);
	/* the function mask holds everything back; clearing it delivers */
	assert_int_equal(cap_msix_mask_irq_all_isr(x.h, x.cap), PCI_ERR_OK);
	assert_int_equal(ctrl_of(&x) & 0xC000, 0xC000);
	assert_int_equal(pcicap_sim_raise(BDF, 3), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_raise(BDF, 66), PCI_ERR_OK);
	assert_true(pba[0] == 1ull << 3 && pba[1] == 1ull << 2);
	assert_true(pcicap_sim_irq_count(irqs[3]) == 1);
	/* entry 66 masked again: only 3 comes out */
	assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, 66), PCI_ERR_OK);
	assert_int_equal(cap_msix_unmask_irq_all_isr(x.h, x.cap), PCI_ERR_OK);
	assert_true(pba[0] == 0 && pba[1] == 1ull << 2);
	assert_true(pcicap_sim_irq_count(irqs[3]) == 2);
	assert_true(pcicap_sim_irq_count(irqs[7]) == 1);
	assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 66), PCI_ERR_OK);
	assert_true(pba[1] == 0);
	assert_true(pcicap_sim_irq_count(irqs[7]) == 2);
	/* unused entries stay masked: pending forever */
	assert_int_equal(pcicap_sim_raise(BDF, 69), PCI_ERR_OK);
	assert_true(pba[1] == 1ull << 5);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	/* after disable: NULL */
	assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
			 PCI_ERR_OK);
	assert_null(cap_msix_get_pba_ptr(x.h, x.cap));
	/* bad arguments: NULL */
	struct _pci_cap fake = {{1, 0}, 0, (void *)&fake};
	assert_null(cap_msix_get_pba_ptr(x.h, NULL));
	assert_null(cap_msix_get_pba_ptr(x.h, &fake));
	assert_null(cap_msix_get_pba_ptr(NULL, x.cap));
	close_msix(&x);
}

static void test_bad_objects(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 4;
	d.msi.maskable = true;
	d.msix.entries = 8;
	d.msix.pba_off = 0x800;
	tu_add(BDF, &d);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	struct _pci_cap fake = {{1, 0}, 0, (void *)&fake};
	int on_stack;
	pci_cap_t msi = NULL;
	assert_int_equal(
	    pci_device_read_cap(BDF, &msi, (uint_t)pci_device_find_capid(BDF, CAPID_MSI)),
	    PCI_ERR_OK);
	pci_cap_t caps[] = {NULL, &fake, (pci_cap_t)(void *)&on_stack, msi};
	pci_devhdl_t hdls[] = {NULL, (pci_devhdl_t)&on_stack, x.h};
	pcicap_sim_reset_counters(BDF);
	for (size_t c = 0; c < 4; c++) {
		/* an MSI cap is foreign to the MSI-X calls */
		assert_int_equal(cap_msix_get_nirq(caps[c]), 0);
		assert_int_equal(cap_msix_get_nirq_isr(caps[c]), 0);
		for (size_t h = 0; h < 3; h++) {
			assert_int_equal(cap_msix_set_nirq(hdls[h], caps[c], 1), PCI_ERR_EINVAL);
			assert_int_equal(cap_msix_set_irq_entry(hdls[h], caps[c], 0, 0),
					 PCI_ERR_EINVAL);
			assert_null(cap_msix_get_pba_ptr(hdls[h], caps[c]));
			assert_int_equal(cap_msix_mask_irq_entry(hdls[h], caps[c], 0),
					 PCI_ERR_EINVAL);
			assert_int_equal(cap_msix_unmask_irq_entry(hdls[h], caps[c], 0),
					 PCI_ERR_EINVAL);
			assert_int_equal(cap_msix_mask_irq_entry_isr(hdls[h], caps[c], 0),
					 PCI_ERR_EINVAL);
			assert_int_equal(cap_msix_unmask_irq_entry_isr(hdls[h], caps[c], 0),
					 PCI_ERR_EINVAL);
			assert_int_equal(cap_msix_mask_irq_all(hdls[h], caps[c]), PCI_ERR_EINVAL);
			assert_int_equal(cap_msix_unmask_irq_all(hdls[h], caps[c]), PCI_ERR_EINVAL);
			assert_int_equal(cap_msix_mask_irq_all_isr(hdls[h], caps[c]),
					 PCI_ERR_EINVAL);
			assert_int_equal(cap_msix_unmask_irq_all_isr(hdls[h], caps[c]),
					 PCI_ERR_EINVAL);
		}
	}
	/* a valid cap with a bad handle */
	for (size_t h = 0; h < 2; h++) {
		assert_int_equal(cap_msix_mask_irq_entry(hdls[h], x.cap, 0), PCI_ERR_EINVAL);
		assert_int_equal(cap_msix_unmask_irq_all_isr(hdls[h], x.cap), PCI_ERR_EINVAL);
		assert_int_equal(cap_msix_set_nirq(hdls[h], x.cap, 1), PCI_ERR_EINVAL);
		assert_null(cap_msix_get_pba_ptr(hdls[h], x.cap));
	}
	/* entries out of range */
	assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, 8), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 8), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, x.cap, 0xFFFFFFFFu), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_unmask_irq_entry_isr(x.h, x.cap, 2048), PCI_ERR_EINVAL);
	assert_int_equal(accesses(BDF), 0);
	/* non-owners: no state change */
	pci_devhdl_t sh = pci_device_attach(BDF, pci_attachFlags_e_SHARED, NULL);
	assert_non_null(sh);
	assert_int_equal(cap_msix_mask_irq_entry(sh, x.cap, 0), PCI_ERR_NOT_OWNER);
	assert_int_equal(cap_msix_unmask_irq_entry_isr(sh, x.cap, 0), PCI_ERR_NOT_OWNER);
	assert_int_equal(cap_msix_mask_irq_all(sh, x.cap), PCI_ERR_NOT_OWNER);
	assert_int_equal(cap_msix_unmask_irq_all_isr(sh, x.cap), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(sh, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_NOT_OWNER);
	assert_int_equal(accesses(BDF), 0);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	/* a handle of another device */
	add_msix(BDF2, 4);
	msix_t o = open_msix(BDF2, pci_attachFlags_OWNER);
	assert_int_equal(cap_msix_mask_irq_entry(o.h, x.cap, 0), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_set_irq_entry(o.h, x.cap, 0, 0), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_mask_irq_all_isr(o.h, x.cap), PCI_ERR_EINVAL);
	assert_null(cap_msix_get_pba_ptr(o.h, x.cap));
	assert_int_equal(pci_device_cfg_cap_enable(o.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_EINVAL);
	close_msix(&o);
	/* the good pair still works */
	assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, 7), PCI_ERR_OK);
	free(msi);
	close_msix(&x);
}

/* A capability whose table is not inside a memory BAR (raw images: the BIR
 * is reserved, names an I/O BAR, the upper half of a 64-bit BAR, a BAR a
 * bridge does not have, or the table overruns its BAR). */
static pci_bdf_t add_raw(pci_bdf_t bdf, uint8_t hdr, const uint32_t *bars, uint32_t table,
			 uint32_t pba, uint_t n)
{
	uint8_t c[256] = {0};
	c[0] = 0x86, c[1] = 0x80, c[2] = 0x99, c[3] = 0x99;
	c[6] = 0x10; /* capability list */
	c[0x0e] = hdr;
	c[0x0b] = hdr == 1 ? 0x06 : 0x02;
	for (int i = 0; i < 6; i++)
		for (int b = 0; b < 4; b++)
			c[0x10 + 4 * i + b] = (uint8_t)(bars[i] >> (8 * b));
	c[0x34] = 0x40;
	c[0x40] = 0x11;
	c[0x42] = (uint8_t)((n - 1) & 0xFF);
	c[0x43] = (uint8_t)((n - 1) >> 8);
	for (int b = 0; b < 4; b++) {
		c[0x44 + b] = (uint8_t)(table >> (8 * b));
		c[0x48 + b] = (uint8_t)(pba >> (8 * b));
	}
	assert_int_equal(pcicap_sim_add_config(bdf, c, sizeof(c)), PCI_ERR_OK);
	return bdf;
}

static void test_bad_table(void **state)
{
	(void)state;
	const uint32_t mem[6] = {0xfe000000, 0xfe100000, 0, 0, 0, 0};
	const uint32_t io[6] = {0xe001, 0, 0, 0, 0, 0};
	const uint32_t mem64[6] = {0xfe000004, 0, 0, 0, 0, 0};
	struct {
		uint8_t hdr;
		const uint32_t *bars;
		uint32_t table, pba;
	} bad[] = {
	    {0, mem, 0x7, 0x1000},        /* reserved BIR */
	    {0, io, 0x0, 0x0800},         /* an I/O BAR */
	    {0, mem64, 0x1, 0x0800},      /* the upper half of a 64-bit BAR */
	    {1, mem, 0x2, 0x0},           /* a bridge has no BAR 2 */
	    {0, mem, 0x7ffffff0, 0x0001}, /* runs over the end of a 2 GiB BAR */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pcicap_sim_clear();
		add_raw(BDF, bad[i].hdr, bad[i].bars, bad[i].table, bad[i].pba, 4);
		pci_err_t err;
		pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_OWNER, &err);
		assert_non_null(h);
		pci_cap_t cap = NULL;
		assert_int_equal(pci_device_read_cap(BDF, &cap, 0), PCI_ERR_OK);
		assert_int_equal(cap_msix_get_nirq(cap), 4);
		assert_int_equal(cap_msix_set_nirq(h, cap, 2), PCI_ERR_OK);
		assert_int_equal(cap_msix_set_irq_entry(h, cap, 3, 1), PCI_ERR_OK);
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_ADVISORY, cap),
				 PCI_ERR_ASPACE_INVALID);
		assert_int_equal(cap_msix_mask_irq_entry(h, cap, 0), PCI_ERR_ASPACE_INVALID);
		assert_int_equal(cap_msix_unmask_irq_entry_isr(h, cap, 1), PCI_ERR_ASPACE_INVALID);
		assert_int_equal(accesses(BDF), 0);
		assert_false(pci_device_cfg_cap_isenabled(h, cap));
		assert_int_equal(irq_count_of(h), 0);
		assert_null(cap_msix_get_pba_ptr(h, cap));
		/* the function mask lives in config space: it works (the core's
		 * quiesce leaves it set when it cannot reach the table) */
		bool fm = tu_peek32(BDF, 0x40) >> 16 & 0x4000;
		assert_int_equal(cap_msix_mask_irq_all(h, cap), fm ? PCI_ERR_EALREADY : PCI_ERR_OK);
		assert_int_equal(cap_msix_unmask_irq_all(h, cap), PCI_ERR_OK);
		assert_int_equal(cap_msix_mask_irq_all(h, cap), PCI_ERR_OK);
		assert_int_equal(tu_peek32(BDF, 0x40) >> 16 & 0xC000, 0x4000);
		assert_int_equal(cap_msix_unmask_irq_all(h, cap), PCI_ERR_OK);
		print_message("bad table case %zu: function mask %s after the quiesce\n", i,
			      fm ? "set" : "clear");
		free(cap);
		assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	}
	/* a PBA outside any BAR: MSI-X works, without a PBA pointer */
	pcicap_sim_clear();
	add_raw(BDF, 0, mem, 0x0, 0x6, 4);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	assert_null(cap_msix_get_pba_ptr(x.h, x.cap));
	assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 2), PCI_ERR_OK);
	pci_irq_t irqs[MAXE];
	assert_int_equal(read_irqs(x.h, irqs), 4);
	assert_int_equal(pcicap_sim_raise(BDF, 2), PCI_ERR_OK);
	assert_true(pcicap_sim_irq_count(irqs[2]) == 1);
	close_msix(&x);
}

static void test_unavailable(void **state)
{
	(void)state;
	add_msix(BDF, 8);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	for (int mode = 0; mode < 2; mode++) {
		if (mode == 0)
			assert_int_equal(pcicap_sim_set_removed(BDF, true), PCI_ERR_OK);
		else
			assert_int_equal(pcicap_sim_set_hold_off(BDF, true), PCI_ERR_OK);
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, x.cap, 0), PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msix_unmask_irq_entry_isr(x.h, x.cap, 0),
				 PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msix_mask_irq_all_isr(x.h, x.cap), PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msix_unmask_irq_all_isr(x.h, x.cap), PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msix_get_nirq_isr(x.cap), 8);
		/* the plain calls say what happened */
		pci_err_t want = mode == 0 ? PCI_ERR_ENODEV : PCI_ERR_DEV_NOT_AVAIL;
		assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, 0), want);
		assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 0), want);
		assert_int_equal(cap_msix_mask_irq_all(x.h, x.cap), want);
		assert_int_equal(cap_msix_unmask_irq_all(x.h, x.cap), want);
		assert_int_equal(accesses(BDF), 0);
		if (mode == 0)
			assert_int_equal(pcicap_sim_set_removed(BDF, false), PCI_ERR_OK);
		else
			assert_int_equal(pcicap_sim_set_hold_off(BDF, false), PCI_ERR_OK);
	}
	assert_int_equal(cap_msix_unmask_irq_entry_isr(x.h, x.cap, 0), PCI_ERR_OK);
	assert_int_equal(vc_of(&x, 0), 0);
	close_msix(&x);
}

/* A fault at every access of enable (and of disable): the call fails and
 * leaves config space, table, PBA and pool as they were; a retry works. */
static void check_faults(bool fmask_before)
{
	pcicap_sim_clear();
	assert_int_equal(pcicap_sim_set_irqs(4), PCI_ERR_OK);
	add_msix_at(BDF, 8, 0, 0, 0, 0x800);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msix_set_nirq(x.h, x.cap, 4), PCI_ERR_OK); /* 0..3 used */
	if (fmask_before)
		assert_int_equal(cap_msix_mask_irq_all(x.h, x.cap), PCI_ERR_OK);
	/* an unused entry left unmasked: enable masks it */
	assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 6), PCI_ERR_OK);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	uint64_t n_enable = accesses(BDF);
	assert_int_equal(n_enable, 4 * 4 + 2 + (fmask_before ? 4 : 6));
	assert_int_equal(vc_of(&x, 6), 1);
	for (uint_t e = 0; e < 4; e++)
		assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, e), PCI_ERR_OK);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
			 PCI_ERR_OK);
	uint64_t n_disable = accesses(BDF);
	assert_int_equal(n_disable, 4 + 3);
	assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 6), PCI_ERR_OK);

	uint8_t before[1024], after[1024];
	for (uint64_t k = 1; k <= n_enable; k++) {
		snap(&x, before);
		assert_int_equal(pcicap_sim_fail_access(BDF, k, PCI_ERR_EIO), PCI_ERR_OK);
		assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
				 PCI_ERR_EIO);
		snap(&x, after);
		assert_memory_equal(before, after, snap_size(&x));
		assert_false(pci_device_cfg_cap_isenabled(x.h, x.cap));
		assert_int_equal(irq_count_of(x.h), 0);
		assert_null(cap_msix_get_pba_ptr(x.h, x.cap));
	}
	/* the pool is whole: all 4 again */
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	for (uint_t e = 0; e < 4; e++)
		assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, e), PCI_ERR_OK);
	for (uint64_t k = 1; k <= n_disable; k++) {
		snap(&x, before);
		assert_int_equal(pcicap_sim_fail_access(BDF, k, PCI_ERR_EIO), PCI_ERR_OK);
		pci_err_t err = pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap);
		assert_int_equal(pcicap_sim_fail_access(BDF, 0, PCI_ERR_OK), PCI_ERR_OK);
		if (err != PCI_ERR_OK) {
			assert_int_equal(err, PCI_ERR_EIO);
			snap(&x, after);
			assert_memory_equal(before, after, snap_size(&x));
			assert_true(pci_device_cfg_cap_isenabled(x.h, x.cap));
			assert_int_equal(irq_count_of(x.h), 4);
			assert_non_null(cap_msix_get_pba_ptr(x.h, x.cap));
		} else {
			/* past the point of no return (MSI-X off): only the
			 * Command register was left */
			assert_true(k > 5);
			assert_false(pci_device_cfg_cap_isenabled(x.h, x.cap));
			assert_int_equal(irq_count_of(x.h), 0);
			assert_int_equal(
			    pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			    PCI_ERR_OK);
			for (uint_t e = 0; e < 4; e++)
				assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, e),
						 PCI_ERR_OK);
		}
	}
	close_msix(&x);
}

static void test_faults(void **state)
{
	(void)state;
	check_faults(false);
	check_faults(true);
}

/* MSI and MSI-X exclude each other (both real modules). */
static void test_exclusion(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 2;
	d.msi.addr64 = true;
	d.msix.entries = 4;
	d.msix.pba_off = 0x800;
	tu_add(BDF, &d);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	pci_cap_t msi = NULL;
	assert_int_equal(
	    pci_device_read_cap(BDF, &msi, (uint_t)pci_device_find_capid(BDF, CAPID_MSI)),
	    PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, msi), PCI_ERR_OK);
	uint8_t before[1024], after[1024];
	snap(&x, before);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_MSI_ENABLED);
	snap(&x, after);
	assert_memory_equal(before, after, snap_size(&x));
	assert_false(pci_device_cfg_cap_isenabled(x.h, x.cap));
	assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, msi),
			 PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, msi),
			 PCI_ERR_MSIX_ENABLED);
	assert_int_equal(irq_count_of(x.h), 4);
	free(msi);
	close_msix(&x);
}

static void test_detach_and_reset(void **state)
{
	(void)state;
	assert_int_equal(pcicap_sim_set_irqs(4), PCI_ERR_OK);
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.pcie = true;
	d.flr = true;
	d.msix.entries = 4;
	d.msix.pba_off = 0x800;
	tu_add(BDF, &d);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 1), PCI_ERR_OK);
	assert_int_equal(cap_msix_mask_irq_all(x.h, x.cap), PCI_ERR_OK);
	/* a function reset clears the device: the library lets the IRQs go */
	assert_int_equal(pci_device_reset(x.h, pci_resetType_e_FUNCTION), PCI_ERR_OK);
	assert_false(pci_device_cfg_cap_isenabled(x.h, x.cap));
	assert_int_equal(irq_count_of(x.h), 0);
	assert_null(cap_msix_get_pba_ptr(x.h, x.cap));
	/* the function mask was cleared by the reset: the module reads it again */
	assert_int_equal(cap_msix_unmask_irq_all(x.h, x.cap), PCI_ERR_EALREADY);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	int_t slot[4];
	default_slots(slot, 4, 4);
	check_routing(&x, slot);
	/* detach disables: MSI-X off, every entry masked, IRQs back */
	close_msix(&x);
	assert_int_equal(tu_peek32(BDF, x.off) >> 16 & 0x8000, 0);
	for (uint_t e = 0; e < 4; e++)
		assert_int_equal(vc_of(&x, e), 1);
	x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	close_msix(&x);
}

/* Two devices with MSI-X, @entries each, opened by an owner. */
static void open_two(uint_t entries, msix_t *x, msix_t *y)
{
	add_msix(BDF, entries);
	add_msix(BDF2, entries);
	*x = open_msix(BDF, pci_attachFlags_OWNER);
	*y = open_msix(BDF2, pci_attachFlags_OWNER);
}

/* The masking calls remember, per thread, the last (cap, handle) pair they
 * validated (lib/dispatch.c). Whatever makes a remembered pair invalid, or
 * makes it resolve to another capability, is seen by the next call. */
static void test_pair_memory(void **state)
{
	(void)state;
	msix_t x, y;
	open_two(8, &x, &y);
	/* two pairs in turn: each call reaches its own device */
	for (uint_t i = 0; i < 16; i++) {
		uint_t e = i % 8;
		assert_int_equal(cap_msix_unmask_irq_entry_isr(x.h, x.cap, e), PCI_ERR_OK);
		assert_int_equal(cap_msix_mask_irq_entry(y.h, y.cap, (e + 1) % 8), PCI_ERR_OK);
		assert_int_equal(vc_of(&x, e), 0);
		assert_int_equal(vc_of(&y, e), 1);
		assert_int_equal(cap_msix_unmask_irq_entry_isr(y.h, y.cap, e), PCI_ERR_OK);
		assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, e), PCI_ERR_OK);
		assert_int_equal(vc_of(&x, e), 1);
		assert_int_equal(vc_of(&y, e), 0);
	}
	/* crossed pairs, right after each half was validated */
	pcicap_sim_reset_counters(BDF);
	pcicap_sim_reset_counters(BDF2);
	assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, x.cap, 0), PCI_ERR_OK);
	assert_int_equal(cap_msix_mask_irq_entry_isr(y.h, x.cap, 0), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, y.cap, 0), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_unmask_irq_all_isr(y.h, x.cap), PCI_ERR_EINVAL);
	/* an MSI-X pair is not an MSI pair */
	assert_int_equal(cap_msi_mask_irq_entry_isr(x.h, x.cap, 0), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_mask_irq(x.h, x.cap, 1), PCI_ERR_EINVAL);
	/* another handle of the device that is no owner */
	pci_devhdl_t sh = pci_device_attach(BDF, pci_attachFlags_e_SHARED, NULL);
	assert_non_null(sh);
	assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, x.cap, 0), PCI_ERR_OK);
	assert_int_equal(cap_msix_mask_irq_entry_isr(sh, x.cap, 0), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(tu_counters(BDF).bar_writes, 2);
	assert_int_equal(accesses(BDF2), 0);
	/* a detached handle */
	assert_int_equal(cap_msix_unmask_irq_entry_isr(x.h, x.cap, 1), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(x.h), PCI_ERR_OK);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, x.cap, 1), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, 1), PCI_ERR_EINVAL);
	assert_int_equal(cap_msix_mask_irq_all(x.h, x.cap), PCI_ERR_EINVAL);
	assert_int_equal(accesses(BDF), 0);
	x.h = pci_device_attach(BDF, pci_attachFlags_OWNER, NULL);
	assert_non_null(x.h);
	/* (the first owner's attach quiesced the table: every entry masked) */
	assert_int_equal(cap_msix_unmask_irq_entry_isr(x.h, x.cap, 1), PCI_ERR_OK);
	assert_int_equal(vc_of(&x, 1), 0);
	/* the object read again in place, for the other device's capability */
	pci_cap_t same = x.cap;
	assert_int_equal(
	    pci_device_read_cap(BDF2, &x.cap, (uint_t)pci_device_find_capid(BDF2, CAPID_MSIX)),
	    PCI_ERR_OK);
	assert_ptr_equal(x.cap, same);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, x.cap, 1), PCI_ERR_EINVAL);
	assert_int_equal(accesses(BDF), 0);
	assert_int_equal(cap_msix_mask_irq_entry_isr(y.h, x.cap, 1), PCI_ERR_OK);
	assert_int_equal(vc_of(&y, 1), 1);
	assert_int_equal(vc_of(&x, 1), 0);
	/* back to the first device; then that device is replaced behind the
	 * handle (a new function at the same address): the old record is
	 * retired at the next scan */
	assert_int_equal(
	    pci_device_read_cap(BDF, &x.cap, (uint_t)pci_device_find_capid(BDF, CAPID_MSIX)),
	    PCI_ERR_OK);
	assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, x.cap, 1), PCI_ERR_OK);
	assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, 1), PCI_ERR_OK);
	pcicap_sim_clear();
	add_msix(BDF, 8);
	add_msix(BDF2, 8);
	assert_int_not_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY),
			     PCI_BDF_NONE);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(cap_msix_mask_irq_entry_isr(x.h, x.cap, 1), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, 1), PCI_ERR_ENODEV);
	assert_int_equal(cap_msix_mask_irq_all_isr(x.h, x.cap), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(accesses(BDF), 0);
	assert_int_equal(pci_device_detach(x.h), PCI_ERR_ENODEV);
	assert_int_equal(pci_device_detach(y.h), PCI_ERR_ENODEV);
	free(x.cap);
	free(y.cap);
}

/* Threads masking and unmasking their own entries of one capability. */
typedef struct {
	msix_t *x;
	uint_t first;
	int iterations;
} worker_t;

static void *worker(void *arg)
{
	worker_t *w = arg;
	for (int i = 0; i < w->iterations; i++) {
		uint_t e = w->first + (uint_t)(i % 4);
		bool isr = i & 1;
		pci_err_t e1 = isr ? cap_msix_unmask_irq_entry_isr(w->x->h, w->x->cap, e)
				   : cap_msix_unmask_irq_entry(w->x->h, w->x->cap, e);
		pci_err_t e2 = isr ? cap_msix_mask_irq_entry(w->x->h, w->x->cap, e)
				   : cap_msix_mask_irq_entry_isr(w->x->h, w->x->cap, e);
		/* the function mask too, from every thread */
		pci_err_t e3 =
		    (i % 64) == 0 ? cap_msix_mask_irq_all_isr(w->x->h, w->x->cap) : PCI_ERR_OK;
		if (e1 != PCI_ERR_OK || e2 != PCI_ERR_OK ||
		    (e3 != PCI_ERR_OK && e3 != PCI_ERR_EALREADY))
			return (void *)1;
	}
	/* leave the thread's first entry unmasked */
	return cap_msix_unmask_irq_entry_isr(w->x->h, w->x->cap, w->first) == PCI_ERR_OK
		   ? NULL
		   : (void *)1;
}

static void test_threads(void **state)
{
	(void)state;
	add_msix(BDF, 32);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	pthread_t t[8];
	worker_t w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (worker_t){.x = &x, .first = 4u * (uint_t)i, .iterations = 4000};
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		void *r;
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
	for (uint_t e = 0; e < 32; e++)
		assert_int_equal(vc_of(&x, e), e % 4 == 0 ? 0 : 1);
	assert_int_equal(ctrl_of(&x) & 0xC000, 0xC000);
	assert_int_equal(cap_msix_mask_irq_all(x.h, x.cap), PCI_ERR_EALREADY);
	assert_int_equal(cap_msix_unmask_irq_all(x.h, x.cap), PCI_ERR_OK);
	/* the shadows agree with the device: masking costs stay as they were */
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
			 PCI_ERR_OK);
	assert_int_equal(tu_counters(BDF).bar_writes, 8);
	close_msix(&x);
}

/* A signal handler that interrupts a mask call and makes mask calls on the
 * same capability itself: PCI_ERR_EAGAIN while the interrupted call holds the
 * capability's lock (instead of spinning forever), success otherwise; no
 * update is lost either way. */
static pci_devhdl_t sig_h;
static pci_cap_t sig_cap;
static volatile sig_atomic_t sig_active, sig_runs, sig_again, sig_bad;

static void count(pci_err_t e)
{
	if (e == PCI_ERR_EAGAIN)
		sig_again++;
	else if (e != PCI_ERR_OK && e != PCI_ERR_EALREADY)
		sig_bad++;
}

static void on_alarm(int sig)
{
	(void)sig;
	if (!sig_active)
		return; /* a late one, after the test */
	int saved = errno;
	sig_runs++;
	count(cap_msix_mask_irq_entry_isr(sig_h, sig_cap, 1));
	count(cap_msix_unmask_irq_entry_isr(sig_h, sig_cap, 3));
	count(cap_msix_mask_irq_all_isr(sig_h, sig_cap));
	count(cap_msix_unmask_irq_all_isr(sig_h, sig_cap));
	errno = saved;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* SIGALRM to @handler every 100 us until alarm_stop(). (The handler stays
 * installed: a signal can still be in flight, under valgrind in particular,
 * when the timer is stopped; the handlers check a flag of their test.) */
static void alarm_start(void (*handler)(int))
{
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	struct itimerval it = {{0, 100}, {0, 100}};
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void alarm_stop(void)
{
	struct itimerval off = {{0, 0}, {0, 0}};
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
}

static void test_signal_reentry(void **state)
{
	(void)state;
	add_msix(BDF, 4);
	msix_t x = open_msix(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap),
			 PCI_ERR_OK);
	sig_h = x.h;
	sig_cap = x.cap;
	sig_runs = sig_again = sig_bad = 0;
	sig_active = 1;
	alarm_start(on_alarm);
	int bad = 0;
	double end = now() + 1.0;
	for (uint_t i = 0; sig_runs < 2000 && now() < end; i++) {
		uint_t e = i % 4;
		pci_err_t r[4] = {
		    cap_msix_mask_irq_entry(x.h, x.cap, e),
		    cap_msix_unmask_irq_entry_isr(x.h, x.cap, e),
		    cap_msix_mask_irq_all(x.h, x.cap),
		    cap_msix_unmask_irq_all_isr(x.h, x.cap),
		};
		bad += r[0] != PCI_ERR_OK || r[1] != PCI_ERR_OK;
		bad += (r[2] != PCI_ERR_OK && r[2] != PCI_ERR_EALREADY) ||
		       (r[3] != PCI_ERR_OK && r[3] != PCI_ERR_EALREADY);
	}
	alarm_stop();
	sig_active = 0;
	print_message("signal handler ran %d times; %d nested calls answered EAGAIN\n",
		      (int)sig_runs, (int)sig_again);
	assert_int_equal(bad, 0);
	assert_int_equal(sig_bad, 0);
	assert_true(sig_runs > 0);
	/* the shadows still agree with the device */
	for (uint_t e = 0; e < 4; e++)
		assert_int_equal(cap_msix_unmask_irq_entry(x.h, x.cap, e), PCI_ERR_OK);
	assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, 1), PCI_ERR_OK);
	assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, 3), PCI_ERR_OK);
	for (uint_t e = 0; e < 4; e++)
		assert_int_equal(vc_of(&x, e), e & 1);
	pci_err_t r = cap_msix_unmask_irq_all(x.h, x.cap);
	assert_true(r == PCI_ERR_OK || r == PCI_ERR_EALREADY);
	assert_int_equal(ctrl_of(&x) & 0xC000, 0x8000);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_disable(x.h, pci_reqType_e_UNSPECIFIED, x.cap),
			 PCI_ERR_OK);
	assert_int_equal(tu_counters(BDF).bar_writes, 2);
	for (uint_t e = 0; e < 4; e++)
		assert_int_equal(vc_of(&x, e), 1);
	close_msix(&x);
}

/* A signal handler that masks entries of another capability (another
 * device) while the interrupted thread masks its own: the two pairs take
 * turns in the thread's memory of the last pair, at any point of a call,
 * and each call still reaches its own device only. */
static pci_devhdl_t sig2_h;
static pci_cap_t sig2_cap;
static volatile sig_atomic_t sig2_active, sig2_runs, sig2_bad;

static void on_alarm2(int sig)
{
	(void)sig;
	if (!sig2_active)
		return;
	int saved = errno;
	sig2_runs++;
	if (cap_msix_unmask_irq_entry_isr(sig2_h, sig2_cap, 2) != PCI_ERR_OK ||
	    cap_msix_mask_irq_entry_isr(sig2_h, sig2_cap, 2) != PCI_ERR_OK)
		sig2_bad++;
	errno = saved;
}

static void test_signal_other_pair(void **state)
{
	(void)state;
	msix_t x, y;
	open_two(4, &x, &y);
	for (uint_t e = 0; e < 4; e++) {
		assert_int_equal(cap_msix_unmask_irq_entry(y.h, y.cap, e), PCI_ERR_OK);
		assert_int_equal(cap_msix_mask_irq_entry(x.h, x.cap, e), PCI_ERR_OK);
	}
	sig2_h = y.h;
	sig2_cap = y.cap;
	sig2_runs = sig2_bad = 0;
	sig2_active = 1;
	alarm_start(on_alarm2);
	int bad = 0;
	double end = now() + 1.0;
	for (uint_t i = 0; sig2_runs < 2000 && now() < end; i++) {
		uint_t e = (i % 3) == 2 ? 3 : i % 3; /* 0, 1, 3: never the handler's 2 */
		bad += cap_msix_unmask_irq_entry_isr(x.h, x.cap, e) != PCI_ERR_OK;
		bad += cap_msix_mask_irq_entry(x.h, x.cap, e) != PCI_ERR_OK;
	}
	alarm_stop();
	sig2_active = 0;
	print_message("signal handler ran %d times\n", (int)sig2_runs);
	assert_int_equal(bad, 0);
	assert_int_equal(sig2_bad, 0);
	assert_true(sig2_runs > 0);
	/* the thread's calls masked its own entries, the handler's its entry 2
	 * of the other device, and nothing else */
	for (uint_t e = 0; e < 4; e++) {
		assert_int_equal(vc_of(&x, e), 1);
		assert_int_equal(vc_of(&y, e), e == 2 ? 1 : 0);
	}
	close_msix(&x);
	close_msix(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TU_TEST(test_get_and_set_nirq),
	    TU_TEST(test_set_irq_entry),
	    TU_TEST(test_enable_sequence),
	    TU_TEST(test_function_mask_kept),
	    TU_TEST(test_access_counts),
	    TU_TEST(test_lookup_costs),
	    TU_TEST(test_request_types),
	    TU_TEST(test_dispositions),
	    TU_TEST(test_set_while_enabled),
	    TU_TEST(test_layouts),
	    TU_TEST(test_dumps),
	    TU_TEST(test_pending_and_pba),
	    TU_TEST(test_bad_objects),
	    TU_TEST(test_bad_table),
	    TU_TEST(test_unavailable),
	    TU_TEST(test_faults),
	    TU_TEST(test_exclusion),
	    TU_TEST(test_detach_and_reset),
	    TU_TEST(test_threads),
	    TU_TEST(test_signal_reentry),
	    TU_TEST(test_pair_memory),
	    TU_TEST(test_signal_other_pair),
	};
	return TU_RUN(tests);
}
