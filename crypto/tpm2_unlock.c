/* Key source "tpm2" for p3: the systemd-tpm2 token of the LUKS2 header,
 * unsealed under its PCR policy (and PIN), the secret's base64 being the
 * keyslot's passphrase — the format systemd-cryptenroll writes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/keysource.h"
#include "crypto/tpm2.h"
#include "crypto/tpm2_token.h"
#include "crypto/tpm2_unlock.h"
#include "crypto/tpm2_util.h"
#include "crypto/volume_key.h"

static int find_token(struct boot_ctx *ctx, struct crypt_device *cd, const char *dev, struct tpm2_token *tok)
{
	char err[256];

	for (int id = 0; id < 32; id++) {
		const char *json = NULL;
		if (crypt_token_json_get(cd, id, &json) < 0 || !json)
			continue;
		int r = tpm2_token_parse(json, tok, err, sizeof(err));
		if (r == -EMEDIUMTYPE)
			continue;
		if (r < 0)
			return log_fail(&ctx->log, r, "root: token %d of %s: %s", id, dev, err);
		return 0;
	}
	return log_fail(&ctx->log, -ENOENT, "root: no systemd-tpm2 token in the LUKS2 header of %s", dev);
}

/* Unseals with the PIN asked for as often as PROMPT_TRIES allows. */
static int unseal(struct boot_ctx *ctx, const struct tpm2_token *tok, struct secret *raw, char *err, size_t errlen)
{
	cleanup_secret struct secret *pin = NULL;
	unsigned tries = ctx->plan.prompt_tries;
	int r;

	if (!tok->pin)
		return tpm2_unseal(ctx->tpm, tok, NULL, raw, err, errlen);
	r = secret_new(&pin, PASSPHRASE_MAX + 1);
	if (r < 0)
		return r;
	for (unsigned i = 1; i <= tries; i++) {
		r = keysource_prompt_line(ctx, "TPM2 PIN for root", pin);
		if (r < 0)
			return r;
		r = tpm2_unseal(ctx->tpm, tok, pin, raw, err, errlen);
		secret_clear(pin);
		if (r != -EACCES)
			return r;
		log_line(&ctx->log, LOG_WARN, "wrong TPM2 PIN for root (%u %s left)", tries - i, tries - i == 1 ? "try" : "tries");
	}
	snprintf(err, errlen, "no valid TPM2 PIN after %u %s", tries, tries == 1 ? "try" : "tries");
	return -EACCES;
}

int tpm2_unlock(struct boot_ctx *ctx, struct crypt_device *cd, const char *name, const char *dev,
		const struct key_request *recovery, try_key_fn try_key, void *arg)
{
	cleanup_secret struct secret *raw = NULL;
	cleanup_secret struct secret *pass = NULL;
	struct tpm2_token tok;
	char err[256];
	int r;

	if (!ctx->tpm)
		return log_fail(&ctx->log, -ENODEV, "root: ROOT_KEY_SOURCE=tpm2 but no TPM was opened");
	r = find_token(ctx, cd, dev, &tok);
	if (r < 0)
		return r;
	if (secret_new(&raw, 256) < 0 || secret_new(&pass, 512) < 0)
		return log_fail(&ctx->log, -ENOMEM, "cannot allocate locked memory");
	r = unseal(ctx, &tok, raw, err, sizeof(err));
	if (r == -EPERM && ctx->plan.root_tpm2_fallback) {
		log_line(&ctx->log, LOG_WARN, "the TPM refused the system key (%s): asking for the recovery passphrase", err);
		return keysource_unlock(ctx, recovery, try_key, arg);
	}
	if (r == -EPERM)
		return log_fail(&ctx->log, r, "root: the TPM refused to unseal the system key: %s", err);
	if (r == -EBUSY)
		return log_fail(&ctx->log, r, "root: the TPM is in dictionary-attack lockout: %s", err);
	if (r < 0)
		return log_fail(&ctx->log, r, "root: unsealing the system key failed: %s", err);
	/* An empty secret is no key: its passphrase would be the empty string,
	 * which opens only a keyslot someone made for it (the host can seal to
	 * the TPM's public parent key as anyone can). */
	if (raw->len == 0)
		return log_fail(&ctx->log, -ENODATA, "root: the TPM unsealed an empty secret for %s: refused", dev);
	r = tpm2_passphrase_from_secret(raw, pass);
	secret_clear(raw);
	if (r < 0)
		return log_fail(&ctx->log, r, "root: cannot encode the unsealed key");
	r = volume_key_open(ctx, cd, ROLE_ROOT, name, tok.keyslot >= 0 ? tok.keyslot : CRYPT_ANY_SLOT, pass->data,
			    pass->len);
	if (r == -EPERM)
		return log_fail(&ctx->log, r, "root: the unsealed key does not open %s (keyslot %d): %s", dev, tok.keyslot,
				strerror(-r));
	if (r < 0)
		return r; /* logged */
	log_line(&ctx->log, LOG_INFO, "system key unsealed by the TPM (PCR policy%s)", tok.pin ? " + PIN" : "");
	return 0;
}
