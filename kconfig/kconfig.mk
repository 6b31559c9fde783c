# kconfig/: cvminit's kernel config fragments and `cvminit kconfig check`
# (see kconfig/README.md).
#
#   make kconfig-check   run the checker on the pinned Debian kernels' configs

KCONFIG_FRAGMENTS := kconfig/required.config kconfig/hardening.config kconfig/fast.config
# The fragments embedded in the host tool: a generated C file of byte arrays.
KCONFIG_EMBED := $(B)/kconfig/fragments.c
KCONFIG_SRCS := kconfig/parse.c kconfig/check.c kconfig/cmd.c $(KCONFIG_EMBED)

$(KCONFIG_EMBED): $(KCONFIG_FRAGMENTS) kconfig/embed.sh
	@mkdir -p $(dir $@)
	sh kconfig/embed.sh $@ $(KCONFIG_FRAGMENTS)

HOST_SRCS += $(KCONFIG_SRCS)

UNIT_TESTS += kconfig
UNIT_SRCS_kconfig := $(KCONFIG_SRCS)

# Real Debian configs (bookworm 6.1, trixie 6.12) against kconfig/expected/.
CHECK_SUITES += kconfig/test-real-configs.sh
CHECK_DEPS += $(B)/cvminit

.PHONY: kconfig-check
kconfig-check: $(B)/cvminit
	@kconfig/test-real-configs.sh --bin $(B)/cvminit
