/* Bad input over the whole public API, table-driven: NULL, forged, stale
 * and non-owner handles; NULL, forged, foreign and wrong-kind capability
 * objects; offsets below 0x40, misaligned, past the end; nirq 0, not a
 * power of two, too large; entries and dispositions out of range; request
 * types out of range; MSI/MSI-X structures under raw writes. Each case
 * asserts the code docs/errors.md documents and that nothing changed: config
 * space of every device, the MSI-X table and PBA, the write counters, the
 * enable state, the IRQs, the MSI mask the library reports, the handles.
 * Calls that do not return a pci_err_t are mapped: a NULL/-1/0/false
 * answer counts as PCI_ERR_EINVAL (PCI_ERR_ENOENT for the capability
 * searches), anything else as PCI_ERR_OK. */
#include <errno.h>
#include <string.h>

#include <pci/cap_msi.h>
#include <pci/cap_msix.h>
#include <pcicap/irq.h>

#include "testutil.h"

#define D     PCI_BDF(1, 0, 0) /* MSI (8, maskable) + MSI-X (8, enabled), 256 bytes */
#define D2    PCI_BDF(2, 0, 0) /* PCIe, 4096 bytes, MSI (4, not maskable) */
#define BR    PCI_BDF(3, 0, 0) /* a PCI-PCI bridge */
#define NODEV PCI_BDF(0x77, 0, 0)

static pci_devhdl_t own, shr, stale, oth, bown;
static pci_cap_t msi, msix, ocap;
static uint_t msi_off, msix_off;
static struct _pci_cap forged_obj = {{1, 0}, 0, (void *)&forged_obj};
#define FORGED_CAP (&forged_obj)
#define FORGED_HDL ((pci_devhdl_t)(uintptr_t)0xdeadbeefu)
#define ATTACHED   ((pci_err_t)9999) /* an attach that should have failed */

static pci_cap_t read_cap(pci_bdf_t bdf, pci_capid_t id, uint_t *off)
{
	pci_cap_t cap = NULL;
	int_t idx = pci_device_find_capid(bdf, id);
	assert_true(idx >= 0);
	if (off)
		assert_int_equal(pcicap_device_cap_offset(bdf, (uint_t)idx, off), PCI_ERR_OK);
	assert_int_equal(pci_device_read_cap(bdf, &cap, (uint_t)idx), PCI_ERR_OK);
	return cap;
}

static void fixture_up(void)
{
	pcicap_sim_clear();
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = 8;
	d.msi.addr64 = d.msi.maskable = true;
	d.msix.entries = 8;
	d.msix.pba_off = 0x800;
	tu_add(D, &d);
	pcicap_sim_device_init(&d);
	d.pcie = true;
	d.msi.vectors = 4;
	tu_add(D2, &d);
	pcicap_sim_device_init(&d);
	d.hdr_type = 1;
	d.ccode = 0x060400;
	tu_add(BR, &d);
	own = tu_attach(D, pci_attachFlags_OWNER);
	shr = tu_attach(D, pci_attachFlags_e_SHARED);
	stale = tu_attach(D2, pci_attachFlags_e_SHARED);
	assert_int_equal(pci_device_detach(stale), PCI_ERR_OK);
	oth = tu_attach(D2, pci_attachFlags_OWNER);
	bown = tu_attach(BR, pci_attachFlags_OWNER);
	msi = read_cap(D, CAPID_MSI, &msi_off);
	msix = read_cap(D, CAPID_MSIX, &msix_off);
	ocap = read_cap(D2, CAPID_MSI, NULL);
	assert_int_equal(cap_msi_set_nirq(own, msi, 8), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(own, pci_reqType_e_MANDATORY, msix), PCI_ERR_OK);
	assert_int_equal(cap_msix_unmask_irq_entry(own, msix, 2), PCI_ERR_OK);
}

static void fixture_down(void)
{
	assert_int_equal(pci_device_detach(bown), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(oth), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(shr), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(own), PCI_ERR_OK);
	free(msi);
	free(msix);
	free(ocap);
	assert_int_equal(pcicap_sim_set_irqs(64), PCI_ERR_OK); /* no IRQ left held */
}

/* Everything a bad call could have changed. */
typedef struct {
	uint8_t cfg[3][256];
	uint8_t ext[4096 - 256];
	uint8_t table[16 * 8 + 8];
	uint64_t writes[3];
	bool on[3];
	int_t nirq;
	pci_irq_t irqs[8];
	cap_msi_mask_t mask;
	pci_bdf_t bdfs[4];
} state_t;

static void observe(state_t *s)
{
	memset(s, 0, sizeof(*s));
	const pci_bdf_t devs[3] = {D, D2, BR};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pcicap_sim_peek_cfg(devs[i], 0, s->cfg[i], 256), PCI_ERR_OK);
		pcicap_sim_counters_t c = tu_counters(devs[i]);
		s->writes[i] = c.cfg_writes + c.bar_writes;
	}
	assert_int_equal(pcicap_sim_peek_cfg(D2, 256, s->ext, sizeof(s->ext)), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_peek_bar(D, 0, 0, s->table, 16 * 8), PCI_ERR_OK);
	assert_int_equal(pcicap_sim_peek_bar(D, 0, 0x800, s->table + 16 * 8, 8), PCI_ERR_OK);
	s->on[0] = pci_device_cfg_cap_isenabled(own, msi);
	s->on[1] = pci_device_cfg_cap_isenabled(own, msix);
	s->on[2] = pci_device_cfg_cap_isenabled(oth, ocap);
	s->nirq = 8;
	assert_int_equal(pci_device_read_irq(own, &s->nirq, s->irqs), PCI_ERR_OK);
	assert_int_equal(cap_msi_get_irq_mask(own, msi, &s->mask), PCI_ERR_OK);
	s->bdfs[0] = pci_bdf(own);
	s->bdfs[1] = pci_bdf(shr);
	s->bdfs[2] = pci_bdf(oth);
	s->bdfs[3] = pci_bdf(bown);
}

/* ------------------------------------------------------------ adapters */

static pci_err_t attach_err(pci_bdf_t bdf, pci_attachFlags_t flags)
{
	pci_err_t err = PCI_ERR_OK;
	pci_devhdl_t h = pci_device_attach(bdf, flags, &err);
	if (h) {
		pci_device_detach(h);
		return ATTACHED;
	}
	return err;
}

static pci_err_t no_bdf(pci_bdf_t bdf)
{
	return bdf == PCI_BDF_NONE ? PCI_ERR_EINVAL : PCI_ERR_OK;
}

static pci_err_t not_found(int_t idx)
{
	return idx < 0 ? PCI_ERR_ENOENT : PCI_ERR_OK;
}

static pci_err_t zero(uint_t v)
{
	return v == 0 ? PCI_ERR_EINVAL : PCI_ERR_OK;
}

static pci_err_t falsy(bool v)
{
	return v ? PCI_ERR_OK : PCI_ERR_EINVAL;
}

static pci_err_t null_ptr(const volatile void *p)
{
	return p ? PCI_ERR_OK : PCI_ERR_EINVAL;
}

static pci_err_t minus_one(int r)
{
	return r == -1 ? (pci_err_t)errno : PCI_ERR_OK;
}

static pci_err_t read_cap_err(pci_bdf_t bdf, pci_cap_t *cap, uint_t idx)
{
	pci_cap_t before = cap ? *cap : NULL;
	pci_err_t err = pci_device_read_cap(bdf, cap, idx);
	/* a failed first read hands out nothing; a foreign *cap is left alone */
	if (cap && *cap != before)
		return ATTACHED;
	return err;
}

static pci_err_t read_irq_err(pci_devhdl_t h, int_t n, bool array)
{
	pci_irq_t irqs[8];
	return pci_device_read_irq(h, &n, array ? irqs : NULL);
}

static pci_err_t read_ba_err(pci_devhdl_t h, int_t *n, bool array, pci_reqType_t req)
{
	pci_ba_t ba[7];
	return pci_device_read_ba(h, n, array ? ba : NULL, req);
}

static pci_err_t map_as_err(pci_asAttr_e attr, pci_asType_e type, bool as_null)
{
	pci_ba_t as = {.addr = 0xf0000000u, .size = 4096, .type = type, .attr = attr}, x;
	return pci_device_map_as(own, as_null ? NULL : &as, &x);
}

static pci_err_t cs_err(pci_cs_t cs)
{
	pci_err_t err = PCI_ERR_OK;
	pci_chassis_slot_device(cs, &err);
	return err;
}

static int_t nba_neg = -1;
static uint8_t u8;
static uint16_t u16;
static uint32_t u32;
static uint64_t u64;
static pci_ba_val_t baval;
static cap_msi_mask_t mk;
static char buf[64];
static pci_cap_t forged_ref = FORGED_CAP, null_ref = NULL;

/* name, documented code, the call */
#define BAD_CASES(X)                                                                               \
	X(attach_no_device, PCI_ERR_ENODEV, attach_err(NODEV, pci_attachFlags_OWNER))              \
	X(attach_domain_past_max, PCI_ERR_ENODEV,                                                  \
	  attach_err(PCICAP_BDF(0x7FFF, 1, 0, 0), pci_attachFlags_OWNER))                          \
	X(attach_unknown_flag, PCI_ERR_EINVAL, attach_err(D2, 0x100))                              \
	X(attach_multi_without_owner, PCI_ERR_EINVAL, attach_err(D2, pci_attachFlags_e_MULTI))     \
	X(attach_multi_exclusive, PCI_ERR_EINVAL,                                                  \
	  attach_err(D2, pci_attachFlags_MULTI_OWNER | pci_attachFlags_e_EXCLUSIVE))               \
	X(attach_owner_taken, PCI_ERR_ATTACH_OWNED, attach_err(D, pci_attachFlags_OWNER))          \
	X(attach_multi_owner_taken, PCI_ERR_ATTACH_OWNED,                                          \
	  attach_err(D, pci_attachFlags_MULTI_OWNER))                                              \
	X(attach_exclusive_shared, PCI_ERR_ATTACH_SHARED,                                          \
	  attach_err(D, pci_attachFlags_EXCLUSIVE_OWNER))                                          \
	X(detach_null, PCI_ERR_EINVAL, pci_device_detach(NULL))                                    \
	X(detach_stale, PCI_ERR_EINVAL, pci_device_detach(stale))                                  \
	X(detach_forged, PCI_ERR_EINVAL, pci_device_detach(FORGED_HDL))                            \
	X(bdf_null, PCI_ERR_EINVAL, no_bdf(pci_bdf(NULL)))                                         \
	X(bdf_stale, PCI_ERR_EINVAL, no_bdf(pci_bdf(stale)))                                       \
	X(find_no_device, PCI_ERR_EINVAL,                                                          \
	  no_bdf(pci_device_find(0, 0x1234, 0x9999, PCI_CCODE_ANY)))                               \
	X(read_vid_null, PCI_ERR_EINVAL, pci_device_read_vid(D, NULL))                             \
	X(read_vid_no_device, PCI_ERR_ENODEV, pci_device_read_vid(NODEV, &u16))                    \
	X(read_did_null, PCI_ERR_EINVAL, pci_device_read_did(D, NULL))                             \
	X(read_revid_null, PCI_ERR_EINVAL, pci_device_read_revid(D, NULL))                         \
	X(read_ssid_null, PCI_ERR_EINVAL, pci_device_read_ssid(D, NULL))                           \
	X(read_ssvid_null, PCI_ERR_EINVAL, pci_device_read_ssvid(D, NULL))                         \
	X(read_ccode_null, PCI_ERR_EINVAL, pci_device_read_ccode(D, NULL))                         \
	X(read_hdrType_null, PCI_ERR_EINVAL, pci_device_read_hdrType(D, NULL))                     \
	X(read_cmd_null, PCI_ERR_EINVAL, pci_device_read_cmd(D, NULL))                             \
	X(read_status_null, PCI_ERR_EINVAL, pci_device_read_status(D, NULL))                       \
	X(read_latency_null, PCI_ERR_EINVAL, pci_device_read_latency(D, NULL))                     \
	X(read_clsize_null, PCI_ERR_EINVAL, pci_device_read_clsize(D, NULL))                       \
	X(read_ssid_of_bridge, PCI_ERR_EINVAL, pci_device_read_ssid(BR, &u16))                     \
	X(read_sec_status_of_endpoint, PCI_ERR_EINVAL, pci_device_read_sec_status(D, &u16))        \
	X(read_bridge_ctrl_of_endpoint, PCI_ERR_EINVAL, pci_device_read_bridge_ctrl(D, &u16))      \
	X(read_pri_busnum_of_endpoint, PCI_ERR_EINVAL, pci_device_read_pri_busnum(D, &u8))         \
	X(read_mem_base_of_endpoint, PCI_ERR_EINVAL, pci_device_read_mem_base(D, &baval))          \
	X(read_io_limit_of_endpoint, PCI_ERR_EINVAL, pci_device_read_io_limit(D, &baval))          \
	X(read_sec_busnum_null, PCI_ERR_EINVAL, pci_device_read_sec_busnum(BR, NULL))              \
	X(write_cmd_stale, PCI_ERR_EINVAL, pci_device_write_cmd(stale, 0x0006, NULL))              \
	X(write_cmd_forged, PCI_ERR_EINVAL, pci_device_write_cmd(FORGED_HDL, 0x0006, NULL))        \
	X(write_cmd_not_owner, PCI_ERR_NOT_OWNER, pci_device_write_cmd(shr, 0x0006, NULL))         \
	X(write_status_null, PCI_ERR_EINVAL, pci_device_write_status(NULL, 0xF900, NULL))          \
	X(write_bridge_ctrl_of_endpoint, PCI_ERR_EINVAL,                                           \
	  pci_device_write_bridge_ctrl(own, 1, NULL))                                              \
	X(write_sec_busnum_of_endpoint, PCI_ERR_EINVAL, pci_device_write_sec_busnum(own, 2, NULL)) \
	X(write_mem_base_misaligned, PCI_ERR_EINVAL,                                               \
	  pci_device_write_mem_base(bown, 0xf0012345u, NULL))                                      \
	X(write_mem_limit_low_bits, PCI_ERR_EINVAL,                                                \
	  pci_device_write_mem_limit(bown, 0xf0100000u, NULL))                                     \
	X(write_io_base_above_4g, PCI_ERR_EINVAL,                                                  \
	  pci_device_write_io_base(bown, 0x100000000ull, NULL))                                    \
	X(write_mem_base_above_4g, PCI_ERR_EINVAL,                                                 \
	  pci_device_write_mem_base(bown, 0x100000000ull, NULL))                                   \
	X(write_pfmem_base_stale, PCI_ERR_EINVAL, pci_device_write_pfmem_base(stale, 0, NULL))     \
	X(cfg_rd8_below_0x40, PCI_ERR_EINVAL, pci_device_cfg_rd8(D, 0x3F, &u8))                    \
	X(cfg_rd16_misaligned, PCI_ERR_EINVAL, pci_device_cfg_rd16(D, 0x41, &u16))                 \
	X(cfg_rd32_past_end, PCI_ERR_EINVAL, pci_device_cfg_rd32(D, 0x100, &u32))                  \
	X(cfg_rd32_past_ext_end, PCI_ERR_EINVAL, pci_device_cfg_rd32(D2, 0x1000, &u32))            \
	X(cfg_rd64_misaligned, PCI_ERR_EINVAL, pci_device_cfg_rd64(D, 0x44, &u64))                 \
	X(cfg_rd64_straddling_end, PCI_ERR_EINVAL, pci_device_cfg_rd64(D, 0xFC, &u64))             \
	X(cfg_rd8_null, PCI_ERR_EINVAL, pci_device_cfg_rd8(D, 0x40, NULL))                         \
	X(cfg_rd32_no_device, PCI_ERR_ENODEV, pci_device_cfg_rd32(NODEV, 0x40, &u32))              \
	X(cfg_rd16_huge_offset, PCI_ERR_EINVAL, pci_device_cfg_rd16(D, 0xFFFFFFFEu, &u16))         \
	X(cfg_wr8_below_0x40, PCI_ERR_EINVAL, pci_device_cfg_wr8(own, 0x04, 0xFF, NULL))           \
	X(cfg_wr16_misaligned, PCI_ERR_EINVAL, pci_device_cfg_wr16(own, 0xC1, 1, NULL))            \
	X(cfg_wr32_past_end, PCI_ERR_EINVAL, pci_device_cfg_wr32(own, 0x100, 1, NULL))             \
	X(cfg_wr32_past_ext_end, PCI_ERR_EINVAL, pci_device_cfg_wr32(oth, 0x1000, 1, NULL))        \
	X(cfg_wr64_huge_offset, PCI_ERR_EINVAL, pci_device_cfg_wr64(own, 0xFFFFFFF8u, 1, NULL))    \
	X(cfg_wr32_not_owner, PCI_ERR_NOT_OWNER, pci_device_cfg_wr32(shr, 0xC0, 1, NULL))          \
	X(cfg_wr32_stale, PCI_ERR_EINVAL, pci_device_cfg_wr32(stale, 0xC0, 1, NULL))               \
	X(cfg_wr32_null, PCI_ERR_EINVAL, pci_device_cfg_wr32(NULL, 0xC0, 1, NULL))                 \
	X(cfg_wr16_msi_control, PCI_ERR_CFG_ACCESS,                                                \
	  pci_device_cfg_wr16(own, msi_off + 2, 1, NULL))                                          \
	X(cfg_wr32_msi_mask, PCI_ERR_CFG_ACCESS,                                                   \
	  pci_device_cfg_wr32(own, msi_off + 0x10, 0, NULL))                                       \
	X(cfg_wr8_msi_data, PCI_ERR_CFG_ACCESS, pci_device_cfg_wr8(own, msi_off + 0x0C, 1, NULL))  \
	X(cfg_wr64_over_msi_address, PCI_ERR_CFG_ACCESS,                                           \
	  pci_device_cfg_wr64(own, msi_off + 8, ~0ull, NULL))                                      \
	X(cfg_wr16_msix_control, PCI_ERR_CFG_ACCESS,                                               \
	  pci_device_cfg_wr16(own, msix_off + 2, 0x4000, NULL))                                    \
	X(cfg_wr32_msix_table_offset, PCI_ERR_CFG_ACCESS,                                          \
	  pci_device_cfg_wr32(own, msix_off + 4, 0x1000, NULL))                                    \
	X(cfg_wr8_msix_last_byte, PCI_ERR_CFG_ACCESS,                                              \
	  pci_device_cfg_wr8(own, msix_off + 11, 0, NULL))                                         \
	X(find_capid_no_device, PCI_ERR_ENOENT,                                                    \
	  not_found(pci_device_find_capid(NODEV, CAPID_MSI)))                                      \
	X(find_capid_next_past_end, PCI_ERR_ENOENT,                                                \
	  not_found(pci_device_find_capid_next(D, CAPID_MSI, 100)))                                \
	X(find_xcapid_on_256_bytes, PCI_ERR_ENOENT,                                                \
	  not_found(pcicap_device_find_xcapid(D, 1, -1)))                                          \
	X(read_capid_null, PCI_ERR_EINVAL, pci_device_read_capid(D, NULL, 0))                      \
	X(read_capid_past_end, PCI_ERR_ENOENT, pci_device_read_capid(D, &u8, 40))                  \
	X(read_cap_null, PCI_ERR_EINVAL, read_cap_err(D, NULL, 0))                                 \
	X(read_cap_forged_object, PCI_ERR_EINVAL, read_cap_err(D, &forged_ref, 0))                 \
	X(read_cap_past_end, PCI_ERR_ENOENT, read_cap_err(D, &null_ref, 40))                       \
	X(read_cap_no_device, PCI_ERR_ENODEV, read_cap_err(NODEV, &null_ref, 0))                   \
	X(cap_offset_null, PCI_ERR_EINVAL, pcicap_device_cap_offset(D, 0, NULL))                   \
	X(read_xcap_on_256_bytes, PCI_ERR_ENOENT, pcicap_device_read_xcap(D, 0, NULL, NULL, NULL)) \
	X(cap_offset_of_forged, PCI_ERR_EINVAL, zero(pcicap_cap_offset(FORGED_CAP)))               \
	X(enable_null_cap, PCI_ERR_EINVAL,                                                         \
	  pci_device_cfg_cap_enable(own, pci_reqType_e_ADVISORY, NULL))                            \
	X(enable_forged_cap, PCI_ERR_EINVAL,                                                       \
	  pci_device_cfg_cap_enable(own, pci_reqType_e_ADVISORY, FORGED_CAP))                      \
	X(enable_cap_of_other_device, PCI_ERR_EINVAL,                                              \
	  pci_device_cfg_cap_enable(own, pci_reqType_e_ADVISORY, ocap))                            \
	X(enable_req_below, PCI_ERR_EINVAL,                                                        \
	  pci_device_cfg_cap_enable(own, (pci_reqType_t)99, msi))                                  \
	X(enable_req_above, PCI_ERR_EINVAL,                                                        \
	  pci_device_cfg_cap_enable(own, (pci_reqType_t)103, msi))                                 \
	X(enable_not_owner, PCI_ERR_NOT_OWNER,                                                     \
	  pci_device_cfg_cap_enable(shr, pci_reqType_e_ADVISORY, msi))                             \
	X(enable_stale_handle, PCI_ERR_EINVAL,                                                     \
	  pci_device_cfg_cap_enable(stale, pci_reqType_e_ADVISORY, ocap))                          \
	X(enable_enabled, PCI_ERR_EALREADY,                                                        \
	  pci_device_cfg_cap_enable(own, pci_reqType_e_ADVISORY, msix))                            \
	X(enable_msi_under_msix, PCI_ERR_MSIX_ENABLED,                                             \
	  pci_device_cfg_cap_enable(own, pci_reqType_e_ADVISORY, msi))                             \
	X(disable_disabled, PCI_ERR_EALREADY,                                                      \
	  pci_device_cfg_cap_disable(own, pci_reqType_e_UNSPECIFIED, msi))                         \
	X(disable_req_out_of_range, PCI_ERR_EINVAL,                                                \
	  pci_device_cfg_cap_disable(own, (pci_reqType_t)0, msix))                                 \
	X(disable_not_owner, PCI_ERR_NOT_OWNER,                                                    \
	  pci_device_cfg_cap_disable(shr, pci_reqType_e_UNSPECIFIED, msix))                        \
	X(disable_forged_handle, PCI_ERR_EINVAL,                                                   \
	  pci_device_cfg_cap_disable(FORGED_HDL, pci_reqType_e_UNSPECIFIED, msix))                 \
	X(isenabled_null_handle, PCI_ERR_EINVAL, falsy(pci_device_cfg_cap_isenabled(NULL, msix)))  \
	X(isenabled_other_device, PCI_ERR_EINVAL, falsy(pci_device_cfg_cap_isenabled(oth, msix)))  \
	X(read_irq_stale, PCI_ERR_EINVAL, read_irq_err(stale, 8, true))                            \
	X(read_irq_not_owner, PCI_ERR_NOT_OWNER, read_irq_err(shr, 8, true))                       \
	X(read_irq_both_null, PCI_ERR_EINVAL, pci_device_read_irq(own, NULL, NULL))                \
	X(read_irq_negative_count, PCI_ERR_EINVAL, read_irq_err(own, -1, true))                    \
	X(read_ba_both_null, PCI_ERR_EINVAL,                                                       \
	  pci_device_read_ba(own, NULL, NULL, pci_reqType_e_UNSPECIFIED))                          \
	X(read_ba_bad_req, PCI_ERR_EINVAL, read_ba_err(own, &nba_neg, true, (pci_reqType_t)7))     \
	X(read_ba_mandatory_null_array, PCI_ERR_EINVAL,                                            \
	  read_ba_err(own, &nba_neg, false, pci_reqType_e_MANDATORY))                              \
	X(read_ba_negative_count, PCI_ERR_EINVAL,                                                  \
	  read_ba_err(own, &nba_neg, true, pci_reqType_e_UNSPECIFIED))                             \
	X(read_ba_not_owner, PCI_ERR_NOT_OWNER,                                                    \
	  read_ba_err(shr, NULL, true, pci_reqType_e_UNSPECIFIED))                                 \
	X(map_as_null, PCI_ERR_EINVAL, map_as_err(pci_asAttr_e_OUTBOUND, pci_asType_e_MEM, true))  \
	X(map_as_both_directions, PCI_ERR_EINVAL,                                                  \
	  map_as_err(pci_asAttr_e_OUTBOUND | pci_asAttr_e_INBOUND, pci_asType_e_MEM, false))       \
	X(map_as_no_direction, PCI_ERR_EINVAL,                                                     \
	  map_as_err(pci_asAttr_e_NONE, pci_asType_e_MEM, false))                                  \
	X(map_as_bad_type, PCI_ERR_EINVAL,                                                         \
	  map_as_err(pci_asAttr_e_OUTBOUND, pci_asType_e_NONE, false))                             \
	X(reset_stale, PCI_ERR_EINVAL, pci_device_reset(stale, pci_resetType_e_FUNCTION))          \
	X(reset_shared_device, PCI_ERR_ATTACH_SHARED,                                              \
	  pci_device_reset(own, pci_resetType_e_FUNCTION))                                         \
	X(rom_enable_stale, PCI_ERR_EINVAL, pci_device_rom_enable(stale))                          \
	X(rom_disable_not_owner, PCI_ERR_NOT_OWNER, pci_device_rom_disable(shr))                   \
	X(chassis_slot_none, PCI_ERR_EINVAL, cs_err(PCI_CS_NONE))                                  \
	X(chassis_slot_zero, PCI_ERR_EINVAL, cs_err(PCI_CS(1, 0)))                                 \
	X(msi_get_nirq_forged, PCI_ERR_EINVAL, zero(cap_msi_get_nirq(FORGED_CAP)))                 \
	X(msi_get_nirq_of_msix, PCI_ERR_EINVAL, zero(cap_msi_get_nirq_isr(msix)))                  \
	X(msi_set_nirq_zero, PCI_ERR_EINVAL, cap_msi_set_nirq(own, msi, 0))                        \
	X(msi_set_nirq_not_pow2, PCI_ERR_EINVAL, cap_msi_set_nirq(own, msi, 6))                    \
	X(msi_set_nirq_too_large, PCI_ERR_EINVAL, cap_msi_set_nirq(own, msi, 16))                  \
	X(msi_set_nirq_huge, PCI_ERR_EINVAL, cap_msi_set_nirq(own, msi, 0x80000000u))              \
	X(msi_set_nirq_not_owner, PCI_ERR_NOT_OWNER, cap_msi_set_nirq(shr, msi, 2))                \
	X(msi_set_nirq_stale, PCI_ERR_EINVAL, cap_msi_set_nirq(stale, ocap, 2))                    \
	X(msi_set_nirq_other_device, PCI_ERR_EINVAL, cap_msi_set_nirq(own, ocap, 2))               \
	X(msi_set_nirq_wrong_kind, PCI_ERR_EINVAL, cap_msi_set_nirq(own, msix, 2))                 \
	X(msi_mask_beyond_capable, PCI_ERR_EINVAL, cap_msi_mask_irq(own, msi, 0x100))              \
	X(msi_unmask_isr_top_bit, PCI_ERR_EINVAL, cap_msi_unmask_irq_isr(own, msi, 0x80000000u))   \
	X(msi_mask_entry_beyond, PCI_ERR_EINVAL, cap_msi_mask_irq_entry(own, msi, 8))              \
	X(msi_unmask_entry_isr_huge, PCI_ERR_EINVAL, cap_msi_unmask_irq_entry_isr(own, msi, ~0u))  \
	X(msi_get_mask_null, PCI_ERR_EINVAL, cap_msi_get_irq_mask(own, msi, NULL))                 \
	X(msi_get_pend_isr_null, PCI_ERR_EINVAL, cap_msi_get_irq_pend_isr(own, msi, NULL))         \
	X(msi_mask_entry_not_owner, PCI_ERR_NOT_OWNER, cap_msi_mask_irq_entry(shr, msi, 1))        \
	X(msi_unmask_isr_not_owner, PCI_ERR_NOT_OWNER, cap_msi_unmask_irq_isr(shr, msi, 1))        \
	X(msi_mask_forged_cap, PCI_ERR_EINVAL, cap_msi_mask_irq_entry(own, FORGED_CAP, 0))         \
	X(msi_mask_isr_null_handle, PCI_ERR_EINVAL, cap_msi_mask_irq_isr(NULL, msi, 1))            \
	X(msi_mask_without_pvm, PCI_ERR_ENOTSUP, cap_msi_mask_irq(oth, ocap, 1))                   \
	X(msi_get_pend_without_pvm, PCI_ERR_ENOTSUP, cap_msi_get_irq_pend(oth, ocap, &mk))         \
	X(msix_get_nirq_of_msi, PCI_ERR_EINVAL, zero(cap_msix_get_nirq(msi)))                      \
	X(msix_set_nirq_zero, PCI_ERR_EINVAL, cap_msix_set_nirq(own, msix, 0))                     \
	X(msix_set_nirq_too_large, PCI_ERR_EINVAL, cap_msix_set_nirq(own, msix, 9))                \
	X(msix_set_nirq_not_owner, PCI_ERR_NOT_OWNER, cap_msix_set_nirq(shr, msix, 2))             \
	X(msix_set_irq_entry_beyond, PCI_ERR_EINVAL, cap_msix_set_irq_entry(own, msix, 8, 0))      \
	X(msix_disposition_below, PCI_ERR_EINVAL, cap_msix_set_irq_entry(own, msix, 0, -2))        \
	X(msix_disposition_at_nirq, PCI_ERR_EINVAL, cap_msix_set_irq_entry(own, msix, 0, 8))       \
	X(msix_disposition_not_owner, PCI_ERR_NOT_OWNER, cap_msix_set_irq_entry(shr, msix, 0, 1))  \
	X(msix_mask_entry_beyond, PCI_ERR_EINVAL, cap_msix_mask_irq_entry(own, msix, 8))           \
	X(msix_unmask_entry_isr_huge, PCI_ERR_EINVAL,                                              \
	  cap_msix_unmask_irq_entry_isr(own, msix, ~0u))                                           \
	X(msix_unmask_all_clear, PCI_ERR_EALREADY, cap_msix_unmask_irq_all(own, msix))             \
	X(msix_unmask_all_isr_clear, PCI_ERR_EALREADY, cap_msix_unmask_irq_all_isr(own, msix))     \
	X(msix_mask_all_not_owner, PCI_ERR_NOT_OWNER, cap_msix_mask_irq_all(shr, msix))            \
	X(msix_mask_all_stale, PCI_ERR_EINVAL, cap_msix_mask_irq_all_isr(stale, msix))             \
	X(msix_mask_entry_wrong_kind, PCI_ERR_EINVAL, cap_msix_mask_irq_entry(own, msi, 0))        \
	X(msix_pba_ptr_stale, PCI_ERR_EINVAL, null_ptr(cap_msix_get_pba_ptr(stale, msix)))         \
	X(msix_pba_ptr_other_device, PCI_ERR_EINVAL, null_ptr(cap_msix_get_pba_ptr(oth, msix)))    \
	X(set_backend_null, PCI_ERR_EINVAL, pcicap_set_backend(NULL))                              \
	X(set_backend_empty, PCI_ERR_EINVAL, pcicap_set_backend(""))                               \
	X(set_backend_other, PCI_ERR_EALREADY, pcicap_set_backend("pciaccess"))                    \
	X(irq_fd_stale, PCI_ERR_EINVAL, minus_one(pcicap_irq_fd(stale, 256)))                      \
	X(irq_fd_irq_not_held, PCI_ERR_EINVAL, minus_one(pcicap_irq_fd(oth, 256)))                 \
	X(cfg_read_past_end, PCI_ERR_EINVAL, pcicap_device_cfg_read(D, 0xF0, buf, 32))             \
	X(cfg_read_null, PCI_ERR_EINVAL, pcicap_device_cfg_read(D, 0, NULL, 4))                    \
	X(driver_null, PCI_ERR_EINVAL, pcicap_device_driver(D, NULL, 16))                          \
	X(sim_irqs_zero, PCI_ERR_EINVAL, pcicap_sim_set_irqs(0))                                   \
	X(sim_irqs_while_held, PCI_ERR_EAGAIN, pcicap_sim_set_irqs(16))                            \
	X(sim_config_bad_length, PCI_ERR_EINVAL, pcicap_sim_add_config(NODEV, buf, 64))            \
	X(sim_raise_beyond, PCI_ERR_EINVAL, pcicap_sim_raise(D2, 4))

#define DEFINE(name, want, expr)                                                                   \
	static pci_err_t case_##name(void)                                                         \
	{                                                                                          \
		return (expr);                                                                     \
	}
BAD_CASES(DEFINE)

typedef struct {
	const char *name;
	pci_err_t want;
	pci_err_t (*call)(void);
} bad_case_t;

#define ROW(name, want, expr) {#name, want, case_##name},
static const bad_case_t cases[] = {BAD_CASES(ROW)};

static void test_bad_input(void **state)
{
	(void)state;
	size_t n = sizeof(cases) / sizeof(cases[0]);
	assert_true(n >= 80);
	for (size_t i = 0; i < n; i++) {
		fixture_up();
		state_t before, after;
		observe(&before);
		pci_err_t err = cases[i].call();
		if (err != cases[i].want)
			fprintf(stderr, "%s: got %d, documented %d\n", cases[i].name, (int)err,
				(int)cases[i].want);
		assert_int_equal(err, cases[i].want);
		observe(&after);
		if (memcmp(&before, &after, sizeof(before)) != 0)
			fprintf(stderr, "%s: something changed\n", cases[i].name);
		assert_memory_equal(&before, &after, sizeof(before));
		fixture_down();
	}
	printf("%zu bad-input cases\n", n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TU_TEST(test_bad_input),
	};
	return TU_RUN(tests);
}
