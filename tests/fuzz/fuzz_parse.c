/* libFuzzer harness 2: the dump and topology parsers.
 *
 * Input: one mode byte, then text. Even mode: the text is an lspci dump,
 * loaded with pcicap_sim_add_dump() (from a memfd). Odd mode: the text is
 * a topology, loaded with pcicap_sim_load_string() with the fixture dumps
 * as base directory ('/' is replaced, so `dump` lines name those files and
 * nothing else on the machine). Invariants: the result is one of the
 * documented codes; a failed load adds nothing; every device loaded has a
 * 256- or 4096-byte config space, a capability list that can be walked and
 * an owner attach that works and gives every IRQ back. */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"

static int memfd = -1;
static char memfd_path[64];

/* Seeds: every fixture dump as a dump (mode 0) and named by a topology
 * (mode 1); the fixture and example topologies (mode 1). */
static void seed_dump(const char *dir, const char *path, const char *name)
{
	size_t len;
	char *text = fz_slurp(path, &len);
	char seed[300], topo[400];
	snprintf(seed, sizeof(seed), "dump-%s", name);
	fz_seed(dir, seed, 0, text, len);
	snprintf(seed, sizeof(seed), "topo-%s", name);
	int n = snprintf(topo, sizeof(topo), "irqs 8\nscope fuzz\ndump %s\n", name);
	fz_seed(dir, seed, 1, topo, (size_t)n);
	free(text);
}

static void seed_topo(const char *dir, const char *path, const char *name)
{
	size_t len;
	char *text = fz_slurp(path, &len);
	char seed[300];
	snprintf(seed, sizeof(seed), "topology-%s", name);
	fz_seed(dir, seed, 1, text, len);
	free(text);
}

static void write_seeds(const char *dir)
{
	fz_each_file(PCICAP_FUZZ_DUMP_DIR, dir, seed_dump);
	char dirs[] = PCICAP_FUZZ_TOPO_DIRS;
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
		fz_each_file(d, dir, seed_topo);
}

FZ_HARNESS(write_seeds)

/* The memfd that dump inputs are written to (made at the first one). */
static const char *dump_file(void)
{
	if (memfd < 0) {
		memfd = memfd_create("pcicap-fuzz-dump", MFD_CLOEXEC);
		FZ_CHECK(memfd >= 0);
		snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	}
	return memfd_path;
}

static bool documented(pci_err_t e)
{
	return e == PCI_ERR_OK || e == PCI_ERR_EIO || e == PCI_ERR_ENOENT || e == PCI_ERR_EEXIST ||
	       e == PCI_ERR_ENOMEM || e == PCI_ERR_EAGAIN || e == PCI_ERR_EINVAL;
}

/* What a driver does first with each device: IDs, the capability walk,
 * an owner attach and detach. */
static void visit(pci_bdf_t bdf)
{
	uint_t size = pcicap_device_cfg_size(bdf);
	FZ_CHECK(size == 256 || size == 4096);
	pci_vid_t vid;
	FZ_CHECK(pci_device_read_vid(bdf, &vid) == PCI_ERR_OK);
	FZ_CHECK(vid == fz_peek(bdf, 0, 2));
	for (uint_t idx = 0; idx < 64; idx++) {
		pci_capid_t id;
		pci_err_t e = pci_device_read_capid(bdf, &id, idx);
		if (e != PCI_ERR_OK) {
			FZ_CHECK(e == PCI_ERR_ENOENT || e == PCI_ERR_EIO || e == PCI_ERR_ENODEV);
			break;
		}
		FZ_CHECK(idx < 48);
	}
	pci_err_t e;
	pci_devhdl_t h = pci_device_attach(bdf, pci_attachFlags_OWNER, &e);
	FZ_CHECK(h && e == PCI_ERR_OK);
	FZ_CHECK(pci_bdf(h) == bdf);
	FZ_CHECK(pci_device_detach(h) == PCI_ERR_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* the text: NUL-terminated, no NUL inside (the loaders take C strings) */
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	size_t len = strlen(text);
	bool topo = data[0] & 1;
	pcicap_sim_clear();
	pci_err_t e;
	if (topo) {
		for (size_t i = 0; i < len; i++)
			if (text[i] == '/')
				text[i] = '_';
		e = pcicap_sim_load_string(text, PCICAP_FUZZ_DUMP_DIR);
	} else {
		const char *path = dump_file();
		FZ_CHECK(ftruncate(memfd, 0) == 0);
		FZ_CHECK(pwrite(memfd, text, len, 0) == (ssize_t)len);
		e = pcicap_sim_add_dump(path);
	}
	free(text);
	FZ_CHECK(documented(e));
	pci_bdf_t first = pci_device_find(0, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY);
	if (e != PCI_ERR_OK) {
		FZ_CHECK(first == PCI_BDF_NONE); /* all or nothing */
	} else {
		pci_bdf_t bdf = first;
		for (uint_t i = 1; bdf != PCI_BDF_NONE && i <= 64; i++) {
			visit(bdf);
			bdf = pci_device_find(i, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY);
		}
		FZ_CHECK(fz_pool_free(64));
	}
	pcicap_sim_clear();
	return 0;
}
