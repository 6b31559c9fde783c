/* libFuzzer target: /proc/swaps text (swaps_parse in init/harden.c). The
 * stage reads at most 8191 bytes of it. Every returned path must be
 * non-empty and terminated, and the count must respect the maximum. */
// FUZZ_SRCS: init/harden.c init/util.c init/log.c init/config.c init/mountopts.c init/partref.c
// FUZZ_OPTS: -max_len=8191
#include <errno.h>

#include "fuzz/fuzz.h"
#include "init/harden.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	static char paths[SWAPS_MAX][256];
	int max = SWAPS_MAX;

	/* The first byte also picks a smaller maximum now and then. */
	if (size && data[0] == '!')
		max = 1;
	memset(paths, 0x5a, sizeof(paths));
	int n = swaps_parse(text, paths, max);
	FUZZ_ASSERT(n == -E2BIG || (n >= 0 && n <= max));
	for (int i = 0; i < n; i++) {
		FUZZ_ASSERT(fuzz_terminated(paths[i], sizeof(paths[i])));
		/* Known (reported): "\000" decodes to a NUL, so such a path comes
		 * back empty or cut short. The kernel never writes it. */
		FUZZ_ASSERT(paths[i][0] != '\0' || strstr(text, "\\000"));
	}
	free(text);
	return 0;
}
