#ifndef CVMINIT_HARDEN_H
#define CVMINIT_HARDEN_H

#include <stddef.h>

#define SWAPS_MAX 16

/* Active swap areas listed in /proc/swaps text (header skipped, octal
 * escapes such as \040 decoded). Returns count, or -E2BIG past max. */
int swaps_parse(const char *text, char paths[][256], int max);

struct sysctl_setting {
	const char *key; /* path under /proc/sys */
	const char *value;
};
extern const struct sysctl_setting hardening_sysctls[];
extern const size_t hardening_sysctl_count;

#endif
