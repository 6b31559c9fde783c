#include "kbs/dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init/log.h"
#include "kbs/tls.h"

/* The one exchange of RFC 2131 (DISCOVER, OFFER, REQUEST, ACK), bounded by
 * the caller's deadline. Requests go out through a UDP socket bound to the
 * interface (the kernel sends a limited broadcast from 0.0.0.0 on a link
 * with no address); replies come in through an AF_PACKET socket, which sees
 * them whether the server broadcasts or unicasts to the address it offers
 * (a UDP socket would not get the latter before the address is set). No
 * renewal: the network is used only until switch_root. */

#define REQUEST_TRIES 3 /* unanswered REQUESTs before starting over */

static uint32_t new_xid(void)
{
	uint32_t x;

	/* not a secret (the host sees every packet): any value that differs
	 * between attempts will do if the pool is not ready yet */
	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != (ssize_t)sizeof(x))
		x = (uint32_t)kbs_now_ms() * 2654435761u;
	return x;
}

static const char *ip_str(uint32_t a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
	return buf;
}

static int open_sockets(struct boot_ctx *ctx, const char *ifname, int *tx, int *rx, uint8_t mac[6])
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(68) };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	struct ifreq ifr;
	int one = 1;

	*rx = -1;
	*tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*tx < 0)
		return log_fail(&ctx->log, -errno, "network: %s: no UDP socket for DHCP: %s", ifname, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(*tx, SIOCGIFHWADDR, &ifr) < 0 || ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */)
		return log_fail(&ctx->log, -EOPNOTSUPP, "network: %s is not an Ethernet interface: no DHCP on it", ifname);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(*tx, SIOCGIFINDEX, &ifr) < 0)
		return log_fail(&ctx->log, -errno, "network: %s: no interface index: %s", ifname, strerror(errno));
	ll.sll_ifindex = ifr.ifr_ifindex;
	if (setsockopt(*tx, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(*tx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(*tx, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0 ||
	    bind(*tx, (struct sockaddr *)&me, sizeof(me)) < 0)
		return log_fail(&ctx->log, -errno, "network: %s: cannot bind the DHCP client port 68: %s", ifname,
				strerror(errno));
	*rx = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (*rx < 0)
		return log_fail(&ctx->log, -errno, "network: %s: no packet socket for DHCP replies (%s): the kernel needs "
				"CONFIG_PACKET (or af_packet in the module list)", ifname, strerror(errno));
	if (bind(*rx, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		return log_fail(&ctx->log, -errno, "network: %s: cannot bind the packet socket: %s", ifname,
				strerror(errno));
	return 0;
}

static int send_msg(int tx, int type, uint32_t xid, const uint8_t mac[6], const struct dhcp_reply *offer)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67), .sin_addr.s_addr = INADDR_BROADCAST };
	uint8_t msg[DHCP_MSG_MAX];
	int n = dhcp_build(msg, sizeof(msg), type, xid, mac, offer ? offer->server : 0, offer ? offer->yiaddr : 0);

	if (n < 0)
		return n;
	return sendto(tx, msg, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
}

int kbs_dhcp(struct boot_ctx *ctx, const char *ifname, uint64_t deadline_ms, unsigned timeout_s,
	     struct dhcp_reply *lease)
{
	static uint8_t pkt[2048];
	struct dhcp_reply offer = { 0 }, rep;
	uint8_t mac[6];
	uint32_t xid = new_xid();
	unsigned interval = 1, refused = 0, naks = 0, requests = 0;
	const char *last_why = "", *why;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], c[INET_ADDRSTRLEN];
	int tx, rx, r, state = DHCP_DISCOVER;

	r = open_sockets(ctx, ifname, &tx, &rx, mac);
	if (r < 0)
		goto out;
	for (;;) {
		uint64_t now = kbs_now_ms(), until;

		if (now >= deadline_ms)
			break;
		if (state == DHCP_REQUEST && requests++ == REQUEST_TRIES) {
			state = DHCP_DISCOVER; /* the server went quiet: start over */
			xid = new_xid();
			interval = 1;
		}
		r = send_msg(tx, state, xid, mac, state == DHCP_REQUEST ? &offer : NULL);
		if (r < 0) {
			r = log_fail(&ctx->log, r, "network: %s: cannot send a DHCP %s: %s", ifname,
				     state == DHCP_REQUEST ? "REQUEST" : "DISCOVER", strerror(-r));
			goto out;
		}
		until = now + interval * 1000u < deadline_ms ? now + interval * 1000u : deadline_ms;
		interval = interval < 4 ? interval * 2 : 4;
		while ((now = kbs_now_ms()) < until) {
			struct pollfd pfd = { .fd = rx, .events = POLLIN };
			ssize_t n;

			if (poll(&pfd, 1, (int)(until - now)) <= 0)
				continue;
			n = recv(rx, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_TRUNC);
			if (n < 0 || (size_t)n > sizeof(pkt))
				continue; /* a truncated packet is nobody's DHCP reply */
			r = dhcp_parse_packet(pkt, (size_t)n, xid, mac, &rep, &why);
			if (r == -ENOENT)
				continue;
			if (r < 0) {
				if (!refused++)
					log_line(&ctx->log, LOG_WARN, "network: %s: DHCP reply refused: %s", ifname, why);
				last_why = why;
				continue;
			}
			if (state == DHCP_DISCOVER && rep.type == DHCP_OFFER) {
				offer = rep;
				state = DHCP_REQUEST;
				requests = 0;
				interval = 1;
				break; /* REQUEST it now */
			}
			if (state != DHCP_REQUEST || rep.server != offer.server)
				continue;
			if (rep.type == DHCP_NAK) {
				log_line(&ctx->log, LOG_WARN, "network: %s: DHCP server %s refused its offer of %s (NAK)",
					 ifname, ip_str(rep.server, a), ip_str(offer.yiaddr, b));
				naks++;
				state = DHCP_DISCOVER; /* after the current interval: a NAK flood cannot spin us */
				xid = new_xid();
				interval = 1;
				continue;
			}
			if (rep.type == DHCP_ACK && rep.yiaddr == offer.yiaddr) {
				*lease = rep;
				log_line(&ctx->log, LOG_INFO, "network: %s: DHCP lease %s/%u%s%s from server %s (lease %u s, "
					 "not renewed)", ifname, ip_str(rep.yiaddr, a), rep.prefix, rep.router ? " via " : "",
					 rep.router ? ip_str(rep.router, b) : "", ip_str(rep.server, c), rep.lease_s);
				r = 0;
				goto out;
			}
		}
	}
	if (state == DHCP_REQUEST)
		r = log_fail(&ctx->log, -ETIMEDOUT, "network: %s: DHCP server %s offered %s but did not acknowledge it "
			     "within %u s (KBS_TIMEOUT)", ifname, ip_str(offer.server, a), ip_str(offer.yiaddr, b), timeout_s);
	else if (refused)
		r = log_fail(&ctx->log, -ETIMEDOUT, "network: %s: no usable DHCP offer within %u s (KBS_TIMEOUT; %u repl%s "
			     "refused, the last: %s)", ifname, timeout_s, refused, refused == 1 ? "y" : "ies", last_why);
	else
		r = log_fail(&ctx->log, -ETIMEDOUT, "network: %s: no DHCP %s within %u s (KBS_TIMEOUT)", ifname,
			     naks ? "lease (the server answered NAK)" : "offer", timeout_s);
out:
	if (tx >= 0)
		close(tx);
	if (rx >= 0)
		close(rx);
	return r;
}
