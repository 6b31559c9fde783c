/* image/layout.c: the image layout's parser and checks. Every error names
 * the key (and the line); a good layout gets reproducible identifiers,
 * sizes and starts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/layout.h"
#include "tests/harness.h"

TH_DEFINE("image_layout");

static struct img_layout l;
static char err[600];

/* Parses and checks text; the result of whichever failed first. */
static int load(const char *text)
{
	err[0] = '\0';
	int r = layout_parse(&l, text, strlen(text), "l.conf", "/", err, sizeof(err));
	return r < 0 ? r : layout_check(&l, err, sizeof(err));
}

#define GOOD                                                                                                          \
	"P1_NAME=cvm-esp\nP1_FS=vfat\nP1_SIZE=2M\n"                                                                   \
	"P2_NAME=cvm-boot\nP2_DIR=/\nP2_SIZE=8M\nP2_ROLE=boot\nP2_PROTECTION=verity\n"                                \
	"P3_NAME=cvm-root\nP3_DIR=/\nP3_SIZE=16M\nP3_ROLE=root\nP3_PROTECTION=luks2\nP3_LUKS_KEY_FILE=/dev/null\n"

static void good_layout(void)
{
	CHECK_INT(load(GOOD), 0);
	CHECK_STR(err, "");
	/* starts: 1 MiB aligned in slot order; sizes: content + tree / header */
	CHECK_INT(l.p[1].start, 1 << 20);
	CHECK_INT(l.p[1].part_bytes, 2 << 20);
	CHECK_INT(l.p[2].start, 3 << 20);
	CHECK_INT(l.p[2].hash_blocks, 17); /* 2048 blocks: 16 + 1 */
	CHECK_INT(l.p[2].part_bytes, (8 << 20) + 4096 + 17 * 4096);
	CHECK_INT(l.p[3].start, 12 << 20); /* 3 MiB + 8.07 MiB, rounded up */
	CHECK_INT(l.p[3].part_bytes, (16 << 20) + (16 << 20));
	CHECK_INT(l.disk_bytes, (12 << 20) + (32 << 20) + (1 << 20));
	CHECK_STR(l.p[1].type, "ef00");
	CHECK_STR(l.p[2].type, "8300");
	CHECK_INT(strlen(l.p[1].fs_uuid), 8);
	CHECK_STR(l.luks_cipher, "aes-xts-plain64");
	CHECK_INT(l.luks_data_offset, 16 << 20);
	CHECK_INT(l.p[3].pbkdf, PBKDF_ARGON2ID);
	CHECK_INT(l.p[3].pbkdf_memory_kib, 32768);
}

static void derived_ids_are_reproducible(void)
{
	char disk[40], root[40], salt[64];

	CHECK_INT(load(GOOD), 0);
	snprintf(disk, sizeof(disk), "%s", l.disk_guid);
	snprintf(root, sizeof(root), "%s", l.p[3].luks_uuid);
	memcpy(salt, l.p[2].salt, 32);
	CHECK_INT(load(GOOD), 0);
	CHECK_STR(l.disk_guid, disk);
	CHECK_STR(l.p[3].luks_uuid, root);
	CHECK_MEM(l.p[2].salt, salt, 32);
	CHECK(strcmp(l.p[1].uuid, l.p[2].uuid) != 0);
	CHECK(l.disk_guid[14] == '4'); /* version 4 form */
	/* another SEED: other identifiers */
	CHECK_INT(load("SEED=other\n" GOOD), 0);
	CHECK(strcmp(l.disk_guid, disk) != 0);
	CHECK(memcmp(l.p[2].salt, salt, 32) != 0);
}

static void unknown_key(void)
{
	CHECK_INT(load(GOOD "P2_FROBNICATE=1\n"), -EINVAL);
	CHECK_STR(err, "l.conf:15: unknown key P2_FROBNICATE");
	CHECK_INT(load("FROB=1\n"), -EINVAL);
	CHECK_STR(err, "l.conf:1: unknown key FROB");
	CHECK_INT(load("P17_NAME=x\n"), -EINVAL);
	CHECK_STR(err, "l.conf:1: unknown key P17_NAME");
	CHECK_INT(load("P02_NAME=x\n"), -EINVAL);
	CHECK_STR(err, "l.conf:1: unknown key P02_NAME");
}

static void lexer_is_the_configs(void)
{
	CHECK_INT(load("P1_NAME=a b\n"), -EINVAL);
	CHECK_STR(err, "l.conf:1: P1_NAME: unexpected text after the value");
	CHECK_INT(load("P1_NAME=\"$x\"\n"), -EINVAL);
	CHECK_STR(err, "l.conf:1: P1_NAME: '\\', '$' and '`' are not allowed inside double quotes");
	CHECK_INT(load("P1_NAME=a\nP1_NAME=b\n"), -EINVAL);
	CHECK_STR(err, "l.conf:2: P1_NAME: duplicate key (first set on line 1)");
	CHECK_INT(load("P1_NAME = a\n"), -EINVAL);
	CHECK_STR(err, "l.conf:1: expected KEY=value without spaces around '='");
}

static void size_too_small(void)
{
	/* a prebuilt image larger than its size; a directory is checked when built */
	CHECK_INT(load("P1_NAME=a\nP1_IMAGE=/proc/self/exe\nP1_SIZE=4K\n"), -EINVAL);
	CHECK_CONTAINS(err, "l.conf:3: P1_SIZE: 4096 bytes is too small for P1_IMAGE (");
	CHECK_INT(load("P1_NAME=a\nP1_DIR=/\n"), -EINVAL);
	CHECK_STR(err, "l.conf:1: P1_SIZE: not set (the partition's content size is required)");
	CHECK_INT(load("P1_NAME=a\nP1_DIR=/\nP1_SIZE=1000\n"), -EINVAL);
	CHECK_STR(err, "l.conf:3: P1_SIZE: an ext4 size is a multiple of 4096 bytes");
	CHECK_INT(load("P1_NAME=a\nP1_SIZE=12Q\n"), -EINVAL);
	CHECK_STR(err, "l.conf:2: P1_SIZE: a size expected (bytes, or N with K, M, G): 12Q");
}

static void overlapping_partitions(void)
{
	CHECK_INT(load("P1_NAME=a\nP1_FS=vfat\nP1_SIZE=2M\nP2_NAME=b\nP2_START=2M\nP2_SIZE=1M\n"), -EINVAL);
	CHECK_STR(err, "l.conf:5: P2_START: partition 2 (bytes 2097152..3145727) overlaps the partition before it (which ends at byte 3145728)");
	CHECK_INT(load("P1_NAME=a\nP1_START=1M\nP1_SIZE=1M\nP2_NAME=b\nP2_START=2M\nP2_SIZE=1M\n"), 0);
	CHECK_INT(l.p[2].start, 2 << 20);
	CHECK_INT(load("P1_NAME=a\nP1_START=1000\nP1_SIZE=1M\n"), -EINVAL);
	CHECK_STR(err, "l.conf:2: P1_START: a multiple of 1 MiB expected (bytes, or N with K, M, G): 1000");
}

static void missing_partitions(void)
{
	CHECK_INT(load(""), -EINVAL);
	CHECK_STR(err, "l.conf: no partition (P<N>_NAME) in the layout");
	CHECK_INT(load("P1_NAME=a\nP1_SIZE=1M\nP4_SIZE=1M\n"), -EINVAL);
	CHECK_STR(err, "l.conf:3: P4_SIZE: partition 4 has no P4_NAME");
	CHECK_INT(load("P2_NAME=b\nP2_DIR=/\nP2_SIZE=8M\nP2_PROTECTION=verity\nP2_VERITY_HASH=P7\n"), -EINVAL);
	CHECK_STR(err, "l.conf:5: P2_VERITY_HASH: partition P7 is not in the layout (no P7_NAME)");
	CHECK_INT(load("P2_NAME=b\nP2_DIR=/\nP2_SIZE=8M\nP2_PROTECTION=verity\nP2_VERITY_HASH=P7\nP7_NAME=h\nP7_SIZE=1M\n"),
		  -EINVAL);
	CHECK_STR(err, "l.conf:5: P2_VERITY_HASH: P7 holds a tree: it takes no content, size or protection of its own");
	CHECK_INT(load("P2_NAME=b\nP2_DIR=/\nP2_SIZE=8M\nP2_PROTECTION=verity\nP2_VERITY_HASH=P7\nP7_NAME=h\n"), 0);
	CHECK_INT(l.p[7].content, IC_HASH);
	CHECK_INT(l.p[7].part_bytes, 4096 + 17 * 4096);
	CHECK_INT(load("P1_NAME=a\nP1_SIZE=1M\nP2_NAME=a\nP2_SIZE=1M\n"), -EINVAL);
	CHECK_STR(err, "l.conf:3: P2_NAME: a is also P1_NAME");
	CHECK_INT(load("P1_NAME=a\nP1_SIZE=1M\nP1_ROLE=data\nP2_NAME=b\nP2_SIZE=1M\nP2_ROLE=data\n"), -EINVAL);
	CHECK_STR(err, "l.conf:6: P2_ROLE: data is also P1_ROLE");
	CHECK_INT(load("P1_NAME=a\nP1_SIZE=1M\nP1_PROTECTION=verity\n"), -EINVAL);
	CHECK_STR(err, "l.conf:3: P1_PROTECTION: protects a file system: give P1_DIR or P1_IMAGE");
	CHECK_INT(load("P1_NAME=a\nP1_DIR=/nonexistent\nP1_SIZE=1M\n"), -EINVAL);
	CHECK_STR(err, "l.conf:2: P1_DIR: no directory /nonexistent");
}

static void protection_the_policy_refuses(void)
{
	CHECK_INT(load("LUKS_CIPHER=aes-cbc-essiv:sha256\n" GOOD), -EINVAL);
	CHECK_STR(err, "l.conf:1: LUKS_CIPHER: the release policy refuses cipher aes-cbc-essiv:sha256 (allowed: aes-xts-plain64|serpent-xts-plain64|twofish-xts-plain64)");
	CHECK_INT(load("LUKS_CIPHER=serpent-xts-plain64\n" GOOD), 0);
	CHECK_INT(load("LUKS_SECTOR_SIZE=8192\n" GOOD), -EINVAL);
	CHECK_STR(err, "l.conf:1: LUKS_SECTOR_SIZE: the release policy refuses sector size 8192 (allowed: 512|1024|2048|4096)");
	CHECK_INT(load("LUKS_DATA_OFFSET=1000\n" GOOD), -EINVAL);
	CHECK_CONTAINS(err, "l.conf:1: LUKS_DATA_OFFSET");
	/* roles: what a release build accepts for each volume */
	CHECK_INT(load("P2_NAME=b\nP2_DIR=/\nP2_SIZE=8M\nP2_ROLE=boot\n"), -EINVAL);
	CHECK_STR(err, "l.conf:1: P2_PROTECTION: none for the boot volume: the release policy requires dm-verity (BOOT_VERITY_ROOTHASH); POLICY=test allows it");
	CHECK_INT(load("POLICY=test\nP2_NAME=b\nP2_DIR=/\nP2_SIZE=8M\nP2_ROLE=boot\n"), 0);
	CHECK_INT(load("P3_NAME=r\nP3_DIR=/\nP3_SIZE=8M\nP3_ROLE=root\nP3_PROTECTION=verity\n"), -EINVAL);
	CHECK_STR(err, "l.conf:5: P3_PROTECTION: verity for the root volume: the release policy requires luks2 (ROOT_ENCRYPTION=luks)");
	CHECK_INT(load("P4_NAME=c\nP4_DIR=/\nP4_SIZE=8M\nP4_ROLE=config\nP4_PROTECTION=luks2\nP4_LUKS_KEY_FILE=/dev/null\n"),
		  -EINVAL);
	CHECK_CONTAINS(err, "l.conf:5: P4_PROTECTION: luks2 for the config volume");
	CHECK_INT(load("P5_NAME=j\nP5_DIR=/\nP5_SIZE=8M\nP5_ROLE=jobs\nP5_PROTECTION=luks2\n"), -EINVAL);
	CHECK_STR(err, "l.conf:5: P5_PROTECTION: luks2 needs P5_LUKS_PASSPHRASE_FILE or P5_LUKS_KEY_FILE");
	CHECK_INT(load("P5_NAME=j\nP5_DIR=/\nP5_SIZE=8M\nP5_LUKS_UUID=c7a11e00-1000-4000-8000-000000000005\n"), -EINVAL);
	CHECK_STR(err, "l.conf:4: P5_LUKS_UUID: P5_PROTECTION is not luks2");
}

static void tree_sizes(void)
{
	CHECK_INT(verity_tree_blocks(1), 0);
	CHECK_INT(verity_tree_blocks(2), 1);
	CHECK_INT(verity_tree_blocks(128), 1);
	CHECK_INT(verity_tree_blocks(129), 3);
	CHECK_INT(verity_tree_blocks(2048), 17);
	CHECK_INT(verity_tree_blocks(262144), 2048 + 16 + 1); /* 1 GiB */
}

int main(void)
{
	TEST(good_layout);
	TEST(derived_ids_are_reproducible);
	TEST(unknown_key);
	TEST(lexer_is_the_configs);
	TEST(size_too_small);
	TEST(overlapping_partitions);
	TEST(missing_partitions);
	TEST(protection_the_policy_refuses);
	TEST(tree_sizes);
	return TH_END();
}
