/*
 * pcicap-demo: load a simulated topology and list every device with its
 * capabilities, through the QNX libpci API.
 *
 * Usage: pcicap-demo [topology-file]   (default: examples/demo.topo)
 */
#include <stdio.h>
#include <stdlib.h>

#include <pci/pci.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

static const char *cap_name(pci_capid_t id)
{
	switch (id) {
	case 0x01: return "Power Management";
	case 0x03: return "Vital Product Data";
	case 0x04: return "Slot Identification";
	case 0x05: return "MSI";
	case 0x09: return "Vendor Specific";
	case 0x0d: return "Subsystem ID (bridge)";
	case 0x10: return "PCI Express";
	case 0x11: return "MSI-X";
	case 0x12: return "SATA";
	case 0x13: return "Advanced Features";
	default: return "?";
	}
}

static const char *xcap_name(uint16_t id)
{
	switch (id) {
	case 0x0001: return "Advanced Error Reporting";
	case 0x0002: return "Virtual Channel";
	case 0x0003: return "Device Serial Number";
	case 0x0004: return "Power Budgeting";
	case 0x000b: return "Vendor Specific";
	case 0x000d: return "Access Control Services";
	case 0x000e: return "Alternative Routing-ID";
	case 0x000f: return "Address Translation Services";
	case 0x0010: return "SR-IOV";
	case 0x0019: return "Secondary PCI Express";
	default: return "?";
	}
}

int main(int argc, char **argv)
{
	const char *topo = argc > 1 ? argv[1] : "examples/demo.topo";
	pci_err_t err = pcicap_set_backend("sim");
	if (err == PCI_ERR_OK)
		err = pcicap_sim_load(topo);
	if (err != PCI_ERR_OK) {
		fprintf(stderr, "pcicap-demo: cannot load %s: %s\n", topo, pci_strerror(err));
		return 1;
	}
	pci_bdf_t bdf;
	for (uint_t i = 0;
	     (bdf = pci_device_find(i, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY)) != PCI_BDF_NONE;
	     i++) {
		pci_vid_t vid = 0;
		pci_did_t did = 0;
		pci_ccode_t cc = 0;
		pci_revid_t rev = 0;
		pci_device_read_vid(bdf, &vid);
		pci_device_read_did(bdf, &did);
		pci_device_read_ccode(bdf, &cc);
		pci_device_read_revid(bdf, &rev);
		printf("%04x:%02x:%02x.%x [%04x:%04x] class %06x rev %02x, %u bytes of config\n",
		       PCICAP_BDF_DOMAIN(bdf), PCI_BUS(bdf), PCI_DEV(bdf), PCI_FUNC(bdf), vid, did,
		       cc, rev, pcicap_device_cfg_size(bdf));
		pci_capid_t id;
		uint_t off;
		uint_t k;
		for (k = 0; (err = pci_device_read_capid(bdf, &id, k)) == PCI_ERR_OK; k++) {
			pcicap_device_cap_offset(bdf, k, &off);
			printf("  [%02x] cap 0x%02x %s\n", off, id, cap_name(id));
		}
		if (err != PCI_ERR_ENOENT)
			printf("  capability list: %s\n", pci_strerror(err));
		uint16_t xid;
		uint8_t ver;
		for (k = 0; (err = pcicap_device_read_xcap(bdf, k, &xid, &ver, &off)) == PCI_ERR_OK;
		     k++)
			printf("  [%03x] ext cap 0x%04x v%u %s\n", off, xid, ver, xcap_name(xid));
		if (err != PCI_ERR_ENOENT)
			printf("  extended capability list: %s\n", pci_strerror(err));
	}
	return 0;
}
