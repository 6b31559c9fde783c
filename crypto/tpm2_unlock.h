#ifndef CVMINIT_TPM2_UNLOCK_H
#define CVMINIT_TPM2_UNLOCK_H

#include <libcryptsetup.h>

#include "crypto/keysource.h"

/* Opens `name` from the systemd-tpm2 token of cd. On a PCR-policy mismatch
 * with ROOT_TPM2_FALLBACK=prompt, asks for `recovery` instead (try_key opens
 * with it). */
int tpm2_unlock(struct boot_ctx *ctx, struct crypt_device *cd, const char *name, const char *dev,
		const struct key_request *recovery, try_key_fn try_key, void *arg);

#endif
