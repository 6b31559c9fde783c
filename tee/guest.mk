# tee/ guest side: the own-report policy and the evidence document are pure
# and tested on the host (the providers run in the QEMU scenarios).
UNIT_TESTS += tee_policy
UNIT_SRCS_tee_policy := tee/policy.c tee/evidence.c tee/snp_report.c tee/tdx_quote.c init/config.c init/plan.c init/mountopts.c init/partref.c
