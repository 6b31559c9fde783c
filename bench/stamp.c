/*
 * bench/stamp.c: the launcher of the bench disk. `make bench` installs it as
 * the new root's /sbin/init (the launcher both inits exec), and the launcher
 * stand-in as /sbin/standin. It notes the moment it was exec'd, then execs
 * the stand-in with the same arguments, so both boots end exactly as the
 * QEMU scenarios do.
 *
 * The moment is taken twice, in the two clocks the bench needs:
 *  - a /dev/kmsg record "bench: launcher exec" written first thing: the
 *    kernel stamps it with the same clock as its own "Run /init as init
 *    process" record, so launcher - run_init is the time from the kernel's
 *    exec of /init to the launcher's exec, for any /init (binary or script);
 *  - CLOCK_MONOTONIC, the clock of cvminit's console timestamps and of the
 *    baseline's (/proc/timer_list "now at"), for the switch_root tail.
 * It then reads the kernel log without blocking and prints one line:
 *
 *   BENCH: stamp mono_ns=N launcher_us=N run_init_us=N unpack_start_us=N unpack_end_us=N
 *
 * (a field the log does not have is -1: unpack_* are the kernel's "Trying to
 * unpack rootfs image as initramfs..." and "Freeing initrd memory" records).
 *
 * Static musl, no other libraries: musl-gcc -static -Os.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MARK "bench: launcher exec"
#define STANDIN "/sbin/standin"

struct found {
	long long launcher, run_init, unpack_start, unpack_end;
};

/* One /dev/kmsg record: "prio,seq,ts_us,flags[,...];message\n[ KEY=val\n]...". */
static void record(const char *rec, struct found *f)
{
	const char *semi = strchr(rec, ';');
	const char *p = rec;
	long long ts;
	char *end;

	if (!semi)
		return;
	for (int field = 0; field < 2; field++) {
		p = strchr(p, ',');
		if (!p || p > semi)
			return;
		p++;
	}
	ts = strtoll(p, &end, 10);
	if (end == p)
		return;
	const char *msg = semi + 1;
	if (!strncmp(msg, MARK, strlen(MARK)))
		f->launcher = ts;
	else if (!strncmp(msg, "Run /init as init process", 25))
		f->run_init = ts;
	else if (!strncmp(msg, "Trying to unpack rootfs image as initramfs", 42))
		f->unpack_start = ts;
	else if (!strncmp(msg, "Freeing initrd memory", 21))
		f->unpack_end = ts;
}

int main(int argc, char **argv)
{
	struct timespec now;
	struct found f = { -1, -1, -1, -1 };
	char rec[8192];
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &now);
	fd = open("/dev/kmsg", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		static const char line[] = "<14>" MARK "\n";
		if (write(fd, line, sizeof(line) - 1) < 0)
			perror("bench stamp: write /dev/kmsg");
		for (;;) {
			ssize_t n = read(fd, rec, sizeof(rec) - 1);
			if (n < 0 && errno == EPIPE)
				continue; /* records overwritten meanwhile: go on with the next */
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* EAGAIN: the end of the log */
			rec[n] = '\0';
			record(rec, &f);
		}
		close(fd);
	}
	FILE *out = fopen("/dev/console", "we");
	if (!out)
		out = stdout;
	fprintf(out, "BENCH: stamp mono_ns=%lld launcher_us=%lld run_init_us=%lld unpack_start_us=%lld unpack_end_us=%lld\n",
		(long long)now.tv_sec * 1000000000LL + now.tv_nsec, f.launcher, f.run_init, f.unpack_start,
		f.unpack_end);
	fflush(out);
	if (out != stdout)
		fclose(out);
	(void)argc;
	execv(STANDIN, argv);
	fprintf(stderr, "bench stamp: exec %s: %s\n", STANDIN, strerror(errno));
	return 127;
}
