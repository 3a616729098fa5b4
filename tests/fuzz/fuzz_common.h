/* Shared by the libFuzzer harnesses: backend and module setup, an input
 * reader, invariant checks that abort (a crash to libFuzzer), and the
 * register views the harnesses compare the library's record with. */
#ifndef PCICAP_FUZZ_COMMON_H
#define PCICAP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/cap_msi.h>
#include <pci/cap_msix.h>
#include <pci/pci.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

/* An invariant of the library: its failure is a finding. */
#define FZ_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, __LINE__,     \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The simulator refuses (and says, at WARN level) an irq_free of an IRQ
 * the device does not hold: in the library that is a double free. */
static inline void fz_log(pcicap_log_level_t level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	if (strstr(msg, "irq_free refused")) {
		fprintf(stderr, "%s\n", msg);
		FZ_CHECK(!"an IRQ freed twice or by the wrong device");
	}
}

/* The simulator as backend and the real modules of the build tree (unless
 * the environment names others); IRQ double frees are findings. */
static inline void fz_init(void)
{
	pci_verbosity = PCICAP_LOG_WARN;
	pcicap_set_log_handler(fz_log, NULL);
	setenv("PCI_CAP_MODULE_DIR", PCICAP_FUZZ_MODULE_DIR, 0);
	/* lock files of scoped topologies: inside the build tree */
	setenv("PCICAP_RUNTIME_DIR", PCICAP_FUZZ_RUN_DIR, 0);
	if (pcicap_set_backend("sim") != PCI_ERR_OK) {
		fprintf(stderr, "cannot select the sim backend\n");
		exit(1);
	}
}

/* Input consumed byte by byte; past the end everything reads 0. */
typedef struct {
	const uint8_t *p;
	size_t n;
} fz_in_t;

static inline uint8_t fz_u8(fz_in_t *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fz_u16(fz_in_t *in)
{
	uint16_t lo = fz_u8(in);
	return (uint16_t)(lo | fz_u8(in) << 8);
}

static inline uint32_t fz_u32(fz_in_t *in)
{
	uint32_t lo = fz_u16(in);
	return lo | (uint32_t)fz_u16(in) << 16;
}

static inline uint32_t fz_peek(pci_bdf_t bdf, uint_t off, uint_t width)
{
	uint8_t b[4] = {0};
	if (pcicap_sim_peek_cfg(bdf, off, b, width) != PCI_ERR_OK)
		return 0;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The Enable bit of the MSI (0x05) or MSI-X (0x11) capability at @off as
 * the device holds it. */
static inline bool fz_hw_enabled(pci_bdf_t bdf, pci_capid_t id, uint_t off)
{
	uint32_t ctrl = fz_peek(bdf, off + 2, 2);
	return id == CAPID_MSI ? (ctrl & 1) : (ctrl & 0x8000);
}

/* No IRQ of the simulator's pool is held by anyone: resizing the pool is
 * refused (EAGAIN) while one is. */
static inline bool fz_pool_free(uint_t size)
{
	return pcicap_sim_set_irqs(size) == PCI_ERR_OK;
}

/* Seed writing: run a harness with PCICAP_FUZZ_WRITE_SEEDS=<dir> and it
 * writes its seeds there and exits (run-fuzz.sh does this first). */
#include <dirent.h>

/* Write @mode then @len bytes of @body as <dir>/<name>. */
static inline void fz_seed(const char *dir, const char *name, uint8_t mode, const void *body,
			   size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fputc(mode, f) == EOF || fwrite(body, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write seed %s\n", path);
		exit(1);
	}
}

/* Call @fn(dir, path, name) for each regular *.txt / *.conf / *.topo file
 * of @src. */
static inline void fz_each_file(const char *src, const char *dir,
				void (*fn)(const char *dir, const char *path, const char *name))
{
	DIR *d = opendir(src);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || e->d_name[0] == '.' ||
		    (strcmp(e->d_name + n - 4, ".txt") && strcmp(e->d_name + n - 5, ".conf") &&
		     strcmp(e->d_name + n - 5, ".topo")))
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", src, e->d_name);
		fn(dir, path, e->d_name);
	}
	closedir(d);
}

/* A whole file (at most 64 KiB), malloc()ed; *len receives its size. */
static inline char *fz_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(65536);
	*len = 0;
	if (f && buf)
		*len = fread(buf, 1, 65536, f);
	if (f)
		fclose(f);
	return buf;
}

/* The harness's seeds, when asked for. */
static inline void fz_maybe_write_seeds(void (*write)(const char *dir))
{
	const char *dir = getenv("PCICAP_FUZZ_WRITE_SEEDS");
	if (!dir || !*dir)
		return;
	write(dir);
	exit(0);
}

/* Every harness: libFuzzer's entry points, set up by fz_init() and
 * writing its seeds through @write_seeds when asked. */
#define FZ_HARNESS(write_seeds)                                                                    \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                                         \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                              \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                                          \
	{                                                                                          \
		(void)argc;                                                                        \
		(void)argv;                                                                        \
		fz_init();                                                                         \
		fz_maybe_write_seeds(write_seeds);                                                 \
		return 0;                                                                          \
	}

#endif
