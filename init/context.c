#include "init/context.h"

#include <string.h>

void boot_ctx_init(struct boot_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	log_init(&ctx->log);
	config_defaults(&ctx->cfg);
	/* the defaults' plan, so that no stage ever reads an empty one; the
	 * config stage replaces it (the defaults always build) */
	char err[8];
	(void)plan_build(&ctx->cfg, CVMINIT_IS_TEST_BUILD, &ctx->plan, err, sizeof(err));
	ctx->sysfs = "/sys";
	ctx->procfs = "/proc";
	ctx->devfs = "/dev";
	ctx->sysroot = "/sysroot";
	ctx->config_path = CONFIG_PATH;
	ctx->modules_path = "/etc/cvminit/modules.load";
}
