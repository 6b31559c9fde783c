/* libFuzzer target: the reproducible newc cpio writer (initramfs/cpio.c),
 * round trip. The input is a list of operations that build a tree; the
 * archive written from it is read back by the independent newc reader below,
 * and must hold exactly the tree's entries, in the promised layout (cpio.h).
 *
 * Input: records until the end:
 *   byte    op: even = directory, odd = file
 *   byte    path length L (the path is stored without its leading '/')
 *   L bytes path
 *   file only: 2 bytes permission (little endian, & 07777: > 0777 must be
 *              refused), 1 byte data length D, D bytes data
 * The first 4 bytes are the mtime. */
// FUZZ_SRCS: initramfs/cpio.c
// FUZZ_OPTS: -max_len=4096
#include <stdbool.h>

#include "fuzz/fuzz.h"
#include "initramfs/cpio.h"

struct rd {
	const unsigned char *p;
	size_t len, off;
};

static bool hex8(const unsigned char *p, uint32_t *v)
{
	uint32_t r = 0;
	for (int i = 0; i < 8; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		r = r << 4 | d;
	}
	*v = r;
	return true;
}

/* Reads one entry; fields: ino mode uid gid nlink mtime size devmaj devmin
 * rdevmaj rdevmin namesize check. */
static void read_entry(struct rd *r, uint32_t f[13], const char **name, const unsigned char **body)
{
	FUZZ_ASSERT(r->off % 4 == 0 && r->off + CPIO_HEADER_SIZE <= r->len);
	FUZZ_ASSERT(!memcmp(r->p + r->off, CPIO_NEWC_MAGIC, 6));
	for (int i = 0; i < 13; i++)
		FUZZ_ASSERT(hex8(r->p + r->off + 6 + 8 * i, &f[i]));
	r->off += CPIO_HEADER_SIZE;
	FUZZ_ASSERT(f[11] >= 2 && r->off + f[11] <= r->len);
	*name = (const char *)r->p + r->off;
	FUZZ_ASSERT(r->p[r->off + f[11] - 1] == '\0' && strlen(*name) == f[11] - 1);
	r->off += f[11];
	for (; r->off % 4; r->off++)
		FUZZ_ASSERT(r->off < r->len && r->p[r->off] == 0);
	FUZZ_ASSERT(r->off + f[6] <= r->len);
	*body = r->p + r->off;
	r->off += f[6];
	for (; r->off % 4; r->off++)
		FUZZ_ASSERT(r->off < r->len && r->p[r->off] == 0);
	FUZZ_ASSERT(f[2] == 0 && f[3] == 0 && f[7] == 0 && f[8] == 0 && f[9] == 0 && f[10] == 0 &&
		    f[12] == 0);
}

static void check_archive(struct cpio_tree *t, const struct cpio_buf *b, uint32_t mtime)
{
	struct rd r = { b->p, b->len, 0 };
	const char *prev = NULL;

	FUZZ_ASSERT(b->len % CPIO_BLOCK == 0);
	for (size_t i = 0;; i++) {
		uint32_t f[13];
		const char *name;
		const unsigned char *body;
		read_entry(&r, f, &name, &body);
		if (!strcmp(name, CPIO_TRAILER)) {
			FUZZ_ASSERT(i == t->n);
			FUZZ_ASSERT(f[0] == 0 && f[1] == 0 && f[4] == 1 && f[5] == 0 && f[6] == 0);
			break;
		}
		FUZZ_ASSERT(i < t->n);
		FUZZ_ASSERT(f[0] == i + 1);
		FUZZ_ASSERT(f[5] == mtime);
		FUZZ_ASSERT(!prev || strcmp(prev, name) < 0);
		prev = name;
		/* Every parent directory came earlier. */
		const char *slash = strrchr(name, '/');
		if (slash) {
			char parent[CPIO_PATH_MAX + 2];
			snprintf(parent, sizeof(parent), "/%.*s", (int)(slash - name), name);
			const struct cpio_entry *pe = cpio_find(t, parent);
			FUZZ_ASSERT(pe && pe->type == CPIO_DIR && strcmp(pe->path, name) < 0);
		}
		char abs[CPIO_PATH_MAX + 2];
		snprintf(abs, sizeof(abs), "/%s", name);
		const struct cpio_entry *e = cpio_find(t, abs);
		FUZZ_ASSERT(e != NULL);
		if (e->type == CPIO_DIR) {
			FUZZ_ASSERT(f[1] == (0040000u | CPIO_DIR_PERM) && f[4] == CPIO_DIR_NLINK && f[6] == 0);
		} else {
			FUZZ_ASSERT(f[1] == (0100000u | e->perm) && f[4] == 1 && f[6] == e->size);
			FUZZ_ASSERT(!e->size || !memcmp(body, e->data, e->size));
		}
	}
	for (; r.off < r.len; r.off++)
		FUZZ_ASSERT(r.p[r.off] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpio_tree t = { 0 };
	struct cpio_buf b = { 0 };
	char err[2048], path[CPIO_PATH_MAX + 300];
	size_t i = 4;

	if (size < 4)
		return 0;
	uint32_t mtime = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
			 (uint32_t)data[3] << 24;
	while (i + 2 <= size) {
		int file = data[i] & 1;
		size_t l = data[i + 1];
		i += 2;
		if (i + l > size)
			break;
		path[0] = '/';
		memcpy(path + 1, data + i, l);
		path[l + 1] = '\0';
		i += l;
		if (strlen(path) != l + 1)
			continue; /* a NUL inside: not a C string path */
		if (!file) {
			int r = cpio_add_dir(&t, path, err, sizeof(err));
			if (r == 0) {
				const struct cpio_entry *e = cpio_find(&t, path);
				FUZZ_ASSERT(e && e->type == CPIO_DIR);
			}
			continue;
		}
		if (i + 3 > size)
			break;
		unsigned perm = (unsigned)(data[i] | data[i + 1] << 8) & 07777u;
		size_t dl = data[i + 2];
		i += 3;
		if (i + dl > size)
			dl = size - i;
		unsigned char *copy = dl ? malloc(dl) : NULL;
		if (dl && !copy)
			abort();
		if (dl)
			memcpy(copy, data + i, dl);
		i += dl;
		int r = cpio_add_file(&t, path, perm, copy, dl, "fuzz", err, sizeof(err));
		if (perm > 0777)
			FUZZ_ASSERT(r != 0);
		if (r == 0) {
			const struct cpio_entry *e = cpio_find(&t, path);
			FUZZ_ASSERT(e && e->type == CPIO_FILE && e->size == dl && e->perm == perm);
		}
	}
	/* Every entry's path passes the path check it was admitted by. */
	for (size_t k = 0; k < t.n; k++) {
		char abs[CPIO_PATH_MAX + 2];
		snprintf(abs, sizeof(abs), "/%s", t.v[k].path);
		FUZZ_ASSERT(cpio_path_check(abs, err, sizeof(err)) == 0);
	}
	FUZZ_ASSERT(cpio_serialize(&t, mtime, &b, err, sizeof(err)) == 0);
	check_archive(&t, &b, mtime);
	cpio_list(&t, fuzz_devnull());
	cpio_buf_free(&b);
	cpio_tree_free(&t);
	return 0;
}
