/* Partition discovery on a fake sysfs and a hand-made GPT: matching by
 * PARTLABEL and PARTUUID, ambiguity, missing partitions, the timeout. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/context.h"
#include "init/partitions.h"
#include "tests/harness.h"

TH_DEFINE("partitions");

static char root[256];

static void make_parents(char *path)
{
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
}

static void put(const char *rel, const char *content)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	make_parents(path);
	FILE *f = fopen(path, "w");
	if (!f)
		TH_FAIL("cannot write %s", path);
	else {
		fputs(content, f);
		fclose(f);
	}
}

static void link_to(const char *rel, const char *target)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	make_parents(path);
	if (symlink(target, path) < 0)
		TH_FAIL("symlink %s", path);
}

/* A disk "vda" with the given partitions: name, label, start sector. */
static void add_part(const char *disk, unsigned n, const char *label, unsigned long long start)
{
	char rel[256], val[128];
	snprintf(rel, sizeof(rel), "sys/devices/virtio0/block/%s/%s%u/partition", disk, disk, n);
	snprintf(val, sizeof(val), "%u\n", n);
	put(rel, val);
	snprintf(rel, sizeof(rel), "sys/devices/virtio0/block/%s/%s%u/start", disk, disk, n);
	snprintf(val, sizeof(val), "%llu\n", start);
	put(rel, val);
	snprintf(rel, sizeof(rel), "sys/devices/virtio0/block/%s/%s%u/uevent", disk, disk, n);
	if (label)
		snprintf(val, sizeof(val), "MAJOR=254\nMINOR=%u\nDEVNAME=%s%u\nDEVTYPE=partition\nPARTN=%u\nPARTNAME=%s\n",
			 n, disk, n, n, label);
	else
		snprintf(val, sizeof(val), "MAJOR=254\nMINOR=%u\nDEVNAME=%s%u\nDEVTYPE=partition\nPARTN=%u\n", n,
			 disk, n, n);
	put(rel, val);
	snprintf(rel, sizeof(rel), "sys/class/block/%s%u", disk, n);
	snprintf(val, sizeof(val), "../../devices/virtio0/block/%s/%s%u", disk, disk, n);
	link_to(rel, val);
}

static void add_disk(const char *disk)
{
	char rel[256], val[128];
	snprintf(rel, sizeof(rel), "sys/devices/virtio0/block/%s/queue/logical_block_size", disk);
	put(rel, "512\n");
	snprintf(rel, sizeof(rel), "sys/devices/virtio0/block/%s/uevent", disk);
	put(rel, "DEVTYPE=disk\n");
	snprintf(rel, sizeof(rel), "sys/class/block/%s", disk);
	snprintf(val, sizeof(val), "../../devices/virtio0/block/%s", disk);
	link_to(rel, val);
}

/* GPT with one entry per (start, uuid bytes) at LBA 2, 128-byte entries. */
static void write_gpt(const char *disk, int count, const unsigned long long *starts, const unsigned char (*guids)[16])
{
	char path[512];
	unsigned char sector[512];
	snprintf(path, sizeof(path), "%s/dev/%s", root, disk);
	mkdir(strcat(strcpy((char[512]){ 0 }, root), "/dev"), 0755);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	memset(sector, 0, sizeof(sector));
	memcpy(sector, "EFI PART", 8);
	sector[72] = 2;   /* entries at LBA 2 */
	sector[80] = 128; /* 128 entries */
	sector[84] = 128; /* of 128 bytes */
	pwrite(fd, sector, 512, 512);
	for (int i = 0; i < count; i++) {
		unsigned char e[128] = { 0 };
		e[0] = 1; /* non-zero type */
		memcpy(e + 16, guids[i], 16);
		for (int b = 0; b < 8; b++)
			e[32 + b] = (unsigned char)(starts[i] >> (8 * b));
		pwrite(fd, e, 128, 1024 + 128 * i);
	}
	ftruncate(fd, 64 * 1024);
	close(fd);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/cvminit-test-parts-XXXXXX");
	if (!mkdtemp(root))
		TH_FAIL("mkdtemp");
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		TH_FAIL("cleanup failed");
}

static void scan_lists_partitions_sorted(void)
{
	struct part_entry e[PART_SCAN_MAX];
	char sys[300];
	setup();
	add_disk("vda");
	add_part("vda", 2, "cvm-boot", 4096);
	add_part("vda", 1, "cvm-esp", 2048);
	add_part("vda", 3, NULL, 8192);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	int n = partitions_scan(sys, e, PART_SCAN_MAX);
	CHECK_INT(n, 3);
	CHECK_STR(e[0].name, "vda1");
	CHECK_STR(e[0].label, "cvm-esp");
	CHECK_STR(e[0].disk, "vda");
	CHECK_INT(e[0].partn, 1);
	CHECK_INT(e[1].start, 4096);
	CHECK_STR(e[2].label, "");
	char desc[200];
	partitions_describe(e, n, desc, sizeof(desc));
	CHECK_STR(desc, "vda1 (cvm-esp), vda2 (cvm-boot), vda3 (no label)");
	partitions_describe(e, 0, desc, sizeof(desc));
	CHECK_STR(desc, "no partitions");
	teardown();
}

static void match_by_label_and_ambiguity(void)
{
	struct part_entry e[3] = { { .name = "vda1", .label = "a" }, { .name = "vda2", .label = "b" },
				   { .name = "vdb1", .label = "b" } };
	struct partref ref = { PREF_LABEL, "a" };
	CHECK_INT(partitions_match(e, 3, &ref), 0);
	strcpy(ref.value, "b");
	CHECK_INT(partitions_match(e, 3, &ref), -EEXIST);
	strcpy(ref.value, "c");
	CHECK_INT(partitions_match(e, 3, &ref), -ENOENT);
	ref.kind = PREF_NONE;
	CHECK_INT(partitions_match(e, 3, &ref), -ENOENT);
}

static const unsigned char guid_a[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
					  0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };

static void gpt_uuid_mixed_endian(void)
{
	unsigned char guids[2][16];
	unsigned long long starts[2] = { 2048, 4096 };
	char uuid[40], path[300];
	setup();
	memcpy(guids[0], guid_a, 16);
	memset(guids[1], 0x11, 16);
	write_gpt("vda", 2, starts, (const unsigned char(*)[16])guids);
	snprintf(path, sizeof(path), "%s/dev/vda", root);
	int fd = open(path, O_RDONLY);
	CHECK_INT(gpt_partuuid(fd, 512, 1, 2048, uuid), 0);
	CHECK_STR(uuid, "0fc63daf-8483-4772-8e79-3d69d8477de4");
	/* The entry must describe the same partition the kernel created. */
	CHECK_INT(gpt_partuuid(fd, 512, 1, 4096, uuid), -ESTALE);
	CHECK_INT(gpt_partuuid(fd, 512, 200, 2048, uuid), -EINVAL);
	CHECK_INT(gpt_partuuid(fd, 100, 1, 2048, uuid), -EINVAL);
	close(fd);
	teardown();
}

static void gpt_rejects_non_gpt(void)
{
	char uuid[40], path[300];
	setup();
	snprintf(path, sizeof(path), "%s/blank", root);
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	ftruncate(fd, 8192);
	CHECK_INT(gpt_partuuid(fd, 512, 1, 2048, uuid), -ENOENT);
	close(fd);
	teardown();
}

static struct boot_ctx ctx;
static char err[512];

static void stage_finds_all_roles(void)
{
	char sys[300], dev[300];
	unsigned long long starts[6] = { 2048, 4096, 8192, 16384, 32768, 65536 };
	unsigned char guids[6][16];
	const char *labels[6] = { "cvm-esp", "cvm-boot", "cvm-root", "cvm-config", "cvm-jobs", "cvm-data" };
	setup();
	add_disk("vda");
	for (int i = 0; i < 6; i++) {
		add_part("vda", (unsigned)i + 1, labels[i], starts[i]);
		memset(guids[i], 0x20 + i, 16);
	}
	memcpy(guids[2], guid_a, 16);
	write_gpt("vda", 6, starts, (const unsigned char(*)[16])guids);
	boot_ctx_init(&ctx);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(dev, sizeof(dev), "%s/dev", root);
	ctx.sysfs = sys;
	ctx.devfs = dev;
	snprintf(ctx.cfg.val[CFG_ROOT_PART], sizeof(ctx.cfg.val[0]), "PARTUUID=0FC63DAF-8483-4772-8E79-3D69D8477DE4");
	snprintf(ctx.cfg.val[CFG_DATA_PART], sizeof(ctx.cfg.val[0]), "none");
	CHECK_INT(plan_build(&ctx.cfg, false, &ctx.plan, err, sizeof(err)), 0); /* stages read the plan */
	CHECK_INT(stage_partitions(&ctx), 0);
	CHECK_STR(ctx.parts[ROLE_ROOT].name, "vda3");
	CHECK_STR(ctx.parts[ROLE_BOOT].name, "vda2");
	CHECK_STR(ctx.parts[ROLE_JOBS].name, "vda5");
	CHECK(!ctx.parts[ROLE_DATA].wanted);
	char want[320];
	snprintf(want, sizeof(want), "%s/vda4", dev);
	CHECK_STR(ctx.parts[ROLE_CONFIG].dev, want);
	teardown();
}

static void stage_missing_partition_times_out_and_lists(void)
{
	char sys[300];
	setup();
	add_disk("vda");
	add_part("vda", 1, "cvm-esp", 2048);
	add_part("vda", 2, "cvm-boot", 4096);
	add_part("vda", 3, "cvm-root", 8192);
	add_part("vda", 4, "cvm-config", 16384);
	add_part("vda", 5, "cvm-jobs", 32768);
	boot_ctx_init(&ctx);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	ctx.sysfs = sys;
	snprintf(ctx.cfg.val[CFG_PART_TIMEOUT], sizeof(ctx.cfg.val[0]), "1");
	CHECK_INT(plan_build(&ctx.cfg, false, &ctx.plan, err, sizeof(err)), 0);
	double t0 = log_elapsed_ms(&ctx.log);
	CHECK_INT(stage_partitions(&ctx), -ENODEV);
	double waited = log_elapsed_ms(&ctx.log) - t0;
	CHECK(waited >= 1000 && waited < 3000);
	CHECK_STR(ctx.log.reason, "missing PARTLABEL=cvm-data (data) after 1 s; found: vda1 (cvm-esp), vda2 "
				  "(cvm-boot), vda3 (cvm-root), vda4 (cvm-config), vda5 (cvm-jobs)");
	teardown();
}

static void stage_ambiguous_label_fails(void)
{
	char sys[300];
	setup();
	add_disk("vda");
	add_disk("vdb");
	add_part("vda", 3, "cvm-root", 8192);
	add_part("vdb", 1, "cvm-root", 2048);
	boot_ctx_init(&ctx);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	ctx.sysfs = sys;
	CHECK_INT(stage_partitions(&ctx), -EEXIST);
	CHECK_STR(ctx.log.reason, "root partition PARTLABEL=cvm-root is ambiguous: found: vda3 (cvm-root), vdb1 "
				  "(cvm-root)");
	teardown();
}

int main(void)
{
	TEST(scan_lists_partitions_sorted);
	TEST(match_by_label_and_ambiguity);
	TEST(gpt_uuid_mixed_endian);
	TEST(gpt_rejects_non_gpt);
	TEST(stage_finds_all_roles);
	TEST(stage_missing_partition_times_out_and_lists);
	TEST(stage_ambiguous_label_fails);
	return TH_END();
}
