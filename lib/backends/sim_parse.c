/*
 * Simulator input parsers: lspci -x/-xxx/-xxxx hex dumps and the topology
 * format of PCI_SIM_CONFIG (both described in docs/simulator.md).
 *
 * The parsers only produce a pcii_sim_batch_t; sim.c validates it against
 * the simulator's state and commits it as a whole, so a bad line anywhere
 * adds nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* mmap flags, strdup, strtok_r, eventfd */
#endif
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sim_internal.h"

#define DUMP_MAX_CFG    4096u
#define TOPO_MAX_TOKENS 24

/* ---------------------------------------------------------------- batch */

pcii_sim_item_t *pcii_sim_batch_add(pcii_sim_batch_t *b)
{
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 16;
		pcii_sim_item_t *ni = realloc(b->items, ncap * sizeof(*ni));
		if (!ni)
			return NULL;
		b->items = ni;
		b->cap = ncap;
	}
	pcii_sim_item_t *it = &b->items[b->n++];
	memset(it, 0, sizeof(*it));
	return it;
}

void pcii_sim_batch_free(pcii_sim_batch_t *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->items[i].cfg);
	free(b->items);
	free(b->scope);
	memset(b, 0, sizeof(*b));
}

pci_err_t pcii_sim_read_file(const char *path, char **text)
{
	*text = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		pci_err_t err =
		    (errno == ENOENT || errno == ENOTDIR) ? PCI_ERR_ENOENT : PCI_ERR_EIO;
		pcii_log(PCICAP_LOG_ERROR, "sim: cannot open %s: %s", path, strerror(errno));
		return err;
	}
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return PCI_ERR_ENOMEM;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				fclose(f);
				return PCI_ERR_ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad) {
		free(buf);
		pcii_log(PCICAP_LOG_ERROR, "sim: cannot read %s", path);
		return PCI_ERR_EIO;
	}
	if (memchr(buf, '\0', len)) {
		free(buf);
		pcii_log(PCICAP_LOG_ERROR, "sim: %s: not a text file (NUL byte)", path);
		return PCI_ERR_EIO;
	}
	buf[len] = '\0';
	*text = buf;
	return PCI_ERR_OK;
}

/* ------------------------------------------------------------ line reader */

/* Iterate over the lines of @p text: returns the next line (NUL-terminated
 * copy in @p buf, trailing blanks and CR stripped, leading blanks skipped),
 * or NULL at the end. Lines longer than the buffer are reported as such. */
typedef struct {
	const char *p;
	unsigned lineno;
} line_iter_t;

static const char *next_line(line_iter_t *it, char *buf, size_t bufsz, bool *too_long)
{
	if (!*it->p)
		return NULL;
	const char *s = it->p;
	const char *e = strchr(s, '\n');
	size_t len = e ? (size_t)(e - s) : strlen(s);
	it->p = e ? e + 1 : s + len;
	it->lineno++;
	*too_long = false;
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= bufsz) {
		*too_long = true;
		len = bufsz - 1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse exactly @p n hex digits at *s (advancing it). */
static bool hex_digits(const char **s, unsigned n, uint32_t *v)
{
	uint32_t r = 0;
	for (unsigned i = 0; i < n; i++) {
		int h = hexval((unsigned char)(*s)[i]);
		if (h < 0)
			return false;
		r = (r << 4) | (uint32_t)h;
	}
	*s += n;
	*v = r;
	return true;
}

/* Up to @p max hex digits (at least one) at *s, advancing it. */
static bool hex_field(const char **s, unsigned max, uint32_t *v)
{
	unsigned n = 0;
	while (hexval((unsigned char)(*s)[n]) >= 0)
		n++;
	if (n == 0 || n > max)
		return false;
	return hex_digits(s, n, v);
}

/* "[dddd:]bb:dd.f" at *sp (hex; one or two digits for bus and device, up
 * to 8 for the domain); on success *sp points just after it. The address
 * ends at a blank or the end of the string. */
static bool parse_bdf_at(const char **sp, pci_bdf_t *bdf)
{
	const char *s = *sp;
	size_t len = 0;
	unsigned colons = 0;
	while (s[len] && !isspace((unsigned char)s[len]))
		colons += s[len++] == ':';
	uint32_t dom = 0, bus, dev, fn;
	if (colons == 2) {
		if (!hex_field(&s, 8, &dom) || *s++ != ':')
			return false;
	} else if (colons != 1) {
		return false;
	}
	if (!hex_field(&s, 2, &bus) || *s++ != ':')
		return false;
	if (!hex_field(&s, 2, &dev) || *s++ != '.')
		return false;
	if (*s < '0' || *s > '7')
		return false;
	fn = (uint32_t)(*s++ - '0');
	if (dev > 0x1F || dom > PCICAP_DOMAIN_MAX)
		return false;
	*bdf = PCICAP_BDF(dom, bus, dev, fn);
	*sp = s;
	return true;
}

/* ------------------------------------------------------------------ dumps */

typedef struct {
	pcii_sim_item_t *it; /* function being filled, NULL before the first header */
	bool any_data;
	unsigned maxoff; /* highest byte offset given + 1 */
	unsigned line;   /* header line */
} dump_fn_t;

static pci_err_t dump_finish(dump_fn_t *fn, const char *name)
{
	if (!fn->it)
		return PCI_ERR_OK;
	if (!fn->any_data) {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: function has no config bytes", name, fn->line);
		return PCI_ERR_EIO;
	}
	fn->it->len = fn->maxoff > PCII_CFG_SIZE ? PCII_CFG_SIZE_EXT : PCII_CFG_SIZE;
	if (fn->it->len == PCII_CFG_SIZE) {
		uint8_t *small = realloc(fn->it->cfg, PCII_CFG_SIZE);
		if (small)
			fn->it->cfg = small;
	}
	fn->it = NULL;
	return PCI_ERR_OK;
}

/* "xx: hh hh ..." Returns 1 when @p s is a data line (parsed into @p fn),
 * 0 when it is not shaped like one, -1 when it is but is malformed. */
static int dump_data_line(const char *s, dump_fn_t *fn, const char *name, unsigned lineno)
{
	size_t nhex = 0;
	while (hexval((unsigned char)s[nhex]) >= 0)
		nhex++;
	if (nhex == 0 || nhex > 4 || s[nhex] != ':')
		return 0;
	if (s[nhex + 1] != '\0' && !isspace((unsigned char)s[nhex + 1]))
		return 0; /* "00:1f.2 ..." is a header */
	uint32_t off;
	const char *p = s;
	hex_digits(&p, (unsigned)nhex, &off);
	p++;
	if (!fn->it) {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: config bytes before any device header", name,
			 lineno);
		return -1;
	}
	unsigned count = 0;
	uint8_t bytes[16];
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		uint32_t v;
		if (count == 16 || !hex_digits(&p, 2, &v) || (*p && !isspace((unsigned char)*p))) {
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: malformed config bytes", name, lineno);
			return -1;
		}
		bytes[count++] = (uint8_t)v;
	}
	if (count == 0 || off + count > DUMP_MAX_CFG) {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: %s", name, lineno,
			 count ? "config bytes beyond 4096" : "offset without bytes");
		return -1;
	}
	memcpy(fn->it->cfg + off, bytes, count);
	fn->any_data = true;
	fn->maxoff = PCII_MAX(fn->maxoff, off + count);
	return 1;
}

pci_err_t pcii_sim_parse_dump_text(const char *text, const char *name, pcii_sim_batch_t *b)
{
	line_iter_t li = {text, 0};
	char buf[512];
	const char *s;
	bool too_long;
	dump_fn_t fn = {0};
	pci_err_t err;

	while ((s = next_line(&li, buf, sizeof(buf), &too_long))) {
		if (*s == '\0' || *s == '#')
			continue;
		int r = too_long ? 0 : dump_data_line(s, &fn, name, li.lineno);
		if (r < 0)
			return PCI_ERR_EIO;
		if (r > 0)
			continue;
		/* a header line: "[dddd:]bb:dd.f <description>" */
		const char *p = s;
		pci_bdf_t bdf;
		if (!parse_bdf_at(&p, &bdf) || (*p && !isspace((unsigned char)*p))) {
			pcii_log(PCICAP_LOG_ERROR,
				 "%s:%u: neither a device header nor config bytes", name,
				 li.lineno);
			return PCI_ERR_EIO;
		}
		if ((err = dump_finish(&fn, name)))
			return err;
		pcii_sim_item_t *it = pcii_sim_batch_add(b);
		if (!it)
			return PCI_ERR_ENOMEM;
		it->bdf = bdf;
		it->raw = true;
		it->cfg = calloc(1, DUMP_MAX_CFG);
		if (!it->cfg)
			return PCI_ERR_ENOMEM;
		snprintf(it->where, sizeof(it->where), "%s:%u", name, li.lineno);
		fn.it = it;
		fn.any_data = false;
		fn.maxoff = 0;
		fn.line = li.lineno;
	}
	return dump_finish(&fn, name);
}

pci_err_t pcii_sim_parse_dump_file(const char *path, pcii_sim_batch_t *b)
{
	char *text;
	pci_err_t err = pcii_sim_read_file(path, &text);
	if (err)
		return err;
	err = pcii_sim_parse_dump_text(text, path, b);
	free(text);
	return err;
}

/* --------------------------------------------------------------- topology */

typedef struct {
	const char *name;
	unsigned line;
} topo_pos_t;

/* Number in C syntax; with @p sizes, a K/M/G suffix multiplies by 2^10/20/30. */
static bool parse_num(const char *s, bool sizes, uint64_t *v)
{
	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	unsigned shift = 0;
	if (sizes && *end) {
		switch (*end) {
		case 'k':
		case 'K': shift = 10; break;
		case 'm':
		case 'M': shift = 20; break;
		case 'g':
		case 'G': shift = 30; break;
		default: return false;
		}
		end++;
	}
	if (*end)
		return false;
	if (shift && n > (UINT64_MAX >> shift))
		return false;
	*v = (uint64_t)n << shift;
	return true;
}

static bool parse_num_max(const char *s, uint64_t max, uint64_t *v)
{
	return parse_num(s, false, v) && *v <= max;
}

/* "a:b" with both parts numbers (C syntax) */
static bool parse_pair(const char *s, bool hex, uint64_t *a, uint64_t *b)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || strchr(colon + 1, ':'))
		return false;
	char left[64];
	size_t ll = (size_t)(colon - s);
	if (ll >= sizeof(left))
		return false;
	memcpy(left, s, ll);
	left[ll] = '\0';
	if (!hex)
		return parse_num(left, false, a) && parse_num(colon + 1, false, b);
	/* hex IDs without (or with) a 0x prefix */
	for (int k = 0; k < 2; k++) {
		const char *p = k ? colon + 1 : left;
		uint64_t *out = k ? b : a;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		if (!*p || strlen(p) > 8)
			return false;
		uint64_t v = 0;
		for (; *p; p++) {
			int h = hexval((unsigned char)*p);
			if (h < 0)
				return false;
			v = (v << 4) | (uint64_t)h;
		}
		*out = v;
	}
	return true;
}

static bool key_is(const char *tok, const char *key, const char **val)
{
	size_t n = strlen(key);
	if (strncmp(tok, key, n) == 0 && tok[n] == '=') {
		*val = tok + n + 1;
		return true;
	}
	return false;
}

bool pcii_sim_scope_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* State of the device block being parsed. */
typedef struct {
	int item; /* index into the batch, -1 = none */
	unsigned line;
	bool bar_seen[6];
	bool msi_seen, msix_seen;
} topo_dev_t;

static pci_err_t topo_end_device(topo_dev_t *td, pcii_sim_batch_t *b, const char *name)
{
	if (td->item < 0)
		return PCI_ERR_OK;
	const char *why = "invalid device";
	pcii_sim_item_t *it = &b->items[td->item];
	td->item = -1;
	if (pcii_sim_check_desc(&it->desc, &why) != PCI_ERR_OK) {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: device %02x:%02x.%u: %s", name, td->line,
			 PCI_BUS(it->bdf), PCI_DEV(it->bdf), PCI_FUNC(it->bdf), why);
		return PCI_ERR_EIO;
	}
	return PCI_ERR_OK;
}

static pci_err_t topo_device(char **tok, int ntok, topo_pos_t pos, pcii_sim_batch_t *b,
			     topo_dev_t *td)
{
	const char *p = tok[1];
	pci_bdf_t bdf;
	if (ntok < 2 || !parse_bdf_at(&p, &bdf) || *p) {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: device: expected an address [dddd:]bb:dd.f",
			 pos.name, pos.line);
		return PCI_ERR_EIO;
	}
	pcicap_sim_device_t d;
	pcicap_sim_device_init(&d);
	for (int i = 0; i < 6; i++)
		d.bar[i].kind = PCICAP_SIM_BAR_NONE, d.bar[i].size = 0;
	for (int i = 2; i < ntok; i++) {
		const char *v;
		uint64_t n, m;
		if (key_is(tok[i], "vendor", &v)) {
			if (!parse_num_max(v, 0xFFFF, &n))
				goto bad;
			d.vid = (uint16_t)n;
		} else if (key_is(tok[i], "device", &v)) {
			if (!parse_num_max(v, 0xFFFF, &n))
				goto bad;
			d.did = (uint16_t)n;
		} else if (key_is(tok[i], "class", &v)) {
			if (!parse_num_max(v, 0xFFFFFF, &n))
				goto bad;
			d.ccode = (uint32_t)n;
		} else if (key_is(tok[i], "rev", &v)) {
			if (!parse_num_max(v, 0xFF, &n))
				goto bad;
			d.revid = (uint8_t)n;
		} else if (key_is(tok[i], "subsys", &v)) {
			if (!parse_pair(v, true, &n, &m) || n > 0xFFFF || m > 0xFFFF)
				goto bad;
			d.ssvid = (uint16_t)n;
			d.ssid = (uint16_t)m;
		} else if (key_is(tok[i], "slot", &v)) {
			if (strchr(v, ':')) {
				if (!parse_pair(v, false, &n, &m) || n >= PCI_CS_MAX_CHASSIS ||
				    m >= PCI_CS_MAX_SLOTS)
					goto bad;
			} else {
				n = 0;
				if (!parse_num_max(v, PCI_CS_MAX_SLOTS - 1, &m))
					goto bad;
			}
			d.chassis_slot = PCI_CS(n, m);
		} else if (strcmp(tok[i], "bridge") == 0) {
			d.hdr_type = 1;
		} else if (strcmp(tok[i], "multifunction") == 0) {
			d.multifunction = true;
		} else if (strcmp(tok[i], "pcie") == 0) {
			d.pcie = true;
		} else if (strcmp(tok[i], "flr") == 0) {
			d.flr = true;
		} else {
		bad:
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: device: bad attribute '%s'", pos.name,
				 pos.line, tok[i]);
			return PCI_ERR_EIO;
		}
	}
	pcii_sim_item_t *it = pcii_sim_batch_add(b);
	if (!it)
		return PCI_ERR_ENOMEM;
	it->bdf = bdf;
	it->raw = false;
	it->desc = d;
	snprintf(it->where, sizeof(it->where), "%s:%u", pos.name, pos.line);
	td->item = (int)(b->n - 1);
	td->line = pos.line;
	memset(td->bar_seen, 0, sizeof(td->bar_seen));
	td->msi_seen = td->msix_seen = false;
	return PCI_ERR_OK;
}

static pci_err_t topo_bar(char **tok, int ntok, topo_pos_t pos, pcicap_sim_device_t *d,
			  topo_dev_t *td)
{
	uint64_t idx, n;
	if (ntok < 4 || !parse_num_max(tok[1], 5, &idx)) {
		pcii_log(PCICAP_LOG_ERROR,
			 "%s:%u: bar: expected 'bar <0-5> mem32|mem64|io size=<n>'", pos.name,
			 pos.line);
		return PCI_ERR_EIO;
	}
	if (td->bar_seen[idx]) {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: bar %u given twice", pos.name, pos.line,
			 (unsigned)idx);
		return PCI_ERR_EIO;
	}
	td->bar_seen[idx] = true;
	if (strcmp(tok[2], "mem32") == 0)
		d->bar[idx].kind = PCICAP_SIM_BAR_MEM32;
	else if (strcmp(tok[2], "mem64") == 0)
		d->bar[idx].kind = PCICAP_SIM_BAR_MEM64;
	else if (strcmp(tok[2], "io") == 0)
		d->bar[idx].kind = PCICAP_SIM_BAR_IO;
	else {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: bar: unknown kind '%s'", pos.name, pos.line,
			 tok[2]);
		return PCI_ERR_EIO;
	}
	bool have_size = false;
	for (int i = 3; i < ntok; i++) {
		const char *v;
		if (key_is(tok[i], "size", &v)) {
			if (!parse_num(v, true, &n))
				goto bad;
			d->bar[idx].size = n;
			have_size = true;
		} else if (key_is(tok[i], "addr", &v)) {
			if (!parse_num(v, true, &n))
				goto bad;
			d->bar[idx].addr = n;
		} else if (strcmp(tok[i], "prefetch") == 0) {
			d->bar[idx].prefetch = true;
		} else {
		bad:
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: bar: bad attribute '%s'", pos.name,
				 pos.line, tok[i]);
			return PCI_ERR_EIO;
		}
	}
	if (!have_size) {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: bar: size=<n> is required", pos.name, pos.line);
		return PCI_ERR_EIO;
	}
	return PCI_ERR_OK;
}

static pci_err_t topo_msi(char **tok, int ntok, topo_pos_t pos, pcicap_sim_device_t *d)
{
	bool have = false;
	for (int i = 1; i < ntok; i++) {
		const char *v;
		uint64_t n;
		if (key_is(tok[i], "vectors", &v)) {
			if (!parse_num_max(v, 32, &n) || n == 0)
				goto bad;
			d->msi.vectors = (uint_t)n;
			have = true;
		} else if (strcmp(tok[i], "64bit") == 0) {
			d->msi.addr64 = true;
		} else if (strcmp(tok[i], "maskable") == 0) {
			d->msi.maskable = true;
		} else {
		bad:
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: msi: bad attribute '%s'", pos.name,
				 pos.line, tok[i]);
			return PCI_ERR_EIO;
		}
	}
	if (!have) {
		pcii_log(PCICAP_LOG_ERROR, "%s:%u: msi: vectors=<n> is required", pos.name,
			 pos.line);
		return PCI_ERR_EIO;
	}
	return PCI_ERR_OK;
}

static pci_err_t topo_msix(char **tok, int ntok, topo_pos_t pos, pcicap_sim_device_t *d)
{
	bool have_n = false, have_t = false, have_p = false;
	for (int i = 1; i < ntok; i++) {
		const char *v;
		uint64_t n, m;
		if (key_is(tok[i], "entries", &v)) {
			if (!parse_num_max(v, 2048, &n) || n == 0)
				goto bad;
			d->msix.entries = (uint_t)n;
			have_n = true;
		} else if (key_is(tok[i], "table", &v)) {
			if (!parse_pair(v, false, &n, &m) || n > 5 || m > UINT32_MAX)
				goto bad;
			d->msix.table_bir = (uint8_t)n;
			d->msix.table_off = (uint32_t)m;
			have_t = true;
		} else if (key_is(tok[i], "pba", &v)) {
			if (!parse_pair(v, false, &n, &m) || n > 5 || m > UINT32_MAX)
				goto bad;
			d->msix.pba_bir = (uint8_t)n;
			d->msix.pba_off = (uint32_t)m;
			have_p = true;
		} else {
		bad:
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: msix: bad attribute '%s'", pos.name,
				 pos.line, tok[i]);
			return PCI_ERR_EIO;
		}
	}
	if (!have_n || !have_t || !have_p) {
		pcii_log(PCICAP_LOG_ERROR,
			 "%s:%u: msix: entries=<n> table=<bir>:<off> pba=<bir>:<off> are required",
			 pos.name, pos.line);
		return PCI_ERR_EIO;
	}
	return PCI_ERR_OK;
}

static pci_err_t topo_line(char *s, topo_pos_t pos, const char *basedir, pcii_sim_batch_t *b,
			   topo_dev_t *td)
{
	char *tok[TOPO_MAX_TOKENS];
	int ntok = 0;
	char *save = NULL;
	for (char *t = strtok_r(s, " \t\v\f", &save); t; t = strtok_r(NULL, " \t\v\f", &save)) {
		if (ntok == TOPO_MAX_TOKENS) {
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: too many words", pos.name, pos.line);
			return PCI_ERR_EIO;
		}
		tok[ntok++] = t;
	}
	if (ntok == 0)
		return PCI_ERR_OK;
	const char *kw = tok[0];
	pci_err_t err;

	if (strcmp(kw, "bar") == 0 || strcmp(kw, "msi") == 0 || strcmp(kw, "msix") == 0) {
		if (td->item < 0) {
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: '%s' outside a device block", pos.name,
				 pos.line, kw);
			return PCI_ERR_EIO;
		}
		pcicap_sim_device_t *d = &b->items[td->item].desc;
		if (kw[0] == 'b')
			return topo_bar(tok, ntok, pos, d, td);
		bool x = kw[3] == 'x';
		if (x ? td->msix_seen : td->msi_seen) {
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: %s given twice", pos.name, pos.line, kw);
			return PCI_ERR_EIO;
		}
		if (x) {
			td->msix_seen = true;
			return topo_msix(tok, ntok, pos, d);
		}
		td->msi_seen = true;
		return topo_msi(tok, ntok, pos, d);
	}

	/* every other line ends the current device block */
	if ((err = topo_end_device(td, b, pos.name)))
		return err;

	if (strcmp(kw, "device") == 0)
		return topo_device(tok, ntok, pos, b, td);
	if (strcmp(kw, "irqs") == 0) {
		uint64_t n;
		if (ntok != 2 || !parse_num(tok[1], false, &n) || n < 1 || n > PCII_SIM_IRQS_MAX) {
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: irqs: expected a count from 1 to %u",
				 pos.name, pos.line, PCII_SIM_IRQS_MAX);
			return PCI_ERR_EIO;
		}
		b->have_irqs = true;
		b->irqs = (uint_t)n;
		return PCI_ERR_OK;
	}
	if (strcmp(kw, "scope") == 0) {
		if (ntok != 2 || !pcii_sim_scope_ok(tok[1])) {
			pcii_log(
			    PCICAP_LOG_ERROR,
			    "%s:%u: scope: expected one name of letters, digits, '.', '_', '-'",
			    pos.name, pos.line);
			return PCI_ERR_EIO;
		}
		char *sc = strdup(tok[1]);
		if (!sc)
			return PCI_ERR_ENOMEM;
		free(b->scope);
		b->scope = sc;
		b->have_scope = true;
		return PCI_ERR_OK;
	}
	if (strcmp(kw, "dump") == 0) {
		if (ntok != 2) {
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: dump: expected one path", pos.name,
				 pos.line);
			return PCI_ERR_EIO;
		}
		const char *path = tok[1];
		char *full = NULL;
		if (path[0] != '/' && basedir && *basedir) {
			size_t n = strlen(basedir) + strlen(path) + 2;
			full = malloc(n);
			if (!full)
				return PCI_ERR_ENOMEM;
			snprintf(full, n, "%s/%s", basedir, path);
			path = full;
		}
		err = pcii_sim_parse_dump_file(path, b);
		if (err)
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: dump %s failed: %s", pos.name, pos.line,
				 path, pci_strerror(err));
		free(full);
		return err;
	}
	pcii_log(PCICAP_LOG_ERROR, "%s:%u: unknown line kind '%s'", pos.name, pos.line, kw);
	return PCI_ERR_EIO;
}

/* Cut a comment: '#' at the start of the line or after a blank. */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

pci_err_t pcii_sim_parse_topology(const char *text, const char *name, const char *basedir,
				  pcii_sim_batch_t *b)
{
	line_iter_t li = {text, 0};
	char buf[1024];
	const char *s;
	bool too_long;
	topo_dev_t td = {.item = -1};
	pci_err_t err;

	while ((s = next_line(&li, buf, sizeof(buf), &too_long))) {
		if (too_long) {
			pcii_log(PCICAP_LOG_ERROR, "%s:%u: line too long", name, li.lineno);
			return PCI_ERR_EIO;
		}
		strip_comment(buf);
		topo_pos_t pos = {name, li.lineno};
		if ((err = topo_line(buf, pos, basedir, b, &td)))
			return err;
	}
	return topo_end_device(&td, b, name);
}
