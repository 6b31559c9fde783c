/* cvminit image verify: the pre-flight check of a disk against the
 * configuration it ships with. It makes the init's own checks with the
 * init's own code: the configuration through init/config.c and init/plan.c,
 * dm-verity geometry through crypto/verity_geometry.c, LUKS2 headers through
 * crypto/luks_header.c, volume-key pins through crypto/volume_key.c; the
 * full dm-verity check is libcryptsetup's userspace verification (as
 * VERITY_PREVERIFY). The GPT is read by sgdisk (-v, -p, -i). */
#include "image/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libcryptsetup.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "crypto/luks_header.h"
#include "crypto/secret.h"
#include "crypto/tpm2_util.h"
#include "crypto/verity_geometry.h"
#include "crypto/volume_key.h"
#include "host/commands.h"
#include "image/layout.h"
#include "image/util.h"
#include "init/plan.h"

#define MAX_GPT 128

struct gpt_part {
	int num;
	uint64_t start, bytes;
	char name[80];
	char uuid[40];
	char type[40];
};

struct vstate {
	const char *disk;
	int fd;
	char tmp[256];
	char disk_guid[40];
	struct gpt_part part[MAX_GPT];
	int nparts;
	unsigned ok, failed;
	const char *key_file[PLAN__VOLUMES];
	int key_kind[PLAN__VOLUMES]; /* 'k' key file, 'p' passphrase, 'v' volume key */
};

static void verdict(struct vstate *s, int good, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", good ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (good)
		s->ok++;
	else
		s->failed++;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* sgdisk -p for the numbers and the disk GUID, -i N for each entry. */
static int read_gpt(struct vstate *s)
{
	static char out[65536];
	const char *pv[] = { "sgdisk", "-v", s->disk, NULL };
	const char *pp[] = { "sgdisk", "-p", s->disk, NULL };
	int r = image_run_capture(pv, out, sizeof(out));

	verdict(s, r == 0 && strstr(out, "No problems found"), "gpt: header, entries and CRCs (sgdisk -v)%s",
		r == 0 && strstr(out, "No problems found") ? "" : ": problems found");
	if (image_run_capture(pp, out, sizeof(out)) < 0)
		return -EIO;
	const char *g = strstr(out, "Disk identifier (GUID): ");
	if (g)
		sscanf(g + 24, "%39s", s->disk_guid); /* a word, not a number */
	lower(s->disk_guid);
	const char *t = strstr(out, "Number  Start (sector)");
	if (!t)
		return 0;
	t = strchr(t, '\n');
	while (t && *++t && s->nparts < MAX_GPT) {
		char *end;
		long num = strtol(t, &end, 10);
		if (end != t && num > 0 && num <= MAX_GPT) {
			static char info[8192];
			char nbuf[8];
			unsigned long long first = 0, last = 0;
			struct gpt_part *p = &s->part[s->nparts];
			snprintf(nbuf, sizeof(nbuf), "%ld", num);
			const char *pi[] = { "sgdisk", "-i", nbuf, s->disk, NULL };
			if (image_run_capture(pi, info, sizeof(info)) == 0) {
				const char *f;
				p->num = (int)num;
				if ((f = strstr(info, "Partition GUID code: ")))
					sscanf(f + 21, "%39s", p->type);
				if ((f = strstr(info, "Partition unique GUID: ")))
					sscanf(f + 23, "%39s", p->uuid);
				if ((f = strstr(info, "First sector: ")))
					first = strtoull(f + 14, NULL, 10);
				if ((f = strstr(info, "Last sector: ")))
					last = strtoull(f + 13, NULL, 10);
				if ((f = strstr(info, "Partition name: '"))) {
					const char *e = strchr(f + 17, '\'');
					size_t len = e ? (size_t)(e - f - 17) : 0;
					snprintf(p->name, sizeof(p->name), "%.*s", (int)(len < 79 ? len : 79), f + 17);
				}
				lower(p->type);
				lower(p->uuid);
				p->start = first * 512;
				p->bytes = (last - first + 1) * 512;
				s->nparts++;
			}
		}
		t = strchr(t, '\n');
	}
	return 0;
}

static const struct gpt_part *find(struct vstate *s, const struct partref *ref, int *count)
{
	const struct gpt_part *hit = NULL;

	*count = 0;
	for (int i = 0; i < s->nparts; i++) {
		const struct gpt_part *p = &s->part[i];
		if ((ref->kind == PREF_LABEL && !strcmp(p->name, ref->value)) ||
		    (ref->kind == PREF_UUID && !strcmp(p->uuid, ref->value))) {
			if (!hit)
				hit = p;
			(*count)++;
		}
	}
	return hit;
}

static const struct gpt_part *locate(struct vstate *s, const char *what, const struct partref *ref)
{
	char r[64];
	int count;
	const struct gpt_part *p = find(s, ref, &count);

	partref_str(ref, r, sizeof(r));
	if (count == 1)
		verdict(s, 1, "gpt: %s: %s is partition %d (%llu bytes)", what, r, p->num, (unsigned long long)p->bytes);
	else
		verdict(s, 0, "gpt: %s: %s %s", what, r, count ? "names more than one partition" : "is not on the disk");
	return count == 1 ? p : NULL;
}

/* A partition's bytes as a file of its own (libcryptsetup's dm-verity takes
 * files, not ranges). */
static int extract(struct vstate *s, const struct gpt_part *p, char *path, size_t len)
{
	int fd, r;

	snprintf(path, len, "%s/p%d.img", s->tmp, p->num);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = ftruncate(fd, (off_t)p->bytes) < 0 ? -errno : image_copy_range(s->fd, p->start, fd, 0, p->bytes);
	close(fd);
	return r;
}

static void verify_verity(struct vstate *s, const struct boot_plan *plan, int v)
{
	static const enum cfg_id roothash[] = { CFG_BOOT_VERITY_ROOTHASH, 0, CFG_CONFIG_VERITY_ROOTHASH, 0,
						CFG_DATA_VERITY_ROOTHASH };
	static const enum cfg_id offkey[] = { CFG_BOOT_VERITY_HASH_OFFSET, 0, CFG_CONFIG_VERITY_HASH_OFFSET, 0,
					      CFG_DATA_VERITY_HASH_OFFSET };
	static const enum cfg_id sizekey[] = { CFG_BOOT_VERITY_DATA_SIZE, 0, CFG_CONFIG_VERITY_DATA_SIZE, 0,
					       CFG_DATA_VERITY_DATA_SIZE };
	static const enum cfg_id saltkey[] = { CFG_BOOT_VERITY_SALT, 0, CFG_CONFIG_VERITY_SALT, 0, CFG_DATA_VERITY_SALT };
	const struct vol_plan *vp = &plan->vol[v];
	const struct verity_plan *pv = &vp->verity;
	const struct gpt_part *dp, *hp;
	struct crypt_device *cd = NULL;
	struct crypt_params_verity info = { 0 };
	char data[300], hash[300], err[300];
	uint64_t offset = pv->hash_appended ? pv->hash_offset : 0;
	int r;

	dp = locate(s, vp->label, &vp->ref);
	if (!dp)
		return;
	hp = dp;
	if (!pv->hash_appended) {
		char what[64];
		snprintf(what, sizeof(what), "%s hash tree", vp->label);
		hp = locate(s, what, &pv->hash_ref);
		if (!hp)
			return;
	}
	if (extract(s, dp, data, sizeof(data)) < 0 || (hp != dp && extract(s, hp, hash, sizeof(hash)) < 0)) {
		verdict(s, 0, "verity: %s: cannot copy the partition out of %s", vp->label, s->disk);
		return;
	}
	if (hp == dp)
		snprintf(hash, sizeof(hash), "%s", data);
	struct crypt_params_verity lp = { .hash_area_offset = offset };
	r = crypt_init_data_device(&cd, hash, data);
	if (r == 0)
		r = crypt_load(cd, CRYPT_VERITY, &lp);
	if (r == 0)
		r = crypt_get_verity_info(cd, &info);
	if (r < 0) {
		verdict(s, 0, "verity: %s: no dm-verity superblock at byte %llu of partition %d", vp->label,
			(unsigned long long)offset, hp->num);
		crypt_free(cd);
		return;
	}
	int fmt_ok = info.hash_name && !strcmp(info.hash_name, "sha256") && info.hash_type == 1 && info.data_block_size == 4096 &&
		     info.hash_block_size == 4096;
	verdict(s, fmt_ok, "verity: %s: superblock format %s, type %u, blocks %u/%u%s", vp->label,
		info.hash_name ? info.hash_name : "?",
		info.hash_type, info.data_block_size, info.hash_block_size, fmt_ok ? "" : " (want sha256, 1, 4096/4096)");
	struct verity_geometry g = { vp->label, "hash", "data", cfg_defs[pv->hash_appended ? offkey[v] : sizekey[v]].name,
				     pv->hash_appended ? pv->hash_offset : pv->data_size, info.data_size, dp->bytes };
	r = verity_geometry_check(&g, err, sizeof(err));
	verdict(s, r == 0, "verity: %s: data size %llu blocks%s%s", vp->label, (unsigned long long)info.data_size,
		r == 0 ? " as pinned by " : ": ", r == 0 ? g.key : err);
	if (pv->salt_len) {
		int same = info.salt_size == pv->salt_len && !memcmp(info.salt, pv->salt, pv->salt_len);
		verdict(s, same, "verity: %s: salt %s %s", vp->label, same ? "matches" : "differs from",
			cfg_defs[saltkey[v]].name);
	}
	crypt_free(cd);
	cd = NULL;
	/* every block, in userspace, against the pinned root hash */
	lp.flags = CRYPT_VERITY_CHECK_HASH;
	r = crypt_init_data_device(&cd, hash, data);
	if (r == 0)
		r = crypt_load(cd, CRYPT_VERITY, &lp);
	if (r == 0)
		r = crypt_activate_by_volume_key(cd, NULL, (const char *)pv->roothash, 32, 0);
	crypt_free(cd);
	verdict(s, r == 0, "verity: %s: every block %s %s", vp->label, r == 0 ? "matches" : "does not match",
		cfg_defs[roothash[v]].name);
	unlink(data);
	if (hp != dp)
		unlink(hash);
}

static void verify_luks(struct vstate *s, const struct boot_plan *plan, int v)
{
	const struct vol_plan *vp = &plan->vol[v];
	const struct gpt_part *p = locate(s, vp->label, &vp->ref);
	struct luks_policy pol = { plan->luks.ciphers, plan->luks.sector_size, plan->luks.data_offset, true };
	struct luks_facts facts = { 0 };
	char err[300], copy[300];
	uint8_t *buf;
	int r;

	if (!p)
		return;
	if (p->bytes < plan->luks.data_offset) {
		verdict(s, 0, "luks: %s: partition %d (%llu bytes) is smaller than LUKS_DATA_OFFSET", vp->label, p->num,
			(unsigned long long)p->bytes);
		return;
	}
	buf = malloc(plan->luks.data_offset);
	if (!buf || pread(s->fd, buf, plan->luks.data_offset, (off_t)p->start) != (ssize_t)plan->luks.data_offset) {
		free(buf);
		verdict(s, 0, "luks: %s: cannot read the header area", vp->label);
		return;
	}
	r = luks_header_check(buf, plan->luks.data_offset, &pol, &facts, err, sizeof(err));
	if (r < 0) {
		verdict(s, 0, "luks: %s: LUKS2 header refused: %s", vp->label, err);
		free(buf);
		return;
	}
	verdict(s, 1, "luks: %s: header policy (%s, sector %u, data at %llu, UUID %s)", vp->label, facts.cipher,
		facts.sector_size, (unsigned long long)facts.data_offset, facts.uuid);
	if (!vp->pinned) {
		free(buf);
		return;
	}
	const char *pinkey = v == PLAN_ROOT ? "ROOT_VOLUME_KEY_PIN" : "JOBS_VOLUME_KEY_PIN";
	if (!s->key_file[v]) {
		printf("skip - luks: %s: %s not checked (no key for %s given)\n", vp->label, pinkey, vp->label);
		free(buf);
		return;
	}
	/* the checked header area as a file: libcryptsetup reads that copy */
	snprintf(copy, sizeof(copy), "%s/%s.hdr", s->tmp, vp->label);
	int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	r = fd >= 0 && write(fd, buf, plan->luks.data_offset) == (ssize_t)plan->luks.data_offset ? 0 : -EIO;
	if (fd >= 0)
		close(fd);
	free(buf);
	cleanup_secret struct secret *key = NULL, *vk = NULL;
	struct crypt_device *cd = NULL;
	uint8_t pin[32];
	char event[VOLUME_KEY_EVENT_MAX];
	if (r == 0 && (secret_new(&key, 8192) < 0 || secret_new(&vk, 512) < 0 || !key || !vk))
		r = -ENOMEM;
	if (r == 0)
		r = image_read_key(s->key_file[v], s->key_kind[v] == 'p', key);
	if (r == 0)
		r = crypt_init(&cd, copy);
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == 0 && s->key_kind[v] == 'v') {
		r = crypt_volume_key_verify(cd, (const char *)key->data, key->len);
		if (r == 0) {
			memcpy(vk->data, key->data, key->len);
			vk->len = key->len;
		}
	} else if (r == 0) {
		size_t len = vk->cap;
		r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk->data, &len, (const char *)key->data, key->len);
		vk->len = len;
	}
	crypt_free(cd);
	unlink(copy);
	if (r >= 0)
		r = volume_key_event_string(v == PLAN_ROOT ? "cvm-root" : "cvm-jobs", facts.uuid, event, sizeof(event));
	if (r >= 0)
		r = volume_key_digest(TPM2_HASH_SHA256, vk->data, vk->len, event, pin);
	if (r < 0)
		verdict(s, 0, "luks: %s: %s: the key given opens no keyslot", vp->label, pinkey);
	else
		verdict(s, volume_key_pin_equal(pin, vp->pin), "luks: %s: volume key %s %s", vp->label,
			volume_key_pin_equal(pin, vp->pin) ? "matches" : "does not match", pinkey);
}

static void verify_layout(struct vstate *s, const struct img_layout *l)
{
	verdict(s, !strcmp(s->disk_guid, l->disk_guid), "layout: disk GUID %s%s%s", s->disk_guid,
		strcmp(s->disk_guid, l->disk_guid) ? ", layout wants " : "",
		strcmp(s->disk_guid, l->disk_guid) ? l->disk_guid : "");
	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		const struct img_part *lp = &l->p[n];
		const struct gpt_part *gp = NULL;
		if (!lp->present)
			continue;
		for (int i = 0; i < s->nparts; i++)
			if (s->part[i].num == n)
				gp = &s->part[i];
		if (!gp) {
			verdict(s, 0, "layout: P%d (%s): no partition %d on the disk", n, lp->name, n);
			continue;
		}
		char bad[300] = "";
		if (strcmp(gp->name, lp->name))
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "; GPT name is %s", gp->name);
		if (strcmp(gp->uuid, lp->uuid))
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "; PARTUUID is %s, layout %s", gp->uuid, lp->uuid);
		if (gp->start != lp->start || gp->bytes != lp->part_bytes)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "; at %llu, %llu bytes (layout: %llu, %llu)",
				 (unsigned long long)gp->start, (unsigned long long)gp->bytes, (unsigned long long)lp->start,
				 (unsigned long long)lp->part_bytes);
		verdict(s, !bad[0], "layout: P%d: GPT name %s, PARTUUID %s, %llu bytes at %llu%s", n, lp->name, lp->uuid,
			(unsigned long long)lp->part_bytes, (unsigned long long)lp->start, bad);
	}
}

static int role_of(const char *arg, const char **file)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return -1;
	*file = eq + 1;
	if (!strncmp(arg, "root=", 5))
		return PLAN_ROOT;
	if (!strncmp(arg, "jobs=", 5))
		return PLAN_JOBS;
	return -1;
}

int image_verify_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },	     { "layout", required_argument, NULL, 'l' },
		{ "key-file", required_argument, NULL, 'k' },	     { "passphrase-file", required_argument, NULL, 'p' },
		{ "volume-key-file", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct vstate s;
	static struct cvm_config cfg;
	static struct boot_plan plan;
	static struct img_layout l;
	static char text[CONFIG_FILE_MAX + 1];
	const char *config = NULL, *layout = NULL;
	char err[600];
	int o;

	memset(&s, 0, sizeof(s));
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int role;
		const char *file;
		switch (o) {
		case 'c': config = optarg; break;
		case 'l': layout = optarg; break;
		case 'k':
		case 'p':
		case 'v':
			role = role_of(optarg, &file);
			if (role < 0) {
				fprintf(stderr, "cvminit image verify: --%s ROLE=FILE with ROLE root or jobs\n",
					o == 'k' ? "key-file" : o == 'p' ? "passphrase-file" : "volume-key-file");
				return EXIT_USAGE;
			}
			s.key_file[role] = file;
			s.key_kind[role] = o;
			break;
		case 'h': return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (!config || optind != argc - 1) {
		fprintf(stderr, "usage: cvminit image verify DISK --config CVMINIT.CONF [--layout LAYOUT] [keys]\n");
		return EXIT_USAGE;
	}
	s.disk = argv[optind];
	FILE *f = fopen(config, "re");
	size_t n = f ? fread(text, 1, sizeof(text), f) : 0;
	if (f)
		fclose(f);
	if (!f || n > CONFIG_FILE_MAX) {
		fprintf(stderr, "cvminit image verify: %s: cannot read (or over %d bytes)\n", config, CONFIG_FILE_MAX);
		return EXIT_FAIL;
	}
	config_defaults(&cfg);
	if (config_parse_file(&cfg, text, n, config, err, sizeof(err)) < 0 ||
	    plan_build(&cfg, false, &plan, err, sizeof(err)) < 0) {
		verdict(&s, 0, "config: %s", err);
		return EXIT_FAIL;
	}
	int pol = plan_check(&plan, plan.release_rules, err, sizeof(err));
	verdict(&s, pol == 0, "config: %s%s%s", config, pol == 0 ? ": accepted by the release policy" : ": ",
		pol == 0 ? "" : err);
	if (layout && layout_load(&l, layout, err, sizeof(err)) < 0) {
		verdict(&s, 0, "layout: %s", err);
		layout = NULL;
	}
	s.fd = open(s.disk, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0) {
		verdict(&s, 0, "disk: %s: %s", s.disk, strerror(errno));
		return EXIT_FAIL;
	}
	const char *td = getenv("TMPDIR");
	snprintf(s.tmp, sizeof(s.tmp), "%s/cvminit-verify.XXXXXX", td && *td ? td : "/tmp");
	if (!mkdtemp(s.tmp)) {
		fprintf(stderr, "cvminit image verify: %s: %s\n", s.tmp, strerror(errno));
		close(s.fd);
		return EXIT_FAIL;
	}
	crypt_metadata_locking(NULL, 0);
	if (read_gpt(&s) < 0)
		verdict(&s, 0, "gpt: sgdisk cannot read %s", s.disk);
	for (int v = 0; v < PLAN__VOLUMES; v++) {
		const struct vol_plan *vp = &plan.vol[v];
		if (vp->ref.kind == PREF_NONE)
			continue;
		if (vp->prot == PROT_VERITY)
			verify_verity(&s, &plan, v);
		else if (vp->prot == PROT_LUKS)
			verify_luks(&s, &plan, v);
		else
			locate(&s, vp->label, &vp->ref);
	}
	if (layout)
		verify_layout(&s, &l);
	close(s.fd);
	rmdir(s.tmp);
	printf("%u ok, %u FAIL\n", s.ok, s.failed);
	return s.failed ? EXIT_FAIL : EXIT_OK;
}
