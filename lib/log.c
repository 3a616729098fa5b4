/*
 * Logging: silent unless pci_verbosity (initially PCI_BASE_VERBOSITY) asks
 * for it. Messages up to pci_verbosity go to the installed handler, or to
 * stderr without one.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

PCICAP_EXPORT uint_t pci_verbosity = 0;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pcicap_log_fn log_fn;
static void *log_arg;
/* PCI_BASE_VERBOSITY, as on QNX, sets the starting verbosity, at load
 * time, so that a program's own assignment to pci_verbosity wins. */
__attribute__((constructor)) static void log_env_init(void)
{
	const char *v = getenv("PCI_BASE_VERBOSITY");
	if (v && *v) {
		char *end;
		unsigned long n = strtoul(v, &end, 0);
		if (*end == '\0' && n < 100)
			pci_verbosity = (uint_t)n;
	}
}

PCICAP_EXPORT void pcicap_set_log_handler(pcicap_log_fn fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

void pcii_vlog(pcicap_log_level_t level, const char *fmt, va_list ap)
{
	if ((uint_t)level > pci_verbosity)
		return;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&log_lock);
	pcicap_log_fn fn = log_fn;
	void *arg = log_arg;
	pthread_mutex_unlock(&log_lock);
	if (fn) {
		fn(level, msg, arg);
		return;
	}
	static const char *const names[] = {"", "error", "warning", "info", "debug"};
	fprintf(stderr, "pcicap %s: %s\n", names[level <= 4 ? level : 4], msg);
}

void pcii_log(pcicap_log_level_t level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pcii_vlog(level, fmt, ap);
	va_end(ap);
}
