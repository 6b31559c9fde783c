/* Bounds-checked little-endian field access for the report parsers
 * (tee/snp_report.c, tee/tdx_quote.c). Pure: no I/O, no allocation, no
 * globals. A `struct rd` reads one byte range [0, end) of `buf`; every read
 * is checked first with rd_need(), which writes the parser's error string
 * ("truncated at offset N: need X bytes for Y ...") on failure. */
#ifndef CVMINIT_TEE_BYTES_H
#define CVMINIT_TEE_BYTES_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct rd {
	const uint8_t *buf; /* the whole input: offsets below are absolute */
	size_t end;         /* reads must stay below this offset */
	const char *scope;  /* NULL, or the structure `end` bounds ("certification data") */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static inline int rd_fail(const struct rd *r, const char *fmt, ...)
{
	if (r->err && r->errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* 0 when n bytes at off lie inside [0, end); else the error and -1. */
static inline int rd_need(const struct rd *r, size_t off, size_t n, const char *what)
{
	if (off <= r->end && n <= r->end - off)
		return 0;
	size_t have = off < r->end ? r->end - off : 0;
	if (r->scope)
		return rd_fail(r, "truncated at offset %zu: need %zu bytes for %s, %zu left in the %s",
			       off, n, what, have, r->scope);
	return rd_fail(r, "truncated at offset %zu: need %zu bytes for %s, %zu available", off, n, what,
		       have);
}

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

#endif
