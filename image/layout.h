#ifndef CVMINIT_IMAGE_LAYOUT_H
#define CVMINIT_IMAGE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "init/plan.h"

/* The image layout: a file in cvminit.conf's KEY=value syntax (the same
 * lexer, init/config.c) turned into a typed, checked plan before anything is
 * built. Keys are global (DISK_GUID, EPOCH, POLICY, LUKS_*) or per GPT slot
 * N = 1..16 (P<N>_NAME, P<N>_SIZE, ...): image/README.md lists them. Every
 * error names the key. Pure apart from stat() of the named files and
 * directories, so it is tested alone. */

#define LAYOUT_SLOTS 16
#define LAYOUT_PATH_MAX 4096
#define LAYOUT_ALIGN (1024 * 1024ull) /* partition starts: 1 MiB */
#define VERITY_BLOCK_BYTES 4096ull

enum img_content {
	IC_NONE,  /* no content: an empty (zeroed) partition of P<N>_SIZE */
	IC_DIR,   /* a directory: ext4 by mkfs.ext4 -d */
	IC_IMAGE, /* a prebuilt image, used as is */
	IC_VFAT,  /* an empty FAT file system (the EFI system partition) */
	IC_HASH,  /* the dm-verity tree of another slot (P<M>_VERITY_HASH=P<N>) */
};

enum img_prot { IP_NONE, IP_VERITY, IP_LUKS2 };
enum img_pbkdf { PBKDF_ARGON2ID, PBKDF_PBKDF2 };
enum img_ref { REF_PARTLABEL, REF_PARTUUID };

struct img_part {
	bool present;            /* P<N>_NAME set */
	unsigned first_line;     /* first P<N>_* line (messages) */
	char first_key[40];
	char name[40];           /* GPT partition name */
	char type[40];           /* sgdisk type code (4 hex digits) or GUID */
	char uuid[40];           /* unique partition GUID, lower case */
	uint64_t start;          /* bytes; 0: next 1 MiB boundary after the previous slot */
	uint64_t size;           /* content bytes (file system or image); 0: the image's size */
	enum img_content content;
	char path[LAYOUT_PATH_MAX]; /* IC_DIR, IC_IMAGE: absolute */
	char fs_uuid[40];        /* ext4 UUID and hash seed / vfat volume id (8 hex digits) */
	char fs_label[40];
	bool lost_found;         /* keep ext4's lost+found */
	bool keep_modes;         /* P<N>_MODES=keep (default): modes and owners as in the directory */
	int role;                /* enum plan_volume, or -1 */
	enum img_ref ref;        /* how the configuration fragment names it */
	enum img_prot prot;
	/* verity */
	int hash_slot;           /* 0: tree appended; else the slot holding it */
	int hash_of;             /* IC_HASH: the data slot */
	uint8_t salt[256];
	size_t salt_len;
	char verity_uuid[40];
	/* luks2 */
	char luks_uuid[40];
	char pass_file[LAYOUT_PATH_MAX]; /* first line: the passphrase as typed */
	char key_file[LAYOUT_PATH_MAX];  /* all bytes */
	char vk_file[LAYOUT_PATH_MAX];   /* a fixed volume key (tests) */
	enum img_pbkdf pbkdf;
	unsigned pbkdf_iterations;
	unsigned pbkdf_memory_kib;
	/* derived by layout_check */
	uint64_t part_bytes;     /* the partition's size */
	uint64_t hash_bytes;     /* verity: superblock + tree */
	uint64_t hash_blocks;    /* verity: tree blocks (without the superblock) */
	unsigned line[32];       /* per field: the line that set it (duplicates) */
};

struct img_layout {
	const char *file;        /* for messages */
	char dir[LAYOUT_PATH_MAX]; /* relative paths are relative to the layout's directory */
	char seed[64];           /* SEED: input of every derived identifier */
	char disk_guid[40];
	uint64_t epoch;          /* EPOCH (else SOURCE_DATE_EPOCH, else 1700000000) */
	bool test_policy;        /* POLICY=test: the test build's rules for roles */
	char luks_cipher[64];    /* LUKS_CIPHER: one of the release policy's */
	unsigned luks_sector_size;
	uint64_t luks_data_offset;
	uint64_t disk_bytes;     /* derived: last partition end + 1 MiB (backup GPT) */
	struct img_part p[LAYOUT_SLOTS + 1]; /* index = slot; p[0] unused */
	unsigned global_line[8];
};

/* Parses text (name: for messages; dir: base of relative paths). Lexing and
 * per-key errors ("<name>:<line>: <KEY>: <what>"). 0 or -EINVAL. */
int layout_parse(struct img_layout *l, const char *text, size_t len, const char *name, const char *dir,
		 char *err, size_t errlen);
/* Rules across keys, the release policy's LUKS2 parameters and role rules
 * (init/plan.c's, as config keys), derived identifiers and sizes, overlaps.
 * 0 or -EINVAL with err naming the key. */
int layout_check(struct img_layout *l, char *err, size_t errlen);
/* Reads and parses a layout file, then checks it. */
int layout_load(struct img_layout *l, const char *path, char *err, size_t errlen);

/* dm-verity tree blocks for data_blocks 4096-byte blocks (sha256, 4096-byte
 * hash blocks), without the superblock. */
uint64_t verity_tree_blocks(uint64_t data_blocks);
/* A UUID (version 4 form) from SHA-256(seed ":" what): reproducible ids. */
void layout_derive_uuid(const char *seed, const char *what, char out[40]);
/* The configuration prefix of a role: "BOOT", "ROOT", "CONFIG", "JOBS", "DATA". */
const char *layout_role_prefix(int role);
const char *layout_role_name(int role);

#endif
