/* The body of tpm2_facts_release() and tpm2_facts_testbuild(): included by
 * tpm2_facts.c (release schema) and tpm2_facts_tb.c (the test build's
 * schema, config.c's symbols renamed tb_*). FACTS_FN names the function.
 * What stage_config does, on a file and a command line given here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/host/tpm2_host.h"
#include "init/plan.h"
#ifdef CVMINIT_TEST_BUILD
#include "tee/mock_measure.h"
#endif

int FACTS_FN(const char *text, size_t len, const char *name, const char *cmdline, struct tpm2_host_facts *out,
	     char *err, size_t errlen)
{
	struct cvm_config *cfg = malloc(sizeof(*cfg));
	size_t canon_cap = CFG__COUNT * (CONFIG_VALUE_MAX + 40);
	char *canon = malloc(canon_cap);
	struct measure_facts facts;
	int r, n;

	memset(out, 0, sizeof(*out));
	if (!cfg || !canon) {
		free(cfg);
		free(canon);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	config_defaults(cfg);
	r = memchr(text, '\0', len) ? (snprintf(err, errlen, "%s: NUL byte in the file", name), -EINVAL)
				     : config_parse_file(cfg, text, len, name, err, errlen);
	if (r == 0 && cmdline)
		r = config_parse_cmdline(cfg, cmdline, err, errlen);
#ifdef CVMINIT_TEST_BUILD
	if (r == 0)
		r = config_check_policy(cfg, true, err, errlen);
#else
	if (r == 0)
		r = config_check_policy(cfg, false, err, errlen);
#endif
	if (r == 0) {
		n = config_canonical(cfg, canon, canon_cap);
		r = n < 0 ? (snprintf(err, errlen, "configuration too large to digest"), n)
			  : tpm2_hash(TPM2_HASH_SHA256, canon, (size_t)n, out->config_digest);
	}
	if (r == 0) {
		snprintf(out->tee, sizeof(out->tee), "%s", cfg->val[CFG_TEE]);
		out->pcr = cfg_uint(cfg, CFG_MEASURE_PCR);
		measure_facts_from_config(cfg, out->config_digest, &facts);
		r = measure_events_build(&facts, &out->events);
		if (r < 0)
			snprintf(err, errlen, "the configuration's root hashes or key source cannot be measured");
	}
#ifdef CVMINIT_TEST_BUILD
	if (r == 0) {
		r = mock_measurement_of(cfg, cmdline ? cmdline : "", out->mock_measurement);
		if (r == 0)
			r = mock_tdx_rtmrs_of(cmdline ? cmdline : "", out->mock_rtmr1, out->mock_rtmr2);
		if (r < 0)
			snprintf(err, errlen, "cannot compute the mock TEE's measurement");
		out->has_mock_measurement = r == 0;
	}
#endif
	free(cfg);
	free(canon);
	return r;
}
