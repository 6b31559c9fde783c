/* libFuzzer target: the measurements.json reader (measurements_parse in
 * tee/host/measurements.c), what `key wrap --measurements` and `report
 * verify --measurements` read. Besides no crash: an accepted document
 * yields a measurement for every TEE object it says is present, and a
 * refusal always says why. Linked with the host's json-c and mbedtls. */
// FUZZ_SRCS: tee/host/measurements.c crypto/tpm2_util.c crypto/secret.c
// FUZZ_LIBS: -ljson-c -lmbedcrypto
// FUZZ_OPTS: -max_len=8192
#include <errno.h>

#include "fuzz/fuzz.h"
#include "tee/host/measurements.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct measurements m;
	char err[256];

	err[0] = '\0';
	int r = measurements_parse((const char *)data, size, &m, err, sizeof(err));
	if (r == 0) {
		if ((m.snp.present && !m.snp.has_measurement) || (m.tdx.present && !m.tdx.has_measurement))
			__builtin_trap();
	} else if (r != -EINVAL && r != -ENOMEM) {
		__builtin_trap();
	} else if (!err[0] || !memchr(err, '\0', sizeof(err))) {
		__builtin_trap();
	}
	return 0;
}
