/* Unit tests of the measurements.json reader (tee/host/measurements.c):
 * what it takes from a document, and the exact reason for each document it
 * refuses. The command-level refusals (exit status, flag conflicts) are in
 * tee/test-measurements-cli.sh. */
#include <errno.h>

#include "tests/harness.h"

#include "tee/host/measurements.h"

TH_DEFINE("measurements");

#define M96A "6ed3b6589256136a2e8052ab898fb7b02b3531bbc7bd9d1a0b5fb851320c629ed619c88443ee5fa5f78f5b384cac79bc"
#define M64A "btO2WJJWE2ougFKriY+3sCs1MbvHvZ0aC1+4UTIMYp7WGciEQ+5fpfePWzhMrHm8"
#define H96B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define H96C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define H64D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static struct measurements m;
static char err[256];

static int parse(const char *doc)
{
	err[0] = '\0';
	return measurements_parse(doc, strlen(doc), &m, err, sizeof(err));
}

static void refused(const char *doc, const char *why)
{
	CHECK_INT(parse(doc), -EINVAL);
	CHECK_STR(err, why);
}

static void snp_document(void)
{
	CHECK_INT(parse("{\"format\": \"cvminit-measurements/1\", \"tee\": \"snp\", \"snp\": {\"measurement\": \"" M96A
			"\", \"measurement_base64\": \"" M64A "\", \"vcpus\": 4, \"host_data\": \"" H64D "\"}}\n"),
		  0);
	CHECK(m.snp.present && m.snp.has_measurement && !m.tdx.present && !m.mock);
	CHECK_INT(m.snp.measurement[0], 0x6e);
	CHECK_INT(m.snp.measurement[47], 0xbc);
	CHECK(m.snp.has_extra[EXP_HOST_DATA]);
	CHECK_INT(m.snp.extra[EXP_HOST_DATA][31], 0xdd);
	CHECK(!m.snp.has_extra[EXP_ID_KEY_DIGEST] && !m.snp.has_extra[EXP_IMAGE_ID]);
}

static void tdx_document(void)
{
	CHECK_INT(parse("{\"format\": \"cvminit-measurements/1\", \"tdx\": {\"mrtd\": \"" H96B "\", \"rtmr1\": \"" H96C
			"\", \"rtmr2\": \"" H96B "\", \"mrowner\": \"" H96C "\", \"rtmr0\": null}}"),
		  0);
	CHECK(m.tdx.present && m.tdx.has_measurement && !m.snp.present);
	CHECK(!m.tdx.has_rtmr[0] && m.tdx.has_rtmr[1] && m.tdx.has_rtmr[2]);
	CHECK(m.tdx.has_extra[EXP_MROWNER] && !m.tdx.has_extra[EXP_MRCONFIGID]);
	CHECK_INT(m.tdx.rtmr[1][0], 0xcc);
}

/* tdx without rtmr2 is a well-formed document: the fail-closed check of the
 * commands refuses it ("missing expected RTMR2"). */
static void tdx_without_rtmr2(void)
{
	CHECK_INT(parse("{\"format\": \"cvminit-measurements/1\", \"tdx\": {\"mrtd\": \"" H96B "\", \"rtmr1\": \"" H96C
			"\"}}"),
		  0);
	CHECK(m.tdx.has_rtmr[1] && !m.tdx.has_rtmr[2]);
}

static void no_tee_objects(void)
{
	CHECK_INT(parse("{\"format\": \"cvminit-measurements/1\", \"snp\": null, \"initramfs\": {\"sha256\": \"00\"}}"), 0);
	CHECK(!m.snp.present && !m.tdx.present);
}

/* TEE=mock: the expected values are the mock TEE's, whatever "snp" says. */
static void mock_document(void)
{
	CHECK_INT(parse("{\"format\": \"cvminit-measurements/1\", \"tee\": \"mock\", \"snp\": {\"measurement\": \"" M96A
			"\", \"host_data\": \"" H64D "\"}, \"mock_tee_measurement\": \"" H96B "\", \"mock_tdx_rtmr1\": \"" H96C
			"\", \"mock_tdx_rtmr2\": \"" H96B "\"}"),
		  0);
	CHECK(m.mock && m.snp.present && m.tdx.present);
	CHECK_INT(m.snp.measurement[0], 0xbb);
	CHECK(!m.snp.has_extra[EXP_HOST_DATA]);
	CHECK_INT(m.tdx.measurement[0], 0xbb);
	CHECK(m.tdx.has_rtmr[1] && m.tdx.has_rtmr[2] && !m.tdx.has_rtmr[0]);
	refused("{\"format\": \"cvminit-measurements/1\", \"tee\": \"mock\"}",
		"\"tee\" is \"mock\" but there is no \"mock_tee_measurement\"");
}

static void unknown_format(void)
{
	refused("{\"format\": \"cvminit-measurements/2\", \"snp\": {\"measurement\": \"" M96A "\"}}",
		"unknown format 'cvminit-measurements/2' (this cvminit reads cvminit-measurements/1; a newer cvminit wrote it?)");
	refused("{\"format\": \"cvminit-challenge/1\"}",
		"unknown format 'cvminit-challenge/1' (this cvminit reads cvminit-measurements/1; a newer cvminit wrote it?)");
	refused("{\"format\": \"x\\u0001y\"}",
		"unknown format 'x?y' (this cvminit reads cvminit-measurements/1; a newer cvminit wrote it?)");
	refused("{\"snp\": {\"measurement\": \"" M96A "\"}}",
		"not a cvminit measurements document (no \"format\": \"cvminit-measurements/1\")");
	refused("{\"format\": 1}", "not a cvminit measurements document (no \"format\": \"cvminit-measurements/1\")");
	refused("[1, 2]", "not a cvminit measurements document (a JSON array, not an object)");
}

static void malformed_json(void)
{
	refused("{\"format\": \"cvminit-measurements/1\",", "not a JSON document (continue at byte 36)");
	refused("{\"format\": \"cvminit-measurements/1\"} {}", "not a JSON document (text after the document at byte 37)");
	refused("", "not a JSON document (continue at byte 0)");
	refused("{\"format\": \"cvminit-measurements/1\", \"snp\": {\"a\": [[[[[[[[1]]]]]]]]}}",
		"not a JSON document (nesting too deep at byte 56)");
	static const char nul[] = "{\"format\": \"cvminit-measurements/1\"}\0";
	CHECK_INT(measurements_parse(nul, sizeof(nul) - 1, &m, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "not a JSON document (a NUL byte)");
}

static void too_large(void)
{
	static char big[MEASUREMENTS_MAX + 2];
	memset(big, ' ', sizeof(big) - 1);
	CHECK_INT(measurements_parse(big, MEASUREMENTS_MAX + 1, &m, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "larger than 1048576 bytes: not a measurements document");
}

static void missing_or_bad_values(void)
{
	refused("{\"format\": \"cvminit-measurements/1\", \"snp\": {\"vcpus\": 4}}",
		"snp has no \"measurement\" (the predicted launch MEASUREMENT, 96 hex digits)");
	refused("{\"format\": \"cvminit-measurements/1\", \"snp\": {\"measurement\": \"" H64D "\"}}",
		"snp.measurement must be 96 hex digits (a string of another length or not hex)");
	refused("{\"format\": \"cvminit-measurements/1\", \"snp\": {\"measurement\": 5}}",
		"snp.measurement must be 96 hex digits (a int)");
	refused("{\"format\": \"cvminit-measurements/1\", \"snp\": \"" M96A "\"}", "\"snp\" must be an object (a string)");
	refused("{\"format\": \"cvminit-measurements/1\", \"snp\": {\"measurement\": \"" M96A "\", \"measurement_base64\": \"AAAA\"}}",
		"snp.measurement_base64 is not the base64 of snp.measurement");
	refused("{\"format\": \"cvminit-measurements/1\", \"snp\": {\"measurement\": \"" M96A "\", \"host_data\": \"" H96B "\"}}",
		"snp.host_data must be 64 hex digits (a string of another length or not hex)");
	refused("{\"format\": \"cvminit-measurements/1\", \"tdx\": {\"rtmr1\": \"" H96B "\"}}",
		"tdx has no \"mrtd\" (the predicted MRTD, 96 hex digits)");
	refused("{\"format\": \"cvminit-measurements/1\", \"tdx\": {\"mrtd\": \"" H96B "\", \"rtmr2\": \"" M64A "\"}}",
		"tdx.rtmr2 must be 96 hex digits (a string of another length or not hex)");
	refused("{\"format\": \"cvminit-measurements/1\", \"tdx\": {\"mrtd\": \"" H96B "\", \"mrconfigid\": true}}",
		"tdx.mrconfigid must be 96 hex digits (a boolean)");
}

static void flags(void)
{
	struct verify_opts o;
	memset(&o, 0, sizeof(o));
	CHECK_INT(report_extra_parse(&o, "--expect-host-data", H64D, "t"), 2);
	CHECK(o.has_extra[EXP_HOST_DATA]);
	CHECK_INT(report_extra_parse(&o, "--expect-mrowner", H96B, "t"), 2);
	CHECK_INT(report_extra_parse(&o, "--expect-family-id", H64D, "t"), -1);
	CHECK_INT(report_extra_parse(&o, "--expect-measurement", H96B, "t"), 0);
}

int main(void)
{
	TEST(snp_document);
	TEST(tdx_document);
	TEST(tdx_without_rtmr2);
	TEST(no_tee_objects);
	TEST(mock_document);
	TEST(unknown_format);
	TEST(malformed_json);
	TEST(too_large);
	TEST(missing_or_bad_values);
	TEST(flags);
	return TH_END();
}
