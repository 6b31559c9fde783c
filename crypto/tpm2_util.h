#ifndef CVMINIT_TPM2_UTIL_H
#define CVMINIT_TPM2_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"

/* Pure TPM2 helpers (mbedtls only, no TPM): PCR banks, hashing and
 * extending in software, policy digests, the PIN's auth value, the LUKS
 * passphrase of an unsealed key. Shared by the init, the host tool and the
 * unit tests. Algorithm numbers are the TPM's (TPM2_ALG_*). */

#define TPM2_PCR_COUNT 24
#define TPM2_MAX_DIGEST 64
#define TPM2_MAX_BANKS 8

enum {
	TPM2_HASH_SHA1 = 0x0004,
	TPM2_HASH_SHA256 = 0x000B,
	TPM2_HASH_SHA384 = 0x000C,
	TPM2_HASH_SHA512 = 0x000D,
	TPM2_ASYM_RSA = 0x0001,
	TPM2_ASYM_ECC = 0x0023,
};

struct tpm2_bank_info {
	uint16_t alg;
	const char *name; /* "sha256": the names systemd uses */
	size_t size;      /* digest bytes */
};

/* NULL for a hash this code does not know. */
const struct tpm2_bank_info *tpm2_bank_by_alg(uint16_t alg);
const struct tpm2_bank_info *tpm2_bank_by_name(const char *name);
/* "ecc", "rsa" or NULL. */
const char *tpm2_asym_name(uint16_t alg);

/* One digest per bank, e.g. what one event extended (for the event log). */
struct tpm2_digests {
	unsigned count;
	uint16_t alg[TPM2_MAX_BANKS];
	uint8_t digest[TPM2_MAX_BANKS][TPM2_MAX_DIGEST];
};

/* out gets the bank's digest size. 0 or -EINVAL (unknown bank), -EIO. */
int tpm2_hash(uint16_t alg, const void *data, size_t len, uint8_t *out);
/* HMAC with the bank's hash, keyed by key (not empty): how systemd measures
 * a secret (the volume key) without sending a plain hash of it to the TPM.
 * 0, -EINVAL, -EIO. */
int tpm2_hmac(uint16_t alg, const void *key, size_t keylen, const void *data, size_t len, uint8_t *out);
/* pcr = H(pcr || digest), both of the bank's size. */
int tpm2_extend_sw(uint16_t alg, uint8_t *pcr, const uint8_t *digest);

/* The policy digest (always SHA-256, the session hash systemd uses) of
 * TPM2_PolicyPCR over the PCRs in mask of bank, whose values are given in
 * ascending PCR order (values[i] for the i-th set bit), then, when
 * with_pin, TPM2_PolicyAuthValue:
 *   d = 0^32
 *   d = H(d || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || H(v1 || v2 ...))
 *   d = H(d || TPM_CC_PolicyAuthValue)
 * The selection is marshalled as systemd does: one bank, sizeofSelect 3.
 * An empty mask adds no PolicyPCR. 0 or -EINVAL. */
int tpm2_policy_digest(uint16_t bank, uint32_t mask, const uint8_t (*values)[TPM2_MAX_DIGEST], bool with_pin,
		       uint8_t out[32]);

/* The auth value a PIN becomes, as systemd-cryptenroll does it:
 *   no salt (systemd <= 253): SHA-256(pin)
 *   salt (tpm2_salt, systemd >= 254): SHA-256(base64(PBKDF2-HMAC-SHA256(pin, salt, 10000 rounds, 32 bytes)))
 * 0, -EINVAL (empty PIN), -EIO. */
int tpm2_pin_auth(const uint8_t *pin, size_t pin_len, const uint8_t *salt, size_t salt_len, uint8_t out[32]);

/* PBKDF2-HMAC-SHA256 with one 32-byte block (systemd's
 * tpm2_util_pbkdf2_hmac_sha256). */
int tpm2_pbkdf2_sha256(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
		       unsigned iterations, uint8_t out[32]);

/* The LUKS2 passphrase of a TPM2 keyslot: base64 of the unsealed bytes
 * (no newline), written into out (locked memory, its cap must hold
 * 4*ceil(len/3)+1 bytes). 0, -ENODATA for an empty secret, or -ENOSPC/-EIO. */
int tpm2_passphrase_from_secret(const struct secret *raw, struct secret *out);

/* Plain base64 (RFC 4648, padded). encode: writes a NUL-terminated string,
 * returns its length or -ENOSPC. decode: returns the byte count, or
 * -EINVAL (not base64) / -ENOSPC. */
int tpm2_base64_encode(const uint8_t *in, size_t len, char *out, size_t outlen);
int tpm2_base64_decode(const char *in, uint8_t *out, size_t outlen);
/* Hex (either case) to bytes: byte count or -EINVAL/-ENOSPC. encode:
 * lower case, NUL-terminated; out must hold 2*len+1 bytes (-ENOSPC). */
/* snprintf at out + *used, advancing *used: 0, or -ENOSPC when it does not
 * fit (out is then not to be used). For the JSON writers. */
int tpm2_appendf(char *out, size_t outlen, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

int tpm2_hex_decode(const char *in, uint8_t *out, size_t outlen);
int tpm2_hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen);

#endif
