/* Stage 2: the effective configuration from the measured initramfs file and
 * the measured kernel command line, turned into the typed boot plan (plan.h)
 * and checked by the one policy over it; the configuration's digest (of its
 * canonical text, not of the plan) is what later stages measure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "init/stages.h"
#include "init/util.h"

int stage_config(struct boot_ctx *ctx)
{
	char err[512], cmdline[4096], path[128];
	char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file_max(ctx->config_path, CONFIG_FILE_MAX, &text, &len);
	if (r == -EFBIG)
		return log_fail(&ctx->log, r, "%s: file larger than %d bytes", ctx->config_path, CONFIG_FILE_MAX);
	if (r < 0)
		return log_fail(&ctx->log, r, "cannot read %s: %s", ctx->config_path, strerror(-r));
	if (memchr(text, '\0', len)) {
		free(text);
		return log_fail(&ctx->log, -EINVAL, "%s: NUL byte in the file", ctx->config_path);
	}
	r = config_parse_file(&ctx->cfg, text, len, ctx->config_path, err, sizeof(err));
	free(text);
	if (r < 0)
		return log_fail(&ctx->log, r, "%s", err);

	snprintf(path, sizeof(path), "%s/cmdline", ctx->procfs);
	ssize_t n = read_small_file(path, cmdline, sizeof(cmdline));
	if (n < 0)
		return log_fail(&ctx->log, (int)n, "cannot read %s: %s", path, strerror((int)-n));
	if ((size_t)n >= sizeof(cmdline) - 1)
		return log_fail(&ctx->log, -E2BIG, "kernel command line longer than %zu bytes", sizeof(cmdline) - 2);
	r = config_parse_cmdline(&ctx->cfg, cmdline, err, sizeof(err));
	if (r < 0)
		return log_fail(&ctx->log, r, "%s", err);
	/* Once: the typed plan every later stage reads, and the one policy over it. */
	r = plan_build(&ctx->cfg, CVMINIT_IS_TEST_BUILD, &ctx->plan, err, sizeof(err));
	if (r == 0)
		r = plan_check(&ctx->plan, ctx->plan.release_rules, err, sizeof(err));
	if (r < 0)
		return log_fail(&ctx->log, r, "%s", err);
#ifdef CVMINIT_TEST_BUILD
	if (ctx->plan.release_rules)
		log_line(&ctx->log, LOG_WARN, "MOCK_RELEASE_POLICY=yes: the release key-source policy applies to this TEST build");
#endif
	ctx->log.debug = ctx->plan.debug;

	char canon[CFG__COUNT * (CONFIG_VALUE_MAX + 40)];
	int clen = config_canonical(&ctx->cfg, canon, sizeof(canon));
	if (clen < 0)
		return log_fail(&ctx->log, clen, "configuration too large to digest");
	r = hash_sha256(canon, (size_t)clen, ctx->config_digest);
	if (r < 0)
		return log_fail(&ctx->log, r, "SHA-256 of the configuration failed");
	char hex[65];
	hex_encode(ctx->config_digest, sizeof(ctx->config_digest), hex, sizeof(hex));
	unsigned from_file = 0, from_cmdline = 0;
	for (int i = 0; i < CFG__COUNT; i++) {
		from_file += ctx->cfg.src[i] == CS_FILE;
		from_cmdline += ctx->cfg.src[i] == CS_CMDLINE;
	}
	log_line(&ctx->log, LOG_INFO, "%u keys from %s, %u from the kernel command line; digest sha256:%s",
		 from_file, ctx->config_path, from_cmdline, hex);
	for (int i = 0; i < CFG__COUNT; i++)
		log_line(&ctx->log, LOG_DEBUG, "%s=%s", cfg_defs[i].name, ctx->cfg.val[i]);
	return 0;
}
