#ifndef CVMINIT_KBS_DHCP_H
#define CVMINIT_KBS_DHCP_H

#include <stdint.h>

#include "init/context.h"
#include "kbs/dhcp_msg.h"

/* NET_ADDRESS=dhcp: one DHCPv4 exchange on the (up, unaddressed) interface
 * ifname until deadline_ms (kbs_now_ms); *lease gets the ACK's address,
 * prefix and router. The answer is the host's: it can choose these three
 * and so deny service, never the KBS's address or its certificate. 0, or a
 * negative errno after one FATAL line naming what did not answer (timeout_s
 * is the KBS_TIMEOUT it quotes). */
int kbs_dhcp(struct boot_ctx *ctx, const char *ifname, uint64_t deadline_ms, unsigned timeout_s,
	     struct dhcp_reply *lease);

#endif
