/* libFuzzer target: the TDVF metadata parser of `cvminit measure tdx`
 * (tdvf_parse, over the shared OVMF footer-table walk) and MRTD over what it
 * accepted, both page orders. The input is placed at the end of a zeroed
 * image rounded up to 4 KiB, where the footer table lives. Accepted sections
 * are page aligned and their data inside the image; a refusal says why. */
// FUZZ_SRCS: crypto/host/tdx_launch.c crypto/host/ovmf_table.c
// FUZZ_LIBS: -lmbedcrypto
// FUZZ_OPTS: -max_len=8192
#include <errno.h>

#include "crypto/host/tdx_launch.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	size_t len = (size + TDX_PAGE - 1) / TDX_PAGE * TDX_PAGE;
	if (len == 0)
		len = TDX_PAGE;
	uint8_t *img = calloc(1, len);
	if (!img)
		return 0;
	memcpy(img + len - size, data, size);

	struct tdvf t;
	const char *why = NULL;
	if (tdvf_parse(img, len, &t, &why) < 0) {
		FUZZ_ASSERT(why && *why);
	} else {
		uint64_t pages = 0;
		FUZZ_ASSERT(t.nsections >= 1 && t.nsections <= TDVF_MAX_SECTIONS);
		for (unsigned i = 0; i < t.nsections; i++) {
			const struct tdvf_section *s = &t.sec[i];
			FUZZ_ASSERT(s->gpa % TDX_PAGE == 0 && s->mem_size % TDX_PAGE == 0);
			if (s->attributes & TDVF_ATTR_MR_EXTEND)
				FUZZ_ASSERT(s->data_offset <= len && s->mem_size <= len - s->data_offset);
			pages += s->mem_size / TDX_PAGE;
		}
		/* hashing a huge empty section is slow, not wrong: bound the work */
		if (pages <= 4096) {
			uint8_t a[TDX_MR_SIZE], b[TDX_MR_SIZE];
			tdx_mrtd(&t, 0, a);
			tdx_mrtd(&t, 1, b);
		}
	}
	free(img);
	return 0;
}
