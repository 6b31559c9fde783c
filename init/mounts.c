/* Stages 9-11: the new root, the job store, then the other partitions and
 * the tmpfs mounts, with the options from the configuration. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/luks.h"
#include "init/mountopts.h"
#include "init/partitions.h"
#include "init/stages.h"
#include "init/util.h"

/* Mounts what at <sysroot><mountpoint>, creating the mount point without
 * following symlinks (the new root's content must not redirect a mount). */
static int mount_at(struct boot_ctx *ctx, const char *what, const char *label, const char *fstype,
		    const char *rel, const char *opts)
{
	struct mount_opts mo;
	char target[512], err[200], flags[128];
	int r;

	if (mountopts_parse(opts, &mo, err, sizeof(err)) < 0)
		return log_fail(&ctx->log, -EINVAL, "%s: %s", label, err);
	if (path_join(target, sizeof(target), ctx->sysroot, rel) < 0)
		return log_fail(&ctx->log, -ENAMETOOLONG, "%s: mount point %s too long", label, rel);
	r = mkdir_p_nofollow(target, 0755);
	if (r < 0)
		return log_fail(&ctx->log, r, "%s: cannot create mount point %s: %s", label, rel, strerror(-r));
	if (mount(what, target, fstype, mo.flags, mo.data[0] ? mo.data : NULL) < 0)
		return log_fail(&ctx->log, -errno, "%s: cannot mount %s (%s) at %s: %s", label, what, fstype, rel,
				strerror(errno));
	mountopts_flags_str(mo.flags, flags, sizeof(flags));
	log_line(&ctx->log, LOG_INFO, "%s: %s on %s (%s, %s%s%s)", label, what, rel, fstype, flags,
		 mo.data[0] ? "," : "", mo.data);
	return 0;
}

/* p6 is written by the host: an ext3/ext4 journal on it is the host's, and
 * replaying it copies blocks the host chose over the file system's metadata
 * before the mount (on a read-only dm-verity p6 ext4 refuses to mount a
 * volume that needs recovery instead). DATA_OPTIONS carries noload by
 * default; say so when a configuration removed it. */
static void warn_journal_replay(struct boot_ctx *ctx, const char *fstype, const char *opts)
{
	struct mount_opts mo;
	char err[200];

	if ((strcmp(fstype, "ext4") && strcmp(fstype, "ext3")) || mountopts_parse(opts, &mo, err, sizeof(err)) < 0)
		return;
	for (const char *p = mo.data; (p = strstr(p, "noload")) != NULL; p += 6)
		if ((p == mo.data || p[-1] == ',') && (p[6] == ',' || p[6] == '\0'))
			return;
	log_line(&ctx->log, LOG_WARN, "data: DATA_OPTIONS without noload: the kernel may replay p6's journal, which the host wrote");
}

static int mount_role(struct boot_ctx *ctx, enum part_role role)
{
	const struct role_def *d = &role_defs[role];
	const struct vol_plan *v = &ctx->plan.vol[role]; /* p2 .. p6 */

	if (!ctx->parts[role].wanted) {
		log_line(&ctx->log, LOG_INFO, "%s: not configured", d->name);
		return 0;
	}
	const char *dev = ctx->parts[role].mapped[0] ? ctx->parts[role].mapped : ctx->parts[role].dev;
	if (role == ROLE_DATA)
		warn_journal_replay(ctx, v->fstype, v->options);
	return mount_at(ctx, dev, d->name, v->fstype, v->mount, v->options);
}

/* A partition configured plain that holds a LUKS volume: the mount would
 * fail with the kernel's bare "Invalid argument"; say what is wrong instead.
 * Never mounted, never written. */
static int refuse_luks_as_plain(struct boot_ctx *ctx, enum part_role role, const char *key)
{
	static const unsigned char luks_magic[6] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };
	const char *name = role_defs[role].name, *dev = ctx->parts[role].dev;
	unsigned char head[sizeof(luks_magic)];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return log_fail(&ctx->log, -errno, "%s: cannot open %s: %s", name, dev, strerror(errno));
	ssize_t n = pread(fd, head, sizeof(head), 0);
	close(fd);
	if (n == (ssize_t)sizeof(head) && !memcmp(head, luks_magic, sizeof(head)))
		return log_fail(&ctx->log, -EMEDIUMTYPE,
				"%s: %s holds a LUKS volume but %s=none; not mounted as plain (set %s=luks)", name, dev,
				key, key);
	return 0;
}

int stage_root(struct boot_ctx *ctx)
{
	int r;

	if (mkdir(ctx->sysroot, 0755) < 0 && errno != EEXIST)
		return log_fail(&ctx->log, -errno, "cannot create %s: %s", ctx->sysroot, strerror(errno));
	if (ctx->plan.vol[PLAN_ROOT].prot == PROT_LUKS) {
		r = luks_open_role(ctx, ROLE_ROOT);
		if (r < 0)
			return r;
	} else if (CVMINIT_IS_TEST_BUILD) {
		log_line(&ctx->log, LOG_WARN, "root: plain, not encrypted (ROOT_ENCRYPTION=none, TEST BUILD)");
		r = refuse_luks_as_plain(ctx, ROLE_ROOT, "ROOT_ENCRYPTION");
		if (r < 0)
			return r;
	} else {
		return log_fail(&ctx->log, -EINVAL, "ROOT_ENCRYPTION=none in a release build");
	}
	return mount_role(ctx, ROLE_ROOT);
}

int stage_jobstore(struct boot_ctx *ctx)
{
	int r;

	if (!ctx->parts[ROLE_JOBS].wanted) {
		log_line(&ctx->log, LOG_INFO, "jobs: not configured");
		return 0;
	}
	if (ctx->plan.vol[PLAN_JOBS].prot == PROT_LUKS) {
		r = luks_open_role(ctx, ROLE_JOBS);
		if (r < 0)
			return r;
	} else {
		r = refuse_luks_as_plain(ctx, ROLE_JOBS, "JOB_STORE_ENCRYPTION");
		if (r < 0)
			return r;
		log_line(&ctx->log, LOG_INFO, "jobs: plain, not encrypted (JOB_STORE_ENCRYPTION=none)");
	}
	return mount_role(ctx, ROLE_JOBS);
}

int stage_mounts(struct boot_ctx *ctx)
{
	static const enum part_role order[] = { ROLE_BOOT, ROLE_CONFIG, ROLE_DATA };
	char opts[128], shm[128];
	int r;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		r = mount_role(ctx, order[i]);
		if (r < 0)
			return r;
	}
	snprintf(opts, sizeof(opts), "rw,nosuid,nodev,mode=1777,size=%s", ctx->plan.tmp_size);
	r = mount_at(ctx, "tmpfs", "tmp", "tmpfs", "/tmp", opts);
	if (r < 0)
		return r;
	/* /dev/shm lives in the devtmpfs, which moves into the new root with it. */
	snprintf(shm, sizeof(shm), "%s/shm", ctx->devfs);
	mkdir(shm, 01777);
	snprintf(opts, sizeof(opts), "mode=1777,size=%s", ctx->plan.shm_size);
	if (mount("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		return log_fail(&ctx->log, -errno, "shm: cannot mount tmpfs at %s: %s", shm, strerror(errno));
	log_line(&ctx->log, LOG_INFO, "shm: tmpfs on /dev/shm (rw,nosuid,nodev,noexec,%s)", opts);
	return 0;
}
