/*
 * Device resources: IRQs, address spaces (BARs, expansion ROM), address
 * translation, reset, chassis/slot, device type, IRQ file descriptors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcicap/irq.h>

#include "core.h"

void pcii_irqs_clear(pcii_dev_t *dev)
{
	free(dev->irqs);
	dev->irqs = NULL;
	dev->nirqs = 0;
}

/* QNX's array convention: *n in = capacity, out = number returned, or
 * -(number that did not fit) when the array was too small. */
static void fill_count(int_t *n, uint_t have, int_t cap)
{
	*n = have <= (uint_t)cap ? (int_t)have : -(int_t)(have - (uint_t)cap);
}

PCICAP_EXPORT pci_err_t pci_device_read_irq(pci_devhdl_t hv, int_t *nirq, pci_irq_t *irq)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_hdl_t *h = NULL;
	pci_err_t err = pcii_owner_get(hv, &h, NULL);
	if (err != PCI_ERR_OK)
		goto out;
	pcii_dev_t *dev = h->dev;
	if (!irq) {
		if (!nirq)
			err = PCI_ERR_EINVAL;
		else
			*nirq = (int_t)dev->nirqs;
		goto out;
	}
	int_t cap = nirq ? *nirq : 1;
	if (cap < 0) {
		err = PCI_ERR_EINVAL;
		goto out;
	}
	if (dev->nirqs == 0 && !nirq) {
		err = PCI_ERR_IRQ_NOT_AVAIL;
		goto out;
	}
	for (uint_t i = 0; i < dev->nirqs && i < (uint_t)cap; i++)
		irq[i] = dev->irqs[i];
	if (nirq)
		fill_count(nirq, dev->nirqs, cap);
out:
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT int pcicap_irq_fd(pci_devhdl_t hv, pci_irq_t irq)
{
	int fd = -1, e = 0;
	pthread_mutex_lock(&pcii_core_lock);
	pci_err_t err;
	pcii_hdl_t *h = pcii_hdl_dev(hv, &err);
	if (!h) {
		e = err == PCI_ERR_ENODEV ? ENODEV : EINVAL;
		goto out;
	}
	bool held = false;
	for (uint_t i = 0; i < h->dev->nirqs; i++)
		held |= h->dev->irqs[i] == irq;
	if (!held) {
		e = EINVAL;
		goto out;
	}
	if (!pcii_be->irq_fd) {
		e = ENOTSUP;
		goto out;
	}
	fd = pcii_be->irq_fd(pcii_be_ctx, irq);
	if (fd < 0)
		e = errno ? errno : EINVAL;
out:
	pthread_mutex_unlock(&pcii_core_lock);
	if (fd < 0)
		errno = e;
	return fd;
}

/* ------------------------------------------------------------- BARs */

static uint_t nbars(const pcii_dev_t *dev)
{
	switch (dev->hdr & 0x7F) {
	case 0: return 6;
	case 1: return 2;
	default: return 0;
	}
}

static uint_t rom_reg(const pcii_dev_t *dev)
{
	return (dev->hdr & 0x7F) == 1 ? PCII_CFG_ROM1 : PCII_CFG_ROM0;
}

static uint_t log2_u64(uint64_t v)
{
	uint_t n = 0;
	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* Size a BAR through config space: memory/I/O decode off, all ones
 * written, read back, original restored. */
static pci_err_t size_bar_now(pcii_dev_t *dev, uint_t reg, uint32_t ones, uint32_t *orig,
			      uint32_t *mask)
{
	uint32_t cmd;
	pci_err_t err = pcii_cfg_read(dev, PCII_CFG_CMD, 2, &cmd);
	if (err == PCI_ERR_OK)
		err = pcii_cfg_read(dev, reg, 4, orig);
	if (err != PCI_ERR_OK)
		return err;
	if (cmd & (PCII_CMD_IO | PCII_CMD_MEM))
		err = pcii_cfg_write(dev, PCII_CFG_CMD, 2,
				     cmd & ~(uint32_t)(PCII_CMD_IO | PCII_CMD_MEM));
	if (err != PCI_ERR_OK)
		return err;
	pci_err_t e1 = pcii_cfg_write(dev, reg, 4, ones);
	pci_err_t e2 = e1 == PCI_ERR_OK ? pcii_cfg_read(dev, reg, 4, mask) : e1;
	pci_err_t e3 = pcii_cfg_write(dev, reg, 4, *orig);
	pci_err_t e4 = pcii_cfg_write(dev, PCII_CFG_CMD, 2, cmd);
	return e1 != PCI_ERR_OK ? e1 : e2 != PCI_ERR_OK ? e2 : e3 != PCI_ERR_OK ? e3 : e4;
}

/* The same, once per BAR: the mask is kept, so a live device's decoding is
 * switched off at the first query only. */
static pci_err_t size_bar(pcii_dev_t *dev, uint_t reg, uint32_t ones, uint32_t *orig,
			  uint32_t *mask)
{
	uint_t slot = reg == rom_reg(dev) ? 6 : (reg - PCII_CFG_BAR0) / 4;
	if (dev->bar_masked & (1u << slot)) {
		*mask = dev->bar_mask[slot];
		return pcii_cfg_read(dev, reg, 4, orig);
	}
	pci_err_t err = size_bar_now(dev, reg, ones, orig, mask);
	if (err == PCI_ERR_OK) {
		dev->bar_mask[slot] = *mask;
		dev->bar_masked |= (uint8_t)(1u << slot);
	}
	return err;
}

static pci_err_t bar_info_cfg(pcii_dev_t *dev, int bar, pci_ba_t *ba)
{
	memset(ba, 0, sizeof(*ba));
	ba->bar_num = bar;
	if (bar < 0) {
		uint32_t orig, mask;
		pci_err_t err = size_bar(dev, rom_reg(dev), 0xFFFFF800u, &orig, &mask);
		if (err != PCI_ERR_OK)
			return err;
		mask &= 0xFFFFF800u;
		if (!mask)
			return PCI_ERR_ENOENT;
		ba->addr = orig & 0xFFFFF800u;
		ba->size = (uint64_t)(~mask) + 1;
		ba->type = pci_asType_e_MEM;
		ba->attr = pci_asAttr_e_EXPANSION_ROM | pci_asAttr_e_32BIT |
			   (orig & 1 ? pci_asAttr_e_ENABLED : 0);
		ba->attr |= log2_u64(ba->size) & pci_asAttr_e_ALIGN;
		return PCI_ERR_OK;
	}
	if ((uint_t)bar >= nbars(dev))
		return PCI_ERR_ENOENT;
	/* the upper half of a 64-bit BAR is not a BAR of its own */
	for (int i = 0; i < bar; i++) {
		uint32_t v;
		pci_err_t err = pcii_cfg_read(dev, PCII_CFG_BAR0 + 4 * (uint_t)i, 4, &v);
		if (err != PCI_ERR_OK)
			return err;
		if (!(v & 1) && ((v >> 1) & 3) == 2) {
			if (i + 1 == bar)
				return PCI_ERR_ENOENT;
			i++;
		}
	}
	uint_t reg = PCII_CFG_BAR0 + 4 * (uint_t)bar;
	uint32_t orig, mask;
	pci_err_t err = size_bar(dev, reg, 0xFFFFFFFFu, &orig, &mask);
	if (err != PCI_ERR_OK)
		return err;
	if (orig & 1) {
		uint32_t m = mask & 0xFFFFFFFCu;
		if ((m & 0xFFFF0000u) == 0)
			m |= 0xFFFF0000u; /* 16-bit I/O decoder */
		if (!(mask & 0xFFFFFFFCu))
			return PCI_ERR_ENOENT;
		ba->addr = orig & 0xFFFFFFFCu;
		ba->size = (uint64_t)(uint32_t)(~m) + 1;
		ba->type = pci_asType_e_IO;
		ba->attr = pci_asAttr_e_32BIT;
	} else {
		bool is64 = ((orig >> 1) & 3) == 2 && (uint_t)bar + 1 < nbars(dev);
		uint64_t m = mask & 0xFFFFFFF0u;
		uint64_t addr = orig & 0xFFFFFFF0u;
		if (is64) {
			uint32_t hi, himask;
			err = size_bar(dev, reg + 4, 0xFFFFFFFFu, &hi, &himask);
			if (err != PCI_ERR_OK)
				return err;
			m |= (uint64_t)himask << 32;
			addr |= (uint64_t)hi << 32;
		} else {
			m |= 0xFFFFFFFF00000000ULL;
		}
		if (!(m & 0xFFFFFFFFFFFFFFF0ULL) || (mask & 0xFFFFFFF0u) == 0) {
			if (!is64 || m >> 32 == 0)
				return PCI_ERR_ENOENT;
		}
		ba->addr = addr;
		ba->size = ~m + 1;
		ba->type = pci_asType_e_MEM;
		ba->attr = (is64 ? pci_asAttr_e_64BIT : pci_asAttr_e_32BIT) |
			   (orig & 8 ? pci_asAttr_e_PREFETCH : 0);
	}
	ba->attr |= log2_u64(ba->size) & pci_asAttr_e_ALIGN;
	return PCI_ERR_OK;
}

pci_err_t pcii_bar_info(pcii_dev_t *dev, int bar, pci_ba_t *ba)
{
	if (pcii_be->bar_info) {
		memset(ba, 0, sizeof(*ba));
		pci_err_t err = pcii_be->bar_info(pcii_be_ctx, dev->bdf, bar, ba);
		ba->bar_num = bar;
		if (err == PCI_ERR_OK && ba->type == pci_asType_e_NONE)
			err = PCI_ERR_ENOENT;
		if (err == PCI_ERR_OK && ba->size && !(ba->attr & pci_asAttr_e_ALIGN))
			ba->attr |= log2_u64(ba->size) & pci_asAttr_e_ALIGN;
		if (err == PCI_ERR_OK && bar < 0) {
			/* the decode-enable bit is config state: read it here */
			uint32_t v;
			ba->attr |= pci_asAttr_e_EXPANSION_ROM;
			ba->attr &= ~(uint32_t)pci_asAttr_e_ENABLED;
			err = pcii_cfg_read(dev, rom_reg(dev), 4, &v);
			if (err == PCI_ERR_OK && (v & 1))
				ba->attr |= pci_asAttr_e_ENABLED;
		}
		return err;
	}
	if (!pcii_be->cfg_write)
		return PCI_ERR_ENOTSUP;
	return bar_info_cfg(dev, bar, ba);
}

PCICAP_EXPORT pci_err_t pci_device_read_ba(pci_devhdl_t hv, int_t *nba, pci_ba_t *ba,
					   pci_reqType_t req)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_hdl_t *h = NULL;
	pci_err_t err = pcii_owner_get(hv, &h, NULL);
	if (err != PCI_ERR_OK)
		goto out;
	if ((!nba && !ba) || (req != pci_reqType_e_MANDATORY && req != pci_reqType_e_ADVISORY &&
			      req != pci_reqType_e_UNSPECIFIED)) {
		err = PCI_ERR_EINVAL;
		goto out;
	}
	/* as pci_device_read_irq(): no count with an array means one entry */
	int_t one = 1;
	if (!nba)
		nba = &one;
	pcii_dev_t *dev = h->dev;
	if (req == pci_reqType_e_MANDATORY) {
		/* the caller names the BARs in ba[i].bar_num */
		if (!ba || *nba < 0) {
			err = PCI_ERR_EINVAL;
			goto out;
		}
		for (int_t i = 0; i < *nba; i++) {
			int bar = ba[i].bar_num;
			pci_ba_t b;
			pci_err_t e =
			    (bar >= -1 && bar <= 5) ? pcii_bar_info(dev, bar, &b) : PCI_ERR_ENOENT;
			if (e != PCI_ERR_OK && e != PCI_ERR_ENOENT) {
				err = e;
				goto out;
			}
			if (e == PCI_ERR_ENOENT) {
				memset(&b, 0, sizeof(b));
				b.type = pci_asType_e_NONE;
				b.bar_num = bar;
			}
			ba[i] = b;
		}
		goto out;
	}
	pci_ba_t all[7];
	uint_t n = 0;
	for (int bar = 0; bar <= 6; bar++) {
		int num = bar == 6 ? -1 : bar;
		if (bar < 6 && (uint_t)bar >= nbars(dev))
			continue;
		pci_err_t e = pcii_bar_info(dev, num, &all[n]);
		if (e == PCI_ERR_OK)
			n++;
		else if (e != PCI_ERR_ENOENT) {
			err = e;
			goto out;
		}
	}
	if (!ba) {
		*nba = (int_t)n;
		goto out;
	}
	if (*nba < 0) {
		err = PCI_ERR_EINVAL;
		goto out;
	}
	for (uint_t i = 0; i < n && i < (uint_t)*nba; i++)
		ba[i] = all[i];
	fill_count(nba, n, *nba);
out:
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

static pci_err_t rom_switch(pci_devhdl_t hv, bool on)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_hdl_t *h = NULL;
	pci_ba_t rom;
	uint32_t v;
	pci_err_t err = pcii_owner_get(hv, &h, NULL);
	if (err == PCI_ERR_OK) {
		err = pcii_bar_info(h->dev, -1, &rom);
		if (err == PCI_ERR_ENOENT)
			err = PCI_ERR_ENOTSUP; /* no expansion ROM */
	}
	if (err == PCI_ERR_OK)
		err = pcii_cfg_read(h->dev, rom_reg(h->dev), 4, &v);
	if (err == PCI_ERR_OK)
		err = pcii_cfg_write(h->dev, rom_reg(h->dev), 4, on ? (v | 1) : (v & ~1u));
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT pci_err_t pci_device_rom_enable(pci_devhdl_t hdl)
{
	return rom_switch(hdl, true);
}

PCICAP_EXPORT pci_err_t pci_device_rom_disable(pci_devhdl_t hdl)
{
	return rom_switch(hdl, false);
}

PCICAP_EXPORT pci_err_t pci_device_map_as(pci_devhdl_t hv, const pci_ba_t *const as, pci_ba_t *xl)
{
	if (!as || !xl)
		return PCI_ERR_EINVAL;
	uint32_t dir = as->attr & (pci_asAttr_e_INBOUND | pci_asAttr_e_OUTBOUND);
	if (dir == 0 || dir == (pci_asAttr_e_INBOUND | pci_asAttr_e_OUTBOUND) ||
	    (as->type != pci_asType_e_MEM && as->type != pci_asType_e_IO))
		return PCI_ERR_EINVAL;
	pthread_mutex_lock(&pcii_core_lock);
	pci_err_t err;
	pcii_hdl_t *h = pcii_hdl_dev(hv, &err);
	if (h && as->addr + as->size < as->addr)
		err = PCI_ERR_EINVAL; /* wraps around */
	pthread_mutex_unlock(&pcii_core_lock);
	if (err == PCI_ERR_OK)
		*xl = *as; /* Linux and the simulator: CPU and bus addresses are the same */
	return err;
}

/* ------------------------------------------------------------- reset */

/* Offset of the register that initiates FLR and its bit, or -1. */
static int flr_register(pcii_dev_t *dev, uint32_t *bit)
{
	int off = pcii_cap_find(dev, PCII_CAPID_PCIE);
	uint32_t v;
	if (off >= 0 && pcii_cfg_read(dev, (uint_t)off + 4, 4, &v) == PCI_ERR_OK &&
	    (v & (1u << 28))) {
		*bit = 1u << 15; /* Device Control: Initiate FLR */
		return off + 8;
	}
	off = pcii_cap_find(dev, PCII_CAPID_AF);
	if (off >= 0 && pcii_cfg_read(dev, (uint_t)off + 3, 1, &v) == PCI_ERR_OK && (v & 3) == 3) {
		*bit = 1; /* AF Control: Initiate FLR */
		return off + 4;
	}
	return -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

PCICAP_EXPORT pci_err_t pci_device_reset(pci_devhdl_t hv, pci_resetType_e type)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_hdl_t *h = NULL;
	pci_err_t err = pcii_owner_get(hv, &h, NULL);
	if (err != PCI_ERR_OK)
		goto out;
	if ((int)type < (int)pci_resetType_e_BUS)
		goto out; /* no-op */
	pcii_dev_t *dev = h->dev;
	if (!pcii_own_sole(dev, h)) {
		err = PCI_ERR_ATTACH_SHARED; /* others are attached to the device */
		goto out;
	}
	uint32_t bit = 0;
	int reg = -1;
	if (type == pci_resetType_e_FUNCTION) {
		reg = flr_register(dev, &bit);
		if (reg < 0) {
			err = PCI_ERR_ENOTSUP;
			goto out;
		}
	} else if (!pcii_be->reset) {
		err = PCI_ERR_ENOTSUP;
		goto out;
	}
	if (pcii_be->reset) {
		err = pcii_be->reset(pcii_be_ctx, dev->bdf, type);
	} else {
		uint32_t v;
		uint_t width = bit == 1 ? 1 : 2;
		err = pcii_cfg_read(dev, (uint_t)reg, width, &v);
		if (err == PCI_ERR_OK)
			err = pcii_cfg_write(dev, (uint_t)reg, width, v | bit);
		/* PCIe: the function must answer 100 ms after FLR; poll up to
		 * 1 s more. The lock is let go while waiting, and the handle
		 * checked again after each wait. */
		uint32_t id = 0xFFFF;
		for (int i = 0; err == PCI_ERR_OK && i < 11; i++) {
			pthread_mutex_unlock(&pcii_core_lock);
			sleep_ms(100);
			pthread_mutex_lock(&pcii_core_lock);
			pcii_dev_t *again = NULL;
			if (pcii_hdl_dev(hv, &err) == NULL)
				goto out;
			again = pcii_hdl_get(hv)->dev;
			if (again != dev) {
				err = PCI_ERR_ENODEV;
				goto out;
			}
			if (pcii_cfg_read(dev, PCII_CFG_VID, 2, &id) == PCI_ERR_OK && id != 0xFFFF)
				break;
		}
		if (err == PCI_ERR_OK && id == 0xFFFF)
			err = PCI_ERR_DEV_NOT_AVAIL;
	}
	if (err == PCI_ERR_OK || err == PCI_ERR_DEV_NOT_AVAIL)
		pcii_caps_forget(dev); /* the reset cleared MSI/MSI-X state in the device */
	if (err == PCI_ERR_OK)
		pcii_caps_quiesce(dev); /* and the modules read it again */
out:
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

/* ------------------------------------------------- chassis, slot, type */

static pci_cs_t dev_cs(pcii_dev_t *dev)
{
	pci_cs_t cs = PCI_CS(0, 0);
	if (pcii_be->chassis_slot &&
	    pcii_be->chassis_slot(pcii_be_ctx, dev->bdf, &cs) != PCI_ERR_OK)
		cs = PCI_CS(0, 0);
	return cs;
}

PCICAP_EXPORT pci_cs_t pci_device_chassis_slot(pci_bdf_t bdf)
{
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	pci_cs_t cs = pcii_dev_get(bdf, &dev) == PCI_ERR_OK ? dev_cs(dev) : PCI_CS_NONE;
	pthread_mutex_unlock(&pcii_core_lock);
	return cs;
}

/* First device (lowest BDF) in slot @cs. Lock held. */
static pcii_dev_t *slot_device(pci_cs_t cs, pci_err_t *err)
{
	if (cs == PCI_CS_NONE || PCI_SLOT(cs) == 0) {
		*err = PCI_ERR_EINVAL;
		return NULL;
	}
	pcii_dev_t *d;
	for (size_t i = 0; (d = pcii_dev_at(i)) != NULL; i++) {
		if (dev_cs(d) == cs) {
			*err = PCI_ERR_OK;
			return d;
		}
	}
	*err = PCI_ERR_ENODEV;
	return NULL;
}

PCICAP_EXPORT pci_bdf_t pci_chassis_slot_device(pci_cs_t cs, pci_err_t *errp)
{
	pthread_mutex_lock(&pcii_core_lock);
	pci_err_t err = pcii_ready();
	pcii_dev_t *d = err == PCI_ERR_OK ? slot_device(cs, &err) : NULL;
	pci_bdf_t bdf = d ? d->bdf : PCI_BDF_NONE;
	pthread_mutex_unlock(&pcii_core_lock);
	if (errp)
		*errp = err;
	return bdf;
}

PCICAP_EXPORT pci_bdf_t pci_chassis_slot_bridge(pci_cs_t cs)
{
	pci_bdf_t res = PCI_BDF_NONE;
	pthread_mutex_lock(&pcii_core_lock);
	pci_err_t err = pcii_ready();
	pcii_dev_t *d = err == PCI_ERR_OK ? slot_device(cs, &err) : NULL;
	if (d) {
		pcii_dev_t *b;
		for (size_t i = 0; res == PCI_BDF_NONE && (b = pcii_dev_at(i)) != NULL; i++) {
			uint32_t sec;
			if ((b->hdr & 0x7F) == 1 &&
			    PCICAP_BDF_DOMAIN(b->bdf) == PCICAP_BDF_DOMAIN(d->bdf) &&
			    pcii_cfg_read(b, 0x19, 1, &sec) == PCI_ERR_OK && sec == PCI_BUS(d->bdf))
				res = b->bdf;
		}
	}
	pthread_mutex_unlock(&pcii_core_lock);
	return res;
}

PCICAP_EXPORT pci_device_type_e pci_device_get_type(pci_bdf_t bdf, uint_t *sub_type)
{
	pci_device_type_e t = pci_device_type_e_UNKNOWN;
	uint_t sub = (uint_t)-1;
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev = NULL;
	if (pcii_dev_get(bdf, &dev) == PCI_ERR_OK) {
		int off = pcii_cap_find(dev, PCII_CAPID_PCIE);
		uint32_t v;
		if (off >= 0 && pcii_cfg_read(dev, (uint_t)off + 2, 2, &v) == PCI_ERR_OK) {
			t = pci_device_type_e_PCIe;
			sub = (v >> 4) & 0xF;
		} else if ((dev->hdr & 0x7F) == 1) {
			t = pci_device_type_e_PCI_BRIDGE;
		} else if (PCI_CCODE_CLASS(dev->ccode) == 0x06 &&
			   PCI_CCODE_SUBCLASS(dev->ccode) == 0x00) {
			t = pci_device_type_e_PCI_HOST_BRIDGE;
		} else {
			t = pci_device_type_e_PCI_DEVICE;
		}
	}
	pthread_mutex_unlock(&pcii_core_lock);
	if (sub_type)
		*sub_type = sub;
	return t;
}
