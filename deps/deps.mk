# deps/deps.mk: the pinned static musl dependency stack (see deps/README.md).
# Included by the top-level Makefile. Defines:
#   MUSL_CC            musl-gcc wrapper that also finds the kernel UAPI headers
#   DEPS_KEY           key of this stack (hash of deps/lock and the build scripts)
#   DEPS_DIR           $(CVMINIT_CACHE)/deps-$(DEPS_KEY)
#   DEPS_RELEASE       prefix with tpm2-tss + device TCTI (the init)
#   DEPS_SWTPM         same prefix, tpm2-tss + swtpm TCTI (host tests against swtpm)
#   DEPS_STAMP         exists once the stack is complete; depend on it
#   DEPS_CFLAGS        -I for the release prefix   (DEPS_CFLAGS_SWTPM for swtpm)
#   DEPS_LDLIBS        every static library, in link order, release prefix
#   DEPS_LDLIBS_SWTPM  the same with the swtpm TCTI
# Targets: deps, deps-smoke, deps-prune.

CVMINIT_CACHE ?= $(HOME)/.cache/cvminit
B ?= build

MUSL_CC := $(CURDIR)/deps/musl-cc
DEPS_KEY := $(shell deps/build.sh --key)
DEPS_DIR := $(CVMINIT_CACHE)/deps-$(DEPS_KEY)
DEPS_RELEASE := $(DEPS_DIR)/release
DEPS_SWTPM := $(DEPS_DIR)/swtpm
DEPS_STAMP := $(DEPS_DIR)/stamp

DEPS_CFLAGS := -I$(DEPS_RELEASE)/include
DEPS_CFLAGS_SWTPM := -I$(DEPS_SWTPM)/include

# Link order: users before what they use. libcryptsetup uses devmapper,
# json-c, uuid and mbedcrypto; ESYS contains the TCTI loader (built without
# dlopen it calls the one compiled-in TCTI) and uses SYS, MU, mbedcrypto;
# TCTIs use MU. tctildr (for programs without ESYS), mbedtls and mbedx509
# cost nothing unless used (static archives).
DEPS_LIBS_HEAD := cryptsetup devmapper json-c uuid tss2-esys tss2-tctildr
DEPS_LIBS_TAIL := tss2-sys tss2-mu tss2-rc mbedtls mbedx509 mbedcrypto
deps_archives = $(foreach l,$(2),$(1)/lib/lib$(l).a)
DEPS_LDLIBS := $(call deps_archives,$(DEPS_RELEASE),$(DEPS_LIBS_HEAD) tss2-tcti-device $(DEPS_LIBS_TAIL))
DEPS_LDLIBS_SWTPM := $(call deps_archives,$(DEPS_SWTPM),$(DEPS_LIBS_HEAD) tss2-tcti-swtpm $(DEPS_LIBS_TAIL))

.PHONY: deps deps-tools deps-smoke deps-prune

# Build tools first (one dpkg-query, quiet when all present), then the stack
# unless its stamp exists (then: nothing to do). deps/build.sh prints the time.
deps: $(DEPS_STAMP)
	$(if $(filter deps,$(MAKECMDGOALS)),@echo "deps: ready: $(DEPS_DIR)",@:)

deps-tools:
	@deps/install-tools.sh

$(DEPS_STAMP): | deps-tools
	@deps/build.sh

DEPS_SMOKE_FLAGS := -std=gnu11 -Wall -Wextra -Werror -Os -static -ffunction-sections -fdata-sections -Wl,--gc-sections

$(B)/deps-smoke: deps/smoke.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(DEPS_SMOKE_FLAGS) $(DEPS_CFLAGS) -o $@ $< $(DEPS_LDLIBS)

$(B)/deps-smoke-swtpm: deps/smoke.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(DEPS_SMOKE_FLAGS) -DSMOKE_SWTPM $(DEPS_CFLAGS_SWTPM) -o $@ $< $(DEPS_LDLIBS_SWTPM)

deps-smoke: $(B)/deps-smoke $(B)/deps-smoke-swtpm
	@file $(B)/deps-smoke | grep -q 'statically linked' || { echo "deps-smoke: not statically linked"; exit 1; }
	@$(B)/deps-smoke
	@$(B)/deps-smoke-swtpm

# Removes cached stacks (and their logs, temp dirs, locks) of other keys.
deps-prune:
	@for d in $(CVMINIT_CACHE)/deps-* $(CVMINIT_CACHE)/logs/deps-*; do \
		[ -e "$$d" ] || continue; \
		case "$$d" in $(DEPS_DIR)*|$(CVMINIT_CACHE)/logs/deps-$(DEPS_KEY)) continue;; esac; \
		echo "deps: removing $$d"; rm -rf "$$d"; \
	done
