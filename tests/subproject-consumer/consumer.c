/*
 * The consumer's program: a simulated device with MSI, enabled through the
 * MSI module, one interrupt raised and received on its IRQ's descriptor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <pci/cap_msi.h>
#include <pci/pci.h>
#include <pcicap/irq.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

int main(void)
{
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	pci_err_t err = pcicap_set_backend("sim");
	if (err == PCI_ERR_OK)
		err = pcicap_sim_load_string("device 01:00.0 vendor=0x1234 device=0x5678\n"
					     "msi vectors=1 64bit\n",
					     NULL);
	pci_devhdl_t hdl = NULL;
	if (err == PCI_ERR_OK)
		hdl = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	pci_cap_t msi = NULL;
	if (hdl)
		err = pci_device_read_cap(bdf, &msi, (uint_t)pci_device_find_capid(bdf, CAPID_MSI));
	if (err == PCI_ERR_OK)
		err = pci_device_cfg_cap_enable(hdl, pci_reqType_e_MANDATORY, msi);
	pci_irq_t irq = -1;
	int_t n = 1;
	if (err == PCI_ERR_OK)
		err = pci_device_read_irq(hdl, &n, &irq);
	if (err == PCI_ERR_OK)
		err = pcicap_sim_raise(bdf, 0);
	uint64_t count = 0;
	int fd = err == PCI_ERR_OK ? pcicap_irq_fd(hdl, irq) : -1;
	if (fd >= 0 && read(fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		count = 0;
	printf("consumer: %s, IRQ %d, %llu interrupt(s)\n", pci_strerror(err), irq,
	       (unsigned long long)count);
	free(msi);
	if (hdl)
		pci_device_detach(hdl);
	return count == 1 ? 0 : 1;
}
