/*
 * The exported cap_msi_* (and, with the MSI-X module, cap_msix_*) calls:
 * thin dispatchers into the function table of the module that served
 * pci_device_read_cap() (decisions.md section 6). A NULL or foreign
 * pci_cap_t gives PCI_ERR_EINVAL (0 for get_nirq), never a crash. Every
 * module call runs inside the library's ISR section, so the records the
 * module reaches through host->check() stay alive for the call.
 *
 * The masking calls, the interrupt-time hot path, go to the module's
 * masking ops (pcicap_cap_module_t.mask_entry, mask_bits, mask_all) with the
 * instance resolved here: the pair (pci_cap_t, handle) is validated once,
 * and each thread remembers the last pair it validated per capability
 * (MSI, MSI-X) with the instance, the module and the value of
 * pcii_bind_gen then. A later call with the same pair, while pcii_bind_gen
 * has not moved and the object's reserved word and api_p are still as the
 * library wrote them (a pci_cap_t the caller has free()d is refused as before),
 * skips the registry, the handle table and the instance list. No lock, no
 * allocation: a few thread-local and global loads inside the ISR section.
 *
 * Signal handlers: a handler may interrupt a call at any point and make
 * calls of its own. The memory is read and written only with the thread's
 * `busy` set, and a call that finds `busy` set (it runs in a handler that
 * interrupted such a read or write) does not write it: no call reads a memo
 * half written, and none writes one that an interrupted call is reading.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pci/cap_msi.h>
#include <pci/cap_msix.h>

#include "core.h"

/* Look the table up, call slot @fn with (cap, args...), or return @bad.
 * The validated object is the thread's pcii_isr_cap during the call. */
#define DISPATCH(api_t, capid, version, bad, fn, cap, ...)                                         \
	do {                                                                                       \
		pcii_isr_t e_ = pcii_isr_enter();                                                  \
		const pcicap_cap_module_t *m_ = pcii_cap_mod(cap, capid, version);                 \
		const api_t *t_ = m_ ? (const api_t *)m_->api : NULL;                              \
		__typeof__(bad) r_ = (bad);                                                        \
		if (t_ && t_->fn)                                                                  \
			API_CALL(r_, t_, fn, cap, ##__VA_ARGS__);                                  \
		pcii_isr_exit(e_);                                                                 \
		return r_;                                                                         \
	} while (0)

/* Call a slot of the module's API table with the object as the thread's
 * pcii_isr_cap (host->check() skips its second lookup). */
#define API_CALL(r, t, fn, cap, ...)                                                               \
	do {                                                                                       \
		pci_cap_t isr_cap_ = pcii_isr_cap;                                                 \
		pcii_isr_cap = (cap);                                                              \
		(r) = (t)->fn(cap, ##__VA_ARGS__);                                                 \
		pcii_isr_cap = isr_cap_;                                                           \
	} while (0)

/* --------------------------------------------------------- masking calls */

enum { KIND_MSI, KIND_MSIX, NKINDS };

/* The last (cap, hdl) pair a thread validated for one kind of capability. */
typedef struct {
	uint64_t gen; /* pcii_bind_gen when validated; 0: none */
	pci_cap_t cap;
	pci_devhdl_t hdl;
	const void *api; /* the object's api_p then */
	pcicap_capinst_t *ci;
	const pcicap_cap_module_t *mod;
} memo_t;

static __thread struct {
	unsigned busy; /* a masking call of this thread reads or writes m[] */
	memo_t m[NKINDS];
} tls __attribute__((tls_model("initial-exec")));

/* Whether @m holds (cap, hdl) and still stands. The pair is the key; the
 * words of the object's head that free() overwrites are looked at as the
 * full lookup does (reserved 0, api_p the module's table). */
static inline __attribute__((always_inline)) bool memo_hit(const memo_t *m, pci_cap_t cap,
							   pci_devhdl_t hdl)
{
	const void *p = cap;
	if (m->cap != cap || m->hdl != hdl || m->gen != atomic_load(&pcii_bind_gen))
		return false;
	if (((const uint32_t *)p)[1] != 0)
		return false;
	return ((const void *const *)p)[1] == m->api;
}

/* Whether @mod has every masking op of @kind (else its API table serves). */
static bool has_mask_ops(const pcicap_cap_module_t *mod, unsigned kind)
{
	return mod->mask_entry &&
	       (kind == KIND_MSI ? mod->mask_bits != NULL : mod->mask_all != NULL);
}

/* Validate (cap, hdl) in full for a masking call: the module of the object
 * and, when it has the masking ops, the instance (*ci; NULL: call the API
 * table). Unless another masking call of the thread is in progress (this
 * one runs in a signal handler that interrupted it), remember the pair. */
static pci_err_t bind(unsigned kind, pci_capid_t capid, pci_version_t version, pci_cap_t cap,
		      pci_devhdl_t hdl, uint_t flags, pcicap_capinst_t **ci,
		      const pcicap_cap_module_t **mod)
{
	uint64_t gen = atomic_load(&pcii_bind_gen); /* before anything is looked at */
	*ci = NULL;
	*mod = pcii_cap_mod(cap, capid, version);
	if (!*mod)
		return PCI_ERR_EINVAL;
	if (!has_mask_ops(*mod, kind))
		return PCI_ERR_OK;
	pci_err_t err = pcii_cap_check(cap, hdl, true, ci);
	if (err != PCI_ERR_OK)
		return (err == PCI_ERR_ENODEV && (flags & PCICAP_MASK_ISR)) ? PCI_ERR_DEV_NOT_AVAIL
									    : err;
	if (tls.busy)
		return PCI_ERR_OK;
	/* (a handler that interrupts us before the next line fills it whole
	 * and returns; after it, it sees busy and leaves the memo alone, and
	 * sees gen 0 if it reads it) */
	tls.busy = 1;
	memo_t *m = &tls.m[kind];
	m->gen = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	m->cap = cap;
	m->hdl = hdl;
	m->api = (*mod)->api;
	m->ci = *ci;
	m->mod = *mod;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	m->gen = gen;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	tls.busy = 0;
	return PCI_ERR_OK;
}

/* A masking call cap_<pfx>_<name>(hdl, cap PARAMS): the module's op @op
 * with (ci, @flags OP_ARGS) on the instance the pair resolves to, or the API
 * table's slot <name> with (cap, hdl SLOT_ARGS) for a module without the
 * masking ops. The hot path reads the memo with busy set and calls the op
 * inside the ISR section; anything else goes to slow_<pfx>_<name>(). */
#define MASK_CALL(pfx, name, kind, api_t, capid, version, flags, op, PARAMS, OP_ARGS, SLOT_ARGS)   \
	static __attribute__((noinline, cold))                                                     \
	pci_err_t slow_##pfx##_##name(pci_cap_t cap, pci_devhdl_t hdl PARAMS)                      \
	{                                                                                          \
		pcicap_capinst_t *ci;                                                              \
		const pcicap_cap_module_t *mod;                                                    \
		pci_err_t r = bind(kind, capid, version, cap, hdl, flags, &ci, &mod);              \
		if (r != PCI_ERR_OK)                                                               \
			return r;                                                                  \
		if (ci)                                                                            \
			return mod->op(ci, flags OP_ARGS);                                         \
		const api_t *t = mod->api;                                                         \
		r = PCI_ERR_EINVAL;                                                                \
		if (t->name)                                                                       \
			API_CALL(r, t, name, cap, hdl SLOT_ARGS);                                  \
		return r;                                                                          \
	}                                                                                          \
	PCICAP_EXPORT pci_err_t cap_##pfx##_##name(pci_devhdl_t hdl, pci_cap_t cap PARAMS)         \
	{                                                                                          \
		pcii_isr_t e = pcii_isr_enter();                                                   \
		unsigned outer = tls.busy;                                                         \
		tls.busy = 1;                                                                      \
		__atomic_signal_fence(__ATOMIC_SEQ_CST);                                           \
		const memo_t *m = &tls.m[kind];                                                    \
		pci_err_t r;                                                                       \
		if (__builtin_expect(memo_hit(m, cap, hdl), 1)) {                                  \
			pcicap_capinst_t *ci = m->ci;                                              \
			const pcicap_cap_module_t *mod = m->mod;                                   \
			__atomic_signal_fence(__ATOMIC_SEQ_CST);                                   \
			tls.busy = outer;                                                          \
			r = mod->op(ci, flags OP_ARGS);                                            \
		} else {                                                                           \
			__atomic_signal_fence(__ATOMIC_SEQ_CST);                                   \
			tls.busy = outer;                                                          \
			r = slow_##pfx##_##name(cap, hdl SLOT_ARGS);                               \
		}                                                                                  \
		pcii_isr_exit(e);                                                                  \
		return r;                                                                          \
	}

#define COMMA ,

/* ------------------------------------------------------------------ MSI */

#define MSI_CALL(bad, fn, cap, ...)                                                                \
	DISPATCH(cap_msi_api_t, CAPID_MSI, MSI_API_VERSION, bad, fn, cap, ##__VA_ARGS__)

PCICAP_EXPORT uint_t cap_msi_get_nirq(pci_cap_t cap)
{
	MSI_CALL((uint_t)0, get_nirq, cap);
}

PCICAP_EXPORT uint_t cap_msi_get_nirq_isr(pci_cap_t cap)
{
	MSI_CALL((uint_t)0, get_nirq_isr, cap);
}

PCICAP_EXPORT pci_err_t cap_msi_set_nirq(pci_devhdl_t hdl, pci_cap_t cap, uint_t nirq)
{
	MSI_CALL(PCI_ERR_EINVAL, set_nirq, cap, hdl, nirq);
}

#define MSI_PAIR(name, arg_t)                                                                      \
	PCICAP_EXPORT pci_err_t cap_msi_##name(pci_devhdl_t hdl, pci_cap_t cap, arg_t a)           \
	{                                                                                          \
		MSI_CALL(PCI_ERR_EINVAL, name, cap, hdl, a);                                       \
	}                                                                                          \
	PCICAP_EXPORT pci_err_t cap_msi_##name##_isr(pci_devhdl_t hdl, pci_cap_t cap, arg_t a)     \
	{                                                                                          \
		MSI_CALL(PCI_ERR_EINVAL, name##_isr, cap, hdl, a);                                 \
	}

MSI_PAIR(get_irq_pend, cap_msi_pend_t *)
MSI_PAIR(get_irq_mask, cap_msi_mask_t *)

/* A masking call on bits or on one entry, and its _isr flavour. */
#define MSI_MASK_PAIR(name, op, arg_t, set)                                                        \
	MASK_CALL(msi, name, KIND_MSI, cap_msi_api_t, CAPID_MSI, MSI_API_VERSION, set, op,         \
		  COMMA arg_t a, COMMA a, COMMA a)                                                 \
	MASK_CALL(msi, name##_isr, KIND_MSI, cap_msi_api_t, CAPID_MSI, MSI_API_VERSION,            \
		  (set) | PCICAP_MASK_ISR, op, COMMA arg_t a, COMMA a, COMMA a)

MSI_MASK_PAIR(mask_irq, mask_bits, cap_msi_mask_t, PCICAP_MASK_SET)
MSI_MASK_PAIR(unmask_irq, mask_bits, cap_msi_mask_t, 0)
MSI_MASK_PAIR(mask_irq_entry, mask_entry, uint_t, PCICAP_MASK_SET)
MSI_MASK_PAIR(unmask_irq_entry, mask_entry, uint_t, 0)

/* ---------------------------------------------------------------- MSI-X */

#define MSIX_CALL(bad, fn, cap, ...)                                                               \
	DISPATCH(cap_msix_api_t, CAPID_MSIX, MSIX_API_VERSION, bad, fn, cap, ##__VA_ARGS__)

PCICAP_EXPORT uint_t cap_msix_get_nirq(pci_cap_t cap)
{
	MSIX_CALL((uint_t)0, get_nirq, cap);
}

PCICAP_EXPORT uint_t cap_msix_get_nirq_isr(pci_cap_t cap)
{
	MSIX_CALL((uint_t)0, get_nirq_isr, cap);
}

PCICAP_EXPORT pci_err_t cap_msix_set_nirq(pci_devhdl_t hdl, pci_cap_t cap, uint_t nirq)
{
	MSIX_CALL(PCI_ERR_EINVAL, set_nirq, cap, hdl, nirq);
}

PCICAP_EXPORT pci_err_t cap_msix_set_irq_entry(pci_devhdl_t hdl, pci_cap_t cap, uint_t irq_entry,
					       int_t disposition)
{
	MSIX_CALL(PCI_ERR_EINVAL, set_irq_entry, cap, hdl, irq_entry, disposition);
}

PCICAP_EXPORT cap_msix_pba_t *cap_msix_get_pba_ptr(pci_devhdl_t hdl, pci_cap_t cap)
{
	MSIX_CALL((cap_msix_pba_t *)NULL, get_pba_ptr, cap, hdl);
}

/* A call on one table entry, and its _isr flavour. */
#define MSIX_ENTRY_PAIR(name, set)                                                                 \
	MASK_CALL(msix, name, KIND_MSIX, cap_msix_api_t, CAPID_MSIX, MSIX_API_VERSION, set,        \
		  mask_entry, COMMA uint_t irq_entry, COMMA irq_entry, COMMA irq_entry)            \
	MASK_CALL(msix, name##_isr, KIND_MSIX, cap_msix_api_t, CAPID_MSIX, MSIX_API_VERSION,       \
		  (set) | PCICAP_MASK_ISR, mask_entry, COMMA uint_t irq_entry, COMMA irq_entry,    \
		  COMMA irq_entry)

/* A call on the Function Mask, and its _isr flavour. */
#define MSIX_ALL_PAIR(name, set)                                                                   \
	MASK_CALL(msix, name, KIND_MSIX, cap_msix_api_t, CAPID_MSIX, MSIX_API_VERSION, set,        \
		  mask_all, , , )                                                                  \
	MASK_CALL(msix, name##_isr, KIND_MSIX, cap_msix_api_t, CAPID_MSIX, MSIX_API_VERSION,       \
		  (set) | PCICAP_MASK_ISR, mask_all, , , )

MSIX_ENTRY_PAIR(mask_irq_entry, PCICAP_MASK_SET)
MSIX_ENTRY_PAIR(unmask_irq_entry, 0)
MSIX_ALL_PAIR(mask_irq_all, PCICAP_MASK_SET)
MSIX_ALL_PAIR(unmask_irq_all, 0)
