/* Pure TPM2 helpers: banks, software hashing/extending, policy digests,
 * PIN auth values, base64/hex. mbedtls's md/base64 API (the same in 2.28 and
 * 3.6, so the unit tests build against the host's copy). */
#include "crypto/tpm2_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

/* TPM_CC values and the marshalled sizes of the PolicyPCR input. */
#define CC_POLICY_PCR 0x0000017Fu
#define CC_POLICY_AUTH_VALUE 0x0000016Bu
#define PIN_PBKDF2_ROUNDS 10000u

static const struct tpm2_bank_info banks[] = {
	{ TPM2_HASH_SHA1, "sha1", 20 },
	{ TPM2_HASH_SHA256, "sha256", 32 },
	{ TPM2_HASH_SHA384, "sha384", 48 },
	{ TPM2_HASH_SHA512, "sha512", 64 },
};

const struct tpm2_bank_info *tpm2_bank_by_alg(uint16_t alg)
{
	for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		if (banks[i].alg == alg)
			return &banks[i];
	return NULL;
}

const struct tpm2_bank_info *tpm2_bank_by_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(banks) / sizeof(banks[0]); i++)
		if (!strcmp(banks[i].name, name))
			return &banks[i];
	return NULL;
}

const char *tpm2_asym_name(uint16_t alg)
{
	return alg == TPM2_ASYM_ECC ? "ecc" : alg == TPM2_ASYM_RSA ? "rsa" : NULL;
}

static const mbedtls_md_info_t *md_of(uint16_t alg)
{
	switch (alg) {
	case TPM2_HASH_SHA1:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
	case TPM2_HASH_SHA256:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	case TPM2_HASH_SHA384:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
	case TPM2_HASH_SHA512:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
	default:
		return NULL;
	}
}

int tpm2_hash(uint16_t alg, const void *data, size_t len, uint8_t *out)
{
	const mbedtls_md_info_t *md = md_of(alg);

	if (!md)
		return -EINVAL;
	return mbedtls_md(md, data, len, out) == 0 ? 0 : -EIO;
}

int tpm2_hmac(uint16_t alg, const void *key, size_t keylen, const void *data, size_t len, uint8_t *out)
{
	const mbedtls_md_info_t *md = md_of(alg);

	if (!md || !keylen)
		return -EINVAL;
	return mbedtls_md_hmac(md, key, keylen, data, len, out) == 0 ? 0 : -EIO;
}

/* H(a || b || c) with optional parts. */
static int hash3(uint16_t alg, const void *a, size_t alen, const void *b, size_t blen, const void *c, size_t clen,
		 uint8_t *out)
{
	const mbedtls_md_info_t *md = md_of(alg);
	mbedtls_md_context_t ctx;
	int r;

	if (!md)
		return -EINVAL;
	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, md, 0);
	if (!r)
		r = mbedtls_md_starts(&ctx);
	if (!r && alen)
		r = mbedtls_md_update(&ctx, a, alen);
	if (!r && blen)
		r = mbedtls_md_update(&ctx, b, blen);
	if (!r && clen)
		r = mbedtls_md_update(&ctx, c, clen);
	if (!r)
		r = mbedtls_md_finish(&ctx, out);
	mbedtls_md_free(&ctx);
	return r ? -EIO : 0;
}

int tpm2_extend_sw(uint16_t alg, uint8_t *pcr, const uint8_t *digest)
{
	const struct tpm2_bank_info *b = tpm2_bank_by_alg(alg);
	uint8_t tmp[TPM2_MAX_DIGEST];
	int r;

	if (!b)
		return -EINVAL;
	r = hash3(alg, pcr, b->size, digest, b->size, NULL, 0, tmp);
	if (r == 0)
		memcpy(pcr, tmp, b->size);
	return r;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int tpm2_policy_digest(uint16_t bank, uint32_t mask, const uint8_t (*values)[TPM2_MAX_DIGEST], bool with_pin,
		       uint8_t out[32])
{
	const struct tpm2_bank_info *b = tpm2_bank_by_alg(bank);
	uint8_t cc[4];
	int r;

	memset(out, 0, 32);
	if (mask >> TPM2_PCR_COUNT)
		return -EINVAL;
	if (mask) {
		/* TPM_CC || TPML_PCR_SELECTION{count 1, {hash, sizeofSelect 3, bitmap}} */
		uint8_t sel[4 + 4 + 2 + 1 + 3];
		uint8_t pcr_hash[32];
		mbedtls_md_context_t ctx;
		unsigned n = 0;

		if (!b || !values)
			return -EINVAL;
		put_be32(sel, CC_POLICY_PCR);
		put_be32(sel + 4, 1);
		sel[8] = (uint8_t)(bank >> 8);
		sel[9] = (uint8_t)bank;
		sel[10] = 3;
		sel[11] = (uint8_t)mask;
		sel[12] = (uint8_t)(mask >> 8);
		sel[13] = (uint8_t)(mask >> 16);

		/* H(values) is SHA-256 (the session's hash), whatever the bank. */
		mbedtls_md_init(&ctx);
		r = mbedtls_md_setup(&ctx, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 0);
		if (!r)
			r = mbedtls_md_starts(&ctx);
		for (unsigned pcr = 0; !r && pcr < TPM2_PCR_COUNT; pcr++)
			if (mask & (1u << pcr))
				r = mbedtls_md_update(&ctx, values[n++], b->size);
		if (!r)
			r = mbedtls_md_finish(&ctx, pcr_hash);
		mbedtls_md_free(&ctx);
		if (r)
			return -EIO;
		r = hash3(TPM2_HASH_SHA256, out, 32, sel, sizeof(sel), pcr_hash, 32, out);
		if (r < 0)
			return r;
	}
	if (with_pin) {
		put_be32(cc, CC_POLICY_AUTH_VALUE);
		r = hash3(TPM2_HASH_SHA256, out, 32, cc, 4, NULL, 0, out);
		if (r < 0)
			return r;
	}
	return 0;
}

int tpm2_pbkdf2_sha256(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
		       unsigned iterations, uint8_t out[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	uint8_t u[32];
	static const uint8_t block1[4] = { 0, 0, 0, 1 };
	int r;

	if (!md || !pass_len || !salt_len || !iterations)
		return -EINVAL;
	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, md, 1);
	if (!r)
		r = mbedtls_md_hmac_starts(&ctx, pass, pass_len);
	if (!r)
		r = mbedtls_md_hmac_update(&ctx, salt, salt_len);
	if (!r)
		r = mbedtls_md_hmac_update(&ctx, block1, sizeof(block1));
	if (!r)
		r = mbedtls_md_hmac_finish(&ctx, u);
	if (!r)
		memcpy(out, u, 32);
	for (unsigned i = 1; !r && i < iterations; i++) {
		r = mbedtls_md_hmac_reset(&ctx);
		if (!r)
			r = mbedtls_md_hmac_update(&ctx, u, 32);
		if (!r)
			r = mbedtls_md_hmac_finish(&ctx, u);
		for (size_t j = 0; !r && j < 32; j++)
			out[j] ^= u[j];
	}
	mbedtls_md_free(&ctx);
	mbedtls_platform_zeroize(u, sizeof(u));
	if (r) {
		mbedtls_platform_zeroize(out, 32);
		return -EIO;
	}
	return 0;
}

int tpm2_pin_auth(const uint8_t *pin, size_t pin_len, const uint8_t *salt, size_t salt_len, uint8_t out[32])
{
	uint8_t salted[32];
	char b64[48];
	int r;

	if (!pin_len)
		return -EINVAL;
	if (!salt_len)
		return tpm2_hash(TPM2_HASH_SHA256, pin, pin_len, out);
	r = tpm2_pbkdf2_sha256(pin, pin_len, salt, salt_len, PIN_PBKDF2_ROUNDS, salted);
	if (r == 0) {
		int n = tpm2_base64_encode(salted, sizeof(salted), b64, sizeof(b64));
		r = n < 0 ? n : tpm2_hash(TPM2_HASH_SHA256, b64, (size_t)n, out);
	}
	mbedtls_platform_zeroize(salted, sizeof(salted));
	mbedtls_platform_zeroize(b64, sizeof(b64));
	return r;
}

int tpm2_base64_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (mbedtls_base64_encode((unsigned char *)out, outlen, &n, in, len) != 0 || n >= outlen)
		return -ENOSPC;
	out[n] = '\0';
	return (int)n;
}

int tpm2_base64_decode(const char *in, uint8_t *out, size_t outlen)
{
	size_t n = 0, len = strlen(in);
	int r;

	/* mbedtls accepts embedded whitespace; base64 in JSON has none. */
	for (size_t i = 0; i < len; i++)
		if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n')
			return -EINVAL;
	if (len % 4)
		return -EINVAL;
	r = mbedtls_base64_decode(out, outlen, &n, (const unsigned char *)in, len);
	if (r == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
		return -ENOSPC;
	if (r != 0)
		return -EINVAL;
	return (int)n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tpm2_appendf(char *out, size_t outlen, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= outlen)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(out + *used, outlen - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen - *used)
		return -ENOSPC;
	*used += (size_t)n;
	return 0;
}

int tpm2_hex_decode(const char *in, uint8_t *out, size_t outlen)
{
	size_t len = strlen(in);

	if (len % 2)
		return -EINVAL;
	if (len / 2 > outlen)
		return -ENOSPC;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

int tpm2_hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";

	if (outlen < 2 * len + 1)
		return -ENOSPC;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return (int)(2 * len);
}

int tpm2_passphrase_from_secret(const struct secret *raw, struct secret *out)
{
	size_t n = 0;

	secret_clear(out);
	if (raw->len == 0)
		return -ENODATA; /* an empty secret is no key (the empty passphrase) */
	if (mbedtls_base64_encode(out->data, out->cap, &n, raw->data, raw->len) != 0 || n >= out->cap) {
		secret_clear(out);
		return -ENOSPC;
	}
	out->len = n;
	return 0;
}
