/* libFuzzer target: the SEV-SNP attestation report parser
 * (snp_report_parse in tee/snp_report.c), on an exact-size copy of the input.
 *
 * Properties: a parse succeeds only for at least 0x4A0 bytes with a version
 * of 2-5, counts the rest as trailing bytes and copies the fields from their
 * ABI offsets; a failure always gives a terminated, non-empty reason. The
 * seeds are the real go-sev-guest report (tests/data/vectors/) and edits of
 * it: version 3 Turin, version 5, a truncation, trailing bytes. */
// FUZZ_SRCS: tee/snp_report.c
// FUZZ_OPTS: -max_len=2048
#include "fuzz/fuzz.h"
#include "tee/snp_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	struct snp_report r;
	char err[256];

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	err[0] = '\0';
	int rc = snp_report_parse(p, size, &r, err, sizeof(err));
	if (rc == 0) {
		FUZZ_ASSERT(size >= SNP_REPORT_SIZE);
		FUZZ_ASSERT(r.size == SNP_REPORT_SIZE && r.trailing == size - SNP_REPORT_SIZE);
		FUZZ_ASSERT(r.version >= SNP_REPORT_MIN_VERSION && r.version <= SNP_REPORT_MAX_VERSION);
		FUZZ_ASSERT(r.signing_key <= 7);
		FUZZ_ASSERT(!memcmp(r.report_data, p + 0x50, 64));
		FUZZ_ASSERT(!memcmp(r.measurement, p + 0x90, 48));
		FUZZ_ASSERT(!memcmp(r.chip_id, p + 0x1A0, 64));
		FUZZ_ASSERT(!memcmp(r.sig_s, p + SNP_REPORT_SIG_S_OFFSET, SNP_REPORT_SIG_FIELD));
		FUZZ_ASSERT(r.has_cpuid == (r.version >= 3) && r.has_mit_vector == (r.version >= 5));
		struct snp_tcb t;
		snp_tcb_decode(r.reported_tcb.raw, r.reported_tcb.turin, &t);
		FUZZ_ASSERT(t.raw == r.reported_tcb.raw && t.turin == r.reported_tcb.turin && t.fmc == r.reported_tcb.fmc &&
			    t.boot_loader == r.reported_tcb.boot_loader && t.tee == r.reported_tcb.tee &&
			    t.snp == r.reported_tcb.snp && t.microcode == r.reported_tcb.microcode);
		FUZZ_ASSERT(r.reported_tcb.turin == snp_report_is_turin(r.version, r.cpuid_fam_id));
		uint8_t rb[48], sb[48];
		if (snp_report_signature_be(&r, rb, sb) == 0)
			FUZZ_ASSERT(rb[0] == r.sig_r[47] && sb[47] == r.sig_s[0]);
	} else {
		FUZZ_ASSERT(rc == -1);
		FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)) && err[0]);
	}
	free(p);
	return 0;
}
