/* The one way a failed boot ends: a single clear line, keys wiped, then the
 * VM powers off (or reboots). Never a shell. */
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "init/stages.h"

_Noreturn void fatal_stop(struct boot_ctx *ctx)
{
	const char *stage = ctx->log.stage;
	int reboot_wanted = cfg_is(&ctx->cfg, CFG_ON_FAILURE, "reboot");

	/* Late failures happen after the log was closed for exec. */
	if (ctx->log.console_fd < 0 && ctx->log.kmsg_fd < 0)
		log_open(&ctx->log, ctx->devfs, ctx->procfs);
	const char *reason = ctx->log.reason;
	size_t sl = strlen(stage);
	/* a reason that names its own stage first ("root: ...") says it once */
	if (!strncmp(reason, stage, sl) && reason[sl] == ':' && reason[sl + 1] == ' ')
		reason += sl + 2;
	ctx->log.stage = "FATAL";
	log_line(&ctx->log, LOG_CRIT, "%s: %s", stage, reason);
	ctx->log.stage = "halt";
	log_line(&ctx->log, LOG_CRIT, "%s", reboot_wanted ? "rebooting" : "powering off");
	sync();
	reboot(reboot_wanted ? RB_AUTOBOOT : RB_POWER_OFF);
	for (;;)
		pause();
}
