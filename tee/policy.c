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

/* A quote (configfs-tsm, the mock) or a TDREPORT (/dev/tdx_guest): the
 * same TD_ATTRIBUTES and REPORT_DATA either way. */
static int check_tdx(const uint8_t *buf, size_t len, const uint8_t rd[64], char *err, size_t errlen)
{
	struct tdx_quote q;
	struct tdx_tdreport r;
	const uint8_t *attr_bytes, *report_data;
	const char *what;
	char why[200], why2[200];

	if (tdx_quote_parse(buf, len, &q, why, sizeof(why)) == 0) {
		attr_bytes = q.body.td_attributes;
		report_data = q.body.report_data;
		what = "TDX quote";
	} else if (tdx_tdreport_parse(buf, len, &r, why2, sizeof(why2)) == 0) {
		attr_bytes = r.td_attributes;
		report_data = r.report_data;
		what = "TDREPORT";
	} else {
		snprintf(err, errlen, "malformed TDX quote (%s) or TDREPORT (%s)", why, why2);
		return -EBADMSG;
	}
	uint64_t attr = tdx_attributes_u64(attr_bytes);
	if (attr & TDX_ATTR_DEBUG) {
		snprintf(err, errlen, "TDX TD_ATTRIBUTES 0x%016llx has DEBUG (bit 0) set: the host could read this TD",
			 (unsigned long long)attr);
		return -EPERM;
	}
	if (memcmp(report_data, rd, 64) != 0) {
		snprintf(err, errlen, "%s does not carry our REPORT_DATA", what);
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
