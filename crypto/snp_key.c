#include "crypto/snp_key.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <json-c/json.h>
#include <mbedtls/base64.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include "crypto/challenge.h"
#include "crypto/keysource.h"
#include "crypto/luks.h"
#include "crypto/secret.h"
#include "crypto/snp_params.h"
#include "crypto/volume_key.h"
#include "tee/guest.h"

/* The firmware refused the request: with a TCB floor, because the
 * platform's committed TCB is below it. */
static int key_refused(struct boot_ctx *ctx, const struct snp_key_params *p)
{
	if (p->guest_field_select & SNP_FIELD_TCB_VERSION)
		return log_fail(&ctx->log, -EKEYREJECTED,
				"root: the SNP firmware refused the key request: TCB floor SNP_KEY_MIN_TCB=%s is above the "
				"platform's committed TCB (rolled back?)",
				ctx->plan.snp_min_tcb_text);
	return log_fail(&ctx->log, -EKEYREJECTED,
			"root: the SNP firmware refused the key request (invalid parameters: SNP_VMPL=%u, SNP_KEY_SVN=%u)",
			p->vmpl, p->guest_svn);
}

/* derived key -> HKDF-SHA256(label) -> base64: the keyslot's passphrase. */
static int derive_passphrase(struct boot_ctx *ctx, struct secret *pass)
{
	cleanup_secret struct secret *raw = NULL;
	uint8_t okm[32];
	struct snp_key_params p;
	size_t olen = 0;
	int r = secret_new(&raw, 64);

	if (r < 0)
		return log_fail(&ctx->log, r, "cannot allocate locked memory");
	snp_key_params_from_plan(&ctx->plan, &p);
	r = tee_derived_key(ctx, &p, raw);
	if (r == -EKEYREJECTED)
		return key_refused(ctx, &p);
	if (r < 0)
		return r;
	r = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), NULL, 0, raw->data, raw->len,
			 (const unsigned char *)SNP_HKDF_LABEL, strlen(SNP_HKDF_LABEL), okm, sizeof(okm));
	if (r == 0)
		r = mbedtls_base64_encode(pass->data, pass->cap, &olen, okm, sizeof(okm));
	explicit_bzero(okm, sizeof(okm));
	if (r != 0)
		return log_fail(&ctx->log, -EIO, "deriving the LUKS2 passphrase failed");
	pass->len = olen;
	return 0;
}

/* The token: parameters for humans and tools, the keyslot it opens, and
 * keyslots still to be removed by an interrupted enrollment. */
struct snp_token {
	int id;           /* -1: none */
	char min_tcb[17]; /* the floor it was enrolled with ("": none) */
	bool min_tcb_bad; /* cvminit-snp-min-tcb present but not a TCB_VERSION */
	int keyslot;      /* -1: none yet */
	int pending[8];
	int npending;
};

/* A keyslot number from the token (on the disk: not trusted), 0..31. */
static int keyslot_of(struct json_object *v)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	char *end;
	long n;

	if (!s || !*s)
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	return *end || errno || n < 0 || n > 31 ? -1 : (int)n;
}

static int token_read(struct crypt_device *cd, struct snp_token *t)
{
	t->id = -1;
	t->keyslot = -1;
	t->npending = 0;
	t->min_tcb[0] = '\0';
	t->min_tcb_bad = false;
	for (int id = 0; id < 32; id++) {
		const char *json = NULL, *type = NULL;
		if (crypt_token_status(cd, id, &type) == CRYPT_TOKEN_INACTIVE || !type || strcmp(type, SNP_TOKEN_TYPE))
			continue;
		if (crypt_token_json_get(cd, id, &json) < 0)
			continue;
		struct json_object *o = json_tokener_parse(json), *a;
		if (!o)
			return -EINVAL;
		t->id = id;
		if (json_object_object_get_ex(o, "cvminit-snp-min-tcb", &a)) {
			const char *v = json_object_is_type(a, json_type_string) ? json_object_get_string(a) : NULL;
			uint64_t tcb;
			if (v && (!*v || snp_tcb_parse(v, &tcb) == 0))
				snprintf(t->min_tcb, sizeof(t->min_tcb), "%s", v);
			else
				t->min_tcb_bad = true;
		}
		if (json_object_object_get_ex(o, "keyslots", &a) && json_object_is_type(a, json_type_array) &&
		    json_object_array_length(a) > 0)
			t->keyslot = keyslot_of(json_object_array_get_idx(a, 0));
		if (json_object_object_get_ex(o, "cvminit-snp-pending-removal", &a)) {
			if (!json_object_is_type(a, json_type_array)) {
				json_object_put(o);
				return -EINVAL;
			}
			for (size_t i = 0; i < json_object_array_length(a) && t->npending < 8; i++) {
				int k = keyslot_of(json_object_array_get_idx(a, i));
				if (k < 0) {
					json_object_put(o);
					return -EINVAL;
				}
				t->pending[t->npending++] = k;
			}
		}
		json_object_put(o);
		return 0;
	}
	return 0;
}

static int token_write(struct boot_ctx *ctx, struct crypt_device *cd, struct snp_token *t)
{
	char json[1024], ks[16] = "", pend[96] = "";
	size_t used = 0;
	int r;

	if (t->keyslot >= 0)
		snprintf(ks, sizeof(ks), "\"%d\"", t->keyslot);
	for (int i = 0; i < t->npending; i++)
		used += (size_t)snprintf(pend + used, sizeof(pend) - used, "%s\"%d\"", i ? "," : "", t->pending[i]);
	snprintf(json, sizeof(json),
		 "{\"type\":\"" SNP_TOKEN_TYPE "\",\"keyslots\":[%s],\"cvminit-snp-root-key\":\"%s\","
		 "\"cvminit-snp-fields\":\"%s\",\"cvminit-snp-vmpl\":%u,\"cvminit-snp-svn\":%u,\"cvminit-snp-min-tcb\":\"%s\","
		 "\"cvminit-snp-kdf\":\"HKDF-SHA256(" SNP_HKDF_LABEL ")\",\"cvminit-snp-pending-removal\":[%s]}",
		 ks, ctx->plan.snp_key_vmrk ? "vmrk" : "vcek", ctx->plan.snp_key_fields_text, ctx->plan.snp_vmpl,
		 ctx->plan.snp_key_svn, ctx->plan.snp_min_tcb_text, pend);
	r = crypt_token_json_set(cd, t->id >= 0 ? t->id : CRYPT_ANY_TOKEN, json);
	if (r < 0)
		return log_fail(&ctx->log, r, "root: cannot write the " SNP_TOKEN_TYPE " token: %s", strerror(-r));
	t->id = r;
	return 0;
}

/* Test builds: stop dead at a chosen point of the enrollment, as a power
 * cut would (no sync: what libcryptsetup already wrote is on the disk). */
static void maybe_powercut(struct boot_ctx *ctx, enum mock_powercut point)
{
#ifdef CVMINIT_TEST_BUILD
	static const char *const names[] = { [POWERCUT_AFTER_TOKEN] = "after-token",
					     [POWERCUT_AFTER_KEYSLOT] = "after-keyslot",
					     [POWERCUT_AFTER_DESTROY] = "after-destroy" };

	if (ctx->plan.mock.powercut == point) {
		log_line(&ctx->log, LOG_WARN, "MOCK POWER CUT %s (TEST BUILD)", names[point]);
		reboot(RB_POWER_OFF);
	}
#else
	(void)ctx;
	(void)point;
#endif
}

/* Removes what an enrollment left pending, once the derived key is known to
 * open keyslot k: every later boot converges to "derived key only". */
static int finish_pending(struct boot_ctx *ctx, struct crypt_device *cd, struct snp_token *t, int k)
{
	int changed = 0, r;

	if (t->id < 0 || t->keyslot != k) {
		t->keyslot = k;
		changed = 1;
	}
	for (int i = 0; i < t->npending; i++) {
		int p = t->pending[i];
		if (p == k)
			continue;
		crypt_keyslot_info st = crypt_keyslot_status(cd, p);
		if (st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST || st == CRYPT_SLOT_UNBOUND) {
			r = crypt_keyslot_destroy(cd, p);
			if (r < 0)
				return log_fail(&ctx->log, r, "root: cannot remove provisioning keyslot %d: %s", p, strerror(-r));
			log_line(&ctx->log, LOG_INFO, "root: provisioning keyslot %d removed", p);
		}
		maybe_powercut(ctx, POWERCUT_AFTER_DESTROY);
		changed = 1;
	}
	t->npending = 0;
	if (!changed)
		return 0;
	r = token_write(ctx, cd, t);
	if (r == 0)
		log_line(&ctx->log, LOG_INFO, "root: enrollment complete: keyslot %d opens with the snp-derived key only", k);
	return r;
}

struct prov_try {
	struct boot_ctx *ctx;
	struct crypt_device *cd;
	int keyslot;
	struct secret *copy;
};

static int check_provisioning(void *arg, const struct secret *key)
{
	struct prov_try *t = arg;
	/* check only: the keyslot opens, and the volume is the pinned one
	 * (nothing is enrolled into a volume the host made) */
	int r = volume_key_open(t->ctx, t->cd, ROLE_ROOT, NULL, CRYPT_ANY_SLOT, key->data, key->len);

	if (r < 0)
		return r; /* -EPERM: another try; else logged */
	t->keyslot = r;
	memcpy(t->copy->data, key->data, key->len);
	t->copy->len = key->len;
	return 0;
}

static int enroll(struct boot_ctx *ctx, struct crypt_device *cd, struct snp_token *t, const struct secret *pass,
		  const char *dev)
{
	cleanup_secret struct secret *prov = NULL;
	struct crypt_pbkdf_type pbkdf = { .type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
					  .flags = CRYPT_PBKDF_NO_BENCHMARK };
	int r = secret_new(&prov, PASSPHRASE_MAX + 1);

	if (r < 0)
		return log_fail(&ctx->log, r, "cannot allocate locked memory");
	struct prov_try pt = { ctx, cd, -1, prov };
	struct key_request req = {
		.label = "root (provisioning)",
		.device = dev,
		.source = key_source_name(ctx->plan.provision),
		.tries = ctx->plan.prompt_tries,
#ifdef CVMINIT_TEST_BUILD
		.keyfile = ctx->plan.vol[PLAN_ROOT].keyfile,
#endif
		.offer = challenge_offer,
	};
	r = keysource_unlock(ctx, &req, check_provisioning, &pt);
	if (r < 0)
		return r;
	/* 1: record intent (which keyslot goes) before anything else changes */
	t->npending = 1;
	t->pending[0] = pt.keyslot;
	r = token_write(ctx, cd, t);
	if (r < 0)
		return r;
	maybe_powercut(ctx, POWERCUT_AFTER_TOKEN);
	/* 2: the derived key's keyslot; PBKDF2 with few iterations: the key is
	 * already 256 bits of hardware entropy (as systemd does for TPM keys) */
	r = crypt_set_pbkdf_type(cd, &pbkdf);
	if (r == 0)
		r = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, (const char *)prov->data, prov->len,
						    (const char *)pass->data, pass->len);
	if (r < 0)
		return log_fail(&ctx->log, r, "root: cannot add the snp-derived keyslot: %s", strerror(-r));
	log_line(&ctx->log, LOG_INFO, "root: snp-derived key enrolled in keyslot %d", r);
	maybe_powercut(ctx, POWERCUT_AFTER_KEYSLOT);
	/* 3: point the token at it and remove the provisioning keyslot */
	return finish_pending(ctx, cd, t, r);
}

/* The token records the TCB floor the key was enrolled with (the key mixes
 * it in). The token is the host's, so this only explains why the derived
 * key does not open p3 when the configured floor differs from the enrolled
 * one. A token from before floors (no field) counts as "no floor". */
static int check_token_floor(struct boot_ctx *ctx, const struct snp_token *t)
{
	const char *want = ctx->plan.snp_min_tcb_text;

	if (t->id < 0)
		return 0;
	if (t->min_tcb_bad)
		return log_fail(&ctx->log, -EINVAL, "root: the " SNP_TOKEN_TYPE " token's cvminit-snp-min-tcb is not a TCB_VERSION");
	if (strcasecmp(t->min_tcb, want) != 0)
		return log_fail(&ctx->log, -EPERM,
				"root: p3 was enrolled with SNP_KEY_MIN_TCB=%s but the configuration says SNP_KEY_MIN_TCB=%s "
				"(the key mixes the floor in: re-enroll)",
				*t->min_tcb ? t->min_tcb : "(none)", *want ? want : "(none)");
	return 0;
}

/* cd reads the checked header copy (crypto/luks.c); a change is written
 * to the disk's own header as before (power-cut safe: libcryptsetup's own
 * writes, in the order above), then read back, checked again and cd reloaded
 * from the new copy, so what is activated is again what was checked.
 * k >= 0: finish what is pending for keyslot k; else enroll. */
static int on_disk(struct boot_ctx *ctx, struct crypt_device *cd, struct snp_token *t, int k, const struct secret *pass,
		   const char *dev)
{
	struct crypt_device *disk = NULL;
	int r = luks_disk_open(ctx, ROLE_ROOT, &disk);

	if (r < 0)
		return r;
	r = k >= 0 ? finish_pending(ctx, disk, t, k) : enroll(ctx, disk, t, pass, dev);
	crypt_free(disk);
	if (r == 0)
		r = luks_copy_refresh(ctx, ROLE_ROOT);
	if (r == 0)
		r = luks_copy_reload(ctx, ROLE_ROOT, cd);
	return r;
}

int snp_unlock(struct boot_ctx *ctx, struct crypt_device *cd, const char *name, const char *dev)
{
	cleanup_secret struct secret *pass = NULL;
	struct snp_token t;
	int r = secret_new(&pass, 64);

	if (r < 0)
		return log_fail(&ctx->log, r, "cannot allocate locked memory");
	r = derive_passphrase(ctx, pass);
	if (r < 0)
		return r;
	if (token_read(cd, &t) < 0)
		return log_fail(&ctx->log, -EINVAL, "root: the " SNP_TOKEN_TYPE " token is not valid JSON");
	/* which keyslot opens, and that the volume is the pinned one, before
	 * any header change */
	r = volume_key_open(ctx, cd, ROLE_ROOT, NULL, CRYPT_ANY_SLOT, pass->data, pass->len);
	if (r >= 0) {
		int k = r;
		if (t.id < 0 || t.npending || t.keyslot != k) {
			r = on_disk(ctx, cd, &t, k, NULL, dev);
			if (r < 0)
				return r;
		}
	} else if (r == -EPERM && ctx->plan.root_enroll) {
		r = on_disk(ctx, cd, &t, -1, pass, dev);
		if (r < 0)
			return r;
	} else if (r == -EPERM) {
		r = check_token_floor(ctx, &t);
		if (r < 0)
			return r;
		return log_fail(&ctx->log, -EPERM,
				"root: the snp-derived key does not open %s (not enrolled, or the launch measurement, policy "
				"or key parameters changed)", dev);
	} else {
		return r; /* logged */
	}
	r = volume_key_open(ctx, cd, ROLE_ROOT, name, CRYPT_ANY_SLOT, pass->data, pass->len);
	if (r == -EPERM)
		return log_fail(&ctx->log, r, "root: the snp-derived key no longer opens %s", dev);
	return r < 0 ? r : 0;
}
