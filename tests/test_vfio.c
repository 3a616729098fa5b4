/* The "vfio" backend (lib/backends/vfio.c) with the whole library and the
 * real MSI/MSI-X modules on top of a fake VFIO kernel (vfio_fake.c): scan,
 * reads through sysfs, open/close at the first/last owner, every attach
 * failure and its error code, MSI and MSI-X through SET_IRQS with eventfds
 * (counts, folding, shared and unused entries), the emulated masks, pending
 * bits, Function Mask and PBA, the request IRQ, BAR access through mmap and
 * pread/pwrite, DMA mappings and reset. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/vfio.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <pci/cap_msi.h>
#include <pci/cap_msix.h>
#include <pcicap/irq.h>

#include "backends/sim_internal.h"
#include "testutil.h"
#include "vfio_fake.h"

/* ------------------------------------------------------------ the devices */

#define EDU_N   "0000:00:02.0" /* QEMU edu: MSI, 1 vector, no mask; BAR0 1 MiB mmap */
#define NIC_N   "0000:00:03.0" /* e1000e-like: MSI + MSI-X 5 in BAR3, FLR, reset */
#define PVM_N   "0000:00:04.0" /* MSI 8 vectors with per-vector mask, platform max 4 */
#define OTH_N   "0000:00:05.0" /* bound to e1000e */
#define NODRV_N "0000:00:06.0" /* bound to no driver */
#define NOGRP_N "0000:00:07.0" /* vfio-pci, no IOMMU group */
#define FLT_N   "0000:00:08.0" /* MSI 4 vectors, VFIO count 2: fault target */
#define MF0_N   "0000:00:09.0" /* two functions sharing group 9 */
#define MF1_N   "0000:00:09.1"
#define NOIO_N  "0000:00:0a.0" /* a no-IOMMU group */
#define GONE_N  "0000:00:0b.0" /* for the request IRQ */
#define I576_N  "0000:01:00.0" /* intel-82576 from the dump: MSI-X 10, platform max 4 */

#define EDU   PCI_BDF(0, 2, 0)
#define NIC   PCI_BDF(0, 3, 0)
#define PVM   PCI_BDF(0, 4, 0)
#define OTH   PCI_BDF(0, 5, 0)
#define NODRV PCI_BDF(0, 6, 0)
#define NOGRP PCI_BDF(0, 7, 0)
#define FLT   PCI_BDF(0, 8, 0)
#define MF0   PCI_BDF(0, 9, 0)
#define MF1   PCI_BDF(0, 9, 1)
#define NOIO  PCI_BDF(0, 10, 0)
#define GONE  PCI_BDF(0, 11, 0)
#define I576  PCI_BDF(1, 0, 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OWNER         pci_attachFlags_e_OWNER
#define MAND          pci_reqType_e_MANDATORY
#define ADV           pci_reqType_e_ADVISORY

typedef struct {
	uint8_t b[4096];
	uint_t last;
} img_t;

static img_t img_edu, img_nic, img_pvm, img_plain, img_flt, img_mf1, img_576;

static void p8(img_t *m, uint_t o, uint8_t v)
{
	m->b[o] = v;
}

static void p16(img_t *m, uint_t o, uint16_t v)
{
	m->b[o] = (uint8_t)v;
	m->b[o + 1] = (uint8_t)(v >> 8);
}

static void p32(img_t *m, uint_t o, uint32_t v)
{
	p16(m, o, (uint16_t)v);
	p16(m, o + 2, (uint16_t)(v >> 16));
}

static void img_init(img_t *m, uint16_t vid, uint16_t did, uint32_t cc, uint8_t hdr)
{
	memset(m, 0, sizeof(*m));
	p16(m, 0x00, vid);
	p16(m, 0x02, did);
	p32(m, 0x08, cc << 8 | 0x01);
	p8(m, 0x0E, hdr);
}

static void img_cap(img_t *m, uint_t off, uint8_t id)
{
	if (!m->last) {
		p8(m, 0x34, (uint8_t)off);
		p16(m, 0x06, 0x0010);
	} else {
		p8(m, m->last + 1, (uint8_t)off);
	}
	p8(m, off, id);
	p8(m, off + 1, 0);
	m->last = off;
}

static void img_msi(img_t *m, uint_t off, uint16_t ctrl)
{
	img_cap(m, off, CAPID_MSI);
	p16(m, off + 2, ctrl);
}

static void build_images(void)
{
	/* edu: MSI at 0x40, 64-bit, 1 vector, no per-vector mask */
	img_init(&img_edu, 0x1234, 0x11e8, 0x00ff00, 0x00);
	p32(&img_edu, 0x10, 0xfea00000);
	img_msi(&img_edu, 0x40, 0x0080);

	/* e1000e-like: PM, MSI, PCIe with FLR, MSI-X 5 (table BAR3+0, PBA BAR3+0x2000) */
	img_init(&img_nic, 0x8086, 0x10d3, 0x020000, 0x00);
	p32(&img_nic, 0x10, 0xfeb80000);
	p32(&img_nic, 0x18, 0x0000c001);
	p32(&img_nic, 0x1C, 0xfebd0000);
	img_cap(&img_nic, 0xc8, 0x01);
	p16(&img_nic, 0xca, 0x0003);
	img_msi(&img_nic, 0xd0, 0x0080);
	img_cap(&img_nic, 0xe0, 0x10);
	p16(&img_nic, 0xe2, 0x0002);
	p32(&img_nic, 0xe4, 0x10000000); /* DevCap: FLR */
	img_cap(&img_nic, 0xa0, CAPID_MSIX);
	p16(&img_nic, 0xa2, 0x0004);
	p32(&img_nic, 0xa4, 0x00000003);
	p32(&img_nic, 0xa8, 0x00002003);

	/* 8 MSI vectors, 64-bit, per-vector mask (mask 0x60, pending 0x64) */
	img_init(&img_pvm, 0x1af4, 0x1110, 0xff0000, 0x00);
	p32(&img_pvm, 0x10, 0xfe000000);
	p32(&img_pvm, 0x14, 0x0000000c);
	p32(&img_pvm, 0x18, 0x00000008);
	img_msi(&img_pvm, 0x50, 0x0186);

	/* a plain function with one MSI vector */
	img_init(&img_plain, 0x1b36, 0x0010, 0x010802, 0x00);
	p32(&img_plain, 0x10, 0xfd000000);
	img_msi(&img_plain, 0x40, 0x0080);

	/* MSI with 4 vectors (VFIO will offer 2); FLR, but VFIO has no reset for it */
	img_init(&img_flt, 0x1b36, 0x0011, 0x028000, 0x00);
	p32(&img_flt, 0x10, 0xfc000000);
	img_msi(&img_flt, 0x40, 0x0084);
	img_cap(&img_flt, 0x60, 0x10);
	p16(&img_flt, 0x62, 0x0002);
	p32(&img_flt, 0x64, 0x10000000);

	/* the first of two functions: multi-function header */
	img_init(&img_mf1, 0x1b36, 0x0012, 0x078000, 0x80);
	img_msi(&img_mf1, 0x40, 0x0080);
}

/* The 82576 from the dump fixture, through the project's dump parser. */
static void load_82576(void)
{
	pcii_sim_batch_t b = {0};
	pci_err_t err = pcii_sim_parse_dump_file(tu_fixture("dumps/intel-82576-nic.txt"), &b);
	if (err != PCI_ERR_OK || b.n < 1 || !b.items[0].raw || b.items[0].len != 4096) {
		fprintf(stderr, "cannot parse the 82576 dump: %d\n", (int)err);
		exit(1);
	}
	memset(&img_576, 0, sizeof(img_576));
	memcpy(img_576.b, b.items[0].cfg, b.items[0].len);
	pcii_sim_batch_free(&b);
}

static fake_dev_spec_t specs[12];

static fake_dev_spec_t spec(const char *name, const img_t *m, size_t len, const char *drv, int grp)
{
	fake_dev_spec_t s;
	memset(&s, 0, sizeof(s));
	s.name = name;
	s.cfg = m->b;
	s.cfg_len = len;
	s.driver = drv;
	s.group = grp;
	s.nirq[FAKE_IRQ_INTX] = 1;
	s.nirq[FAKE_IRQ_MSI] = 1;
	s.nirq[FAKE_IRQ_REQ] = 1;
	return s;
}

static size_t build_specs(void)
{
	size_t n = 0;
	fake_dev_spec_t *s;

	s = &specs[n++];
	*s = spec(EDU_N, &img_edu, 256, "vfio-pci", 1);
	s->bar[0] = (fake_bar_t){.size = 1 << 20, .addr = 0xfea00000, .mmap = true};

	s = &specs[n++];
	*s = spec(NIC_N, &img_nic, 4096, "vfio-pci", 2);
	s->bar[0] = (fake_bar_t){.size = 128 << 10, .addr = 0xfeb80000, .mmap = true};
	s->bar[2] = (fake_bar_t){.size = 32, .addr = 0xc000, .io = true};
	s->bar[3] = (fake_bar_t){.size = 16 << 10, .addr = 0xfebd0000, .mmap = true};
	s->nirq[FAKE_IRQ_MSIX] = 5;
	s->nirq[FAKE_IRQ_ERR] = 1;
	s->reset = true;

	s = &specs[n++];
	*s = spec(PVM_N, &img_pvm, 256, "vfio-pci", 3);
	s->bar[0] = (fake_bar_t){.size = 4096, .addr = 0xfe000000}; /* no mmap: pread/pwrite */
	s->bar[1] = (fake_bar_t){
	    .size = 8192, .addr = 0x800000000ull, .mem64 = true, .prefetch = true, .mmap = true};
	s->nirq[FAKE_IRQ_MSI] = 8;
	s->max_vectors = 4;

	s = &specs[n++];
	*s = spec(OTH_N, &img_plain, 256, "e1000e", 5);
	s = &specs[n++];
	*s = spec(NODRV_N, &img_plain, 256, NULL, 6);
	s = &specs[n++];
	*s = spec(NOGRP_N, &img_plain, 256, "vfio-pci", -1);

	s = &specs[n++];
	*s = spec(FLT_N, &img_flt, 256, "vfio-pci", 8);
	s->bar[0] = (fake_bar_t){.size = 4096, .addr = 0xfc000000, .mmap = true};
	s->nirq[FAKE_IRQ_MSI] = 2;

	s = &specs[n++];
	*s = spec(MF0_N, &img_mf1, 256, "vfio-pci", 9);
	s = &specs[n++];
	*s = spec(MF1_N, &img_plain, 256, "vfio-pci", 9);
	s->nirq[FAKE_IRQ_REQ] = 0; /* no request IRQ */

	s = &specs[n++];
	*s = spec(NOIO_N, &img_plain, 256, "vfio-pci", 10);
	s->noiommu = true;
	s->bar[0] = (fake_bar_t){.size = 4096, .addr = 0xfd000000, .mmap = true};

	s = &specs[n++];
	*s = spec(GONE_N, &img_plain, 256, "vfio-pci", 11);
	s->bar[0] = (fake_bar_t){.size = 4096, .addr = 0xfd000000, .mmap = true};

	s = &specs[n++];
	*s = spec(I576_N, &img_576, 4096, "vfio-pci", 12);
	s->bar[0] = (fake_bar_t){.size = 128 << 10, .addr = 0xe0800000, .mmap = true};
	s->bar[2] = (fake_bar_t){.size = 32, .addr = 0x1020, .io = true};
	s->bar[3] = (fake_bar_t){.size = 16 << 10, .addr = 0xe0840000, .mmap = true};
	s->nirq[FAKE_IRQ_MSIX] = 10;
	s->max_vectors = 4;
	s->reset = true;
	return n;
}

/* ------------------------------------------------------------ helpers */

static pthread_mutex_t logs_mu = PTHREAD_MUTEX_INITIALIZER;
static char logs[32768];
static size_t logs_len;

static void log_handler(pcicap_log_level_t level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	pthread_mutex_lock(&logs_mu);
	size_t n = strlen(msg);
	if (logs_len + n + 2 < sizeof(logs)) {
		memcpy(logs + logs_len, msg, n);
		logs_len += n;
		logs[logs_len++] = '\n';
		logs[logs_len] = '\0';
	}
	pthread_mutex_unlock(&logs_mu);
}

static bool logged(const char *needle)
{
	pthread_mutex_lock(&logs_mu);
	bool r = strstr(logs, needle) != NULL;
	pthread_mutex_unlock(&logs_mu);
	return r;
}

static void logs_clear(void)
{
	pthread_mutex_lock(&logs_mu);
	logs_len = 0;
	logs[0] = '\0';
	pthread_mutex_unlock(&logs_mu);
}

/* Open fds of the process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* What the eventfd counted (0 when it is not readable). */
static uint64_t drain(int fd)
{
	uint64_t n = 0;
	if (readable(fd, 0))
		assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	return n;
}

/* Wait for an interrupt the forwarding thread delivers: exactly @want. */
static void expect_delivery(int fd, uint64_t want)
{
	assert_true(readable(fd, 3000));
	usleep(20000); /* nothing more is coming */
	assert_int_equal(drain(fd), want);
}

/* The live PBA, read as the hardware's would be (one atomic load). */
#define PBA0(p) __atomic_load_n(&(p)[0], __ATOMIC_SEQ_CST)

#define WAIT_UNTIL(expr)                                                                           \
	({                                                                                         \
		bool ok_ = false;                                                                  \
		for (int i_ = 0; i_ < 3000 && !ok_; i_++) {                                        \
			if (expr)                                                                  \
				ok_ = true;                                                        \
			else                                                                       \
				usleep(1000);                                                      \
		}                                                                                  \
		ok_;                                                                               \
	})

static pci_cap_t get_cap(pci_bdf_t bdf, pci_capid_t id)
{
	int_t idx = pci_device_find_capid(bdf, id);
	assert_true(idx >= 0);
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, (uint_t)idx), PCI_ERR_OK);
	assert_non_null(cap);
	return cap;
}

/* The IRQs after an enable, and their fds. */
static int_t irqs_of(pci_devhdl_t h, pci_irq_t *irq, int *fd, int_t max)
{
	int_t n = max;
	assert_int_equal(pci_device_read_irq(h, &n, irq), PCI_ERR_OK);
	assert_true(n >= 0 && n <= max);
	for (int_t i = 0; fd && i < n; i++) {
		fd[i] = pcicap_irq_fd(h, irq[i]);
		assert_true(fd[i] >= 0);
	}
	return n;
}

static int_t nirqs(pci_devhdl_t h)
{
	int_t n = -1;
	assert_int_equal(pci_device_read_irq(h, &n, NULL), PCI_ERR_OK);
	return n;
}

/* The MSI-X settings are the capability's, kept across handles: back to
 * the defaults (every entry its own IRQ). */
static void msix_defaults(pci_devhdl_t h, pci_cap_t cap)
{
	uint_t n = cap_msix_get_nirq(cap);
	assert_int_equal(cap_msix_set_nirq(h, cap, n), PCI_ERR_OK);
	for (uint_t e = 0; e < n; e++)
		assert_int_equal(cap_msix_set_irq_entry(h, cap, e, (int_t)e), PCI_ERR_OK);
}

/* An attach that must fail with @want and leave nothing open. */
static void attach_fails(pci_bdf_t bdf, pci_err_t want)
{
	int before = count_fds();
	pci_err_t err = PCI_ERR_OK;
	pci_devhdl_t h = pci_device_attach(bdf, OWNER, &err);
	assert_null(h);
	assert_int_equal(err, want);
	assert_int_equal(fake_open_fds(), 0);
	assert_int_equal(fake_live_mmaps(), 0);
	assert_int_equal(count_fds(), before);
}

static void *page_buf(size_t pages)
{
	void *p = mmap(NULL, pages * (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

/* Every handle a test made, detached by the teardown when the test failed
 * before its own detach (a stale handle is refused harmlessly). */
static pci_devhdl_t made[64];
static size_t nmade;

static pci_devhdl_t att(pci_bdf_t bdf, pci_attachFlags_t flags)
{
	pci_devhdl_t h = tu_attach(bdf, flags);
	if (nmade < ARRAY_SIZE(made))
		made[nmade++] = h;
	return h;
}

/* The NIC attached as owner with its MSI-X capability at the defaults. */
static pci_devhdl_t nic_msix_open(pci_cap_t *cap)
{
	pci_devhdl_t h = att(NIC, OWNER);
	*cap = get_cap(NIC, CAPID_MSIX);
	msix_defaults(h, *cap);
	return h;
}

/* Disable @cap, detach @h, free @cap: each must succeed. */
static void disable_detach(pci_devhdl_t h, pci_cap_t cap)
{
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static int setup(void **state)
{
	(void)state;
	fake_reset_knobs();
	logs_clear();
	return 0;
}

/* Every test leaves VFIO as it found it. */
static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < nmade; i++)
		pci_device_detach(made[i]);
	nmade = 0;
	int fds = fake_open_fds(), maps = fake_live_mmaps();
	fake_reset_knobs();
	if (fds || maps) {
		fprintf(stderr, "left open: %d fds, %d mmaps\n", fds, maps);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ scan, sysfs */

static void t_scan_lists_functions(void **s)
{
	(void)s;
	static const struct {
		pci_bdf_t bdf;
		uint_t cfg;
		uint16_t vid;
	} want[] = {
	    {EDU, 256, 0x1234},   {NIC, 4096, 0x8086},  {PVM, 256, 0x1af4},  {OTH, 256, 0x1b36},
	    {NODRV, 256, 0x1b36}, {NOGRP, 256, 0x1b36}, {FLT, 256, 0x1b36},  {MF0, 256, 0x1b36},
	    {MF1, 256, 0x1b36},   {NOIO, 256, 0x1b36},  {GONE, 256, 0x1b36}, {I576, 4096, 0x8086},
	};
	uint_t n = 0;
	while (pci_device_find(n, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY) != PCI_BDF_NONE)
		n++;
	assert_int_equal(n, ARRAY_SIZE(want)); /* the stray entry is no function */
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(
		    pci_device_find((uint_t)i, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY),
		    want[i].bdf);
		assert_int_equal(pcicap_device_cfg_size(want[i].bdf), want[i].cfg);
		pci_vid_t vid;
		assert_int_equal(pci_device_read_vid(want[i].bdf, &vid), PCI_ERR_OK);
		assert_int_equal(vid, want[i].vid);
	}
	assert_int_equal(pci_device_find(0, 0x8086, 0x10c9, PCI_CCODE_ANY), I576);
	assert_true(pci_device_is_multi_func(MF0));
}

static void t_reads_before_attach_use_sysfs(void **s)
{
	(void)s;
	fake_counters_t c0 = fake_counters(NIC_N);
	uint32_t v;
	assert_int_equal(pci_device_cfg_rd32(NIC, 0xe4, &v), PCI_ERR_OK);
	assert_int_equal(v, 0x10000000);
	assert_int_equal(pci_device_cfg_rd32(NIC, 0x100, &v), PCI_ERR_OK); /* extended space */
	pci_did_t did;
	assert_int_equal(pci_device_read_did(I576, &did), PCI_ERR_OK);
	assert_int_equal(did, 0x10c9);
	/* the 82576's MSI-X, as the dump has it */
	uint16_t ctrl;
	assert_int_equal(pci_device_cfg_rd16(I576, 0x72, &ctrl), PCI_ERR_OK);
	assert_int_equal(ctrl, 0x8009);
	/* the MSI-X module can be loaded before anyone owns the device: its
	 * table is out of reach until then (read again at the first owner) */
	pci_cap_t x = get_cap(I576, CAPID_MSIX);
	assert_int_equal(cap_msix_get_nirq(x), 10);
	free(x);
	/* nothing of VFIO was touched */
	fake_counters_t c1 = fake_counters(NIC_N);
	assert_int_equal(c1.cfg_reads, c0.cfg_reads);
	assert_int_equal(fake_open_fds(), 0);
	assert_int_equal(strlen(fake_log()), 0);
	/* a SHARED attach does not take the device either */
	pci_devhdl_t h = att(NIC, 0);
	assert_int_equal(fake_open_fds(), 0);
	assert_int_equal(pci_device_cfg_rd32(NIC, 0xe4, &v), PCI_ERR_OK);
	assert_int_equal(fake_counters(NIC_N).cfg_reads, c0.cfg_reads);
	assert_int_equal(pci_device_cfg_wr32(h, 0x80, 1, NULL), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void t_driver_names(void **s)
{
	(void)s;
	char buf[32];
	assert_int_equal(pcicap_device_driver(EDU, buf, sizeof(buf)), PCI_ERR_OK);
	assert_string_equal(buf, "vfio-pci");
	assert_int_equal(pcicap_device_driver(OTH, buf, sizeof(buf)), PCI_ERR_OK);
	assert_string_equal(buf, "e1000e");
	assert_int_equal(pcicap_device_driver(NODRV, buf, sizeof(buf)), PCI_ERR_ENOENT);
	assert_int_equal(pcicap_device_driver(EDU, buf, 4), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_driver(PCI_BDF(7, 0, 0), buf, sizeof(buf)), PCI_ERR_ENODEV);
}

static void t_bar_info_from_sysfs(void **s)
{
	(void)s;
	pci_devhdl_t h = att(PVM, OWNER);
	pci_ba_t ba[7];
	int_t n = 7;
	assert_int_equal(pci_device_read_ba(h, &n, ba, pci_reqType_e_UNSPECIFIED), PCI_ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ba[0].bar_num, 0);
	assert_int_equal(ba[0].size, 4096);
	assert_int_equal(ba[0].addr, 0xfe000000);
	assert_int_equal(ba[0].type, pci_asType_e_MEM);
	assert_true(ba[0].attr & pci_asAttr_e_32BIT);
	assert_int_equal(ba[1].bar_num, 1);
	assert_int_equal(ba[1].size, 8192);
	assert_int_equal(ba[1].addr, 0x800000000ull);
	assert_true(ba[1].attr & pci_asAttr_e_64BIT);
	assert_true(ba[1].attr & pci_asAttr_e_PREFETCH);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);

	h = att(NIC, OWNER);
	n = 7;
	assert_int_equal(pci_device_read_ba(h, &n, ba, pci_reqType_e_UNSPECIFIED), PCI_ERR_OK);
	assert_int_equal(n, 3);
	assert_int_equal(ba[1].bar_num, 2);
	assert_int_equal(ba[1].type, pci_asType_e_IO);
	assert_int_equal(ba[1].size, 32);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

/* ------------------------------------------------------------ open, close */

static void t_attach_opens_and_detach_closes(void **s)
{
	(void)s;
	int before = count_fds();
	pci_devhdl_t h = att(EDU, OWNER | pci_attachFlags_e_MULTI);
	/* the type1v2 sequence */
	assert_true(fake_log_in_order(
	    "open:group", "open:container", "ioctl:API", "ioctl:GROUP_STATUS",
	    "ioctl:SET_CONTAINER", "ioctl:CHECK_EXT(3)", "ioctl:SET_IOMMU(3)", "ioctl:IOMMU_INFO",
	    "ioctl:GET_DEVICE_FD", "ioctl:DEVICE_INFO", "ioctl:REGION_INFO(7)",
	    "ioctl:REGION_INFO(0)", "ioctl:REGION_INFO(5)", "ioctl:IRQ_INFO(0)",
	    "ioctl:IRQ_INFO(4)", "mmap(0)", "ioctl:SET_IRQS(4,1)", NULL));
	assert_int_equal(fake_open_fds(), 3); /* container, group, device */
	assert_int_equal(fake_live_mmaps(), 1);
	assert_true(logged("vfio: 0000:00:02.0: group 1, MSI 1, MSI-X 0 vectors"));
	/* a second OWNER handle (MULTI) takes nothing more */
	pci_devhdl_t h2 = att(EDU, OWNER | pci_attachFlags_e_MULTI);
	assert_int_equal(fake_open_fds(), 3);
	assert_int_equal(fake_log_count("open:group"), 1);
	assert_int_equal(pci_device_detach(h2), PCI_ERR_OK);
	assert_int_equal(fake_open_fds(), 3);
	fake_log_clear();
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_true(
	    fake_log_in_order("munmap", "close:device", "close:group", "close:container", NULL));
	assert_int_equal(fake_open_fds(), 0);
	assert_int_equal(fake_live_mmaps(), 0);
	assert_int_equal(count_fds(), before);
	/* and again: nothing was left in a state that stops a new open */
	for (int i = 0; i < 3; i++) {
		h = att(EDU, OWNER);
		assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	}
	assert_int_equal(count_fds(), before);
}

static void t_config_through_vfio_when_owned(void **s)
{
	(void)s;
	pci_devhdl_t h = att(EDU, OWNER);
	fake_counters_t c0 = fake_counters(EDU_N);
	uint32_t v;
	assert_int_equal(pci_device_cfg_rd32(EDU, 0x80, &v), PCI_ERR_OK);
	assert_int_equal(fake_counters(EDU_N).cfg_reads, c0.cfg_reads + 1);
	assert_int_equal(pci_device_cfg_wr32(h, 0x80, 0x12345678, NULL), PCI_ERR_OK);
	assert_int_equal(fake_counters(EDU_N).cfg_writes, c0.cfg_writes + 1);
	assert_int_equal(fake_cfg_peek32(EDU_N, 0x80), 0x12345678); /* in the hardware */
	assert_int_equal(pci_device_cfg_rd32(EDU, 0x80, &v), PCI_ERR_OK);
	assert_int_equal(v, 0x12345678);
	/* the MSI capability stays the module's */
	assert_int_equal(pci_device_cfg_wr16(h, 0x42, 0x0081, NULL), PCI_ERR_CFG_ACCESS);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	/* after the last owner: sysfs again */
	fake_counters_t c1 = fake_counters(EDU_N);
	assert_int_equal(pci_device_cfg_rd32(EDU, 0x80, &v), PCI_ERR_OK);
	assert_int_equal(v, 0x12345678);
	assert_int_equal(fake_counters(EDU_N).cfg_reads, c1.cfg_reads);
	uint32_t z = 0;
	pci_devhdl_t w = att(EDU, OWNER);
	assert_int_equal(pci_device_cfg_wr32(w, 0x80, z, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(w), PCI_ERR_OK);
}

static void t_first_owner_quiesces_through_vfio(void **s)
{
	(void)s;
	/* the dump's MSI-X was enabled; the kernel turned it off at unbind and
	 * the library masks every entry of the (emulated) table */
	pci_devhdl_t h = att(I576, OWNER);
	uint16_t ctrl;
	assert_int_equal(pci_device_cfg_rd16(I576, 0x72, &ctrl), PCI_ERR_OK);
	assert_int_equal(ctrl & 0xC000, 0);
	for (uint_t e = 0; e < 10; e++) {
		uint64_t vc;
		assert_int_equal(pcicap_bar_read(h, 3, 16 * e + 12, 4, &vc), PCI_ERR_OK);
		assert_int_equal(vc, 1);
	}
	/* the real table is never written: vfio-pci would drop it anyway */
	uint8_t t[16];
	fake_bar_peek(I576_N, 3, 0, t, sizeof(t));
	for (size_t i = 0; i < sizeof(t); i++)
		assert_int_equal(t[i], 0);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void t_shared_group_opened_once(void **s)
{
	(void)s;
	pci_devhdl_t a = att(MF0, OWNER);
	assert_int_equal(fake_open_fds(), 3);
	pci_devhdl_t b = att(MF1, OWNER);
	assert_int_equal(fake_open_fds(), 4); /* one more device fd */
	assert_int_equal(fake_log_count("open:group"), 1);
	assert_int_equal(fake_log_count("open:container"), 1);
	assert_int_equal(fake_log_count("ioctl:GET_DEVICE_FD"), 2);
	/* 09.1 has no request IRQ: nothing set for it */
	assert_int_equal(fake_log_count("ioctl:SET_IRQS(4,1)"), 1);
	assert_int_equal(pci_device_detach(a), PCI_ERR_OK);
	assert_int_equal(fake_open_fds(), 3); /* the group stays for 09.1 */
	assert_int_equal(fake_log_count("close:group"), 0);
	pci_did_t did;
	assert_int_equal(pci_device_read_did(MF1, &did), PCI_ERR_OK);
	assert_int_equal(did, 0x0010);
	uint32_t v;
	assert_int_equal(pci_device_cfg_rd32(MF1, 0x40, &v), PCI_ERR_OK);
	assert_int_equal(v & 0xFF, CAPID_MSI);
	assert_int_equal(pci_device_detach(b), PCI_ERR_OK);
	assert_int_equal(fake_open_fds(), 0);
}

static void t_type1_without_v2(void **s)
{
	(void)s;
	fake_set_type1v2(false);
	pci_devhdl_t h = att(EDU, OWNER);
	assert_true(fake_log_in_order("ioctl:CHECK_EXT(3)", "ioctl:SET_IOMMU(1)", NULL));
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

/* ------------------------------------------------------------ attach errors */

static void t_err_not_bound_to_vfio_pci(void **s)
{
	(void)s;
	attach_fails(OTH, PCI_ERR_ENOTSUP);
	assert_true(logged("0000:00:05.0 is bound to 'e1000e', not to vfio-pci"));
	assert_int_equal(fake_log_count("open:group"), 0);
	attach_fails(NODRV, PCI_ERR_ENOTSUP);
	assert_true(logged("0000:00:06.0 is bound to no driver"));
	/* bound to vfio-pci now: it works */
	fake_set_driver(OTH_N, "vfio-pci");
	pci_devhdl_t h = att(OTH, OWNER);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	fake_set_driver(OTH_N, "e1000e");
}

static void t_err_no_iommu_group(void **s)
{
	(void)s;
	attach_fails(NOGRP, PCI_ERR_ENOTSUP);
	assert_true(logged("has no IOMMU group"));
	assert_int_equal(fake_log_count("open:group"), 0);
}

static void t_err_group_not_viable(void **s)
{
	(void)s;
	fake_set_viable(8, false);
	attach_fails(FLT, PCI_ERR_DEV_NOT_AVAIL);
	assert_true(logged("IOMMU group 8 is not viable"));
	assert_true(
	    fake_log_in_order("ioctl:GROUP_STATUS", "close:container", "close:group", NULL));
	assert_int_equal(fake_log_count("ioctl:SET_CONTAINER"), 0);
}

static void t_err_eacces_not_owner(void **s)
{
	(void)s;
	fake_inject(FK_OPEN_GROUP, EACCES, 1);
	attach_fails(FLT, PCI_ERR_NOT_OWNER);
	assert_true(logged("run as root"));
	pci_devhdl_t h = att(FLT, OWNER); /* the next try succeeds */
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void t_err_ebusy_attach_owned(void **s)
{
	(void)s;
	fake_set_group_busy(8, true); /* another process has the group */
	attach_fails(FLT, PCI_ERR_ATTACH_OWNED);
	assert_true(logged("another process has the group open"));
	fake_set_group_busy(8, false);
	pci_devhdl_t h = att(FLT, OWNER);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void t_err_no_interrupt_remapping(void **s)
{
	(void)s;
	fake_inject(FK_SET_IOMMU, EPERM, 1);
	attach_fails(FLT, PCI_ERR_IRQ_CFG);
	assert_true(logged("allow_unsafe_interrupts"));
	assert_true(
	    fake_log_in_order("ioctl:SET_IOMMU(3)", "close:container", "close:group", NULL));
}

static void t_err_device_gone_enodev(void **s)
{
	(void)s;
	fake_inject(FK_GET_DEVICE_FD, ENODEV, 1);
	attach_fails(FLT, PCI_ERR_ENODEV);
	assert_true(logged("get device fd"));
	assert_true(
	    fake_log_in_order("ioctl:GET_DEVICE_FD", "close:group", "close:container", NULL));
}

static void t_err_api_version(void **s)
{
	(void)s;
	fake_set_api_version(1);
	attach_fails(FLT, PCI_ERR_MOD_COMPAT);
	assert_true(logged("VFIO API version"));
	assert_int_equal(fake_log_count("ioctl:GROUP_STATUS"), 0);
}

static void t_err_no_vfio_nodes(void **s)
{
	(void)s;
	fake_inject(FK_OPEN_CONTAINER, ENOENT, 1);
	attach_fails(FLT, PCI_ERR_ENOTSUP);
	/* neither /dev/vfio/8 nor noiommu-8 */
	fake_inject(FK_OPEN_GROUP, ENOENT, 2);
	attach_fails(FLT, PCI_ERR_ENOTSUP);
	assert_true(logged("is the vfio-pci module loaded?"));
	assert_true(fake_log_in_order("open:group", "open:noiommu", NULL));
}

static void t_err_other_failures(void **s)
{
	(void)s;
	static const struct {
		fake_fault_t where;
		int err;
		pci_err_t want;
	} cases[] = {
	    {FK_GROUP_STATUS, EIO, PCI_ERR_EIO},
	    {FK_SET_CONTAINER, EINVAL, PCI_ERR_EINVAL},
	    {FK_SET_IOMMU, ENODEV, PCI_ERR_ENODEV},
	    {FK_DEVICE_INFO, ENOTTY, PCI_ERR_ENOTSUP},
	    {FK_REGION_INFO, EINVAL, PCI_ERR_EINVAL},
	    {FK_OPEN_GROUP, ENOMEM, PCI_ERR_ENOMEM},
	    {FK_GET_DEVICE_FD, EBUSY, PCI_ERR_ATTACH_OWNED},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fake_inject(cases[i].where, cases[i].err, 1);
		attach_fails(FLT, cases[i].want);
	}
	/* the IOMMU's info failing is not fatal: the 32-bit default range */
	fake_inject(FK_IOMMU_INFO, EIO, 1);
	pci_devhdl_t h = att(FLT, OWNER);
	void *buf = page_buf(1);
	uint64_t iova = 0;
	assert_int_equal(pcicap_dma_map(h, buf, (size_t)sysconf(_SC_PAGESIZE), &iova), PCI_ERR_OK);
	assert_int_equal(iova, 0x100000);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	munmap(buf, (size_t)sysconf(_SC_PAGESIZE));
}

static void t_sysfs_views(void **s)
{
	(void)s;
	uint32_t v;
	/* a non-root reader: sysfs cuts config space at 64 bytes */
	fake_set_sysfs(FLT_N, FAKE_SYSFS_SHORT);
	assert_int_equal(pci_device_cfg_rd32(FLT, 0x80, &v), PCI_ERR_CFG_ACCESS);
	pci_devhdl_t h = att(FLT, OWNER); /* VFIO shows all of it */
	assert_int_equal(pci_device_cfg_rd32(FLT, 0x80, &v), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_rd32(FLT, 0x80, &v), PCI_ERR_CFG_ACCESS);
	/* the device left the bus */
	fake_set_sysfs(FLT_N, FAKE_SYSFS_REMOVED);
	assert_int_equal(pci_device_cfg_rd32(FLT, 0x40, &v), PCI_ERR_ENODEV);
	attach_fails(FLT, PCI_ERR_ENODEV);
	fake_set_driver(FLT_N, NULL);
	char buf[32];
	assert_int_equal(pcicap_device_driver(FLT, buf, sizeof(buf)), PCI_ERR_ENODEV);
	fake_set_driver(FLT_N, "vfio-pci");
	fake_set_sysfs(FLT_N, FAKE_SYSFS_NORMAL);
	assert_int_equal(pci_device_cfg_rd32(FLT, 0x40, &v), PCI_ERR_OK);
	assert_int_equal(v & 0xFF, CAPID_MSI);
}

static void t_region_access_errors(void **s)
{
	(void)s;
	/* the first config read of the open fails: nothing is kept */
	fake_inject(FK_REGION_READ, EIO, 1);
	attach_fails(FLT, PCI_ERR_EIO);
	assert_true(logged("device setup failed"));
	pci_devhdl_t h = att(PVM, OWNER);
	uint32_t v;
	fake_inject(FK_REGION_READ, EIO, 1);
	assert_int_equal(pci_device_cfg_rd32(PVM, 0x80, &v), PCI_ERR_EIO);
	fake_inject(FK_REGION_WRITE, ENXIO, 1);
	assert_int_equal(pci_device_cfg_wr32(h, 0x80, 1, NULL), PCI_ERR_ENODEV);
	uint64_t x;
	fake_inject(FK_REGION_READ, EFAULT, 1);
	assert_int_equal(pcicap_bar_read(h, 0, 0, 4, &x), PCI_ERR_EIO);
	fake_inject(FK_REGION_WRITE, EINVAL, 1);
	assert_int_equal(pcicap_bar_write(h, 0, 0, 4, 1), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_rd32(PVM, 0x80, &v), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void t_request_irq_not_offered(void **s)
{
	(void)s;
	/* a kernel that refuses the request IRQ: the device still works */
	fake_inject(FK_SET_IRQS_REQ, EINVAL, 1);
	int before = count_fds();
	pci_devhdl_t h = att(EDU, OWNER);
	assert_true(fake_log_in_order("ioctl:SET_IRQS(4,1)", NULL));
	assert_false(fake_request(EDU_N));
	uint64_t v;
	assert_int_equal(pcicap_bar_read(h, 0, 0, 4, &v), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(count_fds(), before);
}

/* ------------------------------------------------------------ MSI */

static void t_msi_enable_edu(void **s)
{
	(void)s;
	pci_devhdl_t h = att(EDU, OWNER);
	pci_cap_t cap = get_cap(EDU, CAPID_MSI);
	assert_int_equal(cap_msi_get_nirq(cap), 1);
	int before = count_fds();
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	int kfd[4];
	assert_int_equal(fake_irq_fds(EDU_N, FAKE_IRQ_MSI, kfd, 4), 1);
	assert_true(kfd[0] >= 0);
	pci_irq_t irq[4];
	int fd[4];
	assert_int_equal(irqs_of(h, irq, fd, 4), 1);
	assert_int_equal(irq[0], fake_irq_number(EDU_N, FAKE_IRQ_MSI, 0)); /* /proc/interrupts */
	assert_true(irq[0] < (pci_irq_t)0x40000000);
	/* the kernel enabled MSI in the hardware; VFIO's view does not show it */
	assert_int_equal(fake_cfg_peek32(EDU_N, 0x40) >> 16 & 1, 1);
	uint16_t ctrl;
	assert_int_equal(pci_device_cfg_rd16(EDU, 0x42, &ctrl), PCI_ERR_OK);
	assert_int_equal(ctrl & 1, 0);
	assert_true(pci_device_cfg_cap_isenabled(h, cap));
	/* Bus Master and INTx Disable */
	pci_cmd_t cmd;
	assert_int_equal(pci_device_read_cmd(EDU, &cmd), PCI_ERR_OK);
	assert_int_equal(cmd & 0x0404, 0x0404);
	/* no per-vector masking */
	assert_int_equal(cap_msi_mask_irq(h, cap, 1), PCI_ERR_ENOTSUP);
	/* the device sends its message: the driver's fd */
	assert_false(readable(fd[0], 0));
	assert_true(fake_fire(EDU_N, FAKE_IRQ_MSI, 0));
	expect_delivery(fd[0], 1);
	for (int i = 0; i < 3; i++)
		assert_true(fake_fire(EDU_N, FAKE_IRQ_MSI, 0));
	assert_true(WAIT_UNTIL(readable(fd[0], 0)));
	usleep(20000);
	uint64_t n = drain(fd[0]);
	assert_true(n >= 1 && n <= 3);
	/* disable: SET_IRQS with count 0, everything let go */
	fake_log_clear();
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_OK);
	assert_true(fake_log_in_order("ioctl:SET_IRQS(1,0)", NULL));
	assert_int_equal(fake_irq_fds(EDU_N, FAKE_IRQ_MSI, kfd, 4), 0);
	assert_int_equal(fake_cfg_peek32(EDU_N, 0x40) >> 16 & 1, 0);
	assert_int_equal(nirqs(h), 0);
	assert_int_equal(pcicap_irq_fd(h, irq[0]), -1);
	assert_int_equal(errno, EINVAL);
	assert_false(fake_fire(EDU_N, FAKE_IRQ_MSI, 0));
	assert_int_equal(count_fds(), before);
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_EALREADY);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static void t_msi_synthetic_irqs(void **s)
{
	(void)s;
	fake_set_irq_names(false); /* /proc/interrupts without vfio-pci's names */
	pci_devhdl_t h = att(PVM, OWNER);
	pci_cap_t cap = get_cap(PVM, CAPID_MSI);
	assert_int_equal(cap_msi_set_nirq(h, cap, 2), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	pci_irq_t irq[2];
	int fd[2];
	assert_int_equal(irqs_of(h, irq, fd, 2), 2);
	assert_true(irq[0] >= (pci_irq_t)0x40000000 && irq[1] >= (pci_irq_t)0x40000000);
	assert_int_not_equal(irq[0], irq[1]);
	assert_int_equal(cap_msi_unmask_irq(h, cap, 3), PCI_ERR_OK);
	assert_true(fake_fire(PVM_N, FAKE_IRQ_MSI, 1));
	expect_delivery(fd[1], 1);
	assert_int_equal(drain(fd[0]), 0);
	disable_detach(h, cap);
}

static void t_msi_count_platform_limit(void **s)
{
	(void)s;
	pci_devhdl_t h = att(PVM, OWNER);
	pci_cap_t cap = get_cap(PVM, CAPID_MSI);
	assert_int_equal(cap_msi_get_nirq(cap), 8);
	assert_int_equal(cap_msi_set_nirq(h, cap, 8), PCI_ERR_OK);
	/* the kernel cannot have 8 (ENOSPC): MANDATORY fails, nothing changes */
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_CAP_NIRQ);
	assert_true(fake_log_in_order("ioctl:SET_IRQS(1,8)", NULL));
	int kfd[8];
	assert_int_equal(fake_irq_fds(PVM_N, FAKE_IRQ_MSI, kfd, 8), 0);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(nirqs(h), 0);
	assert_int_equal(fake_cfg_peek32(PVM_N, 0x50) >> 16 & 1, 0);
	/* ADVISORY: the largest power of two the kernel gives */
	fake_log_clear();
	assert_int_equal(pci_device_cfg_cap_enable(h, ADV, cap), PCI_ERR_OK);
	assert_true(fake_log_in_order("ioctl:SET_IRQS(1,8)", "ioctl:SET_IRQS(1,4)", NULL));
	assert_int_equal(fake_irq_fds(PVM_N, FAKE_IRQ_MSI, kfd, 8), 4);
	pci_irq_t irq[8];
	assert_int_equal(irqs_of(h, irq, NULL, 8), 4);
	for (int v = 0; v < 4; v++)
		assert_int_equal(irq[v], fake_irq_number(PVM_N, FAKE_IRQ_MSI, v));
	/* the kernel programmed 4 messages (MME = 2) and enabled MSI */
	assert_int_equal(fake_cfg_peek32(PVM_N, 0x50) >> 16 & 0x71, 0x21);
	disable_detach(h, cap);
}

static void t_msi_count_vfio_limit(void **s)
{
	(void)s;
	pci_devhdl_t h = att(FLT, OWNER);
	pci_cap_t cap = get_cap(FLT, CAPID_MSI);
	assert_int_equal(cap_msi_get_nirq(cap), 4);
	assert_int_equal(cap_msi_set_nirq(h, cap, 3), PCI_ERR_EINVAL);
	assert_int_equal(cap_msi_set_nirq(h, cap, 4), PCI_ERR_OK);
	/* VFIO offers 2: 4 is refused before any SET_IRQS */
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_CAP_NIRQ);
	assert_int_equal(fake_log_count("ioctl:SET_IRQS(1,4)"), 0);
	assert_int_equal(nirqs(h), 0);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	assert_int_equal(fake_log_count("ioctl:SET_IRQS(1,4)"), 0);
	assert_int_equal(fake_log_count("ioctl:SET_IRQS(1,2)"), 1);
	assert_int_equal(nirqs(h), 2);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_EALREADY);
	disable_detach(h, cap);
}

static void t_msi_set_irqs_failure(void **s)
{
	(void)s;
	pci_devhdl_t h = att(EDU, OWNER);
	pci_cap_t cap = get_cap(EDU, CAPID_MSI);
	uint8_t before[24];
	fake_cfg_peek(EDU_N, 0x40, before, sizeof(before));
	pci_cmd_t cmd0;
	assert_int_equal(pci_device_read_cmd(EDU, &cmd0), PCI_ERR_OK);
	int fds0 = count_fds();
	fake_inject(FK_SET_IRQS_MSI, EINVAL, 1);
	assert_int_equal(pci_device_cfg_cap_enable(h, ADV, cap), PCI_ERR_IRQ_CFG);
	assert_true(logged("enabling 1 MSI vectors failed"));
	fake_inject(FK_SET_IRQS_MSI, ENOSPC, -1);
	assert_int_equal(pci_device_cfg_cap_enable(h, ADV, cap), PCI_ERR_IRQ_NOT_AVAIL);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_CAP_NIRQ);
	/* as before: registers, Command, no IRQ, no fd */
	uint8_t after[24];
	fake_cfg_peek(EDU_N, 0x40, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	pci_cmd_t cmd1;
	assert_int_equal(pci_device_read_cmd(EDU, &cmd1), PCI_ERR_OK);
	assert_int_equal(cmd0, cmd1);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(nirqs(h), 0);
	assert_int_equal(count_fds(), fds0);
	fake_reset_knobs();
	assert_int_equal(pci_device_cfg_cap_enable(h, ADV, cap), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK); /* detach disables */
	int kfd[2];
	assert_int_equal(fake_irq_fds(EDU_N, FAKE_IRQ_MSI, kfd, 2), 0);
	free(cap);
}

static void t_msi_disable_refused(void **s)
{
	(void)s;
	pci_devhdl_t h = att(EDU, OWNER);
	pci_cap_t cap = get_cap(EDU, CAPID_MSI);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	pci_irq_t irq[1];
	int fd[1];
	assert_int_equal(irqs_of(h, irq, fd, 1), 1);
	/* the kernel refuses to disable: still enabled, still delivering, as MSI-X does */
	fake_inject(FK_SET_IRQS_OFF, EIO, 1);
	assert_int_not_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_OK);
	int kfd[1];
	assert_int_equal(fake_irq_fds(EDU_N, FAKE_IRQ_MSI, kfd, 1), 1);
	assert_true(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(nirqs(h), 1);
	assert_true(fake_fire(EDU_N, FAKE_IRQ_MSI, 0));
	expect_delivery(fd[0], 1);
	/* the next try works, and then MSI can be enabled again */
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_OK);
	assert_int_equal(fake_irq_fds(EDU_N, FAKE_IRQ_MSI, kfd, 1), 0);
	assert_int_equal(nirqs(h), 0);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	disable_detach(h, cap);
}

/* MSI with per-vector masking: @isr picks the _isr entry points. */
static void msi_masking(bool isr)
{
	pci_devhdl_t h = att(PVM, OWNER);
	pci_cap_t cap = get_cap(PVM, CAPID_MSI);
	assert_int_equal(cap_msi_set_nirq(h, cap, 4), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	pci_irq_t irq[4];
	int fd[4];
	assert_int_equal(irqs_of(h, irq, fd, 4), 4);
	cap_msi_mask_t m = 0;
	cap_msi_pend_t p = 0;
#define MASK_OF(out)                                                                               \
	(isr ? cap_msi_get_irq_mask_isr(h, cap, out) : cap_msi_get_irq_mask(h, cap, out))
#define PEND_OF(out)                                                                               \
	(isr ? cap_msi_get_irq_pend_isr(h, cap, out) : cap_msi_get_irq_pend(h, cap, out))
#define UNMASK_E(e)                                                                                \
	(isr ? cap_msi_unmask_irq_entry_isr(h, cap, e) : cap_msi_unmask_irq_entry(h, cap, e))
#define MASK_E(e) (isr ? cap_msi_mask_irq_entry_isr(h, cap, e) : cap_msi_mask_irq_entry(h, cap, e))
	/* every vector masked after enable (all 8 the device has) */
	assert_int_equal(MASK_OF(&m), PCI_ERR_OK);
	assert_int_equal(m, 0xFF);
	assert_int_equal(pci_device_cfg_rd32(PVM, 0x60, &m),
			 PCI_ERR_OK); /* the emulated register */
	assert_int_equal(m, 0xFF);
	/* a message for a masked vector: pending, not delivered */
	assert_true(fake_fire(PVM_N, FAKE_IRQ_MSI, 2));
	assert_true(WAIT_UNTIL(PEND_OF(&p) == PCI_ERR_OK && (p & 4)));
	for (int v = 0; v < 4; v++)
		assert_false(readable(fd[v], 0));
	/* unmask: delivered exactly once, pending cleared, no other vector */
	assert_int_equal(UNMASK_E(2), PCI_ERR_OK);
	expect_delivery(fd[2], 1);
	assert_int_equal(PEND_OF(&p), PCI_ERR_OK);
	assert_int_equal(p, 0);
	for (int v = 0; v < 4; v++)
		assert_int_equal(drain(fd[v]), 0);
	/* unmasked: straight through */
	assert_true(fake_fire(PVM_N, FAKE_IRQ_MSI, 2));
	expect_delivery(fd[2], 1);
	/* two messages while masked: one pending bit, one delivery */
	assert_int_equal(MASK_E(2), PCI_ERR_OK);
	assert_true(fake_fire(PVM_N, FAKE_IRQ_MSI, 2));
	assert_true(fake_fire(PVM_N, FAKE_IRQ_MSI, 2));
	assert_true(WAIT_UNTIL(PEND_OF(&p) == PCI_ERR_OK && (p & 4)));
	usleep(20000);
	assert_false(readable(fd[2], 0));
	assert_int_equal(UNMASK_E(2), PCI_ERR_OK);
	expect_delivery(fd[2], 1);
	/* several at once through the mask register */
	assert_int_equal(isr ? cap_msi_mask_irq_isr(h, cap, 0xF) : cap_msi_mask_irq(h, cap, 0xF),
			 PCI_ERR_OK);
	assert_true(fake_fire(PVM_N, FAKE_IRQ_MSI, 0));
	assert_true(fake_fire(PVM_N, FAKE_IRQ_MSI, 3));
	assert_true(WAIT_UNTIL(PEND_OF(&p) == PCI_ERR_OK && p == 0x9));
	assert_int_equal(pci_device_cfg_rd32(PVM, 0x64, &p), PCI_ERR_OK);
	assert_int_equal(p, 0x9);
	assert_int_equal(isr ? cap_msi_unmask_irq_isr(h, cap, 0x9)
			     : cap_msi_unmask_irq(h, cap, 0x9),
			 PCI_ERR_OK);
	expect_delivery(fd[0], 1);
	expect_delivery(fd[3], 1);
	assert_int_equal(drain(fd[1]), 0);
	/* vectors the device has but was not given: no trigger */
	assert_false(fake_fire(PVM_N, FAKE_IRQ_MSI, 5));
	assert_int_equal(MASK_E(8), PCI_ERR_EINVAL);
#undef MASK_OF
#undef PEND_OF
#undef UNMASK_E
#undef MASK_E
	disable_detach(h, cap);
}

static void t_msi_per_vector_mask(void **s)
{
	(void)s;
	msi_masking(false);
}

static void t_msi_per_vector_mask_isr(void **s)
{
	(void)s;
	msi_masking(true);
}

/* ------------------------------------------------------------ MSI-X */

static void t_msix_enable_all_masked(void **s)
{
	(void)s;
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	assert_int_equal(cap_msix_get_nirq(cap), 5);
	int before = count_fds();
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	int kfd[8];
	assert_int_equal(fake_irq_fds(NIC_N, FAKE_IRQ_MSIX, kfd, 8), 5);
	for (int v = 0; v < 5; v++) {
		assert_true(kfd[v] >= 0);
		for (int w = 0; w < v; w++)
			assert_int_not_equal(kfd[v], kfd[w]);
	}
	pci_irq_t irq[8];
	int fd[8];
	assert_int_equal(irqs_of(h, irq, fd, 8), 5);
	for (int v = 0; v < 5; v++) {
		assert_int_equal(irq[v], fake_irq_number(NIC_N, FAKE_IRQ_MSIX, v));
		for (int w = 0; w < v; w++)
			assert_int_not_equal(fd[v], fd[w]);
	}
	uint16_t ctrl;
	assert_int_equal(pci_device_cfg_rd16(NIC, 0xa2, &ctrl), PCI_ERR_OK);
	assert_int_equal(ctrl & 0xC000, 0x8000); /* on, Function Mask off */
	cap_msix_pba_t *pba = cap_msix_get_pba_ptr(h, cap);
	assert_non_null(pba);
	assert_int_equal(PBA0(pba), 0);
	/* all masked: messages are only pending */
	for (int v = 0; v < 5; v++)
		assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, v));
	assert_true(WAIT_UNTIL(PBA0(pba) == 0x1F));
	for (int v = 0; v < 5; v++)
		assert_false(readable(fd[v], 0));
	uint64_t val;
	assert_int_equal(pcicap_bar_read(h, 3, 0x2000, 8, &val), PCI_ERR_OK);
	assert_int_equal(val, 0x1F);
	assert_int_equal(pcicap_bar_read(h, 3, 0x2000, 1, &val), PCI_ERR_OK);
	assert_int_equal(val, 0x1F);
	uint8_t raw[8];
	fake_bar_peek(NIC_N, 3, 0x2000, raw, 8); /* the device's own PBA is not it */
	assert_int_equal(raw[0], 0);
	/* unmask one: delivered once, its bit cleared, the others wait */
	assert_int_equal(cap_msix_unmask_irq_entry(h, cap, 3), PCI_ERR_OK);
	expect_delivery(fd[3], 1);
	assert_int_equal(PBA0(pba), 0x17);
	for (int v = 0; v < 5; v++)
		assert_int_equal(drain(fd[v]), 0);
	assert_int_equal(pcicap_bar_read(h, 3, 16 * 3 + 12, 4, &val), PCI_ERR_OK);
	assert_int_equal(val, 0);
	for (int v = 0; v < 5; v++)
		if (v != 3)
			assert_int_equal(cap_msix_unmask_irq_entry(h, cap, (uint_t)v), PCI_ERR_OK);
	for (int v = 0; v < 5; v++)
		if (v != 3)
			expect_delivery(fd[v], 1);
	assert_int_equal(PBA0(pba), 0);
	/* unmasked: straight through, to its own fd only */
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 1));
	expect_delivery(fd[1], 1);
	for (int v = 0; v < 5; v++)
		assert_int_equal(drain(fd[v]), 0);
	/* disable: SET_IRQS count 0, fds closed, no IRQ left */
	fake_log_clear();
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_OK);
	assert_true(fake_log_in_order("ioctl:SET_IRQS(2,0)", NULL));
	assert_int_equal(fake_irq_fds(NIC_N, FAKE_IRQ_MSIX, kfd, 8), 0);
	assert_int_equal(fake_cfg_peek32(NIC_N, 0xa0) >> 16 & 0x8000, 0);
	assert_null(cap_msix_get_pba_ptr(h, cap));
	assert_int_equal(nirqs(h), 0);
	assert_int_equal(pcicap_irq_fd(h, irq[0]), -1);
	assert_false(fake_fire(NIC_N, FAKE_IRQ_MSIX, 0));
	assert_int_equal(count_fds(), before);
	/* and again, re-enabled from scratch: all masked once more */
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	assert_int_equal(irqs_of(h, irq, fd, 8), 5);
	pba = cap_msix_get_pba_ptr(h, cap);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 4));
	assert_true(WAIT_UNTIL(PBA0(pba) == 0x10));
	assert_false(readable(fd[4], 0));
	disable_detach(h, cap);
}

static void t_msix_shared_and_unused_entries(void **s)
{
	(void)s;
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	assert_int_equal(cap_msix_set_nirq(h, cap, 3), PCI_ERR_OK);
	static const int_t disp[5] = {0, 0, 1, -1, 2};
	for (uint_t e = 0; e < 5; e++)
		assert_int_equal(cap_msix_set_irq_entry(h, cap, e, disp[e]), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	int kfd[8];
	assert_int_equal(fake_irq_fds(NIC_N, FAKE_IRQ_MSIX, kfd, 8), 5);
	assert_int_equal(kfd[3], -1); /* unused entry: no eventfd */
	assert_true(kfd[0] >= 0 && kfd[1] >= 0 && kfd[2] >= 0 && kfd[4] >= 0);
	assert_int_not_equal(kfd[0], kfd[1]); /* one kernel vector per entry */
	pci_irq_t irq[4];
	int fd[4];
	assert_int_equal(irqs_of(h, irq, fd, 4), 3);
	/* a slot's IRQ is the kernel's IRQ of its first entry */
	assert_int_equal(irq[0], fake_irq_number(NIC_N, FAKE_IRQ_MSIX, 0));
	assert_int_equal(irq[1], fake_irq_number(NIC_N, FAKE_IRQ_MSIX, 2));
	assert_int_equal(irq[2], fake_irq_number(NIC_N, FAKE_IRQ_MSIX, 4));
	assert_int_equal(fake_irq_number(NIC_N, FAKE_IRQ_MSIX, 3), -1);
	for (uint_t e = 0; e < 5; e++)
		if (disp[e] >= 0)
			assert_int_equal(cap_msix_unmask_irq_entry(h, cap, e), PCI_ERR_OK);
	/* entries 0 and 1 share slot 0: the same fd */
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 0));
	expect_delivery(fd[0], 1);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 1));
	expect_delivery(fd[0], 1);
	assert_int_equal(drain(fd[1]), 0);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 4));
	expect_delivery(fd[2], 1);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 2));
	expect_delivery(fd[1], 1);
	assert_false(fake_fire(NIC_N, FAKE_IRQ_MSIX, 3));
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_OK);

	/* trailing unused entries: the kernel gets only the vectors up to the last used */
	assert_int_equal(cap_msix_set_nirq(h, cap, 2), PCI_ERR_OK);
	static const int_t disp2[5] = {0, 1, -1, -1, -1};
	for (uint_t e = 0; e < 5; e++)
		assert_int_equal(cap_msix_set_irq_entry(h, cap, e, disp2[e]), PCI_ERR_OK);
	fake_log_clear();
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	assert_true(fake_log_in_order("ioctl:SET_IRQS(2,2)", NULL));
	assert_int_equal(nirqs(h), 2);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK); /* detach disables */
	assert_int_equal(fake_irq_fds(NIC_N, FAKE_IRQ_MSIX, kfd, 8), 0);
	free(cap);
}

/* MSI-X Function Mask: @isr picks the _isr entry points. */
static void msix_function_mask(bool isr)
{
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	pci_irq_t irq[5];
	int fd[5];
	assert_int_equal(irqs_of(h, irq, fd, 5), 5);
	for (uint_t e = 0; e < 5; e++)
		assert_int_equal(isr ? cap_msix_unmask_irq_entry_isr(h, cap, e)
				     : cap_msix_unmask_irq_entry(h, cap, e),
				 PCI_ERR_OK);
	assert_int_equal(isr ? cap_msix_mask_irq_all_isr(h, cap) : cap_msix_mask_irq_all(h, cap),
			 PCI_ERR_OK);
	assert_int_equal(isr ? cap_msix_mask_irq_all_isr(h, cap) : cap_msix_mask_irq_all(h, cap),
			 PCI_ERR_EALREADY);
	uint16_t ctrl;
	assert_int_equal(pci_device_cfg_rd16(NIC, 0xa2, &ctrl), PCI_ERR_OK);
	assert_int_equal(ctrl & 0xC000, 0xC000);
	assert_int_equal(fake_cfg_peek32(NIC_N, 0xa0) >> 16 & 0x4000, 0); /* emulated only */
	cap_msix_pba_t *pba = cap_msix_get_pba_ptr(h, cap);
	for (int v = 0; v < 5; v++)
		assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, v));
	assert_true(WAIT_UNTIL(PBA0(pba) == 0x1F));
	usleep(20000);
	for (int v = 0; v < 5; v++)
		assert_false(readable(fd[v], 0));
	/* an entry unmasked under the Function Mask still waits */
	assert_int_equal(isr ? cap_msix_mask_irq_entry_isr(h, cap, 0)
			     : cap_msix_mask_irq_entry(h, cap, 0),
			 PCI_ERR_OK);
	assert_int_equal(isr ? cap_msix_unmask_irq_entry_isr(h, cap, 0)
			     : cap_msix_unmask_irq_entry(h, cap, 0),
			 PCI_ERR_OK);
	usleep(20000);
	assert_false(readable(fd[0], 0));
	/* released: each exactly once */
	assert_int_equal(isr ? cap_msix_unmask_irq_all_isr(h, cap)
			     : cap_msix_unmask_irq_all(h, cap),
			 PCI_ERR_OK);
	for (int v = 0; v < 5; v++)
		expect_delivery(fd[v], 1);
	assert_int_equal(PBA0(pba), 0);
	assert_int_equal(isr ? cap_msix_unmask_irq_all_isr(h, cap)
			     : cap_msix_unmask_irq_all(h, cap),
			 PCI_ERR_EALREADY);
	assert_int_equal(pci_device_cfg_rd16(NIC, 0xa2, &ctrl), PCI_ERR_OK);
	assert_int_equal(ctrl & 0xC000, 0x8000);
	/* a masked entry stays held when the Function Mask goes */
	assert_int_equal(cap_msix_mask_irq_entry(h, cap, 2), PCI_ERR_OK);
	assert_int_equal(cap_msix_mask_irq_all(h, cap), PCI_ERR_OK);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 2));
	assert_true(WAIT_UNTIL(PBA0(pba) == 0x4));
	assert_int_equal(cap_msix_unmask_irq_all(h, cap), PCI_ERR_OK);
	usleep(20000);
	assert_false(readable(fd[2], 0));
	assert_int_equal(cap_msix_unmask_irq_entry(h, cap, 2), PCI_ERR_OK);
	expect_delivery(fd[2], 1);
	disable_detach(h, cap);
}

static void t_msix_function_mask(void **s)
{
	(void)s;
	msix_function_mask(false);
}

static void t_msix_function_mask_isr(void **s)
{
	(void)s;
	msix_function_mask(true);
}

static void t_msix_entry_mask_isr(void **s)
{
	(void)s;
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	pci_irq_t irq[5];
	int fd[5];
	assert_int_equal(irqs_of(h, irq, fd, 5), 5);
	cap_msix_pba_t *pba = cap_msix_get_pba_ptr(h, cap);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 4));
	assert_true(WAIT_UNTIL(PBA0(pba) == 0x10));
	assert_int_equal(cap_msix_unmask_irq_entry_isr(h, cap, 4), PCI_ERR_OK);
	expect_delivery(fd[4], 1);
	assert_int_equal(cap_msix_mask_irq_entry_isr(h, cap, 4), PCI_ERR_OK);
	uint64_t vc;
	assert_int_equal(pcicap_bar_read(h, 3, 16 * 4 + 12, 4, &vc), PCI_ERR_OK);
	assert_int_equal(vc, 1);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 4));
	assert_true(WAIT_UNTIL(PBA0(pba) == 0x10));
	assert_false(readable(fd[4], 0));
	assert_int_equal(cap_msix_unmask_irq_entry_isr(h, cap, 4), PCI_ERR_OK);
	expect_delivery(fd[4], 1);
	assert_int_equal(cap_msix_mask_irq_entry_isr(h, cap, 5), PCI_ERR_EINVAL);
	disable_detach(h, cap);
}

static void t_msix_platform_limit(void **s)
{
	(void)s;
	pci_devhdl_t h = att(I576, OWNER);
	pci_cap_t cap = get_cap(I576, CAPID_MSIX);
	msix_defaults(h, cap);
	assert_int_equal(cap_msix_get_nirq(cap), 10);
	int before = count_fds();
	/* 10 kernel vectors are more than the platform has: folding slots
	 * does not reduce the entries in use, so neither request gets them */
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_CAP_NIRQ);
	assert_int_equal(pci_device_cfg_cap_enable(h, ADV, cap), PCI_ERR_IRQ_NOT_AVAIL);
	assert_true(fake_log_count("ioctl:SET_IRQS(2,10)") >= 2);
	int kfd[10];
	assert_int_equal(fake_irq_fds(I576_N, FAKE_IRQ_MSIX, kfd, 10), 0);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(nirqs(h), 0);
	assert_int_equal(count_fds(), before);
	/* every entry still masked, as the quiesce left them */
	for (uint_t e = 0; e < 10; e++) {
		uint64_t vc;
		assert_int_equal(pcicap_bar_read(h, 3, 16 * e + 12, 4, &vc), PCI_ERR_OK);
		assert_int_equal(vc, 1);
	}
	/* four entries in use: fits */
	assert_int_equal(cap_msix_set_nirq(h, cap, 4), PCI_ERR_OK);
	for (uint_t e = 4; e < 10; e++)
		assert_int_equal(cap_msix_set_irq_entry(h, cap, e, -1), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	assert_int_equal(fake_irq_fds(I576_N, FAKE_IRQ_MSIX, kfd, 10), 4);
	assert_int_equal(nirqs(h), 4);
	/* the 82576's MSI has per-vector masking: refused while MSI-X is on */
	pci_cap_t msi = get_cap(I576, CAPID_MSI);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, msi), PCI_ERR_MSIX_ENABLED);
	disable_detach(h, cap);
	free(msi);
}

static void t_msix_set_irqs_failure(void **s)
{
	(void)s;
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	int before = count_fds();
	/* an entry unmasked before enable must be masked again after a failure */
	fake_inject(FK_SET_IRQS_MSIX, EINVAL, 1);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_IRQ_CFG);
	fake_inject(FK_SET_IRQS_MSIX, ENOSPC, -1);
	assert_int_equal(pci_device_cfg_cap_enable(h, ADV, cap), PCI_ERR_IRQ_NOT_AVAIL);
	assert_int_equal(nirqs(h), 0);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));
	assert_null(cap_msix_get_pba_ptr(h, cap));
	assert_int_equal(count_fds(), before);
	fake_reset_knobs();
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	/* a disable the kernel refuses leaves MSI-X on */
	fake_inject(FK_SET_IRQS_OFF, EIO, 1);
	assert_int_not_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_OK);
	assert_true(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(nirqs(h), 5);
	disable_detach(h, cap);
}

static void t_msi_msix_exclusive(void **s)
{
	(void)s;
	pci_devhdl_t h = att(NIC, OWNER);
	pci_cap_t msi = get_cap(NIC, CAPID_MSI), msix = get_cap(NIC, CAPID_MSIX);
	msix_defaults(h, msix);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, msi), PCI_ERR_OK);
	fake_log_clear();
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, msix), PCI_ERR_MSI_ENABLED);
	assert_int_equal(fake_log_count("ioctl:SET_IRQS(2,5)"), 0);
	assert_int_equal(nirqs(h), 1);
	/* and the MSI still works */
	pci_irq_t irq[1];
	int fd[1];
	assert_int_equal(irqs_of(h, irq, fd, 1), 1);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSI, 0));
	expect_delivery(fd[0], 1);
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, msi), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, msix), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, msi), PCI_ERR_MSIX_ENABLED);
	assert_int_equal(fake_log_count("ioctl:SET_IRQS(1,1)"), 0);
	assert_int_equal(nirqs(h), 5);
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, msix), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(msi);
	free(msix);
}

static void t_detach_releases_enabled(void **s)
{
	(void)s;
	int before = count_fds();
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	fake_log_clear();
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_true(fake_log_in_order("ioctl:SET_IRQS(2,0)", "close:device", "close:group",
				      "close:container", NULL));
	int kfd[8];
	assert_int_equal(fake_irq_fds(NIC_N, FAKE_IRQ_MSIX, kfd, 8), 0);
	assert_int_equal(count_fds(), before);
	free(cap);
}

static void t_detach_when_disable_refused(void **s)
{
	(void)s;
	int before = count_fds();
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	/* the module's disable and its forget are refused: the close ends it */
	fake_inject(FK_SET_IRQS_OFF, EIO, 2);
	fake_log_clear();
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(fake_log_count("ioctl:SET_IRQS(2,0)"), 3);
	assert_true(fake_log_in_order("ioctl:SET_IRQS(2,0)", "ioctl:SET_IRQS(2,0)",
				      "ioctl:SET_IRQS(2,0)", "close:device", NULL));
	int kfd[8];
	assert_int_equal(fake_irq_fds(NIC_N, FAKE_IRQ_MSIX, kfd, 8), 0);
	assert_int_equal(count_fds(), before);
	/* nothing stuck: the next owner enables again */
	h = att(NIC, OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	assert_int_equal(nirqs(h), 5);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

/* Free fd numbers below @lim. */
static int free_below(int lim)
{
	int n = 0;
	for (int fd = 0; fd < lim; fd++)
		n += fcntl(fd, F_GETFD) < 0;
	return n;
}

static void t_enable_out_of_fds(void **s)
{
	(void)s;
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	struct rlimit old;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* 5 slots and 5 kernel vectors need 10 eventfds: run out at the
	 * 4th slot, and at the 3rd kernel vector */
	static const int room[] = {3, 7};
	for (size_t i = 0; i < ARRAY_SIZE(room); i++) {
		int before = count_fds(), lim = 0;
		while (free_below(lim) < room[i])
			lim++;
		struct rlimit rl = {.rlim_cur = (rlim_t)lim, .rlim_max = old.rlim_max};
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
		pci_err_t err = pci_device_cfg_cap_enable(h, MAND, cap);
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
		assert_int_not_equal(err, PCI_ERR_OK);
		assert_false(pci_device_cfg_cap_isenabled(h, cap));
		assert_int_equal(nirqs(h), 0);
		assert_int_equal(fake_log_count("ioctl:SET_IRQS(2,5)"), 0);
		assert_int_equal(count_fds(), before);
	}
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	assert_int_equal(nirqs(h), 5);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static void t_msix_bar_mappable_whole(void **s)
{
	(void)s;
	/* Linux >= 4.16: the table's BAR is mmap-able whole; the table is
	 * still the emulation's, never the mapping's */
	fake_set_msix_mappable(true);
	pci_devhdl_t h = att(NIC, OWNER | pci_attachFlags_e_FULL_CONFIG_ACCESS);
	assert_int_equal(fake_live_mmaps(), 2);
	assert_int_equal(fake_log_count("mmap(3)"), 1);
	pci_cap_t cap = get_cap(NIC, CAPID_MSIX);
	msix_defaults(h, cap);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	pci_irq_t irq[5];
	int fd[5];
	assert_int_equal(irqs_of(h, irq, fd, 5), 5);
	assert_int_equal(cap_msix_unmask_irq_entry(h, cap, 1), PCI_ERR_OK);
	assert_true(fake_fire(NIC_N, FAKE_IRQ_MSIX, 1));
	expect_delivery(fd[1], 1);
	uint64_t v;
	assert_int_equal(pcicap_bar_write(h, 3, 16 * 2, 8, 0xfee00000ull), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_read(h, 3, 16 * 2, 8, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xfee00000ull);
	assert_int_equal(pcicap_bar_read(h, 3, 16 * 1 + 12, 4, &v), PCI_ERR_OK);
	assert_int_equal(v, 0);
	uint8_t t[80];
	fake_bar_peek(NIC_N, 3, 0, t, sizeof(t));
	for (size_t i = 0; i < sizeof(t); i++)
		assert_int_equal(t[i], 0);
	/* the rest of the BAR through the mapping */
	fake_counters_t c0 = fake_counters(NIC_N);
	assert_int_equal(pcicap_bar_write(h, 3, 0x100, 4, 0x77), PCI_ERR_OK);
	assert_int_equal(fake_counters(NIC_N).bar_writes, c0.bar_writes);
	fake_bar_peek(NIC_N, 3, 0x100, t, 1);
	assert_int_equal(t[0], 0x77);
	static const uint8_t z = 0;
	fake_bar_poke(NIC_N, 3, 0x100, &z, 1);
	disable_detach(h, cap);
}

/* Messages and unmasks racing: no message is lost for good. */
struct race {
	pci_devhdl_t h;
	pci_cap_t cap;
	bool msi;
	const char *dev;
	pthread_barrier_t go;
	int fired, failed;
};

static void *race_fire(void *arg)
{
	struct race *r = arg;
	pthread_barrier_wait(&r->go);
	for (int i = 0; i < 3000; i++)
		r->fired += fake_fire(r->dev, r->msi ? FAKE_IRQ_MSI : FAKE_IRQ_MSIX, 0);
	return NULL;
}

/* Ends unmasked. No cmocka assertion here: not the test's thread. */
static void *race_mask(void *arg)
{
	struct race *r = arg;
	pthread_barrier_wait(&r->go);
	for (int i = 0; i < 2000; i++) {
		if (r->msi) {
			r->failed += cap_msi_mask_irq_entry_isr(r->h, r->cap, 0) != PCI_ERR_OK;
			r->failed += cap_msi_unmask_irq_entry_isr(r->h, r->cap, 0) != PCI_ERR_OK;
		} else {
			r->failed += cap_msix_mask_irq_entry_isr(r->h, r->cap, 0) != PCI_ERR_OK;
			r->failed += cap_msix_unmask_irq_entry_isr(r->h, r->cap, 0) != PCI_ERR_OK;
		}
	}
	return NULL;
}

/* Whether vector 0 is pending (the forwarding thread sets it). */
static bool race_pending(struct race *r, cap_msix_pba_t *pba)
{
	if (!r->msi)
		return PBA0(pba) & 1;
	cap_msi_pend_t p = 0;
	assert_int_equal(cap_msi_get_irq_pend(r->h, r->cap, &p), PCI_ERR_OK);
	return p & 1;
}

static void mask_race(bool msi)
{
	struct race r = {.msi = msi, .dev = msi ? PVM_N : NIC_N};
	r.h = att(msi ? PVM : NIC, OWNER);
	r.cap = get_cap(msi ? PVM : NIC, msi ? CAPID_MSI : CAPID_MSIX);
	if (msi)
		assert_int_equal(cap_msi_set_nirq(r.h, r.cap, 4), PCI_ERR_OK);
	else
		msix_defaults(r.h, r.cap);
	assert_int_equal(pci_device_cfg_cap_enable(r.h, MAND, r.cap), PCI_ERR_OK);
	pci_irq_t irq[5];
	int fd[5];
	int_t n = irqs_of(r.h, irq, fd, 5);
	assert_true(n >= 4);
	pthread_t a, b;
	assert_int_equal(pthread_barrier_init(&r.go, NULL, 2), 0);
	assert_int_equal(pthread_create(&b, NULL, race_mask, &r), 0);
	assert_int_equal(pthread_create(&a, NULL, race_fire, &r), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&r.go);
	assert_int_equal(r.failed, 0);
	/* unmasked at the end: whatever was pending comes out */
	cap_msix_pba_t *pba = msi ? NULL : cap_msix_get_pba_ptr(r.h, r.cap);
	if (msi) {
		cap_msi_mask_t m;
		assert_int_equal(cap_msi_get_irq_mask(r.h, r.cap, &m), PCI_ERR_OK);
		assert_int_equal(m & 1, 0);
	} else {
		uint64_t vc;
		assert_int_equal(pcicap_bar_read(r.h, 3, 12, 4, &vc), PCI_ERR_OK);
		assert_int_equal(vc, 0);
	}
	assert_true(WAIT_UNTIL(!race_pending(&r, pba)));
	usleep(50000);
	uint64_t got = drain(fd[0]);
	assert_true(got >= 1);
	assert_true(got <= (uint64_t)r.fired);
	assert_false(race_pending(&r, pba));
	for (int_t i = 1; i < n; i++)
		assert_int_equal(drain(fd[i]), 0);
	assert_int_equal(pci_device_cfg_cap_disable(r.h, MAND, r.cap), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(r.h), PCI_ERR_OK);
	free(r.cap);
}

static void t_msix_mask_race(void **s)
{
	(void)s;
	mask_race(false);
}

static void t_msi_mask_race(void **s)
{
	(void)s;
	mask_race(true);
}

/* ------------------------------------------------------------ request IRQ */

static void t_request_irq_marks_gone(void **s)
{
	(void)s;
	pci_devhdl_t h = att(GONE, OWNER);
	pci_cap_t cap = get_cap(GONE, CAPID_MSI);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	uint64_t v;
	assert_int_equal(pcicap_bar_read(h, 0, 0, 4, &v), PCI_ERR_OK);
	assert_true(fake_request(GONE_N));
	assert_true(WAIT_UNTIL(pcicap_bar_read(h, 0, 0, 4, &v) == PCI_ERR_ENODEV));
	assert_true(logged("the kernel asks for 0000:00:0b.0 back"));
	int_t n = 1;
	pci_irq_t irq;
	assert_int_equal(pci_device_read_irq(h, &n, &irq), PCI_ERR_ENODEV);
	assert_int_equal(pci_device_cfg_wr32(h, 0x80, 1, NULL), PCI_ERR_ENODEV);
	void *buf = page_buf(1);
	uint64_t iova;
	assert_int_equal(pcicap_dma_map(h, buf, (size_t)sysconf(_SC_PAGESIZE), &iova),
			 PCI_ERR_ENODEV);
	munmap(buf, (size_t)sysconf(_SC_PAGESIZE));
	/* detach gives everything back, so that the kernel can finish */
	fake_log_clear();
	pci_err_t err = pci_device_detach(h);
	assert_true(err == PCI_ERR_OK || err == PCI_ERR_ENODEV);
	assert_true(fake_log_in_order("close:device", "close:group", "close:container", NULL));
	assert_int_equal(fake_open_fds(), 0);
	/* gone for this process */
	pci_devhdl_t again = pci_device_attach(GONE, OWNER, &err);
	assert_null(again);
	assert_int_equal(err, PCI_ERR_ENODEV);
	free(cap);
}

/* ------------------------------------------------------------ BAR access */

static void t_bar_rw_through_mmap(void **s)
{
	(void)s;
	pci_devhdl_t h = att(EDU, OWNER);
	fake_counters_t c0 = fake_counters(EDU_N);
	assert_int_equal(pcicap_bar_write(h, 0, 0x100, 4, 0xdeadbeef), PCI_ERR_OK);
	uint8_t b[8];
	fake_bar_peek(EDU_N, 0, 0x100, b, 4);
	assert_int_equal(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24, 0xdeadbeef);
	uint64_t v;
	assert_int_equal(pcicap_bar_read(h, 0, 0x100, 4, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xdeadbeef);
	assert_int_equal(pcicap_bar_read(h, 0, 0x102, 2, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xdead);
	assert_int_equal(pcicap_bar_read(h, 0, 0x103, 1, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xde);
	assert_int_equal(pcicap_bar_write(h, 0, 0x108, 8, 0x0123456789abcdefull), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_read(h, 0, 0x108, 8, &v), PCI_ERR_OK);
	assert_int_equal(v, 0x0123456789abcdefull);
	assert_int_equal(pcicap_bar_write(h, 0, 0x201, 1, 0xab), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_write(h, 0, 0x202, 2, 0x1234), PCI_ERR_OK);
	fake_bar_peek(EDU_N, 0, 0x200, b, 4);
	assert_int_equal(b[1] | b[2] << 8 | b[3] << 16, 0x1234ab);
	/* the device's side is seen live */
	static const uint8_t dev[4] = {0x11, 0x22, 0x33, 0x44};
	fake_bar_poke(EDU_N, 0, 0xFFFFC, dev, 4);
	assert_int_equal(pcicap_bar_read(h, 0, 0xFFFFC, 4, &v), PCI_ERR_OK);
	assert_int_equal(v, 0x44332211);
	fake_counters_t c1 = fake_counters(EDU_N);
	assert_int_equal(c1.bar_reads, c0.bar_reads); /* all through the mapping */
	assert_int_equal(c1.bar_writes, c0.bar_writes);
	/* bounds and shapes */
	assert_int_equal(pcicap_bar_read(h, 0, 0x100000, 4, &v), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 0, 0x101, 4, &v), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 0, 0x100, 3, &v), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_bar_read(h, 1, 0, 4, &v), PCI_ERR_ENOENT);
	assert_int_equal(pcicap_bar_write(h, 0, 0, 1, 0x100), PCI_ERR_EINVAL);
	pci_devhdl_t sh = att(EDU, 0);
	assert_int_equal(pcicap_bar_read(sh, 0, 0, 4, &v), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_read(h, 0, 0, 4, &v), PCI_ERR_EINVAL); /* stale handle */
}

static void t_bar_rw_through_pread(void **s)
{
	(void)s;
	pci_devhdl_t h = att(PVM, OWNER); /* BAR0 not mmap-able */
	fake_counters_t c0 = fake_counters(PVM_N);
	assert_int_equal(pcicap_bar_write(h, 0, 0x10, 4, 0xcafef00d), PCI_ERR_OK);
	uint8_t b[4];
	fake_bar_peek(PVM_N, 0, 0x10, b, 4);
	assert_int_equal(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24, 0xcafef00d);
	uint64_t v;
	assert_int_equal(pcicap_bar_read(h, 0, 0x10, 4, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xcafef00d);
	assert_int_equal(pcicap_bar_read(h, 0, 0x12, 2, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xcafe);
	fake_counters_t c1 = fake_counters(PVM_N);
	assert_int_equal(c1.bar_writes, c0.bar_writes + 1);
	assert_int_equal(c1.bar_reads, c0.bar_reads + 2);
	/* BAR1 is mmap-able: no pread */
	assert_int_equal(pcicap_bar_write(h, 1, 0x1ff8, 8, 42), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_read(h, 1, 0x1ff8, 8, &v), PCI_ERR_OK);
	assert_int_equal(v, 42);
	assert_int_equal(fake_counters(PVM_N).bar_reads, c1.bar_reads);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);

	/* an I/O BAR: pread/pwrite */
	h = att(NIC, OWNER);
	c0 = fake_counters(NIC_N);
	assert_int_equal(pcicap_bar_write(h, 2, 4, 2, 0xbeef), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_read(h, 2, 4, 2, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xbeef);
	c1 = fake_counters(NIC_N);
	assert_int_equal(c1.bar_writes, c0.bar_writes + 1);
	assert_int_equal(c1.bar_reads, c0.bar_reads + 1);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void t_bar_mmap_failure_falls_back(void **s)
{
	(void)s;
	fake_inject(FK_MMAP, ENOMEM, -1);
	pci_devhdl_t h = att(EDU, OWNER);
	assert_int_equal(fake_live_mmaps(), 0);
	fake_counters_t c0 = fake_counters(EDU_N);
	assert_int_equal(pcicap_bar_write(h, 0, 0x40, 4, 7), PCI_ERR_OK);
	uint64_t v;
	assert_int_equal(pcicap_bar_read(h, 0, 0x40, 4, &v), PCI_ERR_OK);
	assert_int_equal(v, 7);
	fake_counters_t c1 = fake_counters(EDU_N);
	assert_int_equal(c1.bar_writes, c0.bar_writes + 1);
	assert_int_equal(c1.bar_reads, c0.bar_reads + 1);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void t_bar_sparse_mmap_and_table_guard(void **s)
{
	(void)s;
	pci_devhdl_t h = att(NIC, OWNER);
	/* BAR0 whole, BAR3 without the table's page */
	assert_int_equal(fake_live_mmaps(), 2);
	assert_int_equal(fake_log_count("mmap(3)"), 1);
	fake_counters_t c0 = fake_counters(NIC_N);
	assert_int_equal(pcicap_bar_write(h, 3, 0x1000, 4, 0x5a5a5a5a), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_write(h, 3, 0x3ffc, 4, 0x1), PCI_ERR_OK);
	assert_int_equal(fake_counters(NIC_N).bar_writes, c0.bar_writes);
	uint8_t b[4];
	fake_bar_peek(NIC_N, 3, 0x1000, b, 4);
	assert_int_equal(b[0], 0x5a);
	/* the MSI-X table and PBA are the module's */
	assert_int_equal(pcicap_bar_write(h, 3, 12, 4, 0), PCI_ERR_CFG_ACCESS);
	assert_int_equal(pcicap_bar_write(h, 3, 0x40, 8, 0), PCI_ERR_CFG_ACCESS);
	assert_int_equal(pcicap_bar_write(h, 3, 0x2000, 8, 0), PCI_ERR_CFG_ACCESS);
	/* reads are fine: the emulated table (all masked), not VFIO's 0xFF */
	uint64_t v;
	assert_int_equal(pcicap_bar_read(h, 3, 12, 4, &v), PCI_ERR_OK);
	assert_int_equal(v, 1);
	assert_int_equal(pcicap_bar_read(h, 3, 0, 8, &v), PCI_ERR_OK);
	assert_int_equal(v, 0);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);

	/* FULL_CONFIG_ACCESS may: into the emulated table, never the device */
	h = att(NIC, OWNER | pci_attachFlags_e_FULL_CONFIG_ACCESS);
	c0 = fake_counters(NIC_N);
	assert_int_equal(pcicap_bar_write(h, 3, 16, 8, 0xfee00000ull), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_write(h, 3, 28, 4, 0), PCI_ERR_OK);
	assert_int_equal(pcicap_bar_read(h, 3, 16, 8, &v), PCI_ERR_OK);
	assert_int_equal(v, 0xfee00000ull);
	assert_int_equal(pcicap_bar_read(h, 3, 28, 4, &v), PCI_ERR_OK);
	assert_int_equal(v, 0);
	assert_int_equal(pcicap_bar_write(h, 3, 0x2000, 8, 0xFF), PCI_ERR_OK); /* PBA: read-only */
	assert_int_equal(pcicap_bar_read(h, 3, 0x2000, 8, &v), PCI_ERR_OK);
	assert_int_equal(v, 0);
	fake_counters_t c1 = fake_counters(NIC_N);
	assert_int_equal(c1.bar_writes, c0.bar_writes);
	uint8_t t[32];
	fake_bar_peek(NIC_N, 3, 0, t, sizeof(t));
	for (size_t i = 0; i < sizeof(t); i++)
		assert_int_equal(t[i], 0);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

/* ------------------------------------------------------------ DMA */

static void t_dma_map_unmap(void **s)
{
	(void)s;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	pci_devhdl_t h = att(EDU, OWNER);
	void *b1 = page_buf(1), *b2 = page_buf(4), *b3 = page_buf(2), *b4 = page_buf(4),
	     *b5 = page_buf(8);
	uint64_t i1, i2, i3, i4, i5;
	assert_int_equal(pcicap_dma_map(h, b1, pg, &i1), PCI_ERR_OK);
	assert_int_equal(pcicap_dma_map(h, b2, 4 * pg, &i2), PCI_ERR_OK);
	assert_int_equal(pcicap_dma_map(h, b3, 2 * pg, &i3), PCI_ERR_OK);
	/* inside the advertised range, page 0 area left out, no overlap */
	assert_int_equal(i1, 0x100000);
	assert_true(i2 >= i1 + pg && i3 >= i2 + 4 * pg);
	assert_true(i3 + 2 * pg - 1 <= 0xFEDFFFFFull);
	fake_dma_t m[8];
	assert_int_equal(fake_dma_list(m, 8), 3);
	bool seen2 = false;
	for (int i = 0; i < 3; i++)
		if (m[i].iova == i2) {
			assert_int_equal(m[i].vaddr, (uintptr_t)b2);
			assert_int_equal(m[i].size, 4 * pg);
			seen2 = true;
		}
	assert_true(seen2);
	/* exact unmaps only */
	assert_int_equal(pcicap_dma_unmap(h, i2, 2 * pg), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_unmap(h, i2 + pg, pg), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_unmap(h, 0x7000000, pg), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_unmap(h, i2 + 1, pg), PCI_ERR_EINVAL);
	assert_int_equal(fake_dma_list(m, 8), 3);
	assert_int_equal(pcicap_dma_unmap(h, i2, 4 * pg), PCI_ERR_OK);
	assert_int_equal(fake_dma_list(m, 8), 2);
	/* first fit: the hole is reused, a larger buffer goes after */
	assert_int_equal(pcicap_dma_map(h, b4, 4 * pg, &i4), PCI_ERR_OK);
	assert_int_equal(i4, i2);
	assert_int_equal(pcicap_dma_map(h, b5, 8 * pg, &i5), PCI_ERR_OK);
	assert_true(i5 >= i3 + 2 * pg);
	/* bad input */
	assert_int_equal(pcicap_dma_map(h, (uint8_t *)b1 + 1, pg, &i1), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_map(h, b1, pg + 1, &i1), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_map(h, b1, 0, &i1), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_dma_map(h, b1, pg, NULL), PCI_ERR_EINVAL);
	/* what the IOMMU says */
	uint64_t x;
	fake_inject(FK_MAP_DMA, EFAULT, 1);
	assert_int_equal(pcicap_dma_map(h, b1, pg, &x), PCI_ERR_EINVAL);
	fake_inject(FK_MAP_DMA, ENOSPC, 1);
	assert_int_equal(pcicap_dma_map(h, b1, pg, &x), PCI_ERR_ENOMEM);
	fake_inject(FK_MAP_DMA, EPERM, 1);
	assert_int_equal(pcicap_dma_map(h, b1, pg, &x), PCI_ERR_NOT_OWNER);
	fake_inject(FK_UNMAP_DMA, EINVAL, 1);
	assert_int_equal(pcicap_dma_unmap(h, i5, 8 * pg), PCI_ERR_EINVAL);
	assert_int_equal(fake_dma_list(m, 8), 4); /* failed calls change nothing */
	/* not an owner */
	pci_devhdl_t sh = att(EDU, 0);
	assert_int_equal(pcicap_dma_map(sh, b1, pg, &x), PCI_ERR_NOT_OWNER);
	assert_int_equal(pcicap_dma_unmap(sh, i1, pg), PCI_ERR_NOT_OWNER);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(pcicap_dma_unmap(h, i1, pg), PCI_ERR_OK);
	/* the last owner's detach ends the container and its mappings */
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(fake_dma_list(m, 8), 0);
	munmap(b1, pg);
	munmap(b2, 4 * pg);
	munmap(b3, 2 * pg);
	munmap(b4, 4 * pg);
	munmap(b5, 8 * pg);
}

static void t_dma_iova_range_capability(void **s)
{
	(void)s;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	static const uint64_t r[2][2] = {{0x40000000ull, 0x40003FFFull},
					 {0x80000000ull, 0x8FFFFFFFull}};
	fake_set_iova_ranges(r, 2);
	pci_devhdl_t h = att(EDU, OWNER);
	void *b = page_buf(4);
	uint64_t i1, i2, i3;
	assert_int_equal(pcicap_dma_map(h, b, pg, &i1), PCI_ERR_OK);
	assert_int_equal(i1, 0x40000000ull);
	/* 3 pages left in the range */
	assert_int_equal(pcicap_dma_map(h, b, 4 * pg, &i2), PCI_ERR_ENOMEM);
	assert_int_equal(pcicap_dma_map(h, b, 3 * pg, &i2), PCI_ERR_OK);
	assert_int_equal(i2, 0x40000000ull + pg);
	assert_int_equal(pcicap_dma_map(h, b, pg, &i3), PCI_ERR_ENOMEM);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);

	/* a range that starts at 0: the first 1 MiB stays unmapped */
	static const uint64_t low[1][2] = {{0, 0x1FFFFFull}};
	fake_set_iova_ranges(low, 1);
	h = att(EDU, OWNER);
	assert_int_equal(pcicap_dma_map(h, b, pg, &i1), PCI_ERR_OK);
	assert_int_equal(i1, 0x100000ull);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);

	/* no IOVA-range capability: below 4 GiB */
	fake_set_iova_ranges(NULL, 0);
	h = att(EDU, OWNER);
	assert_int_equal(pcicap_dma_map(h, b, pg, &i1), PCI_ERR_OK);
	assert_int_equal(i1, 0x100000ull);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	munmap(b, 4 * pg);
}

static void t_dma_shared_group_per_device(void **s)
{
	(void)s;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	pci_devhdl_t a = att(MF0, OWNER), b = att(MF1, OWNER);
	void *ba = page_buf(1), *bb = page_buf(1);
	uint64_t ia, ib;
	assert_int_equal(pcicap_dma_map(a, ba, pg, &ia), PCI_ERR_OK);
	assert_int_equal(pcicap_dma_map(b, bb, pg, &ib), PCI_ERR_OK);
	assert_true(ia != ib); /* one IOVA space: the group's container */
	fake_dma_t m[4];
	assert_int_equal(fake_dma_list(m, 4), 2);
	/* one device cannot unmap what the other mapped */
	assert_int_equal(pcicap_dma_unmap(b, ia, pg), PCI_ERR_EINVAL);
	assert_int_equal(fake_dma_list(m, 4), 2);
	/* 09.0's last owner detaches: its mappings end there, 09.1's stay */
	assert_int_equal(pci_device_detach(a), PCI_ERR_OK);
	assert_int_equal(fake_dma_list(m, 4), 1);
	assert_int_equal(m[0].iova, ib);
	assert_int_equal(m[0].vaddr, (uintptr_t)bb);
	/* its IOVA is free again */
	uint64_t ic;
	assert_int_equal(pcicap_dma_map(b, ba, pg, &ic), PCI_ERR_OK);
	assert_int_equal(ic, ia);
	assert_int_equal(pci_device_detach(b), PCI_ERR_OK);
	assert_int_equal(fake_dma_list(m, 4), 0);
	munmap(ba, pg);
	munmap(bb, pg);
}

static void t_dma_noiommu_enotsup(void **s)
{
	(void)s;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	pci_devhdl_t h = att(NOIO, OWNER);
	assert_true(fake_log_in_order("open:group", "=2", "open:noiommu", "open:container",
				      "ioctl:SET_IOMMU(8)", "ioctl:GET_DEVICE_FD", NULL));
	assert_int_equal(fake_log_count("ioctl:IOMMU_INFO"), 0);
	assert_true(logged("(no-IOMMU)"));
	void *b = page_buf(1);
	uint64_t iova;
	assert_int_equal(pcicap_dma_map(h, b, pg, &iova), PCI_ERR_ENOTSUP);
	assert_int_equal(pcicap_dma_unmap(h, 0x100000, pg), PCI_ERR_ENOTSUP);
	/* interrupts work the same */
	pci_cap_t cap = get_cap(NOIO, CAPID_MSI);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	pci_irq_t irq[1];
	int fd[1];
	assert_int_equal(irqs_of(h, irq, fd, 1), 1);
	assert_true(fake_fire(NOIO_N, FAKE_IRQ_MSI, 0));
	expect_delivery(fd[0], 1);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	munmap(b, pg);
	free(cap);
}

/* ------------------------------------------------------------ reset */

static void t_reset_through_vfio(void **s)
{
	(void)s;
	pci_cap_t cap;
	pci_devhdl_t h = nic_msix_open(&cap);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	for (uint_t e = 0; e < 5; e++)
		assert_int_equal(cap_msix_unmask_irq_entry(h, cap, e), PCI_ERR_OK);
	assert_int_equal(cap_msix_mask_irq_all(h, cap), PCI_ERR_OK);
	fake_log_clear();
	assert_int_equal(pci_device_reset(h, pci_resetType_e_FUNCTION), PCI_ERR_OK);
	assert_int_equal(fake_resets(NIC_N), 1);
	assert_true(fake_log_in_order("ioctl:RESET", "ioctl:SET_IRQS(2,0)", NULL));
	/* the emulated registers came out of reset: Function Mask off,
	 * every entry masked, nothing pending; the capability is off */
	uint16_t ctrl;
	assert_int_equal(pci_device_cfg_rd16(NIC, 0xa2, &ctrl), PCI_ERR_OK);
	assert_int_equal(ctrl & 0x4000, 0);
	for (uint_t e = 0; e < 5; e++) {
		uint64_t vc;
		assert_int_equal(pcicap_bar_read(h, 3, 16 * e + 12, 4, &vc), PCI_ERR_OK);
		assert_int_equal(vc, 1);
	}
	uint64_t pba;
	assert_int_equal(pcicap_bar_read(h, 3, 0x2000, 8, &pba), PCI_ERR_OK);
	assert_int_equal(pba, 0);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(nirqs(h), 0);
	/* and it can be enabled again */
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	assert_int_equal(nirqs(h), 5);
	assert_int_equal(pci_device_cfg_cap_disable(h, MAND, cap), PCI_ERR_OK);
	/* a kernel refusal, other reset types */
	fake_inject(FK_RESET, EIO, 1);
	assert_int_equal(pci_device_reset(h, pci_resetType_e_FUNCTION), PCI_ERR_EIO);
	assert_int_equal(pci_device_reset(h, pci_resetType_e_BUS), PCI_ERR_ENOTSUP);
	assert_int_equal(fake_resets(NIC_N), 1);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static void t_reset_per_vector_mask_back(void **s)
{
	(void)s;
	/* the 82576 has FLR: VFIO resets it, and its emulated MSI mask is 0 again */
	pci_devhdl_t h = att(I576, OWNER);
	pci_cap_t cap = get_cap(I576, CAPID_MSI);
	assert_int_equal(pci_device_cfg_cap_enable(h, MAND, cap), PCI_ERR_OK);
	cap_msi_mask_t m;
	assert_int_equal(cap_msi_get_irq_mask(h, cap, &m), PCI_ERR_OK);
	assert_int_equal(m, 1);
	assert_int_equal(pci_device_reset(h, pci_resetType_e_FUNCTION), PCI_ERR_OK);
	assert_int_equal(fake_resets(I576_N), 1);
	uint32_t raw;
	assert_int_equal(pci_device_cfg_rd32(I576, 0x60, &raw), PCI_ERR_OK);
	assert_int_equal(raw, 0);
	assert_int_equal(cap_msi_get_irq_mask(h, cap, &m), PCI_ERR_OK);
	assert_int_equal(m, 0);
	assert_int_equal(nirqs(h), 0);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	/* no FLR: refused by the core */
	h = att(EDU, OWNER);
	assert_int_equal(pci_device_reset(h, pci_resetType_e_FUNCTION), PCI_ERR_ENOTSUP);
	assert_int_equal(fake_resets(EDU_N), 0);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	/* FLR, but VFIO offers no reset: refused by the backend, no ioctl */
	h = att(FLT, OWNER);
	fake_log_clear();
	assert_int_equal(pci_device_reset(h, pci_resetType_e_FUNCTION), PCI_ERR_ENOTSUP);
	assert_int_equal(fake_log_count("ioctl:RESET"), 0);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

/* ------------------------------------------------------------ main */

/* A program that exits with devices still open, interrupts on and DMA
 * mapped: the library's unload (the backend's fini) gives everything back.
 * Checked after the library's destructor (prioritised destructors run after
 * the others). */
static bool exit_check_armed;
static char rundir[] = "/tmp/pcicap-vfio-run-XXXXXX";

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

__attribute__((destructor(101))) static void exit_check(void)
{
	fake_remove();
	if (rundir[strlen(rundir) - 1] != 'X')
		nftw(rundir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (!exit_check_armed)
		return;
	fake_dma_t m[4];
	int kfd[8];
	int fds = fake_open_fds(), maps = fake_live_mmaps();
	size_t dma = fake_dma_list(m, 4);
	int irqs = fake_irq_fds(NIC_N, FAKE_IRQ_MSIX, kfd, 8);
	if (fds || maps || dma || irqs || !fake_log_in_order("close:container", NULL)) {
		fprintf(stderr, "not released at exit: %d fds, %d mmaps, %zu DMA, %d vectors\n",
			fds, maps, dma, irqs);
		_exit(3);
	}
	fprintf(stderr, "released at exit: %s\n", fake_log());
}

static int leave_open_at_exit(void)
{
	static char buf[1 << 16] __attribute__((aligned(1 << 16)));
	pci_err_t e[8] = {0};
	pci_devhdl_t h = pci_device_attach(NIC, OWNER, &e[0]);
	pci_devhdl_t a = pci_device_attach(MF0, OWNER, &e[1]);
	pci_devhdl_t b = pci_device_attach(MF1, OWNER, &e[2]);
	pci_cap_t cap = NULL;
	int_t idx = pci_device_find_capid(NIC, CAPID_MSIX);
	uint64_t iova;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	if (idx >= 0)
		e[3] = pci_device_read_cap(NIC, &cap, (uint_t)idx);
	e[4] = pci_device_cfg_cap_enable(h, MAND, cap);
	e[5] = pcicap_dma_map(h, buf, pg, &iova);
	e[6] = pcicap_dma_map(a, buf + pg, pg, &iova);
	e[7] = pcicap_dma_map(b, buf + 2 * pg, pg, &iova);
	for (int i = 0; i < 8; i++)
		if (e[i] != PCI_ERR_OK || idx < 0) {
			fprintf(stderr, "cannot set up the exit check: step %d: %d\n", i,
				(int)e[i]);
			return 1;
		}
	free(cap);
	fake_log_clear();
	exit_check_armed = true;
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	if (!mkdtemp(rundir)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("PCICAP_RUNTIME_DIR", rundir, 1);
	build_images();
	load_82576();
	size_t n = build_specs();
	if (fake_install(specs, n) != 0) {
		perror("fake_install");
		return 1;
	}
	pci_verbosity = PCICAP_LOG_DEBUG;
	pcicap_set_log_handler(log_handler, NULL);
	if (pcicap_set_backend("vfio") != PCI_ERR_OK) {
		fprintf(stderr, "cannot select the vfio backend\n");
		return 1;
	}
	/* once, so that the forwarding thread's own fds are there before the
	 * tests count fds */
	pci_err_t err;
	pci_devhdl_t h = pci_device_attach(EDU, OWNER, &err);
	if (!h || pci_device_detach(h) != PCI_ERR_OK) {
		fprintf(stderr, "warm-up attach failed: %d\n", (int)err);
		return 1;
	}

	const struct CMUnitTest tests[] = {
	    T(t_scan_lists_functions),
	    T(t_reads_before_attach_use_sysfs),
	    T(t_driver_names),
	    T(t_bar_info_from_sysfs),
	    T(t_attach_opens_and_detach_closes),
	    T(t_config_through_vfio_when_owned),
	    T(t_first_owner_quiesces_through_vfio),
	    T(t_shared_group_opened_once),
	    T(t_type1_without_v2),
	    T(t_sysfs_views),
	    T(t_region_access_errors),
	    T(t_request_irq_not_offered),
	    T(t_err_not_bound_to_vfio_pci),
	    T(t_err_no_iommu_group),
	    T(t_err_group_not_viable),
	    T(t_err_eacces_not_owner),
	    T(t_err_ebusy_attach_owned),
	    T(t_err_no_interrupt_remapping),
	    T(t_err_device_gone_enodev),
	    T(t_err_api_version),
	    T(t_err_no_vfio_nodes),
	    T(t_err_other_failures),
	    T(t_msi_enable_edu),
	    T(t_msi_synthetic_irqs),
	    T(t_msi_count_platform_limit),
	    T(t_msi_count_vfio_limit),
	    T(t_msi_set_irqs_failure),
	    T(t_msi_disable_refused),
	    T(t_msi_per_vector_mask),
	    T(t_msi_per_vector_mask_isr),
	    T(t_msix_enable_all_masked),
	    T(t_msix_shared_and_unused_entries),
	    T(t_msix_function_mask),
	    T(t_msix_function_mask_isr),
	    T(t_msix_entry_mask_isr),
	    T(t_msix_platform_limit),
	    T(t_msix_set_irqs_failure),
	    T(t_msi_msix_exclusive),
	    T(t_detach_releases_enabled),
	    T(t_detach_when_disable_refused),
	    T(t_enable_out_of_fds),
	    T(t_msix_bar_mappable_whole),
	    T(t_msix_mask_race),
	    T(t_msi_mask_race),
	    T(t_request_irq_marks_gone),
	    T(t_bar_rw_through_mmap),
	    T(t_bar_rw_through_pread),
	    T(t_bar_mmap_failure_falls_back),
	    T(t_bar_sparse_mmap_and_table_guard),
	    T(t_dma_map_unmap),
	    T(t_dma_iova_range_capability),
	    T(t_dma_shared_group_per_device),
	    T(t_dma_noiommu_enotsup),
	    T(t_reset_through_vfio),
	    T(t_reset_per_vector_mask_back),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0)
		rc = leave_open_at_exit();
	return rc; /* the temporary trees go in exit_check() */
}
