#ifndef CVMINIT_HASH_H
#define CVMINIT_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 through mbedtls. 0 or -EIO. */
int hash_sha256(const void *data, size_t len, uint8_t out[32]);
/* Lower-case hex; out must hold 2*len+1 bytes. */
void hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen);

#endif
