#ifndef CVMINIT_KBS_HTTP_H
#define CVMINIT_KBS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "kbs/rcar.h"

/* A minimal HTTP/1.1 client side for the KBS: one request per connection
 * (Connection: close), the whole answer read (bounded) and then parsed.
 * Hand-written: libcurl would add more than the init's size budget allows
 * for three requests (kbs/README.md). */

#define HTTP_HEAD_MAX 8192      /* status line and headers */
#define HTTP_HEADERS_MAX 64
#define HTTP_RESPONSE_MAX (256 * 1024)
#define KBS_COOKIE_MAX 128

struct http_response {
	int status;
	bool has_cookie;
	char cookie[KBS_COOKIE_MAX + 1]; /* the kbs-session-id value */
	const char *body;                /* inside the parsed buffer (dechunked in place) */
	size_t body_len;
};

/* Parses a complete answer in buf[0, len) (modifies it: chunked bodies are
 * joined in place). 0, or -EPROTO with a reason in *why. */
int http_parse_response(char *buf, size_t len, struct http_response *out, const char **why);

/* "METHOD path HTTP/1.1" with Host, Connection: close, the session cookie
 * (may be NULL) and a JSON body (may be NULL). */
int http_build_request(struct kbs_buf *b, const char *method, const char *host, const char *path, const char *cookie,
		       const char *body);

#endif
