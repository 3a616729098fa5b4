/* API table of the test capability modules built in tests/modules. */
#ifndef PCICAP_TEST_MODULE_H
#define PCICAP_TEST_MODULE_H
#include <pci/pci.h>

#define TESTMOD_API_VERSION ((pci_version_t){.major = 1, .minor = 0})

typedef struct {
	/* which module answered: 1 generic, 2 vendor/device specific */
	uint_t (*which)(pci_cap_t cap);
	/* the capability's length byte (vendor caps keep it at +2) */
	uint_t (*get_len)(pci_cap_t cap);
	/* IRQs to allocate at the next enable */
	pci_err_t (*set_nirq)(pci_cap_t cap, pci_devhdl_t hdl, uint_t nirq);
} testmod_api_t;

/* Marker byte the module writes at cap+3 on enable (and clears on disable). */
#define TESTMOD_ENABLED_MARK 0xE1
#endif
