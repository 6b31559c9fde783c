/* The owner's policy over a report whose signature and chain held: what the
 * platform and the guest's launch policy must show before the owner trusts
 * it with a key. Each check has its own message and its own option to relax
 * or tighten it (tee/README.md lists them). */
#include "tee/host/report_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/tpm2_util.h"
#include "tee/host/verify_out.h"

/* TD attributes a production TD may have without asking: SEPT_VE_DISABLE,
 * PKS and KL change nothing the host can use. Everything else (DEBUG,
 * MIGRATABLE, PERFMON, the profiling bits, unknown bits) must be allowed. */
#define TDX_ATTR_DEFAULT_ALLOWED (TDX_ATTR_SEPT_VE_DISABLE | TDX_ATTR_PKS | TDX_ATTR_KL)

const char report_policy_usage[] =
	"policy (each refusal exits 5 with its own message):\n"
	"  --allow-debug              accept a debuggable guest (SNP POLICY.DEBUG, TD_ATTRIBUTES.DEBUG)\n"
	"  --allow-migration-agent    SNP: accept POLICY.MIGRATE_MA (refused by default)\n"
	"  --vmpl N                   SNP: the VMPL the report must show (default 0)\n"
	"  --require-no-smt           SNP: refuse POLICY.SMT (SMT allowed)\n"
	"  --require-single-socket    SNP: require POLICY.SINGLE_SOCKET\n"
	"  --min-report-version N     SNP: the lowest report version accepted (default 2)\n"
	"  --min-tcb bl=N,tee=N,snp=N,ucode=N[,fmc=N]\n"
	"                             SNP: REPORTED_TCB (= the VCEK's TCB extensions) at least this\n"
	"  --td-attributes-allowed HEX\n"
	"                             TDX: TD_ATTRIBUTES bits that may be set, as a 64-bit number\n"
	"                             (default 0xd0000000: SEPT_VE_DISABLE, PKS, KL)\n"
	"  --expect-xfam HEX          TDX: XFAM exactly (16 hex digits, report byte order)\n"
	"  --min-tee-tcb-svn HEX      TDX: TEE_TCB_SVN at least this, byte by byte (32 hex digits)\n";

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* bl=N,tee=N,snp=N,ucode=N[,fmc=N], each 0-255, each named once; the four
 * of every product required, so a typo cannot silently drop a bound. */
static int parse_min_tcb(const char *s, struct report_policy *p)
{
	char buf[128], *save = NULL;
	unsigned seen = 0;
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		static const char *const names[] = { "bl", "tee", "snp", "ucode", "fmc" };
		uint8_t *dst[] = { &p->min_bl, &p->min_tee, &p->min_snp, &p->min_ucode, &p->min_fmc };
		char *eq = strchr(tok, '=');
		unsigned v, i;
		if (!eq)
			return -1;
		*eq = '\0';
		for (i = 0; i < 5 && strcmp(tok, names[i]); i++)
			;
		if (i == 5 || (seen & (1u << i)) || parse_uint(eq + 1, 255, &v))
			return -1;
		seen |= 1u << i;
		*dst[i] = (uint8_t)v;
	}
	if ((seen & 0xf) != 0xf)
		return -1;
	p->min_tcb_has_fmc = !!(seen & 0x10);
	p->has_min_tcb = 1;
	return 0;
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (!strncmp(s, "0x", 2))
		s += 2;
	return strlen(s) == 2 * n && tpm2_hex_decode(s, out, n) == (int)n ? 0 : -1;
}

int report_policy_parse(struct verify_opts *o, const char *opt, const char *val, const char *who)
{
	struct report_policy *p = &o->pol;
	const char *want;

	if (!strcmp(opt, "--allow-debug"))
		return o->allow_debug = 1;
	if (!strcmp(opt, "--allow-migration-agent"))
		return p->allow_migration_agent = 1;
	if (!strcmp(opt, "--require-no-smt"))
		return p->require_no_smt = 1;
	if (!strcmp(opt, "--require-single-socket"))
		return p->require_single_socket = 1;
	if (!strcmp(opt, "--vmpl")) {
		want = "0 to 3";
		if (val && !parse_uint(val, 3, &p->vmpl))
			return 2;
	} else if (!strcmp(opt, "--min-report-version")) {
		want = "a number from 2 to 5";
		if (val && !parse_uint(val, 5, &p->min_report_version) && p->min_report_version >= 2)
			return 2;
	} else if (!strcmp(opt, "--min-tcb")) {
		want = "bl=N,tee=N,snp=N,ucode=N[,fmc=N] (each 0-255)";
		if (val && !parse_min_tcb(val, p))
			return 2;
	} else if (!strcmp(opt, "--td-attributes-allowed")) {
		char *end;
		want = "a 64-bit hex number, e.g. 0xd0000000";
		errno = 0;
		if (val && *val && *val != '-') {
			p->td_attributes_allowed = strtoull(val, &end, 16);
			if (!errno && !*end) {
				p->td_attributes_set = 1;
				return 2;
			}
		}
	} else if (!strcmp(opt, "--expect-xfam")) {
		want = "16 hex digits";
		if (val && !parse_hex(val, p->xfam, sizeof(p->xfam)))
			{
			p->has_xfam = 1;
			return 2;
		}
	} else if (!strcmp(opt, "--min-tee-tcb-svn")) {
		want = "32 hex digits";
		if (val && !parse_hex(val, p->min_tee_tcb_svn, sizeof(p->min_tee_tcb_svn)))
			{
			p->has_min_tee_tcb_svn = 1;
			return 2;
		}
	} else {
		return 0;
	}
	fprintf(stderr, "%s: %s wants %s, got '%s'\n", who, opt, want, val ? val : "(nothing)");
	return -1;
}

int snp_policy_check(const struct snp_report *r, const struct verify_opts *o)
{
	const struct report_policy *p = &o->pol;
	unsigned min_version = p->min_report_version ? p->min_report_version : 2;

	if (r->policy & SNP_POLICY_DEBUG) {
		if (!o->allow_debug)
			return verify_fail(EXIT_REPORT_POLICY,
					   "policy: DEBUG (bit 19) is set: the host may debug this guest (--allow-debug accepts it)");
		verify_note(o, "policy: DEBUG (bit 19) is set: accepted by --allow-debug");
	} else {
		verify_ok(o, "policy: DEBUG (bit 19) is clear");
	}
	if (r->policy & SNP_POLICY_MIGRATE_MA) {
		if (!p->allow_migration_agent)
			return verify_fail(EXIT_REPORT_POLICY,
					   "policy: MIGRATE_MA (bit 18) is set: a migration agent may move this guest's memory "
					   "(--allow-migration-agent accepts it)");
		verify_note(o, "policy: MIGRATE_MA (bit 18) is set: accepted by --allow-migration-agent");
	} else {
		verify_ok(o, "policy: MIGRATE_MA (bit 18) is clear");
	}
	if (r->vmpl != p->vmpl)
		return verify_fail(EXIT_REPORT_POLICY,
				   "policy: the report was requested at VMPL %u, expected VMPL %u (--vmpl N expects another)",
				   r->vmpl, p->vmpl);
	verify_ok(o, "VMPL %u", r->vmpl);
	if (p->require_no_smt) {
		if (r->policy & SNP_POLICY_SMT)
			return verify_fail(EXIT_REPORT_POLICY,
					   "policy: SMT (bit 16) is allowed, but --require-no-smt was given");
		verify_ok(o, "policy: SMT (bit 16) is not allowed");
	}
	if (p->require_single_socket) {
		if (!(r->policy & SNP_POLICY_SINGLE_SOCKET))
			return verify_fail(EXIT_REPORT_POLICY,
					   "policy: SINGLE_SOCKET (bit 20) is clear, but --require-single-socket was given");
		verify_ok(o, "policy: SINGLE_SOCKET (bit 20) is set");
	}
	if (r->version < min_version)
		return verify_fail(EXIT_REPORT_POLICY, "policy: report version %u is below the minimum %u (--min-report-version)",
				   r->version, min_version);
	if (p->has_min_tcb) {
		const struct snp_tcb *t = &r->reported_tcb;
		const char *names[] = { "bl", "tee", "snp", "ucode", "fmc" };
		unsigned got[] = { t->boot_loader, t->tee, t->snp, t->microcode, t->fmc };
		unsigned min[] = { p->min_bl, p->min_tee, p->min_snp, p->min_ucode, p->min_fmc };
		if (p->min_tcb_has_fmc && !t->turin)
			return verify_fail(EXIT_REPORT_POLICY,
					   "policy: --min-tcb names fmc, but this report's TCB has no FMC field (not Turin)");
		for (int i = 0; i < (p->min_tcb_has_fmc ? 5 : 4); i++)
			if (got[i] < min[i])
				return verify_fail(EXIT_REPORT_POLICY,
						   "policy: REPORTED_TCB %s=%u is below --min-tcb %s=%u (an older firmware "
						   "or microcode: rolled back?)",
						   names[i], got[i], names[i], min[i]);
		verify_ok(o, "REPORTED_TCB (= the VCEK's TCB) bl=%u tee=%u snp=%u ucode=%u is at least --min-tcb",
			  t->boot_loader, t->tee, t->snp, t->microcode);
	}
	return EXIT_OK;
}

static const char *tdx_attr_name(int bit)
{
	switch (bit) {
	case 0: return "DEBUG";
	case 4: return "HGS_PLUS_PROF";
	case 5: return "PERF_PROF";
	case 6: return "PMT_PROF";
	case 16: return "ICSSD";
	case 27: return "LASS";
	case 28: return "SEPT_VE_DISABLE";
	case 29: return "MIGRATABLE";
	case 30: return "PKS";
	case 31: return "KL";
	case 62: return "TPA";
	case 63: return "PERFMON";
	default: return "reserved";
	}
}

int tdx_policy_check(const uint8_t td_attributes[8], const uint8_t xfam[8], const uint8_t tee_tcb_svn[16],
		     const struct verify_opts *o)
{
	const struct report_policy *p = &o->pol;
	uint64_t attr = tdx_attributes_u64(td_attributes);
	uint64_t allowed = p->td_attributes_set ? p->td_attributes_allowed : TDX_ATTR_DEFAULT_ALLOWED;

	if (attr & TDX_ATTR_DEBUG) {
		if (!o->allow_debug)
			return verify_fail(EXIT_REPORT_POLICY,
					   "policy: TD_ATTRIBUTES.DEBUG (bit 0) is set: the host may debug this TD (--allow-debug accepts it)");
		verify_note(o, "policy: TD_ATTRIBUTES.DEBUG (bit 0) is set: accepted by --allow-debug");
	} else {
		verify_ok(o, "policy: TD_ATTRIBUTES.DEBUG (bit 0) is clear");
	}
	uint64_t extra = attr & ~allowed & ~TDX_ATTR_DEBUG;
	for (int bit = 0; bit < 64; bit++)
		if (extra & (1ull << bit))
			return verify_fail(EXIT_REPORT_POLICY,
					   "policy: TD_ATTRIBUTES bit %d (%s) is set and not allowed (allowed: 0x%llx; "
					   "--td-attributes-allowed HEX sets the mask)",
					   bit, tdx_attr_name(bit), (unsigned long long)allowed);
	verify_ok(o, "policy: TD_ATTRIBUTES 0x%016llx within the allowed 0x%llx", (unsigned long long)attr,
		  (unsigned long long)allowed);
	if (p->has_xfam) {
		if (memcmp(xfam, p->xfam, 8) != 0)
			return verify_fail(EXIT_REPORT_POLICY,
					   "policy: XFAM is %02x%02x%02x%02x%02x%02x%02x%02x, expected "
					   "%02x%02x%02x%02x%02x%02x%02x%02x (--expect-xfam)",
					   xfam[0], xfam[1], xfam[2], xfam[3], xfam[4], xfam[5], xfam[6], xfam[7], p->xfam[0],
					   p->xfam[1], p->xfam[2], p->xfam[3], p->xfam[4], p->xfam[5], p->xfam[6], p->xfam[7]);
		verify_ok(o, "policy: XFAM is the expected one");
	}
	if (p->has_min_tee_tcb_svn) {
		for (int i = 0; i < 16; i++)
			if (tee_tcb_svn[i] < p->min_tee_tcb_svn[i])
				return verify_fail(EXIT_REPORT_POLICY,
						   "policy: TEE_TCB_SVN byte %d is %u, below --min-tee-tcb-svn's %u (an older "
						   "TDX module: rolled back?)",
						   i, tee_tcb_svn[i], p->min_tee_tcb_svn[i]);
		verify_ok(o, "policy: TEE_TCB_SVN is at least --min-tee-tcb-svn");
	}
	return EXIT_OK;
}
