/* See ovmf_table.h. The layout is edk2's (OvmfPkg/ResetVector/Ia16/
 * ResetVectorVtf0.asm): the table's own entry (u16 length, footer GUID) ends
 * 32 bytes before the image's end; entries precede it, each its data, then
 * u16 length (data + 18), then its GUID. No library reads it. */
#include "crypto/host/ovmf_table.h"

#include <errno.h>
#include <string.h>

/* 96b582de-1fb2-45f7-baea-a366c55a082d */
static const uint8_t guid_footer[16] = OVMF_GUID(0x96b582de, 0x1fb2, 0x45f7, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d);

static size_t le16(const uint8_t *p) { return (size_t)(p[0] | p[1] << 8); }

int ovmf_table_find(const uint8_t *img, size_t size, const uint8_t guid[16], size_t min_len, const uint8_t **d,
		    size_t *dlen, const char **why)
{
	const size_t hdr = 18;
	int found = 0;

	if (size < 32 + hdr || memcmp(img + size - 32 - hdr + 2, guid_footer, 16)) {
		*why = "no OVMF footer table (not an OVMF build, or truncated)";
		return -EINVAL;
	}
	size_t foot = size - 32 - hdr, tlen = le16(img + foot);
	if (tlen < hdr || tlen - hdr > foot) {
		*why = "OVMF footer table length out of range";
		return -EINVAL;
	}
	size_t start = foot - (tlen - hdr), end = foot;
	while (end - start >= hdr) {
		const uint8_t *e = img + end - hdr;
		size_t elen = le16(e);
		if (elen < hdr || elen > end - start) {
			*why = "OVMF footer table entry length out of range";
			return -EINVAL;
		}
		if (!memcmp(e + 2, guid, 16) && elen - hdr >= min_len) {
			*d = img + end - elen;
			*dlen = elen - hdr;
			found = 1;
		}
		end -= elen;
	}
	return found;
}
