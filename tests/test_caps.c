/* Capability walks: real dumps, broken lists, caching. */
#include <string.h>

#include "expected_caps.h"
#include "testutil.h"

static void load_dump(const char *file)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "dumps/%s", file);
	assert_int_equal(pcicap_sim_add_dump(tu_fixture(rel)), PCI_ERR_OK);
}

static void test_dumps_match_lspci(void **state)
{
	(void)state;
	const char *loaded = "";
	for (size_t i = 0; i < N_EXPECTED; i++) {
		const expect_t *e = &expected[i];
		/* one file at a time: some use the same addresses */
		if (strcmp(loaded, e->file) != 0) {
			pcicap_sim_clear();
			load_dump(e->file);
			loaded = e->file;
		}
		pci_bdf_t bdf = e->bdf;
		assert_int_equal(pcicap_device_cfg_size(bdf), e->cfg_size);
		pci_vid_t vid;
		pci_ccode_t cc;
		assert_int_equal(pci_device_read_vid(bdf, &vid), PCI_ERR_OK);
		assert_int_equal(vid, e->vid);
		assert_int_equal(pci_device_read_ccode(bdf, &cc), PCI_ERR_OK);
		assert_int_equal(cc, e->ccode);
		uint_t k;
		for (k = 0; e->caps[k][0]; k++) {
			pci_capid_t id;
			uint_t off;
			assert_int_equal(pci_device_read_capid(bdf, &id, k), PCI_ERR_OK);
			assert_int_equal(id, e->caps[k][1]);
			assert_int_equal(pcicap_device_cap_offset(bdf, k, &off), PCI_ERR_OK);
			assert_int_equal(off, e->caps[k][0]);
			/* find_capid returns the first position with that ID */
			int_t first = pci_device_find_capid(bdf, id);
			assert_true(first >= 0 && (uint_t)first <= k);
			assert_int_equal(e->caps[first][1], id);
		}
		pci_capid_t id;
		assert_int_equal(pci_device_read_capid(bdf, &id, k), PCI_ERR_ENOENT);
		for (k = 0; e->xcaps[k].off; k++) {
			uint16_t xid;
			uint8_t ver;
			uint_t off;
			assert_int_equal(pcicap_device_read_xcap(bdf, k, &xid, &ver, &off),
					 PCI_ERR_OK);
			assert_int_equal(xid, e->xcaps[k].id);
			assert_int_equal(ver, e->xcaps[k].ver);
			assert_int_equal(off, e->xcaps[k].off);
		}
		assert_int_equal(pcicap_device_read_xcap(bdf, k, NULL, NULL, NULL), PCI_ERR_ENOENT);
	}
}

static void test_find_capid_next(void **state)
{
	(void)state;
	load_dump("local-firecracker-virtio-vm.txt");
	pci_bdf_t bdf = PCI_BDF(0, 1, 0);
	int_t idx = pci_device_find_capid(bdf, 0x09);
	assert_int_equal(idx, 0);
	int_t seen[8];
	int n = 0;
	for (int_t i = -1; (i = pci_device_find_capid_next(bdf, 0x09, i)) >= 0;)
		seen[n++] = i;
	assert_int_equal(n, 5);
	for (int k = 0; k < 5; k++)
		assert_int_equal(seen[k], k);
	assert_int_equal(pci_device_find_capid(bdf, 0x11), 5);
	assert_int_equal(pci_device_find_capid_next(bdf, 0x11, 5), -1);
	assert_int_equal(pci_device_find_capid(bdf, 0x05), -1);
	assert_int_equal(pci_device_find_capid(PCI_BDF(9, 0, 0), 0x11), -1);
	/* extended */
	pcicap_sim_clear();
	load_dump("intel-haswell-e-rootport.txt");
	pci_bdf_t rp = PCI_BDF(0, 2, 0);
	assert_int_equal(pcicap_device_find_xcapid(rp, 0x000b, -1), 0);
	assert_int_equal(pcicap_device_find_xcapid(rp, 0x000b, 0), 3);
	assert_int_equal(pcicap_device_find_xcapid(rp, 0x000b, 3), 5);
	assert_int_equal(pcicap_device_find_xcapid(rp, 0x000b, 6), -1);
	assert_int_equal(pcicap_device_find_xcapid(rp, 0x0001, -1), 2);
	assert_int_equal(pcicap_device_find_xcapid(rp, 0x1234, -1), -1);
}

/* A raw 256- or 4096-byte image with a capability chain. */
typedef struct {
	uint8_t b[4096];
} img_t;

static void img_base(img_t *m, bool caplist)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = 0x86;
	m->b[1] = 0x80;
	m->b[2] = 0x34;
	m->b[3] = 0x12;
	m->b[0x0b] = 0xff;
	if (caplist)
		m->b[6] = 0x10;
}

static void img_cap(img_t *m, uint8_t off, uint8_t id, uint8_t next)
{
	m->b[off] = id;
	m->b[off + 1] = next;
}

static void img_xcap(img_t *m, uint16_t off, uint16_t id, uint8_t ver, uint16_t next)
{
	uint32_t h = id | (uint32_t)ver << 16 | (uint32_t)next << 20;
	for (int i = 0; i < 4; i++)
		m->b[off + i] = (uint8_t)(h >> (8 * i));
}

/* Load @m at @bdf and check: the list holds @n caps with @ids, then @tail_err. */
static void check_walk(const img_t *m, size_t len, const uint8_t *ids, uint_t n, pci_err_t tail_err)
{
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	assert_int_equal(pcicap_sim_add_config(bdf, m->b, len), PCI_ERR_OK);
	pci_capid_t id;
	for (uint_t k = 0; k < n; k++) {
		assert_int_equal(pci_device_read_capid(bdf, &id, k), PCI_ERR_OK);
		assert_int_equal(id, ids[k]);
	}
	assert_int_equal(pci_device_read_capid(bdf, &id, n), tail_err);
	assert_int_equal(pci_device_read_capid(bdf, &id, n + 7), tail_err);
	pcicap_sim_clear();
}

static void test_broken_lists(void **state)
{
	(void)state;
	img_t m;
	/* a cycle back to the first capability */
	img_base(&m, true);
	m.b[0x34] = 0x40;
	img_cap(&m, 0x40, 0x01, 0x50);
	img_cap(&m, 0x50, 0x05, 0x40);
	check_walk(&m, 256, (const uint8_t[]){0x01, 0x05}, 2, PCI_ERR_EIO);
	/* a capability pointing at itself */
	img_base(&m, true);
	m.b[0x34] = 0x40;
	img_cap(&m, 0x40, 0x10, 0x40);
	check_walk(&m, 256, (const uint8_t[]){0x10}, 1, PCI_ERR_EIO);
	/* a pointer into the header */
	img_base(&m, true);
	m.b[0x34] = 0x40;
	img_cap(&m, 0x40, 0x01, 0x20);
	check_walk(&m, 256, (const uint8_t[]){0x01}, 1, PCI_ERR_EIO);
	/* the first pointer into the header */
	img_base(&m, true);
	m.b[0x34] = 0x10;
	check_walk(&m, 256, NULL, 0, PCI_ERR_EIO);
	/* truncated: the next capability reads all ones */
	img_base(&m, true);
	m.b[0x34] = 0x40;
	img_cap(&m, 0x40, 0x01, 0xf0);
	memset(&m.b[0xf0], 0xff, 16);
	check_walk(&m, 256, (const uint8_t[]){0x01}, 1, PCI_ERR_EIO);
	/* pointer low bits are ignored */
	img_base(&m, true);
	m.b[0x34] = 0x43;
	img_cap(&m, 0x40, 0x11, 0x53);
	img_cap(&m, 0x50, 0x05, 0x00);
	check_walk(&m, 256, (const uint8_t[]){0x11, 0x05}, 2, PCI_ERR_ENOENT);
	/* no capability list bit: no capabilities, whatever 0x34 says */
	img_base(&m, false);
	m.b[0x34] = 0x40;
	img_cap(&m, 0x40, 0x01, 0x00);
	check_walk(&m, 256, NULL, 0, PCI_ERR_ENOENT);
	/* the longest possible list: 48 capabilities, every dword */
	img_base(&m, true);
	m.b[0x34] = 0x40;
	uint8_t ids[48];
	for (uint_t k = 0; k < 48; k++) {
		ids[k] = (uint8_t)(k % 0x14 + 1);
		img_cap(&m, (uint8_t)(0x40 + 4 * k), ids[k], k == 47 ? 0 : (uint8_t)(0x44 + 4 * k));
	}
	check_walk(&m, 256, ids, 48, PCI_ERR_ENOENT);
	/* find_capid still finds what comes before the break */
	img_base(&m, true);
	m.b[0x34] = 0x40;
	img_cap(&m, 0x40, 0x05, 0x50);
	img_cap(&m, 0x50, 0x11, 0x40);
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(1, 0, 0), m.b, 256), PCI_ERR_OK);
	assert_int_equal(pci_device_find_capid(PCI_BDF(1, 0, 0), 0x11), 1);
	assert_int_equal(pci_device_find_capid(PCI_BDF(1, 0, 0), 0x10), -1);
}

static void test_broken_extended_lists(void **state)
{
	(void)state;
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	img_t m;
	/* extended caps need a PCIe capability and 4 KiB of config */
	img_base(&m, true);
	m.b[0x34] = 0x40;
	img_cap(&m, 0x40, 0x10, 0x00);
	img_xcap(&m, 0x100, 0x0001, 1, 0x140);
	img_xcap(&m, 0x140, 0x0003, 1, 0x100); /* cycle */
	assert_int_equal(pcicap_sim_add_config(bdf, m.b, 4096), PCI_ERR_OK);
	uint16_t id;
	assert_int_equal(pcicap_device_read_xcap(bdf, 0, &id, NULL, NULL), PCI_ERR_OK);
	assert_int_equal(id, 1);
	assert_int_equal(pcicap_device_read_xcap(bdf, 1, &id, NULL, NULL), PCI_ERR_OK);
	assert_int_equal(id, 3);
	assert_int_equal(pcicap_device_read_xcap(bdf, 2, &id, NULL, NULL), PCI_ERR_EIO);
	pcicap_sim_clear();
	/* a next pointer below 0x100 */
	img_xcap(&m, 0x140, 0x0003, 1, 0x0c0);
	assert_int_equal(pcicap_sim_add_config(bdf, m.b, 4096), PCI_ERR_OK);
	assert_int_equal(pcicap_device_read_xcap(bdf, 2, &id, NULL, NULL), PCI_ERR_EIO);
	pcicap_sim_clear();
	/* the same bytes without a PCIe capability: no extended list */
	m.b[0x40] = 0x01;
	assert_int_equal(pcicap_sim_add_config(bdf, m.b, 4096), PCI_ERR_OK);
	assert_int_equal(pcicap_device_read_xcap(bdf, 0, &id, NULL, NULL), PCI_ERR_ENOENT);
	pcicap_sim_clear();
	/* a 256-byte PCIe device has none either */
	m.b[0x40] = 0x10;
	assert_int_equal(pcicap_sim_add_config(bdf, m.b, 256), PCI_ERR_OK);
	assert_int_equal(pcicap_device_read_xcap(bdf, 0, &id, NULL, NULL), PCI_ERR_ENOENT);
}

static void test_walk_is_cached(void **state)
{
	(void)state;
	load_dump("intel-82576-nic.txt");
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	pci_capid_t id;
	assert_int_equal(pci_device_read_capid(bdf, &id, 0), PCI_ERR_OK);
	assert_int_equal(pcicap_device_read_xcap(bdf, 0, NULL, NULL, NULL), PCI_ERR_OK);
	pcicap_sim_reset_counters(bdf);
	for (int rep = 0; rep < 3; rep++) {
		assert_int_equal(pci_device_find_capid(bdf, 0x11), 2);
		assert_int_equal(pci_device_read_capid(bdf, &id, 3), PCI_ERR_OK);
		assert_int_equal(pcicap_device_find_xcapid(bdf, 0x10, -1), 3);
	}
	assert_int_equal(tu_cfg_accesses(bdf), 0);
}

static void test_errors(void **state)
{
	(void)state;
	load_dump("intel-82576-nic.txt");
	pci_capid_t id;
	uint_t off;
	assert_int_equal(pci_device_read_capid(PCI_BDF(1, 0, 0), NULL, 0), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_read_capid(PCI_BDF(2, 0, 0), &id, 0), PCI_ERR_ENODEV);
	assert_int_equal(pcicap_device_cap_offset(PCI_BDF(1, 0, 0), 0, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_cap_offset(PCI_BDF(2, 0, 0), 0, &off), PCI_ERR_ENODEV);
	assert_int_equal(pcicap_device_read_xcap(PCI_BDF(2, 0, 0), 0, NULL, NULL, NULL),
			 PCI_ERR_ENODEV);
	assert_int_equal(pcicap_sim_set_removed(PCI_BDF(1, 0, 0), true), PCI_ERR_OK);
	assert_int_equal(pci_device_read_capid(PCI_BDF(1, 0, 0), &id, 0), PCI_ERR_ENODEV);
	assert_int_equal(pci_device_find_capid(PCI_BDF(1, 0, 0), 0x01), -1);
}

/* Regression (found by fuzz_config): an MSI-X capability at 0xFC of a
 * 256-byte space, left enabled. Its Table Offset register lies past the
 * end, so the table cannot be found; the first owner's quiesce must still
 * clear Enable (it needs only Message Control), leaving the function mask
 * on since no entry could be masked. */
static void test_quiesce_msix_at_end_of_space(void **state)
{
	(void)state;
	img_t m;
	img_base(&m, true);
	m.b[0x34] = 0xFC;
	img_cap(&m, 0xFC, 0x11, 0x00);
	m.b[0xFE] = 0x03;
	m.b[0xFF] = 0xA0; /* MSI-X Enable, 4 entries */
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	assert_int_equal(pcicap_sim_add_config(bdf, m.b, 256), PCI_ERR_OK);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	assert_int_equal(tu_peek8(bdf, 0xFF) & 0xC0, 0x40); /* Enable off, function mask on */
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TU_TEST(test_dumps_match_lspci),
	    TU_TEST(test_find_capid_next),
	    TU_TEST(test_broken_lists),
	    TU_TEST(test_broken_extended_lists),
	    TU_TEST(test_walk_is_cached),
	    TU_TEST(test_errors),
	    TU_TEST(test_quiesce_msix_at_end_of_space),
	};
	return TU_RUN(tests);
}
