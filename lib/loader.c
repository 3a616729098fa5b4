/*
 * Capability-module loader (decisions.md section 6): pci_cap-0xNN.so from
 * PCI_CAP_MODULE_DIR (default: the install directory), the vendor/device
 * specific pci_cap-0xNN-VVVVDDDD.so first, PCI_MODULE_BLACKLIST honoured
 * when a module is first loaded, a versioned entry symbol with a struct
 * size. Loaded modules stay loaded for the life of the process.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

#ifndef PCICAP_CAP_MODULE_DIR
#define PCICAP_CAP_MODULE_DIR "/usr/local/lib/pcicap"
#endif

typedef struct loaded {
	char *path;
	pcicap_cap_module_t mod; /* our copy, zero-extended */
	struct loaded *next;
} loaded_t;
static loaded_t *loaded_modules;

static const char *module_dir(void)
{
	const char *d = getenv("PCI_CAP_MODULE_DIR");
	return d && *d ? d : PCICAP_CAP_MODULE_DIR;
}

/* PCI_MODULE_BLACKLIST, as QNX defines it: colon-separated; an entry
 * starting with '/' names an exact path; any other entry is a file name in
 * the default module directory, so it does not block a module found in a
 * PCI_CAP_MODULE_DIR elsewhere (list the exact path for that). */
static bool blacklisted(const char *name, const char *path)
{
	const char *bl = getenv("PCI_MODULE_BLACKLIST");
	if (!bl || !*bl)
		return false;
	const char *dir = PCICAP_CAP_MODULE_DIR;
	size_t dirlen = strlen(dir);
	bool in_default_dir = strncmp(path, dir, dirlen) == 0 && path[dirlen] == '/' &&
			      strcmp(path + dirlen + 1, name) == 0;
	while (*bl) {
		const char *end = strchr(bl, ':');
		size_t len = end ? (size_t)(end - bl) : strlen(bl);
		if (len) {
			if (bl[0] == '/') {
				if (strlen(path) == len && memcmp(path, bl, len) == 0)
					return true;
			} else if (in_default_dir && strlen(name) == len &&
				   memcmp(name, bl, len) == 0) {
				return true;
			}
		}
		if (!end)
			break;
		bl = end + 1;
	}
	return false;
}

static pci_err_t load(const char *path, pci_capid_t capid, const pcicap_cap_module_t **out)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		pcii_log(PCICAP_LOG_ERROR, "module %s: %s", path, dlerror());
		return PCI_ERR_MOD_COMPAT;
	}
	const pcicap_cap_module_t *m = dlsym(h, PCICAP_MODULE_ENTRY_SYMBOL);
	if (!m) {
		pcii_log(PCICAP_LOG_ERROR, "module %s: no entry symbol %s", path,
			 PCICAP_MODULE_ENTRY_SYMBOL);
		dlclose(h);
		return PCI_ERR_MODULE_SYM;
	}
	const char *why = NULL;
	if (m->abi_version != PCICAP_MODULE_ABI_VERSION)
		why = "ABI version";
	else if (m->struct_size < PCICAP_MODULE_MIN_SIZE)
		why = "struct size";
	else if (m->capid != capid)
		why = "capability ID";
	else if (!m->api || !m->enable || !m->disable)
		why = "missing mandatory entries";
	if (why) {
		pcii_log(PCICAP_LOG_ERROR, "module %s: incompatible (%s)", path, why);
		dlclose(h);
		return PCI_ERR_MOD_COMPAT;
	}
	loaded_t *l = calloc(1, sizeof(*l));
	char *p = strdup(path);
	if (!l || !p) {
		free(l);
		free(p);
		dlclose(h);
		return PCI_ERR_ENOMEM;
	}
	memcpy(&l->mod, m, PCII_MIN((size_t)m->struct_size, sizeof(l->mod)));
	l->mod.struct_size = sizeof(l->mod);
	l->path = p;
	l->next = loaded_modules;
	loaded_modules = l;
	pcii_log(PCICAP_LOG_INFO, "loaded capability module %s (%s)", path,
		 m->name ? m->name : "unnamed");
	*out = &l->mod;
	return PCI_ERR_OK;
}

pci_err_t pcii_module_get(pci_capid_t capid, uint16_t vid, uint16_t did,
			  const pcicap_cap_module_t **out)
{
	char names[2][40], path[1024];
	snprintf(names[0], sizeof(names[0]), "pci_cap-0x%02x-%04x%04x.so", capid, vid, did);
	snprintf(names[1], sizeof(names[1]), "pci_cap-0x%02x.so", capid);
	bool blocked = false;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", module_dir(), names[i]);
		for (loaded_t *l = loaded_modules; l; l = l->next) {
			if (strcmp(l->path, path) == 0) {
				*out = &l->mod;
				return PCI_ERR_OK;
			}
		}
		if (access(path, F_OK) != 0)
			continue;
		if (blacklisted(names[i], path)) {
			blocked = true;
			continue;
		}
		return load(path, capid, out);
	}
	return blocked ? PCI_ERR_MODULE_BLACKLISTED : PCI_ERR_NO_MODULE;
}
