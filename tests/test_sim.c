/*
 * Unit tests of the simulator backend ("sim"): dump and topology loading,
 * register semantics, interrupt routing, fault injection, accounting,
 * function level reset and concurrency. The test drives the backend ops
 * (pcii_backend_sim.*) and the pcicap_sim_* calls directly; it is built
 * from lib/backends/sim.c, sim_parse.c, lib/log.c and lib/error.c only.
 *
 * Fixtures are found in $PCICAP_TEST_FIXTURES, default "fixtures".
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* mmap flags, strdup, strtok_r, eventfd */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <pcicap/sim.h>

#include "expected_caps.h"
#include "internal.h"

#define B (&pcii_backend_sim)

static void *ctx;

/* ------------------------------------------------------------- helpers */

static char last_log[1024];
static unsigned nlog;

static void log_fn(pcicap_log_level_t level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	nlog++;
}

static const char *fixtures(void)
{
	const char *f = getenv("PCICAP_TEST_FIXTURES");
	return f && *f ? f : "fixtures";
}

static const char *fx(const char *rel)
{
	static char buf[4][1024];
	static int k;
	char *b = buf[k++ % 4];
	snprintf(b, sizeof(buf[0]), "%s/%s", fixtures(), rel);
	return b;
}

static uint32_t rd(pci_bdf_t bdf, uint_t off, uint_t len)
{
	uint8_t b[4] = {0};
	assert_int_equal(B->cfg_read(ctx, bdf, off, b, len), PCI_ERR_OK);
	return pcii_le_get(b, len);
}

static void wr(pci_bdf_t bdf, uint_t off, uint_t len, uint32_t v)
{
	uint8_t b[4];
	pcii_le_put(b, len, v);
	assert_int_equal(B->cfg_write(ctx, bdf, off, b, len), PCI_ERR_OK);
}

static uint64_t brd(pci_bdf_t bdf, int bar, uint64_t off, uint_t len)
{
	uint8_t b[8] = {0};
	assert_int_equal(B->bar_read(ctx, bdf, bar, off, b, len), PCI_ERR_OK);
	uint64_t v = 0;
	for (uint_t i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void bwr(pci_bdf_t bdf, int bar, uint64_t off, uint_t len, uint64_t v)
{
	uint8_t b[8];
	pcii_le_put(b, len, v);
	assert_int_equal(B->bar_write(ctx, bdf, bar, off, b, len), PCI_ERR_OK);
}

static size_t ndevices(void)
{
	pcicap_backend_dev_t *d = NULL;
	size_t n = 99;
	assert_int_equal(B->scan(ctx, &d, &n), PCI_ERR_OK);
	free(d);
	return n;
}

static uint_t cfg_size_of(pci_bdf_t bdf)
{
	pcicap_backend_dev_t *d = NULL;
	size_t n = 0;
	uint_t sz = 0;
	assert_int_equal(B->scan(ctx, &d, &n), PCI_ERR_OK);
	for (size_t i = 0; i < n; i++)
		if (d[i].bdf == bdf)
			sz = d[i].cfg_size;
	free(d);
	return sz;
}

static char *write_tmp(const char *text)
{
	const char *tmp = getenv("TMPDIR");
	char *path = malloc(1024);
	assert_non_null(path);
	snprintf(path, 1024, "%s/pcicap-sim-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static uint64_t efd_read(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 0) != 1)
		return 0;
	uint64_t v = 0;
	assert_int_equal(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	return v;
}

/* Walk the standard capabilities through the backend (defensively). */
static unsigned walk(pci_bdf_t bdf, uint_t *offs, uint8_t *ids, unsigned max)
{
	unsigned n = 0;
	bool seen[256] = {false};
	if (!(rd(bdf, PCII_CFG_STATUS, 2) & PCII_STATUS_CAPLIST))
		return 0;
	uint_t p = rd(bdf, PCII_CFG_CAPPTR, 1) & 0xFC;
	while (p >= 0x40 && p < 0x100 && !seen[p] && n < max) {
		seen[p] = true;
		uint8_t id = (uint8_t)rd(bdf, p, 1);
		if (id == 0xFF)
			break;
		offs[n] = p;
		ids[n] = id;
		n++;
		p = rd(bdf, p + 1, 1) & 0xFC;
	}
	return n;
}

static unsigned xwalk(pci_bdf_t bdf, uint_t *offs, uint16_t *ids, uint8_t *vers, unsigned max)
{
	unsigned n = 0;
	bool seen[1024] = {false};
	uint_t p = 0x100;
	while (p >= 0x100 && p < 0x1000 && !seen[p / 4] && n < max) {
		seen[p / 4] = true;
		uint32_t h = rd(bdf, p, 4);
		if (h == 0 || h == 0xFFFFFFFF)
			break;
		offs[n] = p;
		ids[n] = h & 0xFFFF;
		vers[n] = (h >> 16) & 0xF;
		n++;
		p = (h >> 20) & 0xFFC;
	}
	return n;
}

static uint_t find_cap(pci_bdf_t bdf, uint8_t id)
{
	uint_t offs[48];
	uint8_t ids[48];
	unsigned n = walk(bdf, offs, ids, 48);
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return offs[i];
	return 0;
}

static int setup(void **state)
{
	(void)state;
	pcicap_sim_clear();
	last_log[0] = '\0';
	nlog = 0;
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	unsetenv("PCI_SIM_CONFIG");
	pci_verbosity = 1; /* errors reach log_fn */
	pcicap_set_log_handler(log_fn, NULL);
	return B->init(&ctx) == PCI_ERR_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	B->fini(ctx);
	return 0;
}

/* ------------------------------------------- dumps against EXPECTED.md */

static void verify_expected(const expect_t *e)
{
	pci_bdf_t bdf = e->bdf;
	assert_int_equal(B->present(ctx, bdf), PCI_ERR_OK);
	assert_int_equal(rd(bdf, 0, 2), e->vid);
	assert_int_equal(rd(bdf, 2, 2), e->did);
	assert_int_equal(rd(bdf, 8, 4) >> 8, e->ccode);
	assert_int_equal(rd(bdf, PCII_CFG_HDRTYPE, 1), e->hdr);
	assert_int_equal(cfg_size_of(bdf), e->cfg_size);

	uint_t offs[48];
	uint8_t ids[48];
	unsigned n = walk(bdf, offs, ids, 48), want = 0;
	while (want < 8 && e->caps[want][0])
		want++;
	assert_int_equal(n, want);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(offs[i], e->caps[i][0]);
		assert_int_equal(ids[i], e->caps[i][1]);
	}
	if (e->cfg_size == 4096) {
		uint_t xo[16];
		uint16_t xi[16];
		uint8_t xv[16];
		unsigned xn = xwalk(bdf, xo, xi, xv, 16), xwant = 0;
		while (xwant < 10 && e->xcaps[xwant].off)
			xwant++;
		assert_int_equal(xn, xwant);
		for (unsigned i = 0; i < xn; i++) {
			assert_int_equal(xo[i], e->xcaps[i].off);
			assert_int_equal(xi[i], e->xcaps[i].id);
			assert_int_equal(xv[i], e->xcaps[i].ver);
		}
	}
	if (e->msi_ctrl) {
		uint_t m = find_cap(bdf, PCII_CAPID_MSI);
		assert_int_equal(rd(bdf, m + 2, 2), e->msi_ctrl);
	}
	if (e->msix_ctrl) {
		uint_t x = find_cap(bdf, PCII_CAPID_MSIX);
		assert_int_equal(rd(bdf, x + 2, 2), e->msix_ctrl);
		assert_int_equal(rd(bdf, x + 4, 4), e->msix_table);
		assert_int_equal(rd(bdf, x + 8, 4), e->msix_pba);
		/* the table lives in the BAR named by the BIR, entries reset masked */
		int bir = e->msix_table & 7;
		uint32_t toff = e->msix_table & ~7u;
		uint_t nent = (e->msix_ctrl & 0x7FF) + 1;
		for (uint_t v = 0; v < nent; v++) {
			assert_int_equal(brd(bdf, bir, toff + 16 * v + 12, 4), 1);
			assert_int_equal(brd(bdf, bir, toff + 16 * v, 8), 0);
		}
	}
}

/* Each file on its own (two of them reuse 00:02.0): every function matches
 * EXPECTED.md, the file adds exactly its functions, a reload is EEXIST. */
static void test_dumps_match_expected(void **state)
{
	(void)state;
	unsigned files = 0;
	for (size_t i = 0; i < PCII_ARRAY_SIZE(expected); i++) {
		if (i && strcmp(expected[i].file, expected[i - 1].file) == 0)
			continue;
		files++;
		pcicap_sim_clear();
		char rel[256];
		snprintf(rel, sizeof(rel), "dumps/%s", expected[i].file);
		assert_int_equal(pcicap_sim_add_dump(fx(rel)), PCI_ERR_OK);
		size_t nfn = 0;
		for (size_t j = i; j < PCII_ARRAY_SIZE(expected) &&
				   strcmp(expected[j].file, expected[i].file) == 0;
		     j++, nfn++)
			verify_expected(&expected[j]);
		assert_int_equal(ndevices(), nfn);
		assert_int_equal(pcicap_sim_add_dump(fx(rel)), PCI_ERR_EEXIST);
		assert_int_equal(ndevices(), nfn);
	}
	assert_int_equal(files, 12);
}

/* Several dumps side by side (distinct addresses) through one topology. */
static void test_dumps_together(void **state)
{
	(void)state;
	char base[1024];
	snprintf(base, sizeof(base), "%s/dumps", fixtures());
	assert_int_equal(pcicap_sim_load_string("dump intel-82576-nic.txt\n"
						"dump intel-ich10-ahci.txt\n"
						"dump plx-pex9716-switch-port.txt\n"
						"dump mellanox-connectx3pro-nic.txt\n"
						"dump atheros-ar93xx-wifi.txt\n"
						"dump nvidia-gt218-gpu.txt\n"
						"dump intel-0b25-dsa.txt\n"
						"dump realtek-rtl8168-nic.txt\n"
						"dump intel-haswell-e-rootport.txt\n"
						"dump lsi-sas2008-hba.txt\n"
						"dump myricom-myri10g-nic.txt\n",
						base),
			 PCI_ERR_OK);
	assert_int_equal(ndevices(), 11);
	for (size_t i = 0; i < PCII_ARRAY_SIZE(expected); i++)
		if (strcmp(expected[i].file, "local-firecracker-virtio-vm.txt") != 0)
			verify_expected(&expected[i]);
	/* the firecracker VM reuses 00:02.0: the whole file is refused */
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/local-firecracker-virtio-vm.txt")),
			 PCI_ERR_EEXIST);
	assert_int_equal(ndevices(), 11);
}

static void test_dump_bytes_verbatim(void **state)
{
	(void)state;
	/* the image is the dump as-is: compare a few raw rows with the file */
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/intel-82576-nic.txt")), PCI_ERR_OK);
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	static const uint8_t row70[16] = {0x11, 0xa0, 0x09, 0x80, 0x03, 0x00, 0x00, 0x00,
					  0x03, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	static const uint8_t row140[16] = {0x03, 0x00, 0x01, 0x15, 0xe0, 0x46, 0x2b, 0xff,
					   0xff, 0x21, 0x1b, 0x00, 0x00, 0x00, 0x00, 0x00};
	uint8_t buf[16];
	assert_int_equal(pcicap_sim_peek_cfg(bdf, 0x70, buf, 16), PCI_ERR_OK);
	assert_memory_equal(buf, row70, 16);
	assert_int_equal(pcicap_sim_peek_cfg(bdf, 0x140, buf, 16), PCI_ERR_OK);
	assert_memory_equal(buf, row140, 16);
	assert_int_equal(rd(bdf, PCII_CFG_CMD, 2), 0x0407);
	/* -x dump: 64 bytes given, 256-byte space, rest reads 0 */
	assert_int_equal(pcicap_sim_add_dump(fx("sim/short-x.txt")), PCI_ERR_OK);
	pci_bdf_t s = PCICAP_BDF(2, 0, 3, 0);
	assert_int_equal(cfg_size_of(s), 256);
	assert_int_equal(rd(s, 0, 4), 0x56781234);
	assert_int_equal(rd(s, 0x2c, 4), 0x00011234);
	assert_int_equal(rd(s, 0x40, 4), 0);
	assert_int_equal(rd(s, 0xfc, 4), 0);
}

static void test_dump_bar_synthesis(void **state)
{
	(void)state;
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/intel-82576-nic.txt")), PCI_ERR_OK);
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	pci_ba_t ba;
	/* BAR3 holds the MSI-X table (0..0xa0) and PBA (0x2000): 16 KiB */
	assert_int_equal(B->bar_info(ctx, bdf, 3, &ba), PCI_ERR_OK);
	assert_int_equal(ba.type, pci_asType_e_MEM);
	assert_int_equal(ba.size, 16384);
	assert_int_equal(ba.addr, 0xe0840000u);
	/* BAR0 e0800000: size from the address alignment (8 MiB) */
	assert_int_equal(B->bar_info(ctx, bdf, 0, &ba), PCI_ERR_OK);
	assert_int_equal(ba.size, 8u << 20);
	/* BAR2 I/O 0x1020: 32 bytes */
	assert_int_equal(B->bar_info(ctx, bdf, 2, &ba), PCI_ERR_OK);
	assert_int_equal(ba.type, pci_asType_e_IO);
	assert_int_equal(ba.size, 32);
	assert_int_equal(ba.addr, 0x1020);
	/* BAR4/5 zero: unimplemented */
	assert_int_equal(B->bar_info(ctx, bdf, 5, &ba), PCI_ERR_OK);
	assert_int_equal(ba.type, pci_asType_e_NONE);
	/* expansion ROM c7800000: 8 MiB */
	assert_int_equal(B->bar_info(ctx, bdf, -1, &ba), PCI_ERR_OK);
	assert_int_equal(ba.type, pci_asType_e_MEM);
	assert_int_equal(ba.size, 8u << 20);
	assert_true(ba.attr & pci_asAttr_e_EXPANSION_ROM);
	wr(bdf, 0x30, 4, 0xFFFFFFFF);
	assert_int_equal(rd(bdf, 0x30, 4), 0xFF800001u);
	/* sizing of the synthesised BAR3 */
	wr(bdf, 0x1c, 4, 0xFFFFFFFF);
	assert_int_equal(rd(bdf, 0x1c, 4), 0xFFFFC000u);

	/* mellanox: BIR0, PBA at 0x7d000 + 32 bytes: 512 KiB */
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/mellanox-connectx3pro-nic.txt")),
			 PCI_ERR_OK);
	assert_int_equal(B->bar_info(ctx, PCI_BDF(3, 0, 0), 0, &ba), PCI_ERR_OK);
	assert_int_equal(ba.size, 512u << 10);
	/* firecracker virtio: 64-bit BAR0 above 4 GiB, 512 KiB */
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/local-firecracker-virtio-vm.txt")),
			 PCI_ERR_OK);
	assert_int_equal(B->bar_info(ctx, PCI_BDF(0, 2, 0), 0, &ba), PCI_ERR_OK);
	assert_int_equal(ba.size, 512u << 10);
	assert_int_equal(ba.addr, 0x4000080000ull);
	assert_true(ba.attr & pci_asAttr_e_64BIT);
	assert_int_equal(B->bar_info(ctx, PCI_BDF(0, 2, 0), 1, &ba), PCI_ERR_OK);
	assert_int_equal(ba.type, pci_asType_e_NONE);
	/* a big BAR is backed sparsely: far end reads and writes */
	assert_int_equal(B->bar_info(ctx, bdf, 1, &ba), PCI_ERR_OK);
	assert_int_equal(ba.size, 512u << 20);
	bwr(bdf, 1, ba.size - 8, 8, 0x1122334455667788ull);
	assert_int_equal(brd(bdf, 1, ba.size - 8, 8), 0x1122334455667788ull);
}

static void test_dump_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "00: 86 80 c9 10\n",             /* bytes before a header */
	    "01:00.0 Ethernet\n00: 86 8g\n", /* bad hex */
	    "01:00.0 Ethernet\n00: 86 80 c9 10 00 00 00 00 00 00 00 00 00 00 00 00 00\n",
	    "01:00.0 Ethernet\nff8: 00 00 00 00 00 00 00 00 00 00\n", /* beyond 4096 */
	    "01:00.0 Ethernet\n00: 86 80\nhello world\n",             /* garbage line */
	    "01:00.0 Ethernet\n02:00.0 Other\n00: 86 80\n",           /* header without bytes */
	    "01:00.0 Ethernet\n00: 8680\n",                           /* not byte tokens */
	    "01:20.0 Ethernet\n00: 86 80\n",                          /* device > 31 */
	    "01:00.0 Ethernet\n00:\n",                                /* offset without bytes */
	};
	for (size_t i = 0; i < PCII_ARRAY_SIZE(bad); i++) {
		char *p = write_tmp(bad[i]);
		nlog = 0;
		assert_int_equal(pcicap_sim_add_dump(p), PCI_ERR_EIO);
		assert_true(nlog > 0);
		assert_non_null(strstr(last_log, p)); /* names the file */
		assert_int_equal(ndevices(), 0);
		unlink(p);
		free(p);
	}
	/* a good function followed by a bad one: nothing is added */
	char *p = write_tmp("01:00.0 A\n00: 86 80 01 00\n\n02:00.0 B\n00: zz\n");
	assert_int_equal(pcicap_sim_add_dump(p), PCI_ERR_EIO);
	assert_non_null(strstr(last_log, ":5:"));
	assert_int_equal(ndevices(), 0);
	unlink(p);
	free(p);
	/* the same address twice in one file */
	p = write_tmp("01:00.0 A\n00: 86 80 01 00\n01:00.0 B\n00: 86 80 02 00\n");
	assert_int_equal(pcicap_sim_add_dump(p), PCI_ERR_EEXIST);
	assert_int_equal(ndevices(), 0);
	unlink(p);
	free(p);
	/* missing file */
	assert_int_equal(pcicap_sim_add_dump("/nonexistent/dump.txt"), PCI_ERR_ENOENT);
	/* a byte beyond 0xff makes a 4096-byte function; comments, CRLF, domain */
	p = write_tmp("# comment\r\n\r\n0003:0a:1f.7 X\r\n00: 86 80 01 00\r\n100: 01 00 01 00\r\n");
	assert_int_equal(pcicap_sim_add_dump(p), PCI_ERR_OK);
	pci_bdf_t bdf = PCICAP_BDF(3, 0x0a, 0x1f, 7);
	assert_int_equal(cfg_size_of(bdf), 4096);
	assert_int_equal(rd(bdf, 0x100, 4), 0x00010001);
	unlink(p);
	free(p);
}

/* Raw images are kept as they are, broken capability lists included. */
static void test_raw_image_kept(void **state)
{
	(void)state;
	uint8_t img[256] = {0x86, 0x80, 0x34, 0x12};
	img[PCII_CFG_STATUS] = PCII_STATUS_CAPLIST;
	img[PCII_CFG_CAPPTR] = 0x40;
	/* every dword a capability, the last looping back; a PCIe capability at
	 * 0x7c whose body overlaps the headers that follow it */
	for (unsigned k = 0; k < 48; k++) {
		img[0x40 + 4 * k] = (uint8_t)(k % 0x14 + 1);
		img[0x41 + 4 * k] = k == 47 ? 0x40 : (uint8_t)(0x44 + 4 * k);
	}
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(1, 0, 0), img, 256), PCI_ERR_OK);
	pci_bdf_t b = PCI_BDF(1, 0, 0);
	uint8_t now[256];
	assert_int_equal(pcicap_sim_peek_cfg(b, 0, now, 256), PCI_ERR_OK);
	assert_memory_equal(now, img, 256);
	uint_t offs[64];
	uint8_t ids[64];
	assert_int_equal(walk(b, offs, ids, 64), 48);
	/* every header stays RO, whatever body overlaps it */
	for (unsigned k = 0; k < 48; k++)
		wr(b, 0x40 + 4 * k, 2, 0);
	assert_int_equal(pcicap_sim_peek_cfg(b, 0, now, 256), PCI_ERR_OK);
	assert_memory_equal(now, img, 256);
}

/* --------------------------------------------------------------- topology */

static void check_topology(void)
{
	/* irqs 128 */
	pcicap_irq_msg_t m[128];
	assert_int_equal(B->irq_alloc(ctx, PCI_BDF(2, 0, 0), 128, 0, m), PCI_ERR_OK);
	assert_int_equal(m[127].irq, 256 + 127);
	pcicap_irq_msg_t one;
	assert_int_equal(B->irq_alloc(ctx, PCI_BDF(2, 0, 0), 1, 0, &one), PCI_ERR_IRQ_NOT_AVAIL);
	pci_irq_t irqs[128];
	for (int i = 0; i < 128; i++)
		irqs[i] = m[i].irq;
	assert_int_equal(B->irq_free(ctx, PCI_BDF(2, 0, 0), irqs, 128), PCI_ERR_OK);
	/* scope */
	assert_string_equal(B->scope(ctx, PCI_BDF(2, 0, 0)), "sim-test");
	assert_null(B->scope(ctx, PCI_BDF(9, 9, 0)));
	/* dumps: relative to the topology file */
	assert_int_equal(rd(PCI_BDF(1, 0, 0), 0, 4), 0x10c98086);
	assert_int_equal(rd(PCICAP_BDF(2, 0, 3, 0), 0, 4), 0x56781234);
	assert_int_equal(ndevices(), 5);

	/* the PCIe endpoint */
	pci_bdf_t e = PCI_BDF(2, 0, 0);
	assert_int_equal(rd(e, 0, 4), 0x15218086);
	assert_int_equal(rd(e, 8, 4), 0x02000003);
	assert_int_equal(rd(e, 0x2c, 4), 0x00018086);
	assert_int_equal(rd(e, PCII_CFG_HDRTYPE, 1), 0x80);
	assert_int_equal(cfg_size_of(e), 4096);
	assert_int_equal(rd(e, 0x100, 4), 0); /* empty extended list */
	pci_cs_t cs;
	assert_int_equal(B->chassis_slot(ctx, e, &cs), PCI_ERR_OK);
	assert_int_equal(cs, PCI_CS(1, 3));
	uint_t offs[8];
	uint8_t ids[8];
	assert_int_equal(walk(e, offs, ids, 8), 3);
	assert_int_equal(ids[0], PCII_CAPID_PCIE);
	assert_int_equal(offs[0], 0x40);
	assert_int_equal(ids[1], PCII_CAPID_MSI);
	assert_int_equal(ids[2], PCII_CAPID_MSIX);
	uint_t pcie = offs[0], msi = offs[1], msix = offs[2];
	assert_int_equal(rd(e, pcie + 2, 2) & 0xF, 2);        /* version 2 */
	assert_int_equal((rd(e, pcie + 2, 2) >> 4) & 0xF, 0); /* endpoint */
	assert_true(rd(e, pcie + 4, 4) & (1u << 28));         /* FLR */
	assert_int_equal(rd(e, msi + 2, 2), 0x0186);          /* 8 vectors, 64-bit, maskable */
	assert_int_equal(rd(e, msix + 2, 2), 9);
	assert_int_equal(rd(e, msix + 4, 4), 0x00000002);
	assert_int_equal(rd(e, msix + 8, 4), 0x00002002);
	/* BARs: sizes through config space, addresses as given */
	assert_int_equal(rd(e, 0x10, 4), 0xfe000000u);
	assert_int_equal(rd(e, 0x18, 4), 0x0000000cu);
	assert_int_equal(rd(e, 0x1c, 4), 0x20);
	assert_int_equal(rd(e, 0x20, 4), 0xe001);
	wr(e, 0x10, 4, 0xFFFFFFFF);
	assert_int_equal(rd(e, 0x10, 4), 0xFFFE0000u);
	wr(e, 0x20, 4, 0xFFFFFFFF);
	assert_int_equal(rd(e, 0x20, 4), 0xFFFFFFE1u);
	pci_ba_t ba;
	assert_int_equal(B->bar_info(ctx, e, 2, &ba), PCI_ERR_OK);
	assert_int_equal(ba.size, 16384);
	assert_int_equal(ba.addr, 0x2000000000ull);
	assert_int_equal(ba.attr, pci_asAttr_e_64BIT | pci_asAttr_e_PREFETCH);

	/* second function: defaults, MSI only, no PCIe */
	pci_bdf_t f1 = PCI_BDF(2, 0, 1);
	assert_int_equal(rd(f1, 0, 4), 0x00011234);
	assert_int_equal(rd(f1, 8, 4) >> 8, 0xff0000);
	assert_int_equal(cfg_size_of(f1), 256);
	assert_int_equal(walk(f1, offs, ids, 8), 1);
	assert_int_equal(ids[0], PCII_CAPID_MSI);
	assert_int_equal(rd(f1, offs[0] + 2, 2), 0x0000);
	assert_int_equal(B->bar_info(ctx, f1, 0, &ba), PCI_ERR_OK);
	assert_int_equal(ba.size, 4096);
	assert_int_equal(B->chassis_slot(ctx, f1, &cs), PCI_ERR_OK);
	assert_int_equal(cs, 0);

	/* bridge: header type 1, PCIe root port, slot 7, no BARs */
	pci_bdf_t br = PCI_BDF(0, 0x1c, 0);
	assert_int_equal(rd(br, PCII_CFG_HDRTYPE, 1), 0x01);
	assert_int_equal(walk(br, offs, ids, 8), 1);
	assert_int_equal((rd(br, offs[0] + 2, 2) >> 4) & 0xF, 4);
	assert_true(rd(br, offs[0] + 2, 2) & 0x100); /* slot implemented */
	assert_int_equal(rd(br, offs[0] + 0x14, 4) >> 19, 7);
	assert_int_equal(B->chassis_slot(ctx, br, &cs), PCI_ERR_OK);
	assert_int_equal(cs, PCI_CS(0, 7));
	wr(br, 0x18, 4, 0x00030201); /* bus numbers RW */
	assert_int_equal(rd(br, 0x18, 4), 0x00030201);
}

static void test_topology_file(void **state)
{
	(void)state;
	uint64_t gen = B->generation(ctx);
	assert_int_equal(pcicap_sim_load(fx("sim/topology.conf")), PCI_ERR_OK);
	assert_true(B->generation(ctx) != gen);
	check_topology();
	/* loading again: every address is taken */
	assert_int_equal(pcicap_sim_load(fx("sim/topology.conf")), PCI_ERR_EEXIST);
	assert_int_equal(ndevices(), 5);
}

static void test_topology_init_env(void **state)
{
	(void)state;
	B->fini(ctx);
	setenv("PCI_SIM_CONFIG", fx("sim/topology.conf"), 1);
	void *c = NULL;
	assert_int_equal(B->init(&c), PCI_ERR_OK);
	assert_non_null(c);
	check_topology();
	/* a bad file makes init fail with the loader's error */
	B->fini(c);
	char *p = write_tmp("device 00:01.0\nbogus line\n");
	setenv("PCI_SIM_CONFIG", p, 1);
	assert_int_equal(B->init(&c), PCI_ERR_EIO);
	assert_int_equal(ndevices(), 0);
	setenv("PCI_SIM_CONFIG", "/nonexistent/topo.conf", 1);
	assert_int_equal(B->init(&c), PCI_ERR_ENOENT);
	unlink(p);
	free(p);
	unsetenv("PCI_SIM_CONFIG");
	assert_int_equal(B->init(&ctx), PCI_ERR_OK);
	assert_int_equal(ndevices(), 0);
}

static void test_topology_string_and_sizes(void **state)
{
	(void)state;
	char base[1024];
	snprintf(base, sizeof(base), "%s/dumps", fixtures());
	assert_int_equal(
	    pcicap_sim_load_string("dump realtek-rtl8168-nic.txt  # relative\n"
				   "device 1:00.0 vendor=4660 device=0x10 subsys=abcd:ef01\n"
				   "\tbar 0 mem64 size=1M\n"
				   "   bar 2 mem32 size=0x800\n"
				   "device 7fFe:ff:1f.7 rev=255 class=0\n",
				   base),
	    PCI_ERR_OK);
	assert_int_equal(ndevices(), 3);
	assert_int_equal(rd(PCI_BDF(7, 0, 0), 0, 4), 0x816810ec);
	pci_bdf_t d = PCI_BDF(1, 0, 0);
	assert_int_equal(rd(d, 0, 4), 0x00101234);
	assert_int_equal(rd(d, 0x2c, 4), 0xef01abcd);
	wr(d, 0x10, 4, 0xFFFFFFFF);
	wr(d, 0x14, 4, 0xFFFFFFFF);
	assert_int_equal(rd(d, 0x10, 4), 0xFFF00004u);
	assert_int_equal(rd(d, 0x14, 4), 0xFFFFFFFFu);
	wr(d, 0x18, 4, 0xFFFFFFFF);
	assert_int_equal(rd(d, 0x18, 4), 0xFFFFF800u);
	pci_bdf_t last = PCICAP_BDF(0x7ffe, 0xff, 0x1f, 7);
	assert_int_equal(rd(last, 8, 4), 0x000000ff);
	assert_int_equal(B->present(ctx, last), PCI_ERR_OK);
	/* 1G-sized BAR with a G suffix */
	assert_int_equal(pcicap_sim_load_string("device 3:0.0\nbar 0 mem64 size=1G\n", NULL),
			 PCI_ERR_OK);
	wr(PCI_BDF(3, 0, 0), 0x10, 4, 0xFFFFFFFF);
	assert_int_equal(rd(PCI_BDF(3, 0, 0), 0x10, 4), 0xC0000004u);
}

static void test_topology_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		unsigned line;
		pci_err_t err;
	} bad[] = {
	    {"device 00:01.0\nfrobnicate 1\n", 2, PCI_ERR_EIO},
	    {"bar 0 mem32 size=4k\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0\n\nmsi vectors=1\nirqs 4\nmsix entries=1 table=0:0 pba=0:8\n", 5,
	     PCI_ERR_EIO},
	    {"device 00:01\n", 1, PCI_ERR_EIO},
	    {"device 3.0\n", 1, PCI_ERR_EIO},
	    {"device 1:2:3:4.0\n", 1, PCI_ERR_EIO},
	    {"device 100:00.0\n", 1, PCI_ERR_EIO},
	    {"device 00:01.8\n", 1, PCI_ERR_EIO},
	    {"device 8000:00:01.0\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0 vendor=0x10000\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0 vendor=\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0 colour=red\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0 slot=8:1\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0 class=0x1000000\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0 subsys=12345\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 6 mem32 size=4k\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem16 size=4k\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem32\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem32 size=4x\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem32 size=-4\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem32 size=4k\nbar 0 io size=4\n", 3, PCI_ERR_EIO},
	    {"device 00:01.0\nmsi\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nmsi vectors=64\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nmsi vectors=1\nmsi vectors=2\n", 3, PCI_ERR_EIO},
	    {"device 00:01.0\nmsix entries=4 table=0:0\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nmsix entries=2049 table=0:0 pba=0:0x8000\n", 2, PCI_ERR_EIO},
	    {"irqs 0\n", 1, PCI_ERR_EIO},
	    {"irqs 65537\n", 1, PCI_ERR_EIO},
	    {"irqs\n", 1, PCI_ERR_EIO},
	    {"scope a b\n", 1, PCI_ERR_EIO},
	    {"scope bad/name\n", 1, PCI_ERR_EIO},
	    {"dump\n", 1, PCI_ERR_EIO},
	    /* semantic problems are reported at the device line */
	    {"# c\ndevice 00:01.0\nbar 0 mem32 size=3\n", 2, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 io size=4 prefetch\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem32 size=4k addr=0x800\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 5 mem64 size=4k\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem64 size=4k\nbar 1 mem32 size=4k\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0\nmsi vectors=3\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 io size=256\nmsix entries=1 table=0:0 pba=0:0x80\n", 1,
	     PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem32 size=4k\nmsix entries=8 table=0:0 pba=0:0x40\n", 1,
	     PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem32 size=4k\nmsix entries=8 table=1:0 pba=0:0x800\n", 1,
	     PCI_ERR_EIO},
	    {"device 00:01.0\nbar 0 mem32 size=4k\nmsix entries=8 table=0:0xf88 pba=0:0x800\n", 1,
	     PCI_ERR_EIO},
	    {"device 00:01.0 flr\n", 1, PCI_ERR_EIO},
	    {"device 00:01.0 bridge\nbar 2 mem32 size=4k\n", 1, PCI_ERR_EIO},
	    /* a good device, then a broken one: nothing is added */
	    {"device 00:01.0\ndevice 00:02.0\nbar 0 mem32 size=4k\nbogus\n", 4, PCI_ERR_EIO},
	    {"device 00:01.0\ndevice 00:01.0\n", 0, PCI_ERR_EEXIST},
	    {"dump /nonexistent/file.txt\n", 1, PCI_ERR_ENOENT},
	};
	pcicap_irq_msg_t m;
	for (size_t i = 0; i < PCII_ARRAY_SIZE(bad); i++) {
		nlog = 0;
		last_log[0] = '\0';
		pci_err_t err = pcicap_sim_load_string(bad[i].text, NULL);
		if (err != bad[i].err)
			fail_msg("case %zu (%s): got %d, want %d", i, bad[i].text, err, bad[i].err);
		assert_int_equal(ndevices(), 0);
		assert_true(nlog > 0);
		if (bad[i].line) {
			char want[32];
			snprintf(want, sizeof(want), "<string>:%u:", bad[i].line);
			if (!strstr(last_log, want))
				fail_msg("case %zu: log '%s' lacks '%s'", i, last_log, want);
		}
	}
	/* settings of a failed load are not applied either */
	assert_int_equal(pcicap_sim_load_string("irqs 2\nscope x\ndevice 00:01.0\nbad\n", NULL),
			 PCI_ERR_EIO);
	assert_int_equal(pcicap_sim_load_string("device 00:01.0\n", NULL), PCI_ERR_OK);
	assert_null(B->scope(ctx, PCI_BDF(0, 1, 0)));
	pcicap_irq_msg_t many[64];
	assert_int_equal(B->irq_alloc(ctx, PCI_BDF(0, 1, 0), 64, 0, many), PCI_ERR_OK);
	assert_int_equal(B->irq_alloc(ctx, PCI_BDF(0, 1, 0), 1, 0, &m), PCI_ERR_IRQ_NOT_AVAIL);
	/* an address already present */
	assert_int_equal(pcicap_sim_load_string("device 00:02.0\ndevice 00:01.0\n", NULL),
			 PCI_ERR_EEXIST);
	assert_int_equal(ndevices(), 1);
	/* pool resize while IRQs are held */
	assert_int_equal(pcicap_sim_load_string("irqs 8\n", NULL), PCI_ERR_EAGAIN);
	/* file names in messages */
	char *p = write_tmp("device 00:03.0\n\n  \n# x\nbar 0 mem32 size=4k\nwat\n");
	assert_int_equal(pcicap_sim_load(p), PCI_ERR_EIO);
	char want[256];
	snprintf(want, sizeof(want), "%s:6:", p);
	assert_non_null(strstr(last_log, want));
	unlink(p);
	free(p);
	assert_int_equal(pcicap_sim_load("/nonexistent/topo.conf"), PCI_ERR_ENOENT);
}

/* ---------------------------------------------------------------- builder */

static void test_builder_validation(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	assert_int_equal(d.vid, 0x1234);
	assert_int_equal(d.did, 0x0001);
	assert_int_equal(d.ccode, 0xff0000);
	assert_int_equal(d.bar[0].kind, PCICAP_SIM_BAR_MEM32);

#define BAD(stmt)                                                                                  \
	do {                                                                                       \
		pcicap_sim_device_init(&d);                                                        \
		stmt;                                                                              \
		assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), &d), PCI_ERR_EINVAL);     \
	} while (0)
	BAD(d.bar[0].size = 3000);
	BAD(d.bar[0].size = 8);
	BAD(d.bar[0].addr = 0x100);
	BAD((d.bar[1].kind = PCICAP_SIM_BAR_IO, d.bar[1].size = 512));
	BAD((d.bar[1].kind = PCICAP_SIM_BAR_IO, d.bar[1].size = 2));
	BAD((d.bar[0].kind = PCICAP_SIM_BAR_MEM64, d.bar[1].kind = PCICAP_SIM_BAR_MEM32,
	     d.bar[1].size = 16));
	BAD((d.bar[5].kind = PCICAP_SIM_BAR_MEM64, d.bar[5].size = 4096));
	BAD(d.bar[0].kind = (pcicap_sim_bar_kind_t)7);
	BAD((d.bar[0].addr = 0xFFFFF000u, d.bar[0].size = 0x2000));
	BAD(d.hdr_type = 2);
	BAD((d.hdr_type = 1, d.bar[3].kind = PCICAP_SIM_BAR_MEM32, d.bar[3].size = 16));
	BAD(d.flr = true);
	BAD(d.msi.vectors = 3);
	BAD(d.msi.vectors = 64);
	BAD(d.msix.entries = 2049);
	BAD((d.msix.entries = 4, d.msix.table_bir = 1)); /* no BAR 1 */
	BAD((d.msix.entries = 4, d.msix.table_bir = 6));
	BAD((d.msix.entries = 4, d.msix.pba_off = 0x30)); /* overlaps table */
	BAD((d.msix.entries = 4, d.msix.pba_off = 0x44)); /* misaligned */
	BAD((d.msix.entries = 4, d.msix.table_off = 0xFF8, d.msix.pba_off = 0x100));
	BAD((d.msix.entries = 4, d.msix.pba_off = 0x1000)); /* PBA outside */
	BAD((d.bar[0].kind = PCICAP_SIM_BAR_MEM64, d.msix.entries = 4, d.msix.table_bir = 1,
	     d.msix.pba_off = 0x100)); /* upper half of a 64-bit BAR */
	BAD((d.bar[1].kind = PCICAP_SIM_BAR_IO, d.bar[1].size = 256, d.msix.entries = 4,
	     d.msix.pba_bir = 1));
	BAD(d.ccode = 0x1000000);
#undef BAD
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), NULL), PCI_ERR_EINVAL);
	assert_int_equal(ndevices(), 0);

	/* the largest MSI-X table, table and PBA in different BARs */
	pcicap_sim_device_init(&d);
	d.bar[0].size = 32768;
	d.bar[2].kind = PCICAP_SIM_BAR_MEM64;
	d.bar[2].size = 4096;
	d.msix.entries = 2048;
	d.msix.pba_bir = 2;
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), &d), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), &d), PCI_ERR_EEXIST);
	/* raw images */
	uint8_t img[4096] = {0x34, 0x12, 0x78, 0x56};
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(2, 0, 0), img, 100), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(2, 0, 0), NULL, 256), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(2, 0, 0), img, 256), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_add_config(PCICAP_BDF(5, 2, 0, 0), img, 4096), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(2, 0, 0), img, 256), PCI_ERR_EEXIST);
	assert_int_equal(cfg_size_of(PCI_BDF(2, 0, 0)), 256);
	assert_int_equal(cfg_size_of(PCICAP_BDF(5, 2, 0, 0)), 4096);
	assert_int_equal(ndevices(), 3);

	/* uids are unique and never reused */
	pcicap_backend_dev_t *devs;
	size_t n;
	assert_int_equal(B->scan(ctx, &devs, &n), PCI_ERR_OK);
	assert_int_equal(n, 3);
	uint64_t maxuid = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			assert_true(devs[i].uid != devs[j].uid);
		maxuid = PCII_MAX(maxuid, devs[i].uid);
	}
	free(devs);
	pcicap_sim_clear();
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(2, 0, 0), img, 256), PCI_ERR_OK);
	assert_int_equal(B->scan(ctx, &devs, &n), PCI_ERR_OK);
	assert_int_equal(n, 1);
	assert_true(devs[0].uid > maxuid);
	free(devs);
}

/* ------------------------------------------------------ register semantics */

static pci_bdf_t add_full_device(pci_bdf_t bdf)
{
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.pcie = true;
	d.flr = true;
	d.bar[0].size = 16384;
	d.bar[0].addr = 0xfe000000;
	d.bar[2].kind = PCICAP_SIM_BAR_MEM64;
	d.bar[2].size = 1ull << 33;
	d.bar[2].prefetch = true;
	d.bar[4].kind = PCICAP_SIM_BAR_IO;
	d.bar[4].size = 64;
	d.msi.vectors = 8;
	d.msi.addr64 = true;
	d.msi.maskable = true;
	d.msix.entries = 16;
	d.msix.table_bir = 0;
	d.msix.table_off = 0x2000;
	d.msix.pba_bir = 0;
	d.msix.pba_off = 0x3000;
	assert_int_equal(pcicap_sim_add_device(bdf, &d), PCI_ERR_OK);
	return bdf;
}

static void test_header_semantics(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	/* IDs, class, header type, cap pointer: RO */
	wr(b, 0, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, 0, 4), 0x00011234);
	wr(b, 8, 4, 0);
	assert_int_equal(rd(b, 8, 4), 0xff000000);
	wr(b, PCII_CFG_HDRTYPE, 1, 0x81);
	assert_int_equal(rd(b, PCII_CFG_HDRTYPE, 1), 0);
	wr(b, PCII_CFG_CAPPTR, 1, 0x80);
	assert_int_equal(rd(b, PCII_CFG_CAPPTR, 1), 0x40);
	wr(b, 0x2c, 4, 0x55555555);
	assert_int_equal(rd(b, 0x2c, 4), 0);
	/* Command: the documented RW bits */
	wr(b, PCII_CFG_CMD, 2, 0xFFFF);
	assert_int_equal(rd(b, PCII_CFG_CMD, 2), 0x077F);
	wr(b, PCII_CFG_CMD, 2, 0);
	assert_int_equal(rd(b, PCII_CFG_CMD, 2), 0);
	/* Status: writing does not set anything, CapList stays */
	wr(b, PCII_CFG_STATUS, 2, 0xFFFF);
	assert_int_equal(rd(b, PCII_CFG_STATUS, 2), PCII_STATUS_CAPLIST);
	/* cache line, latency, interrupt line RW; pin RO */
	wr(b, PCII_CFG_CLSIZE, 2, 0x4010);
	assert_int_equal(rd(b, PCII_CFG_CLSIZE, 2), 0x4010);
	wr(b, PCII_CFG_INTLINE, 2, 0x0505);
	assert_int_equal(rd(b, PCII_CFG_INTLINE, 2), 0x0105);

	/* RW1C status in a raw image */
	uint8_t img[256] = {0x86, 0x80, 0x01, 0x00};
	pcii_le_put(img + 6, 2, 0xF910 | 0x0200);
	img[PCII_CFG_CAPPTR] = 0;
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(2, 0, 0), img, 256), PCI_ERR_OK);
	pci_bdf_t r = PCI_BDF(2, 0, 0);
	wr(r, PCII_CFG_STATUS, 2, 0x8000);
	assert_int_equal(rd(r, PCII_CFG_STATUS, 2), 0x7B10);
	wr(r, PCII_CFG_STATUS, 2, 0x0000);
	assert_int_equal(rd(r, PCII_CFG_STATUS, 2), 0x7B10);
	wr(r, PCII_CFG_STATUS, 2, 0x7100);
	assert_int_equal(rd(r, PCII_CFG_STATUS, 2), 0x0A10);
	/* device-specific bytes outside capabilities: plain RW */
	wr(r, 0x40, 4, 0xA5A5A5A5);
	assert_int_equal(rd(r, 0x40, 4), 0xA5A5A5A5);
	wr(r, 0xFC, 4, 0x12345678);
	assert_int_equal(rd(r, 0xFC, 4), 0x12345678);
	/* raw images have no BARs when the BAR registers are zero */
	wr(r, 0x10, 4, 0xFFFFFFFF);
	assert_int_equal(rd(r, 0x10, 4), 0);
	uint8_t x;
	assert_int_equal(B->bar_read(ctx, r, 0, 0, &x, 1), PCI_ERR_EINVAL);
}

static void test_bar_sizing(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	assert_int_equal(rd(b, 0x10, 4), 0xfe000000u);
	wr(b, 0x10, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, 0x10, 4), 0xFFFFC000u);
	wr(b, 0x10, 4, 0xfe001234);
	assert_int_equal(rd(b, 0x10, 4), 0xfe000000u);
	/* 64-bit prefetchable, 8 GiB */
	assert_int_equal(rd(b, 0x18, 4), 0x0000000Cu);
	wr(b, 0x18, 4, 0xFFFFFFFF);
	wr(b, 0x1c, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, 0x18, 4), 0x0000000Cu);
	assert_int_equal(rd(b, 0x1c, 4), 0xFFFFFFFEu);
	wr(b, 0x1c, 4, 0x00000004);
	wr(b, 0x18, 4, 0);
	pci_ba_t ba;
	assert_int_equal(B->bar_info(ctx, b, 2, &ba), PCI_ERR_OK);
	assert_int_equal(ba.addr, 0x400000000ull);
	assert_int_equal(ba.size, 1ull << 33);
	assert_int_equal(B->bar_info(ctx, b, 3, &ba), PCI_ERR_OK);
	assert_int_equal(ba.type, pci_asType_e_NONE);
	/* I/O 64 bytes */
	assert_int_equal(rd(b, 0x20, 4), 1);
	wr(b, 0x20, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, 0x20, 4), 0xFFFFFFC1u);
	/* unimplemented BAR 5 and ROM */
	wr(b, 0x24, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, 0x24, 4), 0);
	wr(b, 0x30, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, 0x30, 4), 0);
	assert_int_equal(B->bar_info(ctx, b, -1, &ba), PCI_ERR_OK);
	assert_int_equal(ba.type, pci_asType_e_NONE);
	assert_int_equal(B->bar_info(ctx, b, 6, &ba), PCI_ERR_EINVAL);
	assert_int_equal(B->bar_info(ctx, b, -2, &ba), PCI_ERR_EINVAL);
	/* BAR memory: plain RW outside the MSI-X structures, bounds enforced */
	bwr(b, 0, 0x100, 4, 0xDEADBEEF);
	assert_int_equal(brd(b, 0, 0x100, 4), 0xDEADBEEF);
	assert_int_equal(brd(b, 0, 0x100, 2), 0xBEEF);
	uint8_t buf[8];
	assert_int_equal(B->bar_read(ctx, b, 0, 16384 - 4, buf, 8), PCI_ERR_EINVAL);
	assert_int_equal(B->bar_read(ctx, b, 0, 2, buf, 4), PCI_ERR_EINVAL);
	assert_int_equal(B->bar_read(ctx, b, 3, 0, buf, 4), PCI_ERR_EINVAL);
	assert_int_equal(B->bar_read(ctx, b, 0, 0, buf, 3), PCI_ERR_EINVAL);
	bwr(b, 4, 8, 4, 0x01020304);
	assert_int_equal(brd(b, 4, 8, 4), 0x01020304);
	/* bar_map: a live view */
	const volatile void *p;
	assert_int_equal(B->bar_map(ctx, b, 0, 0x100, 8, &p), PCI_ERR_OK);
	assert_int_equal(*(const volatile uint32_t *)p, 0xDEADBEEF);
	bwr(b, 0, 0x100, 4, 0xCAFEF00D);
	assert_int_equal(*(const volatile uint32_t *)p, 0xCAFEF00D);
	assert_int_equal(B->bar_unmap(ctx, b, p, 8), PCI_ERR_OK);
	assert_int_equal(B->bar_map(ctx, b, 0, 16380, 8, &p), PCI_ERR_EINVAL);
	assert_int_equal(B->bar_unmap(ctx, b, buf, 8), PCI_ERR_EINVAL);
}

static void test_msi_registers(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	uint_t m = find_cap(b, PCII_CAPID_MSI);
	assert_true(m);
	assert_int_equal(rd(b, m + 2, 2), 0x0186);
	/* enable + MME writable, MMC/64-bit/PVM RO */
	wr(b, m + 2, 2, 0xFFFF);
	assert_int_equal(rd(b, m + 2, 2), 0x01F7);
	wr(b, m + 2, 2, 0x0000);
	assert_int_equal(rd(b, m + 2, 2), 0x0186);
	/* cap header RO */
	wr(b, m, 2, 0xFFFF);
	assert_int_equal(rd(b, m, 2) & 0xFF, PCII_CAPID_MSI);
	/* address: bits 1:0 read 0; upper half RW (64-bit) */
	wr(b, m + 4, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, m + 4, 4), 0xFFFFFFFC);
	wr(b, m + 8, 4, 0x12345678);
	assert_int_equal(rd(b, m + 8, 4), 0x12345678);
	/* data 16 bits; extended data RO */
	wr(b, m + 0xC, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, m + 0xC, 4), 0x0000FFFF);
	/* mask: only the 8 capable vectors */
	wr(b, m + 0x10, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, m + 0x10, 4), 0xFF);
	/* pending: RO */
	wr(b, m + 0x14, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, m + 0x14, 4), 0);

	/* 32-bit, no per-vector masking, 2 vectors */
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 2;
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(2, 0, 0), &d), PCI_ERR_OK);
	pci_bdf_t c = PCI_BDF(2, 0, 0);
	m = find_cap(c, PCII_CAPID_MSI);
	assert_int_equal(rd(c, m + 2, 2), 0x0002);
	wr(c, m + 2, 2, 0x0071);
	assert_int_equal(rd(c, m + 2, 2), 0x0073);
	wr(c, m + 8, 2, 0xFFFF); /* data at +8 in the 32-bit layout */
	assert_int_equal(rd(c, m + 8, 2), 0xFFFF);
	wr(c, m + 4, 4, 0xFFFFFFFF);
	assert_int_equal(rd(c, m + 4, 4), 0xFFFFFFFC);

	/* plx dump: MMC 8, PVM; mask 0xfe as dumped; bits >= 8 RO */
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/plx-pex9716-switch-port.txt")), PCI_ERR_OK);
	pci_bdf_t p = PCI_BDF(5, 1, 0);
	assert_int_equal(rd(p, 0x58, 4), 0xfe);
	wr(p, 0x58, 4, 0xFFFF0F01);
	assert_int_equal(rd(p, 0x58, 4), 0x01);
	/* haswell dump: 32-bit with PVM, MMC 2 */
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/intel-haswell-e-rootport.txt")), PCI_ERR_OK);
	pci_bdf_t h = PCI_BDF(0, 2, 0);
	wr(h, 0x6c, 4, 0xFFFFFFFF);
	assert_int_equal(rd(h, 0x6c, 4), 0x3);
	wr(h, 0x70, 4, 0xFFFFFFFF);
	assert_int_equal(rd(h, 0x70, 4), 0);
}

static void test_msix_registers(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	uint_t x = find_cap(b, PCII_CAPID_MSIX);
	assert_int_equal(rd(b, x + 2, 2), 15);
	wr(b, x + 2, 2, 0xFFFF);
	assert_int_equal(rd(b, x + 2, 2), 0xC000 | 15);
	wr(b, x + 2, 2, 0x4000);
	assert_int_equal(rd(b, x + 2, 2), 0x4000 | 15);
	wr(b, x + 2, 2, 0);
	assert_int_equal(rd(b, x + 2, 2), 15);
	/* table/PBA offsets RO */
	wr(b, x + 4, 4, 0xFFFFFFFF);
	wr(b, x + 8, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, x + 4, 4), 0x2000);
	assert_int_equal(rd(b, x + 8, 4), 0x3000);
	/* entries reset masked with zero address/data */
	for (unsigned v = 0; v < 16; v++) {
		assert_int_equal(brd(b, 0, 0x2000 + 16 * v, 8), 0);
		assert_int_equal(brd(b, 0, 0x2000 + 16 * v + 8, 4), 0);
		assert_int_equal(brd(b, 0, 0x2000 + 16 * v + 12, 4), 1);
	}
	/* addr_lo bits 1:0 RO 0, addr_hi and data RW, vector control bit 0 only */
	bwr(b, 0, 0x2010, 4, 0xFFFFFFFF);
	bwr(b, 0, 0x2014, 4, 0xFFFFFFFF);
	bwr(b, 0, 0x2018, 4, 0xFFFFFFFF);
	bwr(b, 0, 0x201C, 4, 0xFFFFFFFE);
	assert_int_equal(brd(b, 0, 0x2010, 8), 0xFFFFFFFFFFFFFFFCull);
	assert_int_equal(brd(b, 0, 0x2018, 4), 0xFFFFFFFF);
	assert_int_equal(brd(b, 0, 0x201C, 4), 0);
	bwr(b, 0, 0x2018, 8, 0xFFFFFFFF12345678ull);
	assert_int_equal(brd(b, 0, 0x2018, 8), 0x0000000112345678ull);
	/* the PBA is read-only */
	bwr(b, 0, 0x3000, 8, ~0ull);
	assert_int_equal(brd(b, 0, 0x3000, 8), 0);
	uint64_t pv = 1;
	assert_int_equal(pcicap_sim_peek_bar(b, 0, 0x3000, &pv, 8), PCI_ERR_OK);
	assert_int_equal(pv, 0);
	/* just past the PBA: plain memory again */
	bwr(b, 0, 0x3008, 4, 0xABCD);
	assert_int_equal(brd(b, 0, 0x3008, 4), 0xABCD);
}

static void test_pcie_pm_ext_semantics(void **state)
{
	(void)state;
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/intel-82576-nic.txt")), PCI_ERR_OK);
	pci_bdf_t b = PCI_BDF(1, 0, 0);
	/* PCIe at 0xa0: DevCtl 0x2830 RW; DevSta 0x0019: bits 3:0 RW1C, bit 4 RO */
	assert_int_equal(rd(b, 0xa8, 2), 0x2830);
	assert_int_equal(rd(b, 0xaa, 2), 0x0019);
	wr(b, 0xaa, 2, 0xFFFF);
	assert_int_equal(rd(b, 0xaa, 2), 0x0010);
	wr(b, 0xa8, 2, 0x7FFF);
	assert_int_equal(rd(b, 0xa8, 2), 0x7FFF);
	wr(b, 0xa8, 2, 0x2830);
	/* DevCap, LnkCap, LnkSta RO; LnkCtl RW */
	uint32_t devcap = rd(b, 0xa4, 4);
	wr(b, 0xa4, 4, ~devcap);
	assert_int_equal(rd(b, 0xa4, 4), devcap);
	wr(b, 0xb0, 2, 0x0043);
	assert_int_equal(rd(b, 0xb0, 2), 0x0043);
	uint32_t lnksta = rd(b, 0xb2, 2);
	wr(b, 0xb2, 2, ~lnksta & 0xFFFF);
	assert_int_equal(rd(b, 0xb2, 2), lnksta);
	/* PM at 0x40: PMCSR 0x44 power state RW, PMC RO */
	uint32_t pmc = rd(b, 0x42, 2);
	wr(b, 0x42, 2, 0);
	assert_int_equal(rd(b, 0x42, 2), pmc);
	wr(b, 0x44, 2, 0x0003);
	assert_int_equal(rd(b, 0x44, 2) & 3, 3);
	wr(b, 0x44, 2, 0x0000);
	assert_int_equal(rd(b, 0x44, 2) & 3, 0);
	/* extended capability headers RO, bodies RW */
	wr(b, 0x100, 4, 0);
	assert_int_equal(rd(b, 0x100, 4), 0x14010001);
	wr(b, 0x140, 4, 0xFFFFFFFF);
	assert_int_equal(rd(b, 0x140, 4), 0x15010003);
	wr(b, 0x104, 4, 0x5A5A5A5A);
	assert_int_equal(rd(b, 0x104, 4), 0x5A5A5A5A);
	wr(b, 0xFFC, 4, 0x01020304);
	assert_int_equal(rd(b, 0xFFC, 4), 0x01020304);

	/* PME_Status RW1C in a raw image */
	uint8_t img[256] = {0x86, 0x80, 0x01, 0x00};
	img[PCII_CFG_STATUS] = PCII_STATUS_CAPLIST;
	img[PCII_CFG_CAPPTR] = 0x40;
	img[0x40] = PCII_CAPID_PM;
	pcii_le_put(img + 0x42, 2, 0xC803);
	pcii_le_put(img + 0x44, 2, 0x8100);
	assert_int_equal(pcicap_sim_add_config(PCI_BDF(2, 0, 0), img, 256), PCI_ERR_OK);
	pci_bdf_t r = PCI_BDF(2, 0, 0);
	wr(r, 0x44, 2, 0x0002);
	assert_int_equal(rd(r, 0x44, 2), 0x8002);
	wr(r, 0x44, 2, 0x8000);
	assert_int_equal(rd(r, 0x44, 2), 0x0000);
	/* cap header RO */
	wr(r, 0x40, 2, 0x5555);
	assert_int_equal(rd(r, 0x40, 2), 0x0001);
}

/* ------------------------------------------------------------- interrupts */

/* Program the MSI capability of @p b as a driver would. */
static void msi_program(pci_bdf_t b, const pcicap_irq_msg_t *msg, unsigned mme, bool addr64)
{
	uint_t m = find_cap(b, PCII_CAPID_MSI);
	uint16_t ctrl = (uint16_t)rd(b, m + 2, 2);
	wr(b, m + 4, 4, (uint32_t)msg->addr);
	uint_t data_off = m + 8;
	if (ctrl & 0x80) {
		wr(b, m + 8, 4, addr64 ? (uint32_t)(msg->addr >> 32) : 0);
		data_off = m + 0xC;
	}
	wr(b, data_off, 2, msg->data);
	wr(b, m + 2, 2, (uint16_t)(mme << 4));
	wr(b, m + 2, 2, (uint16_t)((mme << 4) | 1));
	wr(b, PCII_CFG_CMD, 2, rd(b, PCII_CFG_CMD, 2) | PCII_CMD_MASTER);
}

static void test_msi_delivery_64(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	pcicap_irq_msg_t msg[4];
	assert_int_equal(B->irq_alloc(ctx, b, 4, PCICAP_IRQ_CONTIG | PCICAP_IRQ_ADDR64, msg),
			 PCI_ERR_OK);
	for (int i = 0; i < 4; i++) {
		assert_true(msg[i].irq >= 256);
		assert_int_equal(msg[i].addr, msg[0].addr);
		assert_int_equal(msg[i].data, msg[0].data + (uint32_t)i);
		assert_true(msg[i].addr >> 32 == 1);
	}
	assert_int_equal(msg[0].data % 4, 0);
	int fd0 = B->irq_fd(ctx, msg[0].irq);
	int fd3 = B->irq_fd(ctx, msg[3].irq);
	assert_true(fd0 >= 0 && fd3 >= 0);
	msi_program(b, &msg[0], 2, true);
	for (unsigned v = 0; v < 4; v++)
		assert_int_equal(pcicap_sim_raise(b, v), PCI_ERR_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pcicap_sim_irq_count(msg[i].irq), 1);
	/* vectors beyond the enabled count alias onto the enabled ones */
	assert_int_equal(pcicap_sim_raise(b, 7), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_irq_count(msg[3].irq), 2);
	assert_int_equal(efd_read(fd0), 1);
	assert_int_equal(efd_read(fd3), 2);
	assert_int_equal(efd_read(fd3), 0);
	/* beyond the capable count */
	assert_int_equal(pcicap_sim_raise(b, 8), PCI_ERR_EINVAL);
	pcicap_sim_counters_t c;
	assert_int_equal(pcicap_sim_get_counters(b, &c), PCI_ERR_OK);
	assert_int_equal(c.irqs_delivered, 5);
	assert_int_equal(c.stray_msgs, 0);
	/* the library dropping the upper address half: lost */
	uint_t m = find_cap(b, PCII_CAPID_MSI);
	wr(b, m + 8, 4, 0);
	assert_int_equal(pcicap_sim_raise(b, 0), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_irq_count(msg[0].irq), 1);
	assert_int_equal(pcicap_sim_get_counters(b, &c), PCI_ERR_OK);
	assert_int_equal(c.stray_msgs, 1);
	assert_int_equal(efd_read(fd0), 0);
}

static void test_msi_delivery_32_multi(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 32;
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), &d), PCI_ERR_OK);
	pci_bdf_t b = PCI_BDF(1, 0, 0);
	pcicap_irq_msg_t one, msg[16];
	assert_int_equal(B->irq_alloc(ctx, b, 1, 0, &one), PCI_ERR_OK);
	assert_int_equal(B->irq_alloc(ctx, b, 16, PCICAP_IRQ_CONTIG, msg), PCI_ERR_OK);
	/* aligned block after the single one: pool indexes 16..31 */
	assert_int_equal(msg[0].irq, 256 + 16);
	assert_true(msg[0].addr < (1ull << 32));
	assert_int_equal(msg[0].data % 16, 0);
	msi_program(b, &msg[0], 4, false);
	for (unsigned v = 0; v < 16; v++)
		pcicap_sim_raise(b, v);
	for (unsigned v = 0; v < 16; v++)
		assert_int_equal(pcicap_sim_irq_count(msg[v].irq), 1);
	assert_int_equal(pcicap_sim_irq_count(one.irq), 0);
	/* the driver programming the wrong data: misrouted to another IRQ */
	uint_t m = find_cap(b, PCII_CAPID_MSI);
	wr(b, m + 8, 2, one.data);
	wr(b, m + 2, 2, 0x0001); /* MME 0: one vector */
	pcicap_sim_raise(b, 5);  /* aliases to vector 0 */
	assert_int_equal(pcicap_sim_irq_count(one.irq), 1);
	/* address off by a page: stray */
	wr(b, m + 4, 4, (uint32_t)one.addr + 0x1000);
	pcicap_sim_raise(b, 0);
	pcicap_sim_counters_t c;
	pcicap_sim_get_counters(b, &c);
	assert_int_equal(c.stray_msgs, 1);
	assert_int_equal(c.irqs_delivered, 17);
}

static void test_msi_pending(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 8;
	d.msi.addr64 = true;
	d.msi.maskable = true;
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), &d), PCI_ERR_OK);
	pci_bdf_t b = PCI_BDF(1, 0, 0);
	uint_t m = find_cap(b, PCII_CAPID_MSI);
	pcicap_irq_msg_t msg[8];
	assert_int_equal(B->irq_alloc(ctx, b, 8, PCICAP_IRQ_CONTIG | PCICAP_IRQ_ADDR64, msg),
			 PCI_ERR_OK);
	/* disabled: raise sets the internal pending flag (and the register) */
	assert_int_equal(pcicap_sim_raise(b, 2), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_irq_count(msg[2].irq), 0);
	assert_int_equal(rd(b, m + 0x14, 4), 0x4);
	wr(b, m + 0x10, 4, 0x4); /* masked before enabling */
	msi_program(b, &msg[0], 3, true);
	assert_int_equal(pcicap_sim_irq_count(msg[2].irq), 0);
	assert_int_equal(rd(b, m + 0x14, 4), 0x4);
	/* unmask: delivered, pending cleared */
	wr(b, m + 0x10, 4, 0);
	assert_int_equal(pcicap_sim_irq_count(msg[2].irq), 1);
	assert_int_equal(rd(b, m + 0x14, 4), 0);
	/* masked vector while enabled */
	wr(b, m + 0x10, 4, 0x81);
	pcicap_sim_raise(b, 0);
	pcicap_sim_raise(b, 0); /* coalesces */
	pcicap_sim_raise(b, 7);
	pcicap_sim_raise(b, 1);
	assert_int_equal(rd(b, m + 0x14, 4), 0x81);
	assert_int_equal(pcicap_sim_irq_count(msg[1].irq), 1);
	wr(b, m + 0x10, 4, 0x80);
	assert_int_equal(pcicap_sim_irq_count(msg[0].irq), 1);
	assert_int_equal(pcicap_sim_irq_count(msg[7].irq), 0);
	assert_int_equal(rd(b, m + 0x14, 4), 0x80);
	wr(b, m + 0x10, 1, 0x00);
	assert_int_equal(pcicap_sim_irq_count(msg[7].irq), 1);
	/* bus mastering off: held pending, delivered when it is turned on */
	wr(b, PCII_CFG_CMD, 2, 0);
	pcicap_sim_raise(b, 3);
	assert_int_equal(pcicap_sim_irq_count(msg[3].irq), 0);
	wr(b, PCII_CFG_CMD, 2, PCII_CMD_MASTER);
	assert_int_equal(pcicap_sim_irq_count(msg[3].irq), 1);
	/* disable, raise, enable */
	wr(b, m + 2, 2, 0x0030);
	pcicap_sim_raise(b, 4);
	assert_int_equal(pcicap_sim_irq_count(msg[4].irq), 0);
	wr(b, m + 2, 2, 0x0031);
	assert_int_equal(pcicap_sim_irq_count(msg[4].irq), 1);
	pcicap_sim_counters_t c;
	pcicap_sim_get_counters(b, &c);
	assert_int_equal(c.irqs_delivered, 6);
	assert_int_equal(c.stray_msgs, 0);
}

/* Program MSI-X entries 0..n-1 with msg[], enable, unmask the function. */
static void msix_program(pci_bdf_t b, int bir, uint32_t toff, const pcicap_irq_msg_t *msg,
			 unsigned n)
{
	uint_t x = find_cap(b, PCII_CAPID_MSIX);
	wr(b, x + 2, 2, 0x4000); /* function mask */
	for (unsigned v = 0; v < n; v++) {
		bwr(b, bir, toff + 16 * v, 4, (uint32_t)msg[v].addr);
		bwr(b, bir, toff + 16 * v + 4, 4, (uint32_t)(msg[v].addr >> 32));
		bwr(b, bir, toff + 16 * v + 8, 4, msg[v].data);
	}
	wr(b, x + 2, 2, 0xC000);
	wr(b, PCII_CFG_CMD, 2, rd(b, PCII_CFG_CMD, 2) | PCII_CMD_MASTER);
	wr(b, x + 2, 2, 0x8000);
}

static void test_msix_delivery(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	uint_t x = find_cap(b, PCII_CAPID_MSIX);
	pcicap_irq_msg_t msg[16];
	assert_int_equal(B->irq_alloc(ctx, b, 16, PCICAP_IRQ_ADDR64, msg), PCI_ERR_OK);
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < i; j++)
			assert_false(msg[i].addr == msg[j].addr && msg[i].data == msg[j].data);
	/* not enabled yet: raise goes pending in the PBA */
	assert_int_equal(pcicap_sim_raise(b, 5), PCI_ERR_OK);
	assert_int_equal(brd(b, 0, 0x3000, 8), 1u << 5);
	msix_program(b, 0, 0x2000, msg, 16);
	/* entries are still masked: nothing delivered yet */
	assert_int_equal(pcicap_sim_irq_count(msg[5].irq), 0);
	for (unsigned v = 0; v < 16; v++)
		pcicap_sim_raise(b, v);
	assert_int_equal(brd(b, 0, 0x3000, 8), 0xFFFF);
	/* unmask entry 5 and 9 */
	bwr(b, 0, 0x2000 + 16 * 5 + 12, 4, 0);
	bwr(b, 0, 0x2000 + 16 * 9 + 12, 4, 0);
	assert_int_equal(pcicap_sim_irq_count(msg[5].irq), 1);
	assert_int_equal(pcicap_sim_irq_count(msg[9].irq), 1);
	assert_int_equal(brd(b, 0, 0x3000, 8), 0xFFFF & ~((1u << 5) | (1u << 9)));
	/* unmasked: direct delivery */
	pcicap_sim_raise(b, 5);
	assert_int_equal(pcicap_sim_irq_count(msg[5].irq), 2);
	/* function mask holds everything pending */
	wr(b, x + 2, 2, 0xC000);
	pcicap_sim_raise(b, 9);
	assert_int_equal(pcicap_sim_irq_count(msg[9].irq), 1);
	assert_int_equal(brd(b, 0, 0x3000, 8) & (1u << 9), 1u << 9);
	wr(b, x + 2, 2, 0x8000);
	assert_int_equal(pcicap_sim_irq_count(msg[9].irq), 2);
	/* unmask all (8-byte writes over data + control) */
	for (unsigned v = 0; v < 16; v++)
		bwr(b, 0, 0x2000 + 16 * v + 8, 8, msg[v].data);
	for (unsigned v = 0; v < 16; v++)
		assert_true(pcicap_sim_irq_count(msg[v].irq) >= 1);
	assert_int_equal(brd(b, 0, 0x3000, 8), 0);
	/* disabled: pending until enabled */
	wr(b, x + 2, 2, 0x0000);
	pcicap_sim_raise(b, 0);
	assert_int_equal(pcicap_sim_irq_count(msg[0].irq), 1);
	assert_int_equal(brd(b, 0, 0x3000, 8), 1);
	wr(b, x + 2, 2, 0x8000);
	assert_int_equal(pcicap_sim_irq_count(msg[0].irq), 2);
	/* a misprogrammed entry (upper address half missing): stray */
	bwr(b, 0, 0x2000 + 16 * 3 + 4, 4, 0);
	pcicap_sim_raise(b, 3);
	pcicap_sim_counters_t c;
	pcicap_sim_get_counters(b, &c);
	assert_int_equal(c.stray_msgs, 1);
	assert_int_equal(pcicap_sim_irq_count(msg[3].irq), 1);
	/* MSI-X enabled wins over MSI; bad vector */
	assert_int_equal(pcicap_sim_raise(b, 16), PCI_ERR_EINVAL);
	/* eventfd created after the fact carries the count so far */
	int fd = B->irq_fd(ctx, msg[5].irq);
	assert_true(fd >= 0);
	assert_int_equal(B->irq_fd(ctx, msg[5].irq), fd);
	assert_int_equal(efd_read(fd), 2);
	pcicap_sim_raise(b, 5);
	pcicap_sim_raise(b, 5);
	assert_int_equal(efd_read(fd), 2);
	/* freeing closes it */
	pci_irq_t irq5 = msg[5].irq;
	assert_int_equal(B->irq_free(ctx, b, &irq5, 1), PCI_ERR_OK);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(B->irq_fd(ctx, irq5), -1);
	assert_int_equal(errno, EINVAL);
	/* the freed IRQ's message is now stray */
	pcicap_sim_raise(b, 5);
	pcicap_sim_get_counters(b, &c);
	assert_int_equal(c.stray_msgs, 2);
}

static void test_raise_errors_and_choice(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), &d), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_raise(PCI_BDF(1, 0, 0), 0), PCI_ERR_EINVAL); /* no caps */
	assert_int_equal(pcicap_sim_raise(PCI_BDF(9, 0, 0), 0), PCI_ERR_ENODEV);
	pci_bdf_t b = add_full_device(PCI_BDF(2, 0, 0));
	/* neither enabled: MSI-X is used (PBA bit) */
	pcicap_sim_raise(b, 1);
	assert_int_equal(brd(b, 0, 0x3000, 8), 2);
	uint_t m = find_cap(b, PCII_CAPID_MSI);
	assert_int_equal(rd(b, m + 0x14, 4), 0);
	/* MSI enabled: MSI is used */
	pcicap_irq_msg_t msg;
	assert_int_equal(B->irq_alloc(ctx, b, 1, PCICAP_IRQ_ADDR64, &msg), PCI_ERR_OK);
	msi_program(b, &msg, 0, true);
	pcicap_sim_raise(b, 0);
	assert_int_equal(pcicap_sim_irq_count(msg.irq), 1);
	/* removed */
	assert_int_equal(pcicap_sim_set_removed(b, true), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_raise(b, 0), PCI_ERR_ENODEV);
	assert_int_equal(pcicap_sim_set_removed(b, false), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_raise(b, 0), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_irq_count(msg.irq), 2);
}

static void test_irq_pool(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	pci_bdf_t o = add_full_device(PCI_BDF(2, 0, 0));
	assert_int_equal(pcicap_sim_set_irqs(0), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_set_irqs(65537), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_set_irqs(8), PCI_ERR_OK);
	pcicap_irq_msg_t m[8], x;
	/* CONTIG requires a power of two <= 32 */
	assert_int_equal(B->irq_alloc(ctx, b, 3, PCICAP_IRQ_CONTIG, m), PCI_ERR_EINVAL);
	assert_int_equal(B->irq_alloc(ctx, b, 64, PCICAP_IRQ_CONTIG, m), PCI_ERR_EINVAL);
	assert_int_equal(B->irq_alloc(ctx, b, 0, 0, m), PCI_ERR_EINVAL);
	assert_int_equal(B->irq_alloc(ctx, PCI_BDF(9, 0, 0), 1, 0, m), PCI_ERR_ENODEV);
	/* one single, then a block of 4 at an aligned base (4..7) */
	assert_int_equal(B->irq_alloc(ctx, b, 1, 0, &x), PCI_ERR_OK);
	assert_int_equal(x.irq, 256);
	assert_int_equal(B->irq_alloc(ctx, b, 4, PCICAP_IRQ_CONTIG, m), PCI_ERR_OK);
	assert_int_equal(m[0].irq, 260);
	assert_int_equal(m[3].irq, 263);
	/* no aligned block of 4 left (free: 1,2,3): all or nothing */
	assert_int_equal(B->irq_alloc(ctx, o, 4, PCICAP_IRQ_CONTIG, m + 4), PCI_ERR_IRQ_NOT_AVAIL);
	assert_int_equal(B->irq_alloc(ctx, o, 4, 0, m + 4), PCI_ERR_IRQ_NOT_AVAIL);
	assert_int_equal(B->irq_alloc(ctx, o, 2, PCICAP_IRQ_CONTIG, m + 4), PCI_ERR_OK);
	assert_int_equal(m[4].irq, 258);
	assert_int_equal(B->irq_alloc(ctx, o, 1, 0, m + 6), PCI_ERR_OK);
	assert_int_equal(m[6].irq, 257);
	assert_int_equal(B->irq_alloc(ctx, o, 1, 0, m + 7), PCI_ERR_IRQ_NOT_AVAIL);
	/* pool resize refused while held */
	assert_int_equal(pcicap_sim_set_irqs(16), PCI_ERR_EAGAIN);
	/* free: only the owner, all checked first */
	pci_irq_t mix[2] = {m[0].irq, m[4].irq};
	assert_int_equal(B->irq_free(ctx, b, mix, 2), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_irq_count(m[0].irq), 0);
	pci_irq_t dup[2] = {m[0].irq, m[0].irq};
	assert_int_equal(B->irq_free(ctx, b, dup, 2), PCI_ERR_EINVAL);
	pci_irq_t bad = 999;
	assert_int_equal(B->irq_free(ctx, b, &bad, 1), PCI_ERR_EINVAL);
	/* still allocated: pool is full */
	assert_int_equal(B->irq_alloc(ctx, o, 1, 0, m + 7), PCI_ERR_IRQ_NOT_AVAIL);
	pci_irq_t mine[5] = {x.irq, m[0].irq, m[1].irq, m[2].irq, m[3].irq};
	assert_int_equal(B->irq_free(ctx, b, mine, 5), PCI_ERR_OK);
	/* already free: refused, and said at WARN level (a double free in the
	 * library shows up in the tests that listen) */
	pci_verbosity = PCICAP_LOG_WARN;
	unsigned before = nlog;
	assert_int_equal(B->irq_free(ctx, b, mine, 1), PCI_ERR_EINVAL);
	pci_verbosity = 1;
	assert_int_equal(nlog, before + 1);
	assert_non_null(strstr(last_log, "irq_free refused"));
	/* messages: distinct; ADDR64 adds bit 32 */
	uint64_t a;
	uint32_t dt;
	assert_int_equal(pcicap_sim_irq_msg(256 + 37, &a, &dt), PCI_ERR_EINVAL); /* pool of 8 */
	assert_int_equal(pcicap_sim_irq_msg(255, &a, &dt), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_irq_msg(257, &a, &dt), PCI_ERR_OK);
	assert_int_equal(a, 0xFEE00000u);
	assert_int_equal(dt, 0x4001);
	pci_irq_t rest[3] = {m[4].irq, m[5].irq, m[6].irq};
	assert_int_equal(B->irq_free(ctx, o, rest, 3), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_set_irqs(65536), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_irq_msg(256 + 65535, &a, &dt), PCI_ERR_OK);
	assert_int_equal(a, 0xFEE00000u + (2047u << 12));
	assert_int_equal(dt, 0x4000 + 31);
	pcicap_irq_msg_t m64;
	assert_int_equal(B->irq_alloc(ctx, b, 1, PCICAP_IRQ_ADDR64, &m64), PCI_ERR_OK);
	assert_int_equal(m64.addr, 0x1FEE00000ull);
	assert_int_equal(pcicap_sim_irq_msg(m64.irq, &a, &dt), PCI_ERR_OK);
	assert_int_equal(a, m64.addr);
	assert_int_equal(B->irq_fd(ctx, 256 + 70000), -1);
	/* clear resets the pool to 64 */
	pcicap_sim_clear();
	assert_int_equal(pcicap_sim_irq_msg(256 + 64, &a, &dt), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_irq_msg(256 + 63, &a, &dt), PCI_ERR_OK);
}

static void test_msix_2048_lazy_fds(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.bar[0].size = 65536;
	d.msix.entries = 2048;
	d.msix.pba_off = 0x8000;
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), &d), PCI_ERR_OK);
	pci_bdf_t b = PCI_BDF(1, 0, 0);
	assert_int_equal(pcicap_sim_set_irqs(4096), PCI_ERR_OK);
	pcicap_irq_msg_t *m = calloc(2048, sizeof(*m));
	assert_int_equal(B->irq_alloc(ctx, b, 2048, 0, m), PCI_ERR_OK);
	for (unsigned v = 0; v < 2048; v++) {
		bwr(b, 0, 16 * v, 8, m[v].addr);
		bwr(b, 0, 16 * v + 8, 8, m[v].data); /* unmasked */
	}
	uint_t x = find_cap(b, PCII_CAPID_MSIX);
	wr(b, x + 2, 2, 0x8000);
	for (unsigned v = 0; v < 2048; v++)
		pcicap_sim_raise(b, v); /* BME off: all pending */
	assert_int_equal(brd(b, 0, 0x8000 + 8 * 31, 8), ~0ull);
	wr(b, PCII_CFG_CMD, 2, PCII_CMD_MASTER); /* flushes 2048 pending vectors */
	pcicap_sim_counters_t c;
	pcicap_sim_get_counters(b, &c);
	assert_int_equal(c.irqs_delivered, 2048);
	assert_int_equal(brd(b, 0, 0x8000, 8), 0);
	for (unsigned v = 0; v < 2048; v += 97)
		assert_int_equal(pcicap_sim_irq_count(m[v].irq), 1);
	int fd = B->irq_fd(ctx, m[2047].irq);
	assert_int_equal(efd_read(fd), 1);
	pci_irq_t *irqs = calloc(2048, sizeof(*irqs));
	for (unsigned v = 0; v < 2048; v++)
		irqs[v] = m[v].irq;
	assert_int_equal(B->irq_free(ctx, b, irqs, 2048), PCI_ERR_OK);
	free(irqs);
	free(m);
}

/* ---------------------------------------------------------- fault injection */

static void test_removal_holdoff(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	wr(b, 0x80 + 0x40, 4, 0x11223344); /* scratch: plain RW outside caps */
	assert_int_equal(pcicap_sim_set_removed(b, true), PCI_ERR_OK);
	assert_int_equal(B->present(ctx, b), PCI_ERR_ENODEV);
	assert_int_equal(rd(b, 0, 4), 0xFFFFFFFF);
	assert_int_equal(rd(b, 0xC0, 4), 0xFFFFFFFF);
	wr(b, 0xC0, 4, 0);
	assert_int_equal(brd(b, 0, 0x100, 8), ~0ull);
	bwr(b, 0, 0x100, 4, 0x1234);
	assert_int_equal(pcicap_sim_set_removed(b, false), PCI_ERR_OK);
	assert_int_equal(B->present(ctx, b), PCI_ERR_OK);
	assert_int_equal(rd(b, 0xC0, 4), 0x11223344);
	assert_int_equal(brd(b, 0, 0x100, 4), 0);

	assert_int_equal(pcicap_sim_set_hold_off(b, true), PCI_ERR_OK);
	assert_int_equal(B->present(ctx, b), PCI_ERR_DEV_NOT_AVAIL);
	uint8_t buf[8] = {0};
	assert_int_equal(B->cfg_read(ctx, b, 0, buf, 4), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(B->cfg_write(ctx, b, 0xC0, buf, 4), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(B->bar_read(ctx, b, 0, 0, buf, 8), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(B->bar_write(ctx, b, 0, 0, buf, 8), PCI_ERR_DEV_NOT_AVAIL);
	/* an interrupt raised while held off is delivered on release */
	pcicap_irq_msg_t msg;
	assert_int_equal(B->irq_alloc(ctx, b, 1, PCICAP_IRQ_ADDR64, &msg), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_set_hold_off(b, false), PCI_ERR_OK);
	msi_program(b, &msg, 0, true);
	assert_int_equal(pcicap_sim_set_hold_off(b, true), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_raise(b, 0), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_irq_count(msg.irq), 0);
	assert_int_equal(pcicap_sim_set_hold_off(b, false), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_irq_count(msg.irq), 1);
	assert_int_equal(rd(b, 0xC0, 4), 0x11223344);
	/* unknown device */
	assert_int_equal(B->present(ctx, PCI_BDF(9, 9, 1)), PCI_ERR_ENODEV);
	assert_int_equal(B->cfg_read(ctx, PCI_BDF(9, 9, 1), 0, buf, 4), PCI_ERR_ENODEV);
	assert_int_equal(pcicap_sim_set_removed(PCI_BDF(9, 9, 1), true), PCI_ERR_ENODEV);
	assert_int_equal(pcicap_sim_set_hold_off(PCI_BDF(9, 9, 1), true), PCI_ERR_ENODEV);
	assert_int_equal(pcicap_sim_fail_access(PCI_BDF(9, 9, 1), 1, PCI_ERR_EIO), PCI_ERR_ENODEV);
}

static void test_fail_access(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	assert_int_equal(pcicap_sim_fail_access(b, 1, PCI_ERR_OK), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_fail_access(b, 3, PCI_ERR_EIO), PCI_ERR_OK);
	uint8_t v[4];
	pcii_le_put(v, 4, 0xA1B2C3D4);
	assert_int_equal(B->cfg_read(ctx, b, 0, v, 4), PCI_ERR_OK);
	pcii_le_put(v, 4, 0xA1B2C3D4);
	assert_int_equal(B->bar_read(ctx, b, 0, 0, v, 4), PCI_ERR_OK);
	pcii_le_put(v, 4, 0xA1B2C3D4);
	assert_int_equal(B->cfg_write(ctx, b, 0xC0, v, 4), PCI_ERR_EIO); /* 3rd: fails, no effect */
	assert_int_equal(B->cfg_write(ctx, b, 0xC4, v, 4), PCI_ERR_OK);  /* one-shot */
	assert_int_equal(rd(b, 0xC0, 4), 0);
	assert_int_equal(rd(b, 0xC4, 4), 0xA1B2C3D4);
	/* BAR write as the failing access */
	assert_int_equal(pcicap_sim_fail_access(b, 1, PCI_ERR_DEV_NOT_AVAIL), PCI_ERR_OK);
	assert_int_equal(B->bar_write(ctx, b, 0, 0x10, v, 4), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(brd(b, 0, 0x10, 4), 0);
	/* disarm */
	assert_int_equal(pcicap_sim_fail_access(b, 1, PCI_ERR_EIO), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_fail_access(b, 0, PCI_ERR_OK), PCI_ERR_OK);
	assert_int_equal(B->cfg_read(ctx, b, 0, v, 4), PCI_ERR_OK);
	/* peek is not an access */
	assert_int_equal(pcicap_sim_fail_access(b, 1, PCI_ERR_EIO), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_peek_cfg(b, 0, v, 4), PCI_ERR_OK);
	assert_int_equal(B->cfg_read(ctx, b, 0, v, 4), PCI_ERR_EIO);
}

/* Removal at the k-th access: the accesses before it see the device, that
 * one and every later one find it removed; k = 0 disarms. */
static void test_remove_at(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	assert_int_equal(pcicap_sim_remove_at(PCI_BDF(9, 9, 1), 1), PCI_ERR_ENODEV);
	wr(b, 0xC0, 4, 0x11223344);
	assert_int_equal(pcicap_sim_remove_at(b, 3), PCI_ERR_OK);
	assert_int_equal(rd(b, 0xC0, 4), 0x11223344);     /* 1st */
	assert_int_equal(B->present(ctx, b), PCI_ERR_OK); /* not an access */
	assert_int_equal(brd(b, 0, 0x10, 4), 0);          /* 2nd */
	assert_int_equal(B->present(ctx, b), PCI_ERR_OK);
	wr(b, 0xC0, 4, 0x55667788); /* 3rd: dropped, the device is gone */
	assert_int_equal(B->present(ctx, b), PCI_ERR_ENODEV);
	assert_int_equal(rd(b, 0xC0, 4), 0xFFFFFFFFu);
	assert_int_equal(pcicap_sim_set_removed(b, false), PCI_ERR_OK);
	assert_int_equal(rd(b, 0xC0, 4), 0x11223344);
	/* one-shot, and disarmed by 0 */
	assert_int_equal(rd(b, 0xC0, 4), 0x11223344);
	assert_int_equal(pcicap_sim_remove_at(b, 1), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_remove_at(b, 0), PCI_ERR_OK);
	assert_int_equal(rd(b, 0xC0, 4), 0x11223344);
	assert_int_equal(B->present(ctx, b), PCI_ERR_OK);
}

/* ------------------------------------------------------- counters and log */

static void test_counters_and_log(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	pcicap_sim_counters_t c;
	assert_int_equal(pcicap_sim_get_counters(b, &c), PCI_ERR_OK);
	assert_int_equal(c.cfg_reads + c.cfg_writes + c.bar_reads + c.bar_writes, 0);
	assert_int_equal(pcicap_sim_log_start(b, 4), PCI_ERR_OK);
	rd(b, 0, 2);
	wr(b, 0xC0, 4, 0xCAFE);
	bwr(b, 0, 0x8, 8, 0x0102030405060708ull);
	brd(b, 0, 0x8, 1);
	rd(b, 0xC0, 1);
	rd(b, 0xC1, 1);
	uint8_t x[4];
	assert_int_equal(pcicap_sim_peek_cfg(b, 0, x, 4), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_peek_bar(b, 0, 0, x, 4), PCI_ERR_OK);
	/* failed accesses are not counted */
	assert_int_equal(pcicap_sim_fail_access(b, 1, PCI_ERR_EIO), PCI_ERR_OK);
	assert_int_equal(B->cfg_read(ctx, b, 0, x, 4), PCI_ERR_EIO);
	assert_int_equal(B->cfg_read(ctx, b, 2, x, 4), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_get_counters(b, &c), PCI_ERR_OK);
	assert_int_equal(c.cfg_reads, 3);
	assert_int_equal(c.cfg_writes, 1);
	assert_int_equal(c.bar_reads, 1);
	assert_int_equal(c.bar_writes, 1);
	pcicap_sim_access_t e[8];
	size_t n;
	assert_int_equal(pcicap_sim_log_get(b, e, 8, &n), PCI_ERR_OK);
	assert_int_equal(n, 6);
	assert_int_equal(e[0].kind, PCICAP_SIM_CFG_READ);
	assert_int_equal(e[0].bar, -1);
	assert_int_equal(e[0].offset, 0);
	assert_int_equal(e[0].width, 2);
	assert_int_equal(e[0].value, 0x1234);
	assert_int_equal(e[1].kind, PCICAP_SIM_CFG_WRITE);
	assert_int_equal(e[1].offset, 0xC0);
	assert_int_equal(e[1].value, 0xCAFE);
	assert_int_equal(e[2].kind, PCICAP_SIM_BAR_WRITE);
	assert_int_equal(e[2].bar, 0);
	assert_int_equal(e[2].width, 8);
	assert_int_equal(e[2].value, 0x0102030405060708ull);
	assert_int_equal(e[3].kind, PCICAP_SIM_BAR_READ);
	assert_int_equal(e[3].value, 0x08);
	assert_int_equal(pcicap_sim_log_get(b, e, 2, &n), PCI_ERR_OK);
	assert_int_equal(n, 6);
	assert_int_equal(pcicap_sim_log_get(b, NULL, 0, &n), PCI_ERR_OK);
	assert_int_equal(n, 6);
	assert_int_equal(pcicap_sim_log_get(b, e, 8, NULL), PCI_ERR_EINVAL);
	/* restart clears; stop */
	assert_int_equal(pcicap_sim_log_start(b, 2), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_log_get(b, e, 8, &n), PCI_ERR_OK);
	assert_int_equal(n, 0);
	rd(b, 8, 4);
	assert_int_equal(pcicap_sim_log_get(b, e, 8, &n), PCI_ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].value, 0xff000000);
	assert_int_equal(pcicap_sim_log_start(b, 0), PCI_ERR_OK);
	rd(b, 8, 4);
	assert_int_equal(pcicap_sim_log_get(b, e, 8, &n), PCI_ERR_OK);
	assert_int_equal(n, 0);
	/* removed devices: reads of all ones are logged and counted */
	assert_int_equal(pcicap_sim_log_start(b, 2), PCI_ERR_OK);
	pcicap_sim_set_removed(b, true);
	rd(b, 0, 4);
	pcicap_sim_set_removed(b, false);
	assert_int_equal(pcicap_sim_log_get(b, e, 8, &n), PCI_ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].value, 0xFFFFFFFF);
	/* reset */
	assert_int_equal(pcicap_sim_reset_counters(b), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_get_counters(b, &c), PCI_ERR_OK);
	assert_int_equal(c.cfg_reads + c.cfg_writes + c.bar_reads + c.bar_writes, 0);
	assert_int_equal(c.irqs_delivered + c.stray_msgs, 0);
	assert_int_equal(pcicap_sim_get_counters(b, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_get_counters(PCI_BDF(9, 0, 0), &c), PCI_ERR_ENODEV);
}

/* The table pcicap_sim_backend() gives is the backend itself: its ops
 * reach the same devices and are counted like the library's accesses. */
static void test_backend_table(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	void *c = NULL;
	const pcicap_backend_t *t = pcicap_sim_backend(&c);
	assert_ptr_equal(t, B);
	assert_ptr_equal(c, ctx);
	assert_ptr_equal(pcicap_sim_backend(NULL), B);
	assert_string_equal(t->name, "sim");
	uint8_t w[4] = {0x01, 0, 0, 0}, r[4] = {0};
	assert_int_equal(t->bar_write(c, b, 0, 0xC, w, 4), PCI_ERR_OK);
	assert_int_equal(t->bar_read(c, b, 0, 0xC, r, 4), PCI_ERR_OK);
	assert_memory_equal(r, w, 4);
	pcicap_sim_counters_t n;
	assert_int_equal(pcicap_sim_get_counters(b, &n), PCI_ERR_OK);
	assert_int_equal(n.bar_writes, 1);
	assert_int_equal(n.bar_reads, 1);
	assert_int_equal(n.cfg_reads + n.cfg_writes, 0);
}

/* ------------------------------------------------------------------- FLR */

static void test_flr(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	uint_t pcie = find_cap(b, PCII_CAPID_PCIE);
	uint_t x = find_cap(b, PCII_CAPID_MSIX);
	uint_t m = find_cap(b, PCII_CAPID_MSI);
	pcicap_irq_msg_t msg[16];
	assert_int_equal(B->irq_alloc(ctx, b, 16, PCICAP_IRQ_ADDR64, msg), PCI_ERR_OK);
	msix_program(b, 0, 0x2000, msg, 16);
	pcicap_sim_raise(b, 2); /* pending (entry masked) */
	wr(b, 0xC0, 4, 0x12345678);
	wr(b, 0x10, 4, 0xFFFFFFFF);
	wr(b, m + 0x10, 4, 0xF);
	bwr(b, 0, 0x100, 4, 0x77);
	assert_int_equal(brd(b, 0, 0x3000, 8), 4);
	/* bit 15 reads 0 */
	wr(b, pcie + 8, 2, 0x0010);
	assert_int_equal(rd(b, pcie + 8, 2), 0x0010);
	/* initiate FLR through Device Control */
	wr(b, pcie + 8, 2, 0x8000);
	assert_int_equal(rd(b, pcie + 8, 2), 0x2010);
	assert_int_equal(rd(b, PCII_CFG_CMD, 2), 0);
	assert_int_equal(rd(b, 0xC0, 4), 0);
	assert_int_equal(rd(b, 0x10, 4), 0xfe000000u);
	assert_int_equal(rd(b, x + 2, 2), 15);
	assert_int_equal(rd(b, m + 0x10, 4), 0);
	assert_int_equal(brd(b, 0, 0x2000 + 16 * 2, 8), 0);
	assert_int_equal(brd(b, 0, 0x2000 + 16 * 2 + 12, 4), 1);
	assert_int_equal(brd(b, 0, 0x3000, 8), 0);
	assert_int_equal(brd(b, 0, 0x100, 4), 0x77); /* other BAR memory is kept */
	/* the internal pending flag was cleared too: re-enabling delivers nothing */
	msix_program(b, 0, 0x2000, msg, 16);
	bwr(b, 0, 0x2000 + 16 * 2 + 12, 4, 0);
	assert_int_equal(pcicap_sim_irq_count(msg[2].irq), 0);
	/* the reset op */
	wr(b, 0xC0, 4, 0x1);
	assert_int_equal(B->reset(ctx, b, pci_resetType_e_BUS), PCI_ERR_ENOTSUP);
	assert_int_equal(rd(b, 0xC0, 4), 1);
	assert_int_equal(B->reset(ctx, b, pci_resetType_e_FUNCTION), PCI_ERR_OK);
	assert_int_equal(rd(b, 0xC0, 4), 0);
	assert_int_equal(rd(b, x + 2, 2), 15);
	assert_int_equal(B->reset(ctx, PCI_BDF(9, 0, 0), pci_resetType_e_FUNCTION), PCI_ERR_ENODEV);

	/* no FLR advertised: ENOTSUP, and the bit does nothing */
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.pcie = true;
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(2, 0, 0), &d), PCI_ERR_OK);
	pci_bdf_t n = PCI_BDF(2, 0, 0);
	assert_int_equal(B->reset(ctx, n, pci_resetType_e_FUNCTION), PCI_ERR_ENOTSUP);
	wr(n, 0xC0, 4, 0x99);
	wr(n, 0x48, 2, 0x8000);
	assert_int_equal(rd(n, 0xC0, 4), 0x99);

	/* a dump: back to the dump's bytes with interrupt state quiesced */
	pcicap_sim_clear();
	assert_int_equal(pcicap_sim_add_dump(fx("dumps/intel-82576-nic.txt")), PCI_ERR_OK);
	pci_bdf_t q = PCI_BDF(1, 0, 0);
	assert_int_equal(rd(q, 0x72, 2), 0x8009);
	wr(q, 0xe0, 4, 0xFEEDF00D); /* a plain RW byte range */
	assert_int_equal(B->reset(ctx, q, pci_resetType_e_FUNCTION), PCI_ERR_OK);
	assert_int_equal(rd(q, 0x72, 2), 0x0009);
	assert_int_equal(rd(q, PCII_CFG_CMD, 2), 0x0400);
	assert_int_equal(rd(q, 0xe0, 4), 0x00000003);
	assert_int_equal(rd(q, 0x140, 4), 0x15010003);
	assert_int_equal(rd(q, 0x10, 4), 0xe0800000u);
}

/* ----------------------------------------------------------- concurrency */

#define NTHREADS 4
#define NITER    3000

typedef struct {
	pci_bdf_t b;
	unsigned id;
	unsigned raised;
} thr_t;

/* MSI-X: each thread owns entry id: mask, raise (pends), unmask (delivers),
 * raise again (direct); and owns byte id of a shared dword, written with
 * 1-byte writes and checked with 4-byte reads. */
static void *worker(void *arg)
{
	thr_t *t = arg;
	uint8_t buf[4];
	uint64_t ctl = 0x2000 + 16 * t->id + 12;
	for (unsigned i = 0; i < NITER; i++) {
		pcii_le_put(buf, 4, 1);
		if (B->bar_write(ctx, t->b, 0, ctl, buf, 4) || pcicap_sim_raise(t->b, t->id))
			return (void *)1;
		t->raised++;
		pcii_le_put(buf, 4, 0);
		if (B->bar_write(ctx, t->b, 0, ctl, buf, 4) || pcicap_sim_raise(t->b, t->id))
			return (void *)1;
		t->raised++;
		if (B->bar_read(ctx, t->b, 0, ctl, buf, 4) || buf[0] != 0)
			return (void *)2;
		uint8_t mine = (uint8_t)(i + t->id);
		if (B->cfg_write(ctx, t->b, 0xC0 + t->id, &mine, 1))
			return (void *)1;
		if (B->cfg_read(ctx, t->b, 0xC0, buf, 4) || buf[t->id] != mine)
			return (void *)2;
	}
	return NULL;
}

static void test_concurrency(void **state)
{
	(void)state;
	pci_bdf_t b = add_full_device(PCI_BDF(1, 0, 0));
	pcicap_irq_msg_t mx[16];
	assert_int_equal(B->irq_alloc(ctx, b, 16, PCICAP_IRQ_ADDR64, mx), PCI_ERR_OK);
	msix_program(b, 0, 0x2000, mx, 16);
	pthread_t th[NTHREADS];
	thr_t t[NTHREADS];
	for (unsigned i = 0; i < NTHREADS; i++) {
		t[i] = (thr_t){.b = b, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, worker, &t[i]), 0);
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		assert_null(r);
	}
	/* every raise delivered exactly once, nothing left pending or stray */
	for (unsigned i = 0; i < NTHREADS; i++)
		assert_int_equal(pcicap_sim_irq_count(mx[i].irq), t[i].raised);
	assert_int_equal(brd(b, 0, 0x3000, 8), 0);
	pcicap_sim_counters_t c;
	pcicap_sim_get_counters(b, &c);
	assert_int_equal(c.stray_msgs, 0);
	assert_int_equal(c.irqs_delivered, 2ull * NTHREADS * NITER);
	assert_int_equal(c.bar_writes, 2ull * NTHREADS * NITER + 16 * 3);
}

/* MSI under contention: per-thread vectors, mask/unmask through a shared
 * register with a shadow, raises concurrently; nothing lost or doubled. */
typedef struct {
	pci_bdf_t b;
	unsigned id;
	uint_t msi;
	pcii_spin_t *lock;
	uint32_t *shadow;
	unsigned raised;
} mthr_t;

static void *msi_worker(void *arg)
{
	mthr_t *t = arg;
	uint32_t bit = 1u << t->id;
	uint8_t buf[4];
	for (unsigned i = 0; i < NITER; i++) {
		pcii_spin_lock(t->lock);
		*t->shadow |= bit;
		pcii_le_put(buf, 4, *t->shadow);
		int e = B->cfg_write(ctx, t->b, t->msi + 0x10, buf, 4);
		pcii_spin_unlock(t->lock);
		if (e || pcicap_sim_raise(t->b, t->id))
			return (void *)1;
		t->raised++;
		pcii_spin_lock(t->lock);
		*t->shadow &= ~bit;
		pcii_le_put(buf, 4, *t->shadow);
		e = B->cfg_write(ctx, t->b, t->msi + 0x10, buf, 4);
		pcii_spin_unlock(t->lock);
		if (e || pcicap_sim_raise(t->b, t->id))
			return (void *)1;
		t->raised++;
	}
	return NULL;
}

static void test_concurrency_msi(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 8;
	d.msi.addr64 = true;
	d.msi.maskable = true;
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(1, 0, 0), &d), PCI_ERR_OK);
	pci_bdf_t b = PCI_BDF(1, 0, 0);
	pcicap_irq_msg_t m[8];
	assert_int_equal(B->irq_alloc(ctx, b, 8, PCICAP_IRQ_CONTIG | PCICAP_IRQ_ADDR64, m),
			 PCI_ERR_OK);
	msi_program(b, &m[0], 3, true);
	int fds[NTHREADS];
	for (unsigned i = 0; i < NTHREADS; i++)
		fds[i] = B->irq_fd(ctx, m[i].irq);
	pcii_spin_t lock = PCII_SPIN_INIT;
	uint32_t shadow = 0;
	pthread_t th[NTHREADS];
	mthr_t t[NTHREADS];
	uint_t msi = find_cap(b, PCII_CAPID_MSI);
	for (unsigned i = 0; i < NTHREADS; i++) {
		t[i] = (mthr_t){.b = b, .id = i, .msi = msi, .lock = &lock, .shadow = &shadow};
		assert_int_equal(pthread_create(&th[i], NULL, msi_worker, &t[i]), 0);
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(th[i], &r);
		assert_null(r);
	}
	assert_int_equal(rd(b, msi + 0x10, 4), 0); /* no lost mask update */
	assert_int_equal(rd(b, msi + 0x14, 4), 0); /* nothing left pending */
	for (unsigned i = 0; i < NTHREADS; i++) {
		/* a raise while masked pends (one pending bit), so each masked
		 * period contributes exactly one delivery: 2 per iteration */
		assert_int_equal(pcicap_sim_irq_count(m[i].irq), t[i].raised);
		assert_int_equal(efd_read(fds[i]), t[i].raised);
	}
}

/* ----------------------------------------------- big topology, lookups */

static void test_large_topology(void **state)
{
	(void)state;
	size_t cap = 65536 * 24 + 64, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "irqs 65536\n");
	for (unsigned bus = 0; bus < 256; bus++)
		for (unsigned dev = 0; dev < 32; dev++)
			for (unsigned fn = 0; fn < 8; fn++)
				len += (size_t)snprintf(text + len, cap - len,
							"device %02x:%02x.%u\n", bus, dev, fn);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pcicap_sim_load_string(text, NULL), PCI_ERR_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(text);
	assert_int_equal(ndevices(), 65536);
	/* every function answers */
	for (unsigned bus = 0; bus < 256; bus += 5)
		for (unsigned dev = 0; dev < 32; dev++)
			for (unsigned fn = 0; fn < 8; fn++)
				assert_int_equal(rd(PCI_BDF(bus, dev, fn), 0, 2), 0x1234);
	assert_int_equal(B->present(ctx, PCICAP_BDF(1, 0, 0, 0)), PCI_ERR_ENODEV);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("# 65536 functions loaded in %.3f s\n", s);
}

/* -------------------------------------------------------------- generation */

static void test_scan_generation_scope(void **state)
{
	(void)state;
	uint64_t g0 = B->generation(ctx);
	assert_int_equal(ndevices(), 0);
	add_full_device(PCI_BDF(1, 0, 0));
	uint64_t g1 = B->generation(ctx);
	assert_true(g1 != g0);
	assert_null(B->scope(ctx, PCI_BDF(1, 0, 0)));
	assert_int_equal(pcicap_sim_set_scope("lab.1"), PCI_ERR_OK);
	assert_string_equal(B->scope(ctx, PCI_BDF(1, 0, 0)), "lab.1");
	assert_int_equal(pcicap_sim_set_scope("has space"), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_sim_set_scope(""), PCI_ERR_EINVAL);
	assert_string_equal(B->scope(ctx, PCI_BDF(1, 0, 0)), "lab.1");
	assert_int_equal(pcicap_sim_set_scope(NULL), PCI_ERR_OK);
	assert_null(B->scope(ctx, PCI_BDF(1, 0, 0)));
	pcicap_sim_set_scope("again");
	pcicap_sim_clear();
	assert_true(B->generation(ctx) != g1);
	assert_int_equal(ndevices(), 0);
	add_full_device(PCI_BDF(1, 0, 0));
	assert_null(B->scope(ctx, PCI_BDF(1, 0, 0)));
	assert_null(B->msg_enable);
	assert_null(B->msg_disable);
	assert_string_equal(B->name, "sim");
	assert_int_equal(B->abi_version, PCICAP_BACKEND_ABI_VERSION);
	assert_int_equal(B->struct_size, sizeof(pcicap_backend_t));
	/* config bounds */
	uint8_t v[4];
	assert_int_equal(B->cfg_read(ctx, PCI_BDF(1, 0, 0), 0xFFE, v, 2), PCI_ERR_OK);
	assert_int_equal(B->cfg_read(ctx, PCI_BDF(1, 0, 0), 0x1000, v, 2), PCI_ERR_EINVAL);
	assert_int_equal(B->cfg_read(ctx, PCI_BDF(1, 0, 0), 0x1, v, 2), PCI_ERR_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_dumps_match_expected, setup),
	    cmocka_unit_test_setup(test_dumps_together, setup),
	    cmocka_unit_test_setup(test_dump_bytes_verbatim, setup),
	    cmocka_unit_test_setup(test_dump_bar_synthesis, setup),
	    cmocka_unit_test_setup(test_dump_malformed, setup),
	    cmocka_unit_test_setup(test_raw_image_kept, setup),
	    cmocka_unit_test_setup(test_topology_file, setup),
	    cmocka_unit_test_setup(test_topology_init_env, setup),
	    cmocka_unit_test_setup(test_topology_string_and_sizes, setup),
	    cmocka_unit_test_setup(test_topology_malformed, setup),
	    cmocka_unit_test_setup(test_builder_validation, setup),
	    cmocka_unit_test_setup(test_header_semantics, setup),
	    cmocka_unit_test_setup(test_bar_sizing, setup),
	    cmocka_unit_test_setup(test_msi_registers, setup),
	    cmocka_unit_test_setup(test_msix_registers, setup),
	    cmocka_unit_test_setup(test_pcie_pm_ext_semantics, setup),
	    cmocka_unit_test_setup(test_msi_delivery_64, setup),
	    cmocka_unit_test_setup(test_msi_delivery_32_multi, setup),
	    cmocka_unit_test_setup(test_msi_pending, setup),
	    cmocka_unit_test_setup(test_msix_delivery, setup),
	    cmocka_unit_test_setup(test_raise_errors_and_choice, setup),
	    cmocka_unit_test_setup(test_irq_pool, setup),
	    cmocka_unit_test_setup(test_msix_2048_lazy_fds, setup),
	    cmocka_unit_test_setup(test_removal_holdoff, setup),
	    cmocka_unit_test_setup(test_fail_access, setup),
	    cmocka_unit_test_setup(test_remove_at, setup),
	    cmocka_unit_test_setup(test_counters_and_log, setup),
	    cmocka_unit_test_setup(test_backend_table, setup),
	    cmocka_unit_test_setup(test_flr, setup),
	    cmocka_unit_test_setup(test_concurrency, setup),
	    cmocka_unit_test_setup(test_concurrency_msi, setup),
	    cmocka_unit_test_setup(test_large_topology, setup),
	    cmocka_unit_test_setup(test_scan_generation_scope, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
