#include "init/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init/util.h"

void log_init(struct cvm_log *log)
{
	memset(log, 0, sizeof(*log));
	log->console_fd = -1;
	log->kmsg_fd = -1;
	log->stage = "init";
	clock_gettime(CLOCK_MONOTONIC, &log->t0);
}

void log_open(struct cvm_log *log, const char *devdir, const char *procdir)
{
	char path[256];
	char buf[64];

	if (log->console_fd < 0) {
		snprintf(path, sizeof(path), "%s/console", devdir);
		log->console_fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	}
	if (log->kmsg_fd < 0) {
		snprintf(path, sizeof(path), "%s/kmsg", devdir);
		log->kmsg_fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	}
	/* First field of /proc/sys/kernel/printk is console_loglevel. */
	snprintf(path, sizeof(path), "%s/sys/kernel/printk", procdir);
	if (read_small_file(path, buf, sizeof(buf)) > 0)
		log->console_loglevel = (int)strtol_or(buf, 0);
}

void log_close(struct cvm_log *log)
{
	if (log->console_fd >= 0)
		close(log->console_fd);
	if (log->kmsg_fd >= 0)
		close(log->kmsg_fd);
	log->console_fd = log->kmsg_fd = -1;
}

double log_elapsed_ms(const struct cvm_log *log)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - log->t0.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - log->t0.tv_nsec) / 1e6;
}

void log_vline(struct cvm_log *log, enum log_level level, const char *fmt, va_list ap)
{
	char msg[900];
	char line[1024];
	struct timespec now;
	int n;

	if (level == LOG_DEBUG && !log->debug)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* "root: root: ..." reads badly: a message naming its own stage first
	 * is printed once. */
	size_t sl = strlen(log->stage);
	if (!strncmp(msg, log->stage, sl) && msg[sl] == ':' && msg[sl + 1] == ' ')
		memmove(msg, msg + sl + 2, strlen(msg + sl + 2) + 1);
	/* One record per line: never let a message carry its own newlines. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	int echoed = log->kmsg_fd >= 0 && (int)level < log->console_loglevel;
	if (log->kmsg_fd >= 0) {
		/* Facility "user" (1 << 3) keeps our records apart from the kernel's. */
		n = snprintf(line, sizeof(line), "<%d>cvminit: %s: %s\n", 8 | (int)level, log->stage, msg);
		if (n > 0)
			fd_write_all(log->kmsg_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	if (log->console_fd >= 0 && !echoed) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		n = snprintf(line, sizeof(line), "[%5lld.%06ld] cvminit: %s: %s\n", (long long)now.tv_sec,
			     now.tv_nsec / 1000, log->stage, msg);
		if (n > 0)
			fd_write_all(log->console_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
}

void log_line(struct cvm_log *log, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(log, level, fmt, ap);
	va_end(ap);
}

int log_fail(struct cvm_log *log, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log->reason, sizeof(log->reason), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EIO;
}

void log_console_raw(struct cvm_log *log, const char *text)
{
	if (log->console_fd >= 0)
		fd_write_all(log->console_fd, text, strlen(text));
}
