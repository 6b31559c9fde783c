/* `cvminit report show|verify` (host tool): SEV-SNP reports, TDX quotes
 * and TDREPORTs. The parsing is tee/snp_report.c and tee/tdx_quote.c; this
 * folder holds the host-only parts (JSON output, mbedtls verification). */
#ifndef CVMINIT_TEE_HOST_REPORT_H
#define CVMINIT_TEE_HOST_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "host/commands.h"

/* Exit statuses of `cvminit report` beyond host/commands.h's EXIT_OK (0),
 * EXIT_FAIL (1: a file could not be read) and EXIT_USAGE (2). */
enum {
	EXIT_REPORT_MALFORMED = 3, /* input is not a well-formed report/quote/certificate */
	EXIT_REPORT_SIGNATURE = 4, /* a signature, certificate chain or binding does not hold */
	EXIT_REPORT_POLICY = 5,    /* policy (debug) or an --expect-* value does not match */
};

enum report_format {
	REPORT_FMT_UNKNOWN = 0,
	REPORT_FMT_SNP,
	REPORT_FMT_TDX_QUOTE,
	REPORT_FMT_TDREPORT,
};

/* UTC instant at which certificate validity is checked. */
struct report_time {
	int year, mon, day, hour, min, sec;
};

/* The owner's policy over a verified report (tee/host/report_policy.c):
 * what the report must show beyond its signature and measurements. */
struct report_policy {
	int allow_migration_agent; /* SNP POLICY.MIGRATE_MA */
	unsigned vmpl;             /* SNP: the VMPL the report must show (default 0) */
	int require_no_smt;        /* SNP POLICY.SMT must be clear */
	int require_single_socket; /* SNP POLICY.SINGLE_SOCKET must be set */
	unsigned min_report_version;
	int has_min_tcb;
	int min_tcb_has_fmc;
	uint8_t min_bl, min_tee, min_snp, min_ucode, min_fmc;
	int td_attributes_set;        /* else the default allowed mask */
	uint64_t td_attributes_allowed; /* TDX bits that may be set (DEBUG has --allow-debug) */
	int has_xfam;
	uint8_t xfam[8];
	int has_min_tee_tcb_svn;
	uint8_t min_tee_tcb_svn[16];
};

/* Expected values beyond MEASUREMENT/MRTD and the RTMRs, each given as its
 * --expect-NAME flag or by measurements.json (tee/host/measurements.c). */
enum report_extra {
	EXP_HOST_DATA,
	EXP_ID_KEY_DIGEST,
	EXP_AUTHOR_KEY_DIGEST,
	EXP_FAMILY_ID,
	EXP_IMAGE_ID,
	EXP_MRCONFIGID,
	EXP_MROWNER,
	EXP__COUNT,
};
struct report_extra_def {
	const char *flag;  /* --expect-host-data */
	const char *json;  /* host_data, member of the "snp" or "tdx" object */
	const char *field; /* HOST_DATA, as the report names it */
	unsigned len;      /* bytes */
	int tdx;           /* a TDX field (else SEV-SNP) */
};
extern const struct report_extra_def report_extra_defs[EXP__COUNT];

struct verify_opts {
	const char *file;
	const char *vcek;  /* SNP: VCEK/VLEK certificate, DER or PEM */
	const char *chain; /* SNP: ASK (or ASVK) + ARK, PEM */
	const char *root;  /* ARK (SNP) or Intel SGX Root CA (TDX), DER or PEM */
	int has_measurement, has_report_data;
	int has_rtmr[4];   /* TDX only */
	uint8_t measurement[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	int has_extra[EXP__COUNT];
	uint8_t extra[EXP__COUNT][48];
	int allow_debug;
	struct report_policy pol;
	int quiet;
	struct report_time at;
};

/* The current UTC time, for certificate validity checks. */
void report_time_now(struct report_time *t);

enum report_format report_detect(const uint8_t *buf, size_t len);
const char *report_format_name(enum report_format f);

/* Reads a whole file ("-": stdin). Returns 0, or -1 after printing why. */
int report_read_file(const char *path, uint8_t **buf, size_t *len);

/* JSON on stdout; return an exit status. */
int report_show(enum report_format f, const uint8_t *buf, size_t len, const char *name);

/* Fail closed: the expectations that identify the software must be given.
 * SNP: MEASUREMENT; TDX: MRTD (the firmware) and RTMR1/RTMR2 (the kernel,
 * command line and initrd under measured direct boot). 0 when they are,
 * else prints what is missing, prefixed by who, and returns EXIT_USAGE. */
int report_require_expectations(enum report_format f, const struct verify_opts *o, const char *who);

/* Policy options shared by `report verify` and `key wrap`: returns 0 when opt
 * is not one, 1 when it is a flag, 2 when it took val, -1 after printing why
 * val is bad (prefixed by who). */
int report_policy_parse(struct verify_opts *o, const char *opt, const char *val, const char *who);
/* The usage lines of those options. */
extern const char report_policy_usage[];

/* --expect-host-data and the other report_extra_defs flags, same return
 * convention as report_policy_parse. */
int report_extra_parse(struct verify_opts *o, const char *opt, const char *val, const char *who);
extern const char report_extra_usage[];

/* --measurements FILE (tee/host/measurements.c): the expected values for a
 * report of format f from a cvminit-measurements document, merged into o.
 * A value also given as a flag must be the same. EXIT_OK; EXIT_FAIL when
 * the file cannot be read; EXIT_USAGE after one line (prefixed by who) for
 * a malformed or unknown document or a conflict with a flag. */
int report_measurements_apply(const char *path, enum report_format f, struct verify_opts *o, const char *who);

/* Return an exit status; print one line per check (unless quiet) and one
 * line on stderr for the failure. */
int report_verify(enum report_format f, const uint8_t *buf, size_t len, const struct verify_opts *o);

/* Hex helpers shared by show and verify. */
void report_hex(char *out, const uint8_t *p, size_t n); /* out: 2n+1 bytes */

#endif
