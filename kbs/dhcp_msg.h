#ifndef CVMINIT_KBS_DHCP_MSG_H
#define CVMINIT_KBS_DHCP_MSG_H

#include <stddef.h>
#include <stdint.h>

/* DHCPv4 (RFC 2131/2132) messages for NET_ADDRESS=dhcp: the requests the
 * init sends and the checks every reply must pass. Pure (no syscalls): the
 * host unit tests and fuzz/fuzz_kbs_dhcp.c build it. Every reply is the
 * host's: it may choose our address, prefix and gateway, nothing else. */

#define DHCP_DISCOVER 1
#define DHCP_OFFER 2
#define DHCP_REQUEST 3
#define DHCP_ACK 5
#define DHCP_NAK 6

#define DHCP_MSG_MIN 300 /* BOOTP's minimum; requests are padded to it */
#define DHCP_MSG_MAX 576 /* what a request of ours takes, with room */

struct dhcp_reply {
	int type;         /* DHCP_OFFER, DHCP_ACK or DHCP_NAK */
	uint32_t server;  /* option 54, network byte order (required) */
	/* OFFER and ACK only, network byte order: */
	uint32_t yiaddr;
	uint32_t mask;    /* option 1 (required, contiguous) */
	unsigned prefix;  /* the mask's length */
	uint32_t router;  /* the first of option 3, 0: none; on-link */
	uint32_t lease_s; /* option 51, 0: not given (logged only) */
};

/* A DISCOVER (server, want 0) or REQUEST (SELECTING: the offer's server
 * and address) for chaddr mac, broadcast flag set. Returns its length
 * (DHCP_MSG_MIN), or -ENOSPC. */
int dhcp_build(uint8_t *buf, size_t cap, int type, uint32_t xid, const uint8_t mac[6], uint32_t server, uint32_t want);

/* A BOOTP reply (UDP payload) in p[0, n). 0 with *out filled; -ENOENT: not
 * an answer to us (not a BOOTREPLY, other xid or chaddr); -EINVAL: refused
 * (malformed or an unusable lease). *why names the reason ("" on 0). */
int dhcp_parse_reply(const uint8_t *p, size_t n, uint32_t xid, const uint8_t mac[6], struct dhcp_reply *out,
		     const char **why);

/* The same for an IPv4 packet as an AF_PACKET SOCK_DGRAM socket delivers it
 * (no link header): IPv4, unfragmented, UDP 67 -> 68 (else -ENOENT), the
 * lengths consistent (else -EINVAL). Checksums are not verified: whoever
 * can put a packet on this link can compute one. */
int dhcp_parse_packet(const uint8_t *p, size_t n, uint32_t xid, const uint8_t mac[6], struct dhcp_reply *out,
		      const char **why);

#endif
