#include "image/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/secret.h"

static void child_env(uint64_t epoch)
{
	const char *path = getenv("PATH");
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	clearenv();
	/* sbin: mkfs.ext4, sgdisk, debugfs live there on Debian */
	if (!strstr(buf, "sbin"))
		strncat(buf, ":/usr/sbin:/sbin", sizeof(buf) - strlen(buf) - 1);
	setenv("PATH", buf, 1);
	setenv("TZ", "UTC", 1);
	setenv("LC_ALL", "C", 1);
	if (epoch) {
		char e[32];
		snprintf(e, sizeof(e), "%llu", (unsigned long long)epoch);
		setenv("E2FSPROGS_FAKE_TIME", e, 1);
		setenv("SOURCE_DATE_EPOCH", e, 1);
	}
}

static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

int image_run(const char *const argv[], const char *log, uint64_t epoch)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	pid_t pid;
	int r;

	if (fd < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		child_env(epoch);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	r = wait_child(pid);
	if (r < 0) {
		char buf[4096];
		ssize_t n;
		fd = open(log, O_RDONLY | O_CLOEXEC);
		fprintf(stderr, "cvminit image: %s failed:\n", argv[0]);
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stderr);
		if (fd >= 0)
			close(fd);
	}
	return r;
}

int image_run_capture(const char *const argv[], char *out, size_t len)
{
	int p[2];
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		child_env(0);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, len - 1 - got)) > 0 && got + (size_t)n < len - 1)
		got += (size_t)n;
	if (n > 0)
		got += (size_t)n;
	out[got] = '\0';
	/* drain what did not fit */
	char sink[4096];
	while (read(p[0], sink, sizeof(sink)) > 0)
		;
	close(p[0]);
	return wait_child(pid);
}

int image_have(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096], file[4200];

	snprintf(buf, sizeof(buf), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", d, prog);
		if (access(file, X_OK) == 0)
			return 1;
	}
	return 0;
}

static int copy_data(int src, uint64_t from, int dst, uint64_t to, uint64_t len)
{
	static char buf[1 << 20];

	/* in the kernel first (no copy through user space; a reflink where the
	 * file system can), then read/write */
	while (len) {
		loff_t in = (loff_t)from, out = (loff_t)to;
		ssize_t n = copy_file_range(src, &in, dst, &out, (size_t)(len < (1u << 30) ? len : (1u << 30)), 0);
		if (n <= 0)
			break;
		from += (uint64_t)n;
		to += (uint64_t)n;
		len -= (uint64_t)n;
	}
	while (len) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = pread(src, buf, want, (off_t)from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = pwrite(dst, buf + done, (size_t)(n - done), (off_t)(to + (uint64_t)done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? -errno : -EIO;
			done += w;
		}
		from += (uint64_t)n;
		to += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int image_copy_range(int src, uint64_t src_off, int dst, uint64_t dst_off, uint64_t len)
{
	uint64_t pos = src_off, end = src_off + len;

	while (pos < end) {
		off_t data = lseek(src, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			return 0; /* only holes are left */
		if (data < 0) /* no SEEK_DATA here: copy everything */
			return copy_data(src, pos, dst, dst_off + (pos - src_off), end - pos);
		if ((uint64_t)data >= end)
			return 0;
		off_t hole = lseek(src, data, SEEK_HOLE);
		uint64_t stop = hole < 0 || (uint64_t)hole > end ? end : (uint64_t)hole;
		int r = copy_data(src, (uint64_t)data, dst, dst_off + ((uint64_t)data - src_off), stop - (uint64_t)data);
		if (r < 0)
			return r;
		pos = stop;
	}
	return 0;
}

int image_read_key(const char *path, int first_line, struct secret *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t len = 0;
	char extra;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, out->data + len, out->cap - len)) > 0) {
		len += (size_t)n;
		if (len == out->cap)
			break;
	}
	if (n >= 0 && len == out->cap && read(fd, &extra, 1) > 0)
		n = -1, errno = EFBIG;
	close(fd);
	if (n < 0) {
		int e = errno;
		out->len = len;
		secret_clear(out);
		out->len = 0;
		return -e;
	}
	if (first_line) {
		uint8_t *nl = memchr(out->data, '\n', len);
		if (nl) {
			explicit_bzero(nl, len - (size_t)(nl - out->data));
			len = (size_t)(nl - out->data);
		}
	}
	out->len = len;
	return len ? 0 : -EINVAL;
}
