/* Known answers of the TPM2 tests (tests/data/tpm2/known-answers.txt,
 * KEY=hex lines, made by tests/data/tpm2/gen-known-answers.py). */
#ifndef CVMINIT_TESTS_TPM2_KA_H
#define CVMINIT_TESTS_TPM2_KA_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/tpm2_util.h"
#include "tests/harness.h"

/* KEY's value as bytes: the byte count, or -1 (and the case fails). */
static inline int ka(const char *key, uint8_t *out, size_t max)
{
	FILE *f = fopen("tests/data/tpm2/known-answers.txt", "r");
	static char line[8192];
	size_t klen = strlen(key);
	int n = -1;

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (!strncmp(line, key, klen) && line[klen] == '=') {
				n = tpm2_hex_decode(line + klen + 1, out, max);
				break;
			}
		}
		fclose(f);
	}
	if (n < 0)
		TH_FAIL("known answer %s missing", key);
	return n;
}

#endif
