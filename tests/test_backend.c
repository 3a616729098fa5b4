/* Backend selection: PCI_HW_MODULE, pcicap_set_backend(), external
 * backends, PCI_SIM_CONFIG. Each case runs in a fresh child process,
 * since a process selects its backend once. */
#include <dirent.h>
#include <string.h>

#include "testutil.h"

static const char *ext_path(const char *name)
{
	static char buf[1024];
	const char *dir = getenv("PCICAP_TEST_BUILD_DIR");
	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : ".", name);
	return buf;
}

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static int ext_backend(void)
{
	setenv("PCI_HW_MODULE", ext_path("backend_ext.so"), 1);
	CHECK(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY) == PCI_BDF(0, 1, 0));
	CHECK(pci_device_find(1, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY) == PCI_BDF_NONE);
	CHECK(strcmp(pcicap_backend_name(), "ext-test") == 0);
	CHECK(pcicap_set_backend("sim") == PCI_ERR_EALREADY);
	CHECK(pcicap_set_backend(ext_path("backend_ext.so")) == PCI_ERR_OK); /* the one in use */
	pci_vid_t vid;
	CHECK(pci_device_read_vid(PCI_BDF(0, 1, 0), &vid) == PCI_ERR_OK && vid == 0x1ab5);
	pci_err_t err;
	pci_devhdl_t h = pci_device_attach(PCI_BDF(0, 1, 0), pci_attachFlags_OWNER, &err);
	CHECK(h != NULL);
	CHECK(pci_device_write_cmd(h, 0x0006, NULL) == PCI_ERR_OK);
	/* BARs sized through config space (the backend has no bar_info) */
	pci_ba_t ba[8];
	int_t n = 8;
	CHECK(pci_device_read_ba(h, &n, ba, pci_reqType_e_UNSPECIFIED) == PCI_ERR_OK);
	CHECK(n == 4);
	CHECK(ba[0].bar_num == 0 && ba[0].type == pci_asType_e_MEM &&
	      ba[0].addr == 0x1fe000000ULL && ba[0].size == 0x4000 &&
	      (ba[0].attr & pci_asAttr_e_BIT_MASK) == pci_asAttr_e_64BIT);
	CHECK(ba[1].bar_num == 2 && ba[1].type == pci_asType_e_IO && ba[1].addr == 0xe000 &&
	      ba[1].size == 0x20);
	CHECK(ba[2].bar_num == 3 && ba[2].addr == 0xfd000000 && ba[2].size == 0x100000 &&
	      (ba[2].attr & pci_asAttr_e_PREFETCH));
	CHECK(ba[3].bar_num == -1 && ba[3].addr == 0xfc000000 && ba[3].size == 0x10000 &&
	      (ba[3].attr & pci_asAttr_e_EXPANSION_ROM) && !(ba[3].attr & pci_asAttr_e_ENABLED));
	/* sizing restored the command word (and the BARs: read again below) */
	pci_cmd_t cmd;
	CHECK(pci_device_read_cmd(PCI_BDF(0, 1, 0), &cmd) == PCI_ERR_OK && cmd == 0x0006);
	CHECK(pci_device_rom_enable(h) == PCI_ERR_OK);
	n = 8;
	CHECK(pci_device_read_ba(h, &n, ba, pci_reqType_e_UNSPECIFIED) == PCI_ERR_OK);
	CHECK(ba[0].addr == 0x1fe000000ULL && ba[1].addr == 0xe000 && ba[2].addr == 0xfd000000);
	CHECK(ba[3].addr == 0xfc000000 && (ba[3].attr & pci_asAttr_e_ENABLED));
	CHECK(pci_device_rom_disable(h) == PCI_ERR_OK);
	/* no interrupts in this backend */
	CHECK(pci_device_read_irq(h, &n, NULL) == PCI_ERR_OK && n == 0);
	CHECK(pci_device_detach(h) == PCI_ERR_OK);
	return 0;
}

static int ext_bad_abi(void)
{
	setenv("PCI_HW_MODULE", ext_path("backend_ext_badabi.so"), 1);
	CHECK(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY) == PCI_BDF_NONE);
	pci_err_t err;
	CHECK(pci_device_attach(PCI_BDF(0, 1, 0), 0, &err) == NULL && err == PCI_ERR_MOD_COMPAT);
	CHECK(pcicap_set_backend(ext_path("backend_ext_badabi.so")) == PCI_ERR_MOD_COMPAT);
	CHECK(pcicap_backend_name() == NULL);
	/* a failed selection does not stick: another one may follow */
	CHECK(pcicap_set_backend("sim") == PCI_ERR_OK);
	return 0;
}

static int ext_no_entry(void)
{
	CHECK(pcicap_set_backend(ext_path("backend_ext_noentry.so")) == PCI_ERR_MODULE_SYM);
	CHECK(pcicap_set_backend("/nonexistent/backend.so") == PCI_ERR_NO_MODULE);
	CHECK(pcicap_set_backend("no-such-backend") == PCI_ERR_NO_MODULE);
	CHECK(pcicap_set_backend("") == PCI_ERR_EINVAL);
	CHECK(pcicap_set_backend(NULL) == PCI_ERR_EINVAL);
	CHECK(pcicap_set_backend("sim") == PCI_ERR_OK);
	CHECK(pcicap_set_backend("sim") == PCI_ERR_OK); /* the same one again is fine */
	CHECK(strcmp(pcicap_backend_name(), "sim") == 0);
	return 0;
}

static int sim_config_env(void)
{
	setenv("PCI_HW_MODULE", "sim", 1);
	setenv("PCI_SIM_CONFIG", getenv("PCICAP_DEMO_TOPOLOGY"), 1);
	CHECK(strcmp(pcicap_backend_name(), "sim") == 0);
	CHECK(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY) != PCI_BDF_NONE);
	return 0;
}

static int sim_config_bad(void)
{
	setenv("PCI_HW_MODULE", "sim", 1);
	setenv("PCI_SIM_CONFIG", "/nonexistent/topology", 1);
	CHECK(pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY) == PCI_BDF_NONE);
	CHECK(pcicap_set_backend("sim") == PCI_ERR_ENOENT);
	return 0;
}

static int default_backend(void)
{
	unsetenv("PCI_HW_MODULE");
	const char *name = pcicap_backend_name();
	CHECK(name != NULL);
	bool host = false;
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		host |= e->d_name[0] != '.';
	if (d)
		closedir(d);
#ifdef PCICAP_HAVE_PCIACCESS
	CHECK(strcmp(name, host ? "pciaccess" : "sim") == 0);
#else
	(void)host;
	CHECK(strcmp(name, "sim") == 0);
#endif
	return 0;
}

static void test_external_backend(void **state)
{
	(void)state;
	assert_int_equal(tu_in_child(ext_backend), 0);
	assert_int_equal(tu_in_child(ext_bad_abi), 0);
	assert_int_equal(tu_in_child(ext_no_entry), 0);
}

static void test_sim_config(void **state)
{
	(void)state;
	assert_int_equal(tu_in_child(sim_config_env), 0);
	assert_int_equal(tu_in_child(sim_config_bad), 0);
}

static void test_default(void **state)
{
	(void)state;
	assert_int_equal(tu_in_child(default_backend), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_external_backend),
	    cmocka_unit_test(test_sim_config),
	    cmocka_unit_test(test_default),
	};
	/* no backend selected in this process: each child picks its own */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
