#ifndef CVMINIT_MOUNTOPTS_H
#define CVMINIT_MOUNTOPTS_H

#include <stddef.h>

/* Translates "ro,nosuid,nodev,size=10%" into mount(2) flags and the
 * file-system data string. Unknown bare words are errors (a typo must not
 * silently weaken a mount); key=value words go to the data string. */
struct mount_opts {
	unsigned long flags;
	char data[256];
};

int mountopts_parse(const char *opts, struct mount_opts *out, char *err, size_t errlen);
/* Renders flags back as words in a fixed order (for logs and tests). */
void mountopts_flags_str(unsigned long flags, char *buf, size_t len);

#endif
