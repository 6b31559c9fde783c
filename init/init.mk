# The PID 1 program: init/ (stages, config, mounts, switch_root, console),
# with crypto/ and tee/ stages linked in.
INIT_SRCS += $(sort $(wildcard init/*.c)) $(sort $(wildcard crypto/*.c)) $(sort $(wildcard tee/*.c))

UNIT_TESTS += config
UNIT_SRCS_config := init/config.c init/plan.c init/mountopts.c init/partref.c crypto/verity_geometry.c
# The same tests against the test build's schema (key-file sources exist).
UNIT_TESTS += config_testbuild
UNIT_SRCS_config_testbuild := $(UNIT_SRCS_config)
UNIT_CFLAGS_config_testbuild := -DCVMINIT_TEST_BUILD
UNIT_MAIN_config_testbuild := tests/test_config.c
UNIT_TESTS += partitions
UNIT_SRCS_partitions := init/partitions.c init/partref.c init/config.c init/plan.c init/mountopts.c init/util.c init/log.c init/context.c
UNIT_TESTS += harden
UNIT_SRCS_harden := init/harden.c init/context.c init/util.c init/log.c init/config.c init/plan.c init/mountopts.c init/partref.c
UNIT_TESTS += rmtree
UNIT_SRCS_rmtree := init/rmtree.c
UNIT_TESTS += halt
UNIT_SRCS_halt := init/halt.c
UNIT_TESTS += log
UNIT_SRCS_log := init/log.c init/util.c init/stages.c init/context.c init/config.c init/plan.c init/mountopts.c init/partref.c
UNIT_TESTS += keysource keysource_testbuild
UNIT_SRCS_keysource := crypto/keysource.c crypto/secret.c init/log.c init/util.c init/context.c init/config.c init/plan.c init/mountopts.c init/partref.c
UNIT_LIBS_keysource := -lutil
UNIT_LIBS_keysource_testbuild := -lutil
UNIT_SRCS_keysource_testbuild := $(UNIT_SRCS_keysource)
UNIT_CFLAGS_keysource_testbuild := -DCVMINIT_TEST_BUILD
UNIT_MAIN_keysource_testbuild := tests/test_keysource.c

# The typed boot plan and the one policy over it, with both schemas.
UNIT_TESTS += plan plan_testbuild
UNIT_SRCS_plan := init/plan.c init/config.c init/mountopts.c init/partref.c
UNIT_SRCS_plan_testbuild := $(UNIT_SRCS_plan)
UNIT_CFLAGS_plan_testbuild := -DCVMINIT_TEST_BUILD
UNIT_MAIN_plan_testbuild := tests/test_plan.c

.PHONY: readme-keys
readme-keys:
	@init/keytable.py README.md

# The modules stage's decisions: the load list's graph, the scheduler, the
# TEE driver choice from injected CPUID values.
UNIT_TESTS += modlist
UNIT_SRCS_modlist := init/modlist.c
