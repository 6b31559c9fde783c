/* Reproducible newc cpio writer: see cpio.h for the exact format. */
#include "initramfs/cpio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int cpio_path_check(const char *path, char *err, size_t errlen)
{
	if (!path || path[0] != '/')
		return fail(err, errlen, "path '%s' must be absolute (start with '/')", path ? path : "");
	size_t len = strlen(path);
	if (len == 1)
		return fail(err, errlen, "path '/' cannot be an entry");
	if (len - 1 > CPIO_PATH_MAX)
		return fail(err, errlen, "path '%.64s...' is longer than %d bytes", path, CPIO_PATH_MAX);
	for (const char *c = path; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u < 0x21 || u > 0x7e)
			return fail(err, errlen,
				    "path '%s' has a byte 0x%02x: only printable ASCII without spaces is allowed",
				    path, u);
	}
	const char *p = path;
	while (*p == '/') {
		const char *comp = p + 1;
		const char *end = strchr(comp, '/');
		size_t clen = end ? (size_t)(end - comp) : strlen(comp);
		if (clen == 0)
			return fail(err, errlen, "path '%s' has an empty component ('//' or a trailing '/')", path);
		if ((clen == 1 && comp[0] == '.') || (clen == 2 && comp[0] == '.' && comp[1] == '.'))
			return fail(err, errlen, "path '%s' has a '.' or '..' component", path);
		p = comp + clen;
	}
	return 0;
}

static struct cpio_entry *find_rel(const struct cpio_tree *t, const char *rel, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->v[i].path) == len && !memcmp(t->v[i].path, rel, len))
			return &t->v[i];
	return NULL;
}

const struct cpio_entry *cpio_find(const struct cpio_tree *t, const char *path)
{
	if (!path || path[0] != '/')
		return NULL;
	return find_rel(t, path + 1, strlen(path + 1));
}

static struct cpio_entry *push(struct cpio_tree *t, const char *rel, size_t len,
			       const char *origin, char *err, size_t errlen)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct cpio_entry *v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			fail(err, errlen, "out of memory");
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	struct cpio_entry *e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	e->path = strndup(rel, len);
	e->origin = strdup(origin ? origin : "");
	if (!e->path || !e->origin) {
		free(e->path);
		free(e->origin);
		fail(err, errlen, "out of memory");
		return NULL;
	}
	t->n++;
	return e;
}

/* Makes sure every directory above rel (and rel itself when upto_self) exists. */
static int ensure_dirs(struct cpio_tree *t, const char *rel, int upto_self, const char *origin,
		       char *err, size_t errlen)
{
	size_t total = strlen(rel);
	for (size_t i = 0; i <= total; i++) {
		if (rel[i] != '/' && !(rel[i] == '\0' && upto_self))
			continue;
		struct cpio_entry *e = find_rel(t, rel, i);
		if (e) {
			if (e->type != CPIO_DIR)
				return fail(err, errlen, "/%.*s is a file (from %s), but %s needs it as a directory",
					    (int)i, rel, e->origin, origin);
			continue;
		}
		e = push(t, rel, i, origin, err, errlen);
		if (!e)
			return -1;
		e->type = CPIO_DIR;
		e->perm = CPIO_DIR_PERM;
	}
	return 0;
}

int cpio_add_dir(struct cpio_tree *t, const char *path, char *err, size_t errlen)
{
	if (cpio_path_check(path, err, errlen))
		return -1;
	return ensure_dirs(t, path + 1, 1, "directory list", err, errlen);
}

int cpio_add_file(struct cpio_tree *t, const char *path, unsigned perm,
		  unsigned char *data, size_t size, const char *origin,
		  char *err, size_t errlen)
{
	if (!origin)
		origin = "(unnamed)";
	if (cpio_path_check(path, err, errlen))
		goto out_free;
	if (perm > 0777) {
		fail(err, errlen, "%s: mode %o for %s: only permission bits (at most 0777) are allowed",
		     origin, perm, path);
		goto out_free;
	}
	if (size > UINT32_MAX) {
		fail(err, errlen, "%s: %zu bytes: newc cpio files must be smaller than 4 GiB", origin, size);
		goto out_free;
	}
	const char *rel = path + 1;
	struct cpio_entry *old = find_rel(t, rel, strlen(rel));
	if (old) {
		if (old->type == CPIO_DIR)
			fail(err, errlen, "%s is a directory (needed by %s), cannot also be the file from %s",
			     path, old->origin, origin);
		else
			fail(err, errlen, "%s given twice: from %s and from %s", path, old->origin, origin);
		goto out_free;
	}
	if (ensure_dirs(t, rel, 0, origin, err, errlen))
		goto out_free;
	struct cpio_entry *e = push(t, rel, strlen(rel), origin, err, errlen);
	if (!e)
		goto out_free;
	e->type = CPIO_FILE;
	e->perm = perm;
	e->data = data;
	e->size = size;
	return 0;
out_free:
	free(data);
	return -1;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct cpio_entry *x = a, *y = b;
	return strcmp(x->path, y->path);
}

void cpio_sort(struct cpio_tree *t)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(t->v[0]), cmp_entry);
}

static int buf_reserve(struct cpio_buf *b, size_t more)
{
	if (more > SIZE_MAX - b->len)
		return -1;
	size_t need = b->len + more;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int put(struct cpio_buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len))
		return -1;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static int pad(struct cpio_buf *b, size_t align)
{
	static const unsigned char zeros[CPIO_BLOCK];
	size_t n = (align - b->len % align) % align;
	return put(b, zeros, n);
}

/* One entry: header, name + NUL, padding, data, padding. Offsets are taken
 * relative to the start of the buffer, so out must start 4-aligned: the
 * archive is always written from offset 0 of a fresh or 4-aligned buffer. */
static int put_entry(struct cpio_buf *b, uint32_t ino, uint32_t mode, uint32_t nlink,
		     uint32_t mtime, const char *name, const unsigned char *data, uint32_t size)
{
	char hdr[CPIO_HEADER_SIZE + 1];
	size_t namesize = strlen(name) + 1;
	int n = snprintf(hdr, sizeof(hdr),
			 "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			 CPIO_NEWC_MAGIC, ino, mode, 0u /* uid */, 0u /* gid */, nlink, mtime, size,
			 0u /* devmajor */, 0u /* devminor */, 0u /* rdevmajor */, 0u /* rdevminor */,
			 (unsigned)namesize, 0u /* check */);
	if (n != CPIO_HEADER_SIZE)
		return -1;
	if (put(b, hdr, CPIO_HEADER_SIZE) || put(b, name, namesize) || pad(b, 4) ||
	    put(b, data, size) || pad(b, 4))
		return -1;
	return 0;
}

int cpio_serialize(struct cpio_tree *t, uint32_t mtime, struct cpio_buf *out,
		   char *err, size_t errlen)
{
	if (out->len % 4)
		return fail(err, errlen, "internal: cpio output buffer not 4-byte aligned");
	cpio_sort(t);
	for (size_t i = 0; i < t->n; i++) {
		const struct cpio_entry *e = &t->v[i];
		if (i > 0 && !strcmp(e->path, t->v[i - 1].path))
			return fail(err, errlen, "internal: duplicate entry /%s", e->path);
		if (e->size > UINT32_MAX)
			return fail(err, errlen, "/%s: too large for newc cpio", e->path);
		uint32_t ino = (uint32_t)(i + 1);
		uint32_t mode, nlink;
		if (e->type == CPIO_DIR) {
			mode = 0040000u | CPIO_DIR_PERM;
			nlink = CPIO_DIR_NLINK;
		} else {
			mode = 0100000u | (e->perm & 0777u);
			nlink = 1;
		}
		if (put_entry(out, ino, mode, nlink, mtime, e->path, e->data, (uint32_t)e->size))
			return fail(err, errlen, "out of memory writing the cpio archive");
	}
	if (put_entry(out, 0, 0, 1, 0, CPIO_TRAILER, NULL, 0) || pad(out, CPIO_BLOCK))
		return fail(err, errlen, "out of memory writing the cpio archive");
	return 0;
}

static void symbolic(const struct cpio_entry *e, char s[11])
{
	unsigned perm = e->type == CPIO_DIR ? CPIO_DIR_PERM : e->perm;
	static const char rwx[] = "rwx";
	s[0] = e->type == CPIO_DIR ? 'd' : '-';
	for (int i = 0; i < 9; i++)
		s[1 + i] = (char)((perm & (0400u >> i)) ? rwx[i % 3] : '-');
	s[10] = '\0';
}

void cpio_list(struct cpio_tree *t, FILE *out)
{
	cpio_sort(t);
	for (size_t i = 0; i < t->n; i++) {
		char s[11];
		symbolic(&t->v[i], s);
		fprintf(out, "%s %10zu /%s\n", s, t->v[i].size, t->v[i].path);
	}
}

void cpio_tree_free(struct cpio_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].path);
		free(t->v[i].data);
		free(t->v[i].origin);
	}
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

void cpio_buf_free(struct cpio_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
