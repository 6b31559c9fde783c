#include "init/mountopts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

struct flag_word {
	const char *word;
	unsigned long set;
	unsigned long clear;
};

static const struct flag_word flag_words[] = {
	{ "ro", MS_RDONLY, 0 },
	{ "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },
	{ "nodev", MS_NODEV, 0 },
	{ "noexec", MS_NOEXEC, 0 },
	{ "sync", MS_SYNCHRONOUS, 0 },
	{ "dirsync", MS_DIRSYNC, 0 },
	{ "noatime", MS_NOATIME, 0 },
	{ "nodiratime", MS_NODIRATIME, 0 },
	{ "relatime", MS_RELATIME, 0 },
	{ "strictatime", MS_STRICTATIME, 0 },
	{ "lazytime", MS_LAZYTIME, 0 },
};

/* Bare words that are file-system options, passed through as data. */
static const char *const data_words[] = {
	"noload", "norecovery", "discard", "nodiscard", "acl", "noacl", "user_xattr", "nouser_xattr",
};

int mountopts_parse(const char *opts, struct mount_opts *out, char *err, size_t errlen)
{
	char word[128];
	size_t dlen = 0;
	const char *p = opts;

	memset(out, 0, sizeof(*out));
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int known = 0;

		if (n == 0 || n >= sizeof(word)) {
			snprintf(err, errlen, n ? "mount option too long" : "empty mount option in '%s'", opts);
			return -EINVAL;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++) {
			if (!strcmp(word, flag_words[i].word)) {
				out->flags = (out->flags & ~flag_words[i].clear) | flag_words[i].set;
				if (flag_words[i].clear)
					out->flags &= ~flag_words[i].clear;
				known = 1;
				break;
			}
		}
		if (!known) {
			int is_data = strchr(word, '=') != NULL && word[0] != '=';
			for (size_t i = 0; !is_data && i < sizeof(data_words) / sizeof(data_words[0]); i++)
				is_data = !strcmp(word, data_words[i]);
			if (!is_data) {
				snprintf(err, errlen, "unknown mount option '%s'", word);
				return -EINVAL;
			}
			for (const char *c = word; *c; c++) {
				if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\'') {
					snprintf(err, errlen, "bad character in mount option '%s'", word);
					return -EINVAL;
				}
			}
			if (dlen + n + 2 > sizeof(out->data)) {
				snprintf(err, errlen, "mount options too long");
				return -EINVAL;
			}
			if (dlen)
				out->data[dlen++] = ',';
			memcpy(out->data + dlen, word, n + 1);
			dlen += n;
		}
		p += n;
		if (*p == ',') {
			p++;
			if (!*p) {
				snprintf(err, errlen, "empty mount option in '%s'", opts);
				return -EINVAL;
			}
		}
	}
	return 0;
}

void mountopts_flags_str(unsigned long flags, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	used += (size_t)snprintf(buf, len, "%s", flags & MS_RDONLY ? "ro" : "rw");
	for (size_t i = 2; i < sizeof(flag_words) / sizeof(flag_words[0]) && used < len; i++)
		if (flags & flag_words[i].set)
			used += (size_t)snprintf(buf + used, len - used, ",%s", flag_words[i].word);
}
