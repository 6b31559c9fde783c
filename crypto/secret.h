#ifndef CVMINIT_SECRET_H
#define CVMINIT_SECRET_H

#include <stddef.h>
#include <stdint.h>

/* Key material lives only in these: page-aligned, mlock'ed, excluded from
 * core dumps, wiped and unmapped when freed. One owner frees it, on every
 * path: declare with cleanup_secret. Never log the content or the length. */
struct secret {
	uint8_t *data;
	size_t len;
	size_t cap;
	struct secret *prev, *next; /* every live buffer, for secret_wipe_all */
};

/* 0 or -errno (-ENOMEM, or the mlock error). */
int secret_new(struct secret **out, size_t cap);
void secret_free(struct secret *s);
static inline void secret_freep(struct secret **s)
{
	if (*s)
		secret_free(*s);
	*s = NULL;
}
#define cleanup_secret __attribute__((cleanup(secret_freep)))

/* Zeroes the used bytes (keeps the buffer). */
void secret_clear(struct secret *s);

/* The fatal path: zeroes every buffer still allocated (their owners may not
 * have returned), keeping them mapped. The number of buffers wiped. */
size_t secret_wipe_all(void);

#endif
