/* `cvminit report show|verify`: argument handling, input files, format
 * detection. See tee/README.md for the commands and exit codes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tee/host/report.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"

#define REPORT_MAX_FILE (16u << 20)

static const char usage_text[] =
	"usage: cvminit report show FILE [--format snp|tdx-quote|tdreport]\n"
	"       cvminit report verify FILE [--format F] [--vcek CERT] [--chain PEM] [--root CERT]\n"
	"                             (--measurements FILE | --expect-measurement HEX [--expect-rtmrN HEX]...\n"
	"                              | --no-expectations) [--expect-NAME HEX]...\n"
	"                             [--expect-report-data HEX]\n"
	"                             [--allow-debug] [--time YYYY-MM-DD[THH:MM:SSZ]] [-q]\n"
	"\n"
	"show     print every field of an SEV-SNP report (v2-v5), a TDX quote (v4, v5) or a\n"
	"         TDREPORT as JSON (the format is detected unless --format is given)\n"
	"verify   check the signatures and certificate chains, the debug policy and the expected\n"
	"         values. SNP: --vcek (VCEK or VLEK, DER or PEM) and --chain (ASK or ASVK + ARK,\n"
	"         PEM; extra certificates are ignored) are required. TDX quote: the PCK chain comes\n"
	"         from the quote. The chain must end in a built-in root (AMD ARK-Milan, ARK-Genoa,\n"
	"         ARK-Turin; Intel SGX Root CA) unless --root names another one.\n"
	"         --measurements: the expected values from cvminit measure's measurements.json\n"
	"         --expect-measurement: SNP MEASUREMENT or TDX MRTD (48 bytes, hex); required\n"
	"         (unless --measurements holds it)\n"
	"         --expect-rtmr0..3: TDX RTMRs (48 bytes, hex); RTMR1 and RTMR2 are required\n"
	"         --no-expectations: check signatures and policy only (inspection, never trust)\n"
	"         --expect-report-data: REPORT_DATA (64 bytes, hex)\n"
	"         (policy options below)\n"
	"         --time: check certificate validity at this UTC instant instead of now\n"
	"\n"
	"exit status: 0 ok, 1 a file cannot be read, 2 usage, 3 malformed input,\n"
	"             4 bad signature, certificate chain or binding, 5 policy or expectation mismatch\n";

static int usage(FILE *f, int rc)
{
	fputs(usage_text, f);
	fputs(report_policy_usage, f);
	fputs(report_extra_usage, f);
	return rc;
}

const char *report_format_name(enum report_format f)
{
	switch (f) {
	case REPORT_FMT_SNP: return "snp";
	case REPORT_FMT_TDX_QUOTE: return "tdx-quote";
	case REPORT_FMT_TDREPORT: return "tdreport";
	default: return "unknown";
	}
}

static enum report_format parse_format(const char *s)
{
	if (!strcmp(s, "snp"))
		return REPORT_FMT_SNP;
	if (!strcmp(s, "tdx-quote") || !strcmp(s, "tdx"))
		return REPORT_FMT_TDX_QUOTE;
	if (!strcmp(s, "tdreport"))
		return REPORT_FMT_TDREPORT;
	return REPORT_FMT_UNKNOWN;
}

/* The three formats differ in their first bytes: a TDX quote starts with
 * u16 version 4/5, u16 key type, u32 TEE type 0x81; a TDREPORT with
 * REPORTTYPE 0x81, subtype 0; an SNP report with u32 version 2-5. */
enum report_format report_detect(const uint8_t *buf, size_t len)
{
	if (len >= 8) {
		unsigned v = buf[0] | (buf[1] << 8);
		uint32_t tee = (uint32_t)buf[4] | ((uint32_t)buf[5] << 8) | ((uint32_t)buf[6] << 16) |
			       ((uint32_t)buf[7] << 24);
		if ((v == 4 || v == 5) && tee == TDX_TEE_TYPE_TDX)
			return REPORT_FMT_TDX_QUOTE;
	}
	if (len >= 2 && buf[0] == TDX_TEE_TYPE_TDX && buf[1] == 0)
		return REPORT_FMT_TDREPORT;
	if (len >= 4) {
		uint32_t v = (uint32_t)buf[0] | ((uint32_t)buf[1] << 8) | ((uint32_t)buf[2] << 16) |
			     ((uint32_t)buf[3] << 24);
		if (v >= SNP_REPORT_MIN_VERSION && v <= SNP_REPORT_MAX_VERSION)
			return REPORT_FMT_SNP;
	}
	return REPORT_FMT_UNKNOWN;
}

int report_read_file(const char *path, uint8_t **out, size_t *outlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "cvminit report: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= REPORT_MAX_FILE) {
				fprintf(stderr, "cvminit report: %s is larger than %u bytes\n", path,
					REPORT_MAX_FILE);
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			uint8_t *n = realloc(buf, cap + 1);
			if (!n) {
				fprintf(stderr, "cvminit report: out of memory reading %s\n", path);
				goto fail;
			}
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				fprintf(stderr, "cvminit report: cannot read %s: %s\n", path, strerror(errno));
				goto fail;
			}
			break;
		}
	}
	if (!buf && !(buf = malloc(1)))
		goto fail;
	buf[len] = '\0'; /* PEM parsers want a terminated string; not counted */
	if (f != stdin)
		fclose(f);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return -1;
}

void report_hex(char *out, const uint8_t *p, size_t n)
{
	static const char hexdigits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[p[i] >> 4];
		out[2 * i + 1] = hexdigits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly n bytes of hex (an optional 0x prefix is accepted). */
static int parse_hex_exact(const char *opt, const char *s, uint8_t *out, size_t n)
{
	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	size_t l = strlen(s);
	if (l != 2 * n) {
		fprintf(stderr, "cvminit report: %s needs %zu bytes (%zu hex digits), got %zu characters\n", opt,
			n, 2 * n, l);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int hi = unhex_digit(s[2 * i]), lo = unhex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "cvminit report: %s is not hex: '%s'\n", opt, s);
			return -1;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* n decimal digits at s into *v; returns the end or NULL. */
static const char *digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return NULL;
		*v = *v * 10 + (s[i] - '0');
	}
	return s + n;
}

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC). */
static int parse_time(const char *s, struct report_time *t)
{
	memset(t, 0, sizeof(*t));
	if (!(s = digits(s, 4, &t->year)) || *s++ != '-' || !(s = digits(s, 2, &t->mon)) || *s++ != '-' ||
	    !(s = digits(s, 2, &t->day)))
		return -1;
	if (*s == 'T') {
		s++;
		if (!(s = digits(s, 2, &t->hour)) || *s++ != ':' || !(s = digits(s, 2, &t->min)) || *s++ != ':' ||
		    !(s = digits(s, 2, &t->sec)) || *s++ != 'Z')
			return -1;
	}
	if (*s)
		return -1;
	if (t->year < 1950 || t->mon < 1 || t->mon > 12 || t->day < 1 || t->day > 31 || t->hour > 23 ||
	    t->min > 59 || t->sec > 60)
		return -1;
	return 0;
}

void report_time_now(struct report_time *t)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	t->year = tm.tm_year + 1900;
	t->mon = tm.tm_mon + 1;
	t->day = tm.tm_mday;
	t->hour = tm.tm_hour;
	t->min = tm.tm_min;
	t->sec = tm.tm_sec;
}

static int load_input(const char *file, enum report_format forced, uint8_t **buf, size_t *len,
		      enum report_format *f)
{
	if (report_read_file(file, buf, len))
		return EXIT_FAIL;
	*f = forced ? forced : report_detect(*buf, *len);
	if (*f == REPORT_FMT_UNKNOWN) {
		fprintf(stderr,
			"cvminit report: %s: malformed: not an SEV-SNP report (version 2-5), a TDX quote (version 4/5, TEE type 0x81) or a TDREPORT (%zu bytes)\n",
			file, *len);
		free(*buf);
		*buf = NULL;
		return EXIT_REPORT_MALFORMED;
	}
	return EXIT_OK;
}

/* Options shared by show and verify. Returns -1 on a usage error. */
static int need_arg(int i, int argc, char **argv)
{
	if (i + 1 >= argc) {
		fprintf(stderr, "cvminit report: %s needs a value\n", argv[i]);
		return -1;
	}
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	const char *file = NULL;
	enum report_format forced = REPORT_FMT_UNKNOWN;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout, EXIT_OK);
		if (!strcmp(argv[i], "--format")) {
			if (need_arg(i, argc, argv))
				return usage(stderr, EXIT_USAGE);
			if (!(forced = parse_format(argv[++i]))) {
				fprintf(stderr, "cvminit report: unknown format '%s' (snp, tdx-quote, tdreport)\n",
					argv[i]);
				return EXIT_USAGE;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "cvminit report show: unknown option '%s'\n", argv[i]);
			return usage(stderr, EXIT_USAGE);
		} else if (!file) {
			file = argv[i];
		} else {
			fprintf(stderr, "cvminit report show: one FILE only\n");
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (!file)
		return usage(stderr, EXIT_USAGE);

	uint8_t *buf = NULL;
	size_t len = 0;
	enum report_format f;
	int rc = load_input(file, forced, &buf, &len, &f);
	if (rc)
		return rc;
	rc = report_show(f, buf, len, file);
	free(buf);
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	struct verify_opts o;
	enum report_format forced = REPORT_FMT_UNKNOWN;
	int have_time = 0, no_expectations = 0;
	const char *measurements = NULL;

	memset(&o, 0, sizeof(o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return usage(stdout, EXIT_OK);
		int pr = report_policy_parse(&o, a, i + 1 < argc ? argv[i + 1] : NULL, "cvminit report verify");
		if (pr == 0)
			pr = report_extra_parse(&o, a, i + 1 < argc ? argv[i + 1] : NULL, "cvminit report verify");
		if (pr < 0)
			return EXIT_USAGE;
		if (pr > 0) {
			i += pr - 1;
		} else if (!strcmp(a, "--measurements")) {
			if (need_arg(i, argc, argv))
				return usage(stderr, EXIT_USAGE);
			measurements = argv[++i];
		} else if (!strcmp(a, "--no-expectations")) {
			no_expectations = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o.quiet = 1;
		} else if (!strcmp(a, "--format") || !strcmp(a, "--vcek") || !strcmp(a, "--chain") ||
			   !strcmp(a, "--root") || !strcmp(a, "--expect-measurement") ||
			   !strcmp(a, "--expect-report-data") || !strcmp(a, "--time") ||
			   (!strncmp(a, "--expect-rtmr", 13) && a[13] >= '0' && a[13] <= '3' && !a[14])) {
			if (need_arg(i, argc, argv))
				return usage(stderr, EXIT_USAGE);
			const char *v = argv[++i];
			if (!strcmp(a, "--format")) {
				if (!(forced = parse_format(v))) {
					fprintf(stderr,
						"cvminit report: unknown format '%s' (snp, tdx-quote, tdreport)\n", v);
					return EXIT_USAGE;
				}
			} else if (!strcmp(a, "--vcek")) {
				o.vcek = v;
			} else if (!strcmp(a, "--chain")) {
				o.chain = v;
			} else if (!strcmp(a, "--root")) {
				o.root = v;
			} else if (!strcmp(a, "--expect-measurement")) {
				if (parse_hex_exact(a, v, o.measurement, sizeof(o.measurement)))
					return EXIT_USAGE;
				o.has_measurement = 1;
			} else if (!strncmp(a, "--expect-rtmr", 13)) {
				int n = a[13] - '0';
				if (parse_hex_exact(a, v, o.rtmr[n], sizeof(o.rtmr[n])))
					return EXIT_USAGE;
				o.has_rtmr[n] = 1;
			} else if (!strcmp(a, "--expect-report-data")) {
				if (parse_hex_exact(a, v, o.report_data, sizeof(o.report_data)))
					return EXIT_USAGE;
				o.has_report_data = 1;
			} else {
				if (parse_time(v, &o.at)) {
					fprintf(stderr,
						"cvminit report: --time wants YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), got '%s'\n",
						v);
					return EXIT_USAGE;
				}
				have_time = 1;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "cvminit report verify: unknown option '%s'\n", a);
			return usage(stderr, EXIT_USAGE);
		} else if (!o.file) {
			o.file = a;
		} else {
			fprintf(stderr, "cvminit report verify: one FILE only\n");
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (!o.file)
		return usage(stderr, EXIT_USAGE);
	if (!have_time)
		report_time_now(&o.at);

	uint8_t *buf = NULL;
	size_t len = 0;
	enum report_format f;
	int rc = load_input(o.file, forced, &buf, &len, &f);
	if (rc)
		return rc;
	int has_rtmr = o.has_rtmr[0] | o.has_rtmr[1] | o.has_rtmr[2] | o.has_rtmr[3];
	if (no_expectations && measurements) {
		fprintf(stderr, "cvminit report verify: --no-expectations contradicts --measurements\n");
		rc = EXIT_USAGE;
	} else if (f == REPORT_FMT_SNP && has_rtmr) {
		fprintf(stderr, "cvminit report verify: --expect-rtmrN is for TDX; this is an SEV-SNP report\n");
		rc = EXIT_USAGE;
	} else if (measurements && (rc = report_measurements_apply(measurements, f, &o, "cvminit report verify"))) {
		/* report_measurements_apply said why */
	} else if (!no_expectations && report_require_expectations(f, &o, "cvminit report verify")) {
		fprintf(stderr, "cvminit report verify: (--no-expectations checks signatures and policy only, for "
				"inspection)\n");
		rc = EXIT_USAGE;
	} else if (no_expectations && (o.has_measurement || has_rtmr)) {
		fprintf(stderr, "cvminit report verify: --no-expectations contradicts --expect-measurement/--expect-rtmrN\n");
		rc = EXIT_USAGE;
	} else if (f == REPORT_FMT_SNP && (!o.vcek || !o.chain)) {
		fprintf(stderr, "cvminit report verify: an SEV-SNP report needs --vcek CERT and --chain PEM\n");
		rc = EXIT_USAGE;
	} else if (f != REPORT_FMT_SNP && (o.vcek || o.chain)) {
		fprintf(stderr, "cvminit report verify: --vcek and --chain are for SEV-SNP reports; this is a %s\n",
			report_format_name(f));
		rc = EXIT_USAGE;
	} else {
		rc = report_verify(f, buf, len, &o);
	}
	free(buf);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, EXIT_USAGE);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return usage(stdout, EXIT_OK);
	if (!strcmp(argv[1], "show"))
		return cmd_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	fprintf(stderr, "cvminit report: unknown subcommand '%s'\n", argv[1]);
	return usage(stderr, EXIT_USAGE);
}
