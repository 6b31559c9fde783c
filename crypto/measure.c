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
#include "init/stages.h"
#include "init/util.h"

/* TDX: PCRs 8-15 map to RTMR2 (the TCG/Intel CC mapping). Kernel >= 6.16
 * exposes it as an extendable sysfs attribute. */
#define RTMR_ATTR "/class/misc/tdx_guest/measurements/rtmr2:sha384"

static int rtmr_extend(struct boot_ctx *ctx, const char *string)
{
	char path[160];
	uint8_t d[TPM2_MAX_DIGEST];
	int fd, r;

	snprintf(path, sizeof(path), "%s" RTMR_ATTR, ctx->sysfs);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* no RTMR interface in this kernel (or not TDX) */
	r = tpm2_hash(TPM2_ALG_SHA384, string, strlen(string), d);
	if (r == 0)
		r = fd_write_all(fd, d, 48);
	close(fd);
	if (r < 0)
		return log_fail(&ctx->log, r, "extending RTMR2 failed: %s", strerror(-r));
	return 1;
}

static int measure_one(struct boot_ctx *ctx, const struct measure_event *ev)
{
	unsigned pcr = cfg_uint(&ctx->cfg, CFG_MEASURE_PCR);
	struct tpm2_digests d;
	char err[256];
	int r;

	if (ctx->tpm) {
		r = tpm2_extend(ctx->tpm, pcr, ev->string, strlen(ev->string), &d, err, sizeof(err));
		if (r < 0)
			return log_fail(&ctx->log, r, "PCR %u: %s", pcr, err);
		r = eventlog_append(EVENTLOG_PATH, pcr, &d, ev->string, ev->type);
		if (r < 0)
			return log_fail(&ctx->log, r, "cannot write " EVENTLOG_PATH ": %s", strerror(-r));
	}
	r = rtmr_extend(ctx, ev->string);
	if (r < 0)
		return r;
	if (r > 0 && !ctx->tpm) {
		/* only the RTMR: the log still says what went in */
		d.count = 1;
		d.alg[0] = TPM2_ALG_SHA384;
		tpm2_hash(TPM2_ALG_SHA384, ev->string, strlen(ev->string), d.digest[0]);
		r = eventlog_append(EVENTLOG_PATH, pcr, &d, ev->string, ev->type);
		if (r < 0)
			return log_fail(&ctx->log, r, "cannot write " EVENTLOG_PATH ": %s", strerror(-r));
	}
	ctx->measured++;
	return 0;
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
	const char *dev = cfg_str(&ctx->cfg, CFG_TPM_DEVICE);
	struct stat st;
	char err[256];
	int r;

	if (cfg_is(&ctx->cfg, CFG_TPM_MEASURE, "none")) {
		log_line(&ctx->log, LOG_INFO, "TPM measurement off (TPM_MEASURE=none)");
		return 0;
	}
	if (stat(dev, &st) < 0) {
		if (cfg_is(&ctx->cfg, CFG_TPM_MEASURE, "required") || cfg_is(&ctx->cfg, CFG_ROOT_KEY_SOURCE, "tpm2"))
			return log_fail(&ctx->log, -ENODEV, "no TPM at %s (TPM_MEASURE=%s, ROOT_KEY_SOURCE=%s)", dev,
					cfg_str(&ctx->cfg, CFG_TPM_MEASURE), cfg_str(&ctx->cfg, CFG_ROOT_KEY_SOURCE));
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
	for (unsigned i = 0; i + 1 < ev.count; i++) { /* the separator waits for switch_root */
		r = measure_one(ctx, &ev.ev[i]);
		if (r < 0)
			return r;
	}
	if (ctx->tpm)
		log_line(&ctx->log, LOG_INFO, "%u events extended into PCR %u, logged to " EVENTLOG_PATH, ev.count - 1,
			 cfg_uint(&ctx->cfg, CFG_MEASURE_PCR));
	return 0;
}

int measure_separator(struct boot_ctx *ctx)
{
	struct measure_events ev;
	int r;

	if (!ctx->measured)
		return 0;
	r = build_events(ctx, &ev);
	if (r == 0)
		r = measure_one(ctx, &ev.ev[ev.count - 1]);
	if (r == 0)
		log_line(&ctx->log, LOG_INFO, "separator extended into PCR %u: the system key can no longer be unsealed",
			 cfg_uint(&ctx->cfg, CFG_MEASURE_PCR));
	if (ctx->tpm) {
		tpm2_close(ctx->tpm);
		ctx->tpm = NULL;
	}
	return r;
}
