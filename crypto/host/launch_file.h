/* File access shared by the launch-measurement commands (`cvminit measure
 * snp`, `cvminit measure tdx`): a firmware or kernel image mapped read-only
 * (never copied), and a file's digest computed as it is read (kernels and
 * initrds of any size, in constant memory). */
#ifndef CVMINIT_CRYPTO_HOST_LAUNCH_FILE_H
#define CVMINIT_CRYPTO_HOST_LAUNCH_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/md.h>

struct launch_map {
	const uint8_t *data; /* NULL when len is 0 */
	size_t len;
};

/* Map a regular file of at most max bytes. 0, or -errno: -EFBIG when larger
 * than max, -EINVAL when not a regular file. */
int launch_map(const char *path, uint64_t max, struct launch_map *m);
void launch_unmap(struct launch_map *m);

/* The digest (type t: SHA-256 or SHA-384) of a file's bytes, read in
 * blocks. out holds the digest's size. 0, or -errno. */
int launch_file_digest(const char *path, mbedtls_md_type_t t, uint8_t *out);

#endif
