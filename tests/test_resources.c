/* Address spaces, ROM, address translation, reset, chassis/slot, type. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static pci_bdf_t add_bars(pci_bdf_t bdf, bool flr)
{
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.vid = 0x8086;
	d.did = 0x10d3;
	d.ccode = 0x020000;
	d.pcie = true;
	d.flr = flr;
	d.bar[0].kind = PCICAP_SIM_BAR_MEM64;
	d.bar[0].size = 0x20000;
	d.bar[0].addr = 0x1f0000000ULL;
	d.bar[2].kind = PCICAP_SIM_BAR_IO;
	d.bar[2].size = 0x20;
	d.bar[2].addr = 0xe000;
	d.bar[3].kind = PCICAP_SIM_BAR_MEM32;
	d.bar[3].size = 0x4000;
	d.bar[3].prefetch = true;
	d.bar[3].addr = 0xfe800000;
	d.msix.entries = 4;
	d.msix.table_bir = 3;
	d.msix.table_off = 0;
	d.msix.pba_bir = 3;
	d.msix.pba_off = 0x2000;
	return tu_add(bdf, &d);
}

static void check_bar(const pci_ba_t *b, int num, pci_asType_e type, uint64_t addr, uint64_t size,
		      uint32_t attrs)
{
	assert_int_equal(b->bar_num, num);
	assert_int_equal(b->type, type);
	assert_true(b->addr == addr);
	assert_true(b->size == size);
	assert_int_equal(
	    b->attr & (pci_asAttr_e_BIT_MASK | pci_asAttr_e_PREFETCH | pci_asAttr_e_EXPANSION_ROM),
	    attrs);
	uint_t log2 = 0;
	while ((1ULL << log2) < size)
		log2++;
	assert_int_equal(b->attr & pci_asAttr_e_ALIGN, log2);
}

static void test_read_ba(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_bars(PCI_BDF(1, 0, 0), false);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	int_t n = 0;
	assert_int_equal(pci_device_read_ba(h, &n, NULL, pci_reqType_e_UNSPECIFIED), PCI_ERR_OK);
	assert_int_equal(n, 3);
	pci_ba_t ba[8];
	n = 8;
	assert_int_equal(pci_device_read_ba(h, &n, ba, pci_reqType_e_UNSPECIFIED), PCI_ERR_OK);
	assert_int_equal(n, 3);
	check_bar(&ba[0], 0, pci_asType_e_MEM, 0x1f0000000ULL, 0x20000, pci_asAttr_e_64BIT);
	check_bar(&ba[1], 2, pci_asType_e_IO, 0xe000, 0x20, pci_asAttr_e_32BIT);
	check_bar(&ba[2], 3, pci_asType_e_MEM, 0xfe800000, 0x4000,
		  pci_asAttr_e_32BIT | pci_asAttr_e_PREFETCH);
	/* too small an array: filled, and the count of what did not fit, negated */
	pci_ba_t two[2];
	n = 2;
	assert_int_equal(pci_device_read_ba(h, &n, two, pci_reqType_e_UNSPECIFIED), PCI_ERR_OK);
	assert_int_equal(n, -1);
	assert_int_equal(two[1].bar_num, 2);
	/* MANDATORY: the caller names the BARs; unknown ones come back as NONE */
	pci_ba_t want[4];
	memset(want, 0, sizeof(want));
	want[0].bar_num = 3;
	want[1].bar_num = 1; /* upper half of BAR0 */
	want[2].bar_num = 3;
	want[3].bar_num = 9;
	n = 4;
	assert_int_equal(pci_device_read_ba(h, &n, want, pci_reqType_e_MANDATORY), PCI_ERR_OK);
	check_bar(&want[0], 3, pci_asType_e_MEM, 0xfe800000, 0x4000,
		  pci_asAttr_e_32BIT | pci_asAttr_e_PREFETCH);
	assert_int_equal(want[1].type, pci_asType_e_NONE);
	assert_int_equal(want[2].bar_num, 3);
	assert_int_equal(want[3].type, pci_asType_e_NONE);
	assert_int_equal(want[3].bar_num, 9);
	/* no count with an array: one entry, as with pci_device_read_irq() */
	pci_ba_t first;
	assert_int_equal(pci_device_read_ba(h, NULL, &first, pci_reqType_e_UNSPECIFIED), PCI_ERR_OK);
	assert_int_equal(first.bar_num, 0);
	/* errors */
	assert_int_equal(pci_device_read_ba(h, NULL, NULL, pci_reqType_e_UNSPECIFIED),
			 PCI_ERR_EINVAL);
	n = 1;
	assert_int_equal(pci_device_read_ba(h, &n, NULL, pci_reqType_e_MANDATORY), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_read_ba(h, &n, ba, (pci_reqType_t)3), PCI_ERR_EINVAL);
	pci_devhdl_t sh = tu_attach(bdf, pci_attachFlags_e_SHARED);
	assert_int_equal(pci_device_read_ba(sh, &n, ba, pci_reqType_e_UNSPECIFIED),
			 PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_read_ba(NULL, &n, ba, pci_reqType_e_UNSPECIFIED),
			 PCI_ERR_EINVAL);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_dump_bars_and_rom(void **state)
{
	(void)state;
	/* 82576: BAR0 32-bit mem at 0xe0800000, BAR1 mem at 0xe0000000, BAR2 I/O, BAR3 MSI-X */
	assert_int_equal(pcicap_sim_add_dump(tu_fixture("dumps/intel-82576-nic.txt")), PCI_ERR_OK);
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	pci_ba_t ba[8];
	int_t n = 8;
	assert_int_equal(pci_device_read_ba(h, &n, ba, pci_reqType_e_UNSPECIFIED), PCI_ERR_OK);
	assert_true(n >= 4);
	assert_int_equal(ba[0].bar_num, 0);
	assert_true(ba[0].addr == 0xe0800000);
	assert_int_equal(ba[2].type, pci_asType_e_IO);
	assert_true(ba[2].addr == 0x1020);
	assert_int_equal(ba[3].bar_num, 3);
	/* the synthesised MSI-X BAR holds the table and the PBA */
	assert_true(ba[3].size >= 0x2000 + 8);
	/* its expansion ROM (0xc7800000, disabled) comes last */
	assert_int_equal(ba[n - 1].bar_num, -1);
	assert_true(ba[n - 1].addr == 0xc7800000);
	assert_true(ba[n - 1].attr & pci_asAttr_e_EXPANSION_ROM);
	assert_false(ba[n - 1].attr & pci_asAttr_e_ENABLED);
	assert_int_equal(pci_device_rom_enable(h), PCI_ERR_OK);
	assert_int_equal(tu_peek32(bdf, 0x30) & 1, 1);
	n = 8;
	assert_int_equal(pci_device_read_ba(h, &n, ba, pci_reqType_e_UNSPECIFIED), PCI_ERR_OK);
	assert_true(ba[n - 1].attr & pci_asAttr_e_ENABLED);
	assert_int_equal(pci_device_rom_disable(h), PCI_ERR_OK);
	assert_int_equal(tu_peek32(bdf, 0x30) & 1, 0);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	/* a device without one */
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	tu_add(PCI_BDF(2, 0, 0), &d);
	h = tu_attach(PCI_BDF(2, 0, 0), pci_attachFlags_OWNER);
	assert_int_equal(pci_device_rom_enable(h), PCI_ERR_ENOTSUP);
	assert_int_equal(pci_device_rom_disable(h), PCI_ERR_ENOTSUP);
}

static void test_map_as(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_bars(PCI_BDF(1, 0, 0), false);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_e_SHARED);
	pci_ba_t as;
	memset(&as, 0, sizeof(as)); /* padding too: the result is compared bytewise */
	as.addr = 0x12340000;
	as.size = 0x1000;
	as.type = pci_asType_e_MEM;
	as.attr = pci_asAttr_e_INBOUND;
	pci_ba_t x;
	memset(&x, 0xa5, sizeof(x));
	assert_int_equal(pci_device_map_as(h, &as, &x), PCI_ERR_OK);
	assert_memory_equal(&x, &as, sizeof(as));
	as.attr = pci_asAttr_e_OUTBOUND;
	assert_int_equal(pci_device_map_as(h, &as, &x), PCI_ERR_OK);
	as.attr = 0;
	assert_int_equal(pci_device_map_as(h, &as, &x), PCI_ERR_EINVAL);
	as.attr = pci_asAttr_e_INBOUND | pci_asAttr_e_OUTBOUND;
	assert_int_equal(pci_device_map_as(h, &as, &x), PCI_ERR_EINVAL);
	as.attr = pci_asAttr_e_INBOUND;
	as.type = pci_asType_e_NONE;
	assert_int_equal(pci_device_map_as(h, &as, &x), PCI_ERR_EINVAL);
	as.type = pci_asType_e_MEM;
	as.addr = ~0ULL - 10;
	assert_int_equal(pci_device_map_as(h, &as, &x), PCI_ERR_EINVAL);
	as.addr = 0x1000;
	assert_int_equal(pci_device_map_as(h, NULL, &x), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_map_as(h, &as, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_map_as(NULL, &as, &x), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_reset(void **state)
{
	(void)state;
	pci_bdf_t flr = add_bars(PCI_BDF(1, 0, 0), true);
	pci_bdf_t noflr = add_bars(PCI_BDF(2, 0, 0), false);
	pci_devhdl_t h = tu_attach(flr, pci_attachFlags_OWNER);
	pci_devhdl_t n = tu_attach(noflr, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_write_cmd(h, 0x0406, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_wr32(h, 0x100 - 4, 0x12345678, NULL), PCI_ERR_OK);
	/* others attached: refused */
	pci_devhdl_t sh = tu_attach(flr, pci_attachFlags_e_SHARED);
	assert_int_equal(pci_device_reset(h, pci_resetType_e_FUNCTION), PCI_ERR_ATTACH_SHARED);
	assert_int_equal(pci_device_reset(sh, pci_resetType_e_FUNCTION), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(pci_device_reset(h, pci_resetType_e_FUNCTION), PCI_ERR_OK);
	/* the function is back at its power-on state */
	pci_cmd_t cmd;
	assert_int_equal(pci_device_read_cmd(flr, &cmd), PCI_ERR_OK);
	assert_int_equal(cmd & 0x0406, 0);
	/* types below BUS are a no-op; the others need device or backend support */
	assert_int_equal(pci_device_reset(h, (pci_resetType_e)0), PCI_ERR_OK);
	assert_int_equal(pci_device_reset(h, pci_resetType_e_BUS), PCI_ERR_ENOTSUP);
	assert_int_equal(pci_device_reset(h, pci_resetType_e_SEGMENT), PCI_ERR_ENOTSUP);
	assert_int_equal(pci_device_reset(n, pci_resetType_e_FUNCTION), PCI_ERR_ENOTSUP);
	assert_int_equal(pci_device_reset(NULL, pci_resetType_e_FUNCTION), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(n), PCI_ERR_OK);
}

static void test_chassis_slot_and_type(void **state)
{
	(void)state;
	pcicap_sim_device_t br;
	pcicap_sim_device_init(&br);
	br.vid = 0x10b5;
	br.did = 0x9716;
	br.ccode = 0x060400;
	br.hdr_type = 1;
	pci_bdf_t bbdf = tu_add(PCI_BDF(0, 1, 0), &br);
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.chassis_slot = PCI_CS(1, 7);
	d.pcie = true;
	pci_bdf_t dbdf = tu_add(PCI_BDF(4, 0, 0), &d);
	pcicap_sim_device_t hb;
	pcicap_sim_device_init(&hb);
	hb.ccode = 0x060000;
	pci_bdf_t hbdf = tu_add(PCI_BDF(0, 0, 0), &hb);
	pcicap_sim_device_t plain;
	pcicap_sim_device_init(&plain);
	pci_bdf_t pbdf = tu_add(PCI_BDF(0, 3, 0), &plain);

	pci_err_t err;
	pci_devhdl_t h = tu_attach(bbdf, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_write_sec_busnum(h, 4, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);

	assert_int_equal(pci_device_chassis_slot(dbdf), PCI_CS(1, 7));
	assert_int_equal(pci_device_chassis_slot(pbdf), PCI_CS(0, 0));
	assert_int_equal(pci_device_chassis_slot(PCI_BDF(9, 9, 0)), PCI_CS_NONE);
	assert_int_equal(pci_chassis_slot_device(PCI_CS(1, 7), &err), dbdf);
	assert_int_equal(err, PCI_ERR_OK);
	assert_int_equal(pci_chassis_slot_device(PCI_CS(1, 8), &err), PCI_BDF_NONE);
	assert_int_equal(err, PCI_ERR_ENODEV);
	assert_int_equal(pci_chassis_slot_device(PCI_CS_NONE, &err), PCI_BDF_NONE);
	assert_int_equal(err, PCI_ERR_EINVAL);
	assert_int_equal(pci_chassis_slot_device(PCI_CS(1, 0), &err), PCI_BDF_NONE);
	assert_int_equal(err, PCI_ERR_EINVAL);
	assert_int_equal(pci_chassis_slot_bridge(PCI_CS(1, 7)), bbdf);
	assert_int_equal(pci_chassis_slot_bridge(PCI_CS(1, 8)), PCI_BDF_NONE);

	uint_t sub = 0;
	assert_int_equal(pci_device_get_type(dbdf, &sub), pci_device_type_e_PCIe);
	assert_int_equal(sub, 0); /* endpoint */
	assert_int_equal(pci_device_get_type(bbdf, &sub), pci_device_type_e_PCI_BRIDGE);
	assert_int_equal(sub, (uint_t)-1);
	assert_int_equal(pci_device_get_type(hbdf, NULL), pci_device_type_e_PCI_HOST_BRIDGE);
	assert_int_equal(pci_device_get_type(pbdf, NULL), pci_device_type_e_PCI_DEVICE);
	assert_int_equal(pci_device_get_type(PCI_BDF(9, 9, 0), &sub), pci_device_type_e_UNKNOWN);
}

/* pcicap_bar_read/write and the DMA calls on the simulator. */
static void test_bar_memory(void **state)
{
	(void)state;
	pci_bdf_t bdf = add_bars(PCI_BDF(1, 0, 0), false);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	pcicap_sim_counters_t c0 = tu_counters(bdf);
	assert_int_equal(pcicap_bar_write(h, 0, 0x100, 4, 0xdeadbeef), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_write(h, 0, 0x108, 8, 0x0123456789abcdefULL), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_write(h, 0, 0x112, 2, 0xbeef), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_write(h, 0, 0x115, 1, 0x5a), PCI_ERR_OK);
	uint8_t raw[24];
	assert_int_equal(pcicap_sim_peek_bar(bdf, 0, 0x100, raw, sizeof(raw)), PCI_ERR_OK);
	assert_memory_equal(raw, "\xef\xbe\xad\xde", 4);
	assert_memory_equal(raw + 8, "\xef\xcd\xab\x89\x67\x45\x23\x01", 8);
	assert_int_equal(raw[0x12], 0xef);
	assert_int_equal(raw[0x13], 0xbe);
	assert_int_equal(raw[0x15], 0x5a);
	uint64_t v = 0;
	assert_int_equal(pcicap_bar_read(h, 0, 0x100, 4, &v), PCI_ERR_OK);
	assert_true(v == 0xdeadbeef);
	assert_int_equal(pcicap_bar_read(h, 0, 0x108, 8, &v), PCI_ERR_OK);
	assert_true(v == 0x0123456789abcdefULL);
	assert_int_equal(pcicap_bar_read(h, 0, 0x101, 1, &v), PCI_ERR_OK);
	assert_true(v == 0xbe);
	/* one backend access each, nothing else: the BAR size is cached */
	pcicap_sim_counters_t c1 = tu_counters(bdf);
	assert_true(c1.bar_writes - c0.bar_writes == 4);
	assert_true(c1.bar_reads - c0.bar_reads == 3);

	/* refusals: nothing reaches the device */
	uint64_t keep = 77;
	assert_int_equal(pcicap_bar_read(h, 0, 0x100, 3, &keep), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 0, 0x102, 4, &keep), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 0, 0x20000 - 2, 4, &keep), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 0, 0x20000, 1, &keep), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 0, UINT64_MAX - 3, 4, &keep), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 0, 0, 4, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 6, 0, 4, &keep), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, -1, 0, 4, &keep), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 1, 0, 4, &keep), PCI_ERR_ENOENT); /* upper half */
	assert_int_equal(pcicap_bar_read(h, 5, 0, 4, &keep), PCI_ERR_ENOENT);
	assert_int_equal(pcicap_bar_read(NULL, 0, 0, 4, &keep), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_write(h, 0, 0, 1, 0x100), PCI_ERR_EINVAL); /* does not fit */
	assert_int_equal(pcicap_bar_write(h, 0, 0, 2, 0x10000), PCI_ERR_EINVAL);
	assert_true(keep == 77);
	/* the MSI-X table (BAR3 0..0x3f) and PBA (BAR3 0x2000) belong to the module */
	assert_int_equal(pcicap_bar_write(h, 3, 0x0c, 4, 0), PCI_ERR_CFG_ACCESS);
	assert_int_equal(pcicap_bar_write(h, 3, 0x38, 8, 0), PCI_ERR_CFG_ACCESS);
	assert_int_equal(pcicap_bar_write(h, 3, 0x2000, 8, 0), PCI_ERR_CFG_ACCESS);
	assert_int_equal(pcicap_bar_read(h, 3, 0x0c, 4, &v), PCI_ERR_OK); /* reads are fine */
	assert_true(v == 1);                                               /* masked */
	assert_int_equal(pcicap_bar_write(h, 3, 0x40, 4, 7), PCI_ERR_OK);     /* past the table */
	assert_int_equal(pcicap_bar_write(h, 3, 0x2008, 4, 7), PCI_ERR_OK);   /* past the PBA */
	pcicap_sim_counters_t c2 = tu_counters(bdf);
	assert_true(c2.bar_writes - c1.bar_writes == 2);
	/* not an owner */
	pci_devhdl_t ro = tu_attach(bdf, 0);
	assert_int_equal(pcicap_bar_read(ro, 0, 0x100, 4, &v), PCI_ERR_NOT_OWNER);
	assert_int_equal(pcicap_bar_write(ro, 0, 0x100, 4, 0), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_detach(ro), PCI_ERR_OK);

	/* DMA: the simulator has none */
	long pg = sysconf(_SC_PAGESIZE);
	void *buf = aligned_alloc((size_t)pg, (size_t)pg);
	assert_non_null(buf);
	uint64_t iova = 5;
	assert_int_equal(pcicap_dma_map(h, buf, (size_t)pg, &iova), PCI_ERR_ENOTSUP);
	assert_int_equal(pcicap_dma_map(h, (char *)buf + 1, (size_t)pg, &iova), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_map(h, buf, 100, &iova), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_map(h, buf, 0, &iova), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_map(h, buf, (size_t)pg, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_map(NULL, buf, (size_t)pg, &iova), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_unmap(h, 0x100000, (size_t)pg), PCI_ERR_ENOTSUP);
	assert_int_equal(pcicap_dma_unmap(h, 0x100001, (size_t)pg), PCI_ERR_EINVAL);
	assert_true(iova == 5);
	free(buf);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);

	/* FULL_CONFIG_ACCESS reaches the table */
	h = tu_attach(bdf, pci_attachFlags_OWNER | pci_attachFlags_e_FULL_CONFIG_ACCESS);
	assert_int_equal(pcicap_bar_write(h, 3, 0x08, 4, 0x42), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_peek_bar(bdf, 3, 0x08, raw, 4), PCI_ERR_OK);
	assert_int_equal(raw[0], 0x42);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TU_TEST(test_read_ba), TU_TEST(test_dump_bars_and_rom),     TU_TEST(test_map_as),
	    TU_TEST(test_reset),   TU_TEST(test_chassis_slot_and_type), TU_TEST(test_bar_memory),
	};
	return TU_RUN(tests);
}
