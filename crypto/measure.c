/* Stage 7 (and the separator of stage 12): one event per verified fact into
 * MEASURE_PCR of every active TPM bank, each also written to the event log
 * (systemd's format) under /run/log/cvminit, and mirrored into a TDX RTMR
 * where the kernel offers it. The sealed system key targets the PCR value
 * before the separator. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/eventlog.h"
#include "crypto/measure.h"
#include "crypto/measure_events.h"
#include "crypto/tpm2.h"
#include "crypto/volume_key.h"
#include "init/stages.h"
#include "init/util.h"

/* TDX: PCRs 8-15 map to RTMR2 (the TCG/Intel CC mapping). Kernel >= 6.16
 * exposes it as an extendable sysfs attribute. */
#define RTMR_ATTR "/class/misc/tdx_guest/measurements/rtmr2:sha384"

/* d: a SHA-384 digest. 1 when extended, 0 without the interface, <0. */
static int rtmr_extend(struct boot_ctx *ctx, const uint8_t d[48])
{
	char path[160];
	int fd, r;

	snprintf(path, sizeof(path), "%s" RTMR_ATTR, ctx->sysfs);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* no RTMR interface in this kernel (or not TDX) */
	r = fd_write_all(fd, d, 48);
	close(fd);
	if (r < 0)
		return log_fail(&ctx->log, r, "extending RTMR2 failed: %s", strerror(-r));
	return 1;
}

/* One event into every active bank (and RTMR2), logged. key: the digests
 * are HMACs keyed by it (systemd's volume-key event), else hashes. */
static int extend_event(struct boot_ctx *ctx, const char *string, const char *type, const uint8_t *key, size_t keylen)
{
	unsigned pcr = ctx->plan.measure_pcr;
	size_t len = strlen(string);
	struct tpm2_digests d;
	uint8_t d384[TPM2_MAX_DIGEST];
	char err[256];
	int r;

	if (ctx->tpm) {
		r = tpm2_extend_keyed(ctx->tpm, pcr, key, keylen, string, len, &d, err, sizeof(err));
		if (r < 0)
			return log_fail(&ctx->log, r, "PCR %u: %s", pcr, err);
		r = eventlog_append(EVENTLOG_PATH, pcr, &d, string, type);
		if (r < 0)
			return log_fail(&ctx->log, r, "cannot write " EVENTLOG_PATH ": %s", strerror(-r));
	}
	r = key ? tpm2_hmac(TPM2_ALG_SHA384, key, keylen, string, len, d384) : tpm2_hash(TPM2_ALG_SHA384, string, len, d384);
	if (r < 0)
		return log_fail(&ctx->log, r, "hashing an event failed");
	r = rtmr_extend(ctx, d384);
	explicit_bzero(d384, sizeof(d384));
	if (r < 0)
		return r;
	if (r > 0 && !ctx->tpm) {
		/* only the RTMR: the log still says what went in */
		d.count = 1;
		d.alg[0] = TPM2_ALG_SHA384;
		r = key ? tpm2_hmac(TPM2_ALG_SHA384, key, keylen, string, len, d.digest[0])
			: tpm2_hash(TPM2_ALG_SHA384, string, len, d.digest[0]);
		if (r == 0)
			r = eventlog_append(EVENTLOG_PATH, pcr, &d, string, type);
		if (r < 0)
			return log_fail(&ctx->log, r, "cannot write " EVENTLOG_PATH ": %s", strerror(-r));
	}
	if (ctx->tpm || r > 0)
		ctx->measured++;
	return 0;
}

static int measure_one(struct boot_ctx *ctx, const struct measure_event *ev)
{
	return extend_event(ctx, ev->string, ev->type, NULL, 0);
}

int measure_volume_key(struct boot_ctx *ctx, const char *event, const uint8_t *vk, size_t vklen)
{
	/* measured exactly when stage measure measured (a TPM, or an RTMR) */
	if (ctx->plan.tpm_measure == TPM_MEASURE_NONE || (!ctx->tpm && !ctx->measured) || ctx->capped)
		return 0;
	return extend_event(ctx, event, VOLUME_KEY_EVENT_TYPE, vk, vklen);
}

static int build_events(struct boot_ctx *ctx, struct measure_events *ev)
{
	struct measure_facts f;

	measure_facts_from_config(&ctx->cfg, ctx->config_digest, &f);
	if (measure_events_build(&f, ev) < 0)
		return log_fail(&ctx->log, -EINVAL, "cannot build the measurement events");
	return 0;
}

int stage_measure(struct boot_ctx *ctx)
{
	struct measure_events ev;
	const char *dev = ctx->plan.tpm_device;
	enum key_source root_ks = ctx->plan.vol[PLAN_ROOT].ks;
	struct stat st;
	char err[256];
	int r;

	if (ctx->plan.tpm_measure == TPM_MEASURE_NONE) {
		log_line(&ctx->log, LOG_INFO, "TPM measurement off (TPM_MEASURE=none)");
		return 0;
	}
	if (stat(dev, &st) < 0) {
		if (ctx->plan.tpm_measure == TPM_MEASURE_REQUIRED || root_ks == KS_TPM2)
			return log_fail(&ctx->log, -ENODEV, "no TPM at %s (TPM_MEASURE=%s, ROOT_KEY_SOURCE=%s)", dev,
					tpm_measure_name(ctx->plan.tpm_measure), key_source_name(root_ks));
		log_line(&ctx->log, LOG_INFO, "no TPM at %s: nothing to extend", dev);
	} else {
		r = tpm2_open_device(dev, &ctx->tpm, err, sizeof(err));
		if (r < 0)
			return log_fail(&ctx->log, r, "%s: %s", dev, err);
	}
	r = build_events(ctx, &ev);
	if (r < 0)
		return r;
	r = mkdir_p_nofollow(EVENTLOG_DIR, 0755);
	if (r < 0)
		return log_fail(&ctx->log, r, "cannot create " EVENTLOG_DIR ": %s", strerror(-r));
	/* the volume keys follow at unlock, the separator at switch_root */
	for (unsigned i = 0; i < ev.sealed; i++) {
		r = measure_one(ctx, &ev.ev[i]);
		if (r < 0)
			return r;
	}
	if (ctx->tpm)
		log_line(&ctx->log, LOG_INFO, "%u events extended into PCR %u, logged to " EVENTLOG_PATH, ev.sealed,
			 ctx->plan.measure_pcr);
	return 0;
}

/* The separator, unless it is in already; closes the TPM. 1 when
 * extended, 0 when there was nothing to cap, <0 (reason logged). */
static int cap(struct boot_ctx *ctx, char *value, size_t vlen)
{
	struct measure_events ev;
	int r = 0;

	if (vlen)
		value[0] = '\0';
	if (ctx->capped || (!ctx->tpm && !ctx->measured))
		return 0;
	r = build_events(ctx, &ev);
	if (r == 0)
		r = measure_one(ctx, &ev.ev[ev.count - 1]);
	if (r == 0)
		ctx->capped = true;
	if (r == 0 && ctx->tpm && vlen) {
		uint8_t v[TPM2_MAX_DIGEST];
		char err[128];
		if (tpm2_pcr_read(ctx->tpm, ctx->plan.measure_pcr, TPM2_ALG_SHA256, v, err, sizeof(err)) == 0)
			tpm2_hex_encode(v, 32, value, vlen);
	}
	if (ctx->tpm) {
		tpm2_close(ctx->tpm);
		ctx->tpm = NULL;
	}
	return r < 0 ? r : 1;
}

int measure_separator(struct boot_ctx *ctx)
{
	int r = cap(ctx, NULL, 0);

	if (r > 0)
		log_line(&ctx->log, LOG_INFO, "separator extended into PCR %u: the system key can no longer be unsealed",
			 ctx->plan.measure_pcr);
	return r < 0 ? r : 0;
}

int measure_cap(struct boot_ctx *ctx, char *sha256_hex, size_t len)
{
	return cap(ctx, sha256_hex, len);
}
