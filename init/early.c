/* Stage 1: the kernel interfaces every later stage needs, logging, and the
 * process protections (no core dumps, locked memory). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/stages.h"
#include "init/util.h"

struct early_mount {
	const char *fstype, *target, *data;
	unsigned long flags;
};

static const struct early_mount early_mounts[] = {
	{ "devtmpfs", "/dev", "mode=0755", MS_NOSUID | MS_NOEXEC },
	{ "proc", "/proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "sysfs", "/sys", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "tmpfs", "/run", "mode=0755,size=10%", MS_NOSUID | MS_NODEV },
};

/* fds 0-2 must exist so that no later open() lands on them. */
static void ensure_stdio(const char *devfs)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/console", devfs);
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int nfd = open(path, O_RDWR | O_NOCTTY);
		if (nfd < 0)
			nfd = open("/dev/null", O_RDWR);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

int stage_early(struct boot_ctx *ctx)
{
	struct rlimit no_core = { 0, 0 };
	char path[128];

	umask(022);
	for (size_t i = 0; i < sizeof(early_mounts) / sizeof(early_mounts[0]); i++) {
		const struct early_mount *m = &early_mounts[i];
		mkdir(m->target, 0755);
		if (mount(m->fstype, m->target, m->fstype, m->flags, m->data) < 0 && errno != EBUSY)
			return log_fail(&ctx->log, -errno, "cannot mount %s at %s: %s", m->fstype, m->target,
					strerror(errno));
	}
	ensure_stdio(ctx->devfs);
	log_open(&ctx->log, ctx->devfs, ctx->procfs);
	/* Our lines must not be rate-limited away (printk.devkmsg=ratelimit). */
	snprintf(path, sizeof(path), "%s/sys/kernel/printk_devkmsg", ctx->procfs);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		fd_write_all(fd, "on\n", 3);
		close(fd);
	}
	if (CVMINIT_IS_TEST_BUILD)
		log_line(&ctx->log, LOG_WARN, "TEST BUILD: not for production (no TEE required, test-only key sources)");

	/* Secrets must never reach a core file or swap. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &no_core) < 0)
		return log_fail(&ctx->log, -errno, "cannot disable core dumps: %s", strerror(errno));
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		return log_fail(&ctx->log, -errno, "mlockall: %s", strerror(errno));

	log_line(&ctx->log, LOG_INFO, "mounted /dev /proc /sys /run; core dumps off, memory locked");
	return 0;
}
