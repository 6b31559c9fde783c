#ifndef CVMINIT_LUKS_H
#define CVMINIT_LUKS_H

#include "init/context.h"

/* Opens the LUKS2 volume of ROLE_ROOT or ROLE_JOBS as /dev/mapper/cvm-<name>
 * with the configured key source; sets ctx->parts[role].mapped. A wrong key
 * writes nothing to the disk. */
int luks_open_role(struct boot_ctx *ctx, enum part_role role);

#endif
