#ifndef CVMINIT_HALT_H
#define CVMINIT_HALT_H

#include <stddef.h>

/* What the fatal path undoes, found from the kernel's own views (testable
 * on fixture trees): the device-mapper names under <sysfs>/block/dm-*, and
 * the mount points at or below a directory in a mountinfo text. */

#define HALT_NAME_MAX 128
#define HALT_MAX 32

/* Every dm device's name (<sysfs>/block/dm-N/dm/name) that cvminit made
 * (prefix "cvm-"), sorted. The count (0 without sysfs). */
unsigned halt_our_mappings(const char *sysfs, char names[][HALT_NAME_MAX], unsigned max);

/* Mount points of a /proc/self/mountinfo text at or below dir, in the
 * order mounted (unmount them backwards). Octal escapes are decoded. The
 * count. */
unsigned halt_mounts_below(const char *mountinfo, const char *dir, char points[][HALT_NAME_MAX * 2], unsigned max);

#endif
