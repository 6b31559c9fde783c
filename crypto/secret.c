#include "crypto/secret.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct secret *live; /* PID 1 is single-threaded */

static size_t round_pages(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

int secret_new(struct secret **out, size_t cap)
{
	struct secret *s;
	size_t len = round_pages(cap ? cap : 1);

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->data = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->data == MAP_FAILED) {
		free(s);
		return -ENOMEM;
	}
	if (mlock(s->data, len) < 0) {
		int e = -errno;
		munmap(s->data, len);
		free(s);
		return e;
	}
	/* Never in a core dump, never inherited by a child. */
	madvise(s->data, len, MADV_DONTDUMP);
	madvise(s->data, len, MADV_DONTFORK);
	s->cap = cap;
	s->next = live;
	if (live)
		live->prev = s;
	live = s;
	*out = s;
	return 0;
}

void secret_clear(struct secret *s)
{
	explicit_bzero(s->data, s->cap);
	s->len = 0;
}

void secret_free(struct secret *s)
{
	size_t len = round_pages(s->cap ? s->cap : 1);

	if (s->prev)
		s->prev->next = s->next;
	else
		live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	explicit_bzero(s->data, len);
	munlock(s->data, len);
	munmap(s->data, len);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

size_t secret_wipe_all(void)
{
	size_t n = 0;

	for (struct secret *s = live; s; s = s->next, n++) {
		explicit_bzero(s->data, round_pages(s->cap ? s->cap : 1));
		s->len = 0;
	}
	return n;
}
