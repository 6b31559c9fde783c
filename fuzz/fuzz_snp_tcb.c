/* libFuzzer target: the TCB floor as the cvminit-snp token records it (a
 * string from the host's disk) and as SNP_KEY_MIN_TCB gives it
 * (snp_tcb_parse), and the component order the floor is compared with
 * (snp_tcb_covers). A parsed value prints back as the same 16 digits; the
 * order is reflexive, has 0 as its bottom, and is antisymmetric. */
// FUZZ_SRCS: crypto/snp_params.c init/config.c init/mountopts.c init/partref.c
// FUZZ_OPTS: -max_len=64
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "crypto/snp_params.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	uint64_t v = 0, w = 0;
	char back[17];

	int r = snp_tcb_parse(s, &v);
	FUZZ_ASSERT(r == 0 || r == -EINVAL);
	if (r == 0) {
		snprintf(back, sizeof(back), "%016llx", (unsigned long long)v);
		FUZZ_ASSERT(strcasecmp(back, s) == 0);
		FUZZ_ASSERT(snp_tcb_covers(v, v));
		FUZZ_ASSERT(snp_tcb_covers(v, 0));
		/* a second value after a NUL, when there is one */
		if (size >= 25 && data[16] == 0) {
			for (int i = 0; i < 8; i++)
				w = w << 8 | data[17 + i];
			if (snp_tcb_covers(v, w) && snp_tcb_covers(w, v))
				FUZZ_ASSERT(v == w);
		}
	}
	free(s);
	return 0;
}
