/* The fatal path's view of what a failed boot left behind (init/halt.c):
 * cvminit's device-mapper names from a fixture sysfs, and the mount points
 * below the new root from a mountinfo text. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/halt.h"
#include "tests/harness.h"

TH_DEFINE("halt");

static char dir[64];

static void dm(const char *dev, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/block/%s", dir, dev);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/block/%s/dm", dir, dev);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/block/%s/dm/name", dir, dev);
	th_write_file(p, name);
}

static void our_mappings(void)
{
	char names[HALT_MAX][HALT_NAME_MAX], p[256];

	snprintf(dir, sizeof(dir), "/tmp/cvminit-halt-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(halt_our_mappings(dir, names, HALT_MAX), 0); /* no block/ */
	snprintf(p, sizeof(p), "%s/block", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/block/vda", dir);
	mkdir(p, 0755);
	dm("dm-0", "cvm-root\n");
	dm("dm-1", "lvm-home\n");
	dm("dm-2", "cvm-boot\n");
	dm("dm-3", "cvm-config");
	CHECK_INT(halt_our_mappings(dir, names, HALT_MAX), 3);
	CHECK_STR(names[0], "cvm-boot");
	CHECK_STR(names[1], "cvm-config");
	CHECK_STR(names[2], "cvm-root");
	CHECK_INT(halt_our_mappings(dir, names, 1), 1);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
}

static void mounts_below(void)
{
	static const char mi[] =
		"21 1 0:20 / /proc rw,nosuid - proc proc rw\n"
		"30 1 254:0 / /sysroot rw,nodev - ext4 /dev/mapper/cvm-root rw\n"
		"31 30 254:1 / /sysroot/boot ro - ext4 /dev/mapper/cvm-boot ro\n"
		"32 1 0:30 / /sysroot2 rw - tmpfs tmpfs rw\n"
		"33 30 254:2 / /sysroot/opt/nvflare/my\\040jobs rw - ext4 /dev/mapper/cvm-jobs rw\n"
		"34 1 0:31 / /run rw - tmpfs tmpfs rw";
	char pts[HALT_MAX][HALT_NAME_MAX * 2];

	CHECK_INT(halt_mounts_below(mi, "/sysroot", pts, HALT_MAX), 3);
	CHECK_STR(pts[0], "/sysroot");
	CHECK_STR(pts[1], "/sysroot/boot");
	CHECK_STR(pts[2], "/sysroot/opt/nvflare/my jobs");
	CHECK_INT(halt_mounts_below(mi, "/sysroot/", pts, HALT_MAX), 3);
	CHECK_INT(halt_mounts_below(mi, "/mnt", pts, HALT_MAX), 0);
	CHECK_INT(halt_mounts_below("", "/sysroot", pts, HALT_MAX), 0);
	CHECK_INT(halt_mounts_below("garbage\n1 2\n", "/sysroot", pts, HALT_MAX), 0);
}

int main(void)
{
	TEST(our_mappings);
	TEST(mounts_below);
	return TH_END();
}
