#ifndef CVMINIT_EVENTLOG_H
#define CVMINIT_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/tpm2_util.h"

/* The measurement log in systemd's userspace format (the one of
 * /run/log/systemd/tpm2-measure.log): JSON-SEQ (RFC 7464) records, each
 * 0x1E, one CEL-JSON-like object, "\n":
 *   {"pcr":15,"digests":[{"hashAlg":"sha256","digest":"<hex>"},...],
 *    "content_type":"systemd","content":{"string":"<event>","eventType":"<type>"}}
 * One digest per active bank, each the hash of the event string's bytes
 * (no NUL, no newline), exactly what was extended. Pure (json-c, mbedtls). */

#define EVENTLOG_DIR "/run/log/cvminit"
#define EVENTLOG_PATH EVENTLOG_DIR "/tpm2-measure.log"
#define EVENTLOG_RECORD_MAX 2048

/* One record into out: its length, -ENOSPC, or -EINVAL (no digests, an
 * unknown bank, no string). */
int eventlog_format(unsigned pcr, const struct tpm2_digests *d, const char *string, const char *event_type, char *out,
		    size_t outlen);

/* Appends one record with a single write() under flock(), creating the file
 * (mode 0600, O_NOFOLLOW) and its directory (0755) when missing.
 * 0 or -errno. */
int eventlog_append(const char *path, unsigned pcr, const struct tpm2_digests *d, const char *string,
		    const char *event_type);

/* Replays a whole log for one PCR and bank, from all zeros: value gets the
 * bank's digest size, *events the number of records for that PCR.
 * Records for other PCRs are skipped. A record of cvminit (string
 * "cvminit:...") whose digest is not the hash of its string, a record without
 * a digest for the bank, bad JSON, bytes outside records or a truncated
 * record: -EBADMSG with err naming the record (1-based). Unknown bank: -EINVAL. */
int eventlog_replay(const char *log, size_t len, unsigned pcr, uint16_t bank, uint8_t *value, unsigned *events,
		    char *err, size_t errlen);

#endif
