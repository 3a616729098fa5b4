/*
 * Shared by the guest programs of the VFIO end-to-end test: they run inside
 * the QEMU guest (tests/e2e/vfio-e2e.sh), on devices bound to vfio-pci, and
 * use nothing but the public API. Each prints "E2E <what>: ..." lines and
 * exits 0 only when every check passed.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_E2E_UTIL_H
#define PCICAP_E2E_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pci/pci.h>
#include <pcicap/irq.h>
#include <pcicap/pcicap.h>

static int e2e_failures;
static const char *e2e_name = "e2e";

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("E2E %s: FAIL %s:%d: %s: ", e2e_name, __FILE__, __LINE__, #cond);   \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			e2e_failures++;                                                            \
		}                                                                                  \
	} while (0)

#define CHECK_ERR(call, want)                                                                      \
	do {                                                                                       \
		pci_err_t e2e_e = (call);                                                          \
		CHECK(e2e_e == (want), "%s returned %d (%s), want %d", #call, (int)e2e_e,         \
		      pci_strerror(e2e_e), (int)(want));                                           \
	} while (0)

#define NOTE(...)                                                                                  \
	do {                                                                                       \
		printf("E2E %s: ", e2e_name);                                                      \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
	} while (0)

static inline double e2e_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Wait up to @ms for @fd; the interrupt count read from it (0: none). */
static inline uint64_t e2e_wait(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, ms) != 1)
		return 0;
	uint64_t n = 0;
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

/* Interrupts waiting on @fd right now, consumed (0: none). */
static inline uint64_t e2e_drain(int fd)
{
	return e2e_wait(fd, 0);
}

/* The device named by the environment variable, or the first vid:did. */
static inline pci_bdf_t e2e_find(const char *env, pci_vid_t vid, pci_did_t did)
{
	const char *s = getenv(env);
	unsigned dom, bus, dev, fn;
	if (s && sscanf(s, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4)
		return PCICAP_BDF(dom, bus, dev, fn);
	return pci_device_find(0, vid, did, PCI_CCODE_ANY);
}

/* The device's real config bytes, as the kernel reads them from the
 * hardware (sysfs), bypassing VFIO's virtualized view. */
static inline uint32_t e2e_real_cfg(pci_bdf_t bdf, unsigned off, unsigned len)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%04x:%02x:%02x.%x/config",
		 PCICAP_BDF_DOMAIN(bdf), PCI_BUS(bdf), PCI_DEV(bdf), PCI_FUNC(bdf));
	uint8_t b[4] = {0};
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		if (pread(fd, b, len, off) != (ssize_t)len)
			memset(b, 0xFF, sizeof(b));
		close(fd);
	}
	uint32_t v = 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static inline uint32_t e2e_rd32(pci_devhdl_t h, int bar, uint64_t off)
{
	uint64_t v = 0;
	pci_err_t e = pcicap_bar_read(h, bar, off, 4, &v);
	CHECK(e == PCI_ERR_OK, "BAR%d read at 0x%llx: %s", bar, (unsigned long long)off,
	      pci_strerror(e));
	return (uint32_t)v;
}

static inline void e2e_wr32(pci_devhdl_t h, int bar, uint64_t off, uint32_t v)
{
	pci_err_t e = pcicap_bar_write(h, bar, off, 4, v);
	CHECK(e == PCI_ERR_OK, "BAR%d write at 0x%llx: %s", bar, (unsigned long long)off,
	      pci_strerror(e));
}

static inline void e2e_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static inline int e2e_result(void)
{
	NOTE("%s (%d failed checks)", e2e_failures ? "FAILED" : "passed", e2e_failures);
	return e2e_failures ? 1 : 0;
}

#endif
