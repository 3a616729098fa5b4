/*
 * VFIO end-to-end, MSI-X: QEMU's e1000e (8086:10d3, 82574L: 5 MSI-X
 * vectors, table in BAR3) through PCI_HW_MODULE=vfio, inside the guest.
 *
 *   e2e-e1000e [--rounds N]   5 vectors enabled through
 *                             pci_device_cfg_cap_enable; each interrupt
 *                             cause routed to its own vector (IVAR) and seen
 *                             on that IRQ's fd and no other, N rounds; the
 *                             masking the library gives on VFIO (per entry,
 *                             _isr, Function Mask, PBA); shared slots and an
 *                             unused entry; MSI refused while MSI-X is on
 *   e2e-e1000e --no-master    negative control: Bus Master cleared after the
 *                             enable, causes raised, nothing arrives
 *
 * QEMU 7.2's e1000e model sends a late duplicate message when causes come
 * back to back and aborts when MSI-X is disabled under a pending throttling
 * timer (../shared/spec/vfio-e2e.md): causes are spaced by 1 ms, fds drained,
 * and the disable waits 20 ms after the last interrupt.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pci/cap_msi.h>
#include <pci/cap_msix.h>

#include "e2e_util.h"

#define ICR  0x00C0 /* interrupt cause (write 1s to clear) */
#define ICS  0x00C8 /* cause set */
#define IMS  0x00D0 /* mask set (enable) */
#define IMC  0x00D8 /* mask clear (disable) */
#define IVAR 0x00E4 /* cause -> MSI-X vector */

#define NVEC 5
static const uint32_t cause[NVEC] = {0x00100000, 0x00200000, 0x00400000, 0x00800000, 0x4};
static const char *const cause_name[NVEC] = {"RXQ0", "RXQ1", "TXQ0", "TXQ1", "OTHER(LSC)"};

static pci_devhdl_t hdl;
static pci_cap_t cap;
static int fd[NVEC];
static int nfd;
static uint32_t last_icr; /* the causes the device showed before they were cleared */

static void program_device(void)
{
	e2e_wr32(hdl, 0, IMC, 0xFFFFFFFFu);
	e2e_wr32(hdl, 0, ICR, 0xFFFFFFFFu);
	/* RXQ0, RXQ1, TXQ0, TXQ1, OTHER -> vectors 0..4 (bit 3 of each: valid) */
	e2e_wr32(hdl, 0, IVAR, 0x8 | 0x9 << 4 | 0xA << 8 | 0xB << 12 | 0xC << 16);
	e2e_wr32(hdl, 0, IMS, 0x01F00000);
}

static void raise_cause(int v)
{
	e2e_wr32(hdl, 0, ICS, cause[v]);
	e2e_sleep_ms(1);
}

/* Which fds have interrupts after raising cause @v: bit i = fd i. */
static unsigned fired_after(int v, int wait_ms, uint64_t *count)
{
	raise_cause(v);
	unsigned set = 0;
	*count = 0;
	if (wait_ms) {
		struct pollfd p[NVEC];
		for (int i = 0; i < nfd; i++)
			p[i] = (struct pollfd){.fd = fd[i], .events = POLLIN};
		(void)poll(p, (nfds_t)nfd, wait_ms);
	}
	e2e_sleep_ms(2);
	for (int i = 0; i < nfd; i++) {
		uint64_t n = e2e_drain(fd[i]);
		if (n) {
			set |= 1u << i;
			*count += n;
		}
	}
	last_icr = e2e_rd32(hdl, 0, ICR);
	e2e_wr32(hdl, 0, ICR, 0xFFFFFFFFu);
	return set;
}

static void get_fds(int want)
{
	pci_irq_t irq[NVEC];
	int_t n = NVEC;
	CHECK_ERR(pci_device_read_irq(hdl, &n, irq), PCI_ERR_OK);
	CHECK(n == want, "read_irq gave %d IRQs, want %d", n, want);
	nfd = n > 0 && n <= NVEC ? n : 0;
	for (int i = 0; i < nfd; i++) {
		fd[i] = pcicap_irq_fd(hdl, irq[i]);
		CHECK(fd[i] >= 0, "fd of IRQ %d", irq[i]);
		for (int j = 0; j < i; j++)
			CHECK(irq[i] != irq[j], "IRQ %d reported twice", irq[i]);
	}
	char line[128] = "";
	for (int i = 0; i < nfd; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " %d", irq[i]);
	NOTE("%d IRQs:%s", nfd, line);
}

static void quiet_disable(void)
{
	e2e_wr32(hdl, 0, IMC, 0xFFFFFFFFu);
	e2e_sleep_ms(20); /* QEMU 7.2: no disable under a pending throttling timer */
	CHECK_ERR(pci_device_cfg_cap_disable(hdl, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
}

/* Every vector on its own fd, N rounds. */
static void routing(int rounds)
{
	int clean = 0, total = 0;
	for (int r = 0; r < rounds; r++)
		for (int v = 0; v < NVEC; v++) {
			uint64_t n;
			unsigned set = fired_after(v, 2000, &n);
			total++;
			clean += set == (1u << v);
			CHECK(set == (1u << v), "round %d: %s fired fds 0x%x, want only fd %d", r,
			      cause_name[v], set, v);
		}
	NOTE("routing: %d/%d causes seen on their own vector's fd and no other", clean, total);
}

static void masking(void)
{
	cap_msix_pba_t *pba = cap_msix_get_pba_ptr(hdl, cap);
	CHECK(pba != NULL, "no PBA pointer while enabled");
	uint64_t n;
	/* one entry masked: held pending, delivered once at unmask */
	CHECK_ERR(cap_msix_mask_irq_entry(hdl, cap, 2), PCI_ERR_OK);
	unsigned set = fired_after(2, 200, &n);
	CHECK(set == 0, "masked entry 2 delivered (fds 0x%x)", set);
	CHECK(pba && (pba[0] & (1u << 2)), "PBA bit 2 not set while masked");
	uint64_t pend = pba ? pba[0] : 0;
	CHECK_ERR(cap_msix_unmask_irq_entry(hdl, cap, 2), PCI_ERR_OK);
	uint64_t got = e2e_wait(fd[2], 1000);
	CHECK(got == 1, "unmask delivered %llu", (unsigned long long)got);
	CHECK(!pba || !(pba[0] & (1u << 2)), "PBA bit 2 still set after unmask");
	NOTE("entry 2 masked: cause held (PBA 0x%llx), unmask delivered %llu",
	     (unsigned long long)pend, (unsigned long long)got);
	/* the same from the _isr variants, another entry */
	CHECK_ERR(cap_msix_mask_irq_entry_isr(hdl, cap, 3), PCI_ERR_OK);
	set = fired_after(3, 200, &n);
	CHECK(set == 0, "masked (_isr) entry 3 delivered");
	CHECK_ERR(cap_msix_unmask_irq_entry_isr(hdl, cap, 3), PCI_ERR_OK);
	CHECK(e2e_wait(fd[3], 1000) == 1, "_isr unmask did not deliver");
	/* the Function Mask holds every vector */
	CHECK_ERR(cap_msix_mask_irq_all(hdl, cap), PCI_ERR_OK);
	CHECK_ERR(cap_msix_mask_irq_all(hdl, cap), PCI_ERR_EALREADY);
	unsigned held = 0;
	for (int v = 0; v < NVEC; v++)
		held |= fired_after(v, 100, &n);
	CHECK(held == 0, "Function Mask let fds 0x%x through", held);
	CHECK_ERR(cap_msix_unmask_irq_all(hdl, cap), PCI_ERR_OK);
	e2e_sleep_ms(5);
	unsigned after = 0;
	for (int v = 0; v < NVEC; v++)
		after |= e2e_drain(fd[v]) ? 1u << v : 0;
	CHECK(after == 0x1F, "Function Mask release delivered fds 0x%x, want 0x1f", after);
	NOTE("Function Mask: 5 causes held, all 5 delivered at unmask (fds 0x%x)", after);
}

/* Dispositions: entries 0,1 -> slot 0, 2,3 -> slot 1, entry 4 unused. */
static void shared_slots(void)
{
	CHECK_ERR(cap_msix_set_nirq(hdl, cap, 2), PCI_ERR_OK);
	const int_t disp[NVEC] = {0, 0, 1, 1, -1};
	for (uint_t e = 0; e < NVEC; e++)
		CHECK_ERR(cap_msix_set_irq_entry(hdl, cap, e, disp[e]), PCI_ERR_OK);
	CHECK_ERR(pci_device_cfg_cap_enable(hdl, pci_reqType_e_MANDATORY, cap), PCI_ERR_OK);
	get_fds(2);
	for (uint_t e = 0; e < 4; e++)
		CHECK_ERR(cap_msix_unmask_irq_entry(hdl, cap, e), PCI_ERR_OK);
	program_device();
	int ok = 0;
	for (int v = 0; v < NVEC; v++) {
		uint64_t n;
		unsigned set = fired_after(v, v == 4 ? 200 : 2000, &n);
		unsigned want = disp[v] < 0 ? 0 : 1u << disp[v];
		ok += set == want;
		CHECK(set == want, "%s: fds 0x%x, want 0x%x", cause_name[v], set, want);
	}
	NOTE("shared slots: entries 0,1 -> IRQ 0, 2,3 -> IRQ 1, entry 4 unused: %d/5 as expected",
	     ok);
	quiet_disable();
}

int main(int argc, char **argv)
{
	int rounds = 20;
	bool no_master = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--no-master") == 0)
			no_master = true;
	}
	e2e_name = no_master ? "e1000e-no-master" : "e1000e-msix";
	setvbuf(stdout, NULL, _IOLBF, 0);
	pci_bdf_t bdf = e2e_find("PCICAP_E2E_E1000E", 0x8086, 0x10d3);
	CHECK(bdf != PCI_BDF_NONE, "no e1000e device");
	if (bdf == PCI_BDF_NONE)
		return e2e_result();
	pci_err_t err;
	hdl = pci_device_attach(bdf, pci_attachFlags_e_OWNER, &err);
	CHECK(hdl != NULL, "attach: %s", pci_strerror(err));
	if (!hdl)
		return e2e_result();
	int_t idx = pci_device_find_capid(bdf, 0x11);
	CHECK(idx >= 0 && pci_device_read_cap(bdf, &cap, (uint_t)idx) == PCI_ERR_OK, "MSI-X cap");
	if (!cap)
		return e2e_result();
	uint_t off = pcicap_cap_offset(cap);
	CHECK(cap_msix_get_nirq(cap) == NVEC, "table size %u", cap_msix_get_nirq(cap));
	CHECK_ERR(cap_msix_set_nirq(hdl, cap, NVEC), PCI_ERR_OK);
	CHECK_ERR(pci_device_cfg_cap_enable(hdl, pci_reqType_e_MANDATORY, cap), PCI_ERR_OK);
	get_fds(NVEC);
	uint32_t ctrl = e2e_real_cfg(bdf, off + 2, 2);
	CHECK(ctrl & 0x8000, "real MSI-X control 0x%x: not enabled", ctrl);
	NOTE("MSI-X enabled: device MSI-X control 0x%04x", ctrl);

	/* MSI and MSI-X exclude each other */
	int_t midx = pci_device_find_capid(bdf, 0x05);
	pci_cap_t msi = NULL;
	if (midx >= 0 && pci_device_read_cap(bdf, &msi, (uint_t)midx) == PCI_ERR_OK) {
		CHECK_ERR(pci_device_cfg_cap_enable(hdl, pci_reqType_e_ADVISORY, msi),
			  PCI_ERR_MSIX_ENABLED);
		free(msi);
	}
	/* every entry starts masked: nothing until the driver unmasks */
	program_device();
	uint64_t n;
	unsigned set = fired_after(0, 200, &n);
	CHECK(set == 0, "an entry fired before being unmasked (fds 0x%x)", set);
	for (uint_t e = 0; e < NVEC; e++)
		CHECK_ERR(cap_msix_unmask_irq_entry(hdl, cap, e), PCI_ERR_OK);
	CHECK(e2e_wait(fd[0], 1000) == 1, "the held RXQ0 cause was not delivered at unmask");
	e2e_wr32(hdl, 0, ICR, 0xFFFFFFFFu);

	if (no_master) {
		pci_cmd_t cmd = 0;
		CHECK_ERR(pci_device_read_cmd(bdf, &cmd), PCI_ERR_OK);
		CHECK_ERR(pci_device_write_cmd(hdl, (pci_cmd_t)(cmd & ~(1u << 2)), NULL), PCI_ERR_OK);
		unsigned any = 0;
		uint64_t total = 0;
		for (int v = 0; v < NVEC; v++) {
			any |= fired_after(v, 200, &n);
			total += n;
			CHECK(last_icr & cause[v], "the device did not raise %s (ICR 0x%x)",
			      cause_name[v], last_icr);
		}
		CHECK(any == 0, "interrupts arrived without Bus Master (fds 0x%x)", any);
		NOTE("Bus Master off: 5 causes raised, %llu delivered", (unsigned long long)total);
		CHECK_ERR(pci_device_write_cmd(hdl, cmd, NULL), PCI_ERR_OK);
		quiet_disable();
	} else {
		routing(rounds);
		masking();
		quiet_disable();
		shared_slots();
	}
	int_t cnt = 0;
	CHECK_ERR(pci_device_read_irq(hdl, &cnt, NULL), PCI_ERR_OK);
	CHECK(cnt == 0, "%d IRQs after disable", cnt);
	CHECK(!(e2e_real_cfg(bdf, off + 2, 2) & 0x8000), "real MSI-X still enabled after disable");
	NOTE("disabled: device MSI-X control 0x%04x", e2e_real_cfg(bdf, off + 2, 2));
	free(cap);
	CHECK_ERR(pci_device_detach(hdl), PCI_ERR_OK);
	return e2e_result();
}
