#ifndef CVMINIT_KBS_TLS_H
#define CVMINIT_KBS_TLS_H

#include <stddef.h>
#include <stdint.h>

/* One HTTP exchange with the KBS: TCP to addr:port, TLS 1.2/1.3 (mbedtls)
 * with the chain checked against the pinned CA and the certificate's name
 * against host, the request sent, the whole answer read until the server
 * closes (at most cap bytes), all before the deadline (CLOCK_MONOTONIC ms).
 * Plain TCP when ca_pem is NULL (test builds' http://). 0 with *n, or
 * -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, -EACCES (certificate refused),
 * -EPROTO (TLS failed), -E2BIG, with a reason in err. */
struct kbs_endpoint {
	const char *host;  /* server name checked, and SNI */
	uint32_t addr;     /* network byte order */
	unsigned port;
	const unsigned char *ca_pem; /* NUL-terminated PEM, or NULL: plain HTTP */
	size_t ca_len;               /* including the NUL */
};

int kbs_exchange(const struct kbs_endpoint *ep, const char *req, size_t reqlen, char *resp, size_t cap, size_t *n,
		 uint64_t deadline_ms, char *err, size_t errlen);

uint64_t kbs_now_ms(void);

/* The process's DRBG (seeded once from the kernel). */
int kbs_rng(void *unused, unsigned char *out, size_t len);

#endif
