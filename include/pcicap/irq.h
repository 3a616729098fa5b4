/*
 * pcicap interrupt delivery (extension): wait on an IRQ through a file
 * descriptor, since Linux userspace has no InterruptAttach().
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_IRQ_H
#define PCICAP_IRQ_H

#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A pollable descriptor for @p irq, one of the IRQs that
 * pci_device_read_irq() reports for @p hdl. It is an eventfd: it becomes
 * readable when the IRQ fires, and read() of 8 bytes returns and clears the
 * number of interrupts since the last read. The library owns it: do not
 * close it; it stays valid until the capability is disabled or the handle
 * detached. Thread-safe.
 * @return the fd, or -1 with errno EINVAL (bad handle, or @p irq not held by
 *   the handle's device), ENODEV (device gone) or ENOTSUP (the backend has no
 *   interrupt delivery).
 */
int pcicap_irq_fd(pci_devhdl_t hdl, pci_irq_t irq);

#ifdef __cplusplus
}
#endif
#endif
