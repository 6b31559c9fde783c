/* Stage 11b: swap off and verified off, then the kernel hardening sysctls. */
#include "init/harden.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#include "init/stages.h"
#include "init/util.h"

const struct sysctl_setting hardening_sysctls[] = {
	{ "kernel/kptr_restrict", "2" },          /* no kernel pointers to user space */
	{ "kernel/dmesg_restrict", "1" },         /* kernel log for root only */
	{ "kernel/kexec_load_disabled", "1" },    /* no replacing the measured kernel */
	{ "kernel/sysrq", "0" },                  /* the host owns the console */
	{ "kernel/unprivileged_bpf_disabled", "1" },
	{ "kernel/perf_event_paranoid", "3" },
	{ "kernel/yama/ptrace_scope", "2" },
	{ "net/core/bpf_jit_harden", "2" },
	{ "fs/protected_symlinks", "1" },
	{ "fs/protected_hardlinks", "1" },
	{ "fs/protected_fifos", "2" },
	{ "fs/protected_regular", "2" },
	{ "fs/suid_dumpable", "0" },
	{ "vm/swappiness", "0" },
};
const size_t hardening_sysctl_count = sizeof(hardening_sysctls) / sizeof(hardening_sysctls[0]);

int swaps_parse(const char *text, char paths[][256], int max)
{
	int n = 0;
	const char *p = strchr(text, '\n'); /* skip the header line */

	while (p && *++p) {
		const char *end = strchr(p, '\n');
		size_t o = 0;
		if (end == p)
			continue;
		if (n >= max)
			return -E2BIG;
		for (const char *c = p; *c && *c != ' ' && *c != '\t' && *c != '\n' && o < 255; c++) {
			if (c[0] == '\\' && c[1] >= '0' && c[1] <= '3' && c[2] >= '0' && c[2] <= '7' && c[3] >= '0' &&
			    c[3] <= '7' && (c[1] != '0' || c[2] != '0' || c[3] != '0')) {
				paths[n][o++] = (char)((c[1] - '0') * 64 + (c[2] - '0') * 8 + (c[3] - '0'));
				c += 3;
			} else {
				paths[n][o++] = *c;
			}
		}
		paths[n][o] = '\0';
		if (o)
			n++;
		p = end;
	}
	return n;
}

static int read_swaps(struct boot_ctx *ctx, char paths[][256])
{
	char path[128], text[8192];
	ssize_t len;

	snprintf(path, sizeof(path), "%s/swaps", ctx->procfs);
	len = read_small_file(path, text, sizeof(text));
	if (len < 0)
		return log_fail(&ctx->log, (int)len, "cannot read %s: %s", path, strerror((int)-len));
	int n = swaps_parse(text, paths, SWAPS_MAX);
	if (n < 0)
		return log_fail(&ctx->log, n, "more than %d swap areas active", SWAPS_MAX);
	return n;
}

static int apply_sysctls(struct boot_ctx *ctx)
{
	unsigned applied = 0, absent = 0;

	for (size_t i = 0; i < hardening_sysctl_count; i++) {
		char path[160];
		snprintf(path, sizeof(path), "%s/sys/%s", ctx->procfs, hardening_sysctls[i].key);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			absent++;
			log_line(&ctx->log, LOG_INFO, "sysctl %s: not in this kernel", hardening_sysctls[i].key);
			continue;
		}
		if (fd < 0)
			return log_fail(&ctx->log, -errno, "sysctl %s: %s", hardening_sysctls[i].key, strerror(errno));
		int r = fd_write_all(fd, hardening_sysctls[i].value, strlen(hardening_sysctls[i].value));
		close(fd);
		if (r < 0)
			return log_fail(&ctx->log, r, "sysctl %s=%s: %s", hardening_sysctls[i].key,
					hardening_sysctls[i].value, strerror(-r));
		applied++;
	}
	log_line(&ctx->log, LOG_INFO, "%u hardening sysctls applied, %u not in this kernel", applied, absent);
	return 0;
}

int stage_harden(struct boot_ctx *ctx)
{
	char paths[SWAPS_MAX][256];
	int n = read_swaps(ctx, paths);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (swapoff(paths[i]) < 0)
			return log_fail(&ctx->log, -errno, "swapoff %s: %s", paths[i], strerror(errno));
		log_line(&ctx->log, LOG_INFO, "swap %s turned off", paths[i]);
	}
	n = read_swaps(ctx, paths);
	if (n < 0)
		return n;
	if (n > 0)
		return log_fail(&ctx->log, -EBUSY, "swap still active after swapoff: %s", paths[0]);
	log_line(&ctx->log, LOG_INFO, "swap off (verified: /proc/swaps lists none)");
	if (!ctx->plan.sysctl_hardening) {
		log_line(&ctx->log, LOG_WARN, "hardening sysctls disabled by SYSCTL_HARDENING=no");
		return 0;
	}
	return apply_sysctls(ctx);
}
