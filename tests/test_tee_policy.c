/* The guest's own-report policy on a real SNP report (whose policy has
 * DEBUG set, so the check must flag it) and on edited copies; the canonical
 * evidence document. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "init/config.h"
#include "init/plan.h"
#include "tee/evidence.h"
#include "tee/guest.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"
#include "tests/harness.h"

TH_DEFINE("tee_policy");

static uint8_t real[4096];
static size_t real_len;
static struct cvm_config cfg;
static struct boot_plan plan_;

/* the checks read the plan the config stage makes of cfg */
static const struct boot_plan *plan_of(const struct cvm_config *c)
{
	char e[256];
	if (plan_build(c, false, &plan_, e, sizeof(e)) < 0)
		TH_FAIL("plan_build: %s", e);
	return &plan_;
}
static char err[300];

static void load(void)
{
	FILE *f = fopen("tests/data/vectors/go-sev-guest/attestation.bin", "rb");
	real_len = f ? fread(real, 1, sizeof(real), f) : 0;
	if (f)
		fclose(f);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void real_report_debug_policy_is_refused(void)
{
	CHECK(real_len >= SNP_REPORT_SIZE);
	config_defaults(&cfg);
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_SNP, real, real_len, real + 0x50, err, sizeof(err)), -EPERM);
	CHECK_STR(err, "SNP guest policy 0xb0000 allows debugging (POLICY.DEBUG, bit 19): the host could read this VM");
}

static void clean_policy_passes_and_binding_is_checked(void)
{
	uint8_t rep[SNP_REPORT_SIZE], rd[64];
	memcpy(rep, real, sizeof(rep));
	put64(rep + 0x08, 0x30000);
	memcpy(rd, rep + 0x50, 64);
	config_defaults(&cfg);
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_SNP, rep, sizeof(rep), rd, err, sizeof(err)), 0);
	rd[63] ^= 1;
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_SNP, rep, sizeof(rep), rd, err, sizeof(err)), -EPERM);
	CHECK_STR(err, "SNP report does not carry our REPORT_DATA");
}

static void migration_agent_and_vmpl(void)
{
	uint8_t rep[SNP_REPORT_SIZE];
	char e2[300];
	memcpy(rep, real, sizeof(rep));
	put64(rep + 0x08, 0x30000 | SNP_POLICY_MIGRATE_MA);
	config_defaults(&cfg);
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_SNP, rep, sizeof(rep), rep + 0x50, err, sizeof(err)), -EPERM);
	CHECK_STR(err, "SNP guest policy 0x70000 allows a migration agent (POLICY.MIGRATE_MA, bit 18) and "
		       "SNP_ALLOW_MIGRATION_AGENT=no");
	CHECK_INT(config_parse_file(&cfg, "SNP_ALLOW_MIGRATION_AGENT=yes\n", 30, "c", e2, sizeof(e2)), 0);
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_SNP, rep, sizeof(rep), rep + 0x50, err, sizeof(err)), 0);
	put64(rep + 0x08, 0x30000);
	rep[0x30] = 2; /* vmpl */
	config_defaults(&cfg);
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_SNP, rep, sizeof(rep), rep + 0x50, err, sizeof(err)), -EPERM);
	CHECK_STR(err, "SNP report VMPL is 2, SNP_VMPL is 0");
}

static void malformed_reports(void)
{
	config_defaults(&cfg);
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_SNP, real, 100, real + 0x50, err, sizeof(err)), -EBADMSG);
	CHECK(!strncmp(err, "malformed SNP report: ", 22));
	uint8_t td[TDX_TDREPORT_SIZE] = { 0 };
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_TDX, td, 100, td, err, sizeof(err)), -EBADMSG);
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_NONE, td, 100, td, err, sizeof(err)), -EINVAL);
}

static void tdx_debug_attribute(void)
{
	uint8_t td[TDX_TDREPORT_SIZE] = { 0 };
	struct tdx_tdreport parsed;
	char why[200];
	config_defaults(&cfg);
	td[0] = TDX_TEE_TYPE_TDX; /* REPORTTYPE.type */
	CHECK_INT(tdx_tdreport_parse(td, sizeof(td), &parsed, why, sizeof(why)), 0);
	/* ATTRIBUTES is TDINFO's first field. */
	td[TDX_TDINFO_OFFSET] = 1;
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_TDX, td, sizeof(td), parsed.report_data, err, sizeof(err)), -EPERM);
	CHECK_STR(err, "TDX TD_ATTRIBUTES 0x0000000000000001 has DEBUG (bit 0) set: the host could read this TD");
	td[TDX_TDINFO_OFFSET] = 0;
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_TDX, td, sizeof(td), parsed.report_data, err, sizeof(err)), 0);
}

/* A quote (configfs-tsm, the mock as a TDX guest) is checked like a
 * TDREPORT: header | TD 1.0 body | signature data (no type-6 data needed). */
static void tdx_quote_debug_attribute(void)
{
	enum { BODY = TDX_QUOTE_HEADER_SIZE, SIG = TDX_QUOTE_HEADER_SIZE + TDX_TD10_BODY_SIZE };
	static uint8_t q[SIG + 4 + 134];
	struct tdx_quote parsed;
	char why[200];
	config_defaults(&cfg);
	memset(q, 0, sizeof(q));
	q[0] = 4;
	q[2] = TDX_ATT_KEY_ECDSA_P256;
	q[4] = TDX_TEE_TYPE_TDX;
	q[SIG] = 134; /* signature data: signature, key, certification data type 1, size 0 */
	q[SIG + 4 + 128] = 1;
	memset(q + BODY + 520, 0xab, 64); /* REPORT_DATA */
	q[BODY + 123] = 0x10;             /* SEPT_VE_DISABLE (bit 28) */
	CHECK_INT(tdx_quote_parse(q, sizeof(q), &parsed, why, sizeof(why)), 0);
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_TDX, q, sizeof(q), parsed.body.report_data, err, sizeof(err)), 0);
	q[BODY + 120] = 1; /* TD_ATTRIBUTES.DEBUG */
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_TDX, q, sizeof(q), parsed.body.report_data, err, sizeof(err)), -EPERM);
	CHECK_STR(err, "TDX TD_ATTRIBUTES 0x0000000010000001 has DEBUG (bit 0) set: the host could read this TD");
	q[BODY + 120] = 0;
	uint8_t other[64];
	memset(other, 0xcd, sizeof(other));
	CHECK_INT(tee_check_own_report(plan_of(&cfg), TEE_TDX, q, sizeof(q), other, err, sizeof(err)), -EPERM);
	CHECK_STR(err, "TDX quote does not carry our REPORT_DATA");
}

static void evidence_document_is_canonical(void)
{
	char buf[1024];
	struct evidence_inputs in = { .boot_roothash = "aa", .config_roothash = "none", .data_roothash = "cc",
				      .root_luks_uuid = "c7a11e00-2000-4000-8000-000000000003", .jobs_luks_uuid = "none",
				      .config_sha256 = "bb", .eventlog_sha256 = "none", .nonce = "" };
	int n = evidence_build(&in, buf, sizeof(buf));
	CHECK_STR(buf, "{\"format\":\"cvminit-evidence/1\",\"verity\":{\"boot\":\"aa\",\"config\":\"none\",\"data\":\"cc\"},"
		       "\"luks\":{\"root\":\"c7a11e00-2000-4000-8000-000000000003\",\"jobs\":\"none\"},"
		       "\"config_sha256\":\"bb\",\"eventlog_sha256\":\"none\",\"nonce\":\"\"}");
	CHECK_INT(n, (int)strlen(buf));
	in.nonce = "\"}";
	CHECK_INT(evidence_build(&in, buf, sizeof(buf)), -EINVAL);
	in.nonce = "AB"; /* upper case is not canonical */
	CHECK_INT(evidence_build(&in, buf, sizeof(buf)), -EINVAL);
	in.nonce = "";
	CHECK_INT(evidence_build(&in, buf, 20), -ENOSPC);
}

int main(void)
{
	load();
	TEST(real_report_debug_policy_is_refused);
	TEST(clean_policy_passes_and_binding_is_checked);
	TEST(migration_agent_and_vmpl);
	TEST(malformed_reports);
	TEST(tdx_debug_attribute);
	TEST(tdx_quote_debug_attribute);
	TEST(evidence_document_is_canonical);
	return TH_END();
}
