#ifndef CVMINIT_KBS_JWE_H
#define CVMINIT_KBS_JWE_H

#include <stddef.h>

#include <mbedtls/ecp.h>

#include "crypto/secret.h"

/* The KBS's resource answer: a JWE in flattened JSON serialisation,
 * ECDH-ES+A256KW (P-256, Concat KDF SHA-256, empty apu/apv, AES key wrap)
 * with A256GCM, as Trustee's kbs/src/jwe/mod.rs makes it (kbs/README.md).
 * Nothing else is accepted: no other alg/enc, no "zip", no "crit". */

#define KBS_SECRET_MAX 4096 /* the largest resource (a LUKS2 passphrase or key) */

/* The per-attempt TEE key pair (P-256): the private half lives in this
 * process's mlockall'd memory and is zeroised by kbs_key_free. */
struct kbs_key {
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	mbedtls_ecp_point q;
	unsigned char x[32], y[32]; /* q's coordinates, for the JWK */
};

int kbs_key_generate(struct kbs_key *k, int (*rng)(void *, unsigned char *, size_t), void *rng_ctx);
/* Imports a private scalar (tests: a key jwcrypto made). */
int kbs_key_import(struct kbs_key *k, const unsigned char d[32], int (*rng)(void *, unsigned char *, size_t),
		   void *rng_ctx);
void kbs_key_free(struct kbs_key *k);

/* Decrypts into a new secret (*out, the caller's). 0, or -EINVAL (malformed,
 * unsupported), -EBADMSG (does not decrypt: wrong key or changed bytes),
 * -E2BIG, -ENOMEM, with a reason in err that never holds secret bytes. */
int kbs_jwe_decrypt(const char *body, size_t len, struct kbs_key *k, int (*rng)(void *, unsigned char *, size_t),
		    void *rng_ctx, struct secret **out, char *err, size_t errlen);

#endif
