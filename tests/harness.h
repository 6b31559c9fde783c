/* Minimal unit-test harness: each test program prints one TAP-style line per
 * case ("ok - unit/<suite>/<case>" or "not ok - ..."), and exits non-zero when
 * any case failed. tests/check.sh counts the lines for the summary. */
#ifndef CVMINIT_TEST_HARNESS_H
#define CVMINIT_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct th_state {
	const char *suite;
	const char *name;
	int case_failed;
	int passed;
	int failed;
};

extern struct th_state th;

#define TH_DEFINE(suite_name) struct th_state th = { .suite = (suite_name) }

#define TH_FAIL(...)                                                          \
	do {                                                                  \
		fprintf(stderr, "# %s:%d: ", __FILE__, __LINE__);             \
		fprintf(stderr, __VA_ARGS__);                                 \
		fputc('\n', stderr);                                          \
		th.case_failed = 1;                                           \
	} while (0)

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond))                                                  \
			TH_FAIL("check failed: %s", #cond);                   \
	} while (0)

#define CHECK_INT(got, want)                                                  \
	do {                                                                  \
		long long g_ = (long long)(got), w_ = (long long)(want);      \
		if (g_ != w_)                                                 \
			TH_FAIL("%s == %lld, want %lld", #got, g_, w_);       \
	} while (0)

#define CHECK_STR(got, want)                                                  \
	do {                                                                  \
		const char *g_ = (got), *w_ = (want);                         \
		if (!g_ || !w_ || strcmp(g_, w_) != 0)                        \
			TH_FAIL("%s == \"%s\", want \"%s\"", #got,            \
				g_ ? g_ : "(null)", w_ ? w_ : "(null)");      \
	} while (0)

#define CHECK_MEM(got, want, len)                                             \
	do {                                                                  \
		if (memcmp((got), (want), (len)) != 0)                        \
			TH_FAIL("%s differs from %s", #got, #want);           \
	} while (0)

/* Runs one case: TEST(fn) calls static void fn(void). */
#define TEST(fn)                                                              \
	do {                                                                  \
		th.name = #fn;                                                \
		th.case_failed = 0;                                           \
		fn();                                                         \
		printf("%s - unit/%s/%s\n", th.case_failed ? "not ok" : "ok", \
		       th.suite, #fn);                                        \
		fflush(stdout);                                               \
		if (th.case_failed)                                           \
			th.failed++;                                          \
		else                                                          \
			th.passed++;                                          \
	} while (0)

#define TH_END() (th.failed ? 1 : 0)

#define CHECK_CONTAINS(text, needle)                                          \
	do {                                                                  \
		const char *t_ = (text), *n_ = (needle);                      \
		if (!strstr(t_, n_))                                          \
			TH_FAIL("\"%s\" missing from:\n%s", n_, t_);         \
	} while (0)

/* Writes a fixture file; a failure fails the current case. */
static inline void th_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		TH_FAIL("cannot write %s", path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

/* Lower-case hex of exactly n bytes into out: 0, or -1. */
static inline int th_unhex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		const char *d = strchr("0123456789abcdef", s[i]);
		if (!s[i] || !d)
			return -1;
		int v = (int)(d - "0123456789abcdef");
		out[i / 2] = (unsigned char)(i % 2 ? (out[i / 2] | v) : (v << 4));
	}
	return 0;
}

/* A fixed-size byte field equals the hex given. */
#define CHECK_HEX(field, hex)                                                 \
	do {                                                                  \
		unsigned char want_[sizeof(field)];                           \
		if (th_unhex((hex), want_, sizeof(field)))                    \
			TH_FAIL("bad test hex for %s", #field);               \
		else                                                          \
			CHECK_MEM(field, want_, sizeof(field));               \
	} while (0)

static inline int th_is_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

#endif
