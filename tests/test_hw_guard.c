/*
 * Suite "hw": the pciaccess backend's write guard, proven without a single
 * write to the host's devices.
 *
 * The backend (lib/backends/pciaccess.c, compiled in) is linked with
 * -Wl,--wrap for the three ways it can write to a device: libpciaccess's
 * pci_device_cfg_write(), and open() of a sysfs resourceN file read-write
 * (the writable BAR view; libpciaccess's pci_device_map_range() is wrapped
 * too, for writable mappings). The wrappers only count the attempt and
 * refuse it (EPERM); they never pass a write on. Then:
 *  - with the guard on (PCICAP_PCIACCESS_WRITE unset), config and BAR writes
 *    in range to every function bound to a kernel driver are refused with
 *    PCI_ERR_CFG_ACCESS and not one attempt reaches a wrapper: the refusal
 *    comes before any write;
 *  - with the opt-in (PCICAP_PCIACCESS_WRITE=1), the same calls reach the
 *    wrappers (and stop there): so the first check could fail.
 * Skips (77) without a PCI bus, and cases skip when no function is bound.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pciaccess.h>

#include "internal.h"

#define SKIP_EXIT 77

static const pcicap_backend_t *const B = &pcii_backend_pciaccess;
static atomic_int cfg_writes, rw_opens, rw_maps;

/* ---- the wrapped write paths: counted and refused, never passed on ---- */

int __wrap_pci_device_cfg_write(struct pci_device *dev, const void *data, pciaddr_t offset,
				pciaddr_t size, pciaddr_t *bytes_written);
int __real_pci_device_map_range(struct pci_device *dev, pciaddr_t base, pciaddr_t size,
				unsigned map_flags, void **addr);
int __wrap_pci_device_map_range(struct pci_device *dev, pciaddr_t base, pciaddr_t size,
				unsigned map_flags, void **addr);
int __real_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);

int __wrap_pci_device_cfg_write(struct pci_device *dev, const void *data, pciaddr_t offset,
				pciaddr_t size, pciaddr_t *bytes_written)
{
	(void)dev;
	(void)data;
	(void)offset;
	(void)size;
	if (bytes_written)
		*bytes_written = 0;
	atomic_fetch_add(&cfg_writes, 1);
	return EPERM;
}

int __wrap_pci_device_map_range(struct pci_device *dev, pciaddr_t base, pciaddr_t size,
				unsigned map_flags, void **addr)
{
	if (map_flags & PCI_DEV_MAP_FLAG_WRITABLE) {
		atomic_fetch_add(&rw_maps, 1);
		return EPERM;
	}
	return __real_pci_device_map_range(dev, base, size, map_flags, addr);
}

/* A read-write open of a sysfs resource file is a writable BAR view. */
static bool refused_open(const char *path, int flags)
{
	if ((flags & O_ACCMODE) == O_RDONLY || !strstr(path, "/resource"))
		return false;
	atomic_fetch_add(&rw_opens, 1);
	errno = EPERM;
	return true;
}

/* open() and open64(): the same wrapper around each real one. */
#define WRAP_OPEN(fn)                                                                              \
	int __wrap_##fn(const char *path, int flags, ...)                                          \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, flags);                                                               \
		mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;       \
		va_end(ap);                                                                        \
		return refused_open(path, flags) ? -1 : __real_##fn(path, flags, mode);            \
	}
WRAP_OPEN(open64)
WRAP_OPEN(open)

/* ---- the functions bound to a kernel driver ---- */

static pci_bdf_t bound[256];
static size_t nbound;

static void list_bound(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	while (d && (e = readdir(d)) && nbound < 256) {
		unsigned dom, bus, dev, fn;
		if (sscanf(e->d_name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4 ||
		    dom > PCICAP_DOMAIN_MAX)
			continue;
		char link[300], target[256];
		snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/driver", e->d_name);
		if (readlink(link, target, sizeof(target)) <= 0)
			continue;
		bound[nbound++] = PCICAP_BDF(dom, bus, dev, fn);
	}
	if (d)
		closedir(d);
}

/* Every write a driver could make: config registers that matter (Command,
 * the capability area, the last dword) in each width, and each BAR. */
/* Returns how many BARs it wrote to. */
static int write_everything(void *ctx, pci_bdf_t bdf, bool guarded)
{
	int nbars = 0;
	uint8_t buf[8] = {0};
	const uint_t offs[] = {0x04, 0x40, 0x44, 0xFC};
	/* refused by the guard, or (EPERM) by a wrapper */
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (uint_t w = 1; w <= 4; w *= 2)
			assert_int_equal(B->cfg_write(ctx, bdf, offs[i], buf, w),
					 PCI_ERR_CFG_ACCESS);
	for (int bar = 0; bar < 6; bar++) {
		pci_ba_t ba;
		if (B->bar_info(ctx, bdf, bar, &ba) != PCI_ERR_OK || ba.type != pci_asType_e_MEM ||
		    ba.size < 4)
			continue;
		pci_err_t e = B->bar_write(ctx, bdf, bar, 0, buf, 4);
		nbars++;
		if (guarded)
			assert_int_equal(e, PCI_ERR_CFG_ACCESS);
		else
			assert_int_equal(e, PCI_ERR_MMAP_DEV); /* the wrapper refused the view */
	}
	return nbars;
}

static void test_guard_refuses_before_any_write(void **state)
{
	(void)state;
	if (!nbound)
		skip();
	unsetenv("PCICAP_PCIACCESS_WRITE");
	void *ctx;
	assert_int_equal(B->init(&ctx), PCI_ERR_OK);
	for (size_t i = 0; i < nbound; i++)
		write_everything(ctx, bound[i], true);
	B->fini(ctx);
	printf("# %zu functions bound to a driver: every write refused, %d attempts reached "
	       "libpciaccess or sysfs\n",
	       nbound, atomic_load(&cfg_writes) + atomic_load(&rw_opens) + atomic_load(&rw_maps));
	assert_int_equal(atomic_load(&cfg_writes), 0);
	assert_int_equal(atomic_load(&rw_opens), 0);
	assert_int_equal(atomic_load(&rw_maps), 0);
}

static void test_opt_in_reaches_the_wrappers(void **state)
{
	(void)state;
	if (!nbound)
		skip();
	setenv("PCICAP_PCIACCESS_WRITE", "1", 1);
	void *ctx;
	assert_int_equal(B->init(&ctx), PCI_ERR_OK);
	unsetenv("PCICAP_PCIACCESS_WRITE");
	int before = atomic_load(&cfg_writes), opens = atomic_load(&rw_opens);
	int nbars = write_everything(ctx, bound[0], false);
	B->fini(ctx);
	assert_int_equal(atomic_load(&cfg_writes) - before, 12);
	assert_int_equal(atomic_load(&rw_opens) - opens, nbars);
	printf("# opt-in: 12 config writes and %d BAR views stopped by the wrappers\n", nbars);
}

int main(void)
{
	unsetenv("PCICAP_PCIACCESS_WRITE");
	DIR *d = opendir("/sys/bus/pci/devices");
	bool any = false;
	struct dirent *e;
	while (d && (e = readdir(d)))
		any |= e->d_name[0] != '.';
	if (d)
		closedir(d);
	void *probe;
	if (!any || B->init(&probe) != PCI_ERR_OK) {
		printf("# SKIP: no PCI bus, or libpciaccess cannot initialise\n");
		return SKIP_EXIT;
	}
	B->fini(probe);
	list_bound();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guard_refuses_before_any_write),
	    cmocka_unit_test(test_opt_in_reaches_the_wrappers),
	};
	return cmocka_run_group_tests_name("hw-guard", tests, NULL, NULL);
}
