/* LUKS2 through libcryptsetup: the header, keyslots and PBKDF are the
 * library's; we only choose the key source and the names. */
#include "crypto/luks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libcryptsetup.h>

#include "crypto/keysource.h"
#include "crypto/snp_key.h"
#include "init/partitions.h"

struct luks_try {
	struct boot_ctx *ctx;
	struct crypt_device *cd;
	const char *name;
	const char *label;
};

static int try_passphrase(void *arg, const struct secret *key)
{
	struct luks_try *t = arg;
	int r = crypt_activate_by_passphrase(t->cd, t->name, CRYPT_ANY_SLOT, (const char *)key->data, key->len, 0);

	if (r >= 0)
		return 0;
	if (r == -EPERM)
		return -EPERM; /* no keyslot opens with this key */
	return log_fail(&t->ctx->log, r, "%s: cannot activate %s: %s", t->label, t->name, strerror(-r));
}

int luks_open_role(struct boot_ctx *ctx, enum part_role role)
{
	struct found_part *p = &ctx->parts[role];
	const char *label = role == ROLE_ROOT ? "root" : "jobs";
	enum cfg_id source = role == ROLE_ROOT ? CFG_ROOT_KEY_SOURCE : CFG_JOBS_KEY_SOURCE;
	struct crypt_device *cd = NULL;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "cvm-%s", label);
	r = crypt_init(&cd, p->dev);
	if (r < 0)
		return log_fail(&ctx->log, r, "%s: cannot open %s: %s", label, p->dev, strerror(-r));
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		crypt_free(cd);
		return log_fail(&ctx->log, r, "%s: %s has no valid LUKS2 header (%s)", label, p->dev, strerror(-r));
	}
	struct key_request req = {
		.label = label,
		.device = p->dev,
		.source = cfg_str(&ctx->cfg, source),
		.tries = cfg_uint(&ctx->cfg, CFG_PROMPT_TRIES),
#ifdef CVMINIT_TEST_BUILD
		.keyfile = cfg_str(&ctx->cfg, role == ROLE_ROOT ? CFG_ROOT_KEYFILE : CFG_JOBS_KEYFILE),
#endif
	};
	struct luks_try t = { ctx, cd, name, label };
	double t0 = log_elapsed_ms(&ctx->log);
	if (role == ROLE_ROOT && !strcmp(req.source, "snp-derived"))
		r = snp_unlock(ctx, cd, name, p->dev);
	else
		r = keysource_unlock(ctx, &req, try_passphrase, &t);
	crypt_free(cd);
	if (r < 0)
		return r;
	snprintf(p->mapped, sizeof(p->mapped), "/dev/mapper/%s", name);
	log_line(&ctx->log, LOG_INFO, "%s: %s opened as %s (LUKS2, key from %s, %.0f ms)", label, p->dev, p->mapped,
		 req.source, log_elapsed_ms(&ctx->log) - t0);
	return 0;
}

int luks_uuid(const char *dev, char *out, size_t len)
{
	struct crypt_device *cd = NULL;
	int r = crypt_init(&cd, dev);

	if (r < 0)
		return r;
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == 0) {
		const char *u = crypt_get_uuid(cd);
		if (u)
			snprintf(out, len, "%s", u);
		else
			r = -ENOENT;
	}
	crypt_free(cd);
	return r;
}
