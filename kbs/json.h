#ifndef CVMINIT_KBS_JSON_H
#define CVMINIT_KBS_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* The KBS's answers are read with json-c, bounded: at most KBS_JSON_MAX
 * bytes, nesting at most KBS_JSON_DEPTH, strict RFC 8259, the whole buffer
 * one value. 0 (caller json_object_put()s *out), -EINVAL, -E2BIG. */
#define KBS_JSON_MAX (256 * 1024)
#define KBS_JSON_DEPTH 16
int kbs_json_parse(const char *buf, size_t len, struct json_object **out);

/* Member key of object o as a string of at most maxlen bytes: 0, -ENOENT
 * (absent), -EINVAL (not a string), -E2BIG. */
int kbs_json_str(struct json_object *o, const char *key, size_t maxlen, const char **out);

/* Unpadded base64url (RFC 7515 section 2), strict: no '=', '+', '/',
 * whitespace, or non-zero trailing bits. 0 with *n, -EINVAL, -ENOSPC. */
int b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen, size_t *n);
/* Writes a NUL-terminated string: 0 or -ENOSPC. */
int b64url_encode(const uint8_t *in, size_t len, char *out, size_t outlen);

#endif
