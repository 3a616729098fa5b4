/**
 * @file pcicap/sim.h
 * @brief The simulator ("sim" backend): devices that behave like hardware,
 * for unit-testing drivers.
 *
 * Devices come from a topology file (`PCI_SIM_CONFIG`, format in
 * docs/simulator.md) and from the builder calls below. All calls here act
 * on the simulator whether or not it is the selected backend; the library
 * sees simulated devices when `PCI_HW_MODULE=sim` (or
 * pcicap_set_backend("sim")). The simulator's state is per process.
 *
 * Concurrency, for every call here: the structural calls (adding, loading,
 * clearing devices, the IRQ pool, the scope) take the simulator's mutex.
 * The device-side calls (raise, removal, hold-off, fault injection,
 * counters, peeks, the access log reader) take only the device's spin lock
 * or use atomics, so a test thread can play the device while the driver's
 * threads run; none of them may run while pcicap_sim_clear() does.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_SIM_H
#define PCICAP_SIM_H

#include <stddef.h>
#include <pci/pci.h>
#include <pcicap/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup pcicap_sim_build Simulator: devices
 *  @brief Describe devices, load topologies and dumps, size the IRQ pool.
 *  @{ */

/** BAR kinds for pcicap_sim_device_t. */
typedef enum {
	PCICAP_SIM_BAR_NONE = 0,  /**< not implemented */
	PCICAP_SIM_BAR_MEM32 = 1, /**< 32-bit memory */
	PCICAP_SIM_BAR_MEM64 = 2, /**< takes this BAR and the next */
	PCICAP_SIM_BAR_IO = 3,    /**< I/O space */
} pcicap_sim_bar_kind_t;

/** A declarative device. Initialise with pcicap_sim_device_init() and set
 *  what you need. The caller allocates it, so its layout is part of the
 *  ABI: a new field needs a new soname (docs/versioning.md). */
typedef struct {
	uint16_t vid;          /**< vendor ID */
	uint16_t did;          /**< device ID */
	uint32_t ccode;        /**< class code 0x00CCssrr */
	uint8_t revid;         /**< revision ID */
	uint16_t ssvid;        /**< subsystem vendor ID (type 0) */
	uint16_t ssid;         /**< subsystem ID (type 0) */
	uint8_t hdr_type;      /**< 0 = endpoint, 1 = PCI-PCI bridge */
	bool multifunction;    /**< header type bit 7 */
	bool pcie;             /**< add a PCI Express capability and 4 KiB config space */
	bool flr;              /**< PCIe: advertise Function Level Reset */
	pci_cs_t chassis_slot; /**< PCI_CS(c, s); 0 = not in a slot */
	/** The BARs (a bridge has BARs 0 and 1 only). */
	struct {
		pcicap_sim_bar_kind_t kind; /**< none, 32/64-bit memory or I/O */
		uint64_t size;              /**< power of two; MEM at least 16, IO at least 4 */
		bool prefetch;              /**< prefetchable memory */
		uint64_t addr; /**< assigned address (aligned to size), 0 = unassigned */
	} bar[6];
	/** The MSI capability. */
	struct {
		uint_t vectors; /**< 0 = no MSI capability; else 1, 2, 4, 8, 16 or 32 */
		bool addr64;    /**< 64-bit message address */
		bool maskable;  /**< per-vector masking (mask and pending registers) */
	} msi;
	/** The MSI-X capability. */
	struct {
		uint_t entries;     /**< 0 = no MSI-X capability; else 1..2048 */
		uint8_t table_bir;  /**< BAR of the table (0..5) */
		uint8_t pba_bir;    /**< BAR of the PBA (0..5) */
		uint32_t table_off; /**< offset of the table in its BAR, 8-byte aligned */
		uint32_t pba_off;   /**< offset of the PBA in its BAR, 8-byte aligned */
	} msix;
} pcicap_sim_device_t;

/**
 * Fill a device description with defaults.
 * Fill a description with the defaults: an endpoint 0x1234:0x0001 of class
 * 0xff0000 with BAR 0 a 4 KiB 32-bit memory BAR and no capabilities.
 * @param[out] d the description to fill; NULL does nothing
 * @par Interrupt context
 * Yes: it only writes @p d.
 * @par Thread safety
 * MT-Safe.
 */
void pcicap_sim_device_init(pcicap_sim_device_t *d);

/**
 * Add a simulated device built from a description.
 * Add a device built from a description: a coherent config image
 * (capabilities from 0x40: PCI Express, MSI, MSI-X, in that order) and
 * backed BAR memory. docs/simulator.md lists the consistency rules.
 * @param bdf where (domain in bits 31:17, at most PCICAP_DOMAIN_MAX)
 * @param d the description
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL @p d is NULL; the domain is too large; the
 *   description is inconsistent (a BAR size not a power of two, a BIR
 *   without a memory BAR, overlapping table and PBA, ...: logged at ERROR)
 * @retval PCI_ERR_EEXIST a device is at @p bdf already
 * @retval PCI_ERR_ENOMEM out of memory
 * @isr_no
 * @par Thread safety
 * MT-Safe (the simulator's mutex).
 */
pci_err_t pcicap_sim_add_device(pci_bdf_t bdf, const pcicap_sim_device_t *d);
/**
 * Add a simulated device from a raw config image.
 * Add a device from a raw config-space image, kept as it is (broken
 * capability lists included, for tests). Registers get the same write
 * semantics as a loaded dump.
 * @param bdf where
 * @param cfg the image
 * @param len 256 or 4096
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL @p cfg is NULL, @p len is neither 256 nor 4096, or
 *   the domain is too large
 * @retval PCI_ERR_EEXIST a device is at @p bdf already
 * @retval PCI_ERR_ENOMEM out of memory
 * @isr_no
 * @par Thread safety
 * MT-Safe (the simulator's mutex).
 */
pci_err_t pcicap_sim_add_config(pci_bdf_t bdf, const void *cfg, size_t len);
/**
 * Add the functions of an lspci dump to the simulator.
 * Add every function of an `lspci -x`, `-xxx` or `-xxxx` dump file, all or
 * nothing. BAR sizes are synthesised (docs/simulator.md).
 * @param path the dump file
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL @p path is NULL
 * @retval PCI_ERR_ENOENT no such file
 * @retval PCI_ERR_EIO a malformed line, or the file cannot be read; nothing
 *   from the file is added (the line is logged at ERROR)
 * @retval PCI_ERR_EEXIST one of its addresses is taken
 * @retval PCI_ERR_ENOMEM out of memory
 * @isr_no
 * @par Thread safety
 * MT-Safe (the simulator's mutex).
 */
pci_err_t pcicap_sim_add_dump(const char *path);
/**
 * Load a topology file into the simulator.
 * Load a topology file (the `PCI_SIM_CONFIG` format: `device`, `bar`,
 * `msi`, `msix`, `dump`, `irqs` and `scope` lines), adding to what is
 * there; all or nothing.
 * @param path the file; relative `dump` paths in it are relative to its
 *   directory
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL @p path is NULL
 * @retval PCI_ERR_ENOENT the file, or a dump it names, does not exist
 * @retval PCI_ERR_EIO a malformed line (logged at ERROR with file:line);
 *   nothing is added
 * @retval PCI_ERR_EEXIST an address is taken
 * @retval PCI_ERR_EAGAIN an `irqs` line while IRQs are allocated
 * @retval PCI_ERR_ENOMEM out of memory
 * @isr_no
 * @par Thread safety
 * MT-Safe (the simulator's mutex).
 */
pci_err_t pcicap_sim_load(const char *path);
/**
 * Load topology text into the simulator.
 * pcicap_sim_load() for topology text in memory.
 * @param text the topology
 * @param basedir the directory relative `dump` paths are relative to; NULL:
 *   the current directory
 * @return as pcicap_sim_load():
 * @retval PCI_ERR_EINVAL @p text is NULL
 * @retval PCI_ERR_ENOENT a dump it names does not exist
 * @retval PCI_ERR_EIO a malformed line (logged with `<string>:line`)
 * @retval PCI_ERR_EEXIST an address is taken
 * @retval PCI_ERR_EAGAIN an `irqs` line while IRQs are allocated
 * @retval PCI_ERR_ENOMEM out of memory
 * @isr_no
 * @par Thread safety
 * MT-Safe (the simulator's mutex).
 */
pci_err_t pcicap_sim_load_string(const char *text, const char *basedir);
/**
 * Remove every simulated device and reset the simulator.
 * Remove every device, close every IRQ's descriptor, reset the IRQ pool to
 * its default size (64) and clear the scope. Handles to removed devices
 * become invalid (their calls answer PCI_ERR_EINVAL or PCI_ERR_ENODEV). A
 * test's setup calls it to start from an empty simulator.
 * @isr_no
 * @par Thread safety
 * Not with anything else that touches simulated devices: no access, raise
 * or device-side call may run at the same time (they would find devices
 * freed under them).
 */
void pcicap_sim_clear(void);

/**
 * Size the simulator's interrupt pool.
 * Size of the interrupt pool (default 64). IRQ numbers are 256 + index.
 * @param n 1..65536
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL @p n is out of range
 * @retval PCI_ERR_EAGAIN IRQs are allocated: release them first
 * @isr_no
 * @par Thread safety
 * MT-Safe (the simulator's mutex).
 */
pci_err_t pcicap_sim_set_irqs(uint_t n);
/**
 * Set the ownership scope of simulated devices.
 * The ownership scope of simulated devices: NULL (the default) keeps
 * ownership private to this process; with a name, processes that load the
 * same name share ownership of same-addressed devices through lock files
 * in the runtime directory (`PCICAP_RUNTIME_DIR`), as host devices do.
 * @param name 1 to 64 characters of `A-Z a-z 0-9 . _ -`, or NULL
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL a bad name
 * @retval PCI_ERR_ENOMEM out of memory
 * @isr_no
 * @par Thread safety
 * MT-Safe (the simulator's mutex).
 */
pci_err_t pcicap_sim_set_scope(const char *name);
/** @} */

/** @defgroup pcicap_sim_device Simulator: the device side
 *  @brief Raise interrupts and inject faults, as the device would.
 *  @{ */
/**
 * Raise an interrupt from a simulated device.
 * The device signals interrupt @p vector (the MSI message number or the
 * MSI-X table entry). The capability used is MSI-X if it is enabled, else
 * MSI if it is enabled, else MSI-X if the device has it, else MSI.
 * Delivered as hardware would: the message programmed in the capability is
 * decoded and routed to the IRQ that owns it (MSI with fewer enabled than
 * capable vectors: the vector number replaces the low data bits that
 * Multiple Message Enable grants); a masked or disabled vector, or Bus
 * Master off, sets its pending bit instead and is delivered on
 * unmask/enable; a message that no IRQ owns is lost (counted in
 * stray_msgs). Delivery adds one to the IRQ's pcicap_irq_fd() count.
 * @param bdf the device
 * @param vector the vector or table entry, 0-based
 * @return PCI_ERR_OK (raised, whatever became of it), or:
 * @retval PCI_ERR_ENODEV no such device, or it is removed
 * @retval PCI_ERR_EINVAL the device has no MSI/MSI-X capability, or
 *   @p vector is at or beyond its capable count / table size
 * @par Interrupt context
 * No allocation and no mutex: the device's spin lock, then one write(2) to
 * the IRQ's eventfd. Call it from the test's thread or a thread playing the
 * device, not from a signal handler that may interrupt an access to the
 * same device.
 * @par Thread safety
 * MT-Safe: any number of threads may raise, on any devices, while the
 * driver's threads access them.
 */
pci_err_t pcicap_sim_raise(pci_bdf_t bdf, uint_t vector);

/**
 * Remove a simulated device by surprise, or bring it back.
 * Surprise removal: config and BAR reads still complete, returning all
 * ones, writes are dropped, the device is reported absent (the library's
 * calls answer PCI_ERR_ENODEV, the _isr calls PCI_ERR_DEV_NOT_AVAIL), and
 * pcicap_sim_raise() fails. @p removed false brings the device back as it
 * was and delivers what became deliverable.
 * @param bdf the device
 * @param removed true to remove, false to bring it back
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @par Interrupt context
 * An atomic flag (bringing the device back delivers pending interrupts:
 * spin lock and write(2)). From a test thread, not a signal handler.
 * @par Thread safety
 * MT-Safe.
 */
pci_err_t pcicap_sim_set_removed(pci_bdf_t bdf, bool removed);
/**
 * Hold a simulated device off (unavailable), or release it.
 * Hold-off: the device is present but unavailable (in reset, link down):
 * every access fails with PCI_ERR_DEV_NOT_AVAIL and raised interrupts stay
 * pending until it is released.
 * @param bdf the device
 * @param held true to hold off, false to release (and deliver what is
 *   pending and deliverable)
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @par Interrupt context
 * As pcicap_sim_set_removed().
 * @par Thread safety
 * MT-Safe.
 */
pci_err_t pcicap_sim_set_hold_off(pci_bdf_t bdf, bool held);
/**
 * Make a later access to a simulated device fail.
 * Make access number @p k from now to the device (config or BAR, read or
 * write; 1 = the next one) fail with @p err and do nothing. One-shot. The
 * count starts now and counts accesses that get past the hold-off check.
 * @param bdf the device
 * @param k which access; 0 disarms
 * @param err the error that access returns
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @retval PCI_ERR_EINVAL @p k is not 0 and @p err is PCI_ERR_OK
 * @par Interrupt context
 * Yes: atomic stores only.
 * @mt_lockfree
 */
pci_err_t pcicap_sim_fail_access(pci_bdf_t bdf, uint64_t k, pci_err_t err);
/**
 * Remove a simulated device at a later access.
 * Surprise removal at access number @p k from now (1 = the next one; config
 * or BAR, read or write): that access and every later one find the device
 * removed, as after pcicap_sim_set_removed(bdf, true). One-shot.
 * @param bdf the device
 * @param k which access; 0 disarms
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @par Interrupt context
 * Yes: atomic stores only.
 * @mt_lockfree
 */
pci_err_t pcicap_sim_remove_at(pci_bdf_t bdf, uint64_t k);
/** @} */

/** @defgroup pcicap_sim_observe Simulator: observing the device
 *  @brief Access counters, the access log, peeks, IRQ messages.
 *  @{ */
/** A device's access counters. An access is counted when the backend op
 *  returns PCI_ERR_OK, including accesses to a removed device; refused
 *  ones (hold-off, injected faults, bad arguments) are not. */
typedef struct {
	uint64_t cfg_reads;      /**< config reads (any width) */
	uint64_t cfg_writes;     /**< config writes (any width) */
	uint64_t bar_reads;      /**< BAR memory reads */
	uint64_t bar_writes;     /**< BAR memory writes */
	uint64_t irqs_delivered; /**< messages delivered to an IRQ */
	uint64_t stray_msgs;     /**< messages that matched no IRQ */
} pcicap_sim_counters_t;
/**
 * Read a simulated device's access counters.
 * Read a device's access counters: how many config and BAR accesses a
 * driver's call cost, how many interrupts reached an IRQ.
 * @param bdf the device
 * @param[out] c receives the counters
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @retval PCI_ERR_EINVAL @p c is NULL
 * @par Interrupt context
 * Yes: atomic loads only.
 * @mt_lockfree
 * @see pcicap_sim_reset_counters()
 */
pci_err_t pcicap_sim_get_counters(pci_bdf_t bdf, pcicap_sim_counters_t *c);
/**
 * Zero a simulated device's access counters.
 * Zero a device's access counters.
 * @param bdf the device
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @par Interrupt context
 * Yes: atomic stores only.
 * @mt_lockfree
 */
pci_err_t pcicap_sim_reset_counters(pci_bdf_t bdf);

/** What a logged access was. */
typedef enum {
	PCICAP_SIM_CFG_READ = 1,  /**< config read */
	PCICAP_SIM_CFG_WRITE = 2, /**< config write */
	PCICAP_SIM_BAR_READ = 3,  /**< BAR memory read */
	PCICAP_SIM_BAR_WRITE = 4, /**< BAR memory write */
} pcicap_sim_access_kind_t;
/** One logged access. */
typedef struct {
	pcicap_sim_access_kind_t kind; /**< what it was */
	int bar;                       /**< BAR index for BAR accesses, -1 for config */
	uint64_t offset;               /**< config offset, or offset in the BAR */
	uint_t width;                  /**< bytes */
	uint64_t value;                /**< value read or written */
} pcicap_sim_access_t;
/**
 * Start (or stop) logging a simulated device's accesses.
 * Start logging the device's accesses into a buffer of @p capacity
 * entries, allocated here (the access path never allocates); starting
 * again clears it. Entries past the capacity are counted but not kept.
 * @param bdf the device
 * @param capacity entries to keep; 0 stops logging and frees the buffer
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @retval PCI_ERR_ENOMEM the buffer cannot be allocated
 * @isr_no
 * @par Thread safety
 * MT-Safe (the device's spin lock).
 * @see pcicap_sim_log_get()
 */
pci_err_t pcicap_sim_log_start(pci_bdf_t bdf, size_t capacity);
/**
 * Copy the logged accesses of a simulated device.
 * Copy the logged accesses, oldest first.
 * @param bdf the device
 * @param[out] out receives up to @p max entries
 * @param max the capacity of @p out
 * @param[out] n receives how many accesses were logged in total since
 *   pcicap_sim_log_start() (may exceed what was kept and what was copied)
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @retval PCI_ERR_EINVAL @p n is NULL, or @p out is NULL with @p max > 0
 * @par Interrupt context
 * No allocation, the device's spin lock: from a test thread.
 * @par Thread safety
 * MT-Safe (the device's spin lock).
 */
pci_err_t pcicap_sim_log_get(pci_bdf_t bdf, pcicap_sim_access_t *out, size_t max, size_t *n);

/**
 * Read a simulated device's config space without side effects.
 * Read config bytes as the device holds them, without counting, logging or
 * side effects (a removed device's real contents too).
 * @param bdf the device
 * @param off the first byte
 * @param[out] buf receives the bytes
 * @param len how many; off + len within the config space
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @retval PCI_ERR_EINVAL the range is outside the config space, or @p buf
 *   is NULL with a nonzero @p len
 * @par Interrupt context
 * No allocation, the device's spin lock: from a test thread.
 * @par Thread safety
 * MT-Safe (the device's spin lock).
 */
pci_err_t pcicap_sim_peek_cfg(pci_bdf_t bdf, uint_t off, void *buf, size_t len);
/**
 * Read a simulated device's BAR memory without side effects.
 * Read BAR memory as the device holds it, without counting, logging or side
 * effects.
 * @param bdf the device
 * @param bar an implemented BAR, 0..5
 * @param off the first byte
 * @param[out] buf receives the bytes (0 beyond the first 1 GiB, which is
 *   all that is backed)
 * @param len how many; off + len within the BAR
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_ENODEV no such device
 * @retval PCI_ERR_EINVAL @p bar is not implemented, the range is outside
 *   it, or @p buf is NULL with a nonzero @p len
 * @par Interrupt context
 * No allocation, the device's spin lock: from a test thread.
 * @par Thread safety
 * MT-Safe (the device's spin lock).
 */
pci_err_t pcicap_sim_peek_bar(pci_bdf_t bdf, int bar, uint64_t off, void *buf, size_t len);
/**
 * Get the message (address, data) of a simulated IRQ.
 * The message (address, data) of a simulated IRQ, allocated or not: what a
 * device must send to reach it.
 * @param irq an IRQ of the pool (256 + index)
 * @param[out] addr receives the address; may be NULL
 * @param[out] data receives the data; may be NULL
 * @return PCI_ERR_OK, or:
 * @retval PCI_ERR_EINVAL @p irq is not in the pool
 * @par Interrupt context
 * No allocation, the IRQ's spin lock: from a test thread.
 * @par Thread safety
 * MT-Safe.
 */
pci_err_t pcicap_sim_irq_msg(pci_irq_t irq, uint64_t *addr, uint32_t *data);
/**
 * Count how often a simulated IRQ has fired.
 * How many times an IRQ has fired since it was allocated.
 * @param irq an IRQ of the pool
 * @return the count; 0 when @p irq is not in the pool or not allocated
 * @par Interrupt context
 * No allocation, the IRQ's spin lock: from a test thread.
 * @par Thread safety
 * MT-Safe.
 */
uint64_t pcicap_sim_irq_count(pci_irq_t irq);

/**
 * Get the simulator's backend table.
 * The simulator's backend table (the very ops the library calls when the
 * simulator is the backend) and the context they take. For measuring raw
 * accesses against the library's calls (pcicap-bench) and for wrapping the
 * simulator in an external backend. Accesses through these ops are
 * checked, counted and logged as any other; init and fini are the
 * backend's own (do not call them while the library uses the simulator).
 * @param[out] ctx receives the context for the ops; may be NULL
 * @return the table; never NULL
 * @par Interrupt context
 * Yes: it returns static data. (Each op's own rules are in
 * <pcicap/backend.h>.)
 * @par Thread safety
 * MT-Safe.
 */
const pcicap_backend_t *pcicap_sim_backend(void **ctx);
/** @} */

#ifdef __cplusplus
}
#endif
#endif
