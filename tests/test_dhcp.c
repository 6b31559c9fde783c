/* NET_ADDRESS=dhcp (kbs/dhcp_msg.c): the requests the init sends, and every
 * check a reply (the host's, hostile) must pass, each refusal exact. The
 * replies are built here field by field as RFC 2131/2132 lay them out (the
 * shape QEMU's user-mode DHCP server sends: 10.0.2.15/24 via 10.0.2.2). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kbs/dhcp_msg.h"
#include "tests/harness.h"

TH_DEFINE("dhcp");

#define XID 0x12345678u
static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

struct msg {
	uint8_t b[600];
	size_t n;
};

static void put_opt(struct msg *m, uint8_t code, uint8_t len, const void *v)
{
	m->b[m->n++] = code;
	m->b[m->n++] = len;
	memcpy(m->b + m->n, v, len);
	m->n += len;
}

static void put_ip_opt(struct msg *m, uint8_t code, const char *s)
{
	uint32_t a = ip(s);

	put_opt(m, code, 4, &a);
}

/* the fixed part and cookie of a reply to XID/MAC offering yiaddr */
static void head(struct msg *m, const char *yiaddr)
{
	uint32_t y = ip(yiaddr);

	memset(m, 0, sizeof(*m));
	m->b[0] = 2;
	m->b[1] = 1;
	m->b[2] = 6;
	m->b[4] = 0x12, m->b[5] = 0x34, m->b[6] = 0x56, m->b[7] = 0x78;
	memcpy(m->b + 16, &y, 4);
	memcpy(m->b + 28, MAC, 6);
	memcpy(m->b + 236, "\x63\x82\x53\x63", 4);
	m->n = 240;
}

/* a complete, valid reply of this type */
static void reply(struct msg *m, uint8_t type)
{
	uint8_t lease_time[4] = { 0, 1, 0x51, 0x80 }; /* 86400 s */

	head(m, "10.0.2.15");
	put_opt(m, 53, 1, &type);
	put_ip_opt(m, 54, "10.0.2.2");
	put_ip_opt(m, 1, "255.255.255.0");
	put_ip_opt(m, 3, "10.0.2.2");
	put_opt(m, 51, 4, lease_time);
	put_ip_opt(m, 6, "10.0.2.3"); /* DNS: ignored */
	m->b[m->n++] = 255;
}

static struct dhcp_reply rep;
static const char *why;

static int parse(const struct msg *m)
{
	return dhcp_parse_reply(m->b, m->n, XID, MAC, &rep, &why);
}

static void expect_refused(const struct msg *m, int err, const char *reason)
{
	CHECK_INT(parse(m), err);
	CHECK_STR(why, reason);
}

static void requests(void)
{
	uint8_t b[DHCP_MSG_MAX];
	static const uint8_t disc_opts[] = { 53, 1, 1, 55, 2, 1, 3, 255 };
	static const uint8_t req_opts[] = { 53, 1, 3, 50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 2, 55, 2, 1, 3, 255 };

	CHECK_INT(dhcp_build(b, sizeof(b), DHCP_DISCOVER, XID, MAC, 0, 0), 300);
	CHECK_MEM(b, "\x01\x01\x06\x00\x12\x34\x56\x78\x00\x00\x80\x00", 12); /* BOOTREQUEST, xid, broadcast flag */
	CHECK_MEM(b + 28, MAC, 6);
	CHECK_MEM(b + 236, "\x63\x82\x53\x63", 4);
	CHECK_MEM(b + 240, disc_opts, sizeof(disc_opts));
	for (size_t i = 240 + sizeof(disc_opts); i < 300; i++)
		CHECK_INT(b[i], 0);
	CHECK_INT(dhcp_build(b, sizeof(b), DHCP_REQUEST, XID, MAC, ip("10.0.2.2"), ip("10.0.2.15")), 300);
	CHECK_MEM(b + 240, req_opts, sizeof(req_opts));
	CHECK_INT(dhcp_build(b, 299, DHCP_DISCOVER, XID, MAC, 0, 0), -ENOSPC);
}

static void offer_and_ack(void)
{
	struct msg m;

	reply(&m, DHCP_OFFER);
	CHECK_INT(parse(&m), 0);
	CHECK_INT(rep.type, DHCP_OFFER);
	CHECK_INT(rep.yiaddr, ip("10.0.2.15"));
	CHECK_INT(rep.server, ip("10.0.2.2"));
	CHECK_INT(rep.mask, ip("255.255.255.0"));
	CHECK_INT(rep.prefix, 24);
	CHECK_INT(rep.router, ip("10.0.2.2"));
	CHECK_INT(rep.lease_s, 86400);
	reply(&m, DHCP_ACK);
	CHECK_INT(parse(&m), 0);
	CHECK_INT(rep.type, DHCP_ACK);
	/* no router, no lease time; pads and an overload option (not followed) */
	head(&m, "192.168.7.9");
	m.b[m.n++] = 0;
	put_opt(&m, 53, 1, "\x05");
	put_opt(&m, 52, 1, "\x03");
	put_ip_opt(&m, 54, "192.168.0.1");
	put_ip_opt(&m, 1, "255.255.0.0");
	m.b[m.n++] = 255;
	m.b[m.n++] = 0xee; /* after the end: not read */
	CHECK_INT(parse(&m), 0);
	CHECK_INT(rep.prefix, 16);
	CHECK_INT(rep.router, 0);
	CHECK_INT(rep.lease_s, 0);
	/* a NAK needs only its type and server */
	head(&m, "0.0.0.0");
	put_opt(&m, 53, 1, "\x06");
	put_ip_opt(&m, 54, "10.0.2.2");
	m.b[m.n++] = 255;
	CHECK_INT(parse(&m), 0);
	CHECK_INT(rep.type, DHCP_NAK);
	CHECK_INT(rep.server, ip("10.0.2.2"));
	CHECK_STR(why, "");
	/* /32 without a router: no network or broadcast address to avoid */
	head(&m, "203.0.113.7");
	put_opt(&m, 53, 1, "\x02");
	put_ip_opt(&m, 54, "203.0.113.1");
	put_ip_opt(&m, 1, "255.255.255.255");
	m.b[m.n++] = 255;
	CHECK_INT(parse(&m), 0);
	CHECK_INT(rep.prefix, 32);
}

static void not_for_us(void)
{
	struct msg m;

	reply(&m, DHCP_OFFER);
	m.b[7] ^= 1;
	expect_refused(&m, -ENOENT, "another transaction id");
	reply(&m, DHCP_OFFER);
	m.b[33] ^= 1;
	expect_refused(&m, -ENOENT, "another client hardware address");
	reply(&m, DHCP_OFFER);
	m.b[2] = 16;
	expect_refused(&m, -ENOENT, "another client hardware address");
	reply(&m, DHCP_OFFER);
	m.b[0] = 1; /* our own BOOTREQUEST, seen on the wire */
	expect_refused(&m, -ENOENT, "not a BOOTREPLY");
}

static void malformed(void)
{
	struct msg m;

	reply(&m, DHCP_OFFER);
	m.n = 239;
	expect_refused(&m, -EINVAL, "shorter than a BOOTP message");
	reply(&m, DHCP_OFFER);
	m.b[239] = 0x64;
	expect_refused(&m, -EINVAL, "no DHCP magic cookie");
	/* cut inside the options: the lease option's value is past the end */
	reply(&m, DHCP_OFFER);
	m.n = 240 + 3 + 6 + 6 + 6 + 4;
	expect_refused(&m, -EINVAL, "an option runs past the end of the message");
	/* a length byte that points past the end */
	reply(&m, DHCP_OFFER);
	m.n--;
	m.b[m.n - 5] = 200; /* the DNS option's length */
	expect_refused(&m, -EINVAL, "an option runs past the end of the message");
	/* a code with no length byte */
	head(&m, "10.0.2.15");
	m.b[m.n++] = 53;
	expect_refused(&m, -EINVAL, "an option runs past the end of the message");
	reply(&m, DHCP_OFFER);
	m.n--; /* no end option */
	expect_refused(&m, -EINVAL, "the options have no end option (truncated)");
	head(&m, "10.0.2.15");
	put_ip_opt(&m, 54, "10.0.2.2");
	put_ip_opt(&m, 1, "255.255.255.0");
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "no DHCP message type");
	head(&m, "10.0.2.15");
	put_opt(&m, 53, 2, "\x02\x02");
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "no DHCP message type");
	head(&m, "10.0.2.15");
	put_opt(&m, 53, 1, "\x01"); /* a DISCOVER */
	put_ip_opt(&m, 54, "10.0.2.2");
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "not an OFFER, ACK or NAK");
	head(&m, "10.0.2.15");
	put_opt(&m, 53, 1, "\x02");
	put_ip_opt(&m, 1, "255.255.255.0");
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "no server identifier");
	head(&m, "10.0.2.15");
	put_opt(&m, 53, 1, "\x06");
	put_ip_opt(&m, 54, "0.0.0.0");
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "no server identifier");
	head(&m, "10.0.2.15");
	put_opt(&m, 53, 1, "\x02");
	put_opt(&m, 53, 1, "\x05");
	put_ip_opt(&m, 54, "10.0.2.2");
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "an option the lease depends on is repeated");
	reply(&m, DHCP_OFFER);
	m.b[m.n - 1] = 1; /* a second mask in place of the end */
	m.b[m.n++] = 4;
	memcpy(m.b + m.n, "\xff\xff\x00\x00", 4);
	m.n += 4;
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "an option the lease depends on is repeated");
}

/* an offer of yiaddr with this mask and router (NULL: none) */
static void lease(struct msg *m, const char *yiaddr, const char *mask, const char *router)
{
	head(m, yiaddr);
	put_opt(m, 53, 1, "\x02");
	put_ip_opt(m, 54, "10.0.2.2");
	if (mask)
		put_ip_opt(m, 1, mask);
	if (router)
		put_ip_opt(m, 3, router);
	m->b[m->n++] = 255;
}

static void unusable_leases(void)
{
	static const char *const bad[] = { "0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.1", "239.1.2.3",
					   "240.0.0.1", "255.255.255.255" };
	struct msg m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lease(&m, bad[i], "255.255.255.0", NULL);
		expect_refused(&m, -EINVAL, "the offered address is not a unicast host address");
	}
	lease(&m, "10.0.2.0", "255.255.255.0", NULL);
	expect_refused(&m, -EINVAL, "the offered address is the subnet's network or broadcast address");
	lease(&m, "10.0.2.255", "255.255.255.0", NULL);
	expect_refused(&m, -EINVAL, "the offered address is the subnet's network or broadcast address");
	lease(&m, "10.0.2.15", NULL, NULL);
	expect_refused(&m, -EINVAL, "no subnet mask");
	lease(&m, "10.0.2.15", "255.0.255.0", NULL);
	expect_refused(&m, -EINVAL, "the subnet mask is not contiguous");
	lease(&m, "10.0.2.15", "0.0.0.0", NULL);
	expect_refused(&m, -EINVAL, "the subnet mask is not contiguous");
	lease(&m, "10.0.2.15", "255.255.255.1", NULL);
	expect_refused(&m, -EINVAL, "the subnet mask is not contiguous");
	/* the router: on the subnet, not us, not its network/broadcast address */
	lease(&m, "10.0.2.15", "255.255.255.0", "10.0.3.1");
	expect_refused(&m, -EINVAL, "the router is not another host on the offered subnet");
	lease(&m, "10.0.2.15", "255.255.255.0", "10.0.2.15");
	expect_refused(&m, -EINVAL, "the router is not another host on the offered subnet");
	lease(&m, "10.0.2.15", "255.255.255.0", "10.0.2.255");
	expect_refused(&m, -EINVAL, "the router is not another host on the offered subnet");
	lease(&m, "10.0.2.15", "255.255.255.0", "10.0.2.0");
	expect_refused(&m, -EINVAL, "the router is not another host on the offered subnet");
	head(&m, "10.0.2.15");
	put_opt(&m, 53, 1, "\x02");
	put_ip_opt(&m, 54, "10.0.2.2");
	put_ip_opt(&m, 1, "255.255.255.0");
	put_opt(&m, 3, 3, "\x0a\x00\x02");
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "the router option is malformed");
	head(&m, "10.0.2.15");
	put_opt(&m, 53, 1, "\x02");
	put_ip_opt(&m, 54, "10.0.2.2");
	put_ip_opt(&m, 1, "255.255.255.0");
	put_opt(&m, 51, 2, "\x00\x01");
	m.b[m.n++] = 255;
	expect_refused(&m, -EINVAL, "the lease time option is malformed");
	/* several routers: the first counts, the rest are not looked at */
	head(&m, "10.0.2.15");
	put_opt(&m, 53, 1, "\x02");
	put_ip_opt(&m, 54, "10.0.2.2");
	put_ip_opt(&m, 1, "255.255.255.0");
	put_opt(&m, 3, 8, "\x0a\x00\x02\x01\x08\x08\x08\x08");
	m.b[m.n++] = 255;
	CHECK_INT(parse(&m), 0);
	CHECK_INT(rep.router, ip("10.0.2.1"));
}

/* the IPv4 and UDP headers an AF_PACKET socket hands over */
static size_t packet(uint8_t *p, const struct msg *m, uint8_t proto, unsigned sport, unsigned dport, size_t trailer)
{
	size_t tot = 20 + 8 + m->n;

	memset(p, 0, tot + trailer);
	p[0] = 0x45;
	p[2] = (uint8_t)(tot >> 8), p[3] = (uint8_t)tot;
	p[8] = 64;
	p[9] = proto;
	p[20] = (uint8_t)(sport >> 8), p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8), p[23] = (uint8_t)dport;
	p[24] = (uint8_t)((m->n + 8) >> 8), p[25] = (uint8_t)(m->n + 8);
	memcpy(p + 28, m->b, m->n);
	return tot + trailer;
}

static void packets(void)
{
	uint8_t p[700];
	struct msg m;
	size_t n;

	reply(&m, DHCP_ACK);
	n = packet(p, &m, 17, 67, 68, 6); /* Ethernet padding after the packet: ignored */
	CHECK_INT(dhcp_parse_packet(p, n, XID, MAC, &rep, &why), 0);
	CHECK_INT(rep.type, DHCP_ACK);
	CHECK_INT(rep.yiaddr, ip("10.0.2.15"));
	n = packet(p, &m, 6, 67, 68, 0);
	CHECK_INT(dhcp_parse_packet(p, n, XID, MAC, &rep, &why), -ENOENT);
	CHECK_STR(why, "not UDP");
	n = packet(p, &m, 17, 68, 67, 0); /* our own request */
	CHECK_INT(dhcp_parse_packet(p, n, XID, MAC, &rep, &why), -ENOENT);
	CHECK_STR(why, "not from port 67 to port 68");
	n = packet(p, &m, 17, 67, 68, 0);
	p[6] = 0x20; /* more fragments */
	CHECK_INT(dhcp_parse_packet(p, n, XID, MAC, &rep, &why), -ENOENT);
	CHECK_STR(why, "a fragment");
	n = packet(p, &m, 17, 67, 68, 0);
	CHECK_INT(dhcp_parse_packet(p, n - 1, XID, MAC, &rep, &why), -EINVAL);
	CHECK_STR(why, "an IPv4 header with impossible lengths");
	p[0] = 0x44;
	CHECK_INT(dhcp_parse_packet(p, n, XID, MAC, &rep, &why), -EINVAL);
	CHECK_STR(why, "an IPv4 header with impossible lengths");
	n = packet(p, &m, 17, 67, 68, 0);
	p[25] += 1; /* UDP length one past the IP packet */
	CHECK_INT(dhcp_parse_packet(p, n, XID, MAC, &rep, &why), -EINVAL);
	CHECK_STR(why, "a UDP length past the end of the packet");
	n = packet(p, &m, 17, 67, 68, 0);
	p[25] -= 1; /* one byte short: the end option is cut off */
	CHECK_INT(dhcp_parse_packet(p, n, XID, MAC, &rep, &why), -EINVAL);
	CHECK_STR(why, "the options have no end option (truncated)");
	CHECK_INT(dhcp_parse_packet(p, 19, XID, MAC, &rep, &why), -ENOENT);
	CHECK_STR(why, "not an IPv4 packet");
}

int main(void)
{
	TEST(requests);
	TEST(offer_and_ack);
	TEST(not_for_us);
	TEST(malformed);
	TEST(unusable_leases);
	TEST(packets);
	return TH_END();
}
