#ifndef CVMINIT_SNP_KEY_H
#define CVMINIT_SNP_KEY_H

#include <libcryptsetup.h>

#include "init/context.h"

/* Key source "snp-derived" for p3: SNP_GET_DERIVED_KEY with the measured
 * configuration's parameters, HKDF-SHA256 with a fixed label, base64 as the
 * LUKS2 passphrase. A LUKS2 token "cvminit-snp" records the parameters
 * (never the key). With ROOT_ENROLL=yes the one-time provisioning
 * passphrase is replaced by the derived key, in steps that survive a power
 * cut between any two of them (see crypto/README.md). Activates `name`. */
int snp_unlock(struct boot_ctx *ctx, struct crypt_device *cd, const char *name, const char *dev);

#define SNP_TOKEN_TYPE "cvminit-snp"
#define SNP_HKDF_LABEL "cvminit snp-derived LUKS2 passphrase v1"

#endif
