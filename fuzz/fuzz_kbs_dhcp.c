/* A DHCP reply as NET_ADDRESS=dhcp receives it (kbs/dhcp_msg.c): an IPv4
 * packet from the host's network. The xid and chaddr are the input's own
 * (so the option parsing is reached), and the packet is parsed whole and as
 * a bare BOOTP message. Whatever is accepted must be a lease the init can
 * use: a unicast address, a contiguous mask, an on-link router. */
// FUZZ_SRCS: kbs/dhcp_msg.c
// FUZZ_OPTS: -max_len=1500
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "fuzz/fuzz.h"
#include "kbs/dhcp_msg.h"

static void check(int r, const struct dhcp_reply *l)
{
	uint32_t m, y;

	if (r < 0 || l->type == DHCP_NAK) {
		FUZZ_ASSERT(r < 0 || l->server);
		return;
	}
	FUZZ_ASSERT(l->type == DHCP_OFFER || l->type == DHCP_ACK);
	m = ntohl(l->mask);
	y = ntohl(l->yiaddr);
	FUZZ_ASSERT(l->server && l->prefix >= 1 && l->prefix <= 32 && m == 0xffffffffu << (32 - l->prefix));
	FUZZ_ASSERT(y >> 24 != 0 && y >> 24 != 127 && y >> 28 < 14);
	FUZZ_ASSERT(!l->router || ((l->router & l->mask) == (l->yiaddr & l->mask) && l->router != l->yiaddr));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_reply l;
	const char *why = NULL;
	uint8_t *buf = malloc(size ? size : 1), mac[6] = { 0 };
	uint32_t xid = 0;
	int r;

	memcpy(buf, data, size); /* exact size: ASan sees any read past it */
	if (size >= 20 + 8 + 34) {
		const uint8_t *b = buf + 28;

		xid = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
		memcpy(mac, b + 28, 6);
	}
	r = dhcp_parse_packet(buf, size, xid, mac, &l, &why);
	FUZZ_ASSERT(why);
	check(r, &l);
	if (size >= 34) {
		xid = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
		memcpy(mac, buf + 28, 6);
	}
	why = NULL;
	r = dhcp_parse_reply(buf, size, xid, mac, &l, &why);
	FUZZ_ASSERT(why);
	check(r, &l);
	free(buf);
	return 0;
}
