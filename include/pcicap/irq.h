/**
 * @file pcicap/irq.h
 * @brief Interrupt delivery (pcicap extension): wait on an IRQ through a
 * file descriptor, since Linux userspace has no InterruptAttach().
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_IRQ_H
#define PCICAP_IRQ_H

#include <pci/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup pcicap_irq Interrupt delivery
 *  @brief An eventfd per IRQ: poll it, read it, handle the interrupt.
 *  @{ */
/**
 * Get a pollable file descriptor for an IRQ.
 * A pollable descriptor for @p irq, one of the IRQs that
 * pci_device_read_irq() reports for the handle's function (after an MSI or
 * MSI-X enable). It is an eventfd: it becomes readable when the IRQ fires,
 * and a read(2) of 8 bytes returns and clears the number of interrupts
 * since the last read. A driver waits on it with poll(2) or epoll, or
 * blocks in read(2) in a thread of its own: that thread is its interrupt
 * service routine. The vector stays masked or unmasked as the driver
 * leaves it; the fd only reports.
 *
 * The library owns the descriptor: do not close it. The same descriptor is
 * returned for the life of the allocation; it is closed when the
 * capability is disabled (also by the detach of the handle that enabled
 * it, or a reset), so stop waiting on it before.
 * @param hdl a handle of the function (OWNER not needed)
 * @param irq an IRQ that the function holds
 * @return the descriptor, or -1 with errno set:
 * @retval EINVAL @p hdl is NULL, forged or detached, or @p irq is not held
 *   by the handle's function
 * @retval ENODEV the function left the bus
 * @retval ENOTSUP the backend has no interrupt delivery (pciaccess)
 * @retval EMFILE the process is out of descriptors (or another errno of
 *   eventfd(2): the simulator creates a descriptor at its first call)
 * @par Interrupt context
 * No: it takes the library's mutex. Get the descriptors once, after the
 * enable; reading a descriptor, which is what the interrupt path does, is
 * async-signal-safe.
 * @mt_safe
 * @see pci_device_read_irq(), pcicap_sim_raise()
 */
int pcicap_irq_fd(pci_devhdl_t hdl, pci_irq_t irq);
/** @} */

#ifdef __cplusplus
}
#endif
#endif
