#include "crypto/wrap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#define MAGIC "CW1"
#define MAGIC_SIGNED "CW2"
#define MAGIC_LEN 3
#define FPR_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define HEAD_LEN (MAGIC_LEN + FPR_LEN + WRAP_PUB_LEN + NONCE_LEN)
/* CW2: the head also carries the purpose byte (so GCM authenticates it),
 * and an ECDSA P-384 signature (r || s, big-endian) ends the line. */
#define HEAD2_LEN (HEAD_LEN + 1)
#define SIG_LEN 96
#define SIG_LABEL "cvminit-wrap-signature/1"
/* The plaintext is u16 length || key || zeros, padded to a multiple of this,
 * so the line does not tell the key's length. */
#define PAD_BLOCK 512

static size_t padded_len(size_t klen)
{
	return (klen + 2 + PAD_BLOCK - 1) / PAD_BLOCK * PAD_BLOCK;
}

struct wrap_guest {
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	mbedtls_ecp_point q;
	uint8_t pub[WRAP_PUB_LEN];
	uint8_t report_hash[64]; /* SHA-384 in the first 48 bytes */
	int has_signer;          /* only lines signed by signer for purpose open */
	uint8_t signer[WRAP_PUB_LEN];
	uint8_t purpose;
};

struct rng {
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
};

static int rng_init(struct rng *r)
{
	mbedtls_entropy_init(&r->ent);
	mbedtls_ctr_drbg_init(&r->drbg);
	return mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->ent, (const unsigned char *)WRAP_LABEL,
				     strlen(WRAP_LABEL)) == 0 ? 0 : -EIO;
}

static void rng_free(struct rng *r)
{
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->ent);
}

int wrap_guest_new(struct wrap_guest **out)
{
	struct wrap_guest *w = calloc(1, sizeof(*w));
	struct rng rng;
	size_t olen = 0;
	int r;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	mbedtls_ecp_group_init(&w->grp);
	mbedtls_mpi_init(&w->d);
	mbedtls_ecp_point_init(&w->q);
	r = rng_init(&rng);
	if (r == 0 && (mbedtls_ecp_group_load(&w->grp, MBEDTLS_ECP_DP_SECP384R1) != 0 ||
		       mbedtls_ecp_gen_keypair(&w->grp, &w->d, &w->q, mbedtls_ctr_drbg_random, &rng.drbg) != 0 ||
		       mbedtls_ecp_point_write_binary(&w->grp, &w->q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, w->pub,
						      sizeof(w->pub)) != 0 ||
		       olen != WRAP_PUB_LEN))
		r = -EIO;
	rng_free(&rng);
	if (r < 0) {
		wrap_guest_free(w);
		return r;
	}
	*out = w;
	return 0;
}

void wrap_guest_free(struct wrap_guest *w)
{
	if (!w)
		return;
	mbedtls_mpi_free(&w->d); /* zeroizes */
	mbedtls_ecp_point_free(&w->q);
	mbedtls_ecp_group_free(&w->grp);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

const uint8_t *wrap_guest_pub(const struct wrap_guest *w)
{
	return w->pub;
}

void wrap_guest_set_report(struct wrap_guest *w, const uint8_t *report, size_t len)
{
	mbedtls_sha512(report, len, w->report_hash, 1);
}

void wrap_guest_require_signer(struct wrap_guest *w, const uint8_t signer[WRAP_PUB_LEN], enum wrap_purpose purpose)
{
	memcpy(w->signer, signer, WRAP_PUB_LEN);
	w->purpose = (uint8_t)purpose;
	w->has_signer = 1;
}

/* SHA-384(label || NUL || SHA-384(report) || signed bytes): what the sender
 * signs. The report hash ties the signature to this boot's challenge. */
static int sig_hash(const uint8_t report_hash[48], const uint8_t *body, size_t len, uint8_t out[64])
{
	mbedtls_sha512_context c;
	int r;

	mbedtls_sha512_init(&c);
	r = mbedtls_sha512_starts(&c, 1) ||
	    mbedtls_sha512_update(&c, (const unsigned char *)SIG_LABEL, sizeof(SIG_LABEL)) ||
	    mbedtls_sha512_update(&c, report_hash, 48) || mbedtls_sha512_update(&c, body, len) ||
	    mbedtls_sha512_finish(&c, out);
	mbedtls_sha512_free(&c);
	return r ? -EIO : 0;
}

/* The signature over body by the pinned signer: 0, or -EACCES. */
static int check_signature(const struct wrap_guest *w, const uint8_t *body, size_t len, const uint8_t sig[SIG_LEN])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi r, s;
	uint8_t h[64];
	int rc;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	rc = sig_hash(w->report_hash, body, len, h) || mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1) ||
	     mbedtls_ecp_point_read_binary(&grp, &q, w->signer, WRAP_PUB_LEN) || mbedtls_ecp_check_pubkey(&grp, &q) ||
	     mbedtls_mpi_read_binary(&r, sig, SIG_LEN / 2) || mbedtls_mpi_read_binary(&s, sig + SIG_LEN / 2, SIG_LEN / 2) ||
	     mbedtls_ecdsa_verify(&grp, h, 48, &q, &r, &s);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	return rc ? -EACCES : 0;
}

int wrap_report_data(const char *evidence, size_t evlen, const uint8_t pub[WRAP_PUB_LEN], uint8_t out[64])
{
	mbedtls_sha512_context c;
	uint8_t ev[64];
	int r;

	mbedtls_sha512((const unsigned char *)evidence, evlen, ev, 0);
	mbedtls_sha512_init(&c);
	r = mbedtls_sha512_starts(&c, 0) || mbedtls_sha512_update(&c, (const unsigned char *)CHALLENGE_FORMAT, sizeof(CHALLENGE_FORMAT)) ||
	    mbedtls_sha512_update(&c, ev, sizeof(ev)) || mbedtls_sha512_update(&c, pub, WRAP_PUB_LEN) ||
	    mbedtls_sha512_finish(&c, out);
	mbedtls_sha512_free(&c);
	return r ? -EIO : 0;
}

static char *b64(const uint8_t *data, size_t len)
{
	size_t olen = 0;
	char *out;

	mbedtls_base64_encode(NULL, 0, &olen, data, len);
	out = malloc(olen + 1);
	if (out && mbedtls_base64_encode((unsigned char *)out, olen + 1, &olen, data, len) != 0) {
		free(out);
		return NULL;
	}
	if (out)
		out[olen] = '\0';
	return out;
}

static uint8_t *unb64(const char *text, size_t *len)
{
	size_t n = strlen(text), olen = 0;
	uint8_t *out = malloc(n * 3 / 4 + 4);

	if (!out || mbedtls_base64_decode(out, n * 3 / 4 + 4, &olen, (const unsigned char *)text, n) != 0) {
		free(out);
		return NULL;
	}
	*len = olen;
	return out;
}

int wrap_challenge_line(const char *tee, const uint8_t *report, size_t rlen, const uint8_t pub[WRAP_PUB_LEN],
			const char *evidence, size_t evlen, const uint8_t *certs, size_t clen, char **line)
{
	struct json_object *o = json_object_new_object();
	char *rb = b64(report, rlen), *pb = b64(pub, WRAP_PUB_LEN), *cb = b64(certs ? certs : (const uint8_t *)"", clen);
	int r = -ENOMEM;

	*line = NULL;
	if (o && rb && pb && cb) {
		json_object_object_add(o, "format", json_object_new_string(CHALLENGE_FORMAT));
		json_object_object_add(o, "tee", json_object_new_string(tee));
		json_object_object_add(o, "report", json_object_new_string(rb));
		json_object_object_add(o, "pubkey", json_object_new_string(pb));
		json_object_object_add(o, "evidence", json_object_new_string_len(evidence, (int)evlen));
		json_object_object_add(o, "certs", json_object_new_string(cb));
		const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		char *payload = b64((const uint8_t *)js, strlen(js));
		if (payload) {
			size_t n = strlen(CHALLENGE_PREFIX) + strlen(payload) + 1;
			*line = malloc(n);
			if (*line) {
				snprintf(*line, n, CHALLENGE_PREFIX "%s", payload);
				r = 0;
			}
			free(payload);
		}
	}
	json_object_put(o);
	free(rb);
	free(pb);
	free(cb);
	return r;
}

static int derive(const uint8_t *z, size_t zlen, const uint8_t report_hash[48], const uint8_t *guest_pub,
		  const uint8_t *host_pub, uint8_t key[32])
{
	uint8_t info[sizeof(WRAP_LABEL) - 1 + 48 + 2 * WRAP_PUB_LEN];
	size_t o = 0;

	memcpy(info + o, WRAP_LABEL, sizeof(WRAP_LABEL) - 1);
	o += sizeof(WRAP_LABEL) - 1;
	memcpy(info + o, report_hash, 48);
	o += 48;
	memcpy(info + o, guest_pub, WRAP_PUB_LEN);
	o += WRAP_PUB_LEN;
	memcpy(info + o, host_pub, WRAP_PUB_LEN);
	o += WRAP_PUB_LEN;
	return mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), NULL, 0, z, zlen, info, o, key, 32) ? -EIO : 0;
}

/* x-coordinate of d * peer. */
static int ecdh(const mbedtls_ecp_group *grp, const mbedtls_mpi *d, const uint8_t *peer, uint8_t z[48],
		struct rng *rng)
{
	mbedtls_ecp_point p;
	mbedtls_mpi zm;
	int r;

	mbedtls_ecp_point_init(&p);
	mbedtls_mpi_init(&zm);
	r = mbedtls_ecp_point_read_binary(grp, &p, peer, WRAP_PUB_LEN) || mbedtls_ecp_check_pubkey(grp, &p) ||
	    mbedtls_ecdh_compute_shared((mbedtls_ecp_group *)grp, &zm, &p, d, mbedtls_ctr_drbg_random, &rng->drbg) ||
	    mbedtls_mpi_write_binary(&zm, z, 48);
	mbedtls_mpi_free(&zm);
	mbedtls_ecp_point_free(&p);
	return r ? -EBADMSG : 0;
}

int wrap_open(struct wrap_guest *w, const char *text, struct secret *key)
{
	size_t len = 0;
	uint8_t *buf = unb64(text, &len), fpr[32], z[48], k[32];
	mbedtls_gcm_context gcm;
	struct rng rng;
	int r;

	secret_clear(key); /* nothing of an earlier key survives a refusal */
	if (!buf)
		return -EBADMSG;
	int is_signed = len >= MAGIC_LEN && !memcmp(buf, MAGIC_SIGNED, MAGIC_LEN);
	size_t head = is_signed ? HEAD2_LEN : HEAD_LEN, tail = TAG_LEN + (is_signed ? SIG_LEN : 0);
	if ((!is_signed && (len < MAGIC_LEN || memcmp(buf, MAGIC, MAGIC_LEN))) || len < head + tail + PAD_BLOCK ||
	    (len - head - tail) % PAD_BLOCK || len - head - tail > padded_len(WRAP_KEY_MAX)) {
		free(buf);
		return -EBADMSG;
	}
	mbedtls_sha256(w->pub, WRAP_PUB_LEN, fpr, 0);
	if (memcmp(buf + MAGIC_LEN, fpr, FPR_LEN) != 0) {
		free(buf);
		return -ESTALE;
	}
	/* With a pinned sender only its signature, for this purpose and this
	 * challenge, lets the line be decrypted at all. */
	if (w->has_signer && (!is_signed || buf[HEAD_LEN] != w->purpose ||
			      check_signature(w, buf, len - SIG_LEN, buf + len - SIG_LEN) < 0)) {
		free(buf);
		return -EACCES;
	}
	const uint8_t *host_pub = buf + MAGIC_LEN + FPR_LEN, *nonce = host_pub + WRAP_PUB_LEN, *ct = buf + head;
	size_t ctlen = len - head - tail;
	r = rng_init(&rng);
	if (r == 0)
		r = ecdh(&w->grp, &w->d, host_pub, z, &rng);
	rng_free(&rng);
	if (r == 0)
		r = derive(z, sizeof(z), w->report_hash, w->pub, host_pub, k);
	struct secret *plain = NULL;
	if (r == 0)
		r = secret_new(&plain, ctlen);
	if (r == 0) {
		mbedtls_gcm_init(&gcm);
		r = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, k, 256) ||
			    mbedtls_gcm_auth_decrypt(&gcm, ctlen, nonce, NONCE_LEN, buf, head, ct + ctlen, TAG_LEN, ct,
						     plain->data)
			? -EPERM
			: 0;
		mbedtls_gcm_free(&gcm);
		size_t klen = r == 0 ? (size_t)plain->data[0] << 8 | plain->data[1] : 0;
		if (r == 0 && (klen == 0 || klen + 2 > ctlen || klen > key->cap))
			r = -EBADMSG;
		if (r == 0) {
			memcpy(key->data, plain->data + 2, klen);
			key->len = klen;
		} else {
			secret_clear(key);
		}
	}
	if (plain)
		secret_free(plain);
	explicit_bzero(z, sizeof(z));
	explicit_bzero(k, sizeof(k));
	free(buf);
	return r;
}

/* ---- host side ----------------------------------------------------------- */

void wrap_challenge_free(struct wrap_challenge *c)
{
	free(c->report);
	free(c->evidence);
	free(c->certs);
	memset(c, 0, sizeof(*c));
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

int wrap_challenge_parse(const char *text, struct wrap_challenge *out, char *err, size_t errlen)
{
	const char *p = strstr(text, CHALLENGE_PREFIX);
	size_t n, jlen = 0, publen = 0;
	char *payload;
	uint8_t *json, *pub;
	struct json_object *o;

	memset(out, 0, sizeof(*out));
	if (!p) {
		snprintf(err, errlen, "no '" CHALLENGE_PREFIX "' line in the input");
		return -EBADMSG;
	}
	p += strlen(CHALLENGE_PREFIX);
	n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
	payload = strndup(p, n);
	json = payload ? unb64(payload, &jlen) : NULL;
	free(payload);
	if (!json) {
		snprintf(err, errlen, "the challenge is not valid base64 (cut or garbled line?)");
		return -EBADMSG;
	}
	json[jlen] = '\0'; /* unb64 left room for it */
	o = json_tokener_parse((char *)json);
	free(json);
	const char *fmt = o ? jstr(o, "format") : NULL, *tee = o ? jstr(o, "tee") : NULL,
		   *rep = o ? jstr(o, "report") : NULL, *pk = o ? jstr(o, "pubkey") : NULL,
		   *ev = o ? jstr(o, "evidence") : NULL, *ce = o ? jstr(o, "certs") : NULL;
	if (!fmt || strcmp(fmt, CHALLENGE_FORMAT) || !tee || !rep || !pk || !ev || !ce || strlen(tee) >= sizeof(out->tee)) {
		json_object_put(o);
		snprintf(err, errlen, "the challenge is not a " CHALLENGE_FORMAT " document");
		return -EBADMSG;
	}
	snprintf(out->tee, sizeof(out->tee), "%s", tee);
	out->report = unb64(rep, &out->report_len);
	pub = unb64(pk, &publen);
	out->evidence = strdup(ev);
	out->evidence_len = strlen(ev);
	out->certs = unb64(ce, &out->certs_len);
	json_object_put(o);
	if (!out->report || !pub || publen != WRAP_PUB_LEN || pub[0] != 4 || !out->evidence || !out->certs) {
		free(pub);
		wrap_challenge_free(out);
		snprintf(err, errlen, "the challenge's report, public key or certificates are malformed");
		return -EBADMSG;
	}
	memcpy(out->pub, pub, WRAP_PUB_LEN);
	free(pub);
	return 0;
}

static int ecdsa_sign_raw(mbedtls_pk_context *pk, const uint8_t hash[48], uint8_t sig[SIG_LEN], struct rng *rng)
{
	mbedtls_ecp_keypair *kp = mbedtls_pk_ec(*pk);
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi r, s, d;
	int rc;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	mbedtls_mpi_init(&d);
	rc = !kp || mbedtls_ecp_export(kp, &grp, &d, &q) || grp.id != MBEDTLS_ECP_DP_SECP384R1 ||
	     mbedtls_ecdsa_sign(&grp, &r, &s, &d, hash, 48, mbedtls_ctr_drbg_random, &rng->drbg) ||
	     mbedtls_mpi_write_binary(&r, sig, SIG_LEN / 2) || mbedtls_mpi_write_binary(&s, sig + SIG_LEN / 2, SIG_LEN / 2);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	return rc ? -EIO : 0;
}

int wrap_seal(const struct wrap_challenge *c, const uint8_t *key, size_t klen, char **line)
{
	return wrap_seal_signed(c, key, klen, NULL, WRAP_PURPOSE_JOBS, line);
}

int wrap_seal_signed(const struct wrap_challenge *c, const uint8_t *key, size_t klen, mbedtls_pk_context *signer,
		     enum wrap_purpose purpose, char **line)
{
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	mbedtls_ecp_point q;
	mbedtls_gcm_context gcm;
	struct rng rng;
	uint8_t z[48], k[32], report_hash[64];
	size_t head = signer ? HEAD2_LEN : HEAD_LEN;
	size_t olen = 0, plen = padded_len(klen), len = head + plen + TAG_LEN + (signer ? SIG_LEN : 0);
	uint8_t *buf, *plain;
	int r;

	*line = NULL;
	if (klen == 0 || klen > WRAP_KEY_MAX)
		return -EINVAL;
	buf = malloc(len);
	plain = calloc(1, plen);
	if (!buf || !plain) {
		free(buf);
		free(plain);
		return -ENOMEM;
	}
	plain[0] = (uint8_t)(klen >> 8);
	plain[1] = (uint8_t)klen;
	memcpy(plain + 2, key, klen);
	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&d);
	mbedtls_ecp_point_init(&q);
	mbedtls_gcm_init(&gcm);
	memcpy(buf, signer ? MAGIC_SIGNED : MAGIC, MAGIC_LEN);
	if (signer)
		buf[HEAD_LEN] = (uint8_t)purpose;
	mbedtls_sha256(c->pub, WRAP_PUB_LEN, buf + MAGIC_LEN, 0);
	mbedtls_sha512(c->report, c->report_len, report_hash, 1);
	r = rng_init(&rng);
	if (r == 0 &&
	    (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1) ||
	     mbedtls_ecp_gen_keypair(&grp, &d, &q, mbedtls_ctr_drbg_random, &rng.drbg) ||
	     mbedtls_ecp_point_write_binary(&grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, buf + MAGIC_LEN + FPR_LEN,
					    WRAP_PUB_LEN) ||
	     mbedtls_ctr_drbg_random(&rng.drbg, buf + MAGIC_LEN + FPR_LEN + WRAP_PUB_LEN, NONCE_LEN)))
		r = -EIO;
	if (r == 0)
		r = ecdh(&grp, &d, c->pub, z, &rng);
	if (r == 0)
		r = derive(z, sizeof(z), report_hash, c->pub, buf + MAGIC_LEN + FPR_LEN, k);
	if (r == 0 && (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, k, 256) ||
		       mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, plen, buf + MAGIC_LEN + FPR_LEN + WRAP_PUB_LEN,
						 NONCE_LEN, buf, head, plain, buf + head, TAG_LEN, buf + head + plen)))
		r = -EIO;
	if (r == 0 && signer) {
		uint8_t h[64];
		size_t body = head + plen + TAG_LEN;
		r = sig_hash(report_hash, buf, body, h);
		if (r == 0)
			r = ecdsa_sign_raw(signer, h, buf + body, &rng);
	}
	if (r == 0) {
		char *b = b64(buf, len);
		size_t n = b ? strlen(WRAPPED_PREFIX) + strlen(b) + 1 : 0;
		*line = b ? malloc(n) : NULL;
		if (*line) {
			snprintf(*line, n, WRAPPED_PREFIX "%s", b);
		} else {
			r = -ENOMEM;
		}
		free(b);
	}
	explicit_bzero(z, sizeof(z));
	explicit_bzero(k, sizeof(k));
	rng_free(&rng);
	mbedtls_gcm_free(&gcm);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	explicit_bzero(plain, plen);
	free(plain);
	explicit_bzero(buf, len);
	free(buf);
	return r;
}
