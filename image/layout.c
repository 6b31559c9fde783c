#include "image/layout.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/tpm2_util.h"
#include "init/config.h"

/* Per-slot keys: P<N>_<FIELD>. */
enum pfield {
	F_NAME, F_TYPE, F_UUID, F_START, F_SIZE, F_DIR, F_IMAGE, F_FS, F_FS_UUID, F_FS_LABEL, F_LOST_FOUND,
	F_MODES, F_ROLE, F_REF, F_PROTECTION, F_VERITY_HASH, F_VERITY_SALT, F_VERITY_UUID, F_LUKS_UUID,
	F_LUKS_PASSPHRASE_FILE, F_LUKS_KEY_FILE, F_LUKS_VOLUME_KEY_FILE, F_LUKS_PBKDF, F_LUKS_PBKDF_ITERATIONS,
	F_LUKS_PBKDF_MEMORY, F__COUNT
};
static const char *const pfields[F__COUNT] = {
	"NAME", "TYPE", "UUID", "START", "SIZE", "DIR", "IMAGE", "FS", "FS_UUID", "FS_LABEL", "LOST_FOUND",
	"MODES", "ROLE", "REF", "PROTECTION", "VERITY_HASH", "VERITY_SALT", "VERITY_UUID", "LUKS_UUID",
	"LUKS_PASSPHRASE_FILE", "LUKS_KEY_FILE", "LUKS_VOLUME_KEY_FILE", "LUKS_PBKDF", "LUKS_PBKDF_ITERATIONS",
	"LUKS_PBKDF_MEMORY",
};
_Static_assert(F__COUNT <= 32, "img_part.line holds every field");

enum gkey { G_DISK_GUID, G_EPOCH, G_POLICY, G_SEED, G_LUKS_CIPHER, G_LUKS_SECTOR_SIZE, G_LUKS_DATA_OFFSET, G__COUNT };
static const char *const gkeys[G__COUNT] = {
	"DISK_GUID", "EPOCH", "POLICY", "SEED", "LUKS_CIPHER", "LUKS_SECTOR_SIZE", "LUKS_DATA_OFFSET",
};
_Static_assert(G__COUNT <= 8, "img_layout.global_line holds every key");

static const char *const role_names[PLAN__VOLUMES] = { "boot", "root", "config", "jobs", "data" };
static const char *const role_prefixes[PLAN__VOLUMES] = { "BOOT", "ROOT", "CONFIG", "JOBS", "DATA" };

const char *layout_role_prefix(int role)
{
	return role >= 0 && role < PLAN__VOLUMES ? role_prefixes[role] : "";
}

const char *layout_role_name(int role)
{
	return role >= 0 && role < PLAN__VOLUMES ? role_names[role] : "none";
}

struct lex_ctx {
	struct img_layout *l;
	const char *name;
	int slot;     /* 0: global key */
	int field;    /* pfield or gkey */
	char where[160];
};

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static int parse_key(const char *key, int *slot, int *field)
{
	if (key[0] == 'P' && isdigit((unsigned char)key[1])) {
		char *end;
		long n = strtol(key + 1, &end, 10);
		if (*end != '_' || n < 1 || n > LAYOUT_SLOTS || (key[1] == '0'))
			return -1;
		for (int f = 0; f < F__COUNT; f++)
			if (!strcmp(end + 1, pfields[f])) {
				*slot = (int)n;
				*field = f;
				return 0;
			}
		return -1;
	}
	for (int g = 0; g < G__COUNT; g++)
		if (!strcmp(key, gkeys[g])) {
			*slot = 0;
			*field = g;
			return 0;
		}
	return -1;
}

static int lex_key(void *vctx, const char *key, unsigned line, const char *where, char *err, size_t errlen)
{
	struct lex_ctx *c = vctx;
	unsigned *seen;

	if (parse_key(key, &c->slot, &c->field) < 0)
		return FAIL("%s:%u: unknown key %s", c->name, line, key);
	seen = c->slot ? &c->l->p[c->slot].line[c->field] : &c->l->global_line[c->field];
	if (*seen)
		return FAIL("%s: duplicate key (first set on line %u)", where, *seen);
	*seen = line;
	snprintf(c->where, sizeof(c->where), "%s", where);
	return 0;
}

/* Bytes: N, or N with K, M, G (binary). */
static int parse_bytes(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n;
	uint64_t mul = 1;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	if (*end && !end[1]) {
		switch (*end) {
		case 'K': mul = 1ull << 10; break;
		case 'M': mul = 1ull << 20; break;
		case 'G': mul = 1ull << 30; break;
		default: return -1;
		}
	} else if (*end) {
		return -1;
	}
	if (n > UINT64_MAX / mul)
		return -1;
	*out = n * mul;
	return 0;
}

static int parse_uuid(const char *v, char out[40])
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(v) != sizeof(form) - 1)
		return -1;
	for (size_t i = 0; form[i]; i++) {
		if (form[i] == '-' ? v[i] != '-' : !isxdigit((unsigned char)v[i]))
			return -1;
		out[i] = (char)tolower((unsigned char)v[i]);
	}
	out[sizeof(form) - 1] = '\0';
	return 0;
}

static int parse_hex(const char *v, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(v);

	if (n == 0 || n % 2 || n / 2 > max || tpm2_hex_decode(v, out, n / 2) < 0)
		return -1;
	*len = n / 2;
	return 0;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

static int set_path(struct lex_ctx *c, const char *v, char *out, char *err, size_t errlen)
{
	int n;

	if (!*v)
		return FAIL("%s: empty path", c->where);
	n = v[0] == '/' ? snprintf(out, LAYOUT_PATH_MAX, "%s", v) : snprintf(out, LAYOUT_PATH_MAX, "%s/%s", c->l->dir, v);
	if (n < 0 || n >= LAYOUT_PATH_MAX)
		return FAIL("%s: path too long", c->where);
	return 0;
}

static int set_global(struct lex_ctx *c, const char *v, char *err, size_t errlen)
{
	struct img_layout *l = c->l;
	unsigned long long n;
	char why[300];

	switch (c->field) {
	case G_DISK_GUID:
		if (parse_uuid(v, l->disk_guid) < 0)
			return FAIL("%s: not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx): %s", c->where, v);
		return 0;
	case G_EPOCH:
		if (parse_uint(v, 4102444800ull, &n) < 0)
			return FAIL("%s: seconds since 1970 expected: %s", c->where, v);
		l->epoch = n;
		return 0;
	case G_POLICY:
		if (strcmp(v, "release") && strcmp(v, "test"))
			return FAIL("%s: release or test expected: %s", c->where, v);
		l->test_policy = !strcmp(v, "test");
		return 0;
	case G_SEED:
		if (!*v || strlen(v) >= sizeof(l->seed))
			return FAIL("%s: 1 to %zu characters expected", c->where, sizeof(l->seed) - 1);
		snprintf(l->seed, sizeof(l->seed), "%s", v);
		return 0;
	case G_LUKS_CIPHER:
		/* one cipher the init's LUKS_CIPHERS accepts (the same schema) */
		if (strchr(v, ',') || config_validate(CFG_LUKS_CIPHERS, v, why, sizeof(why)) < 0)
			return FAIL("%s: the release policy refuses cipher %s (allowed: %s)", c->where, v,
				    cfg_defs[CFG_LUKS_CIPHERS].spec);
		snprintf(l->luks_cipher, sizeof(l->luks_cipher), "%s", v);
		return 0;
	case G_LUKS_SECTOR_SIZE:
		if (config_validate(CFG_LUKS_SECTOR_SIZE, v, why, sizeof(why)) < 0)
			return FAIL("%s: the release policy refuses sector size %s (allowed: %s)", c->where, v,
				    cfg_defs[CFG_LUKS_SECTOR_SIZE].spec);
		l->luks_sector_size = (unsigned)strtoul(v, NULL, 10);
		return 0;
	case G_LUKS_DATA_OFFSET:
		if (config_validate(CFG_LUKS_DATA_OFFSET, v, why, sizeof(why)) < 0)
			return FAIL("%s: %s", c->where, why);
		l->luks_data_offset = strtoull(v, NULL, 10);
		/* libcryptsetup's smallest LUKS2 header: 2 x 16 KiB metadata + one keyslot area */
		if (l->luks_data_offset < (1u << 20) || l->luks_data_offset > (256u << 20))
			return FAIL("%s: %s bytes: 1 MiB to 256 MiB expected (header area)", c->where, v);
		return 0;
	}
	return -EINVAL;
}

static int set_part(struct lex_ctx *c, const char *v, char *err, size_t errlen)
{
	struct img_part *p = &c->l->p[c->slot];
	unsigned long long n;
	size_t len;

	if (!p->first_line || p->line[c->field] < p->first_line) {
		p->first_line = p->line[c->field];
		snprintf(p->first_key, sizeof(p->first_key), "P%d_%s", c->slot, pfields[c->field]);
	}
	switch (c->field) {
	case F_NAME:
		len = strlen(v);
		if (len == 0 || len > 36)
			return FAIL("%s: a GPT name of 1 to 36 ASCII characters expected", c->where);
		for (size_t i = 0; i < len; i++)
			if (!isalnum((unsigned char)v[i]) && !strchr("-_.+", v[i]))
				return FAIL("%s: letters, digits and - _ . + only: %s", c->where, v);
		snprintf(p->name, sizeof(p->name), "%s", v);
		p->present = true;
		return 0;
	case F_TYPE:
		if (parse_uuid(v, p->type) == 0)
			return 0;
		if (strlen(v) == 4 && isxdigit((unsigned char)v[0]) && isxdigit((unsigned char)v[1]) &&
		    isxdigit((unsigned char)v[2]) && isxdigit((unsigned char)v[3])) {
			snprintf(p->type, sizeof(p->type), "%s", v);
			return 0;
		}
		return FAIL("%s: a GUID or an sgdisk type code (4 hex digits, e.g. 8300) expected: %s", c->where, v);
	case F_UUID:
		if (parse_uuid(v, p->uuid) < 0)
			return FAIL("%s: not a GUID: %s", c->where, v);
		return 0;
	case F_START:
		if (parse_bytes(v, &p->start) < 0 || p->start % LAYOUT_ALIGN || p->start == 0)
			return FAIL("%s: a multiple of 1 MiB expected (bytes, or N with K, M, G): %s", c->where, v);
		return 0;
	case F_SIZE:
		if (parse_bytes(v, &p->size) < 0 || p->size == 0)
			return FAIL("%s: a size expected (bytes, or N with K, M, G): %s", c->where, v);
		return 0;
	case F_DIR:
		p->content = IC_DIR;
		return set_path(c, v, p->path, err, errlen);
	case F_IMAGE:
		p->content = IC_IMAGE;
		return set_path(c, v, p->path, err, errlen);
	case F_FS:
		if (!strcmp(v, "vfat"))
			p->content = IC_VFAT;
		else if (!strcmp(v, "none"))
			p->content = p->content == IC_NONE ? IC_NONE : p->content;
		else if (strcmp(v, "ext4"))
			return FAIL("%s: ext4, vfat or none expected: %s", c->where, v);
		return 0;
	case F_FS_UUID:
		if (parse_uuid(v, p->fs_uuid) == 0)
			return 0;
		if (strlen(v) == 8 && strspn(v, "0123456789abcdef") == 8) {
			snprintf(p->fs_uuid, sizeof(p->fs_uuid), "%s", v);
			return 0;
		}
		return FAIL("%s: a UUID (ext4) or 8 lower-case hex digits (vfat) expected: %s", c->where, v);
	case F_FS_LABEL:
		if (strlen(v) > 16 || strpbrk(v, "\"\\"))
			return FAIL("%s: at most 16 characters, no quotes: %s", c->where, v);
		snprintf(p->fs_label, sizeof(p->fs_label), "%s", v);
		return 0;
	case F_LOST_FOUND:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return FAIL("%s: yes or no expected: %s", c->where, v);
		p->lost_found = !strcmp(v, "yes");
		return 0;
	case F_MODES:
		if (strcmp(v, "normalize") && strcmp(v, "keep"))
			return FAIL("%s: normalize or keep expected: %s", c->where, v);
		p->keep_modes = !strcmp(v, "keep");
		return 0;
	case F_ROLE:
		p->role = -1;
		for (int r = 0; r < PLAN__VOLUMES; r++)
			if (!strcmp(v, role_names[r]))
				p->role = r;
		if (p->role < 0 && strcmp(v, "none"))
			return FAIL("%s: boot, root, config, jobs, data or none expected: %s", c->where, v);
		return 0;
	case F_REF:
		if (strcmp(v, "partlabel") && strcmp(v, "partuuid"))
			return FAIL("%s: partlabel or partuuid expected: %s", c->where, v);
		p->ref = strcmp(v, "partlabel") ? REF_PARTUUID : REF_PARTLABEL;
		return 0;
	case F_PROTECTION:
		if (!strcmp(v, "none"))
			p->prot = IP_NONE;
		else if (!strcmp(v, "verity"))
			p->prot = IP_VERITY;
		else if (!strcmp(v, "luks2"))
			p->prot = IP_LUKS2;
		else
			return FAIL("%s: none, verity or luks2 expected: %s", c->where, v);
		return 0;
	case F_VERITY_HASH:
		if (!strcmp(v, "appended")) {
			p->hash_slot = 0;
			return 0;
		}
		if (v[0] == 'P' && parse_uint(v + 1, LAYOUT_SLOTS, &n) == 0 && n >= 1 && v[1] != '0') {
			p->hash_slot = (int)n;
			return 0;
		}
		return FAIL("%s: appended or P<N> (the slot of the hash partition) expected: %s", c->where, v);
	case F_VERITY_SALT:
		if (parse_hex(v, p->salt, sizeof(p->salt), &p->salt_len) < 0)
			return FAIL("%s: even-length hex, at most 256 bytes, expected", c->where);
		return 0;
	case F_VERITY_UUID:
		if (parse_uuid(v, p->verity_uuid) < 0)
			return FAIL("%s: not a UUID: %s", c->where, v);
		return 0;
	case F_LUKS_UUID:
		if (parse_uuid(v, p->luks_uuid) < 0)
			return FAIL("%s: not a UUID: %s", c->where, v);
		return 0;
	case F_LUKS_PASSPHRASE_FILE:
		return set_path(c, v, p->pass_file, err, errlen);
	case F_LUKS_KEY_FILE:
		return set_path(c, v, p->key_file, err, errlen);
	case F_LUKS_VOLUME_KEY_FILE:
		return set_path(c, v, p->vk_file, err, errlen);
	case F_LUKS_PBKDF:
		if (strcmp(v, "argon2id") && strcmp(v, "pbkdf2"))
			return FAIL("%s: argon2id or pbkdf2 expected: %s", c->where, v);
		p->pbkdf = strcmp(v, "argon2id") ? PBKDF_PBKDF2 : PBKDF_ARGON2ID;
		return 0;
	case F_LUKS_PBKDF_ITERATIONS:
		if (parse_uint(v, 100000000, &n) < 0 || n < 1)
			return FAIL("%s: 1 to 100000000 expected: %s", c->where, v);
		p->pbkdf_iterations = (unsigned)n;
		return 0;
	case F_LUKS_PBKDF_MEMORY:
		if (parse_uint(v, 4194304, &n) < 0 || n < 32)
			return FAIL("%s: KiB, 32 to 4194304, expected: %s", c->where, v);
		p->pbkdf_memory_kib = (unsigned)n;
		return 0;
	}
	return -EINVAL;
}

static int lex_set(void *vctx, const char *key, const char *value, unsigned line, char *err, size_t errlen)
{
	struct lex_ctx *c = vctx;

	(void)key;
	(void)line;
	return c->slot ? set_part(c, value, err, errlen) : set_global(c, value, err, errlen);
}

static void layout_defaults(struct img_layout *l)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	unsigned long long e;

	memset(l, 0, sizeof(*l));
	snprintf(l->seed, sizeof(l->seed), "cvminit");
	l->epoch = sde && parse_uint(sde, 4102444800ull, &e) == 0 ? e : 1700000000;
	snprintf(l->luks_cipher, sizeof(l->luks_cipher), "%s", cfg_defs[CFG_LUKS_CIPHERS].def);
	l->luks_sector_size = (unsigned)strtoul(cfg_defs[CFG_LUKS_SECTOR_SIZE].def, NULL, 10);
	l->luks_data_offset = strtoull(cfg_defs[CFG_LUKS_DATA_OFFSET].def, NULL, 10);
	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		struct img_part *p = &l->p[n];
		p->role = -1;
		p->lost_found = true;
		p->keep_modes = true;
		p->pbkdf = PBKDF_ARGON2ID;
	}
}

int layout_parse(struct img_layout *l, const char *text, size_t len, const char *name, const char *dir, char *err,
		 size_t errlen)
{
	static const struct config_lexer lx = { lex_key, lex_set };
	struct lex_ctx c = { .l = l, .name = name };

	layout_defaults(l);
	l->file = name;
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	return config_lex(text, len, name, &lx, &c, err, errlen);
}

uint64_t verity_tree_blocks(uint64_t data_blocks)
{
	/* dm-verity's levels: each hash block holds 128 sha256 digests; levels
	 * are added until one block covers everything below it. */
	uint64_t total = 0, n = data_blocks;

	while (n > 1) {
		n = (n + 127) / 128;
		total += n;
	}
	return total;
}

void layout_derive_uuid(const char *seed, const char *what, char out[40])
{
	char in[256];
	uint8_t d[32];

	snprintf(in, sizeof(in), "cvminit-image:%s:%s", seed, what);
	tpm2_hash(TPM2_HASH_SHA256, in, strlen(in), d);
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x40); /* version 4 form */
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1], d[2], d[3],
		 d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]);
}

#define KEY(n, f) "P%d_%s", (n), pfields[f]

/* The release policy's rules for what protects each role (init/plan.c
 * refuses the configuration otherwise). */
static int check_role(const struct img_layout *l, int n, char *err, size_t errlen)
{
	const struct img_part *p = &l->p[n];
	static const char *const prot_names[] = { "none", "verity", "luks2" };

	switch (p->role) {
	case PLAN_BOOT:
	case PLAN_CONFIG:
		if (p->prot == IP_LUKS2)
			return FAIL("%s:%u: P%d_PROTECTION: luks2 for the %s volume: cvminit mounts p%s read-only through dm-verity (verity or, with POLICY=test, none)",
				    l->file, p->line[F_PROTECTION], n, role_names[p->role], p->role == PLAN_BOOT ? "2" : "4");
		if (p->prot == IP_NONE && !l->test_policy)
			return FAIL("%s:%u: P%d_PROTECTION: none for the %s volume: the release policy requires dm-verity (%s_VERITY_ROOTHASH); POLICY=test allows it",
				    l->file, p->line[F_PROTECTION] ? p->line[F_PROTECTION] : p->line[F_NAME], n,
				    role_names[p->role], role_prefixes[p->role]);
		return 0;
	case PLAN_ROOT:
		if (p->prot == IP_VERITY || (p->prot == IP_NONE && !l->test_policy))
			return FAIL("%s:%u: P%d_PROTECTION: %s for the root volume: the release policy requires luks2 (ROOT_ENCRYPTION=luks)%s",
				    l->file, p->line[F_PROTECTION] ? p->line[F_PROTECTION] : p->line[F_NAME], n,
				    prot_names[p->prot], p->prot == IP_NONE ? "; POLICY=test allows none" : "");
		return 0;
	case PLAN_JOBS:
		if (p->prot == IP_VERITY)
			return FAIL("%s:%u: P%d_PROTECTION: verity for the jobs volume: it is written at run time (luks2 or none)",
				    l->file, p->line[F_PROTECTION], n);
		return 0;
	case PLAN_DATA:
		if (p->prot == IP_LUKS2)
			return FAIL("%s:%u: P%d_PROTECTION: luks2 for the data volume: p6 is read-only data (verity or none)",
				    l->file, p->line[F_PROTECTION], n);
		return 0;
	}
	return 0;
}

static int file_size(const char *path, uint64_t *size)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = (uint64_t)st.st_size;
	return 0;
}

int layout_check(struct img_layout *l, char *err, size_t errlen)
{
	int count = 0, roles[PLAN__VOLUMES] = { 0 };
	uint64_t end = LAYOUT_ALIGN;

	if (!l->disk_guid[0])
		layout_derive_uuid(l->seed, "disk-guid", l->disk_guid);
	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		struct img_part *p = &l->p[n];
		if (!p->present) {
			if (p->first_line)
				return FAIL("%s:%u: %s: partition %d has no P%d_NAME", l->file, p->first_line, p->first_key, n, n);
			continue;
		}
		count++;
		for (int m = 1; m < n; m++)
			if (l->p[m].present && !strcmp(l->p[m].name, p->name))
				return FAIL("%s:%u: P%d_NAME: %s is also P%d_NAME", l->file, p->line[F_NAME], n, p->name, m);
		if (p->line[F_DIR] && p->line[F_IMAGE])
			return FAIL("%s:%u: P%d_IMAGE: P%d_DIR is set too: one content per partition", l->file,
				    p->line[F_IMAGE], n, n);
		if ((p->line[F_DIR] || p->line[F_IMAGE]) && p->content == IC_VFAT)
			return FAIL("%s:%u: P%d_FS: vfat partitions are made empty; no P%d_DIR/P%d_IMAGE", l->file,
				    p->line[F_FS], n, n, n);
		if (p->role >= 0) {
			if (roles[p->role])
				return FAIL("%s:%u: P%d_ROLE: %s is also P%d_ROLE", l->file, p->line[F_ROLE], n,
					    role_names[p->role], roles[p->role]);
			roles[p->role] = n;
		}
		if (!p->type[0])
			snprintf(p->type, sizeof(p->type), "%s", p->content == IC_VFAT ? "ef00" : "8300");
		char what[64];
		if (!p->uuid[0]) {
			snprintf(what, sizeof(what), "partuuid:%d:%s", n, p->name);
			layout_derive_uuid(l->seed, what, p->uuid);
		}
		if (!p->fs_uuid[0]) {
			snprintf(what, sizeof(what), "fs-uuid:%d:%s", n, p->name);
			layout_derive_uuid(l->seed, what, p->fs_uuid);
			if (p->content == IC_VFAT)
				p->fs_uuid[8] = '\0';
		}
		if (p->content == IC_VFAT && strlen(p->fs_uuid) != 8)
			return FAIL("%s:%u: P%d_FS_UUID: a vfat volume id is 8 hex digits", l->file, p->line[F_FS_UUID], n);
		if (p->content == IC_DIR && strlen(p->fs_uuid) != 36)
			return FAIL("%s:%u: P%d_FS_UUID: an ext4 UUID is a UUID", l->file, p->line[F_FS_UUID], n);
		if (!p->fs_label[0] && p->content == IC_DIR) {
			/* copied by hand: gcc's -Wrestrict sees p->name and p->fs_label in one struct */
			size_t k = strnlen(p->name, 16);
			memcpy(p->fs_label, p->name, k);
			p->fs_label[k] = '\0';
		}
	}
	if (count == 0)
		return FAIL("%s: no partition (P<N>_NAME) in the layout", l->file);

	/* hash partitions first: they take no content of their own */
	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		struct img_part *p = &l->p[n];
		if (!p->present || p->prot != IP_VERITY || !p->hash_slot)
			continue;
		struct img_part *h = &l->p[p->hash_slot];
		if (p->hash_slot == n)
			return FAIL("%s:%u: P%d_VERITY_HASH: P%d is the data partition itself (appended?)", l->file,
				    p->line[F_VERITY_HASH], n, n);
		if (!h->present)
			return FAIL("%s:%u: P%d_VERITY_HASH: partition P%d is not in the layout (no P%d_NAME)", l->file,
				    p->line[F_VERITY_HASH], n, p->hash_slot, p->hash_slot);
		if (h->content == IC_HASH)
			return FAIL("%s:%u: P%d_VERITY_HASH: P%d already holds P%d's tree", l->file,
				    p->line[F_VERITY_HASH], n, p->hash_slot, h->hash_of);
		if (h->content != IC_NONE || h->line[F_SIZE] || h->prot != IP_NONE)
			return FAIL("%s:%u: P%d_VERITY_HASH: P%d holds a tree: it takes no content, size or protection of its own",
				    l->file, p->line[F_VERITY_HASH], n, p->hash_slot);
		h->content = IC_HASH;
		h->hash_of = n;
	}

	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		struct img_part *p = &l->p[n];
		char what[64];
		if (!p->present)
			continue;
		if (p->line[F_VERITY_HASH] && p->prot != IP_VERITY)
			return FAIL("%s:%u: P%d_VERITY_HASH: P%d_PROTECTION is not verity", l->file, p->line[F_VERITY_HASH], n, n);
		if (p->line[F_VERITY_SALT] && p->prot != IP_VERITY)
			return FAIL("%s:%u: P%d_VERITY_SALT: P%d_PROTECTION is not verity", l->file, p->line[F_VERITY_SALT], n, n);
		for (int f = F_LUKS_UUID; f <= F_LUKS_PBKDF_MEMORY; f++)
			if (p->line[f] && p->prot != IP_LUKS2)
				return FAIL("%s:%u: P%d_%s: P%d_PROTECTION is not luks2", l->file, p->line[f], n, pfields[f], n);
		if (p->prot != IP_NONE && p->content != IC_DIR && p->content != IC_IMAGE)
			return FAIL("%s:%u: P%d_PROTECTION: protects a file system: give P%d_DIR or P%d_IMAGE", l->file,
				    p->line[F_PROTECTION], n, n, n);
		if (p->content == IC_DIR) {
			struct stat st;
			if (stat(p->path, &st) < 0 || !S_ISDIR(st.st_mode))
				return FAIL("%s:%u: P%d_DIR: no directory %s", l->file, p->line[F_DIR], n, p->path);
		}
		if (p->content == IC_IMAGE) {
			uint64_t isz = 0;
			int r = file_size(p->path, &isz);
			if (r < 0)
				return FAIL("%s:%u: P%d_IMAGE: no file %s", l->file, p->line[F_IMAGE], n, p->path);
			if (!p->size)
				p->size = isz;
			else if (isz > p->size)
				return FAIL("%s:%u: P%d_SIZE: %llu bytes is too small for P%d_IMAGE (%llu bytes)", l->file,
					    p->line[F_SIZE], n, (unsigned long long)p->size, n, (unsigned long long)isz);
		}
		if ((p->content == IC_DIR || p->content == IC_VFAT || p->content == IC_NONE) && !p->size)
			return FAIL("%s:%u: P%d_SIZE: not set (the partition's content size is required)", l->file,
				    p->line[F_NAME], n);
		if (p->content == IC_DIR && p->size % 4096)
			return FAIL("%s:%u: P%d_SIZE: an ext4 size is a multiple of 4096 bytes", l->file, p->line[F_SIZE], n);
		if (p->prot != IP_NONE && p->size % 4096)
			return FAIL("%s:%u: P%d_SIZE: a protected image is a multiple of 4096 bytes (%llu)", l->file,
				    p->line[F_SIZE] ? p->line[F_SIZE] : p->line[F_IMAGE], n, (unsigned long long)p->size);
		if (p->prot == IP_LUKS2) {
			if (!p->pass_file[0] && !p->key_file[0])
				return FAIL("%s:%u: P%d_PROTECTION: luks2 needs P%d_LUKS_PASSPHRASE_FILE or P%d_LUKS_KEY_FILE",
					    l->file, p->line[F_PROTECTION], n, n, n);
			if (p->content == IC_DIR && l->luks_sector_size > 4096)
				return FAIL("%s:%u: LUKS_SECTOR_SIZE: larger than ext4's 4096-byte block", l->file,
					    l->global_line[G_LUKS_SECTOR_SIZE]);
			if (!p->luks_uuid[0]) {
				snprintf(what, sizeof(what), "luks-uuid:%d:%s", n, p->name);
				layout_derive_uuid(l->seed, what, p->luks_uuid);
			}
			if (!p->pbkdf_iterations)
				p->pbkdf_iterations = p->pbkdf == PBKDF_ARGON2ID ? 4 : 1000;
			if (!p->pbkdf_memory_kib)
				p->pbkdf_memory_kib = 32768;
			if (p->pbkdf == PBKDF_PBKDF2 && p->line[F_LUKS_PBKDF_MEMORY])
				return FAIL("%s:%u: P%d_LUKS_PBKDF_MEMORY: PBKDF2 has no memory cost", l->file,
					    p->line[F_LUKS_PBKDF_MEMORY], n);
		}
		if (p->prot == IP_VERITY) {
			if (!p->salt_len) {
				/* a fixed salt per volume: root hashes are reproducible */
				snprintf(what, sizeof(what), "cvminit-image:%s:verity-salt:%d:%s", l->seed, n, p->name);
				tpm2_hash(TPM2_HASH_SHA256, what, strlen(what), p->salt);
				p->salt_len = 32;
			}
			if (!p->verity_uuid[0]) {
				snprintf(what, sizeof(what), "verity-uuid:%d:%s", n, p->name);
				layout_derive_uuid(l->seed, what, p->verity_uuid);
			}
			p->hash_blocks = verity_tree_blocks(p->size / VERITY_BLOCK_BYTES);
			p->hash_bytes = VERITY_BLOCK_BYTES /* superblock */ + p->hash_blocks * VERITY_BLOCK_BYTES;
		}
		if (p->role < 0 && p->line[F_REF])
			return FAIL("%s:%u: P%d_REF: the partition has no P%d_ROLE", l->file, p->line[F_REF], n, n);
		int r = check_role(l, n, err, errlen);
		if (r < 0)
			return r;
	}

	/* sizes, then starts: in slot order, 1 MiB aligned; explicit starts
	 * must not go back into the previous partition */
	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		struct img_part *p = &l->p[n];
		if (!p->present)
			continue;
		switch (p->content) {
		case IC_HASH: p->part_bytes = l->p[p->hash_of].hash_bytes; break;
		default:
			p->part_bytes = p->size;
			if (p->prot == IP_VERITY && !p->hash_slot)
				p->part_bytes += p->hash_bytes;
			if (p->prot == IP_LUKS2)
				p->part_bytes += l->luks_data_offset;
		}
		p->part_bytes = (p->part_bytes + 511) / 512 * 512;
	}
	int prev = 0;
	for (int n = 1; n <= LAYOUT_SLOTS; n++) {
		struct img_part *p = &l->p[n];
		if (!p->present)
			continue;
		if (p->start) {
			if (p->start < end)
				return FAIL("%s:%u: P%d_START: partition %d (bytes %llu..%llu) overlaps %s (which ends at byte %llu)",
					    l->file, p->line[F_START], n, n, (unsigned long long)p->start,
					    (unsigned long long)(p->start + p->part_bytes - 1),
					    prev ? "the partition before it" : "the GPT", (unsigned long long)end);
		} else {
			p->start = end;
		}
		end = (p->start + p->part_bytes + LAYOUT_ALIGN - 1) / LAYOUT_ALIGN * LAYOUT_ALIGN;
		prev = n;
	}
	l->disk_bytes = end + LAYOUT_ALIGN; /* room for the backup GPT */
	return 0;
}

int layout_load(struct img_layout *l, const char *path, char *err, size_t errlen)
{
	char buf[CONFIG_FILE_MAX + 1], dir[LAYOUT_PATH_MAX], *slash;
	FILE *f = fopen(path, "re");
	size_t n;
	int r;

	if (!f)
		return FAIL("%s: cannot open: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n > CONFIG_FILE_MAX)
		return FAIL("%s: file larger than %d bytes", path, CONFIG_FILE_MAX);
	if (!realpath(path, dir))
		return FAIL("%s: %s", path, strerror(errno));
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	r = layout_parse(l, buf, n, path, dir, err, errlen);
	return r < 0 ? r : layout_check(l, err, errlen);
}
