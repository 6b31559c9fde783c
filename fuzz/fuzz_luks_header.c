/* libFuzzer target: the LUKS2 header policy (luks_header_check in
 * crypto/luks_header.c) over a header area whose every byte the host
 * chooses. The input is the start of the area (both binary headers and JSON
 * areas, at most 32 KiB), zero-padded to a 288 KiB area (16 KiB headers +
 * 256 KiB keyslots, as `cryptsetup luksFormat --luks2-keyslots-size 256k`
 * makes). The first input byte is the mode: bit 0 set recomputes both
 * checksums after the input is placed (so mutations reach the JSON checks,
 * as a host recomputing the unkeyed checksums would), bit 1 set turns the
 * policy off (structure only). An accepted header must give facts that obey
 * the policy. Linked with the host's json-c and mbedtls. */
// FUZZ_SRCS: crypto/luks_header.c crypto/secret.c
// FUZZ_LIBS: -ljson-c -lmbedcrypto
// FUZZ_OPTS: -max_len=32769
#include <errno.h>

#include <mbedtls/md.h>

#include "crypto/luks_header.h"
#include "fuzz/fuzz.h"

#define AREA (288u * 1024)
static uint8_t area[AREA];

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void fix_checksums(void)
{
	uint64_t hs = be64(area + 8);

	if (hs < 4096 || hs > AREA / 2)
		return;
	for (int n = 0; n < 2; n++) {
		uint8_t *h = area + n * hs;
		memset(h + 448, 0, 64);
		mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), h, hs, h + 448);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct luks_policy pol = { "aes-xts-plain64", 512, AREA, true };
	struct luks_facts f;
	char err[400];

	if (size < 1)
		return 0;
	memset(area, 0, sizeof(area));
	memcpy(area, data + 1, size - 1 < 32768 ? size - 1 : 32768);
	if (data[0] & 1)
		fix_checksums();
	pol.enforce = !(data[0] & 2);
	err[0] = '\0';
	int r = luks_header_check(area, AREA, &pol, &f, err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -EPERM || r == -EIO || r == -ENOMEM);
	FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)));
	if (r < 0) {
		FUZZ_ASSERT(err[0] != '\0' && !f.valid);
		return 0;
	}
	FUZZ_ASSERT(f.valid && strlen(f.uuid) == 36);
	FUZZ_ASSERT(f.hdr_size >= 16384 && 2 * f.hdr_size <= AREA);
	if (pol.enforce) {
		FUZZ_ASSERT(!strcmp(f.cipher, "aes-xts-plain64"));
		FUZZ_ASSERT(f.data_offset == AREA && f.sector_size == 512 && f.key_bytes == 64);
	}
	return 0;
}
