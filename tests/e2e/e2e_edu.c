/*
 * VFIO end-to-end, MSI: QEMU's "edu" device (1234:11e8, one MSI vector,
 * no per-vector masking) through PCI_HW_MODULE=vfio, inside the guest.
 *
 *   e2e-edu [--rounds N]      MSI enabled through pci_device_cfg_cap_enable,
 *                             N interrupts from the raise register, the
 *                             factorial-done interrupt, DMA through the IOMMU
 *                             both ways with its completion interrupts, then
 *                             disable; plus the error for an unbound device
 *   e2e-edu --no-master       negative control: Bus Master cleared after the
 *                             enable, the device raises, nothing arrives
 *   e2e-edu --attach-fails N  the owner attach must fail with pci_err_t N
 *                             (a platform VFIO refuses, e.g. without
 *                             interrupt remapping: PCI_ERR_IRQ_CFG, 408)
 *
 * edu's registers (BAR0): 0x00 ID, 0x04 liveness (reads ~written), 0x08
 * factorial, 0x20 status (0x80: interrupt when the factorial is done), 0x24
 * interrupt status, 0x60 raise, 0x64 acknowledge, 0x80/0x88/0x90/0x98 DMA
 * source, destination, count, command (1 start, 2 device-to-RAM, 4 raise);
 * its DMA buffer is at device address 0x40000.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pci/cap_msi.h>

#include "e2e_util.h"

#define EDU_ID      0x00
#define EDU_LIVE    0x04
#define EDU_FACT    0x08
#define EDU_STATUS  0x20
#define EDU_ISR     0x24
#define EDU_RAISE   0x60
#define EDU_ACK     0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_BUF 0x40000u

static pci_devhdl_t hdl;

static void ack(void)
{
	uint32_t s = e2e_rd32(hdl, 0, EDU_ISR);
	e2e_wr32(hdl, 0, EDU_ACK, s);
}

/* A device that is not bound to vfio-pci is refused with a clear error. */
static void unbound_device(void)
{
	for (uint_t i = 0;; i++) {
		pci_bdf_t b = pci_device_find(i, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY);
		if (b == PCI_BDF_NONE)
			break;
		char drv[64];
		if (pcicap_device_driver(b, drv, sizeof(drv)) == PCI_ERR_OK &&
		    strcmp(drv, "vfio-pci") == 0)
			continue;
		pci_err_t err;
		pci_devhdl_t h = pci_device_attach(b, pci_attachFlags_e_OWNER, &err);
		CHECK(h == NULL && err == PCI_ERR_ENOTSUP,
		      "owner attach of %x (not on vfio-pci) gave %d (%s), want ENOTSUP", b, (int)err,
		      pci_strerror(err));
		if (h)
			pci_device_detach(h);
		NOTE("unbound device %x refused: %s", b, pci_strerror(err));
		return;
	}
	CHECK(false, "no device without vfio-pci found in the guest");
}

static void dma_round_trip(int fd)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *buf = aligned_alloc((size_t)pg, (size_t)pg);
	CHECK(buf != NULL, "no memory");
	if (!buf)
		return;
	for (long i = 0; i < pg / 2; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	memset(buf + pg / 2, 0, (size_t)pg / 2);
	uint64_t iova = 0;
	pci_err_t err = pcicap_dma_map(hdl, buf, (size_t)pg, &iova);
	CHECK(err == PCI_ERR_OK, "dma_map: %s", pci_strerror(err));
	if (err == PCI_ERR_OK) {
		const uint32_t n = 256;
		/* RAM -> device buffer, interrupt at completion */
		e2e_wr32(hdl, 0, EDU_DMA_SRC, (uint32_t)iova);
		e2e_wr32(hdl, 0, EDU_DMA_DST, EDU_DMA_BUF);
		e2e_wr32(hdl, 0, EDU_DMA_CNT, n);
		e2e_wr32(hdl, 0, EDU_DMA_CMD, 1 | 4);
		CHECK(e2e_wait(fd, 3000) >= 1, "no interrupt after the DMA to the device");
		ack();
		/* device buffer -> RAM at the upper half */
		e2e_wr32(hdl, 0, EDU_DMA_SRC, EDU_DMA_BUF);
		e2e_wr32(hdl, 0, EDU_DMA_DST, (uint32_t)(iova + (uint64_t)pg / 2));
		e2e_wr32(hdl, 0, EDU_DMA_CNT, n);
		e2e_wr32(hdl, 0, EDU_DMA_CMD, 1 | 2 | 4);
		CHECK(e2e_wait(fd, 3000) >= 1, "no interrupt after the DMA to RAM");
		ack();
		CHECK(memcmp(buf, buf + pg / 2, n) == 0, "DMA copy differs");
		NOTE("DMA through the IOMMU at IOVA 0x%llx: %u bytes there and back, %s, 2 completion "
		     "interrupts",
		     (unsigned long long)iova, n, memcmp(buf, buf + pg / 2, n) ? "DIFFERENT" : "equal");
		CHECK_ERR(pcicap_dma_unmap(hdl, iova, (size_t)pg), PCI_ERR_OK);
		CHECK_ERR(pcicap_dma_unmap(hdl, iova, (size_t)pg), PCI_ERR_EINVAL);
	}
	free(buf);
}

int main(int argc, char **argv)
{
	int rounds = 100, attach_fails = 0;
	bool no_master = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--attach-fails") == 0 && i + 1 < argc)
			attach_fails = atoi(argv[++i]);
		else if (strcmp(argv[i], "--no-master") == 0)
			no_master = true;
	}
	e2e_name = no_master ? "edu-no-master" : "edu-msi";
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(strcmp(pcicap_backend_name(), "vfio") == 0, "backend is %s", pcicap_backend_name());
	pci_bdf_t bdf = e2e_find("PCICAP_E2E_EDU", 0x1234, 0x11e8);
	CHECK(bdf != PCI_BDF_NONE, "no edu device");
	if (bdf == PCI_BDF_NONE)
		return e2e_result();
	pci_err_t err;
	if (attach_fails) {
		e2e_name = "edu-attach-refused";
		hdl = pci_device_attach(bdf, pci_attachFlags_e_OWNER, &err);
		CHECK(hdl == NULL && (int)err == attach_fails, "attach gave %d (%s), want %d", (int)err,
		      pci_strerror(err), attach_fails);
		NOTE("owner attach refused: %d (%s)", (int)err, pci_strerror(err));
		/* nothing was left open: the refusal repeats, reads still work */
		CHECK(pci_device_attach(bdf, pci_attachFlags_e_OWNER, &err) == NULL &&
			  (int)err == attach_fails,
		      "second attach gave %d", (int)err);
		pci_cmd_t cmd;
		CHECK_ERR(pci_device_read_cmd(bdf, &cmd), PCI_ERR_OK);
		return e2e_result();
	}
	if (!no_master)
		unbound_device();

	hdl = pci_device_attach(bdf, pci_attachFlags_e_OWNER, &err);
	CHECK(hdl != NULL, "attach: %s", pci_strerror(err));
	if (!hdl)
		return e2e_result();
	CHECK(e2e_rd32(hdl, 0, EDU_ID) == 0x010000edu, "edu ID");
	e2e_wr32(hdl, 0, EDU_LIVE, 0x12345678);
	CHECK(e2e_rd32(hdl, 0, EDU_LIVE) == ~0x12345678u, "edu liveness");

	int_t idx = pci_device_find_capid(bdf, 0x05);
	pci_cap_t cap = NULL;
	CHECK(idx >= 0 && pci_device_read_cap(bdf, &cap, (uint_t)idx) == PCI_ERR_OK, "MSI cap");
	if (!cap)
		return e2e_result();
	uint_t off = pcicap_cap_offset(cap);
	CHECK(cap_msi_get_nirq(cap) == 1, "edu has %u MSI vectors", cap_msi_get_nirq(cap));
	CHECK_ERR(pci_device_cfg_cap_enable(hdl, pci_reqType_e_MANDATORY, cap), PCI_ERR_OK);
	CHECK_ERR(pci_device_cfg_cap_enable(hdl, pci_reqType_e_MANDATORY, cap), PCI_ERR_EALREADY);
	pci_irq_t irq = -1;
	int_t nirq = 1;
	CHECK_ERR(pci_device_read_irq(hdl, &nirq, &irq), PCI_ERR_OK);
	CHECK(nirq == 1, "read_irq gave %d", nirq);
	int fd = pcicap_irq_fd(hdl, irq);
	CHECK(fd >= 0, "irq fd: %s", strerror(errno));
	/* what the device itself holds: MSI on, a message programmed by the kernel */
	uint32_t ctrl = e2e_real_cfg(bdf, off + 2, 2);
	CHECK(ctrl & 1, "real MSI control 0x%x: not enabled", ctrl);
	NOTE("MSI enabled: IRQ %d, fd %d; device MSI control 0x%04x, address 0x%08x", irq, fd, ctrl,
	     e2e_real_cfg(bdf, off + 4, 4));
	/* no per-vector masking on edu: the mask calls say so */
	CHECK_ERR(cap_msi_mask_irq_entry(hdl, cap, 0), PCI_ERR_ENOTSUP);
	pci_cmd_t cmd = 0;
	CHECK_ERR(pci_device_read_cmd(bdf, &cmd), PCI_ERR_OK);
	CHECK(cmd & (1u << 2), "Bus Master not set by the enable (command 0x%x)", cmd);

	if (no_master) {
		CHECK_ERR(pci_device_write_cmd(hdl, (pci_cmd_t)(cmd & ~(1u << 2)), NULL), PCI_ERR_OK);
		uint64_t got = 0;
		for (int i = 0; i < 5; i++) {
			e2e_wr32(hdl, 0, EDU_RAISE, 0x1000u + (uint32_t)i);
			got += e2e_wait(fd, 200);
			CHECK(e2e_rd32(hdl, 0, EDU_ISR) != 0, "edu did not raise");
			ack();
		}
		CHECK(got == 0, "%llu interrupts arrived without Bus Master", (unsigned long long)got);
		NOTE("Bus Master off: 5 raised by the device, %llu delivered", (unsigned long long)got);
		CHECK_ERR(pci_device_write_cmd(hdl, cmd, NULL), PCI_ERR_OK);
	} else {
		/* 1. the raise register, N times */
		int seen = 0;
		double t0 = e2e_now_us(), worst = 0;
		for (int i = 0; i < rounds; i++) {
			double t = e2e_now_us();
			e2e_wr32(hdl, 0, EDU_RAISE, 0x1000u + (uint32_t)i);
			uint64_t n = e2e_wait(fd, 2000);
			double dt = e2e_now_us() - t;
			worst = dt > worst ? dt : worst;
			seen += n >= 1;
			CHECK(e2e_rd32(hdl, 0, EDU_ISR) == 0x1000u + (uint32_t)i, "edu status");
			ack();
		}
		CHECK(seen == rounds, "%d of %d raised interrupts seen", seen, rounds);
		NOTE("raise register: %d/%d interrupts on the IRQ fd, %.0f us average, %.0f us worst",
		     seen, rounds, (e2e_now_us() - t0) / (rounds ? rounds : 1), worst);
		/* 2. device-initiated: the factorial's completion */
		e2e_wr32(hdl, 0, EDU_STATUS, 0x80);
		e2e_wr32(hdl, 0, EDU_FACT, 10);
		CHECK(e2e_wait(fd, 3000) >= 1, "no factorial interrupt");
		CHECK(e2e_rd32(hdl, 0, EDU_FACT) == 3628800, "10! is wrong");
		ack();
		e2e_wr32(hdl, 0, EDU_STATUS, 0);
		NOTE("factorial done interrupt: 10! = %u", e2e_rd32(hdl, 0, EDU_FACT));
		/* 3. DMA through the emulated IOMMU, completion interrupts */
		dma_round_trip(fd);
		CHECK(e2e_drain(fd) == 0, "stray interrupts");
	}

	CHECK_ERR(pci_device_cfg_cap_disable(hdl, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	CHECK_ERR(pci_device_cfg_cap_disable(hdl, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_EALREADY);
	nirq = 0;
	CHECK_ERR(pci_device_read_irq(hdl, &nirq, NULL), PCI_ERR_OK);
	CHECK(nirq == 0, "%d IRQs after disable", nirq);
	CHECK(pcicap_irq_fd(hdl, irq) < 0, "the IRQ fd outlived the disable");
	CHECK(!(e2e_real_cfg(bdf, off + 2, 2) & 1), "real MSI still enabled after disable");
	NOTE("disabled: device MSI control 0x%04x", e2e_real_cfg(bdf, off + 2, 2));
	free(cap);
	CHECK_ERR(pci_device_detach(hdl), PCI_ERR_OK);
	return e2e_result();
}
