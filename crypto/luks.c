/* LUKS2 through libcryptsetup: keyslots and PBKDF are the library's; we
 * choose the key source and the names. The header it reads is the copy the
 * luks stage checked (crypto/luks_stage.c), as a detached header: the host
 * cannot serve other header bytes to this read than to the check. */
#include "crypto/luks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libcryptsetup.h>

#include "crypto/challenge.h"
#include "crypto/keysource.h"
#include "crypto/snp_key.h"
#include "crypto/tpm2_unlock.h"
#include "crypto/volume_key.h"
#include "crypto/wrap.h"
#include "tee/guest.h"
#include "init/partitions.h"
#include "kbs/client.h"

struct luks_try {
	struct boot_ctx *ctx;
	struct crypt_device *cd;
	const char *name;
	enum part_role role;
};

static int try_passphrase(void *arg, const struct secret *key)
{
	struct luks_try *t = arg;
	/* volume key -> measured, compared with the pin -> activated */
	int r = volume_key_open(t->ctx, t->cd, t->role, t->name, CRYPT_ANY_SLOT, key->data, key->len);

	return r >= 0 ? 0 : r; /* -EPERM: no keyslot opens with this key; else logged */
}


/* What libcryptsetup made of the copy must be what the policy checked
 * (belt and braces: both read the same bytes). */
static int matches_copy(struct boot_ctx *ctx, struct crypt_device *cd, enum part_role role)
{
	const struct found_part *p = &ctx->parts[role];
	const char *label = role == ROLE_ROOT ? "root" : "jobs";
	const char *c = crypt_get_cipher(cd), *m = crypt_get_cipher_mode(cd), *u = crypt_get_uuid(cd);
	char cipher[160];

	snprintf(cipher, sizeof(cipher), "%s-%s", c ? c : "?", m ? m : "?");
	if (strcmp(cipher, p->luks.cipher))
		return log_fail(&ctx->log, -EPERM, "%s: %s: libcryptsetup reads cipher %s from the checked header (%s)",
				label, p->dev, cipher, p->luks.cipher);
	if (crypt_get_data_offset(cd) * 512 != p->luks.data_offset)
		return log_fail(&ctx->log, -EPERM, "%s: %s: libcryptsetup reads data offset %llu from the checked header (%llu)",
				label, p->dev, (unsigned long long)crypt_get_data_offset(cd) * 512,
				(unsigned long long)p->luks.data_offset);
	if (!u || strcmp(u, p->luks.uuid))
		return log_fail(&ctx->log, -EPERM, "%s: %s: libcryptsetup reads uuid %s from the checked header (%s)", label,
				p->dev, u ? u : "(none)", p->luks.uuid);
	if ((unsigned)crypt_get_volume_key_size(cd) != p->luks.key_bytes ||
	    (unsigned)crypt_get_sector_size(cd) != p->luks.sector_size)
		return log_fail(&ctx->log, -EPERM, "%s: %s: libcryptsetup reads another key or sector size from the checked header",
				label, p->dev);
	return 0;
}

static int load_copy(struct boot_ctx *ctx, enum part_role role, struct crypt_device **cd)
{
	struct found_part *p = &ctx->parts[role];
	const char *label = role == ROLE_ROOT ? "root" : "jobs";
	int r;

	*cd = NULL;
	if (!p->luks.valid || !p->luks.copy[0])
		return log_fail(&ctx->log, -EINVAL, "%s: %s: no checked LUKS2 header copy (bug: stage luks did not run)",
				label, p->dev);
	r = crypt_init_data_device(cd, p->luks.copy, p->dev);
	if (r < 0)
		return log_fail(&ctx->log, r, "%s: cannot open %s: %s", label, p->dev, strerror(-r));
	r = crypt_load(*cd, CRYPT_LUKS2, NULL);
	if (r < 0)
		r = log_fail(&ctx->log, r, "%s: %s has no valid LUKS2 header (%s)", label, p->dev, strerror(-r));
	if (r == 0)
		r = matches_copy(ctx, *cd, role);
	if (r < 0) {
		crypt_free(*cd);
		*cd = NULL;
	}
	return r;
}

int luks_copy_reload(struct boot_ctx *ctx, enum part_role role, struct crypt_device *cd)
{
	const char *label = role == ROLE_ROOT ? "root" : "jobs";
	int r = crypt_load(cd, CRYPT_LUKS2, NULL);

	if (r < 0)
		return log_fail(&ctx->log, r, "%s: %s: cannot load the refreshed header copy (%s)", label,
				ctx->parts[role].dev, strerror(-r));
	return matches_copy(ctx, cd, role);
}

int luks_disk_open(struct boot_ctx *ctx, enum part_role role, struct crypt_device **cd)
{
	const char *label = role == ROLE_ROOT ? "root" : "jobs", *dev = ctx->parts[role].dev;
	int r = crypt_init(cd, dev);

	if (r < 0)
		return log_fail(&ctx->log, r, "%s: cannot open %s: %s", label, dev, strerror(-r));
	r = crypt_load(*cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		crypt_free(*cd);
		*cd = NULL;
		return log_fail(&ctx->log, r, "%s: %s has no valid LUKS2 header (%s)", label, dev, strerror(-r));
	}
	return 0;
}

int luks_open_role(struct boot_ctx *ctx, enum part_role role)
{
	struct found_part *p = &ctx->parts[role];
	const char *label = role == ROLE_ROOT ? "root" : "jobs";
	const struct vol_plan *v = &ctx->plan.vol[role]; /* PLAN_ROOT, PLAN_JOBS */
	struct crypt_device *cd = NULL;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "cvm-%s", label);
	r = load_copy(ctx, role, &cd);
	if (r < 0)
		return r;
	struct key_request req = {
		.label = label,
		.device = p->dev,
		.source = key_source_name(v->ks),
		.tries = ctx->plan.prompt_tries,
#ifdef CVMINIT_TEST_BUILD
		.keyfile = v->keyfile,
#endif
		.offer = challenge_offer,
	};
	struct luks_try t = { ctx, cd, name, role };
	double t0 = log_elapsed_ms(&ctx->log);
	if (role == ROLE_ROOT && v->ks == KS_SNP_DERIVED) {
		r = snp_unlock(ctx, cd, name, p->dev);
	} else if (role == ROLE_ROOT && v->ks == KS_TPM2) {
		struct key_request recovery = req;
		recovery.source = "prompt";
		recovery.label = "root (recovery)";
		r = tpm2_unlock(ctx, cd, name, p->dev, &recovery, try_passphrase, &t);
	} else if (v->ks == KS_KBS) {
		r = kbs_unlock(ctx, label, p->dev, try_passphrase, &t);
	} else
		r = keysource_unlock(ctx, &req, try_passphrase, &t);
	crypt_free(cd);
	luks_copy_drop(ctx, role);
	if (r < 0)
		return r;
	snprintf(p->mapped, sizeof(p->mapped), "/dev/mapper/%s", name);
	log_line(&ctx->log, LOG_INFO, "%s: %s opened as %s (LUKS2, key from %s, %.0f ms)", label, p->dev, p->mapped,
		 req.source, log_elapsed_ms(&ctx->log) - t0);
	return 0;
}
