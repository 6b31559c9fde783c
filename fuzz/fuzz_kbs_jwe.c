/* The resource answer (kbs/jwe.c): JWE JSON, its protected header, its JWK
 * epk, all the broker's (or the network's) bytes. */
// FUZZ_SRCS: kbs/jwe.c kbs/json.c crypto/secret.c
// FUZZ_CFLAGS: $(DEPS_CFLAGS)
// FUZZ_LIBS: $(DEPS_RELEASE)/lib/libjson-c.a $(DEPS_RELEASE)/lib/libmbedcrypto.a
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "kbs/jwe.h"

static int rng(void *p, unsigned char *out, size_t n)
{
	(void)p;
	memset(out, 0x5a, n); /* deterministic: the fuzzer replays */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char d[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	struct kbs_key k;
	struct secret *s = NULL;
	char err[300];

	if (kbs_key_import(&k, d, rng, NULL) < 0)
		abort();
	if (kbs_jwe_decrypt((const char *)data, size, &k, rng, NULL, &s, err, sizeof(err)) == 0 && s->len == 0)
		abort();
	secret_freep(&s);
	kbs_key_free(&k);
	return 0;
}
