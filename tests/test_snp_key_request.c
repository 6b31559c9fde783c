/* The snp-derived key's MSG_KEY_REQ (crypto/snp_params.c, from the plan), the TCB order
 * the firmware (and the mock) apply to it, and the mock TEE's measurement
 * (tee/mock_measure.h): test build, as the mock exists only there. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "crypto/snp_params.h"
#include "init/config.h"
#include "tee/mock_measure.h"
#include "tests/harness.h"

TH_DEFINE("snp_key_request");

static struct cvm_config cfg;
static struct boot_plan plan;
static char err[512];

static int parse(const char *text)
{
	config_defaults(&cfg);
	err[0] = '\0';
	return config_parse_file(&cfg, text, strlen(text), "c.conf", err, sizeof(err));
}

/* the request the init makes: from the plan the config stage builds */
static void request_of(struct snp_key_params *p)
{
	memset(p, 0xa5, sizeof(*p)); /* every field is set */
	CHECK_INT(plan_build(&cfg, true, &plan, err, sizeof(err)), 0);
	snp_key_params_from_plan(&plan, p);
}

static void request_without_floor(void)
{
	struct snp_key_params p;

	CHECK_INT(parse(""), 0);
	request_of(&p);
	CHECK_INT(p.root_key_select, 0);
	CHECK_INT(p.guest_field_select, SNP_FIELD_MEASUREMENT | SNP_FIELD_POLICY);
	CHECK_INT(p.vmpl, 0);
	CHECK_INT(p.guest_svn, 0);
	CHECK(p.tcb_version == 0);
	CHECK_INT(parse("SNP_KEY_ROOT=vmrk\nSNP_KEY_FIELDS=measurement,guest-svn,image-id\nSNP_VMPL=2\nSNP_KEY_SVN=7\n"),
		  0);
	request_of(&p);
	CHECK_INT(p.root_key_select, 1);
	CHECK_INT(p.guest_field_select, SNP_FIELD_MEASUREMENT | SNP_FIELD_GUEST_SVN | SNP_FIELD_IMAGE_ID);
	CHECK_INT(p.vmpl, 2);
	CHECK_INT(p.guest_svn, 7);
}

/* A floor is the request's TCB_VERSION, and its field is selected. */
static void request_with_floor(void)
{
	struct snp_key_params p;

	CHECK_INT(parse("SNP_KEY_MIN_TCB=7308000000000003\n"), 0);
	request_of(&p);
	CHECK(p.tcb_version == 0x7308000000000003ull);
	CHECK_INT(p.guest_field_select, SNP_FIELD_MEASUREMENT | SNP_FIELD_POLICY | SNP_FIELD_TCB_VERSION);
	/* the Linux ABI struct carries it as is */
	CHECK_INT(parse("SNP_KEY_MIN_TCB=D315000000000004\n"), 0);
	request_of(&p);
	CHECK(p.tcb_version == 0xd315000000000004ull);
	uint64_t v;
	CHECK_INT(snp_tcb_parse("7308000000000003", &v), 0);
	CHECK(v == 0x7308000000000003ull);
	CHECK_INT(snp_tcb_parse("730800000000003", &v), -EINVAL);
	CHECK_INT(snp_tcb_parse("73080000000000g3", &v), -EINVAL);
	CHECK_INT(snp_tcb_parse("", &v), -EINVAL);
}

/* Component by component (bytes), as the firmware compares TCB versions. */
static void tcb_order(void)
{
	const uint64_t committed = 0x7308000000000003ull; /* microcode 0x73, SNP 8, boot loader 3 */

	CHECK(snp_tcb_covers(committed, committed));
	CHECK(snp_tcb_covers(committed, 0));
	CHECK(snp_tcb_covers(committed, 0x7208000000000003ull)); /* an older microcode floor */
	CHECK(snp_tcb_covers(committed, 0x7307000000000002ull));
	CHECK(!snp_tcb_covers(committed, 0x7309000000000003ull)); /* SNP 9 > 8 */
	CHECK(!snp_tcb_covers(committed, 0x7408000000000003ull)); /* microcode */
	CHECK(!snp_tcb_covers(committed, 0x7308000000000004ull)); /* boot loader */
	/* not a number order: a higher microcode does not make up for an older boot loader */
	CHECK(!snp_tcb_covers(0x7408000000000002ull, committed));
	/* a rolled-back platform below the floor */
	CHECK(!snp_tcb_covers(0x7207000000000003ull, committed));
}

static void measure(const char *conf, const char *cmdline, uint8_t out[48])
{
	memset(out, 0, 48);
	CHECK_INT(parse(conf), 0);
	CHECK_INT(mock_measurement_of(&cfg, cmdline, out), 0);
}

/* The documented formula, recomputed from config_canonical's text. */
static void mock_measurement_formula(void)
{
	static char canon[CFG__COUNT * (CONFIG_VALUE_MAX + 40)], kept[sizeof(canon)];
	uint8_t got[48], digest[32], h[64];
	const char *cmdline = "console=ttyS0 panic=-1 cvminit.attest_nonce=00112233";
	size_t used = 0;

	measure("TEE=mock\nROOT_ENCRYPTION=none\n", "console=ttyS0 panic=-1 cvminit.attest_nonce=00112233\n", got);
	int n = config_canonical(&cfg, canon, sizeof(canon));
	CHECK(n > 0);
	for (char *line = canon; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = (size_t)(nl - line) + 1;
		if (strncmp(line, "MOCK_", 5) != 0) {
			memcpy(kept + used, line, len);
			used += len;
		}
		line += len;
	}
	CHECK(used < (size_t)n); /* the test build has MOCK_* keys to leave out */
	mbedtls_sha256((const unsigned char *)kept, used, digest, 0);
	mbedtls_sha512_context m;
	mbedtls_sha512_init(&m);
	mbedtls_sha512_starts(&m, 1);
	mbedtls_sha512_update(&m, (const unsigned char *)"cvminit mock SEV-SNP launch measurement", 40); /* with its NUL */
	mbedtls_sha512_update(&m, digest, 32);
	mbedtls_sha512_update(&m, (const unsigned char *)cmdline, strlen(cmdline));
	mbedtls_sha512_finish(&m, h);
	mbedtls_sha512_free(&m);
	CHECK_MEM(got, h, 48);
}

/* It changes with every measured input, and only with those. */
static void mock_measurement_follows_inputs(void)
{
	uint8_t base[48], other[48];

	measure("TEE=mock\nROOT_ENCRYPTION=none\n", "console=ttyS0 panic=-1", base);
	/* one key differs */
	measure("TEE=mock\nROOT_ENCRYPTION=none\nPROMPT_TRIES=4\n", "console=ttyS0 panic=-1", other);
	CHECK(memcmp(base, other, 48) != 0);
	measure("TEE=mock\nROOT_ENCRYPTION=none\nDATA_OPTIONS=ro,nodev,nosuid,noexec\n", "console=ttyS0 panic=-1", other);
	CHECK(memcmp(base, other, 48) != 0);
	/* the command line differs */
	measure("TEE=mock\nROOT_ENCRYPTION=none\n", "console=ttyS0 panic=-1 quiet", other);
	CHECK(memcmp(base, other, 48) != 0);
	/* the same inputs: the same value (a trailing newline is /proc's, not the command line's) */
	measure("TEE=mock\nROOT_ENCRYPTION=none\n", "console=ttyS0 panic=-1\n", other);
	CHECK_MEM(base, other, 48);
	/* the platform's and the host's doings (MOCK_*) are not measured */
	measure("TEE=mock\nROOT_ENCRYPTION=none\nMOCK_TEE_TCB=7207000000000003\nMOCK_POWERCUT=after-token\n"
		"MOCK_TEE_DEBUG=yes\n",
		"console=ttyS0 panic=-1", other);
	CHECK_MEM(base, other, 48);
	/* not a constant */
	uint8_t label_only[64];
	mbedtls_sha512((const unsigned char *)"cvminit mock SEV-SNP launch measurement", 39, label_only, 1);
	CHECK(memcmp(base, label_only, 48) != 0);
}

/* The mock's TDX RTMRs: one TDVF-style extend each from 48 zero bytes;
 * RTMR2 follows the command line, RTMR1 does not. */
static void mock_tdx_rtmrs(void)
{
	uint8_t r1[48], r2[48], o1[48], o2[48], d[64], want[64], buf[96];
	const char *cmdline = "console=ttyS0 panic=-1";

	CHECK_INT(mock_tdx_rtmrs_of("console=ttyS0 panic=-1\n", r1, r2), 0);
	mbedtls_sha512((const unsigned char *)cmdline, strlen(cmdline), d, 1);
	memset(buf, 0, 48);
	memcpy(buf + 48, d, 48);
	mbedtls_sha512(buf, 96, want, 1);
	CHECK_MEM(r2, want, 48);
	mbedtls_sha512((const unsigned char *)"cvminit mock TDX RTMR1: kernel and initrd", 41, d, 1);
	memcpy(buf + 48, d, 48);
	mbedtls_sha512(buf, 96, want, 1);
	CHECK_MEM(r1, want, 48);
	CHECK_INT(mock_tdx_rtmrs_of("console=ttyS0 panic=-1 init=/bin/sh", o1, o2), 0);
	CHECK_MEM(r1, o1, 48);
	CHECK(memcmp(r2, o2, 48) != 0);
}

int main(void)
{
	TEST(request_without_floor);
	TEST(request_with_floor);
	TEST(tcb_order);
	TEST(mock_measurement_formula);
	TEST(mock_measurement_follows_inputs);
	TEST(mock_tdx_rtmrs);
	return TH_END();
}
