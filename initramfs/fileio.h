/* Small file helpers for the initramfs builder. */
#ifndef CVMINIT_INITRAMFS_FILEIO_H
#define CVMINIT_INITRAMFS_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Largest file read into an initramfs (newc sizes are 32-bit). */
#define IFS_FILE_MAX 0xFFFFFFFFu

/* Reads a whole regular file into a malloc'd buffer (NUL-terminated, the NUL
 * not counted in *len). With nofollow, a symbolic link as the last path
 * component is refused (directories above it may be links). Anything but a
 * regular file (directory, device, FIFO, socket) is refused; a file whose
 * size changes while it is read is refused. *mode gets st_mode (may be NULL).
 * Returns 0, or -1 with a message naming the file in err (errno is kept
 * from a failed open, so ENOENT means the file does not exist). */
int ifs_read_file(const char *path, int nofollow, unsigned char **data, size_t *len,
		  mode_t *mode, char *err, size_t errlen);

#endif
