/*
 * Attach rules and ownership (decisions.md section 4).
 *
 * Two lock spaces with the same rules:
 *  - process-local (simulated devices with no scope): counters per device;
 *  - cross-process (host devices, simulated devices with a `scope`): an
 *    open-file-description lock on a per-device lock file in the runtime
 *    directory. Byte 0 is the attach lock (read = shared attacher, write =
 *    exclusive attacher), byte 1 the owner lock (read = MULTI owner, write =
 *    sole owner). Each handle has its own open file description, so the
 *    rules hold between handles of one process too, and the kernel drops
 *    the locks when the holder exits, however it dies.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

static bool scope_name_ok(const char *s)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* A directory only we can change, opened: made 0700 if missing; else it
 * must be a real directory (not a symlink), ours, and not writable by group
 * or others (who could otherwise swap the lock files in it). Opened once
 * and used through the descriptor, so it cannot be swapped after the
 * check. -1 when refused. */
static int private_dir(int at, const char *path)
{
	if (mkdirat(at, path, 0700) != 0 && errno != EEXIST)
		return -1;
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_uid != geteuid() ||
			(st.st_mode & (S_IWGRP | S_IWOTH)))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int lock_file_open(const char *scope, pci_bdf_t bdf)
{
	if (!scope_name_ok(scope)) {
		pcii_log(PCICAP_LOG_ERROR, "ownership scope '%s' is not a valid name", scope);
		return -1;
	}
	char dir[512], name[64];
	const char *base = getenv("PCICAP_RUNTIME_DIR");
	if (base && *base) {
		snprintf(dir, sizeof(dir), "%s", base);
	} else if (geteuid() == 0) {
		/* one place for every root process, whatever its environment */
		snprintf(dir, sizeof(dir), "/run/pcicap");
	} else {
		snprintf(dir, sizeof(dir), "/tmp/pcicap-%u", (unsigned)geteuid());
	}
	int base_fd = private_dir(AT_FDCWD, dir);
	if (base_fd < 0) {
		pcii_log(PCICAP_LOG_ERROR, "runtime directory %s is not usable", dir);
		return -1;
	}
	int scope_fd = private_dir(base_fd, scope);
	close(base_fd);
	if (scope_fd < 0) {
		pcii_log(PCICAP_LOG_ERROR, "lock directory %s/%s is not usable", dir, scope);
		return -1;
	}
	/* named by routing ID, so both encodings of an ARI function agree */
	snprintf(name, sizeof(name), "%04x:%02x:%02x.%x.lock", PCICAP_BDF_DOMAIN(bdf),
		 _PCI_BDF_BUS(bdf), _PCI_BDF_DEV(bdf), _PCI_BDF_FUNC(bdf));
	int fd = openat(scope_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	close(scope_fd);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		pcii_log(PCICAP_LOG_ERROR, "cannot open lock file %s/%s/%s", dir, scope, name);
	return fd;
}

enum { LOCK_TAKEN = 0, HELD_BY_READER = 1, HELD_BY_WRITER = 2, LOCK_ERROR = -1 };

/* Try an OFD lock on one byte: LOCK_TAKEN, HELD_BY_READER or
 * HELD_BY_WRITER (someone else holds a conflicting lock), LOCK_ERROR. */
static int ofd_trylock(int fd, off_t byte, short type)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return LOCK_TAKEN;
	if (errno != EAGAIN && errno != EACCES)
		return LOCK_ERROR;
	struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};
	if (fcntl(fd, F_OFD_GETLK, &q) != 0)
		return LOCK_ERROR;
	return q.l_type == F_WRLCK ? HELD_BY_WRITER : HELD_BY_READER;
}

static const char *dev_scope(const pcii_dev_t *dev)
{
	return pcii_be->scope ? pcii_be->scope(pcii_be_ctx, dev->bdf) : NULL;
}

pci_err_t pcii_own_acquire(pcii_dev_t *dev, pcii_hdl_t *h, pci_attachFlags_t flags)
{
	bool excl = flags & pci_attachFlags_e_EXCLUSIVE;
	bool owner = flags & pci_attachFlags_e_OWNER;
	bool multi = flags & pci_attachFlags_e_MULTI;
	const char *scope = dev_scope(dev);
	if (!scope) {
		pcii_localown_t *l = &dev->local;
		if (l->attach_ex)
			return PCI_ERR_ATTACH_EXCLUSIVE;
		if (excl && l->attach_sh)
			return PCI_ERR_ATTACH_SHARED;
		if (owner && (l->owner_ex || (!multi && l->owner_sh)))
			return PCI_ERR_ATTACH_OWNED;
		if (excl)
			l->attach_ex = true;
		else
			l->attach_sh++;
		if (owner) {
			if (multi)
				l->owner_sh++;
			else
				l->owner_ex = true;
		}
		h->lock_fd = -1;
		return PCI_ERR_OK;
	}
	int fd = lock_file_open(scope, dev->bdf);
	if (fd < 0)
		return PCI_ERR_LOCK_FAILURE;
	int r = ofd_trylock(fd, 0, excl ? F_WRLCK : F_RDLCK);
	pci_err_t err = PCI_ERR_OK;
	if (r == LOCK_ERROR)
		err = PCI_ERR_LOCK_FAILURE;
	else if (r == HELD_BY_WRITER)
		err = PCI_ERR_ATTACH_EXCLUSIVE;
	else if (r == HELD_BY_READER)
		err = PCI_ERR_ATTACH_SHARED;
	if (err == PCI_ERR_OK && owner) {
		r = ofd_trylock(fd, 1, multi ? F_RDLCK : F_WRLCK);
		if (r == LOCK_ERROR)
			err = PCI_ERR_LOCK_FAILURE;
		else if (r != LOCK_TAKEN)
			err = PCI_ERR_ATTACH_OWNED;
	}
	if (err != PCI_ERR_OK) {
		close(fd);
		return err;
	}
	h->lock_fd = fd;
	return PCI_ERR_OK;
}

void pcii_own_release(pcii_dev_t *dev, pcii_hdl_t *h)
{
	if (h->lock_fd >= 0) {
		close(h->lock_fd); /* drops both byte locks */
		h->lock_fd = -1;
		return;
	}
	pcii_localown_t *l = &dev->local;
	if (h->flags & pci_attachFlags_e_EXCLUSIVE)
		l->attach_ex = false;
	else if (l->attach_sh)
		l->attach_sh--;
	if (h->owner) {
		if (h->flags & pci_attachFlags_e_MULTI) {
			if (l->owner_sh)
				l->owner_sh--;
		} else {
			l->owner_ex = false;
		}
	}
}

bool pcii_own_others(pcii_dev_t *dev, pcii_hdl_t *h)
{
	if (h->lock_fd < 0)
		return dev->nowners > 0;
	struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1};
	if (fcntl(h->lock_fd, F_OFD_GETLK, &q) != 0)
		return true; /* cannot tell: assume someone, and touch nothing */
	return q.l_type != F_UNLCK;
}

bool pcii_own_sole(pcii_dev_t *dev, pcii_hdl_t *h)
{
	if (dev->nhandles != 1)
		return false;
	if (h->lock_fd < 0)
		return true;
	struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	if (fcntl(h->lock_fd, F_OFD_GETLK, &q) != 0)
		return false;
	return q.l_type == F_UNLCK;
}
