/* The guest refuses to run when its own report shows that the host could
 * inspect it. Pure: shared by the init and the unit tests. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tee/guest.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"

static int check_snp(const struct boot_plan *plan, const uint8_t *buf, size_t len, const uint8_t rd[64], char *err,
		     size_t errlen)
{
	struct snp_report r;
	char why[200];

	if (snp_report_parse(buf, len, &r, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "malformed SNP report: %s", why);
		return -EBADMSG;
	}
	if (r.policy & SNP_POLICY_DEBUG) {
		snprintf(err, errlen, "SNP guest policy 0x%llx allows debugging (POLICY.DEBUG, bit 19): the host could read this VM",
			 (unsigned long long)r.policy);
		return -EPERM;
	}
	if ((r.policy & SNP_POLICY_MIGRATE_MA) && !plan->snp_allow_migration_agent) {
		snprintf(err, errlen, "SNP guest policy 0x%llx allows a migration agent (POLICY.MIGRATE_MA, bit 18) and SNP_ALLOW_MIGRATION_AGENT=no",
			 (unsigned long long)r.policy);
		return -EPERM;
	}
	if (r.vmpl != plan->snp_vmpl) {
		snprintf(err, errlen, "SNP report VMPL is %u, SNP_VMPL is %u", r.vmpl, plan->snp_vmpl);
		return -EPERM;
	}
	if (memcmp(r.report_data, rd, 64) != 0) {
		snprintf(err, errlen, "SNP report does not carry our REPORT_DATA");
		return -EPERM;
	}
	return 0;
}

static int check_tdx(const uint8_t *buf, size_t len, const uint8_t rd[64], char *err, size_t errlen)
{
	struct tdx_tdreport r;
	char why[200];

	if (tdx_tdreport_parse(buf, len, &r, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "malformed TDREPORT: %s", why);
		return -EBADMSG;
	}
	uint64_t attr = tdx_attributes_u64(r.td_attributes);
	if (attr & TDX_ATTR_DEBUG) {
		snprintf(err, errlen, "TDX TD_ATTRIBUTES 0x%016llx has DEBUG (bit 0) set: the host could read this TD",
			 (unsigned long long)attr);
		return -EPERM;
	}
	if (memcmp(r.report_data, rd, 64) != 0) {
		snprintf(err, errlen, "TDREPORT does not carry our REPORT_DATA");
		return -EPERM;
	}
	return 0;
}

int tee_check_own_report(const struct boot_plan *plan, enum tee_kind kind, const uint8_t *report, size_t len,
			 const uint8_t report_data[64], char *err, size_t errlen)
{
	if (kind == TEE_SNP)
		return check_snp(plan, report, len, report_data, err, errlen);
	if (kind == TEE_TDX)
		return check_tdx(report, len, report_data, err, errlen);
	snprintf(err, errlen, "no TEE report to check");
	return -EINVAL;
}
