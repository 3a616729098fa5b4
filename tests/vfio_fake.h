/*
 * A fake VFIO kernel for the unit tests of the "vfio" backend
 * (lib/backends/vfio.c): a sysfs tree in a temporary directory, /dev/vfio
 * nodes whose fds the fake serves (container, group, device ioctls, config
 * and BAR regions, mmap), a /proc/interrupts file, and the device side of
 * interrupts (fake_fire() writes to the eventfd the backend handed over).
 *
 * Devices are named as sysfs names them ("0000:00:03.0"). Everything is
 * installed with fake_install() before the backend's init.
 */
#ifndef PCICAP_TEST_VFIO_FAKE_H
#define PCICAP_TEST_VFIO_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_MAX_DEVS 32

/* VFIO interrupt indexes (as <linux/vfio.h>) */
enum { FAKE_IRQ_INTX, FAKE_IRQ_MSI, FAKE_IRQ_MSIX, FAKE_IRQ_ERR, FAKE_IRQ_REQ, FAKE_NIRQ_IDX };

typedef struct {
	uint64_t size; /* 0: not implemented */
	uint64_t addr; /* for the resource file */
	bool io;       /* an I/O BAR */
	bool mem64, prefetch;
	bool mmap; /* the region carries VFIO_REGION_INFO_FLAG_MMAP */
} fake_bar_t;

typedef struct {
	const char *name;   /* "dddd:bb:dd.f" */
	const uint8_t *cfg; /* config image, copied */
	size_t cfg_len;     /* 256 or 4096 */
	const char *driver; /* NULL: bound to no driver */
	int group;          /* IOMMU group, -1: no iommu_group link */
	bool noiommu;       /* the group node is /dev/vfio/noiommu-N */
	fake_bar_t bar[6];
	uint32_t nirq[FAKE_NIRQ_IDX]; /* VFIO_DEVICE_GET_IRQ_INFO counts */
	uint32_t max_vectors;         /* platform limit: SET_IRQS beyond it: ENOSPC (0: none) */
	bool reset;                   /* VFIO_DEVICE_FLAGS_RESET */
} fake_dev_spec_t;

/* Where a failure can be injected. */
typedef enum {
	FK_OPEN_CONTAINER,
	FK_OPEN_GROUP,
	FK_GROUP_STATUS,
	FK_SET_CONTAINER,
	FK_SET_IOMMU,
	FK_IOMMU_INFO,
	FK_GET_DEVICE_FD,
	FK_DEVICE_INFO,
	FK_REGION_INFO,
	FK_SET_IRQS_MSI,
	FK_SET_IRQS_MSIX,
	FK_SET_IRQS_REQ,
	FK_SET_IRQS_OFF, /* a disable (count 0) */
	FK_RESET,
	FK_MAP_DMA,
	FK_UNMAP_DMA,
	FK_MMAP,
	FK_REGION_READ,  /* pread of the device fd (config or BAR) */
	FK_REGION_WRITE, /* pwrite of the device fd */
	FK_COUNT
} fake_fault_t;

/* Build the tree under a new temporary directory and install the fake
 * system-call table (pcii_vfio_sys). Returns 0 or -1. */
int fake_install(const fake_dev_spec_t *specs, size_t n);
/* Remove the temporary tree (the in-memory state stays, so late calls
 * from the library's destructor are still served). */
void fake_remove(void);
/* Back to the defaults: no faults, API version, type1v2, IOVA ranges,
 * viable groups, names in /proc/interrupts, empty log. */
void fake_reset_knobs(void);

/* ---- faults and knobs ---- */
/* The next @times calls at @where fail with @err (@times < 0: every call
 * until fake_reset_knobs()). */
void fake_inject(fake_fault_t where, int err, int times);
void fake_set_api_version(int v);
void fake_set_type1v2(bool on);
void fake_set_viable(int group, bool viable);
/* Another process holds the group node open: opening it gives EBUSY. */
void fake_set_group_busy(int group, bool busy);
/* The IOVA ranges of IOMMU_GET_INFO (n = 0: no IOVA-range capability). */
void fake_set_iova_ranges(const uint64_t (*ranges)[2], size_t n);
/* Whether /proc/interrupts names the vectors vfio-pci requested. */
void fake_set_irq_names(bool on);
/* Re-point the device's driver link (NULL: bound to no driver). */
void fake_set_driver(const char *dev, const char *driver);
/* What sysfs shows of the device's config file. */
typedef enum {
	FAKE_SYSFS_NORMAL,
	FAKE_SYSFS_REMOVED, /* the device left: no config file */
	FAKE_SYSFS_SHORT,   /* what a non-root reader gets: the first 64 bytes */
} fake_sysfs_t;
void fake_set_sysfs(const char *dev, fake_sysfs_t how);
/* A kernel with MSI-X BARs mmap-able whole (Linux >= 4.16: the region
 * carries VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) instead of a sparse-mmap
 * capability that leaves the table out. */
void fake_set_msix_mappable(bool on);

/* ---- observation ---- */
/* Every call the backend made, as space-separated tokens ("open:group",
 * "ioctl:SET_IOMMU(3)", ...), since fake_log_clear(). */
const char *fake_log(void);
void fake_log_clear(void);
/* Whether the tokens appear in the log in this order (NULL-terminated). */
bool fake_log_in_order(const char *first, ...);
/* How often @token appears in the log. */
int fake_log_count(const char *token);
/* Live fds the fake handed out (containers, groups, devices). */
int fake_open_fds(void);
/* Live mmap()s of BAR areas. */
int fake_live_mmaps(void);
/* The fds of the last SET_IRQS with data for @index, as passed (-1 for
 * unused vectors); returns the count, 0 when the index is disabled. */
int fake_irq_fds(const char *dev, int index, int *fds, int max);
/* The Linux IRQ number the fake gave vector @vec of @index (-1: none). */
int fake_irq_number(const char *dev, int index, int vec);
/* The device sends message @vec of @index: the kernel signals the eventfd
 * it was given. False when no trigger is set for it. */
bool fake_fire(const char *dev, int index, int vec);
/* The kernel asks for the device back (the request IRQ). */
bool fake_request(const char *dev);
/* VFIO_DEVICE_RESET calls that succeeded. */
int fake_resets(const char *dev);
/* Counters of region accesses by pread/pwrite. */
typedef struct {
	unsigned cfg_reads, cfg_writes, bar_reads, bar_writes;
} fake_counters_t;
fake_counters_t fake_counters(const char *dev);
/* The hardware's config bytes (what sysfs shows). */
void fake_cfg_peek(const char *dev, unsigned off, void *buf, size_t len);
uint32_t fake_cfg_peek32(const char *dev, unsigned off);
/* The device's BAR memory, behind VFIO's back. */
void fake_bar_peek(const char *dev, int bar, uint64_t off, void *buf, size_t len);
void fake_bar_poke(const char *dev, int bar, uint64_t off, const void *buf, size_t len);
/* DMA mappings of all containers. */
typedef struct {
	uint64_t vaddr, iova, size;
} fake_dma_t;
size_t fake_dma_list(fake_dma_t *out, size_t max);
/* Path of the fake sysfs devices directory. */
const char *fake_sysfs(void);

#endif
