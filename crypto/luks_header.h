#ifndef CVMINIT_LUKS_HEADER_H
#define CVMINIT_LUKS_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The LUKS2 metadata policy. The host owns every byte of p3/p5 and the
 * header checksums are unkeyed, so the header is checked here field by field
 * against what cvminit accepts, on one copy read once; libcryptsetup then
 * uses that very copy as a detached header (crypto/luks.c). */

/* The header area is everything before the data segment: both binary
 * headers, both JSON areas and the keyslot areas. */
#define LUKS_HDR_AREA_MAX (256ull << 20)  /* refused above this, before allocating */
#define LUKS_KEY_BYTES 64                 /* 512-bit volume key (XTS: two AES-256 keys) */

struct luks_policy {
	const char *ciphers;   /* comma-separated segment and keyslot-area ciphers allowed (LUKS_CIPHERS) */
	unsigned sector_size;  /* LUKS_SECTOR_SIZE */
	uint64_t data_offset;  /* LUKS_DATA_OFFSET: the header area's size */
	bool enforce;          /* false only in test builds (MOCK_LUKS_POLICY=off) */
};

/* What the checked copy says; the boot context keeps it (init/context.h). */
struct luks_facts {
	bool valid;
	char uuid[40];
	char cipher[64];       /* segment 0's encryption, e.g. aes-xts-plain64 */
	uint64_t data_offset;  /* bytes */
	uint64_t hdr_size;     /* one binary header + its JSON area */
	unsigned sector_size;
	unsigned key_bytes;
	uint32_t keyslots;     /* bit k set: keyslot k exists */
	uint64_t seqid;
	char copy[64];         /* path of the validated copy on the tmpfs */
};

/* Pure: checks the header area buf[0..len) (len must be pol->data_offset)
 * and fills facts. 0, or -EINVAL/-EMEDIUMTYPE/-EPERM with err naming the
 * field, e.g. "segments.0.encryption is cipher_null-ecb (allowed:
 * aes-xts-plain64)". With pol->enforce false only the structure is checked
 * (both copies, checksums, JSON), not the policy. */
int luks_header_check(const uint8_t *buf, size_t len, const struct luks_policy *pol, struct luks_facts *facts,
		      char *err, size_t errlen);

/* Reads dev's header area ONCE (pol->data_offset bytes, into locked memory),
 * checks it, and writes exactly those bytes to copy_path (mode 0600,
 * overwritten in place; its directory must exist). facts->copy is copy_path. 0 or
 * -errno with err set. Nothing is written when the check fails. */
int luks_header_load(const char *dev, const char *copy_path, const struct luks_policy *pol,
		     struct luks_facts *facts, char *err, size_t errlen);

#endif
