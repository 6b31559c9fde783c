#ifndef CVMINIT_LOG_H
#define CVMINIT_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

/* Console + /dev/kmsg logger. Every line reads "cvminit: <stage>: <msg>".
 * A line the kernel would echo to the console itself (its kmsg level is
 * below console_loglevel) is not written to the console a second time. */

enum log_level { LOG_CRIT = 2, LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

struct cvm_log {
	int console_fd;      /* -1: none */
	int kmsg_fd;         /* -1: none */
	int console_loglevel; /* kernel's; 0 = unknown (kmsg never echoes) */
	int debug;           /* LOG_DEBUG lines shown */
	const char *stage;   /* current stage name */
	struct timespec t0;  /* when the init started (CLOCK_MONOTONIC) */
	char reason[512];    /* why the current stage failed */
};

void log_init(struct cvm_log *log);
/* Opens /dev/console and /dev/kmsg under devdir, reads console_loglevel. */
void log_open(struct cvm_log *log, const char *devdir, const char *procdir);
void log_close(struct cvm_log *log);

void log_line(struct cvm_log *log, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vline(struct cvm_log *log, enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Records why the current stage fails (logged once, by the fatal path) and
 * returns err (a negative errno) so callers can `return log_fail(...)`. */
int log_fail(struct cvm_log *log, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes raw text to the console only (prompts); never to kmsg. */
void log_console_raw(struct cvm_log *log, const char *text);

/* Milliseconds since t0. */
double log_elapsed_ms(const struct cvm_log *log);

#endif
