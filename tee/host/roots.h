#ifndef CVMINIT_TEE_HOST_ROOTS_H
#define CVMINIT_TEE_HOST_ROOTS_H

#include <mbedtls/x509_crt.h>

/* The roots of trust the host tool accepts without --root: AMD's ARKs and
 * Intel's SGX Root CA, pinned by the SHA-256 of their SubjectPublicKeyInfo
 * (the key, so a re-issued certificate of the same key still matches). */
struct trusted_root {
	const char *name;   /* the certificate's CN */
	const char *vendor; /* "AMD" or "Intel" */
	const char *source; /* where the certificate was published */
	unsigned char spki_sha256[32];
};

/* The built-in root whose key is c's, or NULL. */
const struct trusted_root *trusted_root_find(const mbedtls_x509_crt *c);

extern const struct trusted_root trusted_roots[];
extern const unsigned trusted_root_count;

#endif
