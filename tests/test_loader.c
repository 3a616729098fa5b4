/* Capability modules: loading, errors, blacklist, pci_cap_t objects,
 * enable/disable/isenabled dispatch, quiesce and detach. Uses the test
 * modules of tests/modules (PCI_CAP_MODULE_DIR points there). */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <string.h>

#include <pcicap/irq.h>

#include "modules/test_module.h"
#include "testutil.h"

#define VIRTIO_SPECIFIC PCI_BDF(0, 1, 0)    /* 1af4:1045: pci_cap-0x09-1af41045.so */
#define VIRTIO_GENERIC  PCI_BDF(0, 2, 0)    /* 1af4:1042: pci_cap-0x09.so */
#define ICH10           PCI_BDF(0, 0x1f, 2) /* MSI (enabled), PM, SATA, AF */
#define I82576          PCI_BDF(1, 0, 0)    /* PM, MSI, MSI-X, PCIe */

static void load_all(void)
{
	assert_int_equal(pcicap_sim_add_dump(tu_fixture("dumps/local-firecracker-virtio-vm.txt")),
			 PCI_ERR_OK);
	assert_int_equal(pcicap_sim_add_dump(tu_fixture("dumps/intel-ich10-ahci.txt")), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_add_dump(tu_fixture("dumps/intel-82576-nic.txt")), PCI_ERR_OK);
}

static const testmod_api_t *api(pci_cap_t cap)
{
	return (const testmod_api_t *)cap->api_p;
}

static void test_generic_and_specific(void **state)
{
	(void)state;
	load_all();
	pci_cap_t a = NULL, b = NULL;
	assert_int_equal(pci_device_read_cap(VIRTIO_SPECIFIC, &a, 0), PCI_ERR_OK);
	assert_int_equal(pci_device_read_cap(VIRTIO_GENERIC, &b, 0), PCI_ERR_OK);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(api(a)->which(a), 2);
	assert_int_equal(api(b)->which(b), 1);
	assert_int_equal(a->api_version.major, 1);
	assert_int_equal(a->api_version.minor, 0);
	/* the module read the vendor capability's length byte */
	assert_int_equal(api(b)->get_len(b), tu_peek8(VIRTIO_GENERIC, 0x40 + 2));
	assert_int_equal(pcicap_cap_offset(b), 0x40);
	pci_cap_t c = NULL;
	assert_int_equal(pci_device_read_cap(VIRTIO_GENERIC, &c, 4), PCI_ERR_OK);
	assert_int_equal(pcicap_cap_offset(c), 0x84);
	assert_int_equal(api(c)->get_len(c), tu_peek8(VIRTIO_GENERIC, 0x84 + 2));
	free(a); /* plain free(), as QNX drivers do */
	free(b);
	free(c);
}

static void test_module_errors(void **state)
{
	(void)state;
	load_all();
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(ICH10, &cap, 2), PCI_ERR_NO_MODULE); /* SATA 0x12 */
	assert_null(cap);
	assert_int_equal(pci_device_read_cap(ICH10, &cap, 1), PCI_ERR_MOD_COMPAT); /* PM: bad ABI */
	assert_null(cap);
	assert_int_equal(pci_device_read_cap(I82576, &cap, 3),
			 PCI_ERR_MODULE_SYM); /* PCIe: no entry */
	assert_null(cap);
	assert_int_equal(pci_device_read_cap(I82576, &cap, 2),
			 PCI_ERR_MOD_COMPAT); /* MSI-X: wrong capid */
	assert_null(cap);
	assert_int_equal(pci_device_read_cap(I82576, &cap, 4), PCI_ERR_ENOENT);
	assert_int_equal(pci_device_read_cap(PCI_BDF(9, 0, 0), &cap, 0), PCI_ERR_ENODEV);
	assert_int_equal(pci_device_read_cap(I82576, NULL, 0), PCI_ERR_EINVAL);
	/* a non-NULL *cap that is not ours is refused and left alone */
	struct _pci_cap fake = {{1, 0}, 0, NULL};
	pci_cap_t fp = &fake;
	assert_int_equal(pci_device_read_cap(VIRTIO_GENERIC, &fp, 0), PCI_ERR_EINVAL);
	assert_ptr_equal(fp, &fake);
}

static int which_at(pci_bdf_t bdf, pci_err_t *err)
{
	pci_cap_t cap = NULL;
	*err = pci_device_read_cap(bdf, &cap, 0);
	int w = cap ? (int)api(cap)->which(cap) : 0;
	free(cap);
	return w;
}

/* PCI_MODULE_BLACKLIST with the modules' exact paths (a bare name means
 * the default module directory, and these modules are elsewhere). */
static void blacklist(const char *names)
{
	char buf[2048] = "";
	const char *dir = getenv("PCI_CAP_MODULE_DIR");
	while (*names) {
		const char *end = strchr(names, ':');
		size_t len = end ? (size_t)(end - names) : strlen(names);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s/%.*s", *buf ? ":" : "", dir,
			 (int)len, names);
		names += len + (end ? 1 : 0);
	}
	setenv("PCI_MODULE_BLACKLIST", buf, 1);
}

static int bl_specific_falls_back(void)
{
	pci_err_t err;
	blacklist("foo.so:pci_cap-0x09-1af41045.so");
	return which_at(VIRTIO_SPECIFIC, &err) == 1 && err == PCI_ERR_OK ? 0 : 1;
}

static int bl_both(void)
{
	pci_err_t err;
	blacklist("pci_cap-0x09-1af41045.so:pci_cap-0x09.so");
	return which_at(VIRTIO_SPECIFIC, &err) == 0 && err == PCI_ERR_MODULE_BLACKLISTED &&
			       which_at(VIRTIO_GENERIC, &err) == 0 &&
			       err == PCI_ERR_MODULE_BLACKLISTED
		       ? 0
		       : 1;
}

static int bl_bare_names(void)
{
	pci_err_t err;
	/* bare names block modules of the default directory only */
	setenv("PCI_MODULE_BLACKLIST", "pci_cap-0x09-1af41045.so:pci_cap-0x09.so", 1);
	return which_at(VIRTIO_SPECIFIC, &err) == 2 && err == PCI_ERR_OK ? 0 : 1;
}

static int bl_other_path(void)
{
	pci_err_t err;
	/* a path elsewhere does not block */
	setenv("PCI_MODULE_BLACKLIST", "/nonexistent/pci_cap-0x09.so", 1);
	return which_at(VIRTIO_GENERIC, &err) == 1 && err == PCI_ERR_OK ? 0 : 2;
}

static int bl_after_load(void)
{
	pci_err_t err;
	unsetenv("PCI_MODULE_BLACKLIST");
	if (which_at(VIRTIO_GENERIC, &err) != 1)
		return 1;
	/* once loaded, the list is not consulted again */
	blacklist("pci_cap-0x09.so");
	return which_at(VIRTIO_GENERIC, &err) == 1 && err == PCI_ERR_OK ? 0 : 2;
}

static int missing_dir(void)
{
	pci_err_t err;
	setenv("PCI_CAP_MODULE_DIR", "/nonexistent-pcicap-dir", 1);
	return which_at(VIRTIO_GENERIC, &err) == 0 && err == PCI_ERR_NO_MODULE ? 0 : 1;
}

static void test_blacklist_and_search_path(void **state)
{
	(void)state;
	load_all();
	assert_int_equal(tu_in_child(bl_specific_falls_back), 0);
	assert_int_equal(tu_in_child(bl_both), 0);
	assert_int_equal(tu_in_child(bl_bare_names), 0);
	assert_int_equal(tu_in_child(bl_other_path), 0);
	assert_int_equal(tu_in_child(bl_after_load), 0);
	assert_int_equal(tu_in_child(missing_dir), 0);
}

static void test_reread(void **state)
{
	(void)state;
	load_all();
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(VIRTIO_GENERIC, &cap, 0), PCI_ERR_OK);
	pci_cap_t first = cap;
	/* re-reading with the same module keeps the object: copies stay valid */
	assert_int_equal(pci_device_read_cap(VIRTIO_GENERIC, &cap, 0), PCI_ERR_OK);
	assert_ptr_equal(cap, first);
	assert_int_equal(api(cap)->which(cap), 1);
	/* re-reading another capability of another module replaces it */
	assert_int_equal(pci_device_read_cap(VIRTIO_SPECIFIC, &cap, 0), PCI_ERR_OK);
	assert_int_equal(api(cap)->which(cap), 2);
	/* a failed re-read destroys the object: the caller starts again from NULL */
	assert_int_equal(pci_device_read_cap(VIRTIO_GENERIC, &cap, 9), PCI_ERR_ENOENT);
	assert_null(cap);
	assert_int_equal(pci_device_read_cap(VIRTIO_GENERIC, &cap, 0), PCI_ERR_OK);
	free(cap);
}

static void test_enable_disable(void **state)
{
	(void)state;
	load_all();
	pci_bdf_t bdf = VIRTIO_GENERIC;
	pci_cap_t cap = NULL, other = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, 0), PCI_ERR_OK);
	assert_int_equal(pci_device_read_cap(VIRTIO_SPECIFIC, &other, 0), PCI_ERR_OK);
	pci_devhdl_t sh = tu_attach(bdf, pci_attachFlags_e_SHARED);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	/* argument checks come first and change nothing */
	assert_int_equal(pci_device_cfg_cap_enable(NULL, pci_reqType_e_UNSPECIFIED, cap),
			 PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, NULL),
			 PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_cap_enable(h, (pci_reqType_t)7, cap), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, other),
			 PCI_ERR_EINVAL);
	struct {
		struct _pci_cap pub;
		char tail[64];
	} forged;
	memcpy(&forged, cap, sizeof(forged.pub));
	memset(forged.tail, 0, sizeof(forged.tail));
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, &forged.pub),
			 PCI_ERR_EINVAL);
	assert_int_equal(pci_device_cfg_cap_enable(sh, pci_reqType_e_UNSPECIFIED, cap),
			 PCI_ERR_NOT_OWNER);
	assert_int_not_equal(tu_peek8(bdf, 0x43), TESTMOD_ENABLED_MARK);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));

	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_MANDATORY, cap), PCI_ERR_OK);
	assert_int_equal(tu_peek8(bdf, 0x43), TESTMOD_ENABLED_MARK);
	assert_true(pci_device_cfg_cap_isenabled(h, cap));
	assert_true(pci_device_cfg_cap_isenabled(sh, cap));
	assert_false(pci_device_cfg_cap_isenabled(h, other));
	assert_false(pci_device_cfg_cap_isenabled(NULL, cap));
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_ADVISORY, cap),
			 PCI_ERR_EALREADY);
	assert_int_equal(pci_device_cfg_cap_disable(sh, pci_reqType_e_UNSPECIFIED, cap),
			 PCI_ERR_NOT_OWNER);
	/* a new pci_cap_t for the same capability sees the same state */
	pci_cap_t again = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &again, 0), PCI_ERR_OK);
	assert_true(pci_device_cfg_cap_isenabled(h, again));
	assert_int_equal(pci_device_cfg_cap_disable(h, pci_reqType_e_UNSPECIFIED, again),
			 PCI_ERR_OK);
	assert_int_equal(tu_peek8(bdf, 0x43), 0);
	assert_int_equal(pci_device_cfg_cap_disable(h, pci_reqType_e_UNSPECIFIED, cap),
			 PCI_ERR_EALREADY);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));
	/* a device that went away */
	assert_int_equal(pcicap_sim_set_removed(bdf, true), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap),
			 PCI_ERR_ENODEV);
	assert_int_equal(pcicap_sim_set_removed(bdf, false), PCI_ERR_OK);
	/* a failed enable (the device faults) leaves it disabled */
	assert_int_equal(pcicap_sim_fail_access(bdf, 1, PCI_ERR_EIO), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_EIO);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
	free(other);
	free(again);
}

static void test_detach_disables(void **state)
{
	(void)state;
	load_all();
	pci_bdf_t bdf = VIRTIO_GENERIC;
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, 0), PCI_ERR_OK);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_MULTI_OWNER);
	pci_devhdl_t h2 = tu_attach(bdf, pci_attachFlags_MULTI_OWNER);
	assert_int_equal(api(cap)->set_nirq(cap, h, 2), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	free(cap); /* drivers free it right after enabling */
	assert_int_equal(tu_peek8(bdf, 0x43), TESTMOD_ENABLED_MARK);
	/* another owner's detach leaves it alone */
	assert_int_equal(pci_device_detach(h2), PCI_ERR_OK);
	assert_int_equal(tu_peek8(bdf, 0x43), TESTMOD_ENABLED_MARK);
	/* the enabling handle's detach disables it and frees its IRQs */
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(tu_peek8(bdf, 0x43), 0);
	/* all 64 IRQs of the pool are free again */
	h = tu_attach(bdf, pci_attachFlags_OWNER);
	cap = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, 0), PCI_ERR_OK);
	assert_int_equal(api(cap)->set_nirq(cap, h, 32), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	int_t n = 0;
	assert_int_equal(pci_device_read_irq(h, &n, NULL), PCI_ERR_OK);
	assert_int_equal(n, 32);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static void test_irqs(void **state)
{
	(void)state;
	load_all();
	pci_bdf_t bdf = VIRTIO_GENERIC;
	assert_int_equal(pcicap_sim_set_irqs(4), PCI_ERR_OK);
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, 0), PCI_ERR_OK);
	pci_devhdl_t sh = tu_attach(bdf, pci_attachFlags_e_SHARED);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	int_t n = -5;
	pci_irq_t irqs[8];
	/* nothing enabled: no IRQs */
	assert_int_equal(pci_device_read_irq(h, &n, NULL), PCI_ERR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pci_device_read_irq(h, NULL, irqs), PCI_ERR_IRQ_NOT_AVAIL);
	/* more than the pool has: the enable fails and changes nothing */
	assert_int_equal(api(cap)->set_nirq(cap, h, 5), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap),
			 PCI_ERR_IRQ_NOT_AVAIL);
	assert_false(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_not_equal(tu_peek8(bdf, 0x43), TESTMOD_ENABLED_MARK);
	/* arguments swapped: the handle is not a capability object */
	assert_int_equal(api(cap)->set_nirq((pci_cap_t)sh, (pci_devhdl_t)cap, 3), PCI_ERR_EINVAL);
	assert_int_equal(api(cap)->set_nirq(cap, sh, 3), PCI_ERR_NOT_OWNER);
	assert_int_equal(api(cap)->set_nirq(cap, h, 3), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	/* the conventions of pci_device_read_irq() */
	assert_int_equal(pci_device_read_irq(h, &n, NULL), PCI_ERR_OK);
	assert_int_equal(n, 3);
	n = 8;
	assert_int_equal(pci_device_read_irq(h, &n, irqs), PCI_ERR_OK);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(irqs[i] >= 256 && irqs[i] < 256 + 4);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(irqs[i], irqs[j]);
	}
	pci_irq_t two[2] = {-1, -1};
	n = 2;
	assert_int_equal(pci_device_read_irq(h, &n, two), PCI_ERR_OK);
	assert_int_equal(n, -1); /* one did not fit */
	assert_int_equal(two[0], irqs[0]);
	assert_int_equal(two[1], irqs[1]);
	pci_irq_t one = -1;
	assert_int_equal(pci_device_read_irq(h, NULL, &one), PCI_ERR_OK);
	assert_int_equal(one, irqs[0]);
	n = -1;
	assert_int_equal(pci_device_read_irq(h, &n, irqs), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_read_irq(h, NULL, NULL), PCI_ERR_EINVAL);
	assert_int_equal(pci_device_read_irq(sh, &n, NULL), PCI_ERR_NOT_OWNER);
	/* an fd per IRQ, for the IRQs the device holds */
	int fd = pcicap_irq_fd(h, irqs[0]);
	assert_true(fd >= 0);
	assert_int_equal(pcicap_irq_fd(h, irqs[0]), fd);
	errno = 0;
	assert_int_equal(pcicap_irq_fd(h, 12345), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(pcicap_irq_fd(NULL, irqs[0]), -1);
	assert_int_equal(errno, EINVAL);
	/* disable releases them */
	assert_int_equal(pci_device_cfg_cap_disable(h, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	assert_int_equal(pci_device_read_irq(h, &n, NULL), PCI_ERR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pcicap_irq_fd(h, irqs[0]), -1);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

/* The whole interrupt path through the core: IRQs from the backend, kept by
 * the core for pci_device_read_irq(), waited on through pcicap_irq_fd(),
 * delivered by the simulator from the message programmed in the device. */
static void test_irq_delivery(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 1;
	d.msi.addr64 = true;
	pci_bdf_t bdf = tu_add(PCI_BDF(2, 0, 0), &d);
	int_t idx = pci_device_find_capid(bdf, 0x05);
	assert_true(idx >= 0);
	uint_t off;
	assert_int_equal(pcicap_device_cap_offset(bdf, (uint_t)idx, &off), PCI_ERR_OK);
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, (uint_t)idx),
			 PCI_ERR_OK); /* test module 0x05 */
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER | pci_attachFlags_e_FULL_CONFIG_ACCESS);
	assert_int_equal(api(cap)->set_nirq(cap, h, 1), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_MANDATORY, cap), PCI_ERR_OK);
	pci_irq_t irq;
	int_t n = 1;
	assert_int_equal(pci_device_read_irq(h, &n, &irq), PCI_ERR_OK);
	assert_int_equal(n, 1);
	int fd = pcicap_irq_fd(h, irq);
	assert_true(fd >= 0);
	/* program the device with the IRQ's message, as an MSI module would */
	uint64_t addr;
	uint32_t data;
	assert_int_equal(pcicap_sim_irq_msg(irq, &addr, &data), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_wr32(h, off + 4, (uint32_t)addr, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_wr32(h, off + 8, (uint32_t)(addr >> 32), NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_wr16(h, off + 12, (uint16_t)data, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_wr16(h, off + 2, 0x0081, NULL), PCI_ERR_OK); /* enable */
	assert_int_equal(pci_device_write_cmd(h, 0x0406, NULL), PCI_ERR_OK); /* bus master */
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0); /* nothing yet */
	assert_int_equal(pcicap_sim_raise(bdf, 0), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_raise(bdf, 0), PCI_ERR_OK);
	assert_int_equal(poll(&p, 1, 1000), 1);
	uint64_t count = 0;
	assert_int_equal(read(fd, &count, sizeof(count)), sizeof(count));
	assert_true(count == 2);
	assert_true(pcicap_sim_irq_count(irq) == 2);
	assert_int_equal(poll(&p, 1, 0), 0); /* reading cleared it */
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

/* The core's services to modules: BAR access, BAR info and views, probes. */
static void test_host_services(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 2;
	d.bar[3].kind = PCICAP_SIM_BAR_MEM32;
	d.bar[3].size = 0x4000;
	d.msix.entries = 4;
	d.msix.table_bir = 3;
	d.msix.table_off = 0;
	d.msix.pba_bir = 3;
	d.msix.pba_off = 0x2000;
	pci_bdf_t bdf = tu_add(PCI_BDF(2, 0, 0), &d);
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, (uint_t)pci_device_find_capid(bdf, 0x05)),
			 PCI_ERR_OK);
	pci_devhdl_t sh = tu_attach(bdf, pci_attachFlags_e_SHARED);
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER);
	const testmod_api_t *a = api(cap);
	/* the MSI-X table's entry 0 starts masked; its address is writable */
	uint64_t v = 0;
	pcicap_sim_reset_counters(bdf);
	assert_int_equal(a->bar_access(cap, h, 3, 12, 4, &v, false), PCI_ERR_OK);
	assert_true(v == 1);
	v = 0xfee01000;
	assert_int_equal(a->bar_access(cap, h, 3, 0, 4, &v, true), PCI_ERR_OK);
	pcicap_sim_counters_t c = tu_counters(bdf);
	assert_true(c.bar_reads == 1 && c.bar_writes == 1);
	uint32_t word;
	assert_int_equal(pcicap_sim_peek_bar(bdf, 3, 0, &word, 4), PCI_ERR_OK);
	assert_int_equal(word, 0xfee01000);
	v = 0;
	assert_int_equal(a->bar_access(cap, h, 3, 0, 8, &v, false), PCI_ERR_OK);
	assert_true(v == 0xfee01000);
	/* bad widths, alignment and BARs are refused by the core */
	assert_int_equal(a->bar_access(cap, h, 3, 0, 3, &v, false), PCI_ERR_EINVAL);
	assert_int_equal(a->bar_access(cap, h, 3, 2, 4, &v, false), PCI_ERR_EINVAL);
	assert_int_equal(a->bar_access(cap, h, 6, 0, 4, &v, false), PCI_ERR_EINVAL);
	assert_int_equal(a->bar_access(cap, h, -1, 0, 4, &v, false), PCI_ERR_EINVAL);
	assert_int_equal(a->bar_access(cap, sh, 3, 0, 4, &v, false), PCI_ERR_NOT_OWNER);
	uint64_t size = 0;
	assert_int_equal(a->bar_size(cap, h, 3, &size), PCI_ERR_OK);
	assert_true(size == 0x4000);
	assert_int_equal(a->bar_size(cap, h, 1, &size), PCI_ERR_ENOENT);
	assert_int_equal(a->bar_size(cap, h, 9, &size), PCI_ERR_EINVAL);
	const volatile void *p = NULL;
	assert_int_equal(a->bar_view(cap, h, 3, 0x2000, 8, &p), PCI_ERR_OK);
	assert_non_null(p);
	assert_true(*(const volatile uint64_t *)p == 0); /* the PBA: nothing pending */
	/* probes: the simulator lets modules program messages; nothing else enabled */
	assert_int_equal(a->probe(cap, h, 0x11), TESTMOD_PROBE_MSG_ENOTSUP | TESTMOD_PROBE_PRESENT);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	assert_int_equal(a->probe(cap, h, 0x05), TESTMOD_PROBE_OTHER_ENABLED |
						     TESTMOD_PROBE_MSG_ENOTSUP |
						     TESTMOD_PROBE_PRESENT);
	assert_int_equal(pcicap_sim_set_hold_off(bdf, true), PCI_ERR_OK);
	assert_int_equal(a->probe(cap, h, 0x11), TESTMOD_PROBE_MSG_ENOTSUP);
	assert_int_equal(pcicap_sim_set_hold_off(bdf, false), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static void test_always_enabled(void **state)
{
	(void)state;
	load_all();
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(ICH10, &cap, 3), PCI_ERR_OK); /* AF 0x13 */
	pci_devhdl_t h = tu_attach(ICH10, pci_attachFlags_OWNER);
	assert_true(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_MANDATORY, cap),
			 PCI_ERR_EALREADY);
	assert_int_equal(pci_device_cfg_cap_disable(h, pci_reqType_e_UNSPECIFIED, cap),
			 PCI_ERR_ENOTSUP);
	assert_true(pci_device_cfg_cap_isenabled(h, cap));
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static void test_quiesce_on_first_owner(void **state)
{
	(void)state;
	load_all();
	/* the ICH10 dump was taken with MSI enabled (Message Control 0x0009 at 0x82) */
	assert_int_equal(tu_peek8(ICH10, 0x82) & 1, 1);
	pci_devhdl_t sh = tu_attach(ICH10, pci_attachFlags_e_SHARED);
	assert_int_equal(tu_peek8(ICH10, 0x82) & 1, 1); /* a shared attach touches nothing */
	pci_devhdl_t o1 = tu_attach(ICH10, pci_attachFlags_MULTI_OWNER);
	assert_int_equal(tu_peek8(ICH10, 0x82) & 1, 0);       /* the first owner quiesces */
	assert_int_equal(tu_peek8(ICH10, 0x82) & 0x8e, 0x08); /* the other bits are kept */
	pcicap_sim_reset_counters(ICH10);
	pci_devhdl_t o2 = tu_attach(ICH10, pci_attachFlags_MULTI_OWNER);
	assert_int_equal(tu_counters(ICH10).cfg_writes, 0); /* a second owner does not */
	assert_int_equal(pci_device_detach(o1), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(o2), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
}

static int quiesce_without_modules(void)
{
	/* no module at all: the core quiesces by itself */
	setenv("PCI_CAP_MODULE_DIR", "/nonexistent-pcicap-dir", 1);
	if (pcicap_sim_add_dump(tu_fixture("dumps/intel-ich10-ahci.txt")) != PCI_ERR_OK)
		return 1;
	uint8_t ctrl;
	pci_err_t err;
	pci_devhdl_t h = pci_device_attach(ICH10, pci_attachFlags_OWNER, &err);
	if (!h || pcicap_sim_peek_cfg(ICH10, 0x82, &ctrl, 1) != PCI_ERR_OK || (ctrl & 1))
		return 2;
	return pci_device_detach(h) == PCI_ERR_OK ? 0 : 3;
}

static void test_quiesce_msix_and_modules(void **state)
{
	(void)state;
	assert_int_equal(tu_in_child(quiesce_without_modules), 0);
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 1;
	d.bar[2].kind = PCICAP_SIM_BAR_MEM32;
	d.bar[2].size = 0x1000;
	d.msix.entries = 3;
	d.msix.table_bir = 2;
	d.msix.table_off = 0;
	d.msix.pba_bir = 2;
	d.msix.pba_off = 0x800;
	pci_bdf_t bdf = tu_add(PCI_BDF(2, 0, 0), &d);
	uint_t msix;
	assert_int_equal(pcicap_device_cap_offset(bdf, (uint_t)pci_device_find_capid(bdf, 0x11), &msix),
			 PCI_ERR_OK);
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, (uint_t)pci_device_find_capid(bdf, 0x05)),
			 PCI_ERR_OK);
	/* an earlier user left MSI-X enabled with entry 1 unmasked */
	pci_devhdl_t h = tu_attach(bdf, pci_attachFlags_OWNER | pci_attachFlags_e_FULL_CONFIG_ACCESS);
	assert_int_equal(api(cap)->quiesced(cap), 1);
	uint64_t v = 0;
	assert_int_equal(api(cap)->bar_access(cap, h, 2, 16 + 12, 4, &v, true), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_wr16(h, msix + 2, 0x8002, NULL), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	/* the next first owner finds it quiet */
	h = tu_attach(bdf, pci_attachFlags_OWNER);
	uint8_t ctrl[2];
	assert_int_equal(pcicap_sim_peek_cfg(bdf, msix + 2, ctrl, 2), PCI_ERR_OK);
	assert_int_equal(ctrl[1] & 0xC0, 0); /* enable and function mask off */
	for (int i = 0; i < 3; i++) {
		uint32_t vc;
		assert_int_equal(pcicap_sim_peek_bar(bdf, 2, 16u * i + 12, &vc, 4), PCI_ERR_OK);
		assert_int_equal(vc & 1, 1); /* every entry masked */
	}
	assert_int_equal(api(cap)->quiesced(cap), 2); /* the loaded module was told */
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static void test_failed_disable_at_detach(void **state)
{
	(void)state;
	load_all();
	pci_bdf_t bdf = VIRTIO_GENERIC;
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(bdf, &cap, 0), PCI_ERR_OK);
	pci_devhdl_t h1 = tu_attach(bdf, pci_attachFlags_MULTI_OWNER);
	pci_devhdl_t h2 = tu_attach(bdf, pci_attachFlags_MULTI_OWNER | pci_attachFlags_e_FULL_CONFIG_ACCESS);
	/* MSI-X (at 0x98) live, as a driver would have it */
	assert_int_equal(pci_device_cfg_wr16(h2, 0x9a, 0x8001, NULL), PCI_ERR_OK);
	pci_devhdl_t h4 = tu_attach(bdf, pci_attachFlags_MULTI_OWNER);
	assert_int_equal(tu_peek8(bdf, 0x9b) & 0x80, 0x80); /* joining owners do not quiesce */
	assert_int_equal(pci_device_detach(h4), PCI_ERR_OK);
	assert_int_equal(api(cap)->set_nirq(cap, h1, 2), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h1, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	int_t n = 0;
	assert_int_equal(pci_device_read_irq(h2, &n, NULL), PCI_ERR_OK);
	assert_int_equal(n, 2);
	/* the device faults during the disable that detach does */
	assert_int_equal(pcicap_sim_fail_access(bdf, 1, PCI_ERR_EIO), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h1), PCI_ERR_OK);
	/* the IRQs went back to the pool: nobody reports them any more */
	assert_int_equal(pci_device_read_irq(h2, &n, NULL), PCI_ERR_OK);
	assert_int_equal(n, 0);
	assert_false(pci_device_cfg_cap_isenabled(h2, cap));
	/* and the next owner quiesces although another owner is attached */
	pci_devhdl_t h3 = tu_attach(bdf, pci_attachFlags_MULTI_OWNER);
	assert_int_equal(tu_peek8(bdf, 0x9b) & 0x80, 0);
	assert_int_equal(pci_device_detach(h3), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h2), PCI_ERR_OK);
	free(cap);
}

static void test_cap_of_vanished_device(void **state)
{
	(void)state;
	load_all();
	pci_cap_t cap = NULL;
	assert_int_equal(pci_device_read_cap(VIRTIO_GENERIC, &cap, 0), PCI_ERR_OK);
	pcicap_sim_clear();
	load_all();
	/* same address, new device: the old object is not valid for it */
	pci_devhdl_t h = tu_attach(VIRTIO_GENERIC, pci_attachFlags_OWNER);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_UNSPECIFIED, cap),
			 PCI_ERR_EINVAL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    /* first: its children need a process that has loaded no module yet */
	    TU_TEST(test_blacklist_and_search_path),
	    TU_TEST(test_generic_and_specific),
	    TU_TEST(test_module_errors),
	    TU_TEST(test_reread),
	    TU_TEST(test_enable_disable),
	    TU_TEST(test_detach_disables),
	    TU_TEST(test_irqs),
	    TU_TEST(test_irq_delivery),
	    TU_TEST(test_host_services),
	    TU_TEST(test_always_enabled),
	    TU_TEST(test_quiesce_on_first_owner),
	    TU_TEST(test_quiesce_msix_and_modules),
	    TU_TEST(test_failed_disable_at_detach),
	    TU_TEST(test_cap_of_vanished_device),
	};
	return TU_RUN(tests);
}
