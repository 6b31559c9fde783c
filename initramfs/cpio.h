/* Reproducible newc ("070701") cpio archives for the initramfs.
 *
 * A cpio_tree is the set of entries (directories and regular files) the
 * archive will hold. Paths are given absolute ("/etc/cvminit/x") and stored
 * without the leading '/' ("etc/cvminit/x"), as the kernel's own
 * gen_init_cpio and cpio -o from a directory do. Adding a file adds its
 * missing parent directories. cpio_serialize() writes the archive:
 *
 *   - entries sorted bytewise (strcmp) by path, so every parent precedes its
 *     children; inode numbers 1, 2, 3, ... in that order;
 *   - uid 0, gid 0, one fixed mtime for every entry, devmajor/devminor and
 *     rdevmajor/rdevminor 0, check 0;
 *   - directories mode 040755, nlink 2; regular files 0100<perm>, nlink 1;
 *   - header + name padded to a multiple of 4, data padded to a multiple of 4;
 *   - the "TRAILER!!!" entry (all fields 0 except nlink 1 and namesize 11),
 *     then zero bytes up to a multiple of 512, as gen_init_cpio and GNU cpio do.
 * Hex fields are upper case, 8 digits. Nothing else goes into the bytes.
 */
#ifndef CVMINIT_INITRAMFS_CPIO_H
#define CVMINIT_INITRAMFS_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CPIO_NEWC_MAGIC "070701"
#define CPIO_HEADER_SIZE 110
#define CPIO_TRAILER "TRAILER!!!"
#define CPIO_BLOCK 512
#define CPIO_DIR_PERM 0755u
#define CPIO_DIR_NLINK 2u
/* Longest path accepted (without the leading '/'). */
#define CPIO_PATH_MAX 1024

enum cpio_type { CPIO_DIR, CPIO_FILE };

struct cpio_entry {
	char *path;          /* archive name, no leading '/' */
	enum cpio_type type;
	unsigned perm;       /* permission bits, <= 0777 */
	unsigned char *data; /* file contents (owned); NULL for dirs or empty files */
	size_t size;
	char *origin;        /* where it came from, for messages (owned) */
};

struct cpio_tree {
	struct cpio_entry *v;
	size_t n, cap;
};

struct cpio_buf {
	unsigned char *p;
	size_t len, cap;
};

/* Checks an absolute destination path: starts with '/', is not "/" itself,
 * has no empty, "." or ".." component and no trailing '/', uses only
 * printable ASCII without space (0x21-0x7e; so a path is always one word
 * on one line of modules.load), at most CPIO_PATH_MAX bytes.
 * Returns 0 or -1 with a message in err. */
int cpio_path_check(const char *path, char *err, size_t errlen);

/* Adds a directory (and its parents). Adding an existing directory again is
 * fine; a path that is already a file is an error. */
int cpio_add_dir(struct cpio_tree *t, const char *path, char *err, size_t errlen);

/* Adds a regular file. Takes ownership of data (malloc'd, may be NULL when
 * size is 0) whether it succeeds or not. perm must be <= 0777. A path given
 * twice, or a parent that is a file, is an error naming both origins. */
int cpio_add_file(struct cpio_tree *t, const char *path, unsigned perm,
		  unsigned char *data, size_t size, const char *origin,
		  char *err, size_t errlen);

/* Finds an entry by absolute path; NULL when absent. */
const struct cpio_entry *cpio_find(const struct cpio_tree *t, const char *path);

/* Sorts the entries (bytewise by path). cpio_serialize and cpio_list call it. */
void cpio_sort(struct cpio_tree *t);

/* Appends the archive to out. Returns 0, or -1 with a message in err (out of
 * memory, a file too large for newc's 32-bit size). */
int cpio_serialize(struct cpio_tree *t, uint32_t mtime, struct cpio_buf *out,
		   char *err, size_t errlen);

/* One line per entry, sorted: "drwxr-xr-x          0 /dev". */
void cpio_list(struct cpio_tree *t, FILE *out);

void cpio_tree_free(struct cpio_tree *t);
void cpio_buf_free(struct cpio_buf *b);

#endif
