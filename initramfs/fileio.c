/* File helpers for the initramfs builder: see fileio.h. */
#include "initramfs/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ifs_read_file(const char *path, int nofollow, unsigned char **data, size_t *len,
		  mode_t *mode, char *err, size_t errlen)
{
	*data = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0) {
		int e = errno;
		if (nofollow && e == ELOOP)
			snprintf(err, errlen, "%s: is a symbolic link; give the path of the file itself", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e; /* callers tell a missing file (ENOENT) from other errors */
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s)", path,
			 S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
			 S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "special file");
		close(fd);
		return -1;
	}
	if ((uintmax_t)st.st_size > IFS_FILE_MAX) {
		snprintf(err, errlen, "%s: %jd bytes: too large (newc cpio files must be under 4 GiB)",
			 path, (intmax_t)st.st_size);
		close(fd);
		return -1;
	}
	size_t want = (size_t)st.st_size;
	unsigned char *buf = malloc(want + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	size_t got = 0;
	for (;;) {
		/* Read one byte past the expected size to see the end of file. */
		unsigned char extra;
		unsigned char *dst = got < want ? buf + got : &extra;
		size_t room = got < want ? want - got : 1;
		ssize_t n = read(fd, dst, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (got >= want) {
			snprintf(err, errlen, "%s: grew while being read", path);
			goto fail;
		}
		got += (size_t)n;
	}
	if (got != want) {
		snprintf(err, errlen, "%s: shrank while being read (%zu of %zu bytes)", path, got, want);
		goto fail;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	if (mode)
		*mode = st.st_mode;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}
