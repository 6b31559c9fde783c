/* TPM2 library tests against a real TPM (swtpm), a static musl program
 * linked like the host tool (device + swtpm TCTI). Run by
 * crypto/host/test-tpm2-swtpm.sh, which starts a fresh swtpm for each mode:
 *
 *   tpm2-swtpm-test lib SPEC              seal/unseal, PCR policy, PIN, primaries, SRK, banks
 *   tpm2-swtpm-test lockout SPEC          wrong PINs until the dictionary-attack lockout
 *   tpm2-swtpm-test luks NAME IMAGE SPEC [PIN]
 *                                         unseals IMAGE's systemd-tpm2 token and checks
 *                                         that the passphrase opens its keyslot
 *   tpm2-swtpm-test luks-refused NAME IMAGE SPEC ERRNO
 *                                         the unseal fails with -ERRNO (e.g. EPERM)
 *
 * Prints "ok - tpm2/<case>" / "not ok - tpm2/<case>" lines; exits 1 on any failure. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libcryptsetup.h>

#include "crypto/host/tpm2_host.h"

static int failed, case_failed;
static const char *spec;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			case_failed = 1;                                                 \
		}                                                                        \
	} while (0)
#define CHECK_STR_EQ(got, want)                                                            \
	do {                                                                               \
		if (strcmp((got), (want))) {                                               \
			fprintf(stderr, "# %s:%d: \"%s\", want \"%s\"\n", __FILE__, __LINE__, (got), (want)); \
			case_failed = 1;                                                   \
		}                                                                          \
	} while (0)
#define CHECK_R(expr, want)                                                                        \
	do {                                                                                       \
		int r_ = (expr);                                                                   \
		if (r_ != (want)) {                                                                \
			fprintf(stderr, "# %s:%d: %s = %d (%s), want %d; err: %s\n", __FILE__, __LINE__, #expr, r_, \
				strerror(-r_), (want), err);                                       \
			case_failed = 1;                                                           \
		}                                                                                  \
	} while (0)

static void report(const char *name)
{
	printf("%s - tpm2/%s\n", case_failed ? "not ok" : "ok", name);
	fflush(stdout);
	failed |= case_failed;
	case_failed = 0;
}

static char err[512];

static struct tpm2_ctx *open_tpm(void)
{
	struct tpm2_ctx *t = NULL;
	int r = tpm2_open_spec(spec, &t, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "# cannot open %s: %s\n", spec, err);
		exit(1);
	}
	return t;
}

static struct secret *new_secret(size_t cap)
{
	struct secret *s = NULL;

	if (secret_new(&s, cap) < 0) {
		fprintf(stderr, "# secret_new failed\n");
		exit(1);
	}
	return s;
}

static struct secret *secret_of(const char *text)
{
	struct secret *s = new_secret(256);

	s->len = strlen(text);
	memcpy(s->data, text, s->len);
	return s;
}

static struct secret *random_key(unsigned seed)
{
	struct secret *s = new_secret(64);

	for (unsigned i = 0; i < 32; i++)
		s->data[i] = (uint8_t)(seed * 131 + i * 7 + 1);
	s->len = 32;
	return s;
}

/* Seals key to PCR 15's current value (bank). */
static int seal_current(struct tpm2_ctx *t, uint16_t bank, uint16_t alg, bool srk, const struct secret *pin,
			const uint8_t *salt, size_t salt_len, const struct secret *key, struct tpm2_token *tok)
{
	uint8_t value[1][TPM2_MAX_DIGEST];
	int r = tpm2_pcr_read(t, 15, bank, value[0], err, sizeof(err));
	struct tpm2_seal_request req = {
		.bank = bank, .pcr_mask = 1u << 15, .pcr_values = value, .primary_alg = alg, .use_srk = srk,
		.pin = pin, .salt = salt, .salt_len = salt_len,
	};

	return r < 0 ? r : tpm2_seal(t, &req, key, tok, err, sizeof(err));
}

static int same(const struct secret *a, const struct secret *b)
{
	return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

static void lib_tests(void)
{
	struct tpm2_ctx *t = open_tpm(), *none = NULL;
	struct tpm2_token *tok = calloc(1, sizeof(*tok)), *tok2 = calloc(1, sizeof(*tok2));
	struct secret *out = new_secret(128), *key = random_key(1), *pin = secret_of("1234"),
		      *wrong = secret_of("4321");
	uint16_t algs[TPM2_MAX_BANKS];
	unsigned n = 0;
	char json[TPM2_TOKEN_JSON_MAX];

	/* No TPM: -ENODEV, for the device and for swtpm. */
	CHECK_R(tpm2_open_device("/dev/nonexistent-tpmrm0", &none, err, sizeof(err)), -ENODEV);
	CHECK(strstr(err, "no TPM") != NULL);
	CHECK_R(tpm2_open_spec("swtpm:path=/nonexistent/swtpm.sock", &none, err, sizeof(err)), -ENODEV);
	CHECK(none == NULL);
	report("no_tpm");

	/* The banks swtpm_setup allocated, each extended with its own hash of
	 * the event, as the software prediction says. */
	CHECK_R(tpm2_active_banks(t, 15, algs, &n, err, sizeof(err)), 0);
	CHECK(n == 3 && algs[0] == TPM2_HASH_SHA1 && algs[1] == TPM2_HASH_SHA256 && algs[2] == TPM2_HASH_SHA384);
	report("active_banks");

	struct measure_facts facts = {
		.boot_roothash = "1111111111111111111111111111111111111111111111111111111111111111",
		.config_roothash = "none",
		.root_key_source = "tpm2",
	};
	struct measure_events ev;
	CHECK_R(measure_events_build(&facts, &ev), 0);
	for (unsigned i = 0; i + 1 < ev.count; i++) {
		struct tpm2_digests d;
		uint8_t want[TPM2_MAX_DIGEST];
		CHECK_R(tpm2_extend(t, 15, ev.ev[i].string, strlen(ev.ev[i].string), &d, err, sizeof(err)), 0);
		CHECK(d.count == 3);
		for (unsigned b = 0; b < d.count; b++) {
			CHECK_R(tpm2_hash(d.alg[b], ev.ev[i].string, strlen(ev.ev[i].string), want), 0);
			CHECK(!memcmp(want, d.digest[b], tpm2_bank_by_alg(d.alg[b])->size));
		}
	}
	for (unsigned b = 0; b < n; b++) {
		uint8_t got[TPM2_MAX_DIGEST], want[TPM2_MAX_DIGEST];
		CHECK_R(tpm2_pcr_read(t, 15, algs[b], got, err, sizeof(err)), 0);
		CHECK_R(measure_predict(algs[b], &ev, ev.count - 1, want), 0);
		CHECK(!memcmp(got, want, tpm2_bank_by_alg(algs[b])->size));
	}
	report("extend_matches_prediction");

	CHECK_R(seal_current(t, TPM2_HASH_SHA256, TPM2_ASYM_ECC, false, NULL, NULL, 0, key, tok), 0);
	CHECK(tok->primary_alg == TPM2_ASYM_ECC && !tok->srk_len && !tok->pin && tok->pcr_mask == 1u << 15);
	CHECK_R(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)), 0);
	CHECK(same(out, key));
	report("seal_unseal_ecc");

	/* The token as JSON and back, then unsealed: what enroll writes. */
	tok->keyslot = 3;
	CHECK(tpm2_token_format(tok, json, sizeof(json)) > 0);
	CHECK_R(tpm2_token_parse(json, tok2, err, sizeof(err)), 0);
	CHECK_R(tpm2_unseal(t, tok2, NULL, out, err, sizeof(err)), 0);
	CHECK(same(out, key) && tok2->keyslot == 3);
	report("token_json_roundtrip_unseal");

	/* The passphrase is the base64 of the key (as systemd-cryptsetup). */
	struct secret *pass = new_secret(128);
	CHECK_R(tpm2_passphrase_from_secret(out, pass), 0);
	CHECK(pass->len == 44 && pass->data[43] == '=');
	report("passphrase_base64");

	/* Sealed to a value PCR 15 does not hold yet (the enroll flow): refused
	 * with a clear message, then opens once the event is measured. */
	{
		uint8_t value[1][TPM2_MAX_DIGEST], d[TPM2_MAX_DIGEST];
		struct tpm2_digests got;
		struct tpm2_seal_request req = {
			.bank = TPM2_HASH_SHA256, .pcr_mask = 1u << 15, .pcr_values = value, .primary_alg = TPM2_ASYM_ECC,
		};
		CHECK_R(tpm2_pcr_read(t, 15, TPM2_HASH_SHA256, value[0], err, sizeof(err)), 0);
		CHECK_R(tpm2_hash(TPM2_HASH_SHA256, ev.ev[ev.count - 1].string, strlen(ev.ev[ev.count - 1].string), d), 0);
		CHECK_R(tpm2_extend_sw(TPM2_HASH_SHA256, value[0], d), 0);
		CHECK_R(tpm2_seal(t, &req, key, tok, err, sizeof(err)), 0);
		CHECK_R(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)), -EPERM);
		CHECK(strstr(err, "PCR mismatch") != NULL && out->len == 0);
		CHECK_R(tpm2_extend(t, 15, ev.ev[ev.count - 1].string, strlen(ev.ev[ev.count - 1].string), &got, err,
				    sizeof(err)), 0);
		CHECK_R(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)), 0);
		CHECK(same(out, key));
	}
	report("seal_predicted_value");

	/* One more extend (what the separator does): the key is gone. */
	{
		struct tpm2_digests got;
		CHECK_R(tpm2_extend(t, 15, "cvminit:separator", 17, &got, err, sizeof(err)), 0);
		CHECK_R(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)), -EPERM);
		fprintf(stderr, "# pcr_mismatch message: %s\n", err);
		CHECK_STR_EQ(err, "PCR mismatch: PCR 15 (sha256) does not hold the value the key was sealed to");
	}
	report("pcr_mismatch_after_extend");

	CHECK_R(seal_current(t, TPM2_HASH_SHA256, TPM2_ASYM_ECC, false, pin, NULL, 0, key, tok), 0);
	CHECK(tok->pin && !tok->salt_len);
	CHECK_R(tpm2_unseal(t, tok, pin, out, err, sizeof(err)), 0);
	CHECK(same(out, key));
	report("pin_right");
	CHECK_R(tpm2_unseal(t, tok, wrong, out, err, sizeof(err)), -EACCES);
	CHECK(strstr(err, "wrong PIN") != NULL && out->len == 0);
	report("pin_wrong");
	CHECK_R(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)), -EINVAL);
	report("pin_missing");
	CHECK_R(tpm2_unseal(t, tok, pin, out, err, sizeof(err)), 0);
	CHECK(same(out, key));
	report("pin_right_after_wrong");

	{
		static const uint8_t salt[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
		CHECK_R(seal_current(t, TPM2_HASH_SHA256, TPM2_ASYM_ECC, false, pin, salt, sizeof(salt), key, tok), 0);
		CHECK(tok->salt_len == 32);
		CHECK(tpm2_token_format(tok, json, sizeof(json)) > 0 && strstr(json, "\"tpm2_salt\":"));
		CHECK_R(tpm2_token_parse(json, tok2, err, sizeof(err)), 0);
		CHECK_R(tpm2_unseal(t, tok2, pin, out, err, sizeof(err)), 0);
		CHECK(same(out, key));
		CHECK_R(tpm2_unseal(t, tok2, wrong, out, err, sizeof(err)), -EACCES);
	}
	report("pin_salted");

	CHECK_R(seal_current(t, TPM2_HASH_SHA256, TPM2_ASYM_RSA, false, NULL, NULL, 0, key, tok), 0);
	CHECK(tok->primary_alg == TPM2_ASYM_RSA);
	CHECK(tpm2_token_format(tok, json, sizeof(json)) > 0 && strstr(json, "\"tpm2-primary-alg\":\"rsa\""));
	CHECK_R(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)), 0);
	CHECK(same(out, key));
	report("rsa_primary");

	/* A token's primary is what it says: an RSA token does not load under
	 * the ECC primary. */
	tok->primary_alg = TPM2_ASYM_ECC;
	CHECK_R(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)), -EIO);
	report("wrong_primary_refused");

	CHECK_R(seal_current(t, TPM2_HASH_SHA384, TPM2_ASYM_ECC, false, NULL, NULL, 0, key, tok), 0);
	CHECK_R(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)), 0);
	CHECK(same(out, key));
	report("bank_sha384");

	/* The persistent SRK (systemd >= 255): created once, then reused. */
	CHECK_R(seal_current(t, TPM2_HASH_SHA256, TPM2_ASYM_ECC, true, NULL, NULL, 0, key, tok), 0);
	CHECK(tok->srk_len > 0);
	CHECK(tpm2_token_format(tok, json, sizeof(json)) > 0 && strstr(json, "\"tpm2_srk\":"));
	CHECK_R(tpm2_token_parse(json, tok2, err, sizeof(err)), 0);
	CHECK_R(tpm2_unseal(t, tok2, NULL, out, err, sizeof(err)), 0);
	CHECK(same(out, key));
	{
		struct secret *key2 = random_key(2);
		CHECK_R(seal_current(t, TPM2_HASH_SHA256, TPM2_ASYM_RSA, true, pin, NULL, 0, key2, tok2), 0);
		/* The existing (ECC) SRK wins over the requested algorithm. */
		CHECK(tok2->srk_len == tok->srk_len && !memcmp(tok2->srk, tok->srk, tok->srk_len));
		CHECK(tok2->primary_alg == TPM2_ASYM_ECC);
		CHECK_R(tpm2_unseal(t, tok2, pin, out, err, sizeof(err)), 0);
		CHECK(same(out, key2));
		secret_free(key2);
	}
	report("srk_persistent");

	/* No PCR in the policy (a PIN alone): opens whatever the PCRs hold. */
	{
		struct tpm2_seal_request req = { .bank = TPM2_HASH_SHA256, .primary_alg = TPM2_ASYM_ECC, .pin = pin };
		struct tpm2_digests got;
		CHECK_R(tpm2_seal(t, &req, key, tok, err, sizeof(err)), 0);
		CHECK_R(tpm2_extend(t, 15, "x", 1, &got, err, sizeof(err)), 0);
		CHECK_R(tpm2_unseal(t, tok, pin, out, err, sizeof(err)), 0);
		CHECK(same(out, key));
	}
	report("no_pcr_policy");

	/* A token whose blob was sealed by another TPM (another seed). */
	CHECK_R(seal_current(t, TPM2_HASH_SHA256, TPM2_ASYM_ECC, false, NULL, NULL, 0, key, tok), 0);
	tok->blob[tok->blob_len - 1] ^= 1;
	CHECK(tpm2_unseal(t, tok, NULL, out, err, sizeof(err)) < 0 && out->len == 0);
	report("corrupt_blob_refused");

	secret_free(out);
	secret_free(key);
	secret_free(pin);
	secret_free(wrong);
	secret_free(pass);
	free(tok);
	free(tok2);
	tpm2_close(t);
}

/* swtpm's default: 3 failures, then lockout (recovery 1000 s). */
static void lockout_tests(void)
{
	struct tpm2_ctx *t = open_tpm();
	struct tpm2_token *tok = calloc(1, sizeof(*tok));
	struct secret *out = new_secret(128), *key = random_key(3), *pin = secret_of("right-pin"),
		      *wrong = secret_of("wrong-pin");
	int r = 0;
	unsigned tries = 0;

	CHECK_R(seal_current(t, TPM2_HASH_SHA256, TPM2_ASYM_ECC, false, pin, NULL, 0, key, tok), 0);
	while (tries < 10 && (r = tpm2_unseal(t, tok, wrong, out, err, sizeof(err))) == -EACCES)
		tries++;
	fprintf(stderr, "# lockout after %u wrong PINs: %s\n", tries, err);
	CHECK(r == -EBUSY && tries >= 1 && tries <= 5);
	CHECK(strstr(err, "dictionary-attack lockout") != NULL);
	report("lockout_after_wrong_pins");
	CHECK_R(tpm2_unseal(t, tok, pin, out, err, sizeof(err)), -EBUSY);
	CHECK(out->len == 0);
	report("lockout_refuses_right_pin");
	secret_free(out);
	secret_free(key);
	secret_free(pin);
	secret_free(wrong);
	free(tok);
	tpm2_close(t);
}

/* The first systemd-tpm2 token of a LUKS2 image. */
static int image_token(struct crypt_device *cd, struct tpm2_token *tok)
{
	for (int id = 0; id < 32; id++) {
		const char *json = NULL;
		if (crypt_token_json_get(cd, id, &json) < 0)
			continue;
		int r = tpm2_token_parse(json, tok, err, sizeof(err));
		if (r == -EMEDIUMTYPE)
			continue;
		return r;
	}
	snprintf(err, sizeof(err), "no systemd-tpm2 token");
	return -ENOENT;
}

static int luks_test(const char *name, const char *image, const char *pin_text, int want)
{
	struct tpm2_ctx *t = open_tpm();
	struct tpm2_token *tok = calloc(1, sizeof(*tok));
	struct secret *out = new_secret(128), *pass = new_secret(256), *pin = pin_text ? secret_of(pin_text) : NULL;
	struct crypt_device *cd = NULL;
	int r;

	CHECK_R(crypt_init(&cd, image), 0);
	CHECK_R(crypt_load(cd, CRYPT_LUKS2, NULL), 0);
	CHECK_R(image_token(cd, tok), 0);
	r = tpm2_unseal(t, tok, pin, out, err, sizeof(err));
	if (want) {
		fprintf(stderr, "# %s: %s\n", name, err);
		CHECK(r == want && out->len == 0);
	} else {
		CHECK_R(r, 0);
		CHECK_R(tpm2_passphrase_from_secret(out, pass), 0);
		/* No name: checks the passphrase against the keyslot, activates nothing. */
		CHECK_R(crypt_activate_by_passphrase(cd, NULL, tok->keyslot, (const char *)pass->data, pass->len, 0),
			tok->keyslot);
	}
	report(name);
	crypt_free(cd);
	secret_free(out);
	secret_free(pass);
	if (pin)
		secret_free(pin);
	free(tok);
	tpm2_close(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "lib")) {
		spec = argv[2];
		lib_tests();
	} else if (argc >= 3 && !strcmp(argv[1], "lockout")) {
		spec = argv[2];
		lockout_tests();
	} else if ((argc == 5 || argc == 6) && !strcmp(argv[1], "luks")) {
		spec = argv[4];
		luks_test(argv[2], argv[3], argc == 6 ? argv[5] : NULL, 0);
	} else if (argc == 6 && !strcmp(argv[1], "luks-refused")) {
		spec = argv[4];
		luks_test(argv[2], argv[3], NULL, !strcmp(argv[5], "EPERM") ? -EPERM : -EIO);
	} else {
		fprintf(stderr, "usage: %s lib SPEC | lockout SPEC | luks NAME IMAGE SPEC [PIN] | "
				"luks-refused NAME IMAGE SPEC EPERM\n", argv[0]);
		return 2;
	}
	return failed;
}
