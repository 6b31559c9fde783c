#ifndef CVMINIT_LUKS_H
#define CVMINIT_LUKS_H

#include "init/context.h"

struct crypt_device;

/* Opens the LUKS2 volume of ROLE_ROOT or ROLE_JOBS as /dev/mapper/cvm-<name>
 * with the configured key source; sets ctx->parts[role].mapped. The header
 * libcryptsetup uses is the copy the luks stage checked (a detached header
 * on the tmpfs); only the data comes from the disk. A wrong key writes
 * nothing to the disk. */
int luks_open_role(struct boot_ctx *ctx, enum part_role role);

/* For a header change the init makes itself (SNP enrollment): a
 * crypt_device on the disk's own header, so the change is written where it
 * survives a power cut. Afterwards luks_copy_refresh() before any use. */
int luks_disk_open(struct boot_ctx *ctx, enum part_role role, struct crypt_device **cd);

/* After such a change: reads the header area back from the disk, checks it
 * again and replaces the copy (crypto/luks_stage.c). Then luks_copy_reload(). */
int luks_copy_refresh(struct boot_ctx *ctx, enum part_role role);

/* Loads cd (made from the copy) again from the refreshed copy and checks it
 * matches what was validated. */
int luks_copy_reload(struct boot_ctx *ctx, enum part_role role, struct crypt_device *cd);

/* Removes role's header copy from the tmpfs (after activation). */
void luks_copy_drop(struct boot_ctx *ctx, enum part_role role);

#endif
