#ifndef CVMINIT_RMTREE_H
#define CVMINIT_RMTREE_H

#include <sys/types.h>

/* Removes everything below the directory dirfd that lives on device dev.
 * Never follows symlinks and never descends into another file system (the
 * new root is mounted inside the initramfs). Directories on other devices
 * are left alone. Adds removed entries to *count. 0 or -errno (first error;
 * the walk still continues so that as much as possible is freed). */
int rmtree_samedev(int dirfd, dev_t dev, unsigned long *count);

#endif
