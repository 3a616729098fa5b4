/*
 * pcicap internals shared between the library's source files.
 * Cross-file internal names use the pcii_ prefix; exported ones are marked
 * PCICAP_EXPORT (the library is built with hidden visibility).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_INTERNAL_H
#define PCICAP_INTERNAL_H

#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>
#include <pcicap/backend.h>
#include <pcicap/cap_module.h>
#include <pcicap/pcicap.h>

#define PCICAP_EXPORT      __attribute__((visibility("default")))
/* On the library's extern variables: declared hidden, they are reached
 * PC-relative, without a load of their address from the GOT. */
#define PCII_HIDDEN        __attribute__((visibility("hidden")))
#define PCII_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PCII_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define PCII_MAX(a, b)     ((a) > (b) ? (a) : (b))

/* ---- logging (log.c) ---- */
void pcii_log(pcicap_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pcii_vlog(pcicap_log_level_t level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Caller misuse: logs at ERROR level (when enabled) and evaluates to err. */
#define pcii_bug(err, ...) (pcii_log(PCICAP_LOG_ERROR, __VA_ARGS__), (err))

/* ---- spin lock for ISR paths (no syscalls, no allocation) ---- */
typedef struct {
	atomic_flag f;
} pcii_spin_t;
#define PCII_SPIN_INIT                                                                             \
	{                                                                                          \
		ATOMIC_FLAG_INIT                                                                   \
	}
static inline void pcii_spin_lock(pcii_spin_t *s)
{
	while (atomic_flag_test_and_set_explicit(&s->f, memory_order_acquire)) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
}
static inline void pcii_spin_unlock(pcii_spin_t *s)
{
	atomic_flag_clear_explicit(&s->f, memory_order_release);
}

/* ---- little-endian helpers ---- */
/* A small sysfs text file into @text, NUL-terminated: its length (0 for an
 * empty file), or -1 with errno set. */
static inline ssize_t pcii_read_text(const char *path, char *text, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, size - 1);
	int e = errno;
	close(fd);
	if (n >= 0)
		text[n] = '\0';
	errno = e;
	return n;
}

/* Where an MSI-X capability's table and PBA are, from its Message Control,
 * Table Offset/BIR and PBA Offset/BIR registers. */
typedef struct {
	uint_t n;          /* table entries */
	int bir[2];        /* BAR of the table, of the PBA */
	uint64_t off[2];   /* their offsets in it */
	uint64_t len[2];   /* their lengths: 16 per entry; a qword per 64 entries */
} pcii_msix_layout_t;

static inline pcii_msix_layout_t pcii_msix_layout(uint32_t ctrl, uint32_t table, uint32_t pba)
{
	pcii_msix_layout_t l;
	l.n = (ctrl & 0x7FF) + 1;
	l.bir[0] = (int)(table & 7);
	l.bir[1] = (int)(pba & 7);
	l.off[0] = table & ~7u;
	l.off[1] = pba & ~7u;
	l.len[0] = 16ull * l.n;
	l.len[1] = (l.n + 63) / 64 * 8ull;
	return l;
}

/* A backend's scan answer: a malloc()ed copy of the pcicap_backend_dev_t
 * found at @first, @first + @stride, ... (@n records of a backend's table). */
static inline pci_err_t pcii_scan_copy(const void *first, size_t n, size_t stride,
				       pcicap_backend_dev_t **devs, size_t *ndevs)
{
	*devs = NULL;
	*ndevs = 0;
	if (n == 0)
		return PCI_ERR_OK;
	pcicap_backend_dev_t *out = malloc(n * sizeof(*out));
	if (!out)
		return PCI_ERR_ENOMEM;
	for (size_t i = 0; i < n; i++)
		memcpy(&out[i], (const char *)first + i * stride, sizeof(*out));
	*devs = out;
	*ndevs = n;
	return PCI_ERR_OK;
}

static inline uint64_t pcii_le_get(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}
static inline void pcii_le_put(uint8_t *p, unsigned len, uint64_t v)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- config-space register offsets used by more than one file ---- */
#define PCII_CFG_VID          0x00
#define PCII_CFG_DID          0x02
#define PCII_CFG_CMD          0x04
#define PCII_CFG_STATUS       0x06
#define PCII_CFG_REVID        0x08
#define PCII_CFG_CLSIZE       0x0C
#define PCII_CFG_LATENCY      0x0D
#define PCII_CFG_HDRTYPE      0x0E
#define PCII_CFG_BAR0         0x10
#define PCII_CFG_SSVID        0x2C
#define PCII_CFG_SSID         0x2E
#define PCII_CFG_ROM0         0x30
#define PCII_CFG_CAPPTR       0x34
#define PCII_CFG_ROM1         0x38 /* type 1 */
#define PCII_CFG_INTLINE      0x3C
#define PCII_CFG_DEVSPEC      0x40
#define PCII_CMD_IO           0x0001
#define PCII_CMD_MEM          0x0002
#define PCII_CMD_MASTER       0x0004
#define PCII_CMD_INTX_DISABLE 0x0400
#define PCII_STATUS_CAPLIST   0x0010
#define PCII_CAPID_PM         0x01
#define PCII_CAPID_MSI        0x05
#define PCII_CAPID_PCIE       0x10
#define PCII_CAPID_MSIX       0x11
#define PCII_CAPID_AF         0x13
#define PCII_CFG_SIZE         256u
#define PCII_CFG_SIZE_EXT     4096u

/* Length in bytes of the MSI capability with Message Control @p ctrl. */
static inline unsigned pcii_msi_cap_len(uint16_t ctrl)
{
	unsigned len = (ctrl & 0x0080) ? 14 : 10; /* 64-bit address adds 4 */
	if (ctrl & 0x0100)                        /* per-vector masking: mask + pending */
		len += 10;
	return len;
}
#define PCII_MSIX_CAP_LEN 12u

/* ---- built-in backends ---- */
extern PCII_HIDDEN const pcicap_backend_t pcii_backend_sim;
#ifdef PCICAP_HAVE_PCIACCESS
extern PCII_HIDDEN const pcicap_backend_t pcii_backend_pciaccess;
extern PCII_HIDDEN const pcicap_backend_t pcii_backend_vfio;
#endif

#endif
