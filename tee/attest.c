/* Stage 8: the attestation report bound to what was measured. */
#include "init/stages.h"

int stage_attest(struct boot_ctx *ctx)
{
	log_line(&ctx->log, LOG_INFO, "no attestation report in this configuration");
	return 0;
}
