/* The lines `cvminit report verify` and `key wrap` print: one per check that
 * held ("  ok    ..."), notes, and the one line on stderr for the failure. */
#include "tee/host/verify_out.h"

#include <stdarg.h>
#include <stdio.h>

/* ---- output --------------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
void verify_ok(const struct verify_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->quiet)
		return;
	fputs("  ok    ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

__attribute__((format(printf, 2, 3)))
void verify_note(const struct verify_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->quiet)
		return;
	fputs("  note  ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* The one line that explains a failure; returns rc. */
__attribute__((format(printf, 2, 3)))
int verify_fail(int rc, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("cvminit report verify: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rc;
}
