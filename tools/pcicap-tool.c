/*
 * pcicap-tool: list PCI functions and decode their capabilities through
 * pcicap's public API, on the host (pciaccess backend, read-only) or on an
 * lspci dump (simulator). The MSI and MSI-X lines are those of lspci -vvv,
 * the hex dump that of lspci -x/-xxx/-xxxx. Usage in docs/tool.md and
 * pcicap-tool(1).
 *
 * Nothing here attaches to a device or writes to one: every value comes from
 * handle-free config reads (pcicap_device_cfg_read(), the capability walks).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

#define PROG "pcicap-tool"

/* A selection: -1 is "any". */
typedef struct {
	long dom, bus, dev, func;
	long vid, did, cls;
} filter_t;

static struct {
	int verbose;
	int hex;
	bool domains;
	const char *dump;
	filter_t f;
} opt = {.f = {-1, -1, -1, -1, -1, -1, -1}};

static bool denied; /* some read was refused (not root) */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage(FILE *to, int rc) __attribute__((noreturn));
static void usage(FILE *to, int rc)
{
	fputs("Usage: " PROG " [-v] [-x|-xxx|-xxxx] [-D] [-F <dump>] [-s [[domain:]bus:][dev][.fn]]\n"
	      "                   [-d [vendor]:[device][:class]]\n"
	      "  -v          capabilities, MSI/MSI-X decoded as lspci -vvv prints them\n"
	      "  -x          config space as hex: 64 bytes (-xxx: 256, -xxxx: all, up to 4096)\n"
	      "  -D          always show the PCI domain\n"
	      "  -F <dump>   read an lspci -x/-xxx/-xxxx dump (simulator) instead of the host\n"
	      "  -s <sel>    only the functions at this address (omitted parts or * match any)\n"
	      "  -d <sel>    only the functions with these IDs (omitted parts or * match any)\n"
	      "  -n          accepted for lspci compatibility (output is always numeric)\n"
	      "  -h          this help\n",
	      to);
	exit(rc);
}

/* ---- selection parsing (lspci's -s and -d syntax) ---- */

/* A hex field: empty or "*" is -1 (any); else at most @max. */
static bool parse_field(const char *s, size_t n, unsigned long max, long *out)
{
	if (n == 0 || (n == 1 && s[0] == '*')) {
		*out = -1;
		return true;
	}
	if (n > 8)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0'
		      : c >= 'a' && c <= 'f' ? c - 'a' + 10
		      : c >= 'A' && c <= 'F' ? c - 'A' + 10
					     : -1;
		if (d < 0)
			return false;
		v = v * 16 + (unsigned long)d;
	}
	if (v > max)
		return false;
	*out = (long)v;
	return true;
}

static void parse_slot(const char *arg, filter_t *f)
{
	const char *colon = strrchr(arg, ':');
	const char *sf = colon ? colon + 1 : arg;
	if (colon) {
		const char *c1 = memchr(arg, ':', (size_t)(colon - arg));
		if (c1) {
			if (memchr(c1 + 1, ':', (size_t)(colon - c1 - 1)) ||
			    !parse_field(arg, (size_t)(c1 - arg), 0xffff, &f->dom) ||
			    !parse_field(c1 + 1, (size_t)(colon - c1 - 1), 0xff, &f->bus))
				die("-s %s: invalid domain or bus number", arg);
		} else if (!parse_field(arg, (size_t)(colon - arg), 0xff, &f->bus)) {
			die("-s %s: invalid bus number", arg);
		}
	}
	const char *dot = strchr(sf, '.');
	size_t nslot = dot ? (size_t)(dot - sf) : strlen(sf);
	if (!parse_field(sf, nslot, 0x1f, &f->dev))
		die("-s %s: invalid slot number", arg);
	if (dot && !parse_field(dot + 1, strlen(dot + 1), 7, &f->func))
		die("-s %s: invalid function number", arg);
}

static void parse_ids(const char *arg, filter_t *f)
{
	const char *c1 = strchr(arg, ':');
	if (!c1)
		die("-d %s: expected [vendor]:[device][:class]", arg);
	const char *c2 = strchr(c1 + 1, ':');
	size_t ndid = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (!parse_field(arg, (size_t)(c1 - arg), 0xffff, &f->vid))
		die("-d %s: invalid vendor ID", arg);
	if (!parse_field(c1 + 1, ndid, 0xffff, &f->did))
		die("-d %s: invalid device ID", arg);
	if (c2 && !parse_field(c2 + 1, strlen(c2 + 1), 0xffff, &f->cls))
		die("-d %s: invalid class", arg);
}

/* ---- devices ---- */

typedef struct {
	pci_bdf_t bdf;
	uint8_t hdr[64];
	uint_t nhdr; /* header bytes read (64, or fewer when refused) */
} dev_t_;

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Read as much of [off, off+len) as the backend gives, in whole dwords;
 * returns the number of bytes read. */
static uint_t read_cfg(pci_bdf_t bdf, uint_t off, uint8_t *buf, uint_t len)
{
	if (pcicap_device_cfg_read(bdf, off, buf, len) == PCI_ERR_OK)
		return len;
	uint_t got = 0;
	while (got < len && pcicap_device_cfg_read(bdf, off + got, buf + got, 4) == PCI_ERR_OK)
		got += 4;
	denied = true;
	return got;
}

static bool matches(const dev_t_ *d)
{
	const filter_t *f = &opt.f;
	pci_bdf_t b = d->bdf;
	if ((f->dom >= 0 && (unsigned long)f->dom != PCICAP_BDF_DOMAIN(b)) ||
	    (f->bus >= 0 && (unsigned long)f->bus != PCI_BUS(b)) ||
	    (f->dev >= 0 && (unsigned long)f->dev != PCI_DEV(b)) ||
	    (f->func >= 0 && (unsigned long)f->func != PCI_FUNC(b)))
		return false;
	if (f->vid >= 0 && (d->nhdr < 2 || (long)le16(d->hdr) != f->vid))
		return false;
	if (f->did >= 0 && (d->nhdr < 4 || (long)le16(d->hdr + 2) != f->did))
		return false;
	if (f->cls >= 0 && (d->nhdr < 12 || (long)le16(d->hdr + 10) != f->cls))
		return false;
	return true;
}

static void print_name(const dev_t_ *d)
{
	pci_bdf_t b = d->bdf;
	if (opt.domains)
		printf("%04x:", PCICAP_BDF_DOMAIN(b));
	printf("%02x:%02x.%x", PCI_BUS(b), PCI_DEV(b), PCI_FUNC(b));
	if (d->nhdr < 12) {
		printf(" <config space not readable>\n");
		return;
	}
	printf(" %04x: %04x:%04x", le16(d->hdr + 10), le16(d->hdr), le16(d->hdr + 2));
	if (d->hdr[8])
		printf(" (rev %02x)", d->hdr[8]);
	putchar('\n');
}

/* ---- capability decoding ---- */

static const char *cap_name(unsigned id)
{
	static const char *const names[] = {
		[0x01] = "Power Management", [0x02] = "AGP", [0x03] = "Vital Product Data",
		[0x04] = "Slot ID", [0x05] = "MSI", [0x06] = "CompactPCI hot-swap",
		[0x07] = "PCI-X", [0x08] = "HyperTransport", [0x09] = "Vendor Specific",
		[0x0a] = "Debug port", [0x0b] = "CompactPCI central resource control",
		[0x0c] = "PCI Hot-plug", [0x0d] = "Subsystem", [0x0e] = "AGP3",
		[0x0f] = "Secure device", [0x10] = "Express", [0x11] = "MSI-X",
		[0x12] = "SATA HBA", [0x13] = "PCI Advanced Features",
		[0x14] = "Enhanced Allocation", [0x15] = "Flattening Portal Bridge",
	};
	return id < sizeof(names) / sizeof(names[0]) && names[id] ? names[id] : NULL;
}

static const char *xcap_name(unsigned id)
{
	static const char *const names[] = {
		[0x01] = "Advanced Error Reporting", [0x02] = "Virtual Channel",
		[0x03] = "Device Serial Number", [0x04] = "Power Budgeting",
		[0x05] = "Root Complex Link", [0x06] = "Root Complex Internal Link",
		[0x07] = "Root Complex Event Collector", [0x08] = "Multi-Function VC",
		[0x09] = "Virtual Channel", [0x0a] = "Root Complex Register Block",
		[0x0b] = "Vendor Specific", [0x0c] = "Configuration Access Correlation",
		[0x0d] = "Access Control Services", [0x0e] = "Alternative Routing-ID Interpretation",
		[0x0f] = "Address Translation Service", [0x10] = "Single Root I/O Virtualization",
		[0x11] = "Multi-Root I/O Virtualization", [0x12] = "Multicast",
		[0x13] = "Page Request Interface", [0x15] = "Resizable BAR",
		[0x16] = "Dynamic Power Allocation", [0x17] = "TPH Requester",
		[0x18] = "Latency Tolerance Reporting", [0x19] = "Secondary PCI Express",
		[0x1a] = "Protocol Multiplexing", [0x1b] = "Process Address Space ID",
		[0x1c] = "LN Requester", [0x1d] = "Downstream Port Containment",
		[0x1e] = "L1 PM Substates", [0x1f] = "Precision Time Measurement",
		[0x20] = "PCI Express over M-PHY", [0x21] = "FRS Queueing",
		[0x22] = "Readiness Time Reporting", [0x23] = "Designated Vendor-Specific",
		[0x24] = "VF Resizable BAR", [0x25] = "Data Link Feature",
		[0x26] = "Physical Layer 16.0 GT/s", [0x27] = "Lane Margining at the Receiver",
		[0x28] = "Hierarchy ID", [0x29] = "Native PCIe Enclosure Management",
		[0x2a] = "Physical Layer 32.0 GT/s", [0x2b] = "Alternate Protocol",
		[0x2c] = "System Firmware Intermediary",
	};
	return id < sizeof(names) / sizeof(names[0]) && names[id] ? names[id] : NULL;
}

static char pm(unsigned v) { return v ? '+' : '-'; }

/* Up to @size bytes of a capability (fewer at the end of config space);
 * the number read. */
static uint_t read_cap_bytes(pci_bdf_t bdf, uint_t off, uint8_t *c, uint_t size)
{
	uint_t avail = pcicap_device_cfg_size(bdf) - off;
	return read_cfg(bdf, off, c, avail < size ? avail & ~3u : size);
}

/* MSI, as lspci -vvv prints it. */
static void show_msi(pci_bdf_t bdf, uint_t off)
{
	uint8_t c[24] = {0};
	uint_t n = read_cap_bytes(bdf, off, c, sizeof(c));
	if (n < 4) {
		printf("\tCapabilities: [%02x] MSI: <unavailable>\n", off);
		return;
	}
	uint16_t ctl = le16(c + 2);
	bool is64 = ctl & 0x80, mask = ctl & 0x100;
	printf("\tCapabilities: [%02x] MSI: Enable%c Count=%u/%u Maskable%c 64bit%c\n", off,
	       pm(ctl & 1), 1u << ((ctl >> 4) & 7), 1u << ((ctl >> 1) & 7), pm(mask), pm(is64));
	uint_t need = (is64 ? 14u : 10u);
	if (n < need) {
		printf("\t\t<unavailable>\n");
		return;
	}
	if (is64)
		printf("\t\tAddress: %08x%08x  Data: %04x\n", le32(c + 8), le32(c + 4), le16(c + 12));
	else
		printf("\t\tAddress: %08x  Data: %04x\n", le32(c + 4), le16(c + 8));
	if (mask) {
		uint_t mo = is64 ? 16 : 12;
		if (n < mo + 8)
			printf("\t\t<unavailable>\n");
		else
			printf("\t\tMasking: %08x  Pending: %08x\n", le32(c + mo), le32(c + mo + 4));
	}
}

/* MSI-X, as lspci -vvv prints it. */
static void show_msix(pci_bdf_t bdf, uint_t off)
{
	uint8_t c[12] = {0};
	uint_t n = read_cap_bytes(bdf, off, c, sizeof(c));
	if (n < 4) {
		printf("\tCapabilities: [%02x] MSI-X: <unavailable>\n", off);
		return;
	}
	uint16_t ctl = le16(c + 2);
	printf("\tCapabilities: [%02x] MSI-X: Enable%c Count=%u Masked%c\n", off, pm(ctl & 0x8000),
	       (ctl & 0x7ffu) + 1, pm(ctl & 0x4000));
	if (n < 12) {
		printf("\t\t<unavailable>\n");
		return;
	}
	uint32_t t = le32(c + 4), p = le32(c + 8);
	printf("\t\tVector table: BAR=%u offset=%08x\n", t & 7, t & ~7u);
	printf("\t\tPBA: BAR=%u offset=%08x\n", p & 7, p & ~7u);
}

static void show_caps(const dev_t_ *d)
{
	pci_bdf_t bdf = d->bdf;
	uint8_t probe[4];
	if (d->nhdr < 64 || pcicap_device_cfg_read(bdf, 0x40, probe, 4) != PCI_ERR_OK) {
		denied = true;
		printf("\tCapabilities: <access denied>\n");
		return;
	}
	uint_t off = 0, last = 0;
	pci_err_t err;
	uint_t idx;
	for (idx = 0; (err = pcicap_device_cap_offset(bdf, idx, &off)) == PCI_ERR_OK; idx++) {
		pci_capid_t id = 0;
		last = off;
		if (pci_device_read_capid(bdf, &id, idx) != PCI_ERR_OK) {
			printf("\tCapabilities: [%02x] <unavailable>\n", off);
			continue;
		}
		if (id == 0x05) {
			show_msi(bdf, off);
		} else if (id == 0x11) {
			show_msix(bdf, off);
		} else {
			const char *nm = cap_name(id);
			if (nm)
				printf("\tCapabilities: [%02x] %s\n", off, nm);
			else
				printf("\tCapabilities: [%02x] Capability ID %#02x\n", off, id);
		}
	}
	if (err == PCI_ERR_EIO && idx)
		printf("\tCapabilities: <chain broken or looped after [%02x]>\n", last);
	else if (err == PCI_ERR_EIO)
		printf("\tCapabilities: <chain broken>\n");
	if (pcicap_device_cfg_size(bdf) <= 256)
		return;
	uint16_t xid;
	uint8_t ver;
	for (idx = 0; (err = pcicap_device_read_xcap(bdf, idx, &xid, &ver, &off)) == PCI_ERR_OK;
	     idx++) {
		last = off;
		const char *nm = xcap_name(xid);
		if (nm)
			printf("\tCapabilities: [%03x v%u] %s\n", off, ver, nm);
		else
			printf("\tCapabilities: [%03x v%u] Extended Capability ID %#04x\n", off, ver, xid);
	}
	if (err == PCI_ERR_EIO && idx)
		printf("\tCapabilities: <extended chain broken or looped after [%03x]>\n", last);
	else if (err == PCI_ERR_EIO)
		printf("\tCapabilities: <extended chain broken>\n");
}

static void show_hex(const dev_t_ *d)
{
	static uint8_t buf[4096];
	uint_t size = pcicap_device_cfg_size(d->bdf);
	uint_t want = opt.hex >= 4 ? size : opt.hex >= 3 ? 256 : 64;
	if (want > size)
		want = size;
	uint_t got = read_cfg(d->bdf, 0, buf, want) & ~15u;
	static const char hx[] = "0123456789abcdef";
	char line[16 * 3 + 8];
	for (uint_t o = 0; o < got; o += 16) {
		int n = snprintf(line, sizeof(line), "%02x:", o);
		for (uint_t i = 0; i < 16; i++) {
			line[n++] = ' ';
			line[n++] = hx[buf[o + i] >> 4];
			line[n++] = hx[buf[o + i] & 15];
		}
		line[n++] = '\n';
		fwrite(line, 1, (size_t)n, stdout);
	}
}

/* Collect the first error message of the library (the simulator's parser
 * names the file and line). */
static char lib_msg[512];
static void on_log(pcicap_log_level_t level, const char *msg, void *arg)
{
	if (level == PCICAP_LOG_ERROR && !lib_msg[0])
		snprintf(lib_msg, sizeof(lib_msg), "%s", msg);
}

static void select_backend(void)
{
	pci_err_t err;
	if (opt.dump) {
		unsetenv("PCI_SIM_CONFIG"); /* only the dump */
		if ((err = pcicap_set_backend("sim")) != PCI_ERR_OK)
			die("cannot start the simulator: %s", pci_strerror(err));
		uint_t saved = pci_verbosity;
		pci_verbosity = PCICAP_LOG_ERROR;
		pcicap_set_log_handler(on_log, NULL);
		err = pcicap_sim_add_dump(opt.dump);
		pcicap_set_log_handler(NULL, NULL);
		pci_verbosity = saved;
		if (err == PCI_ERR_ENOENT)
			die("%s: no such file", opt.dump);
		if (err == PCI_ERR_EEXIST)
			die("%s: a function appears twice", opt.dump);
		if (err == PCI_ERR_EIO && lib_msg[0]) {
			/* the parser's message names the file (and the line) */
			const char *m = strncmp(lib_msg, "sim: ", 5) ? lib_msg : lib_msg + 5;
			if (strncmp(m, opt.dump, strlen(opt.dump)) == 0)
				die("%s", m);
			die("%s: %s", opt.dump, m);
		}
		if (err != PCI_ERR_OK)
			die("%s: %s", opt.dump, pci_strerror(err));
		return;
	}
	const char *env = getenv("PCI_HW_MODULE");
	const char *want = env && *env ? env : "pciaccess";
	if ((err = pcicap_set_backend(want)) != PCI_ERR_OK)
		die("cannot use the %s backend: %s", want, pci_strerror(err));
}

int main(int argc, char **argv)
{
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	int c;
	while ((c = getopt(argc, argv, "vxnDF:s:d:h")) != -1) {
		switch (c) {
		case 'v': opt.verbose++; break;
		case 'x': opt.hex++; break;
		case 'n': break;
		case 'D': opt.domains = true; break;
		case 'F': opt.dump = optarg; break;
		case 's': parse_slot(optarg, &opt.f); break;
		case 'd': parse_ids(optarg, &opt.f); break;
		case 'h': usage(stdout, 0);
		default: usage(stderr, 2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see -h)", argv[optind]);

	select_backend();

	/* The table, in (domain, bus, dev, fn) order as the library keeps it. */
	size_t ndev = 0, cap = 0;
	dev_t_ *devs = NULL;
	for (uint_t idx = 0;; idx++) {
		pci_bdf_t bdf = pci_device_find(idx, PCI_VID_ANY, PCI_DID_ANY, PCI_CCODE_ANY);
		if (bdf == PCI_BDF_NONE)
			break;
		if (PCICAP_BDF_DOMAIN(bdf))
			opt.domains = true; /* as lspci: all or none show it */
		if (ndev == cap) {
			cap = cap ? cap * 2 : 64;
			dev_t_ *n = realloc(devs, cap * sizeof(*devs));
			if (!n)
				die("out of memory");
			devs = n;
		}
		devs[ndev++].bdf = bdf;
	}

	bool any = false;
	for (size_t i = 0; i < ndev; i++) {
		dev_t_ *d = &devs[i];
		d->nhdr = read_cfg(d->bdf, 0, d->hdr, 64);
		if (!matches(d))
			continue;
		any = true;
		print_name(d);
		if (opt.verbose) {
			show_caps(d);
			char drv[256];
			if (pcicap_device_driver(d->bdf, drv, sizeof(drv)) == PCI_ERR_OK)
				printf("\tKernel driver in use: %s\n", drv);
		}
		if (opt.hex)
			show_hex(d);
		if (opt.verbose || opt.hex)
			putchar('\n');
	}
	free(devs);
	if (fflush(stdout) != 0)
		die("write error: %s", strerror(errno));

	bool filtered = opt.f.dom >= 0 || opt.f.bus >= 0 || opt.f.dev >= 0 || opt.f.func >= 0 ||
			opt.f.vid >= 0 || opt.f.did >= 0 || opt.f.cls >= 0;
	if (!any && filtered)
		die("no such device");
	if (denied && !opt.dump)
		fprintf(stderr, PROG ": config space beyond the first 64 bytes (capabilities) "
				"needs root; shown what this user can read\n");
	return 0;
}
