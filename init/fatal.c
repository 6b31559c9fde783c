/* The one way a failed boot ends: a single clear line, then what the boot
 * left behind is undone — the separator capped into MEASURE_PCR (nothing
 * sealed to the value before it unseals after a failed boot), the new root
 * unmounted, every dm-crypt and dm-verity mapping of cvminit removed, the
 * kbs network interface taken down, every key buffer wiped — and the VM powers off (or reboots). Never a shell. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "crypto/measure.h"
#include "crypto/secret.h"
#include "init/halt.h"
#include "init/stages.h"
#include "init/util.h"

/* " word" at the end of buf (truncated when full). */
static void append(char *buf, size_t len, const char *word)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, " %s", word);
}

/* Unmounts what was mounted at or below the new root, last first. */
static unsigned unmount_sysroot(struct boot_ctx *ctx, char *failed, size_t flen)
{
	static char points[HALT_MAX][HALT_NAME_MAX * 2];
	char path[256], *text = NULL;
	size_t len = 0;
	unsigned n, done = 0;

	snprintf(path, sizeof(path), "%s/self/mountinfo", ctx->procfs);
	if (read_file_max(path, 1 << 20, &text, &len) < 0)
		return 0;
	n = halt_mounts_below(text, ctx->sysroot, points, HALT_MAX);
	free(text);
	while (n-- > 0) {
		if (umount2(points[n], 0) == 0 || umount2(points[n], MNT_DETACH) == 0)
			done++;
		else
			append(failed, flen, points[n]);
	}
	return done;
}

_Noreturn void fatal_stop(struct boot_ctx *ctx)
{
	const char *stage = ctx->log.stage;
	int reboot_wanted = ctx->plan.on_failure_reboot;
	static char names[HALT_MAX][HALT_NAME_MAX];
	char removed[512] = "", kept[512] = "", busy[512] = "", pcr[200], value[65];
	unsigned pcrno = ctx->plan.measure_pcr, n, unmounted;
	size_t wiped;
	int r;

	/* Late failures happen after the log was closed for exec. */
	if (ctx->log.console_fd < 0 && ctx->log.kmsg_fd < 0)
		log_open(&ctx->log, ctx->devfs, ctx->procfs);
	const char *reason = ctx->log.reason;
	size_t sl = strlen(stage);
	/* a reason that names its own stage first ("root: ...") says it once */
	if (!strncmp(reason, stage, sl) && reason[sl] == ':' && reason[sl + 1] == ' ')
		reason += sl + 2;
	ctx->log.stage = "FATAL";
	log_line(&ctx->log, LOG_CRIT, "%s: %s", stage, reason);
	ctx->log.stage = "halt";

	/* 1. the separator, before anything else can go wrong */
	r = measure_cap(ctx, value, sizeof(value));
	if (r > 0)
		snprintf(pcr, sizeof(pcr), "PCR %u capped%s%s%s", pcrno, value[0] ? " (sha256 " : "", value,
			 value[0] ? ")" : "");
	else if (r == 0)
		snprintf(pcr, sizeof(pcr), "PCR %u %s", pcrno, ctx->capped ? "capped before" : "not measured");
	else
		snprintf(pcr, sizeof(pcr), "PCR %u NOT capped (%.100s)", pcrno, ctx->log.reason);
	/* 2. the new root's mounts, then 3. every mapping of ours */
	unmounted = unmount_sysroot(ctx, busy, sizeof(busy));
	n = halt_our_mappings(ctx->sysfs, names, HALT_MAX);
	for (unsigned i = n; i-- > 0;) {
		if (crypt_deactivate(NULL, names[i]) < 0)
			append(kept, sizeof(kept), names[i]);
		else
			append(removed, sizeof(removed), names[i]);
	}
	/* 4. the kbs interface: down, addresses flushed (it logs what fails) */
	if (ctx->net_down) {
		int (*down)(struct boot_ctx *) = ctx->net_down;

		ctx->net_down = NULL; /* once, even if it fails */
		down(ctx);
	}
	/* 5. keys: any buffer whose owner never returned */
	wiped = secret_wipe_all();
	log_line(&ctx->log, LOG_CRIT, "%s; unmounted %u; removed mappings%s%s%s; %zu key buffers wiped", pcr, unmounted,
		 removed[0] ? removed : " (none)", kept[0] ? "; could not remove" : "", kept, wiped);
	if (busy[0])
		log_line(&ctx->log, LOG_CRIT, "still mounted:%s", busy);
	/* 6. what the kernel says is left */
	n = halt_our_mappings(ctx->sysfs, names, HALT_MAX);
	if (n == 0) {
		log_line(&ctx->log, LOG_CRIT, "no cvminit dm mapping left");
	} else {
		kept[0] = '\0';
		for (unsigned i = 0; i < n; i++)
			append(kept, sizeof(kept), names[i]);
		log_line(&ctx->log, LOG_CRIT, "dm mappings still present:%s", kept);
	}
	log_line(&ctx->log, LOG_CRIT, "%s", reboot_wanted ? "rebooting" : "powering off");
	sync();
	reboot(reboot_wanted ? RB_AUTOBOOT : RB_POWER_OFF);
	for (;;)
		pause();
}
