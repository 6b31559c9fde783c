#ifndef CVMINIT_TEE_EVIDENCE_H
#define CVMINIT_TEE_EVIDENCE_H

#include <stddef.h>

/* The canonical evidence document: what the report's REPORT_DATA binds
 * (REPORT_DATA = SHA-512 of exactly these bytes). Fixed key order, no
 * whitespace, every value a lower-case hex string, a UUID, or "none": a
 * verifier recomputes the hash from evidence.json byte for byte. */
struct evidence_inputs {
	const char *boot_roothash;   /* 64 hex, or "none" */
	const char *config_roothash; /* 64 hex, or "none" */
	const char *data_roothash;   /* 64 hex, or "none" (p6) */
	const char *root_luks_uuid;  /* UUID, or "none" */
	const char *jobs_luks_uuid;  /* UUID, or "none" */
	const char *config_sha256;   /* 64 hex */
	const char *eventlog_sha256; /* 64 hex, or "none" */
	const char *nonce;           /* hex, or "" */
};

#define EVIDENCE_FORMAT "cvminit-evidence/1"

/* Returns the length written (no NUL counted), -EINVAL when a value is not
 * of the allowed alphabet, -ENOSPC when buf is too small. */
int evidence_build(const struct evidence_inputs *in, char *buf, size_t len);

#endif
