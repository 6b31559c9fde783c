/* The LUKS2 systemd-tpm2 token: parse (json-c) and format (as systemd 252
 * writes it). Field by field what systemd's tpm2_parse_luks2_json() reads,
 * plus the fields newer systemd versions add, refused when unsupported. */
#include "crypto/tpm2_token.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "crypto/tpm2_util.h"

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!errlen)
		return r;
	n = snprintf(err, errlen, "systemd-tpm2 token: ");
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return r;
}

/* A string field, or a one-element array of strings (newer systemd writes
 * arrays for "sharded" enrollments: several blobs/policies, not supported). */
static int string_or_single(struct json_object *v, const char *key, const char **out, char *err, size_t errlen)
{
	*out = NULL;
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		if (n > 1)
			return fail(err, errlen, -EOPNOTSUPP,
				    "%s: %zu entries (a sharded enrollment: several TPM policies) is not supported", key, n);
		if (n == 0)
			return fail(err, errlen, -EINVAL, "%s: empty array", key);
		v = json_object_array_get_idx(v, 0);
	}
	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, -EINVAL, "%s: not a string", key);
	*out = json_object_get_string(v);
	return 0;
}

static int pcr_array(struct json_object *v, const char *key, uint32_t *mask, char *err, size_t errlen)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return fail(err, errlen, -EINVAL, "%s: not an array", key);
	*mask = 0;
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		int64_t pcr;
		if (!json_object_is_type(e, json_type_int))
			return fail(err, errlen, -EINVAL, "%s: entry %zu is not an integer", key, i);
		pcr = json_object_get_int64(e);
		if (pcr < 0 || pcr >= TPM2_PCR_COUNT)
			return fail(err, errlen, -EINVAL, "%s: %lld is not a PCR (0..%d)", key, (long long)pcr,
				    TPM2_PCR_COUNT - 1);
		*mask |= 1u << pcr;
	}
	return 0;
}

static int keyslot_of(struct json_object *v, int *slot, char *err, size_t errlen)
{
	struct json_object *e;
	const char *s;
	long n = 0;

	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return fail(err, errlen, -EINVAL, "keyslots: not a non-empty array");
	e = json_object_array_get_idx(v, 0);
	if (!json_object_is_type(e, json_type_string))
		return fail(err, errlen, -EINVAL, "keyslots: entry 0 is not a string");
	s = json_object_get_string(e);
	if (!*s || strlen(s) > 3)
		return fail(err, errlen, -EINVAL, "keyslots: \"%s\" is not a keyslot number", s);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(err, errlen, -EINVAL, "keyslots: \"%s\" is not a keyslot number", s);
		n = n * 10 + (*p - '0');
	}
	*slot = (int)n;
	return 0;
}

static int blob_check(const struct tpm2_token *tok, char *err, size_t errlen)
{
	size_t off = 0;

	/* TPM2B_PRIVATE then TPM2B_PUBLIC: each a big-endian size and its bytes. */
	for (int part = 0; part < 2; part++) {
		size_t n;
		if (off + 2 > tok->blob_len)
			return fail(err, errlen, -EINVAL, "tpm2-blob: truncated (%zu bytes)", tok->blob_len);
		n = (size_t)tok->blob[off] << 8 | tok->blob[off + 1];
		off += 2 + n;
		if (n == 0 || off > tok->blob_len)
			return fail(err, errlen, -EINVAL, "tpm2-blob: truncated (%zu bytes)", tok->blob_len);
	}
	return 0;
}

static const char *const known_keys[] = {
	"type", "keyslots", "tpm2-blob", "tpm2-pcrs", "tpm2-pcr-bank", "tpm2-primary-alg", "tpm2-policy-hash",
	"tpm2-pin", "tpm2_salt", "tpm2_srk", "tpm2_pubkey", "tpm2_pubkey_pcrs", "tpm2_pcrlock", "tpm2_pcrlock_nv",
};

static int check_keys(struct json_object *root, char *err, size_t errlen)
{
	json_object_object_foreach(root, key, val)
	{
		bool known = false;
		(void)val;
		for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
			known |= !strcmp(key, known_keys[i]);
		/* Fields of other software are theirs; a tpm2 field we do not
		 * know is a policy element of a newer systemd. */
		if (!known && !strncmp(key, "tpm2", 4))
			return fail(err, errlen, -EOPNOTSUPP, "field \"%.64s\" (from a newer systemd) is not supported",
				    key);
	}
	return 0;
}

static int parse_root(struct json_object *root, struct tpm2_token *tok, char *err, size_t errlen)
{
	struct json_object *v;
	const char *s = NULL;
	int r;

	if (!json_object_is_type(root, json_type_object))
		return fail(err, errlen, -EINVAL, "not a JSON object");
	if (!json_object_object_get_ex(root, "type", &v) || !json_object_is_type(v, json_type_string))
		return fail(err, errlen, -EINVAL, "no \"type\"");
	if (strcmp(json_object_get_string(v), TPM2_TOKEN_TYPE))
		return fail(err, errlen, -EMEDIUMTYPE, "type is \"%.64s\"", json_object_get_string(v));

	/* What cvminit cannot honour, before anything else. */
	if (json_object_object_get_ex(root, "tpm2_pubkey", &v))
		return fail(err, errlen, -EOPNOTSUPP,
			    "tpm2_pubkey: signed PCR policies (systemd-measure) are not supported");
	if (json_object_object_get_ex(root, "tpm2_pubkey_pcrs", &v)) {
		uint32_t m = 0;
		r = pcr_array(v, "tpm2_pubkey_pcrs", &m, err, errlen);
		if (r < 0)
			return r;
		if (m)
			return fail(err, errlen, -EOPNOTSUPP,
				    "tpm2_pubkey_pcrs: signed PCR policies (systemd-measure) are not supported");
	}
	if (json_object_object_get_ex(root, "tpm2_pcrlock", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return fail(err, errlen, -EINVAL, "tpm2_pcrlock: not a boolean");
		if (json_object_get_boolean(v))
			return fail(err, errlen, -EOPNOTSUPP, "tpm2_pcrlock: pcrlock policies are not supported");
	}
	if (json_object_object_get_ex(root, "tpm2_pcrlock_nv", &v))
		return fail(err, errlen, -EOPNOTSUPP, "tpm2_pcrlock_nv: pcrlock policies are not supported");
	r = check_keys(root, err, errlen);
	if (r < 0)
		return r;

	if (!json_object_object_get_ex(root, "keyslots", &v))
		return fail(err, errlen, -EINVAL, "no \"keyslots\"");
	r = keyslot_of(v, &tok->keyslot, err, errlen);
	if (r < 0)
		return r;

	if (!json_object_object_get_ex(root, "tpm2-pcrs", &v))
		return fail(err, errlen, -EINVAL, "no \"tpm2-pcrs\"");
	r = pcr_array(v, "tpm2-pcrs", &tok->pcr_mask, err, errlen);
	if (r < 0)
		return r;

	tok->pcr_bank = TPM2_HASH_SHA256;
	if (json_object_object_get_ex(root, "tpm2-pcr-bank", &v)) {
		const struct tpm2_bank_info *b;
		if (!json_object_is_type(v, json_type_string))
			return fail(err, errlen, -EINVAL, "tpm2-pcr-bank: not a string");
		b = tpm2_bank_by_name(json_object_get_string(v));
		if (!b)
			return fail(err, errlen, -EOPNOTSUPP, "tpm2-pcr-bank: \"%.32s\" is not supported",
				    json_object_get_string(v));
		tok->pcr_bank = b->alg;
	}

	tok->primary_alg = TPM2_ASYM_ECC;
	if (json_object_object_get_ex(root, "tpm2-primary-alg", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return fail(err, errlen, -EINVAL, "tpm2-primary-alg: not a string");
		s = json_object_get_string(v);
		if (!strcmp(s, "ecc"))
			tok->primary_alg = TPM2_ASYM_ECC;
		else if (!strcmp(s, "rsa"))
			tok->primary_alg = TPM2_ASYM_RSA;
		else
			return fail(err, errlen, -EINVAL, "tpm2-primary-alg: \"%.32s\" is neither ecc nor rsa", s);
		tok->primary_alg_given = true;
	}

	if (!json_object_object_get_ex(root, "tpm2-blob", &v))
		return fail(err, errlen, -EINVAL, "no \"tpm2-blob\"");
	r = string_or_single(v, "tpm2-blob", &s, err, errlen);
	if (r < 0)
		return r;
	r = tpm2_base64_decode(s, tok->blob, sizeof(tok->blob));
	if (r < 0)
		return fail(err, errlen, -EINVAL, "tpm2-blob: %s", r == -ENOSPC ? "too large" : "not base64");
	tok->blob_len = (size_t)r;
	r = blob_check(tok, err, errlen);
	if (r < 0)
		return r;

	if (!json_object_object_get_ex(root, "tpm2-policy-hash", &v))
		return fail(err, errlen, -EINVAL, "no \"tpm2-policy-hash\"");
	r = string_or_single(v, "tpm2-policy-hash", &s, err, errlen);
	if (r < 0)
		return r;
	r = tpm2_hex_decode(s, tok->policy_hash, sizeof(tok->policy_hash));
	if (r != 32)
		return fail(err, errlen, -EINVAL, "tpm2-policy-hash: not a SHA-256 digest in hex");
	tok->policy_hash_len = (size_t)r;

	if (json_object_object_get_ex(root, "tpm2-pin", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return fail(err, errlen, -EINVAL, "tpm2-pin: not a boolean");
		tok->pin = json_object_get_boolean(v);
	}

	if (json_object_object_get_ex(root, "tpm2_salt", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return fail(err, errlen, -EINVAL, "tpm2_salt: not a string");
		r = tpm2_base64_decode(json_object_get_string(v), tok->salt, sizeof(tok->salt));
		if (r <= 0)
			return fail(err, errlen, -EINVAL, "tpm2_salt: not base64 of 1 to %d bytes", TPM2_TOKEN_SALT_MAX);
		tok->salt_len = (size_t)r;
	}

	if (json_object_object_get_ex(root, "tpm2_srk", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return fail(err, errlen, -EINVAL, "tpm2_srk: not a string");
		r = tpm2_base64_decode(json_object_get_string(v), tok->srk, sizeof(tok->srk));
		if (r <= 0)
			return fail(err, errlen, -EINVAL, "tpm2_srk: not base64 of a serialized handle");
		tok->srk_len = (size_t)r;
	}
	return 0;
}

int tpm2_token_parse(const char *json, struct tpm2_token *tok, char *err, size_t errlen)
{
	struct json_tokener *jt;
	struct json_object *root;
	size_t len;
	int r;

	memset(tok, 0, sizeof(*tok));
	if (errlen)
		err[0] = '\0';
	if (!json)
		return fail(err, errlen, -EINVAL, "no JSON");
	len = strlen(json);
	if (len > TPM2_TOKEN_JSON_MAX)
		return fail(err, errlen, -EINVAL, "JSON larger than %d bytes", TPM2_TOKEN_JSON_MAX);
	jt = json_tokener_new();
	if (!jt)
		return fail(err, errlen, -ENOMEM, "out of memory");
	root = json_tokener_parse_ex(jt, json, (int)len);
	if (!root || json_tokener_get_error(jt) != json_tokener_success) {
		json_object_put(root);
		json_tokener_free(jt);
		return fail(err, errlen, -EINVAL, "not valid JSON");
	}
	for (size_t end = json_tokener_get_parse_end(jt); end < len; end++)
		if (json[end] != ' ' && json[end] != '\n' && json[end] != '\t' && json[end] != '\r') {
			json_object_put(root);
			json_tokener_free(jt);
			return fail(err, errlen, -EINVAL, "text after the JSON object");
		}
	json_tokener_free(jt);
	r = parse_root(root, tok, err, errlen);
	json_object_put(root);
	if (r < 0)
		memset(tok, 0, sizeof(*tok)); /* nothing half-parsed survives a failure */
	return r;
}

/* snprintf appender: *used grows, -ENOSPC once out is full. */

int tpm2_token_format(const struct tpm2_token *tok, char *out, size_t outlen)
{
	const struct tpm2_bank_info *bank = tpm2_bank_by_alg(tok->pcr_bank);
	const char *alg = tpm2_asym_name(tok->primary_alg);
	char b64[((TPM2_TOKEN_SRK_MAX > TPM2_TOKEN_BLOB_MAX ? TPM2_TOKEN_SRK_MAX : TPM2_TOKEN_BLOB_MAX) + 2) / 3 * 4 + 1];
	char hex[2 * sizeof(tok->policy_hash) + 1];
	size_t used = 0;
	int r, first = 1;

	if (!bank || !alg || !tok->blob_len || tok->blob_len > sizeof(tok->blob) || !tok->policy_hash_len ||
	    tok->policy_hash_len > sizeof(tok->policy_hash) || tok->salt_len > sizeof(tok->salt) ||
	    tok->srk_len > sizeof(tok->srk) || tok->keyslot < 0 || tok->pcr_mask >> TPM2_PCR_COUNT)
		return -EINVAL;
	if (tpm2_base64_encode(tok->blob, tok->blob_len, b64, sizeof(b64)) < 0)
		return -EINVAL;
	r = tpm2_appendf(out, outlen, &used, "{\"type\":\"" TPM2_TOKEN_TYPE "\",\"keyslots\":[\"%d\"],\"tpm2-blob\":\"%s\",\"tpm2-pcrs\":[",
		tok->keyslot, b64);
	for (unsigned pcr = 0; r == 0 && pcr < TPM2_PCR_COUNT; pcr++)
		if (tok->pcr_mask & (1u << pcr)) {
			r = tpm2_appendf(out, outlen, &used, "%s%u", first ? "" : ",", pcr);
			first = 0;
		}
	tpm2_hex_encode(tok->policy_hash, tok->policy_hash_len, hex, sizeof(hex));
	if (r == 0)
		r = tpm2_appendf(out, outlen, &used,
			"],\"tpm2-pcr-bank\":\"%s\",\"tpm2-primary-alg\":\"%s\",\"tpm2-policy-hash\":\"%s\",\"tpm2-pin\":%s",
			bank->name, alg, hex, tok->pin ? "true" : "false");
	if (r == 0 && tok->salt_len) {
		tpm2_base64_encode(tok->salt, tok->salt_len, b64, sizeof(b64));
		r = tpm2_appendf(out, outlen, &used, ",\"tpm2_salt\":\"%s\"", b64);
	}
	if (r == 0 && tok->srk_len) {
		tpm2_base64_encode(tok->srk, tok->srk_len, b64, sizeof(b64));
		r = tpm2_appendf(out, outlen, &used, ",\"tpm2_srk\":\"%s\"", b64);
	}
	if (r == 0)
		r = tpm2_appendf(out, outlen, &used, "}");
	return r < 0 ? r : (int)used;
}
