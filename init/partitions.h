#ifndef CVMINIT_PARTITIONS_H
#define CVMINIT_PARTITIONS_H

#include <stddef.h>

#include "init/config.h"
#include "init/context.h"
#include "init/partref.h"

/* Partition discovery from sysfs (PARTNAME from the kernel's uevent) and,
 * for PARTUUID references, the GPT entry the kernel used. */

struct part_entry {
	char name[32];     /* vda2 */
	char disk[32];     /* vda */
	char label[40];    /* GPT name ("" when none) */
	char uuid[40];     /* GPT unique GUID, lower case ("" until looked up) */
	unsigned partn;
	unsigned long long start; /* in 512-byte sectors */
};

#define PART_SCAN_MAX 64

struct role_def {
	const char *name;
	enum plan_volume vol; /* its volume (a hash role: the volume it verifies) */
};
extern const struct role_def role_defs[ROLE__COUNT];

/* Lists partitions under <sysfs>/class/block. Returns count or -errno. */
int partitions_scan(const char *sysfs, struct part_entry *out, int max);
/* Fills uuid of every entry from the GPTs of their disks under devfs. */
void partitions_read_uuids(const char *sysfs, const char *devfs, struct part_entry *e, int n);
/* Index of the one entry matching ref; -ENOENT none; -EEXIST more than one. */
int partitions_match(const struct part_entry *e, int n, const struct partref *ref);
/* "vda1 (cvm-esp), vda2 (cvm-boot)" for error messages. */
void partitions_describe(const struct part_entry *e, int n, char *buf, size_t len);
/* Parses a GPT from an open disk: the unique GUID of partition partn whose
 * first LBA must equal start (512-byte sectors). 0 or -errno. */
int gpt_partuuid(int fd, unsigned lbs, unsigned partn, unsigned long long start, char uuid[40]);

int stage_partitions(struct boot_ctx *ctx);

#endif
