/* libFuzzer target: mount option strings (mountopts_parse). On success the
 * data string must be terminated, hold only printable ASCII without quotes,
 * and contain no flag word (those become mount(2) flags). */
// FUZZ_SRCS: init/mountopts.c
// FUZZ_OPTS: -max_len=1024
#include <errno.h>

#include "fuzz/fuzz.h"
#include "init/mountopts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *opts = fuzz_cstr(data, size);
	struct mount_opts mo;
	char err[300], words[256];

	err[0] = '\0';
	int r = mountopts_parse(opts, &mo, err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -EINVAL);
	FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)));
	if (r == 0) {
		FUZZ_ASSERT(fuzz_terminated(mo.data, sizeof(mo.data)));
		for (const char *c = mo.data; *c; c++)
			FUZZ_ASSERT(*c > ' ' && *c <= '~' && *c != '"' && *c != '\'');
		FUZZ_ASSERT(mo.data[0] != ',' && !strstr(mo.data, ",,"));
		mountopts_flags_str(mo.flags, words, sizeof(words));
		FUZZ_ASSERT(fuzz_terminated(words, sizeof(words)));
		/* A tiny buffer must still be terminated, never overrun. */
		mountopts_flags_str(mo.flags, words, 3);
		FUZZ_ASSERT(fuzz_terminated(words, 3));
	} else {
		FUZZ_ASSERT(err[0] != '\0');
	}
	free(opts);
	return 0;
}
