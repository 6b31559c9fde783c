/* The KBS's HTTP answer (kbs/http.c): whatever the network delivers. */
// FUZZ_SRCS: kbs/http.c kbs/rcar.c kbs/json.c tee/snp_report.c
// FUZZ_CFLAGS: $(DEPS_CFLAGS)
// FUZZ_LIBS: $(DEPS_RELEASE)/lib/libjson-c.a $(DEPS_RELEASE)/lib/libmbedcrypto.a
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "kbs/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response r;
	const char *why;
	char *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	if (http_parse_response(buf, size, &r, &why) == 0) {
		if (r.body + r.body_len > buf + size || r.status < 200 || r.status > 599)
			abort();
		if (r.has_cookie && strlen(r.cookie) > KBS_COOKIE_MAX)
			abort();
	}
	free(buf);
	return 0;
}
