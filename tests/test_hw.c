/*
 * Suite "hw": the pciaccess backend against the host's real PCI functions.
 *
 * READ-ONLY. The host's devices are live (its disk, its network): this test
 * reads config space and sysfs files and nothing else.
 * - It never loads or stores BAR memory (an MMIO read can have side effects,
 *   e.g. read-to-clear interrupt status registers). bar_map() is exercised
 *   (a read-only mmap() does not touch the device) but the pointer is never
 *   dereferenced; bar_read() is called only with arguments it must reject
 *   before mapping anything.
 * - The only write calls target functions that the test itself sees bound to
 *   a kernel driver, with PCICAP_PCIACCESS_WRITE removed from the
 *   environment, so the backend's guard refuses them before any access. The
 *   first write call of each kind uses an offset outside the space, so that
 *   even a broken guard could not reach the device; the in-range call is made
 *   only after that one was refused.
 *
 * It calls the backend ops directly (no core), and exits 77 (skip) when there
 * is no PCI bus in sysfs or libpciaccess cannot initialise.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#define SYS_DEVICES "/sys/bus/pci/devices"
#define SYS_SLOTS   "/sys/bus/pci/slots"
#define SKIP_EXIT   77

/* Kernel resource flags in the sysfs "resource" file. */
#define IORES_IO       0x00000100ull
#define IORES_MEM      0x00000200ull
#define IORES_PREFETCH 0x00002000ull
#define IORES_MEM_64   0x00100000ull

struct sysdev {
	char name[32]; /* dddd:bb:dd.f */
	unsigned dom, bus, dev, fn;
	pci_bdf_t bdf;
};

static const pcicap_backend_t *const B = &pcii_backend_pciaccess;
static void *g_ctx;
static struct sysdev *g_sys; /* every entry of /sys/bus/pci/devices */
static size_t g_nsys;
static size_t g_nskipped; /* entries whose domain a pci_bdf_t cannot hold */
static atomic_int g_log_errors;

static void log_handler(pcicap_log_level_t level, const char *msg, void *arg)
{
	if (level == PCICAP_LOG_ERROR)
		atomic_fetch_add(&g_log_errors, 1);
	if (level <= PCICAP_LOG_WARN)
		fprintf(stderr, "# pcicap log (%d): %s\n", (int)level, msg);
}

/* ---- independent views of sysfs ---- */

static void sys_path(char *out, size_t n, const struct sysdev *s, const char *file)
{
	snprintf(out, n, SYS_DEVICES "/%s/%s", s->name, file);
}

static int cmp_sysdev(const void *a, const void *b)
{
	pci_bdf_t x = ((const struct sysdev *)a)->bdf, y = ((const struct sysdev *)b)->bdf;
	return (x > y) - (x < y);
}

static size_t list_sysfs(struct sysdev **out)
{
	DIR *d = opendir(SYS_DEVICES);
	if (!d)
		return 0;
	size_t n = 0, cap = 0;
	struct sysdev *v = NULL;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct sysdev s = {0};
		if (de->d_name[0] == '.')
			continue;
		if (sscanf(de->d_name, "%x:%x:%x.%x", &s.dom, &s.bus, &s.dev, &s.fn) != 4)
			continue;
		size_t len = strlen(de->d_name);
		if (len >= sizeof(s.name))
			continue;
		memcpy(s.name, de->d_name, len + 1);
		s.bdf = PCICAP_BDF(s.dom, s.bus, s.dev, s.fn);
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			struct sysdev *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return 0;
			}
			v = nv;
		}
		v[n++] = s;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_sysdev);
	*out = v;
	return n;
}

static unsigned long read_hex_file(const struct sysdev *s, const char *file)
{
	char p[256], text[64] = {0};
	sys_path(p, sizeof(p), s, file);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	return strtoul(text, NULL, 16);
}

/* Read as much of the config file as this process may (pread until EOF). */
static size_t read_config_file(const struct sysdev *s, uint8_t *buf, size_t max)
{
	char p[256];
	sys_path(p, sizeof(p), s, "config");
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	size_t got = 0;
	while (got < max) {
		ssize_t r = pread(fd, buf + got, max - got, (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got;
}

static off_t config_file_size(const struct sysdev *s)
{
	char p[256];
	struct stat st;
	sys_path(p, sizeof(p), s, "config");
	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

/* Lines 0..6 of the "resource" file: start, end, flags. */
static void read_resource(const struct sysdev *s, unsigned long long res[7][3])
{
	char p[256], line[256];
	sys_path(p, sizeof(p), s, "resource");
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	memset(res, 0, 7 * sizeof(res[0]));
	for (int i = 0; i < 7 && fgets(line, sizeof(line), f); i++)
		assert_int_equal(sscanf(line, "%llx %llx %llx", &res[i][0], &res[i][1], &res[i][2]),
				 3);
	fclose(f);
}

/* The test's own driver check: the sysfs "driver" link exists. */
static int driver_bound(const struct sysdev *s)
{
	char p[256];
	struct stat st;
	sys_path(p, sizeof(p), s, "driver");
	return lstat(p, &st) == 0;
}

static const struct sysdev *first_bound(void)
{
	for (size_t i = 0; i < g_nsys; i++)
		if (g_sys[i].dom <= PCICAP_DOMAIN_MAX && driver_bound(&g_sys[i]))
			return &g_sys[i];
	return NULL;
}

static pcicap_backend_dev_t *scan_all(size_t *n)
{
	pcicap_backend_dev_t *devs = NULL;
	assert_int_equal(B->scan(g_ctx, &devs, n), PCI_ERR_OK);
	return devs;
}

static const pcicap_backend_dev_t *find_dev(const pcicap_backend_dev_t *devs, size_t n,
					    pci_bdf_t bdf)
{
	for (size_t i = 0; i < n; i++)
		if (devs[i].bdf == bdf)
			return &devs[i];
	return NULL;
}

/* A bdf that no host has: domain 0x7FFE, bus 0xFF, device 31, function 7. */
static const pci_bdf_t NO_SUCH_BDF = PCICAP_BDF(0x7FFE, 0xFF, 31, 7);

/* ---- tests ---- */

static void test_table(void **state)
{
	assert_int_equal(B->struct_size, sizeof(pcicap_backend_t));
	assert_int_equal(B->abi_version, PCICAP_BACKEND_ABI_VERSION);
	assert_string_equal(B->name, "pciaccess");
	assert_non_null(B->init);
	assert_non_null(B->scan);
	assert_non_null(B->cfg_read);
	assert_non_null(B->fini);
	assert_non_null(B->present);
	assert_non_null(B->cfg_write);
	assert_non_null(B->bar_info);
	assert_non_null(B->bar_read);
	assert_non_null(B->bar_write);
	assert_non_null(B->bar_map);
	assert_non_null(B->bar_unmap);
	assert_non_null(B->chassis_slot);
	assert_non_null(B->scope);
	/* No interrupt messages in plain Linux userspace; static set; no reset. */
	assert_null(B->irq_alloc);
	assert_null(B->irq_free);
	assert_null(B->irq_fd);
	assert_null(B->msg_enable);
	assert_null(B->msg_disable);
	assert_null(B->reset);
	assert_null(B->generation);
}

static void test_scan_matches_sysfs(void **state)
{
	size_t n;
	pcicap_backend_dev_t *devs = scan_all(&n);
	assert_int_equal(n, g_nsys - g_nskipped);
	for (size_t i = 0; i < g_nsys; i++) {
		const pcicap_backend_dev_t *d = find_dev(devs, n, g_sys[i].bdf);
		if (g_sys[i].dom > PCICAP_DOMAIN_MAX)
			continue;
		assert_non_null(d);
		assert_int_equal(PCICAP_BDF_DOMAIN(d->bdf), g_sys[i].dom);
		assert_int_equal(PCI_BUS(d->bdf), g_sys[i].bus);
		assert_int_equal(PCI_DEV(d->bdf), g_sys[i].dev);
		assert_int_equal(PCI_FUNC(d->bdf), g_sys[i].fn);
	}
	/* uids: non-zero, unique, stable across scans of one context. */
	size_t n2;
	pcicap_backend_dev_t *again = scan_all(&n2);
	assert_int_equal(n2, n);
	for (size_t i = 0; i < n; i++) {
		assert_true(devs[i].uid != 0);
		for (size_t j = i + 1; j < n; j++)
			assert_true(devs[i].uid != devs[j].uid);
		const pcicap_backend_dev_t *d = find_dev(again, n2, devs[i].bdf);
		assert_non_null(d);
		assert_true(d->uid == devs[i].uid);
	}
	free(again);
	free(devs);
}

static void test_init_refcount(void **state)
{
	/* A second context shares libpciaccess; ending it must not end ours. */
	void *ctx2 = NULL;
	assert_int_equal(B->init(&ctx2), PCI_ERR_OK);
	size_t n1, n2;
	pcicap_backend_dev_t *d1 = scan_all(&n1), *d2 = NULL;
	assert_int_equal(B->scan(ctx2, &d2, &n2), PCI_ERR_OK);
	assert_int_equal(n1, n2);
	/* uids are never reused, even by another context. */
	for (size_t i = 0; i < n1; i++)
		for (size_t j = 0; j < n2; j++)
			assert_true(d1[i].uid != d2[j].uid);
	B->fini(ctx2);
	for (size_t i = 0; i < n1; i++) {
		uint8_t id[2];
		assert_int_equal(B->cfg_read(g_ctx, d1[i].bdf, 0, id, 2), PCI_ERR_OK);
	}
	free(d1);
	free(d2);
	B->fini(NULL); /* harmless */
}

static void test_present(void **state)
{
	for (size_t i = 0; i < g_nsys; i++)
		if (g_sys[i].dom <= PCICAP_DOMAIN_MAX)
			assert_int_equal(B->present(g_ctx, g_sys[i].bdf), PCI_ERR_OK);
	assert_int_equal(B->present(g_ctx, NO_SUCH_BDF), PCI_ERR_ENODEV);
}

static void test_unknown_device(void **state)
{
	uint8_t buf[8] = {0};
	pci_ba_t ba;
	pci_cs_t cs;
	const volatile void *p;
	assert_int_equal(B->cfg_read(g_ctx, NO_SUCH_BDF, 0, buf, 4), PCI_ERR_ENODEV);
	assert_int_equal(B->cfg_write(g_ctx, NO_SUCH_BDF, 0x40, buf, 4), PCI_ERR_ENODEV);
	assert_int_equal(B->bar_info(g_ctx, NO_SUCH_BDF, 0, &ba), PCI_ERR_ENODEV);
	assert_int_equal(B->bar_read(g_ctx, NO_SUCH_BDF, 0, 0, buf, 4), PCI_ERR_ENODEV);
	assert_int_equal(B->bar_write(g_ctx, NO_SUCH_BDF, 0, 0, buf, 4), PCI_ERR_ENODEV);
	assert_int_equal(B->bar_map(g_ctx, NO_SUCH_BDF, 0, 0, 4, &p), PCI_ERR_ENODEV);
	assert_int_equal(B->chassis_slot(g_ctx, NO_SUCH_BDF, &cs), PCI_ERR_ENODEV);
}

static void test_ids_match_sysfs(void **state)
{
	int errs = atomic_load(&g_log_errors);
	for (size_t i = 0; i < g_nsys; i++) {
		const struct sysdev *s = &g_sys[i];
		if (s->dom > PCICAP_DOMAIN_MAX)
			continue;
		uint8_t b[4];
		assert_int_equal(B->cfg_read(g_ctx, s->bdf, PCII_CFG_VID, b, 2), PCI_ERR_OK);
		assert_int_equal(pcii_le_get(b, 2), read_hex_file(s, "vendor"));
		assert_int_equal(B->cfg_read(g_ctx, s->bdf, PCII_CFG_DID, b, 2), PCI_ERR_OK);
		assert_int_equal(pcii_le_get(b, 2), read_hex_file(s, "device"));
		assert_int_equal(B->cfg_read(g_ctx, s->bdf, PCII_CFG_VID, b, 4), PCI_ERR_OK);
		assert_int_equal(pcii_le_get(b, 4),
				 read_hex_file(s, "vendor") | read_hex_file(s, "device") << 16);
		/* The ARI encoding of the same function reaches the same device. */
		pci_bdf_t ari =
		    PCICAP_BDF_DOMAIN(s->bdf) << 17 | PCI_BDF_ARI(s->bus, s->dev << 3 | s->fn);
		assert_int_equal(B->cfg_read(g_ctx, ari, PCII_CFG_VID, b, 2), PCI_ERR_OK);
		assert_int_equal(pcii_le_get(b, 2), read_hex_file(s, "vendor"));
	}
	assert_int_equal(atomic_load(&g_log_errors), errs);
}

static int have_cap_sys_admin(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;
	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> 21) & 1; /* CAP_SYS_ADMIN */
}

/*
 * Everything this process may read of each config space equals the sysfs
 * file: the first 64 bytes for anyone, all of it with CAP_SYS_ADMIN (root).
 * Registers that change on their own (status bits, counters) are tolerated by
 * reading the file before and after the backend and accepting either value.
 */
static void test_config_matches_sysfs(void **state)
{
	int errs = atomic_load(&g_log_errors);
	for (size_t i = 0; i < g_nsys; i++) {
		const struct sysdev *s = &g_sys[i];
		if (s->dom > PCICAP_DOMAIN_MAX)
			continue;
		static uint8_t before[4096], after[4096], mine[4096];
		size_t n = read_config_file(s, before, sizeof(before));
		assert_true(n >= 64);
		if (have_cap_sys_admin())
			assert_int_equal(n, (size_t)config_file_size(s));
		for (uint_t off = 0; off + 4 <= n; off += 4)
			assert_int_equal(B->cfg_read(g_ctx, s->bdf, off, mine + off, 4),
					 PCI_ERR_OK);
		size_t n2 = read_config_file(s, after, sizeof(after));
		assert_int_equal(n2, n);
		for (size_t k = 0; k < n; k++) {
			if (mine[k] != before[k] && mine[k] != after[k])
				fail_msg(
				    "%s: config byte 0x%zx: backend 0x%02x, sysfs 0x%02x/0x%02x",
				    s->name, k, mine[k], before[k], after[k]);
		}
		/* 1- and 2-byte reads of the header agree with the 4-byte ones
		 * (vendor/device/class/header/BARs do not change by themselves). */
		for (uint_t off = 0; off < 64; off++) {
			uint8_t b;
			if (off == PCII_CFG_STATUS || off == PCII_CFG_STATUS + 1 ||
			    off == PCII_CFG_CMD || off == PCII_CFG_CMD + 1)
				continue;
			assert_int_equal(B->cfg_read(g_ctx, s->bdf, off, &b, 1), PCI_ERR_OK);
			assert_int_equal(b, before[off]);
		}
		for (uint_t off = 0; off < 64; off += 2) {
			uint8_t w[2];
			if (off == PCII_CFG_STATUS || off == PCII_CFG_CMD)
				continue;
			assert_int_equal(B->cfg_read(g_ctx, s->bdf, off, w, 2), PCI_ERR_OK);
			assert_memory_equal(w, before + off, 2);
		}
	}
	assert_int_equal(atomic_load(&g_log_errors), errs);
}

static void test_cfg_size(void **state)
{
	size_t n;
	pcicap_backend_dev_t *devs = scan_all(&n);
	for (size_t i = 0; i < g_nsys; i++) {
		if (g_sys[i].dom > PCICAP_DOMAIN_MAX)
			continue;
		const pcicap_backend_dev_t *d = find_dev(devs, n, g_sys[i].bdf);
		assert_non_null(d);
		off_t sz = config_file_size(&g_sys[i]);
		assert_int_equal(d->cfg_size, sz == 4096 ? 4096 : 256);
		/* The backend's own bounds guard (the core checks first). */
		uint8_t b[4];
		assert_int_equal(B->cfg_read(g_ctx, d->bdf, d->cfg_size, b, 4), PCI_ERR_EINVAL);
		assert_int_equal(B->cfg_read(g_ctx, d->bdf, d->cfg_size - 2, b, 4), PCI_ERR_EINVAL);
	}
	free(devs);
}

/* Unprivileged: sysfs ends the config file after 64 bytes (128 for CardBus);
 * the backend reports the read it cannot complete as PCI_ERR_CFG_ACCESS. */
static void test_unprivileged_short_read(void **state)
{
	if (have_cap_sys_admin())
		skip();
	for (size_t i = 0; i < g_nsys; i++) {
		const struct sysdev *s = &g_sys[i];
		if (s->dom > PCICAP_DOMAIN_MAX)
			continue;
		static uint8_t buf[4096];
		size_t n = read_config_file(s, buf, sizeof(buf));
		assert_true(n == 64 || n == 128);
		uint8_t b[4];
		assert_int_equal(B->cfg_read(g_ctx, s->bdf, (uint_t)n - 4, b, 4), PCI_ERR_OK);
		assert_int_equal(B->cfg_read(g_ctx, s->bdf, (uint_t)n, b, 4), PCI_ERR_CFG_ACCESS);
		assert_int_equal(B->cfg_read(g_ctx, s->bdf, (uint_t)n, b, 1), PCI_ERR_CFG_ACCESS);
		assert_int_equal(B->cfg_read(g_ctx, s->bdf, 0xFC, b, 4), PCI_ERR_CFG_ACCESS);
	}
}

static void test_bar_info_matches_resource(void **state)
{
	int errs = atomic_load(&g_log_errors);
	for (size_t i = 0; i < g_nsys; i++) {
		const struct sysdev *s = &g_sys[i];
		if (s->dom > PCICAP_DOMAIN_MAX)
			continue;
		unsigned long long res[7][3];
		read_resource(s, res);
		for (int bar = -1; bar < 6; bar++) {
			const unsigned long long *r = res[bar < 0 ? 6 : bar];
			pci_ba_t ba;
			memset(&ba, 0xA5, sizeof(ba));
			pci_err_t e = B->bar_info(g_ctx, s->bdf, bar, &ba);
			if (r[0] == 0 || r[1] <= r[0]) {
				/* unimplemented (or never assigned an address) */
				assert_int_equal(e, PCI_ERR_ENOENT);
				continue;
			}
			assert_int_equal(e, PCI_ERR_OK);
			assert_int_equal(ba.bar_num, bar);
			assert_true(ba.addr == r[0]);
			assert_true(ba.size == r[1] - r[0] + 1);
			if (r[2] & IORES_IO)
				assert_int_equal(ba.type, pci_asType_e_IO);
			else
				assert_int_equal(ba.type, pci_asType_e_MEM);
			assert_true((r[2] & (IORES_IO | IORES_MEM)) != 0);
			assert_int_equal(ba.attr & pci_asAttr_e_BIT_MASK, (r[2] & IORES_MEM_64)
									      ? pci_asAttr_e_64BIT
									      : pci_asAttr_e_32BIT);
			assert_int_equal(!!(ba.attr & pci_asAttr_e_PREFETCH),
					 !!(r[2] & IORES_PREFETCH));
			assert_int_equal(!!(ba.attr & pci_asAttr_e_EXPANSION_ROM), bar < 0);
		}
		pci_ba_t ba;
		assert_int_equal(B->bar_info(g_ctx, s->bdf, 6, &ba), PCI_ERR_EINVAL);
		assert_int_equal(B->bar_info(g_ctx, s->bdf, -2, &ba), PCI_ERR_EINVAL);
		assert_int_equal(B->bar_info(g_ctx, s->bdf, 0, NULL), PCI_ERR_EINVAL);
	}
	assert_int_equal(atomic_load(&g_log_errors), errs);
}

/* BAR access arguments that must be rejected before anything is mapped or
 * touched. No successful bar_read: MMIO reads of live devices can have side
 * effects. */
static void test_bar_read_rejects(void **state)
{
	for (size_t i = 0; i < g_nsys; i++) {
		const struct sysdev *s = &g_sys[i];
		if (s->dom > PCICAP_DOMAIN_MAX)
			continue;
		uint8_t buf[8];
		assert_int_equal(B->bar_read(g_ctx, s->bdf, -1, 0, buf, 4), PCI_ERR_EINVAL);
		assert_int_equal(B->bar_read(g_ctx, s->bdf, 6, 0, buf, 4), PCI_ERR_EINVAL);
		assert_int_equal(B->bar_read(g_ctx, s->bdf, 0, 0, buf, 3), PCI_ERR_EINVAL);
		assert_int_equal(B->bar_read(g_ctx, s->bdf, 0, 2, buf, 4), PCI_ERR_EINVAL);
		for (int bar = 0; bar < 6; bar++) {
			pci_ba_t ba;
			pci_err_t e = B->bar_info(g_ctx, s->bdf, bar, &ba);
			if (e == PCI_ERR_ENOENT) {
				assert_int_equal(B->bar_read(g_ctx, s->bdf, bar, 0, buf, 4),
						 PCI_ERR_ENOENT);
				continue;
			}
			assert_int_equal(e, PCI_ERR_OK);
			if (ba.type == pci_asType_e_IO) {
				assert_int_equal(B->bar_read(g_ctx, s->bdf, bar, 0, buf, 4),
						 PCI_ERR_ENOTSUP);
				continue;
			}
			/* Past the end: refused before mapping. */
			assert_int_equal(B->bar_read(g_ctx, s->bdf, bar, ba.size, buf, 4),
					 PCI_ERR_EINVAL);
		}
	}
}

/* A read-only view: mapping does not access the device; never dereferenced. */
static void test_bar_map(void **state)
{
	int tried = 0;
	for (size_t i = 0; i < g_nsys && !tried; i++) {
		const struct sysdev *s = &g_sys[i];
		if (s->dom > PCICAP_DOMAIN_MAX)
			continue;
		for (int bar = 0; bar < 6 && !tried; bar++) {
			pci_ba_t ba;
			if (B->bar_info(g_ctx, s->bdf, bar, &ba) != PCI_ERR_OK ||
			    ba.type != pci_asType_e_MEM)
				continue;
			tried = 1;
			char p[256], file[24];
			snprintf(file, sizeof(file), "resource%d", bar);
			sys_path(p, sizeof(p), s, file);
			int may = access(p, R_OK) == 0;
			uint64_t len = ba.size < 16 ? ba.size : 16;
			static const char sentinel;
			const volatile void *ptr = &sentinel;
			int errs = atomic_load(&g_log_errors);
			pci_err_t e = B->bar_map(g_ctx, s->bdf, bar, 0, len, &ptr);
			if (!may) {
				/* resourceN is root-only: a clear error, logged. */
				assert_int_equal(e, PCI_ERR_MMAP_DEV);
				assert_null(ptr);
				assert_true(atomic_load(&g_log_errors) > errs);
				continue;
			}
			assert_int_equal(e, PCI_ERR_OK);
			assert_non_null(ptr);
			/* A second window of the same BAR comes from the same view. */
			const volatile void *ptr2 = NULL;
			assert_int_equal(B->bar_map(g_ctx, s->bdf, bar, ba.size - len, len, &ptr2),
					 PCI_ERR_OK);
			assert_true((uintptr_t)ptr2 - (uintptr_t)ptr == ba.size - len);
			assert_int_equal(B->bar_unmap(g_ctx, s->bdf, ptr2, len), PCI_ERR_OK);
			assert_int_equal(B->bar_unmap(g_ctx, s->bdf, ptr, len), PCI_ERR_OK);
			assert_int_equal(B->bar_map(g_ctx, s->bdf, bar, ba.size, 4, &ptr2),
					 PCI_ERR_EINVAL);
			int local;
			assert_int_equal(B->bar_unmap(g_ctx, s->bdf, &local, 4), PCI_ERR_EINVAL);
		}
	}
	if (!tried)
		skip();
}

/*
 * Writes to a function with a kernel driver are refused. The test checks the
 * binding itself and stops (fails) rather than calling a write op on any
 * function it does not see bound.
 */
static void test_write_refused_when_driver_bound(void **state)
{
	assert_null(getenv("PCICAP_PCIACCESS_WRITE"));
	const struct sysdev *s = first_bound();
	if (!s)
		skip(); /* nothing bound: no write may be attempted at all */
	size_t n;
	pcicap_backend_dev_t *devs = scan_all(&n);
	const pcicap_backend_dev_t *d = find_dev(devs, n, s->bdf);
	assert_non_null(d);
	uint_t cfg_size = d->cfg_size;
	free(devs);

	uint8_t vid[2];
	assert_int_equal(B->cfg_read(g_ctx, s->bdf, PCII_CFG_VID, vid, 2), PCI_ERR_OK);

	/* 1. Out of range: even a broken guard could not reach the device. */
	if (!driver_bound(s))
		fail_msg("%s: driver went away; not calling cfg_write", s->name);
	pci_err_t e = B->cfg_write(g_ctx, s->bdf, cfg_size, vid, 2);
	if (e != PCI_ERR_CFG_ACCESS)
		fail_msg("%s: out-of-range cfg_write was not refused by the driver guard (%d); "
			 "stopping before any in-range write",
			 s->name, (int)e);

	/* 2. In range: the read-only Vendor ID, with its own value. */
	if (!driver_bound(s))
		fail_msg("%s: driver went away; not calling cfg_write", s->name);
	assert_int_equal(B->cfg_write(g_ctx, s->bdf, PCII_CFG_VID, vid, 2), PCI_ERR_CFG_ACCESS);

	/* BAR memory: the same guard, out of range first. */
	for (int bar = 0; bar < 6; bar++) {
		pci_ba_t ba;
		if (B->bar_info(g_ctx, s->bdf, bar, &ba) != PCI_ERR_OK)
			continue;
		uint32_t zero = 0;
		if (!driver_bound(s))
			fail_msg("%s: driver went away; not calling bar_write", s->name);
		assert_int_equal(B->bar_write(g_ctx, s->bdf, bar, ba.size, &zero, 4),
				 PCI_ERR_CFG_ACCESS);
	}
}

static void test_chassis_slot(void **state)
{
	for (size_t i = 0; i < g_nsys; i++) {
		const struct sysdev *s = &g_sys[i];
		if (s->dom > PCICAP_DOMAIN_MAX)
			continue;
		/* Expected value from the slots directory, read independently. */
		unsigned expect = 0;
		DIR *dir = opendir(SYS_SLOTS);
		struct dirent *de;
		while (dir && (de = readdir(dir))) {
			char p[512], text[64] = {0};
			unsigned dom, bus, dev;
			snprintf(p, sizeof(p), SYS_SLOTS "/%s/address", de->d_name);
			FILE *f = fopen(p, "r");
			if (!f)
				continue;
			int ok = fgets(text, sizeof(text), f) != NULL;
			fclose(f);
			if (!ok || sscanf(text, "%x:%x:%x", &dom, &bus, &dev) != 3)
				continue;
			if (dom != s->dom || bus != s->bus || dev != s->dev)
				continue;
			char *end;
			unsigned long v = strtoul(de->d_name, &end, 10);
			if (*end == '\0' && end != de->d_name && v >= 1 && v < PCI_CS_MAX_SLOTS) {
				expect = (unsigned)v;
				break;
			}
		}
		if (dir)
			closedir(dir);
		pci_cs_t cs = PCI_CS_NONE;
		assert_int_equal(B->chassis_slot(g_ctx, s->bdf, &cs), PCI_ERR_OK);
		assert_int_equal(PCI_CHASSIS(cs), 0);
		assert_int_equal(PCI_SLOT(cs), expect);
	}
}

static void test_scope_host(void **state)
{
	for (size_t i = 0; i < g_nsys; i++)
		if (g_sys[i].dom <= PCICAP_DOMAIN_MAX)
			assert_string_equal(B->scope(g_ctx, g_sys[i].bdf), "host");
}

/* Access ops from many threads at once. */
struct reader_arg {
	int failures;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < g_nsys; i++) {
			const struct sysdev *s = &g_sys[i];
			if (s->dom > PCICAP_DOMAIN_MAX)
				continue;
			uint8_t b[4];
			if (B->cfg_read(g_ctx, s->bdf, 0, b, 4) != PCI_ERR_OK ||
			    B->present(g_ctx, s->bdf) != PCI_ERR_OK)
				a->failures++;
			pci_ba_t ba;
			pci_err_t e = B->bar_info(g_ctx, s->bdf, 0, &ba);
			if (e != PCI_ERR_OK && e != PCI_ERR_ENOENT)
				a->failures++;
		}
	}
	return NULL;
}

static void test_concurrent_reads(void **state)
{
	enum { NT = 4 };
	pthread_t t[NT];
	struct reader_arg a[NT] = {{0}};
	for (int i = 0; i < NT; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &a[i]), 0);
	for (int i = 0; i < NT; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].failures, 0);
	}
}

int main(void)
{
	/* The write guard must be active: never run this suite with the opt-in. */
	unsetenv("PCICAP_PCIACCESS_WRITE");

	g_nsys = list_sysfs(&g_sys);
	if (g_nsys == 0) {
		printf("# SKIP: no devices in " SYS_DEVICES "\n");
		free(g_sys);
		return SKIP_EXIT;
	}
	for (size_t i = 0; i < g_nsys; i++)
		if (g_sys[i].dom > PCICAP_DOMAIN_MAX)
			g_nskipped++;

	pci_verbosity = PCICAP_LOG_DEBUG;
	pcicap_set_log_handler(log_handler, NULL);
	if (B->init(&g_ctx) != PCI_ERR_OK) {
		printf("# SKIP: libpciaccess cannot initialise\n");
		free(g_sys);
		return SKIP_EXIT;
	}

	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_scan_matches_sysfs),
	    cmocka_unit_test(test_init_refcount),
	    cmocka_unit_test(test_present),
	    cmocka_unit_test(test_unknown_device),
	    cmocka_unit_test(test_ids_match_sysfs),
	    cmocka_unit_test(test_config_matches_sysfs),
	    cmocka_unit_test(test_cfg_size),
	    cmocka_unit_test(test_unprivileged_short_read),
	    cmocka_unit_test(test_bar_info_matches_resource),
	    cmocka_unit_test(test_bar_read_rejects),
	    cmocka_unit_test(test_bar_map),
	    cmocka_unit_test(test_write_refused_when_driver_bound),
	    cmocka_unit_test(test_chassis_slot),
	    cmocka_unit_test(test_scope_host),
	    cmocka_unit_test(test_concurrent_reads),
	};
	int rc = cmocka_run_group_tests_name("hw", tests, NULL, NULL);
	B->fini(g_ctx);
	free(g_sys);
	return rc;
}
