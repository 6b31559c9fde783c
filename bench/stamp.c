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
 * unpack rootfs image as initramfs..." and "Freeing initrd memory" records),
 * then one line per device-mapper device the init left, so the bench can
 * check that every variant (cvminit, the baseline, the dracut and
 * initramfs-tools anchors, whose mounts legitimately differ) opened all four
 * protected volumes and that they read:
 *
 *   BENCH: dm NAME TYPE read=ok|<error>
 *
 * (NAME from /sys/block/dm-N/dm/name, TYPE the first two fields of its dm
 * UUID, e.g. CRYPT-VERITY or CRYPT-LUKS2 for libcryptsetup's devices; the
 * read is the first 4 KiB of /dev/dm-N, through dm-verity or dm-crypt).
 *
 * Static musl, no other libraries: musl-gcc -static -Os.
 */
#include <dirent.h>
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

/* The first line of a sysfs file, without its newline ("" when unreadable). */
static void sysfs_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static void report_dm(FILE *out)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;

	if (!d) {
		fprintf(out, "BENCH: dm error /sys/block: %s\n", strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		char path[512], name[256], uuid[256], type[64], block[4096];
		const char *status = "ok";

		if (strncmp(e->d_name, "dm-", 3))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/dm/name", e->d_name);
		sysfs_line(path, name, sizeof(name));
		snprintf(path, sizeof(path), "/sys/block/%s/dm/uuid", e->d_name);
		sysfs_line(path, uuid, sizeof(uuid));
		/* "CRYPT-LUKS2-<uuid>-<name>" -> "CRYPT-LUKS2" */
		size_t n = strcspn(uuid, "-");
		if (uuid[n] == '-')
			n += 1 + strcspn(uuid + n + 1, "-");
		snprintf(type, sizeof(type), "%.*s", (int)n, uuid);
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			status = strerror(errno);
		else {
			ssize_t r = read(fd, block, sizeof(block));
			if (r < 0)
				status = strerror(errno);
			else if (r != (ssize_t)sizeof(block))
				status = "short";
			close(fd);
		}
		fprintf(out, "BENCH: dm %s %s read=%s\n", name[0] ? name : "?", type[0] ? type : "-", status);
	}
	closedir(d);
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
	report_dm(out);
	fflush(out);
	if (out != stdout)
		fclose(out);
	(void)argc;
	execv(STANDIN, argv);
	fprintf(stderr, "bench stamp: exec %s: %s\n", STANDIN, strerror(errno));
	return 127;
}
