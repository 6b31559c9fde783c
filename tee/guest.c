/* Which provider answers: configfs-tsm when the kernel has it, else the
 * vendor device; the mock only in test builds, only when configured. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tee/guest.h"

void tee_report_free(struct tee_report *r)
{
	free(r->certs);
	r->certs = NULL;
	r->certs_len = 0;
}

static int have_tsm(struct boot_ctx *ctx)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/kernel/config/tsm/report", ctx->sysfs);
	return stat(path, &st) == 0;
}

int tee_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out)
{
	memset(out, 0, sizeof(*out));
#ifdef CVMINIT_TEST_BUILD
	if (ctx->plan.tee == TEE_WANT_MOCK)
		return mock_get_report(ctx, report_data, out);
#endif
	/* configfs-tsm first: for TDX it is the only way to a quote (the
	 * TDREPORT from /dev/tdx_guest is MAC'd for this machine and cannot be
	 * verified off it); for SNP both give the same signed report. */
	if (ctx->tee != TEE_NONE && have_tsm(ctx)) {
		int r = tsm_get_report(ctx, report_data, out);
		if (r == 0 && out->kind != ctx->tee)
			r = log_fail(&ctx->log, -EINVAL, "configfs-tsm answered for %s on a %s guest",
				     out->kind == TEE_SNP ? "SEV-SNP" : "TDX", ctx->tee == TEE_SNP ? "SEV-SNP" : "TDX");
		if (r == 0)
			return 0;
		log_line(&ctx->log, LOG_WARN, "configfs-tsm failed (%s); trying %s", ctx->log.reason,
			 ctx->tee == TEE_SNP ? "/dev/sev-guest" : "/dev/tdx_guest (a TDREPORT, not a quote)");
		tee_report_free(out);
		memset(out, 0, sizeof(*out));
	}
	if (ctx->tee == TEE_SNP)
		return sev_guest_get_report(ctx, report_data, out);
	if (ctx->tee == TEE_TDX)
		return tdx_guest_get_report(ctx, report_data, out);
	return log_fail(&ctx->log, -ENODEV, "no TEE to ask for a report");
}

int tee_derived_key(struct boot_ctx *ctx, const struct snp_key_params *p, struct secret *key)
{
#ifdef CVMINIT_TEST_BUILD
	if (ctx->plan.tee == TEE_WANT_MOCK && ctx->tee == TEE_SNP)
		return mock_derived_key(ctx, p, key);
#endif
	if (ctx->tee != TEE_SNP)
		return log_fail(&ctx->log, -ENODEV, "an SNP-derived key needs SEV-SNP");
	return sev_guest_derived_key(ctx, p, key);
}
