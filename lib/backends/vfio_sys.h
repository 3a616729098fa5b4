/*
 * The system calls of the "vfio" backend, as a table, so that the unit
 * tests can put a fake VFIO kernel underneath (tests/vfio_fake.c) and reach
 * every ioctl path and error without a VFIO device.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PCICAP_VFIO_SYS_H
#define PCICAP_VFIO_SYS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct pcii_vfio_sys {
	/* /dev/vfio nodes, and every fd they lead to */
	int (*open)(const char *path, int flags);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*munmap)(void *addr, size_t len);
	/* where the kernel's files are */
	const char *sysfs_devices;   /* "/sys/bus/pci/devices" */
	const char *dev_vfio;        /* "/dev/vfio" */
	const char *proc_interrupts; /* "/proc/interrupts" */
} pcii_vfio_sys_t;

/* The table in use: the real one unless a test replaced it before the
 * backend's init(). */
extern const pcii_vfio_sys_t *pcii_vfio_sys;

#endif
