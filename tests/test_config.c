/* Raw config access: widths, bounds, alignment, ownership, protection. */
#include "testutil.h"

static pci_bdf_t add_dev(bool pcie, bool msi, bool msix)
{
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.vid = 0x8086;
	d.did = 0x10d3;
	d.pcie = pcie;
	d.bar[0].kind = PCICAP_SIM_BAR_MEM32;
	d.bar[0].size = 0x4000;
	if (msi) {
		d.msi.vectors = 4;
		d.msi.addr64 = true;
		d.msi.maskable = true;
	}
	if (msix) {
		d.msix.entries = 8;
		d.msix.table_bir = 0;
		d.msix.table_off = 0x2000;
		d.msix.pba_bir = 0;
		d.msix.pba_off = 0x3000;
	}
	return tu_add(PCI_BDF(1, 0, 0), &d);
}

static void test_reads_widths_and_bounds(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_dev(false, false, false);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_wr32(h, 0xf0, 0x11223344, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_wr32(h, 0xf4, 0x55667788, NULL), PCI_ERR_OK);
	uint8_t b;
	uint16_t w;
	uint32_t l;
	uint64_t q;
	assert_int_equal(pci_device_cfg_rd8(bdf, 0xf1, &b), PCI_ERR_OK);
	assert_int_equal(b, 0x33);
	assert_int_equal(pci_device_cfg_rd16(bdf, 0xf2, &w), PCI_ERR_OK);
	assert_int_equal(w, 0x1122);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0xf0, &l), PCI_ERR_OK);
	assert_int_equal(l, 0x11223344);
	assert_int_equal(pci_device_cfg_rd64(bdf, 0xf0, &q), PCI_ERR_OK);
	assert_true(q == 0x5566778811223344ULL);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0xfc, &l), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_rd8(bdf, 0xff, &b), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_rd8(bdf, 0x40, &b), PCI_ERR_OK);

	/* the header is not for raw access; neither is anything past the end */
	assert_int_equal(pci_device_cfg_rd8(bdf, 0x3f, &b), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x00, &l), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd8(bdf, 0x100, &b), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x100, &l), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd64(bdf, 0xfc, &q), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0xffffffffu, &l), PCI_ERR_EINVAL);
	/* natural alignment */
	assert_int_equal(pci_device_cfg_rd16(bdf, 0x41, &w), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x42, &l), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd64(bdf, 0x44, &q), PCI_ERR_EINVAL);
	/* NULL output, unknown device */
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x40, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd32(PCI_BDF(2, 0, 0), 0x40, &l), PCI_ERR_ENODEV);
	/* writes: same rules */
	assert_int_equal(pci_device_cfg_wr8(h, 0x3f, 0, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_wr16(h, 0x41, 0, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_wr32(h, 0x100, 0, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_wr64(h, 0xfc, 0, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_extended_space(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_dev(true, false, false);
	assert_int_equal(pcicap_device_cfg_size(bdf), 4096);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	uint32_t l;
	assert_int_equal(pci_device_cfg_wr32(h, 0xffc, 0xcafef00d, &l), PCI_ERR_OK);
	assert_int_equal(l, 0xcafef00d);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0xffc, &l), PCI_ERR_OK);
	assert_int_equal(l, 0xcafef00d);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x1000, &l), PCI_ERR_EINVAL);
	uint64_t q;
	assert_int_equal(pci_device_cfg_wr64(h, 0xff0, 0x0123456789abcdefULL, &q), PCI_ERR_OK);
	assert_true(q == 0x0123456789abcdefULL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_write_needs_owner(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_dev(false, false, false);
	pci_devhdl_t s = tu_attach(bdf, pci_attachFlags_e_SHARED);
	uint32_t before = tu_peek32(bdf, 0x80);
	pcicap_sim_reset_counters(bdf);
	assert_int_equal(pci_device_cfg_wr32(s, 0x80, 0xffffffff, NULL), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_write_cmd(s, 0x6, NULL), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_write_status(s, 0xffff, NULL), PCI_ERR_NOT_OWNER);
	assert_int_equal(tu_counters(bdf).cfg_writes, 0);
	assert_int_equal(tu_peek32(bdf, 0x80), before);
	assert_int_equal(pci_device_detach(s), PCI_ERR_OK);
}

static void test_write_readback_and_counts(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_dev(false, false, false);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	pcicap_sim_reset_counters(bdf);
	assert_int_equal(pci_device_cfg_wr16(h, 0x80, 0xbeef, NULL), PCI_ERR_OK);
	pcicap_sim_counters_t c = tu_counters(bdf);
	assert_int_equal(c.cfg_writes, 1);
	assert_int_equal(c.cfg_reads, 0);
	uint16_t rb = 0;
	assert_int_equal(pci_device_cfg_wr16(h, 0x82, 0x1234, &rb), PCI_ERR_OK);
	assert_int_equal(rb, 0x1234);
	c = tu_counters(bdf);
	assert_int_equal(c.cfg_writes, 2);
	assert_int_equal(c.cfg_reads, 1);
	assert_int_equal(tu_peek32(bdf, 0x80), 0x1234beef);
	uint32_t l;
	pcicap_sim_reset_counters(bdf);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x80, &l), PCI_ERR_OK);
	assert_int_equal(tu_counters(bdf).cfg_reads, 1);
	/* the access log shows what went to the device */
	assert_int_equal(pcicap_sim_log_start(bdf, 8), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_wr8(h, 0x85, 0x5a, NULL), PCI_ERR_OK);
	pcicap_sim_access_t log[8];
	size_t n = 0;
	assert_int_equal(pcicap_sim_log_get(bdf, log, 8, &n), PCI_ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(log[0].kind, PCICAP_SIM_CFG_WRITE);
	assert_int_equal(log[0].offset, 0x85);
	assert_int_equal(log[0].width, 1);
	assert_int_equal(log[0].value, 0x5a);
	assert_int_equal(pcicap_sim_log_start(bdf, 0), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_cmd_and_status(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_dev(false, false, false);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	pci_cmd_t cmd;
	assert_int_equal(pci_device_write_cmd(h, 0x0406, &cmd), PCI_ERR_OK);
	assert_int_equal(cmd & 0x0406, 0x0406);
	pci_cmd_t rc;
	assert_int_equal(pci_device_read_cmd(bdf, &rc), PCI_ERR_OK);
	assert_int_equal(rc, cmd);
	/* Status: error bits are RW1C, the rest read-only */
	pci_stat_t s0, s1;
	assert_int_equal(pci_device_read_status(bdf, &s0), PCI_ERR_OK);
	assert_int_equal(pci_device_write_status(h, 0x0000, &s1), PCI_ERR_OK);
	assert_int_equal(s1, s0); /* writing zeros changes nothing */
	assert_int_equal(pci_device_write_status(h, 0xffff, &s1), PCI_ERR_OK);
	assert_int_equal(s1 & 0xf900, 0); /* error bits cleared (they were clear anyway) */
	assert_int_equal(s1 & 0x0010, s0 & 0x0010); /* CapList read-only */
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_msi_msix_protected(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_dev(true, true, true);
	int_t msi = pci_device_find_capid(bdf, 0x05);
	int_t msix = pci_device_find_capid(bdf, 0x11);
	assert_true(msi >= 0);
	assert_true(msix >= 0);
	uint_t msi_off, msix_off;
	assert_int_equal(pcicap_device_cap_offset(bdf, (uint_t)msi, &msi_off), PCI_ERR_OK);
	assert_int_equal(pcicap_device_cap_offset(bdf, (uint_t)msix, &msix_off), PCI_ERR_OK);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	pcicap_sim_reset_counters(bdf);
	/* every byte of the MSI structure (64-bit, maskable: 24 bytes) and of MSI-X (12) */
	for (uint_t i = 0; i < 24; i++)
		assert_int_equal(pci_device_cfg_wr8(h, msi_off + i, 0, NULL), PCI_ERR_CFG_ACCESS);
	for (uint_t i = 0; i < 12; i++)
		assert_int_equal(pci_device_cfg_wr8(h, msix_off + i, 0, NULL), PCI_ERR_CFG_ACCESS);
	/* a wider write that only overlaps */
	assert_int_equal(pci_device_cfg_wr64(h, (msi_off + 24 - 4) & ~7u, 0, NULL),
			 PCI_ERR_CFG_ACCESS);
	assert_int_equal(tu_counters(bdf).cfg_writes, 0);
	/* right after the structure is fine */
	assert_int_equal(pci_device_cfg_wr8(h, msi_off + 24, 0, NULL),
			 msi_off + 24 == msix_off ? PCI_ERR_CFG_ACCESS : PCI_ERR_OK);
	/* reads are never refused */
	uint32_t l;
	assert_int_equal(pci_device_cfg_rd32(bdf, msi_off, &l), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	/* FULL_CONFIG_ACCESS lifts the protection */
	h = tu_attach(bdf, pci_attachFlags_OWNER | pci_attachFlags_e_FULL_CONFIG_ACCESS);
	assert_int_equal(pci_device_cfg_wr32(h, msi_off + 4, 0xfee00000, &l), PCI_ERR_OK);
	assert_int_equal(l, 0xfee00000);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_failed_access_reported(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_dev(false, false, false);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	uint32_t l;
	assert_int_equal(pcicap_sim_fail_access(bdf, 1, PCI_ERR_EIO), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x80, &l), PCI_ERR_EIO);
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x80, &l), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_fail_access(bdf, 1, PCI_ERR_EIO), PCI_ERR_OK);
	uint32_t before = tu_peek32(bdf, 0x80);
	assert_int_equal(pci_device_cfg_wr32(h, 0x80, ~before, NULL), PCI_ERR_EIO);
	assert_int_equal(tu_peek32(bdf, 0x80), before);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TU_TEST(test_reads_widths_and_bounds), TU_TEST(test_extended_space),
	    TU_TEST(test_write_needs_owner),       TU_TEST(test_write_readback_and_counts),
	    TU_TEST(test_cmd_and_status),          TU_TEST(test_msi_msix_protected),
	    TU_TEST(test_failed_access_reported),
	};
	return TU_RUN(tests);
}
