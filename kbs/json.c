#include "kbs/json.h"

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

int kbs_json_parse(const char *buf, size_t len, struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *o;
	int ok;

	*out = NULL;
	if (len > KBS_JSON_MAX)
		return -E2BIG;
	if (len == 0 || memchr(buf, '\0', len)) /* json-c would stop at a NUL */
		return -EINVAL;
	tok = json_tokener_new_ex(KBS_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	ok = o && json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	if (!ok) {
		json_object_put(o);
		return -EINVAL;
	}
	*out = o;
	return 0;
}

int kbs_json_str(struct json_object *o, const char *key, size_t maxlen, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	if ((size_t)json_object_get_string_len(v) > maxlen)
		return -E2BIG;
	*out = json_object_get_string(v);
	/* a string with an embedded NUL is not what it seems to a C reader */
	if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return -EINVAL;
	return 0;
}

static const char b64url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Hand-written: mbedtls' base64 is the padded standard alphabet only, and
 * translating a copy of untrusted input first would cost a second buffer. */
int b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen, size_t *n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (inlen % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < inlen; i++) {
		const char *p = in[i] ? strchr(b64url_alpha, in[i]) : NULL;

		if (!p)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)(p - b64url_alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -ENOSPC;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* non-canonical: leftover bits must be zero */
		return -EINVAL;
	*n = o;
	return 0;
}

int b64url_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			if (o + 1 >= outlen)
				return -ENOSPC;
			out[o++] = b64url_alpha[(acc >> bits) & 63];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits) {
		if (o + 1 >= outlen)
			return -ENOSPC;
		out[o++] = b64url_alpha[(acc << (6 - bits)) & 63];
	}
	if (o >= outlen)
		return -ENOSPC;
	out[o] = '\0';
	return 0;
}
