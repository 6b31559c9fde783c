#ifndef CVMINIT_VERITY_GEOMETRY_H
#define CVMINIT_VERITY_GEOMETRY_H

#include <stddef.h>
#include <stdint.h>

/* How much data a dm-verity volume covers: the measured configuration pins
 * it (HASH_OFFSET with an appended tree, DATA_SIZE with a separate hash
 * partition); the superblock's data_blocks and the partition's size are the
 * host's and must agree with it. The root hash does not cover data_blocks:
 * a host that shrinks it keeps the top level of the tree valid and hides
 * the end of the volume. Pure, so it is tested alone. */
struct verity_geometry {
	const char *label;     /* the volume: "boot", "config", "data" */
	const char *hashdev;   /* device holding the superblock */
	const char *datadev;   /* the data partition */
	const char *key;       /* the configuration key that pins the size */
	uint64_t want;         /* its value, bytes */
	uint64_t sb_blocks;    /* the superblock's data_blocks (4096-byte blocks) */
	uint64_t part_bytes;   /* the data partition's size */
};

/* 0, or -EINVAL with one line naming the volume and both values in err. */
int verity_geometry_check(const struct verity_geometry *g, char *err, size_t errlen);

#endif
