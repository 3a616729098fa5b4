/*
 * edudrv: a QNX-style driver for QEMU's "edu" PCI device (1234:11e8), the
 * driver of docs/tutorial.md. It takes MSI-X when the device has it and the
 * platform gives it an IRQ for every vector, else MSI, and handles the
 * device's interrupts in edudrv_poll(), its interrupt loop over the IRQ
 * file descriptors.
 */
#ifndef EDUDRV_H
#define EDUDRV_H

#include <stdbool.h>
#include <stdint.h>
#include <pci/pci.h>

#define EDU_VID            0x1234
#define EDU_DID            0x11e8
#define EDUDRV_MAX_VECTORS 4

/* edu's registers in BAR 0 */
#define EDU_REG_STATUS 0x24 /* interrupt status: what the device raised */
#define EDU_REG_RAISE  0x60 /* write: raise an interrupt with this status */
#define EDU_REG_ACK    0x64 /* write: acknowledge these status bits */

typedef struct {
	pci_bdf_t bdf;
	pci_devhdl_t hdl;
	pci_cap_t cap;      /* the MSI-X or MSI capability in use */
	bool msix;          /* MSI-X, else MSI */
	bool maskable;      /* vectors can be masked while they are handled */
	int nvec;           /* vectors in use, one IRQ each */
	int fd[EDUDRV_MAX_VECTORS];           /* pcicap_irq_fd() of each vector */
	uint64_t handled[EDUDRV_MAX_VECTORS]; /* interrupts handled per vector */
	uint32_t status;    /* every interrupt status seen, ORed */
} edudrv_t;

/* Attach to the device at bdf and enable its interrupts. */
pci_err_t edudrv_open(edudrv_t *d, pci_bdf_t bdf);
/* Wait up to timeout_ms for interrupts and handle them. PCI_ERR_OK when
 * at least one was handled, PCI_ERR_EAGAIN when none came; another error
 * when the device stopped answering (removed, or held in reset), after
 * which only edudrv_close() is left to do. */
pci_err_t edudrv_poll(edudrv_t *d, int timeout_ms);
/* Ask the device for an interrupt: edu's raise register. */
pci_err_t edudrv_raise(edudrv_t *d, uint32_t status);
/* Disable the interrupts and detach. */
void edudrv_close(edudrv_t *d);

#endif
