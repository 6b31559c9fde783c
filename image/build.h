#ifndef CVMINIT_IMAGE_BUILD_H
#define CVMINIT_IMAGE_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "image/layout.h"

/* What the build found out per slot: the values the configuration pins. */
struct part_result {
	char file[LAYOUT_PATH_MAX]; /* the partition's bytes (work file or P<N>_IMAGE) */
	uint64_t file_bytes;
	bool has_root;
	uint8_t root[32];           /* verity root hash */
	bool has_pin;
	uint8_t pin[32];            /* volume-key pin */
	char keyslots[64];          /* "0:keyfile 1:passphrase" */
};

struct build_opts {
	const char *out;          /* the raw disk */
	const char *config_out;   /* configuration fragment (NULL: none) */
	const char *manifest_out; /* per-slot facts, KEY=value (NULL: none) */
	const char *parts_dir;    /* keep the partition images there (NULL: removed) */
	bool qcow2;               /* also <out without .img>.qcow2 (needs qemu-img) */
	bool quiet;
};

/* Builds the disk of a checked layout: partitions as files (mkfs.ext4 -d,
 * libcryptsetup's dm-verity and LUKS2 formats, no device-mapper), the GPT
 * (sgdisk), then the files copied in. 0, or -errno after one message. */
int image_build(const struct img_layout *l, const struct build_opts *o);

/* The configuration fragment of a built layout (pins of every role). */
int image_write_config(const struct img_layout *l, const struct part_result *res, const char *path);

#endif
