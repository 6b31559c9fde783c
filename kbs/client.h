#ifndef CVMINIT_KBS_CLIENT_H
#define CVMINIT_KBS_CLIENT_H

#include "crypto/keysource.h"
#include "init/context.h"

/* Key source kbs: brings the network up (once), runs the RCAR handshake
 * with this boot's TEE report and fetches the volume's resource, retrying
 * transport failures with backoff until KBS_TIMEOUT; hands the released
 * secret to try_key once. label "root" or "jobs". Logs one reason. */
int kbs_unlock(struct boot_ctx *ctx, const char *label, const char *device, try_key_fn try_key, void *arg);

/* Before switch_root (and on the fatal path): the interface down unless
 * NET_KEEP=yes. 0 when nothing was up. */
int kbs_finish(struct boot_ctx *ctx);

#endif
