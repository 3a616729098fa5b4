/*
 * A fake VFIO kernel for the "vfio" backend's unit tests: see vfio_fake.h.
 *
 * What it models, after vfio-pci and vfio_iommu_type1 (Linux 6.1):
 * - one open per group node (a second open: EBUSY), a container per open of
 *   /dev/vfio/vfio, groups attached to containers, the IOMMU set on a
 *   container that has a group, device fds only from a group whose container
 *   has an IOMMU;
 * - the config region: the hardware is the sysfs config file; the MSI Enable
 *   bit is virtualized (VFIO enables MSI through SET_IRQS and a read shows
 *   what userspace wrote while MSI is on), writes to the MSI-X capability are
 *   dropped, the MSI-X Enable bit read is the hardware's;
 * - BAR regions backed by memfds: pread/pwrite, mmap of the areas the region
 *   allows (a sparse-mmap capability leaves the MSI-X table's pages out, as
 *   vfio-pci does); pread/pwrite of the MSI-X table read 0xFF and drop writes;
 * - SET_IRQS for MSI, MSI-X (enable with n vectors, -1 = no trigger, count 0
 *   disables) and the request IRQ; the kernel keeps its own reference to each
 *   eventfd (a dup), names the vectors in /proc/interrupts and sets the
 *   hardware enable bits;
 * - IOMMU_GET_INFO with a capability chain (DMA-available, then IOVA ranges)
 *   and the argsz protocol, MAP_DMA/UNMAP_DMA with range and overlap checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/vfio_sys.h"
#include "vfio_fake.h"

#define OFF_SHIFT  40
#define OFF_MASK   ((1ull << OFF_SHIFT) - 1)
#define MAX_CONTS  16
#define MAX_GROUPS 32
#define MAX_OBJS   64
#define MAX_MAPS   64
#define MAX_DMA    256
#define IRQ_FIRST  40

enum { OBJ_FREE, OBJ_CONT, OBJ_GROUP, OBJ_DEV };

struct fdev {
	char name[16];
	char dir[512];
	int cfg_fd; /* the sysfs config file: the hardware */
	size_t cfg_len;
	fake_bar_t bar[6];
	int bar_fd[6];
	uint32_t nirq[FAKE_NIRQ_IDX];
	uint32_t max_vectors;
	bool reset;
	int group;
	/* capabilities found in the image */
	unsigned msi_off, msix_off, msix_n;
	int tbir;
	uint64_t toff;
	/* kernel state */
	int irq_type;             /* -1: none */
	int *trig[FAKE_NIRQ_IDX]; /* the kernel's eventfd references */
	int *passed[FAKE_NIRQ_IDX];
	int *irqnum[FAKE_NIRQ_IDX];
	unsigned ntrig[FAKE_NIRQ_IDX];
	bool virt_msi_enable;
	int ndevfds;
	int resets;
	fake_counters_t cnt;
};

struct fgroup {
	int id;
	bool noiommu, viable, busy;
	int fd;   /* our open, -1 */
	int cont; /* container index, -1 */
};

struct fcont {
	bool used;
	int fd;
	int iommu; /* type, 0: none */
	int ngroups;
};

struct fobj {
	int fd, kind, idx;
};

struct fmap {
	void *p;
	size_t len;
};

struct fdma {
	int cont;
	uint64_t vaddr, iova, size;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char root[256], sysfs_dir[320], dev_dir[320], proc_path[320];
static struct fdev devs[FAKE_MAX_DEVS];
static size_t ndevs;
static struct fgroup groups[MAX_GROUPS];
static size_t ngroups;
static struct fcont conts[MAX_CONTS];
static struct fobj objs[MAX_OBJS];
static struct fmap maps[MAX_MAPS];
static struct fdma dmas[MAX_DMA];
static size_t ndma;
static int next_irq = IRQ_FIRST;
static long page;

/* knobs */
static struct {
	int err, times;
} faults[FK_COUNT];
static int api_version;
static bool type1v2 = true, irq_names = true, msix_mappable;
static uint64_t iova[8][2];
static size_t niova;

static char *logbuf;
static size_t loglen, logcap;

/* ------------------------------------------------------------ helpers */

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char tok[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tok, sizeof(tok), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t need = loglen + (size_t)n + 2;
	if (need > logcap) {
		size_t c = logcap ? logcap * 2 : 4096;
		while (c < need)
			c *= 2;
		char *p = realloc(logbuf, c);
		if (!p)
			return;
		logbuf = p;
		logcap = c;
	}
	if (loglen)
		logbuf[loglen++] = ' ';
	memcpy(logbuf + loglen, tok, (size_t)n + 1);
	loglen += (size_t)n;
}

/* A pending injected fault at @w: its errno, or 0. */
static int fault(fake_fault_t w)
{
	if (!faults[w].times)
		return 0;
	if (faults[w].times > 0)
		faults[w].times--;
	return faults[w].err;
}

static int fail(int e)
{
	errno = e;
	return -1;
}

static struct fdev *dev_by_name(const char *name)
{
	for (size_t i = 0; i < ndevs; i++)
		if (strcmp(devs[i].name, name) == 0)
			return &devs[i];
	return NULL;
}

static struct fgroup *group_by_id(int id, bool noiommu)
{
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i].id == id && groups[i].noiommu == noiommu)
			return &groups[i];
	return NULL;
}

static struct fobj *obj_of(int fd)
{
	for (int i = 0; i < MAX_OBJS; i++)
		if (objs[i].kind != OBJ_FREE && objs[i].fd == fd)
			return &objs[i];
	return NULL;
}

/* A real fd (a memfd: cheap, unique) that stands for a kernel object. */
static int obj_new(int kind, int idx)
{
	for (int i = 0; i < MAX_OBJS; i++) {
		if (objs[i].kind != OBJ_FREE)
			continue;
		int fd = memfd_create("fake-vfio", MFD_CLOEXEC);
		if (fd < 0)
			return -1;
		objs[i] = (struct fobj){.fd = fd, .kind = kind, .idx = idx};
		return fd;
	}
	return fail(EMFILE);
}

static void hw_read(struct fdev *d, unsigned off, void *buf, size_t len)
{
	if (pread(d->cfg_fd, buf, len, off) != (ssize_t)len)
		memset(buf, 0xFF, len);
}

static void hw_write(struct fdev *d, unsigned off, const void *buf, size_t len)
{
	ssize_t r = pwrite(d->cfg_fd, buf, len, off);
	(void)r;
}

static uint16_t hw_get16(struct fdev *d, unsigned off)
{
	uint8_t b[2];
	hw_read(d, off, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static void hw_put16(struct fdev *d, unsigned off, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	hw_write(d, off, b, 2);
}

static bool is_eventfd(int fd)
{
	char p[64], t[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	if (n < 0)
		return false;
	t[n] = '\0';
	return strcmp(t, "anon_inode:[eventfd]") == 0;
}

/* /proc/interrupts as the kernel shows it, with vfio-pci's vector names. */
static void proc_write(void)
{
	FILE *f = fopen(proc_path, "we");
	if (!f)
		return;
	fprintf(f, "            CPU0       CPU1       \n");
	fprintf(f, "   0:         22          0   IO-APIC   2-edge      timer\n");
	fprintf(f, "   9:          0          0   IO-APIC   9-fasteoi   acpi\n");
	for (size_t i = 0; i < ndevs; i++) {
		struct fdev *d = &devs[i];
		if (d->irq_type != FAKE_IRQ_MSI && d->irq_type != FAKE_IRQ_MSIX)
			continue;
		bool x = d->irq_type == FAKE_IRQ_MSIX;
		for (unsigned v = 0; v < d->ntrig[d->irq_type]; v++) {
			int irq = d->irqnum[d->irq_type][v];
			if (irq < 0)
				continue;
			fprintf(f, "%4d:          0          3   PCI-MSI%s-%s   %u-edge", irq,
				x ? "X" : "", d->name, v);
			if (irq_names)
				fprintf(f, "      vfio-msi%s[%u](%s)", x ? "x" : "", v, d->name);
			fputc('\n', f);
		}
	}
	fprintf(f, " NMI:          0          0   Non-maskable interrupts\n");
	fprintf(f, " ERR:          0\n");
	fclose(f);
}

static void trig_drop(struct fdev *d, int idx)
{
	for (unsigned v = 0; v < d->ntrig[idx]; v++)
		if (d->trig[idx][v] >= 0)
			close(d->trig[idx][v]);
	free(d->trig[idx]);
	free(d->passed[idx]);
	free(d->irqnum[idx]);
	d->trig[idx] = d->passed[idx] = d->irqnum[idx] = NULL;
	d->ntrig[idx] = 0;
}

/* The kernel's vfio_msi_disable(). */
static void msi_off(struct fdev *d)
{
	int t = d->irq_type;
	if (t < 0)
		return;
	trig_drop(d, t);
	if (t == FAKE_IRQ_MSI && d->msi_off)
		hw_put16(d, d->msi_off + 2, hw_get16(d, d->msi_off + 2) & ~0x0071u);
	if (t == FAKE_IRQ_MSIX && d->msix_off)
		hw_put16(d, d->msix_off + 2, hw_get16(d, d->msix_off + 2) & ~0x8000u);
	d->irq_type = -1;
	d->virt_msi_enable = false;
	proc_write();
}

static void group_detach(struct fgroup *g)
{
	if (g->cont < 0)
		return;
	struct fcont *c = &conts[g->cont];
	if (--c->ngroups == 0) {
		/* the container loses its IOMMU and every mapping */
		c->iommu = 0;
		size_t j = 0;
		for (size_t i = 0; i < ndma; i++)
			if (dmas[i].cont != g->cont)
				dmas[j++] = dmas[i];
		ndma = j;
	}
	g->cont = -1;
}

/* The sparse-mmap areas of BAR @b (vfio-pci's msix_sparse_mmap_cap()):
 * up to 2, or the whole BAR when it holds no MSI-X table. */
static unsigned bar_areas(const struct fdev *d, int b, uint64_t (*a)[2])
{
	uint64_t end = d->bar[b].size;
	if (!d->msix_off || d->tbir != b || msix_mappable) {
		a[0][0] = 0;
		a[0][1] = end;
		return 1;
	}
	uint64_t pm = ~((uint64_t)page - 1);
	uint64_t tend = (d->toff + 16ull * d->msix_n + (uint64_t)page - 1) & pm;
	unsigned n = 0;
	if (d->toff & pm) {
		a[n][0] = 0;
		a[n][1] = d->toff & pm;
		n++;
	}
	if (tend < end) {
		a[n][0] = tend;
		a[n][1] = end - tend;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------ open/close */

static int f_open(const char *path, int flags)
{
	(void)flags;
	pthread_mutex_lock(&mu);
	int r = -1, e = ENOENT;
	size_t dl = strlen(dev_dir);
	const char *rest =
	    strncmp(path, dev_dir, dl) == 0 && path[dl] == '/' ? path + dl + 1 : NULL;
	if (rest && strcmp(rest, "vfio") == 0) {
		int i = 0;
		while (i < MAX_CONTS && conts[i].used)
			i++;
		logf_("open:container");
		e = fault(FK_OPEN_CONTAINER);
		if (!e && i == MAX_CONTS)
			e = EMFILE;
		if (e)
			goto out;
		r = obj_new(OBJ_CONT, i);
		e = errno;
		if (r >= 0)
			conts[i] = (struct fcont){.used = true, .fd = r};
		goto out;
	}
	if (rest) {
		bool noiommu = strncmp(rest, "noiommu-", 8) == 0;
		char *end;
		long id = strtol(noiommu ? rest + 8 : rest, &end, 10);
		struct fgroup *g = *end || end == rest ? NULL : group_by_id((int)id, noiommu);
		logf_("open:%s", noiommu ? "noiommu" : "group");
		if (!g) {
			e = ENOENT;
			goto out;
		}
		if ((e = fault(FK_OPEN_GROUP)) != 0)
			goto out;
		if (g->busy || g->fd >= 0) {
			e = EBUSY;
			goto out;
		}
		r = obj_new(OBJ_GROUP, (int)(g - groups));
		e = errno;
		if (r >= 0)
			g->fd = r;
	}
out:
	if (r < 0 && rest)
		logf_("=%d", e);
	pthread_mutex_unlock(&mu);
	if (r < 0)
		errno = e;
	return r;
}

static int f_close(int fd)
{
	pthread_mutex_lock(&mu);
	struct fobj *o = obj_of(fd);
	if (!o) {
		logf_("close:unknown");
		pthread_mutex_unlock(&mu);
		return close(fd);
	}
	switch (o->kind) {
	case OBJ_CONT:
		logf_("close:container");
		for (size_t i = 0; i < ngroups; i++)
			if (groups[i].cont == o->idx)
				group_detach(&groups[i]);
		conts[o->idx].used = false;
		break;
	case OBJ_GROUP:
		logf_("close:group");
		group_detach(&groups[o->idx]);
		groups[o->idx].fd = -1;
		break;
	default: {
		logf_("close:device");
		struct fdev *d = &devs[o->idx];
		if (--d->ndevfds == 0) {
			/* the kernel's release: interrupts off, triggers dropped */
			msi_off(d);
			trig_drop(d, FAKE_IRQ_REQ);
		}
		break;
	}
	}
	o->kind = OBJ_FREE;
	pthread_mutex_unlock(&mu);
	return close(fd);
}

/* ------------------------------------------------------------ ioctls */

static int c_iommu_info(struct fcont *c, struct vfio_iommu_type1_info *info)
{
	logf_("ioctl:IOMMU_INFO");
	int e;
	if ((e = fault(FK_IOMMU_INFO)) != 0)
		return fail(e);
	if (c->iommu != VFIO_TYPE1_IOMMU && c->iommu != VFIO_TYPE1v2_IOMMU)
		return fail(EINVAL);
	if (info->argsz < offsetof(struct vfio_iommu_type1_info, cap_offset))
		return fail(EINVAL);
	/* the kernel's vfio_info_cap_add() keeps every capability 8-byte aligned */
	size_t avail = (sizeof(struct vfio_iommu_type1_info_dma_avail) + 7) & ~(size_t)7;
	size_t range = niova ? sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
				   niova * sizeof(struct vfio_iova_range)
			     : 0;
	size_t caps = avail + range;
	info->flags = VFIO_IOMMU_INFO_PGSIZES;
	info->iova_pgsizes = 0x40201000ull;
	if (info->argsz < sizeof(*info))
		return 0; /* an old caller: no capabilities */
	info->flags |= VFIO_IOMMU_INFO_CAPS;
	if (info->argsz < sizeof(*info) + caps) {
		info->argsz = (uint32_t)(sizeof(*info) + caps);
		info->cap_offset = 0;
		return 0;
	}
	uint8_t *base = (uint8_t *)info;
	uint32_t off = sizeof(*info);
	struct vfio_iommu_type1_info_dma_avail *a = (void *)(base + off);
	a->header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	a->header.version = 1;
	a->header.next = range ? (uint32_t)(off + avail) : 0;
	a->avail = 65535;
	if (range) {
		struct vfio_iommu_type1_info_cap_iova_range *r = (void *)(base + off + avail);
		r->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
		r->header.version = 1;
		r->header.next = 0;
		r->nr_iovas = (uint32_t)niova;
		for (size_t i = 0; i < niova; i++) {
			r->iova_ranges[i].start = iova[i][0];
			r->iova_ranges[i].end = iova[i][1];
		}
	}
	info->cap_offset = off;
	return 0;
}

static bool iova_ok(uint64_t lo, uint64_t size)
{
	if (!niova)
		return true;
	uint64_t hi = lo + size - 1;
	for (size_t i = 0; i < niova; i++)
		if (lo >= iova[i][0] && hi <= iova[i][1] && hi >= lo)
			return true;
	return false;
}

static int c_map(int ci, struct vfio_iommu_type1_dma_map *m)
{
	logf_("ioctl:MAP_DMA");
	int e;
	if ((e = fault(FK_MAP_DMA)) != 0)
		return fail(e);
	struct fcont *c = &conts[ci];
	if (c->iommu != VFIO_TYPE1_IOMMU && c->iommu != VFIO_TYPE1v2_IOMMU)
		return fail(EINVAL);
	uint64_t pm = (uint64_t)page - 1;
	if (m->argsz < sizeof(*m) || !m->size || (m->size & pm) || (m->iova & pm) ||
	    (m->vaddr & pm) ||
	    (m->flags & ~(uint32_t)(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) ||
	    !iova_ok(m->iova, m->size))
		return fail(EINVAL);
	for (size_t i = 0; i < ndma; i++)
		if (dmas[i].cont == ci && m->iova < dmas[i].iova + dmas[i].size &&
		    dmas[i].iova < m->iova + m->size)
			return fail(EEXIST);
	if (ndma == MAX_DMA)
		return fail(ENOSPC);
	dmas[ndma++] =
	    (struct fdma){.cont = ci, .vaddr = m->vaddr, .iova = m->iova, .size = m->size};
	return 0;
}

static int c_unmap(int ci, struct vfio_iommu_type1_dma_unmap *u)
{
	logf_("ioctl:UNMAP_DMA");
	int e;
	if ((e = fault(FK_UNMAP_DMA)) != 0)
		return fail(e);
	if (u->argsz < sizeof(*u))
		return fail(EINVAL);
	for (size_t i = 0; i < ndma; i++)
		if (dmas[i].cont == ci && dmas[i].iova == u->iova && dmas[i].size == u->size) {
			dmas[i] = dmas[--ndma];
			return 0;
		}
	u->size = 0; /* nothing was mapped there */
	return 0;
}

static int container_ioctl(int ci, unsigned long req, void *arg)
{
	struct fcont *c = &conts[ci];
	bool any_noiommu = false, any_iommu = false;
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i].cont == ci) {
			any_noiommu |= groups[i].noiommu;
			any_iommu |= !groups[i].noiommu;
		}
	int e;
	switch (req) {
	case VFIO_GET_API_VERSION: logf_("ioctl:API"); return api_version;
	case VFIO_CHECK_EXTENSION: {
		long t = (long)(uintptr_t)arg;
		logf_("ioctl:CHECK_EXT(%ld)", t);
		if (t == VFIO_TYPE1v2_IOMMU)
			return type1v2;
		if (t == VFIO_TYPE1_IOMMU)
			return 1;
		if (t == VFIO_NOIOMMU_IOMMU)
			return any_noiommu;
		return 0;
	}
	case VFIO_SET_IOMMU: {
		long t = (long)(uintptr_t)arg;
		logf_("ioctl:SET_IOMMU(%ld)", t);
		if (!c->ngroups)
			return fail(EINVAL);
		if (c->iommu)
			return fail(EBUSY);
		if ((e = fault(FK_SET_IOMMU)) != 0)
			return fail(e);
		if ((t == VFIO_TYPE1v2_IOMMU && (!type1v2 || any_noiommu)) ||
		    (t == VFIO_TYPE1_IOMMU && any_noiommu) ||
		    (t == VFIO_NOIOMMU_IOMMU && any_iommu) ||
		    (t != VFIO_TYPE1v2_IOMMU && t != VFIO_TYPE1_IOMMU && t != VFIO_NOIOMMU_IOMMU))
			return fail(ENODEV);
		c->iommu = (int)t;
		return 0;
	}
	case VFIO_IOMMU_GET_INFO: return c_iommu_info(c, arg);
	case VFIO_IOMMU_MAP_DMA: return c_map(ci, arg);
	case VFIO_IOMMU_UNMAP_DMA: return c_unmap(ci, arg);
	default: logf_("ioctl:container?%lx", req); return fail(ENOTTY);
	}
}

static int group_ioctl(int gi, unsigned long req, void *arg)
{
	struct fgroup *g = &groups[gi];
	int e;
	switch (req) {
	case VFIO_GROUP_GET_STATUS: {
		logf_("ioctl:GROUP_STATUS");
		if ((e = fault(FK_GROUP_STATUS)) != 0)
			return fail(e);
		struct vfio_group_status *st = arg;
		if (st->argsz < sizeof(*st))
			return fail(EINVAL);
		st->flags = (g->viable ? VFIO_GROUP_FLAGS_VIABLE : 0) |
			    (g->cont >= 0 ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
		return 0;
	}
	case VFIO_GROUP_SET_CONTAINER: {
		logf_("ioctl:SET_CONTAINER");
		if ((e = fault(FK_SET_CONTAINER)) != 0)
			return fail(e);
		struct fobj *o = obj_of(*(const int *)arg);
		if (!o || o->kind != OBJ_CONT)
			return fail(EBADF);
		if (g->cont >= 0)
			return fail(EINVAL);
		if (!g->viable)
			return fail(EPERM);
		g->cont = o->idx;
		conts[o->idx].ngroups++;
		return 0;
	}
	case VFIO_GROUP_GET_DEVICE_FD: {
		const char *name = arg;
		logf_("ioctl:GET_DEVICE_FD");
		if ((e = fault(FK_GET_DEVICE_FD)) != 0)
			return fail(e);
		if (g->cont < 0 || !conts[g->cont].iommu)
			return fail(EINVAL);
		struct fdev *d = dev_by_name(name);
		if (!d || d->group != g->id)
			return fail(ENODEV);
		int fd = obj_new(OBJ_DEV, (int)(d - devs));
		if (fd < 0)
			return -1;
		if (d->ndevfds++ == 0) {
			/* what the previous driver's unbind left: interrupts off */
			if (d->msi_off)
				hw_put16(d, d->msi_off + 2, hw_get16(d, d->msi_off + 2) & ~0x0001u);
			if (d->msix_off)
				hw_put16(d, d->msix_off + 2,
					 hw_get16(d, d->msix_off + 2) & ~0xC000u);
		}
		return fd;
	}
	default: logf_("ioctl:group?%lx", req); return fail(ENOTTY);
	}
}

static int d_region_info(struct fdev *d, struct vfio_region_info *ri)
{
	logf_("ioctl:REGION_INFO(%u)", ri->index);
	int e;
	if ((e = fault(FK_REGION_INFO)) != 0)
		return fail(e);
	if (ri->argsz < sizeof(*ri) || ri->index >= VFIO_PCI_NUM_REGIONS)
		return fail(EINVAL);
	uint32_t idx = ri->index;
	ri->offset = (uint64_t)idx << OFF_SHIFT;
	ri->flags = 0;
	ri->size = 0;
	ri->cap_offset = 0;
	if (idx == VFIO_PCI_CONFIG_REGION_INDEX) {
		ri->size = d->cfg_len;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		return 0;
	}
	if (idx > VFIO_PCI_BAR5_REGION_INDEX || !d->bar[idx].size)
		return 0;
	const fake_bar_t *b = &d->bar[idx];
	ri->size = b->size;
	ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (!b->mmap || b->io)
		return 0;
	ri->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	if (!d->msix_off || d->tbir != (int)idx)
		return 0;
	if (msix_mappable) {
		size_t caps = sizeof(struct vfio_info_cap_header);
		ri->flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (ri->argsz < sizeof(*ri) + caps) {
			ri->argsz = (uint32_t)(sizeof(*ri) + caps);
			return 0;
		}
		struct vfio_info_cap_header *h = (void *)((uint8_t *)ri + sizeof(*ri));
		h->id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
		h->version = 1;
		h->next = 0;
		ri->cap_offset = sizeof(*ri);
		return 0;
	}
	uint64_t a[2][2];
	unsigned n = bar_areas(d, (int)idx, a);
	size_t caps = sizeof(struct vfio_region_info_cap_sparse_mmap) +
		      n * sizeof(struct vfio_region_sparse_mmap_area);
	ri->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	if (ri->argsz < sizeof(*ri) + caps) {
		ri->argsz = (uint32_t)(sizeof(*ri) + caps);
		return 0;
	}
	struct vfio_region_info_cap_sparse_mmap *sp = (void *)((uint8_t *)ri + sizeof(*ri));
	sp->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sp->header.version = 1;
	sp->header.next = 0;
	sp->nr_areas = n;
	for (unsigned i = 0; i < n; i++) {
		sp->areas[i].offset = a[i][0];
		sp->areas[i].size = a[i][1];
	}
	ri->cap_offset = sizeof(*ri);
	return 0;
}

static int d_set_irqs(struct fdev *d, struct vfio_irq_set *s)
{
	logf_("ioctl:SET_IRQS(%u,%u)", s->index, s->count);
	if (s->argsz < sizeof(*s) || s->index >= FAKE_NIRQ_IDX)
		return fail(EINVAL);
	uint32_t idx = s->index, data = s->flags & VFIO_IRQ_SET_DATA_TYPE_MASK,
		 action = s->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	if (idx != FAKE_IRQ_MSI && idx != FAKE_IRQ_MSIX && idx != FAKE_IRQ_REQ)
		return fail(EINVAL);
	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return fail(ENOTTY); /* vfio-pci masks INTx only */
	int e;
	if (data == VFIO_IRQ_SET_DATA_NONE && s->count == 0) {
		if ((e = fault(FK_SET_IRQS_OFF)) != 0)
			return fail(e);
		if (idx == FAKE_IRQ_REQ) {
			trig_drop(d, FAKE_IRQ_REQ);
			return 0;
		}
		if (d->irq_type != (int)idx)
			return fail(EINVAL);
		msi_off(d);
		return 0;
	}
	if (data != VFIO_IRQ_SET_DATA_EVENTFD || s->count == 0 || s->start != 0 ||
	    s->count > d->nirq[idx] || s->argsz < sizeof(*s) + s->count * sizeof(int32_t))
		return fail(EINVAL);
	fake_fault_t w = idx == FAKE_IRQ_MSI    ? FK_SET_IRQS_MSI
			 : idx == FAKE_IRQ_MSIX ? FK_SET_IRQS_MSIX
						: FK_SET_IRQS_REQ;
	if ((e = fault(w)) != 0)
		return fail(e);
	const int32_t *fds = (const int32_t *)s->data;
	for (uint32_t v = 0; v < s->count; v++)
		if (fds[v] != -1 && !is_eventfd(fds[v]))
			return fail(EBADF);
	if (idx != FAKE_IRQ_REQ) {
		if (d->irq_type >= 0 && d->irq_type != (int)idx)
			return fail(EINVAL);
		if (d->irq_type == (int)idx)
			return fail(EINVAL); /* re-setting vectors: not modelled */
		if (d->max_vectors && s->count > d->max_vectors)
			return fail(ENOSPC);
	}
	trig_drop(d, (int)idx);
	d->trig[idx] = malloc(s->count * sizeof(int));
	d->passed[idx] = malloc(s->count * sizeof(int));
	d->irqnum[idx] = malloc(s->count * sizeof(int));
	if (!d->trig[idx] || !d->passed[idx] || !d->irqnum[idx]) {
		free(d->trig[idx]);
		free(d->passed[idx]);
		free(d->irqnum[idx]);
		d->trig[idx] = d->passed[idx] = d->irqnum[idx] = NULL;
		return fail(ENOMEM);
	}
	d->ntrig[idx] = s->count;
	for (uint32_t v = 0; v < s->count; v++) {
		d->passed[idx][v] = fds[v];
		d->trig[idx][v] = fds[v] == -1 ? -1 : fcntl(fds[v], F_DUPFD_CLOEXEC, 0);
		d->irqnum[idx][v] = fds[v] == -1 ? -1 : next_irq++;
	}
	if (idx == FAKE_IRQ_REQ)
		return 0;
	d->irq_type = (int)idx;
	if (idx == FAKE_IRQ_MSI && d->msi_off) {
		unsigned l = 0;
		while ((1u << l) < s->count)
			l++;
		hw_put16(d, d->msi_off + 2,
			 (uint16_t)((hw_get16(d, d->msi_off + 2) & ~0x0070u) | l << 4 | 1));
	}
	if (idx == FAKE_IRQ_MSIX && d->msix_off)
		hw_put16(d, d->msix_off + 2, hw_get16(d, d->msix_off + 2) | 0x8000u);
	proc_write();
	return 0;
}

static int device_ioctl(int di, unsigned long req, void *arg)
{
	struct fdev *d = &devs[di];
	int e;
	switch (req) {
	case VFIO_DEVICE_GET_INFO: {
		logf_("ioctl:DEVICE_INFO");
		if ((e = fault(FK_DEVICE_INFO)) != 0)
			return fail(e);
		struct vfio_device_info *info = arg;
		if (info->argsz < offsetof(struct vfio_device_info, cap_offset))
			return fail(EINVAL);
		info->flags = VFIO_DEVICE_FLAGS_PCI | (d->reset ? VFIO_DEVICE_FLAGS_RESET : 0);
		info->num_regions = VFIO_PCI_NUM_REGIONS;
		info->num_irqs = VFIO_PCI_NUM_IRQS;
		return 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: return d_region_info(d, arg);
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info *ii = arg;
		logf_("ioctl:IRQ_INFO(%u)", ii->index);
		if (ii->argsz < sizeof(*ii) || ii->index >= VFIO_PCI_NUM_IRQS)
			return fail(EINVAL);
		ii->count = d->nirq[ii->index];
		ii->flags = VFIO_IRQ_INFO_EVENTFD;
		if (ii->index == FAKE_IRQ_INTX)
			ii->flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
		else if (ii->index == FAKE_IRQ_MSI || ii->index == FAKE_IRQ_MSIX)
			ii->flags |= VFIO_IRQ_INFO_NORESIZE;
		return 0;
	}
	case VFIO_DEVICE_SET_IRQS: return d_set_irqs(d, arg);
	case VFIO_DEVICE_RESET:
		logf_("ioctl:RESET");
		if ((e = fault(FK_RESET)) != 0)
			return fail(e);
		if (!d->reset)
			return fail(EINVAL);
		d->resets++;
		return 0;
	default: logf_("ioctl:device?%lx", req); return fail(ENOTTY);
	}
}

static int f_ioctl(int fd, unsigned long req, void *arg)
{
	pthread_mutex_lock(&mu);
	struct fobj *o = obj_of(fd);
	int r;
	if (!o) {
		logf_("ioctl:badfd");
		r = fail(EBADF);
	} else if (o->kind == OBJ_CONT) {
		r = container_ioctl(o->idx, req, arg);
	} else if (o->kind == OBJ_GROUP) {
		r = group_ioctl(o->idx, req, arg);
	} else {
		r = device_ioctl(o->idx, req, arg);
	}
	int e = errno;
	pthread_mutex_unlock(&mu);
	errno = e;
	return r;
}

/* ------------------------------------------------------------ regions */

static ssize_t cfg_rw(struct fdev *d, void *rbuf, const void *wbuf, size_t n, uint64_t o)
{
	if (o >= d->cfg_len || n > d->cfg_len - o)
		return fail(EINVAL);
	if (rbuf) {
		d->cnt.cfg_reads++;
		uint8_t *b = rbuf;
		hw_read(d, (unsigned)o, b, n);
		/* the MSI Enable bit is VFIO's own: what userspace wrote while on */
		if (d->msi_off && o <= d->msi_off + 2 && o + n > d->msi_off + 2)
			b[d->msi_off + 2 - o] =
			    (uint8_t)((b[d->msi_off + 2 - o] & ~1u) | (d->virt_msi_enable ? 1 : 0));
		return (ssize_t)n;
	}
	d->cnt.cfg_writes++;
	const uint8_t *b = wbuf;
	for (size_t i = 0; i < n; i++) {
		unsigned at = (unsigned)(o + i);
		uint8_t v = b[i];
		if (d->msix_off && at >= d->msix_off && at < d->msix_off + 12)
			continue; /* MSI-X belongs to the kernel */
		if (d->msi_off && at == d->msi_off + 2) {
			uint8_t hw;
			hw_read(d, at, &hw, 1);
			d->virt_msi_enable = d->irq_type == FAKE_IRQ_MSI && (v & 1);
			v = (uint8_t)((v & ~1u) | (hw & 1));
		}
		hw_write(d, at, &v, 1);
	}
	return (ssize_t)n;
}

static ssize_t bar_rw(struct fdev *d, int b, void *rbuf, const void *wbuf, size_t n, uint64_t o)
{
	if (!d->bar[b].size || o >= d->bar[b].size || n > d->bar[b].size - o)
		return fail(EINVAL);
	if (rbuf)
		d->cnt.bar_reads++;
	else
		d->cnt.bar_writes++;
	uint64_t tlen = 16ull * d->msix_n;
	if (d->msix_off && d->tbir == b && o < d->toff + tlen && d->toff < o + n) {
		/* vfio-pci keeps userspace out of the MSI-X table */
		if (rbuf)
			memset(rbuf, 0xFF, n);
		return (ssize_t)n;
	}
	ssize_t r =
	    rbuf ? pread(d->bar_fd[b], rbuf, n, (off_t)o) : pwrite(d->bar_fd[b], wbuf, n, (off_t)o);
	return r;
}

static ssize_t region_rw(int fd, void *rbuf, const void *wbuf, size_t n, off_t off)
{
	pthread_mutex_lock(&mu);
	struct fobj *o = obj_of(fd);
	ssize_t r;
	if (!o || o->kind != OBJ_DEV) {
		r = fail(EBADF);
	} else {
		struct fdev *d = &devs[o->idx];
		uint64_t idx = (uint64_t)off >> OFF_SHIFT, at = (uint64_t)off & OFF_MASK;
		int e = fault(rbuf ? FK_REGION_READ : FK_REGION_WRITE);
		if (e)
			r = fail(e);
		else if (idx == VFIO_PCI_CONFIG_REGION_INDEX)
			r = cfg_rw(d, rbuf, wbuf, n, at);
		else if (idx <= VFIO_PCI_BAR5_REGION_INDEX)
			r = bar_rw(d, (int)idx, rbuf, wbuf, n, at);
		else
			r = fail(EINVAL);
	}
	int e = errno;
	pthread_mutex_unlock(&mu);
	errno = e;
	return r;
}

static ssize_t f_pread(int fd, void *buf, size_t n, off_t off)
{
	return region_rw(fd, buf, NULL, n, off);
}

static ssize_t f_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return region_rw(fd, NULL, buf, n, off);
}

static void *f_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	pthread_mutex_lock(&mu);
	void *p = MAP_FAILED;
	int e = EINVAL;
	struct fobj *o = obj_of(fd);
	uint64_t idx = (uint64_t)off >> OFF_SHIFT, at = (uint64_t)off & OFF_MASK;
	logf_("mmap(%u)", (unsigned)idx);
	if ((e = fault(FK_MMAP)) != 0)
		goto out;
	e = EINVAL;
	if (!o || o->kind != OBJ_DEV || idx > VFIO_PCI_BAR5_REGION_INDEX || !(flags & MAP_SHARED))
		goto out;
	struct fdev *d = &devs[o->idx];
	const fake_bar_t *b = &d->bar[idx];
	if (!b->size || !b->mmap || b->io || (at % (uint64_t)page))
		goto out;
	uint64_t a[2][2];
	unsigned na = bar_areas(d, (int)idx, a);
	bool inside = false;
	for (unsigned i = 0; i < na; i++)
		inside |= at >= a[i][0] && at + len <= a[i][0] + a[i][1];
	if (!inside)
		goto out;
	int slot = 0;
	while (slot < MAX_MAPS && maps[slot].p)
		slot++;
	if (slot == MAX_MAPS) {
		e = ENOMEM;
		goto out;
	}
	p = mmap(addr, len, prot, MAP_SHARED, d->bar_fd[idx], (off_t)at);
	e = errno;
	if (p != MAP_FAILED)
		maps[slot] = (struct fmap){.p = p, .len = len};
out:
	pthread_mutex_unlock(&mu);
	if (p == MAP_FAILED)
		errno = e;
	return p;
}

static int f_munmap(void *p, size_t len)
{
	pthread_mutex_lock(&mu);
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].p == p && maps[i].len == len)
			maps[i].p = NULL;
	logf_("munmap");
	pthread_mutex_unlock(&mu);
	return munmap(p, len);
}

static pcii_vfio_sys_t fake_sys = {
    .open = f_open,
    .close = f_close,
    .ioctl = f_ioctl,
    .pread = f_pread,
    .pwrite = f_pwrite,
    .mmap = f_mmap,
    .munmap = f_munmap,
};

/* ------------------------------------------------------------ the tree */

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int mkdirs(const char *path)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void find_caps(struct fdev *d, const uint8_t *cfg)
{
	if (!(cfg[6] & 0x10))
		return;
	unsigned off = cfg[0x34] & 0xFC;
	for (int guard = 0; off >= 0x40 && off < 0x100 && guard < 48; guard++) {
		if (cfg[off] == 0x05 && !d->msi_off)
			d->msi_off = off;
		if (cfg[off] == 0x11 && !d->msix_off) {
			d->msix_off = off;
			d->msix_n = ((cfg[off + 2] | cfg[off + 3] << 8) & 0x7FFu) + 1;
			uint32_t t = (uint32_t)cfg[off + 4] | (uint32_t)cfg[off + 5] << 8 |
				     (uint32_t)cfg[off + 6] << 16 | (uint32_t)cfg[off + 7] << 24;
			d->tbir = (int)(t & 7);
			d->toff = t & ~7u;
		}
		off = cfg[off + 1] & 0xFC;
	}
}

static int link_driver(struct fdev *d, const char *driver)
{
	char link[PATH_MAX + 16], target[PATH_MAX];
	snprintf(link, sizeof(link), "%s/driver", d->dir);
	unlink(link);
	if (!driver)
		return 0;
	snprintf(target, sizeof(target), "%s/sys/bus/pci/drivers/%s", root, driver);
	if (mkdirs(target) != 0)
		return -1;
	return symlink(target, link);
}

static int add_dev(const fake_dev_spec_t *s)
{
	struct fdev *d = &devs[ndevs];
	memset(d, 0, sizeof(*d));
	d->irq_type = -1;
	d->cfg_fd = -1;
	for (int b = 0; b < 6; b++)
		d->bar_fd[b] = -1;
	snprintf(d->name, sizeof(d->name), "%s", s->name);
	snprintf(d->dir, sizeof(d->dir), "%s/%s", sysfs_dir, s->name);
	if (mkdirs(d->dir) != 0)
		return -1;
	d->cfg_len = s->cfg_len;
	memcpy(d->bar, s->bar, sizeof(d->bar));
	memcpy(d->nirq, s->nirq, sizeof(d->nirq));
	d->max_vectors = s->max_vectors;
	d->reset = s->reset;
	d->group = s->group;
	find_caps(d, s->cfg);

	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/config", d->dir);
	if (write_file(path, s->cfg, s->cfg_len) != 0)
		return -1;
	d->cfg_fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->cfg_fd < 0)
		return -1;

	/* resource: BARs 0-5, the ROM, then the rest of a type 0 header's */
	char res[2048];
	size_t rl = 0;
	for (int b = 0; b < 13; b++) {
		unsigned long long start = 0, end = 0, flags = 0;
		if (b < 6 && s->bar[b].size) {
			start = s->bar[b].addr;
			end = start + s->bar[b].size - 1;
			flags = s->bar[b].io ? 0x40101 : 0x40200;
			if (s->bar[b].mem64)
				flags |= 0x100000;
			if (s->bar[b].prefetch)
				flags |= 0x2000;
		}
		rl += (size_t)snprintf(res + rl, sizeof(res) - rl,
				       "0x%016llx 0x%016llx 0x%016llx\n", start, end, flags);
	}
	snprintf(path, sizeof(path), "%s/resource", d->dir);
	if (write_file(path, res, rl) != 0)
		return -1;
	for (int b = 0; b < 6; b++) {
		if (!s->bar[b].size)
			continue;
		d->bar_fd[b] = memfd_create("fake-bar", MFD_CLOEXEC);
		if (d->bar_fd[b] < 0 || ftruncate(d->bar_fd[b], (off_t)s->bar[b].size) != 0)
			return -1;
	}
	if (link_driver(d, s->driver) != 0)
		return -1;
	if (s->group >= 0) {
		char target[PATH_MAX];
		snprintf(target, sizeof(target), "%s/sys/kernel/iommu_groups/%d", root, s->group);
		if (mkdirs(target) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s/iommu_group", d->dir);
		if (symlink(target, path) != 0)
			return -1;
		if (!group_by_id(s->group, s->noiommu)) {
			if (ngroups == MAX_GROUPS)
				return -1;
			groups[ngroups++] = (struct fgroup){.id = s->group,
							    .noiommu = s->noiommu,
							    .viable = true,
							    .fd = -1,
							    .cont = -1};
		}
	}
	ndevs++;
	return 0;
}

int fake_install(const fake_dev_spec_t *specs, size_t n)
{
	if (n > FAKE_MAX_DEVS)
		return -1;
	page = sysconf(_SC_PAGESIZE);
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/pcicap-vfio-fake-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		return -1;
	snprintf(sysfs_dir, sizeof(sysfs_dir), "%s/sys/bus/pci/devices", root);
	snprintf(dev_dir, sizeof(dev_dir), "%s/dev/vfio", root);
	snprintf(proc_path, sizeof(proc_path), "%s/proc/interrupts", root);
	char proc_dir[PATH_MAX + 8];
	snprintf(proc_dir, sizeof(proc_dir), "%s/proc", root);
	if (mkdirs(sysfs_dir) != 0 || mkdirs(dev_dir) != 0 || mkdirs(proc_dir) != 0)
		return -1;
	/* something in the devices directory that is no function */
	char stray[PATH_MAX + 16];
	snprintf(stray, sizeof(stray), "%s/not-a-function", sysfs_dir);
	if (write_file(stray, "", 0) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (add_dev(&specs[i]) != 0)
			return -1;
	for (int i = 0; i < MAX_OBJS; i++)
		objs[i].fd = -1;
	fake_reset_knobs();
	proc_write();
	fake_sys.sysfs_devices = sysfs_dir;
	fake_sys.dev_vfio = dev_dir;
	fake_sys.proc_interrupts = proc_path;
	pcii_vfio_sys = &fake_sys;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void fake_remove(void)
{
	pthread_mutex_lock(&mu);
	if (root[0] && strstr(root, "pcicap-vfio-fake-"))
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_unlock(&mu);
}

void fake_reset_knobs(void)
{
	pthread_mutex_lock(&mu);
	memset(faults, 0, sizeof(faults));
	api_version = VFIO_API_VERSION;
	type1v2 = true;
	msix_mappable = false;
	irq_names = true;
	/* x86: everything but the MSI window, 48 bits */
	iova[0][0] = 0;
	iova[0][1] = 0xFEDFFFFFull;
	iova[1][0] = 0xFEF00000ull;
	iova[1][1] = 0xFFFFFFFFFFFFull;
	niova = 2;
	for (size_t i = 0; i < ngroups; i++) {
		groups[i].viable = true;
		groups[i].busy = false;
	}
	loglen = 0;
	if (logbuf)
		logbuf[0] = '\0';
	pthread_mutex_unlock(&mu);
}

/* ------------------------------------------------------------ knobs */

void fake_inject(fake_fault_t where, int err, int times)
{
	pthread_mutex_lock(&mu);
	faults[where].err = err;
	faults[where].times = times;
	pthread_mutex_unlock(&mu);
}

void fake_set_api_version(int v)
{
	pthread_mutex_lock(&mu);
	api_version = v;
	pthread_mutex_unlock(&mu);
}

void fake_set_type1v2(bool on)
{
	pthread_mutex_lock(&mu);
	type1v2 = on;
	pthread_mutex_unlock(&mu);
}

void fake_set_viable(int group, bool viable)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i].id == group)
			groups[i].viable = viable;
	pthread_mutex_unlock(&mu);
}

void fake_set_group_busy(int group, bool busy)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i].id == group)
			groups[i].busy = busy;
	pthread_mutex_unlock(&mu);
}

void fake_set_iova_ranges(const uint64_t (*ranges)[2], size_t n)
{
	pthread_mutex_lock(&mu);
	niova = n > 8 ? 8 : n;
	for (size_t i = 0; i < niova; i++) {
		iova[i][0] = ranges[i][0];
		iova[i][1] = ranges[i][1];
	}
	pthread_mutex_unlock(&mu);
}

void fake_set_irq_names(bool on)
{
	pthread_mutex_lock(&mu);
	irq_names = on;
	proc_write();
	pthread_mutex_unlock(&mu);
}

void fake_set_driver(const char *dev, const char *driver)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	if (d)
		link_driver(d, driver);
	pthread_mutex_unlock(&mu);
}

void fake_set_sysfs(const char *dev, fake_sysfs_t how)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	if (d) {
		char cfg[PATH_MAX], full[PATH_MAX];
		snprintf(cfg, sizeof(cfg), "%.500s/config", d->dir);
		snprintf(full, sizeof(full), "%.500s/config.hw", d->dir);
		/* the hardware's file is config.hw while sysfs shows something else */
		if (access(full, F_OK) == 0)
			rename(full, cfg);
		if (how != FAKE_SYSFS_NORMAL)
			rename(cfg, full);
		if (how == FAKE_SYSFS_SHORT) {
			uint8_t b[64];
			hw_read(d, 0, b, sizeof(b));
			write_file(cfg, b, sizeof(b));
		}
	}
	pthread_mutex_unlock(&mu);
}

void fake_set_msix_mappable(bool on)
{
	pthread_mutex_lock(&mu);
	msix_mappable = on;
	pthread_mutex_unlock(&mu);
}

/* ------------------------------------------------------------ observation */

const char *fake_log(void)
{
	return logbuf ? logbuf : "";
}

void fake_log_clear(void)
{
	pthread_mutex_lock(&mu);
	loglen = 0;
	if (logbuf)
		logbuf[0] = '\0';
	pthread_mutex_unlock(&mu);
}

/* Token @tok at or after *@pos, matched whole; moves *@pos past it. */
static bool find_token(const char *tok, size_t *pos)
{
	size_t tl = strlen(tok);
	const char *s = logbuf ? logbuf + *pos : "";
	for (;;) {
		const char *p = strstr(s, tok);
		if (!p)
			return false;
		bool start = p == logbuf || p[-1] == ' ';
		bool end = p[tl] == '\0' || p[tl] == ' ';
		if (start && end) {
			*pos = (size_t)(p - logbuf) + tl;
			return true;
		}
		s = p + 1;
	}
}

bool fake_log_in_order(const char *first, ...)
{
	pthread_mutex_lock(&mu);
	va_list ap;
	va_start(ap, first);
	size_t pos = 0;
	bool ok = true;
	for (const char *t = first; t && ok; t = va_arg(ap, const char *))
		ok = find_token(t, &pos);
	va_end(ap);
	pthread_mutex_unlock(&mu);
	return ok;
}

int fake_log_count(const char *token)
{
	pthread_mutex_lock(&mu);
	size_t pos = 0;
	int n = 0;
	while (find_token(token, &pos))
		n++;
	pthread_mutex_unlock(&mu);
	return n;
}

int fake_open_fds(void)
{
	pthread_mutex_lock(&mu);
	int n = 0;
	for (int i = 0; i < MAX_OBJS; i++)
		n += objs[i].kind != OBJ_FREE;
	pthread_mutex_unlock(&mu);
	return n;
}

int fake_live_mmaps(void)
{
	pthread_mutex_lock(&mu);
	int n = 0;
	for (int i = 0; i < MAX_MAPS; i++)
		n += maps[i].p != NULL;
	pthread_mutex_unlock(&mu);
	return n;
}

int fake_irq_fds(const char *dev, int index, int *fds, int max)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	int n = 0;
	if (d && index >= 0 && index < FAKE_NIRQ_IDX) {
		n = (int)d->ntrig[index];
		for (int v = 0; v < n && v < max; v++)
			fds[v] = d->passed[index][v];
	}
	pthread_mutex_unlock(&mu);
	return n;
}

int fake_irq_number(const char *dev, int index, int vec)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	int irq = -1;
	if (d && index >= 0 && index < FAKE_NIRQ_IDX && vec >= 0 && (unsigned)vec < d->ntrig[index])
		irq = d->irqnum[index][vec];
	pthread_mutex_unlock(&mu);
	return irq;
}

bool fake_fire(const char *dev, int index, int vec)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	bool ok = false;
	if (d && index >= 0 && index < FAKE_NIRQ_IDX && vec >= 0 &&
	    (unsigned)vec < d->ntrig[index] && d->trig[index][vec] >= 0) {
		uint64_t one = 1;
		ok = write(d->trig[index][vec], &one, sizeof(one)) == (ssize_t)sizeof(one);
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

bool fake_request(const char *dev)
{
	return fake_fire(dev, FAKE_IRQ_REQ, 0);
}

int fake_resets(const char *dev)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	int n = d ? d->resets : -1;
	pthread_mutex_unlock(&mu);
	return n;
}

fake_counters_t fake_counters(const char *dev)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	fake_counters_t c = d ? d->cnt : (fake_counters_t){0};
	pthread_mutex_unlock(&mu);
	return c;
}

void fake_cfg_peek(const char *dev, unsigned off, void *buf, size_t len)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	if (d)
		hw_read(d, off, buf, len);
	else
		memset(buf, 0xFF, len);
	pthread_mutex_unlock(&mu);
}

uint32_t fake_cfg_peek32(const char *dev, unsigned off)
{
	uint8_t b[4];
	fake_cfg_peek(dev, off, b, 4);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void fake_bar_peek(const char *dev, int bar, uint64_t off, void *buf, size_t len)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	if (!d || bar < 0 || bar > 5 || d->bar_fd[bar] < 0 ||
	    pread(d->bar_fd[bar], buf, len, (off_t)off) != (ssize_t)len)
		memset(buf, 0xFF, len);
	pthread_mutex_unlock(&mu);
}

void fake_bar_poke(const char *dev, int bar, uint64_t off, const void *buf, size_t len)
{
	pthread_mutex_lock(&mu);
	struct fdev *d = dev_by_name(dev);
	if (d && bar >= 0 && bar <= 5 && d->bar_fd[bar] >= 0) {
		ssize_t r = pwrite(d->bar_fd[bar], buf, len, (off_t)off);
		(void)r;
	}
	pthread_mutex_unlock(&mu);
}

size_t fake_dma_list(fake_dma_t *out, size_t max)
{
	pthread_mutex_lock(&mu);
	size_t n = ndma;
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = (fake_dma_t){
		    .vaddr = dmas[i].vaddr, .iova = dmas[i].iova, .size = dmas[i].size};
	pthread_mutex_unlock(&mu);
	return n;
}

const char *fake_sysfs(void)
{
	return sysfs_dir;
}
