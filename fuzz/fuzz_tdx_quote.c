/* libFuzzer target: the TDX quote (v4, v5) and TDREPORT parsers
 * (tdx_quote_parse, tdx_tdreport_parse in tee/tdx_quote.c), both on an
 * exact-size copy of every input.
 *
 * Properties: a parsed quote lies inside the input (quote_len <= size,
 * trailing = size - quote_len), the signed part ends where the signature
 * data length starts, the certification data and, for type 6, the QE report,
 * QE auth data and PCK data lie inside it and end exactly at the quote's
 * end; a parsed TDREPORT has 1024 bytes and type 0x81; a failure always
 * gives a terminated, non-empty reason. The seeds are the real go-tdx-guest
 * quotes v4 and v5 (tests/data/vectors/) and the synthetic TDREPORT. */
// FUZZ_SRCS: tee/tdx_quote.c
// FUZZ_OPTS: -max_len=8192
#include "fuzz/fuzz.h"
#include "tee/tdx_quote.h"

static int inside(const uint8_t *p, size_t size, const uint8_t *q, size_t n)
{
	return q >= p && (size_t)(q - p) <= size && n <= size - (size_t)(q - p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	struct tdx_quote q;
	struct tdx_tdreport t;
	char err[256];

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);

	err[0] = '\0';
	int rc = tdx_quote_parse(p, size, &q, err, sizeof(err));
	if (rc == 0) {
		FUZZ_ASSERT(q.version == 4 || q.version == 5);
		FUZZ_ASSERT(q.tee_type == TDX_TEE_TYPE_TDX && q.att_key_type == TDX_ATT_KEY_ECDSA_P256);
		FUZZ_ASSERT(q.quote_len <= size && q.trailing == size - q.quote_len);
		FUZZ_ASSERT(q.signed_len == TDX_QUOTE_HEADER_SIZE + (q.version == 5 ? 6 : 0) + q.body_size);
		FUZZ_ASSERT(q.body.td15 == (q.body_type == TDX_BODY_TYPE_TD15));
		FUZZ_ASSERT(q.signed_len + 4 + q.sig_data_len == q.quote_len);
		FUZZ_ASSERT(inside(p, q.quote_len, q.cert_data, q.cert_size));
		FUZZ_ASSERT(q.cert_data + q.cert_size == p + q.quote_len);
		FUZZ_ASSERT(!memcmp(q.body.report_data, p + q.signed_len - q.body_size + 520, 64));
		if (q.has_qe_report) {
			FUZZ_ASSERT(q.cert_type == TDX_CERT_TYPE_QE_REPORT);
			FUZZ_ASSERT(inside(p, q.quote_len, q.qe_report_raw, SGX_REPORT_BODY_SIZE));
			FUZZ_ASSERT(inside(p, q.quote_len, q.qe_auth, q.qe_auth_len));
			FUZZ_ASSERT(inside(p, q.quote_len, q.pck_cert_data, q.pck_cert_size));
			FUZZ_ASSERT(q.pck_cert_data + q.pck_cert_size == p + q.quote_len);
		}
	} else {
		FUZZ_ASSERT(rc == -1);
		FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)) && err[0]);
	}

	err[0] = '\0';
	rc = tdx_tdreport_parse(p, size, &t, err, sizeof(err));
	if (rc == 0) {
		FUZZ_ASSERT(size >= TDX_TDREPORT_SIZE && t.trailing == size - TDX_TDREPORT_SIZE);
		FUZZ_ASSERT(t.report_type == TDX_TEE_TYPE_TDX);
		FUZZ_ASSERT(t.tee_tcb_info_raw == p + TDX_TEE_TCB_INFO_OFFSET && t.tdinfo_raw == p + TDX_TDINFO_OFFSET);
		FUZZ_ASSERT(!memcmp(t.mr_td, p + TDX_TDINFO_OFFSET + 16, 48));
	} else {
		FUZZ_ASSERT(rc == -1);
		FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)) && err[0]);
	}
	free(p);
	return 0;
}
