/* The resource answer to an RSA TEE key (KBS_TEE_KEY=rsa, kbs/jwe.c): JWE
 * JSON, the RSA-OAEP-256 header, the encrypted_key block through OAEP
 * decoding. The key pair is made once, from a fixed-seed generator, so
 * every run (and a replay) sees the same key. */
// FUZZ_SRCS: kbs/jwe.c kbs/json.c crypto/secret.c
// FUZZ_CFLAGS: $(DEPS_CFLAGS)
// FUZZ_LIBS: $(DEPS_RELEASE)/lib/libjson-c.a $(DEPS_RELEASE)/lib/libmbedcrypto.a
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "kbs/jwe.h"

/* xorshift64: deterministic bytes (a test key, never a real one) */
static int rng(void *p, unsigned char *out, size_t n)
{
	uint64_t *s = p;

	for (size_t i = 0; i < n; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		out[i] = (unsigned char)*s;
	}
	return 0;
}

static struct kbs_key key;
static uint64_t state = 0x9e3779b97f4a7c15ull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (kbs_key_generate_rsa(&key, rng, &state) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secret *s = NULL;
	char err[300];

	if (kbs_jwe_decrypt((const char *)data, size, &key, rng, &state, &s, err, sizeof(err)) == 0 && s->len == 0)
		abort();
	secret_freep(&s);
	return 0;
}
