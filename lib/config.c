/*
 * Config-space access: header reads and writes, raw cfg_rd/cfg_wr with
 * the bounds, alignment and protection rules of decisions.md section 5.
 *
 * SPDX-License-Identifier: MIT
 */
#include "core.h"

/* Read @width bytes at @off of a device by BDF: the common path of every
 * BDF read. Lock held by the caller. */
static pci_err_t bdf_read(pci_bdf_t bdf, uint_t off, uint_t width, uint32_t *val, pcii_dev_t **devp)
{
	pcii_dev_t *dev = NULL;
	pci_err_t err = pcii_dev_get(bdf, &dev);
	if (err != PCI_ERR_OK)
		return err;
	if (devp)
		*devp = dev;
	return pcii_cfg_read(dev, off, width, val);
}

/* Header register readers. */
static pci_err_t hdr_read(pci_bdf_t bdf, uint_t off, uint_t width, void *out, bool bridge_only)
{
	if (!out)
		return pcii_bug(PCI_ERR_EINVAL, "header read of 0x%x: NULL output", off);
	pthread_mutex_lock(&pcii_core_lock);
	uint32_t v;
	pcii_dev_t *dev = NULL;
	pci_err_t err = PCI_ERR_OK;
	if (bridge_only) {
		err = pcii_dev_get(bdf, &dev);
		if (err == PCI_ERR_OK && (dev->hdr & 0x7F) != 1)
			err = PCI_ERR_EINVAL; /* not a PCI-PCI bridge */
	}
	if (err == PCI_ERR_OK)
		err = bdf_read(bdf, off, width, &v, NULL);
	pthread_mutex_unlock(&pcii_core_lock);
	if (err != PCI_ERR_OK)
		return err;
	switch (width) {
	case 1: *(uint8_t *)out = (uint8_t)v; break;
	case 2: *(uint16_t *)out = (uint16_t)v; break;
	default: *(uint32_t *)out = v; break;
	}
	return PCI_ERR_OK;
}

#define HDR_READER(name, type, off, width, bridge)                                                 \
	PCICAP_EXPORT pci_err_t pci_device_read_##name(pci_bdf_t bdf, type *out)                   \
	{                                                                                          \
		_Static_assert(sizeof(type) == (width), "width of " #name);                        \
		return hdr_read(bdf, off, width, out, bridge);                                     \
	}

HDR_READER(vid, pci_vid_t, PCII_CFG_VID, 2, false)
HDR_READER(did, pci_did_t, PCII_CFG_DID, 2, false)
HDR_READER(revid, pci_revid_t, PCII_CFG_REVID, 1, false)
HDR_READER(hdrType, pci_hdrType_t, PCII_CFG_HDRTYPE, 1, false)
HDR_READER(cmd, pci_cmd_t, PCII_CFG_CMD, 2, false)
HDR_READER(status, pci_stat_t, PCII_CFG_STATUS, 2, false)
HDR_READER(latency, pci_latency_t, PCII_CFG_LATENCY, 1, false)
HDR_READER(clsize, pci_clsize_t, PCII_CFG_CLSIZE, 1, false)
HDR_READER(pri_busnum, pci_busnum_t, 0x18, 1, true)
HDR_READER(sec_busnum, pci_busnum_t, 0x19, 1, true)
HDR_READER(sub_busnum, pci_busnum_t, 0x1A, 1, true)
HDR_READER(sec_latency, pci_latency_t, 0x1B, 1, true)
HDR_READER(sec_status, pci_stat_t, 0x1E, 2, true)
HDR_READER(bridge_ctrl, pci_bctrl_t, 0x3E, 2, true)

/* Subsystem IDs live at 0x2c/0x2e in a type-0 header only. */
static pci_err_t type0_read16(pci_bdf_t bdf, uint_t off, uint16_t *out)
{
	if (!out)
		return pcii_bug(PCI_ERR_EINVAL, "header read of 0x%x: NULL output", off);
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	uint32_t v = 0;
	pci_err_t err = pcii_dev_get(bdf, &dev);
	if (err == PCI_ERR_OK && (dev->hdr & 0x7F) != 0)
		err = PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK)
		err = pcii_cfg_read(dev, off, 2, &v);
	pthread_mutex_unlock(&pcii_core_lock);
	if (err == PCI_ERR_OK)
		*out = (uint16_t)v;
	return err;
}

PCICAP_EXPORT pci_err_t pci_device_read_ssvid(pci_bdf_t bdf, pci_ssvid_t *out)
{
	return type0_read16(bdf, PCII_CFG_SSVID, out);
}

PCICAP_EXPORT pci_err_t pci_device_read_ssid(pci_bdf_t bdf, pci_ssid_t *out)
{
	return type0_read16(bdf, PCII_CFG_SSID, out);
}

PCICAP_EXPORT pci_err_t pci_device_read_ccode(pci_bdf_t bdf, pci_ccode_t *out)
{
	if (!out)
		return pcii_bug(PCI_ERR_EINVAL, "pci_device_read_ccode: NULL output");
	uint32_t v;
	pci_err_t err = hdr_read(bdf, PCII_CFG_REVID, 4, &v, false);
	if (err == PCI_ERR_OK)
		*out = v >> 8;
	return err;
}

/* ---- bridge windows (type 1) ----
 * A window register holds address bits from lo_shift up (lo_mask), its low
 * nibble says whether an upper register (hi_*) extends it: 1 = yes. The
 * limit's bits below the granularity read as ones. */
enum win { WIN_MEM, WIN_PFMEM, WIN_IO };
static const struct win_desc {
	uint8_t lo_base, lo_limit, lo_width; /* window register */
	uint8_t hi_base, hi_limit, hi_width; /* upper-address register, 0 = none */
	uint32_t lo_mask;                    /* address bits in the window register */
	uint8_t lo_shift, hi_shift;
	pci_ba_val_t gran; /* granularity - 1 */
} windows[] = {
    [WIN_MEM] = {0x20, 0x22, 2, 0, 0, 0, 0xFFF0, 16, 0, 0xFFFFF},
    [WIN_PFMEM] = {0x24, 0x26, 2, 0x28, 0x2C, 4, 0xFFF0, 16, 32, 0xFFFFF},
    [WIN_IO] = {0x1C, 0x1D, 1, 0x30, 0x32, 2, 0xF0, 8, 16, 0xFFF},
};

/* Lock held; @dev a bridge. */
static pci_err_t window_get(pcii_dev_t *dev, enum win w, bool limit, pci_ba_val_t *out)
{
	const struct win_desc *d = &windows[w];
	uint32_t lo, hi = 0;
	pci_err_t err = pcii_cfg_read(dev, limit ? d->lo_limit : d->lo_base, d->lo_width, &lo);
	if (err == PCI_ERR_OK && d->hi_width && (lo & 0xF) == 1)
		err = pcii_cfg_read(dev, limit ? d->hi_limit : d->hi_base, d->hi_width, &hi);
	*out = ((pci_ba_val_t)hi << d->hi_shift) |
	       ((pci_ba_val_t)(lo & d->lo_mask) << d->lo_shift) | (limit ? d->gran : 0);
	return err;
}

static pci_err_t window_read(pci_bdf_t bdf, enum win w, bool limit, pci_ba_val_t *out)
{
	if (!out)
		return pcii_bug(PCI_ERR_EINVAL, "bridge window read: NULL output");
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	pci_ba_val_t v = 0;
	pci_err_t err = pcii_dev_get(bdf, &dev);
	if (err == PCI_ERR_OK && (dev->hdr & 0x7F) != 1)
		err = PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK)
		err = window_get(dev, w, limit, &v);
	pthread_mutex_unlock(&pcii_core_lock);
	if (err == PCI_ERR_OK)
		*out = v;
	return err;
}

#define WINDOW_READER(name, w, limit)                                                              \
	PCICAP_EXPORT pci_err_t pci_device_read_##name(pci_bdf_t bdf, pci_ba_val_t *v)             \
	{                                                                                          \
		return window_read(bdf, w, limit, v);                                              \
	}
WINDOW_READER(mem_base, WIN_MEM, false)
WINDOW_READER(mem_limit, WIN_MEM, true)
WINDOW_READER(pfmem_base, WIN_PFMEM, false)
WINDOW_READER(pfmem_limit, WIN_PFMEM, true)
WINDOW_READER(io_base, WIN_IO, false)
WINDOW_READER(io_limit, WIN_IO, true)

/* ---- raw config reads ---- */

static pci_err_t cfg_range_ok(const pcii_dev_t *dev, uint_t off, uint_t width)
{
	if (off < PCII_CFG_DEVSPEC || off % width || off > dev->cfg_size - width)
		return PCI_ERR_EINVAL;
	return PCI_ERR_OK;
}

static pci_err_t cfg_rd(pci_bdf_t bdf, uint_t off, uint_t width, uint64_t *val)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	uint32_t lo = 0, hi = 0;
	pci_err_t err = pcii_dev_get(bdf, &dev);
	if (err == PCI_ERR_OK)
		err = cfg_range_ok(dev, off, width);
	if (err == PCI_ERR_OK && width == 8) {
		err = pcii_cfg_read(dev, off, 4, &lo);
		if (err == PCI_ERR_OK)
			err = pcii_cfg_read(dev, off + 4, 4, &hi);
	} else if (err == PCI_ERR_OK) {
		err = pcii_cfg_read(dev, off, width, &lo);
	}
	pthread_mutex_unlock(&pcii_core_lock);
	*val = ((uint64_t)hi << 32) | lo;
	return err;
}

#define CFG_READER(bits)                                                                           \
	PCICAP_EXPORT pci_err_t pci_device_cfg_rd##bits(pci_bdf_t bdf, uint_t off,                 \
							uint##bits##_t *val)                       \
	{                                                                                          \
		if (!val)                                                                          \
			return pcii_bug(PCI_ERR_EINVAL, "pci_device_cfg_rd" #bits ": NULL value"); \
		uint64_t v;                                                                        \
		pci_err_t err = cfg_rd(bdf, off, (bits) / 8, &v);                                  \
		if (err == PCI_ERR_OK)                                                             \
			*val = (uint##bits##_t)v;                                                  \
		return err;                                                                        \
	}
CFG_READER(8)
CFG_READER(16)
CFG_READER(32)
CFG_READER(64)

/* ---- writes ---- */

/* PCI_ERR_CFG_ACCESS when [off, off+width) touches a capability structure
 * that a module owns (MSI, MSI-X); the walk's access error when the list
 * cannot be read (refused too: protection must not fail open). */
static pci_err_t check_protected(pcii_dev_t *dev, uint_t off, uint_t width)
{
	pci_err_t err = pcii_caps_walk(dev);
	if (err != PCI_ERR_OK && err != PCI_ERR_EIO)
		return err;
	/* a broken list still protects what precedes the break */
	for (uint_t i = 0; i < dev->caps.n; i++) {
		uint_t s = dev->caps.e[i].off, len = dev->caps.e[i].len;
		if (len && off < s + len && s < off + width)
			return PCI_ERR_CFG_ACCESS;
	}
	return PCI_ERR_OK;
}

static pci_err_t cfg_wr(pci_devhdl_t hv, uint_t off, uint_t width, uint64_t val, uint64_t *rb)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	pcii_hdl_t *h = NULL;
	uint32_t lo = 0, hi = 0;
	pci_err_t err = pcii_owner_get(hv, &h, &dev);
	if (err == PCI_ERR_OK)
		err = cfg_range_ok(dev, off, width);
	if (err == PCI_ERR_OK && !(h->flags & pci_attachFlags_e_FULL_CONFIG_ACCESS))
		err = check_protected(dev, off, width);
	if (err != PCI_ERR_OK)
		goto out;
	if (width == 8) {
		err = pcii_cfg_write(dev, off, 4, (uint32_t)val);
		if (err == PCI_ERR_OK)
			err = pcii_cfg_write(dev, off + 4, 4, (uint32_t)(val >> 32));
	} else {
		err = pcii_cfg_write(dev, off, width, (uint32_t)val);
	}
	if (err == PCI_ERR_OK && rb) {
		if (width == 8) {
			err = pcii_cfg_read(dev, off, 4, &lo);
			if (err == PCI_ERR_OK)
				err = pcii_cfg_read(dev, off + 4, 4, &hi);
		} else {
			err = pcii_cfg_read(dev, off, width, &lo);
		}
		*rb = ((uint64_t)hi << 32) | lo;
	}
out:
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

#define CFG_WRITER(bits)                                                                           \
	PCICAP_EXPORT pci_err_t pci_device_cfg_wr##bits(pci_devhdl_t hdl, uint_t off,              \
							uint##bits##_t val, uint##bits##_t *val_p) \
	{                                                                                          \
		uint64_t rb;                                                                       \
		pci_err_t err = cfg_wr(hdl, off, (bits) / 8, val, val_p ? &rb : NULL);             \
		if (err == PCI_ERR_OK && val_p)                                                    \
			*val_p = (uint##bits##_t)rb;                                               \
		return err;                                                                        \
	}
CFG_WRITER(8)
CFG_WRITER(16)
CFG_WRITER(32)
CFG_WRITER(64)

/* Header register writes through an owner handle. @hdr_type: required
 * header type (0 or 1), or -1 for any. */
static pci_err_t hdr_write(pci_devhdl_t hv, int hdr_type, uint_t off, uint_t width, uint32_t val,
			   uint32_t *rb)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	pci_err_t err = pcii_owner_get(hv, NULL, &dev);
	if (err == PCI_ERR_OK && hdr_type >= 0 && (dev->hdr & 0x7F) != (uint8_t)hdr_type)
		err = PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK)
		err = pcii_cfg_write(dev, off, width, val);
	if (err == PCI_ERR_OK && rb)
		err = pcii_cfg_read(dev, off, width, rb);
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

#define HDR_WRITER(name, type, hdr, off, width)                                                    \
	PCICAP_EXPORT pci_err_t pci_device_write_##name(pci_devhdl_t hdl, type v, type *rbp)       \
	{                                                                                          \
		_Static_assert(sizeof(type) == (width), "width of " #name);                        \
		uint32_t rb;                                                                       \
		pci_err_t err = hdr_write(hdl, hdr, off, width, v, rbp ? &rb : NULL);              \
		if (err == PCI_ERR_OK && rbp)                                                      \
			*rbp = (type)rb;                                                           \
		return err;                                                                        \
	}
HDR_WRITER(cmd, pci_cmd_t, -1, PCII_CFG_CMD, 2)
HDR_WRITER(status, pci_stat_t, -1, PCII_CFG_STATUS, 2)
HDR_WRITER(sec_status, pci_stat_t, 1, 0x1E, 2)
HDR_WRITER(bridge_ctrl, pci_bctrl_t, 1, 0x3E, 2)
HDR_WRITER(pri_busnum, pci_busnum_t, 1, 0x18, 1)
HDR_WRITER(sec_busnum, pci_busnum_t, 1, 0x19, 1)
HDR_WRITER(sub_busnum, pci_busnum_t, 1, 0x1A, 1)

/* Bridge window writes: the inverse of window_get(). Values must be
 * aligned to the window granularity (1 MiB memory, 4 KiB I/O; the limit
 * with its low bits all ones) and fit the window's width. */
static pci_err_t window_write(pci_devhdl_t hv, enum win w, bool limit, pci_ba_val_t v,
			      pci_ba_val_t *rb)
{
	const struct win_desc *d = &windows[w];
	if ((v & d->gran) != (limit ? d->gran : 0))
		return pcii_bug(PCI_ERR_EINVAL, "bridge window value 0x%llx is not aligned",
				(unsigned long long)v);
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	uint32_t cur = 0;
	pci_err_t err = pcii_owner_get(hv, NULL, &dev);
	if (err == PCI_ERR_OK && (dev->hdr & 0x7F) != 1)
		err = PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK)
		err = pcii_cfg_read(dev, limit ? d->lo_limit : d->lo_base, d->lo_width, &cur);
	if (err != PCI_ERR_OK)
		goto out;
	bool wide = d->hi_width && (cur & 0xF) == 1;
	uint_t bits = wide ? d->hi_shift + 8u * d->hi_width : d->lo_shift + 8u * d->lo_width;
	if (bits < 64 && (v >> bits)) {
		err = PCI_ERR_EINVAL; /* does not fit this bridge's window */
		goto out;
	}
	err = pcii_cfg_write(dev, limit ? d->lo_limit : d->lo_base, d->lo_width,
			     ((uint32_t)(v >> d->lo_shift) & d->lo_mask) | (cur & 0xF));
	if (err == PCI_ERR_OK && wide)
		err = pcii_cfg_write(dev, limit ? d->hi_limit : d->hi_base, d->hi_width,
				     (uint32_t)(v >> d->hi_shift));
	if (err == PCI_ERR_OK && rb)
		err = window_get(dev, w, limit, rb);
out:
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

#define WINDOW_WRITER(name, w, limit)                                                              \
	PCICAP_EXPORT pci_err_t pci_device_write_##name(pci_devhdl_t h, pci_ba_val_t v,            \
							pci_ba_val_t *rb)                          \
	{                                                                                          \
		return window_write(h, w, limit, v, rb);                                           \
	}
WINDOW_WRITER(mem_base, WIN_MEM, false)
WINDOW_WRITER(mem_limit, WIN_MEM, true)
WINDOW_WRITER(pfmem_base, WIN_PFMEM, false)
WINDOW_WRITER(pfmem_limit, WIN_PFMEM, true)
WINDOW_WRITER(io_base, WIN_IO, false)
WINDOW_WRITER(io_limit, WIN_IO, true)

/* ---- whole config-space reads for inspection (no handle needed) ---- */

PCICAP_EXPORT pci_err_t pcicap_device_cfg_read(pci_bdf_t bdf, uint_t off, void *buf, uint_t len)
{
	if (!buf && len)
		return pcii_bug(PCI_ERR_EINVAL, "pcicap_device_cfg_read: NULL buffer");
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	pci_err_t err = pcii_dev_get(bdf, &dev);
	if (err == PCI_ERR_OK && (off > dev->cfg_size || len > dev->cfg_size - off))
		err = PCI_ERR_EINVAL;
	uint8_t *out = buf;
	uint_t pos = off, end = off + len;
	while (err == PCI_ERR_OK && pos < end) {
		uint_t a = pos & ~3u;
		uint32_t v = 0;
		err = pcii_cfg_read(dev, a, 4, &v);
		for (uint_t i = pos - a; err == PCI_ERR_OK && i < 4 && pos < end; i++, pos++)
			*out++ = (uint8_t)(v >> (8 * i));
	}
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_device_driver(pci_bdf_t bdf, char *buf, size_t len)
{
	if (!buf || len == 0)
		return pcii_bug(PCI_ERR_EINVAL, "pcicap_device_driver: no buffer");
	buf[0] = '\0';
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	pci_err_t err = pcii_dev_get(bdf, &dev);
	if (err == PCI_ERR_OK) /* a backend without drivers (the simulator): none */
		err = pcii_be->driver ? pcii_be->driver(pcii_be_ctx, dev->bdf, buf, len)
				      : PCI_ERR_ENOENT;
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}
