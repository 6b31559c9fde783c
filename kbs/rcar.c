#include "kbs/rcar.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "kbs/json.h"
#include "tee/snp_report.h"

void kbs_buf_init(struct kbs_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void kbs_buf_free(struct kbs_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void kbs_buf_add(struct kbs_buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->max) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void kbs_buf_puts(struct kbs_buf *b, const char *s)
{
	kbs_buf_add(b, s, strlen(s));
}

void kbs_buf_printf(struct kbs_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		if (!b->err)
			b->err = -E2BIG;
		return;
	}
	kbs_buf_add(b, tmp, (size_t)n);
}

int kbs_auth_body(const char *tee, struct kbs_buf *b)
{
	if (strcmp(tee, "snp") && strcmp(tee, "tdx"))
		return -EINVAL;
	kbs_buf_printf(b, "{\"version\":\"%s\",\"tee\":\"%s\",\"extra-params\":\"\"}", KBS_PROTOCOL_VERSION, tee);
	return b->err;
}

/* Printable ASCII without the two characters JSON escapes: such a string is
 * its own JSON and RFC 8785 serialisation. */
static int plain_ascii(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

int kbs_parse_challenge(const char *body, size_t len, char nonce[KBS_NONCE_MAX + 1], const char **why)
{
	struct json_object *o;
	const char *n;
	int r = kbs_json_parse(body, len, &o);

	nonce[0] = '\0';
	if (r < 0) {
		*why = "the challenge is not JSON";
		return -EINVAL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		*why = "the challenge is not a JSON object";
		r = -EINVAL;
	} else if (kbs_json_str(o, "nonce", KBS_NONCE_MAX, &n) < 0 || !plain_ascii(n, KBS_NONCE_MAX)) {
		*why = "the challenge has no usable nonce (a string of 1-128 printable ASCII characters)";
		r = -EINVAL;
	} else {
		strcpy(nonce, n);
	}
	json_object_put(o);
	return r;
}

int kbs_jwk_from_point(const uint8_t x[32], const uint8_t y[32], struct kbs_jwk *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = b64url_encode(x, 32, out->x, sizeof(out->x));
	return r < 0 ? r : b64url_encode(y, 32, out->y, sizeof(out->y));
}

int kbs_jwk_from_rsa(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen, struct kbs_jwk *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->rsa = 1;
	if (nlen == 0 || elen == 0)
		return -EINVAL;
	r = b64url_encode(n, nlen, out->n, sizeof(out->n));
	return r < 0 ? r : b64url_encode(e, elen, out->e, sizeof(out->e));
}

static void jwk_json(struct kbs_buf *b, const struct kbs_jwk *jwk)
{
	/* kbs-types TeePubKey, internally tagged by "kty": EC {crv, alg, x, y}
	 * or RSA {alg, n, e}. Written in JCS key order (which serde accepts
	 * too), so the same text serves the attest body and the runtime data.
	 * n is longer than kbs_buf_printf's 512 bytes: appended piecewise. */
	if (jwk->rsa) {
		kbs_buf_printf(b, "{\"alg\":\"RSA-OAEP-256\",\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"", jwk->e);
		kbs_buf_puts(b, jwk->n);
		kbs_buf_puts(b, "\"}");
		return;
	}
	kbs_buf_printf(b, "{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		       jwk->x, jwk->y);
}

int kbs_runtime_jcs(const char *nonce, const struct kbs_jwk *jwk, struct kbs_buf *b)
{
	if (!plain_ascii(nonce, KBS_NONCE_MAX))
		return -EINVAL;
	/* backend.rs: tee-pubkey, nonce and additional-evidence (the empty
	 * string this client sends); JCS sorts the keys */
	kbs_buf_printf(b, "{\"additional-evidence\":\"\",\"nonce\":\"%s\",\"tee-pubkey\":", nonce);
	jwk_json(b, jwk);
	kbs_buf_puts(b, "}");
	return b->err;
}

int kbs_report_data(const char *jcs, size_t len, uint8_t report_data[64])
{
	memset(report_data, 0, 64);
	return mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), (const unsigned char *)jcs, len, report_data)
		       ? -EIO : 0;
}

static void bytes_json(struct kbs_buf *b, const uint8_t *p, size_t n)
{
	kbs_buf_puts(b, "[");
	for (size_t i = 0; i < n; i++)
		kbs_buf_printf(b, i ? ",%u" : "%u", p[i]);
	kbs_buf_puts(b, "]");
}

static void tcb_json(struct kbs_buf *b, const char *name, const struct snp_tcb *t)
{
	kbs_buf_printf(b, ",\"%s\":{", name);
	if (t->turin)
		kbs_buf_printf(b, "\"fmc\":%u", t->fmc);
	else
		kbs_buf_puts(b, "\"fmc\":null");
	kbs_buf_printf(b, ",\"bootloader\":%u,\"tee\":%u,\"snp\":%u,\"microcode\":%u}", t->boot_loader, t->tee, t->snp,
		       t->microcode);
}

#define BYTES(name, field)                                             \
	do {                                                           \
		kbs_buf_puts(b, ",\"" name "\":");                     \
		bytes_json(b, rep.field, sizeof(rep.field));           \
	} while (0)

/* The SEV-SNP certificate table (GHCB spec): 16-byte GUID, offset, length,
 * ended by an all-zero GUID. GUIDs in string byte order, as sev's
 * Uuid::from_bytes reads them. */
static const struct {
	const char *type;
	uint8_t guid[16];
} cert_guids[] = {
	{ "ARK", { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae } },
	{ "ASK", { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 } },
	{ "VCEK", { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd } },
	{ "VLEK", { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 } },
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int certs_json(struct kbs_buf *b, const uint8_t *t, size_t len, char *err, size_t errlen)
{
	static const uint8_t zero[16];
	int first = 1;

	kbs_buf_puts(b, "[");
	for (size_t off = 0;; off += 24) {
		if (off + 24 > len) {
			snprintf(err, errlen, "the host's certificate table has no end marker");
			return -EINVAL;
		}
		if (!memcmp(t + off, zero, 16))
			break;
		uint32_t o = le32(t + off + 16), n = le32(t + off + 20);
		if (o > len || n > len - o) {
			snprintf(err, errlen, "the host's certificate table points outside itself");
			return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(cert_guids) / sizeof(cert_guids[0]); i++) {
			if (memcmp(t + off, cert_guids[i].guid, 16))
				continue;
			kbs_buf_printf(b, "%s{\"cert_type\":\"%s\",\"data\":", first ? "" : ",", cert_guids[i].type);
			bytes_json(b, t + o, n);
			kbs_buf_puts(b, "}");
			first = 0;
		}
	}
	kbs_buf_puts(b, "]");
	return 0;
}

int kbs_snp_evidence(const uint8_t *report, size_t len, const uint8_t *certs, size_t certs_len,
		     struct kbs_buf *b, char *err, size_t errlen)
{
	struct snp_report rep;
	int r;

	if (snp_report_parse(report, len, &rep, err, errlen) < 0)
		return -EINVAL;
	/* virtee/sev AttestationReport, field by field in its order */
	kbs_buf_printf(b, "{\"attestation_report\":{\"version\":%u,\"guest_svn\":%u,\"policy\":%llu", rep.version,
		       rep.guest_svn, (unsigned long long)rep.policy);
	BYTES("family_id", family_id);
	BYTES("image_id", image_id);
	kbs_buf_printf(b, ",\"vmpl\":%u,\"sig_algo\":%u", rep.vmpl, rep.signature_algo);
	tcb_json(b, "current_tcb", &rep.current_tcb);
	kbs_buf_printf(b, ",\"plat_info\":%llu,\"key_info\":%u", (unsigned long long)rep.platform_info,
		       rep.signer_info);
	BYTES("report_data", report_data);
	BYTES("measurement", measurement);
	BYTES("host_data", host_data);
	BYTES("id_key_digest", id_key_digest);
	BYTES("author_key_digest", author_key_digest);
	BYTES("report_id", report_id);
	BYTES("report_id_ma", report_id_ma);
	tcb_json(b, "reported_tcb", &rep.reported_tcb);
	if (rep.has_cpuid)
		kbs_buf_printf(b, ",\"cpuid_fam_id\":%u,\"cpuid_mod_id\":%u,\"cpuid_step\":%u", rep.cpuid_fam_id,
			       rep.cpuid_mod_id, rep.cpuid_step);
	else
		kbs_buf_puts(b, ",\"cpuid_fam_id\":null,\"cpuid_mod_id\":null,\"cpuid_step\":null");
	BYTES("chip_id", chip_id);
	tcb_json(b, "committed_tcb", &rep.committed_tcb);
	kbs_buf_printf(b, ",\"current\":{\"major\":%u,\"minor\":%u,\"build\":%u}", rep.current_major,
		       rep.current_minor, rep.current_build);
	kbs_buf_printf(b, ",\"committed\":{\"major\":%u,\"minor\":%u,\"build\":%u}", rep.committed_major,
		       rep.committed_minor, rep.committed_build);
	tcb_json(b, "launch_tcb", &rep.launch_tcb);
	if (rep.has_mit_vector)
		kbs_buf_printf(b, ",\"launch_mit_vector\":%llu,\"current_mit_vector\":%llu",
			       (unsigned long long)rep.launch_mit_vector, (unsigned long long)rep.current_mit_vector);
	else
		kbs_buf_puts(b, ",\"launch_mit_vector\":null,\"current_mit_vector\":null");
	BYTES("signature\":{\"r", sig_r);
	BYTES("s", sig_s);
	kbs_buf_puts(b, "}},\"cert_chain\":");
	if (certs && certs_len) {
		r = certs_json(b, certs, certs_len, err, errlen);
		if (r < 0)
			return r;
	} else {
		kbs_buf_puts(b, "null");
	}
	kbs_buf_puts(b, "}");
	if (b->err)
		snprintf(err, errlen, "the evidence does not fit (%s)", b->err == -E2BIG ? "too large" : "out of memory");
	return b->err;
}

static void b64_json(struct kbs_buf *b, const uint8_t *p, size_t n)
{
	size_t olen = 0;
	char *s;

	mbedtls_base64_encode(NULL, 0, &olen, p, n);
	s = malloc(olen ? olen : 1);
	if (!s) {
		if (!b->err)
			b->err = -ENOMEM;
		return;
	}
	if (mbedtls_base64_encode((unsigned char *)s, olen, &olen, p, n) == 0) {
		kbs_buf_puts(b, "\"");
		kbs_buf_add(b, s, olen);
		kbs_buf_puts(b, "\"");
	} else if (!b->err) {
		b->err = -EIO;
	}
	free(s);
}

int kbs_tdx_evidence(const uint8_t *quote, size_t len, const uint8_t *ccel, size_t ccel_len, struct kbs_buf *b)
{
	/* deps/verifier/src/tdx/mod.rs TdxEvidence: standard base64 */
	kbs_buf_puts(b, "{\"cc_eventlog\":");
	if (ccel && ccel_len)
		b64_json(b, ccel, ccel_len);
	else
		kbs_buf_puts(b, "null");
	kbs_buf_puts(b, ",\"quote\":");
	b64_json(b, quote, len);
	kbs_buf_puts(b, "}");
	return b->err;
}

int kbs_attest_body(const char *nonce, const struct kbs_jwk *jwk, const char *evidence, struct kbs_buf *b)
{
	if (!plain_ascii(nonce, KBS_NONCE_MAX))
		return -EINVAL;
	kbs_buf_printf(b, "{\"runtime-data\":{\"nonce\":\"%s\",\"tee-pubkey\":", nonce);
	jwk_json(b, jwk);
	kbs_buf_puts(b, "},\"tee-evidence\":{\"primary_evidence\":");
	kbs_buf_puts(b, evidence);
	kbs_buf_puts(b, ",\"additional_evidence\":\"\"}}");
	return b->err;
}

/* Copies printable ASCII, anything else as '?'. */
static void sanitize(char *out, size_t outlen, const char *in, size_t n)
{
	size_t o = 0;

	if (!outlen)
		return;
	for (size_t i = 0; i < n && o + 1 < outlen; i++)
		out[o++] = in[i] >= 0x20 && in[i] <= 0x7e ? in[i] : '?';
	out[o] = '\0';
}

void kbs_problem_text(const char *body, size_t len, char *out, size_t outlen)
{
	struct json_object *o = NULL;
	const char *type = NULL, *detail = NULL;
	char t[64], d[256];

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (len == 0) {
		snprintf(out, outlen, "(empty answer)");
		return;
	}
	if (kbs_json_parse(body, len, &o) == 0 && json_object_is_type(o, json_type_object)) {
		kbs_json_str(o, "type", 1024, &type);
		kbs_json_str(o, "detail", 4096, &detail);
	}
	if (type || detail) {
		const char *kind = type ? strrchr(type, '/') : NULL;

		kind = kind ? kind + 1 : type ? type : "";
		sanitize(t, sizeof(t), kind, strlen(kind));
		sanitize(d, sizeof(d), detail ? detail : "", detail ? strlen(detail) : 0);
		snprintf(out, outlen, "%s%s%s", t, t[0] && d[0] ? ": " : "", d);
	} else {
		sanitize(out, outlen, body, len);
	}
	json_object_put(o);
}

static int seg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

int kbs_resource_valid(const char *path)
{
	unsigned segs = 0;
	const char *s = path;

	for (;;) {
		size_t n = 0;

		while (s[n] && s[n] != '/') {
			if (!seg_char(s[n]))
				return -EINVAL;
			n++;
		}
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return -EINVAL;
		segs++;
		if (!s[n])
			break;
		s += n + 1;
	}
	return segs == 3 ? 0 : -EINVAL;
}
