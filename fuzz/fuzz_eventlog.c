/* libFuzzer target: replaying the measurement log (eventlog_replay in
 * crypto/eventlog.c: JSON-SEQ records of CEL-JSON objects), for each PCR the
 * first byte picks and each bank. The rest of the input is the log.
 * Linked with the host's json-c and mbedtls, as the unit tests are. */
// FUZZ_SRCS: crypto/eventlog.c crypto/measure_events.c crypto/tpm2_util.c crypto/secret.c crypto/volume_key.c
// FUZZ_LIBS: -ljson-c -lmbedcrypto
// FUZZ_OPTS: -max_len=8192
#include <errno.h>

#include "crypto/eventlog.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t banks[] = { TPM2_HASH_SHA256, TPM2_HASH_SHA384, TPM2_HASH_SHA1, 0x0001 };
	char err[512];

	if (size < 1)
		return 0;
	unsigned pcr = data[0] % 32; /* > 23 too: must be handled */
	size_t len = size - 1;
	/* Exactly the log's bytes: replay takes (log, len), no terminator. */
	char *log = malloc(len ? len : 1);
	if (!log)
		abort();
	if (len)
		memcpy(log, data + 1, len);
	for (size_t b = 0; b < sizeof(banks) / sizeof(banks[0]); b++) {
		uint8_t value[TPM2_MAX_DIGEST + 8];
		unsigned events = 12345;
		memset(value, 0xa5, sizeof(value));
		err[0] = '\0';
		int r = eventlog_replay(log, len, pcr, banks[b], value, &events, err, sizeof(err));
		FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -EINVAL);
		FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)));
		if (r < 0)
			FUZZ_ASSERT(err[0] != '\0');
		/* Nothing past the largest digest is written. */
		for (size_t i = TPM2_MAX_DIGEST; i < sizeof(value); i++)
			FUZZ_ASSERT(value[i] == 0xa5);
	}
	free(log);
	return 0;
}
