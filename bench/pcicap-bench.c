/*
 * pcicap-bench: the hot paths of pcicap against their physical minimum and
 * against a raw baseline, in one run, on the simulator.
 *
 *  - bus accesses of the interrupt-time calls, of capability lookups and of
 *    a 2048-vector MSI-X enable, from the simulator's counters (exact);
 *  - instructions of one cap_msix_mask_irq_entry_isr() outside the backend's
 *    access functions, and its whole cost against the raw backend accesses
 *    it needs made directly (the bench runs itself under valgrind's
 *    callgrind for these);
 *  - the time to enumerate 65536 functions and read their capabilities
 *    against 4096 (linear is 16);
 *  - pcicap-tool against lspci (bench/tool-vs-lspci.sh), when pciutils is
 *    installed.
 *
 * Usage: pcicap-bench [--summary] [--quick] [--no-lspci]
 *        pcicap-bench --gen-topology N   (print the generated topology)
 * docs/performance.md describes every figure, its target and its anchor.
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pci/cap_msi.h>
#include <pci/cap_msix.h>
#include <pci/pci.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

#ifdef PCICAP_BENCH_CALLGRIND
#include <valgrind/callgrind.h>
#endif

#ifndef PCICAP_BENCH_MODULE_DIR
#define PCICAP_BENCH_MODULE_DIR ""
#endif
#ifndef PCICAP_BENCH_SOURCE_DIR
#define PCICAP_BENCH_SOURCE_DIR "."
#endif
#ifndef PCICAP_BENCH_BUILD_DIR
#define PCICAP_BENCH_BUILD_DIR "build"
#endif

/* ---------------------------------------------------------------- figures */

enum cmp { LE, LT, EQ, INFO };

typedef struct {
	const char *name;
	enum cmp cmp;
	double target;
	const char *what;
	bool set, na;
	double value;
	const char *why; /* when n/a */
} figure_t;

/* Every figure the bench prints, in order. */
#define FIG(n, c, t, w)                                                                            \
	{                                                                                          \
		.name = n, .cmp = c, .target = t, .what = w                                        \
	}
static figure_t figures[] = {
    FIG("msi_mask_cfg_writes", EQ, 1, "config writes per cap_msi_mask_irq_entry_isr()"),
    FIG("msi_mask_cfg_reads", EQ, 0, "config reads per cap_msi_mask_irq_entry_isr()"),
    FIG("msi_unmask_cfg_writes", EQ, 1, "config writes per cap_msi_unmask_irq_entry_isr()"),
    FIG("msi_unmask_cfg_reads", EQ, 0, "config reads per cap_msi_unmask_irq_entry_isr()"),
    FIG("msix_mask_bar_writes", EQ, 1, "table writes per cap_msix_mask_irq_entry_isr()"),
    FIG("msix_mask_bar_reads", EQ, 1, "table reads (the flush) per cap_msix_mask_irq_entry_isr()"),
    FIG("msix_unmask_bar_writes", EQ, 1, "table writes per cap_msix_unmask_irq_entry_isr()"),
    FIG("msix_unmask_bar_reads", EQ, 0, "table reads per cap_msix_unmask_irq_entry_isr()"),
    FIG("msix_mask_cfg_accesses", EQ, 0, "config accesses per MSI-X mask or unmask"),
    FIG("cap_lookup_cfg_accesses", EQ, 0,
	"config accesses of find_capid + read_cap (MSI, MSI-X) once walked"),
    FIG("cap_lookup_first_cfg_accesses", INFO, 0,
	"the same, first time: the list walk and the modules' attach"),
    FIG("msix_enable_2048_accesses", LE, 4 * 2048 + 8,
	"all accesses of an MSI-X enable, 2048 used"),
    FIG("msix_enable_accesses_per_vector", LE, 4, "the same per used vector (beyond 8 fixed)"),
    FIG("isr_mask_overhead_instr", LE, 100,
	"instructions of one MSI-X _isr mask outside bar_write/bar_read"),
    FIG("isr_mask_instr", INFO, 0, "instructions of one MSI-X _isr mask, whole"),
    FIG("raw_pair_instr", INFO, 0, "instructions of bar_write + bar_read made directly"),
    FIG("isr_mask_vs_raw_ratio", INFO, 0, "isr_mask_instr / raw_pair_instr"),
    FIG("isr_mask_ns", INFO, 0, "CPU time of one MSI-X _isr mask (native, best of 9 batches)"),
    FIG("raw_pair_ns", INFO, 0, "CPU time of bar_write + bar_read made directly (native)"),
    FIG("find_small_ms", INFO, 0, "CPU time: enumerate, read every capability, small topology"),
    FIG("find_large_ms", INFO, 0, "the same, topology 16 times as large"),
    FIG("find_scaling_ratio", LE, 20, "find_large_ms / find_small_ms (linear: 16)"),
    FIG("tool_vs_lspci_ratio", LT, 1, "pcicap-tool -v -F / lspci -vv -F, 4096 functions"),
};

static figure_t *fig(const char *name)
{
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		if (strcmp(figures[i].name, name) == 0)
			return &figures[i];
	fprintf(stderr, "pcicap-bench: no figure %s\n", name);
	exit(2);
}

static void set_value(const char *name, double v)
{
	figure_t *f = fig(name);
	f->set = true;
	f->na = false;
	f->value = v;
}

static void set_na(const char *name, const char *why)
{
	figure_t *f = fig(name);
	f->set = true;
	f->na = true;
	f->why = why;
}

static bool integral(double v)
{
	return v == (double)(long long)v;
}

static void format_value(const figure_t *f, char *buf, size_t len)
{
	if (!f->set || f->na)
		snprintf(buf, len, "n/a");
	else if (integral(f->value))
		snprintf(buf, len, "%lld", (long long)f->value);
	else
		snprintf(buf, len, "%.3f", f->value);
}

static const char *verdict(const figure_t *f)
{
	if (f->cmp == INFO)
		return "";
	if (!f->set || f->na)
		return "n/a";
	bool ok = f->cmp == EQ   ? f->value == f->target
		  : f->cmp == LT ? f->value < f->target
				 : f->value <= f->target;
	return ok ? "ok" : "MISSED";
}

static void print_summary(void)
{
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		char v[32];
		format_value(&figures[i], v, sizeof(v));
		printf("%s=%s\n", figures[i].name, v);
	}
}

static void print_table(void)
{
	printf("%-32s %10s %9s  %-6s  %s\n", "figure", "measured", "target", "", "what");
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		const figure_t *f = &figures[i];
		char v[32], t[32] = "";
		format_value(f, v, sizeof(v));
		if (f->cmp != INFO)
			snprintf(t, sizeof(t), "%s%g",
				 f->cmp == LE   ? "<= "
				 : f->cmp == LT ? "< "
						: "",
				 f->target);
		printf("%-32s %10s %9s  %-6s  %s", f->name, v, t, verdict(f), f->what);
		if (f->set && f->na)
			printf(" [%s]", f->why);
		printf("\n");
	}
}

/* ------------------------------------------------------------- utilities */

static bool quick;

static void die(const char *what, pci_err_t err)
{
	fprintf(stderr, "pcicap-bench: %s: %s\n", what, pci_strerror(err));
	exit(2);
}

#define CHECK(call)                                                                                \
	do {                                                                                       \
		pci_err_t e_ = (call);                                                             \
		if (e_ != PCI_ERR_OK)                                                              \
			die(#call, e_);                                                            \
	} while (0)

/* CPU time of this thread: a shared machine's other work does not count
 * while the bench is off the CPU (best-of-N takes care of the rest). */
static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static pcicap_sim_counters_t counters(pci_bdf_t bdf)
{
	pcicap_sim_counters_t c;
	CHECK(pcicap_sim_get_counters(bdf, &c));
	return c;
}

static uint64_t accesses(const pcicap_sim_counters_t *c)
{
	return c->cfg_reads + c->cfg_writes + c->bar_reads + c->bar_writes;
}

static void add_counters(pcicap_sim_counters_t *sum, const pcicap_sim_counters_t *c)
{
	sum->cfg_reads += c->cfg_reads;
	sum->cfg_writes += c->cfg_writes;
	sum->bar_reads += c->bar_reads;
	sum->bar_writes += c->bar_writes;
}

/* Bytes of BAR 0 for an MSI-X table of @n entries followed by its PBA. */
static uint64_t msix_bar_size(uint_t n)
{
	uint64_t need = 16ull * n + 8ull * ((n + 63) / 64), size = 512;
	while (size < need)
		size *= 2;
	return size;
}

/* A NIC-like function: MSI (8 vectors, 64-bit, maskable) when @msi, MSI-X
 * with @entries (table at 0 in BAR 0, PBA right after it) when non-zero. */
static void add_device(pci_bdf_t bdf, bool msi, uint_t entries, bool pcie)
{
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	d.vid = 0x8086;
	d.did = 0x10fb;
	d.ccode = 0x020000;
	d.pcie = pcie;
	d.bar[0].size = msix_bar_size(entries);
	if (msi) {
		d.msi.vectors = 8;
		d.msi.addr64 = true;
		d.msi.maskable = true;
	}
	d.msix.entries = entries;
	d.msix.pba_off = 16u * entries;
	CHECK(pcicap_sim_add_device(bdf, &d));
}

/* An owner handle and the capability @id of @bdf. */
typedef struct {
	pci_bdf_t bdf;
	pci_devhdl_t h;
	pci_cap_t cap;
} capdev_t;

static capdev_t open_cap(pci_bdf_t bdf, pci_capid_t id)
{
	capdev_t c = {.bdf = bdf};
	pci_err_t err;
	c.h = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	if (!c.h)
		die("pci_device_attach", err);
	int_t idx = pci_device_find_capid(bdf, id);
	if (idx < 0)
		die("pci_device_find_capid", PCI_ERR_ENOENT);
	CHECK(pci_device_read_cap(bdf, &c.cap, (uint_t)idx));
	return c;
}

static void close_cap(capdev_t *c)
{
	pci_device_detach(c->h);
	free(c->cap);
	c->cap = NULL;
}

/* An MSI-X capability of @entries entries, enabled, all entries used. */
static capdev_t open_msix_enabled(pci_bdf_t bdf, uint_t entries)
{
	add_device(bdf, false, entries, false);
	capdev_t x = open_cap(bdf, CAPID_MSIX);
	CHECK(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap));
	return x;
}

/* Per-call value of a count summed over @reps calls. */
static void set_per_call(const char *name, uint64_t sum, uint_t reps)
{
	set_value(name, (double)sum / reps);
}

/* ------------------------------------------------------ masking accesses */

#define MASK_REPS 64u

typedef pci_err_t (*entry_call_t)(pci_devhdl_t, pci_cap_t, uint_t);

/* The accesses of MASK_REPS unmask/mask pairs over @nvec vectors, each call
 * counted alone and summed. */
static void mask_costs(const capdev_t *c, entry_call_t unmask_fn, entry_call_t mask_fn, uint_t nvec,
		       pcicap_sim_counters_t *unmask, pcicap_sim_counters_t *mask)
{
	for (uint_t i = 0; i < MASK_REPS; i++) {
		for (int k = 0; k < 2; k++) {
			CHECK(pcicap_sim_reset_counters(c->bdf));
			CHECK((k ? mask_fn : unmask_fn)(c->h, c->cap, i % nvec));
			pcicap_sim_counters_t n = counters(c->bdf);
			add_counters(k ? mask : unmask, &n);
		}
	}
}

static void bench_msi_masking(void)
{
	pci_bdf_t bdf = PCI_BDF(1, 0, 0);
	add_device(bdf, true, 0, false);
	capdev_t m = open_cap(bdf, CAPID_MSI);
	CHECK(cap_msi_set_nirq(m.h, m.cap, 8));
	CHECK(pci_device_cfg_cap_enable(m.h, pci_reqType_e_MANDATORY, m.cap));
	pcicap_sim_counters_t mask = {0}, unmask = {0};
	mask_costs(&m, cap_msi_unmask_irq_entry_isr, cap_msi_mask_irq_entry_isr, 8, &unmask, &mask);
	set_per_call("msi_mask_cfg_writes", mask.cfg_writes, MASK_REPS);
	set_per_call("msi_mask_cfg_reads", mask.cfg_reads + mask.bar_reads + mask.bar_writes,
		     MASK_REPS);
	set_per_call("msi_unmask_cfg_writes", unmask.cfg_writes, MASK_REPS);
	set_per_call("msi_unmask_cfg_reads",
		     unmask.cfg_reads + unmask.bar_reads + unmask.bar_writes, MASK_REPS);
	close_cap(&m);
}

static void bench_msix_masking(void)
{
	pci_bdf_t bdf = PCI_BDF(2, 0, 0);
	capdev_t x = open_msix_enabled(bdf, 16);
	pcicap_sim_counters_t mask = {0}, unmask = {0};
	mask_costs(&x, cap_msix_unmask_irq_entry_isr, cap_msix_mask_irq_entry_isr, 16, &unmask,
		   &mask);
	set_per_call("msix_mask_bar_writes", mask.bar_writes, MASK_REPS);
	set_per_call("msix_mask_bar_reads", mask.bar_reads, MASK_REPS);
	set_per_call("msix_unmask_bar_writes", unmask.bar_writes, MASK_REPS);
	set_per_call("msix_unmask_bar_reads", unmask.bar_reads, MASK_REPS);
	set_per_call("msix_mask_cfg_accesses",
		     mask.cfg_reads + mask.cfg_writes + unmask.cfg_reads + unmask.cfg_writes,
		     MASK_REPS);
	close_cap(&x);
}

/* --------------------------------------------------------- cap lookups */

/* Config accesses of find_capid + read_cap for MSI and MSI-X, @reps times. */
static uint64_t lookup_round(pci_bdf_t bdf, uint_t reps)
{
	static const pci_capid_t ids[] = {CAPID_MSI, CAPID_MSIX};
	CHECK(pcicap_sim_reset_counters(bdf));
	for (uint_t r = 0; r < reps; r++) {
		for (size_t i = 0; i < 2; i++) {
			int_t idx = pci_device_find_capid(bdf, ids[i]);
			pci_cap_t cap = NULL;
			if (idx < 0)
				die("pci_device_find_capid", PCI_ERR_ENOENT);
			CHECK(pci_device_read_cap(bdf, &cap, (uint_t)idx));
			free(cap);
		}
	}
	pcicap_sim_counters_t c = counters(bdf);
	return c.cfg_reads + c.cfg_writes;
}

static void bench_cap_lookup(void)
{
	pci_bdf_t bdf = PCI_BDF(3, 0, 0);
	add_device(bdf, true, 16, true);
	set_value("cap_lookup_first_cfg_accesses", (double)lookup_round(bdf, 1));
	set_per_call("cap_lookup_cfg_accesses", lookup_round(bdf, 100), 100);
}

/* ------------------------------------------------------ 2048-entry enable */

static void bench_msix_enable(void)
{
	pci_bdf_t bdf = PCI_BDF(4, 0, 0);
	CHECK(pcicap_sim_set_irqs(2048));
	add_device(bdf, false, 2048, false);
	capdev_t x = open_cap(bdf, CAPID_MSIX);
	CHECK(pcicap_sim_reset_counters(bdf));
	CHECK(pci_device_cfg_cap_enable(x.h, pci_reqType_e_MANDATORY, x.cap));
	pcicap_sim_counters_t c = counters(bdf);
	set_value("msix_enable_2048_accesses", (double)accesses(&c));
	set_value("msix_enable_accesses_per_vector", (double)(accesses(&c) - 8) / 2048);
	close_cap(&x);
	CHECK(pcicap_sim_set_irqs(64));
}

/* ------------------------------------------------- the ISR path, natively */

/* The raw accesses one MSI-X mask needs, made directly through the
 * simulator's backend ops: the write of the vector-control word and the
 * read that flushes it. Called through a volatile pointer, so that the
 * compiler neither inlines nor specialises it and callgrind sees it whole. */
static bool raw_failed;

static void raw_pair(const pcicap_backend_t *be, void *ctx, pci_bdf_t bdf, uint64_t off)
{
	uint8_t w[4] = {1, 0, 0, 0}, r[4];
	if (be->bar_write(ctx, bdf, 0, off, w, 4) != PCI_ERR_OK ||
	    be->bar_read(ctx, bdf, 0, off, r, 4) != PCI_ERR_OK)
		raw_failed = true;
}
static void (*volatile raw_pair_fn)(const pcicap_backend_t *, void *, pci_bdf_t,
				    uint64_t) = raw_pair;

#ifdef PCICAP_BENCH_CALLGRIND
/* One call of each access op of the backend (<pcicap/backend.h>: present,
 * cfg_read, cfg_write, bar_read, bar_write), so that callgrind names them:
 * their inclusive cost is the backend's, not the library's. (It calls the
 * ops itself: raw_pair()'s collection toggle would stop the collection.) */
static void probe_ops(const pcicap_backend_t *be, void *ctx, pci_bdf_t bdf, uint64_t off)
{
	uint8_t b[4] = {0};
	if (be->present(ctx, bdf) != PCI_ERR_OK ||
	    be->cfg_read(ctx, bdf, 0xFC, b, 4) != PCI_ERR_OK ||
	    be->cfg_write(ctx, bdf, 0xFC, b, 4) != PCI_ERR_OK ||
	    be->bar_read(ctx, bdf, 0, off, b, 4) != PCI_ERR_OK ||
	    be->bar_write(ctx, bdf, 0, off, b, 4) != PCI_ERR_OK)
		raw_failed = true;
}
static void (*volatile probe_ops_fn)(const pcicap_backend_t *, void *, pci_bdf_t,
				     uint64_t) = probe_ops;
#endif

#define VC0 12u /* vector control of table entry 0 */

/* Time per call, in ns, of a batch of @n back-to-back masks of entry 0
 * (each one writes and flushes, masked before or not) or raw pairs. */
static double batch_ns(capdev_t *x, bool raw, uint_t n)
{
	void *ctx;
	const pcicap_backend_t *be = pcicap_sim_backend(&ctx);
	double t0 = now_ns();
	for (uint_t i = 0; i < n; i++) {
		if (raw)
			raw_pair_fn(be, ctx, x->bdf, VC0);
		else if (cap_msix_mask_irq_entry_isr(x->h, x->cap, 0) != PCI_ERR_OK)
			die("cap_msix_mask_irq_entry_isr", PCI_ERR_EIO);
	}
	return (now_ns() - t0) / n;
}

/* Masks and raw pairs in alternating batches (both see the same machine),
 * the best batch of each. */
static void bench_isr_native(void)
{
	pci_bdf_t bdf = PCI_BDF(5, 0, 0);
	capdev_t x = open_msix_enabled(bdf, 16);
	uint_t n = quick ? 2000 : 50000;
	double mask = 0, raw = 0;
	for (int b = 0; b < 9; b++) {
		double t = batch_ns(&x, false, n);
		mask = b == 0 || t < mask ? t : mask;
		t = batch_ns(&x, true, n);
		raw = b == 0 || t < raw ? t : raw;
	}
	set_value("isr_mask_ns", mask);
	set_value("raw_pair_ns", raw);
	if (raw_failed)
		die("raw backend access", PCI_ERR_EIO);
	close_cap(&x);
}

/* ----------------------------------------------- the ISR path, callgrind */

#define CG_CALLS 100u

/* Run under callgrind (--callgrind-child), collecting only inside
 * cap_msix_mask_irq_entry_isr(), raw_pair() and probe_ops(): CG_CALLS masks
 * (each after an unmask, which is not collected), a dump, CG_CALLS raw
 * pairs, a dump, the backend's access ops once, a dump. */
static int callgrind_child(void)
{
#ifdef PCICAP_BENCH_CALLGRIND
	pci_bdf_t bdf = PCI_BDF(6, 0, 0);
	capdev_t x = open_msix_enabled(bdf, 16);
	void *ctx;
	const pcicap_backend_t *be = pcicap_sim_backend(&ctx);
	for (int i = 0; i < 8; i++) { /* first calls resolve symbols, fault pages in */
		CHECK(cap_msix_unmask_irq_entry_isr(x.h, x.cap, 0));
		CHECK(cap_msix_mask_irq_entry_isr(x.h, x.cap, 0));
		raw_pair_fn(be, ctx, bdf, VC0);
	}
	CALLGRIND_ZERO_STATS;
	for (uint_t i = 0; i < CG_CALLS; i++) {
		CHECK(cap_msix_unmask_irq_entry_isr(x.h, x.cap, 0));
		CHECK(cap_msix_mask_irq_entry_isr(x.h, x.cap, 0));
	}
	CALLGRIND_DUMP_STATS_AT("mask");
	for (uint_t i = 0; i < CG_CALLS; i++)
		raw_pair_fn(be, ctx, bdf, VC0);
	CALLGRIND_DUMP_STATS_AT("raw");
	probe_ops_fn(be, ctx, bdf, VC0);
	CALLGRIND_DUMP_STATS_AT("ops");
	close_cap(&x);
	return raw_failed ? 1 : 0;
#else
	return 1;
#endif
}

static const char *const isr_figures[] = {"isr_mask_overhead_instr", "isr_mask_instr",
					  "raw_pair_instr", "isr_mask_vs_raw_ratio"};

static void isr_na(const char *why)
{
	for (size_t i = 0; i < sizeof(isr_figures) / sizeof(isr_figures[0]); i++)
		set_na(isr_figures[i], why);
}

#ifdef PCICAP_BENCH_CALLGRIND
/* What one callgrind dump says: the instructions collected, and the calls
 * (caller, callee, inclusive instructions). */
typedef struct {
	char caller[128], callee[128];
	uint64_t cost;
} cg_call_t;
typedef struct {
	uint64_t total;
	cg_call_t *calls;
	size_t ncalls;
} cg_dump_t;

/* The name in "fn=(id) name", "fn=(id)" (compressed: looked up in @names)
 * or "fn=name"; copied into @out. */
static void cg_name(const char *v, char names[][128], size_t nnames, char *out)
{
	size_t id = 0;
	if (*v == '(') {
		id = strtoul(v + 1, NULL, 10);
		const char *p = strchr(v, ')');
		v = p ? p + 1 : v;
		while (*v == ' ')
			v++;
	}
	if (*v)
		snprintf(out, 128, "%.*s", (int)strcspn(v, "\n"), v);
	else if (id < nnames)
		snprintf(out, 128, "%.127s", names[id]);
	else
		out[0] = 0;
	if (id && id < nnames && *v)
		snprintf(names[id], 128, "%s", out);
}

static bool cg_parse(const char *path, cg_dump_t *d)
{
	static char names[4096][128];
	memset(d, 0, sizeof(*d));
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[1024], fn[128] = "", cfn[128] = "";
	bool have_totals = false, call_cost_next = false;
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		if (call_cost_next) {
			call_cost_next = false;
			char *p = line;
			strtoull(p, &p, 10); /* the position */
			if (d->ncalls == cap) {
				cap = cap ? 2 * cap : 64;
				cg_call_t *n = realloc(d->calls, cap * sizeof(*n));
				if (!n)
					break;
				d->calls = n;
			}
			cg_call_t *c = &d->calls[d->ncalls++];
			snprintf(c->caller, sizeof(c->caller), "%s", fn);
			snprintf(c->callee, sizeof(c->callee), "%s", cfn);
			c->cost = strtoull(p, NULL, 10);
		} else if (strncmp(line, "fn=", 3) == 0) {
			cg_name(line + 3, names, 4096, fn);
		} else if (strncmp(line, "cfn=", 4) == 0) {
			cg_name(line + 4, names, 4096, cfn);
		} else if (strncmp(line, "calls=", 6) == 0) {
			call_cost_next = true;
		} else if (strncmp(line, "totals:", 7) == 0) {
			d->total = strtoull(line + 7, NULL, 10);
			have_totals = true;
		} else if (!have_totals && strncmp(line, "summary:", 8) == 0) {
			d->total = strtoull(line + 8, NULL, 10);
		}
	}
	fclose(f);
	return d->total > 0;
}

/* Inclusive instructions of the calls in @d to any function that
 * @callees_of calls in @ops (the backend's access ops, by name); *nfound
 * receives how many such functions @ops names. */
static uint64_t cg_cost_of_callees(const cg_dump_t *d, const cg_dump_t *ops, const char *callees_of,
				   size_t *nfound)
{
	uint64_t sum = 0;
	*nfound = 0;
	for (size_t r = 0; r < ops->ncalls; r++) {
		if (strcmp(ops->calls[r].caller, callees_of) != 0)
			continue;
		(*nfound)++;
		for (size_t i = 0; i < d->ncalls; i++)
			if (strcmp(d->calls[i].callee, ops->calls[r].callee) == 0)
				sum += d->calls[i].cost;
	}
	return sum;
}

/* Run this program under callgrind (--callgrind-child); its exit status. */
static int run_callgrind_child(const char *out)
{
	char self[PATH_MAX], arg[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	snprintf(arg, sizeof(arg), "--callgrind-out-file=%s", out);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("LD_BIND_NOW", "1", 1); /* no lazy binding inside the calls */
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execlp("valgrind", "valgrind", "-q", "--tool=callgrind", arg,
		       "--collect-atstart=no", "--toggle-collect=cap_msix_mask_irq_entry_isr",
		       "--toggle-collect=raw_pair", "--toggle-collect=probe_ops",
		       "--compress-strings=no", "--compress-pos=no", self, "--callgrind-child",
		       (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#endif

/* The callgrind run and its three dumps: masks, raw pairs, access ops. */
static void bench_isr_callgrind(void)
{
#ifndef PCICAP_BENCH_CALLGRIND
	isr_na("built without <valgrind/callgrind.h> or with sanitizers");
#else
	char dir[] = "/tmp/pcicap-bench.XXXXXX", out[PATH_MAX], part[3][PATH_MAX + 8];
	if (!mkdtemp(dir)) {
		isr_na("cannot create a temporary directory");
		return;
	}
	snprintf(out, sizeof(out), "%s/cg.out", dir);
	int st = run_callgrind_child(out);
	cg_dump_t d[3] = {{0}};
	bool ok = st == 0;
	for (int i = 0; i < 3; i++) {
		snprintf(part[i], sizeof(part[i]), "%s.%d", out, i + 1);
		ok = ok && cg_parse(part[i], &d[i]);
	}
	size_t nraw = 0, nops = 0;
	uint64_t back = ok ? cg_cost_of_callees(&d[0], &d[2], "probe_ops", &nops) : 0;
	if (ok)
		cg_cost_of_callees(&d[1], &d[1], "raw_pair", &nraw);
	if (!ok)
		isr_na(st == 127 ? "valgrind not found" : "the callgrind run failed");
	else if (nraw != 2 || nops < 4 || back == 0)
		isr_na("backend access ops not found in the callgrind output");
	else {
		set_value("isr_mask_instr", (double)d[0].total / CG_CALLS);
		set_value("raw_pair_instr", (double)d[1].total / CG_CALLS);
		set_value("isr_mask_overhead_instr", (double)(d[0].total - back) / CG_CALLS);
		set_value("isr_mask_vs_raw_ratio", (double)d[0].total / (double)d[1].total);
	}
	for (int i = 0; i < 3; i++) {
		free(d[i].calls);
		unlink(part[i]);
	}
	unlink(out);
	rmdir(dir);
#endif
}

/* ------------------------------------------------------- enumeration */

/* Topology text of @n NIC functions (MSI and MSI-X), 8 per device, 32
 * devices per bus, 256 buses per domain. */
static char *gen_topology(uint_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		die("open_memstream", PCI_ERR_ENOMEM);
	fprintf(f, "# %u functions (pcicap-bench --gen-topology %u)\n", n, n);
	for (uint_t i = 0; i < n; i++)
		fprintf(f,
			"device %04x:%02x:%02x.%u vendor=0x8086 device=0x10fb class=0x020000 "
			"multifunction\nbar 0 mem32 size=512\nmsi vectors=8 64bit maskable\n"
			"msix entries=16 table=0:0 pba=0:0x100\n",
			i >> 16, (i >> 8) & 0xFF, (i >> 3) & 0x1F, i & 7);
	if (fclose(f) != 0 || !buf)
		die("gen_topology", PCI_ERR_ENOMEM);
	return buf;
}

/* Every function by index, every capability of each read: the count of
 * capabilities read. */
static uint_t enumerate(void)
{
	uint_t ncaps = 0;
	for (uint_t idx = 0;; idx++) {
		pci_bdf_t bdf = pci_device_find(idx, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY);
		if (bdf == PCI_BDF_NONE)
			break;
		pci_capid_t id;
		for (uint_t k = 0; pci_device_read_capid(bdf, &id, k) == PCI_ERR_OK; k++) {
			pci_cap_t cap = NULL;
			if (pci_device_read_cap(bdf, &cap, k) == PCI_ERR_OK)
				ncaps++;
			free(cap);
		}
	}
	return ncaps;
}

/* An empty simulator, and a core that has let its records go (outside any
 * timing). */
static void sim_empty(void)
{
	pcicap_sim_clear();
	(void)pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY);
}

/* Push the caches' contents out (a small topology would otherwise still
 * be in them from its load, a large one not). */
static void evict_caches(void)
{
	static volatile uint8_t *buf;
	const size_t len = 64u << 20;
	if (!buf && !(buf = malloc(len)))
		die("malloc", PCI_ERR_ENOMEM);
	for (size_t i = 0; i < len; i += 64)
		buf[i] = (uint8_t)(buf[i] + 1);
}

/* Time in ms of enumerate() after a fresh load of @text. */
static double time_enumeration(const char *text, uint_t n)
{
	sim_empty();
	CHECK(pcicap_sim_load_string(text, NULL));
	evict_caches();
	double t0 = now_ns();
	uint_t caps = enumerate();
	double t = (now_ns() - t0) / 1e6;
	if (caps != 2 * n)
		die("enumerate: capabilities missing", PCI_ERR_EIO);
	return t;
}

/* The small and the large topology in turns (both see the same machine),
 * the best time of each. The allocator keeps the memory it is given back
 * (no trimming, no mmap per block), so that after the first round both
 * sizes run on memory already faulted in: the kernel's page zeroing,
 * which only the first touch pays, is not the library's scaling. */
static void bench_find_scaling(void)
{
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	uint_t large = quick ? 4096 : 65536, small = large / 16, rounds = quick ? 2 : 5;
	char *ts_text = gen_topology(small), *tl_text = gen_topology(large);
	double ts = 0, tl = 0;
	for (uint_t r = 0; r < rounds; r++) {
		for (int k = 0; k < 3; k++) {
			double t = time_enumeration(ts_text, small);
			ts = (r == 0 && k == 0) || t < ts ? t : ts;
		}
		double t = time_enumeration(tl_text, large);
		tl = r == 0 || t < tl ? t : tl;
	}
	sim_empty();
	free(ts_text);
	free(tl_text);
	set_value("find_small_ms", ts);
	set_value("find_large_ms", tl);
	set_value("find_scaling_ratio", tl / ts);
}

/* ------------------------------------------------- pcicap-tool vs lspci */

static char lspci_notes[2048];

static void bench_tool_vs_lspci(bool skip)
{
	const char *name = "tool_vs_lspci_ratio";
	if (quick || skip) {
		set_na(name, quick ? "--quick" : "--no-lspci");
		return;
	}
	if (system("command -v lspci >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1") != 0) {
		set_na(name, "lspci (pciutils) or python3 not installed");
		return;
	}
	char cmd[2 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "sh '%s/bench/tool-vs-lspci.sh' '%s' 2>&1",
		 PCICAP_BENCH_SOURCE_DIR, PCICAP_BENCH_BUILD_DIR);
	fflush(NULL);
	FILE *p = popen(cmd, "r");
	if (!p) {
		set_na(name, "cannot run bench/tool-vs-lspci.sh");
		return;
	}
	char line[512];
	double ratio = -1;
	size_t used = 0;
	while (fgets(line, sizeof(line), p)) {
		sscanf(line, "ratio (tool/lspci): %lf", &ratio);
		int k = snprintf(lspci_notes + used, sizeof(lspci_notes) - used, "  %s", line);
		if (k > 0 && (size_t)k < sizeof(lspci_notes) - used)
			used += (size_t)k;
	}
	if (pclose(p) != 0 || ratio < 0)
		set_na(name, "bench/tool-vs-lspci.sh failed");
	else
		set_value(name, ratio);
}

/* ------------------------------------------------------------------ main */

static int usage(FILE *f, int code)
{
	fprintf(f, "usage: pcicap-bench [--summary] [--quick] [--no-lspci]\n"
		   "       pcicap-bench --gen-topology N\n"
		   "  --summary   one name=value line per figure (default: a table)\n"
		   "  --quick     smaller topologies and fewer repetitions, no lspci run\n"
		   "  --no-lspci  skip the pcicap-tool/lspci comparison\n");
	return code;
}

int main(int argc, char **argv)
{
	bool summary = false, no_lspci = false, child = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--summary") == 0)
			summary = true;
		else if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--no-lspci") == 0)
			no_lspci = true;
		else if (strcmp(argv[i], "--callgrind-child") == 0)
			child = true;
		else if (strcmp(argv[i], "--gen-topology") == 0 && i + 1 < argc) {
			char *t = gen_topology((uint_t)strtoul(argv[++i], NULL, 0));
			fputs(t, stdout);
			free(t);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0)
			return usage(stdout, 0);
		else
			return usage(stderr, 2);
	}
	const char *mods = getenv("PCI_CAP_MODULE_DIR");
	static const char built_mods[] = PCICAP_BENCH_MODULE_DIR;
	if ((!mods || !*mods) && built_mods[0] != '\0')
		setenv("PCI_CAP_MODULE_DIR", built_mods, 1);
	unsetenv("PCI_SIM_CONFIG");
	CHECK(pcicap_set_backend("sim"));
	if (child)
		return callgrind_child();

	bench_msi_masking();
	bench_msix_masking();
	bench_cap_lookup();
	bench_msix_enable();
	bench_isr_native();
	bench_isr_callgrind();
	sim_empty();
	bench_find_scaling();
	bench_tool_vs_lspci(no_lspci);
	if (summary) {
		print_summary();
	} else {
		print_table();
		if (*lspci_notes)
			printf("\nbench/tool-vs-lspci.sh:\n%s", lspci_notes);
	}
	return 0;
}
