/*
 * Device table, handles, find/attach/detach.
 *
 * SPDX-License-Identifier: MIT
 */
#include <endian.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

pthread_mutex_t pcii_core_lock = PTHREAD_MUTEX_INITIALIZER;
const pcicap_backend_t *pcii_be;
void *pcii_be_ctx;
_Atomic unsigned pcii_isr_epoch;
_Atomic int pcii_isr_count[2];
_Atomic uint64_t pcii_bind_gen = 1;

/* Device table, sorted by BDF; rebuilt when the backend's generation moves. */
static pcii_dev_t **devs;
static size_t ndevs;
static uint64_t devs_gen;
static bool devs_scanned;
/* Records of devices that vanished while handles still pointed at them. */
static pcii_dev_t **graveyard;
static size_t ngraveyard;

/* Sequential pci_device_find() with the same filters resumes here. */
static struct {
	bool valid;
	pci_vid_t vid;
	pci_did_t did;
	pci_ccode_t cc;
	uint_t idx;
	size_t pos;
} find_cursor;

void pcii_isr_quiesce(void)
{
	unsigned old = atomic_fetch_add(&pcii_isr_epoch, 1);
	while (atomic_load(&pcii_isr_count[old & 1]) != 0)
		sched_yield();
}

/* ---------------------------------------------------------------- handles */

/* Handle values encode a tag, a generation and a slot index, so that a
 * forged or stale value is recognised without dereferencing it. */
#define HDL_TAG      0x5c1cULL
_Static_assert(sizeof(void *) == 8, "the handle encoding needs 64-bit pointers");
#define HDL_IDX_BITS 20
#define HDL_CHUNK    1024u
#define HDL_NCHUNKS  ((1u << HDL_IDX_BITS) / HDL_CHUNK)

static pcii_hdl_t *_Atomic hdl_chunks[HDL_NCHUNKS];
static uint32_t hdl_free_hint;

static pci_devhdl_t hdl_encode(uint32_t idx, uint32_t gen)
{
	uint64_t v = (HDL_TAG << 48) | ((uint64_t)(gen & 0x0FFFFFFFu) << HDL_IDX_BITS) | idx;
	return (pci_devhdl_t)(uintptr_t)v;
}

static pcii_hdl_t *hdl_slot(uint32_t idx)
{
	pcii_hdl_t *chunk =
	    atomic_load_explicit(&hdl_chunks[idx / HDL_CHUNK], memory_order_acquire);
	return chunk ? &chunk[idx % HDL_CHUNK] : NULL;
}

pcii_hdl_t *pcii_hdl_get(pci_devhdl_t h)
{
	uint32_t g;
	return pcii_hdl_get_gen(h, &g);
}

pcii_hdl_t *pcii_hdl_get_gen(pci_devhdl_t h, uint32_t *gen_seen)
{
	uint64_t v = (uint64_t)(uintptr_t)h;
	if ((v >> 48) != HDL_TAG)
		return NULL;
	uint32_t idx = (uint32_t)(v & ((1u << HDL_IDX_BITS) - 1));
	uint32_t gen = (uint32_t)((v >> HDL_IDX_BITS) & 0x0FFFFFFFu);
	pcii_hdl_t *s = hdl_slot(idx);
	if (!s)
		return NULL;
	uint32_t g = atomic_load_explicit(&s->gen, memory_order_acquire);
	if (!(g & 1) || (g & 0x0FFFFFFFu) != gen)
		return NULL;
	*gen_seen = g;
	return s;
}

uint32_t pcii_hdl_slot(const pcii_hdl_t *h)
{
	for (uint32_t c = 0; c < HDL_NCHUNKS; c++) {
		pcii_hdl_t *chunk = atomic_load(&hdl_chunks[c]);
		if (chunk && h >= chunk && h < chunk + HDL_CHUNK)
			return c * HDL_CHUNK + (uint32_t)(h - chunk);
	}
	return UINT32_MAX;
}

static pcii_hdl_t *hdl_alloc(uint32_t *idx_out)
{
	for (uint32_t n = 0; n < (1u << HDL_IDX_BITS); n++) {
		uint32_t idx = (hdl_free_hint + n) % (1u << HDL_IDX_BITS);
		pcii_hdl_t *s = hdl_slot(idx);
		if (!s) {
			pcii_hdl_t *chunk = calloc(HDL_CHUNK, sizeof(*chunk));
			if (!chunk)
				return NULL;
			for (uint32_t i = 0; i < HDL_CHUNK; i++)
				chunk[i].lock_fd = -1;
			atomic_store_explicit(&hdl_chunks[idx / HDL_CHUNK], chunk,
					      memory_order_release);
			s = &chunk[idx % HDL_CHUNK];
		}
		if (!(atomic_load(&s->gen) & 1)) {
			hdl_free_hint = idx + 1;
			*idx_out = idx;
			return s;
		}
	}
	return NULL;
}

static pci_err_t table_current(void);

pcii_hdl_t *pcii_hdl_dev(pci_devhdl_t hv, pci_err_t *err)
{
	pcii_hdl_t *h = pcii_hdl_get(hv);
	if (h)
		table_current(); /* notice a device that left the bus */
	if (!h) {
		*err = PCI_ERR_EINVAL;
		return NULL;
	}
	if (h->dev->gone) {
		*err = PCI_ERR_ENODEV;
		return NULL;
	}
	*err = PCI_ERR_OK;
	return h;
}

pci_err_t pcii_owner_get(pci_devhdl_t hv, pcii_hdl_t **hp, pcii_dev_t **devp)
{
	pci_err_t err;
	pcii_hdl_t *h = pcii_hdl_dev(hv, &err);
	if (!h)
		return err;
	if (!h->owner)
		return PCI_ERR_NOT_OWNER;
	err = pcii_dev_present(h->dev);
	if (err != PCI_ERR_OK)
		return err;
	if (hp)
		*hp = h;
	if (devp)
		*devp = h->dev;
	return PCI_ERR_OK;
}

/* ----------------------------------------------------------- device table */

pci_err_t pcii_cfg_read(const pcii_dev_t *dev, uint_t off, uint_t width, uint32_t *val)
{
	uint32_t b = 0; /* the bytes land in order: a little-endian value */
	pci_err_t err = pcii_be->cfg_read(pcii_be_ctx, dev->bdf, off, &b, width);
	*val = err == PCI_ERR_OK ? le32toh(b) : (uint32_t)((1ULL << (8 * width)) - 1);
	return err;
}

pci_err_t pcii_cfg_write(const pcii_dev_t *dev, uint_t off, uint_t width, uint32_t val)
{
	if (!pcii_be->cfg_write)
		return PCI_ERR_CFG_ACCESS;
	uint32_t b = htole32(val); /* its first @width bytes: the value, little-endian */
	return pcii_be->cfg_write(pcii_be_ctx, dev->bdf, off, &b, width);
}

pci_err_t pcii_dev_present(const pcii_dev_t *dev)
{
	if (dev->gone)
		return PCI_ERR_ENODEV;
	if (!pcii_be->present)
		return PCI_ERR_OK;
	return pcii_be->present(pcii_be_ctx, dev->bdf);
}

/* Order: domain, bus, device, function. The ARI flag is not part of the
 * key: an ARI function number is the device and function bits of the same
 * routing ID, so PCI_BDF_ARI(b, f) and PCI_BDF(b, f >> 3, f & 7) name the
 * same function. */
static int cmp_bdf(pci_bdf_t a, pci_bdf_t b)
{
	uint32_t ka = (PCICAP_BDF_DOMAIN(a) << 16) | (a & 0xFFFFu);
	uint32_t kb = (PCICAP_BDF_DOMAIN(b) << 16) | (b & 0xFFFFu);
	return ka < kb ? -1 : ka > kb;
}

static int cmp_bedev(const void *a, const void *b)
{
	return cmp_bdf(((const pcicap_backend_dev_t *)a)->bdf,
		       ((const pcicap_backend_dev_t *)b)->bdf);
}

static void dev_free(pcii_dev_t *d)
{
	pcii_caps_free(d);
	free(d->xcaps.e);
	free(d->irqs);
	free(d);
}

/* Cache the read-only identity. A device that cannot be read now (held
 * off at scan) is tried again whenever it is looked up. */
static void dev_identify(pcii_dev_t *d)
{
	uint32_t id, cc, hdr;
	if (pcii_dev_present(d) != PCI_ERR_OK || pcii_cfg_read(d, PCII_CFG_VID, 4, &id) != PCI_ERR_OK ||
	    pcii_cfg_read(d, PCII_CFG_REVID, 4, &cc) != PCI_ERR_OK ||
	    pcii_cfg_read(d, PCII_CFG_HDRTYPE, 1, &hdr) != PCI_ERR_OK) {
		d->vid = d->did = 0xFFFF;
		d->ccode = 0xFFFFFFFF; /* matches no filter */
		d->hdr = 0xFF;
		d->identified = false;
		return;
	}
	d->vid = (uint16_t)id;
	d->did = (uint16_t)(id >> 16);
	d->ccode = cc >> 8;
	d->hdr = (uint8_t)hdr;
	d->identified = true;
}

static uint_t norm_cfg_size(uint_t n)
{
	return n == PCII_CFG_SIZE_EXT ? PCII_CFG_SIZE_EXT : PCII_CFG_SIZE;
}

/* Bury a record that vanished: keep it while handles refer to it. */
static void dev_retire(pcii_dev_t *d)
{
	__atomic_store_n(&d->gone, true, __ATOMIC_RELEASE);
	pcii_bind_changed();
	pcii_caps_forget(d);
	pcii_irqs_clear(d);
	if (d->nhandles == 0) {
		pcii_isr_quiesce();
		dev_free(d);
		return;
	}
	pcii_dev_t **g = realloc(graveyard, (ngraveyard + 1) * sizeof(*g));
	if (!g) {
		/* cannot track it: leak rather than free memory a handle uses */
		return;
	}
	graveyard = g;
	graveyard[ngraveyard++] = d;
}

/* Called when the last handle of a gone device goes away. */
static void graveyard_release(pcii_dev_t *d)
{
	for (size_t i = 0; i < ngraveyard; i++) {
		if (graveyard[i] == d) {
			graveyard[i] = graveyard[--ngraveyard];
			pcii_isr_quiesce();
			dev_free(d);
			return;
		}
	}
}

/* Lock held. Callers mostly ask for the device they asked for last (the
 * calls of a driver on one device) or the one after it (an enumeration):
 * both are tried before the binary search, so that walking the table is
 * O(n). */
static pcii_dev_t *table_lookup(pci_bdf_t bdf)
{
	static size_t hint;
	for (size_t i = hint; i < ndevs && i <= hint + 1; i++) {
		if (cmp_bdf(devs[i]->bdf, bdf) == 0) {
			hint = i;
			return devs[i];
		}
	}
	size_t lo = 0, hi = ndevs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_bdf(devs[mid]->bdf, bdf);
		if (c == 0) {
			hint = mid;
			return devs[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static pci_err_t rescan(void)
{
	pcicap_backend_dev_t *bd = NULL;
	size_t nb = 0;
	uint64_t gen = pcii_be->generation ? pcii_be->generation(pcii_be_ctx) : 0;
	pci_err_t err = pcii_be->scan(pcii_be_ctx, &bd, &nb);
	if (err != PCI_ERR_OK)
		return err;
	/* sorted unless the backend lists in order already (the simulator
	 * does): no O(n log n) at every rescan */
	size_t unsorted = 1;
	while (unsorted < nb && cmp_bedev(&bd[unsorted - 1], &bd[unsorted]) <= 0)
		unsorted++;
	if (unsorted < nb)
		qsort(bd, nb, sizeof(*bd), cmp_bedev);
	pcii_dev_t **nd = calloc(nb ? nb : 1, sizeof(*nd));
	if (!nd) {
		free(bd);
		return PCI_ERR_ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < nb; i++) {
		if (n && cmp_bdf(nd[n - 1]->bdf, bd[i].bdf) == 0)
			continue; /* a backend listing a function twice: keep the first */
		pcii_dev_t *old = table_lookup(bd[i].bdf);
		if (old && old->uid == bd[i].uid) {
			old->cfg_size = norm_cfg_size(bd[i].cfg_size);
			nd[n++] = old;
			continue;
		}
		pcii_dev_t *d = calloc(1, sizeof(*d));
		if (!d) {
			for (size_t j = 0; j < n; j++)
				if (!table_lookup(nd[j]->bdf) || table_lookup(nd[j]->bdf) != nd[j])
					dev_free(nd[j]);
			free(nd);
			free(bd);
			return PCI_ERR_ENOMEM;
		}
		d->bdf = bd[i].bdf;
		d->uid = bd[i].uid;
		d->cfg_size =
		    bd[i].cfg_size == PCII_CFG_SIZE_EXT ? PCII_CFG_SIZE_EXT : PCII_CFG_SIZE;
		dev_identify(d);
		nd[n++] = d;
	}
	free(bd);
	/* Retire the records that are not in the new table. */
	for (size_t i = 0; i < ndevs; i++) {
		pcii_dev_t *d = devs[i];
		bool kept = false;
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = cmp_bdf(nd[mid]->bdf, d->bdf);
			if (c == 0) {
				kept = nd[mid] == d;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!kept)
			dev_retire(d);
	}
	free(devs);
	devs = nd;
	ndevs = n;
	devs_gen = gen;
	devs_scanned = true;
	find_cursor.valid = false;
	return PCI_ERR_OK;
}

static pci_err_t table_current(void)
{
	pci_err_t err = pcii_ready();
	if (err != PCI_ERR_OK)
		return err;
	if (!devs_scanned || (pcii_be->generation && pcii_be->generation(pcii_be_ctx) != devs_gen))
		return rescan();
	return PCI_ERR_OK;
}

pcii_dev_t *pcii_dev_at(size_t idx)
{
	if (table_current() != PCI_ERR_OK || idx >= ndevs)
		return NULL;
	return devs[idx];
}

pcii_dev_t *pcii_dev_find(pci_bdf_t bdf)
{
	if (table_current() != PCI_ERR_OK)
		return NULL;
	return table_lookup(bdf);
}

pci_err_t pcii_dev_get(pci_bdf_t bdf, pcii_dev_t **dev)
{
	pci_err_t err = table_current();
	if (err != PCI_ERR_OK)
		return err;
	pcii_dev_t *d = table_lookup(bdf);
	if (!d)
		return PCI_ERR_ENODEV;
	err = pcii_dev_present(d);
	if (err != PCI_ERR_OK)
		return err;
	if (!d->identified)
		dev_identify(d);
	*dev = d;
	return PCI_ERR_OK;
}

/* ------------------------------------------------------------------- API */

static bool dev_matches(pcii_dev_t *d, pci_vid_t vid, pci_did_t did, pci_ccode_t cc)
{
	if (!d->identified)
		dev_identify(d);
	if (vid != PCI_VID_ANY && d->vid != vid)
		return false;
	if (did != PCI_DID_ANY && d->did != did)
		return false;
	uint_t c = PCI_CCODE_CLASS(cc), s = PCI_CCODE_SUBCLASS(cc), r = PCI_CCODE_REG_IF(cc);
	if (c != 0xFF && PCI_CCODE_CLASS(d->ccode) != c)
		return false;
	if (s != PCI_CCODE_SUBCLASS_ANY && PCI_CCODE_SUBCLASS(d->ccode) != s)
		return false;
	if (r != PCI_CCODE_REG_IF_ANY && PCI_CCODE_REG_IF(d->ccode) != r)
		return false;
	return true;
}

PCICAP_EXPORT pci_bdf_t pci_device_find(uint_t idx, pci_vid_t vid, pci_did_t did, pci_ccode_t cc)
{
	pci_bdf_t res = PCI_BDF_NONE;
	pthread_mutex_lock(&pcii_core_lock);
	if (table_current() != PCI_ERR_OK)
		goto out;
	if (vid == PCI_VID_ANY && did == PCI_DID_ANY && (cc & 0xFFFFFF) == 0xFFFFFF) {
		if (idx < ndevs)
			res = devs[idx]->bdf;
		goto out;
	}
	/* Resume a sequential scan where the previous call stopped. */
	size_t pos = 0;
	uint_t seen = 0;
	if (find_cursor.valid && find_cursor.vid == vid && find_cursor.did == did &&
	    find_cursor.cc == cc && find_cursor.idx <= idx) {
		pos = find_cursor.pos;
		seen = find_cursor.idx;
	}
	for (; pos < ndevs; pos++) {
		if (!dev_matches(devs[pos], vid, did, cc))
			continue;
		if (seen == idx) {
			res = devs[pos]->bdf;
			find_cursor.valid = true;
			find_cursor.vid = vid;
			find_cursor.did = did;
			find_cursor.cc = cc;
			find_cursor.idx = idx;
			find_cursor.pos = pos;
			break;
		}
		seen++;
	}
out:
	pthread_mutex_unlock(&pcii_core_lock);
	return res;
}

#define ATTACH_FLAGS_KNOWN                                                                         \
	(pci_attachFlags_e_EXCLUSIVE | pci_attachFlags_e_OWNER | pci_attachFlags_e_MULTI |         \
	 pci_attachFlags_e_DETACH_DISCONNECT | pci_attachFlags_e_FULL_CONFIG_ACCESS)

/* DETACH_DISCONNECT bookkeeping: the process's first attach decides. */
static uint_t proc_handles;
static bool proc_detach_disconnect;

PCICAP_EXPORT pci_devhdl_t pci_device_attach(pci_bdf_t bdf, pci_attachFlags_t flags,
					     pci_err_t *errp)
{
	pci_err_t err;
	pci_devhdl_t result = NULL;
	pthread_mutex_lock(&pcii_core_lock);
	if ((flags & ~(pci_attachFlags_t)ATTACH_FLAGS_KNOWN) ||
	    ((flags & pci_attachFlags_e_MULTI) && !(flags & pci_attachFlags_e_OWNER)) ||
	    ((flags & pci_attachFlags_e_MULTI) && (flags & pci_attachFlags_e_EXCLUSIVE))) {
		err = pcii_bug(PCI_ERR_EINVAL, "pci_device_attach: bad flags 0x%x", flags);
		goto out;
	}
	bool dd = flags & pci_attachFlags_e_DETACH_DISCONNECT;
	if (proc_handles > 0 && dd && !proc_detach_disconnect) {
		err = pcii_bug(
		    PCI_ERR_EINVAL,
		    "pci_device_attach: DETACH_DISCONNECT needs to be set on the first attach");
		goto out;
	}
	if (flags & pci_attachFlags_e_EXCLUSIVE)
		flags |= pci_attachFlags_e_OWNER;
	pcii_dev_t *dev = NULL;
	err = pcii_dev_get(bdf, &dev);
	if (err != PCI_ERR_OK)
		goto out;
	if (dev->nhandles >= PCII_MAX_ATTACH_PER_DEV) {
		err = PCI_ERR_ATTACH_LIMIT;
		goto out;
	}
	uint32_t idx;
	pcii_hdl_t *h = hdl_alloc(&idx);
	if (!h) {
		err = PCI_ERR_ENOMEM;
		goto out;
	}
	h->dev = dev;
	h->flags = flags;
	h->owner = flags & pci_attachFlags_e_OWNER;
	h->lock_fd = -1;
	err = pcii_own_acquire(dev, h, flags);
	if (err != PCI_ERR_OK)
		goto out;
	/* the process's first owner: the backend takes the device (VFIO) */
	if (h->owner && dev->nowners == 0 && pcii_be->open &&
	    (err = pcii_be->open(pcii_be_ctx, dev->bdf)) != PCI_ERR_OK) {
		pcii_own_release(dev, h);
		goto out;
	}
	/* quiesce for the first owner anywhere, never under a live one (but
	 * always after a failed disable left state behind) */
	bool first_owner = h->owner && (!pcii_own_others(dev, h) || dev->needs_quiesce);
	dev->nhandles++;
	if (h->owner)
		dev->nowners++;
	if (proc_handles++ == 0)
		proc_detach_disconnect = dd;
	uint32_t gen = atomic_load(&h->gen) + 1; /* odd: live */
	atomic_store_explicit(&h->gen, gen, memory_order_release);
	result = hdl_encode(idx, gen);
	if (first_owner)
		pcii_caps_quiesce(dev);
out:
	pthread_mutex_unlock(&pcii_core_lock);
	if (errp)
		*errp = err;
	return result;
}

PCICAP_EXPORT pci_err_t pci_device_detach(pci_devhdl_t hv)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_hdl_t *h = pcii_hdl_get(hv);
	if (!h) {
		pthread_mutex_unlock(&pcii_core_lock);
		return pcii_bug(PCI_ERR_EINVAL, "pci_device_detach: invalid handle %p", hv);
	}
	table_current(); /* notice a device that left the bus */
	pcii_dev_t *dev = h->dev;
	bool gone = dev->gone;
	if (!gone)
		pcii_caps_release_handle(dev, h);
	pcii_own_release(dev, h);
	/* invalidate before anything else can reuse the slot */
	atomic_store_explicit(&h->gen, atomic_load(&h->gen) + 1, memory_order_release);
	pcii_bind_changed();
	uint32_t slot = pcii_hdl_slot(h);
	if (slot < hdl_free_hint)
		hdl_free_hint = slot; /* reuse low slots: the table stays small */
	dev->nhandles--;
	if (h->owner)
		dev->nowners--;
	if (dev->nowners == 0 && !gone)
		pcii_irqs_clear(dev);
	if (h->owner && dev->nowners == 0 && pcii_be->close)
		pcii_be->close(pcii_be_ctx, dev->bdf);
	__atomic_store_n(&h->dev, NULL, __ATOMIC_RELEASE);
	proc_handles--;
	pci_err_t err = PCI_ERR_OK;
	if (gone) {
		err = PCI_ERR_ENODEV;
		if (dev->nhandles == 0)
			graveyard_release(dev);
	} else if (proc_detach_disconnect && proc_handles > 0) {
		err = PCI_ERR_EAGAIN;
	}
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT pci_bdf_t pci_bdf(pci_devhdl_t hv)
{
	pthread_mutex_lock(&pcii_core_lock);
	pci_err_t err;
	pcii_hdl_t *h = pcii_hdl_dev(hv, &err);
	pci_bdf_t bdf = h && pcii_dev_present(h->dev) != PCI_ERR_ENODEV ? h->dev->bdf : PCI_BDF_NONE;
	pthread_mutex_unlock(&pcii_core_lock);
	return bdf;
}

PCICAP_EXPORT uint_t pcicap_device_cfg_size(pci_bdf_t bdf)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *d = pcii_dev_find(bdf);
	uint_t n = d ? d->cfg_size : 0;
	pthread_mutex_unlock(&pcii_core_lock);
	return n;
}

PCICAP_EXPORT bool_t pci_device_is_multi_func(pci_bdf_t bdf)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *d;
	bool r = pcii_dev_get(bdf, &d) == PCI_ERR_OK && (d->hdr & 0x80);
	pthread_mutex_unlock(&pcii_core_lock);
	return r;
}
