/* Attested key delivery (crypto/wrap.c): the challenge line the owner's tool
 * reads from a console log, and the wrapped line the guest reads from the
 * console. Both cross a console the host controls, so each refusal is
 * asserted with its exact code, and the round trip with the exact bytes.
 * Links the deps' mbedtls 3 and json-c (wrap.c is written for those). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include "crypto/secret.h"
#include "crypto/wrap.h"
#include "tests/harness.h"

TH_DEFINE("wrap");

static const uint8_t report[] = "an attestation report: its hash enters the key derivation";
static const char evidence[] = "{\"nonce\":\"00\"}";
static const uint8_t certs[] = { 0x30, 0x82, 0x01, 0x00 };
static struct wrap_guest *guest, *other;
static struct secret *key;

static char *tamper(const char *line, size_t at, uint8_t x)
{
	/* decode the payload, flip bits of one byte, encode again */
	const char *b = line + strlen(WRAPPED_PREFIX);
	size_t n = strlen(b), len = 0, olen = 0;
	uint8_t *raw = malloc(n);
	char *out = malloc(n + 8);
	if (mbedtls_base64_decode(raw, n, &len, (const unsigned char *)b, n) != 0 || at >= len)
		abort();
	raw[at] ^= x;
	mbedtls_base64_encode((unsigned char *)out, n + 8, &olen, raw, len);
	out[olen] = '\0';
	free(raw);
	return out;
}

static struct wrap_challenge challenge_of(struct wrap_guest *g)
{
	struct wrap_challenge c = { .tee = "snp" };
	c.report = malloc(sizeof(report));
	memcpy(c.report, report, sizeof(report));
	c.report_len = sizeof(report);
	memcpy(c.pub, wrap_guest_pub(g), WRAP_PUB_LEN);
	c.evidence = strdup(evidence);
	c.evidence_len = strlen(evidence);
	return c;
}

/* The cvminit-wrapped line of key for g's challenge (malloc'd). */
static char *sealed_for(struct wrap_guest *g, const char *k)
{
	struct wrap_challenge c = challenge_of(g);
	char *line = NULL;
	if (wrap_seal(&c, (const uint8_t *)k, strlen(k), &line) != 0 || !line)
		abort();
	wrap_challenge_free(&c);
	return line;
}

static void report_data_known_answer(void)
{
	/* SHA-512("cvminit-challenge/1\0" || SHA-512(evidence) || pub), computed
	 * apart from mbedtls (Python's hashlib) */
	uint8_t pub[WRAP_PUB_LEN], out[64];
	char hex[129];
	pub[0] = 4;
	for (int i = 1; i < WRAP_PUB_LEN; i++)
		pub[i] = (uint8_t)i;
	CHECK_INT(wrap_report_data(evidence, strlen(evidence), pub, out), 0);
	for (int i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	CHECK_STR(hex, "90e25ad35694fff7e57ff6ab99bc3fe8982fc486952388fb7a525714fa98606b"
		       "975483db521732c1db9c0d9b55f8a74c3a5cd1dba0e28ca69aa6594e37477b78");
}

static void challenge_line_round_trip(void)
{
	char *line = NULL, err[160] = "";
	struct wrap_challenge c;
	CHECK_INT(wrap_challenge_line("tdx", report, sizeof(report), wrap_guest_pub(guest), evidence, strlen(evidence),
				      certs, sizeof(certs), &line),
		  0);
	CHECK(line && !strncmp(line, CHALLENGE_PREFIX, strlen(CHALLENGE_PREFIX)));
	CHECK(!strchr(line, '\n'));
	/* found inside a console log, between kernel lines */
	size_t n = strlen(line) + 200;
	char *log = malloc(n);
	snprintf(log, n, "[    1.234] virtio_blk virtio1: [vda]\r\ncvminit: attest: %s\r\n[    1.300] random: crng\r\n",
		 line);
	CHECK_INT(wrap_challenge_parse(log, &c, err, sizeof(err)), 0);
	CHECK_STR(c.tee, "tdx");
	CHECK_INT(c.report_len, sizeof(report));
	CHECK_MEM(c.report, report, sizeof(report));
	CHECK_MEM(c.pub, wrap_guest_pub(guest), WRAP_PUB_LEN);
	CHECK_STR(c.evidence, evidence);
	CHECK_INT(c.certs_len, sizeof(certs));
	CHECK_MEM(c.certs, certs, sizeof(certs));
	wrap_challenge_free(&c);
	free(log);
	free(line);
}

static void seal_then_open(void)
{
	struct wrap_challenge c = challenge_of(guest);
	static const uint8_t k[] = "job-store key\0with a NUL";
	char *line = NULL;
	CHECK_INT(wrap_seal(&c, k, sizeof(k), &line), 0);
	CHECK(line && !strncmp(line, WRAPPED_PREFIX, strlen(WRAPPED_PREFIX)));
	CHECK_INT(wrap_open(guest, line + strlen(WRAPPED_PREFIX), key), 0);
	CHECK_INT(key->len, sizeof(k));
	CHECK_MEM(key->data, k, sizeof(k));
	/* a second seal of the same key is another line (fresh key pair, nonce) */
	char *again = NULL;
	CHECK_INT(wrap_seal(&c, k, sizeof(k), &again), 0);
	CHECK(strcmp(line, again) != 0);
	free(again);
	free(line);
	wrap_challenge_free(&c);
}

static void line_length_hides_key_length(void)
{
	struct wrap_challenge c = challenge_of(guest);
	uint8_t k[WRAP_KEY_MAX];
	char *a = NULL, *b = NULL, *big = NULL;
	memset(k, 0x5a, sizeof(k));
	CHECK_INT(wrap_seal(&c, k, 1, &a), 0);
	CHECK_INT(wrap_seal(&c, k, 510, &b), 0);
	CHECK_INT(strlen(a), strlen(b));
	CHECK_INT(wrap_seal(&c, k, WRAP_KEY_MAX, &big), 0);
	CHECK_INT(wrap_open(guest, big + strlen(WRAPPED_PREFIX), key), 0);
	CHECK_INT(key->len, WRAP_KEY_MAX);
	free(a);
	free(b);
	free(big);
	wrap_challenge_free(&c);
}

static void seal_refuses_empty_or_huge_keys(void)
{
	struct wrap_challenge c = challenge_of(guest);
	static uint8_t k[WRAP_KEY_MAX + 1];
	char *line = (char *)"not touched";
	CHECK_INT(wrap_seal(&c, k, 0, &line), -EINVAL);
	CHECK(line == NULL);
	CHECK_INT(wrap_seal(&c, k, WRAP_KEY_MAX + 1, &line), -EINVAL);
	wrap_challenge_free(&c);
}

static void line_for_another_boot_is_stale(void)
{
	char *line = sealed_for(other, "k");
	key->len = 3;
	CHECK_INT(wrap_open(guest, line + strlen(WRAPPED_PREFIX), key), -ESTALE);
	free(line);
}

static void tampered_lines_do_not_decrypt(void)
{
	char *line = sealed_for(guest, "secret");
	/* header bytes are authenticated data, the rest is ciphertext or tag */
	static const size_t at[] = { 3 + 32 + 97, 3 + 32 + 97 + 12, 3 + 32 + 97 + 12 + 511, 3 + 32 + 97 + 12 + 512 + 15 };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		char *t = tamper(line, at[i], 0x01);
		memset(key->data, 0x77, 8);
		key->len = 8;
		CHECK_INT(wrap_open(guest, t, key), -EPERM);
		CHECK_INT(key->len, 0); /* nothing half-opened is left */
		CHECK_INT(key->data[0], 0);
		free(t);
	}
	/* another host key: a valid point that is not the sealer's, or no point */
	char *t = tamper(line, 3 + 32 + 1, 0x01);
	int r = wrap_open(guest, t, key);
	CHECK(r == -EPERM || r == -EBADMSG);
	free(t);
	t = tamper(line, 3 + 32, 0x01); /* 0x05: not an uncompressed point */
	CHECK_INT(wrap_open(guest, t, key), -EBADMSG);
	free(t);
	/* the same line opened against another report: the KDF binds it */
	struct wrap_guest *g2 = guest;
	wrap_guest_set_report(g2, (const uint8_t *)"another report", 14);
	CHECK_INT(wrap_open(g2, line + strlen(WRAPPED_PREFIX), key), -EPERM);
	wrap_guest_set_report(g2, report, sizeof(report));
	CHECK_INT(wrap_open(guest, line + strlen(WRAPPED_PREFIX), key), 0);
	free(line);
}

static void malformed_lines(void)
{
	char *line = sealed_for(guest, "secret");
	const char *b = line + strlen(WRAPPED_PREFIX);
	CHECK_INT(wrap_open(guest, "", key), -EBADMSG);
	CHECK_INT(wrap_open(guest, "not base64 !!", key), -EBADMSG);
	CHECK_INT(wrap_open(guest, "Q1cx", key), -EBADMSG); /* "CW1" alone */
	char *cut = strndup(b, strlen(b) - 4);
	CHECK_INT(wrap_open(guest, cut, key), -EBADMSG); /* a line cut short */
	free(cut);
	char *magic = tamper(line, 2, 'X' ^ '1'); /* "CWX" */
	CHECK_INT(wrap_open(guest, magic, key), -EBADMSG);
	free(magic);
	free(line);
}

static char *b64_of(const char *json)
{
	size_t olen = 0, n = strlen(json);
	char *out = malloc(strlen(CHALLENGE_PREFIX) + n * 2 + 8);
	strcpy(out, CHALLENGE_PREFIX);
	mbedtls_base64_encode((unsigned char *)out + strlen(CHALLENGE_PREFIX), n * 2 + 8, &olen,
			      (const unsigned char *)json, n);
	out[strlen(CHALLENGE_PREFIX) + olen] = '\0';
	return out;
}

static void challenge_parse_errors(void)
{
	struct wrap_challenge c;
	char err[160];
	CHECK_INT(wrap_challenge_parse("cvminit: attest: nothing here\n", &c, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "no 'cvminit-challenge: ' line in the input");
	CHECK_INT(wrap_challenge_parse("cvminit-challenge: Q\n", &c, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "the challenge is not valid base64 (cut or garbled line?)");
	static const char *const not_documents[] = {
		"not json",
		"{\"format\":\"cvminit-challenge/2\",\"tee\":\"snp\",\"report\":\"\",\"pubkey\":\"\",\"evidence\":\"\",\"certs\":\"\"}",
		"{\"format\":\"cvminit-challenge/1\",\"tee\":\"snp\",\"report\":\"\",\"pubkey\":\"\",\"evidence\":\"\"}",
		"{\"format\":\"cvminit-challenge/1\",\"tee\":\"too-long\",\"report\":\"\",\"pubkey\":\"\",\"evidence\":\"\",\"certs\":\"\"}",
		"{\"format\":\"cvminit-challenge/1\",\"tee\":1,\"report\":\"\",\"pubkey\":\"\",\"evidence\":\"\",\"certs\":\"\"}",
	};
	for (size_t i = 0; i < sizeof(not_documents) / sizeof(not_documents[0]); i++) {
		char *line = b64_of(not_documents[i]);
		strcpy(err, "");
		CHECK_INT(wrap_challenge_parse(line, &c, err, sizeof(err)), -EBADMSG);
		CHECK_STR(err, "the challenge is not a cvminit-challenge/1 document");
		free(line);
	}
	/* a public key of the wrong length (96 bytes) */
	char *line = b64_of("{\"format\":\"cvminit-challenge/1\",\"tee\":\"snp\",\"report\":\"AAAA\",\"pubkey\":"
			    "\"BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
			    "\"evidence\":\"{}\",\"certs\":\"\"}");
	CHECK_INT(wrap_challenge_parse(line, &c, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "the challenge's report, public key or certificates are malformed");
	CHECK(c.report == NULL && c.evidence == NULL); /* nothing left to free */
	free(line);
}

/* ---- authenticated lines (CW2) ------------------------------------------ */

static mbedtls_pk_context owner, stranger;
static uint8_t owner_pub[WRAP_PUB_LEN];

static void p384_key(mbedtls_pk_context *pk, uint8_t pub[WRAP_PUB_LEN])
{
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	size_t olen = 0;

	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_pk_init(pk);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, NULL, 0) ||
	    mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) ||
	    mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP384R1, mbedtls_pk_ec(*pk), mbedtls_ctr_drbg_random, &drbg))
		abort();
	if (pub && mbedtls_ecp_point_write_binary(&mbedtls_pk_ec(*pk)->MBEDTLS_PRIVATE(grp),
						  &mbedtls_pk_ec(*pk)->MBEDTLS_PRIVATE(Q), MBEDTLS_ECP_PF_UNCOMPRESSED,
						  &olen, pub, WRAP_PUB_LEN))
		abort();
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
}

static char *signed_for(struct wrap_guest *g, const char *k, mbedtls_pk_context *by, enum wrap_purpose p)
{
	struct wrap_challenge c = challenge_of(g);
	char *line = NULL;
	if (wrap_seal_signed(&c, (const uint8_t *)k, strlen(k), by, p, &line) != 0 || !line)
		abort();
	wrap_challenge_free(&c);
	return line;
}

/* A guest that pins the owner's key for the job store. */
static struct wrap_guest *pinned_guest(void)
{
	struct wrap_guest *g = NULL;
	if (wrap_guest_new(&g) != 0)
		abort();
	wrap_guest_set_report(g, report, sizeof(report));
	wrap_guest_require_signer(g, owner_pub, WRAP_PURPOSE_JOBS);
	return g;
}

static void signed_line_opens_at_pinned_guest(void)
{
	struct wrap_guest *g = pinned_guest();
	char *line = signed_for(g, "owner's key", &owner, WRAP_PURPOSE_JOBS);
	CHECK_INT(wrap_open(g, line + strlen(WRAPPED_PREFIX), key), 0);
	CHECK_INT(key->len, strlen("owner's key"));
	CHECK_MEM(key->data, "owner's key", key->len);
	/* an unpinned guest opens a signed line too (nothing to check it against) */
	char *l2 = signed_for(guest, "k2", &owner, WRAP_PURPOSE_JOBS);
	CHECK_INT(wrap_open(guest, l2 + strlen(WRAPPED_PREFIX), key), 0);
	free(l2);
	free(line);
	wrap_guest_free(g);
}

static void pinned_guest_refuses_what_the_owner_did_not_sign(void)
{
	struct wrap_guest *g = pinned_guest();
	/* anyone who saw the challenge can wrap a key of their own: unsigned */
	char *plain = sealed_for(g, "host's key");
	CHECK_INT(wrap_open(g, plain + strlen(WRAPPED_PREFIX), key), -EACCES);
	CHECK_INT(key->len, 0);
	/* signed by another key */
	char *forged = signed_for(g, "host's key", &stranger, WRAP_PURPOSE_JOBS);
	CHECK_INT(wrap_open(g, forged + strlen(WRAPPED_PREFIX), key), -EACCES);
	/* the owner's line made for another prompt (p3's) */
	char *root = signed_for(g, "owner's key", &owner, WRAP_PURPOSE_ROOT);
	CHECK_INT(wrap_open(g, root + strlen(WRAPPED_PREFIX), key), -EACCES);
	/* the owner's signed line for another boot: stale before anything else */
	char *stale = signed_for(other, "owner's key", &owner, WRAP_PURPOSE_JOBS);
	CHECK_INT(wrap_open(g, stale + strlen(WRAPPED_PREFIX), key), -ESTALE);
	free(plain);
	free(forged);
	free(root);
	free(stale);
	wrap_guest_free(g);
}

static void signed_line_tampering_is_refused(void)
{
	struct wrap_guest *g = pinned_guest();
	char *line = signed_for(g, "owner's key", &owner, WRAP_PURPOSE_JOBS);
	const char *b = line + strlen(WRAPPED_PREFIX);
	size_t len = 0;
	uint8_t raw[4096];
	CHECK_INT(mbedtls_base64_decode(raw, sizeof(raw), &len, (const unsigned char *)b, strlen(b)), 0);
	/* every region: magic, fingerprint, host key, nonce, purpose, ciphertext, tag, signature */
	size_t at[] = { 2, 3 + 5, 3 + 32 + 40, 3 + 32 + 97 + 3, 3 + 32 + 97 + 12, 200, len - 96 - 3, len - 40, len - 1 };
	int want[] = { -EBADMSG, -ESTALE, -EACCES, -EACCES, -EACCES, -EACCES, -EACCES, -EACCES, -EACCES };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		char *t = tamper(line, at[i], 0x01);
		int r = wrap_open(g, t, key);
		if (r != want[i])
			TH_FAIL("byte %zu changed: wrap_open gave %d, want %d", at[i], r, want[i]);
		CHECK_INT(key->len, 0);
		free(t);
	}
	free(line);
	wrap_guest_free(g);
}

static void seal_refuses_a_non_p384_signer(void)
{
	mbedtls_pk_context rsa;
	struct wrap_challenge c = challenge_of(guest);
	char *line = NULL;
	mbedtls_pk_init(&rsa);
	CHECK_INT(wrap_seal_signed(&c, (const uint8_t *)"k", 1, &rsa, WRAP_PURPOSE_JOBS, &line), -EIO);
	CHECK(line == NULL);
	mbedtls_pk_free(&rsa);
	wrap_challenge_free(&c);
}

int main(void)
{
	if (wrap_guest_new(&guest) != 0 || wrap_guest_new(&other) != 0 || secret_new(&key, WRAP_KEY_MAX) != 0) {
		printf("not ok - unit/wrap/setup\n");
		return 1;
	}
	wrap_guest_set_report(guest, report, sizeof(report));
	wrap_guest_set_report(other, report, sizeof(report));
	CHECK(memcmp(wrap_guest_pub(guest), wrap_guest_pub(other), WRAP_PUB_LEN) != 0);
	TEST(report_data_known_answer);
	TEST(challenge_line_round_trip);
	TEST(seal_then_open);
	TEST(line_length_hides_key_length);
	TEST(seal_refuses_empty_or_huge_keys);
	TEST(line_for_another_boot_is_stale);
	TEST(tampered_lines_do_not_decrypt);
	TEST(malformed_lines);
	TEST(challenge_parse_errors);
	p384_key(&owner, owner_pub);
	p384_key(&stranger, NULL);
	TEST(signed_line_opens_at_pinned_guest);
	TEST(pinned_guest_refuses_what_the_owner_did_not_sign);
	TEST(signed_line_tampering_is_refused);
	TEST(seal_refuses_a_non_p384_signer);
	mbedtls_pk_free(&owner);
	mbedtls_pk_free(&stranger);
	secret_free(key);
	wrap_guest_free(guest);
	wrap_guest_free(other);
	return TH_END();
}
