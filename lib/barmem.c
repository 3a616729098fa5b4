/*
 * Driver access to device memory: BAR reads and writes and DMA mappings
 * (extensions in <pcicap/pcicap.h>). On QNX a driver maps BARs with
 * mmap_device_memory() and DMA buffers with mmap(MAP_PHYS); on Linux
 * userspace neither reaches a device, so these go through the backend
 * (VFIO regions and the IOMMU, the simulator's BAR memory).
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>
#include <unistd.h>

#include "core.h"

/* Size of BAR @bar (0 when it is not implemented), cached. Lock held. */
static pci_err_t bar_size(pcii_dev_t *dev, int bar, uint64_t *size)
{
	if (!(dev->bar_sized & (1u << bar))) {
		pci_ba_t ba;
		pci_err_t err = pcii_bar_info(dev, bar, &ba);
		if (err == PCI_ERR_ENOENT)
			ba.size = 0;
		else if (err != PCI_ERR_OK)
			return err;
		dev->bar_size[bar] = ba.size;
		dev->bar_sized |= (uint8_t)(1u << bar);
	}
	*size = dev->bar_size[bar];
	return PCI_ERR_OK;
}

/* Where the MSI-X table and PBA live (read-only registers), cached. */
static void msix_windows(pcii_dev_t *dev)
{
	if (dev->msix_win_known)
		return;
	dev->msix_win_bar[0] = dev->msix_win_bar[1] = -1;
	uint32_t ctrl, reg[2];
	pci_err_t err = pcii_caps_walk(dev); /* PCI_ERR_EIO: the entries before the break */
	for (uint_t i = 0; (err == PCI_ERR_OK || err == PCI_ERR_EIO) && i < dev->caps.n; i++) {
		const pcii_capent_t *e = &dev->caps.e[i];
		if (e->id != PCII_CAPID_MSIX || pcii_cfg_read(dev, e->off + 2, 2, &ctrl) ||
		    pcii_cfg_read(dev, e->off + 4, 4, &reg[0]) ||
		    pcii_cfg_read(dev, e->off + 8, 4, &reg[1]))
			continue;
		pcii_msix_layout_t l = pcii_msix_layout(ctrl, reg[0], reg[1]);
		for (int w = 0; w < 2; w++) {
			dev->msix_win_bar[w] = l.bir[w];
			dev->msix_win_off[w] = l.off[w];
			dev->msix_win_len[w] = l.len[w];
		}
		break;
	}
	dev->msix_win_known = true;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Everything a BAR access checks, under the core lock. */
static pci_err_t bar_check(pci_devhdl_t hv, int bar, uint64_t off, uint_t width, bool write,
			   pci_bdf_t *bdf)
{
	pcii_hdl_t *h;
	pcii_dev_t *dev;
	pci_err_t err = pcii_owner_get(hv, &h, &dev);
	if (err != PCI_ERR_OK)
		return err;
	if (bar < 0 || bar > 5 || (width != 1 && width != 2 && width != 4 && width != 8) ||
	    off % width)
		return PCI_ERR_EINVAL;
	if (write ? !pcii_be->bar_write : !pcii_be->bar_read)
		return PCI_ERR_ENOTSUP;
	uint64_t size;
	if ((err = bar_size(dev, bar, &size)) != PCI_ERR_OK)
		return err;
	if (size == 0)
		return PCI_ERR_ENOENT;
	if (off >= size || width > size - off)
		return PCI_ERR_EINVAL;
	if (write && !(h->flags & pci_attachFlags_e_FULL_CONFIG_ACCESS)) {
		msix_windows(dev);
		for (int w = 0; w < 2; w++)
			if (dev->msix_win_bar[w] == bar &&
			    overlaps(off, width, dev->msix_win_off[w], dev->msix_win_len[w]))
				return PCI_ERR_CFG_ACCESS;
	}
	*bdf = dev->bdf;
	return PCI_ERR_OK;
}

PCICAP_EXPORT pci_err_t pcicap_bar_read(pci_devhdl_t hdl, int bar, uint64_t off, uint_t width,
					uint64_t *val)
{
	if (!val)
		return PCI_ERR_EINVAL;
	pci_bdf_t bdf = 0;
	pthread_mutex_lock(&pcii_core_lock);
	pci_err_t err = bar_check(hdl, bar, off, width, false, &bdf);
	pthread_mutex_unlock(&pcii_core_lock);
	if (err != PCI_ERR_OK)
		return err;
	uint8_t b[8] = {0};
	err = pcii_be->bar_read(pcii_be_ctx, bdf, bar, off, b, width);
	if (err == PCI_ERR_OK)
		*val = pcii_le_get(b, width);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_bar_write(pci_devhdl_t hdl, int bar, uint64_t off, uint_t width,
					 uint64_t val)
{
	pci_bdf_t bdf = 0;
	pthread_mutex_lock(&pcii_core_lock);
	pci_err_t err = bar_check(hdl, bar, off, width, true, &bdf);
	pthread_mutex_unlock(&pcii_core_lock);
	if (err != PCI_ERR_OK)
		return err;
	if (width < 8 && (val >> (8 * width)))
		return PCI_ERR_EINVAL;
	uint8_t b[8];
	pcii_le_put(b, width, val);
	return pcii_be->bar_write(pcii_be_ctx, bdf, bar, off, b, width);
}

static bool page_aligned(uint64_t v)
{
	long pg = sysconf(_SC_PAGESIZE);
	return pg > 0 && v % (uint64_t)pg == 0;
}

PCICAP_EXPORT pci_err_t pcicap_dma_map(pci_devhdl_t hdl, void *va, size_t len, uint64_t *iova)
{
	if (!va || !iova || len == 0 || !page_aligned((uintptr_t)va) || !page_aligned(len))
		return PCI_ERR_EINVAL;
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev;
	pci_err_t err = pcii_owner_get(hdl, NULL, &dev);
	if (err == PCI_ERR_OK && !pcii_be->dma_map)
		err = PCI_ERR_ENOTSUP;
	if (err == PCI_ERR_OK)
		err = pcii_be->dma_map(pcii_be_ctx, dev->bdf, va, len, iova);
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT pci_err_t pcicap_dma_unmap(pci_devhdl_t hdl, uint64_t iova, size_t len)
{
	if (len == 0 || !page_aligned(iova) || !page_aligned(len))
		return PCI_ERR_EINVAL;
	pthread_mutex_lock(&pcii_core_lock);
	pcii_dev_t *dev;
	pci_err_t err = pcii_owner_get(hdl, NULL, &dev);
	if (err == PCI_ERR_OK && !pcii_be->dma_unmap)
		err = PCI_ERR_ENOTSUP;
	if (err == PCI_ERR_OK)
		err = pcii_be->dma_unmap(pcii_be_ctx, dev->bdf, iova, len);
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}
