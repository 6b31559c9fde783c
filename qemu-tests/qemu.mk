# qemu-tests/: the pinned test kernel, the launcher stand-in, the demo disk
# and the QEMU scenarios (see qemu-tests/README.md).
#
#   make kernel        fetch + verify + extract the pinned Debian kernel (cached)
#   make standin       build/standin, the launcher stand-in (static musl)
#   make demo-disk     build/demo/disk.img, the protected six-partition demo disk
#   make qemu-check    every scenario (or QEMU_SCENARIOS="boot-plain ...")

KERNEL_VER := $(shell sed -n 's/^KVER=//p' qemu-tests/kernel.lock)
KERNEL_DIR := $(CVMINIT_CACHE)/kernel/$(KERNEL_VER)
KERNEL_IMAGE := $(KERNEL_DIR)/vmlinuz
KERNEL_MODDIR := $(KERNEL_DIR)/lib/modules/$(KERNEL_VER)
export KERNEL_VER KERNEL_IMAGE KERNEL_MODDIR

STANDIN_CC ?= musl-gcc
STANDIN_CFLAGS := -static -Os -std=gnu11 $(WARN)
QEMU_SCENARIOS ?=
# Two TCG guests at once on the 2-core machines: ~40% less wall time.
QEMU_JOBS ?= 2
export QEMU_JOBS

.PHONY: kernel standin demo-disk qemu-check

# Cheap when cached: kernel.sh checks its stamp and returns.
kernel:
	@qemu-tests/kernel.sh >/dev/null

standin: $(B)/standin

$(B)/standin: qemu-tests/standin/standin.c
	@mkdir -p $(dir $@)
	$(STANDIN_CC) $(STANDIN_CFLAGS) -o $@ $<
	strip --strip-all $@

demo-disk: $(B)/standin
	qemu-tests/demo.sh --disk-only

qemu-check: kernel $(B)/standin $(B)/init-test $(B)/cvminit
	@qemu-tests/run.sh $(QEMU_SCENARIOS)

# make check runs the test KBS's own suite (kbs/...), then the scenarios as one
# suite; make demo boots the demo disk.
CHECK_SUITES += qemu-tests/kbs/test-kbs.sh qemu-tests/run.sh
CHECK_DEPS += kernel $(B)/standin
demo: kernel $(B)/standin

# The TPM scenarios' launcher: reads PCR 15 and tries to unseal after the
# switch (static musl, the init's TPM2 library).
TPM2_PROBE_SRCS := qemu-tests/probe/tpm2-probe.c crypto/tpm2.c crypto/tpm2_token.c crypto/tpm2_util.c crypto/secret.c
$(B)/tpm2-probe: $(TPM2_PROBE_SRCS) $(DEPS_STAMP)
	@echo "  LD      $@"
	@$(MUSL_CC) $(BASE_CFLAGS) $(OPT) $(DEPS_CFLAGS) -static -Wl,--gc-sections -o $@ $(TPM2_PROBE_SRCS) $(DEPS_LDLIBS)
	@strip --strip-all $@
CHECK_DEPS += $(B)/tpm2-probe
