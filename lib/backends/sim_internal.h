/*
 * Simulator backend internals shared by sim.c (device model, interrupts,
 * backend ops, public pcicap_sim_* calls) and sim_parse.c (lspci dump and
 * topology parsers).
 *
 * The parsers never touch the simulator's state: they turn text into a
 * batch of device descriptions (raw config images or declarative
 * pcicap_sim_device_t) plus the topology's settings, which sim.c then
 * validates and commits as a whole (all or nothing).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_SIM_INTERNAL_H
#define PCICAP_SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <pci/pci.h>
#include <pcicap/sim.h>

/** One device to add. */
typedef struct {
	pci_bdf_t bdf;
	bool raw;                 /**< true: cfg/len; false: desc */
	pcicap_sim_device_t desc; /**< declarative device */
	uint8_t *cfg;             /**< raw image (malloc()ed, owned by the batch) */
	uint_t len;               /**< 256 or 4096 */
	char where[160];          /**< "file:line" of its first line, for messages */
} pcii_sim_item_t;

/** What one load produces. */
typedef struct {
	pcii_sim_item_t *items;
	size_t n, cap;
	bool have_irqs;
	uint_t irqs;
	bool have_scope;
	char *scope; /**< malloc()ed */
} pcii_sim_batch_t;

/* ---- sim_parse.c ---- */
/** Parse an lspci -x/-xxx/-xxxx dump file into @p b.
 *  @return PCI_ERR_OK, PCI_ERR_ENOENT, PCI_ERR_EIO, PCI_ERR_ENOMEM. */
pci_err_t pcii_sim_parse_dump_file(const char *path, pcii_sim_batch_t *b);
/** The same for dump text in memory; @p name is used in messages. */
pci_err_t pcii_sim_parse_dump_text(const char *text, const char *name, pcii_sim_batch_t *b);
/** Parse topology text (@p name for messages, @p basedir for relative dump
 *  paths, NULL = current directory).
 *  @return PCI_ERR_OK, PCI_ERR_EIO (malformed; logged with file:line),
 *  PCI_ERR_ENOENT (a dump file is missing), PCI_ERR_ENOMEM. */
pci_err_t pcii_sim_parse_topology(const char *text, const char *name, const char *basedir,
				  pcii_sim_batch_t *b);
/** Read a whole file into a NUL-terminated malloc()ed buffer. */
pci_err_t pcii_sim_read_file(const char *path, char **text);
/** Append an item; returns NULL on allocation failure. */
pcii_sim_item_t *pcii_sim_batch_add(pcii_sim_batch_t *b);
void pcii_sim_batch_free(pcii_sim_batch_t *b);
/** A valid scope name: 1..64 of [A-Za-z0-9._-]. */
bool pcii_sim_scope_ok(const char *s);

/* ---- sim.c ---- */
/** Check a declarative device; on failure *why names the problem.
 *  @return PCI_ERR_OK or PCI_ERR_EINVAL. */
pci_err_t pcii_sim_check_desc(const pcicap_sim_device_t *d, const char **why);

/* IRQ numbering: IRQ = PCII_SIM_IRQ_BASE + pool index. */
#define PCII_SIM_IRQ_BASE       256
#define PCII_SIM_IRQS_DEFAULT   64u
#define PCII_SIM_IRQS_MAX       65536u
#define PCII_SIM_MSG_ADDR       0xFEE00000u
#define PCII_SIM_MSG_ADDR64_BIT (1ull << 32)
#define PCII_SIM_MSG_DATA       0x4000u

#endif
