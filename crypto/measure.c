/* Stage 7: measurements into the TPM (and RTMRs). */
#include <stdio.h>
#include <sys/stat.h>

#include <tss2/tss2_tcti_device.h>

#include "init/stages.h"

int stage_measure(struct boot_ctx *ctx)
{
	char dev[64];
	struct stat st;
	size_t size = 0;

	snprintf(dev, sizeof(dev), "%s/tpmrm0", ctx->devfs);
	/* A size query checks the device TCTI is linked in and usable. */
	if (Tss2_Tcti_Device_Init(NULL, &size, NULL) != 0)
		return log_fail(&ctx->log, -5, "TPM device TCTI unavailable");
	log_line(&ctx->log, LOG_INFO, "no TPM measurement in this configuration (TPM %s: %s)", dev,
		 stat(dev, &st) == 0 ? "present" : "absent");
	return 0;
}
