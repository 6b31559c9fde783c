#ifndef CVMINIT_KBS_NET_H
#define CVMINIT_KBS_NET_H

#include "init/context.h"

/* The one interface of plan.kbs: up with its static address or the one
 * DHCP leases (kbs/dhcp.c) and the default route, all within timeout_s
 * (waiting for the interface to appear included); down again
 * (addresses flushed, link down) before switch_root unless NET_KEEP=yes.
 * Each logs its failure. */
int kbs_net_up(struct boot_ctx *ctx, unsigned timeout_s);
int kbs_net_down(struct boot_ctx *ctx);

#endif
