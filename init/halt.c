/* The fatal path's view of what this boot left behind. See init/halt.h. */
#include "init/halt.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUR_PREFIX "cvm-" /* every mapping the init creates: cvm-boot, cvm-root, ... */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

unsigned halt_our_mappings(const char *sysfs, char names[][HALT_NAME_MAX], unsigned max)
{
	char path[512];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/block", sysfs);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		char name[HALT_NAME_MAX];
		FILE *f;

		if (strncmp(e->d_name, "dm-", 3))
			continue;
		snprintf(path, sizeof(path), "%s/block/%s/dm/name", sysfs, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f)) {
			name[strcspn(name, "\n")] = '\0';
			if (!strncmp(name, OUR_PREFIX, strlen(OUR_PREFIX)))
				snprintf(names[n++], HALT_NAME_MAX, "%s", name);
		}
		fclose(f);
	}
	closedir(d);
	qsort(names, n, HALT_NAME_MAX, cmp_names);
	return n;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo. */
static void unescape(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		if (in[i] == '\\' && i + 3 < len && in[i + 1] >= '0' && in[i + 1] <= '3') {
			out[o++] = (char)((in[i + 1] - '0') << 6 | (in[i + 2] - '0') << 3 | (in[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

unsigned halt_mounts_below(const char *mountinfo, const char *dir, char points[][HALT_NAME_MAX * 2], unsigned max)
{
	size_t dl = strlen(dir);
	unsigned n = 0;

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	for (const char *line = mountinfo; line && *line && n < max;) {
		const char *end = strchr(line, '\n'), *p = line;
		size_t ll = end ? (size_t)(end - line) : strlen(line);

		/* fields: id parent major:minor root mountpoint ... */
		for (int field = 0; field < 4 && p; field++) {
			p = memchr(p, ' ', ll - (size_t)(p - line));
			if (p)
				p++;
		}
		if (p) {
			const char *q = memchr(p, ' ', ll - (size_t)(p - line));
			size_t ml = q ? (size_t)(q - p) : ll - (size_t)(p - line);
			char mp[HALT_NAME_MAX * 2];

			unescape(p, ml, mp, sizeof(mp));
			if (!strncmp(mp, dir, dl) && (mp[dl] == '\0' || mp[dl] == '/'))
				snprintf(points[n++], sizeof(points[0]), "%s", mp);
		}
		line = end ? end + 1 : NULL;
	}
	return n;
}
