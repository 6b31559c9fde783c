/* Unit tests of tee/tdx_quote.c on the real go-tdx-guest quotes (values from
 * tests/data/vectors/go-tdx-guest/EXPECTED.txt), the synthetic TDREPORT,
 * edited copies (the source's own negative cases), every truncation and
 * garbage. Every parse reads from an exactly-sized heap copy so that
 * AddressSanitizer catches any read past the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tee/tdx_quote.h"
#include "tests/harness.h"

TH_DEFINE("tdx_quote");

#define DIR "tests/data/vectors/go-tdx-guest/"
#define SYN "tests/data/vectors/synthetic/"

struct file {
	uint8_t *p;
	size_t len;
};

static struct file v4, v5, cosq, tdr;

static int load(const char *path, struct file *f)
{
	FILE *fp = fopen(path, "rb");
	size_t cap = 16384;

	if (!fp) {
		fprintf(stderr, "# cannot open %s (run from the repository root)\n", path);
		return -1;
	}
	f->p = malloc(cap);
	if (!f->p)
		abort();
	f->len = fread(f->p, 1, cap, fp);
	fclose(fp);
	return f->len > 0 && f->len < cap ? 0 : -1;
}

static int quote_copy(const uint8_t *src, size_t len, struct tdx_quote *q, char *err, size_t errlen)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	if (!p)
		abort();
	memcpy(p, src, len);
	rc = tdx_quote_parse(p, len, q, err, errlen);
	free(p);
	/* pointers into the copy are dangling now: clear them */
	q->cert_data = q->qe_report_raw = q->qe_auth = q->pck_cert_data = NULL;
	return rc;
}

static int tdreport_copy(const uint8_t *src, size_t len, struct tdx_tdreport *t, char *err, size_t errlen)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	if (!p)
		abort();
	memcpy(p, src, len);
	rc = tdx_tdreport_parse(p, len, t, err, errlen);
	free(p);
	t->tee_tcb_info_raw = t->tdinfo_raw = NULL;
	return rc;
}

static void v4_spr_fields(void)
{
	struct tdx_quote q;
	char err[256];

	if (tdx_quote_parse(v4.p, v4.len, &q, err, sizeof(err))) {
		TH_FAIL("parse: %s", err);
		return;
	}
	CHECK_INT(v4.len, 4974);
	CHECK_INT(q.version, 4);
	CHECK_INT(q.att_key_type, 2);
	CHECK_INT(q.tee_type, 0x81);
	CHECK_INT(q.qe_svn, 0);
	CHECK_INT(q.pce_svn, 0);
	CHECK_HEX(q.qe_vendor_id, "939a7233f79c4ca9940a0db3957f0607");
	CHECK_HEX(q.user_data, "739c3f292a15bace1f726351a70d4b7900000000");
	CHECK_INT(q.body_type, TDX_BODY_TYPE_TD10);
	CHECK_INT(q.body_size, 584);
	CHECK_INT(q.body.td15, 0);
	CHECK_HEX(q.body.tee_tcb_svn, "03000400000000000000000000000000");
	CHECK_HEX(q.body.mr_seam, "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9"
				  "a89b4869a9fab60fbe9d0c5a5363c656");
	CHECK(th_is_zero(q.body.mr_signer_seam, 48));
	CHECK(th_is_zero(q.body.seam_attributes, 8));
	CHECK_HEX(q.body.td_attributes, "0000004000000000");
	CHECK_INT(tdx_attributes_u64(q.body.td_attributes), 0x40000000);
	CHECK(!(tdx_attributes_u64(q.body.td_attributes) & TDX_ATTR_DEBUG));
	CHECK(tdx_attributes_u64(q.body.td_attributes) & TDX_ATTR_PKS);
	CHECK_HEX(q.body.xfam, "e71a060000000000");
	CHECK_HEX(q.body.mr_td, "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f"
				"22fc00b8dcd404bc10d5e119d7215cbb");
	CHECK(th_is_zero(q.body.mr_config_id, 48));
	CHECK(th_is_zero(q.body.mr_owner, 48));
	CHECK(th_is_zero(q.body.mr_owner_config, 48));
	CHECK_HEX(q.body.rtmr[0], "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976"
				  "823adf08f833c1e50b51779c6593f32a");
	CHECK_HEX(q.body.rtmr[1], "2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589"
				  "c4b56d035c59107c6bc5800db2cacb61");
	CHECK_HEX(q.body.rtmr[2], "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe5"
				  "9c7368b3c2287fc7c3bf5c924eb4424e");
	CHECK(th_is_zero(q.body.rtmr[3], 48));
	CHECK_HEX(q.body.report_data, "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545"
				      "eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113");
	CHECK_INT(q.signed_len, 48 + 584);
	CHECK_INT(q.sig_data_len, 4299);
	CHECK_INT(q.cert_type, 6);
	CHECK_INT(q.cert_size, 4165);
	CHECK_INT(q.has_qe_report, 1);
	CHECK_INT(q.qe_auth_len, 32);
	CHECK_INT(q.pck_cert_type, 5);
	CHECK_INT(q.pck_cert_size, 3677);
	CHECK_INT(q.quote_len, 4935);
	CHECK_INT(q.trailing, 39);
	CHECK(q.qe_report_raw == v4.p + 0x27C + 134);
	CHECK(!memcmp(v4.p + q.quote_len, "\nextra bytes(only for testing purpose)\n", 39));
	CHECK(!memcmp(q.pck_cert_data, "-----BEGIN CERTIFICATE-----", 27));
	CHECK_HEX(q.qe_report.cpu_svn, "04040d0f03ff00030000000000000000");
	CHECK_INT(q.qe_report.misc_select, 0);
	CHECK_HEX(q.qe_report.attributes, "1500000000000000e700000000000000");
	CHECK_HEX(q.qe_report.mr_enclave, "853e298f3b7cde28b06493d06fb2ad6f9566a97fea6d3de66236b2af1a35150f");
	CHECK_HEX(q.qe_report.mr_signer, "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
	CHECK_INT(q.qe_report.isv_prod_id, 2);
	CHECK_INT(q.qe_report.isv_svn, 4);
	CHECK_HEX(q.qe_report.report_data, "cf1ae2cb769ff1f27ac520344e60905448a48bca6de8f1014c92e5a493d94101"
					   "0000000000000000000000000000000000000000000000000000000000000000");
}

static void v5_fields(void)
{
	struct tdx_quote q;
	char err[256];

	if (tdx_quote_parse(v5.p, v5.len, &q, err, sizeof(err))) {
		TH_FAIL("parse: %s", err);
		return;
	}
	CHECK_INT(q.version, 5);
	CHECK_INT(q.body_type, TDX_BODY_TYPE_TD15);
	CHECK_STR(tdx_body_type_name(q.body_type), "td15");
	CHECK_INT(q.body_size, 648);
	CHECK_INT(q.body.td15, 1);
	CHECK_HEX(q.user_data, "ba103c0e5dffa40351f9d5dd559888eb00000000");
	CHECK_HEX(q.body.tee_tcb_svn, "0b010400000000000000000000000000");
	CHECK_HEX(q.body.tee_tcb_svn2, "0d010400000000000000000000000000");
	CHECK_HEX(q.body.td_attributes, "0000001000000000");
	CHECK(tdx_attributes_u64(q.body.td_attributes) & TDX_ATTR_SEPT_VE_DISABLE);
	CHECK_HEX(q.body.xfam, "e702060000000000");
	CHECK_HEX(q.body.mr_td, "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb0"
				"01a1ced3ee19747dda8f750c3bc8f876");
	CHECK_HEX(q.body.mr_seam, "7bf063280e94fb051f5dd7b1fc59ce9aac42bb961df8d44b709c9b0ff87a7b4d"
				  "f648657ba6d1189589feab1d5a3c9a9d");
	CHECK(th_is_zero(q.body.mr_servicetd, 48));
	CHECK_HEX(q.body.report_data, "945eaacf5abc1f719d8666a942fda03d1edcb4490277396093dc5a5289ab9f1e"
				      "094aed63060cd4a4933a4dd537ed1255c9c79ecb3ed82cd1b486233e31c25c3a");
	CHECK_INT(q.signed_len, 48 + 6 + 648);
	CHECK_INT(q.sig_data_len, 4300);
	CHECK_INT(q.cert_size, 4166);
	CHECK_INT(q.qe_auth_len, 32);
	CHECK_INT(q.pck_cert_type, 5);
	CHECK_INT(q.pck_cert_size, 3678);
	CHECK_INT(q.trailing, 0);
	CHECK_INT(q.quote_len, v5.len);
	CHECK_INT(q.qe_report.isv_svn, 7);
	CHECK_HEX(q.qe_report.mr_enclave, "b7ae9ab69e76f7794a56b0db1915281d435d488c91d406ed33a7939caf8730f8");
}

static void cos_padded_fields(void)
{
	struct tdx_quote q;
	char err[256];

	if (tdx_quote_parse(cosq.p, cosq.len, &q, err, sizeof(err))) {
		TH_FAIL("parse: %s", err);
		return;
	}
	CHECK_INT(cosq.len, 8000);
	CHECK_INT(q.version, 4);
	CHECK_INT(q.trailing, 3065);
	CHECK(th_is_zero(q.body.report_data, 64));
	CHECK(th_is_zero(q.user_data, 20));
	CHECK_HEX(q.body.td_attributes, "0000001000000000");
	CHECK_HEX(q.body.xfam, "e700060000000000");
	CHECK_HEX(q.body.mr_td, "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954db"
				"a41394c7717cb2735396c1d04231f94a");
	CHECK_HEX(q.body.rtmr[0], "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b192"
				  "97fc35e544039c7e1edece752afd17f6");
	CHECK_INT(q.qe_report.isv_svn, 6);
}

/* Below the quote's own length every truncation fails ("truncated ..."),
 * at or above it the rest counts as trailing bytes. */
static void truncate_file(const struct file *f, const char *name)
{
	struct tdx_quote q;
	char err[256];
	size_t quote_len;

	if (tdx_quote_parse(f->p, f->len, &q, err, sizeof(err))) {
		TH_FAIL("%s: %s", name, err);
		return;
	}
	quote_len = q.quote_len;
	for (size_t len = 0; len < f->len; len++) {
		err[0] = '\0';
		int rc = quote_copy(f->p, len, &q, err, sizeof(err));
		if (len < quote_len) {
			if (rc == 0) {
				TH_FAIL("%s: length %zu parsed", name, len);
				return;
			}
			if (!strstr(err, "truncated at offset")) {
				TH_FAIL("%s: length %zu: unexpected reason '%s'", name, len, err);
				return;
			}
		} else if (rc != 0 || q.trailing != len - quote_len) {
			TH_FAIL("%s: length %zu: %s", name, len, rc ? err : "wrong trailing count");
			return;
		}
	}
}

static void every_truncation(void)
{
	struct tdx_quote q;
	char err[256];

	truncate_file(&v4, "v4");
	truncate_file(&v5, "v5");
	truncate_file(&cosq, "cos-113");
	quote_copy(v4.p, 40, &q, err, sizeof(err));
	CHECK_STR(err, "truncated at offset 0: need 48 bytes for quote header, 40 available");
	quote_copy(v4.p, 0x200, &q, err, sizeof(err));
	CHECK_STR(err, "truncated at offset 472: need 48 bytes for rtmr2, 40 available");
	quote_copy(v4.p, 4000, &q, err, sizeof(err));
	CHECK_STR(err, "truncated at offset 636: need 4299 bytes for signature data, 3364 available");
	CHECK_INT(tdx_quote_parse(NULL, 0, &q, err, sizeof(err)), -1);
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void set32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Edited copy of a quote: parse must fail with a reason containing `want`. */
static void expect_fail(const struct file *f, size_t off, const uint8_t *bytes, size_t n, const char *want)
{
	uint8_t *b = malloc(f->len);
	struct tdx_quote q;
	char err[256] = "";

	if (!b)
		abort();
	memcpy(b, f->p, f->len);
	memcpy(b + off, bytes, n);
	if (quote_copy(b, f->len, &q, err, sizeof(err)) == 0)
		TH_FAIL("edit at 0x%zx parsed (want '%s')", off, want);
	else if (!strstr(err, want))
		TH_FAIL("edit at 0x%zx: '%s' (want '%s')", off, err, want);
	free(b);
}

static void header_and_body_negatives(void)
{
	uint8_t v[4];

	set16(v, 3);
	expect_fail(&v4, 0, v, 2, "unsupported quote version 3");
	set16(v, 6);
	expect_fail(&v5, 0, v, 2, "unsupported quote version 6");
	set32(v, 0);
	expect_fail(&v4, 4, v, 4, "is not TDX");
	set16(v, 3);
	expect_fail(&v4, 2, v, 2, "attestation key type 3");
	/* go-tdx-guest abi_test: body type 1, size 999, type 2 with size 648 */
	set16(v, 1);
	expect_fail(&v5, 48, v, 2, "body type 1 is not supported");
	set32(v, 999);
	expect_fail(&v5, 50, v, 4, "body size 999 does not match");
	set16(v, 2);
	expect_fail(&v5, 48, v, 2, "body size 648 does not match body type 2");
}

static void signature_data_negatives(void)
{
	uint8_t v[4];

	/* go-tdx-guest verify_test: quote[0x278] := 0x10 (signed data size) */
	v[0] = 0x10;
	expect_fail(&v4, 0x278, v, 1, "does not match");
	/* a certification data size one too large / small */
	set32(v, 4166);
	expect_fail(&v4, 0x27C + 130, v, 4, "certification data size 4166");
	set32(v, 4164);
	expect_fail(&v4, 0x27C + 130, v, 4, "certification data size 4164");
	/* QE auth data longer than the certification data */
	set16(v, 0xffff);
	expect_fail(&v4, 0x27C + 134 + 384 + 64, v, 2, "left in the certification data");
	/* QE auth data one byte longer: the PCK chain no longer fits */
	set16(v, 33);
	expect_fail(&v4, 0x27C + 134 + 384 + 64, v, 2, "PCK certification data");
	/* PCK data one byte shorter: an unused byte remains */
	set32(v, 3676);
	expect_fail(&v4, 0x27C + 134 + 384 + 64 + 2 + 32 + 2, v, 4, "unused bytes");
}

static void other_cert_type_parses(void)
{
	uint8_t *b = malloc(v4.len);
	struct tdx_quote q;
	char err[256];

	if (!b)
		abort();
	memcpy(b, v4.p, v4.len);
	set16(b + 0x27C + 128, 5); /* type 5 at the outer level: structure kept, no QE report */
	CHECK_INT(quote_copy(b, v4.len, &q, err, sizeof(err)), 0);
	CHECK_INT(q.cert_type, 5);
	CHECK_INT(q.has_qe_report, 0);
	free(b);
}

static void tdreport_fields(void)
{
	struct tdx_tdreport t;
	struct tdx_quote q;
	char err[256];

	CHECK_INT(tdr.len, TDX_TDREPORT_SIZE);
	if (tdx_tdreport_parse(tdr.p, tdr.len, &t, err, sizeof(err))) {
		TH_FAIL("parse: %s", err);
		return;
	}
	if (tdx_quote_parse(v4.p, v4.len, &q, err, sizeof(err))) {
		TH_FAIL("quote: %s", err);
		return;
	}
	/* built from the SPR quote's body (tests/data/vectors/README.md) */
	CHECK_INT(t.report_type, 0x81);
	CHECK_INT(t.report_subtype, 0);
	CHECK_INT(t.report_version, 0);
	CHECK_MEM(t.cpu_svn, q.body.tee_tcb_svn, 16);
	CHECK_MEM(t.tee_tcb_svn, q.body.tee_tcb_svn, 16);
	CHECK_HEX(t.tcb_valid, "ff01000000000000");
	CHECK_MEM(t.mr_seam, q.body.mr_seam, 48);
	CHECK_MEM(t.td_attributes, q.body.td_attributes, 8);
	CHECK_MEM(t.xfam, q.body.xfam, 8);
	CHECK_MEM(t.mr_td, q.body.mr_td, 48);
	CHECK_MEM(t.rtmr, q.body.rtmr, sizeof(t.rtmr));
	CHECK_MEM(t.report_data, q.body.report_data, 64);
	CHECK(t.tee_tcb_info_raw == tdr.p + 256);
	CHECK(t.tdinfo_raw == tdr.p + 512);
	CHECK_INT(t.trailing, 0);
}

static void tdreport_truncation_and_type(void)
{
	struct tdx_tdreport t;
	char err[256];

	for (size_t len = 0; len < TDX_TDREPORT_SIZE; len++) {
		err[0] = '\0';
		if (tdreport_copy(tdr.p, len, &t, err, sizeof(err)) == 0) {
			TH_FAIL("length %zu parsed", len);
			return;
		}
		if (!strstr(err, "truncated at offset")) {
			TH_FAIL("length %zu: '%s'", len, err);
			return;
		}
	}
	uint8_t b[TDX_TDREPORT_SIZE + 0x30];
	/* go-tdx-guest's report.dat is a TDREPORT shifted by 0x30: rejected */
	memcpy(b, tdr.p + 0x30, TDX_TDREPORT_SIZE - 0x30);
	memset(b + TDX_TDREPORT_SIZE - 0x30, 0, 0x30);
	CHECK_INT(tdreport_copy(b, TDX_TDREPORT_SIZE, &t, err, sizeof(err)), -1);
	CHECK(strstr(err, "is not TDX") != NULL);
	memcpy(b, tdr.p, TDX_TDREPORT_SIZE);
	b[1] = 1;
	CHECK_INT(tdreport_copy(b, TDX_TDREPORT_SIZE, &t, err, sizeof(err)), -1);
	CHECK(strstr(err, "subtype 1") != NULL);
	b[1] = 0;
	memset(b + TDX_TDREPORT_SIZE, 0xaa, 0x30);
	CHECK_INT(tdreport_copy(b, sizeof(b), &t, err, sizeof(err)), 0);
	CHECK_INT(t.trailing, 0x30);
}

/* Garbage, and every single-byte change of the v4 quote's structure
 * fields: never a crash or an over-read, always a reason on failure. */
static void garbage_and_flips(void)
{
	uint32_t x = 0x9e3779b9;
	uint8_t *b = malloc(v4.len);
	struct tdx_quote q;
	struct tdx_tdreport t;
	char err[256];

	if (!b)
		abort();
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round * 13) % v4.len;
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b[i] = (uint8_t)x;
		}
		if (round % 2 == 0 && len >= 8) { /* a plausible header, garbage behind it */
			memcpy(b, v4.p, 8);
			if (round % 4 == 0)
				b[0] = 5;
		}
		err[0] = '\0';
		if (quote_copy(b, len, &q, err, sizeof(err)) != 0 && !err[0]) {
			TH_FAIL("quote round %d: failure without a reason", round);
			break;
		}
		err[0] = '\0';
		if (tdreport_copy(b, len, &t, err, sizeof(err)) != 0 && !err[0]) {
			TH_FAIL("tdreport round %d: failure without a reason", round);
			break;
		}
	}
	/* the length and type fields of the signature data, each byte changed */
	const size_t fields[] = { 0x278, 0x279, 0x27A, 0x27B, 0x27C + 128, 0x27C + 129, 0x27C + 130,
				  0x27C + 131, 0x27C + 132, 0x27C + 133, 0x27C + 134 + 448, 0x27C + 134 + 449,
				  0x27C + 134 + 482, 0x27C + 134 + 483, 0x27C + 134 + 484, 0x27C + 134 + 485,
				  0x27C + 134 + 486, 0x27C + 134 + 487 };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (int v = 0; v < 256; v += 17) {
			memcpy(b, v4.p, v4.len);
			b[fields[i]] ^= (uint8_t)(v | 1);
			err[0] = '\0';
			if (quote_copy(b, v4.len, &q, err, sizeof(err)) != 0 && !err[0])
				TH_FAIL("flip at 0x%zx: failure without a reason", fields[i]);
		}
	}
	free(b);
}

int main(void)
{
	if (load(DIR "tdx_prod_quote_SPR_E4.dat", &v4) || load(DIR "quote_v5_sample.dat", &v5) ||
	    load(DIR "cos-113-tdx-quote.dat", &cosq) || load(SYN "tdreport.bin", &tdr)) {
		printf("not ok - unit/tdx_quote/load_vectors\n");
		return 1;
	}
	TEST(v4_spr_fields);
	TEST(v5_fields);
	TEST(cos_padded_fields);
	TEST(every_truncation);
	TEST(header_and_body_negatives);
	TEST(signature_data_negatives);
	TEST(other_cert_type_parses);
	TEST(tdreport_fields);
	TEST(tdreport_truncation_and_type);
	TEST(garbage_and_flips);
	free(v4.p);
	free(v5.p);
	free(cosq.p);
	free(tdr.p);
	return TH_END();
}
