#ifndef CVMINIT_LUKS_H
#define CVMINIT_LUKS_H

#include "init/context.h"

/* Opens the LUKS2 volume of ROLE_ROOT or ROLE_JOBS as /dev/mapper/cvm-<name>
 * with the configured key source; sets ctx->parts[role].mapped. A wrong key
 * writes nothing to the disk. */
int luks_open_role(struct boot_ctx *ctx, enum part_role role);

/* The LUKS2 header's UUID of dev (read only), for the evidence document. */
int luks_uuid(const char *dev, char *out, size_t len);

#endif
