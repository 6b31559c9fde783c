/* cvminit image build: a checked layout (image/layout.c) into a raw GPT
 * disk, unprivileged and offline. Each partition is built as a file:
 *   ext4      mkfs.ext4 -d (e2fsprogs: no library populates a file system
 *             from a directory), then debugfs pins what mkfs copies from the
 *             build machine (times, owners, modes) so the bytes depend on the
 *             layout and the files' contents only;
 *   verity    libcryptsetup's CRYPT_VERITY format on the file (the tree
 *             appended or in the hash partition's file);
 *   luks2     libcryptsetup: crypt_format on the file (the release policy's
 *             cipher, sector size and data offset), keyslots, then its
 *             offline reencryption API encrypts the ext4 in place;
 *   GPT       sgdisk on the disk file (libfdisk is not in the pinned stack;
 *             sgdisk takes fixed disk and partition GUIDs).
 * Why the offline reencryption API for LUKS2: libcryptsetup has no public
 * call that encrypts data blocks without a dm-crypt mapping (which needs
 * root), and hand-written AES-XTS would not cover serpent/twofish. The ext4
 * is made directly at the data offset (mkfs.ext4 -E offset=), so the
 * reencryption needs no data shift, runs forward with resilience "none"
 * (the file is private; an interrupted build is simply rebuilt) and moves
 * no data. */
#include "image/build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libcryptsetup.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "crypto/secret.h"
#include "crypto/tpm2_util.h"
#include "crypto/volume_key.h"
#include "image/util.h"

struct build {
	const struct img_layout *l;
	const struct build_opts *o;
	char work[LAYOUT_PATH_MAX];
	struct part_result res[LAYOUT_SLOTS + 1];
};

static void cs_log(int level, const char *msg, void *usr)
{
	(void)usr;
	if (level == CRYPT_LOG_ERROR)
		fprintf(stderr, "cvminit image: libcryptsetup: %s", msg);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ext4 from a directory ------------------------------------------- */

static uint64_t walk_bytes;
static unsigned long walk_files;
static FILE *walk_cmd;
static const char *walk_root;
static const struct img_layout *walk_l;
static const struct img_part *walk_p;
static int walk_bad;
static char walk_bad_path[512];

static int sum_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	walk_bytes += (uint64_t)(st->st_size + 4095) / 4096 * 4096 + 256; /* blocks and an inode */
	walk_files++;
	return 0;
}

/* debugfs commands pinning what mke2fs -d copies from the build machine. */
static int fix_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(walk_root);
	char name[4200];
	unsigned long long e = (unsigned long long)walk_l->epoch;

	(void)flag;
	(void)ftw;
	if (strpbrk(rel, "\"\n\\")) {
		walk_bad = 1;
		snprintf(walk_bad_path, sizeof(walk_bad_path), "%s", path);
		return 1;
	}
	snprintf(name, sizeof(name), "\"%s\"", *rel ? rel : "/");
	for (const char *f = "atime\0mtime\0ctime\0"; *f; f += strlen(f) + 1)
		fprintf(walk_cmd, "sif %s %s @%llu\nsif %s %s_extra 0\n", name, f, e, name, f);
	if (!walk_p->keep_modes) {
		/* as git records them: 0644 or 0755 (whatever the umask of the
		 * checkout); set-id and sticky bits stay, a sticky directory
		 * stays world-writable (/tmp) */
		unsigned mode = st->st_mode & 07777;
		if (S_ISDIR(st->st_mode))
			mode = (mode & 07000) | (mode & 01000 ? 0777 : 0755);
		else if (S_ISREG(st->st_mode))
			mode = (mode & 07000) | (mode & 0111 ? 0755 : 0644);
		if (!S_ISLNK(st->st_mode))
			fprintf(walk_cmd, "sif %s mode 0%o\n", name, (unsigned)(st->st_mode & S_IFMT) | mode);
		fprintf(walk_cmd, "sif %s uid 0\nsif %s gid 0\n", name, name);
	}
	return 0;
}

static int build_ext4(struct build *b, int n, const char *file, uint64_t offset)
{
	const struct img_layout *l = b->l;
	const struct img_part *p = &l->p[n];
	char blocks[32], ext[256], log[LAYOUT_PATH_MAX + 32], cmdf[LAYOUT_PATH_MAX + 32], dev[LAYOUT_PATH_MAX + 64];
	int fd, r;

	walk_bytes = 0;
	walk_files = 0;
	if (nftw(p->path, sum_entry, 32, FTW_PHYS) != 0) {
		fprintf(stderr, "cvminit image: P%d_DIR: cannot read %s: %s\n", n, p->path, strerror(errno));
		return -EIO;
	}
	if (walk_bytes > p->size) {
		fprintf(stderr, "cvminit image: %s: P%d_SIZE: %llu bytes is too small for the content of P%d_DIR (%llu bytes in %lu files and directories)\n",
			l->file, n, (unsigned long long)p->size, n, (unsigned long long)walk_bytes, walk_files);
		return -ENOSPC;
	}
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)(offset + p->size)) < 0) {
		fprintf(stderr, "cvminit image: %s: %s\n", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	snprintf(blocks, sizeof(blocks), "%llu", (unsigned long long)(p->size / 4096));
	snprintf(ext, sizeof(ext), "hash_seed=%s,root_owner=0:0%s%llu", p->fs_uuid, offset ? ",offset=" : "",
		 offset ? (unsigned long long)offset : 0ull);
	if (!offset)
		ext[strlen(ext) - 1] = '\0'; /* drop the "0" */
	snprintf(log, sizeof(log), "%s/mkfs%d.log", b->work, n);
	const char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-b", "4096", "-L", p->fs_label, "-U", p->fs_uuid, "-E", ext,
			       "-d", p->path, file, blocks, NULL };
	r = image_run(mkfs, log, l->epoch);
	if (r < 0) {
		fprintf(stderr, "cvminit image: %s: P%d_SIZE: mkfs.ext4 could not put P%d_DIR into %llu bytes (content larger than the size?)\n",
			l->file, n, n, (unsigned long long)p->size);
		return r;
	}
	snprintf(cmdf, sizeof(cmdf), "%s/debugfs%d.cmd", b->work, n);
	walk_cmd = fopen(cmdf, "we");
	if (!walk_cmd)
		return -errno;
	walk_root = p->path;
	walk_l = l;
	walk_p = p;
	walk_bad = 0;
	r = nftw(p->path, fix_entry, 32, FTW_PHYS);
	if (!p->lost_found)
		fprintf(walk_cmd, "rmdir /lost+found\n");
	if (fclose(walk_cmd) != 0 || r != 0) {
		if (walk_bad)
			fprintf(stderr, "cvminit image: P%d_DIR: %s: a name with a quote, backslash or newline is not supported\n",
				n, walk_bad_path);
		return -EINVAL;
	}
	snprintf(dev, sizeof(dev), "%s%s%llu", file, offset ? "?offset=" : "", (unsigned long long)offset);
	if (!offset)
		dev[strlen(dev) - 1] = '\0';
	const char *dbg[] = { "debugfs", "-w", "-f", cmdf, dev, NULL };
	snprintf(log, sizeof(log), "%s/debugfs%d.log", b->work, n);
	r = image_run(dbg, log, l->epoch);
	if (r < 0)
		return r;
	/* debugfs reports failed commands only in its output */
	FILE *f = fopen(log, "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		if (line[0] != '\n' && strncmp(line, "debugfs", 7) != 0) { /* not an echoed command or the banner: an error */
			fprintf(stderr, "cvminit image: P%d: debugfs: %s", n, line);
			fclose(f);
			return -EIO;
		}
	if (f)
		fclose(f);
	return 0;
}

/* ---- dm-verity ------------------------------------------------------- */

static int build_verity(struct build *b, int n, const char *data, const char *hash, uint64_t offset)
{
	const struct img_part *p = &b->l->p[n];
	struct crypt_device *cd = NULL;
	struct crypt_params_verity vp = {
		.hash_name = "sha256",
		.data_device = data,
		.salt = (const char *)p->salt,
		.salt_size = (uint32_t)p->salt_len,
		.hash_type = 1,
		.data_block_size = 4096,
		.hash_block_size = 4096,
		.data_size = p->size / 4096,
		.hash_area_offset = offset,
		.flags = CRYPT_VERITY_CREATE_HASH,
	};
	size_t len = 32;
	int r;

	if (hash != data) {
		int fd = open(hash, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)p->hash_bytes) < 0)
			r = -errno;
		else
			r = 0;
		if (fd >= 0)
			close(fd);
		if (r < 0)
			return r;
	}
	r = crypt_init_data_device(&cd, hash, data);
	if (r == 0)
		r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, p->verity_uuid, NULL, 0, &vp);
	if (r == 0)
		r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)b->res[n].root, &len, NULL, 0);
	crypt_free(cd);
	if (r < 0 || len != 32) {
		fprintf(stderr, "cvminit image: P%d: dm-verity format failed: %s\n", n, strerror(r < 0 ? -r : EINVAL));
		return r < 0 ? r : -EINVAL;
	}
	b->res[n].has_root = true;
	return 0;
}

/* ---- LUKS2 ----------------------------------------------------------- */

static int add_keyslot(struct crypt_device *cd, int slot, const struct secret *vk, const struct secret *key,
		       const struct crypt_pbkdf_type *kdf)
{
	int r = crypt_set_pbkdf_type(cd, kdf);
	if (r < 0)
		return r;
	return crypt_keyslot_add_by_volume_key(cd, slot, (const char *)vk->data, vk->len, (const char *)key->data,
					       key->len);
}

static int build_luks(struct build *b, int n, const char *file)
{
	const struct img_layout *l = b->l;
	const struct img_part *p = &l->p[n];
	cleanup_secret struct secret *vk = NULL, *pass = NULL, *key = NULL;
	struct crypt_device *cd = NULL;
	struct crypt_params_luks2 lp = { .sector_size = l->luks_sector_size };
	struct crypt_pbkdf_type kdf_key = { .type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
					    .flags = CRYPT_PBKDF_NO_BENCHMARK };
	struct crypt_pbkdf_type kdf_pass = {
		.type = p->pbkdf == PBKDF_ARGON2ID ? CRYPT_KDF_ARGON2ID : CRYPT_KDF_PBKDF2,
		.hash = "sha256",
		.iterations = p->pbkdf_iterations,
		.max_memory_kb = p->pbkdf == PBKDF_ARGON2ID ? p->pbkdf_memory_kib : 0,
		.parallel_threads = p->pbkdf == PBKDF_ARGON2ID ? 1 : 0,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_params_reencrypt rp = {
		.mode = CRYPT_REENCRYPT_ENCRYPT,
		.direction = CRYPT_REENCRYPT_FORWARD,
		.resilience = "none",
		.luks2 = &lp,
	};
	char cipher[64], *mode, event[VOLUME_KEY_EVENT_MAX];
	const struct secret *unlock;
	int r, slot_pass = 0;

	snprintf(cipher, sizeof(cipher), "%s", l->luks_cipher);
	mode = strchr(cipher, '-');
	if (!mode)
		return -EINVAL;
	*mode++ = '\0';
	if (secret_new(&vk, 512) < 0 || secret_new(&pass, 8192) < 0 || secret_new(&key, 8192) < 0 || !vk || !pass ||
	    !key) {
		fprintf(stderr, "cvminit image: cannot allocate locked memory\n");
		return -ENOMEM;
	}
	if (p->pass_file[0] && (r = image_read_key(p->pass_file, 1, pass)) < 0) {
		fprintf(stderr, "cvminit image: P%d_LUKS_PASSPHRASE_FILE: %s: cannot read a passphrase (empty or over 8 KiB?)\n",
			n, p->pass_file);
		return r;
	}
	if (p->key_file[0] && (r = image_read_key(p->key_file, 0, key)) < 0) {
		fprintf(stderr, "cvminit image: P%d_LUKS_KEY_FILE: %s: cannot read a key (empty or over 8 KiB?)\n", n,
			p->key_file);
		return r;
	}
	if (p->vk_file[0]) {
		r = image_read_key(p->vk_file, 0, vk);
		if (r < 0 || vk->len != LUKS_KEY_BYTES) {
			fprintf(stderr, "cvminit image: P%d_LUKS_VOLUME_KEY_FILE: %s: %d raw bytes expected\n", n,
				p->vk_file, LUKS_KEY_BYTES);
			return -EINVAL;
		}
	}
	double t0 = now();
	r = crypt_init(&cd, file);
	/* the volume-key digest's PBKDF2: fixed, not benchmarked (it hashes a
	 * 512-bit random key, so iterations add nothing) */
	if (r == 0)
		r = crypt_set_pbkdf_type(cd, &kdf_key);
	if (r == 0)
		r = crypt_set_data_offset(cd, l->luks_data_offset / 512);
	if (r == 0)
		r = crypt_format(cd, CRYPT_LUKS2, cipher, mode, p->luks_uuid, vk->len ? (const char *)vk->data : NULL,
				 LUKS_KEY_BYTES, &lp);
	if (r == 0)
		r = crypt_keyslot_set_encryption(cd, l->luks_cipher, LUKS_KEY_BYTES);
	if (r == 0 && !vk->len) {
		size_t len = vk->cap;
		r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk->data, &len, NULL, 0);
		vk->len = len;
	}
	/* slot 0: the key file (PBKDF2: a high-entropy key, like a sealed one),
	 * then the passphrase (the configured PBKDF) */
	if (r == 0 && key->len) {
		r = add_keyslot(cd, 0, vk, key, &kdf_key);
		slot_pass = 1;
		snprintf(b->res[n].keyslots, sizeof(b->res[n].keyslots), "0:keyfile");
	}
	if (r >= 0 && pass->len) {
		r = add_keyslot(cd, slot_pass, vk, pass, &kdf_pass);
		snprintf(b->res[n].keyslots + strlen(b->res[n].keyslots),
			 sizeof(b->res[n].keyslots) - strlen(b->res[n].keyslots), "%s%d:passphrase", slot_pass ? " " : "",
			 slot_pass);
	}
	unlock = key->len ? key : pass;
	if (r >= 0)
		r = crypt_reencrypt_init_by_passphrase(cd, NULL, (const char *)unlock->data, unlock->len, CRYPT_ANY_SLOT,
						       0, cipher, mode, &rp);
	double t1 = now();
	if (r >= 0)
		r = crypt_reencrypt_run(cd, NULL, NULL);
	if (getenv("CVMINIT_IMAGE_TIMES"))
		fprintf(stderr, "P%d: luks2 format+keyslots %.3f s, encryption %.3f s\n", n, t1 - t0, now() - t1);
	if (r >= 0 && (p->role == PLAN_ROOT || p->role == PLAN_JOBS)) {
		const char *name = p->role == PLAN_ROOT ? "cvm-root" : "cvm-jobs";
		r = volume_key_event_string(name, p->luks_uuid, event, sizeof(event));
		if (r == 0)
			r = volume_key_digest(TPM2_HASH_SHA256, vk->data, vk->len, event, b->res[n].pin);
		b->res[n].has_pin = r == 0;
	}
	crypt_free(cd);
	if (r < 0) {
		fprintf(stderr, "cvminit image: P%d: LUKS2 format/encryption failed: %s\n", n, strerror(-r));
		return r;
	}
	return 0;
}

/* ---- partitions and the disk ---------------------------------------- */

static int build_part(struct build *b, int n)
{
	const struct img_layout *l = b->l;
	const struct img_part *p = &l->p[n];
	struct part_result *res = &b->res[n];
	uint64_t offset = p->prot == IP_LUKS2 ? l->luks_data_offset : 0;
	char log[LAYOUT_PATH_MAX + 32];
	int r = 0;

	snprintf(res->file, sizeof(res->file), "%s/p%d.img", b->work, n);
	switch (p->content) {
	case IC_HASH:
		return 0; /* written with its data slot */
	case IC_DIR:
		r = build_ext4(b, n, res->file, offset);
		break;
	case IC_IMAGE:
		if (p->prot == IP_NONE) {
			snprintf(res->file, sizeof(res->file), "%s", p->path);
			break;
		}
		{
			int src = open(p->path, O_RDONLY | O_CLOEXEC);
			int dst = open(res->file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (src < 0 || dst < 0 || ftruncate(dst, (off_t)(offset + p->size)) < 0)
				r = -errno;
			else
				r = image_copy_range(src, 0, dst, offset, p->size);
			if (src >= 0)
				close(src);
			if (dst >= 0)
				close(dst);
			if (r < 0)
				fprintf(stderr, "cvminit image: P%d_IMAGE: %s: %s\n", n, p->path, strerror(-r));
		}
		break;
	case IC_VFAT:
	case IC_NONE: {
		int fd = open(res->file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)p->size) < 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
		if (r == 0 && p->content == IC_VFAT) {
			const char *mkfs[] = { "mkfs.vfat", "-i", p->fs_uuid, "--invariant", p->fs_label[0] ? "-n" : res->file,
					       p->fs_label[0] ? p->fs_label : NULL, res->file, NULL };
			snprintf(log, sizeof(log), "%s/mkfs%d.log", b->work, n);
			r = image_run(mkfs, log, l->epoch);
		}
		break;
	}
	}
	if (r < 0)
		return r;
	if (p->prot == IP_VERITY) {
		if (p->hash_slot) {
			struct part_result *h = &b->res[p->hash_slot];
			snprintf(h->file, sizeof(h->file), "%s/p%d.img", b->work, p->hash_slot);
			r = build_verity(b, n, res->file, h->file, 0);
		} else {
			r = build_verity(b, n, res->file, res->file, p->size);
		}
	} else if (p->prot == IP_LUKS2) {
		r = build_luks(b, n, res->file);
	}
	return r;
}

static int file_bytes(const char *path, uint64_t *out)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	*out = (uint64_t)st.st_size;
	return 0;
}

static int write_gpt(struct build *b, const char *disk)
{
	const struct img_layout *l = b->l;
	const char *argv[5 + 8 * LAYOUT_SLOTS + 2];
	char args[LAYOUT_SLOTS + 1][4][96], log[LAYOUT_PATH_MAX + 32];
	int a = 0;

	argv[a++] = "sgdisk";
	argv[a++] = "-o";
	argv[a++] = "-U";
	argv[a++] = l->disk_guid;
	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		const struct img_part *p = &l->p[n];
		if (!p->present)
			continue;
		snprintf(args[n][0], sizeof(args[n][0]), "%d:%llu:%llu", n, (unsigned long long)(p->start / 512),
			 (unsigned long long)((p->start + p->part_bytes) / 512 - 1));
		snprintf(args[n][1], sizeof(args[n][1]), "%d:%s", n, p->type);
		snprintf(args[n][2], sizeof(args[n][2]), "%d:%s", n, p->name);
		snprintf(args[n][3], sizeof(args[n][3]), "%d:%s", n, p->uuid);
		argv[a++] = "-n";
		argv[a++] = args[n][0];
		argv[a++] = "-t";
		argv[a++] = args[n][1];
		argv[a++] = "-c";
		argv[a++] = args[n][2];
		argv[a++] = "-u";
		argv[a++] = args[n][3];
	}
	argv[a++] = disk;
	argv[a] = NULL;
	snprintf(log, sizeof(log), "%s/sgdisk.log", b->work);
	return image_run(argv, log, l->epoch);
}

static void hex(const uint8_t *in, size_t len, char *out)
{
	hex_encode(in, len, out, 2 * len + 1);
}

static void ref_of(const struct img_part *p, char *out, size_t len)
{
	if (p->ref == REF_PARTUUID)
		snprintf(out, len, "PARTUUID=%s", p->uuid);
	else
		snprintf(out, len, "PARTLABEL=%s", p->name);
}

int image_write_config(const struct img_layout *l, const struct part_result *res, const char *path)
{
	FILE *f = fopen(path, "we");
	int slot_of[PLAN__VOLUMES] = { 0 };
	bool luks = false;
	char ref[64], h[2 * 256 + 1];

	if (!f)
		return -errno;
	for (int n = 1; n <= LAYOUT_SLOTS; n++)
		if (l->p[n].present && l->p[n].role >= 0)
			slot_of[l->p[n].role] = n;
	fprintf(f, "# cvminit image build: the partitions and pins of this disk (generated; append to cvminit.conf)\n");
	for (int role = 0; role < PLAN__VOLUMES; role++) {
		const char *pre = layout_role_prefix(role);
		int n = slot_of[role];
		if (!n) {
			if (role == PLAN_BOOT || role == PLAN_JOBS || role == PLAN_DATA)
				fprintf(f, "%s_PART=none\n", pre);
			continue;
		}
		const struct img_part *p = &l->p[n];
		ref_of(p, ref, sizeof(ref));
		fprintf(f, "%s_PART=%s\n", pre, ref);
		if (p->prot == IP_VERITY) {
			hex(res[n].root, 32, h);
			fprintf(f, "%s_VERITY_ROOTHASH=%s\n", pre, h);
			if (p->hash_slot) {
				ref_of(&l->p[p->hash_slot], ref, sizeof(ref));
				if (p->ref == REF_PARTLABEL)
					snprintf(ref, sizeof(ref), "PARTLABEL=%s", l->p[p->hash_slot].name);
				fprintf(f, "%s_VERITY_HASH=%s\n%s_VERITY_DATA_SIZE=%llu\n", pre, ref, pre,
					(unsigned long long)p->size);
			} else {
				fprintf(f, "%s_VERITY_HASH=appended\n%s_VERITY_HASH_OFFSET=%llu\n", pre, pre,
					(unsigned long long)p->size);
			}
			hex(p->salt, p->salt_len, h);
			fprintf(f, "%s_VERITY_SALT=%s\n", pre, h);
		}
		if (role == PLAN_ROOT)
			fprintf(f, "ROOT_ENCRYPTION=%s\n", p->prot == IP_LUKS2 ? "luks" : "none");
		if (role == PLAN_JOBS)
			fprintf(f, "JOB_STORE_ENCRYPTION=%s\n", p->prot == IP_LUKS2 ? "luks" : "none");
		if (p->prot == IP_LUKS2)
			luks = true;
		if (res[n].has_pin) {
			hex(res[n].pin, 32, h);
			fprintf(f, "%s_VOLUME_KEY_PIN=%s\n", pre, h);
		}
	}
	/* the LUKS2 header policy, where it is not the init's default */
	if (luks && strcmp(l->luks_cipher, cfg_defs[CFG_LUKS_CIPHERS].def))
		fprintf(f, "LUKS_CIPHERS=%s\n", l->luks_cipher);
	if (luks && l->luks_sector_size != strtoul(cfg_defs[CFG_LUKS_SECTOR_SIZE].def, NULL, 10))
		fprintf(f, "LUKS_SECTOR_SIZE=%u\n", l->luks_sector_size);
	if (luks && l->luks_data_offset != strtoull(cfg_defs[CFG_LUKS_DATA_OFFSET].def, NULL, 10))
		fprintf(f, "LUKS_DATA_OFFSET=%llu\n", (unsigned long long)l->luks_data_offset);
	return fclose(f) == 0 ? 0 : -EIO;
}

static int write_manifest(const struct img_layout *l, const struct part_result *res, const char *path)
{
	FILE *f = fopen(path, "we");
	char h[2 * 256 + 1];

	if (!f)
		return -errno;
	fprintf(f, "DISK_GUID=%s\nDISK_BYTES=%llu\n", l->disk_guid, (unsigned long long)l->disk_bytes);
	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		const struct img_part *p = &l->p[n];
		if (!p->present)
			continue;
		fprintf(f, "P%d_NAME=%s\nP%d_UUID=%s\nP%d_START=%llu\nP%d_BYTES=%llu\nP%d_ROLE=%s\n", n, p->name, n, p->uuid,
			n, (unsigned long long)p->start, n, (unsigned long long)p->part_bytes, n,
			layout_role_name(p->role));
		if (p->content == IC_HASH)
			fprintf(f, "P%d_VERITY_TREE_OF=%d\n", n, p->hash_of);
		if (p->content == IC_DIR || p->content == IC_IMAGE)
			fprintf(f, "P%d_CONTENT_BYTES=%llu\n", n, (unsigned long long)p->size);
		if (p->prot == IP_VERITY) {
			hex(res[n].root, 32, h);
			fprintf(f, "P%d_VERITY_ROOTHASH=%s\n", n, h);
			hex(p->salt, p->salt_len, h);
			fprintf(f, "P%d_VERITY_SALT=%s\nP%d_VERITY_DATA_BLOCKS=%llu\nP%d_VERITY_HASH_BLOCKS=%llu\n", n, h, n,
				(unsigned long long)(p->size / 4096), n, (unsigned long long)p->hash_blocks);
			fprintf(f, "P%d_VERITY_HASH_OFFSET=%llu\nP%d_VERITY_HASH_SLOT=%d\nP%d_VERITY_UUID=%s\n", n,
				(unsigned long long)(p->hash_slot ? 0 : p->size), n, p->hash_slot, n, p->verity_uuid);
		}
		if (p->prot == IP_LUKS2) {
			fprintf(f, "P%d_LUKS_UUID=%s\nP%d_LUKS_DATA_OFFSET=%llu\nP%d_LUKS_CIPHER=%s\nP%d_LUKS_KEYSLOTS=\"%s\"\n", n,
				p->luks_uuid, n, (unsigned long long)l->luks_data_offset, n, l->luks_cipher, n,
				res[n].keyslots);
			if (res[n].has_pin) {
				hex(res[n].pin, 32, h);
				fprintf(f, "P%d_LUKS_VOLUME_KEY_PIN=%s\n", n, h);
			}
		}
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

/* The work directory is this build's own (mkdtemp): every file in it goes. */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

static int place(struct build *b, const char *disk)
{
	int fd = open(disk, O_RDWR | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	for (int n = 1; n <= LAYOUT_SLOTS && r == 0; n++) {
		const struct img_part *p = &b->l->p[n];
		struct part_result *res = &b->res[n];
		if (!p->present)
			continue;
		r = file_bytes(res->file, &res->file_bytes);
		if (r == 0 && res->file_bytes > p->part_bytes) {
			fprintf(stderr, "cvminit image: P%d: %llu bytes do not fit the partition's %llu\n", n,
				(unsigned long long)res->file_bytes, (unsigned long long)p->part_bytes);
			r = -ENOSPC;
		}
		int src = r == 0 ? open(res->file, O_RDONLY | O_CLOEXEC) : -1;
		if (r == 0 && src < 0)
			r = -errno;
		if (r == 0)
			r = image_copy_range(src, 0, fd, p->start, res->file_bytes);
		if (src >= 0)
			close(src);
	}
	close(fd); /* no fsync: a build is redone, not recovered */
	return r;
}

int image_build(const struct img_layout *l, const struct build_opts *o)
{
	static struct build b; /* large: keep it off the stack */
	char tmp[LAYOUT_PATH_MAX + 16], dir[LAYOUT_PATH_MAX], *slash;
	double t0 = now();
	int r = 0, fd;

	memset(&b, 0, sizeof(b));
	b.l = l;
	b.o = o;
	if (!image_have("sgdisk") || !image_have("mkfs.ext4") || !image_have("debugfs")) {
		fprintf(stderr, "cvminit image: sgdisk, mkfs.ext4 and debugfs are needed (Debian: gdisk, e2fsprogs)\n");
		return -ENOENT;
	}
	if (o->qcow2 && !image_have("qemu-img")) {
		fprintf(stderr, "cvminit image: --qcow2: qemu-img not found (Debian: qemu-utils)\n");
		return -ENOENT;
	}
	/* the work files go next to the output: same file system, no /tmp limits */
	snprintf(dir, sizeof(dir), "%s", o->out);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (o->parts_dir) {
		snprintf(b.work, sizeof(b.work), "%s", o->parts_dir);
		if (mkdir(b.work, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "cvminit image: %s: %s\n", b.work, strerror(errno));
			return -errno;
		}
	} else {
		snprintf(b.work, sizeof(b.work), "%s/.cvminit-image.XXXXXX", dir);
		if (!mkdtemp(b.work)) {
			fprintf(stderr, "cvminit image: cannot make a work directory in %s: %s\n", dir, strerror(errno));
			return -errno;
		}
	}
	crypt_set_log_callback(NULL, cs_log, NULL);
	/* The files are private to this build; libcryptsetup's locks would live
	 * in the host's /run/cryptsetup, keyed by UUID (parallel builds with the
	 * same fixed UUIDs would collide). */
	crypt_metadata_locking(NULL, 0);

	for (int n = 1; n <= LAYOUT_SLOTS && r == 0; n++)
		if (l->p[n].present)
			r = build_part(&b, n);
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->out);
	if (r == 0) {
		unlink(tmp);
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)l->disk_bytes) < 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
		if (r < 0)
			fprintf(stderr, "cvminit image: %s: %s\n", tmp, strerror(-r));
	}
	if (r == 0)
		r = write_gpt(&b, tmp);
	if (r == 0)
		r = place(&b, tmp);
	if (r == 0 && rename(tmp, o->out) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	if (r == 0 && o->config_out)
		r = image_write_config(l, b.res, o->config_out);
	if (r == 0 && o->manifest_out)
		r = write_manifest(l, b.res, o->manifest_out);
	if (r == 0 && o->qcow2) {
		char q[LAYOUT_PATH_MAX + 8], log[LAYOUT_PATH_MAX + 32];
		size_t len = strlen(o->out);
		snprintf(q, sizeof(q), "%.*s.qcow2", (int)(len > 4 && !strcmp(o->out + len - 4, ".img") ? len - 4 : len),
			 o->out);
		const char *argv[] = { "qemu-img", "convert", "-f", "raw", "-O", "qcow2", o->out, q, NULL };
		snprintf(log, sizeof(log), "%s/qemu-img.log", b.work);
		r = image_run(argv, log, l->epoch);
	}
	if (!o->parts_dir)
		remove_tree(b.work);
	if (r < 0)
		return r;
	if (!o->quiet) {
		int parts = 0;
		for (int n = 1; n <= LAYOUT_SLOTS; n++)
			parts += l->p[n].present;
		printf("cvminit image: %s: %d partitions, %llu bytes (%.2f s)\n", o->out, parts,
		       (unsigned long long)l->disk_bytes, now() - t0);
	}
	return 0;
}
