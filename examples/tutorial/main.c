/*
 * edudrv, the program: finds the first edu device, enables its interrupts,
 * asks the device for COUNT interrupts and handles each one
 * (docs/tutorial.md). Exit status 0 when every interrupt was handled.
 *
 * Usage: edudrv [-n COUNT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

#include "edudrv.h"

int main(int argc, char **argv)
{
	int count = 10, opt;
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: edudrv [-n COUNT]\n");
			return 2;
		}
		count = atoi(optarg);
	}
	pci_bdf_t bdf = pci_device_find(0, EDU_VID, EDU_DID, PCI_CCODE_ANY);
	const char *backend = pcicap_backend_name();
	if (!backend) {
		fprintf(stderr, "edudrv: no backend could start (PCI_BASE_VERBOSITY=1 says why)\n");
		return 1;
	}
	if (bdf == PCI_BDF_NONE) {
		fprintf(stderr, "edudrv: no edu device on backend %s\n", backend);
		return 1;
	}
	edudrv_t d;
	pci_err_t err = edudrv_open(&d, bdf);
	if (err != PCI_ERR_OK) {
		fprintf(stderr, "edudrv: %s\n", pci_strerror(err));
		return 1;
	}
	printf("edudrv: %02x:%02x.%x on %s: %s, %d vector%s\n", PCI_BUS(bdf), PCI_DEV(bdf),
	       PCI_FUNC(bdf), backend, d.msix ? "MSI-X" : "MSI", d.nvec, d.nvec == 1 ? "" : "s");
	/* on the simulator nothing answers the raise register: play the device */
	int sim = strcmp(backend, "sim") == 0, handled = 0;
	for (int i = 0; i < count; i++) {
		err = edudrv_raise(&d, (uint32_t)i + 1);
		if (err == PCI_ERR_OK && sim)
			err = pcicap_sim_raise(bdf, 0);
		if (err == PCI_ERR_OK)
			err = edudrv_poll(&d, 1000);
		if (err != PCI_ERR_OK) {
			fprintf(stderr, "edudrv: interrupt %d: %s\n", i + 1, pci_strerror(err));
			break;
		}
		handled++;
	}
	printf("edudrv: %d of %d interrupts handled, status bits seen 0x%x\n", handled, count,
	       d.status);
	edudrv_close(&d);
	return handled == count ? 0 : 1;
}
