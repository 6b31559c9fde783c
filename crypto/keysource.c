#include "crypto/keysource.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int prompt_read_line(int fd, struct secret *key)
{
	int overflow = 0;

	secret_clear(key);
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!key->len && !overflow)
				return -ENODATA;
			break; /* the last line may lack its newline; an over-long one still fails */
		}
		if (c == '\n' || c == '\r')
			break;
		if (key->len >= key->cap) {
			overflow = 1; /* keep reading to the end of the line */
			continue;
		}
		key->data[key->len++] = (uint8_t)c;
	}
	if (overflow) {
		secret_clear(key);
		return -E2BIG;
	}
	return 0;
}

/* Echo off before the prompt is printed; restored on every path. */
static int prompt_text(struct boot_ctx *ctx, const char *prompt, struct secret *key)
{
	char path[64];
	struct termios old, quiet;
	int fd, r, have_tty;

	snprintf(path, sizeof(path), "%s/console", ctx->devfs);
	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	have_tty = tcgetattr(fd, &old) == 0;
	if (have_tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	r = write(fd, prompt, strlen(prompt)) < 0 ? -errno : 0;
	if (r == 0)
		r = prompt_read_line(fd, key);
	if (have_tty)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the newline is cosmetic */
	}
	close(fd);
	return r;
}

static int prompt_once(struct boot_ctx *ctx, const struct key_request *req, bool wrapped_only, struct secret *key)
{
	char prompt[160];

	snprintf(prompt, sizeof(prompt), "%s for %s (%s): ", wrapped_only ? "Wrapped key" : "Passphrase", req->label,
		 req->device);
	return prompt_text(ctx, prompt, key);
}

/* Which of the plan's prompts a request is. The callers (luks.c, snp_key.c,
 * tpm2_unlock.c) name their prompts by these labels; an unknown label gets
 * p3's rule, the strictest. */
static enum plan_prompt prompt_of(const struct key_request *req)
{
	if (!strcmp(req->label, "jobs"))
		return PROMPT_JOBS;
	if (!strcmp(req->label, "root (recovery)"))
		return PROMPT_ROOT_RECOVERY;
	if (!strcmp(req->label, "root (provisioning)"))
		return PROMPT_ROOT_PROVISION;
	return PROMPT_ROOT;
}

int keysource_prompt_line(struct boot_ctx *ctx, const char *what, struct secret *out)
{
	char prompt[160];

	snprintf(prompt, sizeof(prompt), "%s: ", what);
	return prompt_text(ctx, prompt, out);
}

/* A pasted cvminit-wrapped line: only this boot's challenge key opens it. */
static int try_wrapped(struct boot_ctx *ctx, const struct key_request *req, struct secret *line, try_key_fn try_key,
		       void *arg, unsigned left)
{
	cleanup_secret struct secret *key = NULL;
	size_t plen = strlen(WRAPPED_PREFIX);
	char *payload = strndup((const char *)line->data + plen, line->len - plen); /* ciphertext: not secret */
	const char *tries = left == 1 ? "try" : "tries";
	int r = secret_new(&key, WRAP_KEY_MAX);

	secret_clear(line);
	if (!payload || r < 0) {
		free(payload);
		return log_fail(&ctx->log, -ENOMEM, "out of memory");
	}
	r = wrap_open(req->wrap, payload, key);
	free(payload);
	if (r == -ESTALE)
		log_line(&ctx->log, LOG_WARN, "wrapped key rejected: it was made for another challenge, not this boot's (replayed?) (%u %s left)",
			 left, tries);
	else if (r == -EPERM)
		log_line(&ctx->log, LOG_WARN, "wrapped key rejected: it does not decrypt (tampered or corrupted) (%u %s left)", left,
			 tries);
	else if (r == -EACCES)
		log_line(&ctx->log, LOG_WARN,
			 "wrapped key rejected: not signed for %s by the key pinned in %s (%u %s left)", req->label,
			 prompt_of(req) == PROMPT_JOBS ? "JOBS_OWNER_PUBKEY" : "ROOT_DELIVERY_PUBKEY", left, tries);
	else if (r < 0)
		log_line(&ctx->log, LOG_WARN, "wrapped key rejected: not a valid cvminit-wrapped line (%u %s left)", left, tries);
	if (r < 0)
		return -EPERM;
	r = try_key(arg, key);
	if (r == -EPERM)
		log_line(&ctx->log, LOG_WARN, "the unwrapped key does not open %s (%u %s left)", req->label, left, tries);
	return r == -EPERM ? -EAGAIN : r;
}

/* Why a prompt takes only wrapped lines, for its messages. */
static const char *wrapped_only_why(const struct boot_ctx *ctx, enum plan_prompt prompt)
{
	if (prompt != PROMPT_JOBS)
		return "ROOT_DELIVERY_PUBKEY is set";
	return ctx->plan.jobs_signer_set ? "JOBS_OWNER_PUBKEY is set" : "JOBS_TYPED_PASSPHRASE=refuse";
}

static int ask(struct boot_ctx *ctx, const struct key_request *req, try_key_fn try_key, void *arg)
{
	cleanup_secret struct secret *key = NULL;
	enum typed_rule rule = ctx->plan.typed[prompt_of(req)];
	bool wrapped_only = rule == TYPED_WRAPPED_ONLY;
	int r;

	/* The host reads the console (THREAT_MODEL.md): the plan says what a
	 * typed line may still do here. */
	if (rule == TYPED_REFUSE)
		return log_fail(&ctx->log, -EPERM,
				"%s: a key typed on the console is read by the host: the release policy allows no "
				"prompt here", req->label);
	if (wrapped_only && !req->wrap)
		return log_fail(&ctx->log, -ENOKEY,
				"%s: only a cvminit-wrapped key is accepted (%s), but this boot has no TEE report to wrap "
				"it to: no key can open %s", req->label, wrapped_only_why(ctx, prompt_of(req)), req->label);
	if (wrapped_only)
		log_line(&ctx->log, LOG_INFO, "%s: only a cvminit-wrapped line is accepted at this prompt, not a typed "
			 "passphrase (%s)", req->label, wrapped_only_why(ctx, prompt_of(req)));
	if (rule == TYPED_ACCEPT_WARN)
		log_line(&ctx->log, LOG_WARN, "%s: JOBS_TYPED_PASSPHRASE=allow: a passphrase typed at this prompt is "
			 "read by the host; paste a cvminit-wrapped line instead where you can", req->label);
	r = secret_new(&key, req->wrap ? PROMPT_LINE_MAX : PASSPHRASE_MAX + 1);
	if (r < 0)
		return log_fail(&ctx->log, r, "cannot allocate locked memory for a passphrase: %s", strerror(-r));
	for (unsigned i = 1; i <= req->tries; i++) {
		unsigned left = req->tries - i;
		r = prompt_once(ctx, req, wrapped_only, key);
		if (r == -ENODATA)
			return log_fail(&ctx->log, r, "no input on the console for the %s passphrase", req->label);
		if (r == -E2BIG) {
			log_line(&ctx->log, LOG_WARN, "passphrase for %s longer than %d bytes (%u %s left)",
				 req->label, PASSPHRASE_MAX, left, left == 1 ? "try" : "tries");
			continue;
		}
		if (r < 0)
			return log_fail(&ctx->log, r, "console prompt failed: %s", strerror(-r));
		if (req->wrap && key->len > strlen(WRAPPED_PREFIX) &&
		    !memcmp(key->data, WRAPPED_PREFIX, strlen(WRAPPED_PREFIX))) {
			r = try_wrapped(ctx, req, key, try_key, arg, left);
			if (r == 0)
				return 0;
			if (r != -EPERM && r != -EAGAIN)
				return r;
			continue;
		}
		if (wrapped_only) {
			secret_clear(key);
			log_line(&ctx->log, LOG_WARN,
				 "typed passphrase refused for %s: only a cvminit-wrapped line is accepted here, the host "
				 "reads the console (%u %s left)", req->label, left, left == 1 ? "try" : "tries");
			continue;
		}
		if (key->len > PASSPHRASE_MAX) {
			secret_clear(key);
			log_line(&ctx->log, LOG_WARN, "passphrase for %s longer than %d bytes (%u %s left)", req->label,
				 PASSPHRASE_MAX, left, left == 1 ? "try" : "tries");
			continue;
		}
		r = key->len ? try_key(arg, key) : -EPERM;
		secret_clear(key);
		if (r == 0)
			return 0;
		if (r != -EPERM)
			return r; /* try_key recorded why */
		log_line(&ctx->log, LOG_WARN, "wrong passphrase for %s (%u %s left)", req->label, left,
			 left == 1 ? "try" : "tries");
	}
	return log_fail(&ctx->log, -EPERM, "no valid %s for %s after %u %s",
			wrapped_only ? "wrapped key" : req->wrap ? "passphrase or wrapped key" : "passphrase", req->label,
			req->tries, req->tries == 1 ? "try" : "tries");
}

/* The prompt, with this boot's challenge when the plan offers one: made
 * just before the prompt, its private key freed right after. */
static int unlock_by_prompt(struct boot_ctx *ctx, const struct key_request *req, try_key_fn try_key, void *arg)
{
	enum plan_prompt prompt = prompt_of(req);
	struct key_request with = *req;
	struct wrap_guest *own = NULL;
	int r;

	if (!req->wrap && req->offer && ctx->plan.typed[prompt] != TYPED_REFUSE) {
		r = req->offer(ctx, prompt, req->label, &own);
		if (r < 0)
			return r;
		with.wrap = own;
	}
	r = ask(ctx, &with, try_key, arg);
	wrap_guest_free(own); /* the private key is gone with it */
	return r;
}

#ifdef CVMINIT_TEST_BUILD
/* Test builds only: the key is a file inside the initramfs. */
static int unlock_by_keyfile(struct boot_ctx *ctx, const struct key_request *req, try_key_fn try_key, void *arg)
{
	cleanup_secret struct secret *key = NULL;
	int r = secret_new(&key, 8192);
	int fd;

	if (r < 0)
		return log_fail(&ctx->log, r, "cannot allocate locked memory for a key: %s", strerror(-r));
	fd = open(req->keyfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_fail(&ctx->log, -errno, "key file %s for %s: %s", req->keyfile, req->label,
				strerror(errno));
	for (;;) {
		ssize_t n = read(fd, key->data + key->len, key->cap - key->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		key->len += (size_t)n;
		if (key->len == key->cap) {
			close(fd);
			return log_fail(&ctx->log, -E2BIG, "key file %s is larger than %zu bytes", req->keyfile,
					key->cap - 1);
		}
	}
	close(fd);
	if (key->len == 0)
		return log_fail(&ctx->log, -EINVAL, "key file %s is empty", req->keyfile);
	r = try_key(arg, key);
	if (r == -EPERM)
		return log_fail(&ctx->log, r, "the key file %s does not open %s", req->keyfile, req->label);
	return r;
}
#endif

int keysource_unlock(struct boot_ctx *ctx, const struct key_request *req, try_key_fn try_key, void *arg)
{
	if (!strcmp(req->source, "prompt"))
		return unlock_by_prompt(ctx, req, try_key, arg);
#ifdef CVMINIT_TEST_BUILD
	if (!strcmp(req->source, "keyfile"))
		return unlock_by_keyfile(ctx, req, try_key, arg);
#endif
	return log_fail(&ctx->log, -EINVAL, "key source '%s' is not available in this build", req->source);
}
