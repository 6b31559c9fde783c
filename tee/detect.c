/* Stage 4: which TEE the guest runs in. The guest interfaces appear once the
 * modules stage loaded sev-guest / tdx-guest / tsm. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "init/stages.h"

static int exists(const char *base, const char *rel)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return stat(path, &st) == 0;
}

static const char *tee_name(enum tee_kind k)
{
	return k == TEE_SNP ? "snp" : k == TEE_TDX ? "tdx" : "none";
}

/* configfs carries configfs-tsm (attestation reports) and NVFlare's TDX
 * attestation expects it at /sys/kernel/config. It may be a module, loaded
 * by the modules stage, so it is mounted here rather than in early. */
static void mount_configfs(struct boot_ctx *ctx)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/kernel/config", ctx->sysfs);
	if (mount("configfs", path, "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		log_line(&ctx->log, LOG_INFO, "configfs mounted at /sys/kernel/config");
	else if (errno != EBUSY)
		log_line(&ctx->log, LOG_INFO, "configfs not available (%s)", strerror(errno));
}

int stage_tee(struct boot_ctx *ctx)
{
	mount_configfs(ctx);
	int snp = exists(ctx->devfs, "sev-guest");
	int tdx = exists(ctx->devfs, "tdx_guest");
	int tsm = exists(ctx->sysfs, "kernel/config/tsm/report");
	static const char *const want_names[] = { "auto", "snp", "tdx", "mock" };
	enum tee_want want = ctx->plan.tee;

#ifdef CVMINIT_TEST_BUILD
	if (want == TEE_WANT_MOCK) {
		ctx->tee = cfg_is(&ctx->cfg, CFG_MOCK_TEE_KIND, "tdx") ? TEE_TDX : TEE_SNP;
		log_line(&ctx->log, LOG_WARN, "MOCK TEE (TEST BUILD): %s are signed by a test key",
			 ctx->tee == TEE_TDX ? "TDX quotes" : "reports");
		return 0;
	}
#endif
	if (snp && tdx)
		return log_fail(&ctx->log, -EINVAL, "both /dev/sev-guest and /dev/tdx_guest exist: refusing to guess");
	ctx->tee = snp ? TEE_SNP : tdx ? TEE_TDX : TEE_NONE;
	if (ctx->tee == TEE_NONE) {
		if (CVMINIT_IS_TEST_BUILD) {
			log_line(&ctx->log, LOG_WARN, "no SEV-SNP or TDX guest interface: continuing because this is a TEST BUILD");
			return 0;
		}
		return log_fail(&ctx->log, -ENODEV,
				"no SEV-SNP or TDX guest interface (/dev/sev-guest, /dev/tdx_guest%s)",
				tsm ? "" : ", configfs-tsm");
	}
	if (want != TEE_WANT_AUTO && (want == TEE_WANT_SNP) != (ctx->tee == TEE_SNP))
		return log_fail(&ctx->log, -EINVAL, "TEE=%s configured but this guest is %s", want_names[want],
				tee_name(ctx->tee));
	log_line(&ctx->log, LOG_INFO, "%s guest (%s%s)", ctx->tee == TEE_SNP ? "SEV-SNP" : "TDX",
		 ctx->tee == TEE_SNP ? "/dev/sev-guest" : "/dev/tdx_guest", tsm ? ", configfs-tsm" : "");
	return 0;
}
