#ifndef CVMINIT_TPM2_TOKEN_H
#define CVMINIT_TPM2_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The LUKS2 `systemd-tpm2` token, as systemd-cryptenroll writes it (json-c,
 * no TPM). Parsed from systemd 250 .. 261 tokens; what this code cannot
 * honour is refused with -EOPNOTSUPP and a message naming the field, never
 * silently ignored (an ignored policy element would surface later as a
 * misleading "PCR mismatch"). Fixed-size storage: nothing to free. */

#define TPM2_TOKEN_TYPE "systemd-tpm2"
#define TPM2_TOKEN_BLOB_MAX 4096 /* marshalled TPM2B_PRIVATE + TPM2B_PUBLIC */
#define TPM2_TOKEN_SRK_MAX 2048  /* serialized ESYS_TR of the SRK */
#define TPM2_TOKEN_SALT_MAX 64
#define TPM2_TOKEN_JSON_MAX 16384

struct tpm2_token {
	int keyslot;           /* first entry of "keyslots" (the one systemd uses) */
	uint32_t pcr_mask;     /* "tpm2-pcrs": bit n = PCR n */
	uint16_t pcr_bank;     /* "tpm2-pcr-bank" (TPM2_HASH_*); sha256 when absent (systemd < 250) */
	uint16_t primary_alg;  /* "tpm2-primary-alg" (TPM2_ASYM_*); ecc when absent (systemd < 250) */
	bool primary_alg_given;
	bool pin;              /* "tpm2-pin"; false when absent (systemd >= 259 omits false) */
	size_t blob_len;       /* "tpm2-blob" */
	uint8_t blob[TPM2_TOKEN_BLOB_MAX];
	size_t policy_hash_len; /* "tpm2-policy-hash" (hex in JSON) */
	uint8_t policy_hash[64];
	size_t salt_len;       /* "tpm2_salt": the PIN is salted (systemd >= 254); 0 = none */
	uint8_t salt[TPM2_TOKEN_SALT_MAX];
	size_t srk_len;        /* "tpm2_srk": seal under this persistent SRK; 0 = a primary from the template */
	uint8_t srk[TPM2_TOKEN_SRK_MAX];
};

/* Parses one token's JSON (as crypt_token_json_get returns it).
 * 0; -EMEDIUMTYPE when "type" is not systemd-tpm2 (another token: skip it);
 * -EINVAL when malformed; -EOPNOTSUPP for a valid systemd token using what
 * cvminit does not support (signed PCR policies tpm2_pubkey/tpm2_pubkey_pcrs,
 * pcrlock tpm2_pcrlock/tpm2_pcrlock_nv, sharded multi-blob enrollments,
 * unknown tpm2* fields). err says which field and why. */
int tpm2_token_parse(const char *json, struct tpm2_token *tok, char *err, size_t errlen);

/* Formats a token as systemd 252 writes it (same field order, compact,
 * '/' not escaped), plus "tpm2_salt" and "tpm2_srk" when set. Returns the
 * length written into out, -ENOSPC when it does not fit, -EINVAL for a
 * token that could not be parsed back (no blob, bad bank...). */
int tpm2_token_format(const struct tpm2_token *tok, char *out, size_t outlen);

#endif
