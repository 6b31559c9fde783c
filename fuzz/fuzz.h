/* Helpers shared by the libFuzzer targets in fuzz/ (see fuzz/README.md).
 *
 * Each fuzz/fuzz_NAME.c defines LLVMFuzzerTestOneInput and names the project
 * sources it links in one comment line that tests/quality.mk reads:
 *     // FUZZ_SRCS: init/config.c init/mountopts.c
 * (make variables such as $(KCONFIG_EMBED) are expanded), and optionally
 *     // FUZZ_CFLAGS: -DCVMINIT_TEST_BUILD
 *     // FUZZ_LIBS: -ljson-c                 (libraries)
 *     // FUZZ_OPTS: -max_len=16384          (libFuzzer flags for every run)
 * A dictionary fuzz/dict/NAME.dict is used when it exists. */
#ifndef CVMINIT_FUZZ_H
#define CVMINIT_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property the code under test promises was broken: report and crash, so
 * libFuzzer keeps the input as a failure. */
#define FUZZ_ASSERT(cond)                                                                 \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz: %s:%d: property failed: %s\n", __FILE__,  \
				__LINE__, #cond);                                         \
			abort();                                                          \
		}                                                                         \
	} while (0)

/* A malloc'd NUL-terminated copy of the input (an exact-size copy, so that
 * AddressSanitizer sees any read past the terminator). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* /dev/null as a FILE, for code that prints reports or warnings. */
static inline FILE *fuzz_devnull(void)
{
	static FILE *f;
	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

/* True when the NUL-terminated s fits its buffer: used to check that a
 * fixed-size output field is terminated. */
static inline int fuzz_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

#endif
