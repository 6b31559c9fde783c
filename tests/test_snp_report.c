/* Unit tests of tee/snp_report.c on the real go-sev-guest report (values from
 * tests/data/vectors/go-sev-guest/EXPECTED.txt), on edited copies of it
 * (versions 3-5, Turin TCB layout, signer info) and on every truncation and
 * random garbage. Every parse reads from an exactly-sized heap copy so that
 * AddressSanitizer catches any read past the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tee/snp_report.h"
#include "tests/harness.h"

TH_DEFINE("snp_report");

#define VEC "tests/data/vectors/go-sev-guest/attestation.bin"

static uint8_t vec[SNP_REPORT_SIZE];

static int load(const char *path, uint8_t *buf, size_t want)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		TH_FAIL("cannot open %s (run from the repository root)", path);
		return -1;
	}
	n = fread(buf, 1, want, f);
	int extra = fgetc(f) != EOF;
	fclose(f);
	if (n != want || extra) {
		TH_FAIL("%s: not %zu bytes", path, want);
		return -1;
	}
	return 0;
}

/* Parses a heap copy of exactly len bytes. */
static int parse_copy(const uint8_t *src, size_t len, struct snp_report *r, char *err, size_t errlen)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	if (!p)
		abort();
	memcpy(p, src, len);
	rc = snp_report_parse(p, len, r, err, errlen);
	free(p);
	return rc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void real_report_fields(void)
{
	struct snp_report r;
	char err[256];

	if (parse_copy(vec, sizeof(vec), &r, err, sizeof(err))) {
		TH_FAIL("parse: %s", err);
		return;
	}
	CHECK_INT(r.version, 2);
	CHECK_INT(r.guest_svn, 0);
	CHECK_INT(r.policy, 0xB0000);
	CHECK(r.policy & SNP_POLICY_DEBUG);
	CHECK(r.policy & SNP_POLICY_SMT);
	CHECK(r.policy & SNP_POLICY_RESERVED1);
	CHECK(!(r.policy & SNP_POLICY_MIGRATE_MA));
	CHECK(!(r.policy & SNP_POLICY_SINGLE_SOCKET));
	CHECK_INT(SNP_POLICY_ABI_MAJOR(r.policy), 0);
	CHECK_INT(SNP_POLICY_ABI_MINOR(r.policy), 0);
	CHECK(th_is_zero(r.family_id, 16));
	CHECK(th_is_zero(r.image_id, 16));
	CHECK_INT(r.vmpl, 0);
	CHECK_INT(r.signature_algo, SNP_SIG_ALGO_ECDSA_P384_SHA384);
	CHECK_INT(r.platform_info, 1);
	CHECK_INT(r.signer_info, 0);
	CHECK_INT(r.author_key_en, 0);
	CHECK_INT(r.mask_chip_key, 0);
	CHECK_INT(r.signing_key, SNP_SIGNING_KEY_VCEK);
	CHECK_STR(snp_signing_key_name(r.signing_key), "vcek");
	CHECK_HEX(r.report_data, "0102030405000000000000000000000000000000000000000000000000000000"
				 "0000000000000000000000000000000000000000000000000000000000000000");
	CHECK_HEX(r.measurement, "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b"
				 "6bdf8a9ece31a5a608eb0cf2e4872b01");
	CHECK(th_is_zero(r.host_data, 32));
	CHECK(th_is_zero(r.id_key_digest, 48));
	CHECK(th_is_zero(r.author_key_digest, 48));
	CHECK_HEX(r.report_id, "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a");
	CHECK_HEX(r.report_id_ma, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	CHECK_HEX(r.chip_id, "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e5378618"
			     "4ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d");
	const struct snp_tcb *tcbs[4] = { &r.current_tcb, &r.reported_tcb, &r.committed_tcb, &r.launch_tcb };
	for (int i = 0; i < 4; i++) {
		CHECK_INT(tcbs[i]->raw, 0x4405000000000002ull); /* 4901323769462652930 */
		CHECK_INT(tcbs[i]->turin, 0);
		CHECK_INT(tcbs[i]->boot_loader, 2);
		CHECK_INT(tcbs[i]->tee, 0);
		CHECK_INT(tcbs[i]->snp, 5);
		CHECK_INT(tcbs[i]->microcode, 68);
	}
	CHECK_INT(r.has_cpuid, 0);
	CHECK_INT(r.has_mit_vector, 0);
	CHECK_INT(r.current_build, 3);
	CHECK_INT(r.current_minor, 49);
	CHECK_INT(r.current_major, 1);
	CHECK_INT(r.committed_build, 3);
	CHECK_INT(r.committed_minor, 49);
	CHECK_INT(r.committed_major, 1);
	CHECK_INT(r.size, SNP_REPORT_SIZE);
	CHECK_INT(r.trailing, 0);
	CHECK_INT(r.sig_r[0], 0x4f);
	CHECK_INT(r.sig_r[1], 0x8e);
	CHECK_INT(r.sig_s[0], 0xe6);
	CHECK_INT(r.sig_s[1], 0x89);
}

static void signature_big_endian(void)
{
	struct snp_report r;
	uint8_t rb[48], sb[48];
	char err[256];

	if (parse_copy(vec, sizeof(vec), &r, err, sizeof(err))) {
		TH_FAIL("parse: %s", err);
		return;
	}
	CHECK_INT(snp_report_signature_be(&r, rb, sb), 0);
	CHECK_INT(rb[47], 0x4f);
	CHECK_INT(rb[0], r.sig_r[47]);
	CHECK_INT(sb[47], 0xe6);
	r.sig_s[60] = 1; /* beyond the 48 bytes of a P-384 value */
	CHECK_INT(snp_report_signature_be(&r, rb, sb), -1);
}

/* Every length below the report size fails with a "truncated" reason,
 * without reading past the input. */
static void every_truncation(void)
{
	struct snp_report r;
	char err[256];

	for (size_t len = 0; len < SNP_REPORT_SIZE; len++) {
		err[0] = '\0';
		if (parse_copy(vec, len, &r, err, sizeof(err)) == 0) {
			TH_FAIL("length %zu parsed", len);
			return;
		}
		if (!strstr(err, "truncated at offset")) {
			TH_FAIL("length %zu: unexpected reason '%s'", len, err);
			return;
		}
	}
	CHECK_INT(snp_report_parse(NULL, 0, &r, err, sizeof(err)), -1);
	parse_copy(vec, 0x95, &r, err, sizeof(err));
	CHECK_STR(err, "truncated at offset 144: need 48 bytes for measurement, 5 available");
	parse_copy(vec, 2, &r, err, sizeof(err));
	CHECK_STR(err, "truncated at offset 0: need 4 bytes for version, 2 available");
	parse_copy(vec, SNP_REPORT_SIZE - 1, &r, err, sizeof(err));
	CHECK(strstr(err, "signature (reserved)") != NULL);
}

static void trailing_bytes(void)
{
	uint8_t big[SNP_REPORT_SIZE + 100];
	struct snp_report r;
	char err[256];

	memcpy(big, vec, SNP_REPORT_SIZE);
	memset(big + SNP_REPORT_SIZE, 0xee, 100);
	CHECK_INT(parse_copy(big, sizeof(big), &r, err, sizeof(err)), 0);
	CHECK_INT(r.trailing, 100);
	CHECK_INT(r.size, SNP_REPORT_SIZE);
}

static void versions(void)
{
	uint8_t b[SNP_REPORT_SIZE];
	struct snp_report r;
	char err[256];
	const uint32_t bad[] = { 0, 1, 6, 7, 0x100, 0xffffffffu };

	memcpy(b, vec, sizeof(b));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_le32(b, bad[i]);
		CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), -1);
		CHECK(strstr(err, "unsupported SNP report version") != NULL);
	}
	for (uint32_t v = 2; v <= 5; v++) {
		put_le32(b, v);
		CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), 0);
		CHECK_INT(r.version, v);
		CHECK_INT(r.has_cpuid, v >= 3);
		CHECK_INT(r.has_mit_vector, v >= 5);
	}
}

/* Version 3+ carry the CPUID family/model; family 1Ah (Turin) switches the
 * TCB layout to fmc|bl|tee|snp|rsvd*3|ucode. */
static void turin_tcb_layout(void)
{
	uint8_t b[SNP_REPORT_SIZE];
	struct snp_report r;
	char err[256];
	const uint8_t tcb[8] = { 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0x48 }; /* fmc 1 bl 2 tee 3 snp 4 ucode 72 */

	memcpy(b, vec, sizeof(b));
	put_le32(b, 3);
	b[0x188] = SNP_CPUID_FAMILY_TURIN;
	b[0x189] = 0x02;
	b[0x18A] = 0x01;
	memcpy(b + 0x038, tcb, 8);
	memcpy(b + 0x180, tcb, 8);
	memcpy(b + 0x1E0, tcb, 8);
	memcpy(b + 0x1F0, tcb, 8);
	if (parse_copy(b, sizeof(b), &r, err, sizeof(err))) {
		TH_FAIL("parse: %s", err);
		return;
	}
	CHECK_INT(r.cpuid_fam_id, 0x1A);
	CHECK_INT(r.cpuid_mod_id, 0x02);
	CHECK_INT(r.cpuid_step, 0x01);
	CHECK_STR(snp_product_name(r.cpuid_fam_id, r.cpuid_mod_id), "Turin");
	const struct snp_tcb *tcbs[4] = { &r.current_tcb, &r.reported_tcb, &r.committed_tcb, &r.launch_tcb };
	for (int i = 0; i < 4; i++) {
		CHECK_INT(tcbs[i]->turin, 1);
		CHECK_INT(tcbs[i]->fmc, 1);
		CHECK_INT(tcbs[i]->boot_loader, 2);
		CHECK_INT(tcbs[i]->tee, 3);
		CHECK_INT(tcbs[i]->snp, 4);
		CHECK_INT(tcbs[i]->microcode, 0x48);
	}
	/* The same bytes in a Genoa report use the Milan/Genoa layout. */
	b[0x188] = 0x19;
	b[0x189] = 0x11;
	CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), 0);
	CHECK_STR(snp_product_name(r.cpuid_fam_id, r.cpuid_mod_id), "Genoa");
	CHECK_INT(r.reported_tcb.turin, 0);
	CHECK_INT(r.reported_tcb.boot_loader, 1);
	CHECK_INT(r.reported_tcb.tee, 2);
	CHECK_INT(r.reported_tcb.snp, 0);
	CHECK_INT(r.reported_tcb.microcode, 0x48);
	/* Version 2 has no CPUID fields: never Turin, fields read as 0. */
	put_le32(b, 2);
	b[0x188] = SNP_CPUID_FAMILY_TURIN;
	CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), 0);
	CHECK_INT(r.reported_tcb.turin, 0);
	CHECK_INT(r.cpuid_fam_id, 0);
	CHECK(snp_product_name(0x19, 0x01) && !strcmp(snp_product_name(0x19, 0x01), "Milan"));
	CHECK(snp_product_name(0x19, 0xA0) && !strcmp(snp_product_name(0x19, 0xA0), "Genoa"));
	CHECK(snp_product_name(0x17, 0x31) == NULL);
}

static void mit_vectors_v5(void)
{
	uint8_t b[SNP_REPORT_SIZE];
	struct snp_report r;
	char err[256];

	memcpy(b, vec, sizeof(b));
	put_le32(b, 5);
	put_le64(b + 0x1F8, 0x0102030405060708ull);
	put_le64(b + 0x200, 0x1112131415161718ull);
	CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), 0);
	CHECK_INT(r.has_mit_vector, 1);
	CHECK_INT(r.launch_mit_vector, 0x0102030405060708ull);
	CHECK_INT(r.current_mit_vector, 0x1112131415161718ull);
	put_le32(b, 4);
	CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), 0);
	CHECK_INT(r.has_mit_vector, 0);
	CHECK_INT(r.launch_mit_vector, 0);
}

static void signer_info_and_policy_bits(void)
{
	uint8_t b[SNP_REPORT_SIZE];
	struct snp_report r;
	char err[256];

	memcpy(b, vec, sizeof(b));
	put_le32(b + 0x48, 1u << 2); /* VLEK */
	CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), 0);
	CHECK_INT(r.signing_key, SNP_SIGNING_KEY_VLEK);
	CHECK_STR(snp_signing_key_name(r.signing_key), "vlek");
	put_le32(b + 0x48, (7u << 2) | 3); /* none, author key, masked chip id */
	CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), 0);
	CHECK_INT(r.signing_key, SNP_SIGNING_KEY_NONE);
	CHECK_INT(r.author_key_en, 1);
	CHECK_INT(r.mask_chip_key, 1);
	CHECK_STR(snp_signing_key_name(3), "reserved");
	/* bit positions as the ABI specifies them */
	CHECK_INT(SNP_POLICY_SMT, 1ull << 16);
	CHECK_INT(SNP_POLICY_MIGRATE_MA, 1ull << 18);
	CHECK_INT(SNP_POLICY_DEBUG, 1ull << 19);
	CHECK_INT(SNP_POLICY_SINGLE_SOCKET, 1ull << 20);
	put_le64(b + 0x08, 0x00000000001D0A03ull); /* ABI 10.3, SMT, rsvd, DEBUG, SINGLE_SOCKET */
	CHECK_INT(parse_copy(b, sizeof(b), &r, err, sizeof(err)), 0);
	CHECK_INT(SNP_POLICY_ABI_MAJOR(r.policy), 10);
	CHECK_INT(SNP_POLICY_ABI_MINOR(r.policy), 3);
	CHECK(r.policy & SNP_POLICY_SINGLE_SOCKET);
	CHECK(r.policy & SNP_POLICY_DEBUG);
}

static void tcb_decode(void)
{
	struct snp_tcb t;

	snp_tcb_decode(0x4405000000000002ull, 0, &t);
	CHECK_INT(t.boot_loader, 2);
	CHECK_INT(t.snp, 5);
	CHECK_INT(t.microcode, 0x44);
	CHECK_INT(t.fmc, 0);
	snp_tcb_decode(0x4800000004030201ull, 1, &t);
	CHECK_INT(t.fmc, 1);
	CHECK_INT(t.boot_loader, 2);
	CHECK_INT(t.tee, 3);
	CHECK_INT(t.snp, 4);
	CHECK_INT(t.microcode, 0x48);
}

/* Deterministic garbage of every size around the report's: never a crash,
 * never an over-read, always a reason when it fails. */
static void garbage(void)
{
	uint32_t x = 0x12345678;
	uint8_t b[SNP_REPORT_SIZE + 64];
	struct snp_report r;
	char err[256];

	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)(round * 7) % sizeof(b);
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b[i] = (uint8_t)x;
		}
		if (round % 3 == 0 && len >= 4)
			put_le32(b, 2 + (uint32_t)(round % 4)); /* get past the version check */
		err[0] = '\0';
		if (parse_copy(b, len, &r, err, sizeof(err)) == 0) {
			CHECK(len >= SNP_REPORT_SIZE);
		} else if (!err[0]) {
			TH_FAIL("round %d: failure without a reason", round);
			return;
		}
	}
}

int main(void)
{
	if (load(VEC, vec, sizeof(vec))) {
		printf("not ok - unit/snp_report/load_vector\n");
		return 1;
	}
	TEST(real_report_fields);
	TEST(signature_big_endian);
	TEST(every_truncation);
	TEST(trailing_bytes);
	TEST(versions);
	TEST(turin_tcb_layout);
	TEST(mit_vectors_v5);
	TEST(signer_info_and_policy_bits);
	TEST(tcb_decode);
	TEST(garbage);
	return TH_END();
}
