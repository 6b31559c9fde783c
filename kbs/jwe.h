#ifndef CVMINIT_KBS_JWE_H
#define CVMINIT_KBS_JWE_H

#include <stddef.h>

#include <mbedtls/ecp.h>
#include <mbedtls/rsa.h>

#include "crypto/secret.h"

/* The KBS's resource answer: a JWE in flattened JSON serialisation,
 * ECDH-ES+A256KW (P-256, Concat KDF SHA-256, empty apu/apv, AES key wrap)
 * or, to an RSA key, RSA-OAEP-256 (OAEP and MGF1 with SHA-256, no label),
 * with A256GCM, as Trustee's kbs/src/jwe/mod.rs makes it (kbs/README.md).
 * Nothing else is accepted: only the alg of the key this boot offered
 * (so no RSA1_5 downgrade), no other enc, no "zip", no "crit". */

#define KBS_SECRET_MAX 4096 /* the largest resource (a LUKS2 passphrase or key) */

#define KBS_RSA_BITS 2048     /* what the reference guest (guest-components) makes */
#define KBS_RSA_EXPONENT 65537
#define KBS_RSA_MAX_BYTES 512 /* the largest modulus accepted on import (4096 bits) */

/* The per-attempt TEE key pair, P-256 or RSA: the private half lives in
 * this process's mlockall'd memory (mbedtls's heap MPIs) and is zeroised
 * by kbs_key_free (mbedtls_mpi_free wipes the limbs). */
struct kbs_key {
	int rsa;                    /* 0: P-256 (grp, d, q); 1: RSA (ctx) */
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	mbedtls_ecp_point q;
	unsigned char x[32], y[32]; /* q's coordinates, for the JWK */
	mbedtls_rsa_context ctx;
	unsigned char n[KBS_RSA_MAX_BYTES], e[4]; /* big-endian, minimal: for the JWK */
	size_t nlen, elen;
};

int kbs_key_generate(struct kbs_key *k, int (*rng)(void *, unsigned char *, size_t), void *rng_ctx);
/* An RSA-KBS_RSA_BITS pair, public exponent 65537. */
int kbs_key_generate_rsa(struct kbs_key *k, int (*rng)(void *, unsigned char *, size_t), void *rng_ctx);
/* Imports a private scalar (tests: a key jwcrypto made). */
int kbs_key_import(struct kbs_key *k, const unsigned char d[32], int (*rng)(void *, unsigned char *, size_t),
		   void *rng_ctx);
/* Imports an RSA private key from big-endian n, e, d, p, q (tests: a key
 * jwcrypto made); checked with mbedtls_rsa_check_privkey. */
int kbs_key_import_rsa(struct kbs_key *k, const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
		       const unsigned char *d, size_t dlen, const unsigned char *p, size_t plen, const unsigned char *q,
		       size_t qlen);
void kbs_key_free(struct kbs_key *k);

/* Decrypts into a new secret (*out, the caller's). 0, or -EINVAL (malformed,
 * unsupported), -EBADMSG (does not decrypt: wrong key or changed bytes),
 * -E2BIG, -ENOMEM, with a reason in err that never holds secret bytes. */
int kbs_jwe_decrypt(const char *body, size_t len, struct kbs_key *k, int (*rng)(void *, unsigned char *, size_t),
		    void *rng_ctx, struct secret **out, char *err, size_t errlen);

#endif
