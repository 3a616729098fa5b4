/* libFuzzer harness 1: arbitrary config spaces.
 *
 * Input: one flags byte, then the image (up to 256 bytes: a 256-byte
 * space; more: a 4096-byte space, zero-filled). The image is loaded as a
 * simulated device; then the standard and extended capability walks,
 * pci_device_read_cap() for every capability (the MSI and MSI-X modules
 * decode theirs), an owner attach (the first-owner quiesce), enable and
 * disable of every MSI/MSI-X capability, detach. Invariants: the lists
 * are well-formed, IDs agree with the bytes, the quiesce clears Enable,
 * the library's enable record agrees with the Enable bit, a failed enable
 * changes no byte of config space, every IRQ comes back. */
#include "fuzz_common.h"

#define BDF      PCI_BDF(1, 0, 0)
#define MAX_CAPS 48

typedef struct {
	uint_t off;
	pci_capid_t id;
	pci_cap_t cap;
} cap_t;

static cap_t caps[MAX_CAPS];
static uint_t ncaps;

/* Seeds: the config space of every function of the fixture dumps, with
 * two flag bytes (MANDATORY one by one; ADVISORY all at once, 2 IRQs). */
static void seed_dump(const char *dir, const char *path, const char *name)
{
	static uint8_t cfg[4096];
	pcicap_sim_clear();
	if (pcicap_sim_add_dump(path) != PCI_ERR_OK)
		return;
	pci_bdf_t bdf;
	for (uint_t i = 0;
	     (bdf = pci_device_find(i, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY)) != PCI_BDF_NONE;
	     i++) {
		uint_t len = pcicap_device_cfg_size(bdf);
		FZ_CHECK(pcicap_sim_peek_cfg(bdf, 0, cfg, len) == PCI_ERR_OK);
		char seed[300];
		snprintf(seed, sizeof(seed), "%s-%u-a", name, i);
		fz_seed(dir, seed, 0x00, cfg, len);
		snprintf(seed, sizeof(seed), "%s-%u-b", name, i);
		fz_seed(dir, seed, 0x43, cfg, len);
	}
	pcicap_sim_clear();
}

static void write_seeds(const char *dir)
{
	fz_each_file(PCICAP_FUZZ_DUMP_DIR, dir, seed_dump);
}

FZ_HARNESS(write_seeds)

/* Whether the control register of capability @i is its own: no other
 * capability of the list starts within 64 bytes below it (its header or
 * body could then own those bytes, with other write rules). */
static bool ctrl_isolated(uint_t i)
{
	uint_t reg = caps[i].off + 2;
	for (uint_t j = 0; j < ncaps; j++)
		if (j != i && caps[j].off <= reg + 1 && caps[j].off + 64 > reg)
			return false;
	return true;
}

static void walk_std(void)
{
	ncaps = 0;
	for (uint_t idx = 0;; idx++) {
		uint_t off = 0;
		pci_capid_t id = 0;
		pci_err_t e = pcicap_device_cap_offset(BDF, idx, &off);
		FZ_CHECK(pci_device_read_capid(BDF, &id, idx) == e);
		if (e != PCI_ERR_OK) {
			FZ_CHECK(e == PCI_ERR_ENOENT || e == PCI_ERR_EIO || e == PCI_ERR_ENODEV);
			break;
		}
		FZ_CHECK(off >= 0x40 && off <= 0xFC && off % 4 == 0);
		FZ_CHECK(id == fz_peek(BDF, off, 1));
		FZ_CHECK(ncaps < MAX_CAPS);
		caps[ncaps++] = (cap_t){.off = off, .id = id};
	}
	/* find_capid / find_capid_next agree with the list */
	for (uint_t i = 0; i < ncaps; i++) {
		int_t first = pci_device_find_capid(BDF, caps[i].id);
		FZ_CHECK(first >= 0 && (uint_t)first <= i && caps[first].id == caps[i].id);
		int_t next = pci_device_find_capid_next(BDF, caps[i].id, (int_t)i);
		FZ_CHECK(next == -1 || ((uint_t)next > i && caps[next].id == caps[i].id));
	}
}

static void walk_ext(uint_t len)
{
	for (uint_t idx = 0;; idx++) {
		uint16_t xid;
		uint8_t ver;
		uint_t off = 0;
		pci_err_t e = pcicap_device_read_xcap(BDF, idx, &xid, &ver, &off);
		if (e != PCI_ERR_OK) {
			FZ_CHECK(e == PCI_ERR_ENOENT || e == PCI_ERR_EIO || e == PCI_ERR_ENODEV);
			break;
		}
		FZ_CHECK(len == 4096 && off >= 0x100 && off <= 0xFFC && off % 4 == 0);
		FZ_CHECK(xid == fz_peek(BDF, off, 2) && ver == (fz_peek(BDF, off + 2, 1) & 0xF));
		FZ_CHECK(idx < 960);
		FZ_CHECK(pcicap_device_find_xcapid(BDF, xid, -1) >= 0);
	}
}

static void read_caps(void)
{
	for (uint_t i = 0; i < ncaps; i++) {
		pci_cap_t cap = NULL;
		pci_err_t e = pci_device_read_cap(BDF, &cap, i);
		FZ_CHECK((e == PCI_ERR_OK) == (cap != NULL));
		if (e != PCI_ERR_OK)
			continue;
		FZ_CHECK(pcicap_cap_offset(cap) == caps[i].off);
		uint32_t ctrl = fz_peek(BDF, caps[i].off + 2, 2);
		if (caps[i].id == CAPID_MSI) {
			uint_t n = cap_msi_get_nirq(cap);
			FZ_CHECK(n >= 1 && n <= 32 && (n & (n - 1)) == 0);
			FZ_CHECK(n == cap_msi_get_nirq_isr(cap));
			FZ_CHECK(cap_msix_get_nirq(cap) == 0); /* not an MSI-X object */
		} else if (caps[i].id == CAPID_MSIX) {
			FZ_CHECK(cap_msix_get_nirq(cap) == (ctrl & 0x7FF) + 1);
			FZ_CHECK(cap_msi_get_nirq(cap) == 0);
		}
		/* a re-read in place keeps the object */
		pci_cap_t again = cap;
		FZ_CHECK(pci_device_read_cap(BDF, &again, i) == PCI_ERR_OK && again == cap);
		caps[i].cap = cap;
	}
}

static int_t irq_count(pci_devhdl_t h)
{
	int_t n = -1;
	FZ_CHECK(pci_device_read_irq(h, &n, NULL) == PCI_ERR_OK);
	FZ_CHECK(n >= 0);
	return n;
}

static bool is_intr_cap(uint_t i)
{
	return caps[i].cap && (caps[i].id == CAPID_MSI || caps[i].id == CAPID_MSIX);
}

/* Enable capability @i; returns whether it is now enabled. */
static bool try_enable(pci_devhdl_t h, uint_t i, pci_reqType_t req, uint_t len)
{
	static uint8_t before[4096], after[4096];
	FZ_CHECK(pcicap_sim_peek_cfg(BDF, 0, before, len) == PCI_ERR_OK);
	int_t n0 = irq_count(h);
	pci_err_t e = pci_device_cfg_cap_enable(h, req, caps[i].cap);
	bool on = pci_device_cfg_cap_isenabled(h, caps[i].cap);
	FZ_CHECK(on == (e == PCI_ERR_OK));
	if (e != PCI_ERR_OK) {
		/* a failed enable changes nothing */
		FZ_CHECK(pcicap_sim_peek_cfg(BDF, 0, after, len) == PCI_ERR_OK);
		FZ_CHECK(memcmp(before, after, len) == 0);
		FZ_CHECK(irq_count(h) == n0);
		return false;
	}
	FZ_CHECK(irq_count(h) >= 1);
	if (ctrl_isolated(i))
		FZ_CHECK(fz_hw_enabled(BDF, caps[i].id, caps[i].off));
	pci_irq_t irqs[64];
	int_t n = 64;
	FZ_CHECK(pci_device_read_irq(h, &n, irqs) == PCI_ERR_OK);
	for (int_t a = 0; a < n && a < 64; a++)
		for (int_t b = a + 1; b < n && b < 64; b++)
			FZ_CHECK(irqs[a] != irqs[b]);
	for (uint_t v = 0; v < 4; v++) {
		pci_err_t r = pcicap_sim_raise(BDF, v);
		FZ_CHECK(r == PCI_ERR_OK || r == PCI_ERR_EINVAL);
	}
	return true;
}

static void try_disable(pci_devhdl_t h, uint_t i)
{
	FZ_CHECK(pci_device_cfg_cap_disable(h, pci_reqType_e_UNSPECIFIED, caps[i].cap) ==
		 PCI_ERR_OK);
	FZ_CHECK(!pci_device_cfg_cap_isenabled(h, caps[i].cap));
	if (ctrl_isolated(i))
		FZ_CHECK(!fz_hw_enabled(BDF, caps[i].id, caps[i].off));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t img[4096];
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	size_t body = size - 1 > 4096 ? 4096 : size - 1;
	uint_t len = body > 256 ? 4096 : 256;
	memset(img, 0, sizeof(img));
	memcpy(img, data + 1, body);
	pcicap_sim_clear();
	uint_t pool = (flags & 0x40) ? 2 : 64;
	FZ_CHECK(pcicap_sim_set_irqs(pool) == PCI_ERR_OK);
	FZ_CHECK(pcicap_sim_add_config(BDF, img, len) == PCI_ERR_OK);

	walk_std();
	walk_ext(len);
	read_caps();

	pci_err_t e;
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_OWNER, &e);
	FZ_CHECK(h && e == PCI_ERR_OK);
	/* the first owner found every interrupt capability off */
	for (uint_t i = 0; i < ncaps; i++)
		if ((caps[i].id == CAPID_MSI || caps[i].id == CAPID_MSIX) && ctrl_isolated(i))
			FZ_CHECK(!fz_hw_enabled(BDF, caps[i].id, caps[i].off));
	pci_ba_t ba[7];
	int_t nba = 7;
	e = pci_device_read_ba(h, &nba, ba, pci_reqType_e_UNSPECIFIED);
	FZ_CHECK(e != PCI_ERR_OK || (nba >= 0 && nba <= 7));

	pci_reqType_t req = (flags & 1) ? pci_reqType_e_ADVISORY : pci_reqType_e_MANDATORY;
	if (flags & 2) {
		/* all at once (the MSI/MSI-X exclusion), then all off */
		bool on[MAX_CAPS] = {0};
		for (uint_t i = 0; i < ncaps; i++)
			if (is_intr_cap(i))
				on[i] = try_enable(h, i, req, len);
		for (uint_t i = ncaps; i-- > 0;)
			if (on[i])
				try_disable(h, i);
	} else {
		for (uint_t i = 0; i < ncaps; i++)
			if (is_intr_cap(i) && try_enable(h, i, req, len)) {
				if (flags & 4)
					continue; /* left for detach to disable */
				try_disable(h, i);
			}
	}
	FZ_CHECK(pci_device_detach(h) == PCI_ERR_OK);
	for (uint_t i = 0; i < ncaps; i++)
		if (is_intr_cap(i) && ctrl_isolated(i))
			FZ_CHECK(!fz_hw_enabled(BDF, caps[i].id, caps[i].off));
	/* every IRQ came back */
	FZ_CHECK(fz_pool_free(pool));
	for (uint_t i = 0; i < ncaps; i++)
		free(caps[i].cap);
	pcicap_sim_clear();
	return 0;
}
