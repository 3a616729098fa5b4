/*
 * Backend selection: built-in tables ("sim", "pciaccess", "vfio") or a shared
 * object exporting pcicap_backend_entry.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static const pcicap_backend_t *const builtin_backends[] = {
    &pcii_backend_sim,
#ifdef PCICAP_HAVE_PCIACCESS
    &pcii_backend_pciaccess,
#endif
#ifdef PCICAP_HAVE_VFIO
    &pcii_backend_vfio,
#endif
};

/* An external backend's table, copied into a zeroed struct of our size. */
static pcicap_backend_t external_backend;
static void *external_handle;
/* The name or path the backend in use was selected by. */
static char *selected_name;

pcicap_access_t pcii_access;

/* What the host services answer for an op the backend does not have. */
static pci_err_t no_present(void *ctx, pci_bdf_t bdf)
{
	(void)ctx, (void)bdf;
	return PCI_ERR_OK;
}

static pci_err_t no_cfg_write(void *ctx, pci_bdf_t bdf, uint_t off, const void *buf, uint_t len)
{
	(void)ctx, (void)bdf, (void)off, (void)buf, (void)len;
	return PCI_ERR_CFG_ACCESS;
}

static pci_err_t no_bar_read(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, void *buf, uint_t len)
{
	(void)ctx, (void)bdf, (void)bar, (void)off, (void)buf, (void)len;
	return PCI_ERR_ENOTSUP;
}

static pci_err_t no_bar_write(void *ctx, pci_bdf_t bdf, int bar, uint64_t off, const void *buf,
			      uint_t len)
{
	(void)ctx, (void)bdf, (void)bar, (void)off, (void)buf, (void)len;
	return PCI_ERR_ENOTSUP;
}

static bool host_has_pci_bus(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	if (!d)
		return false;
	bool any = false;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			any = true;
			break;
		}
	}
	closedir(d);
	return any;
}

static pci_err_t load_external(const char *path, const pcicap_backend_t **out)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		pcii_log(PCICAP_LOG_ERROR, "backend %s: %s", path, dlerror());
		return PCI_ERR_NO_MODULE;
	}
	const pcicap_backend_t *t = dlsym(h, PCICAP_BACKEND_ENTRY_SYMBOL);
	if (!t) {
		pcii_log(PCICAP_LOG_ERROR, "backend %s: no symbol %s", path,
			 PCICAP_BACKEND_ENTRY_SYMBOL);
		dlclose(h);
		return PCI_ERR_MODULE_SYM;
	}
	if (t->abi_version != PCICAP_BACKEND_ABI_VERSION ||
	    t->struct_size < PCICAP_BACKEND_MIN_SIZE || !t->init || !t->scan || !t->cfg_read) {
		pcii_log(PCICAP_LOG_ERROR, "backend %s: incompatible table (abi %u, size %u)", path,
			 t->abi_version, t->struct_size);
		dlclose(h);
		return PCI_ERR_MOD_COMPAT;
	}
	memset(&external_backend, 0, sizeof(external_backend));
	memcpy(&external_backend, t, PCII_MIN((size_t)t->struct_size, sizeof(external_backend)));
	external_handle = h;
	*out = &external_backend;
	return PCI_ERR_OK;
}

pci_err_t pcii_backend_select(const char *name)
{
	if (!name || !*name)
		return PCI_ERR_EINVAL;
	if (pcii_be)
		return strcmp(selected_name, name) == 0 ? PCI_ERR_OK : PCI_ERR_EALREADY;
	const pcicap_backend_t *be = NULL;
	for (size_t i = 0; i < PCII_ARRAY_SIZE(builtin_backends); i++)
		if (strcmp(builtin_backends[i]->name, name) == 0)
			be = builtin_backends[i];
	if (!be) {
		if (!strchr(name, '/')) {
			pcii_log(PCICAP_LOG_ERROR, "unknown backend '%s'", name);
			return PCI_ERR_NO_MODULE;
		}
		pci_err_t err = load_external(name, &be);
		if (err != PCI_ERR_OK)
			return err;
	}
	char *copy = strdup(name);
	if (!copy)
		return PCI_ERR_ENOMEM;
	void *ctx = NULL;
	pci_err_t err = be->init(&ctx);
	if (err != PCI_ERR_OK) {
		pcii_log(PCICAP_LOG_ERROR, "backend %s: init failed: %s", name, pci_strerror(err));
		if (be == &external_backend) {
			dlclose(external_handle);
			external_handle = NULL;
		}
		free(copy);
		return err;
	}
	selected_name = copy;
	pcii_access = (pcicap_access_t){
	    .ctx = ctx,
	    .present = be->present ? be->present : no_present,
	    .cfg_read = be->cfg_read,
	    .cfg_write = be->cfg_write ? be->cfg_write : no_cfg_write,
	    .bar_read = be->bar_read ? be->bar_read : no_bar_read,
	    .bar_write = be->bar_write ? be->bar_write : no_bar_write,
	};
	pcii_be_ctx = ctx;
	pcii_be = be;
	return PCI_ERR_OK;
}

pci_err_t pcii_ready(void)
{
	if (pcii_be)
		return PCI_ERR_OK;
	const char *name = getenv("PCI_HW_MODULE");
	if (!name || !*name) {
#ifdef PCICAP_HAVE_PCIACCESS
		name = host_has_pci_bus() ? "pciaccess" : "sim";
#else
		(void)host_has_pci_bus;
		name = "sim";
#endif
	}
	return pcii_backend_select(name);
}

PCICAP_EXPORT pci_err_t pcicap_set_backend(const char *name)
{
	pthread_mutex_lock(&pcii_core_lock);
	pci_err_t err = pcii_backend_select(name);
	pthread_mutex_unlock(&pcii_core_lock);
	return err;
}

PCICAP_EXPORT const char *pcicap_backend_name(void)
{
	pthread_mutex_lock(&pcii_core_lock);
	const char *n = pcii_ready() == PCI_ERR_OK ? pcii_be->name : NULL;
	pthread_mutex_unlock(&pcii_core_lock);
	return n;
}

__attribute__((destructor)) static void backend_fini(void)
{
	if (pcii_be && pcii_be->fini)
		pcii_be->fini(pcii_be_ctx);
}
