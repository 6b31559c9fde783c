#include "kbs/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

uint64_t kbs_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int kbs_rng(void *unused, unsigned char *out, size_t len)
{
	static mbedtls_entropy_context ent;
	static mbedtls_ctr_drbg_context drbg;
	static int seeded;

	(void)unused;
	if (!seeded) {
		mbedtls_entropy_init(&ent);
		mbedtls_ctr_drbg_init(&drbg);
		if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, (const unsigned char *)"cvminit-kbs", 11))
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		seeded = 1;
	}
	return mbedtls_ctr_drbg_random(&drbg, out, len);
}

struct io {
	int fd;
	uint64_t deadline;
};

static int wait_fd(struct io *io, short ev)
{
	uint64_t now = kbs_now_ms();
	struct pollfd p = { .fd = io->fd, .events = ev };
	int r;

	if (now >= io->deadline)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)(io->deadline - now));
	if (r == 0)
		return -ETIMEDOUT;
	return r < 0 ? -errno : 0;
}

static int io_send(void *arg, const unsigned char *buf, size_t len)
{
	struct io *io = arg;
	ssize_t n;

	if (wait_fd(io, POLLOUT) < 0)
		return MBEDTLS_ERR_SSL_TIMEOUT;
	n = send(io->fd, buf, len, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
	return (int)n;
}

static int io_recv(void *arg, unsigned char *buf, size_t len)
{
	struct io *io = arg;
	ssize_t n;

	if (wait_fd(io, POLLIN) < 0)
		return MBEDTLS_ERR_SSL_TIMEOUT;
	n = recv(io->fd, buf, len, 0);
	if (n < 0)
		return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_READ :
		       errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
	return (int)n;
}

static int tcp_connect(const struct kbs_endpoint *ep, struct io *io, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)ep->port), .sin_addr.s_addr = ep->addr };
	char a[INET_ADDRSTRLEN];
	int soerr = 0, r;
	socklen_t sl = sizeof(soerr);

	inet_ntop(AF_INET, &ep->addr, a, sizeof(a));
	io->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (io->fd < 0) {
		snprintf(err, errlen, "no TCP socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(io->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	r = wait_fd(io, POLLOUT);
	if (r == 0 && getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
		r = -soerr;
	if (r == 0)
		return 0;
fail:
	snprintf(err, errlen, "%s:%u (%s) did not accept a TCP connection: %s", a, ep->port, ep->host,
		 r == -ETIMEDOUT ? "no answer before the deadline" : strerror(-r));
	close(io->fd);
	io->fd = -1;
	return r;
}

static int read_all_plain(struct io *io, char *resp, size_t cap, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	for (;;) {
		ssize_t k;
		int r;

		if (*n == cap) {
			snprintf(err, errlen, "the answer is larger than %zu bytes", cap);
			return -E2BIG;
		}
		r = wait_fd(io, POLLIN);
		if (r < 0) {
			snprintf(err, errlen, "the KBS did not finish its answer before the deadline");
			return r;
		}
		k = recv(io->fd, resp + *n, cap - *n, 0);
		if (k == 0)
			return 0;
		if (k < 0 && errno != EAGAIN) {
			snprintf(err, errlen, "reading the answer: %s", strerror(errno));
			return -errno;
		}
		if (k > 0)
			*n += (size_t)k;
	}
}

static int tls_exchange(const struct kbs_endpoint *ep, struct io *io, const char *req, size_t reqlen, char *resp,
			size_t cap, size_t *n, char *err, size_t errlen)
{
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	char msg[128];
	int r, ret = -EPROTO;
	size_t off = 0;

	mbedtls_ssl_init(&ssl);
	mbedtls_ssl_config_init(&conf);
	mbedtls_x509_crt_init(&ca);
	*n = 0;
	if (mbedtls_x509_crt_parse(&ca, ep->ca_pem, ep->ca_len) != 0) {
		snprintf(err, errlen, "KBS_CA holds no usable PEM certificate");
		ret = -EINVAL;
		goto out;
	}
	if (mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT)) {
		snprintf(err, errlen, "TLS configuration failed");
		goto out;
	}
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
	mbedtls_ssl_conf_rng(&conf, kbs_rng, NULL);
	mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
	if (mbedtls_ssl_setup(&ssl, &conf) || mbedtls_ssl_set_hostname(&ssl, ep->host)) {
		snprintf(err, errlen, "TLS set-up failed");
		goto out;
	}
	mbedtls_ssl_set_bio(&ssl, io, io_send, io_recv, NULL);
	while ((r = mbedtls_ssl_handshake(&ssl)) != 0) {
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
		if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || (flags && flags != (uint32_t)-1)) {
			char why[256];
			int k = mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags);
			if (k > 0 && why[k - 1] == '\n')
				why[k - 1] = '\0';
			for (char *c = why; *c; c++)
				if (*c == '\n')
					*c = ';';
			snprintf(err, errlen, "TLS: the KBS certificate is refused (pinned KBS_CA, name %s): %s", ep->host,
				 why);
			ret = -EACCES;
		} else if (r == MBEDTLS_ERR_SSL_TIMEOUT) {
			snprintf(err, errlen, "TLS: the KBS did not complete the handshake before the deadline");
			ret = -ETIMEDOUT;
		} else {
			mbedtls_strerror(r, msg, sizeof(msg));
			snprintf(err, errlen, "TLS handshake with %s failed: %s (-0x%04x)", ep->host, msg, (unsigned)-r);
		}
		goto out;
	}
	while (off < reqlen) {
		r = mbedtls_ssl_write(&ssl, (const unsigned char *)req + off, reqlen - off);
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, r == MBEDTLS_ERR_SSL_TIMEOUT ? "TLS: sending timed out" : "TLS: sending failed");
			ret = r == MBEDTLS_ERR_SSL_TIMEOUT ? -ETIMEDOUT : -EPROTO;
			goto out;
		}
		off += (size_t)r;
	}
	for (;;) {
		if (*n == cap) {
			snprintf(err, errlen, "the answer is larger than %zu bytes", cap);
			ret = -E2BIG;
			goto out;
		}
		r = mbedtls_ssl_read(&ssl, (unsigned char *)resp + *n, cap - *n);
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
		if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
			continue;
#endif
		/* the answer ends when the server closes (Connection: close);
		 * a close without close_notify is judged by the HTTP framing */
		if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_NET_CONN_RESET)
			break;
		if (r < 0) {
			if (r == MBEDTLS_ERR_SSL_TIMEOUT) {
				snprintf(err, errlen, "the KBS did not finish its answer before the deadline");
				ret = -ETIMEDOUT;
			} else {
				mbedtls_strerror(r, msg, sizeof(msg));
				snprintf(err, errlen, "TLS: reading the answer failed: %s", msg);
			}
			goto out;
		}
		*n += (size_t)r;
	}
	ret = 0;
out:
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_x509_crt_free(&ca);
	return ret;
}

int kbs_exchange(const struct kbs_endpoint *ep, const char *req, size_t reqlen, char *resp, size_t cap, size_t *n,
		 uint64_t deadline_ms, char *err, size_t errlen)
{
	struct io io = { -1, deadline_ms };
	int r = tcp_connect(ep, &io, err, errlen);

	if (r < 0)
		return r;
	if (ep->ca_pem) {
		r = tls_exchange(ep, &io, req, reqlen, resp, cap, n, err, errlen);
	} else {
		size_t off = 0;

		while (off < reqlen && r == 0) {
			ssize_t k;

			r = wait_fd(&io, POLLOUT);
			if (r == 0 && (k = send(io.fd, req + off, reqlen - off, MSG_NOSIGNAL)) > 0)
				off += (size_t)k;
			else if (r == 0 && errno != EAGAIN)
				r = -errno;
		}
		if (r < 0)
			snprintf(err, errlen, "sending the request failed: %s", strerror(-r));
		else
			r = read_all_plain(&io, resp, cap, n, err, errlen);
	}
	close(io.fd);
	return r;
}
