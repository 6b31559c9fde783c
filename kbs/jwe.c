#include "kbs/jwe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/nist_kw.h>
#include <mbedtls/platform_util.h>

#include "kbs/json.h"

#define JWE_ALG "ECDH-ES+A256KW"
#define JWE_ALG_RSA "RSA-OAEP-256"
#define JWE_HEADER_MAX 2048
#define JWE_CT_B64_MAX ((KBS_SECRET_MAX * 4 + 2) / 3)

static int export_xy(struct kbs_key *k)
{
	unsigned char pt[65];
	size_t n = 0;

	if (mbedtls_ecp_point_write_binary(&k->grp, &k->q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n, pt, sizeof(pt)) || n != 65)
		return -EIO;
	memcpy(k->x, pt + 1, 32);
	memcpy(k->y, pt + 33, 32);
	return 0;
}

static void key_init(struct kbs_key *k)
{
	memset(k, 0, sizeof(*k));
	mbedtls_ecp_group_init(&k->grp);
	mbedtls_mpi_init(&k->d);
	mbedtls_ecp_point_init(&k->q);
	mbedtls_rsa_init(&k->ctx);
}

/* n and e as minimal big-endian bytes (no leading zero), as jwcrypto and
 * guest-components encode a JWK's "n" and "e". */
static int export_ne(struct kbs_key *k)
{
	mbedtls_mpi n, e;
	int r = -EIO;

	mbedtls_mpi_init(&n);
	mbedtls_mpi_init(&e);
	if (mbedtls_rsa_export(&k->ctx, &n, NULL, NULL, NULL, &e))
		goto out;
	k->nlen = mbedtls_mpi_size(&n);
	k->elen = mbedtls_mpi_size(&e);
	if (k->nlen == 0 || k->nlen > sizeof(k->n) || k->elen == 0 || k->elen > sizeof(k->e) ||
	    mbedtls_mpi_write_binary(&n, k->n, k->nlen) || mbedtls_mpi_write_binary(&e, k->e, k->elen))
		goto out;
	/* OAEP with SHA-256 for both the label hash and MGF1 (RFC 7518 4.3) */
	r = mbedtls_rsa_set_padding(&k->ctx, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256) ? -EIO : 0;
out:
	mbedtls_mpi_free(&n);
	mbedtls_mpi_free(&e);
	return r;
}

int kbs_key_generate_rsa(struct kbs_key *k, int (*rng)(void *, unsigned char *, size_t), void *rng_ctx)
{
	key_init(k);
	k->rsa = 1;
	if (mbedtls_rsa_gen_key(&k->ctx, rng, rng_ctx, KBS_RSA_BITS, KBS_RSA_EXPONENT) || export_ne(k)) {
		kbs_key_free(k);
		return -EIO;
	}
	return 0;
}

int kbs_key_import_rsa(struct kbs_key *k, const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
		       const unsigned char *d, size_t dlen, const unsigned char *p, size_t plen, const unsigned char *q,
		       size_t qlen)
{
	key_init(k);
	k->rsa = 1;
	if (nlen > KBS_RSA_MAX_BYTES || mbedtls_rsa_import_raw(&k->ctx, n, nlen, p, plen, q, qlen, d, dlen, e, elen) ||
	    mbedtls_rsa_complete(&k->ctx) || mbedtls_rsa_check_privkey(&k->ctx) || export_ne(k)) {
		kbs_key_free(k);
		return -EINVAL;
	}
	return 0;
}

int kbs_key_generate(struct kbs_key *k, int (*rng)(void *, unsigned char *, size_t), void *rng_ctx)
{
	key_init(k);
	if (mbedtls_ecp_group_load(&k->grp, MBEDTLS_ECP_DP_SECP256R1) ||
	    mbedtls_ecp_gen_keypair(&k->grp, &k->d, &k->q, rng, rng_ctx) || export_xy(k)) {
		kbs_key_free(k);
		return -EIO;
	}
	return 0;
}

int kbs_key_import(struct kbs_key *k, const unsigned char d[32], int (*rng)(void *, unsigned char *, size_t),
		   void *rng_ctx)
{
	key_init(k);
	if (mbedtls_ecp_group_load(&k->grp, MBEDTLS_ECP_DP_SECP256R1) || mbedtls_mpi_read_binary(&k->d, d, 32) ||
	    mbedtls_ecp_check_privkey(&k->grp, &k->d) || mbedtls_ecp_mul(&k->grp, &k->q, &k->d, &k->grp.G, rng, rng_ctx) ||
	    export_xy(k)) {
		kbs_key_free(k);
		return -EINVAL;
	}
	return 0;
}

void kbs_key_free(struct kbs_key *k)
{
	mbedtls_mpi_free(&k->d); /* zeroises the limbs */
	mbedtls_ecp_point_free(&k->q);
	mbedtls_ecp_group_free(&k->grp);
	mbedtls_rsa_free(&k->ctx); /* zeroises D, P, Q, DP, DQ, QP and the blinding values */
	mbedtls_platform_zeroize(k, sizeof(*k));
}

#define FAIL(code, ...)                                 \
	do {                                            \
		snprintf(err, errlen, __VA_ARGS__);     \
		r = (code);                             \
		goto out;                               \
	} while (0)

static int b64_member(struct json_object *o, const char *name, size_t maxb64, uint8_t *buf, size_t cap, size_t *n,
		      const char **text, char *err, size_t errlen)
{
	const char *s;
	int r = kbs_json_str(o, name, maxb64, &s);

	if (r < 0) {
		snprintf(err, errlen, "JWE member \"%s\" %s", name,
			 r == -ENOENT ? "is missing" : r == -E2BIG ? "is too long" : "is not a string");
		return -EINVAL;
	}
	if (text)
		*text = s;
	if (buf && b64url_decode(s, strlen(s), buf, cap, n) < 0) {
		snprintf(err, errlen, "JWE member \"%s\" is not unpadded base64url of at most %zu bytes", name, cap);
		return -EINVAL;
	}
	return 0;
}

/* RFC 7518 4.6.2 Concat KDF with SHA-256, one round (32 bytes), empty
 * PartyUInfo/PartyVInfo: as kbs/src/jwe/mod.rs concat_kdf. */
static int concat_kdf(const unsigned char z[32], unsigned char kek[32])
{
	static const unsigned char alg[] = JWE_ALG;
	unsigned char in[4 + 32 + 4 + sizeof(alg) - 1 + 4 + 4 + 4];
	size_t o = 0;
	int r;

	memcpy(in + o, "\0\0\0\1", 4), o += 4;
	memcpy(in + o, z, 32), o += 32;
	memcpy(in + o, "\0\0\0", 3), o += 3;
	in[o++] = (unsigned char)(sizeof(alg) - 1);
	memcpy(in + o, alg, sizeof(alg) - 1), o += sizeof(alg) - 1;
	memset(in + o, 0, 8), o += 8; /* apu, apv: zero-length */
	memcpy(in + o, "\0\0\1\0", 4), o += 4; /* keydatalen: 256 bits */
	r = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), in, o, kek) ? -EIO : 0;
	mbedtls_platform_zeroize(in, sizeof(in));
	return r;
}

static int check_header(const uint8_t *h, size_t hlen, const struct kbs_key *k, mbedtls_ecp_group *grp,
			mbedtls_ecp_point *epk, char *err, size_t errlen)
{
	struct json_object *o = NULL, *e;
	const char *alg, *enc, *kty, *crv, *x, *y;
	unsigned char pt[65];
	size_t n;
	int r = kbs_json_parse((const char *)h, hlen, &o);

	if (r < 0 || !json_object_is_type(o, json_type_object))
		FAIL(-EINVAL, "the JWE protected header is not a JSON object");
	/* only the alg of the key offered: an RSA key takes no RSA1_5, which
	 * Trustee would also speak (a padding oracle, and a downgrade) */
	if (k->rsa && (kbs_json_str(o, "alg", 64, &alg) < 0 || strcmp(alg, JWE_ALG_RSA)))
		FAIL(-EINVAL, "the JWE's alg is not " JWE_ALG_RSA " (the only one this client offers with an RSA key)");
	if (!k->rsa && (kbs_json_str(o, "alg", 64, &alg) < 0 || strcmp(alg, JWE_ALG)))
		FAIL(-EINVAL, "the JWE's alg is not " JWE_ALG " (the only one this client offers)");
	if (kbs_json_str(o, "enc", 64, &enc) < 0 || strcmp(enc, "A256GCM"))
		FAIL(-EINVAL, "the JWE's enc is not A256GCM");
	if (json_object_object_get_ex(o, "zip", NULL) || json_object_object_get_ex(o, "crit", NULL))
		FAIL(-EINVAL, "the JWE header has zip or crit (not supported)");
	if (k->rsa) {
		r = 0; /* RSA-OAEP: no epk; anything else in the header is covered by the tag */
		goto out;
	}
	if (!json_object_object_get_ex(o, "epk", &e) || !json_object_is_type(e, json_type_object))
		FAIL(-EINVAL, "the JWE header has no epk object");
	if (kbs_json_str(e, "kty", 16, &kty) < 0 || strcmp(kty, "EC") || kbs_json_str(e, "crv", 16, &crv) < 0 ||
	    strcmp(crv, "P-256"))
		FAIL(-EINVAL, "the JWE's epk is not an EC P-256 key");
	pt[0] = 0x04;
	if (kbs_json_str(e, "x", 64, &x) < 0 || b64url_decode(x, strlen(x), pt + 1, 32, &n) < 0 || n != 32 ||
	    kbs_json_str(e, "y", 64, &y) < 0 || b64url_decode(y, strlen(y), pt + 33, 32, &n) < 0 || n != 32)
		FAIL(-EINVAL, "the JWE's epk coordinates are not 32-byte base64url values");
	if (mbedtls_ecp_point_read_binary(grp, epk, pt, sizeof(pt)) || mbedtls_ecp_check_pubkey(grp, epk))
		FAIL(-EINVAL, "the JWE's epk is not a point on P-256");
	r = 0;
out:
	json_object_put(o);
	return r;
}

int kbs_jwe_decrypt(const char *body, size_t len, struct kbs_key *k, int (*rng)(void *, unsigned char *, size_t),
		    void *rng_ctx, struct secret **out, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	uint8_t hdr[JWE_HEADER_MAX], wrapped[KBS_RSA_MAX_BYTES], iv[16], tag[16];
	static uint8_t ct[KBS_SECRET_MAX];
	unsigned char z[32], kek[32], cek[32];
	size_t hlen, wlen, ivlen, taglen, ctlen, ceklen = 0, want_wlen;
	const char *protected_text;
	mbedtls_ecp_point epk;
	mbedtls_mpi zm;
	mbedtls_nist_kw_context kw;
	mbedtls_gcm_context gcm;
	struct secret *pt = NULL;
	int r;

	*out = NULL;
	mbedtls_ecp_point_init(&epk);
	mbedtls_mpi_init(&zm);
	mbedtls_nist_kw_init(&kw);
	mbedtls_gcm_init(&gcm);
	r = kbs_json_parse(body, len, &o);
	if (r < 0 || !json_object_is_type(o, json_type_object))
		FAIL(r == -E2BIG ? -E2BIG : -EINVAL, "the resource answer is not a JSON object (a JWE)");
	if ((r = b64_member(o, "protected", (JWE_HEADER_MAX * 4 + 2) / 3, hdr, sizeof(hdr), &hlen, &protected_text,
			    err, errlen)) < 0 ||
	    (r = b64_member(o, "encrypted_key", (KBS_RSA_MAX_BYTES * 4 + 2) / 3, wrapped, sizeof(wrapped), &wlen, NULL,
			    err, errlen)) < 0 ||
	    (r = b64_member(o, "iv", 32, iv, sizeof(iv), &ivlen, NULL, err, errlen)) < 0 ||
	    (r = b64_member(o, "tag", 32, tag, sizeof(tag), &taglen, NULL, err, errlen)) < 0 ||
	    (r = b64_member(o, "ciphertext", JWE_CT_B64_MAX, ct, sizeof(ct), &ctlen, NULL, err, errlen)) < 0)
		goto out;
	/* the header first: a JWE for another kind of key is named as such */
	if ((r = check_header(hdr, hlen, k, &k->grp, &epk, err, errlen)) < 0)
		goto out;
	/* EC: an AES-wrapped 32-byte key; RSA: one modulus-sized block */
	want_wlen = k->rsa ? mbedtls_rsa_get_len(&k->ctx) : 40;
	if (wlen != want_wlen || ivlen != 12 || taglen != 16)
		FAIL(-EINVAL, "the JWE's encrypted_key, iv or tag has the wrong length (want %zu, 12, 16 bytes)", want_wlen);
	if (ctlen == 0)
		FAIL(-EINVAL, "the JWE's ciphertext is empty");
	if (k->rsa) {
		/* RFC 7518 4.3: OAEP (SHA-256, MGF1-SHA-256, empty label); the
		 * private operation is blinded with rng. Every decoding failure
		 * gets the same answer, so it tells a sender nothing more. */
		if (mbedtls_rsa_rsaes_oaep_decrypt(&k->ctx, rng, rng_ctx, NULL, 0, &ceklen, wrapped, cek, sizeof(cek)) ||
		    ceklen != 32)
			FAIL(-EBADMSG, "the JWE's content key does not unwrap (not encrypted to this boot's key, or changed)");
	} else {
		if (mbedtls_ecdh_compute_shared(&k->grp, &zm, &epk, &k->d, rng, rng_ctx) ||
		    mbedtls_mpi_write_binary(&zm, z, 32))
			FAIL(-EIO, "ECDH with the JWE's epk failed");
		if ((r = concat_kdf(z, kek)) < 0)
			FAIL(r, "the Concat KDF failed");
		if (mbedtls_nist_kw_setkey(&kw, MBEDTLS_CIPHER_ID_AES, kek, 256, 0) ||
		    mbedtls_nist_kw_unwrap(&kw, MBEDTLS_KW_MODE_KW, wrapped, wlen, cek, &ceklen, sizeof(cek)) ||
		    ceklen != 32)
			FAIL(-EBADMSG, "the JWE's content key does not unwrap (not encrypted to this boot's key, or changed)");
	}
	if ((r = secret_new(&pt, ctlen)) < 0)
		FAIL(r, "no locked memory for the resource");
	/* AAD: ASCII(BASE64URL(protected header)) as received (RFC 7516 5.2) */
	if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, cek, 256) ||
	    mbedtls_gcm_auth_decrypt(&gcm, ctlen, iv, ivlen, (const unsigned char *)protected_text,
				     strlen(protected_text), tag, taglen, ct, pt->data)) {
		FAIL(-EBADMSG, "the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)");
	}
	pt->len = ctlen;
	*out = pt;
	pt = NULL;
	r = 0;
out:
	secret_freep(&pt);
	json_object_put(o);
	mbedtls_platform_zeroize(z, sizeof(z));
	mbedtls_platform_zeroize(kek, sizeof(kek));
	mbedtls_platform_zeroize(cek, sizeof(cek));
	mbedtls_platform_zeroize(ct, sizeof(ct)); /* GCM may have left plaintext behind on failure */
	mbedtls_mpi_free(&zm);
	mbedtls_ecp_point_free(&epk);
	mbedtls_nist_kw_free(&kw);
	mbedtls_gcm_free(&gcm);
	return r;
}
