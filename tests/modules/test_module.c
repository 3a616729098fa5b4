/*
 * A small capability module for the loader and dispatch tests. One source,
 * several builds (see meson.build):
 *  TESTMOD_CAPID      capability ID it serves
 *  TESTMOD_WHICH      value returned by which(): 1 generic, 2 specific
 *  TESTMOD_BAD_ABI    declare a wrong ABI version
 *  TESTMOD_NO_ENTRY   export no entry symbol
 *  TESTMOD_ALWAYS     PCICAP_MODULE_ALWAYS_ENABLED
 *  TESTMOD_QUIESCE    count the core's quiesce() notifications
 */
#include <stdlib.h>
#include <pcicap/cap_module.h>

#include "test_module.h"

typedef struct {
	uint_t nirq; /* requested at the next enable */
	uint_t held; /* IRQs held while enabled */
	pci_irq_t irqs[32];
	uint8_t len;
	uint_t quiesced; /* quiesce() calls */
} state_t;

static const pcicap_host_t *host;
static uint_t quiesced(pci_cap_t cap);

static uint_t which(pci_cap_t cap)
{
	return cap ? TESTMOD_WHICH : 0;
}

static uint_t get_len(pci_cap_t cap)
{
	if (!host)
		return 0;
	/* the length, as read into the object (cap_priv) and as the device's
	 * instance holds it (cap_inst): they must agree */
	const uint8_t *priv = host->cap_priv(cap);
	pcicap_capinst_t *ci = host->cap_inst(cap);
	if (!priv || !ci)
		return 0;
	return priv[0] == ((state_t *)ci->state)->len ? priv[0] : 0xFFFF;
}

static pci_err_t set_nirq(pci_cap_t cap, pci_devhdl_t hdl, uint_t nirq)
{
	if (!host)
		return PCI_ERR_EINVAL;
	pcicap_capinst_t *ci;
	pci_err_t err = host->check(cap, hdl, true, &ci);
	if (err != PCI_ERR_OK)
		return err;
	if (nirq > 32)
		return PCI_ERR_EINVAL;
	((state_t *)ci->state)->nirq = nirq;
	return PCI_ERR_OK;
}

static pci_err_t bar_access(pci_cap_t cap, pci_devhdl_t hdl, int bar, uint64_t off, uint_t width,
			    uint64_t *val, bool write)
{
	pcicap_capinst_t *ci;
	pci_err_t err = host ? host->check(cap, hdl, true, &ci) : PCI_ERR_EINVAL;
	if (err != PCI_ERR_OK)
		return err;
	return write ? host->bar_wr(ci, bar, off, width, *val)
		     : host->bar_rd(ci, bar, off, width, val);
}

static pci_err_t bar_size(pci_cap_t cap, pci_devhdl_t hdl, int bar, uint64_t *size)
{
	pcicap_capinst_t *ci;
	pci_ba_t ba;
	pci_err_t err = host ? host->check(cap, hdl, false, &ci) : PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK)
		err = host->bar_info(ci, bar, &ba);
	if (err == PCI_ERR_OK)
		*size = ba.size;
	return err;
}

static pci_err_t bar_view(pci_cap_t cap, pci_devhdl_t hdl, int bar, uint64_t off, uint64_t len,
			  const volatile void **p)
{
	pcicap_capinst_t *ci;
	pci_err_t err = host ? host->check(cap, hdl, false, &ci) : PCI_ERR_EINVAL;
	if (err == PCI_ERR_OK)
		err = host->bar_map(ci, bar, off, len, p);
	return err;
}

static uint_t probe(pci_cap_t cap, pci_devhdl_t hdl, pci_capid_t other)
{
	pcicap_capinst_t *ci;
	if (!host || host->check(cap, hdl, false, &ci) != PCI_ERR_OK)
		return 0;
	pci_irq_t irq;
	uint_t bits = 0;
	if (host->backend_programs_msgs(ci))
		bits |= TESTMOD_PROBE_PROGRAMS_MSGS;
	if (host->cap_enabled(ci, other))
		bits |= TESTMOD_PROBE_OTHER_ENABLED;
	if (host->msg_enable(ci, PCICAP_IRQ_KIND_MSI, 0, NULL, 1, &irq) == PCI_ERR_ENOTSUP &&
	    host->msg_disable(ci, PCICAP_IRQ_KIND_MSI) == PCI_ERR_ENOTSUP)
		bits |= TESTMOD_PROBE_MSG_ENOTSUP;
	if (host->present(ci) == PCI_ERR_OK)
		bits |= TESTMOD_PROBE_PRESENT;
	return bits;
}

static const testmod_api_t api = {.which = which,
				  .get_len = get_len,
				  .set_nirq = set_nirq,
				  .bar_access = bar_access,
				  .bar_size = bar_size,
				  .bar_view = bar_view,
				  .probe = probe,
				  .quiesced = quiesced};

static pci_err_t attach(pcicap_capinst_t *ci)
{
	host = ci->host;
	uint32_t v;
	pci_err_t err = ci->host->cfg_rd(ci, ci->offset + 2, 1, &v);
	if (err == PCI_ERR_OK)
		((state_t *)ci->state)->len = (uint8_t)v;
	return err;
}

static pci_err_t read_cap(pcicap_capinst_t *ci, pci_cap_t cap)
{
	uint8_t *priv = ci->host->cap_priv(cap);
	if (!priv)
		return PCI_ERR_EINVAL;
	priv[0] = ((state_t *)ci->state)->len;
	return PCI_ERR_OK;
}

static pci_err_t enable(pcicap_capinst_t *ci, pci_devhdl_t hdl, pci_reqType_t req, pci_cap_t cap)
{
	state_t *s = ci->state;
	pcicap_irq_msg_t msgs[32];
	pci_irq_t irqs[32];
	if (s->nirq) {
		pci_err_t err = ci->host->irq_alloc(ci, s->nirq, 0, msgs);
		if (err != PCI_ERR_OK)
			return err;
		for (uint_t i = 0; i < s->nirq; i++)
			irqs[i] = msgs[i].irq;
	}
	pci_err_t err = ci->host->cfg_wr(ci, ci->offset + 3, 1, TESTMOD_ENABLED_MARK);
	if (err == PCI_ERR_OK && s->nirq)
		err = ci->host->set_irqs(ci, irqs, s->nirq);
	if (err != PCI_ERR_OK) {
		if (s->nirq)
			ci->host->irq_free(ci, irqs, s->nirq);
		return err;
	}
	s->held = s->nirq;
	for (uint_t i = 0; i < s->held; i++)
		s->irqs[i] = irqs[i];
	return PCI_ERR_OK;
}

static void forget(pcicap_capinst_t *ci)
{
	state_t *s = ci->state;
	if (s->held)
		ci->host->irq_free(ci, s->irqs, s->held);
	s->held = 0;
}

static pci_err_t disable(pcicap_capinst_t *ci, pci_devhdl_t hdl, pci_reqType_t req, pci_cap_t cap)
{
	pci_err_t err = ci->host->cfg_wr(ci, ci->offset + 3, 1, 0);
	if (err != PCI_ERR_OK)
		return err;
	forget(ci);
	ci->host->set_irqs(ci, NULL, 0);
	return PCI_ERR_OK;
}

#ifdef TESTMOD_QUIESCE
static pci_err_t quiesce(pcicap_capinst_t *ci)
{
	((state_t *)ci->state)->quiesced++;
	return PCI_ERR_OK;
}
#endif

static uint_t quiesced(pci_cap_t cap)
{
	pcicap_capinst_t *ci = host ? host->cap_inst(cap) : NULL;
	return ci ? ((state_t *)ci->state)->quiesced : 0;
}

#ifdef TESTMOD_ALWAYS
#define TESTMOD_FLAGS PCICAP_MODULE_ALWAYS_ENABLED
#else
#define TESTMOD_FLAGS 0
#endif
#ifdef TESTMOD_QUIESCE
#define TESTMOD_QUIESCE_OP quiesce
#else
#define TESTMOD_QUIESCE_OP NULL
#endif
#define TESTMOD_FIELDS                                                                             \
	.capid = TESTMOD_CAPID, .flags = TESTMOD_FLAGS, .name = "testmod",                         \
	.api_version = TESTMOD_API_VERSION, .api = &api, .state_size = sizeof(state_t),            \
	.cap_priv_size = 8, .attach = attach, .read = read_cap, .enable = enable,                  \
	.disable = disable, .quiesce = TESTMOD_QUIESCE_OP, .forget = forget

#if defined(TESTMOD_NO_ENTRY)
/* exports a differently named table: the loader must not find it */
__attribute__((visibility("default"))) extern const pcicap_cap_module_t not_the_entry;
__attribute__((visibility("default")))
const pcicap_cap_module_t not_the_entry = {.struct_size = sizeof(pcicap_cap_module_t),
					   .abi_version = PCICAP_MODULE_ABI_VERSION,
					   TESTMOD_FIELDS};
#elif defined(TESTMOD_BAD_ABI)
__attribute__((visibility("default"))) extern const pcicap_cap_module_t pcicap_cap_module_entry;
__attribute__((visibility("default")))
const pcicap_cap_module_t pcicap_cap_module_entry = {.struct_size = sizeof(pcicap_cap_module_t),
						     .abi_version = PCICAP_MODULE_ABI_VERSION + 98,
						     TESTMOD_FIELDS};
#else
PCICAP_MODULE_REGISTER(TESTMOD_FIELDS);
#endif
