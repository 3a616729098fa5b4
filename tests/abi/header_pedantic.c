/* Every public header compiles alone, and together, as strict C99. */
#include <pci/pci.h>
#include <pci/cap_msi.h>
#include <pci/cap_msix.h>
#include <pcicap/pcicap.h>
#include <pcicap/backend.h>
#include <pcicap/cap_module.h>
#include <pcicap/irq.h>
#include <pcicap/sim.h>

/* <pcicap/pcicap.h> carries the project's version (docs/versioning.md) */
#if PCICAP_VERSION_MAJOR != PCICAP_EXPECT_MAJOR || PCICAP_VERSION_MINOR != PCICAP_EXPECT_MINOR
#error "PCICAP_VERSION_MAJOR/MINOR differ from the version in meson.build"
#endif

int main(void)
{
	pci_bdf_t bdf = PCI_BDF(1, 2, 3);
	return (PCI_BUS(bdf) == 1 && PCI_DEV(bdf) == 2 && PCI_FUNC(bdf) == 3) ? 0 : 1;
}
