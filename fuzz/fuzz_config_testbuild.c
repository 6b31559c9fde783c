/* libFuzzer target: fuzz_config.c with the test build's configuration schema
 * (key-file key sources, ROOTHASH "none" and plain partitions allowed). */
// FUZZ_SRCS: init/config.c init/plan.c init/mountopts.c init/partref.c
// FUZZ_CFLAGS: -DCVMINIT_TEST_BUILD
// FUZZ_OPTS: -max_len=8192
#include "fuzz/fuzz_config.c"
