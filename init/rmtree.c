#include "init/rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rmtree_samedev(int dirfd, dev_t dev, unsigned long *count)
{
	int dup_fd = dup(dirfd);
	DIR *d;
	struct dirent *de;
	int first_err = 0;

	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		int e = -errno;
		close(dup_fd);
		return e;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int r = 0;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
		} else if (st.st_dev != dev) {
			continue; /* a mount point: not ours to free */
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				r = -errno;
			} else {
				struct stat sst;
				/* Re-check after open: the directory must still be ours. */
				if (fstat(sub, &sst) == 0 && sst.st_dev == dev) {
					r = rmtree_samedev(sub, dev, count);
					close(sub);
					if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) == 0)
						(*count)++;
					else if (!r && errno != EBUSY)
						r = -errno;
				} else {
					close(sub);
				}
			}
		} else if (unlinkat(dirfd, de->d_name, 0) == 0) {
			(*count)++;
		} else {
			r = -errno;
		}
		if (r < 0 && !first_err)
			first_err = r;
	}
	closedir(d);
	return first_err;
}
