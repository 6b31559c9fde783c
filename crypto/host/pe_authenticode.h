/* The Authenticode digest of a PE/COFF image (a Linux bzImage with its EFI
 * stub), as UEFI firmware measures an EFI application it loads (edk2's
 * measured boot: EV_EFI_BOOT_SERVICES_APPLICATION). */
#ifndef CVMINIT_CRYPTO_HOST_PE_AUTHENTICODE_H
#define CVMINIT_CRYPTO_HOST_PE_AUTHENTICODE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/md.h>

/* Digest type t (SHA-256 or SHA-384) of img into out (the digest's size).
 * 0, or -EINVAL with *why (not a PE image, a header or section out of the
 * file's bounds). Reads only inside img[0..len). */
int pe_authenticode(const uint8_t *img, size_t len, mbedtls_md_type_t t, uint8_t *out, const char **why);

#endif
