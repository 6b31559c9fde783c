/* libFuzzer target: attested key delivery across the console (crypto/wrap.c).
 * The guest reads the "cvminit-wrapped:" line from a console the host
 * controls; the owner's host tool reads the "cvminit-challenge:" line from a
 * console log. crypto/wrap.c is written for mbedtls 3 (the pinned deps), not
 * the host's 2.28: this target links the deps' static json-c and mbedcrypto
 * (built with musl; plain C, they link into this glibc program; they are not
 * instrumented, the cvminit code is).
 *
 * Input: byte 0 picks the mode, the rest is its data.
 *   0  wrap_challenge_parse(text)
 *   1  wrap_open(text): any base64 payload
 *   2  wrap_open of "CW1" || SHA-256(this guest's public key) || data: gets
 *      past the format and fingerprint checks to the ECDH (a point chosen by
 *      the input) and the AES-GCM tag; must never succeed
 *   3  round trip: data is a key (1..4096 bytes); wrap_seal for this guest's
 *      challenge, then wrap_open must give back exactly that key
 *   4  wrap_open of "CW2" || SHA-256(the pinned guest's public key) || data at
 *      a guest that pins a sender: gets to the purpose and signature checks;
 *      must never succeed (nobody holds the pinned key's private half) */
// FUZZ_SRCS: crypto/wrap.c crypto/secret.c
// FUZZ_CFLAGS: $(DEPS_CFLAGS)
// FUZZ_LIBS: $(DEPS_RELEASE)/lib/libjson-c.a $(DEPS_RELEASE)/lib/libmbedcrypto.a
// FUZZ_OPTS: -max_len=8192
#include <errno.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "crypto/secret.h"
#include "crypto/wrap.h"
#include "fuzz/fuzz.h"

static struct wrap_guest *guest, *pinned;
static const uint8_t report[] = "a report: its hash enters the key derivation";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (wrap_guest_new(&guest) != 0)
		abort();
	wrap_guest_set_report(guest, report, sizeof(report));
	if (wrap_guest_new(&pinned) != 0)
		abort();
	wrap_guest_set_report(pinned, report, sizeof(report));
	/* a valid point whose private key this process drops: the other guest's */
	wrap_guest_require_signer(pinned, wrap_guest_pub(guest), WRAP_PURPOSE_JOBS);
	return 0;
}

static char *b64(const uint8_t *p, size_t n)
{
	size_t olen = 0;
	mbedtls_base64_encode(NULL, 0, &olen, p, n);
	char *s = malloc(olen + 1);
	if (!s || mbedtls_base64_encode((unsigned char *)s, olen + 1, &olen, p, n) != 0)
		abort();
	s[olen] = '\0';
	return s;
}

static int open_at(struct wrap_guest *g, const char *text, struct secret *key)
{
	int r = wrap_open(g, text, key);
	FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -ESTALE || r == -EPERM || r == -EACCES || r == -EIO ||
		    r == -ENOMEM);
	FUZZ_ASSERT(key->len <= key->cap);
	FUZZ_ASSERT(r == 0 || key->len == 0);
	return r;
}

static int open_text(const char *text, struct secret *key)
{
	return open_at(guest, text, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mode = data[0] % 5;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	struct secret *key = NULL;
	char err[512];

	if (mode == 0) {
		struct wrap_challenge c;
		char *text = fuzz_cstr(d, n);
		int r = wrap_challenge_parse(text, &c, err, sizeof(err));
		FUZZ_ASSERT(r == 0 || r == -EBADMSG);
		if (r == 0) {
			FUZZ_ASSERT(c.pub[0] == 4 && strlen(c.tee) < sizeof(c.tee));
			wrap_challenge_free(&c);
		}
		free(text);
		return 0;
	}
	if (secret_new(&key, WRAP_KEY_MAX) != 0)
		abort();
	if (mode == 1) {
		char *text = fuzz_cstr(d, n);
		(void)open_text(text, key);
		free(text);
	} else if (mode == 2) {
		uint8_t *raw = malloc(3 + 32 + n);
		if (!raw)
			abort();
		memcpy(raw, "CW1", 3);
		mbedtls_sha256(wrap_guest_pub(guest), WRAP_PUB_LEN, raw + 3, 0);
		if (n)
			memcpy(raw + 35, d, n);
		char *text = b64(raw, 35 + n);
		int r = open_text(text, key);
		FUZZ_ASSERT(r != 0 && r != -ESTALE);
		free(text);
		free(raw);
	} else if (mode == 4) {
		uint8_t *raw = malloc(3 + 32 + n);
		if (!raw)
			abort();
		memcpy(raw, "CW2", 3);
		mbedtls_sha256(wrap_guest_pub(pinned), WRAP_PUB_LEN, raw + 3, 0);
		if (n)
			memcpy(raw + 35, d, n);
		char *text = b64(raw, 35 + n);
		int r = open_at(pinned, text, key);
		FUZZ_ASSERT(r == -EACCES || r == -EBADMSG);
		free(text);
		free(raw);
	} else if (mode == 3 && n >= 1 && n <= WRAP_KEY_MAX) {
		struct wrap_challenge c = { 0 };
		char *line = NULL;
		memcpy(c.tee, "snp", 4);
		c.report = (uint8_t *)report;
		c.report_len = sizeof(report);
		memcpy(c.pub, wrap_guest_pub(guest), WRAP_PUB_LEN);
		FUZZ_ASSERT(wrap_seal(&c, d, n, &line) == 0 && line);
		FUZZ_ASSERT(!strncmp(line, WRAPPED_PREFIX, strlen(WRAPPED_PREFIX)));
		int r = open_text(line + strlen(WRAPPED_PREFIX), key);
		FUZZ_ASSERT(r == 0 && key->len == n && !memcmp(key->data, d, n));
		free(line);
	}
	secret_free(key);
	return 0;
}
