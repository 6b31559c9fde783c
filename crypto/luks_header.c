/* The LUKS2 metadata policy over one in-memory copy of the header area.
 * libcryptsetup parses and uses a header; it has no notion of what a
 * confidential VM must refuse (a null cipher, a second segment, a pending
 * reencryption, tokens of unknown plugins), so this reads the on-disk format
 * (LUKS2 On-Disk Format Specification: binary header, JSON area) itself,
 * with json-c for the JSON, and decides. */
#include "crypto/luks_header.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <mbedtls/md.h>

#include "crypto/secret.h"

#define BIN_HDR 4096u  /* the binary part of each header copy */
static const char *const token_types[] = { "systemd-tpm2", "cvminit-snp" };

static int fail(char *err, size_t errlen, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- binary headers ------------------------------------------------------ */

struct hdr_copy {
	const uint8_t *bin;
	const char *json;   /* NUL-terminated inside its area */
	size_t json_area;
	uint64_t seqid;
	char uuid[40];
};

static int checksum_ok(const uint8_t *bin, size_t hdr_size, bool *ok)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	uint8_t head[512], d[32];
	int r;

	/* the checksum covers the binary header with its csum field zeroed,
	 * then the JSON area */
	memcpy(head, bin, sizeof(head));
	memset(head + 448, 0, 64);
	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, md, 0);
	if (r == 0)
		r = mbedtls_md_starts(&ctx);
	if (r == 0)
		r = mbedtls_md_update(&ctx, head, sizeof(head));
	if (r == 0)
		r = mbedtls_md_update(&ctx, bin + sizeof(head), hdr_size - sizeof(head));
	if (r == 0)
		r = mbedtls_md_finish(&ctx, d);
	mbedtls_md_free(&ctx);
	if (r != 0)
		return -EIO;
	*ok = !memcmp(d, bin + 448, 32);
	for (int i = 32; i < 64; i++)
		*ok = *ok && bin[448 + i] == 0;
	return 0;
}

static bool uuid_ok(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : !((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')))
			return false;
	}
	return true;
}

static int read_copy(const uint8_t *buf, size_t len, int n, uint64_t off, uint64_t hdr_size, struct hdr_copy *c,
		     char *err, size_t errlen)
{
	static const uint8_t magic[2][6] = { { 'L', 'U', 'K', 'S', 0xba, 0xbe }, { 'S', 'K', 'U', 'L', 0xba, 0xbe } };
	const uint8_t *b = buf + off;
	bool ok;

	memset(c, 0, sizeof(*c));
	c->json = "";
	if (off + hdr_size > len)
		return fail(err, errlen, -EINVAL, "header copy %d does not fit in the header area", n);
	if (memcmp(b, magic[n - 1], 6))
		return fail(err, errlen, -EINVAL, "header copy %d (offset %" PRIu64 ") has no LUKS2 magic", n, off);
	if (((unsigned)b[6] << 8 | b[7]) != 2)
		return fail(err, errlen, -EINVAL, "header copy %d is version %u (allowed: 2)", n,
			    (unsigned)b[6] << 8 | b[7]);
	if (be64(b + 8) != hdr_size)
		return fail(err, errlen, -EINVAL, "header copy %d: hdr_size is %" PRIu64 " (copy 1 says %" PRIu64 ")", n,
			    be64(b + 8), hdr_size);
	if (be64(b + 256) != off)
		return fail(err, errlen, -EINVAL, "header copy %d: hdr_offset is %" PRIu64 " (expected %" PRIu64 ")", n,
			    be64(b + 256), off);
	if (strnlen((const char *)b + 72, 32) == 32 || strcmp((const char *)b + 72, "sha256"))
		return fail(err, errlen, -EINVAL, "header copy %d: checksum_alg is %.31s (allowed: sha256)", n,
			    (const char *)b + 72);
	if (checksum_ok(b, hdr_size, &ok) < 0)
		return fail(err, errlen, -EIO, "SHA-256 failed");
	if (!ok)
		return fail(err, errlen, -EINVAL, "header copy %d (offset %" PRIu64 "): checksum mismatch", n, off);
	memcpy(c->uuid, b + 168, 40);
	c->uuid[39] = '\0';
	if (!uuid_ok(c->uuid))
		return fail(err, errlen, -EINVAL, "header copy %d: uuid is not a lower-case UUID", n);
	c->bin = b;
	c->seqid = be64(b + 16);
	c->json = (const char *)b + BIN_HDR;
	c->json_area = hdr_size - BIN_HDR;
	if (strnlen(c->json, c->json_area) == c->json_area)
		return fail(err, errlen, -EINVAL, "header copy %d: the JSON area has no terminating NUL", n);
	return 0;
}

/* ---- JSON helpers ------------------------------------------------------------ */

/* A decimal string as LUKS2 writes sizes and offsets ("16777216"). */
static bool dec_cstr(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 20 || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static bool dec_str(struct json_object *o, uint64_t *out)
{
	return json_object_is_type(o, json_type_string) && dec_cstr(json_object_get_string(o), out);
}

/* "0".."31": the ids of keyslots, segments, digests and tokens. */
static int id_of(const char *s)
{
	uint64_t v = 0;

	return s && dec_cstr(s, &v) && v < 32 ? (int)v : -1;
}

static const char *str_of(struct json_object *parent, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(parent, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool int_of(struct json_object *parent, const char *key, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(parent, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* The value as short JSON text for a message (never secret: it is the host's). */
static const char *shown(struct json_object *v, char *buf, size_t len)
{
	const char *t = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "missing";

	if (json_object_is_type(v, json_type_string))
		t = json_object_get_string(v);
	snprintf(buf, len, "%.80s%s", t, strlen(t) > 80 ? "..." : "");
	return buf;
}

static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !strncmp(p, word, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static bool only_keys(struct json_object *o, const char *const *allowed, size_t n, const char **bad)
{
	json_object_object_foreach(o, key, val) {
		(void)val;
		size_t i;
		for (i = 0; i < n && strcmp(key, allowed[i]); i++)
			;
		if (i == n) {
			*bad = key;
			return false;
		}
	}
	return true;
}

/* ---- the policy over one JSON area -------------------------------------------- */

struct json_ctx {
	const struct luks_policy *pol;
	uint64_t hdr_size, len;
	struct luks_facts *f;
	char *err;
	size_t errlen;
};

static int check_segments(struct json_ctx *j, struct json_object *segs)
{
	static const char *const keys[] = { "type", "offset", "size", "iv_tweak", "encryption", "sector_size" };
	struct json_object *s, *v;
	const char *t, *bad;
	char b[100];
	uint64_t off;
	int64_t ss;

	if (json_object_object_length(segs) != 1 || !json_object_object_get_ex(segs, "0", &s))
		return fail(j->err, j->errlen, -EPERM, "segments has %d entries (allowed: exactly one, segment 0)",
			    json_object_object_length(segs));
	if (!json_object_is_type(s, json_type_object))
		return fail(j->err, j->errlen, -EINVAL, "segments.0 is not an object");
	t = str_of(s, "type");
	if (!t && !j->pol->enforce)
		return fail(j->err, j->errlen, -EINVAL, "segments.0.type is missing");
	if (j->pol->enforce && (!t || strcmp(t, "crypt")))
		return fail(j->err, j->errlen, -EPERM, "segments.0.type is %s (allowed: crypt)",
			    shown(json_object_object_get_ex(s, "type", &v) ? v : NULL, b, sizeof(b)));
	t = str_of(s, "encryption");
	if (!t)
		return fail(j->err, j->errlen, -EINVAL, "segments.0.encryption is missing");
	snprintf(j->f->cipher, sizeof(j->f->cipher), "%s", t);
	if (!json_object_object_get_ex(s, "offset", &v) || !dec_str(v, &off))
		return fail(j->err, j->errlen, -EINVAL, "segments.0.offset is %s (expected a decimal string)",
			    shown(json_object_object_get_ex(s, "offset", &v) ? v : NULL, b, sizeof(b)));
	j->f->data_offset = off;
	if (!int_of(s, "sector_size", &ss) || ss <= 0 || ss > 65536)
		return fail(j->err, j->errlen, -EINVAL, "segments.0.sector_size is not a number");
	j->f->sector_size = (unsigned)ss;
	if (!j->pol->enforce)
		return 0;
	if (!only_keys(s, keys, sizeof(keys) / sizeof(keys[0]), &bad))
		return fail(j->err, j->errlen, -EPERM, "segments.0.%.40s is set (allowed: %s)", bad,
			    !strcmp(bad, "integrity") ? "no integrity" : !strcmp(bad, "flags") ? "no flags" : "none");
	if (!in_list(j->pol->ciphers, t))
		return fail(j->err, j->errlen, -EPERM, "segments.0.encryption is %.60s (allowed: %s)", t, j->pol->ciphers);
	if (off != j->pol->data_offset)
		return fail(j->err, j->errlen, -EPERM, "segments.0.offset is %" PRIu64 " (expected %" PRIu64 ")", off,
			    j->pol->data_offset);
	t = str_of(s, "size");
	if (!t || strcmp(t, "dynamic"))
		return fail(j->err, j->errlen, -EPERM, "segments.0.size is %s (allowed: dynamic)",
			    shown(json_object_object_get_ex(s, "size", &v) ? v : NULL, b, sizeof(b)));
	t = str_of(s, "iv_tweak");
	if (!t || strcmp(t, "0"))
		return fail(j->err, j->errlen, -EPERM, "segments.0.iv_tweak is %s (expected 0)",
			    shown(json_object_object_get_ex(s, "iv_tweak", &v) ? v : NULL, b, sizeof(b)));
	if ((unsigned)ss != j->pol->sector_size)
		return fail(j->err, j->errlen, -EPERM, "segments.0.sector_size is %" PRId64 " (expected %u)", ss,
			    j->pol->sector_size);
	return 0;
}

static int check_keyslots(struct json_ctx *j, struct json_object *ks)
{
	char b[100];

	json_object_object_foreach(ks, key, s) {
		int id = id_of(key);
		struct json_object *area, *v;
		const char *t;
		int64_t n;
		uint64_t off, size;

		if (id < 0 || !json_object_is_type(s, json_type_object))
			return fail(j->err, j->errlen, -EINVAL, "keyslots.%.16s is not a keyslot", key);
		j->f->keyslots |= 1u << id;
		if (!int_of(s, "key_size", &n) || n <= 0 || n > 512)
			return fail(j->err, j->errlen, -EINVAL, "keyslots.%d.key_size is not a number", id);
		if (!j->f->key_bytes)
			j->f->key_bytes = (unsigned)n;
		if (!j->pol->enforce)
			continue;
		t = str_of(s, "type");
		if (!t || strcmp(t, "luks2"))
			return fail(j->err, j->errlen, -EPERM, "keyslots.%d.type is %s (allowed: luks2)", id,
				    shown(json_object_object_get_ex(s, "type", &v) ? v : NULL, b, sizeof(b)));
		if (n != LUKS_KEY_BYTES)
			return fail(j->err, j->errlen, -EPERM, "keyslots.%d.key_size is %" PRId64 " (expected %d: a 512-bit key)",
				    id, n, LUKS_KEY_BYTES);
		if (!json_object_object_get_ex(s, "area", &area) || !json_object_is_type(area, json_type_object))
			return fail(j->err, j->errlen, -EINVAL, "keyslots.%d.area is missing", id);
		t = str_of(area, "type");
		if (!t || strcmp(t, "raw"))
			return fail(j->err, j->errlen, -EPERM, "keyslots.%d.area.type is %s (allowed: raw)", id,
				    shown(json_object_object_get_ex(area, "type", &v) ? v : NULL, b, sizeof(b)));
		/* the same allow-list as the segment: libcryptsetup encrypts a
		 * keyslot area with the segment's cipher unless told otherwise */
		t = str_of(area, "encryption");
		if (!t || !in_list(j->pol->ciphers, t))
			return fail(j->err, j->errlen, -EPERM, "keyslots.%d.area.encryption is %s (allowed: %s)", id,
				    shown(json_object_object_get_ex(area, "encryption", &v) ? v : NULL, b, sizeof(b)),
				    j->pol->ciphers);
		if (!int_of(area, "key_size", &n) || n != LUKS_KEY_BYTES)
			return fail(j->err, j->errlen, -EPERM, "keyslots.%d.area.key_size is %s (expected %d)", id,
				    shown(json_object_object_get_ex(area, "key_size", &v) ? v : NULL, b, sizeof(b)),
				    LUKS_KEY_BYTES);
		if (!json_object_object_get_ex(area, "offset", &v) || !dec_str(v, &off) ||
		    !json_object_object_get_ex(area, "size", &v) || !dec_str(v, &size) || size == 0 ||
		    off < 2 * j->hdr_size || off > j->pol->data_offset || size > j->pol->data_offset - off)
			return fail(j->err, j->errlen, -EPERM,
				    "keyslots.%d.area lies outside the keyslots area (between %" PRIu64 " and %" PRIu64 ")", id,
				    2 * j->hdr_size, j->pol->data_offset);
	}
	return 0;
}

/* One digest, for segment 0, naming every keyslot: a keyslot that opens
 * yields the volume key of that segment and of nothing else. */
static int check_digests(struct json_ctx *j, struct json_object *ds)
{
	struct json_object *d = NULL, *a, *v;
	uint32_t linked = 0;
	char b[100];
	const char *t;

	if (json_object_object_length(ds) != 1)
		return fail(j->err, j->errlen, -EPERM, "digests has %d entries (allowed: exactly one, for segment 0)",
			    json_object_object_length(ds));
	json_object_object_foreach(ds, key, val) {
		if (id_of(key) < 0 || !json_object_is_type(val, json_type_object))
			return fail(j->err, j->errlen, -EINVAL, "digests.%.16s is not a digest", key);
		d = val;
		t = str_of(d, "type");
		if (!t || strcmp(t, "pbkdf2"))
			return fail(j->err, j->errlen, -EPERM, "digests.%s.type is %s (allowed: pbkdf2)", key,
				    shown(json_object_object_get_ex(d, "type", &v) ? v : NULL, b, sizeof(b)));
		if (!json_object_object_get_ex(d, "segments", &a) || !json_object_is_type(a, json_type_array) ||
		    json_object_array_length(a) != 1 || !(t = json_object_get_string(json_object_array_get_idx(a, 0))) ||
		    !json_object_is_type(json_object_array_get_idx(a, 0), json_type_string) || strcmp(t, "0"))
			return fail(j->err, j->errlen, -EPERM, "digests.%s.segments is %s (allowed: [\"0\"])", key,
				    shown(json_object_object_get_ex(d, "segments", &a) ? a : NULL, b, sizeof(b)));
		if (!json_object_object_get_ex(d, "keyslots", &a) || !json_object_is_type(a, json_type_array))
			return fail(j->err, j->errlen, -EINVAL, "digests.%s.keyslots is missing", key);
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *e = json_object_array_get_idx(a, i);
			int k = json_object_is_type(e, json_type_string) ? id_of(json_object_get_string(e)) : -1;
			if (k < 0 || !(j->f->keyslots & 1u << k))
				return fail(j->err, j->errlen, -EPERM, "digests.%s.keyslots names %s, which is not a keyslot",
					    key, shown(e, b, sizeof(b)));
			linked |= 1u << k;
		}
	}
	for (int k = 0; k < 32; k++)
		if ((j->f->keyslots & 1u << k) && !(linked & 1u << k))
			return fail(j->err, j->errlen, -EPERM, "keyslots.%d is not linked to segment 0 by a digest", k);
	return 0;
}

static int check_tokens(struct json_ctx *j, struct json_object *ts)
{
	char b[100];

	json_object_object_foreach(ts, key, tok) {
		struct json_object *a, *v;
		const char *t;
		size_t i;

		if (id_of(key) < 0 || !json_object_is_type(tok, json_type_object))
			return fail(j->err, j->errlen, -EINVAL, "tokens.%.16s is not a token", key);
		t = str_of(tok, "type");
		for (i = 0; t && i < sizeof(token_types) / sizeof(token_types[0]) && strcmp(t, token_types[i]); i++)
			;
		if (!t || i == sizeof(token_types) / sizeof(token_types[0]))
			return fail(j->err, j->errlen, -EPERM, "tokens.%s.type is %s (allowed: systemd-tpm2, cvminit-snp)",
				    key, shown(json_object_object_get_ex(tok, "type", &v) ? v : NULL, b, sizeof(b)));
		if (!json_object_object_get_ex(tok, "keyslots", &a) || !json_object_is_type(a, json_type_array))
			return fail(j->err, j->errlen, -EINVAL, "tokens.%s.keyslots is missing", key);
		for (i = 0; i < json_object_array_length(a); i++) {
			struct json_object *e = json_object_array_get_idx(a, i);
			int k = json_object_is_type(e, json_type_string) ? id_of(json_object_get_string(e)) : -1;
			if (k < 0 || !(j->f->keyslots & 1u << k))
				return fail(j->err, j->errlen, -EPERM, "tokens.%s.keyslots names %s, which is not a keyslot",
					    key, shown(e, b, sizeof(b)));
		}
	}
	return 0;
}

static int check_config(struct json_ctx *j, struct json_object *c)
{
	static const char *const keys[] = { "json_size", "keyslots_size", "flags", "requirements" };
	struct json_object *v;
	uint64_t n;
	const char *bad;
	char b[100];

	if (!json_object_object_get_ex(c, "json_size", &v) || !dec_str(v, &n) || n != j->hdr_size - BIN_HDR)
		return fail(j->err, j->errlen, -EINVAL, "config.json_size is %s (expected %" PRIu64 ")",
			    shown(json_object_object_get_ex(c, "json_size", &v) ? v : NULL, b, sizeof(b)),
			    j->hdr_size - BIN_HDR);
	if (!json_object_object_get_ex(c, "keyslots_size", &v) || !dec_str(v, &n) || n > j->len - 2 * j->hdr_size)
		return fail(j->err, j->errlen, -EINVAL, "config.keyslots_size is %s (the header area holds %" PRIu64 ")",
			    shown(json_object_object_get_ex(c, "keyslots_size", &v) ? v : NULL, b, sizeof(b)),
			    j->len - 2 * j->hdr_size);
	if (!j->pol->enforce)
		return 0;
	/* requirements: a pending reencryption, OPAL, or any flag this
	 * libcryptsetup may learn later; none is accepted */
	if (json_object_object_get_ex(c, "requirements", &v))
		return fail(j->err, j->errlen, -EPERM, "config.requirements is %s (allowed: none)", shown(v, b, sizeof(b)));
	if (json_object_object_get_ex(c, "flags", &v) &&
	    !(json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0))
		return fail(j->err, j->errlen, -EPERM, "config.flags is %s (allowed: none)", shown(v, b, sizeof(b)));
	if (!only_keys(c, keys, sizeof(keys) / sizeof(keys[0]), &bad))
		return fail(j->err, j->errlen, -EPERM, "config.%.40s is set (allowed: json_size, keyslots_size)", bad);
	return 0;
}

static int check_json(const struct hdr_copy *c, const struct luks_policy *pol, uint64_t hdr_size, size_t len,
		      struct luks_facts *f, char *err, size_t errlen)
{
	static const char *const keys[] = { "keyslots", "tokens", "segments", "digests", "config" };
	struct json_ctx j = { pol, hdr_size, len, f, err, errlen };
	struct json_tokener *tok = json_tokener_new();
	size_t n = strlen(c->json);
	struct json_object *root = NULL, *ks = NULL, *ts = NULL, *segs = NULL, *ds = NULL, *cfg = NULL;
	const char *bad;
	int r;

	if (!tok)
		return fail(err, errlen, -ENOMEM, "out of memory");
	root = json_tokener_parse_ex(tok, c->json, (int)n);
	r = json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == n ? 0 : -EINVAL;
	json_tokener_free(tok);
	if (r < 0 || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return fail(err, errlen, -EINVAL, "the JSON area is not one JSON object");
	}
	f->keyslots = 0;
	f->key_bytes = 0;
	if (!json_object_object_get_ex(root, "keyslots", &ks) || !json_object_is_type(ks, json_type_object) ||
	    !json_object_object_get_ex(root, "segments", &segs) || !json_object_is_type(segs, json_type_object) ||
	    !json_object_object_get_ex(root, "digests", &ds) || !json_object_is_type(ds, json_type_object) ||
	    !json_object_object_get_ex(root, "config", &cfg) || !json_object_is_type(cfg, json_type_object))
		r = fail(err, errlen, -EINVAL, "keyslots, segments, digests or config is missing");
	else if (json_object_object_get_ex(root, "tokens", &ts) && !json_object_is_type(ts, json_type_object))
		r = fail(err, errlen, -EINVAL, "tokens is not an object");
	else if (pol->enforce && !only_keys(root, keys, sizeof(keys) / sizeof(keys[0]), &bad))
		r = fail(err, errlen, -EPERM, "%.40s is set (allowed: keyslots, tokens, segments, digests, config)", bad);
	if (r == 0)
		r = check_config(&j, cfg);
	if (r == 0)
		r = check_segments(&j, segs);
	if (r == 0)
		r = check_keyslots(&j, ks);
	if (r == 0 && pol->enforce)
		r = check_digests(&j, ds);
	if (r == 0 && pol->enforce && json_object_object_get_ex(root, "tokens", &ts))
		r = check_tokens(&j, ts);
	json_object_put(root);
	return r;
}

int luks_header_check(const uint8_t *buf, size_t len, const struct luks_policy *pol, struct luks_facts *facts,
		      char *err, size_t errlen)
{
	struct hdr_copy c[2];
	uint64_t hdr_size;
	int r;

	memset(facts, 0, sizeof(*facts));
	if (len != pol->data_offset || len < 2 * BIN_HDR)
		return fail(err, errlen, -EINVAL, "the header area is %zu bytes (expected %" PRIu64 ")", len, pol->data_offset);
	/* magic and version first: a LUKS1 or foreign header says so, not
	 * "hdr_size is <its cipher name as a number>" */
	if (memcmp(buf, "LUKS\xba\xbe", 6))
		return fail(err, errlen, -EINVAL, "header copy 1 (offset 0) has no LUKS2 magic");
	if (((unsigned)buf[6] << 8 | buf[7]) != 2)
		return fail(err, errlen, -EINVAL, "header copy 1 is version %u (allowed: 2)", (unsigned)buf[6] << 8 | buf[7]);
	hdr_size = be64(buf + 8);
	/* 16 KiB to 4 MiB, a power of two (what the format allows), both copies
	 * inside the header area: checked before anything is read at it */
	if (hdr_size < 16384 || hdr_size > (4u << 20) || (hdr_size & (hdr_size - 1)) || 2 * hdr_size > len)
		return fail(err, errlen, -EINVAL, "hdr_size is %" PRIu64 " (allowed: 16384 to 4194304, a power of two)",
			    hdr_size);
	/* Both copies must be intact: libcryptsetup picks one (the newer) or
	 * repairs one from the other, and we cannot know which it uses, so each
	 * one it could use is checked. */
	r = read_copy(buf, len, 1, 0, hdr_size, &c[0], err, errlen);
	if (r == 0)
		r = read_copy(buf, len, 2, hdr_size, hdr_size, &c[1], err, errlen);
	if (r < 0)
		return r;
	if (strcmp(c[0].uuid, c[1].uuid))
		return fail(err, errlen, -EINVAL, "the two header copies have different uuids");
	r = check_json(&c[0], pol, hdr_size, len, facts, err, errlen);
	if (r == 0 && strcmp(c[0].json, c[1].json)) {
		/* an interrupted header write: the copies differ; both must pass,
		 * and the facts are the newer copy's (libcryptsetup's choice) */
		struct luks_facts f2;
		char e2[240];
		memset(&f2, 0, sizeof(f2));
		r = check_json(&c[1], pol, hdr_size, len, &f2, e2, sizeof(e2));
		if (r < 0)
			return fail(err, errlen, r, "header copy 2: %s", e2);
		if (c[1].seqid > c[0].seqid)
			*facts = f2;
	}
	if (r < 0) {
		memset(facts, 0, sizeof(*facts));
		return r;
	}
	snprintf(facts->uuid, sizeof(facts->uuid), "%s", c[0].uuid);
	facts->hdr_size = hdr_size;
	facts->seqid = c[1].seqid > c[0].seqid ? c[1].seqid : c[0].seqid;
	facts->valid = true;
	return 0;
}

/* ---- the loader -------------------------------------------------------------- */

/* Written in place, not replaced by rename: libcryptsetup keeps the file
 * descriptor of a loaded header open, so a crypt_device reloaded after a
 * refresh (crypto/luks.c) must find the new bytes under the same inode. A
 * failed write fails the boot; the file is only ever ours (tmpfs, 0600). */
static int write_copy(const char *path, const uint8_t *buf, size_t len)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0)
		r = -errno;
	/* All-zero blocks (most of the keyslots area) stay holes: the same
	 * bytes when read, less RAM in the tmpfs and less to write. */
	for (size_t off = 0; off < len && r == 0;) {
		size_t n = len - off < 65536 ? len - off : 65536;
		if (buf[off] == 0 && !memcmp(buf + off, buf + off + 1, n - 1)) {
			off += n;
			continue;
		}
		ssize_t w = pwrite(fd, buf + off, n, (off_t)off);
		if (w < 0 && errno != EINTR)
			r = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (r == 0 && ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int luks_header_load(const char *dev, const char *copy_path, const struct luks_policy *pol,
		     struct luks_facts *facts, char *err, size_t errlen)
{
	cleanup_secret struct secret *area = NULL;
	struct stat st;
	int fd, r;

	memset(facts, 0, sizeof(*facts));
	if (pol->data_offset < 2 * 16384 || pol->data_offset > LUKS_HDR_AREA_MAX)
		return fail(err, errlen, -EINVAL, "LUKS_DATA_OFFSET %" PRIu64 " is outside 32 KiB to %llu MiB",
			    pol->data_offset, LUKS_HDR_AREA_MAX >> 20);
	fd = open(dev, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(err, errlen, -errno, "cannot open it: %s", strerror(errno));
	if (fstat(fd, &st) < 0 || !(S_ISBLK(st.st_mode) || S_ISREG(st.st_mode))) {
		close(fd);
		return fail(err, errlen, -ENOTBLK, "not a block device");
	}
	/* Locked memory: the keyslot areas hold (encrypted) key material. */
	r = secret_new(&area, (size_t)pol->data_offset);
	if (r < 0) {
		close(fd);
		return fail(err, errlen, r, "cannot allocate %" PRIu64 " bytes of locked memory", pol->data_offset);
	}
	/* The one read of the header area: everything after it works on these bytes. */
	for (size_t done = 0; done < area->cap;) {
		ssize_t n = pread(fd, area->data + done, area->cap - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -ENOSPC;
			close(fd);
			return fail(err, errlen, r, "cannot read its %" PRIu64 " header bytes: %s", pol->data_offset,
				    n < 0 ? strerror(-r) : "the device is smaller");
		}
		done += (size_t)n;
	}
	close(fd);
	area->len = area->cap;
	r = luks_header_check(area->data, area->len, pol, facts, err, errlen);
	if (r < 0)
		return r;
	r = write_copy(copy_path, area->data, area->len);
	if (r < 0) {
		memset(facts, 0, sizeof(*facts));
		return fail(err, errlen, r, "cannot write the header copy %s: %s", copy_path, strerror(-r));
	}
	snprintf(facts->copy, sizeof(facts->copy), "%s", copy_path);
	return 0;
}
