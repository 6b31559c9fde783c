# kbs/: the key broker client (Trustee KBS 0.4.0) for the kbs key source.
# The init links all of it; the host unit tests and fuzz targets the pure
# parts, with the deps' mbedtls 3 (nist_kw, the same code the init runs) and json-c.
INIT_SRCS += $(sort $(wildcard kbs/*.c))

KBS_PURE_SRCS := kbs/json.c kbs/rcar.c kbs/http.c kbs/jwe.c tee/snp_report.c crypto/secret.c
KBS_DEPS_LIBS = $(DEPS_RELEASE)/lib/libjson-c.a $(DEPS_RELEASE)/lib/libmbedcrypto.a

UNIT_TESTS += kbs
UNIT_SRCS_kbs := $(KBS_PURE_SRCS)
UNIT_CFLAGS_kbs = $(DEPS_CFLAGS)
UNIT_LIBS_kbs = $(KBS_DEPS_LIBS)
$(B)/unit/test_kbs $(B)/coverage/test_kbs: $(DEPS_STAMP)

# the DHCP replies' checks (kbs/dhcp_msg.c: pure, no deps)
UNIT_TESTS += dhcp
UNIT_SRCS_dhcp := kbs/dhcp_msg.c

# JWE known answers made by python3-jwcrypto at test time (no vectors committed)
CHECK_SUITES += kbs/test-jwe-jwcrypto.sh
CHECK_DEPS += $(B)/kbs-jwe-decrypt
$(B)/kbs-jwe-decrypt: tests/kbs_jwe_decrypt.c $(KBS_PURE_SRCS) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(UNIT_CC) $(UNIT_CFLAGS) $(DEPS_CFLAGS) -o $@ tests/kbs_jwe_decrypt.c $(KBS_PURE_SRCS) $(KBS_DEPS_LIBS)
