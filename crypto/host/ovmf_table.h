/* OVMF's footer GUID table (edk2 OvmfPkg/ResetVector): the entries a VMM
 * reads at the end of a firmware image to find the SEV metadata, the TDX
 * metadata and the like. Shared by the SEV-SNP and TDX launch predictions. */
#ifndef CVMINIT_CRYPTO_HOST_OVMF_TABLE_H
#define CVMINIT_CRYPTO_HOST_OVMF_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* A GUID as it sits in memory (EFI_GUID, first three fields little endian). */
#define OVMF_GUID(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                                              \
	{ (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, (b) & 0xff, ((b) >> 8) & 0xff, \
	  (c) & 0xff, ((c) >> 8) & 0xff, d0, d1, d2, d3, d4, d5, d6, d7 }

/* Walk the whole table of an image (every entry checked), and find the
 * entry with GUID guid and at least min_len bytes of data; of duplicates the
 * last one walked (the lowest in the image) wins, as in QEMU and
 * sev-snp-measure. 1 found (*d, *dlen set), 0 absent, or -EINVAL with *why
 * (no footer table, or an entry out of range). */
int ovmf_table_find(const uint8_t *img, size_t size, const uint8_t guid[16], size_t min_len, const uint8_t **d,
		    size_t *dlen, const char **why);

#endif
