#include "init/stages.h"

#include <string.h>

/* The boot sequence of DESIGN.md, in order. */
const struct stage boot_stages[] = {
	{ "early", stage_early },
	{ "config", stage_config },
	{ "modules", stage_modules },
	{ "tee", stage_tee },
	{ "partitions", stage_partitions },
	{ "verity", stage_verity },
	{ "luks", stage_luks },
	{ "measure", stage_measure },
	{ "attest", stage_attest },
	{ "root", stage_root },
	{ "jobstore", stage_jobstore },
	{ "mounts", stage_mounts },
	{ "harden", stage_harden },
	{ "switch_root", stage_switch_root },
};
const size_t boot_stage_count = sizeof(boot_stages) / sizeof(boot_stages[0]);

int boot_run(struct boot_ctx *ctx, const struct stage *stages, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double t = log_elapsed_ms(&ctx->log);
		int r;

		ctx->log.stage = stages[i].name;
		ctx->log.reason[0] = '\0';
		r = stages[i].run(ctx);
		if (r < 0) {
			if (!ctx->log.reason[0])
				strcpy(ctx->log.reason, "failed without a reason (bug)");
			return r;
		}
		log_line(&ctx->log, LOG_INFO, "done in %.1f ms", log_elapsed_ms(&ctx->log) - t);
	}
	return 0;
}
