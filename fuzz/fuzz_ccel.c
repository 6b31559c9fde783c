/* libFuzzer target: the CCEL event-log parser and replayer of `cvminit
 * measure tdx-replay` (ccel_replay). Every event the callback sees has its
 * data inside the log and an RTMR index; a refusal says why and where. */
// FUZZ_SRCS: crypto/host/ccel.c
// FUZZ_LIBS: -lmbedcrypto
// FUZZ_OPTS: -max_len=16384
#include "crypto/host/ccel.h"
#include "fuzz/fuzz.h"

struct span {
	const uint8_t *log;
	size_t len;
};

static int check(const struct ccel_event *e, void *ctx)
{
	const struct span *s = ctx;

	FUZZ_ASSERT(e->mr_index >= 1 && e->mr_index <= CCEL_RTMRS);
	FUZZ_ASSERT(e->data >= s->log && e->data_size <= s->len - (size_t)(e->data - s->log));
	FUZZ_ASSERT(ccel_event_type_name(e->type) || 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *log = malloc(size ? size : 1), rtmr[CCEL_RTMRS][CCEL_MR_SIZE];
	struct span s = { log, size };
	const char *why = NULL;
	size_t at = 0;
	unsigned n;

	if (!log)
		return 0;
	memcpy(log, data, size);
	if (ccel_replay(log, size, rtmr, &n, check, &s, &why, &at) < 0)
		FUZZ_ASSERT(why && *why && at <= size);
	free(log);
	return 0;
}
