/* Freeing the initramfs: removes files, directories and symlinks (never
 * their targets), and leaves other devices' mount points alone. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/rmtree.h"
#include "tests/harness.h"

TH_DEFINE("rmtree");

static char root[128], outside[128];

static void mk(const char *rel, int dir)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (dir)
		mkdir(p, 0755);
	else
		close(open(p, O_WRONLY | O_CREAT, 0644));
}

static void removes_tree_not_symlink_targets(void)
{
	char p[300];
	unsigned long count = 0;
	struct stat st;
	strcpy(root, "/tmp/cvminit-rm-XXXXXX");
	strcpy(outside, "/tmp/cvminit-keep-XXXXXX");
	CHECK(mkdtemp(root) && mkdtemp(outside));
	mk("init", 0);
	mk("etc", 1);
	mk("etc/cvminit", 1);
	mk("etc/cvminit/cvminit.conf", 0);
	mk("lib", 1);
	snprintf(p, sizeof(p), "%s/kept", outside);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	char l[300];
	snprintf(l, sizeof(l), "%s/lib/escape", root);
	CHECK(symlink(outside, l) == 0);
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	fstat(fd, &st);
	CHECK_INT(rmtree_samedev(fd, st.st_dev, &count), 0);
	close(fd);
	CHECK_INT(count, 6);
	CHECK(rmdir(root) == 0); /* empty now */
	CHECK(access(p, F_OK) == 0); /* the symlink's target survived */
	unlink(p);
	rmdir(outside);
}

static void other_device_is_skipped(void)
{
	unsigned long count = 0;
	strcpy(root, "/tmp/cvminit-rm-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	mk("a", 0);
	mk("d", 1);
	mk("d/b", 0);
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	/* Pretend the tree is on another device: nothing may be removed. */
	CHECK_INT(rmtree_samedev(fd, (dev_t)-1, &count), 0);
	CHECK_INT(count, 0);
	close(fd);
	char p[300];
	snprintf(p, sizeof(p), "%s/d/b", root);
	CHECK(access(p, F_OK) == 0);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	CHECK(system(p) == 0);
}

int main(void)
{
	TEST(removes_tree_not_symlink_targets);
	TEST(other_device_is_skipped);
	return TH_END();
}
