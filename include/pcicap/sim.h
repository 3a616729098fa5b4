/*
 * pcicap simulator ("sim" backend): devices that behave like hardware, for
 * unit-testing drivers. Devices come from a topology file (PCI_SIM_CONFIG,
 * format in docs/simulator.md) and from the builder calls below.
 *
 * All calls here act on the simulator whether or not it is the selected
 * backend; the library sees simulated devices when PCI_HW_MODULE=sim (or
 * pcicap_set_backend("sim")). The simulator's state is per process.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_SIM_H
#define PCICAP_SIM_H

#include <stddef.h>
#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** BAR kinds for pcicap_sim_device_t. */
typedef enum {
	PCICAP_SIM_BAR_NONE = 0,
	PCICAP_SIM_BAR_MEM32 = 1,
	PCICAP_SIM_BAR_MEM64 = 2, /**< takes this BAR and the next */
	PCICAP_SIM_BAR_IO = 3,
} pcicap_sim_bar_kind_t;

/** A declarative device. Initialise with pcicap_sim_device_init() and set
 *  what you need; fields are only ever appended. */
typedef struct {
	uint16_t vid, did; /**< vendor, device ID */
	uint32_t ccode;    /**< class code 0x00CCssrr */
	uint8_t revid;
	uint16_t ssvid, ssid;  /**< subsystem vendor/ID (type 0) */
	uint8_t hdr_type;      /**< 0 = endpoint, 1 = PCI-PCI bridge */
	bool multifunction;    /**< header type bit 7 */
	bool pcie;             /**< add a PCI Express capability and 4 KiB config space */
	bool flr;              /**< PCIe: advertise Function Level Reset */
	pci_cs_t chassis_slot; /**< PCI_CS(c, s); 0 = not in a slot */
	struct {
		pcicap_sim_bar_kind_t kind;
		uint64_t size; /**< power of two; MEM at least 16, IO at least 4 */
		bool prefetch;
		uint64_t addr; /**< assigned address (aligned to size), 0 = unassigned */
	} bar[6];
	struct {
		uint_t vectors; /**< 0 = no MSI capability; else 1, 2, 4, 8, 16 or 32 */
		bool addr64;    /**< 64-bit message address */
		bool maskable;  /**< per-vector masking (mask and pending registers) */
	} msi;
	struct {
		uint_t entries;              /**< 0 = no MSI-X capability; else 1..2048 */
		uint8_t table_bir, pba_bir;  /**< BAR of the table / the PBA (0..5) */
		uint32_t table_off, pba_off; /**< offsets, 8-byte aligned */
	} msix;
} pcicap_sim_device_t;

/** Fill @p d with defaults: a memory-BAR endpoint 0x1234:0x0001 of class
 *  0xff0000 with no capabilities. */
void pcicap_sim_device_init(pcicap_sim_device_t *d);

/** Add a device at @p bdf (domain in bits 31:17).
 *  @return PCI_ERR_OK; PCI_ERR_EEXIST (address taken); PCI_ERR_EINVAL
 *  (inconsistent description: bad sizes, overlapping table/PBA, BIR without a
 *  memory BAR, ...); PCI_ERR_ENOMEM. */
pci_err_t pcicap_sim_add_device(pci_bdf_t bdf, const pcicap_sim_device_t *d);
/** Add a device from a raw config-space image of 256 or 4096 bytes (as is:
 *  broken capability lists are kept, for tests). Registers get the same
 *  write semantics as a loaded dump. @return as pcicap_sim_add_device(). */
pci_err_t pcicap_sim_add_config(pci_bdf_t bdf, const void *cfg, size_t len);
/** Add every function of an lspci -x/-xxx/-xxxx dump file.
 *  @return PCI_ERR_OK, PCI_ERR_ENOENT (no file), PCI_ERR_EIO (malformed
 *  line; nothing from the file is added), PCI_ERR_EEXIST, PCI_ERR_ENOMEM. */
pci_err_t pcicap_sim_add_dump(const char *path);
/** Load a topology file (the PCI_SIM_CONFIG format), adding to what is
 *  there. @return as pcicap_sim_add_dump(); a malformed line is PCI_ERR_EIO
 *  and adds nothing; PCI_ERR_EAGAIN for an `irqs` line while IRQs are held;
 *  PCI_ERR_EINVAL for a NULL path. */
pci_err_t pcicap_sim_load(const char *path);
/** As pcicap_sim_load() for topology text in memory; relative dump paths are
 *  relative to @p basedir (NULL: the current directory). */
pci_err_t pcicap_sim_load_string(const char *text, const char *basedir);
/** Remove every device and reset the IRQ pool to its default size (64),
 *  clearing the scope. Handles to removed devices become invalid. */
void pcicap_sim_clear(void);

/** Size of the interrupt pool (default 64, 1..65536).
 *  @return PCI_ERR_OK, PCI_ERR_EINVAL (out of range), PCI_ERR_EAGAIN (IRQs
 *  are allocated: release them first). */
pci_err_t pcicap_sim_set_irqs(uint_t n);
/** Ownership scope name (NULL: private to this process). */
pci_err_t pcicap_sim_set_scope(const char *name);

/** The device signals interrupt @p vector (the MSI message number or the
 *  MSI-X table entry). The capability used is MSI-X if it is enabled, else
 *  MSI if it is enabled, else MSI-X if the device has it, else MSI.
 *  Delivered as hardware would: the message programmed in the capability is
 *  decoded and routed to the IRQ that owns it (MSI with fewer enabled than
 *  capable vectors: the vector number replaces the low data bits that
 *  Multiple Message Enable grants); a masked or disabled vector sets its
 *  pending bit instead and is delivered on unmask/enable; a message that no
 *  IRQ owns is lost (counted in stray_msgs).
 *  @return PCI_ERR_OK (raised, whatever became of it); PCI_ERR_ENODEV (no
 *  such device, or removed); PCI_ERR_EINVAL (no MSI/MSI-X capability, or
 *  @p vector >= its capable count / table size). */
pci_err_t pcicap_sim_raise(pci_bdf_t bdf, uint_t vector);

/** Fault injection. */
/** Surprise removal: reads return all ones, writes are dropped, the device
 *  is reported absent (PCI_ERR_ENODEV). @p removed false brings it back. */
pci_err_t pcicap_sim_set_removed(pci_bdf_t bdf, bool removed);
/** Hold-off: the device is present but unavailable; every access fails
 *  with PCI_ERR_DEV_NOT_AVAIL until released. */
pci_err_t pcicap_sim_set_hold_off(pci_bdf_t bdf, bool held);
/** Make the @p k-th access (1 = the next one; config or BAR, read or write)
 *  to the device fail with @p err; k = 0 disarms. One-shot. */
pci_err_t pcicap_sim_fail_access(pci_bdf_t bdf, uint64_t k, pci_err_t err);
/** Surprise removal at the @p k-th access (1 = the next one; config or
 *  BAR, read or write): that access and every later one find the device
 *  removed, as after pcicap_sim_set_removed(bdf, true). k = 0 disarms.
 *  One-shot. @return PCI_ERR_OK, PCI_ERR_ENODEV (no such device). */
pci_err_t pcicap_sim_remove_at(pci_bdf_t bdf, uint64_t k);

/** Access accounting. */
typedef struct {
	uint64_t cfg_reads, cfg_writes; /**< config accesses (any width) */
	uint64_t bar_reads, bar_writes; /**< BAR memory accesses */
	uint64_t irqs_delivered;        /**< messages delivered to an IRQ */
	uint64_t stray_msgs;            /**< messages that matched no IRQ */
} pcicap_sim_counters_t;
pci_err_t pcicap_sim_get_counters(pci_bdf_t bdf, pcicap_sim_counters_t *c);
pci_err_t pcicap_sim_reset_counters(pci_bdf_t bdf);

typedef enum {
	PCICAP_SIM_CFG_READ = 1,
	PCICAP_SIM_CFG_WRITE = 2,
	PCICAP_SIM_BAR_READ = 3,
	PCICAP_SIM_BAR_WRITE = 4,
} pcicap_sim_access_kind_t;
typedef struct {
	pcicap_sim_access_kind_t kind;
	int bar; /**< BAR index for BAR accesses, -1 for config */
	uint64_t offset;
	uint_t width;   /**< bytes */
	uint64_t value; /**< value read or written */
} pcicap_sim_access_t;
/** Start logging accesses into a buffer of @p capacity entries (0 stops and
 *  frees it); starting again clears it. Entries past capacity are counted
 *  but not kept. */
pci_err_t pcicap_sim_log_start(pci_bdf_t bdf, size_t capacity);
/** Copy up to @p max logged entries into @p out; *n receives how many were
 *  logged in total (may exceed max). */
pci_err_t pcicap_sim_log_get(pci_bdf_t bdf, pcicap_sim_access_t *out, size_t max, size_t *n);

/** Test observation (not counted, no side effects). */
/** Read config bytes as the device holds them. */
pci_err_t pcicap_sim_peek_cfg(pci_bdf_t bdf, uint_t off, void *buf, size_t len);
/** Read BAR memory as the device holds it. */
pci_err_t pcicap_sim_peek_bar(pci_bdf_t bdf, int bar, uint64_t off, void *buf, size_t len);
/** The message of a simulated IRQ (allocated or not). */
pci_err_t pcicap_sim_irq_msg(pci_irq_t irq, uint64_t *addr, uint32_t *data);
/** Number of times @p irq has fired since it was allocated. */
uint64_t pcicap_sim_irq_count(pci_irq_t irq);

#ifdef __cplusplus
}
#endif
#endif
