/* The KBS's JSON answers (kbs/rcar.c, kbs/json.c): the challenge, an error
 * answer, and the SNP evidence built from a report the host shaped. */
// FUZZ_SRCS: kbs/rcar.c kbs/json.c tee/snp_report.c
// FUZZ_CFLAGS: $(DEPS_CFLAGS)
// FUZZ_LIBS: $(DEPS_RELEASE)/lib/libjson-c.a $(DEPS_RELEASE)/lib/libmbedcrypto.a
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "kbs/rcar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char nonce[KBS_NONCE_MAX + 1], text[200], err[200];
	const char *why;
	struct kbs_buf b;

	if (kbs_parse_challenge((const char *)data, size, nonce, &why) == 0 && strlen(nonce) > KBS_NONCE_MAX)
		abort();
	kbs_problem_text((const char *)data, size, text, sizeof(text));
	for (const char *c = text; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			abort();
	kbs_buf_init(&b, 1 << 20);
	if (size > 0x4A0)
		kbs_snp_evidence(data, 0x4A0, data + 0x4A0, size - 0x4A0, &b, err, sizeof(err));
	kbs_buf_free(&b);
	return 0;
}
