#ifndef CVMINIT_PARTREF_H
#define CVMINIT_PARTREF_H

#include <stddef.h>

/* How the configuration names a partition: by GPT name or by GPT unique
 * partition GUID, never by /dev/vdX order. */
enum partref_kind { PREF_NONE, PREF_LABEL, PREF_UUID };

struct partref {
	enum partref_kind kind;
	char value[40]; /* label (ASCII, <= 36) or lower-case UUID */
};

int partref_parse(const char *s, struct partref *out, char *err, size_t errlen);
/* "PARTLABEL=x" / "PARTUUID=y" / "none" */
void partref_str(const struct partref *ref, char *buf, size_t len);

#endif
