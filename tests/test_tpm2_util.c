/* Pure TPM2 helpers (crypto/tpm2_util.c) against tests/data/tpm2/known-answers.txt
 * (python hashlib): hashes, extends, policy digests, PIN auth values, PBKDF2,
 * base64/hex, the LUKS passphrase of an unsealed key. */
#include <errno.h>

#include "crypto/tpm2_util.h"
#include "tests/harness.h"
#include "tests/tpm2_ka.h"

TH_DEFINE("tpm2_util");

static void banks(void)
{
	CHECK_INT(tpm2_bank_by_name("sha256")->alg, TPM2_HASH_SHA256);
	CHECK_INT(tpm2_bank_by_name("sha1")->size, 20);
	CHECK_INT(tpm2_bank_by_name("sha384")->size, 48);
	CHECK_INT(tpm2_bank_by_alg(TPM2_HASH_SHA512)->size, 64);
	CHECK(tpm2_bank_by_name("sm3_256") == NULL);
	CHECK(tpm2_bank_by_name("SHA256") == NULL); /* systemd writes lower case */
	CHECK(tpm2_bank_by_name(NULL) == NULL);
	CHECK(tpm2_bank_by_alg(0x0012) == NULL);
	CHECK_STR(tpm2_asym_name(TPM2_ASYM_ECC), "ecc");
	CHECK_STR(tpm2_asym_name(TPM2_ASYM_RSA), "rsa");
	CHECK(tpm2_asym_name(0) == NULL);
}

static void hashes_and_extends(void)
{
	static const char *const names[] = { "sha1", "sha256", "sha384", "sha512" };
	char key[64];

	for (size_t i = 0; i < 4; i++) {
		const struct tpm2_bank_info *b = tpm2_bank_by_name(names[i]);
		uint8_t want[64], got[64], pcr[64] = { 0 };
		snprintf(key, sizeof(key), "hash_abc_%s", names[i]);
		CHECK_INT(ka(key, want, sizeof(want)), (int)b->size);
		CHECK_INT(tpm2_hash(b->alg, "abc", 3, got), 0);
		CHECK_MEM(got, want, b->size);
		snprintf(key, sizeof(key), "extend_abc_%s", names[i]);
		CHECK_INT(ka(key, want, sizeof(want)), (int)b->size);
		CHECK_INT(tpm2_extend_sw(b->alg, pcr, got), 0);
		CHECK_MEM(pcr, want, b->size);
	}
	CHECK_INT(tpm2_hash(0x0012, "abc", 3, (uint8_t[64]){ 0 }), -EINVAL);
	CHECK_INT(tpm2_extend_sw(0, (uint8_t[64]){ 0 }, (uint8_t[64]){ 0 }), -EINVAL);
}

/* What systemd-cryptenroll 252 computed on a real TPM for PCR 15. */
static void policy_systemd252(void)
{
	uint8_t values[1][TPM2_MAX_DIGEST], want[32], got[32];

	CHECK_INT(ka("systemd252_pcr15", values[0], sizeof(values[0])), 32);
	CHECK_INT(ka("systemd252_policy", want, sizeof(want)), 32);
	CHECK_INT(tpm2_policy_digest(TPM2_HASH_SHA256, 1u << 15, (const uint8_t(*)[TPM2_MAX_DIGEST])values, false, got), 0);
	CHECK_MEM(got, want, 32);
	CHECK_INT(ka("systemd252_policy_pin", want, sizeof(want)), 32);
	CHECK_INT(tpm2_policy_digest(TPM2_HASH_SHA256, 1u << 15, (const uint8_t(*)[TPM2_MAX_DIGEST])values, true, got), 0);
	CHECK_MEM(got, want, 32);
}

static void policy_two_pcrs_sha1(void)
{
	uint8_t values[2][TPM2_MAX_DIGEST], want[32], got[32];

	memset(values[0], 0x01, 20);
	memset(values[1], 0x02, 20);
	CHECK_INT(ka("policy_sha1_7_15", want, sizeof(want)), 32);
	CHECK_INT(tpm2_policy_digest(TPM2_HASH_SHA1, 1u << 7 | 1u << 15, (const uint8_t(*)[TPM2_MAX_DIGEST])values,
				     false, got), 0);
	CHECK_MEM(got, want, 32);
	CHECK_INT(ka("policy_sha1_7_15_pin", want, sizeof(want)), 32);
	CHECK_INT(tpm2_policy_digest(TPM2_HASH_SHA1, 1u << 7 | 1u << 15, (const uint8_t(*)[TPM2_MAX_DIGEST])values,
				     true, got), 0);
	CHECK_MEM(got, want, 32);
	/* No PCR: only the PIN (or nothing: all zeros). */
	CHECK_INT(ka("policy_pin_only", want, sizeof(want)), 32);
	CHECK_INT(tpm2_policy_digest(TPM2_HASH_SHA256, 0, NULL, true, got), 0);
	CHECK_MEM(got, want, 32);
	CHECK_INT(tpm2_policy_digest(TPM2_HASH_SHA256, 0, NULL, false, got), 0);
	CHECK_MEM(got, (uint8_t[32]){ 0 }, 32);
	/* PCR 24 does not exist; a PCR without values or bank is refused. */
	CHECK_INT(tpm2_policy_digest(TPM2_HASH_SHA256, 1u << 24, (const uint8_t(*)[TPM2_MAX_DIGEST])values, false, got),
		  -EINVAL);
	CHECK_INT(tpm2_policy_digest(TPM2_HASH_SHA256, 1u << 15, NULL, false, got), -EINVAL);
	CHECK_INT(tpm2_policy_digest(0x0012, 1u << 15, (const uint8_t(*)[TPM2_MAX_DIGEST])values, false, got), -EINVAL);
}

static void pin_auth(void)
{
	uint8_t want[32], got[32], salt[32];

	CHECK_INT(ka("pin_auth_1234", want, sizeof(want)), 32);
	CHECK_INT(tpm2_pin_auth((const uint8_t *)"1234", 4, NULL, 0, got), 0);
	CHECK_MEM(got, want, 32);
	CHECK_INT(ka("pin_salt", salt, sizeof(salt)), 32);
	CHECK_INT(ka("pin_auth_1234_salted", want, sizeof(want)), 32);
	CHECK_INT(tpm2_pin_auth((const uint8_t *)"1234", 4, salt, sizeof(salt), got), 0);
	CHECK_MEM(got, want, 32);
	CHECK_INT(tpm2_pin_auth((const uint8_t *)"", 0, NULL, 0, got), -EINVAL);
}

static void pbkdf2(void)
{
	uint8_t want[32], got[32];

	CHECK_INT(ka("pbkdf2_passwd_salt_1", want, sizeof(want)), 32);
	CHECK_INT(tpm2_pbkdf2_sha256((const uint8_t *)"passwd", 6, (const uint8_t *)"salt", 4, 1, got), 0);
	CHECK_MEM(got, want, 32);
	CHECK_INT(ka("pbkdf2_password_salt_4096", want, sizeof(want)), 32);
	CHECK_INT(tpm2_pbkdf2_sha256((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4, 4096, got), 0);
	CHECK_MEM(got, want, 32);
	CHECK_INT(tpm2_pbkdf2_sha256((const uint8_t *)"p", 1, (const uint8_t *)"s", 0, 1, got), -EINVAL);
	CHECK_INT(tpm2_pbkdf2_sha256((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, 0, got), -EINVAL);
}

static void base64_and_hex(void)
{
	uint8_t buf[16];
	char text[32];

	CHECK_INT(tpm2_base64_encode((const uint8_t *)"abcd", 4, text, sizeof(text)), 8);
	CHECK_STR(text, "YWJjZA==");
	CHECK_INT(tpm2_base64_encode((const uint8_t *)"abcd", 4, text, 8), -ENOSPC);
	CHECK_INT(tpm2_base64_decode("YWJjZA==", buf, sizeof(buf)), 4);
	CHECK_MEM(buf, "abcd", 4);
	CHECK_INT(tpm2_base64_decode("", buf, sizeof(buf)), 0);
	CHECK_INT(tpm2_base64_decode("YWJjZA=", buf, sizeof(buf)), -EINVAL);
	CHECK_INT(tpm2_base64_decode("YWJj ZA==", buf, sizeof(buf)), -EINVAL);
	CHECK_INT(tpm2_base64_decode("YW*jZA==", buf, sizeof(buf)), -EINVAL);
	CHECK_INT(tpm2_base64_decode("YWJjZA==", buf, 3), -ENOSPC);
	CHECK_INT(tpm2_hex_decode("00fFa5", buf, sizeof(buf)), 3);
	CHECK(buf[0] == 0 && buf[1] == 0xff && buf[2] == 0xa5);
	CHECK_INT(tpm2_hex_decode("abc", buf, sizeof(buf)), -EINVAL);
	CHECK_INT(tpm2_hex_decode("zz", buf, sizeof(buf)), -EINVAL);
	CHECK_INT(tpm2_hex_decode("0011", buf, 1), -ENOSPC);
	CHECK_INT(tpm2_hex_encode(buf, 3, text, sizeof(text)), 6);
	CHECK_STR(text, "00ffa5");
	CHECK_INT(tpm2_hex_encode(buf, 3, text, 6), -ENOSPC);
}

static void passphrase(void)
{
	struct secret *raw = NULL, *pass = NULL, *small = NULL;

	CHECK_INT(secret_new(&raw, 64), 0);
	CHECK_INT(secret_new(&pass, 64), 0);
	CHECK_INT(secret_new(&small, 8), 0);
	if (!raw || !pass || !small)
		return;
	for (int i = 0; i < 32; i++)
		raw->data[i] = (uint8_t)i;
	raw->len = 32;
	CHECK_INT(tpm2_passphrase_from_secret(raw, pass), 0);
	CHECK_INT(pass->len, 44);
	CHECK_MEM(pass->data, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 44);
	CHECK_INT(tpm2_passphrase_from_secret(raw, small), -ENOSPC);
	CHECK_INT(small->len, 0);
	raw->len = 0; /* an unsealed secret of length 0 is refused, not encoded as "" */
	CHECK_INT(tpm2_passphrase_from_secret(raw, pass), -ENODATA);
	CHECK_INT(pass->len, 0);
	secret_free(raw);
	secret_free(pass);
	secret_free(small);
}

int main(void)
{
	TEST(banks);
	TEST(hashes_and_extends);
	TEST(policy_systemd252);
	TEST(policy_two_pcrs_sha1);
	TEST(pin_auth);
	TEST(pbkdf2);
	TEST(base64_and_hex);
	TEST(passphrase);
	return TH_END();
}
