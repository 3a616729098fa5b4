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
	/* BAR memory through the core's services (host->bar_rd / bar_wr) */
	pci_err_t (*bar_access)(pci_cap_t cap, pci_devhdl_t hdl, int bar, uint64_t off,
				uint_t width, uint64_t *val, bool write);
	/* host->bar_info: a BAR's size */
	pci_err_t (*bar_size)(pci_cap_t cap, pci_devhdl_t hdl, int bar, uint64_t *size);
	/* host->bar_map: a live read-only view */
	pci_err_t (*bar_view)(pci_cap_t cap, pci_devhdl_t hdl, int bar, uint64_t off, uint64_t len,
			      const volatile void **p);
	/* the other services, as TESTMOD_PROBE_* bits */
	uint_t (*probe)(pci_cap_t cap, pci_devhdl_t hdl, pci_capid_t other);
	/* how often the core called the module's quiesce() */
	uint_t (*quiesced)(pci_cap_t cap);
} testmod_api_t;

#define TESTMOD_PROBE_PROGRAMS_MSGS 1u /* host->backend_programs_msgs() */
#define TESTMOD_PROBE_OTHER_ENABLED 2u /* host->cap_enabled(other) */
#define TESTMOD_PROBE_MSG_ENOTSUP   4u /* host->msg_enable/disable answer ENOTSUP */
#define TESTMOD_PROBE_PRESENT       8u /* host->present() is OK */

/* Marker byte the module writes at cap+3 on enable (and clears on disable). */
#define TESTMOD_ENABLED_MARK 0xE1
#endif
