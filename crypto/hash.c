#include "crypto/hash.h"

#include <errno.h>

#include <mbedtls/sha256.h>

int hash_sha256(const void *data, size_t len, uint8_t out[32])
{
	return mbedtls_sha256(data, len, out, 0) == 0 ? 0 : -EIO;
}

void hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len && 2 * i + 2 < outlen; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	if (outlen)
		out[2 * i < outlen ? 2 * i : outlen - 1] = '\0';
}
