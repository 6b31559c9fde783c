# tests/quality.mk: the quality gates (see fuzz/README.md).
#
#   make fuzz          every libFuzzer target for FUZZ_SECONDS each (default 60),
#                      FUZZ_JOBS at a time (default: the number of CPUs);
#                      FUZZ_TARGETS_RUN="config gpt" for some only
#   make fuzz-replay   replay every seed corpus once (no fuzzing)
#   make fuzz-merge    fold what `make fuzz` found (build/fuzz/corpus/T) into
#                      the seed corpus fuzz/corpus/T, minimised (then review + commit)
#   make lint          cppcheck + clang-tidy (.clang-tidy) over the C sources;
#                      exits non-zero on any finding
#   make coverage      unit tests built with gcc --coverage in build/coverage/,
#                      line and branch coverage per file (gcovr), total at the end
#   make check         also replays every corpus, fuzzes each target briefly
#                      (FUZZ_CHECK_SECONDS each, FUZZ_CHECK_BUDGET seconds in
#                      total at most) and checks the hardening of build/init*
#
# Fuzz targets: every fuzz/fuzz_NAME.c is target NAME, built as
# build/fuzz/NAME. Its project sources are named in ONE comment line of that
# file: "// FUZZ_SRCS: init/config.c init/mountopts.c" (make variables are
# expanded there); optional "// FUZZ_CFLAGS: ..." (extra compiler flags),
# "// FUZZ_LIBS: ..." (libraries, e.g. -ljson-c) and "// FUZZ_OPTS: ..."
# (libFuzzer flags, read by tests/quality/fuzz.sh).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 10
FUZZ_CHECK_BUDGET ?= 60
FUZZ_JOBS ?=
FUZZ_TARGETS_RUN ?=
export FUZZ_CHECK_SECONDS FUZZ_CHECK_BUDGET

FUZZ_ALL := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_BINS := $(FUZZ_ALL:%=$(B)/fuzz/%)
# clang has no -Wformat-truncation.
FUZZ_FLAGS := $(filter-out -Wno-format-truncation,$(BASE_CFLAGS)) -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
# Coarse but safe: a target is rebuilt when any project header changes.
FUZZ_HDRS := $(wildcard fuzz/*.h init/*.h init/*.def crypto/*.h tee/*.h initramfs/*.h kconfig/*.h host/*.h)

# The value of "// KEY: ..." in fuzz/fuzz_$(1).c.
fuzz_field = $(shell sed -n 's|^// $(2):[[:space:]]*||p' fuzz/fuzz_$(1).c)

define fuzz_rule
FUZZ_SRCS_$(1) := $(call fuzz_field,$(1),FUZZ_SRCS)
FUZZ_CFLAGS_$(1) := $(call fuzz_field,$(1),FUZZ_CFLAGS)
FUZZ_LIBS_$(1) := $(call fuzz_field,$(1),FUZZ_LIBS)
$(B)/fuzz/$(1): fuzz/fuzz_$(1).c $$(FUZZ_SRCS_$(1)) $$(FUZZ_HDRS)
	@mkdir -p $$(@D)
	@echo "  FUZZCC  $$@"
	@$$(FUZZ_CC) $$(FUZZ_FLAGS) $$(FUZZ_CFLAGS_$(1)) -o $$@ fuzz/fuzz_$(1).c $$(FUZZ_SRCS_$(1)) $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call fuzz_rule,$(t))))

.PHONY: fuzz fuzz-build fuzz-replay fuzz-merge lint coverage

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@tests/quality/fuzz.sh run --seconds $(FUZZ_SECONDS) $(if $(FUZZ_JOBS),--jobs $(FUZZ_JOBS)) \
		--bindir $(B)/fuzz $(FUZZ_TARGETS_RUN)

fuzz-replay: $(FUZZ_BINS)
	@tests/quality/fuzz.sh replay --bindir $(B)/fuzz $(FUZZ_TARGETS_RUN)

fuzz-merge: $(FUZZ_BINS)
	@tests/quality/fuzz.sh merge --bindir $(B)/fuzz $(FUZZ_TARGETS_RUN)

CHECK_SUITES += tests/quality/fuzz.sh tests/quality/check-hardening.sh
CHECK_DEPS += $(FUZZ_BINS) $(B)/init $(B)/init-test

# tests/quality/check-hardening.sh: "yes" once the init is linked static-pie
# (until then the static-pie lines are "ok ... # SKIP").
HARDEN_REQUIRE_STATIC_PIE ?= yes
export HARDEN_REQUIRE_STATIC_PIE

# ---- static analysis --------------------------------------------------------
# Flags as the real builds use them; the host's (glibc) headers stand in for
# musl's, which clang-tidy and cppcheck cannot be pointed at cleanly.
LINT_DIRS := init crypto tee initramfs kconfig host image kbs
LINT_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(DEPS_CFLAGS)
export LINT_CFLAGS
lint: deps
	@tests/quality/lint.sh $(LINT_DIRS)

# zero findings is part of make check
CHECK_SUITES += tests/quality/lint-check.sh

# ---- coverage ---------------------------------------------------------------
# The unit tests of UNIT_TESTS (same sources and flags, no sanitizers), built
# with gcc --coverage into $(B)/coverage/, run from the repository root.
# A test whose program does not exist (yet) is left out, with a note.
COV_CFLAGS := $(BASE_CFLAGS) -O0 -g --coverage
cov_main = $(or $(UNIT_MAIN_$(1)),tests/test_$(1).c)
COV_TESTS := $(foreach t,$(UNIT_TESTS),$(if $(wildcard $(call cov_main,$(t))),$(t)))
COV_MISSING := $(filter-out $(COV_TESTS),$(UNIT_TESTS))
COV_BINS := $(COV_TESTS:%=$(B)/coverage/test_%)

define cov_rule
$(B)/coverage/test_$(1): $(call cov_main,$(1)) $$(UNIT_SRCS_$(1)) $(wildcard tests/*.h)
	@mkdir -p $$(@D)
	@echo "  COVCC   $$@"
	@rm -f $(B)/coverage/test_$(1)-*.gcda $(B)/coverage/test_$(1)-*.gcno
	@gcc $$(COV_CFLAGS) $$(UNIT_CFLAGS_$(1)) -o $$@ $(call cov_main,$(1)) $$(UNIT_SRCS_$(1)) $$(UNIT_LIBS_$(1))
endef
$(foreach t,$(COV_TESTS),$(eval $(call cov_rule,$(t))))

# The parser/policy/key-source group must keep this share of lines covered:
# make coverage and make check fail below it (0 turns the gate off).
COVERAGE_MIN_LINES ?= 90
export COVERAGE_MIN_LINES

coverage: $(COV_BINS)
	$(if $(COV_MISSING),@echo "coverage: no test program for: $(COV_MISSING)")
	@COV_BINS="$(COV_BINS)" tests/quality/coverage.sh $(B)/coverage

CHECK_SUITES += tests/quality/coverage-check.sh
CHECK_DEPS += $(COV_BINS)
export COV_BINS
