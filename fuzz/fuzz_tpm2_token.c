/* libFuzzer target: the LUKS2 systemd-tpm2 token JSON (tpm2_token_parse in
 * crypto/tpm2_token.c), read from the LUKS2 header on the disk, i.e. under
 * the control of whoever can write the disk. A token that parses must
 * survive the round trip: tpm2_token_format, then parse again, gives the same
 * token. Linked with the host's json-c and mbedtls, as the unit tests are. */
// FUZZ_SRCS: crypto/tpm2_token.c crypto/tpm2_util.c crypto/secret.c
// FUZZ_LIBS: -ljson-c -lmbedcrypto
// FUZZ_OPTS: -max_len=16384
#include <errno.h>

#include "crypto/tpm2_token.h"
#include "fuzz/fuzz.h"

static struct tpm2_token tok, again;
static char text[TPM2_TOKEN_JSON_MAX + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *json = fuzz_cstr(data, size);

	memset(&tok, 0, sizeof(tok));
	err[0] = '\0';
	int r = tpm2_token_parse(json, &tok, err, sizeof(err));
	free(json);
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -EOPNOTSUPP || r == -EMEDIUMTYPE);
	FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)));
	if (r != 0) {
		FUZZ_ASSERT(err[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(tok.blob_len <= sizeof(tok.blob) && tok.salt_len <= sizeof(tok.salt) &&
		    tok.srk_len <= sizeof(tok.srk) && tok.policy_hash_len <= sizeof(tok.policy_hash));
	int n = tpm2_token_format(&tok, text, sizeof(text));
	if (n == -ENOSPC)
		return 0;
	FUZZ_ASSERT(n > 0 && (size_t)n < sizeof(text) && strlen(text) == (size_t)n);
	memset(&again, 0, sizeof(again));
	r = tpm2_token_parse(text, &again, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "fuzz: formatted token does not parse (%d: %s): %s\n", r, err, text);
		abort();
	}
	FUZZ_ASSERT(again.keyslot == tok.keyslot && again.pcr_mask == tok.pcr_mask &&
		    again.pcr_bank == tok.pcr_bank && again.primary_alg == tok.primary_alg &&
		    again.pin == tok.pin);
	FUZZ_ASSERT(again.blob_len == tok.blob_len && !memcmp(again.blob, tok.blob, tok.blob_len));
	FUZZ_ASSERT(again.policy_hash_len == tok.policy_hash_len &&
		    !memcmp(again.policy_hash, tok.policy_hash, tok.policy_hash_len));
	FUZZ_ASSERT(again.salt_len == tok.salt_len && !memcmp(again.salt, tok.salt, tok.salt_len));
	FUZZ_ASSERT(again.srk_len == tok.srk_len && !memcmp(again.srk, tok.srk, tok.srk_len));
	return 0;
}
