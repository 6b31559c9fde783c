#include "kbs/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init/log.h"
#include "kbs/dhcp.h"
#include "kbs/tls.h"

/* ioctl, not rtnetlink: one IPv4 address and one route are all this needs,
 * and the ioctls take a fixed struct rather than a message to build. */

static void sin_set(struct sockaddr *sa, uint32_t a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;

	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = a;
}

static int req(int fd, unsigned long op, struct ifreq *ifr)
{
	return ioctl(fd, op, ifr) < 0 ? -errno : 0;
}

int kbs_net_up(struct boot_ctx *ctx, unsigned timeout_s)
{
	const struct kbs_plan *k = &ctx->plan.kbs;
	struct ifreq ifr;
	uint64_t deadline = kbs_now_ms() + (uint64_t)timeout_s * 1000u;
	uint32_t ip = k->ip, gateway = k->gateway;
	unsigned prefix = k->prefix;
	char ips[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return log_fail(&ctx->log, -errno, "network: no IPv4 socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", k->ifname);
	/* the driver may still be probing: wait for the interface to exist */
	while ((r = req(fd, SIOCGIFFLAGS, &ifr)) == -ENODEV) {
		if (kbs_now_ms() >= deadline) {
			close(fd);
			return log_fail(&ctx->log, -ENODEV,
					"network: interface %s did not appear within %u s (is virtio_net in the module "
					"list? NET_INTERFACE)", k->ifname, timeout_s);
		}
		usleep(100 * 1000);
	}
	if (r < 0)
		goto fail;
	/* up first: DHCP needs the link before there is an address */
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if ((r = req(fd, SIOCSIFFLAGS, &ifr)) < 0)
		goto fail;
	if (k->dhcp) {
		struct dhcp_reply lease;

		r = kbs_dhcp(ctx, k->ifname, deadline, timeout_s, &lease);
		if (r < 0) {
			close(fd);
			return r;
		}
		ip = lease.yiaddr;
		prefix = lease.prefix;
		gateway = lease.router;
	}
	sin_set(&ifr.ifr_addr, ip);
	if ((r = req(fd, SIOCSIFADDR, &ifr)) < 0)
		goto fail;
	sin_set(&ifr.ifr_netmask, prefix ? htonl(0xffffffffu << (32 - prefix)) : 0);
	if ((r = req(fd, SIOCSIFNETMASK, &ifr)) < 0)
		goto fail;
	if (gateway) {
		struct rtentry rt;
		char dev[IFNAMSIZ];

		memset(&rt, 0, sizeof(rt));
		snprintf(dev, sizeof(dev), "%s", k->ifname);
		sin_set(&rt.rt_dst, 0);
		sin_set(&rt.rt_genmask, 0);
		sin_set(&rt.rt_gateway, gateway);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = dev;
		if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST) {
			r = -errno;
			goto fail;
		}
	}
	close(fd);
	inet_ntop(AF_INET, &ip, ips, sizeof(ips));
	inet_ntop(AF_INET, &gateway, gw, sizeof(gw));
	log_line(&ctx->log, LOG_INFO, "network: %s up, %s/%u%s%s", k->ifname, ips, prefix, gateway ? " via " : "",
		 gateway ? gw : "");
	return 0;
fail:
	close(fd);
	return log_fail(&ctx->log, r, "network: cannot configure %s: %s", k->ifname, strerror(-r));
}

int kbs_net_down(struct boot_ctx *ctx)
{
	const struct kbs_plan *k = &ctx->plan.kbs;
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return log_fail(&ctx->log, -errno, "network: no IPv4 socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", k->ifname);
	/* address 0.0.0.0 removes the interface's IPv4 addresses (and routes) */
	sin_set(&ifr.ifr_addr, 0);
	r = req(fd, SIOCSIFADDR, &ifr);
	if (r == 0 || r == -EADDRNOTAVAIL)
		r = req(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags &= ~(IFF_UP | IFF_RUNNING);
		r = req(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	if (r == -ENODEV) { /* it never appeared: nothing is configured */
		log_line(&ctx->log, LOG_INFO, "network: %s absent, nothing to take down", k->ifname);
		return 0;
	}
	if (r < 0)
		return log_fail(&ctx->log, r, "network: cannot take %s down: %s", k->ifname, strerror(-r));
	log_line(&ctx->log, LOG_INFO, "network: %s down, addresses flushed", k->ifname);
	return 0;
}
