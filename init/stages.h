#ifndef CVMINIT_STAGES_H
#define CVMINIT_STAGES_H

#include <stddef.h>

#include "init/context.h"

/* Every stage is a function of the boot context: 0, or a negative errno
 * after log_fail() recorded the reason. */
typedef int (*stage_fn)(struct boot_ctx *ctx);

struct stage {
	const char *name;
	stage_fn run;
};

extern const struct stage boot_stages[];
extern const size_t boot_stage_count;

/* Runs stages in order; returns 0 or the first failure (ctx->log.stage
 * names the failed stage, ctx->log.reason says why). */
int boot_run(struct boot_ctx *ctx, const struct stage *stages, size_t n);

int stage_early(struct boot_ctx *ctx);
int stage_config(struct boot_ctx *ctx);
int stage_modules(struct boot_ctx *ctx);
int stage_tee(struct boot_ctx *ctx);
int stage_partitions(struct boot_ctx *ctx);
int stage_verity(struct boot_ctx *ctx);
int stage_luks(struct boot_ctx *ctx);
int stage_measure(struct boot_ctx *ctx);
int stage_attest(struct boot_ctx *ctx);
int stage_root(struct boot_ctx *ctx);
int stage_jobstore(struct boot_ctx *ctx);
int stage_mounts(struct boot_ctx *ctx);
int stage_harden(struct boot_ctx *ctx);
int stage_switch_root(struct boot_ctx *ctx);

/* Logs "cvminit: FATAL: <stage>: <reason>", wipes key material, syncs and
 * powers off or reboots as configured. Never returns. */
_Noreturn void fatal_stop(struct boot_ctx *ctx);

#endif
