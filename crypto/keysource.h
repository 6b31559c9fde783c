#ifndef CVMINIT_KEYSOURCE_H
#define CVMINIT_KEYSOURCE_H

#include "crypto/secret.h"
#include "crypto/wrap.h"
#include "init/context.h"

/* One interface for every way a LUKS2 key reaches the init: a source yields
 * candidate keys, each handed to try_key until one opens the volume. Later
 * sources (TPM2, SNP-derived, attested delivery) plug in here. */

/* Returns 0 when the key opened the volume, -EPERM when the key is wrong
 * (another try may follow), other -errno to stop at once. */
typedef int (*try_key_fn)(void *arg, const struct secret *key);

struct key_request {
	const char *label;  /* "root", "jobs" */
	const char *device; /* what is being unlocked, for the prompt */
	const char *source; /* the configured source: "prompt", "keyfile", ... */
	const char *keyfile;
	unsigned tries;
	struct wrap_guest *wrap; /* set: the prompt also takes a cvminit-wrapped line */
	/* When wrap is NULL: makes the challenge for this prompt if the plan
	 * offers one (crypto/challenge.c), just before the prompt is shown. */
	int (*offer)(struct boot_ctx *ctx, enum plan_prompt prompt, const char *label, struct wrap_guest **out);
};

int keysource_unlock(struct boot_ctx *ctx, const struct key_request *req, try_key_fn try_key, void *arg);

#define PASSPHRASE_MAX 512
#define PROMPT_LINE_MAX 16384 /* a cvminit-wrapped line is longer than a passphrase */

/* Asks once on the console, echo off: "<what>: ". 0, -ENODATA, -E2BIG. */
int keysource_prompt_line(struct boot_ctx *ctx, const char *what, struct secret *out);

/* Reads one line from fd into key (without the newline). 0, -ENODATA on end
 * of input, -E2BIG when the line does not fit key (nothing is kept). */
int prompt_read_line(int fd, struct secret *key);

#endif
