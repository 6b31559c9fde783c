# tee/ guest side: the own-report policy and the evidence document are pure
# and tested on the host (the providers run in the QEMU scenarios).
UNIT_TESTS += tee_policy
UNIT_SRCS_tee_policy := tee/policy.c tee/evidence.c tee/snp_report.c tee/tdx_quote.c init/config.c init/plan.c init/mountopts.c init/partref.c

# The snp-derived key's request, the TCB order and the mock TEE's
# measurement (test build: the mock's MOCK_* keys exist only there).
UNIT_TESTS += snp_key_request
UNIT_SRCS_snp_key_request := crypto/snp_params.c init/config.c init/plan.c init/mountopts.c init/partref.c
UNIT_CFLAGS_snp_key_request = -DCVMINIT_TEST_BUILD $(DEPS_CFLAGS)
UNIT_LIBS_snp_key_request = $(DEPS_RELEASE)/lib/libmbedcrypto.a
$(B)/unit/test_snp_key_request $(B)/coverage/test_snp_key_request: $(DEPS_STAMP)
