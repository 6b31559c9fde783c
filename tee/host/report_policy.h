#ifndef CVMINIT_TEE_HOST_REPORT_POLICY_H
#define CVMINIT_TEE_HOST_REPORT_POLICY_H

#include <stdint.h>

#include "tee/host/report.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"

/* The owner's policy over a report that verified (struct report_policy in
 * report.h): EXIT_OK, or EXIT_REPORT_POLICY after one line saying which
 * field failed and which option relaxes it. */
int snp_policy_check(const struct snp_report *r, const struct verify_opts *o);
int tdx_policy_check(const uint8_t td_attributes[8], const uint8_t xfam[8], const uint8_t tee_tcb_svn[16],
		     const struct verify_opts *o);

#endif
