/* Finding, attaching, detaching, handles, header reads. */
#include <string.h>

#include "testutil.h"

static pcicap_sim_device_t dev_desc(uint16_t vid, uint16_t did, uint32_t cc)
{
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.vid = vid;
	d.did = did;
	d.ccode = cc;
	return d;
}

/* Four devices in two domains, added out of order. */
static void add_four(void)
{
	pcicap_sim_device_t a = dev_desc(0x8086, 0x10d3, 0x020000);
	pcicap_sim_device_t b = dev_desc(0x8086, 0x1234, 0x010802);
	pcicap_sim_device_t c = dev_desc(0x1af4, 0x1041, 0x020000);
	pcicap_sim_device_t e = dev_desc(0x8086, 0x10d3, 0x020000);
	tu_add(PCICAP_BDF(1, 0, 0, 0), &e);
	tu_add(PCI_BDF(3, 0, 0), &c);
	tu_add(PCI_BDF(0, 2, 0), &a);
	tu_add(PCI_BDF(0, 1, 0), &b);
}

static void test_find_order_and_wildcards(void **state)
{
	(void)state;
	add_four();
	pci_bdf_t exp[] = {PCI_BDF(0, 1, 0), PCI_BDF(0, 2, 0), PCI_BDF(3, 0, 0),
			   PCICAP_BDF(1, 0, 0, 0)};
	for (uint_t i = 0; i < 4; i++)
		assert_int_equal(pci_device_find(i, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY),
				 exp[i]);
	assert_int_equal(pci_device_find(4, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY), PCI_BDF_NONE);
	assert_int_equal(pci_device_find(0xffffffffu, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY),
			 PCI_BDF_NONE);
	/* by vendor */
	assert_int_equal(pci_device_find(0, 0x8086, PCI_DID_ANY, PCI_CCODE_ANY), PCI_BDF(0, 1, 0));
	assert_int_equal(pci_device_find(1, 0x8086, PCI_DID_ANY, PCI_CCODE_ANY), PCI_BDF(0, 2, 0));
	assert_int_equal(pci_device_find(2, 0x8086, PCI_DID_ANY, PCI_CCODE_ANY),
			 PCICAP_BDF(1, 0, 0, 0));
	assert_int_equal(pci_device_find(3, 0x8086, PCI_DID_ANY, PCI_CCODE_ANY), PCI_BDF_NONE);
	/* by vendor and device */
	assert_int_equal(pci_device_find(0, 0x8086, 0x10d3, PCI_CCODE_ANY), PCI_BDF(0, 2, 0));
	assert_int_equal(pci_device_find(1, 0x8086, 0x10d3, PCI_CCODE_ANY), PCICAP_BDF(1, 0, 0, 0));
	assert_int_equal(pci_device_find(0, 0x1234, PCI_DID_ANY, PCI_CCODE_ANY), PCI_BDF_NONE);
	/* by class, with subclass and interface wildcards */
	assert_int_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE(2, 0, 0)),
			 PCI_BDF(0, 2, 0));
	assert_int_equal(pci_device_find(2, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE(2, 0, 0)),
			 PCICAP_BDF(1, 0, 0, 0));
	assert_int_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE(1, 0xff, 0xff)),
			 PCI_BDF(0, 1, 0));
	assert_int_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE(1, 8, 0xff)),
			 PCI_BDF(0, 1, 0));
	assert_int_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE(1, 8, 1)),
			 PCI_BDF_NONE);
	assert_int_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE(0xff, 0xff, 2)),
			 PCI_BDF(0, 1, 0));
	/* going backwards after a sequential scan still answers right */
	assert_int_equal(pci_device_find(0, 0x8086, PCI_DID_ANY, PCI_CCODE_ANY), PCI_BDF(0, 1, 0));
}

static void test_find_sees_added_and_removed(void **state)
{
	(void)state;
	assert_int_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY), PCI_BDF_NONE);
	pcicap_sim_device_t d = dev_desc(0x1111, 0x2222, 0xff0000);
	tu_add(PCI_BDF(5, 0, 0), &d);
	assert_int_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY),
			 PCI_BDF(5, 0, 0));
	pcicap_sim_clear();
	assert_int_equal(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY), PCI_BDF_NONE);
}

static void test_ari_encoding(void **state)
{
	(void)state;
	pcicap_sim_device_t d = dev_desc(0x8086, 0x1521, 0x020000);
	tu_add(PCI_BDF(4, 1, 1), &d);
	/* ARI function 9 of bus 4 is device 1, function 1 */
	pci_vid_t vid;
	assert_int_equal(pci_device_read_vid(PCI_BDF_ARI(4, 9), &vid), PCI_ERR_OK);
	assert_int_equal(vid, 0x8086);
	assert_int_equal(pci_device_read_vid(PCI_BDF_ARI(4, 8), &vid), PCI_ERR_ENODEV);
	pci_err_t err;
	pci_devhdl_t a = pci_device_attach(PCI_BDF_ARI(4, 9), pci_attachFlags_OWNER, &err);
	assert_non_null(a);
	/* the same function by either name: one owner */
	assert_null(pci_device_attach(PCI_BDF(4, 1, 1), pci_attachFlags_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_OWNED);
	assert_int_equal(pci_device_detach(a), PCI_ERR_OK);
}

static void test_header_reads(void **state)
{
	(void)state;
	pcicap_sim_device_t d = dev_desc(0x8086, 0x10d3, 0x020001);
	d.revid = 0x42;
	d.ssvid = 0x17aa;
	d.ssid = 0x5678;
	d.multifunction = true;
	pci_bdf_t bdf = tu_add(PCI_BDF(2, 3, 0), &d);
	pci_vid_t vid;
	pci_did_t did;
	pci_revid_t rev;
	pci_ccode_t cc;
	pci_hdrType_t hdr;
	pci_ssvid_t ssvid;
	pci_ssid_t ssid;
	pci_cmd_t cmd;
	pci_stat_t st;
	pci_latency_t lat;
	pci_clsize_t cls;
	assert_int_equal(pci_device_read_vid(bdf, &vid), PCI_ERR_OK);
	assert_int_equal(vid, 0x8086);
	assert_int_equal(pci_device_read_did(bdf, &did), PCI_ERR_OK);
	assert_int_equal(did, 0x10d3);
	assert_int_equal(pci_device_read_revid(bdf, &rev), PCI_ERR_OK);
	assert_int_equal(rev, 0x42);
	assert_int_equal(pci_device_read_ccode(bdf, &cc), PCI_ERR_OK);
	assert_int_equal(cc, 0x020001);
	assert_int_equal(pci_device_read_hdrType(bdf, &hdr), PCI_ERR_OK);
	assert_int_equal(hdr, 0x80);
	assert_true(pci_device_is_multi_func(bdf));
	assert_int_equal(pci_device_read_ssvid(bdf, &ssvid), PCI_ERR_OK);
	assert_int_equal(ssvid, 0x17aa);
	assert_int_equal(pci_device_read_ssid(bdf, &ssid), PCI_ERR_OK);
	assert_int_equal(ssid, 0x5678);
	assert_int_equal(pci_device_read_cmd(bdf, &cmd), PCI_ERR_OK);
	assert_int_equal(cmd, tu_peek32(bdf, 4) & 0xffff);
	assert_int_equal(pci_device_read_status(bdf, &st), PCI_ERR_OK);
	assert_int_equal(st, tu_peek32(bdf, 4) >> 16);
	assert_int_equal(pci_device_read_latency(bdf, &lat), PCI_ERR_OK);
	assert_int_equal(lat, tu_peek8(bdf, 0x0d));
	assert_int_equal(pci_device_read_clsize(bdf, &cls), PCI_ERR_OK);
	assert_int_equal(cls, tu_peek8(bdf, 0x0c));
	/* one config read per call */
	pcicap_sim_reset_counters(bdf);
	assert_int_equal(pci_device_read_vid(bdf, &vid), PCI_ERR_OK);
	assert_int_equal(tu_counters(bdf).cfg_reads, 1);

	/* errors: NULL output, no such device, bridge reads on an endpoint */
	assert_int_equal(pci_device_read_vid(bdf, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_read_ccode(bdf, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_read_vid(PCI_BDF(9, 9, 1), &vid), PCI_ERR_ENODEV);
	assert_int_equal(pci_device_read_vid(PCI_BDF_NONE, &vid), PCI_ERR_ENODEV);
	assert_false(pci_device_is_multi_func(PCI_BDF(9, 9, 1)));
	pci_busnum_t bus;
	pci_ba_val_t base;
	assert_int_equal(pci_device_read_sec_busnum(bdf, &bus), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_read_mem_base(bdf, &base), PCI_ERR_EINVAL);
}

static void test_bridge_reads(void **state)
{
	(void)state;
	pcicap_sim_device_t d = dev_desc(0x10b5, 0x9716, 0x060400);
	d.hdr_type = 1;
	pci_bdf_t bdf = tu_add(PCI_BDF(0, 1, 0), &d);
	pci_err_t err;
	pci_devhdl_t h = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	assert_non_null(h);
	pci_busnum_t b;
	assert_int_equal(pci_device_write_pri_busnum(h, 0, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_write_sec_busnum(h, 5, &b), PCI_ERR_OK);
	assert_int_equal(b, 5);
	assert_int_equal(pci_device_write_sub_busnum(h, 6, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_read_pri_busnum(bdf, &b), PCI_ERR_OK);
	assert_int_equal(b, 0);
	assert_int_equal(pci_device_read_sec_busnum(bdf, &b), PCI_ERR_OK);
	assert_int_equal(b, 5);
	assert_int_equal(pci_device_read_sub_busnum(bdf, &b), PCI_ERR_OK);
	assert_int_equal(b, 6);
	assert_int_equal(tu_peek32(bdf, 0x18) & 0xffffff, 0x060500);

	pci_ba_val_t v;
	assert_int_equal(pci_device_write_mem_base(h, 0xfe000000, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_write_mem_limit(h, 0xfe1fffff, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xfe1fffff);
	assert_int_equal(pci_device_read_mem_base(bdf, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xfe000000);
	assert_int_equal(tu_peek32(bdf, 0x20), 0xfe10fe00);
	assert_int_equal(pci_device_write_mem_base(h, 0xfe000001, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_write_mem_limit(h, 0xfe100000, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_write_io_base(h, 0x2000, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_write_io_limit(h, 0x2fff, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_read_io_base(bdf, &v), PCI_ERR_OK);
	assert_int_equal(v & 0xffff, 0x2000);
	assert_int_equal(pci_device_read_io_limit(bdf, &v), PCI_ERR_OK);
	assert_int_equal(v & 0xffff, 0x2fff);
	assert_int_equal(pci_device_write_pfmem_base(h, 0xc0000000, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_write_pfmem_limit(h, 0xc07fffff, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_read_pfmem_base(bdf, &v), PCI_ERR_OK);
	assert_int_equal(v & 0xffffffff, 0xc0000000);
	assert_int_equal(pci_device_read_pfmem_limit(bdf, &v), PCI_ERR_OK);
	assert_int_equal(v & 0xffffffff, 0xc07fffff);

	pci_bctrl_t bc;
	assert_int_equal(pci_device_write_bridge_ctrl(h, 0x0003, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_read_bridge_ctrl(bdf, &bc), PCI_ERR_OK);
	assert_int_equal(bc & 3, 3);
	pci_stat_t ss;
	pci_latency_t sl;
	assert_int_equal(pci_device_read_sec_status(bdf, &ss), PCI_ERR_OK);
	assert_int_equal(pci_device_read_sec_latency(bdf, &sl), PCI_ERR_OK);
	assert_int_equal(pci_device_write_sec_status(h, 0, NULL), PCI_ERR_OK);
	/* type-0 only reads refuse a bridge */
	pci_ssvid_t ssvid;
	assert_int_equal(pci_device_read_ssvid(bdf, &ssvid), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_attach_rules(void **state)
{
	(void)state;
	pcicap_sim_device_t d = dev_desc(0x8086, 0x10d3, 0x020000);
	pci_bdf_t bdf = tu_add(PCI_BDF(1, 0, 0), &d);
	pci_err_t err;

	/* bad flags */
	assert_null(pci_device_attach(bdf, 0x100, &err));
	assert_int_equal(err, PCI_ERR_EINVAL);
	assert_null(pci_device_attach(bdf, pci_attachFlags_e_MULTI, &err));
	assert_int_equal(err, PCI_ERR_EINVAL);
	assert_null(pci_device_attach(
	    bdf, pci_attachFlags_EXCLUSIVE_OWNER | pci_attachFlags_e_MULTI, &err));
	assert_int_equal(err, PCI_ERR_EINVAL);
	assert_null(pci_device_attach(PCI_BDF(7, 7, 7), pci_attachFlags_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ENODEV);
	assert_null(pci_device_attach(PCI_BDF(7, 7, 7), pci_attachFlags_OWNER, NULL));

	/* shared attachers coexist; one owner */
	pci_devhdl_t s1 = pci_device_attach(bdf, pci_attachFlags_e_SHARED, &err);
	assert_non_null(s1);
	assert_int_equal(err, PCI_ERR_OK);
	pci_devhdl_t s2 = pci_device_attach(bdf, pci_attachFlags_e_SHARED, &err);
	assert_non_null(s2);
	assert_ptr_not_equal(s1, s2);
	pci_devhdl_t o1 = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	assert_non_null(o1);
	assert_null(pci_device_attach(bdf, pci_attachFlags_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_OWNED);
	assert_null(pci_device_attach(bdf, pci_attachFlags_MULTI_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_OWNED);
	/* exclusive refused while attached */
	assert_null(pci_device_attach(bdf, pci_attachFlags_EXCLUSIVE_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_SHARED);
	assert_int_equal(pci_bdf(o1), bdf);
	assert_int_equal(pci_device_detach(o1), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(s1), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(s2), PCI_ERR_OK);

	/* MULTI: first owner with MULTI lets later MULTI owners in, not plain owners */
	pci_devhdl_t m1 = pci_device_attach(bdf, pci_attachFlags_MULTI_OWNER, &err);
	assert_non_null(m1);
	pci_devhdl_t m2 = pci_device_attach(bdf, pci_attachFlags_MULTI_OWNER, &err);
	assert_non_null(m2);
	assert_null(pci_device_attach(bdf, pci_attachFlags_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_OWNED);
	assert_int_equal(pci_device_detach(m1), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(m2), PCI_ERR_OK);

	/* exclusive blocks everything else */
	pci_devhdl_t x = pci_device_attach(bdf, pci_attachFlags_e_EXCLUSIVE, &err);
	assert_non_null(x);
	assert_null(pci_device_attach(bdf, pci_attachFlags_e_SHARED, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_EXCLUSIVE);
	assert_null(pci_device_attach(bdf, pci_attachFlags_EXCLUSIVE_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_EXCLUSIVE);
	/* EXCLUSIVE implies OWNER: it may write */
	assert_int_equal(pci_device_write_cmd(x, 0x0006, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(x), PCI_ERR_OK);
	/* and everything is free again */
	x = pci_device_attach(bdf, pci_attachFlags_EXCLUSIVE_OWNER, &err);
	assert_non_null(x);
	assert_int_equal(pci_device_detach(x), PCI_ERR_OK);
}

static void test_attach_limit(void **state)
{
	(void)state;
	pcicap_sim_device_t d = dev_desc(0x8086, 0x10d3, 0x020000);
	pci_bdf_t bdf = tu_add(PCI_BDF(1, 0, 0), &d);
	pci_devhdl_t h[300];
	pci_err_t err = PCI_ERR_OK;
	uint_t n = 0;
	while (n < 300) {
		h[n] = pci_device_attach(bdf, pci_attachFlags_e_SHARED, &err);
		if (!h[n])
			break;
		n++;
	}
	assert_int_equal(err, PCI_ERR_ATTACH_LIMIT);
	assert_int_equal(n, 256);
	for (uint_t i = 0; i < n; i++)
		assert_int_equal(pci_device_detach(h[i]), PCI_ERR_OK);
	h[0] = pci_device_attach(bdf, pci_attachFlags_e_SHARED, &err);
	assert_non_null(h[0]);
	assert_int_equal(pci_device_detach(h[0]), PCI_ERR_OK);
}

static void test_handles_validated(void **state)
{
	(void)state;
	pcicap_sim_device_t d = dev_desc(0x8086, 0x10d3, 0x020000);
	pci_bdf_t bdf = tu_add(PCI_BDF(1, 0, 0), &d);
	pci_err_t err;
	int on_stack;
	void *forged[] = {NULL,
			  (void *)1,
			  (void *)(uintptr_t)0xdeadbeef,
			  &on_stack,
			  (void *)&d,
			  (void *)(uintptr_t)0x5c1c000000000001ULL,
			  (void *)(uintptr_t)-1};
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		assert_int_equal(pci_device_detach(forged[i]), PCI_ERR_EINVAL);
		assert_int_equal(pci_bdf(forged[i]), PCI_BDF_NONE);
		assert_int_equal(pci_device_write_cmd(forged[i], 0, NULL), PCI_ERR_EINVAL);
		assert_int_equal(pci_device_cfg_wr32(forged[i], 0x40, 0, NULL), PCI_ERR_EINVAL);
		int_t n = 0;
		assert_int_equal(pci_device_read_irq(forged[i], &n, NULL), PCI_ERR_EINVAL);
	}
	/* a detached handle is dead, even when its slot is reused */
	pci_devhdl_t h = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	assert_non_null(h);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_EINVAL);
	assert_int_equal(pci_bdf(h), PCI_BDF_NONE);
	pci_devhdl_t h2 = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	assert_non_null(h2);
	assert_ptr_not_equal(h, h2);
	assert_int_equal(pci_device_write_cmd(h, 0, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_detach(h2), PCI_ERR_OK);
}

static void test_removed_device(void **state)
{
	(void)state;
	pcicap_sim_device_t d = dev_desc(0x8086, 0x10d3, 0x020000);
	pci_bdf_t bdf = tu_add(PCI_BDF(1, 0, 0), &d);
	pci_err_t err;
	pci_devhdl_t h = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	assert_non_null(h);
	assert_int_equal(pcicap_sim_set_removed(bdf, true), PCI_ERR_OK);
	pci_vid_t vid;
	assert_int_equal(pci_device_read_vid(bdf, &vid), PCI_ERR_ENODEV);
	uint32_t v;
	assert_int_equal(pci_device_cfg_rd32(bdf, 0x40, &v), PCI_ERR_ENODEV);
	assert_int_equal(pci_device_write_cmd(h, 0, NULL), PCI_ERR_ENODEV);
	assert_null(pci_device_attach(bdf, pci_attachFlags_e_SHARED, &err));
	assert_int_equal(err, PCI_ERR_ENODEV);
	/* held off: unavailable rather than gone */
	assert_int_equal(pcicap_sim_set_removed(bdf, false), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_set_hold_off(bdf, true), PCI_ERR_OK);
	assert_int_equal(pci_device_read_vid(bdf, &vid), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(pci_device_write_cmd(h, 0, NULL), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(pcicap_sim_set_hold_off(bdf, false), PCI_ERR_OK);
	assert_int_equal(pci_device_read_vid(bdf, &vid), PCI_ERR_OK);
	/* a device that vanishes from the bus: the handle reports ENODEV, detach releases it */
	pcicap_sim_clear();
	assert_int_equal(pci_bdf(h), PCI_BDF_NONE);
	assert_int_equal(pci_device_write_cmd(h, 0, NULL), PCI_ERR_ENODEV);
	assert_int_equal(pci_device_detach(h), PCI_ERR_ENODEV);
	assert_int_equal(pci_device_detach(h), PCI_ERR_EINVAL);
	/* a new device at the same address is a new device */
	tu_add(PCI_BDF(1, 0, 0), &d);
	h = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	assert_non_null(h);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_detach_disconnect(void **state)
{
	(void)state;
	pcicap_sim_device_t d = dev_desc(0x8086, 0x10d3, 0x020000);
	pci_bdf_t bdf = tu_add(PCI_BDF(1, 0, 0), &d);
	pci_err_t err;
	pci_devhdl_t a = pci_device_attach(bdf, pci_attachFlags_e_DETACH_DISCONNECT, &err);
	assert_non_null(a);
	pci_devhdl_t b = pci_device_attach(bdf, pci_attachFlags_e_DETACH_DISCONNECT, &err);
	assert_non_null(b);
	assert_int_equal(pci_device_detach(a), PCI_ERR_EAGAIN); /* more outstanding */
	assert_int_equal(pci_device_detach(b), PCI_ERR_OK);     /* the last one */
	/* DETACH_DISCONNECT on a later attach when the first lacked it */
	a = pci_device_attach(bdf, pci_attachFlags_e_SHARED, &err);
	assert_non_null(a);
	assert_null(pci_device_attach(bdf, pci_attachFlags_e_DETACH_DISCONNECT, &err));
	assert_int_equal(err, PCI_ERR_EINVAL);
	assert_int_equal(pci_device_detach(a), PCI_ERR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TU_TEST(test_find_order_and_wildcards),
	    TU_TEST(test_find_sees_added_and_removed),
	    TU_TEST(test_ari_encoding),
	    TU_TEST(test_header_reads),
	    TU_TEST(test_bridge_reads),
	    TU_TEST(test_attach_rules),
	    TU_TEST(test_attach_limit),
	    TU_TEST(test_handles_validated),
	    TU_TEST(test_removed_device),
	    TU_TEST(test_detach_disconnect),
	};
	return TU_RUN(tests);
}
