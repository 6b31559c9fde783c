# crypto/: the TPM2 side (see crypto/README.md, "TPM2"). Every crypto/*.c is
# linked into the init by init/init.mk; crypto/host/ holds what only the host
# tool has: `cvminit tpm2` and the swtpm TCTI.
#
#   make tpm2-swtpm-test   build/tpm2-swtpm-test, the library tests against swtpm
#                          (run by crypto/host/test-tpm2-swtpm.sh in make check)

TPM2_LIB_SRCS := crypto/tpm2.c crypto/tpm2_token.c crypto/tpm2_util.c crypto/eventlog.c crypto/measure_events.c \
	crypto/secret.c crypto/volume_key.c
TPM2_HOST_SRCS := $(TPM2_LIB_SRCS) crypto/host/tpm2_cmd.c crypto/host/tpm2_tcti.c crypto/host/tpm2_facts.c \
	crypto/host/tpm2_facts_tb.c init/config.c init/plan.c init/mountopts.c init/partref.c
HOST_SRCS += $(TPM2_HOST_SRCS)

# Both TCTIs in one static binary: every static TCTI archive defines
# Tss2_Tcti_Info, so the host tool takes the swtpm TCTI's object from the
# swtpm stack with that symbol made local (its helpers - tcti-common, io,
# key-value parsing, log - are byte-identical to the device TCTI's, which
# provides them). The init links the device TCTI alone.
TPM2_SWTPM_TCTI := $(B)/host/crypto/tcti-swtpm.o
$(TPM2_SWTPM_TCTI): $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  OBJCOPY $@"
	@t=$$(mktemp -d) && (cd "$$t" && ar x "$(DEPS_SWTPM)/lib/libtss2-tcti-swtpm.a" tcti-swtpm.o) && \
		objcopy --localize-symbol=Tss2_Tcti_Info "$$t/tcti-swtpm.o" $@; r=$$?; rm -rf "$$t"; exit $$r

# `tpm2 predict --test-build`: init/config.c and init/plan.c (its policy)
# with the test build's schema, linked into one object whose global symbols
# are all renamed tb_* (crypto/host/tpm2_facts_tb.c uses them).
TPM2_TB_CONFIG := $(B)/host/crypto/tb-config.o
$(TPM2_TB_CONFIG): init/config.c init/plan.c init/plan.h init/context.h init/config.h init/config_keys.def crypto/snp_params.h \
		init/mountopts.h init/partref.h | deps
	@mkdir -p $(@D)
	@echo "  CC      $@ (test-build schema)"
	@$(MUSL_CC) $(BASE_CFLAGS) $(HARDEN) $(OPT) -DCVMINIT_TEST_BUILD -c init/config.c -o $@.config.o
	@$(MUSL_CC) $(BASE_CFLAGS) $(HARDEN) $(OPT) -DCVMINIT_TEST_BUILD -c init/plan.c -o $@.plan.o
	@ld -r -o $@.tmp.o $@.config.o $@.plan.o && rm -f $@.config.o $@.plan.o
	@nm -g --defined-only $@.tmp.o | awk 'NF == 3 { print $$3 " tb_" $$3 }' > $@.syms
	@objcopy --redefine-syms=$@.syms $@.tmp.o $@ && rm -f $@.tmp.o

$(B)/cvminit: $(TPM2_SWTPM_TCTI) $(TPM2_TB_CONFIG)

# ---- unit tests (host gcc + ASan/UBSan, the host's json-c and mbedtls) ------
UNIT_TESTS += tpm2_util tpm2_token eventlog volume_key
UNIT_SRCS_volume_key := crypto/volume_key.c crypto/measure_events.c crypto/tpm2_util.c crypto/secret.c
UNIT_LIBS_volume_key := -lmbedcrypto
UNIT_SRCS_tpm2_util := crypto/tpm2_util.c crypto/secret.c
UNIT_LIBS_tpm2_util := -lmbedcrypto
UNIT_SRCS_tpm2_token := crypto/tpm2_token.c crypto/tpm2_util.c crypto/secret.c
UNIT_LIBS_tpm2_token := -ljson-c -lmbedcrypto
UNIT_SRCS_eventlog := crypto/eventlog.c crypto/measure_events.c crypto/tpm2_util.c crypto/secret.c crypto/volume_key.c
UNIT_LIBS_eventlog := -ljson-c -lmbedcrypto

# ---- against swtpm (static musl program, the host tool's TCTI pair) --------
TPM2_SWTPM_TEST := $(B)/tpm2-swtpm-test
TPM2_SWTPM_TEST_OBJS := $(addprefix $(B)/host/,$(TPM2_LIB_SRCS:.c=.o) crypto/host/tpm2_tcti.o tests/test_tpm2_swtpm.o)
$(TPM2_SWTPM_TEST): $(TPM2_SWTPM_TEST_OBJS) $(TPM2_SWTPM_TCTI)
	@echo "  LD      $@"
	@$(MUSL_CC) -static -Wl,--gc-sections -o $@ $^ $(DEPS_LDLIBS)

.PHONY: tpm2-swtpm-test
tpm2-swtpm-test: $(TPM2_SWTPM_TEST)

CHECK_SUITES += crypto/host/test-tpm2-swtpm.sh
CHECK_DEPS += $(TPM2_SWTPM_TEST) $(B)/cvminit

# ---- the LUKS2 header policy (headers made by the host's cryptsetup at test time)
UNIT_TESTS += luks_header
UNIT_SRCS_luks_header := crypto/luks_header.c crypto/secret.c
UNIT_LIBS_luks_header := -ljson-c -lmbedcrypto
