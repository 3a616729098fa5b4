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

#define HDR_READER(name, type, off, width, bridge)                                 \
	PCICAP_EXPORT pci_err_t pci_device_read_##name(pci_bdf_t bdf, type *out)   \
	{                                                                          \
		_Static_assert(sizeof(type) == (width), "width of " #name);       \
		return hdr_read(bdf, off, width, out, bridge);                     \
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
 * Memory: 16-bit registers, bits 15:4 = address bits 31:20; limit | 0xFFFFF.
 * Prefetchable: same, plus upper 32 bits at 0x28/0x2c when bits 3:0 = 1.
 * I/O: 8-bit registers, bits 7:4 = address bits 15:12, upper 16 bits at
 * 0x30/0x32 when bits 3:0 = 1; limit | 0xFFF. */
enum win { WIN_MEM, WIN_PFMEM, WIN_IO };

static pci_err_t window_read(pci_bdf_t bdf, enum win w, bool limit, pci_ba_val_t *out)
{
	if (!out)
		return pcii_bug(PCI_ERR_EINVAL, "bridge window read: NULL output");
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	uint32_t lo = 0, hi = 0;
	pci_ba_val_t v = 0;
	pci_err_t err = pcii_dev_get(bdf, &dev);
	if (err == PCI_ERR_OK && (dev->hdr & 0x7F) != 1)
		err = PCI_ERR_EINVAL;
	if (err != PCI_ERR_OK)
		goto out;
	switch (w) {
	case WIN_MEM:
		err = pcii_cfg_read(dev, limit ? 0x22 : 0x20, 2, &lo);
		v = (pci_ba_val_t)(lo & 0xFFF0) << 16;
		if (limit)
			v |= 0xFFFFF;
		break;
	case WIN_PFMEM:
		err = pcii_cfg_read(dev, limit ? 0x26 : 0x24, 2, &lo);
		if (err == PCI_ERR_OK && (lo & 0xF) == 1)
			err = pcii_cfg_read(dev, limit ? 0x2C : 0x28, 4, &hi);
		v = ((pci_ba_val_t)hi << 32) | ((pci_ba_val_t)(lo & 0xFFF0) << 16);
		if (limit)
			v |= 0xFFFFF;
		break;
	case WIN_IO:
		err = pcii_cfg_read(dev, limit ? 0x1D : 0x1C, 1, &lo);
		if (err == PCI_ERR_OK && (lo & 0xF) == 1)
			err = pcii_cfg_read(dev, limit ? 0x32 : 0x30, 2, &hi);
		v = ((pci_ba_val_t)hi << 16) | ((pci_ba_val_t)(lo & 0xF0) << 8);
		if (limit)
			v |= 0xFFF;
		break;
	}
out:
	pthread_mutex_unlock(&pcii_core_lock);
	if (err == PCI_ERR_OK)
		*out = v;
	return err;
}

PCICAP_EXPORT pci_err_t pci_device_read_mem_base(pci_bdf_t bdf, pci_ba_val_t *v)
{
	return window_read(bdf, WIN_MEM, false, v);
}
PCICAP_EXPORT pci_err_t pci_device_read_mem_limit(pci_bdf_t bdf, pci_ba_val_t *v)
{
	return window_read(bdf, WIN_MEM, true, v);
}
PCICAP_EXPORT pci_err_t pci_device_read_pfmem_base(pci_bdf_t bdf, pci_ba_val_t *v)
{
	return window_read(bdf, WIN_PFMEM, false, v);
}
PCICAP_EXPORT pci_err_t pci_device_read_pfmem_limit(pci_bdf_t bdf, pci_ba_val_t *v)
{
	return window_read(bdf, WIN_PFMEM, true, v);
}
PCICAP_EXPORT pci_err_t pci_device_read_io_base(pci_bdf_t bdf, pci_ba_val_t *v)
{
	return window_read(bdf, WIN_IO, false, v);
}
PCICAP_EXPORT pci_err_t pci_device_read_io_limit(pci_bdf_t bdf, pci_ba_val_t *v)
{
	return window_read(bdf, WIN_IO, true, v);
}

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

#define CFG_READER(bits)                                                                      \
	PCICAP_EXPORT pci_err_t pci_device_cfg_rd##bits(pci_bdf_t bdf, uint_t off, uint##bits##_t *val) \
	{                                                                                     \
		if (!val)                                                                     \
			return pcii_bug(PCI_ERR_EINVAL, "pci_device_cfg_rd" #bits ": NULL value");   \
		uint64_t v;                                                                   \
		pci_err_t err = cfg_rd(bdf, off, (bits) / 8, &v);                             \
		if (err == PCI_ERR_OK)                                                        \
			*val = (uint##bits##_t)v;                                             \
		return err;                                                                   \
	}
CFG_READER(8)
CFG_READER(16)
CFG_READER(32)
CFG_READER(64)

/* ---- writes ---- */

/* Whether [off, off+width) touches a capability structure that a module
 * owns (MSI, MSI-X). */
static bool overlaps_protected(pcii_dev_t *dev, uint_t off, uint_t width)
{
	if (pcii_caps_walk(dev) != PCI_ERR_OK && dev->ncaps == 0)
		return false;
	for (uint_t i = 0; i < dev->ncaps; i++) {
		uint_t s = dev->cap_off[i], len = dev->cap_len[i];
		if (len && off < s + len && s < off + width)
			return true;
	}
	return false;
}

/* Checks common to every write through a handle. Lock held. */
static pci_err_t write_prep(pci_devhdl_t hv, pcii_dev_t **devp, pcii_hdl_t **hp)
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
	*devp = h->dev;
	if (hp)
		*hp = h;
	return PCI_ERR_OK;
}

static pci_err_t cfg_wr(pci_devhdl_t hv, uint_t off, uint_t width, uint64_t val, uint64_t *rb)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	pcii_hdl_t *h = NULL;
	uint32_t lo = 0, hi = 0;
	pci_err_t err = write_prep(hv, &dev, &h);
	if (err == PCI_ERR_OK)
		err = cfg_range_ok(dev, off, width);
	if (err == PCI_ERR_OK && !(h->flags & pci_attachFlags_e_FULL_CONFIG_ACCESS) &&
	    overlaps_protected(dev, off, width))
		err = PCI_ERR_CFG_ACCESS;
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

#define CFG_WRITER(bits)                                                                   \
	PCICAP_EXPORT pci_err_t pci_device_cfg_wr##bits(pci_devhdl_t hdl, uint_t off,      \
							uint##bits##_t val,                \
							uint##bits##_t *val_p)             \
	{                                                                                  \
		uint64_t rb;                                                               \
		pci_err_t err = cfg_wr(hdl, off, (bits) / 8, val, val_p ? &rb : NULL);     \
		if (err == PCI_ERR_OK && val_p)                                            \
			*val_p = (uint##bits##_t)rb;                                       \
		return err;                                                                \
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
	pci_err_t err = write_prep(hv, &dev, NULL);
	if (err == PCI_ERR_OK && hdr_type >= 0 && (dev->hdr & 0x7F) != (uint8_t)hdr_type)
		err = PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK)
		err = pcii_cfg_write(dev, off, width, val);
	if (err == PCI_ERR_OK && rb)
		err = pcii_cfg_read(dev, off, width, rb);
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

#define HDR_WRITER(name, type, hdr, off, width)                                            \
	PCICAP_EXPORT pci_err_t pci_device_write_##name(pci_devhdl_t hdl, type v, type *rbp) \
	{                                                                                  \
		_Static_assert(sizeof(type) == (width), "width of " #name);               \
		uint32_t rb;                                                               \
		pci_err_t err = hdr_write(hdl, hdr, off, width, v, rbp ? &rb : NULL);      \
		if (err == PCI_ERR_OK && rbp)                                              \
			*rbp = (type)rb;                                                   \
		return err;                                                                \
	}
HDR_WRITER(cmd, pci_cmd_t, -1, PCII_CFG_CMD, 2)
HDR_WRITER(status, pci_stat_t, -1, PCII_CFG_STATUS, 2)
HDR_WRITER(sec_status, pci_stat_t, 1, 0x1E, 2)
HDR_WRITER(bridge_ctrl, pci_bctrl_t, 1, 0x3E, 2)
HDR_WRITER(pri_busnum, pci_busnum_t, 1, 0x18, 1)
HDR_WRITER(sec_busnum, pci_busnum_t, 1, 0x19, 1)
HDR_WRITER(sub_busnum, pci_busnum_t, 1, 0x1A, 1)

/* Bridge window writes: the inverse of window_read(). Values must be
 * aligned to the window granularity (1 MiB memory, 4 KiB I/O; the limit
 * with its low bits all ones) and fit the register's width. */
static pci_err_t window_write(pci_devhdl_t hv, enum win w, bool limit, pci_ba_val_t v,
			      pci_ba_val_t *rb)
{
	pci_ba_val_t gran = w == WIN_IO ? 0xFFF : 0xFFFFF;
	if ((v & gran) != (limit ? gran : 0))
		return pcii_bug(PCI_ERR_EINVAL, "bridge window value 0x%llx is not aligned",
				(unsigned long long)v);
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	uint32_t cur = 0;
	pci_err_t err = write_prep(hv, &dev, NULL);
	if (err == PCI_ERR_OK && (dev->hdr & 0x7F) != 1)
		err = PCI_ERR_EINVAL;
	if (err != PCI_ERR_OK)
		goto out;
	switch (w) {
	case WIN_MEM:
		if (v >> 32)
			err = PCI_ERR_EINVAL;
		else
			err = pcii_cfg_write(dev, limit ? 0x22 : 0x20, 2, (uint32_t)(v >> 16) & 0xFFF0);
		break;
	case WIN_PFMEM:
		err = pcii_cfg_read(dev, limit ? 0x26 : 0x24, 2, &cur);
		if (err != PCI_ERR_OK)
			break;
		if ((cur & 0xF) != 1 && (v >> 32)) {
			err = PCI_ERR_EINVAL;
			break;
		}
		err = pcii_cfg_write(dev, limit ? 0x26 : 0x24, 2, ((uint32_t)(v >> 16) & 0xFFF0) | (cur & 0xF));
		if (err == PCI_ERR_OK && (cur & 0xF) == 1)
			err = pcii_cfg_write(dev, limit ? 0x2C : 0x28, 4, (uint32_t)(v >> 32));
		break;
	case WIN_IO:
		err = pcii_cfg_read(dev, limit ? 0x1D : 0x1C, 1, &cur);
		if (err != PCI_ERR_OK)
			break;
		if ((cur & 0xF) != 1 && (v >> 16)) {
			err = PCI_ERR_EINVAL;
			break;
		}
		if (v >> 32) {
			err = PCI_ERR_EINVAL;
			break;
		}
		err = pcii_cfg_write(dev, limit ? 0x1D : 0x1C, 1, ((uint32_t)(v >> 8) & 0xF0) | (cur & 0xF));
		if (err == PCI_ERR_OK && (cur & 0xF) == 1)
			err = pcii_cfg_write(dev, limit ? 0x32 : 0x30, 2, (uint32_t)(v >> 16) & 0xFFFF);
		break;
	}
out:
	pthread_mutex_unlock(&pcii_core_lock);
	if (err == PCI_ERR_OK && rb)
		err = window_read(pci_bdf(hv), w, limit, rb);
	return err;
}

PCICAP_EXPORT pci_err_t pci_device_write_mem_base(pci_devhdl_t h, pci_ba_val_t v, pci_ba_val_t *rb)
{
	return window_write(h, WIN_MEM, false, v, rb);
}
PCICAP_EXPORT pci_err_t pci_device_write_mem_limit(pci_devhdl_t h, pci_ba_val_t v, pci_ba_val_t *rb)
{
	return window_write(h, WIN_MEM, true, v, rb);
}
PCICAP_EXPORT pci_err_t pci_device_write_pfmem_base(pci_devhdl_t h, pci_ba_val_t v, pci_ba_val_t *rb)
{
	return window_write(h, WIN_PFMEM, false, v, rb);
}
PCICAP_EXPORT pci_err_t pci_device_write_pfmem_limit(pci_devhdl_t h, pci_ba_val_t v, pci_ba_val_t *rb)
{
	return window_write(h, WIN_PFMEM, true, v, rb);
}
PCICAP_EXPORT pci_err_t pci_device_write_io_base(pci_devhdl_t h, pci_ba_val_t v, pci_ba_val_t *rb)
{
	return window_write(h, WIN_IO, false, v, rb);
}
PCICAP_EXPORT pci_err_t pci_device_write_io_limit(pci_devhdl_t h, pci_ba_val_t v, pci_ba_val_t *rb)
{
	return window_write(h, WIN_IO, true, v, rb);
}
