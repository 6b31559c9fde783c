#ifndef CVMINIT_KBS_RCAR_H
#define CVMINIT_KBS_RCAR_H

#include <stddef.h>
#include <stdint.h>

/* The messages of Trustee's KBS protocol 0.4.0 (kbs/README.md): pure
 * builders and parsers, no I/O. Every answer is untrusted input. */

#define KBS_PROTOCOL_VERSION "0.4.0"
#define KBS_NONCE_MAX 128  /* Trustee: base64 of 32 bytes (44) */
#define KBS_B64_P256 44    /* unpadded base64url of a 32-byte coordinate: 43, and the NUL */
#define KBS_B64_RSA_N 684  /* unpadded base64url of a modulus of up to 512 bytes: 683, and the NUL */

/* A growing text buffer with a hard cap (messages never exceed it). */
struct kbs_buf {
	char *p;
	size_t len, cap, max;
	int err; /* first failure (-ENOMEM, -E2BIG); later appends do nothing */
};
void kbs_buf_init(struct kbs_buf *b, size_t max);
void kbs_buf_free(struct kbs_buf *b);
void kbs_buf_add(struct kbs_buf *b, const char *s, size_t n);
void kbs_buf_puts(struct kbs_buf *b, const char *s);
void kbs_buf_printf(struct kbs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "snp" or "tdx" (kbs-types Tee). */
int kbs_auth_body(const char *tee, struct kbs_buf *b);

/* The challenge: {"nonce": "...", "extra-params": ...}. The nonce is copied
 * when it is 1..KBS_NONCE_MAX printable ASCII bytes other than '"' and '\'
 * (so it is its own JSON and JCS text). 0, -EINVAL with why. */
int kbs_parse_challenge(const char *body, size_t len, char nonce[KBS_NONCE_MAX + 1], const char **why);

/* The tee-pubkey JWK: kbs-types TeePubKey::EC (crv P-256, the
 * coordinates) or TeePubKey::RSA (n, e), values unpadded base64url. */
struct kbs_jwk {
	int rsa;
	char x[KBS_B64_P256], y[KBS_B64_P256];
	char n[KBS_B64_RSA_N], e[16];
};
int kbs_jwk_from_point(const uint8_t x[32], const uint8_t y[32], struct kbs_jwk *out);
/* n and e big-endian as given (minimal: the caller strips leading zeros). */
int kbs_jwk_from_rsa(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen, struct kbs_jwk *out);

/* The runtime data the KBS rebuilds and the attestation service hashes,
 * as RFC 8785 text: keys sorted, no whitespace. Every value here is
 * printable ASCII without '"' or '\', so JCS is the plain serialisation. */
int kbs_runtime_jcs(const char *nonce, const struct kbs_jwk *jwk, struct kbs_buf *b);
/* REPORT_DATA = SHA-384(jcs) || 16 zero bytes (Trustee regularize_data). */
int kbs_report_data(const char *jcs, size_t len, uint8_t report_data[64]);

/* Evidence JSON for tee-evidence.primary_evidence. SNP: the report in
 * virtee/sev's serde form plus the certificate table (may be NULL/0) as
 * CertTableEntry list; TDX: base64 quote and CCEL (may be NULL/0). */
int kbs_snp_evidence(const uint8_t *report, size_t len, const uint8_t *certs, size_t certs_len,
		     struct kbs_buf *b, char *err, size_t errlen);
int kbs_tdx_evidence(const uint8_t *quote, size_t len, const uint8_t *ccel, size_t ccel_len, struct kbs_buf *b);

/* The Attestation body. */
int kbs_attest_body(const char *nonce, const struct kbs_jwk *jwk, const char *evidence, struct kbs_buf *b);

/* An error answer (RFC 7807): "<Kind>: <detail>" in out, printable ASCII,
 * cut to outlen; the body itself when it is not such JSON. Never fails. */
void kbs_problem_text(const char *body, size_t len, char *out, size_t outlen);

/* "<repository>/<type>/<tag>": three non-empty path segments of
 * [A-Za-z0-9._-] (no "." or ".." segment). 0 or -EINVAL. */
int kbs_resource_valid(const char *path);

#endif
