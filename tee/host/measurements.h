/* The reader of measurements.json (`cvminit measure`'s document, schema in
 * crypto/MEASUREMENTS.md) for `key wrap` and `report verify --measurements`:
 * the expected values it holds, per TEE. Host tool only (json-c). */
#ifndef CVMINIT_TEE_HOST_MEASUREMENTS_H
#define CVMINIT_TEE_HOST_MEASUREMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "tee/host/report.h"

#define MEASUREMENTS_FORMAT "cvminit-measurements/1"
#define MEASUREMENTS_MAX (1u << 20) /* the document is a few KiB; the event log dominates */

/* What a report of one TEE must show, as far as the document says. */
struct expect_set {
	int present;                /* the document has this TEE's object */
	int has_measurement;        /* SNP MEASUREMENT, TDX MRTD */
	uint8_t measurement[48];
	int has_rtmr[3];            /* TDX RTMR0..2 */
	uint8_t rtmr[3][48];
	int has_extra[EXP__COUNT];  /* report_extra_defs of this TEE */
	uint8_t extra[EXP__COUNT][48];
};

struct measurements {
	int mock; /* a test build's document with TEE=mock: the sets are the mock TEE's */
	struct expect_set snp, tdx;
};

/* Parses text[0, len) (not NUL-terminated). 0, or -EINVAL with a one-line
 * reason in err (unknown format, malformed JSON, a member of the wrong type
 * or length). Unknown members are ignored (later minor additions). */
int measurements_parse(const char *text, size_t len, struct measurements *m, char *err, size_t errlen);

#endif
