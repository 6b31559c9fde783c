#ifndef CVMINIT_UTIL_H
#define CVMINIT_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Small I/O helpers shared by the init's stages. */

/* Writes everything, retrying on EINTR/short writes. 0 or -errno. */
int fd_write_all(int fd, const void *buf, size_t len);
/* Reads up to len-1 bytes and NUL-terminates. Returns bytes read or -errno. */
ssize_t read_small_file(const char *path, char *buf, size_t len);
/* Reads a whole file (at most max bytes) into a malloc'd NUL-terminated
 * buffer. -EFBIG when larger than max. */
int read_file_max(const char *path, size_t max, char **out, size_t *out_len);
/* Parses a decimal integer prefix; returns def when there is none. */
long strtol_or(const char *s, long def);
/* Strips trailing whitespace/newlines in place. */
void rstrip(char *s);
/* snprintf that reports truncation: 0 or -ENAMETOOLONG. */
int path_join(char *out, size_t len, const char *a, const char *b)
	__attribute__((warn_unused_result));
/* mkdir -p with mode, refusing symlinks on the way: 0 or -errno. */
int mkdir_p_nofollow(const char *path, mode_t mode);

#endif
