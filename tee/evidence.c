#include "tee/evidence.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Values never need JSON escaping: only hex digits, '-' and "none". */
static int plain(const char *v)
{
	if (!strcmp(v, "none"))
		return 1;
	for (const char *p = v; *p; p++)
		if (!(isdigit((unsigned char)*p) || (*p >= 'a' && *p <= 'f') || *p == '-'))
			return 0;
	return 1;
}

int evidence_build(const struct evidence_inputs *in, char *buf, size_t len)
{
	const char *vals[] = { in->boot_roothash,  in->config_roothash, in->data_roothash,   in->root_luks_uuid,
			       in->jobs_luks_uuid, in->config_sha256,   in->eventlog_sha256, in->nonce };

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		if (!vals[i] || !plain(vals[i]))
			return -EINVAL;
	int n = snprintf(buf, len,
			 "{\"format\":\"" EVIDENCE_FORMAT "\",\"verity\":{\"boot\":\"%s\",\"config\":\"%s\",\"data\":\"%s\"},"
			 "\"luks\":{\"root\":\"%s\",\"jobs\":\"%s\"},\"config_sha256\":\"%s\",\"eventlog_sha256\":\"%s\","
			 "\"nonce\":\"%s\"}",
			 in->boot_roothash, in->config_roothash, in->data_roothash, in->root_luks_uuid, in->jobs_luks_uuid,
			 in->config_sha256, in->eventlog_sha256, in->nonce);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}
