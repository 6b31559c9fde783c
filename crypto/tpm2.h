#ifndef CVMINIT_TPM2_H
#define CVMINIT_TPM2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tcti.h>

#include "crypto/secret.h"
#include "crypto/tpm2_token.h"
#include "crypto/tpm2_util.h"

/* TPM 2.0 through tpm2-tss ESYS: open, PCR banks, extend, read, seal and
 * unseal a systemd-tpm2 token. No resource manager is assumed: every
 * transient object and session is flushed on every path.
 *
 * Every function returns 0 or a negative errno and, on failure, writes one
 * line into err (no secret, no secret's length, ever):
 *   -ENODEV  no TPM (device node missing)
 *   -EPERM   the policy does not match: PCR mismatch (PolicyGetDigest differs
 *            from tpm2-policy-hash), or TPM_RC_POLICY_FAIL
 *   -EACCES  wrong PIN (TPM_RC_AUTH_FAIL / TPM_RC_BAD_AUTH; the TPM's
 *            dictionary-attack counter went up)
 *   -EBUSY   the TPM is in dictionary-attack lockout (TPM_RC_LOCKOUT)
 *   -EOPNOTSUPP  a token or request this code does not support
 *   -EINVAL  malformed input; -EIO  any other TPM/TSS failure
 * tpm2-tss's own logging is switched off (TSS2_LOG=all+none is set in the
 * process environment before the first TSS call). */

struct tpm2_ctx;

/* Opens a TPM character device (/dev/tpmrm0, /dev/tpm0) with the device
 * TCTI and runs TPM2_Startup(CLEAR) (already started is fine). */
int tpm2_open_device(const char *path, struct tpm2_ctx **out, char *err, size_t errlen);
/* Same over an initialised TCTI, which it owns from now on (finalised and
 * freed by tpm2_close, or here on failure). The host tool's swtpm opener. */
int tpm2_open_tcti(TSS2_TCTI_CONTEXT *tcti, struct tpm2_ctx **out, char *err, size_t errlen);
void tpm2_close(struct tpm2_ctx *t);
/* Sets TSS2_LOG=all+none (call before initialising a TCTI yourself). */
void tpm2_quiet_tss(void);

/* The PCR banks this TPM has allocated for pcr, limited to the hashes this
 * code knows (sha1, sha256, sha384, sha512), in the TPM's order. */
int tpm2_active_banks(struct tpm2_ctx *t, unsigned pcr, uint16_t *algs, unsigned *count, char *err, size_t errlen);

/* Extends pcr in every active bank with that bank's hash of data, in one
 * TPM2_PCR_Extend; out gets the digests (for the event log). */
int tpm2_extend(struct tpm2_ctx *t, unsigned pcr, const void *data, size_t len, struct tpm2_digests *out, char *err,
		size_t errlen);

/* The same with each bank's HMAC keyed by key (systemd's measurement of a
 * secret, e.g. its volume-key event); key NULL: tpm2_extend. */
int tpm2_extend_keyed(struct tpm2_ctx *t, unsigned pcr, const void *key, size_t keylen, const void *data, size_t len,
		      struct tpm2_digests *out, char *err, size_t errlen);

/* Reads one PCR of one bank (value gets the bank's digest size). */
int tpm2_pcr_read(struct tpm2_ctx *t, unsigned pcr, uint16_t bank, uint8_t *value, char *err, size_t errlen);

/* Unseals a token's key into out (out->cap >= 128). pin: the PIN as typed,
 * required when tok->pin (-EINVAL without), ignored otherwise. The primary is
 * the persistent SRK of tok->srk, or created from systemd's template for
 * tok->primary_alg. Sessions: a policy session (PolicyPCR, + PolicyAuthValue
 * with a PIN) and an HMAC session, both salted with the primary, the HMAC
 * one bound to the sealed object and encrypting the response: the key never
 * crosses the bus in clear. The policy digest is compared with
 * tok->policy_hash before TPM2_Unseal, so a PCR mismatch is -EPERM without
 * touching the dictionary-attack counter. */
int tpm2_unseal(struct tpm2_ctx *t, const struct tpm2_token *tok, const struct secret *pin, struct secret *out,
		char *err, size_t errlen);

struct tpm2_seal_request {
	uint16_t bank;                               /* TPM2_HASH_* */
	uint32_t pcr_mask;                           /* PCRs of the policy (0: none) */
	const uint8_t (*pcr_values)[TPM2_MAX_DIGEST]; /* the values to seal to, one per set bit, ascending */
	uint16_t primary_alg;                        /* TPM2_ASYM_ECC or TPM2_ASYM_RSA */
	bool use_srk;       /* seal under the persistent SRK 0x81000001 (created and persisted when missing)
			       and record it as tpm2_srk, as systemd >= 255 does; else a transient primary
			       from systemd's template, as systemd 252 does */
	const struct secret *pin;                    /* NULL: no PIN */
	const uint8_t *salt;                         /* with a PIN: salt it (tpm2_salt); NULL: plain SHA-256 */
	size_t salt_len;
};

/* Seals key (1..128 bytes) under the policy computed in software from the
 * given PCR values (they need not be the TPM's current ones) and fills tok
 * (everything but keyslot). The sealed object is a keyedhash with
 * fixedTPM|fixedParent, no userWithAuth (only the policy opens it) and no
 * noDA (wrong PINs count towards the TPM's lockout), as systemd makes it. */
int tpm2_seal(struct tpm2_ctx *t, const struct tpm2_seal_request *req, const struct secret *key,
	      struct tpm2_token *tok, char *err, size_t errlen);

#endif
