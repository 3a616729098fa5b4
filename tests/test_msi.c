/* The MSI module (pci_cap-0x05.so) through the cap_msi_* API, against the
 * simulator: request types, the enable sequence, masking and its access
 * costs, interrupts end to end, faults, dumps, threads, the masking calls'
 * memory of the last pair. The suite also runs against the module built as
 * an ABI-1-head module (msi-abi1, tests/abi1-modules). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <pci/cap_msi.h>
#include <pcicap/irq.h>

#include "expected_caps.h"
#include "testutil.h"

#define BDF PCI_BDF(1, 0, 0)

typedef struct {
	pci_bdf_t bdf;
	pci_devhdl_t h;
	pci_cap_t cap;
	uint_t off; /* capability offset */
} msi_t;

static pci_bdf_t add_msi(pci_bdf_t bdf, uint_t vectors, bool is64, bool pvm)
{
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.vid = 0x8086;
	d.did = 0x1521;
	d.msi.vectors = vectors;
	d.msi.addr64 = is64;
	d.msi.maskable = pvm;
	return tu_add(bdf, &d);
}

static msi_t open_msi(pci_bdf_t bdf, pci_attachFlags_t flags)
{
	msi_t m = {.bdf = bdf};
	pci_err_t err;
	m.h = pci_device_attach(bdf, flags, &err);
	assert_int_equal(err, PCI_ERR_OK);
	int_t idx = pci_device_find_capid(bdf, CAPID_MSI);
	assert_true(idx >= 0);
	assert_int_equal(pcicap_device_cap_offset(bdf, (uint_t)idx, &m.off), PCI_ERR_OK);
	assert_int_equal(pci_device_read_cap(bdf, &m.cap, (uint_t)idx), PCI_ERR_OK);
	return m;
}

static void close_msi(msi_t *m)
{
	assert_int_equal(pci_device_detach(m->h), PCI_ERR_OK);
	free(m->cap);
}

static uint16_t peek16(pci_bdf_t bdf, uint_t off)
{
	uint8_t b[2];
	assert_int_equal(pcicap_sim_peek_cfg(bdf, off, b, 2), PCI_ERR_OK);
	return (uint16_t)(b[0] | b[1] << 8);
}

/* Offsets of the registers after the capability header. */
static uint_t data_off(const msi_t *m, bool is64)
{
	return m->off + (is64 ? 0x0C : 0x08);
}
static uint_t mask_off(const msi_t *m, bool is64)
{
	return m->off + (is64 ? 0x10 : 0x0C);
}

static void read_irqs(pci_devhdl_t h, pci_irq_t *irqs, int_t *n)
{
	*n = 32;
	assert_int_equal(pci_device_read_irq(h, n, irqs), PCI_ERR_OK);
}

/* ------------------------------------------------------------------- */

static void test_get_and_set_nirq(void **state)
{
	(void)state;
	const uint_t counts[] = {1, 2, 4, 8, 16, 32};
	for (size_t i = 0; i < 6; i++) {
		pcicap_sim_clear();
		add_msi(BDF, counts[i], i & 1, i & 2);
		msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
		assert_int_equal(cap_msi_get_nirq(m.cap), counts[i]);
		assert_int_equal(cap_msi_get_nirq_isr(m.cap), counts[i]);
		for (uint_t n = 1; n <= counts[i]; n *= 2)
			assert_int_equal(cap_msi_set_nirq(m.h, m.cap, n), PCI_ERR_OK);
		assert_int_equal(cap_msi_set_nirq(m.h, m.cap, counts[i] * 2), PCI_ERR_EINVAL);
		assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 0), PCI_ERR_EINVAL);
		assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 64), PCI_ERR_EINVAL);
		if (counts[i] >= 4)
			assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 3), PCI_ERR_EINVAL);
		close_msi(&m);
	}
	/* NULL and foreign objects: 0 or EINVAL, never a crash */
	struct _pci_cap fake = {{1, 0}, 0, NULL};
	assert_int_equal(cap_msi_get_nirq(NULL), 0);
	assert_int_equal(cap_msi_get_nirq(&fake), 0);
	assert_int_equal(cap_msi_get_nirq_isr(&fake), 0);
	assert_int_equal(cap_msi_set_nirq(NULL, NULL, 1), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_set_nirq(NULL, &fake, 1), PCI_ERR_EINVAL);
}

static void test_set_nirq_needs_owner(void **state)
{
	(void)state;
	add_msi(BDF, 8, true, true);
	msi_t m = open_msi(BDF, pci_attachFlags_e_SHARED);
	assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 2), PCI_ERR_NOT_OWNER);
	assert_int_equal(cap_msi_set_nirq(NULL, m.cap, 2), PCI_ERR_EINVAL);
	pci_devhdl_t stale = m.h;
	close_msi(&m);
	m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msi_set_nirq(stale, m.cap, 2), PCI_ERR_EINVAL);
	close_msi(&m);
}

/* The registers, their order and the access count of an enable. */
static void check_enable(bool is64, bool pvm)
{
	pcicap_sim_clear();
	add_msi(BDF, 8, is64, pvm);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 4), PCI_ERR_OK);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pcicap_sim_log_start(BDF, 64), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	pcicap_sim_access_t log[64];
	size_t n = 0;
	assert_int_equal(pcicap_sim_log_get(BDF, log, 64, &n), PCI_ERR_OK);
	pcicap_sim_counters_t c = tu_counters(BDF);
	/* reads: control, address (both halves), data, command; writes:
	 * (mask), address, (upper address), data, vector count, enable, command */
	assert_int_equal(c.cfg_reads, is64 ? 5 : 4);
	assert_int_equal(c.cfg_writes, 5 + (is64 ? 1 : 0) + (pvm ? 1 : 0));
	/* the writes in order */
	uint_t w = 0;
	uint_t expect[8], ne = 0;
	if (pvm)
		expect[ne++] = mask_off(&m, is64);
	expect[ne++] = m.off + 4;
	if (is64)
		expect[ne++] = m.off + 8;
	expect[ne++] = data_off(&m, is64);
	expect[ne++] = m.off + 2; /* Multiple Message Enable */
	expect[ne++] = m.off + 2; /* then Enable */
	expect[ne++] = 0x04;      /* Command */
	for (size_t i = 0; i < n; i++) {
		if (log[i].kind != PCICAP_SIM_CFG_WRITE)
			continue;
		assert_true(w < ne);
		assert_int_equal(log[i].offset, expect[w]);
		if (w == ne - 3)
			assert_int_equal(log[i].value & 1, 0); /* count written with MSI still off */
		w++;
	}
	assert_int_equal(w, ne);
	/* the result */
	pci_irq_t irqs[32];
	int_t nirq;
	read_irqs(m.h, irqs, &nirq);
	assert_int_equal(nirq, 4);
	uint64_t addr;
	uint32_t data;
	assert_int_equal(pcicap_sim_irq_msg(irqs[0], &addr, &data), PCI_ERR_OK);
	assert_int_equal(tu_peek32(BDF, m.off + 4), (uint32_t)addr);
	if (is64)
		assert_int_equal(tu_peek32(BDF, m.off + 8), (uint32_t)(addr >> 32));
	else
		assert_true(addr >> 32 == 0);
	assert_int_equal(peek16(BDF, data_off(&m, is64)), data);
	uint16_t ctrl = peek16(BDF, m.off + 2);
	assert_int_equal(ctrl & 1, 1);
	assert_int_equal((ctrl >> 4) & 7, 2); /* 4 vectors */
	if (pvm)
		assert_int_equal(tu_peek32(BDF, mask_off(&m, is64)), 0xff); /* all masked */
	pci_cmd_t cmd;
	assert_int_equal(pci_device_read_cmd(BDF, &cmd), PCI_ERR_OK);
	assert_int_equal(cmd & 0x0404, 0x0404); /* Bus Master, INTx Disable */
	/* the IRQs are a block with consecutive data values */
	for (int_t i = 1; i < nirq; i++) {
		uint64_t a;
		uint32_t dd;
		assert_int_equal(pcicap_sim_irq_msg(irqs[i], &a, &dd), PCI_ERR_OK);
		assert_true(a == addr);
		assert_int_equal(dd, data + (uint32_t)i);
	}
	assert_true(pci_device_cfg_cap_isenabled(m.h, m.cap));
	close_msi(&m);
}

static void test_enable_sequence(void **state)
{
	(void)state;
	check_enable(true, true);
	check_enable(true, false);
	check_enable(false, true);
	check_enable(false, false);
}

static void test_request_types(void **state)
{
	(void)state;
	struct {
		uint_t pool, want;
		pci_reqType_t req;
		pci_err_t err;
		int_t got;
	} cases[] = {
	    {4, 8, pci_reqType_e_MANDATORY, PCI_ERR_CAP_NIRQ, 0},
	    {4, 8, pci_reqType_e_ADVISORY, PCI_ERR_OK, 4},
	    {4, 8, pci_reqType_e_UNSPECIFIED, PCI_ERR_OK, 4},
	    {5, 8, pci_reqType_e_ADVISORY, PCI_ERR_OK, 4},
	    {8, 8, pci_reqType_e_MANDATORY, PCI_ERR_OK, 8},
	    {8, 8, pci_reqType_e_ADVISORY, PCI_ERR_OK, 8},
	    {64, 8, pci_reqType_e_MANDATORY, PCI_ERR_OK, 8},
	    {64, 8, pci_reqType_e_UNSPECIFIED, PCI_ERR_OK, 8},
	    {1, 32, pci_reqType_e_ADVISORY, PCI_ERR_OK, 1},
	    {1, 2, pci_reqType_e_MANDATORY, PCI_ERR_CAP_NIRQ, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pcicap_sim_clear();
		assert_int_equal(pcicap_sim_set_irqs(cases[i].pool), PCI_ERR_OK);
		add_msi(BDF, 32, true, true);
		msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
		assert_int_equal(cap_msi_set_nirq(m.h, m.cap, cases[i].want), PCI_ERR_OK);
		uint8_t before[256], after[256];
		assert_int_equal(pcicap_sim_peek_cfg(BDF, 0, before, 256), PCI_ERR_OK);
		assert_int_equal(pci_device_cfg_cap_enable(m.h, cases[i].req, m.cap), cases[i].err);
		int_t n = -1;
		assert_int_equal(pci_device_read_irq(m.h, &n, NULL), PCI_ERR_OK);
		assert_int_equal(n, cases[i].got);
		if (cases[i].err != PCI_ERR_OK) {
			/* a failed enable changes nothing */
			assert_int_equal(pcicap_sim_peek_cfg(BDF, 0, after, 256), PCI_ERR_OK);
			assert_memory_equal(before, after, 256);
			assert_false(pci_device_cfg_cap_isenabled(m.h, m.cap));
		} else {
			uint16_t ctrl = peek16(BDF, m.off + 2);
			assert_int_equal(1u << ((ctrl >> 4) & 7), (uint_t)cases[i].got);
		}
		close_msi(&m);
	}
	/* never set: one vector */
	pcicap_sim_clear();
	assert_int_equal(pcicap_sim_set_irqs(64), PCI_ERR_OK);
	add_msi(BDF, 32, true, true);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	int_t n;
	assert_int_equal(pci_device_read_irq(m.h, &n, NULL), PCI_ERR_OK);
	assert_int_equal(n, 1);
	close_msi(&m);
}

static void test_pool_exhausted(void **state)
{
	(void)state;
	assert_int_equal(pcicap_sim_set_irqs(32), PCI_ERR_OK);
	add_msi(PCI_BDF(2, 0, 0), 32, true, false);
	add_msi(BDF, 4, true, true);
	msi_t hog = open_msi(PCI_BDF(2, 0, 0), pci_attachFlags_OWNER);
	assert_int_equal(cap_msi_set_nirq(hog.h, hog.cap, 32), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(hog.h, pci_reqType_e_MANDATORY, hog.cap), PCI_ERR_OK);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_ADVISORY, m.cap),
			 PCI_ERR_IRQ_NOT_AVAIL);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_UNSPECIFIED, m.cap),
			 PCI_ERR_IRQ_NOT_AVAIL);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap),
			 PCI_ERR_CAP_NIRQ);
	/* the other device lets go: now it works */
	assert_int_equal(pci_device_cfg_cap_disable(hog.h, pci_reqType_e_UNSPECIFIED, hog.cap), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_ADVISORY, m.cap), PCI_ERR_OK);
	close_msi(&m);
	close_msi(&hog);
}

static void test_disable(void **state)
{
	(void)state;
	for (int intx = 0; intx < 2; intx++) {
		pcicap_sim_clear();
		assert_int_equal(pcicap_sim_set_irqs(8), PCI_ERR_OK);
		add_msi(BDF, 8, true, true);
		msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
		assert_int_equal(pci_device_write_cmd(m.h, intx ? 0x0400 : 0, NULL), PCI_ERR_OK);
		assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 8), PCI_ERR_OK);
		assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_ADVISORY, m.cap), PCI_ERR_OK);
		assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_ADVISORY, m.cap),
				 PCI_ERR_EALREADY);
		assert_int_equal(cap_msi_unmask_irq(m.h, m.cap, 0x0f), PCI_ERR_OK);
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(pci_device_cfg_cap_disable(m.h, pci_reqType_e_UNSPECIFIED, m.cap),
				 PCI_ERR_OK);
		pcicap_sim_counters_t c = tu_counters(BDF);
		assert_int_equal(c.cfg_reads, 2);  /* control, command */
		assert_int_equal(c.cfg_writes, intx ? 2 : 3); /* mask, control, (command) */
		assert_int_equal(peek16(BDF, m.off + 2) & 0x71, 0); /* off, no vectors */
		assert_int_equal(tu_peek32(BDF, m.off + 0x10), 0xff); /* everything masked */
		pci_cmd_t cmd;
		assert_int_equal(pci_device_read_cmd(BDF, &cmd), PCI_ERR_OK);
		assert_int_equal(cmd & 0x0004, 0x0004);                 /* Bus Master stays */
		assert_int_equal(cmd & 0x0400, intx ? 0x0400 : 0);      /* INTx Disable as before */
		int_t n;
		assert_int_equal(pci_device_read_irq(m.h, &n, NULL), PCI_ERR_OK);
		assert_int_equal(n, 0);
		assert_int_equal(pci_device_cfg_cap_disable(m.h, pci_reqType_e_UNSPECIFIED, m.cap),
				 PCI_ERR_EALREADY);
		/* the whole pool is free again */
		assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
		close_msi(&m);
	}
}

static void test_masking_costs(void **state)
{
	(void)state;
	add_msi(BDF, 8, true, true);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 8), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	uint_t moff = mask_off(&m, true);
	cap_msi_mask_t mask;
	/* each _isr entry call alone: one config write, no other access
	 * (pcicap-bench: msi_mask_cfg_writes/reads, msi_unmask_cfg_writes/reads) */
	for (uint_t v = 0; v < 8; v++) {
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(cap_msi_unmask_irq_entry_isr(m.h, m.cap, v), PCI_ERR_OK);
		pcicap_sim_counters_t c1 = tu_counters(BDF);
		assert_true(c1.cfg_writes == 1 && c1.cfg_reads == 0 && c1.bar_reads == 0 &&
			    c1.bar_writes == 0);
		assert_int_equal(tu_peek32(BDF, moff) & (1u << v), 0);
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(cap_msi_mask_irq_entry_isr(m.h, m.cap, v), PCI_ERR_OK);
		c1 = tu_counters(BDF);
		assert_true(c1.cfg_writes == 1 && c1.cfg_reads == 0 && c1.bar_reads == 0 &&
			    c1.bar_writes == 0);
		assert_int_equal(tu_peek32(BDF, moff) & (1u << v), 1u << v);
	}
	pcicap_sim_reset_counters(BDF);
	/* one write, no read, per call */
	assert_int_equal(cap_msi_unmask_irq_entry(m.h, m.cap, 3), PCI_ERR_OK);
	assert_int_equal(cap_msi_unmask_irq_entry_isr(m.h, m.cap, 5), PCI_ERR_OK);
	assert_int_equal(cap_msi_mask_irq_entry_isr(m.h, m.cap, 3), PCI_ERR_OK);
	assert_int_equal(cap_msi_unmask_irq(m.h, m.cap, 0x03), PCI_ERR_OK);
	assert_int_equal(cap_msi_mask_irq_isr(m.h, m.cap, 0x01), PCI_ERR_OK);
	assert_int_equal(cap_msi_unmask_irq_isr(m.h, m.cap, 0x80), PCI_ERR_OK);
	assert_int_equal(cap_msi_mask_irq(m.h, m.cap, 0x20), PCI_ERR_OK);
	pcicap_sim_counters_t c = tu_counters(BDF);
	assert_int_equal(c.cfg_writes, 7);
	assert_int_equal(c.cfg_reads, 0);
	assert_int_equal(tu_peek32(BDF, moff), 0xff & ~0x82u);
	/* the mask comes from the shadow: no access */
	assert_int_equal(cap_msi_get_irq_mask(m.h, m.cap, &mask), PCI_ERR_OK);
	assert_int_equal(mask, 0xff & ~0x82u);
	assert_int_equal(cap_msi_get_irq_mask_isr(m.h, m.cap, &mask), PCI_ERR_OK);
	assert_int_equal(tu_counters(BDF).cfg_reads, 0);
	/* pending: one read of the real register */
	cap_msi_pend_t pend = 0xdead;
	assert_int_equal(cap_msi_get_irq_pend(m.h, m.cap, &pend), PCI_ERR_OK);
	assert_int_equal(pend, 0);
	assert_int_equal(cap_msi_get_irq_pend_isr(m.h, m.cap, &pend), PCI_ERR_OK);
	assert_int_equal(tu_counters(BDF).cfg_reads, 2);
	/* no bit at or beyond the capable count, and nothing touched */
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(cap_msi_mask_irq(m.h, m.cap, 0x100), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_unmask_irq_isr(m.h, m.cap, 0x80000000u), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_mask_irq_entry(m.h, m.cap, 8), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_unmask_irq_entry_isr(m.h, m.cap, 0xffffffffu), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_get_irq_mask(m.h, m.cap, NULL), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_get_irq_pend_isr(m.h, m.cap, NULL), PCI_ERR_EINVAL);
	assert_int_equal(tu_cfg_accesses(BDF), 0);
	/* masking changes state: owners only; reading does not */
	pci_devhdl_t sh = pci_device_attach(BDF, pci_attachFlags_e_SHARED, NULL);
	assert_non_null(sh);
	assert_int_equal(cap_msi_mask_irq_entry(sh, m.cap, 1), PCI_ERR_NOT_OWNER);
	assert_int_equal(cap_msi_unmask_irq_isr(sh, m.cap, 1), PCI_ERR_NOT_OWNER);
	assert_int_equal(cap_msi_get_irq_mask(sh, m.cap, &mask), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	close_msi(&m);
}

/* The masking calls remember, per thread, the last (cap, handle) pair they
 * validated (lib/dispatch.c): two devices in turn, crossed pairs, a
 * detached handle, a shared one. */
static void test_pair_memory(void **state)
{
	(void)state;
	pci_bdf_t bdf2 = PCI_BDF(2, 0, 0);
	add_msi(BDF, 8, true, true);
	add_msi(bdf2, 8, false, true);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	msi_t o = open_msi(bdf2, pci_attachFlags_OWNER);
	uint_t moff = mask_off(&m, true), ooff = mask_off(&o, false);
	for (uint_t v = 0; v < 8; v++) {
		assert_int_equal(cap_msi_mask_irq_entry_isr(m.h, m.cap, v), PCI_ERR_OK);
		assert_int_equal(cap_msi_unmask_irq(o.h, o.cap, 1u << v), PCI_ERR_OK);
		assert_int_equal(tu_peek32(BDF, moff), 1u << v);
		assert_int_equal(tu_peek32(bdf2, ooff), 0);
		assert_int_equal(cap_msi_mask_irq_isr(o.h, o.cap, 1u << v), PCI_ERR_OK);
		assert_int_equal(cap_msi_unmask_irq_entry(m.h, m.cap, v), PCI_ERR_OK);
		assert_int_equal(tu_peek32(BDF, moff), 0);
		assert_int_equal(tu_peek32(bdf2, ooff), 1u << v);
		assert_int_equal(cap_msi_unmask_irq_isr(o.h, o.cap, 1u << v), PCI_ERR_OK);
	}
	pcicap_sim_reset_counters(BDF);
	pcicap_sim_reset_counters(bdf2);
	assert_int_equal(cap_msi_mask_irq_isr(m.h, m.cap, 1), PCI_ERR_OK);
	assert_int_equal(cap_msi_mask_irq_isr(o.h, m.cap, 1), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_mask_irq_entry_isr(m.h, o.cap, 0), PCI_ERR_EINVAL);
	pci_devhdl_t sh = pci_device_attach(BDF, pci_attachFlags_e_SHARED, NULL);
	assert_non_null(sh);
	assert_int_equal(cap_msi_unmask_irq_isr(m.h, m.cap, 1), PCI_ERR_OK);
	assert_int_equal(cap_msi_mask_irq_isr(sh, m.cap, 1), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(tu_counters(BDF).cfg_writes, 2);
	assert_int_equal(tu_cfg_accesses(bdf2), 0);
	assert_int_equal(pci_device_detach(m.h), PCI_ERR_OK);
	assert_int_equal(cap_msi_mask_irq_isr(m.h, m.cap, 1), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_mask_irq_entry(m.h, m.cap, 1), PCI_ERR_EINVAL);
	assert_int_equal(tu_counters(BDF).cfg_writes, 2);
	free(m.cap);
	close_msi(&o);
}

static void test_no_pvm(void **state)
{
	(void)state;
	add_msi(BDF, 4, true, false);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	cap_msi_mask_t mk;
	cap_msi_pend_t pd;
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(cap_msi_get_irq_pend(m.h, m.cap, &pd), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_get_irq_pend_isr(m.h, m.cap, &pd), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_get_irq_mask(m.h, m.cap, &mk), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_get_irq_mask_isr(m.h, m.cap, &mk), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_mask_irq(m.h, m.cap, 1), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_mask_irq_isr(m.h, m.cap, 1), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_unmask_irq(m.h, m.cap, 1), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_unmask_irq_isr(m.h, m.cap, 1), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_mask_irq_entry(m.h, m.cap, 0), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_mask_irq_entry_isr(m.h, m.cap, 0), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_unmask_irq_entry(m.h, m.cap, 0), PCI_ERR_ENOTSUP);
	assert_int_equal(cap_msi_unmask_irq_entry_isr(m.h, m.cap, 0), PCI_ERR_ENOTSUP);
	assert_int_equal(tu_cfg_accesses(BDF), 0);
	close_msi(&m);
}

static void test_bad_objects(void **state)
{
	(void)state;
	add_msi(BDF, 4, true, true);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	struct _pci_cap fake = {{1, 0}, 0, (void *)&fake};
	int on_stack;
	pci_cap_t caps[] = {NULL, &fake, (pci_cap_t)(void *)&on_stack};
	pci_devhdl_t hdls[] = {NULL, (pci_devhdl_t)&on_stack, m.h};
	cap_msi_mask_t mk;
	cap_msi_pend_t pd;
	for (size_t c = 0; c < 3; c++) {
		for (size_t h = 0; h < 3; h++) {
			assert_int_equal(cap_msi_mask_irq_entry(hdls[h], caps[c], 0), PCI_ERR_EINVAL);
			assert_int_equal(cap_msi_unmask_irq_entry_isr(hdls[h], caps[c], 0), PCI_ERR_EINVAL);
			assert_int_equal(cap_msi_mask_irq(hdls[h], caps[c], 1), PCI_ERR_EINVAL);
			assert_int_equal(cap_msi_unmask_irq_isr(hdls[h], caps[c], 1), PCI_ERR_EINVAL);
			assert_int_equal(cap_msi_get_irq_mask(hdls[h], caps[c], &mk), PCI_ERR_EINVAL);
			assert_int_equal(cap_msi_get_irq_pend_isr(hdls[h], caps[c], &pd), PCI_ERR_EINVAL);
		}
		/* a valid cap with a bad handle */
		assert_int_equal(cap_msi_mask_irq_entry(hdls[c], m.cap, 0), c == 2 ? PCI_ERR_OK : PCI_ERR_EINVAL);
	}
	/* a handle of another device */
	add_msi(PCI_BDF(2, 0, 0), 4, true, true);
	msi_t o = open_msi(PCI_BDF(2, 0, 0), pci_attachFlags_OWNER);
	assert_int_equal(cap_msi_mask_irq_entry(o.h, m.cap, 0), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_cap_enable(o.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_EINVAL);
	close_msi(&o);
	close_msi(&m);
}

static void test_unavailable(void **state)
{
	(void)state;
	add_msi(BDF, 4, true, true);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	cap_msi_mask_t mk;
	cap_msi_pend_t pd;
	for (int mode = 0; mode < 2; mode++) {
		if (mode == 0)
			assert_int_equal(pcicap_sim_set_removed(BDF, true), PCI_ERR_OK);
		else
			assert_int_equal(pcicap_sim_set_hold_off(BDF, true), PCI_ERR_OK);
		pcicap_sim_reset_counters(BDF);
		assert_int_equal(cap_msi_mask_irq_entry_isr(m.h, m.cap, 0), PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msi_unmask_irq_entry_isr(m.h, m.cap, 0), PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msi_mask_irq_isr(m.h, m.cap, 1), PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msi_unmask_irq_isr(m.h, m.cap, 1), PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msi_get_irq_mask_isr(m.h, m.cap, &mk), PCI_ERR_DEV_NOT_AVAIL);
		assert_int_equal(cap_msi_get_irq_pend_isr(m.h, m.cap, &pd), PCI_ERR_DEV_NOT_AVAIL);
		/* the plain calls say what happened */
		assert_int_equal(cap_msi_mask_irq_entry(m.h, m.cap, 0),
				 mode == 0 ? PCI_ERR_ENODEV : PCI_ERR_DEV_NOT_AVAIL);
		pcicap_sim_counters_t c = tu_counters(BDF);
		assert_true(c.cfg_reads + c.cfg_writes + c.bar_reads + c.bar_writes == 0);
		if (mode == 0)
			assert_int_equal(pcicap_sim_set_removed(BDF, false), PCI_ERR_OK);
		else
			assert_int_equal(pcicap_sim_set_hold_off(BDF, false), PCI_ERR_OK);
	}
	assert_int_equal(cap_msi_unmask_irq_entry_isr(m.h, m.cap, 0), PCI_ERR_OK);
	close_msi(&m);
}

/* Raise each vector and check that exactly its IRQ fires. */
static void check_delivery(pci_bdf_t bdf, msi_t *m, uint_t n, bool pvm)
{
	pci_irq_t irqs[32];
	int_t got;
	read_irqs(m->h, irqs, &got);
	assert_int_equal(got, (int_t)n);
	int fds[32];
	for (uint_t i = 0; i < n; i++) {
		fds[i] = pcicap_irq_fd(m->h, irqs[i]);
		assert_true(fds[i] >= 0);
	}
	for (uint_t v = 0; v < n; v++) {
		if (pvm) {
			/* masked after enable: the raise is held pending */
			assert_int_equal(pcicap_sim_raise(bdf, v), PCI_ERR_OK);
			cap_msi_pend_t pend;
			assert_int_equal(cap_msi_get_irq_pend(m->h, m->cap, &pend), PCI_ERR_OK);
			assert_int_equal(pend, 1u << v);
			assert_true(pcicap_sim_irq_count(irqs[v]) == 0);
			/* unmask: delivered now */
			assert_int_equal(cap_msi_unmask_irq_entry(m->h, m->cap, v), PCI_ERR_OK);
			assert_int_equal(cap_msi_get_irq_pend(m->h, m->cap, &pend), PCI_ERR_OK);
			assert_int_equal(pend, 0);
		} else {
			assert_int_equal(pcicap_sim_raise(bdf, v), PCI_ERR_OK);
		}
		for (uint_t i = 0; i < n; i++) {
			struct pollfd p = {.fd = fds[i], .events = POLLIN};
			assert_int_equal(poll(&p, 1, 0), i == v ? 1 : 0);
		}
		uint64_t cnt = 0;
		assert_int_equal(read(fds[v], &cnt, 8), 8);
		assert_true(cnt == 1);
	}
	pcicap_sim_counters_t c = tu_counters(bdf);
	assert_true(c.stray_msgs == 0);
}

static void test_end_to_end(void **state)
{
	(void)state;
	for (int v = 0; v < 4; v++) {
		bool is64 = v & 1, pvm = v & 2;
		pcicap_sim_clear();
		add_msi(BDF, 8, is64, pvm);
		msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
		assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 8), PCI_ERR_OK);
		assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
		check_delivery(BDF, &m, 8, pvm);
		close_msi(&m);
	}
}

static void test_dumps(void **state)
{
	(void)state;
	const char *last = "";
	for (size_t i = 0; i < N_EXPECTED; i++) {
		const expect_t *e = &expected[i];
		if (!e->msi_ctrl)
			continue;
		if (strcmp(last, e->file) != 0) {
			pcicap_sim_clear();
			char rel[256];
			snprintf(rel, sizeof(rel), "dumps/%s", e->file);
			assert_int_equal(pcicap_sim_add_dump(tu_fixture(rel)), PCI_ERR_OK);
			last = e->file;
		}
		uint_t mmc = 1u << ((e->msi_ctrl >> 1) & 7);
		bool pvm = e->msi_ctrl & 0x100;
		msi_t m = open_msi(e->bdf, pci_attachFlags_OWNER);
		/* the first owner found MSI off, whatever the dump said */
		assert_int_equal(peek16(e->bdf, m.off + 2) & 1, 0);
		assert_int_equal(cap_msi_get_nirq(m.cap), mmc);
		assert_int_equal(cap_msi_set_nirq(m.h, m.cap, mmc), PCI_ERR_OK);
		assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_ADVISORY, m.cap), PCI_ERR_OK);
		check_delivery(e->bdf, &m, mmc, pvm);
		assert_int_equal(pci_device_cfg_cap_disable(m.h, pci_reqType_e_UNSPECIFIED, m.cap), PCI_ERR_OK);
		close_msi(&m);
	}
}

/* A fault at every access of enable (and of disable): the call fails and
 * leaves registers and pool as they were, and a retry succeeds. */
static void test_faults(void **state)
{
	(void)state;
	assert_int_equal(pcicap_sim_set_irqs(8), PCI_ERR_OK);
	add_msi(BDF, 8, true, true);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 8), PCI_ERR_OK);
	/* how many accesses a good enable makes */
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	uint64_t n_enable = tu_cfg_accesses(BDF);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_disable(m.h, pci_reqType_e_UNSPECIFIED, m.cap), PCI_ERR_OK);
	uint64_t n_disable = tu_cfg_accesses(BDF);
	assert_true(n_enable >= 8 && n_disable >= 3);
	uint8_t before[256], after[256];
	for (uint64_t k = 1; k <= n_enable; k++) {
		assert_int_equal(pcicap_sim_peek_cfg(BDF, 0, before, 256), PCI_ERR_OK);
		assert_int_equal(pcicap_sim_fail_access(BDF, k, PCI_ERR_EIO), PCI_ERR_OK);
		assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_EIO);
		assert_int_equal(pcicap_sim_peek_cfg(BDF, 0, after, 256), PCI_ERR_OK);
		assert_memory_equal(before, after, 256);
		assert_false(pci_device_cfg_cap_isenabled(m.h, m.cap));
		int_t n;
		assert_int_equal(pci_device_read_irq(m.h, &n, NULL), PCI_ERR_OK);
		assert_int_equal(n, 0);
	}
	/* the pool is whole: all 8 again */
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	for (uint64_t k = 1; k <= n_disable; k++) {
		assert_int_equal(pcicap_sim_peek_cfg(BDF, 0, before, 256), PCI_ERR_OK);
		assert_int_equal(pcicap_sim_fail_access(BDF, k, PCI_ERR_EIO), PCI_ERR_OK);
		pci_err_t err = pci_device_cfg_cap_disable(m.h, pci_reqType_e_UNSPECIFIED, m.cap);
		/* (a disable that had less to do leaves the fault armed: disarm) */
		assert_int_equal(pcicap_sim_fail_access(BDF, 0, PCI_ERR_OK), PCI_ERR_OK);
		int_t n;
		assert_int_equal(pci_device_read_irq(m.h, &n, NULL), PCI_ERR_OK);
		if (err != PCI_ERR_OK) {
			assert_int_equal(err, PCI_ERR_EIO);
			assert_int_equal(pcicap_sim_peek_cfg(BDF, 0, after, 256), PCI_ERR_OK);
			assert_memory_equal(before, after, 256);
			assert_true(pci_device_cfg_cap_isenabled(m.h, m.cap));
			assert_int_equal(n, 8);
		} else {
			/* past the point of no return (MSI off): only INTx Disable was left */
			assert_false(pci_device_cfg_cap_isenabled(m.h, m.cap));
			assert_int_equal(n, 0);
			assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap),
					 PCI_ERR_OK);
		}
	}
	close_msi(&m);
}

/* MSI-X enabled (by a stand-in MSI-X module from tests/modules) keeps MSI
 * off. In a child: it needs a module directory of its own. */
static int exclusion_child(void)
{
	char dir[] = "/tmp/pcicap-msi-XXXXXX", a[512], b[512];
	if (!mkdtemp(dir))
		return 1;
	snprintf(a, sizeof(a), "%s/pci_cap-0x05.so", getenv("PCI_CAP_MODULE_DIR"));
	snprintf(b, sizeof(b), "%s/pci_cap-0x05.so", dir);
	if (symlink(a, b) != 0)
		return 2;
	snprintf(a, sizeof(a), "%s/testmod-msix.so", getenv("PCICAP_TEST_MODULE_DIR"));
	snprintf(b, sizeof(b), "%s/pci_cap-0x11.so", dir);
	if (symlink(a, b) != 0)
		return 3;
	setenv("PCI_CAP_MODULE_DIR", dir, 1);
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 2;
	d.msix.entries = 4;
	d.msix.pba_off = 0x800;
	if (pcicap_sim_add_device(BDF, &d) != PCI_ERR_OK)
		return 4;
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_OWNER, NULL);
	pci_cap_t msi = NULL, msix = NULL;
	int rc = 0;
	if (!h || pci_device_read_cap(BDF, &msi, (uint_t)pci_device_find_capid(BDF, 0x05)) != PCI_ERR_OK ||
	    pci_device_read_cap(BDF, &msix, (uint_t)pci_device_find_capid(BDF, 0x11)) != PCI_ERR_OK)
		rc = 5;
	else if (pci_device_cfg_cap_enable(h, pci_reqType_e_MANDATORY, msix) != PCI_ERR_OK)
		rc = 6;
	else if (pci_device_cfg_cap_enable(h, pci_reqType_e_MANDATORY, msi) != PCI_ERR_MSIX_ENABLED)
		rc = 7;
	else if (pci_device_cfg_cap_isenabled(h, msi))
		rc = 8;
	else if (pci_device_cfg_cap_disable(h, pci_reqType_e_UNSPECIFIED, msix) != PCI_ERR_OK ||
		 pci_device_cfg_cap_enable(h, pci_reqType_e_MANDATORY, msi) != PCI_ERR_OK)
		rc = 9;
	free(msi);
	free(msix);
	if (h)
		pci_device_detach(h);
	unlink(b);
	snprintf(b, sizeof(b), "%s/pci_cap-0x05.so", dir);
	unlink(b);
	rmdir(dir);
	return rc;
}

static void test_exclusion(void **state)
{
	(void)state;
	assert_int_equal(tu_in_child(exclusion_child), 0);
}

static void test_detach_and_reset(void **state)
{
	(void)state;
	assert_int_equal(pcicap_sim_set_irqs(4), PCI_ERR_OK);
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.pcie = true;
	d.flr = true;
	d.msi.vectors = 4;
	d.msi.addr64 = true;
	d.msi.maskable = true;
	tu_add(BDF, &d);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 4), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	assert_int_equal(cap_msi_unmask_irq(m.h, m.cap, 0x3), PCI_ERR_OK);
	/* a function reset clears the device: the library lets the IRQs go */
	assert_int_equal(pci_device_reset(m.h, pci_resetType_e_FUNCTION), PCI_ERR_OK);
	/* and its view of the mask register follows the device */
	cap_msi_mask_t mk;
	assert_int_equal(cap_msi_get_irq_mask(m.h, m.cap, &mk), PCI_ERR_OK);
	assert_int_equal(mk, tu_peek32(BDF, mask_off(&m, true)));
	assert_false(pci_device_cfg_cap_isenabled(m.h, m.cap));
	int_t n;
	assert_int_equal(pci_device_read_irq(m.h, &n, NULL), PCI_ERR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	/* detach disables */
	uint_t off = m.off;
	close_msi(&m);
	assert_int_equal(peek16(BDF, off + 2) & 1, 0);
	m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	close_msi(&m);
}

/* A disable that fails at detach leaves the device to be quiesced; that
 * must never switch off what another owner enabled since. */
static void test_quiesce_spares_live_enable(void **state)
{
	(void)state;
	add_msi(BDF, 4, true, true);
	msi_t m0 = open_msi(BDF, pci_attachFlags_MULTI_OWNER);
	msi_t m1 = open_msi(BDF, pci_attachFlags_MULTI_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(m1.h, pci_reqType_e_MANDATORY, m1.cap), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_set_hold_off(BDF, true), PCI_ERR_OK);
	close_msi(&m1); /* its disable fails: the device is held off */
	assert_int_equal(pcicap_sim_set_hold_off(BDF, false), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(m0.h, pci_reqType_e_MANDATORY, m0.cap), PCI_ERR_OK);
	assert_int_equal(cap_msi_unmask_irq_entry(m0.h, m0.cap, 0), PCI_ERR_OK);
	msi_t m2 = open_msi(BDF, pci_attachFlags_MULTI_OWNER);
	assert_int_equal(peek16(BDF, m0.off + 2) & 1, 1); /* still enabled */
	assert_true(pci_device_cfg_cap_isenabled(m0.h, m0.cap));
	pci_irq_t irq;
	int_t n = 1;
	assert_int_equal(pci_device_read_irq(m0.h, &n, &irq), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_raise(BDF, 0), PCI_ERR_OK);
	assert_true(pcicap_sim_irq_count(irq) == 1);
	close_msi(&m2);
	close_msi(&m0);
}

/* Threads masking and unmasking their own vectors of one capability. */
typedef struct {
	msi_t *m;
	uint_t first;
	int iterations;
} worker_t;

static void *worker(void *arg)
{
	worker_t *w = arg;
	for (int i = 0; i < w->iterations; i++) {
		uint_t v = w->first + (uint_t)(i % 4);
		bool isr = i & 1;
		pci_err_t e1 = isr ? cap_msi_unmask_irq_entry_isr(w->m->h, w->m->cap, v)
				   : cap_msi_unmask_irq_entry(w->m->h, w->m->cap, v);
		pci_err_t e2 = isr ? cap_msi_mask_irq_entry(w->m->h, w->m->cap, v)
				   : cap_msi_mask_irq_entry_isr(w->m->h, w->m->cap, v);
		if (e1 != PCI_ERR_OK || e2 != PCI_ERR_OK)
			return (void *)1;
	}
	/* leave the thread's first vector unmasked */
	return cap_msi_unmask_irq_entry_isr(w->m->h, w->m->cap, w->first) == PCI_ERR_OK ? NULL
												: (void *)1;
}

static void test_threads(void **state)
{
	(void)state;
	add_msi(BDF, 32, true, true);
	msi_t m = open_msi(BDF, pci_attachFlags_OWNER);
	assert_int_equal(cap_msi_set_nirq(m.h, m.cap, 32), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap), PCI_ERR_OK);
	pthread_t t[8];
	worker_t w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (worker_t){.m = &m, .first = 4u * (uint_t)i, .iterations = 5000};
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		void *r;
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
	uint32_t expect = 0xffffffffu;
	for (int i = 0; i < 8; i++)
		expect &= ~(1u << (4 * i));
	assert_int_equal(tu_peek32(BDF, mask_off(&m, true)), expect);
	cap_msi_mask_t mk;
	assert_int_equal(cap_msi_get_irq_mask(m.h, m.cap, &mk), PCI_ERR_OK);
	assert_int_equal(mk, expect);
	close_msi(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TU_TEST(test_get_and_set_nirq),
	    TU_TEST(test_set_nirq_needs_owner),
	    TU_TEST(test_enable_sequence),
	    TU_TEST(test_request_types),
	    TU_TEST(test_pool_exhausted),
	    TU_TEST(test_disable),
	    TU_TEST(test_masking_costs),
	    TU_TEST(test_no_pvm),
	    TU_TEST(test_bad_objects),
	    TU_TEST(test_unavailable),
	    TU_TEST(test_end_to_end),
	    TU_TEST(test_dumps),
	    TU_TEST(test_faults),
	    TU_TEST(test_detach_and_reset),
	    TU_TEST(test_threads),
	    TU_TEST(test_exclusion),
	    TU_TEST(test_quiesce_spares_live_enable),
	    TU_TEST(test_pair_memory),
	};
	return TU_RUN(tests);
}
