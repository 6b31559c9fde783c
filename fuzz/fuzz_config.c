/* libFuzzer target: the embedded configuration file (config_parse_file), with
 * the schema of a release build. After a successful parse every value must
 * still pass its own validation, the policy check must not crash, and the
 * canonical text must be produced. fuzz_config_testbuild.c runs the same code
 * with the test build's schema (key-file sources). */
// FUZZ_SRCS: init/config.c init/plan.c init/mountopts.c init/partref.c
// FUZZ_OPTS: -max_len=8192
#include <errno.h>
#include <stdbool.h>

#include "fuzz/fuzz.h"
#include "init/config.h"
#include "init/plan.h"

#ifdef CVMINIT_TEST_BUILD
#define FUZZ_TEST_BUILD true
#else
#define FUZZ_TEST_BUILD false
#endif

static struct cvm_config cfg;
static char canon[CFG__COUNT * (CONFIG_VALUE_MAX + 64)];

static void check_parsed(void)
{
	char err[512];

	for (int i = 0; i < CFG__COUNT; i++) {
		FUZZ_ASSERT(fuzz_terminated(cfg.val[i], sizeof(cfg.val[i])));
		if (config_validate((enum cfg_id)i, cfg.val[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz: accepted value of %s fails validation: %s\n",
				cfg_defs[i].name, err);
			abort();
		}
		(void)cfg_uint(&cfg, (enum cfg_id)i);
		(void)cfg_u64(&cfg, (enum cfg_id)i);
		if (cfg_defs[i].type == CT_ARGS) {
			char buf[CONFIG_VALUE_MAX + 1], *argv[CONFIG_ARGS_MAX];
			int n = config_split_args(cfg.val[i], buf, sizeof(buf), argv, CONFIG_ARGS_MAX);
			FUZZ_ASSERT(n >= 0 && n <= CONFIG_ARGS_MAX);
			for (int a = 0; a < n; a++)
				FUZZ_ASSERT(argv[a][0] != '\0');
		}
	}
	err[0] = '\0';
	(void)config_check_policy(&cfg, FUZZ_TEST_BUILD, err, sizeof(err));
	FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)));
	int n = config_canonical(&cfg, canon, sizeof(canon));
	FUZZ_ASSERT(n > 0 && (size_t)n < sizeof(canon));
	FUZZ_ASSERT(strlen(canon) == (size_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];

	/* Exactly the input bytes: the parser takes (text, len), no terminator. */
	char *text = malloc(size ? size : 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	config_defaults(&cfg);
	err[0] = '\0';
	int r = config_parse_file(&cfg, text, size, "fuzz.conf", err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -E2BIG);
	FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)));
	if (r == 0)
		check_parsed();
	else
		FUZZ_ASSERT(err[0] != '\0'); /* every error says what is wrong */
	free(text);
	return 0;
}
