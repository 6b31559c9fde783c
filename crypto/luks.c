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

#include "crypto/keysource.h"
#include "crypto/snp_key.h"
#include "crypto/tpm2_unlock.h"
#include "crypto/volume_key.h"
#include "crypto/wrap.h"
#include "tee/guest.h"
#include "init/partitions.h"

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

/* The job-store key may arrive wrapped to this boot: a fresh key pair whose
 * public half the TEE report binds, printed as one console line. */
static int offer_challenge(struct boot_ctx *ctx, struct wrap_guest **out)
{
	struct wrap_guest *w = NULL;
	struct tee_report *rep;
	uint8_t rd[64];
	char *line = NULL;
	int r;

	*out = NULL;
	if (cfg_is(&ctx->cfg, CFG_JOBS_KEY_WRAPPING, "no") || ctx->evidence_len == 0)
		return 0; /* no TEE report in this boot: passphrases only */
	r = wrap_guest_new(&w);
	if (r < 0)
		return log_fail(&ctx->log, r, "jobs: cannot create the challenge key");
	r = wrap_report_data(ctx->evidence, (size_t)ctx->evidence_len, wrap_guest_pub(w), rd);
	rep = calloc(1, sizeof(*rep));
	if (r == 0 && !rep)
		r = -ENOMEM;
	if (r == 0)
		r = tee_get_report(ctx, rd, rep);
	if (r == 0)
		r = wrap_challenge_line(rep->kind == TEE_SNP ? "snp" : "tdx", rep->data, rep->len, wrap_guest_pub(w),
					ctx->evidence, (size_t)ctx->evidence_len, rep->certs, rep->certs_len, &line);
	if (r == 0) {
		wrap_guest_set_report(w, rep->data, rep->len);
		log_line(&ctx->log, LOG_INFO,
			 "jobs: the key may be typed, or sealed to this boot: run 'cvminit key wrap' on the challenge below "
			 "and paste its cvminit-wrapped line at the prompt");
		/* Console only: too long for a kmsg record, and nothing in it is secret. */
		log_console_raw(&ctx->log, line);
		log_console_raw(&ctx->log, "\n");
	}
	free(line);
	if (rep)
		tee_report_free(rep);
	free(rep);
	if (r < 0) {
		wrap_guest_free(w);
		return ctx->log.reason[0] ? r : log_fail(&ctx->log, r, "jobs: cannot make the challenge");
	}
	*out = w;
	return 0;
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
	enum cfg_id source = role == ROLE_ROOT ? CFG_ROOT_KEY_SOURCE : CFG_JOBS_KEY_SOURCE;
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
		.source = cfg_str(&ctx->cfg, source),
		.tries = cfg_uint(&ctx->cfg, CFG_PROMPT_TRIES),
#ifdef CVMINIT_TEST_BUILD
		.keyfile = cfg_str(&ctx->cfg, role == ROLE_ROOT ? CFG_ROOT_KEYFILE : CFG_JOBS_KEYFILE),
#endif
	};
	struct luks_try t = { ctx, cd, name, role };
	double t0 = log_elapsed_ms(&ctx->log);
	struct wrap_guest *wrap = NULL;
	if (role == ROLE_JOBS && !strcmp(req.source, "prompt")) {
		r = offer_challenge(ctx, &wrap);
		if (r < 0) {
			crypt_free(cd);
			return r;
		}
		req.wrap = wrap;
	}
	if (role == ROLE_ROOT && !strcmp(req.source, "snp-derived")) {
		r = snp_unlock(ctx, cd, name, p->dev);
	} else if (role == ROLE_ROOT && !strcmp(req.source, "tpm2")) {
		struct key_request recovery = req;
		recovery.source = "prompt";
		recovery.label = "root (recovery)";
		r = tpm2_unlock(ctx, cd, name, p->dev, &recovery, try_passphrase, &t);
	}
	else
		r = keysource_unlock(ctx, &req, try_passphrase, &t);
	wrap_guest_free(wrap); /* the private key is gone with it */
	crypt_free(cd);
	luks_copy_drop(ctx, role);
	if (r < 0)
		return r;
	snprintf(p->mapped, sizeof(p->mapped), "/dev/mapper/%s", name);
	log_line(&ctx->log, LOG_INFO, "%s: %s opened as %s (LUKS2, key from %s, %.0f ms)", label, p->dev, p->mapped,
		 req.source, log_elapsed_ms(&ctx->log) - t0);
	return 0;
}
