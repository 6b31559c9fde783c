/* Volume binding, the activation every LUKS2 unlock goes through (see
 * crypto/volume_key.h): libcryptsetup gives the volume key of a keyslot,
 * the binding is measured and compared with the configured pin, and only
 * then is the mapping created from that same key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libcryptsetup.h>

#include "crypto/measure.h"
#include "crypto/secret.h"
#include "crypto/tpm2_util.h"
#include "crypto/volume_key.h"

int volume_key_open(struct boot_ctx *ctx, struct crypt_device *cd, enum part_role role, const char *name, int keyslot,
		    const void *pass, size_t passlen)
{
	const char *label = role == ROLE_ROOT ? "root" : "jobs";
	const char *dev = ctx->parts[role].dev;
	enum cfg_id pin_key = role == ROLE_ROOT ? CFG_ROOT_VOLUME_KEY_PIN : CFG_JOBS_VOLUME_KEY_PIN;
	const struct vol_plan *v = &ctx->plan.vol[role]; /* PLAN_ROOT, PLAN_JOBS */
	cleanup_secret struct secret *vk = NULL;
	char event[VOLUME_KEY_EVENT_MAX], dmname[32];
	uint8_t binding[VOLUME_KEY_PIN_LEN];
	int size = crypt_get_volume_key_size(cd), slot, r;

	if (size <= 0)
		return log_fail(&ctx->log, -EINVAL, "%s: %s: the LUKS2 header gives no volume key size", label, dev);
	r = secret_new(&vk, (size_t)size);
	if (r < 0)
		return log_fail(&ctx->log, r, "cannot allocate locked memory for a volume key");
	size_t vks = (size_t)size;
	slot = crypt_volume_key_get(cd, keyslot, (char *)vk->data, &vks, pass, passlen);
	if (slot == -EPERM)
		return -EPERM; /* no keyslot opens with this passphrase */
	if (slot < 0)
		return log_fail(&ctx->log, slot, "%s: %s: cannot get the volume key: %s", label, dev, strerror(-slot));
	vk->len = vks;

	/* the same string systemd-cryptsetup measures for this volume name */
	snprintf(dmname, sizeof(dmname), "cvm-%s", label);
	r = volume_key_event_string(name ? name : dmname, crypt_get_uuid(cd), event, sizeof(event));
	if (r == 0)
		r = volume_key_digest(TPM2_HASH_SHA256, vk->data, vk->len, event, binding);
	if (r < 0)
		return log_fail(&ctx->log, r, "%s: %s: cannot compute the volume key binding", label, dev);
	if (name) {
		r = measure_volume_key(ctx, event, vk->data, vk->len);
		if (r < 0)
			return r;
	}
	/* plan_build checked the pin's 64 digits */
	_Static_assert(sizeof(v->pin) == VOLUME_KEY_PIN_LEN, "a pin is one HMAC-SHA256");
	if (v->pinned && !volume_key_pin_equal(binding, v->pin))
		return log_fail(&ctx->log, -EKEYREJECTED,
				"%s: %s: volume key does not match %s: not the volume this image was built with (substituted?)",
				label, dev, cfg_defs[pin_key].name);
	if (!name)
		return slot;
	r = crypt_activate_by_volume_key(cd, name, (const char *)vk->data, vk->len, 0);
	if (r < 0)
		return log_fail(&ctx->log, r, "%s: cannot activate %s: %s", label, name, strerror(-r));
	log_line(&ctx->log, LOG_INFO, "%s: volume key %s (keyslot %d)", label,
		 v->pinned ? (role == ROLE_ROOT ? "matches ROOT_VOLUME_KEY_PIN" : "matches JOBS_VOLUME_KEY_PIN")
			: "not pinned",
		 slot);
	return slot;
}
