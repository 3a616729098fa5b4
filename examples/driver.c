/*
 * A minimal QNX-style driver (the README's example): find a device, own
 * it, read its BARs, enable MSI when a module for it is installed.
 * Run it against the simulator: PCI_HW_MODULE=sim PCI_SIM_CONFIG=examples/demo.topo
 */
#include <stdio.h>
#include <stdlib.h>
#include <pci/pci.h>

int main(void)
{
	pci_bdf_t bdf = pci_device_find(0, 0x8086, 0x10d3, PCI_CCODE_ANY);
	pci_err_t err;
	pci_devhdl_t hdl = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	if (!hdl)
		return fprintf(stderr, "attach: %s\n", pci_strerror(err)), 1;
	pci_ba_t ba[7];
	int_t nba = 7;
	if (pci_device_read_ba(hdl, &nba, ba, pci_reqType_e_UNSPECIFIED) == PCI_ERR_OK && nba > 0)
		printf("BAR%d: %#llx, %llu bytes\n", ba[0].bar_num, (unsigned long long)ba[0].addr,
		       (unsigned long long)ba[0].size);
	pci_cap_t msi = NULL;
	err = pci_device_read_cap(bdf, &msi, (uint_t)pci_device_find_capid(bdf, 0x05));
	if (err == PCI_ERR_OK)
		err = pci_device_cfg_cap_enable(hdl, pci_reqType_e_ADVISORY, msi);
	printf("MSI enable: %s\n", pci_strerror(err));
	free(msi);
	return pci_device_detach(hdl) == PCI_ERR_OK ? 0 : 1;
}
