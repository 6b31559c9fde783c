/* The challenge at a key prompt (see challenge.h). */
#include "crypto/challenge.h"

#include <errno.h>
#include <stdlib.h>

#include "tee/guest.h"

int challenge_offer(struct boot_ctx *ctx, enum plan_prompt prompt, const char *label, struct wrap_guest **out)
{
	const struct boot_plan *plan = &ctx->plan;
	bool jobs = prompt == PROMPT_JOBS;
	bool signed_only = jobs ? plan->jobs_signer_set : plan->root_signer_set;
	struct wrap_guest *w = NULL;
	struct tee_report *rep;
	uint8_t rd[64];
	char *line = NULL;
	int r;

	*out = NULL;
	if (ctx->evidence_len == 0 || (jobs && !plan->jobs_wrapping) || (!jobs && !signed_only))
		return 0;
	r = wrap_guest_new(&w);
	if (r < 0)
		return log_fail(&ctx->log, r, "%s: cannot create the challenge key", label);
	if (signed_only)
		wrap_guest_require_signer(w, jobs ? plan->jobs_signer : plan->root_signer,
					  jobs ? WRAP_PURPOSE_JOBS : WRAP_PURPOSE_ROOT);
	r = wrap_report_data(ctx->evidence, (size_t)ctx->evidence_len, wrap_guest_pub(w), rd);
	rep = calloc(1, sizeof(*rep));
	if (r == 0 && !rep)
		r = -ENOMEM;
	if (r == 0)
		r = tee_get_report(ctx, rd, rep);
	if (r == 0)
		r = wrap_challenge_line(rep->kind == TEE_SNP ? "snp" : "tdx", rep->data, rep->len, wrap_guest_pub(w),
					ctx->evidence, (size_t)ctx->evidence_len, rep->certs, rep->certs_len, &line);
	if (r == 0) {
		wrap_guest_set_report(w, rep->data, rep->len);
		if (plan->typed[prompt] == TYPED_WRAPPED_ONLY)
			log_line(&ctx->log, LOG_INFO,
				 "%s: the key must be sealed to this boot: run 'cvminit key wrap%s' on the challenge below "
				 "and paste its cvminit-wrapped line at the prompt",
				 label, signed_only ? (jobs ? " --sign-key OWNER.pem" : " --sign-key BUILDER.pem --purpose root")
						    : "");
		else
			log_line(&ctx->log, LOG_INFO,
				 "%s: the key may be typed, or sealed to this boot: run 'cvminit key wrap' on the challenge "
				 "below and paste its cvminit-wrapped line at the prompt",
				 label);
		/* Console only: too long for a kmsg record, and nothing in it is secret. */
		log_console_raw(&ctx->log, line);
		log_console_raw(&ctx->log, "\n");
	}
	free(line);
	if (rep)
		tee_report_free(rep);
	free(rep);
	if (r < 0) {
		wrap_guest_free(w);
		return ctx->log.reason[0] ? r : log_fail(&ctx->log, r, "%s: cannot make the challenge", label);
	}
	*out = w;
	return 0;
}
