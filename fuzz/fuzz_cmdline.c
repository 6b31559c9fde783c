/* libFuzzer target: the kernel command line (config_parse_cmdline), applied
 * over defaults and over a parsed configuration file, as the config stage
 * does. The kernel's command line is at most 2048 bytes on x86 (more with
 * CONFIG_CMDLINE tricks: allow 4096). */
// FUZZ_SRCS: init/config.c init/plan.c init/mountopts.c init/partref.c
// FUZZ_OPTS: -max_len=4096
#include <errno.h>

#include "fuzz/fuzz.h"
#include "init/config.h"
#include "init/plan.h"

static struct cvm_config cfg;

static const char base_file[] = "PART_TIMEOUT=30\n"
				"BOOT_VERITY_HASH=appended\n"
				"LAUNCHER=/opt/nvflare/sub_start.sh\n"
				"LAUNCHER_ARGS='--verify -w /ws'\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *line = fuzz_cstr(data, size);

	for (int pass = 0; pass < 2; pass++) {
		config_defaults(&cfg);
		if (pass == 1)
			FUZZ_ASSERT(config_parse_file(&cfg, base_file, sizeof(base_file) - 1, "base.conf",
						      err, sizeof(err)) == 0);
		err[0] = '\0';
		int r = config_parse_cmdline(&cfg, line, err, sizeof(err));
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)));
		if (r < 0) {
			FUZZ_ASSERT(err[0] != '\0');
			continue;
		}
		for (int i = 0; i < CFG__COUNT; i++) {
			FUZZ_ASSERT(fuzz_terminated(cfg.val[i], sizeof(cfg.val[i])));
			/* Only allow-listed keys may come from the command line. */
			if (cfg.src[i] == CS_CMDLINE)
				FUZZ_ASSERT(cfg_defs[i].param != NULL);
			if (config_validate((enum cfg_id)i, cfg.val[i], err, sizeof(err)) != 0) {
				fprintf(stderr, "fuzz: accepted value of %s fails validation: %s\n",
					cfg_defs[i].name, err);
				abort();
			}
		}
		(void)config_check_policy(&cfg, false, err, sizeof(err));
	}
	free(line);
	return 0;
}
