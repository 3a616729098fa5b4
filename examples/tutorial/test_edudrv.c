/*
 * Unit tests of edudrv on the simulator (docs/tutorial.md): the interrupt
 * paths, a device without MSI-X, a platform short of IRQs, the cost of an
 * interrupt in device accesses, and a surprise removal. Run them where
 * edu.topo is; they select the simulator themselves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pci/pci.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

#include "edudrv.h"

#define EDU PCI_BDF(0, 4, 0) /* where edu.topo puts the device */

/* Every test starts from the devices of edu.topo and nothing else. */
static int setup(void **state)
{
	(void)state;
	pcicap_sim_clear();
	return pcicap_sim_load("edu.topo") == PCI_ERR_OK ? 0 : -1;
}

/* The device raises vector v; the driver handles it, on v's descriptor. */
static void raise_and_handle(edudrv_t *d, pci_bdf_t bdf, int v)
{
	uint64_t before = d->handled[v];
	assert_int_equal(pcicap_sim_raise(bdf, (uint_t)v), PCI_ERR_OK);
	assert_int_equal(edudrv_poll(d, 1000), PCI_ERR_OK);
	assert_int_equal(d->handled[v], before + 1);
}

/* With MSI-X each table entry has its own IRQ and file descriptor. */
static void test_msix(void **state)
{
	(void)state;
	edudrv_t d;
	assert_int_equal(edudrv_open(&d, EDU), PCI_ERR_OK);
	assert_true(d.msix);
	assert_int_equal(d.nvec, 2);
	raise_and_handle(&d, EDU, 1);
	assert_int_equal(d.handled[0], 0);
	raise_and_handle(&d, EDU, 0);
	assert_int_equal(edudrv_poll(&d, 0), PCI_ERR_EAGAIN); /* nothing else came */
	edudrv_close(&d);
}

/* The driver took MSI, one vector that cannot be masked, and it works. */
static void assert_msi(pci_bdf_t bdf)
{
	edudrv_t d;
	assert_int_equal(edudrv_open(&d, bdf), PCI_ERR_OK);
	assert_false(d.msix);
	assert_false(d.maskable);
	assert_int_equal(d.nvec, 1);
	raise_and_handle(&d, bdf, 0);
	edudrv_close(&d);
}

/* The real edu has no MSI-X: the driver falls back to MSI. */
static void test_msi_without_msix(void **state)
{
	(void)state;
	pcicap_sim_device_t edu;
	pcicap_sim_device_init(&edu);
	edu.vid = EDU_VID;
	edu.did = EDU_DID;
	edu.bar[0].size = 1024 * 1024;
	edu.msi.vectors = 1;
	edu.msi.addr64 = true;
	assert_int_equal(pcicap_sim_add_device(PCI_BDF(0, 5, 0), &edu), PCI_ERR_OK);
	assert_msi(PCI_BDF(0, 5, 0));
}

/* MSI-X wants an IRQ for each of its 2 vectors (MANDATORY); on a platform
 * with a single IRQ left the driver falls back to MSI and takes that one. */
static void test_msi_when_irqs_are_short(void **state)
{
	(void)state;
	pcicap_sim_clear();
	assert_int_equal(pcicap_sim_set_irqs(1), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_load("edu.topo"), PCI_ERR_OK);
	assert_msi(EDU);
}

/* One interrupt costs a mask (a table write and the read that flushes it),
 * the status read, the acknowledge and the unmask: 2 reads and 3 writes of
 * BAR memory, nothing in config space. */
static void test_interrupt_cost(void **state)
{
	(void)state;
	edudrv_t d;
	assert_int_equal(edudrv_open(&d, EDU), PCI_ERR_OK);
	/* the simulator's BAR 0 is plain memory: set the status edu would */
	assert_int_equal(pcicap_bar_write(d.hdl, 0, EDU_REG_STATUS, 4, 0x5), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_reset_counters(EDU), PCI_ERR_OK);
	raise_and_handle(&d, EDU, 0);
	pcicap_sim_counters_t c;
	assert_int_equal(pcicap_sim_get_counters(EDU, &c), PCI_ERR_OK);
	assert_int_equal(c.irqs_delivered, 1);
	assert_int_equal(c.bar_reads, 2);
	assert_int_equal(c.bar_writes, 3);
	assert_int_equal(c.cfg_reads + c.cfg_writes, 0);
	/* and it acknowledged what it read */
	uint32_t ack = 0;
	assert_int_equal(pcicap_sim_peek_bar(EDU, 0, EDU_REG_ACK, &ack, sizeof(ack)), PCI_ERR_OK);
	assert_int_equal(ack, 0x5);
	assert_int_equal(d.status, 0x5);
	edudrv_close(&d);
}

/* The device leaves the bus with an interrupt on its way: the driver stops
 * at its next access, closes, and works again when the device is back. */
static void test_surprise_removal(void **state)
{
	(void)state;
	edudrv_t d;
	assert_int_equal(edudrv_open(&d, EDU), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_raise(EDU, 0), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_set_removed(EDU, true), PCI_ERR_OK);
	assert_int_equal(edudrv_poll(&d, 1000), PCI_ERR_DEV_NOT_AVAIL);
	assert_int_equal(d.handled[0], 0);
	assert_int_equal(edudrv_raise(&d, 1), PCI_ERR_ENODEV);
	pci_devhdl_t hdl = d.hdl;
	edudrv_close(&d);
	assert_int_equal(pci_bdf(hdl), PCI_BDF_NONE); /* the handle is released */
	assert_int_equal(pcicap_sim_set_removed(EDU, false), PCI_ERR_OK);
	assert_int_equal(edudrv_open(&d, EDU), PCI_ERR_OK);
	assert_true(d.msix);
	raise_and_handle(&d, EDU, 0);
	edudrv_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_msix, setup),
	    cmocka_unit_test_setup(test_msi_without_msix, setup),
	    cmocka_unit_test_setup(test_msi_when_irqs_are_short, setup),
	    cmocka_unit_test_setup(test_interrupt_cost, setup),
	    cmocka_unit_test_setup(test_surprise_removal, setup),
	};
	if (pcicap_set_backend("sim") != PCI_ERR_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
