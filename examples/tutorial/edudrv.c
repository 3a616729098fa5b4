/*
 * edudrv: the driver of docs/tutorial.md (see edudrv.h). Written against
 * the QNX libpci API; what Linux adds is where the interrupts come from
 * (pcicap_irq_fd) and how BAR 0 is reached (pcicap_bar_read/write).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/cap_msi.h>
#include <pci/cap_msix.h>
#include <pci/pci.h>
#include <pcicap/irq.h>
#include <pcicap/pcicap.h>

#include "edudrv.h"

/* Read capability capid of the device into d->cap. */
static pci_err_t read_cap(edudrv_t *d, pci_capid_t capid)
{
	int_t idx = pci_device_find_capid(d->bdf, capid);
	if (idx < 0)
		return PCI_ERR_ENOENT;
	d->cap = NULL;
	return pci_device_read_cap(d->bdf, &d->cap, (uint_t)idx);
}

static void drop_cap(edudrv_t *d)
{
	free(d->cap);
	d->cap = NULL;
}

/* Enable MSI-X or MSI with up to EDUDRV_MAX_VECTORS vectors: the two
 * differ only in their calls and in the request type the driver uses. */
static pci_err_t enable(edudrv_t *d, pci_capid_t capid, pci_reqType_t req)
{
	bool msix = capid == CAPID_MSIX;
	pci_err_t err = read_cap(d, capid);
	if (err != PCI_ERR_OK)
		return err;
	uint_t n = msix ? cap_msix_get_nirq(d->cap) : cap_msi_get_nirq(d->cap);
	if (n > EDUDRV_MAX_VECTORS)
		n = EDUDRV_MAX_VECTORS;
	err = msix ? cap_msix_set_nirq(d->hdl, d->cap, n) : cap_msi_set_nirq(d->hdl, d->cap, n);
	if (err == PCI_ERR_OK)
		err = pci_device_cfg_cap_enable(d->hdl, req, d->cap);
	if (err != PCI_ERR_OK) {
		drop_cap(d);
		return err;
	}
	cap_msi_mask_t bits;
	d->msix = msix;
	d->maskable = msix || cap_msi_get_irq_mask(d->hdl, d->cap, &bits) == PCI_ERR_OK;
	return PCI_ERR_OK;
}

/* Mask or unmask vector v with the calls a QNX ISR may make. */
static pci_err_t set_masked(edudrv_t *d, int v, bool masked)
{
	if (!d->maskable)
		return PCI_ERR_OK;
	if (d->msix)
		return masked ? cap_msix_mask_irq_entry_isr(d->hdl, d->cap, (uint_t)v)
			      : cap_msix_unmask_irq_entry_isr(d->hdl, d->cap, (uint_t)v);
	return masked ? cap_msi_mask_irq_entry_isr(d->hdl, d->cap, (uint_t)v)
		      : cap_msi_unmask_irq_entry_isr(d->hdl, d->cap, (uint_t)v);
}

pci_err_t edudrv_open(edudrv_t *d, pci_bdf_t bdf)
{
	memset(d, 0, sizeof(*d));
	d->bdf = bdf;
	pci_err_t err;
	d->hdl = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	if (!d->hdl)
		return err;
	/* MSI-X with an IRQ for every vector, or else MSI with what there is */
	if (enable(d, CAPID_MSIX, pci_reqType_e_MANDATORY) != PCI_ERR_OK &&
	    (err = enable(d, CAPID_MSI, pci_reqType_e_ADVISORY)) != PCI_ERR_OK)
		goto fail;
	/* the IRQs in vector order, and a file descriptor for each */
	pci_irq_t irq[EDUDRV_MAX_VECTORS];
	int_t n = EDUDRV_MAX_VECTORS;
	err = pci_device_read_irq(d->hdl, &n, irq);
	if (err != PCI_ERR_OK)
		goto fail;
	for (d->nvec = 0; d->nvec < n; d->nvec++) {
		d->fd[d->nvec] = pcicap_irq_fd(d->hdl, irq[d->nvec]);
		if (d->fd[d->nvec] < 0) {
			err = PCI_ERR_IRQ_NOT_AVAIL;
			goto fail;
		}
	}
	/* the enable left the vectors masked: unmask them, we are ready */
	for (int v = 0; v < d->nvec; v++)
		if ((err = set_masked(d, v, false)) != PCI_ERR_OK)
			goto fail;
	return PCI_ERR_OK;
fail:
	edudrv_close(d);
	return err;
}

/* One interrupt of vector v, handled as a QNX ISR would: mask, read why
 * (the status register), acknowledge it, unmask. */
static pci_err_t handle(edudrv_t *d, int v)
{
	uint64_t status = 0;
	pci_err_t err = set_masked(d, v, true);
	if (err == PCI_ERR_OK)
		err = pcicap_bar_read(d->hdl, 0, EDU_REG_STATUS, 4, &status);
	if (err == PCI_ERR_OK && status == 0xffffffff)
		err = PCI_ERR_ENODEV; /* a device that left the bus reads all ones */
	if (err == PCI_ERR_OK)
		err = pcicap_bar_write(d->hdl, 0, EDU_REG_ACK, 4, status);
	if (err == PCI_ERR_OK)
		err = set_masked(d, v, false);
	d->status |= (uint32_t)status;
	return err;
}

pci_err_t edudrv_poll(edudrv_t *d, int timeout_ms)
{
	struct pollfd p[EDUDRV_MAX_VECTORS];
	for (int v = 0; v < d->nvec; v++)
		p[v] = (struct pollfd){.fd = d->fd[v], .events = POLLIN};
	if (poll(p, (nfds_t)d->nvec, timeout_ms) <= 0)
		return PCI_ERR_EAGAIN;
	for (int v = 0; v < d->nvec; v++) {
		uint64_t n; /* interrupts since the last read */
		if (!(p[v].revents & POLLIN) || read(d->fd[v], &n, sizeof(n)) != (ssize_t)sizeof(n))
			continue;
		pci_err_t err = handle(d, v);
		if (err != PCI_ERR_OK)
			return err;
		d->handled[v] += n;
	}
	return PCI_ERR_OK;
}

pci_err_t edudrv_raise(edudrv_t *d, uint32_t status)
{
	return pcicap_bar_write(d->hdl, 0, EDU_REG_RAISE, 4, status);
}

void edudrv_close(edudrv_t *d)
{
	if (d->cap)
		pci_device_cfg_cap_disable(d->hdl, pci_reqType_e_UNSPECIFIED, d->cap);
	drop_cap(d);
	if (d->hdl)
		pci_device_detach(d->hdl);
	memset(d, 0, sizeof(*d));
}
