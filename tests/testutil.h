/* Helpers shared by the CMocka suites. */
#ifndef PCICAP_TESTUTIL_H
#define PCICAP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pci/pci.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

/* Path of a fixture file: $PCICAP_TEST_FIXTURES/<rel>. */
static inline const char *tu_fixture(const char *rel)
{
	static char buf[1024];
	const char *dir = getenv("PCICAP_TEST_FIXTURES");
	snprintf(buf, sizeof(buf), "%s/%s", dir && *dir ? dir : "fixtures", rel);
	return buf;
}

/* Attach, asserting success. */
static inline pci_devhdl_t tu_attach(pci_bdf_t bdf, pci_attachFlags_t flags)
{
	pci_err_t err;
	pci_devhdl_t h = pci_device_attach(bdf, flags, &err);
	assert_int_equal(err, PCI_ERR_OK);
	assert_non_null(h);
	return h;
}

/* Add a declarative device, asserting success. */
static inline pci_bdf_t tu_add(pci_bdf_t bdf, const pcicap_sim_device_t *d)
{
	assert_int_equal(pcicap_sim_add_device(bdf, d), PCI_ERR_OK);
	return bdf;
}

static inline pcicap_sim_counters_t tu_counters(pci_bdf_t bdf)
{
	pcicap_sim_counters_t c;
	assert_int_equal(pcicap_sim_get_counters(bdf, &c), PCI_ERR_OK);
	return c;
}

/* Config accesses (reads + writes) since the last reset of the counters. */
static inline uint64_t tu_cfg_accesses(pci_bdf_t bdf)
{
	pcicap_sim_counters_t c = tu_counters(bdf);
	return c.cfg_reads + c.cfg_writes;
}

static inline uint32_t tu_peek32(pci_bdf_t bdf, uint_t off)
{
	uint8_t b[4];
	assert_int_equal(pcicap_sim_peek_cfg(bdf, off, b, 4), PCI_ERR_OK);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint8_t tu_peek8(pci_bdf_t bdf, uint_t off)
{
	uint8_t b;
	assert_int_equal(pcicap_sim_peek_cfg(bdf, off, &b, 1), PCI_ERR_OK);
	return b;
}

/* Run @fn in a child process (a fresh backend and module cache as far as
 * @fn's first call goes); returns its exit code. */
static inline int tu_in_child(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Every test starts from an empty simulator. */
static inline int tu_setup(void **state)
{
	(void)state;
	pcicap_sim_clear();
	return 0;
}

static inline int tu_teardown(void **state)
{
	(void)state;
	pcicap_sim_clear();
	return 0;
}

#define TU_TEST(f) cmocka_unit_test_setup_teardown(f, tu_setup, tu_teardown)

static inline int tu_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
	if (pcicap_set_backend("sim") != PCI_ERR_OK) {
		fprintf(stderr, "cannot select the sim backend\n");
		return 1;
	}
	return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}
#define TU_RUN(tests) tu_run(__FILE__, tests, sizeof(tests) / sizeof((tests)[0]))

#endif
