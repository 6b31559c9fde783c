/* Stage 12: move the kernel file systems into the new root, free the
 * initramfs, make the new root "/" and exec the launcher as PID 1. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "crypto/measure.h"
#include "init/rmtree.h"
#include "init/stages.h"
#include "init/util.h"
#include "kbs/client.h"

#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static int check_launcher(struct boot_ctx *ctx, char *path, size_t len)
{
	const char *launcher = ctx->plan.launcher;
	const char *cwd = ctx->plan.launcher_cwd;
	struct stat st;

	if (path_join(path, len, ctx->sysroot, launcher) < 0)
		return log_fail(&ctx->log, -ENAMETOOLONG, "launcher path too long");
	/* stat follows symlinks the way exec will, inside the new root only after
	 * the chroot; a symlink escaping it resolves there, not here, so require
	 * a regular file at the configured path itself. */
	if (lstat(path, &st) < 0)
		return log_fail(&ctx->log, -errno, "launcher %s not found in the new root: %s", launcher,
				strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		char target[256];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (n <= 0 || target[0] == '/' || strstr(target, ".."))
			return log_fail(&ctx->log, -ELOOP,
					"launcher %s is a symlink to '%s': only relative links inside its directory are allowed",
					launcher, target);
		if (stat(path, &st) < 0)
			return log_fail(&ctx->log, -errno, "launcher %s -> %s: %s", launcher, target, strerror(errno));
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return log_fail(&ctx->log, -EACCES, "launcher %s is not an executable file", launcher);
	char cwdpath[512];
	if (path_join(cwdpath, sizeof(cwdpath), ctx->sysroot, cwd) < 0 || stat(cwdpath, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return log_fail(&ctx->log, -ENOTDIR, "LAUNCHER_CWD %s is not a directory in the new root", cwd);
	return 0;
}

static int move_api_mounts(struct boot_ctx *ctx)
{
	const char *mounts[] = { ctx->devfs, ctx->procfs, ctx->sysfs, "/run" };
	char target[256];

	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		if (path_join(target, sizeof(target), ctx->sysroot, mounts[i]) < 0)
			return log_fail(&ctx->log, -ENAMETOOLONG, "path too long");
		int r = mkdir_p_nofollow(target, 0755);
		if (r < 0)
			return log_fail(&ctx->log, r, "cannot create %s in the new root: %s", mounts[i], strerror(-r));
		if (mount(mounts[i], target, NULL, MS_MOVE, NULL) < 0)
			return log_fail(&ctx->log, -errno, "cannot move %s into the new root: %s", mounts[i],
					strerror(errno));
	}
	return 0;
}

/* Frees the initramfs (it stays in RAM otherwise), refusing to touch
 * anything that is not the initramfs itself. */
static int free_initramfs(struct boot_ctx *ctx)
{
	struct statfs sfs;
	struct stat st;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return log_fail(&ctx->log, -errno, "cannot open /: %s", strerror(errno));
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) {
		close(fd);
		return log_fail(&ctx->log, -errno, "cannot stat /: %s", strerror(errno));
	}
	if ((unsigned long)sfs.f_type != RAMFS_MAGIC && (unsigned long)sfs.f_type != TMPFS_MAGIC) {
		close(fd);
		return log_fail(&ctx->log, -EINVAL, "/ is not an initramfs (type 0x%lx): refusing to free it",
				(unsigned long)sfs.f_type);
	}
	int r = rmtree_samedev(fd, st.st_dev, &ctx->initramfs_freed);
	close(fd);
	if (r < 0)
		log_line(&ctx->log, LOG_WARN, "initramfs only partly freed: %s", strerror(-r));
	log_line(&ctx->log, LOG_INFO, "freed the initramfs: %lu entries removed", ctx->initramfs_freed);
	return 0;
}

int stage_switch_root(struct boot_ctx *ctx)
{
	char launcher[512], argbuf[CONFIG_VALUE_MAX + 1];
	char *argv[CONFIG_ARGS_MAX + 2];
	char *envp[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", NULL };
	const char *path = ctx->plan.launcher;
	int r, argc;

	r = check_launcher(ctx, launcher, sizeof(launcher));
	if (r < 0)
		return r;
	argv[0] = (char *)path;
	argc = config_split_args(ctx->plan.launcher_args, argbuf, sizeof(argbuf), argv + 1,
				 CONFIG_ARGS_MAX);
	if (argc < 0)
		return log_fail(&ctx->log, argc, "LAUNCHER_ARGS: too many arguments");
	argv[argc + 1] = NULL;

	/* Before anything of the new root runs: the sealed key's policy dies here. */
	r = measure_separator(ctx);
	if (r < 0)
		return r;
	/* nothing of the new root may use the KBS's link unless configured */
	r = kbs_finish(ctx);
	if (r < 0)
		return r;
	r = move_api_mounts(ctx);
	if (r < 0)
		return r;
	if (chdir(ctx->sysroot) < 0)
		return log_fail(&ctx->log, -errno, "chdir %s: %s", ctx->sysroot, strerror(errno));
	r = free_initramfs(ctx);
	if (r < 0)
		return r;
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return log_fail(&ctx->log, -errno, "cannot move the new root to /: %s", strerror(errno));
	if (chroot(".") < 0 || chdir(ctx->plan.launcher_cwd) < 0)
		return log_fail(&ctx->log, -errno, "chroot: %s", strerror(errno));

	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	log_line(&ctx->log, LOG_INFO, "exec %s%s%s (cwd %s)", path, argc ? " " : "",
		 ctx->plan.launcher_args, ctx->plan.launcher_cwd);
	log_close(&ctx->log);
	execve(path, argv, envp);
	int e = errno;
	log_open(&ctx->log, "/dev", "/proc");
	return log_fail(&ctx->log, -e, "exec %s failed: %s", path, strerror(e));
}
