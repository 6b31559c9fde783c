#ifndef CVMINIT_TEE_HOST_VERIFY_OUT_H
#define CVMINIT_TEE_HOST_VERIFY_OUT_H

#include "tee/host/report.h"

/* One line per check that held, unless o->quiet. */
__attribute__((format(printf, 2, 3))) void verify_ok(const struct verify_opts *o, const char *fmt, ...);
/* A note: something not checked, or accepted by an option. */
__attribute__((format(printf, 2, 3))) void verify_note(const struct verify_opts *o, const char *fmt, ...);
/* The one line on stderr that explains a failure; returns rc. */
__attribute__((format(printf, 2, 3))) int verify_fail(int rc, const char *fmt, ...);

#endif
