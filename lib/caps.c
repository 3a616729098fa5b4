/*
 * Capabilities: the list walk (standard and extended, loop-safe, cached),
 * pci_cap_t objects, capability instances, enable/disable through the
 * modules, and the services the core offers modules (pcicap_host_t).
 *
 * SPDX-License-Identifier: MIT
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ------------------------------------------------------------ list walk */

static bool seen(uint8_t *map, uint_t slot)
{
	bool was = map[slot / 8] & (1u << (slot % 8));
	map[slot / 8] |= (uint8_t)(1u << (slot % 8));
	return was;
}

pci_err_t pcii_caps_walk(pcii_dev_t *dev)
{
	pcii_caplist_t *l = &dev->caps;
	if (l->walked)
		return l->err;
	uint32_t status, ptr, hdr;
	uint8_t visited[PCII_CFG_SIZE / 4 / 8] = {0};
	pcii_capent_t *e = dev->cap_store;
	uint_t n = 0;
	pci_err_t err = pcii_cfg_read(dev, PCII_CFG_STATUS, 2, &status);
	if (err != PCI_ERR_OK)
		return err;
	if (status == 0xFFFF)
		return PCI_ERR_ENODEV;
	pci_err_t list_err = PCI_ERR_OK;
	if (status & PCII_STATUS_CAPLIST) {
		uint_t ptr_reg = (dev->hdr & 0x7F) == 2 ? 0x14 : PCII_CFG_CAPPTR;
		err = pcii_cfg_read(dev, ptr_reg, 1, &ptr);
		if (err != PCI_ERR_OK)
			return err;
		for (ptr &= 0xFC; ptr; ptr = (hdr >> 8) & 0xFC) {
			/* into the header, a cycle, too long */
			if (ptr < PCII_CFG_DEVSPEC || seen(visited, ptr / 4) ||
			    n == PCII_MAX_CAPS) {
				list_err = PCI_ERR_EIO;
				break;
			}
			err = pcii_cfg_read(dev, ptr, 2, &hdr);
			if (err != PCI_ERR_OK)
				return err;
			if ((hdr & 0xFF) == 0xFF) {
				list_err = PCI_ERR_EIO; /* reads all ones: not a capability */
				break;
			}
			e[n] = (pcii_capent_t){.id = (uint8_t)hdr, .off = (uint16_t)ptr};
			if (e[n].id == PCII_CAPID_MSI) {
				uint32_t ctrl;
				err = pcii_cfg_read(dev, ptr + 2, 2, &ctrl);
				if (err != PCI_ERR_OK)
					return err;
				e[n].len = (uint8_t)pcii_msi_cap_len((uint16_t)ctrl);
			} else if (e[n].id == PCII_CAPID_MSIX) {
				e[n].len = PCII_MSIX_CAP_LEN;
			}
			n++;
		}
	}
	*l = (pcii_caplist_t){.walked = true, .err = list_err, .n = n, .e = e};
	return list_err;
}

int pcii_cap_find(pcii_dev_t *dev, pci_capid_t id)
{
	pcii_caps_walk(dev);
	for (uint_t i = 0; i < dev->caps.n; i++)
		if (dev->caps.e[i].id == id)
			return dev->caps.e[i].off;
	return -1;
}

pci_err_t pcii_xcaps_walk(pcii_dev_t *dev)
{
	pcii_caplist_t *l = &dev->xcaps;
	if (l->walked)
		return l->err;
	pci_err_t err = pcii_caps_walk(dev);
	if (err != PCI_ERR_OK && err != PCI_ERR_EIO)
		return err;
	uint_t n = 0;
	pci_err_t list_err = PCI_ERR_OK;
	pcii_capent_t *x = NULL;
	if (pcii_cap_find(dev, PCII_CAPID_PCIE) >= 0 && dev->cfg_size == PCII_CFG_SIZE_EXT) {
		uint8_t visited[PCII_CFG_SIZE_EXT / 4 / 8] = {0};
		x = calloc(PCII_MAX_XCAPS, sizeof(*x));
		if (!x)
			return PCI_ERR_ENOMEM;
		uint32_t hdr;
		for (uint_t off = PCII_CFG_SIZE; off; off = (hdr >> 20) & 0xFFC) {
			if (off < PCII_CFG_SIZE || seen(visited, off / 4) || n == PCII_MAX_XCAPS) {
				list_err = PCI_ERR_EIO;
				break;
			}
			err = pcii_cfg_read(dev, off, 4, &hdr);
			if (err != PCI_ERR_OK) {
				free(x);
				return err;
			}
			if (hdr == 0 || hdr == 0xFFFFFFFF)
				break; /* no (more) extended capabilities */
			x[n++] = (pcii_capent_t){
			    .id = (uint16_t)hdr, .off = (uint16_t)off, .ver = (hdr >> 16) & 0xF};
		}
	}
	*l = (pcii_caplist_t){.walked = true, .err = list_err, .n = n, .e = x};
	return list_err;
}

/* The standard or extended list of a device (lock held). */
static pci_err_t list_of(pci_bdf_t bdf, bool ext, pcii_dev_t **devp, const pcii_caplist_t **lp)
{
	pcii_dev_t *dev = NULL;
	pci_err_t err = pcii_dev_get(bdf, &dev);
	if (err != PCI_ERR_OK)
		return err;
	err = ext ? pcii_xcaps_walk(dev) : pcii_caps_walk(dev);
	if (err != PCI_ERR_OK && err != PCI_ERR_EIO)
		return err;
	*devp = dev;
	*lp = ext ? &dev->xcaps : &dev->caps;
	return PCI_ERR_OK;
}

/* Entry @idx: ENOENT past the end, EIO past a break. Lock held. */
static pci_err_t list_entry(pci_bdf_t bdf, bool ext, uint_t idx, pcii_dev_t **devp,
			    const pcii_capent_t **ep)
{
	const pcii_caplist_t *l;
	pci_err_t err = list_of(bdf, ext, devp, &l);
	if (err != PCI_ERR_OK)
		return err;
	if (idx >= l->n)
		return l->err == PCI_ERR_EIO ? PCI_ERR_EIO : PCI_ERR_ENOENT;
	*ep = &l->e[idx];
	return PCI_ERR_OK;
}

/* Position of the next entry with @id after @start (-1: from the start). */
static int_t list_find(pci_bdf_t bdf, bool ext, uint16_t id, int_t start)
{
	int_t res = -1;
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev;
	const pcii_caplist_t *l;
	if (list_of(bdf, ext, &dev, &l) == PCI_ERR_OK) {
		for (uint_t i = start < 0 ? 0 : (uint_t)start + 1; i < l->n; i++) {
			if (l->e[i].id == id) {
				res = (int_t)i;
				break;
			}
		}
	}
	pthread_mutex_unlock(&pcii_core_lock);
	return res;
}

/* ID or offset of the standard capability at @idx. */
static pci_err_t std_entry(pci_bdf_t bdf, uint_t idx, uint_t *id, uint_t *off)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev;
	const pcii_capent_t *e;
	pci_err_t err = list_entry(bdf, false, idx, &dev, &e);
	if (err == PCI_ERR_OK && id)
		*id = e->id;
	if (err == PCI_ERR_OK && off)
		*off = e->off;
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT pci_err_t pci_device_read_capid(pci_bdf_t bdf, pci_capid_t *capid, uint_t idx)
{
	if (!capid)
		return pcii_bug(PCI_ERR_EINVAL, "pci_device_read_capid: NULL capid");
	uint_t id;
	pci_err_t err = std_entry(bdf, idx, &id, NULL);
	if (err == PCI_ERR_OK)
		*capid = (pci_capid_t)id;
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_device_cap_offset(pci_bdf_t bdf, uint_t idx, uint_t *offset)
{
	if (!offset)
		return PCI_ERR_EINVAL;
	return std_entry(bdf, idx, NULL, offset);
}

PCICAP_EXPORT pci_err_t pcicap_device_read_xcap(pci_bdf_t bdf, uint_t idx, uint16_t *xcapid,
						uint8_t *version, uint_t *offset)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev;
	const pcii_capent_t *e;
	pci_err_t err = list_entry(bdf, true, idx, &dev, &e);
	if (err == PCI_ERR_OK) {
		if (xcapid)
			*xcapid = e->id;
		if (version)
			*version = e->ver;
		if (offset)
			*offset = e->off;
	}
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT int_t pci_device_find_capid_next(pci_bdf_t bdf, pci_capid_t capid, int_t start_idx)
{
	return list_find(bdf, false, capid, start_idx);
}

PCICAP_EXPORT int_t pci_device_find_capid(pci_bdf_t bdf, pci_capid_t capid)
{
	return list_find(bdf, false, capid, -1);
}

PCICAP_EXPORT int_t pcicap_device_find_xcapid(pci_bdf_t bdf, uint16_t xcapid, int_t start_idx)
{
	return list_find(bdf, true, xcapid, start_idx);
}

/* ------------------------------------------------------ pci_cap_t objects */

#define CAP_MAGIC 0x70636963617030ULL /* "pcicap0" */

typedef struct {
	struct _pci_cap pub; /* QNX-visible head: 16 bytes */
	uint64_t magic;
	uint64_t cookie;
	uint64_t dev_uid;
	pci_bdf_t bdf;
	uint32_t idx;
	uint16_t offset;
	pci_capid_t capid;
	const pcicap_cap_module_t *mod;
	size_t priv_size;
	unsigned char priv[] __attribute__((aligned(8)));
} pcii_cap_t;
_Static_assert(offsetof(pcii_cap_t, pub.api_p) == 8, "QNX pci_cap_t layout");
_Static_assert(sizeof(struct _pci_cap) == 16, "QNX pci_cap_t size");

/* Registry of the pci_cap_t addresses handed out, so that a foreign or
 * forged pointer is refused without being dereferenced. Open addressing;
 * readers take no lock (entries are atomics; a grown table replaces the
 * old one, which is freed only after ISR-path readers have drained). */
typedef struct {
	_Atomic uintptr_t key; /* 0 = empty, 1 = deleted */
	_Atomic uint64_t cookie;
} reg_entry_t;
typedef struct {
	size_t size; /* power of two */
	size_t used; /* non-empty slots, deleted included */
	reg_entry_t e[];
} reg_table_t;
static reg_table_t *_Atomic registry;
static uint64_t cookie_counter = 0x9e3779b97f4a7c15ULL;

static size_t reg_hash(uintptr_t k, size_t size)
{
	uint64_t h = (uint64_t)k * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 17) & (size - 1);
}

static inline __attribute__((always_inline)) reg_entry_t *reg_find(reg_table_t *t, uintptr_t key)
{
	if (!t)
		return NULL;
	for (size_t i = reg_hash(key, t->size), n = 0; n < t->size;
	     n++, i = (i + 1) & (t->size - 1)) {
		uintptr_t k = atomic_load_explicit(&t->e[i].key, memory_order_acquire);
		if (k == key)
			return &t->e[i];
		if (k == 0)
			return NULL;
	}
	return NULL;
}

static pci_err_t reg_insert(uintptr_t key, uint64_t cookie)
{
	reg_table_t *t = atomic_load(&registry);
	reg_entry_t *e = reg_find(t, key);
	if (e) {
		atomic_store(&e->cookie, cookie);
		return PCI_ERR_OK;
	}
	if (!t || (t->used + 1) * 4 > t->size * 3) {
		/* grow (or compact away deleted entries) */
		size_t live = 0;
		for (size_t i = 0; t && i < t->size; i++)
			live += atomic_load(&t->e[i].key) > 1;
		size_t size = 64;
		while (size < (live + 1) * 2)
			size *= 2;
		reg_table_t *nt = calloc(1, sizeof(*nt) + size * sizeof(reg_entry_t));
		if (!nt)
			return PCI_ERR_ENOMEM;
		nt->size = size;
		for (size_t i = 0; t && i < t->size; i++) {
			uintptr_t k = atomic_load(&t->e[i].key);
			if (k <= 1)
				continue;
			size_t j = reg_hash(k, size);
			while (atomic_load(&nt->e[j].key))
				j = (j + 1) & (size - 1);
			atomic_store(&nt->e[j].key, k);
			atomic_store(&nt->e[j].cookie, atomic_load(&t->e[i].cookie));
			nt->used++;
		}
		atomic_store_explicit(&registry, nt, memory_order_release);
		pcii_isr_quiesce();
		free(t);
		t = nt;
	}
	size_t i = reg_hash(key, t->size);
	while (atomic_load(&t->e[i].key) > 1)
		i = (i + 1) & (t->size - 1);
	if (atomic_load(&t->e[i].key) == 0)
		t->used++;
	atomic_store(&t->e[i].cookie, cookie);
	atomic_store_explicit(&t->e[i].key, key, memory_order_release);
	pcii_bind_changed(); /* perhaps a new object where a freed one was */
	return PCI_ERR_OK;
}

static void reg_remove(uintptr_t key)
{
	reg_entry_t *e = reg_find(atomic_load(&registry), key);
	if (e)
		atomic_store_explicit(&e->key, (uintptr_t)1, memory_order_release);
	pcii_bind_changed();
}

/* A pci_cap_t that this library handed out and that is still intact;
 * NULL otherwise. Lock-free. */
static inline __attribute__((always_inline)) pcii_cap_t *cap_lookup(pci_cap_t cap)
{
	if (!cap)
		return NULL;
	reg_entry_t *e =
	    reg_find(atomic_load_explicit(&registry, memory_order_acquire), (uintptr_t)cap);
	if (!e)
		return NULL;
	pcii_cap_t *pc = (pcii_cap_t *)(uintptr_t)cap;
	/* An object the caller has free()d may still be registered: malloc's
	 * free lists overwrite the first 16 bytes, which are never 0 in
	 * `reserved` and never this module's table in api_p for a live one. */
	if (pc->magic != CAP_MAGIC || pc->cookie != atomic_load(&e->cookie) || pc->pub.reserved != 0 ||
	    pc->pub.api_p != (const void *)pc->mod->api)
		return NULL;
	return pc;
}

__thread pci_cap_t pcii_isr_cap;

const pcicap_cap_module_t *pcii_cap_mod(pci_cap_t cap, pci_capid_t capid, pci_version_t version)
{
	pcii_cap_t *pc = cap_lookup(cap);
	if (!pc || pc->capid != capid)
		return NULL;
	/* the caller's API version, for the module; callers in many threads
	 * stamp the same object: one atomic 32-bit store (offset 0) */
	uint32_t v = (uint32_t)version.major | (uint32_t)version.minor << 16;
	__atomic_store_n((uint32_t *)(uintptr_t)pc, v, __ATOMIC_RELAXED);
	return pc->mod;
}

static void cap_destroy(pcii_cap_t *pc)
{
	reg_remove((uintptr_t)pc);
	pc->magic = 0;
	free(pc);
}

PCICAP_EXPORT uint_t pcicap_cap_offset(pci_cap_t cap)
{
	pcii_isr_t epoch = pcii_isr_enter();
	pcii_cap_t *pc = cap_lookup(cap);
	uint_t off = pc ? pc->offset : 0;
	pcii_isr_exit(epoch);
	return off;
}

/* ------------------------------------------------------------ instances */

pcii_capinst_t *pcii_inst_find(pcii_dev_t *dev, uint_t offset)
{
	for (pcii_capinst_t *ci = __atomic_load_n(&dev->insts, __ATOMIC_ACQUIRE); ci; ci = ci->next)
		if (ci->pub.offset == offset)
			return ci;
	return NULL;
}

static pci_err_t inst_get(pcii_dev_t *dev, const pcii_capent_t *e, const pcicap_cap_module_t *mod,
			  pcii_capinst_t **out)
{
	pcii_capinst_t *ci = pcii_inst_find(dev, e->off);
	if (ci) {
		if (ci->mod != mod) {
			/* PCI_CAP_MODULE_DIR changed: the device's capability is
			 * already served by another module */
			pcii_log(PCICAP_LOG_ERROR, "capability at 0x%x is served by module %s already",
				 e->off, ci->mod->name ? ci->mod->name : "?");
			return PCI_ERR_MOD_COMPAT;
		}
		*out = ci;
		return PCI_ERR_OK;
	}
	ci = calloc(1, sizeof(*ci));
	void *state = mod->state_size ? calloc(1, mod->state_size) : NULL;
	if (!ci || (mod->state_size && !state)) {
		free(ci);
		free(state);
		return PCI_ERR_ENOMEM;
	}
	ci->pub.host = &pcii_host;
	ci->pub.bdf = dev->bdf;
	ci->pub.offset = e->off;
	ci->pub.capid = (pci_capid_t)e->id;
	ci->pub.state = state;
	ci->pub.access = &pcii_access;
	ci->mod = mod;
	ci->dev = dev;
	if (mod->attach) {
		pci_err_t err = mod->attach(&ci->pub);
		if (err != PCI_ERR_OK) {
			pcii_log(PCICAP_LOG_ERROR, "module %s: attach failed: %s", mod->name,
				 pci_strerror(err));
			free(state);
			free(ci);
			return err;
		}
	}
	ci->next = dev->insts;
	__atomic_store_n(&dev->insts, ci, __ATOMIC_RELEASE);
	*out = ci;
	return PCI_ERR_OK;
}

void pcii_caps_free(pcii_dev_t *dev)
{
	pcii_capinst_t *ci = dev->insts;
	dev->insts = NULL;
	while (ci) {
		pcii_capinst_t *next = ci->next;
		if (ci->mod->destroy)
			ci->mod->destroy(&ci->pub);
		free(ci->pub.state);
		free(ci);
		ci = next;
	}
}

void pcii_caps_forget(pcii_dev_t *dev)
{
	for (pcii_capinst_t *ci = dev->insts; ci; ci = ci->next) {
		if (ci->enabled && ci->mod->forget)
			ci->mod->forget(&ci->pub);
		ci->enabled = false;
		ci->enabled_by = 0;
	}
	pcii_irqs_clear(dev);
}

void pcii_caps_release_handle(pcii_dev_t *dev, pcii_hdl_t *h)
{
	uint32_t slot = pcii_hdl_slot(h) + 1;
	for (pcii_capinst_t *ci = dev->insts; ci; ci = ci->next) {
		if (!ci->enabled || ci->enabled_by != slot)
			continue;
		pci_err_t err = ci->mod->disable(&ci->pub, NULL, pci_reqType_e_UNSPECIFIED, NULL);
		if (err != PCI_ERR_OK) {
			pcii_log(PCICAP_LOG_WARN,
				 "module %s: disable at detach failed (%s); forgetting",
				 ci->mod->name, pci_strerror(err));
			if (ci->mod->forget)
				ci->mod->forget(&ci->pub);
			/* its IRQs went back to the pool: report none, and clear
			 * what the device may still have live at the next owner */
			pcii_irqs_clear(dev);
			dev->needs_quiesce = true;
		}
		ci->enabled = false;
		ci->enabled_by = 0;
	}
}

/* MSI: clear the enable bit. */
static pci_err_t quiesce_msi(pcii_dev_t *dev, uint_t off)
{
	uint32_t ctrl;
	pci_err_t err = pcii_cfg_read(dev, off + 2, 2, &ctrl);
	if (err == PCI_ERR_OK && (ctrl & 0x0001))
		err = pcii_cfg_write(dev, off + 2, 2, ctrl & ~0x0001u);
	return err;
}

/* MSI-X: function mask on while every table entry is masked, then enable
 * and function mask off. */
static pci_err_t quiesce_msix(pcii_dev_t *dev, uint_t off)
{
	uint32_t ctrl, table = 0;
	pci_err_t err = pcii_cfg_read(dev, off + 2, 2, &ctrl);
	/* Enable off first: it needs only Message Control (the Table Offset
	 * register of a capability at 0xFC lies past a 256-byte space) */
	if (err == PCI_ERR_OK && (ctrl & 0xC000) != 0x4000)
		err = pcii_cfg_write(dev, off + 2, 2, (ctrl | 0x4000) & ~0x8000u);
	if (err == PCI_ERR_OK)
		err = pcii_cfg_read(dev, off + 4, 4, &table);
	pcii_msix_layout_t l = pcii_msix_layout(ctrl, table, 0);
	int bir = l.bir[0];
	if (err == PCI_ERR_OK && bir <= 5 && pcii_be->bar_read && pcii_be->bar_write) {
		for (uint_t i = 0; i < l.n && err == PCI_ERR_OK; i++) {
			uint64_t vc_off = l.off[0] + 16u * i + 12;
			uint8_t b[4];
			err = pcii_be->bar_read(pcii_be_ctx, dev->bdf, bir, vc_off, b, 4);
			if (err == PCI_ERR_OK && !(b[0] & 1)) {
				b[0] |= 1;
				err = pcii_be->bar_write(pcii_be_ctx, dev->bdf, bir, vc_off, b, 4);
			}
		}
	}
	if (err == PCI_ERR_OK)
		err = pcii_cfg_write(dev, off + 2, 2, ctrl & ~0xC000u);
	return err;
}

/* A failed access that may work later (not a refusal, not a table that
 * lies outside the BARs): the quiesce is worth doing again. */
static bool transient(pci_err_t err)
{
	return err == PCI_ERR_EIO || err == PCI_ERR_DEV_NOT_AVAIL || err == PCI_ERR_ENODEV;
}

void pcii_caps_quiesce(pcii_dev_t *dev)
{
	if (!pcii_be->cfg_write)
		return;
	pci_err_t err = pcii_caps_walk(dev);
	if (err != PCI_ERR_OK && err != PCI_ERR_EIO) {
		if (transient(err))
			dev->needs_quiesce = true; /* not done: again at the next enable */
		return;
	}
	bool clean = true, again = false;
	for (uint_t i = 0; i < dev->caps.n; i++) {
		const pcii_capent_t *e = &dev->caps.e[i];
		pcii_capinst_t *live = pcii_inst_find(dev, e->off);
		if (live && live->enabled)
			continue; /* another owner's working capability: not ours to clear */
		if (e->id == PCII_CAPID_MSI)
			err = quiesce_msi(dev, e->off);
		else if (e->id == PCII_CAPID_MSIX)
			err = quiesce_msix(dev, e->off);
		else
			continue;
		/* a device the backend will not write (a host device bound to a
		 * kernel driver) is skipped: enabling will be refused as well */
		if (err != PCI_ERR_OK) {
			clean = false;
			again |= transient(err);
			pcii_log(err == PCI_ERR_CFG_ACCESS ? PCICAP_LOG_DEBUG : PCICAP_LOG_WARN,
				 "quiesce of capability 0x%02x at 0x%x skipped: %s", e->id, e->off,
				 pci_strerror(err));
		}
	}
	/* modules already serving the device reset their own view */
	for (pcii_capinst_t *ci = dev->insts; ci; ci = ci->next)
		if (ci->mod->quiesce && !ci->enabled)
			ci->mod->quiesce(&ci->pub);
	if (clean)
		dev->needs_quiesce = false;
	else if (again)
		dev->needs_quiesce = true; /* the next enable (or owner) quiesces first */
}

/* ------------------------------------------------------------------ API */

PCICAP_EXPORT pci_err_t pci_device_read_cap(pci_bdf_t bdf, pci_cap_t *capp, uint_t idx)
{
	if (!capp)
		return pcii_bug(PCI_ERR_EINVAL, "pci_device_read_cap: NULL cap pointer");
	pthread_mutex_lock(&pcii_core_lock);
	pcii_cap_t *old = NULL, *pc = NULL;
	pcii_dev_t *dev = NULL;
	pci_err_t err = PCI_ERR_OK;
	if (*capp) {
		old = cap_lookup(*capp);
		if (!old) {
			err = pcii_bug(PCI_ERR_EINVAL,
				       "pci_device_read_cap: *cap is not a capability "
				       "object (set it to NULL for a first read)");
			goto out_nofree;
		}
	}
	const pcii_capent_t *e;
	err = list_entry(bdf, false, idx, &dev, &e);
	if (err != PCI_ERR_OK)
		goto out;
	const pcicap_cap_module_t *mod;
	err = pcii_module_get((pci_capid_t)e->id, dev->vid, dev->did, &mod);
	if (err != PCI_ERR_OK)
		goto out;
	pcii_capinst_t *ci = NULL;
	err = inst_get(dev, e, mod, &ci);
	if (err != PCI_ERR_OK)
		goto out;
	if (old && old->mod == mod) {
		/* re-read in place: copies of the pointer stay valid */
		pc = old;
		old = NULL; /* read() refills the private part (no zeroing: a
			     * concurrent get_nirq_isr may be reading it) */
	} else {
		pc = calloc(1, sizeof(*pc) + mod->cap_priv_size);
		if (!pc) {
			err = PCI_ERR_ENOMEM;
			goto out;
		}
		pc->magic = CAP_MAGIC;
		cookie_counter = cookie_counter * 6364136223846793005ULL + 1442695040888963407ULL;
		pc->cookie = cookie_counter;
		pc->mod = mod;
		pc->priv_size = mod->cap_priv_size;
		err = reg_insert((uintptr_t)pc, pc->cookie);
		if (err != PCI_ERR_OK) {
			free(pc);
			pc = NULL;
			goto out;
		}
	}
	pc->pub.api_version = mod->api_version;
	pc->pub.reserved = 0;
	pc->pub.api_p = (void *)(uintptr_t)mod->api;
	pc->dev_uid = dev->uid;
	pc->bdf = dev->bdf;
	pc->idx = idx;
	pc->offset = e->off;
	pc->capid = (pci_capid_t)e->id;
	if (mod->read) {
		err = mod->read(&ci->pub, &pc->pub);
		if (err != PCI_ERR_OK) {
			cap_destroy(pc);
			pc = NULL;
		}
	}
	pcii_bind_changed(); /* an object read again in place names another capability */
out:
	if (old)
		cap_destroy(old);
	*capp = pc ? &pc->pub : NULL;
out_nofree:
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

/* Resolve (hdl, cap) for enable/disable/isenabled. Lock held. */
static pci_err_t resolve(pci_devhdl_t hv, pci_cap_t cap, pcii_hdl_t **hp, pcii_capinst_t **cip)
{
	pci_err_t err;
	pcii_hdl_t *h = pcii_hdl_dev(hv, &err);
	if (!h)
		return err;
	pcii_cap_t *pc = cap_lookup(cap);
	if (!pc || pc->bdf != h->dev->bdf || pc->dev_uid != h->dev->uid)
		return PCI_ERR_EINVAL;
	pcii_capinst_t *ci = pcii_inst_find(h->dev, pc->offset);
	if (!ci)
		return PCI_ERR_EINVAL;
	*hp = h;
	*cip = ci;
	return PCI_ERR_OK;
}

static bool req_ok(pci_reqType_t r)
{
	return r == pci_reqType_e_MANDATORY || r == pci_reqType_e_ADVISORY ||
	       r == pci_reqType_e_UNSPECIFIED;
}

PCICAP_EXPORT pci_err_t pci_device_cfg_cap_enable(pci_devhdl_t hv, pci_reqType_t req, pci_cap_t cap)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_hdl_t *h = NULL;
	pcii_capinst_t *ci = NULL;
	pci_err_t err = resolve(hv, cap, &h, &ci);
	if (err == PCI_ERR_OK && !req_ok(req))
		err = PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK && !h->owner)
		err = PCI_ERR_NOT_OWNER;
	if (err == PCI_ERR_OK && ((ci->mod->flags & PCICAP_MODULE_ALWAYS_ENABLED) || ci->enabled))
		err = PCI_ERR_EALREADY;
	if (err == PCI_ERR_OK)
		err = pcii_dev_present(h->dev);
	/* a failed disable left state behind (perhaps the other interrupt
	 * capability still enabled in the device): clear it first */
	if (err == PCI_ERR_OK && h->dev->needs_quiesce)
		pcii_caps_quiesce(h->dev);
	if (err == PCI_ERR_OK)
		err = ci->mod->enable(&ci->pub, hv, req, cap);
	if (err == PCI_ERR_OK) {
		ci->enabled = true;
		ci->enabled_by = pcii_hdl_slot(h) + 1;
	}
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT pci_err_t pci_device_cfg_cap_disable(pci_devhdl_t hv, pci_reqType_t req,
						   pci_cap_t cap)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_hdl_t *h = NULL;
	pcii_capinst_t *ci = NULL;
	pci_err_t err = resolve(hv, cap, &h, &ci);
	if (err == PCI_ERR_OK && !req_ok(req))
		err = PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK && !h->owner)
		err = PCI_ERR_NOT_OWNER;
	if (err == PCI_ERR_OK && (ci->mod->flags & PCICAP_MODULE_ALWAYS_ENABLED))
		err = PCI_ERR_ENOTSUP;
	if (err == PCI_ERR_OK && !ci->enabled)
		err = PCI_ERR_EALREADY;
	if (err == PCI_ERR_OK)
		err = pcii_dev_present(h->dev);
	if (err == PCI_ERR_OK)
		err = ci->mod->disable(&ci->pub, hv, req, cap);
	if (err == PCI_ERR_OK) {
		ci->enabled = false;
		ci->enabled_by = 0;
	}
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT bool_t pci_device_cfg_cap_isenabled(pci_devhdl_t hv, pci_cap_t cap)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_hdl_t *h = NULL;
	pcii_capinst_t *ci = NULL;
	bool r = resolve(hv, cap, &h, &ci) == PCI_ERR_OK &&
		 ((ci->mod->flags & PCICAP_MODULE_ALWAYS_ENABLED) || ci->enabled);
	pthread_mutex_unlock(&pcii_core_lock);
	return r;
}

/* --------------------------------------------------- services to modules */

#define INST(ci) ((const pcii_capinst_t *)(ci))

static pci_err_t host_cfg_rd(const pcicap_capinst_t *ci, uint_t off, uint_t width, uint32_t *val)
{
	const pcii_dev_t *dev = INST(ci)->dev;
	if (!val || (width != 1 && width != 2 && width != 4) || off % width ||
	    off > dev->cfg_size - width)
		return PCI_ERR_EINVAL;
	return pcii_cfg_read(dev, off, width, val);
}

static pci_err_t host_cfg_wr(const pcicap_capinst_t *ci, uint_t off, uint_t width, uint32_t val)
{
	const pcii_dev_t *dev = INST(ci)->dev;
	if ((width != 1 && width != 2 && width != 4) || off % width || off > dev->cfg_size - width)
		return PCI_ERR_EINVAL;
	return pcii_cfg_write(dev, off, width, val);
}

static bool bar_width_ok(int bar, uint64_t off, uint_t width)
{
	/* bar 0..5, width 1, 2, 4 or 8 (bits of 0x116), naturally aligned */
	return (unsigned)bar < 6 && width <= 8 && ((0x116u >> width) & 1) && !(off & (width - 1));
}

static pci_err_t host_bar_rd(const pcicap_capinst_t *ci, int bar, uint64_t off, uint_t width,
			     uint64_t *val)
{
	if (!val || !bar_width_ok(bar, off, width))
		return PCI_ERR_EINVAL;
	if (!pcii_be->bar_read)
		return PCI_ERR_ENOTSUP;
	uint64_t b = 0; /* the bytes land in order: a little-endian value */
	pci_err_t err = pcii_be->bar_read(pcii_be_ctx, ci->bdf, bar, off, &b, width);
	*val = le64toh(b);
	return err;
}

static pci_err_t host_bar_wr(const pcicap_capinst_t *ci, int bar, uint64_t off, uint_t width,
			     uint64_t val)
{
	if (!bar_width_ok(bar, off, width))
		return PCI_ERR_EINVAL;
	if (!pcii_be->bar_write)
		return PCI_ERR_ENOTSUP;
	uint64_t b = htole64(val); /* its first @width bytes: the value, little-endian */
	return pcii_be->bar_write(pcii_be_ctx, ci->bdf, bar, off, &b, width);
}

static pci_err_t host_bar_info(const pcicap_capinst_t *ci, int bar, pci_ba_t *ba)
{
	if (!ba || bar < -1 || bar > 5)
		return PCI_ERR_EINVAL;
	return pcii_bar_info(INST(ci)->dev, bar, ba);
}

static pci_err_t host_bar_map(const pcicap_capinst_t *ci, int bar, uint64_t off, uint64_t len,
			      const volatile void **p)
{
	if (!p || bar < 0 || bar > 5)
		return PCI_ERR_EINVAL;
	if (!pcii_be->bar_map)
		return PCI_ERR_ENOTSUP;
	return pcii_be->bar_map(pcii_be_ctx, ci->bdf, bar, off, len, p);
}

static pci_err_t host_bar_unmap(const pcicap_capinst_t *ci, const volatile void *p, uint64_t len)
{
	if (!pcii_be->bar_unmap)
		return PCI_ERR_OK;
	return pcii_be->bar_unmap(pcii_be_ctx, ci->bdf, p, len);
}

static pci_err_t host_irq_alloc(const pcicap_capinst_t *ci, uint_t n, uint_t flags,
				pcicap_irq_msg_t *out)
{
	if (!out || n == 0)
		return PCI_ERR_EINVAL;
	if (!pcii_be->irq_alloc)
		return PCI_ERR_IRQ_NOT_AVAIL;
	return pcii_be->irq_alloc(pcii_be_ctx, ci->bdf, n, flags, out);
}

static pci_err_t host_irq_free(const pcicap_capinst_t *ci, const pci_irq_t *irqs, uint_t n)
{
	if (n == 0)
		return PCI_ERR_OK;
	if (!irqs)
		return PCI_ERR_EINVAL;
	if (!pcii_be->irq_free)
		return PCI_ERR_ENOTSUP;
	return pcii_be->irq_free(pcii_be_ctx, ci->bdf, irqs, n);
}

static bool host_programs_msgs(const pcicap_capinst_t *ci)
{
	(void)ci;
	return pcii_be->msg_enable != NULL;
}

static pci_err_t host_msg_enable(const pcicap_capinst_t *ci, pcicap_irq_kind_t kind,
				 uint_t nentries, const int_t *entry_slot, uint_t nslots,
				 pci_irq_t *irqs)
{
	if (!pcii_be->msg_enable)
		return PCI_ERR_ENOTSUP;
	return pcii_be->msg_enable(pcii_be_ctx, ci->bdf, kind, nentries, entry_slot, nslots, irqs);
}

static pci_err_t host_msg_disable(const pcicap_capinst_t *ci, pcicap_irq_kind_t kind)
{
	if (!pcii_be->msg_disable)
		return PCI_ERR_ENOTSUP;
	return pcii_be->msg_disable(pcii_be_ctx, ci->bdf, kind);
}

static pci_err_t host_set_irqs(const pcicap_capinst_t *ci, const pci_irq_t *irqs, uint_t n)
{
	pcii_dev_t *dev = INST(ci)->dev;
	if (n == 0) {
		pcii_irqs_clear(dev);
		return PCI_ERR_OK;
	}
	if (!irqs)
		return PCI_ERR_EINVAL;
	pci_irq_t *copy = malloc(n * sizeof(*copy));
	if (!copy)
		return PCI_ERR_ENOMEM;
	memcpy(copy, irqs, n * sizeof(*copy));
	free(dev->irqs);
	dev->irqs = copy;
	dev->nirqs = n;
	return PCI_ERR_OK;
}

static pci_err_t host_present(const pcicap_capinst_t *ci)
{
	return pcii_dev_present(INST(ci)->dev);
}

static bool host_cap_enabled(const pcicap_capinst_t *ci, pci_capid_t capid)
{
	for (pcii_capinst_t *o = INST(ci)->dev->insts; o; o = o->next)
		if (o->pub.capid == capid && o->enabled)
			return true;
	return false;
}

__attribute__((format(printf, 3, 4))) static void host_log(const pcicap_capinst_t *ci,
							   pcicap_log_level_t level,
							   const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pcii_log(level, "%04x:%02x:%02x.%x cap 0x%02x: %s", PCICAP_BDF_DOMAIN(ci->bdf),
		 PCI_BUS(ci->bdf), PCI_DEV(ci->bdf), PCI_FUNC(ci->bdf), ci->capid, msg);
}

/* host_check() for a capability object known to be valid, inside the
 * ISR section. */
static inline __attribute__((always_inline)) pci_err_t
check_hdl(const pcii_cap_t *pc, pci_devhdl_t hv, bool need_owner, pcicap_capinst_t **cip)
{
	uint32_t gen;
	pcii_hdl_t *h = pcii_hdl_get_gen(hv, &gen);
	if (!h)
		return PCI_ERR_EINVAL;
	pcii_dev_t *dev = __atomic_load_n(&h->dev, __ATOMIC_ACQUIRE);
	if (!dev || __atomic_load_n(&dev->gone, __ATOMIC_ACQUIRE))
		return PCI_ERR_ENODEV;
	if (pc->bdf != dev->bdf || pc->dev_uid != dev->uid)
		return PCI_ERR_EINVAL;
	bool owner = __atomic_load_n(&h->owner, __ATOMIC_ACQUIRE);
	if (atomic_load_explicit(&h->gen, memory_order_acquire) != gen)
		return PCI_ERR_EINVAL; /* detached (and the slot perhaps reused) while we looked */
	if (need_owner && !owner)
		return PCI_ERR_NOT_OWNER;
	pcii_capinst_t *ci = pcii_inst_find(dev, pc->offset);
	if (!ci)
		return PCI_ERR_EINVAL;
	if (cip)
		*cip = &ci->pub;
	return PCI_ERR_OK;
}

pci_err_t pcii_cap_check(pci_cap_t cap, pci_devhdl_t hv, bool need_owner, pcicap_capinst_t **cip)
{
	return check_hdl((const pcii_cap_t *)(const void *)cap, hv, need_owner, cip);
}

/* host_check() of an object to look up, in an ISR section of its own. */
static __attribute__((noinline)) pci_err_t check_lookup(pci_cap_t cap, pci_devhdl_t hv,
							bool need_owner, pcicap_capinst_t **cip)
{
	pcii_isr_t epoch = pcii_isr_enter();
	const pcii_cap_t *pc = cap_lookup(cap);
	pci_err_t err = pc ? check_hdl(pc, hv, need_owner, cip) : PCI_ERR_EINVAL;
	pcii_isr_exit(epoch);
	return err;
}

static pci_err_t host_check(pci_cap_t cap, pci_devhdl_t hv, bool need_owner, pcicap_capinst_t **cip)
{
	/* the object the dispatcher of this call validated: no second lookup,
	 * and its ISR section is open */
	if (__builtin_expect(!cap || cap != pcii_isr_cap, 0))
		return check_lookup(cap, hv, need_owner, cip);
	return check_hdl((const pcii_cap_t *)(const void *)cap, hv, need_owner, cip);
}

static pcicap_capinst_t *host_cap_inst(pci_cap_t cap)
{
	/* under the core lock alone (no ISR section: a thread that holds the
	 * lock may be waiting in pcii_isr_quiesce() for sections to end) */
	pcicap_capinst_t *res = NULL;
	pthread_mutex_lock(&pcii_core_lock);
	pcii_cap_t *pc = cap_lookup(cap);
	if (pc) {
		/* the device the object was read from, if it is still the same one */
		pcii_dev_t *dev = pcii_dev_find(pc->bdf);
		if (dev && dev->uid == pc->dev_uid) {
			pcii_capinst_t *ci = pcii_inst_find(dev, pc->offset);
			res = ci ? &ci->pub : NULL;
		}
	}
	pthread_mutex_unlock(&pcii_core_lock);
	return res;
}

static pci_err_t host_irq_alloc_req(const pcicap_capinst_t *ci, uint_t want, pci_reqType_t req,
				     uint_t flags, pcicap_irq_msg_t *out, uint_t *got)
{
	if (!out || !got || want == 0)
		return PCI_ERR_EINVAL;
	if ((flags & PCICAP_IRQ_CONTIG) && (want & (want - 1)))
		return PCI_ERR_EINVAL;
	if (!pcii_be->irq_alloc)
		return PCI_ERR_IRQ_NOT_AVAIL; /* no interrupts at all here, whatever the count */
	pci_err_t err = host_irq_alloc(ci, want, flags, out);
	if (err == PCI_ERR_OK) {
		*got = want;
		return PCI_ERR_OK;
	}
	if (err != PCI_ERR_IRQ_NOT_AVAIL)
		return err;
	if (req == pci_reqType_e_MANDATORY)
		return PCI_ERR_CAP_NIRQ;
	for (uint_t n = (flags & PCICAP_IRQ_CONTIG) ? want / 2 : want - 1; n >= 1;
	     n = (flags & PCICAP_IRQ_CONTIG) ? n / 2 : n - 1) {
		err = host_irq_alloc(ci, n, flags, out);
		if (err == PCI_ERR_OK) {
			*got = n;
			return PCI_ERR_OK;
		}
		if (err != PCI_ERR_IRQ_NOT_AVAIL)
			return err;
	}
	return PCI_ERR_IRQ_NOT_AVAIL;
}

static pci_err_t host_cmd_msgs(const pcicap_capinst_t *ci, bool on, bool *saved)
{
	if (!saved)
		return PCI_ERR_EINVAL;
	const pcii_dev_t *dev = INST(ci)->dev;
	uint32_t cmd;
	pci_err_t err = pcii_cfg_read(dev, PCII_CFG_CMD, 2, &cmd);
	if (err != PCI_ERR_OK)
		return err;
	uint32_t want;
	if (on) {
		*saved = cmd & PCII_CMD_INTX_DISABLE;
		want = cmd | PCII_CMD_MASTER | PCII_CMD_INTX_DISABLE;
	} else {
		want = (cmd & ~(uint32_t)PCII_CMD_INTX_DISABLE) | (*saved ? PCII_CMD_INTX_DISABLE : 0);
	}
	return want == cmd ? PCI_ERR_OK : pcii_cfg_write(dev, PCII_CFG_CMD, 2, want);
}

static void *host_cap_priv(pci_cap_t cap)
{
	pcii_isr_t epoch = pcii_isr_enter();
	pcii_cap_t *pc = cap_lookup(cap);
	void *p = pc && pc->priv_size ? pc->priv : NULL;
	pcii_isr_exit(epoch);
	return p;
}

const pcicap_host_t pcii_host = {
    .struct_size = sizeof(pcicap_host_t),
    .cfg_rd = host_cfg_rd,
    .cfg_wr = host_cfg_wr,
    .bar_rd = host_bar_rd,
    .bar_wr = host_bar_wr,
    .bar_info = host_bar_info,
    .bar_map = host_bar_map,
    .bar_unmap = host_bar_unmap,
    .irq_alloc = host_irq_alloc,
    .irq_free = host_irq_free,
    .backend_programs_msgs = host_programs_msgs,
    .msg_enable = host_msg_enable,
    .msg_disable = host_msg_disable,
    .set_irqs = host_set_irqs,
    .present = host_present,
    .cap_enabled = host_cap_enabled,
    .log = host_log,
    .check = host_check,
    .cap_priv = host_cap_priv,
    .cap_inst = host_cap_inst,
    .irq_alloc_req = host_irq_alloc_req,
    .cmd_msgs = host_cmd_msgs,
    .capinst_size = sizeof(pcicap_capinst_t),
};
