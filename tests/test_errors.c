/* pci_err_t values and pci_strerror(). */
#include <errno.h>
#include <string.h>

#include "testutil.h"

static void test_values(void **state)
{
	(void)state;
	/* errno-aliased codes take Linux errno values */
	assert_int_equal(PCI_ERR_OK, 0);
	assert_int_equal(EOK, 0);
	assert_int_equal(PCI_ERR_EINVAL, 22);
	assert_int_equal(PCI_ERR_EALREADY, 114);
	assert_int_equal(PCI_ERR_ENODEV, 19);
	assert_int_equal(PCI_ERR_ENOENT, 2);
	assert_int_equal(PCI_ERR_EIO, 5);
	assert_int_equal(PCI_ERR_ENOTSUP, 95);
	assert_int_equal(PCI_ERR_ENOMEM, 12);
	assert_int_equal(PCI_ERR_EEXIST, 17);
	assert_int_equal(PCI_ERR_EAGAIN, 11);
	assert_int_equal(PCI_ERR_ENOSPC, 28);
	/* PCI-specific codes: QNX SDP 8.0 numbering */
	assert_int_equal(pci_err_t_first, 400);
	assert_int_equal(PCI_ERR_REG_UNIMPLEMENTED, 400);
	assert_int_equal(PCI_ERR_LOCK_FAILURE, 401);
	assert_int_equal(PCI_ERR_NOT_OWNER, 402);
	assert_int_equal(PCI_ERR_ATTACH_LIMIT, 403);
	assert_int_equal(PCI_ERR_ATTACH_EXCLUSIVE, 404);
	assert_int_equal(PCI_ERR_ATTACH_SHARED, 405);
	assert_int_equal(PCI_ERR_ATTACH_OWNED, 406);
	assert_int_equal(PCI_ERR_IRQ_NOT_AVAIL, 407);
	assert_int_equal(PCI_ERR_IRQ_CFG, 408);
	assert_int_equal(PCI_ERR_ASPACE_NOT_AVAIL, 409);
	assert_int_equal(PCI_ERR_ASPACE_CFG, 410);
	assert_int_equal(PCI_ERR_ASPACE_INVALID, 411);
	assert_int_equal(PCI_ERR_CAP_ENOTSUP, 412);
	assert_int_equal(PCI_ERR_CAP_NIRQ, 413);
	assert_int_equal(PCI_ERR_MSI_ENABLED, 414);
	assert_int_equal(PCI_ERR_MSIX_ENABLED, 415);
	assert_int_equal(PCI_ERR_MODULE_INIT, 416);
	assert_int_equal(PCI_ERR_MODULE_SYM, 417);
	assert_int_equal(PCI_ERR_MOD_COMPAT, 418);
	assert_int_equal(PCI_ERR_MOD_API_COMPAT, 419);
	assert_int_equal(PCI_ERR_NO_MODULE, 420);
	assert_int_equal(PCI_ERR_MODULE_NOT_ENABLED, 421);
	assert_int_equal(PCI_ERR_MODULE_BLACKLISTED, 422);
	assert_int_equal(PCI_ERR_SLOG, 423);
	assert_int_equal(PCI_ERR_SLOG_VERBOSITY, 424);
	assert_int_equal(PCI_ERR_SLOG_TYPE, 425);
	assert_int_equal(PCI_ERR_MMAP_DEV, 426);
	assert_int_equal(PCI_ERR_MMAP_MEM, 427);
	assert_int_equal(PCI_ERR_DEV_NOT_AVAIL, 428);
	assert_int_equal(PCI_ERR_PCIe_LINK_RETRAIN, 429);
	assert_int_equal(PCI_ERR_PCIe_LINK_NOT_ACTIVE, 430);
	assert_int_equal(PCI_ERR_CFG_ACCESS, 431);
	assert_int_equal(PCI_ERR_NTB_DOMAIN_NOT_AVAIL, 432);
	assert_int_equal(PCI_ERR_NTB_RESOURCE_BUSY, 433);
	assert_int_equal(PCI_ERR_NTB_RESOURCE_CONFIG, 434);
	assert_int_equal(PCI_ERR_SERVER_STATE_EXITING, 435);
	assert_int_equal(PCI_ERR_SERVER_STATE_IDLE, 436);
	assert_int_equal(PCI_ERR_SERVER_NOT_AVAILABLE, 437);
	assert_int_equal(PCI_ERR_SERVER_ID_IN_USE, 438);
	assert_int_equal(PCI_ERR_SEGMENTATION_NOT_SUPPORTED, 439);
	assert_int_equal(PCI_ERR_ADDRESS_TRANSLATION, 440);
	assert_int_equal(pci_err_t_last, 441);
}

static void test_strerror_every_code(void **state)
{
	(void)state;
	const int errno_codes[] = {0,       EINVAL, EALREADY, ENODEV, ENOENT, EIO,
				   ENOTSUP, ENOMEM, EEXIST,   EAGAIN, ENOSPC};
	const char *unknown = pci_strerror((pci_err_t)-12345);
	assert_non_null(unknown);
	assert_true(strlen(unknown) > 0);
	for (size_t i = 0; i < sizeof(errno_codes) / sizeof(errno_codes[0]); i++) {
		const char *s = pci_strerror((pci_err_t)errno_codes[i]);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, unknown);
	}
	for (int e = pci_err_t_first; e < pci_err_t_last; e++) {
		const char *s = pci_strerror((pci_err_t)e);
		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, unknown);
		/* texts are distinct */
		for (int f = pci_err_t_first; f < e; f++)
			assert_string_not_equal(s, pci_strerror((pci_err_t)f));
	}
}

static void test_strerror_out_of_range(void **state)
{
	(void)state;
	const int bad[] = {-1, 1, 399, 441, 442, 1000, 0x7fffffff, (int)0x80000000};
	const char *unknown = pci_strerror((pci_err_t)-1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(pci_strerror((pci_err_t)bad[i]), unknown);
	/* static storage: the same pointer every time */
	assert_ptr_equal(pci_strerror(PCI_ERR_NOT_OWNER), pci_strerror(PCI_ERR_NOT_OWNER));
}

static void test_layouts(void **state)
{
	(void)state;
	assert_int_equal(sizeof(pci_version_t), 4);
	assert_int_equal(sizeof(struct _pci_cap), 16);
	assert_int_equal(offsetof(struct _pci_cap, api_p), 8);
	assert_int_equal(sizeof(pci_ba_t), 32);
	assert_int_equal(sizeof(pci_bdf_t), 4);
	assert_int_equal(pci_reqType_e_MANDATORY, 100);
	assert_int_equal(pci_reqType_e_ADVISORY, 101);
	assert_int_equal(pci_reqType_e_UNSPECIFIED, 102);
	assert_int_equal(pci_attachFlags_OWNER, 2);
	assert_int_equal(pci_attachFlags_MULTI_OWNER, 6);
	assert_int_equal(pci_attachFlags_EXCLUSIVE_OWNER, 3);
	assert_int_equal(pci_attachFlags_DEFAULT, 2);
	assert_int_equal(pci_attachFlags_e_FULL_CONFIG_ACCESS, 0x10);
	assert_int_equal(pci_asAttr_e_OUTBOUND, 1 << 23);
	assert_int_equal(pci_resetType_e_PERST, 8);
	assert_int_equal(pci_device_type_e_PCI_HOST_BRIDGE, 103);
}

static void test_macros(void **state)
{
	(void)state;
	pci_bdf_t b = PCI_BDF(0x12, 0x1f, 7);
	assert_int_equal(b, 0x12ff);
	assert_int_equal(PCI_BUS(b), 0x12);
	assert_int_equal(PCI_DEV(b), 0x1f);
	assert_int_equal(PCI_FUNC(b), 7);
	assert_false(PCI_IS_ARI(b));
	assert_int_equal(PCI_BDF(0x1ff, 0x3f, 0xf), PCI_BDF(0xff, 0x1f, 7)); /* masked */
	pci_bdf_t a = PCI_BDF_ARI(3, 0x85);
	assert_true(PCI_IS_ARI(a));
	assert_int_equal(PCI_BUS(a), 3);
	assert_int_equal(PCI_DEV(a), 0);
	assert_int_equal(PCI_FUNC(a), 0x85);
	assert_true(PCI_IS_ARI(PCI_BDF_NONE));
	assert_int_equal(PCI_BDF_RID(PCICAP_BDF(5, 1, 2, 3)), PCI_BDF(1, 2, 3));
	assert_int_equal(PCICAP_BDF_DOMAIN(PCICAP_BDF(0x7ffe, 1, 2, 3)), 0x7ffe);
	assert_int_equal(PCICAP_BDF(0, 1, 2, 3), PCI_BDF(1, 2, 3));
	pci_ccode_t cc = PCI_CCODE(0x02, 0x00, 0x01);
	assert_int_equal(cc, 0x020001);
	assert_int_equal(PCI_CCODE_CLASS(cc), 2);
	assert_int_equal(PCI_CCODE_SUBCLASS(cc), 0);
	assert_int_equal(PCI_CCODE_REG_IF(cc), 1);
	assert_int_equal(PCI_CCODE_ANY, 0xffffff);
	pci_cs_t cs = PCI_CS(5, 1234);
	assert_int_equal(PCI_CHASSIS(cs), 5);
	assert_int_equal(PCI_SLOT(cs), 1234);
	assert_int_equal(PCI_CS_NONE, 0xffff);
	int arr[7];
	assert_int_equal(NELEMENTS(arr), 7);
}

static int log_calls;
static pcicap_log_level_t log_level;
static char log_msg[512];

static void log_handler(pcicap_log_level_t level, const char *msg, void *arg)
{
	*(int *)arg += 1;
	log_calls++;
	log_level = level;
	snprintf(log_msg, sizeof(log_msg), "%s", msg);
}

static void test_logging(void **state)
{
	(void)state;
	int arg = 0;
	pci_err_t err;
	pcicap_set_log_handler(log_handler, &arg);
	/* silent by default */
	pci_verbosity = 0;
	assert_null(pci_device_attach(PCI_BDF(0, 0, 0), 0x4000, &err));
	assert_int_equal(err, PCI_ERR_EINVAL);
	assert_int_equal(log_calls, 0);
	/* caller misuse is reported at the error level once asked for */
	pci_verbosity = PCICAP_LOG_ERROR;
	assert_null(pci_device_attach(PCI_BDF(0, 0, 0), 0x4000, &err));
	assert_int_equal(log_calls, 1);
	assert_int_equal(arg, 1);
	assert_int_equal(log_level, PCICAP_LOG_ERROR);
	assert_non_null(strstr(log_msg, "bad flags"));
	pcicap_set_log_handler(NULL, NULL);
	pci_verbosity = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_strerror_every_code),
	    cmocka_unit_test(test_strerror_out_of_range),
	    cmocka_unit_test(test_layouts),
	    cmocka_unit_test(test_macros),
	    cmocka_unit_test(test_logging),
	};
	return TU_RUN(tests);
}
