/* The two read-only inspection calls pcicap-tool relies on:
 * pcicap_device_cfg_read() and pcicap_device_driver(), on the simulator. */
#include <string.h>

#include "../testutil.h"

static pci_bdf_t dev_a; /* 256-byte endpoint with MSI */
static pci_bdf_t dev_b; /* PCIe endpoint (4096 bytes) with MSI-X */

static int setup(void **state)
{
	pcicap_sim_clear();
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 4;
	d.msi.addr64 = true;
	d.msi.maskable = true;
	dev_a = tu_add(PCI_BDF(1, 0, 0), &d);
	pcicap_sim_device_init(&d);
	d.pcie = true;
	d.msix.entries = 8;
	d.msix.pba_off = 0x800;
	dev_b = tu_add(PCICAP_BDF(2, 3, 0, 1), &d);
	return 0;
}

static void reads_header_and_beyond(void **state)
{
	uint8_t got[4096], want[4096];
	for (int k = 0; k < 2; k++) {
		pci_bdf_t b = k ? dev_b : dev_a;
		uint_t size = pcicap_device_cfg_size(b);
		assert_int_equal(size, k ? 4096 : 256);
		assert_int_equal(pcicap_device_cfg_read(b, 0, got, size), PCI_ERR_OK);
		assert_int_equal(pcicap_sim_peek_cfg(b, 0, want, size), PCI_ERR_OK);
		assert_memory_equal(got, want, size);
		/* unaligned start and length */
		memset(got, 0xAA, sizeof(got));
		assert_int_equal(pcicap_device_cfg_read(b, 3, got, 7), PCI_ERR_OK);
		assert_memory_equal(got, want + 3, 7);
		assert_int_equal(got[7], 0xAA);
		/* the last byte, and empty reads at both ends */
		assert_int_equal(pcicap_device_cfg_read(b, size - 1, got, 1), PCI_ERR_OK);
		assert_int_equal(got[0], want[size - 1]);
		assert_int_equal(pcicap_device_cfg_read(b, 0, got, 0), PCI_ERR_OK);
		assert_int_equal(pcicap_device_cfg_read(b, size, got, 0), PCI_ERR_OK);
	}
}

static void reads_only(void **state)
{
	uint8_t buf[256];
	/* the first lookup identifies the device (its own reads): before counting */
	assert_int_equal(pcicap_device_cfg_read(dev_a, 0, buf, 4), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_reset_counters(dev_a), PCI_ERR_OK);
	assert_int_equal(pcicap_device_cfg_read(dev_a, 0, buf, 256), PCI_ERR_OK);
	pcicap_sim_counters_t c = tu_counters(dev_a);
	assert_int_equal(c.cfg_writes, 0);
	assert_int_equal(c.cfg_reads, 64); /* one aligned dword read each */
}

static void bad_arguments(void **state)
{
	uint8_t buf[8];
	assert_int_equal(pcicap_device_cfg_read(dev_a, 0, NULL, 4), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_cfg_read(dev_a, 0, NULL, 0), PCI_ERR_OK);
	assert_int_equal(pcicap_device_cfg_read(dev_a, 254, buf, 4), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_cfg_read(dev_a, 257, buf, 0), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_cfg_read(dev_a, 0xFFFFFFFFu, buf, 2), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_cfg_read(dev_a, 4, buf, 0xFFFFFFFFu), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_cfg_read(PCI_BDF(9, 9, 1), 0, buf, 4), PCI_ERR_ENODEV);
}

static void failed_access(void **state)
{
	uint8_t buf[16];
	assert_int_equal(pcicap_device_cfg_read(dev_a, 0, buf, 4), PCI_ERR_OK); /* identified */
	assert_int_equal(pcicap_sim_fail_access(dev_a, 2, PCI_ERR_EIO), PCI_ERR_OK);
	assert_int_equal(pcicap_device_cfg_read(dev_a, 0, buf, 16), PCI_ERR_EIO);
	assert_int_equal(pcicap_device_cfg_read(dev_a, 0, buf, 16), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_set_removed(dev_a, true), PCI_ERR_OK);
	assert_int_not_equal(pcicap_device_cfg_read(dev_a, 0, buf, 4), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_set_removed(dev_a, false), PCI_ERR_OK);
}

static void driver_on_sim(void **state)
{
	char name[32] = "x";
	assert_int_equal(pcicap_device_driver(dev_a, name, sizeof(name)), PCI_ERR_ENOENT);
	assert_string_equal(name, "");
	assert_int_equal(pcicap_device_driver(dev_a, NULL, 4), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_driver(dev_a, name, 0), PCI_ERR_EINVAL);
	assert_int_equal(pcicap_device_driver(PCI_BDF(9, 9, 1), name, sizeof(name)),
			 PCI_ERR_ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(reads_header_and_beyond, setup),
		cmocka_unit_test_setup(reads_only, setup),
		cmocka_unit_test_setup(bad_arguments, setup),
		cmocka_unit_test_setup(failed_access, setup),
		cmocka_unit_test_setup(driver_on_sim, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
