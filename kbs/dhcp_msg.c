#include "kbs/dhcp_msg.h"

#include <errno.h>
#include <string.h>

/* Hand-written: no DHCP client library is small and static-linkable for an
 * init (dhcpcd, udhcpc and systemd-networkd are daemons or programs, not
 * libraries), and the init needs four messages of one exchange, no lease
 * renewal, and strict checks that a general client does not make. */

#define BOOTREQUEST 1
#define BOOTREPLY 2
#define FIXED_LEN 236 /* op .. file */
#define OPTS_AT (FIXED_LEN + 4)

#define OPT_PAD 0
#define OPT_MASK 1
#define OPT_ROUTER 3
#define OPT_REQ_IP 50
#define OPT_LEASE 51
#define OPT_TYPE 53
#define OPT_SERVER 54
#define OPT_PARAMS 55
#define OPT_END 255

static const uint8_t cookie[4] = { 99, 130, 83, 99 };

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4); /* stays in network byte order */
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int dhcp_build(uint8_t *buf, size_t cap, int type, uint32_t xid, const uint8_t mac[6], uint32_t server, uint32_t want)
{
	uint8_t *o;

	if (cap < DHCP_MSG_MIN)
		return -ENOSPC;
	memset(buf, 0, DHCP_MSG_MIN);
	buf[0] = BOOTREQUEST;
	buf[1] = 1; /* Ethernet */
	buf[2] = 6;
	buf[4] = (uint8_t)(xid >> 24);
	buf[5] = (uint8_t)(xid >> 16);
	buf[6] = (uint8_t)(xid >> 8);
	buf[7] = (uint8_t)xid;
	buf[10] = 0x80; /* broadcast: we have no address to be answered at */
	memcpy(buf + 28, mac, 6);
	memcpy(buf + FIXED_LEN, cookie, 4);
	o = buf + OPTS_AT;
	*o++ = OPT_TYPE;
	*o++ = 1;
	*o++ = (uint8_t)type;
	if (type == DHCP_REQUEST) {
		*o++ = OPT_REQ_IP;
		*o++ = 4;
		memcpy(o, &want, 4);
		o += 4;
		*o++ = OPT_SERVER;
		*o++ = 4;
		memcpy(o, &server, 4);
		o += 4;
	}
	*o++ = OPT_PARAMS;
	*o++ = 2;
	*o++ = OPT_MASK;
	*o++ = OPT_ROUTER;
	*o = OPT_END;
	return DHCP_MSG_MIN;
}

/* Addresses no lease may hand out: this network, loopback, multicast,
 * reserved and the limited broadcast. */
static int addr_bad(uint32_t a)
{
	uint32_t h = be32((const uint8_t *)&a);

	return h >> 24 == 0 || h >> 24 == 127 || h >> 28 >= 14;
}

#define REFUSE(e, text) (*why = (text), (e))

int dhcp_parse_reply(const uint8_t *p, size_t n, uint32_t xid, const uint8_t mac[6], struct dhcp_reply *out,
		     const char **why)
{
	const uint8_t *opt[256] = { 0 };
	uint8_t len[256] = { 0 };
	size_t i = OPTS_AT;
	uint32_t net;
	unsigned prefix;
	int ended = 0;

	memset(out, 0, sizeof(*out));
	*why = "";
	if (n < OPTS_AT)
		return REFUSE(-EINVAL, "shorter than a BOOTP message");
	if (p[0] != BOOTREPLY)
		return REFUSE(-ENOENT, "not a BOOTREPLY");
	if (be32(p + 4) != xid)
		return REFUSE(-ENOENT, "another transaction id");
	if (p[1] != 1 || p[2] != 6 || memcmp(p + 28, mac, 6))
		return REFUSE(-ENOENT, "another client hardware address");
	if (memcmp(p + FIXED_LEN, cookie, 4))
		return REFUSE(-EINVAL, "no DHCP magic cookie");
	/* the options field only: an overload (option 52) into sname/file is
	 * not followed, so what it would carry there is simply absent */
	while (i < n) {
		uint8_t code = p[i];

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END) {
			ended = 1;
			break;
		}
		if (i + 1 >= n || i + 2 + p[i + 1] > n)
			return REFUSE(-EINVAL, "an option runs past the end of the message");
		if (opt[code] && (code == OPT_TYPE || code == OPT_SERVER || code == OPT_MASK || code == OPT_ROUTER ||
				  code == OPT_LEASE))
			return REFUSE(-EINVAL, "an option the lease depends on is repeated");
		opt[code] = p + i + 2;
		len[code] = p[i + 1];
		i += 2 + (size_t)p[i + 1];
	}
	if (!ended)
		return REFUSE(-EINVAL, "the options have no end option (truncated)");
	if (!opt[OPT_TYPE] || len[OPT_TYPE] != 1)
		return REFUSE(-EINVAL, "no DHCP message type");
	out->type = opt[OPT_TYPE][0];
	if (out->type != DHCP_OFFER && out->type != DHCP_ACK && out->type != DHCP_NAK)
		return REFUSE(-EINVAL, "not an OFFER, ACK or NAK");
	if (!opt[OPT_SERVER] || len[OPT_SERVER] != 4 || get32(opt[OPT_SERVER]) == 0)
		return REFUSE(-EINVAL, "no server identifier");
	out->server = get32(opt[OPT_SERVER]);
	if (out->type == DHCP_NAK)
		return 0;
	out->yiaddr = get32(p + 16);
	if (addr_bad(out->yiaddr))
		return REFUSE(-EINVAL, "the offered address is not a unicast host address");
	if (!opt[OPT_MASK] || len[OPT_MASK] != 4)
		return REFUSE(-EINVAL, "no subnet mask");
	out->mask = get32(opt[OPT_MASK]);
	{
		uint32_t m = be32(opt[OPT_MASK]);

		if (m == 0 || (~m & (~m + 1)))
			return REFUSE(-EINVAL, "the subnet mask is not contiguous");
		for (prefix = 0; m; m <<= 1)
			prefix++;
	}
	out->prefix = prefix;
	net = out->yiaddr & out->mask;
	if (prefix <= 30 && (out->yiaddr == net || out->yiaddr == (net | ~out->mask)))
		return REFUSE(-EINVAL, "the offered address is the subnet's network or broadcast address");
	if (opt[OPT_ROUTER]) {
		if (len[OPT_ROUTER] < 4 || len[OPT_ROUTER] % 4)
			return REFUSE(-EINVAL, "the router option is malformed");
		out->router = get32(opt[OPT_ROUTER]);
		if ((out->router & out->mask) != net || out->router == out->yiaddr || addr_bad(out->router) ||
		    (prefix <= 30 && (out->router == net || out->router == (net | ~out->mask))))
			return REFUSE(-EINVAL, "the router is not another host on the offered subnet");
	}
	if (opt[OPT_LEASE]) {
		if (len[OPT_LEASE] != 4)
			return REFUSE(-EINVAL, "the lease time option is malformed");
		out->lease_s = be32(opt[OPT_LEASE]);
	}
	return 0;
}

int dhcp_parse_packet(const uint8_t *p, size_t n, uint32_t xid, const uint8_t mac[6], struct dhcp_reply *out,
		      const char **why)
{
	size_t ihl, tot, ulen;

	memset(out, 0, sizeof(*out));
	if (n < 20 || p[0] >> 4 != 4)
		return REFUSE(-ENOENT, "not an IPv4 packet");
	ihl = (size_t)(p[0] & 15) * 4;
	tot = (size_t)p[2] << 8 | p[3];
	if (ihl < 20 || tot < ihl || tot > n)
		return REFUSE(-EINVAL, "an IPv4 header with impossible lengths");
	if (p[9] != 17)
		return REFUSE(-ENOENT, "not UDP");
	if ((p[6] & 0x3f) || p[7])
		return REFUSE(-ENOENT, "a fragment"); /* DHCP replies fit a packet */
	if (tot - ihl < 8)
		return REFUSE(-EINVAL, "a UDP header past the end of the packet");
	p += ihl;
	if (((unsigned)p[0] << 8 | p[1]) != 67 || ((unsigned)p[2] << 8 | p[3]) != 68)
		return REFUSE(-ENOENT, "not from port 67 to port 68");
	ulen = (size_t)p[4] << 8 | p[5];
	if (ulen < 8 || ulen > tot - ihl)
		return REFUSE(-EINVAL, "a UDP length past the end of the packet");
	return dhcp_parse_reply(p + 8, ulen - 8, xid, mac, out, why);
}
