# tee/: SEV-SNP/TDX. The pure parsers (tee/snp_report.c, tee/tdx_quote.c) are
# linked into the init by init/init.mk's tee/*.c wildcard and into the host
# tool here; tee/host/ holds the host-only `cvminit report` command (mbedtls).
TEE_PARSER_SRCS := tee/snp_report.c tee/tdx_quote.c
HOST_SRCS += $(TEE_PARSER_SRCS) tee/host/report_cmd.c tee/host/report_show.c tee/host/report_verify.c tee/host/roots.c tee/host/verify_out.c tee/host/report_policy.c \
	tee/host/measurements.c crypto/tpm2_util.c

UNIT_TESTS += snp_report
UNIT_SRCS_snp_report := tee/snp_report.c
UNIT_TESTS += tdx_quote
UNIT_SRCS_tdx_quote := tee/tdx_quote.c

# `cvminit report show|verify` on the real vectors in tests/data/vectors/.
CHECK_SUITES += tee/test-report-cli.sh
CHECK_DEPS += $(B)/cvminit

# --measurements FILE of report verify and key wrap (tee/host/measurements.c).
CHECK_SUITES += tee/test-measurements-cli.sh

# The built-in roots of trust against the vendors' certificates in the vectors.
UNIT_TESTS += roots
UNIT_SRCS_roots := tee/host/roots.c
UNIT_LIBS_roots := -lmbedx509 -lmbedcrypto

# The measurements.json reader (--measurements) on good and broken documents.
UNIT_TESTS += measurements
UNIT_SRCS_measurements := tee/host/measurements.c crypto/tpm2_util.c crypto/secret.c
UNIT_LIBS_measurements := -ljson-c -lmbedcrypto

# The README's owner procedure (measure --snp-ovmf, report verify and key wrap
# with --measurements), run as written from a fresh shell on test inputs.
CHECK_SUITES += tests/owner-procedure.sh
