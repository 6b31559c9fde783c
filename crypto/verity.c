/* Stage 6: dm-verity for p2 (boot), p4 (config) and p6 (data) through
 * libcryptsetup. Root hashes, hash locations, data sizes and salts come only
 * from the measured configuration; the superblock on the disk is checked
 * against them. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#include <libcryptsetup.h>

#include "crypto/hash.h"
#include "crypto/tpm2_util.h"
#include "crypto/verity_geometry.h"
#include "init/partitions.h"
#include "init/stages.h"

#define VERITY_BLOCK 4096
#define VERITY_SUPERBLOCK_SIZE 512
#define FIRST_READ_BYTES (1024 * 1024)

struct verity_role {
	enum part_role role, hash_role;
	const char *name; /* dm name */
	enum cfg_id roothash, offset, salt, data_size; /* for messages: the plan has the values */
};

static const struct verity_role verity_roles[] = {
	{ ROLE_BOOT, ROLE_BOOT_HASH, "cvm-boot", CFG_BOOT_VERITY_ROOTHASH,
	  CFG_BOOT_VERITY_HASH_OFFSET, CFG_BOOT_VERITY_SALT, CFG_BOOT_VERITY_DATA_SIZE },
	{ ROLE_CONFIG, ROLE_CONFIG_HASH, "cvm-config", CFG_CONFIG_VERITY_ROOTHASH,
	  CFG_CONFIG_VERITY_HASH_OFFSET, CFG_CONFIG_VERITY_SALT, CFG_CONFIG_VERITY_DATA_SIZE },
	{ ROLE_DATA, ROLE_DATA_HASH, "cvm-data", CFG_DATA_VERITY_ROOTHASH,
	  CFG_DATA_VERITY_HASH_OFFSET, CFG_DATA_VERITY_SALT, CFG_DATA_VERITY_DATA_SIZE },
};

/* libcryptsetup's messages go through our logger, with its stage prefix. */
static void cs_log(int level, const char *msg, void *usrptr)
{
	struct boot_ctx *ctx = usrptr;
	char line[400];

	snprintf(line, sizeof(line), "%s", msg);
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	log_line(&ctx->log, level == CRYPT_LOG_ERROR ? LOG_WARN : LOG_DEBUG, "libcryptsetup: %s", line);
}

/* The root hash is the hash of (salt, top-level hash block); the top level
 * is the first block after the superblock. Checking it before activation
 * turns a wrong root hash into a clear message instead of a kernel panic on
 * the first read. */
static int check_top_level(struct boot_ctx *ctx, const struct verity_role *vr, const char *label,
			   const char *hashdev, const struct crypt_params_verity *vp, const uint8_t root[32])
{
	uint8_t block[VERITY_BLOCK], digest[32];
	uint8_t *buf;
	uint64_t pos = (vp->hash_area_offset + VERITY_SUPERBLOCK_SIZE + VERITY_BLOCK - 1) / VERITY_BLOCK * VERITY_BLOCK;
	int fd, r;

	if (vp->data_size <= 1)
		return 0; /* no hash level at all: the kernel checks the one block */
	fd = open(hashdev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_fail(&ctx->log, -errno, "%s: cannot open %s: %s", label, hashdev, strerror(errno));
	ssize_t n = pread(fd, block, sizeof(block), (off_t)pos);
	close(fd);
	if (n != (ssize_t)sizeof(block))
		return log_fail(&ctx->log, -EIO, "%s: cannot read the hash tree of %s", label, hashdev);
	buf = malloc(vp->salt_size + sizeof(block));
	if (!buf)
		return log_fail(&ctx->log, -ENOMEM, "out of memory");
	memcpy(buf, vp->salt, vp->salt_size);
	memcpy(buf + vp->salt_size, block, sizeof(block));
	r = hash_sha256(buf, vp->salt_size + sizeof(block), digest);
	free(buf);
	if (r < 0)
		return log_fail(&ctx->log, r, "SHA-256 failed");
	if (memcmp(digest, root, 32) != 0)
		return log_fail(&ctx->log, -EPERM,
				"%s: root hash does not match the hash tree on %s (wrong %s, or the tree was modified)",
				label, hashdev, cfg_defs[vr->roothash].name);
	return 0;
}

static int load_verity(struct boot_ctx *ctx, const struct verity_role *vr, const char *label,
		       const char *hashdev, uint64_t offset, uint32_t flags, struct crypt_device **cd)
{
	struct crypt_params_verity params = { .hash_area_offset = offset, .flags = flags };
	int r = crypt_init_data_device(cd, hashdev, ctx->parts[vr->role].dev);

	if (r < 0)
		return log_fail(&ctx->log, r, "%s: cannot open %s: %s", label, hashdev, strerror(-r));
	r = crypt_load(*cd, CRYPT_VERITY, &params);
	if (r < 0) {
		crypt_free(*cd);
		*cd = NULL;
		return log_fail(&ctx->log, r, "%s: no dm-verity superblock at byte %llu of %s (%s)", label,
				(unsigned long long)offset, hashdev, strerror(-r));
	}
	return 0;
}

/* The superblock is on the disk: everything in it must agree with the
 * measured configuration. */
static int check_params(struct boot_ctx *ctx, const struct verity_role *vr, const char *label, const char *hashdev,
			const struct crypt_params_verity *vp, int appended)
{
	const struct verity_plan *pv = &ctx->plan.vol[vr->role].verity; /* p2, p4, p6 */
	const char *datadev = ctx->parts[vr->role].dev;
	enum cfg_id size_key = appended ? vr->offset : vr->data_size;
	struct verity_geometry g = { label, hashdev, datadev, cfg_defs[size_key].name,
				     appended ? pv->hash_offset : pv->data_size, vp->data_size, 0 };
	char err[300];
	int fd;

	if (strcmp(vp->hash_name, "sha256") != 0 || vp->hash_type != 1 || vp->data_block_size != VERITY_BLOCK ||
	    vp->hash_block_size != VERITY_BLOCK)
		return log_fail(&ctx->log, -EINVAL,
				"%s: unsupported dm-verity format (%s, type %u, blocks %u/%u): want sha256, type 1, 4096/4096",
				label, vp->hash_name, vp->hash_type, vp->data_block_size, vp->hash_block_size);
	/* the data partition's size, as the kernel sees it now */
	fd = open(datadev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_fail(&ctx->log, -errno, "%s: cannot open %s: %s", label, datadev, strerror(errno));
	if (ioctl(fd, BLKGETSIZE64, &g.part_bytes) < 0) {
		int e = errno;
		close(fd);
		return log_fail(&ctx->log, -e, "%s: cannot read the size of %s: %s", label, datadev, strerror(e));
	}
	close(fd);
	if (verity_geometry_check(&g, err, sizeof(err)) < 0)
		return log_fail(&ctx->log, -EINVAL, "%s", err);
	if (pv->salt_len) {
		char hex[2 * 256 + 1];
		hex_encode((const uint8_t *)vp->salt, vp->salt_size, hex, sizeof(hex));
		if (vp->salt_size != pv->salt_len || memcmp(vp->salt, pv->salt, pv->salt_len) != 0)
			return log_fail(&ctx->log, -EINVAL, "%s: salt on the disk (%s) differs from %s", label, hex,
					cfg_defs[vr->salt].name);
	}
	return 0;
}

/* Reads the whole data area in userspace against the root hash: the check
 * the kernel would otherwise only do block by block, later, on access. */
static int preverify(struct boot_ctx *ctx, const struct verity_role *vr, const char *label, const char *hashdev,
		     uint64_t offset, const uint8_t root[32])
{
	struct crypt_device *cd = NULL;
	double t0 = log_elapsed_ms(&ctx->log);
	int r = load_verity(ctx, vr, label, hashdev, offset, CRYPT_VERITY_CHECK_HASH, &cd);

	if (r < 0)
		return r;
	r = crypt_activate_by_volume_key(cd, NULL, (const char *)root, 32, 0);
	crypt_free(cd);
	if (r == -EPERM || r == -EFAULT)
		return log_fail(&ctx->log, -EPERM, "%s: %s does not match its root hash (the partition was modified)",
				label, ctx->parts[vr->role].dev);
	if (r < 0)
		return log_fail(&ctx->log, r, "%s: verifying %s failed: %s", label, ctx->parts[vr->role].dev,
				strerror(-r));
	log_line(&ctx->log, LOG_INFO, "%s: %s verified against its root hash (full check, %.0f ms)", label,
		 ctx->parts[vr->role].dev, log_elapsed_ms(&ctx->log) - t0);
	return 0;
}

/* Activation checks nothing by itself: read the start of the device now, so
 * a wrong tree or modified first blocks stop the boot here. */
static int first_read(struct boot_ctx *ctx, const char *label, const char *dev)
{
	static uint8_t buf[64 * 1024];
	size_t done = 0;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return log_fail(&ctx->log, -errno, "%s: cannot open %s: %s", label, dev, strerror(errno));
	while (done < FIRST_READ_BYTES) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return log_fail(&ctx->log, -e, "%s: reading %s failed at byte %zu: %s", label, dev, done,
					strerror(e));
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

static int open_verity(struct boot_ctx *ctx, const struct verity_role *vr)
{
	const char *label = role_defs[vr->role].name;
	const struct vol_plan *v = &ctx->plan.vol[vr->role]; /* p2, p4, p6 */
	int appended = v->verity.hash_appended;
	const char *hashdev = appended ? ctx->parts[vr->role].dev : ctx->parts[vr->hash_role].dev;
	uint64_t offset = appended ? v->verity.hash_offset : 0;
	int panic = ctx->plan.verity_panic;
	const uint8_t *root = v->verity.roothash;
	struct crypt_device *cd = NULL;
	struct crypt_params_verity vp;
	int r;

	if (!ctx->parts[vr->role].wanted)
		return 0;
	if (v->prot != PROT_VERITY && vr->role == ROLE_DATA)
		return 0; /* p6 without dm-verity: mounted read-only as it is (noload) */
	if (v->prot != PROT_VERITY) {
		/* config_check_policy allows this in test builds only */
		if (!CVMINIT_IS_TEST_BUILD)
			return log_fail(&ctx->log, -EINVAL, "%s: no root hash in a release build", label);
		log_line(&ctx->log, LOG_WARN, "%s: %s NOT verified (%s=none, TEST BUILD)", label,
			 ctx->parts[vr->role].dev, cfg_defs[vr->roothash].name);
		return 0;
	}
	r = load_verity(ctx, vr, label, hashdev, offset, 0, &cd);
	if (r < 0)
		return r;
	r = crypt_get_verity_info(cd, &vp);
	if (r < 0) {
		crypt_free(cd);
		return log_fail(&ctx->log, r, "%s: cannot read the dm-verity parameters", label);
	}
	r = check_params(ctx, vr, label, hashdev, &vp, appended);
	if (r == 0)
		r = check_top_level(ctx, vr, label, hashdev, &vp, root);
	if (r == 0 && v->verity.preverify)
		r = preverify(ctx, vr, label, hashdev, offset, root);
	if (r == 0) {
		r = crypt_activate_by_volume_key(cd, vr->name, (const char *)root, sizeof(v->verity.roothash),
						 CRYPT_ACTIVATE_READONLY |
							 (panic ? CRYPT_ACTIVATE_PANIC_ON_CORRUPTION
								: CRYPT_ACTIVATE_RESTART_ON_CORRUPTION));
		if (r < 0)
			r = log_fail(&ctx->log, r, "%s: cannot activate dm-verity for %s: %s", label,
				     ctx->parts[vr->role].dev, strerror(-r));
	}
	crypt_free(cd);
	if (r < 0)
		return r;
	snprintf(ctx->parts[vr->role].mapped, sizeof(ctx->parts[vr->role].mapped), "/dev/mapper/%s", vr->name);
	r = first_read(ctx, label, ctx->parts[vr->role].mapped);
	if (r < 0)
		return r;
	log_line(&ctx->log, LOG_INFO, "%s: %s active (%s on corruption)", label, ctx->parts[vr->role].mapped,
		 panic ? "panic" : "restart");
	return 0;
}

int stage_verity(struct boot_ctx *ctx)
{
	crypt_set_log_callback(NULL, cs_log, ctx);
	crypt_set_debug_level(ctx->log.debug ? CRYPT_DEBUG_ALL : CRYPT_DEBUG_NONE);
	for (size_t i = 0; i < sizeof(verity_roles) / sizeof(verity_roles[0]); i++) {
		int r = open_verity(ctx, &verity_roles[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
