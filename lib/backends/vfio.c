/*
 * Backend "vfio": the host's devices bound to vfio-pci, with real MSI and
 * MSI-X interrupts (PCI_HW_MODULE=vfio).
 *
 * What it does:
 * - Lists every function in sysfs (so pci_device_find() sees the whole bus)
 *   and reads config space through sysfs until the process owns a device.
 * - At the process's first OWNER attach (op open) it takes the device from
 *   VFIO: group node, a container per group (type1v2, type1, or a no-IOMMU
 *   group's container), device fd, regions, interrupt counts. Config space
 *   then goes through the VFIO config region, BARs through mmap where the
 *   region allows it and pread/pwrite otherwise.
 * - Interrupts: the kernel programs the MSI/MSI-X messages (msg_enable):
 *   VFIO_DEVICE_SET_IRQS with one eventfd per vector. A forwarding thread
 *   reads those eventfds and signals the driver's eventfd of the vector's
 *   slot (pcicap_irq_fd()) unless the vector is masked.
 * - Masking: VFIO gives userspace no per-vector mask for MSI/MSI-X (its
 *   MASK/UNMASK actions exist for INTx only) and drops writes to the MSI-X
 *   table. So the backend emulates the registers the modules use, as QEMU
 *   does for a guest: the MSI Mask and Pending Bits registers, the MSI-X
 *   Function Mask bit, the MSI-X table's vector control words and the PBA.
 *   A message that arrives for a masked vector sets its pending bit and is
 *   delivered at unmask. The device itself is never masked: it keeps
 *   sending, the kernel keeps taking the interrupts.
 * - The kernel's request to give a device back (unbind, hot removal: the
 *   VFIO request IRQ) marks it gone: present() answers PCI_ERR_ENODEV from
 *   then on, and the kernel completes the removal once the driver detaches.
 *
 * Threads: the access ops run lock-free (a per-device in-flight count lets
 * close and msg_disable wait for them); the forwarding thread and the
 * structural ops share fwd_mu for the vector tokens.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "vfio_sys.h"

/* ------------------------------------------------------------ system calls */

static int real_open(const char *path, int flags)
{
	return open(path, flags | O_CLOEXEC);
}

static int real_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static const pcii_vfio_sys_t real_sys = {
    .open = real_open,
    .close = close,
    .ioctl = real_ioctl,
    .pread = pread,
    .pwrite = pwrite,
    .mmap = mmap,
    .munmap = munmap,
    .sysfs_devices = "/sys/bus/pci/devices",
    .dev_vfio = "/dev/vfio",
    .proc_interrupts = "/proc/interrupts",
};

const pcii_vfio_sys_t *pcii_vfio_sys = &real_sys;
#define SYS pcii_vfio_sys

/* ------------------------------------------------------------------ state */

#define VF_NBARS     6
#define VF_MAX_AREAS 8
#define VF_PATH      192
#define VF_NO_TOKEN  UINT32_MAX
#define VF_NO_IRQ    ((pci_irq_t)-1)
#define VF_STOP      UINT64_MAX
#define VF_IOVA_BASE 0x100000ull /* first IOVA handed out: page 0 stays unmapped */
/* IRQ numbers when the kernel's are not found in /proc/interrupts */
#define VF_SYNTH_IRQ 0x40000000u

/* An mmap()ed part of a region. */
struct vf_area {
	uint64_t off, size;
	void *map;            /* what mmap() returned */
	volatile uint8_t *p;  /* the same, for the accesses */
};

struct vf_region {
	uint64_t off, size; /* offset in the device fd; 0 size: none */
	uint32_t flags;
	unsigned nareas;
	struct vf_area area[VF_MAX_AREAS];
};

struct vf_dma {
	uint64_t iova, len;
	pci_bdf_t bdf; /* the device that mapped it */
};

/* A group and its container, shared by the open devices in it. */
struct vf_group {
	struct vf_group *next;
	int id, fd, cfd;
	bool noiommu;
	unsigned refs;
	uint64_t iova_lo, iova_hi; /* usable IOVAs, inclusive */
	struct vf_dma *dma;        /* sorted by iova */
	size_t ndma, dma_cap;
};

/* One IRQ the driver sees (a slot). */
struct vf_slot {
	pci_irq_t irq;
	int efd;
};

struct vf_dev {
	pcicap_backend_dev_t info;
	char name[16];     /* "dddd:bb:dd.f" */
	char *dir;         /* sysfs directory */
	char *cfg_path;    /* its config file */
	/* set by open/close (structural), read by the access ops */
	bool open;         /* atomic */
	unsigned inflight; /* atomic: access ops in progress */
	bool gone;         /* atomic: the kernel wants the device back */
	int dfd;
	struct vf_group *grp;
	uint32_t flags;
	uint64_t cfg_off;
	struct vf_region bar[VF_NBARS];
	uint32_t nirq[VFIO_PCI_NUM_IRQS];
	uint32_t req_tok;
	int req_kfd;
	/* emulated registers (offsets 0: capability absent) */
	uint_t msi_off, msi_mask_off;
	bool msi_pvm;
	uint32_t msi_mask, msi_pend; /* atomic */
	uint_t msix_off, msix_n;
	int tbir, pbir;
	uint64_t toff, poff, plen;
	uint32_t *tbl; /* atomic words: 4 per entry */
	uint64_t *pba; /* atomic words */
	bool fmask;    /* atomic */
	/* enabled interrupts: kind is 0 when none (atomic) */
	int kind;
	uint_t nvec;
	int *vec_slot;     /* per kernel vector: slot, -1 unused */
	uint32_t *vec_tok; /* per kernel vector: token index */
	int *vec_kfd;
	uint_t nslots;
	struct vf_slot *slots;
};

/* What an eventfd in the forwarder's epoll set stands for. */
struct vf_tok {
	uint32_t gen;
	bool live;
	struct vf_dev *dev;
	int vec; /* kernel vector, -1: the request IRQ */
	int kfd;
};

struct vf_ctx {
	struct vf_dev *devs; /* sorted by bdf */
	size_t ndevs;
	struct vf_group *groups;
	pthread_mutex_t fwd_mu;
	int epfd, stopfd;
	pthread_t thr;
	bool thr_on;
	struct vf_tok *toks;
	size_t ntoks;
	pci_irq_t synth_next;
};

/* ------------------------------------------------------------ small helpers */

static pci_err_t vf_errno(int e)
{
	switch (e) {
	case 0: return PCI_ERR_OK;
	case ENODEV:
	case ENXIO: return PCI_ERR_ENODEV;
	case ENOMEM:
	case EMFILE: /* out of file descriptors */
	case ENFILE: return PCI_ERR_ENOMEM;
	case EBUSY: return PCI_ERR_ATTACH_OWNED;
	case EACCES:
	case EPERM: return PCI_ERR_NOT_OWNER;
	case EINVAL: return PCI_ERR_EINVAL;
	case ENOSPC: return PCI_ERR_IRQ_NOT_AVAIL;
	case ENOTTY:
	case ENOTSUP: return PCI_ERR_ENOTSUP;
	default: return PCI_ERR_EIO;
	}
}

static int cmp_dev(const void *a, const void *b)
{
	const struct vf_dev *x = a, *y = b;
	return x->info.bdf < y->info.bdf ? -1 : x->info.bdf > y->info.bdf;
}

static struct vf_dev *vf_find(struct vf_ctx *c, pci_bdf_t bdf)
{
	size_t lo = 0, hi = c ? c->ndevs : 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		pci_bdf_t b = c->devs[mid].info.bdf;
		if (b == bdf)
			return &c->devs[mid];
		if (b < bdf)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The last component of the symlink @dir/@link into @buf: 0 or -1. */
static int link_name(const char *dir, const char *link, char *buf, size_t size)
{
	char path[VF_PATH], target[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, link);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -1;
	strcpy(buf, base);
	return 0;
}

static bool dev_enter(struct vf_dev *d)
{
	__atomic_add_fetch(&d->inflight, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&d->open, __ATOMIC_SEQ_CST);
}

static void dev_leave(struct vf_dev *d)
{
	__atomic_sub_fetch(&d->inflight, 1, __ATOMIC_RELEASE);
}

/* Wait until no access op that saw the old state is still running. */
static void dev_drain(struct vf_dev *d)
{
	while (__atomic_load_n(&d->inflight, __ATOMIC_SEQ_CST))
		sched_yield();
}

/* ------------------------------------------------------------ scan */

static pci_err_t vf_add_dev(struct vf_ctx *c, size_t *cap, const char *name)
{
	unsigned dom, bus, dv, fn;
	char extra;
	if (sscanf(name, "%x:%x:%x.%x%c", &dom, &bus, &dv, &fn, &extra) != 4 || dom > 0x7FFF ||
	    bus > 0xFF || dv > 0x1F || fn > 7)
		return PCI_ERR_OK; /* not a function's entry */
	if (c->ndevs == *cap) {
		size_t n = *cap ? *cap * 2 : 32;
		struct vf_dev *p = realloc(c->devs, n * sizeof(*p));
		if (!p)
			return PCI_ERR_ENOMEM;
		c->devs = p;
		*cap = n;
	}
	struct vf_dev *d = &c->devs[c->ndevs];
	memset(d, 0, sizeof(*d));
	d->dfd = -1;
	d->req_kfd = -1;
	d->req_tok = VF_NO_TOKEN;
	d->tbir = d->pbir = -1;
	snprintf(d->name, sizeof(d->name), "%04x:%02x:%02x.%x", dom, bus, dv, fn);
	size_t dl = strlen(SYS->sysfs_devices) + strlen(d->name) + 2;
	d->dir = malloc(dl);
	d->cfg_path = malloc(dl + 7);
	if (!d->dir || !d->cfg_path) {
		free(d->dir);
		free(d->cfg_path);
		return PCI_ERR_ENOMEM;
	}
	snprintf(d->dir, dl, "%s/%s", SYS->sysfs_devices, d->name);
	snprintf(d->cfg_path, dl + 7, "%s/config", d->dir);
	struct stat st;
	d->info.bdf = PCICAP_BDF(dom, bus, dv, fn);
	d->info.uid = c->ndevs + 1;
	d->info.cfg_size = stat(d->cfg_path, &st) == 0 && st.st_size >= 4096 ? 4096 : 256;
	c->ndevs++;
	return PCI_ERR_OK;
}

static void vf_free_devs(struct vf_ctx *c)
{
	for (size_t i = 0; i < c->ndevs; i++) {
		free(c->devs[i].dir);
		free(c->devs[i].cfg_path);
		free(c->devs[i].tbl);
		free(c->devs[i].pba);
	}
	free(c->devs);
	c->devs = NULL;
	c->ndevs = 0;
}

static pci_err_t vf_init(void **ctxp)
{
	struct vf_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return PCI_ERR_ENOMEM;
	pthread_mutex_init(&c->fwd_mu, NULL);
	c->epfd = c->stopfd = -1;
	c->synth_next = VF_SYNTH_IRQ;
	pci_err_t err = PCI_ERR_OK;
	size_t cap = 0;
	DIR *dir = opendir(SYS->sysfs_devices);
	if (dir) {
		struct dirent *e;
		while (err == PCI_ERR_OK && (e = readdir(dir)) != NULL)
			err = vf_add_dev(c, &cap, e->d_name);
		closedir(dir);
	}
	if (err != PCI_ERR_OK) {
		vf_free_devs(c);
		pthread_mutex_destroy(&c->fwd_mu);
		free(c);
		return err;
	}
	if (c->ndevs)
		qsort(c->devs, c->ndevs, sizeof(*c->devs), cmp_dev);
	*ctxp = c;
	return PCI_ERR_OK;
}

static pci_err_t vf_scan(void *ctx, pcicap_backend_dev_t **devs, size_t *ndevs)
{
	struct vf_ctx *c = ctx;
	return pcii_scan_copy(c->ndevs ? &c->devs[0].info : NULL, c->ndevs, sizeof(c->devs[0]), devs,
			      ndevs);
}

static pci_err_t vf_present(void *ctx, pci_bdf_t bdf)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d || __atomic_load_n(&d->gone, __ATOMIC_ACQUIRE))
		return PCI_ERR_ENODEV;
	if (__atomic_load_n(&d->open, __ATOMIC_ACQUIRE))
		return PCI_ERR_OK;
	return access(d->cfg_path, F_OK) == 0 ? PCI_ERR_OK : PCI_ERR_ENODEV;
}

static pci_err_t vf_driver(void *ctx, pci_bdf_t bdf, char *buf, size_t len)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	char name[64];
	if (link_name(d->dir, "driver", name, sizeof(name)) != 0)
		return access(d->cfg_path, F_OK) == 0 ? PCI_ERR_ENOENT : PCI_ERR_ENODEV;
	if (strlen(name) >= len)
		return PCI_ERR_EINVAL;
	strcpy(buf, name);
	return PCI_ERR_OK;
}

static const char *vf_scope(void *ctx, pci_bdf_t bdf)
{
	(void)ctx;
	(void)bdf;
	return "host"; /* the same lock files as the pciaccess backend */
}

/* ------------------------------------------------------------ interrupts */

static bool vec_masked(struct vf_dev *d, int kind, uint_t v)
{
	if (kind == PCICAP_IRQ_KIND_MSI)
		return d->msi_pvm && ((__atomic_load_n(&d->msi_mask, __ATOMIC_SEQ_CST) >> v) & 1);
	return __atomic_load_n(&d->fmask, __ATOMIC_SEQ_CST) ||
	       (__atomic_load_n(&d->tbl[4 * v + 3], __ATOMIC_SEQ_CST) & 1);
}

static void pend_set(struct vf_dev *d, int kind, uint_t v)
{
	if (kind == PCICAP_IRQ_KIND_MSI)
		__atomic_fetch_or(&d->msi_pend, 1u << v, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or(&d->pba[v / 64], 1ull << (v % 64), __ATOMIC_SEQ_CST);
}

static bool pend_take(struct vf_dev *d, int kind, uint_t v)
{
	if (kind == PCICAP_IRQ_KIND_MSI)
		return (__atomic_fetch_and(&d->msi_pend, ~(1u << v), __ATOMIC_SEQ_CST) >> v) & 1;
	return (__atomic_fetch_and(&d->pba[v / 64], ~(1ull << (v % 64)), __ATOMIC_SEQ_CST) >>
		(v % 64)) &
	       1;
}

/* Deliver vector @v if it is pending and unmasked (after a message or an
 * unmask; both sides set their bit first, so one of them delivers). Only
 * write(2) on an eventfd: async-signal-safe. */
static void vec_check(struct vf_dev *d, int kind, uint_t v)
{
	if (v >= d->nvec || vec_masked(d, kind, v) || !pend_take(d, kind, v))
		return;
	int s = d->vec_slot[v];
	if (s >= 0) {
		uint64_t one = 1;
		ssize_t r = write(d->slots[s].efd, &one, sizeof(one));
		(void)r; /* only fails when the counter is saturated */
	}
}

/* An unmask in an emulated register: deliver what waited. Called inside
 * dev_enter(): msg_disable waits for it before freeing the vectors. */
static void vecs_unmasked(struct vf_dev *d, int kind, uint_t first, uint_t n)
{
	if (__atomic_load_n(&d->kind, __ATOMIC_SEQ_CST) != kind)
		return;
	for (uint_t v = first; v < first + n && v < d->nvec; v++)
		vec_check(d, kind, v);
}

static void *fwd_main(void *arg)
{
	struct vf_ctx *c = arg;
	struct epoll_event ev[16];
	for (;;) {
		int n = epoll_wait(c->epfd, ev, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		bool stop = false;
		struct vf_dev *gone[16];
		int ngone = 0;
		pthread_mutex_lock(&c->fwd_mu);
		for (int i = 0; i < n; i++) {
			uint64_t tok = ev[i].data.u64;
			if (tok == VF_STOP) {
				stop = true;
				continue;
			}
			uint32_t idx = (uint32_t)tok, gen = (uint32_t)(tok >> 32);
			if (idx >= c->ntoks || !c->toks[idx].live || c->toks[idx].gen != gen)
				continue; /* released meanwhile */
			struct vf_tok *t = &c->toks[idx];
			uint64_t cnt;
			if (read(t->kfd, &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
				continue;
			struct vf_dev *d = t->dev;
			if (t->vec < 0) {
				if (!__atomic_exchange_n(&d->gone, true, __ATOMIC_ACQ_REL))
					gone[ngone++] = d;
				continue;
			}
			int kind = __atomic_load_n(&d->kind, __ATOMIC_ACQUIRE);
			if (!kind)
				continue;
			pend_set(d, kind, (uint_t)t->vec);
			vec_check(d, kind, (uint_t)t->vec);
		}
		pthread_mutex_unlock(&c->fwd_mu);
		/* logged outside the lock: a log handler may call the library */
		for (int i = 0; i < ngone; i++)
			pcii_log(PCICAP_LOG_WARN,
				 "vfio: the kernel asks for %s back (unbind or removal): detach it",
				 gone[i]->name);
		if (stop)
			break;
	}
	return NULL;
}

/* The forwarding thread, started at the first eventfd. fwd_mu held. */
static pci_err_t fwd_start(struct vf_ctx *c)
{
	if (c->thr_on)
		return PCI_ERR_OK;
	if (c->epfd < 0)
		c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->stopfd < 0)
		c->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->epfd < 0 || c->stopfd < 0)
		return vf_errno(errno);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = VF_STOP};
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->stopfd, &ev) != 0 && errno != EEXIST)
		return vf_errno(errno);
	/* the thread takes no signal: the driver's handlers run elsewhere */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&c->thr, NULL, fwd_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return vf_errno(e);
	c->thr_on = true;
	return PCI_ERR_OK;
}

/* Watch @kfd for vector @vec of @d (-1: the request IRQ). fwd_mu held. */
static pci_err_t tok_add(struct vf_ctx *c, struct vf_dev *d, int vec, int kfd, uint32_t *out)
{
	pci_err_t err = fwd_start(c);
	if (err != PCI_ERR_OK)
		return err;
	size_t i = 0;
	while (i < c->ntoks && c->toks[i].live)
		i++;
	if (i == c->ntoks) {
		if (c->ntoks >= UINT32_MAX - 1)
			return PCI_ERR_ENOMEM;
		struct vf_tok *t = realloc(c->toks, (c->ntoks + 16) * sizeof(*t));
		if (!t)
			return PCI_ERR_ENOMEM;
		memset(t + c->ntoks, 0, 16 * sizeof(*t));
		c->toks = t;
		c->ntoks += 16;
	}
	struct vf_tok *t = &c->toks[i];
	t->gen++;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)t->gen << 32) | i};
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, kfd, &ev) != 0)
		return vf_errno(errno);
	t->live = true;
	t->dev = d;
	t->vec = vec;
	t->kfd = kfd;
	*out = (uint32_t)i;
	return PCI_ERR_OK;
}

/* fwd_mu held: after this the thread never looks at the token again. */
static void tok_del(struct vf_ctx *c, uint32_t idx)
{
	if (idx >= c->ntoks || !c->toks[idx].live)
		return;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->toks[idx].kfd, NULL);
	c->toks[idx].live = false;
}

/* Linux's IRQ numbers for the vectors, from the names vfio-pci gives them
 * ("vfio-msix[3](0000:00:03.0)"); false when some are not found. */
static bool kernel_irqs(const struct vf_dev *d, int kind, pci_irq_t *irq_of_vec)
{
	FILE *f = fopen(SYS->proc_interrupts, "re");
	if (!f)
		return false;
	uint_t found = 0;
	for (uint_t v = 0; v < d->nvec; v++)
		irq_of_vec[v] = VF_NO_IRQ;
	char line[1024], pat[40];
	snprintf(pat, sizeof(pat), "vfio-msi%s[", kind == PCICAP_IRQ_KIND_MSIX ? "x" : "");
	while (fgets(line, sizeof(line), f)) {
		char *end;
		unsigned long irq = strtoul(line, &end, 10);
		if (end == line || *end != ':')
			continue;
		for (char *p = strstr(end, pat); p; p = strstr(p + 1, pat)) {
			unsigned v;
			char name[20];
			if (sscanf(p + strlen(pat), "%u](%19[^)])", &v, name) == 2 &&
			    strcmp(name, d->name) == 0 && v < d->nvec &&
			    irq_of_vec[v] == VF_NO_IRQ) {
				irq_of_vec[v] = (pci_irq_t)irq;
				found++;
			}
		}
	}
	fclose(f);
	uint_t want = 0;
	for (uint_t v = 0; v < d->nvec; v++)
		want += d->vec_slot[v] >= 0;
	return found >= want;
}

/* Undo what msg_enable set up (the kernel's vectors are already off). */
static void irqs_teardown(struct vf_ctx *c, struct vf_dev *d)
{
	__atomic_store_n(&d->kind, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&c->fwd_mu);
	for (uint_t v = 0; v < d->nvec; v++)
		if (d->vec_tok && d->vec_tok[v] != VF_NO_TOKEN)
			tok_del(c, d->vec_tok[v]);
	pthread_mutex_unlock(&c->fwd_mu);
	dev_drain(d); /* unmask calls that may still be delivering */
	for (uint_t v = 0; d->vec_kfd && v < d->nvec; v++)
		if (d->vec_kfd[v] >= 0)
			close(d->vec_kfd[v]);
	for (uint_t s = 0; d->slots && s < d->nslots; s++)
		if (d->slots[s].efd >= 0)
			close(d->slots[s].efd);
	free(d->vec_slot);
	free(d->vec_tok);
	free(d->vec_kfd);
	free(d->slots);
	d->vec_slot = NULL;
	d->vec_tok = NULL;
	d->vec_kfd = NULL;
	d->slots = NULL;
	d->nvec = d->nslots = 0;
	/* nothing stays pending across an enable */
	__atomic_store_n(&d->msi_pend, 0, __ATOMIC_SEQ_CST);
	for (uint_t w = 0; d->pba && w < (d->msix_n + 63) / 64; w++)
		__atomic_store_n(&d->pba[w], 0, __ATOMIC_SEQ_CST);
}

static pci_err_t set_irqs(struct vf_dev *d, uint32_t index, uint_t count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + (size_t)count * sizeof(int32_t);
	struct vfio_irq_set *s = calloc(1, sz);
	if (!s)
		return PCI_ERR_ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) |
		   VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = 0;
	s->count = count;
	if (count)
		memcpy(s->data, fds, (size_t)count * sizeof(int32_t));
	int r = SYS->ioctl(d->dfd, VFIO_DEVICE_SET_IRQS, s);
	int e = errno;
	free(s);
	return r == 0 ? PCI_ERR_OK : vf_errno(e);
}

static int kind_index(pcicap_irq_kind_t kind)
{
	return kind == PCICAP_IRQ_KIND_MSI ? VFIO_PCI_MSI_IRQ_INDEX : VFIO_PCI_MSIX_IRQ_INDEX;
}

static pci_err_t vf_msg_enable(void *ctx, pci_bdf_t bdf, pcicap_irq_kind_t kind, uint_t nentries,
			       const int_t *entry_slot, uint_t nslots, pci_irq_t *irqs)
{
	struct vf_ctx *c = ctx;
	struct vf_dev *d = vf_find(c, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!d->open)
		return PCI_ERR_IRQ_NOT_AVAIL;
	if (d->kind)
		return PCI_ERR_EALREADY;
	if ((kind != PCICAP_IRQ_KIND_MSI && kind != PCICAP_IRQ_KIND_MSIX) || nslots == 0 || !irqs ||
	    (kind == PCICAP_IRQ_KIND_MSIX && (!entry_slot || nentries == 0)))
		return PCI_ERR_EINVAL;
	/* kernel vectors: MSI messages 0..n-1; MSI-X entries up to the last used */
	uint_t nvec = nslots;
	if (kind == PCICAP_IRQ_KIND_MSIX) {
		nvec = 0;
		for (uint_t e = 0; e < nentries; e++) {
			if (entry_slot[e] >= (int_t)nslots)
				return PCI_ERR_EINVAL;
			if (entry_slot[e] >= 0)
				nvec = e + 1;
		}
		if (nvec == 0 || nentries > d->msix_n)
			return PCI_ERR_EINVAL;
	}
	if (nvec > d->nirq[kind_index(kind)])
		return PCI_ERR_IRQ_NOT_AVAIL;

	pci_err_t err = PCI_ERR_ENOMEM;
	d->vec_slot = malloc(nvec * sizeof(*d->vec_slot));
	d->vec_tok = malloc(nvec * sizeof(*d->vec_tok));
	d->vec_kfd = malloc(nvec * sizeof(*d->vec_kfd));
	d->slots = malloc(nslots * sizeof(*d->slots));
	pci_irq_t *virq = malloc(nvec * sizeof(*virq));
	d->nvec = nvec;
	d->nslots = nslots;
	if (!d->vec_slot || !d->vec_tok || !d->vec_kfd || !d->slots || !virq) {
		if (d->slots)
			for (uint_t s = 0; s < nslots; s++)
				d->slots[s].efd = -1;
		if (d->vec_kfd)
			for (uint_t v = 0; v < nvec; v++)
				d->vec_kfd[v] = -1;
		if (d->vec_tok)
			for (uint_t v = 0; v < nvec; v++)
				d->vec_tok[v] = VF_NO_TOKEN;
		goto fail;
	}
	for (uint_t v = 0; v < nvec; v++) {
		d->vec_slot[v] = kind == PCICAP_IRQ_KIND_MSI ? (int)v : entry_slot[v];
		d->vec_tok[v] = VF_NO_TOKEN;
		d->vec_kfd[v] = -1;
	}
	for (uint_t s = 0; s < nslots; s++)
		d->slots[s].efd = -1;
	err = PCI_ERR_OK;
	for (uint_t s = 0; s < nslots && err == PCI_ERR_OK; s++)
		if ((d->slots[s].efd = eventfd(0, EFD_CLOEXEC)) < 0)
			err = vf_errno(errno);
	for (uint_t v = 0; v < nvec && err == PCI_ERR_OK; v++)
		if (d->vec_slot[v] >= 0 &&
		    (d->vec_kfd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
			err = vf_errno(errno);
	if (err != PCI_ERR_OK)
		goto fail;
	/* deliveries start with the first message: kind set before SET_IRQS */
	__atomic_store_n(&d->kind, (int)kind, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&c->fwd_mu);
	for (uint_t v = 0; v < nvec && err == PCI_ERR_OK; v++)
		if (d->vec_kfd[v] >= 0)
			err = tok_add(c, d, (int)v, d->vec_kfd[v], &d->vec_tok[v]);
	pthread_mutex_unlock(&c->fwd_mu);
	if (err == PCI_ERR_OK)
		err = set_irqs(d, (uint32_t)kind_index(kind), nvec, d->vec_kfd);
	if (err != PCI_ERR_OK) {
		pcii_log(PCICAP_LOG_WARN, "vfio: %s: enabling %u %s vectors failed: %s", d->name,
			 nvec, kind == PCICAP_IRQ_KIND_MSI ? "MSI" : "MSI-X", pci_strerror(err));
		if (err == PCI_ERR_EINVAL || err == PCI_ERR_EIO)
			err = PCI_ERR_IRQ_CFG;
		goto fail;
	}
	/* the IRQ of a slot: the kernel's IRQ of its first vector */
	bool real = kernel_irqs(d, (int)kind, virq);
	for (uint_t s = 0; s < nslots; s++) {
		d->slots[s].irq = VF_NO_IRQ;
		for (uint_t v = 0; real && v < nvec && d->slots[s].irq == VF_NO_IRQ; v++)
			if (d->vec_slot[v] == (int)s)
				d->slots[s].irq = virq[v];
		if (d->slots[s].irq == VF_NO_IRQ)
			d->slots[s].irq = (pci_irq_t)c->synth_next++;
		irqs[s] = d->slots[s].irq;
	}
	free(virq);
	return PCI_ERR_OK;
fail:
	free(virq);
	irqs_teardown(c, d);
	return err;
}

static pci_err_t vf_msg_disable(void *ctx, pci_bdf_t bdf, pcicap_irq_kind_t kind)
{
	struct vf_ctx *c = ctx;
	struct vf_dev *d = vf_find(c, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (__atomic_load_n(&d->kind, __ATOMIC_SEQ_CST) != (int)kind)
		return PCI_ERR_EALREADY;
	pci_err_t err = set_irqs(d, (uint32_t)kind_index(kind), 0, NULL);
	if (err != PCI_ERR_OK && err != PCI_ERR_ENODEV)
		return err; /* still enabled: nothing changed */
	irqs_teardown(c, d);
	return PCI_ERR_OK;
}

static int vf_irq_fd(void *ctx, pci_irq_t irq)
{
	struct vf_ctx *c = ctx;
	for (size_t i = 0; i < c->ndevs; i++) {
		struct vf_dev *d = &c->devs[i];
		if (!__atomic_load_n(&d->kind, __ATOMIC_ACQUIRE))
			continue;
		for (uint_t s = 0; s < d->nslots; s++)
			if (d->slots[s].irq == irq)
				return d->slots[s].efd;
	}
	errno = EINVAL;
	return -1;
}

/* ------------------------------------------------------------ config space */

/* Which emulated register byte @o is (0: none). */
enum { EMU_NONE, EMU_MSI_MASK, EMU_MSI_PEND, EMU_MSIX_CTRL };

static int emu_kind(const struct vf_dev *d, uint_t o, uint_t *shift)
{
	if (d->msi_pvm && o >= d->msi_mask_off && o < d->msi_mask_off + 8) {
		*shift = 8 * ((o - d->msi_mask_off) % 4);
		return o < d->msi_mask_off + 4 ? EMU_MSI_MASK : EMU_MSI_PEND;
	}
	if (d->msix_off && (o == d->msix_off + 2 || o == d->msix_off + 3)) {
		*shift = 8 * (o - d->msix_off - 2);
		return EMU_MSIX_CTRL;
	}
	return EMU_NONE;
}

/* All of @len bytes at @off: read into @rbuf, or written from @wbuf. */
static pci_err_t rw_full(int fd, void *rbuf, const void *wbuf, size_t len, uint64_t off)
{
	ssize_t n = wbuf ? SYS->pwrite(fd, wbuf, len, (off_t)off) : SYS->pread(fd, rbuf, len, (off_t)off);
	if (n == (ssize_t)len)
		return PCI_ERR_OK;
	return n < 0 ? vf_errno(errno) : PCI_ERR_EIO;
}

static pci_err_t vf_cfg_read(void *ctx, pci_bdf_t bdf, uint_t off, void *buf, uint_t len)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	pci_err_t err;
	if (!dev_enter(d)) {
		dev_leave(d);
		/* not ours (yet): the kernel's view, read-only */
		int fd = open(d->cfg_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? PCI_ERR_ENODEV : vf_errno(errno);
		ssize_t n = pread(fd, buf, len, off);
		int e = errno;
		close(fd);
		if (n == (ssize_t)len)
			return PCI_ERR_OK;
		return n < 0 ? vf_errno(e) : PCI_ERR_CFG_ACCESS; /* sysfs cuts it for non-root */
	}
	err = rw_full(d->dfd, buf, NULL, len, d->cfg_off + off);
	uint8_t *b = buf;
	for (uint_t i = 0; err == PCI_ERR_OK && i < len; i++) {
		uint_t sh;
		switch (emu_kind(d, off + i, &sh)) {
		case EMU_MSI_MASK: b[i] = (uint8_t)(__atomic_load_n(&d->msi_mask, __ATOMIC_SEQ_CST) >> sh); break;
		case EMU_MSI_PEND: b[i] = (uint8_t)(__atomic_load_n(&d->msi_pend, __ATOMIC_SEQ_CST) >> sh); break;
		case EMU_MSIX_CTRL:
			if (sh == 8)
				b[i] = (uint8_t)((b[i] & ~0x40u) |
						 (__atomic_load_n(&d->fmask, __ATOMIC_SEQ_CST) ? 0x40 : 0));
			break;
		default: break;
		}
	}
	dev_leave(d);
	return err;
}

static pci_err_t vf_cfg_write(void *ctx, pci_bdf_t bdf, uint_t off, const void *buf, uint_t len)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!dev_enter(d)) {
		dev_leave(d);
		return PCI_ERR_CFG_ACCESS; /* only through VFIO, once the process owns it */
	}
	const uint8_t *b = buf;
	pci_err_t err = PCI_ERR_OK;
	uint32_t mset = 0, mbits = 0;
	for (uint_t i = 0; i < len && err == PCI_ERR_OK;) {
		uint_t sh;
		int k = emu_kind(d, off + i, &sh);
		if (k == EMU_NONE) {
			/* a run of plain bytes goes to VFIO as one write */
			uint_t j = i + 1;
			while (j < len && emu_kind(d, off + j, &sh) == EMU_NONE)
				j++;
			err = rw_full(d->dfd, NULL, b + i, j - i, d->cfg_off + off + i);
			i = j;
			continue;
		}
		if (k == EMU_MSI_MASK) {
			mset |= (uint32_t)b[i] << sh;
			mbits |= 0xFFu << sh;
		} else if (k == EMU_MSIX_CTRL && sh == 8) {
			/* Function Mask; MSI-X Enable belongs to the kernel (SET_IRQS) */
			bool on = b[i] & 0x40;
			bool was = __atomic_exchange_n(&d->fmask, on, __ATOMIC_SEQ_CST);
			if (was && !on)
				vecs_unmasked(d, PCICAP_IRQ_KIND_MSIX, 0, d->msix_n);
		}
		i++; /* the pending bits and the table size are read-only */
	}
	if (err == PCI_ERR_OK && mbits) {
		uint32_t old = __atomic_load_n(&d->msi_mask, __ATOMIC_SEQ_CST), nv;
		do
			nv = (old & ~mbits) | (mset & mbits);
		while (!__atomic_compare_exchange_n(&d->msi_mask, &old, nv, false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST));
		if (old & ~nv)
			vecs_unmasked(d, PCICAP_IRQ_KIND_MSI, 0, 32);
	}
	dev_leave(d);
	return err;
}

/* ------------------------------------------------------------ BAR memory */

static pci_err_t vf_bar_info(void *ctx, pci_bdf_t bdf, int bar, pci_ba_t *ba)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (bar < -1 || bar >= VF_NBARS)
		return PCI_ERR_EINVAL;
	char path[VF_PATH], text[1024];
	snprintf(path, sizeof(path), "%s/resource", d->dir);
	if (pcii_read_text(path, text, sizeof(text)) < 0)
		return errno == ENOENT ? PCI_ERR_ENODEV : vf_errno(errno);
	/* line i: BAR i, line 6: the expansion ROM ("start end flags") */
	int line = bar < 0 ? 6 : bar;
	char *p = text;
	for (int i = 0; i < line && p; i++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	unsigned long long start, end, flags;
	if (!p || sscanf(p, "%llx %llx %llx", &start, &end, &flags) != 3 || end <= start)
		return PCI_ERR_ENOENT;
	memset(ba, 0, sizeof(*ba));
	ba->addr = start;
	ba->size = end - start + 1;
	ba->type = (flags & 0x100) ? pci_asType_e_IO : pci_asType_e_MEM;
	unsigned attr = (flags & 0x100000) ? pci_asAttr_e_64BIT : pci_asAttr_e_32BIT;
	if (flags & 0x2000)
		attr |= pci_asAttr_e_PREFETCH;
	ba->attr = (pci_asAttr_e)attr;
	ba->bar_num = bar;
	return PCI_ERR_OK;
}

static void mmio_rw(volatile uint8_t *p, bool wr, uint8_t *b, uint_t len)
{
	uint64_t v = wr ? pcii_le_get(b, len) : 0;
	switch (len) {
	case 1:
		if (wr)
			*p = (uint8_t)v;
		else
			v = *p;
		break;
	case 2:
		if (wr)
			*(volatile uint16_t *)(volatile void *)p = (uint16_t)v;
		else
			v = *(volatile uint16_t *)(volatile void *)p;
		break;
	case 4:
		if (wr)
			*(volatile uint32_t *)(volatile void *)p = (uint32_t)v;
		else
			v = *(volatile uint32_t *)(volatile void *)p;
		break;
	default:
		if (wr)
			*(volatile uint64_t *)(volatile void *)p = v;
		else
			v = *(volatile uint64_t *)(volatile void *)p;
		break;
	}
	if (!wr)
		pcii_le_put(b, len, v);
}

/* The emulated MSI-X table, one 32-bit word at a time. */
static void table_rw(struct vf_dev *d, uint64_t rel, bool wr, uint8_t *b, uint_t len)
{
	for (uint_t done = 0; done < len;) {
		uint64_t w = (rel + done) / 4;
		uint_t sh = (uint_t)((rel + done) % 4) * 8;
		uint_t n = PCII_MIN(len - done, 4 - sh / 8);
		uint32_t bits = (uint32_t)((n == 4 ? 0xFFFFFFFFull : ((1ull << (8 * n)) - 1)) << sh);
		if (!wr) {
			uint32_t v = __atomic_load_n(&d->tbl[w], __ATOMIC_SEQ_CST);
			pcii_le_put(b + done, n, v >> sh);
		} else {
			uint32_t val = (uint32_t)pcii_le_get(b + done, n) << sh;
			uint32_t old = __atomic_load_n(&d->tbl[w], __ATOMIC_SEQ_CST), nv;
			do
				nv = (old & ~bits) | (val & bits);
			while (!__atomic_compare_exchange_n(&d->tbl[w], &old, nv, false,
							    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
			if (w % 4 == 3 && (old & 1) && !(nv & 1))
				vecs_unmasked(d, PCICAP_IRQ_KIND_MSIX, (uint_t)(w / 4), 1);
		}
		done += n;
	}
}

static pci_err_t vf_bar_rw(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, void *rbuf,
			   const void *wbuf, uint_t len)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	bool wr = wbuf != NULL;
	if (!(wr || rbuf) || bar < 0 || bar >= VF_NBARS || (len != 1 && len != 2 && len != 4 && len != 8) ||
	    off % len)
		return PCI_ERR_EINVAL;
	pci_err_t err = PCI_ERR_OK;
	if (!dev_enter(d)) {
		err = PCI_ERR_ASPACE_NOT_AVAIL; /* BARs are reached through VFIO only */
		goto out;
	}
	uint8_t b[8];
	if (wr)
		memcpy(b, wbuf, len);
	if (d->tbl && bar == d->tbir && off >= d->toff && off - d->toff < 16ull * d->msix_n) {
		table_rw(d, off - d->toff, wr, b, len);
		goto out;
	}
	if (d->pba && bar == d->pbir && off >= d->poff && off - d->poff < d->plen) {
		if (!wr) /* pending bits: read-only */
			for (uint_t i = 0; i < len; i++) {
				uint64_t bit = (off - d->poff + i) * 8;
				b[i] = (uint8_t)(__atomic_load_n(&d->pba[bit / 64], __ATOMIC_SEQ_CST) >>
						 (bit % 64));
			}
		goto out;
	}
	const struct vf_region *r = &d->bar[bar];
	if (off >= r->size || len > r->size - off) {
		err = r->size ? PCI_ERR_EINVAL : PCI_ERR_ENOENT;
		goto out;
	}
	for (unsigned i = 0; i < r->nareas; i++) {
		const struct vf_area *a = &r->area[i];
		if (a->p && off >= a->off && off + len <= a->off + a->size) {
			mmio_rw(a->p + (off - a->off), wr, b, len);
			goto out;
		}
	}
	err = rw_full(d->dfd, b, wr ? b : NULL, len, r->off + off);
out:
	dev_leave(d);
	if (err == PCI_ERR_OK && !wr)
		memcpy(rbuf, b, len);
	return err;
}

static pci_err_t vf_bar_read(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, void *buf,
			     uint_t len)
{
	return vf_bar_rw(ctx, bdf, bar, off, buf, NULL, len);
}

static pci_err_t vf_bar_write(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, const void *buf,
			      uint_t len)
{
	return vf_bar_rw(ctx, bdf, bar, off, NULL, buf, len);
}

/* The live PBA (emulated), for cap_msix_get_pba_ptr(). */
static pci_err_t vf_bar_map(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, uint64_t len,
			    const volatile void **ptr)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!ptr || !d->open || !d->pba || bar != d->pbir || off < d->poff ||
	    off - d->poff > d->plen || len > d->plen - (off - d->poff))
		return PCI_ERR_ENOTSUP;
	*ptr = (const volatile uint8_t *)d->pba + (off - d->poff);
	return PCI_ERR_OK;
}

static pci_err_t vf_bar_unmap(void *ctx, pci_bdf_t bdf, const volatile void *ptr, uint64_t len)
{
	(void)ctx;
	(void)bdf;
	(void)ptr;
	(void)len;
	return PCI_ERR_OK; /* the PBA view is the emulation's own memory */
}

/* ------------------------------------------------------------ open / close */

/* The usable IOVA range of a type1 container (the kernel's reserved
 * regions, e.g. the MSI window, are outside it). */
static void iova_range(struct vf_group *g)
{
	g->iova_lo = VF_IOVA_BASE;
	g->iova_hi = 0xFFFFFFFFull; /* without the capability: 32-bit, what every device takes */
	struct vfio_iommu_type1_info hdr = {.argsz = sizeof(hdr)};
	if (SYS->ioctl(g->cfd, VFIO_IOMMU_GET_INFO, &hdr) != 0 || hdr.argsz <= sizeof(hdr) ||
	    hdr.argsz > 65536)
		return;
	struct vfio_iommu_type1_info *info = calloc(1, hdr.argsz);
	if (!info)
		return;
	info->argsz = hdr.argsz;
	if (SYS->ioctl(g->cfd, VFIO_IOMMU_GET_INFO, info) == 0 &&
	    (info->flags & VFIO_IOMMU_INFO_CAPS)) {
		uint32_t off = info->cap_offset;
		for (int guard = 0; off && off + sizeof(struct vfio_info_cap_header) <= hdr.argsz &&
				    guard < 64;
		     guard++) {
			const struct vfio_info_cap_header *ch = (const void *)((uint8_t *)info + off);
			if (ch->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE &&
			    off + sizeof(struct vfio_iommu_type1_info_cap_iova_range) <= hdr.argsz) {
				const struct vfio_iommu_type1_info_cap_iova_range *r = (const void *)ch;
				size_t room = (hdr.argsz - off - sizeof(*r)) / sizeof(r->iova_ranges[0]);
				for (uint32_t i = 0; i < r->nr_iovas && i < room; i++) {
					uint64_t lo = r->iova_ranges[i].start, hi = r->iova_ranges[i].end;
					if (lo < VF_IOVA_BASE)
						lo = VF_IOVA_BASE;
					if (hi > lo) {
						g->iova_lo = lo;
						g->iova_hi = hi;
						break;
					}
				}
				break;
			}
			off = ch->next;
		}
	}
	free(info);
}

/* The DMA mappings of @bdf end with its last owner, also when the group's
 * container stays for another device of the group. */
static void dma_release(struct vf_group *g, pci_bdf_t bdf)
{
	size_t j = 0;
	for (size_t i = 0; i < g->ndma; i++) {
		struct vfio_iommu_type1_dma_unmap u = {
		    .argsz = sizeof(u), .iova = g->dma[i].iova, .size = g->dma[i].len};
		if (g->dma[i].bdf == bdf && SYS->ioctl(g->cfd, VFIO_IOMMU_UNMAP_DMA, &u) == 0)
			continue;
		g->dma[j++] = g->dma[i]; /* another device's, or still mapped */
	}
	g->ndma = j;
}

static void group_put(struct vf_ctx *c, struct vf_group *g)
{
	if (--g->refs)
		return;
	for (struct vf_group **pp = &c->groups; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	SYS->close(g->fd); /* the container loses its IOMMU and mappings with it */
	SYS->close(g->cfd);
	free(g->dma);
	free(g);
}

/* Group @id, opened and in a container with an IOMMU, or a clear error. */
static pci_err_t group_get(struct vf_ctx *c, const struct vf_dev *d, int id, struct vf_group **out)
{
	for (struct vf_group *g = c->groups; g; g = g->next)
		if (g->id == id) {
			g->refs++;
			*out = g;
			return PCI_ERR_OK;
		}
	struct vf_group *g = calloc(1, sizeof(*g));
	if (!g)
		return PCI_ERR_ENOMEM;
	g->id = id;
	g->cfd = -1;
	g->refs = 1;
	char path[VF_PATH];
	snprintf(path, sizeof(path), "%s/%d", SYS->dev_vfio, id);
	g->fd = SYS->open(path, O_RDWR);
	if (g->fd < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "%s/noiommu-%d", SYS->dev_vfio, id);
		g->fd = SYS->open(path, O_RDWR);
		g->noiommu = g->fd >= 0;
		if (g->fd < 0)
			snprintf(path, sizeof(path), "%s/%d", SYS->dev_vfio, id);
	}
	pci_err_t err = PCI_ERR_OK;
	if (g->fd < 0) {
		int e = errno;
		err = e == ENOENT ? PCI_ERR_ENOTSUP : vf_errno(e);
		pcii_log(PCICAP_LOG_ERROR, "vfio: %s: cannot open %s: %s%s", d->name, path,
			 strerror(e),
			 e == EACCES || e == EPERM ? " (run as root, or give your user the node)"
			 : e == EBUSY		   ? " (another process has the group open)"
			 : e == ENOENT		   ? " (is the vfio-pci module loaded?)"
						   : "");
		free(g);
		return err;
	}
	snprintf(path, sizeof(path), "%s/vfio", SYS->dev_vfio);
	g->cfd = SYS->open(path, O_RDWR);
	struct vfio_group_status st = {.argsz = sizeof(st)};
	if (g->cfd < 0) {
		err = errno == ENOENT ? PCI_ERR_ENOTSUP : vf_errno(errno);
		pcii_log(PCICAP_LOG_ERROR, "vfio: cannot open %s: %s", path, strerror(errno));
	} else if (SYS->ioctl(g->cfd, VFIO_GET_API_VERSION, NULL) != VFIO_API_VERSION) {
		err = PCI_ERR_MOD_COMPAT;
		pcii_log(PCICAP_LOG_ERROR, "vfio: the kernel's VFIO API version is not %d",
			 VFIO_API_VERSION);
	} else if (SYS->ioctl(g->fd, VFIO_GROUP_GET_STATUS, &st) != 0) {
		err = vf_errno(errno);
	} else if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		err = PCI_ERR_DEV_NOT_AVAIL;
		pcii_log(PCICAP_LOG_ERROR,
			 "vfio: %s: IOMMU group %d is not viable: every device in it must be bound "
			 "to vfio-pci or to no driver (see /sys/kernel/iommu_groups/%d/devices)",
			 d->name, id, id);
	} else if (SYS->ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &g->cfd) != 0) {
		err = vf_errno(errno);
		pcii_log(PCICAP_LOG_ERROR, "vfio: group %d: set container: %s", id, strerror(errno));
	} else {
		int type = VFIO_NOIOMMU_IOMMU;
		if (!g->noiommu)
			type = SYS->ioctl(g->cfd, VFIO_CHECK_EXTENSION, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU) > 0
				   ? VFIO_TYPE1v2_IOMMU
				   : VFIO_TYPE1_IOMMU;
		if (SYS->ioctl(g->cfd, VFIO_SET_IOMMU, (void *)(uintptr_t)type) != 0) {
			int e = errno;
			err = e == EPERM ? PCI_ERR_IRQ_CFG : vf_errno(e);
			pcii_log(PCICAP_LOG_ERROR, "vfio: group %d: set IOMMU: %s%s", id, strerror(e),
				 e == EPERM ? " (the platform has no interrupt remapping: MSI "
					      "cannot be isolated; vfio_iommu_type1's "
					      "allow_unsafe_interrupts=1 overrides this, at your "
					      "own risk)"
					    : "");
		} else if (!g->noiommu) {
			iova_range(g);
		}
	}
	if (err != PCI_ERR_OK) {
		if (g->cfd >= 0)
			SYS->close(g->cfd);
		SYS->close(g->fd);
		free(g);
		return err;
	}
	g->next = c->groups;
	c->groups = g;
	*out = g;
	return PCI_ERR_OK;
}

static pci_err_t region_info(struct vf_dev *d, uint32_t index, struct vf_region *r)
{
	struct vfio_region_info hdr = {.argsz = sizeof(hdr), .index = index};
	if (SYS->ioctl(d->dfd, VFIO_DEVICE_GET_REGION_INFO, &hdr) != 0)
		return vf_errno(errno);
	r->off = hdr.offset;
	r->size = hdr.size;
	r->flags = hdr.flags;
	r->nareas = 0;
	if (!(hdr.flags & VFIO_REGION_INFO_FLAG_MMAP) || !hdr.size)
		return PCI_ERR_OK;
	/* mmap-able: all of it, or the areas a sparse-mmap capability lists
	 * (the kernel leaves the MSI-X table out of them on most platforms) */
	r->area[0].off = 0;
	r->area[0].size = hdr.size;
	r->nareas = 1;
	if (!(hdr.flags & VFIO_REGION_INFO_FLAG_CAPS) || hdr.argsz <= sizeof(hdr) ||
	    hdr.argsz > 65536)
		return PCI_ERR_OK;
	struct vfio_region_info *info = calloc(1, hdr.argsz);
	if (!info)
		return PCI_ERR_ENOMEM;
	info->argsz = hdr.argsz;
	info->index = index;
	if (SYS->ioctl(d->dfd, VFIO_DEVICE_GET_REGION_INFO, info) == 0) {
		uint32_t off = info->cap_offset;
		for (int guard = 0;
		     off >= sizeof(*info) && off + sizeof(struct vfio_info_cap_header) <= hdr.argsz &&
		     guard < 64;
		     guard++) {
			const struct vfio_info_cap_header *ch = (const void *)((uint8_t *)info + off);
			if (ch->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
			    off + sizeof(struct vfio_region_info_cap_sparse_mmap) <= hdr.argsz) {
				const struct vfio_region_info_cap_sparse_mmap *sp = (const void *)ch;
				size_t room = (hdr.argsz - off - sizeof(*sp)) / sizeof(sp->areas[0]);
				r->nareas = 0;
				for (uint32_t i = 0; i < sp->nr_areas && i < room && r->nareas < VF_MAX_AREAS;
				     i++) {
					if (!sp->areas[i].size || sp->areas[i].offset >= hdr.size ||
					    sp->areas[i].size > hdr.size - sp->areas[i].offset)
						continue;
					r->area[r->nareas].off = sp->areas[i].offset;
					r->area[r->nareas].size = sp->areas[i].size;
					r->nareas++;
				}
				break;
			}
			off = ch->next;
		}
	}
	free(info);
	return PCI_ERR_OK;
}

static void regions_unmap(struct vf_dev *d)
{
	for (int b = 0; b < VF_NBARS; b++)
		for (unsigned i = 0; i < d->bar[b].nareas; i++)
			if (d->bar[b].area[i].map) {
				SYS->munmap(d->bar[b].area[i].map, d->bar[b].area[i].size);
				d->bar[b].area[i].map = NULL;
				d->bar[b].area[i].p = NULL;
			}
}

static void regions_map(struct vf_dev *d)
{
	for (int b = 0; b < VF_NBARS; b++)
		for (unsigned i = 0; i < d->bar[b].nareas; i++) {
			struct vf_area *a = &d->bar[b].area[i];
			void *p = SYS->mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->dfd,
					    (off_t)(d->bar[b].off + a->off));
			a->map = p == MAP_FAILED ? NULL : p; /* pread/pwrite then */
			a->p = a->map;
		}
}

static pci_err_t cfg_get(struct vf_dev *d, uint_t off, uint_t len, uint32_t *v)
{
	uint8_t b[4];
	pci_err_t err = rw_full(d->dfd, b, NULL, len, d->cfg_off + off);
	*v = err == PCI_ERR_OK ? (uint32_t)pcii_le_get(b, len) : 0;
	return err;
}

/* Find MSI and MSI-X and set up their emulated registers. */
static pci_err_t emu_setup(struct vf_dev *d)
{
	uint32_t v;
	pci_err_t err = cfg_get(d, 0x06, 2, &v);
	if (err != PCI_ERR_OK || !(v & 0x10))
		return err;
	err = cfg_get(d, 0x34, 1, &v);
	uint_t off = v & 0xFC;
	for (int guard = 0; err == PCI_ERR_OK && off >= 0x40 && guard < 48; guard++) {
		uint32_t hdr;
		if ((err = cfg_get(d, off, 2, &hdr)) != PCI_ERR_OK)
			break;
		uint32_t ctrl;
		if ((hdr & 0xFF) == PCII_CAPID_MSI && !d->msi_off &&
		    (err = cfg_get(d, off + 2, 2, &ctrl)) == PCI_ERR_OK) {
			d->msi_off = off;
			d->msi_pvm = ctrl & 0x100;
			d->msi_mask_off = off + ((ctrl & 0x80) ? 0x10 : 0x0C);
		} else if ((hdr & 0xFF) == PCII_CAPID_MSIX && !d->msix_off) {
			uint32_t t, p;
			if ((err = cfg_get(d, off + 2, 2, &ctrl)) != PCI_ERR_OK ||
			    (err = cfg_get(d, off + 4, 4, &t)) != PCI_ERR_OK ||
			    (err = cfg_get(d, off + 8, 4, &p)) != PCI_ERR_OK)
				break;
			pcii_msix_layout_t l = pcii_msix_layout(ctrl, t, p);
			uint_t n = l.n;
			d->tbl = malloc(16u * n);
			d->pba = calloc((n + 63) / 64, 8);
			if (!d->tbl || !d->pba) {
				err = PCI_ERR_ENOMEM;
				break;
			}
			for (uint_t e = 0; e < n; e++) { /* as after reset: all masked */
				d->tbl[4 * e] = d->tbl[4 * e + 1] = d->tbl[4 * e + 2] = 0;
				d->tbl[4 * e + 3] = 1;
			}
			d->msix_off = off;
			d->msix_n = n;
			d->tbir = l.bir[0];
			d->toff = l.off[0];
			d->pbir = l.bir[1];
			d->poff = l.off[1];
			d->plen = l.len[1];
		}
		off = (hdr >> 8) & 0xFC;
	}
	return err;
}

static void emu_reset(struct vf_dev *d)
{
	__atomic_store_n(&d->msi_mask, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&d->msi_pend, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&d->fmask, false, __ATOMIC_SEQ_CST);
	for (uint_t e = 0; d->tbl && e < d->msix_n; e++) {
		for (int w = 0; w < 3; w++)
			__atomic_store_n(&d->tbl[4 * e + w], 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&d->tbl[4 * e + 3], 1, __ATOMIC_SEQ_CST);
	}
	for (uint_t w = 0; d->pba && w < (d->msix_n + 63) / 64; w++)
		__atomic_store_n(&d->pba[w], 0, __ATOMIC_SEQ_CST);
}

static void emu_free(struct vf_dev *d)
{
	free(d->tbl);
	free(d->pba);
	d->tbl = NULL;
	d->pba = NULL;
	d->msi_off = d->msi_mask_off = d->msix_off = d->msix_n = 0;
	d->msi_pvm = false;
	d->tbir = d->pbir = -1;
	emu_reset(d);
}

/* The kernel's "give the device back" request, when the device has one. */
static void req_watch(struct vf_ctx *c, struct vf_dev *d)
{
	if (!d->nirq[VFIO_PCI_REQ_IRQ_INDEX])
		return;
	d->req_kfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->req_kfd < 0)
		return;
	pthread_mutex_lock(&c->fwd_mu);
	pci_err_t err = tok_add(c, d, -1, d->req_kfd, &d->req_tok);
	pthread_mutex_unlock(&c->fwd_mu);
	if (err == PCI_ERR_OK)
		err = set_irqs(d, VFIO_PCI_REQ_IRQ_INDEX, 1, &d->req_kfd);
	if (err != PCI_ERR_OK) {
		pthread_mutex_lock(&c->fwd_mu);
		tok_del(c, d->req_tok);
		pthread_mutex_unlock(&c->fwd_mu);
		close(d->req_kfd);
		d->req_kfd = -1;
		d->req_tok = VF_NO_TOKEN;
	}
}

static void vf_release(struct vf_ctx *c, struct vf_dev *d)
{
	if (d->kind) {
		set_irqs(d, (uint32_t)kind_index(d->kind), 0, NULL);
		irqs_teardown(c, d);
	}
	if (d->req_kfd >= 0) {
		pthread_mutex_lock(&c->fwd_mu);
		tok_del(c, d->req_tok);
		pthread_mutex_unlock(&c->fwd_mu);
	}
	__atomic_store_n(&d->open, false, __ATOMIC_SEQ_CST);
	dev_drain(d);
	if (d->req_kfd >= 0)
		close(d->req_kfd);
	d->req_kfd = -1;
	d->req_tok = VF_NO_TOKEN;
	regions_unmap(d);
	if (d->dfd >= 0)
		SYS->close(d->dfd);
	d->dfd = -1;
	if (d->grp && d->grp->refs > 1)
		dma_release(d->grp, d->info.bdf); /* else the container goes, mappings with it */
	if (d->grp)
		group_put(c, d->grp);
	d->grp = NULL;
	emu_free(d);
	memset(d->bar, 0, sizeof(d->bar));
	memset(d->nirq, 0, sizeof(d->nirq));
}

/* vfio-pci, or one of its vendor variants (mlx5_vfio_pci, hisi_acc_vfio_pci) */
static bool is_vfio_driver(const char *drv)
{
	size_t n = strlen(drv);
	return strcmp(drv, "vfio-pci") == 0 || (n > 9 && strcmp(drv + n - 9, "_vfio_pci") == 0);
}

static pci_err_t vf_open(void *ctx, pci_bdf_t bdf)
{
	struct vf_ctx *c = ctx;
	struct vf_dev *d = vf_find(c, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (d->open)
		return PCI_ERR_OK;
	if (__atomic_load_n(&d->gone, __ATOMIC_ACQUIRE))
		return PCI_ERR_ENODEV;
	char drv[64], grp[32];
	if (link_name(d->dir, "driver", drv, sizeof(drv)) != 0 || !is_vfio_driver(drv)) {
		bool none = link_name(d->dir, "driver", drv, sizeof(drv)) != 0;
		if (access(d->cfg_path, F_OK) != 0)
			return PCI_ERR_ENODEV;
		pcii_log(PCICAP_LOG_ERROR,
			 "vfio: %s is %s%s%s, not to vfio-pci: bind it first (docs/vfio.md)", d->name,
			 none ? "bound to no driver" : "bound to '", none ? "" : drv, none ? "" : "'");
		return PCI_ERR_ENOTSUP;
	}
	char *endp;
	long id;
	if (link_name(d->dir, "iommu_group", grp, sizeof(grp)) != 0 ||
	    (id = strtol(grp, &endp, 10)) < 0 || *endp || id > INT_MAX) {
		pcii_log(PCICAP_LOG_ERROR, "vfio: %s has no IOMMU group (no IOMMU, and no no-IOMMU mode)",
			 d->name);
		return PCI_ERR_ENOTSUP;
	}
	pci_err_t err = group_get(c, d, (int)id, &d->grp);
	if (err != PCI_ERR_OK)
		return err;
	d->dfd = SYS->ioctl(d->grp->fd, VFIO_GROUP_GET_DEVICE_FD, d->name);
	if (d->dfd < 0) {
		int e = errno;
		err = vf_errno(e);
		pcii_log(PCICAP_LOG_ERROR, "vfio: %s: get device fd: %s", d->name, strerror(e));
		d->dfd = -1;
		vf_release(c, d);
		return err;
	}
	struct vfio_device_info info = {.argsz = sizeof(info)};
	if (SYS->ioctl(d->dfd, VFIO_DEVICE_GET_INFO, &info) != 0) {
		err = vf_errno(errno);
	} else if (!(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
		   info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		err = PCI_ERR_ENOTSUP;
	} else {
		d->flags = info.flags;
		struct vf_region cfg;
		err = region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
		d->cfg_off = cfg.off;
		for (uint32_t b = 0; err == PCI_ERR_OK && b < VF_NBARS; b++)
			err = region_info(d, VFIO_PCI_BAR0_REGION_INDEX + b, &d->bar[b]);
		for (uint32_t i = 0; err == PCI_ERR_OK && i < VFIO_PCI_NUM_IRQS && i < info.num_irqs;
		     i++) {
			struct vfio_irq_info ii = {.argsz = sizeof(ii), .index = i};
			if (SYS->ioctl(d->dfd, VFIO_DEVICE_GET_IRQ_INFO, &ii) == 0 &&
			    (ii.flags & VFIO_IRQ_INFO_EVENTFD))
				d->nirq[i] = ii.count;
		}
		if (err == PCI_ERR_OK)
			err = emu_setup(d);
	}
	if (err != PCI_ERR_OK) {
		pcii_log(PCICAP_LOG_ERROR, "vfio: %s: device setup failed: %s", d->name,
			 pci_strerror(err));
		vf_release(c, d);
		return err;
	}
	regions_map(d);
	__atomic_store_n(&d->open, true, __ATOMIC_SEQ_CST);
	req_watch(c, d);
	pcii_log(PCICAP_LOG_INFO, "vfio: %s: group %ld%s, MSI %u, MSI-X %u vectors", d->name, id,
		 d->grp->noiommu ? " (no-IOMMU)" : "", d->nirq[VFIO_PCI_MSI_IRQ_INDEX],
		 d->nirq[VFIO_PCI_MSIX_IRQ_INDEX]);
	return PCI_ERR_OK;
}

static void vf_close(void *ctx, pci_bdf_t bdf)
{
	struct vf_ctx *c = ctx;
	struct vf_dev *d = vf_find(c, bdf);
	if (d && (d->open || d->dfd >= 0))
		vf_release(c, d);
}

static pci_err_t vf_reset(void *ctx, pci_bdf_t bdf, pci_resetType_e type)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!d->open || type != pci_resetType_e_FUNCTION || !(d->flags & VFIO_DEVICE_FLAGS_RESET))
		return PCI_ERR_ENOTSUP;
	if (SYS->ioctl(d->dfd, VFIO_DEVICE_RESET, NULL) != 0)
		return vf_errno(errno);
	emu_reset(d); /* the emulated registers come out of reset too */
	return PCI_ERR_OK;
}

/* ------------------------------------------------------------ DMA */

static pci_err_t vf_dma_map(void *ctx, pci_bdf_t bdf, void *va, size_t len, uint64_t *iova)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!d->open)
		return PCI_ERR_ENOTSUP;
	struct vf_group *g = d->grp;
	if (g->noiommu)
		return PCI_ERR_ENOTSUP; /* no translation: the device would need physical addresses */
	/* first fit in the sorted list */
	uint64_t at = g->iova_lo;
	size_t pos = 0;
	for (; pos < g->ndma; pos++) {
		if (g->dma[pos].iova >= at && g->dma[pos].iova - at >= len)
			break;
		at = g->dma[pos].iova + g->dma[pos].len;
	}
	if (at > g->iova_hi || len - 1 > g->iova_hi - at)
		return PCI_ERR_ENOMEM;
	if (g->ndma == g->dma_cap) {
		size_t n = g->dma_cap ? g->dma_cap * 2 : 8;
		struct vf_dma *p = realloc(g->dma, n * sizeof(*p));
		if (!p)
			return PCI_ERR_ENOMEM;
		g->dma = p;
		g->dma_cap = n;
	}
	struct vfio_iommu_type1_dma_map m = {
	    .argsz = sizeof(m),
	    .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	    .vaddr = (uintptr_t)va,
	    .iova = at,
	    .size = len,
	};
	if (SYS->ioctl(g->cfd, VFIO_IOMMU_MAP_DMA, &m) != 0) {
		int e = errno;
		return e == EFAULT || e == EEXIST ? PCI_ERR_EINVAL : e == EPERM ? PCI_ERR_NOT_OWNER
								 : PCI_ERR_ENOMEM;
	}
	memmove(&g->dma[pos + 1], &g->dma[pos], (g->ndma - pos) * sizeof(g->dma[0]));
	g->dma[pos].iova = at;
	g->dma[pos].len = len;
	g->dma[pos].bdf = bdf;
	g->ndma++;
	*iova = at;
	return PCI_ERR_OK;
}

static pci_err_t vf_dma_unmap(void *ctx, pci_bdf_t bdf, uint64_t iova, size_t len)
{
	struct vf_dev *d = vf_find(ctx, bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	if (!d->open || d->grp->noiommu)
		return PCI_ERR_ENOTSUP;
	struct vf_group *g = d->grp;
	size_t pos = 0;
	while (pos < g->ndma &&
	       !(g->dma[pos].iova == iova && g->dma[pos].len == len && g->dma[pos].bdf == bdf))
		pos++;
	if (pos == g->ndma)
		return PCI_ERR_EINVAL;
	struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof(u), .iova = iova, .size = len};
	if (SYS->ioctl(g->cfd, VFIO_IOMMU_UNMAP_DMA, &u) != 0)
		return vf_errno(errno);
	g->ndma--;
	memmove(&g->dma[pos], &g->dma[pos + 1], (g->ndma - pos) * sizeof(g->dma[0]));
	return PCI_ERR_OK;
}

/* ------------------------------------------------------------ fini, table */

static void vf_fini(void *ctx)
{
	struct vf_ctx *c = ctx;
	for (size_t i = 0; i < c->ndevs; i++)
		if (c->devs[i].open || c->devs[i].dfd >= 0)
			vf_release(c, &c->devs[i]);
	if (c->thr_on) {
		uint64_t one = 1;
		ssize_t r = write(c->stopfd, &one, sizeof(one));
		(void)r;
		pthread_join(c->thr, NULL);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->stopfd >= 0)
		close(c->stopfd);
	free(c->toks);
	vf_free_devs(c);
	pthread_mutex_destroy(&c->fwd_mu);
	free(c);
}

const pcicap_backend_t pcii_backend_vfio = {
    .struct_size = sizeof(pcicap_backend_t),
    .abi_version = PCICAP_BACKEND_ABI_VERSION,
    .name = "vfio",
    .init = vf_init,
    .fini = vf_fini,
    .scan = vf_scan,
    .generation = NULL, /* the set is enumerated once, at init */
    .present = vf_present,
    .cfg_read = vf_cfg_read,
    .cfg_write = vf_cfg_write,
    .bar_info = vf_bar_info,
    .bar_read = vf_bar_read,
    .bar_write = vf_bar_write,
    .bar_map = vf_bar_map,
    .bar_unmap = vf_bar_unmap,
    .irq_alloc = NULL, /* the kernel allocates: msg_enable */
    .irq_free = NULL,
    .irq_fd = vf_irq_fd,
    .msg_enable = vf_msg_enable,
    .msg_disable = vf_msg_disable,
    .reset = vf_reset,
    .chassis_slot = NULL,
    .scope = vf_scope,
    .driver = vf_driver,
    .open = vf_open,
    .close = vf_close,
    .dma_map = vf_dma_map,
    .dma_unmap = vf_dma_unmap,
};
