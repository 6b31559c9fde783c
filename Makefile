# cvminit top-level build. Folder fragments (*/*.mk) add their sources,
# host-tool commands and unit tests; this file holds the shared rules.
#
#   make          build/init (release), build/init-test, build/cvminit
#   make deps     the pinned static musl dependency stack (cached)
#   make demo     build everything, boot the demo disk in QEMU
#   make check    every test; ends with "N passed, N failed"

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

CVMINIT_CACHE ?= $(HOME)/.cache/cvminit
export CVMINIT_CACHE

B := build
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

# snprintf truncation is deliberate for log text; paths go through path_join().
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter -Wno-format-truncation
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -DCVMINIT_VERSION='"$(VERSION)"'
# Hardening for every musl binary.
HARDEN := -fPIE -fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=2
OPT := -Os -ffunction-sections -fdata-sections

# Pieces each fragment extends.
INIT_SRCS :=
INIT_TEST_SRCS :=
HOST_SRCS :=
HOST_CMDS :=
UNIT_TESTS :=
CHECK_SUITES :=
CHECK_DEPS :=

include deps/deps.mk
include $(sort $(wildcard init/*.mk crypto/*.mk tee/*.mk kbs/*.mk initramfs/*.mk kconfig/*.mk host/*.mk image/*.mk qemu-tests/*.mk tests/*.mk))

.PHONY: all deps demo check clean distclean unit bench

# ---- the init: release and test builds (static musl) -----------------------
# The init is static-pie: position independent (ASLR for PID 1) with no
# dynamic loader. musl-gcc's own -static-pie yields a *dynamic* PIE that
# needs /lib/ld-musl (absent from an initramfs), and its -print-file-name
# finds glibc's rcrt1.o: name musl's start files and the linker flags here.
MUSL_LIBDIR := /usr/lib/$(subst -linux-gnu,-linux-musl,$(shell gcc -print-multiarch))
GCC_CRTDIR := $(dir $(shell gcc -print-libgcc-file-name))
PIE_START := $(MUSL_LIBDIR)/rcrt1.o $(MUSL_LIBDIR)/crti.o $(GCC_CRTDIR)crtbeginS.o
PIE_END := $(GCC_CRTDIR)crtendS.o $(MUSL_LIBDIR)/crtn.o
INIT_LDFLAGS := -static-pie -nostartfiles -Wl,-static -Wl,--no-dynamic-linker -Wl,-z,text \
	-Wl,--gc-sections -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack

$(B)/release/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(MUSL_CC) $(BASE_CFLAGS) $(HARDEN) $(OPT) $(DEPS_CFLAGS) -MMD -MP -c $< -o $@

$(B)/test/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(MUSL_CC) $(BASE_CFLAGS) $(HARDEN) $(OPT) $(DEPS_CFLAGS) -DCVMINIT_TEST_BUILD -MMD -MP -c $< -o $@

$(B)/host/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(MUSL_CC) $(BASE_CFLAGS) $(HARDEN) $(OPT) $(DEPS_CFLAGS) -DCVMINIT_HOST_TOOL -MMD -MP -c $< -o $@

INIT_OBJS := $(INIT_SRCS:%.c=$(B)/release/%.o)
INIT_TEST_OBJS := $(INIT_SRCS:%.c=$(B)/test/%.o) $(INIT_TEST_SRCS:%.c=$(B)/test/%.o)
HOST_SRCS += host/main.c host/version.c
# A source several fragments need is built and linked once.
HOST_OBJS := $(patsubst %.c,$(B)/host/%.o,$(sort $(HOST_SRCS)))

# Linked again whenever the dependency stack changes (its stamp path does).
$(B)/init: $(INIT_OBJS) $(DEPS_STAMP)
	@echo "  LD      $@"
	@$(MUSL_CC) $(INIT_LDFLAGS) -o $@.unstripped $(PIE_START) $(filter %.o,$^) $(DEPS_LDLIBS) $(PIE_END)
	@strip --strip-all -o $@ $@.unstripped
	@echo "build/init: $$(stat -c %s $@) bytes (stripped, static)"

$(B)/init-test: $(INIT_TEST_OBJS) $(DEPS_STAMP)
	@echo "  LD      $@"
	@$(MUSL_CC) $(INIT_LDFLAGS) -o $@.unstripped $(PIE_START) $(filter %.o,$^) $(DEPS_LDLIBS) $(PIE_END)
	@strip --strip-all -o $@ $@.unstripped
	@echo "build/init-test: $$(stat -c %s $@) bytes (stripped, static, TEST build)"

$(B)/cvminit: $(HOST_OBJS) $(DEPS_STAMP)
	@echo "  LD      $@"
	@$(MUSL_CC) -static -Wl,--gc-sections -o $@ $(filter %.o,$^) $(DEPS_LDLIBS)

all: $(B)/init $(B)/init-test $(B)/cvminit

-include $(shell find $(B)/release $(B)/test $(B)/host -name '*.d' -type f 2>/dev/null)

# ---- host unit tests (gcc, AddressSanitizer + UBSan) ------------------------
UNIT_CC ?= gcc
UNIT_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
UNIT_BINS := $(UNIT_TESTS:%=$(B)/unit/test_%)

# tests/test_NAME.c is the test program unless UNIT_MAIN_NAME names another.
define unit_rule
UNIT_MAIN_$(1) ?= tests/test_$(1).c
$(B)/unit/test_$(1): $$(UNIT_MAIN_$(1)) $$(UNIT_SRCS_$(1)) $(wildcard tests/*.h)
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$@"
	@$$(UNIT_CC) $$(UNIT_CFLAGS) $$(UNIT_CFLAGS_$(1)) -o $$@ $$(UNIT_MAIN_$(1)) $$(UNIT_SRCS_$(1)) $$(UNIT_LIBS_$(1))
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

unit: $(UNIT_BINS)
	@UNIT_BINS="$(UNIT_BINS)" CHECK_SUITES= tests/check.sh

# ---- the two commands of the README ----------------------------------------
check: deps all $(UNIT_BINS) $(CHECK_DEPS)
	@UNIT_BINS="$(UNIT_BINS)" CHECK_SUITES="$(CHECK_SUITES)" tests/check.sh

demo: deps all
	@qemu-tests/demo.sh

clean:
	rm -rf $(B)
