#ifndef CVMINIT_IMAGE_UTIL_H
#define CVMINIT_IMAGE_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct secret;

/* Runs argv (PATH lookup) with stdin from /dev/null and stdout+stderr into
 * log (truncated), in a fixed environment for reproducible tools: TZ=UTC,
 * LC_ALL=C, E2FSPROGS_FAKE_TIME=epoch, the caller's PATH. On failure prints
 * the log to stderr. 0, or -EIO (non-zero exit) / -errno. */
int image_run(const char *const argv[], const char *log, uint64_t epoch);
/* Like image_run, capturing stdout into out (NUL-terminated, truncated at
 * len - 1); stderr goes to /dev/null. */
int image_run_capture(const char *const argv[], char *out, size_t len);
/* true when prog is found in PATH. */
int image_have(const char *prog);
/* Copies len bytes of src from src_off to dst at dst_off, skipping holes
 * (the destination stays sparse where the source is). 0 or -errno. */
int image_copy_range(int src, uint64_t src_off, int dst, uint64_t dst_off, uint64_t len);
/* Reads a key file into locked memory: first_line: its first line without
 * the newline (a passphrase as typed), else all bytes. 0, or -EINVAL (empty,
 * too large) / -errno. */
int image_read_key(const char *path, int first_line, struct secret *out);

#endif
