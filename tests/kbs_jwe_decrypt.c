/* kbs-jwe-decrypt D_HEX < JWE
 * kbs-jwe-decrypt rsa N_HEX E_HEX D_HEX P_HEX Q_HEX < JWE
 * decrypts a JWE with kbs/jwe.c (the init's code) and the P-256 private
 * scalar D_HEX, or the RSA private key (big-endian hex); prints the
 * plaintext's hex, or "error <errno name>: <reason>" and exits 1.
 * For kbs/test-jwe-jwcrypto.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* hex into a new buffer; its length in *n, NULL when not hex */
static unsigned char *unhex(const char *h, size_t *n)
{
	size_t l = strlen(h);
	unsigned char *b = l % 2 ? NULL : malloc(l / 2 + 1);

	for (size_t i = 0; b && i < l / 2; i++)
		if (sscanf(h + 2 * i, "%2hhx", &b[i]) != 1) {
			free(b);
			b = NULL;
		}
	*n = l / 2;
	return b;
}

static int import_rsa(struct kbs_key *k, char **hex)
{
	unsigned char *v[5];
	size_t len[5];
	int r = 0;

	for (int i = 0; i < 5; i++)
		if (!(v[i] = unhex(hex[i], &len[i])))
			r = -1;
	if (r == 0)
		r = kbs_key_import_rsa(k, v[0], len[0], v[1], len[1], v[2], len[2], v[3], len[3], v[4], len[4]);
	for (int i = 0; i < 5; i++)
		free(v[i]);
	return r;
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

	if (argc == 7 && !strcmp(argv[1], "rsa")) {
		if (import_rsa(&k, argv + 2) < 0)
			return 2;
	} else {
		if (argc != 2 || strlen(argv[1]) != 64)
			return 2;
		for (int i = 0; i < 32; i++)
			sscanf(argv[1] + 2 * i, "%2hhx", &d[i]);
		if (kbs_key_import(&k, d, rng, NULL) < 0)
			return 2;
	}
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
