/* kbs-jwe-decrypt D_HEX < JWE: decrypts a JWE with kbs/jwe.c (the init's
 * code) and the P-256 private scalar D_HEX; prints the plaintext's hex, or
 * "error <errno name>: <reason>" and exits 1. For kbs/test-jwe-jwcrypto.sh. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/secret.h"
#include "kbs/jwe.h"

static int rng(void *p, unsigned char *out, size_t n)
{
	FILE *f = fopen("/dev/urandom", "rb");
	size_t k = f ? fread(out, 1, n, f) : 0;

	(void)p;
	if (f)
		fclose(f);
	return k == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	static char body[300000];
	unsigned char d[32];
	struct kbs_key k;
	struct secret *s = NULL;
	char err[300];
	size_t n = fread(body, 1, sizeof(body), stdin);
	int r;

	if (argc != 2 || strlen(argv[1]) != 64)
		return 2;
	for (int i = 0; i < 32; i++)
		sscanf(argv[1] + 2 * i, "%2hhx", &d[i]);
	if (kbs_key_import(&k, d, rng, NULL) < 0)
		return 2;
	r = kbs_jwe_decrypt(body, n, &k, rng, NULL, &s, err, sizeof(err));
	kbs_key_free(&k);
	if (r < 0) {
		printf("error %s: %s\n", r == -EBADMSG ? "EBADMSG" : r == -EINVAL ? "EINVAL" : r == -E2BIG ? "E2BIG" : "other",
		       err);
		return 1;
	}
	for (size_t i = 0; i < s->len; i++)
		printf("%02x", s->data[i]);
	printf("\n");
	secret_free(s);
	return 0;
}
