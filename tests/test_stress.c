/* Concurrency stress (suite `stress`, also built with ThreadSanitizer by
 * scripts/run-tests.sh): 8 threads mask and unmask their own vectors of one
 * MSI capability, then of one MSI-X capability, a million calls in total
 * per capability, plain and _isr calls mixed at random. Every call must
 * succeed, and afterwards the device's mask state must be exactly what the
 * last call of each thread on each vector asked for: one lost update (a
 * read-modify-write of the MSI shadow racing with another thread's, a torn
 * MSI-X vector control word) changes a bit. The library's own view (the
 * MSI mask it reports, the cost of the MSI-X disable) must agree. */
#include <pthread.h>
#include <string.h>

#include <pci/cap_msi.h>
#include <pci/cap_msix.h>

#include "testutil.h"

#define BDF      PCI_BDF(1, 0, 0)
#define NTHREADS 8
#define NVEC     32 /* MSI vectors, MSI-X entries: 4 per thread */
#define PER      (NVEC / NTHREADS)
#define TOTAL    1000000
#define TBL      0x0000
#define PBA      0x1000

typedef struct {
	pci_devhdl_t h;
	pci_cap_t cap;
	bool msix;
	uint_t first; /* the thread's vectors: first .. first + PER - 1 */
	uint64_t seed;
	long calls, failures;
	bool masked[PER]; /* what the thread last asked for */
} worker_t;

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static pci_err_t call(const worker_t *w, uint_t v, bool mask, bool isr)
{
	if (w->msix) {
		if (mask)
			return isr ? cap_msix_mask_irq_entry_isr(w->h, w->cap, v)
				   : cap_msix_mask_irq_entry(w->h, w->cap, v);
		return isr ? cap_msix_unmask_irq_entry_isr(w->h, w->cap, v)
			   : cap_msix_unmask_irq_entry(w->h, w->cap, v);
	}
	/* MSI: the entry calls and the bit-mask calls */
	if (v & 1) {
		cap_msi_mask_t bit = 1u << v;
		if (mask)
			return isr ? cap_msi_mask_irq_isr(w->h, w->cap, bit)
				   : cap_msi_mask_irq(w->h, w->cap, bit);
		return isr ? cap_msi_unmask_irq_isr(w->h, w->cap, bit)
			   : cap_msi_unmask_irq(w->h, w->cap, bit);
	}
	if (mask)
		return isr ? cap_msi_mask_irq_entry_isr(w->h, w->cap, v)
			   : cap_msi_mask_irq_entry(w->h, w->cap, v);
	return isr ? cap_msi_unmask_irq_entry_isr(w->h, w->cap, v)
		   : cap_msi_unmask_irq_entry(w->h, w->cap, v);
}

static void *worker(void *arg)
{
	worker_t *w = arg;
	for (long i = 0; i < TOTAL / NTHREADS; i++) {
		uint64_t r = next_rand(&w->seed);
		uint_t j = (uint_t)(r % PER);
		bool mask = (r >> 8) & 1, isr = (r >> 9) & 1;
		pci_err_t err = call(w, w->first + j, mask, isr);
		w->calls++;
		if (err != PCI_ERR_OK)
			w->failures++;
		else
			w->masked[j] = mask;
	}
	return NULL;
}

/* Run the threads on (h, cap); returns the mask bits they leave, bit v =
 * vector v masked. */
static uint32_t run_threads(pci_devhdl_t h, pci_cap_t cap, bool msix)
{
	pthread_t t[NTHREADS];
	worker_t w[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (worker_t){.h = h,
				  .cap = cap,
				  .msix = msix,
				  .first = (uint_t)i * PER,
				  .seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1)};
		/* start from what enable left: every vector masked */
		for (int j = 0; j < PER; j++)
			w[i].masked[j] = true;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	long calls = 0, failures = 0;
	uint32_t expect = 0;
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		calls += w[i].calls;
		failures += w[i].failures;
		for (int j = 0; j < PER; j++)
			if (w[i].masked[j])
				expect |= 1u << (w[i].first + (uint_t)j);
	}
	printf("%s: %ld calls from %d threads, %ld failed\n", msix ? "MSI-X" : "MSI", calls,
	       NTHREADS, failures);
	assert_int_equal(calls, TOTAL);
	assert_int_equal(failures, 0);
	return expect;
}

static void test_msi_stress(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.msi.vectors = NVEC;
	d.msi.addr64 = d.msi.maskable = true;
	tu_add(BDF, &d);
	pci_devhdl_t h = tu_attach(BDF, pci_attachFlags_OWNER);
	pci_cap_t cap = NULL;
	int_t idx = pci_device_find_capid(BDF, CAPID_MSI);
	uint_t off;
	assert_int_equal(pcicap_device_cap_offset(BDF, (uint_t)idx, &off), PCI_ERR_OK);
	assert_int_equal(pci_device_read_cap(BDF, &cap, (uint_t)idx), PCI_ERR_OK);
	assert_int_equal(cap_msi_set_nirq(h, cap, NVEC), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_MANDATORY, cap), PCI_ERR_OK);
	pcicap_sim_reset_counters(BDF);
	uint32_t expect = run_threads(h, cap, false);
	/* one config write per call, no read */
	pcicap_sim_counters_t c = tu_counters(BDF);
	assert_true(c.cfg_writes == TOTAL && c.cfg_reads == 0);
	assert_int_equal(tu_peek32(BDF, off + 0x10), expect);
	cap_msi_mask_t mk;
	assert_int_equal(cap_msi_get_irq_mask(h, cap, &mk), PCI_ERR_OK);
	assert_int_equal(mk, expect);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

static uint32_t vc(uint_t e)
{
	uint8_t b[4];
	assert_int_equal(pcicap_sim_peek_bar(BDF, 0, TBL + 16u * e + 12, b, 4), PCI_ERR_OK);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void test_msix_stress(void **state)
{
	(void)state;
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.bar[0].size = 8192;
	d.msix.entries = NVEC;
	d.msix.table_off = TBL;
	d.msix.pba_off = PBA;
	tu_add(BDF, &d);
	pci_devhdl_t h = tu_attach(BDF, pci_attachFlags_OWNER);
	pci_cap_t cap = NULL;
	int_t idx = pci_device_find_capid(BDF, CAPID_MSIX);
	assert_int_equal(pci_device_read_cap(BDF, &cap, (uint_t)idx), PCI_ERR_OK);
	assert_int_equal(pci_device_cfg_cap_enable(h, pci_reqType_e_MANDATORY, cap), PCI_ERR_OK);
	pcicap_sim_reset_counters(BDF);
	uint32_t expect = run_threads(h, cap, true);
	/* one table write per call, plus the flushing read of each mask */
	pcicap_sim_counters_t c = tu_counters(BDF);
	assert_true(c.bar_writes == TOTAL && c.cfg_writes == 0);
	for (uint_t e = 0; e < NVEC; e++)
		assert_int_equal(vc(e), (expect >> e) & 1);
	/* the shadows agree: disable masks exactly the entries left unmasked */
	unsigned unmasked = 0;
	for (uint_t e = 0; e < NVEC; e++)
		unmasked += !((expect >> e) & 1);
	pcicap_sim_reset_counters(BDF);
	assert_int_equal(pci_device_cfg_cap_disable(h, pci_reqType_e_UNSPECIFIED, cap), PCI_ERR_OK);
	assert_true(tu_counters(BDF).bar_writes == unmasked);
	for (uint_t e = 0; e < NVEC; e++)
		assert_int_equal(vc(e), 1);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	free(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TU_TEST(test_msi_stress),
	    TU_TEST(test_msix_stress),
	};
	return TU_RUN(tests);
}
