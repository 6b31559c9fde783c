#include "kbs/http.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

int http_build_request(struct kbs_buf *b, const char *method, const char *host, const char *path, const char *cookie,
		       const char *body)
{
	kbs_buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cvminit\r\nAccept: application/json\r\n"
		       "Connection: close\r\n", method, path, host);
	if (cookie && cookie[0])
		kbs_buf_printf(b, "Cookie: kbs-session-id=%s\r\n", cookie);
	if (body)
		kbs_buf_printf(b, "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen(body));
	kbs_buf_puts(b, "\r\n");
	if (body)
		kbs_buf_puts(b, body);
	return b->err;
}

static int cookie_octet(unsigned char c)
{
	/* RFC 6265 4.1.1 cookie-octet */
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	       (c >= 0x5d && c <= 0x7e);
}

static int tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

/* A decimal or hex number of at most 9 digits (bodies are far smaller). */
static int parse_num(const char *s, size_t n, int base, size_t *out)
{
	size_t v = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		v = v * (size_t)base + (size_t)d;
	}
	*out = v;
	return 0;
}

static void trim(const char **v, size_t *n)
{
	while (*n && (**v == ' ' || **v == '\t'))
		(*v)++, (*n)--;
	while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

#define WHY(text)                  \
	do {                       \
		*why = (text);     \
		return -EPROTO;    \
	} while (0)

static int dechunk(char *p, size_t n, size_t *outlen, const char **why)
{
	size_t i = 0, o = 0;

	for (;;) {
		size_t line = 0, size, digits = 0;

		while (i + line < n && p[i + line] != '\r')
			line++;
		if (i + line + 1 >= n || p[i + line + 1] != '\n')
			WHY("a chunk size line is not ended by CRLF");
		while (digits < line && p[i + digits] != ';')
			digits++;
		if (parse_num(p + i, digits, 16, &size) < 0)
			WHY("a chunk size is not a hex number (at most 9 digits)");
		i += line + 2;
		if (size == 0)
			break;
		if (size > n - i || n - i - size < 2 || p[i + size] != '\r' || p[i + size + 1] != '\n')
			WHY("a chunk is truncated or not followed by CRLF");
		memmove(p + o, p + i, size);
		o += size;
		i += size + 2;
	}
	/* trailers: header lines up to an empty line; ignored */
	for (;;) {
		size_t line = 0;

		while (i + line < n && p[i + line] != '\r')
			line++;
		if (i + line + 1 >= n || p[i + line + 1] != '\n')
			WHY("the chunked body does not end with an empty line");
		i += line + 2;
		if (line == 0)
			break;
	}
	if (i != n)
		WHY("bytes follow the chunked body");
	*outlen = o;
	return 0;
}

int http_parse_response(char *buf, size_t len, struct http_response *out, const char **why)
{
	size_t i, head_end = 0, clen = 0, nheaders = 0;
	bool has_clen = false, chunked = false;

	memset(out, 0, sizeof(*out));
	*why = "";
	if (len > HTTP_RESPONSE_MAX)
		WHY("the answer is larger than 256 KiB");
	for (i = 0; i + 3 < len && i < HTTP_HEAD_MAX; i++)
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			head_end = i + 2; /* the end of the last header line */
			break;
		}
	if (!head_end)
		WHY(len == 0 ? "the connection closed without an answer" : "no complete HTTP header (8 KiB at most)");
	if (head_end < 14 || (memcmp(buf, "HTTP/1.1 ", 9) && memcmp(buf, "HTTP/1.0 ", 9)) ||
	    parse_num(buf + 9, 3, 10, &i) < 0 || (buf[12] != ' ' && buf[12] != '\r'))
		WHY("not an HTTP/1.x status line");
	out->status = (int)i;
	if (out->status < 200 || out->status > 599)
		WHY("an HTTP status outside 200-599");
	for (size_t k = 0; k < head_end; k++) {
		unsigned char c = (unsigned char)buf[k];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			WHY("a control character in the HTTP header");
	}
	/* header lines */
	for (size_t p = (size_t)((char *)memchr(buf, '\n', head_end) - buf) + 1; p < head_end;) {
		const char *line = buf + p, *colon, *v;
		size_t n = 0, vn;

		while (p + n < head_end && buf[p + n] != '\r')
			n++;
		if (p + n + 1 >= len || buf[p + n + 1] != '\n')
			WHY("a header line is not ended by CRLF");
		if (++nheaders > HTTP_HEADERS_MAX)
			WHY("more than 64 header lines");
		colon = memchr(line, ':', n);
		if (!colon || colon == line)
			WHY("a header line without a name");
		for (const char *c = line; c < colon; c++)
			if (!tchar((unsigned char)*c))
				WHY("a header name with a character that is not a token");
		v = colon + 1;
		vn = n - (size_t)(v - line);
		trim(&v, &vn);
		size_t name = (size_t)(colon - line);
		if (name == 14 && !strncasecmp(line, "Content-Length", 14)) {
			size_t c;

			if (parse_num(v, vn, 10, &c) < 0 || (has_clen && c != clen))
				WHY("a bad or conflicting Content-Length");
			clen = c;
			has_clen = true;
		} else if (name == 17 && !strncasecmp(line, "Transfer-Encoding", 17)) {
			if (vn != 7 || strncasecmp(v, "chunked", 7) || chunked)
				WHY("a Transfer-Encoding other than one \"chunked\"");
			chunked = true;
		} else if (name == 10 && !strncasecmp(line, "Set-Cookie", 10) && vn > 15 &&
			   !memcmp(v, "kbs-session-id=", 15)) {
			size_t c = 0;

			while (15 + c < vn && v[15 + c] != ';') {
				if (!cookie_octet((unsigned char)v[15 + c]))
					WHY("the kbs-session-id cookie has a character outside RFC 6265 cookie-octet");
				c++;
			}
			if (c == 0 || c > KBS_COOKIE_MAX)
				WHY("the kbs-session-id cookie is empty or longer than 128 bytes");
			memcpy(out->cookie, v + 15, c);
			out->cookie[c] = '\0';
			out->has_cookie = true;
		}
		p += n + 2;
	}
	char *body = buf + head_end + 2;
	size_t avail = len - head_end - 2;
	if (chunked && has_clen)
		WHY("both Content-Length and Transfer-Encoding (refused: request smuggling shape)");
	if (chunked) {
		if (dechunk(body, avail, &out->body_len, why) < 0)
			return -EPROTO;
	} else if (has_clen) {
		if (avail != clen)
			WHY(avail < clen ? "the body is shorter than Content-Length (truncated)"
					 : "bytes follow the Content-Length body");
		out->body_len = clen;
	} else {
		out->body_len = avail; /* delimited by the close */
	}
	out->body = body;
	return 0;
}
