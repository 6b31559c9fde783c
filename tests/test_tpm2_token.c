/* The systemd-tpm2 token parser and formatter (crypto/tpm2_token.c): real
 * tokens of systemd-cryptenroll 252 (tests/data/tpm2/), the fields newer
 * systemd versions write (built from those), what is refused and why, and
 * garbage of every kind (never a crash: this runs under ASan/UBSan). */
#include <errno.h>

#include <json-c/json.h>

#include "crypto/tpm2_token.h"
#include "crypto/tpm2_util.h"
#include "tests/harness.h"
#include "tests/tpm2_ka.h"

TH_DEFINE("tpm2_token");

static struct tpm2_token tok;
static char err[512];

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[2][8192];
	static int which;
	char *b = buf[which ^= 1];
	size_t n;

	if (!f) {
		TH_FAIL("cannot read %s", path);
		return strcpy(b, "");
	}
	n = fread(b, 1, sizeof(buf[0]) - 1, f);
	fclose(f);
	b[n] = '\0';
	return b;
}

#define ECC "tests/data/tpm2/token-systemd252-ecc.json"
#define PIN "tests/data/tpm2/token-systemd252-pin.json"

/* The 252 ECC token with fields set (value: JSON text) or removed (NULL). */
static const char *edited(const char *base, const char *key, const char *value)
{
	static char out[16384];
	struct json_object *o = json_tokener_parse(slurp(base));

	if (!o) {
		TH_FAIL("fixture %s is not JSON", base);
		return "";
	}
	if (value)
		json_object_object_add(o, key, json_tokener_parse(value));
	else
		json_object_object_del(o, key);
	snprintf(out, sizeof(out), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

static int parse(const char *json)
{
	return tpm2_token_parse(json, &tok, err, sizeof(err));
}

static void systemd252_ecc(void)
{
	uint8_t want[32];

	CHECK_INT(parse(slurp(ECC)), 0);
	CHECK_INT(tok.keyslot, 1);
	CHECK_INT(tok.pcr_mask, 1u << 15);
	CHECK_INT(tok.pcr_bank, TPM2_HASH_SHA256);
	CHECK_INT(tok.primary_alg, TPM2_ASYM_ECC);
	CHECK(tok.primary_alg_given);
	CHECK(!tok.pin);
	CHECK_INT(tok.salt_len, 0);
	CHECK_INT(tok.srk_len, 0);
	/* TPM2B_PRIVATE (0x009e bytes) then TPM2B_PUBLIC (0x004e). */
	CHECK_INT(tok.blob_len, 2 + 0x9e + 2 + 0x4e);
	CHECK(tok.blob[0] == 0x00 && tok.blob[1] == 0x9e);
	CHECK_INT(tok.policy_hash_len, 32);
	CHECK_INT(ka("systemd252_policy", want, sizeof(want)), 32);
	CHECK_MEM(tok.policy_hash, want, 32);
}

static void systemd252_pin(void)
{
	uint8_t want[32];

	CHECK_INT(parse(slurp(PIN)), 0);
	CHECK(tok.pin);
	CHECK_INT(tok.salt_len, 0); /* 252: SHA-256 of the PIN, no salt */
	CHECK_INT(ka("systemd252_policy_pin", want, sizeof(want)), 32);
	CHECK_MEM(tok.policy_hash, want, 32);
}

/* format(parse(x)) is x, byte for byte, for systemd's own tokens. */
static void format_roundtrip(void)
{
	static const char *const files[] = { ECC, PIN };
	char out[TPM2_TOKEN_JSON_MAX];

	for (size_t i = 0; i < 2; i++) {
		const char *text = slurp(files[i]);
		size_t len = strlen(text);
		while (len && text[len - 1] == '\n')
			len--;
		CHECK_INT(parse(text), 0);
		CHECK_INT(tpm2_token_format(&tok, out, sizeof(out)), (int)len);
		CHECK(!strncmp(out, text, len));
	}
	/* Salt and SRK are appended as systemd >= 255 writes them. */
	CHECK_INT(parse(slurp(ECC)), 0);
	tok.salt_len = 2;
	tok.salt[0] = 0xfb;
	tok.salt[1] = 0xff;
	tok.srk_len = 3;
	memcpy(tok.srk, "\x81\x00\x00", 3);
	CHECK(tpm2_token_format(&tok, out, sizeof(out)) > 0);
	CHECK(strstr(out, ",\"tpm2_salt\":\"+/8=\",\"tpm2_srk\":\"gQAA\"}") != NULL);
	struct tpm2_token copy = tok;
	CHECK_INT(parse(out), 0);
	CHECK_MEM(&tok, &copy, sizeof(tok));
	/* Too small a buffer; a token that cannot be written. */
	CHECK_INT(tpm2_token_format(&tok, out, 100), -ENOSPC);
	tok.pcr_bank = 0x0012;
	CHECK_INT(tpm2_token_format(&tok, out, sizeof(out)), -EINVAL);
}

/* What systemd >= 254/255/259 write and cvminit supports. */
static void newer_systemd_fields(void)
{
	/* systemd >= 255 with an SRK: no tpm2-primary-alg, tpm2_srk, salted PIN. */
	const char *t = edited(PIN, "tpm2-primary-alg", NULL);
	struct json_object *o = json_tokener_parse(t);
	json_object_object_add(o, "tpm2_srk", json_object_new_string("gQAAAQAiAAv5sLge"));
	json_object_object_add(o, "tpm2_salt", json_object_new_string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
	json_object_object_add(o, "tpm2_pubkey_pcrs", json_object_new_array());
	json_object_object_add(o, "tpm2_pcrlock", json_object_new_boolean(0));
	json_object_object_add(o, "x-other-tool", json_object_new_int(1));
	CHECK_INT(parse(json_object_to_json_string(o)), 0);
	json_object_put(o);
	CHECK(!tok.primary_alg_given);
	CHECK_INT(tok.primary_alg, TPM2_ASYM_ECC);
	CHECK_INT(tok.srk_len, 12);
	CHECK(tok.srk[0] == 0x81 && tok.srk[3] == 0x01);
	CHECK_INT(tok.salt_len, 32);
	CHECK(tok.pin);

	/* systemd >= 259 omits "tpm2-pin": false. */
	CHECK_INT(parse(edited(ECC, "tpm2-pin", NULL)), 0);
	CHECK(!tok.pin);
	/* Before 250: no bank (sha256), no algorithm (ecc). */
	t = edited(ECC, "tpm2-pcr-bank", NULL);
	CHECK_INT(parse(t), 0);
	CHECK_INT(tok.pcr_bank, TPM2_HASH_SHA256);
	CHECK_INT(parse(edited(ECC, "tpm2-pcr-bank", "\"sha384\"")), 0);
	CHECK_INT(tok.pcr_bank, TPM2_HASH_SHA384);
	CHECK_INT(parse(edited(ECC, "tpm2-primary-alg", "\"rsa\"")), 0);
	CHECK_INT(tok.primary_alg, TPM2_ASYM_RSA);
	/* Arrays of one blob/policy (the unsharded case of newer systemd). */
	o = json_tokener_parse(slurp(ECC));
	struct json_object *b = json_object_get(json_object_object_get(o, "tpm2-blob"));
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, b);
	json_object_object_add(o, "tpm2-blob", a);
	CHECK_INT(parse(json_object_to_json_string(o)), 0);
	CHECK_INT(tok.blob_len, 2 + 0x9e + 2 + 0x4e);
	json_object_put(o);
	/* PCRs: several, none. */
	CHECK_INT(parse(edited(ECC, "tpm2-pcrs", "[0,7,15,23]")), 0);
	CHECK_INT(tok.pcr_mask, 1u | 1u << 7 | 1u << 15 | 1u << 23);
	CHECK_INT(parse(edited(ECC, "tpm2-pcrs", "[]")), 0);
	CHECK_INT(tok.pcr_mask, 0);
	CHECK_INT(parse(edited(ECC, "keyslots", "[\"31\",\"2\"]")), 0);
	CHECK_INT(tok.keyslot, 31);
}

static void refuse(const char *json, int want, const char *msg)
{
	int r = parse(json);

	if (r != want)
		TH_FAIL("parse = %d, want %d (%s); err: %s", r, want, msg, err);
	if (!strstr(err, msg))
		TH_FAIL("err \"%s\" lacks \"%s\"", err, msg);
	if (!strstr(err, "systemd-tpm2 token: "))
		TH_FAIL("err \"%s\" lacks its prefix", err);
	CHECK_INT(tok.blob_len, 0); /* nothing half-parsed */
}

/* Valid systemd tokens using what cvminit does not support: refused by name. */
static void unsupported(void)
{
	refuse(edited(ECC, "tpm2_pubkey", "\"LS0tLS1CRUdJTg==\""), -EOPNOTSUPP, "tpm2_pubkey: signed PCR policies");
	refuse(edited(ECC, "tpm2_pubkey_pcrs", "[11]"), -EOPNOTSUPP, "tpm2_pubkey_pcrs: signed PCR policies");
	refuse(edited(ECC, "tpm2_pcrlock", "true"), -EOPNOTSUPP, "tpm2_pcrlock: pcrlock policies");
	refuse(edited(ECC, "tpm2_pcrlock_nv", "\"AQID\""), -EOPNOTSUPP, "tpm2_pcrlock_nv: pcrlock policies");
	refuse(edited(ECC, "tpm2-blob", "[\"AAE=\",\"AAE=\"]"), -EOPNOTSUPP, "tpm2-blob: 2 entries (a sharded");
	refuse(edited(ECC, "tpm2-policy-hash", "[\"00\",\"11\"]"), -EOPNOTSUPP, "tpm2-policy-hash: 2 entries");
	refuse(edited(ECC, "tpm2_something_new", "1"), -EOPNOTSUPP, "field \"tpm2_something_new\" (from a newer systemd)");
	refuse(edited(ECC, "tpm2-pcr-bank", "\"sm3_256\""), -EOPNOTSUPP, "tpm2-pcr-bank: \"sm3_256\" is not supported");
	refuse(edited(ECC, "type", "\"systemd-fido2\""), -EMEDIUMTYPE, "type is \"systemd-fido2\"");
}

static void malformed(void)
{
	refuse("", -EINVAL, "not valid JSON");
	refuse("{", -EINVAL, "not valid JSON");
	refuse("[1,2]", -EINVAL, "not a JSON object");
	refuse("{\"type\":\"systemd-tpm2\"} x", -EINVAL, "text after the JSON object");
	refuse("{}", -EINVAL, "no \"type\"");
	refuse(edited(ECC, "type", "1"), -EINVAL, "no \"type\"");
	refuse(edited(ECC, "keyslots", NULL), -EINVAL, "no \"keyslots\"");
	refuse(edited(ECC, "keyslots", "[]"), -EINVAL, "keyslots: not a non-empty array");
	refuse(edited(ECC, "keyslots", "[1]"), -EINVAL, "keyslots: entry 0 is not a string");
	refuse(edited(ECC, "keyslots", "[\"1a\"]"), -EINVAL, "is not a keyslot number");
	refuse(edited(ECC, "keyslots", "[\"\"]"), -EINVAL, "is not a keyslot number");
	refuse(edited(ECC, "keyslots", "[\"12345\"]"), -EINVAL, "is not a keyslot number");
	refuse(edited(ECC, "tpm2-pcrs", NULL), -EINVAL, "no \"tpm2-pcrs\"");
	refuse(edited(ECC, "tpm2-pcrs", "15"), -EINVAL, "tpm2-pcrs: not an array");
	refuse(edited(ECC, "tpm2-pcrs", "[24]"), -EINVAL, "tpm2-pcrs: 24 is not a PCR (0..23)");
	refuse(edited(ECC, "tpm2-pcrs", "[-1]"), -EINVAL, "tpm2-pcrs: -1 is not a PCR");
	refuse(edited(ECC, "tpm2-pcrs", "[\"15\"]"), -EINVAL, "tpm2-pcrs: entry 0 is not an integer");
	refuse(edited(ECC, "tpm2-pcrs", "[1.5]"), -EINVAL, "tpm2-pcrs: entry 0 is not an integer");
	refuse(edited(ECC, "tpm2-pcr-bank", "256"), -EINVAL, "tpm2-pcr-bank: not a string");
	refuse(edited(ECC, "tpm2-primary-alg", "\"dsa\""), -EINVAL, "tpm2-primary-alg: \"dsa\" is neither ecc nor rsa");
	refuse(edited(ECC, "tpm2-blob", NULL), -EINVAL, "no \"tpm2-blob\"");
	refuse(edited(ECC, "tpm2-blob", "\"not base64!\""), -EINVAL, "tpm2-blob: not base64");
	refuse(edited(ECC, "tpm2-blob", "\"AJ4A\""), -EINVAL, "tpm2-blob: truncated");
	refuse(edited(ECC, "tpm2-blob", "\"\""), -EINVAL, "tpm2-blob: truncated");
	refuse(edited(ECC, "tpm2-blob", "[]"), -EINVAL, "tpm2-blob: empty array");
	refuse(edited(ECC, "tpm2-blob", "7"), -EINVAL, "tpm2-blob: not a string");
	refuse(edited(ECC, "tpm2-policy-hash", NULL), -EINVAL, "no \"tpm2-policy-hash\"");
	refuse(edited(ECC, "tpm2-policy-hash", "\"abcd\""), -EINVAL, "tpm2-policy-hash: not a SHA-256 digest");
	refuse(edited(ECC, "tpm2-policy-hash", "\"xyz\""), -EINVAL, "tpm2-policy-hash: not a SHA-256 digest");
	refuse(edited(ECC, "tpm2-pin", "\"yes\""), -EINVAL, "tpm2-pin: not a boolean");
	refuse(edited(ECC, "tpm2_salt", "\"\""), -EINVAL, "tpm2_salt: not base64");
	refuse(edited(ECC, "tpm2_salt", "5"), -EINVAL, "tpm2_salt: not a string");
	refuse(edited(ECC, "tpm2_srk", "\"@@@@\""), -EINVAL, "tpm2_srk: not base64");
	refuse(edited(ECC, "tpm2_pcrlock", "1"), -EINVAL, "tpm2_pcrlock: not a boolean");
	refuse(edited(ECC, "tpm2_pubkey_pcrs", "{}"), -EINVAL, "tpm2_pubkey_pcrs: not an array");
	CHECK_INT(tpm2_token_parse(NULL, &tok, err, sizeof(err)), -EINVAL);
	/* A tiny error buffer is never overrun (ASan). */
	char small[8];
	CHECK_INT(tpm2_token_parse("{", &tok, small, sizeof(small)), -EINVAL);
	CHECK_INT(strlen(small), 7);
	CHECK_INT(tpm2_token_parse("{", &tok, small, 0), -EINVAL);
}

/* Every prefix and every single-byte change of a real token: a clean
 * verdict each time (ASan/UBSan catch any overrun). */
static void garbage(void)
{
	const char *text = slurp(PIN);
	size_t len = strlen(text);
	char buf[8192];
	unsigned ok = 0;

	for (size_t n = 0; n < len; n++) {
		memcpy(buf, text, n);
		buf[n] = '\0';
		int r = parse(buf);
		if (r != -EINVAL && r != -EOPNOTSUPP && r != -EMEDIUMTYPE && r != 0)
			TH_FAIL("prefix %zu: %d", n, r);
	}
	for (size_t i = 0; i < len; i += 3) {
		static const char subst[] = { '"', '{', ']', ',', '0', '\\', 'A', '\x01', (char)0xff };
		for (size_t s = 0; s < sizeof(subst); s++) {
			memcpy(buf, text, len + 1);
			buf[i] = subst[s];
			int r = parse(buf);
			ok += r == 0;
			if (r != -EINVAL && r != -EOPNOTSUPP && r != -EMEDIUMTYPE && r != 0)
				TH_FAIL("byte %zu = %d: %d", i, subst[s], r);
		}
	}
	CHECK(ok > 0); /* changes inside the blob's base64 still parse */
	/* Deep nesting and a huge document. */
	memset(buf, '[', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	CHECK_INT(parse(buf), -EINVAL);
	static char huge[TPM2_TOKEN_JSON_MAX + 2];
	memset(huge, ' ', sizeof(huge) - 1);
	CHECK_INT(parse(huge), -EINVAL);
}

int main(void)
{
	TEST(systemd252_ecc);
	TEST(systemd252_pin);
	TEST(format_roundtrip);
	TEST(newer_systemd_fields);
	TEST(unsupported);
	TEST(malformed);
	TEST(garbage);
	return TH_END();
}
