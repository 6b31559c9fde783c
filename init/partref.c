#include "init/partref.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int partref_parse(const char *s, struct partref *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(s, "none")) {
		out->kind = PREF_NONE;
		return 0;
	}
	if (!strncmp(s, "PARTLABEL=", 10)) {
		const char *v = s + 10;
		size_t n = strlen(v);
		if (n == 0 || n > 36) {
			snprintf(err, errlen, "partition label must have 1 to 36 characters");
			return -EINVAL;
		}
		for (const char *p = v; *p; p++) {
			if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) {
				snprintf(err, errlen, "partition label '%s': only A-Z a-z 0-9 . _ - allowed", v);
				return -EINVAL;
			}
		}
		out->kind = PREF_LABEL;
		memcpy(out->value, v, n + 1);
		return 0;
	}
	if (!strncmp(s, "PARTUUID=", 9)) {
		const char *v = s + 9;
		if (strlen(v) != 36)
			goto bad_uuid;
		for (int i = 0; i < 36; i++) {
			int dash = i == 8 || i == 13 || i == 18 || i == 23;
			if (dash ? v[i] != '-' : !isxdigit((unsigned char)v[i]))
				goto bad_uuid;
			out->value[i] = (char)tolower((unsigned char)v[i]);
		}
		out->value[36] = '\0';
		out->kind = PREF_UUID;
		return 0;
bad_uuid:
		snprintf(err, errlen, "'%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", v);
		return -EINVAL;
	}
	snprintf(err, errlen, "'%s': expected PARTLABEL=<name>, PARTUUID=<uuid> or none", s);
	return -EINVAL;
}

void partref_str(const struct partref *ref, char *buf, size_t len)
{
	switch (ref->kind) {
	case PREF_LABEL:
		snprintf(buf, len, "PARTLABEL=%s", ref->value);
		break;
	case PREF_UUID:
		snprintf(buf, len, "PARTUUID=%s", ref->value);
		break;
	default:
		snprintf(buf, len, "none");
	}
}
