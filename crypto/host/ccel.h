/* The confidential-computing event log (CCEL: the ACPI CCEL table's log
 * area, UEFI 2.10 section 38.4, TCG2 "crypto agile" format) of a TDX guest,
 * parsed and replayed: what the firmware and the boot loader extended into
 * RTMR0..3. Pure: bytes in, registers and events out. */
#ifndef CVMINIT_CRYPTO_HOST_CCEL_H
#define CVMINIT_CRYPTO_HOST_CCEL_H

#include <stddef.h>
#include <stdint.h>

#define CCEL_MR_SIZE 48 /* SHA-384 */
#define CCEL_RTMRS 4

/* One event as the log records it. mr_index is the CC MR index (1..4 are
 * RTMR0..3; 0, MRTD, is never extended at run time). */
struct ccel_event {
	uint32_t mr_index, type;
	uint8_t digest[CCEL_MR_SIZE]; /* the SHA-384 digest of the event */
	const uint8_t *data;          /* the event data, inside the log */
	uint32_t data_size;
};

/* Called for each event after the Spec ID header; non-zero stops the walk
 * and is returned. */
typedef int (*ccel_fn)(const struct ccel_event *e, void *ctx);

/* Replays log[0..len): RTMR0..3 from zeros. The log starts with the
 * TCG_PCR_EVENT "Spec ID Event03" header (which must list SHA-384) and ends
 * at the first event of type 0xFFFFFFFF or all-zero header (the unused
 * area), or at len. *events counts the events replayed. 0, the callback's
 * value, or -EBADMSG with *why and *at (the offending event's offset). */
int ccel_replay(const uint8_t *log, size_t len, uint8_t rtmr[CCEL_RTMRS][CCEL_MR_SIZE], unsigned *events, ccel_fn fn,
		void *ctx, const char **why, size_t *at);

/* The name of a TCG event type ("EV_SEPARATOR", ...), NULL if unknown. */
const char *ccel_event_type_name(uint32_t type);

#endif
