/*
 * The "pciaccess" backend: the host's PCI functions, through libpciaccess
 * (Linux sysfs underneath).
 *
 * This is the only file of the project that includes <pciaccess.h>: the
 * library exports nothing from it but reaches it through the table
 * pcii_backend_pciaccess (docs/backends.md describes every op).
 *
 * What it does, in short:
 * - init() enumerates every function once (pci_system_init(), reference
 *   counted because libpciaccess keeps one global state) into an array sorted
 *   by (domain, bus, device, function); lookups are a binary search. The set
 *   is static for the life of the context (no generation op).
 * - Config reads and writes go through pci_device_cfg_read/write (the sysfs
 *   "config" file). An unprivileged process can read only the first 64 bytes
 *   (128 for CardBus bridges) of that file: a read that comes back short is
 *   PCI_ERR_CFG_ACCESS, not a failure of the device.
 * - Writes (config space and BAR memory) are refused with PCI_ERR_CFG_ACCESS
 *   while a kernel driver is bound to the function, unless the environment
 *   variable PCICAP_PCIACCESS_WRITE=1 was set when the backend was initialised.
 * - BAR memory is mapped lazily (read-only for reads, writable only for an
 *   allowed write) and kept until fini(); the access fast path is a volatile
 *   load or store through an atomically published pointer.
 * - Interrupt messages cannot be owned by plain Linux userspace: irq_alloc and
 *   friends are NULL, so the core answers PCI_ERR_IRQ_NOT_AVAIL.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pciaccess.h>

#include "internal.h"

#define PA_SYSFS_DEVICES "/sys/bus/pci/devices"
#define PA_SYSFS_SLOTS   "/sys/bus/pci/slots"
#define PA_WRITE_ENV     "PCICAP_PCIACCESS_WRITE"
#define PA_NBARS         6

/* "/sys/bus/pci/devices/" + "dddd:bb:dd.f" + NUL, with room to spare. */
#define PA_PATH_LEN 64

/* Kernel resource flags, as printed in the sysfs "resource" file. */
#define PA_IORESOURCE_PREFETCH 0x00002000ull

/* What probing told us about one BAR (copied out of libpciaccess). */
struct pa_region {
	uint64_t addr;
	uint64_t size; /* 0: not implemented (or left unassigned) */
	bool is_io;
	bool is_64;
	bool prefetch;
};

/* Mappings of one BAR. Published with release stores once the mapping is
 * complete; readers load them with acquire and need no lock. */
struct pa_view {
	_Atomic(uintptr_t) ro; /* read-only view of the whole BAR (0: none yet) */
	_Atomic(uintptr_t) rw; /* writable view, made only for an allowed write */
};

struct pa_dev {
	struct pci_device *pd;
	pcicap_backend_dev_t info; /* bdf (no ARI bit), uid, cfg_size */
	char path[PA_PATH_LEN];    /* sysfs directory of the function */
	/* Filled once by pa_probe_locked(); read after `probed` (acquire). */
	atomic_bool probed;
	pci_err_t probe_err;
	struct pa_region bar[PA_NBARS];
	struct pa_region rom;
	struct pa_view view[PA_NBARS];
	atomic_bool refusal_logged;
};

struct pa_ctx {
	struct pa_dev *devs; /* sorted by info.bdf */
	size_t ndevs;
	bool write_optin; /* PCICAP_PCIACCESS_WRITE=1 at init */
};

/*
 * libpciaccess keeps one global state (pci_sys) and its per-device mapping
 * lists are not thread-safe: every call into it that changes state (init,
 * cleanup, probe, map, unmap) happens under this lock. Config reads and
 * writes only open/pread/pwrite/close a sysfs file and need no lock.
 */
static pthread_mutex_t pa_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned pa_sys_refs;     /* contexts alive; pci_system_init() done when > 0 */
static uint64_t pa_uid_next = 1; /* never reused within the process */

/* errno from libpciaccess or a syscall -> pci_err_t, at the call. */
static pci_err_t pa_errno(int err)
{
	switch (err) {
	case 0: return PCI_ERR_OK;
	case ENODEV:
	case ENOENT: /* the sysfs file vanished: the function was removed */ return PCI_ERR_ENODEV;
	case EACCES:
	case EPERM: return PCI_ERR_CFG_ACCESS;
	case ENOMEM: return PCI_ERR_ENOMEM;
	default: return PCI_ERR_EIO;
	}
}

static int pa_cmp(const void *a, const void *b)
{
	pci_bdf_t x = ((const struct pa_dev *)a)->info.bdf;
	pci_bdf_t y = ((const struct pa_dev *)b)->info.bdf;
	return (x > y) - (x < y);
}

/*
 * Lookup by pci_bdf_t, O(log n). The table keys have no ARI bit; an
 * ARI-encoded bdf (bit 16, function in bits 7:0) has the same bits 7:0 as
 * device << 3 | function, so clearing bit 16 normalises it.
 */
static struct pa_dev *pa_find(struct pa_ctx *c, pci_bdf_t bdf)
{
	pci_bdf_t key = bdf & ~((pci_bdf_t)1 << _PCI_ARI_BIT);
	size_t lo = 0, hi = c->ndevs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		pci_bdf_t k = c->devs[mid].info.bdf;
		if (k == key)
			return &c->devs[mid];
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint_t pa_cfg_size_of(const char *dir)
{
	char p[PA_PATH_LEN + 16];
	struct stat st;
	snprintf(p, sizeof(p), "%s/config", dir);
	if (stat(p, &st) == 0 && st.st_size >= (off_t)PCII_CFG_SIZE_EXT)
		return PCII_CFG_SIZE_EXT;
	return PCII_CFG_SIZE;
}

static void pa_system_release_locked(void)
{
	if (pa_sys_refs > 0 && --pa_sys_refs == 0)
		pci_system_cleanup();
}

static pci_err_t pa_init(void **ctxp)
{
	if (!ctxp)
		return PCI_ERR_EINVAL;
	*ctxp = NULL;

	struct pa_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return PCI_ERR_ENOMEM;
	const char *w = getenv(PA_WRITE_ENV);
	c->write_optin = w && strcmp(w, "1") == 0;

	pthread_mutex_lock(&pa_lock);
	if (pa_sys_refs == 0) {
		int rc = pci_system_init();
		if (rc) {
			pci_system_cleanup(); /* frees a half-built state */
			pthread_mutex_unlock(&pa_lock);
			free(c);
			pcii_log(PCICAP_LOG_ERROR, "pciaccess: pci_system_init failed: %s",
				 strerror(rc));
			return rc == ENOMEM ? PCI_ERR_ENOMEM : PCI_ERR_ENODEV;
		}
	}
	pa_sys_refs++;

	/* Enumerate everything; count first, then fill. */
	struct pci_id_match any = {
	    .vendor_id = PCI_MATCH_ANY,
	    .device_id = PCI_MATCH_ANY,
	    .subvendor_id = PCI_MATCH_ANY,
	    .subdevice_id = PCI_MATCH_ANY,
	    .device_class = 0,
	    .device_class_mask = 0,
	    .match_data = 0,
	};
	pci_err_t err = PCI_ERR_OK;
	size_t total = 0;
	struct pci_device_iterator *it = pci_id_match_iterator_create(&any);
	if (!it) {
		err = PCI_ERR_ENOMEM;
		goto fail;
	}
	while (pci_device_next(it))
		total++;
	pci_iterator_destroy(it);

	if (total) {
		c->devs = calloc(total, sizeof(*c->devs));
		if (!c->devs) {
			err = PCI_ERR_ENOMEM;
			goto fail;
		}
	}
	it = pci_id_match_iterator_create(&any);
	if (!it) {
		err = PCI_ERR_ENOMEM;
		goto fail;
	}
	struct pci_device *pd;
	while ((pd = pci_device_next(it)) && c->ndevs < total) {
		if (pd->domain > PCICAP_DOMAIN_MAX) {
			pcii_log(PCICAP_LOG_INFO,
				 "pciaccess: skipping %04x:%02x:%02x.%u: domain above 0x%x "
				 "cannot be encoded in a pci_bdf_t",
				 pd->domain, pd->bus, pd->dev, pd->func, PCICAP_DOMAIN_MAX);
			continue;
		}
		struct pa_dev *d = &c->devs[c->ndevs++];
		d->pd = pd;
		d->info.bdf = PCICAP_BDF(pd->domain, pd->bus, pd->dev, pd->func);
		snprintf(d->path, sizeof(d->path), PA_SYSFS_DEVICES "/%04x:%02x:%02x.%u",
			 pd->domain, pd->bus, pd->dev, pd->func);
	}
	pci_iterator_destroy(it);

	if (c->ndevs > 1)
		qsort(c->devs, c->ndevs, sizeof(*c->devs), pa_cmp);
	for (size_t i = 0; i < c->ndevs; i++) {
		struct pa_dev *d = &c->devs[i];
		d->info.uid = pa_uid_next++;
		d->info.cfg_size = pa_cfg_size_of(d->path);
	}
	pthread_mutex_unlock(&pa_lock);

	pcii_log(PCICAP_LOG_DEBUG, "pciaccess: %zu functions, writes to driver-bound devices %s",
		 c->ndevs, c->write_optin ? "allowed (" PA_WRITE_ENV "=1)" : "refused");
	*ctxp = c;
	return PCI_ERR_OK;

fail:
	pa_system_release_locked();
	pthread_mutex_unlock(&pa_lock);
	free(c->devs);
	free(c);
	pcii_log(PCICAP_LOG_ERROR, "pciaccess: enumeration failed: %s", pci_strerror(err));
	return err;
}

static void pa_fini(void *ctx)
{
	struct pa_ctx *c = ctx;
	if (!c)
		return;
	pthread_mutex_lock(&pa_lock);
	for (size_t i = 0; i < c->ndevs; i++) {
		struct pa_dev *d = &c->devs[i];
		for (int b = 0; b < PA_NBARS; b++) {
			uintptr_t ro = atomic_load(&d->view[b].ro);
			uintptr_t rw = atomic_load(&d->view[b].rw);
			/* pci_system_cleanup() does not undo pci_device_map_range(). */
			if (ro)
				pci_device_unmap_range(d->pd, (void *)ro, d->bar[b].size);
			if (rw)
				munmap((void *)rw, d->bar[b].size);
		}
	}
	pa_system_release_locked();
	pthread_mutex_unlock(&pa_lock);
	free(c->devs);
	free(c);
}

static pci_err_t pa_scan(void *ctx, pcicap_backend_dev_t **devs, size_t *ndevs)
{
	struct pa_ctx *c = ctx;
	if (!c || !devs || !ndevs)
		return PCI_ERR_EINVAL;
	return pcii_scan_copy(c->ndevs ? &c->devs[0].info : NULL, c->ndevs, sizeof(c->devs[0]), devs,
			      ndevs);
}

/* One access() on a path built at init: cheap, async-signal-safe. */
static pci_err_t pa_present(void *ctx, pci_bdf_t bdf)
{
	struct pa_dev *d = pa_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	return access(d->path, F_OK) == 0 ? PCI_ERR_OK : PCI_ERR_ENODEV;
}

static bool pa_cfg_range_ok(const struct pa_dev *d, uint_t off, uint_t len)
{
	return len > 0 && off < d->info.cfg_size && len <= d->info.cfg_size - off;
}

static pci_err_t pa_cfg_read(void *ctx, pci_bdf_t bdf, uint_t off, void *buf, uint_t len)
{
	struct pa_dev *d = pa_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!buf || !pa_cfg_range_ok(d, off, len))
		return PCI_ERR_EINVAL;
	pciaddr_t got = 0;
	int rc = pci_device_cfg_read(d->pd, buf, off, len, &got);
	if (rc)
		return pa_errno(rc);
	/* sysfs ends the file early for unprivileged readers (64 bytes, 128
	 * for CardBus): the register exists, we may not see it. */
	if (got != len)
		return PCI_ERR_CFG_ACCESS;
	return PCI_ERR_OK;
}

/*
 * The write guard, checked before anything else on every write path.
 * pci_device_has_kernel_driver() is one stat() of the "driver" link, so a
 * driver bound after init is noticed at the next write.
 */
static pci_err_t pa_write_allowed(const struct pa_ctx *c, struct pa_dev *d)
{
	if (c->write_optin || !pci_device_has_kernel_driver(d->pd))
		return PCI_ERR_OK;
	if (!atomic_exchange(&d->refusal_logged, true))
		pcii_log(PCICAP_LOG_WARN,
			 "pciaccess: write to %s refused: a kernel driver is bound "
			 "(set " PA_WRITE_ENV "=1 to allow)",
			 d->path + sizeof(PA_SYSFS_DEVICES));
	return PCI_ERR_CFG_ACCESS;
}

/* The kernel driver bound to the function: the last component of the sysfs
 * "driver" link (read-only: one readlink()). */
static pci_err_t pa_driver(void *ctx, pci_bdf_t bdf, char *buf, size_t len)
{
	struct pa_dev *d = pa_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	char p[PA_PATH_LEN + 16], target[PATH_MAX];
	snprintf(p, sizeof(p), "%s/driver", d->path);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? PCI_ERR_ENOENT : pa_errno(errno);
	target[n] = '\0';
	const char *name = strrchr(target, '/');
	name = name ? name + 1 : target;
	if (strlen(name) >= len)
		return PCI_ERR_EINVAL;
	strcpy(buf, name);
	return PCI_ERR_OK;
}

static pci_err_t pa_cfg_write(void *ctx, pci_bdf_t bdf, uint_t off, const void *buf, uint_t len)
{
	struct pa_ctx *c = ctx;
	struct pa_dev *d = pa_find(c, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	pci_err_t e = pa_write_allowed(c, d);
	if (e)
		return e;
	if (!buf || !pa_cfg_range_ok(d, off, len))
		return PCI_ERR_EINVAL;
	pciaddr_t put = 0;
	int rc = pci_device_cfg_write(d->pd, buf, off, len, &put);
	if (rc)
		return pa_errno(rc);
	return put == len ? PCI_ERR_OK : PCI_ERR_EIO;
}

/* The expansion ROM line (the 7th) of the sysfs "resource" file:
 * libpciaccess reports the ROM size but keeps its address private. */
static void pa_read_rom_line(struct pa_dev *d)
{
	char p[PA_PATH_LEN + 16];
	char text[1024];
	snprintf(p, sizeof(p), "%s/resource", d->path);
	if (pcii_read_text(p, text, sizeof(text)) <= 0)
		return;
	const char *line = text;
	for (int i = 0; i < PA_NBARS && line; i++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	unsigned long long start, end, flags;
	if (line && sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3 && start != 0 &&
	    end > start) {
		d->rom.addr = start;
		d->rom.prefetch = (flags & PA_IORESOURCE_PREFETCH) != 0;
	}
}

/* pci_device_probe() once per device; pa_lock held. */
static pci_err_t pa_probe_locked(struct pa_dev *d)
{
	if (atomic_load_explicit(&d->probed, memory_order_acquire))
		return d->probe_err;
	int rc = pci_device_probe(d->pd);
	if (rc) {
		d->probe_err = pa_errno(rc);
		pcii_log(PCICAP_LOG_ERROR, "pciaccess: probing %s failed: %s", d->path,
			 strerror(rc));
	} else {
		for (int b = 0; b < PA_NBARS; b++) {
			const struct pci_mem_region *r = &d->pd->regions[b];
			if (r->base_addr == 0 || r->size == 0)
				continue; /* unimplemented, or never assigned */
			d->bar[b] = (struct pa_region){
			    .addr = r->base_addr,
			    .size = r->size,
			    .is_io = r->is_IO,
			    .is_64 = r->is_64,
			    .prefetch = r->is_prefetchable,
			};
		}
		if (d->pd->rom_size) {
			pa_read_rom_line(d);
			if (d->rom.addr)
				d->rom.size = d->pd->rom_size;
		}
		d->probe_err = PCI_ERR_OK;
	}
	atomic_store_explicit(&d->probed, true, memory_order_release);
	return d->probe_err;
}

static pci_err_t pa_probe(struct pa_dev *d)
{
	if (atomic_load_explicit(&d->probed, memory_order_acquire))
		return d->probe_err;
	pthread_mutex_lock(&pa_lock);
	pci_err_t e = pa_probe_locked(d);
	pthread_mutex_unlock(&pa_lock);
	return e;
}

static pci_err_t pa_bar_info(void *ctx, pci_bdf_t bdf, int bar, pci_ba_t *ba)
{
	struct pa_dev *d = pa_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!ba || bar < -1 || bar >= PA_NBARS)
		return PCI_ERR_EINVAL;
	pci_err_t e = pa_probe(d);
	if (e)
		return e;
	const struct pa_region *r = bar < 0 ? &d->rom : &d->bar[bar];
	if (r->size == 0)
		return PCI_ERR_ENOENT;
	memset(ba, 0, sizeof(*ba));
	ba->addr = r->addr;
	ba->size = r->size;
	ba->type = r->is_io ? pci_asType_e_IO : pci_asType_e_MEM;
	unsigned attr = r->is_64 ? pci_asAttr_e_64BIT : pci_asAttr_e_32BIT;
	if (r->prefetch)
		attr |= pci_asAttr_e_PREFETCH;
	if (bar < 0)
		attr |= pci_asAttr_e_EXPANSION_ROM;
	ba->attr = (pci_asAttr_e)attr;
	ba->bar_num = bar;
	return PCI_ERR_OK;
}

static bool pa_bar_range_ok(const struct pa_region *r, uint64_t off, uint64_t len)
{
	return len > 0 && off < r->size && len <= r->size - off;
}

static bool pa_width_ok(uint64_t off, uint_t len)
{
	return (len == 1 || len == 2 || len == 4 || len == 8) && (off & (len - 1)) == 0;
}

/*
 * Slow path of every BAR access: probe, check, and map BAR @p bar once.
 * Read-only views come from pci_device_map_range() without the WRITABLE flag
 * (it opens resourceN O_RDONLY). libpciaccess refuses a second mapping with
 * the same base and size, so the writable view, made only after the write
 * guard passed, is an mmap() of the same resourceN file opened O_RDWR.
 * Bounds are checked before anything is mapped.
 */
static pci_err_t pa_view_get(struct pa_dev *d, int bar, bool writable, uint64_t off, uint64_t len,
			     uintptr_t *out)
{
	pthread_mutex_lock(&pa_lock);
	pci_err_t e = pa_probe_locked(d);
	if (e)
		goto out;
	const struct pa_region *r = &d->bar[bar];
	if (r->size == 0) {
		e = PCI_ERR_ENOENT;
		goto out;
	}
	if (r->is_io) { /* port I/O: no memory view (MSI-X lives in memory BARs) */
		e = PCI_ERR_ENOTSUP;
		goto out;
	}
	if (!pa_bar_range_ok(r, off, len)) {
		e = PCI_ERR_EINVAL;
		goto out;
	}
	_Atomic(uintptr_t) *slot = writable ? &d->view[bar].rw : &d->view[bar].ro;
	uintptr_t v = atomic_load_explicit(slot, memory_order_acquire);
	if (!v && !writable) /* a writable view serves reads as well */
		v = atomic_load_explicit(&d->view[bar].rw, memory_order_acquire);
	if (v)
		goto done;

	int rc;
	void *p = NULL;
	if (!writable) {
		rc = pci_device_map_range(d->pd, r->addr, r->size, 0, &p);
	} else {
		char path[PA_PATH_LEN + 16];
		snprintf(path, sizeof(path), "%s/resource%d", d->path, bar);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		rc = fd < 0 ? errno : 0;
		if (fd >= 0) {
			p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED) {
				rc = errno;
				p = NULL;
			}
			close(fd);
		}
	}
	if (rc || !p) {
		pcii_log(PCICAP_LOG_ERROR, "pciaccess: cannot map BAR %d of %s %s: %s%s", bar,
			 d->path, writable ? "writable" : "read-only", strerror(rc ? rc : EIO),
			 (rc == EACCES || rc == EPERM)
			     ? " (mapping BARs through sysfs needs root / CAP_SYS_ADMIN)"
			 : rc == ENOENT ? " (this kernel offers no resourceN file to map)"
					: "");
		e = PCI_ERR_MMAP_DEV;
		goto out;
	}
	v = (uintptr_t)p;
	atomic_store_explicit(slot, v, memory_order_release);
done:
	*out = v;
out:
	pthread_mutex_unlock(&pa_lock);
	return e;
}

/* A view for reading: the writable one if it exists, else the read-only one. */
static uintptr_t pa_view_for_read(struct pa_dev *d, int bar)
{
	uintptr_t v = atomic_load_explicit(&d->view[bar].rw, memory_order_acquire);
	return v ? v : atomic_load_explicit(&d->view[bar].ro, memory_order_acquire);
}

/* The read-only view of BAR @bar (mapped at its first use), checked to
 * hold [off, off+len). A published view implies the region was probed. */
static pci_err_t pa_read_view(struct pa_dev *d, int bar, uint64_t off, uint64_t len,
			      uintptr_t *base)
{
	*base = pa_view_for_read(d, bar);
	if (!*base) {
		pci_err_t e = pa_view_get(d, bar, false, off, len, base);
		if (e)
			return e;
	}
	return pa_bar_range_ok(&d->bar[bar], off, len) ? PCI_ERR_OK : PCI_ERR_EINVAL;
}

static pci_err_t pa_bar_read(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, void *buf, uint_t len)
{
	struct pa_dev *d = pa_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!buf || bar < 0 || bar >= PA_NBARS || !pa_width_ok(off, len))
		return PCI_ERR_EINVAL;
	uintptr_t base;
	pci_err_t verr = pa_read_view(d, bar, off, len, &base);
	if (verr != PCI_ERR_OK)
		return verr;
	/* Device byte order is kept: buf gets the bytes as they sit on the bus. */
	const volatile void *p = (const volatile void *)(base + off);
	switch (len) {
	case 1: {
		uint8_t v = *(const volatile uint8_t *)p;
		memcpy(buf, &v, 1);
		break;
	}
	case 2: {
		uint16_t v = *(const volatile uint16_t *)p;
		memcpy(buf, &v, 2);
		break;
	}
	case 4: {
		uint32_t v = *(const volatile uint32_t *)p;
		memcpy(buf, &v, 4);
		break;
	}
	default: {
		uint64_t v = *(const volatile uint64_t *)p;
		memcpy(buf, &v, 8);
		break;
	}
	}
	return PCI_ERR_OK;
}

static pci_err_t pa_bar_write(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, const void *buf,
			      uint_t len)
{
	struct pa_ctx *c = ctx;
	struct pa_dev *d = pa_find(c, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	pci_err_t e = pa_write_allowed(c, d);
	if (e)
		return e;
	if (!buf || bar < 0 || bar >= PA_NBARS || !pa_width_ok(off, len))
		return PCI_ERR_EINVAL;
	uintptr_t base = atomic_load_explicit(&d->view[bar].rw, memory_order_acquire);
	if (!base) {
		e = pa_view_get(d, bar, true, off, len, &base);
		if (e)
			return e;
	}
	if (!pa_bar_range_ok(&d->bar[bar], off, len))
		return PCI_ERR_EINVAL;
	volatile void *p = (volatile void *)(base + off);
	switch (len) {
	case 1: {
		uint8_t v;
		memcpy(&v, buf, 1);
		*(volatile uint8_t *)p = v;
		break;
	}
	case 2: {
		uint16_t v;
		memcpy(&v, buf, 2);
		*(volatile uint16_t *)p = v;
		break;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, buf, 4);
		*(volatile uint32_t *)p = v;
		break;
	}
	default: {
		uint64_t v;
		memcpy(&v, buf, 8);
		*(volatile uint64_t *)p = v;
		break;
	}
	}
	return PCI_ERR_OK;
}

/* A window into the BAR's view; the view itself lives until fini(). */
static pci_err_t pa_bar_map(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, uint64_t len,
			    const volatile void **ptr)
{
	struct pa_dev *d = pa_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!ptr || bar < 0 || bar >= PA_NBARS)
		return PCI_ERR_EINVAL;
	*ptr = NULL;
	uintptr_t base;
	pci_err_t verr = pa_read_view(d, bar, off, len, &base);
	if (verr != PCI_ERR_OK)
		return verr;
	*ptr = (const volatile void *)(base + off);
	return PCI_ERR_OK;
}

static pci_err_t pa_bar_unmap(void *ctx, pci_bdf_t bdf, const volatile void *ptr, uint64_t len)
{
	struct pa_dev *d = pa_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	uintptr_t p = (uintptr_t)ptr;
	for (int b = 0; b < PA_NBARS; b++) {
		uintptr_t views[2] = {
		    atomic_load_explicit(&d->view[b].ro, memory_order_acquire),
		    atomic_load_explicit(&d->view[b].rw, memory_order_acquire),
		};
		for (int i = 0; i < 2; i++) {
			if (views[i] && p >= views[i] &&
			    pa_bar_range_ok(&d->bar[b], p - views[i], len ? len : 1))
				return PCI_ERR_OK; /* nothing to undo per window */
		}
	}
	return PCI_ERR_EINVAL;
}

/* Parse "dddd:bb:dd" (the sysfs slot address); 0 on success. */
static int pa_parse_slot_addr(const char *s, unsigned *dom, unsigned *bus, unsigned *dev)
{
	char *end;
	unsigned long v[3];
	for (int i = 0; i < 3; i++) {
		if (!isxdigit((unsigned char)*s))
			return -1;
		v[i] = strtoul(s, &end, 16);
		if (i < 2 && *end != ':')
			return -1;
		s = end + 1;
	}
	if (*end != '\0' && *end != '\n' && *end != '.')
		return -1;
	*dom = (unsigned)v[0];
	*bus = (unsigned)v[1];
	*dev = (unsigned)v[2];
	return 0;
}

/*
 * Physical slots: /sys/bus/pci/slots/<name>/address holds "dddd:bb:dd". A
 * slot named by a decimal number N (1..8191) gives PCI_CS(0, N) for every
 * function of the device in it; anything else gives PCI_CS(0, 0).
 */
static pci_err_t pa_chassis_slot(void *ctx, pci_bdf_t bdf, pci_cs_t *cs)
{
	struct pa_dev *d = pa_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!cs)
		return PCI_ERR_EINVAL;
	*cs = PCI_CS(0, 0);
	DIR *dir = opendir(PA_SYSFS_SLOTS);
	if (!dir)
		return PCI_ERR_OK;
	unsigned want_dom = d->pd->domain, want_bus = d->pd->bus, want_dev = d->pd->dev;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		char p[300];
		char text[64];
		snprintf(p, sizeof(p), PA_SYSFS_SLOTS "/%s/address", de->d_name);
		if (pcii_read_text(p, text, sizeof(text)) <= 0)
			continue;
		unsigned dom, bus, dev;
		if (pa_parse_slot_addr(text, &dom, &bus, &dev) || dom != want_dom ||
		    bus != want_bus || dev != want_dev)
			continue;
		char *end;
		errno = 0;
		unsigned long num = strtoul(de->d_name, &end, 10);
		if (isdigit((unsigned char)de->d_name[0]) && *end == '\0' && errno == 0 &&
		    num >= 1 && num < PCI_CS_MAX_SLOTS) {
			*cs = PCI_CS(0, num);
			break;
		}
	}
	closedir(dir);
	return PCI_ERR_OK;
}

static const char *pa_scope(void *ctx, pci_bdf_t bdf)
{
	return "host";
}

const pcicap_backend_t pcii_backend_pciaccess = {
    .struct_size = sizeof(pcicap_backend_t),
    .abi_version = PCICAP_BACKEND_ABI_VERSION,
    .name = "pciaccess",
    .init = pa_init,
    .fini = pa_fini,
    .scan = pa_scan,
    .generation = NULL, /* the set is enumerated once, at init */
    .present = pa_present,
    .cfg_read = pa_cfg_read,
    .cfg_write = pa_cfg_write,
    .bar_info = pa_bar_info,
    .bar_read = pa_bar_read,
    .bar_write = pa_bar_write,
    .bar_map = pa_bar_map,
    .bar_unmap = pa_bar_unmap,
    /* Plain Linux userspace cannot own MSI vectors: PCI_ERR_IRQ_NOT_AVAIL. */
    .irq_alloc = NULL,
    .irq_free = NULL,
    .irq_fd = NULL,
    .msg_enable = NULL,
    .msg_disable = NULL,
    .reset = NULL,
    .chassis_slot = pa_chassis_slot,
    .scope = pa_scope,
    .driver = pa_driver,
};
