/* `cvminit measure tdx`: MRTD, RTMR1 and RTMR2 of a TDX guest started by
 * QEMU from a TDVF build with measured direct boot, as one JSON object
 * (tdx_launch.h says what is modelled). `cvminit measure tdx-replay`: the
 * RTMRs a CCEL event log replays to. Any error is one line on stderr and
 * nothing on stdout. Firmware and kernel are mapped, the initrd hashed as it
 * is read: nothing is copied whole. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/hash.h"
#include "crypto/host/ccel.h"
#include "crypto/host/launch_file.h"
#include "crypto/host/pe_authenticode.h"
#include "crypto/host/tdx_launch.h"
#include "host/commands.h"

#define P "cvminit measure tdx: "
#define PR "cvminit measure tdx-replay: "
#define EXIT_FIRMWARE 3       /* the firmware (or event log) cannot be measured */
#define EXIT_KERNEL 4         /* the kernel is not a PE image */
#define OVMF_MAX (64u << 20)  /* far above any OVMF (4 MiB) */
#define KERNEL_MAX (1u << 30) /* far above any kernel */
#define CCEL_MAX (64u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvminit measure tdx --ovmf FILE [--kernel FILE [--initrd FILE] [--append CMDLINE]]\n"
		"           [--two-pass-add-pages] [--event-log]\n"
		"       cvminit measure tdx --kernel FILE --authenticode sha256|sha384\n"
		"       cvminit measure tdx-replay --ccel FILE [--event-log]\n"
		"\n"
		"Prints {\"mrtd\":HEX,\"rtmr1\":HEX,\"rtmr2\":HEX} for a TDX guest started by QEMU/KVM from\n"
		"--ovmf (a TDVF build: OVMF IntelTdx, e.g. Debian's OVMF.inteltdx.fd) with measured direct\n"
		"boot of --kernel (-kernel/-initrd/-append). MRTD covers the firmware's TDX metadata\n"
		"sections; RTMR1 the kernel's Authenticode digest and the firmware's boot events;\n"
		"RTMR2 the command line and the initrd as the kernel's EFI stub measures them (Linux 6.10\n"
		"or later; an older stub measures nothing there). Without --kernel only MRTD is printed.\n"
		"RTMR0 (TD HOB, ACPI tables, variables: the whole VM configuration) is never printed.\n"
		"MRTD follows upstream KVM, which adds and measures the firmware page by page;\n"
		"--two-pass-add-pages: all of a section's pages first, as the earlier out-of-tree\n"
		"TDX KVM/QEMU did. Assumed: no PCI option ROMs and no shim (-shim).\n"
		"--event-log adds \"events\": each\n"
		"predicted event (rtmr, type, digest, description) in extend order.\n"
		"--authenticode prints the kernel's PE Authenticode digest alone (e.g. to compare\n"
		"with its signature).\n"
		"tdx-replay replays a CCEL event log (the ACPI CCEL table's log area, e.g.\n"
		"/sys/firmware/acpi/tables/data/CCEL) and prints {\"rtmr0\":..,\"rtmr3\":..}.\n"
		"Exit status: 0 printed, 1 a file cannot be read, 2 bad arguments, 3 the firmware\n"
		"(or event log) cannot be measured, 4 the kernel is not a PE image.\n");
}

static int bad(const char *what, const char *val)
{
	fprintf(stderr, P "%s: '%s'\n", what, val);
	return EXIT_USAGE;
}

/* A JSON string (the event descriptions: fixed text, or log bytes). */
static void json_str(const uint8_t *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			printf("\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] >= 0x7f)
			printf("\\u%04x", s[i]);
		else
			putchar(s[i]);
	}
	putchar('"');
}

static void json_event(int first, unsigned rtmr, uint32_t type, const uint8_t digest[48], const uint8_t *desc, size_t n)
{
	char h[97], t[16];
	const char *name = ccel_event_type_name(type);

	hex_encode(digest, 48, h, sizeof(h));
	snprintf(t, sizeof(t), "0x%08x", type);
	printf("%s{\"rtmr\":%u,\"type\":\"%s\",\"digest\":\"%s\",\"description\":", first ? "" : ",", rtmr, name ? name : t, h);
	json_str(desc, n);
	putchar('}');
}

static void json_reg(int *first, const char *name, const uint8_t v[48])
{
	char h[97];

	hex_encode(v, 48, h, sizeof(h));
	printf("%s\"%s\":\"%s\"", *first ? "" : ",", name, h);
	*first = 0;
}

static int finish(void)
{
	printf("}\n");
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* The kernel: Authenticode (type t) and whether its stub measures. */
static int kernel_facts_who(const char *who, const char *path, mbedtls_md_type_t t, uint8_t *digest, int *stub_cc)
{
	struct launch_map m;
	const char *why = "";
	int r = launch_map(path, KERNEL_MAX, &m);

	if (r < 0) {
		fprintf(stderr, "%s%s: %s\n", who, path, r == -EFBIG ? "larger than 1 GiB, not a kernel" : strerror(-r));
		return EXIT_FAIL;
	}
	r = pe_authenticode(m.data, m.len, t, digest, &why);
	if (r == 0)
		*stub_cc = tdx_kernel_stub_cc(m.data, m.len);
	launch_unmap(&m);
	if (r < 0) {
		fprintf(stderr, "%s%s: %s\n", who, path, why);
		return EXIT_KERNEL;
	}
	return EXIT_OK;
}

/* MRTD and RTMR1/RTMR2 of a measured direct boot of these files; also what
 * `cvminit measure --tdx-ovmf` publishes. Errors: one line prefixed by who. */
int tdx_measure_direct(const char *ovmf, const char *kernel, const char *initrd, const char *append, int two_pass,
		       struct tdx_launch_out *out, const char *who)
{
	/* Kernel and initrd first: a missing file is reported before anything
	 * else is computed. */
	struct tdx_launch_in in = { .append = append, .two_pass = two_pass };
	if (kernel) {
		int rc = kernel_facts_who(who, kernel, MBEDTLS_MD_SHA384, in.kernel_authenticode, &in.kernel_stub_cc);
		if (rc != EXIT_OK)
			return rc;
		in.have_kernel = 1;
	}
	if (initrd) {
		struct stat st;
		int r = stat(initrd, &st) < 0 ? -errno : launch_file_digest(initrd, MBEDTLS_MD_SHA384, in.initrd_sha384);
		if (r < 0) {
			fprintf(stderr, "%s%s: %s\n", who, initrd, strerror(-r));
			return EXIT_FAIL;
		}
		/* QEMU passes an empty -initrd as none. */
		in.have_initrd = st.st_size > 0;
	}

	struct launch_map m;
	int r = launch_map(ovmf, OVMF_MAX, &m);
	if (r < 0) {
		fprintf(stderr, "%s%s: %s\n", who, ovmf, r == -EFBIG ? "larger than 64 MiB, not a firmware image" : strerror(-r));
		return EXIT_FAIL;
	}
	struct tdvf fw;
	const char *why = "";
	if (tdvf_parse(m.data, m.len, &fw, &why) < 0) {
		fprintf(stderr, "%s%s: %s\n", who, ovmf, why);
		launch_unmap(&m);
		return EXIT_FIRMWARE;
	}
	in.fw = &fw;
	tdx_launch_predict(&in, out);
	launch_unmap(&m);

	return EXIT_OK;
}

int cmd_measure_tdx(int argc, char **argv)
{
	enum { OPT_OVMF = 256, OPT_KERNEL, OPT_INITRD, OPT_APPEND, OPT_LOG, OPT_AUTH, OPT_TWO };
	static const struct option opts[] = {
		{ "ovmf", required_argument, NULL, OPT_OVMF },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "event-log", no_argument, NULL, OPT_LOG },
		{ "authenticode", required_argument, NULL, OPT_AUTH },
		{ "two-pass-add-pages", no_argument, NULL, OPT_TWO },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ovmf = NULL, *kernel = NULL, *initrd = NULL, *append = NULL, *auth = NULL;
	int log = 0, two_pass = 0, o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case OPT_OVMF: ovmf = optarg; break;
		case OPT_KERNEL: kernel = optarg; break;
		case OPT_INITRD: initrd = optarg; break;
		case OPT_APPEND: append = optarg; break;
		case OPT_LOG: log = 1; break;
		case OPT_TWO: two_pass = 1; break;
		case OPT_AUTH:
			if (strcmp(optarg, "sha256") && strcmp(optarg, "sha384"))
				return bad("--authenticode is sha256 or sha384", optarg);
			auth = optarg;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad("unexpected argument", argv[optind]);
	if (auth) {
		if (!kernel || ovmf || initrd || append || log) {
			fprintf(stderr, P "--authenticode takes --kernel FILE alone\n");
			return EXIT_USAGE;
		}
		uint8_t d[48];
		char h[97];
		int stub, sha256 = !strcmp(auth, "sha256");
		int rc = kernel_facts_who(P, kernel, sha256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA384, d, &stub);
		if (rc != EXIT_OK)
			return rc;
		hex_encode(d, sha256 ? 32 : 48, h, sizeof(h));
		printf("%s\n", h);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	}
	if (!ovmf) {
		fprintf(stderr, P "--ovmf FILE is required\n");
		return EXIT_USAGE;
	}
	if ((initrd || append) && !kernel) {
		fprintf(stderr, P "--initrd and --append need --kernel\n");
		return EXIT_USAGE;
	}

	struct tdx_launch_out out;
	int rc = tdx_measure_direct(ovmf, kernel, initrd, append, two_pass, &out, P);
	if (rc != EXIT_OK)
		return rc;

	int first = 1;
	printf("{");
	if (out.have_mrtd)
		json_reg(&first, "mrtd", out.mrtd);
	if (out.have_rtmr0)
		json_reg(&first, "rtmr0", out.rtmr0);
	if (out.have_rtmr1)
		json_reg(&first, "rtmr1", out.rtmr1);
	if (out.have_rtmr2)
		json_reg(&first, "rtmr2", out.rtmr2);
	if (log) {
		printf(",\"events\":[");
		for (unsigned i = 0; i < out.nevents; i++) {
			const struct tdx_event *e = &out.ev[i];
			json_event(i == 0, e->rtmr, e->type, e->digest, (const uint8_t *)e->desc, strlen(e->desc));
		}
		printf("]");
	}
	return finish();
}

struct replay_ctx {
	int log, first;
};

/* The event's text for people: printable ASCII data (an action, a tagged
 * event's data after its id and size), else empty. */
static int print_event(const struct ccel_event *e, void *vctx)
{
	struct replay_ctx *c = vctx;
	const uint8_t *d = e->data;
	size_t n = e->data_size;

	if (!c->log)
		return 0;
	if (e->type == 0x6 && n >= 8) /* EV_EVENT_TAG: id, size, data */
		d += 8, n -= 8;
	while (n && d[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		if (d[i] < 0x20 || d[i] >= 0x7f) {
			if (d[i] != '\n' && d[i] != '\t') {
				n = 0;
				break;
			}
		}
	json_event(c->first, e->mr_index - 1, e->type, e->digest, d, n);
	c->first = 0;
	return 0;
}

int cmd_measure_tdx_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ccel", required_argument, NULL, 'c' },
		{ "event-log", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ccel = NULL;
	struct replay_ctx ctx = { .first = 1 };
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': ccel = optarg; break;
		case 'l': ctx.log = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PR "unexpected argument: '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!ccel) {
		fprintf(stderr, PR "--ccel FILE is required\n");
		return EXIT_USAGE;
	}
	struct launch_map m;
	int r = launch_map(ccel, CCEL_MAX, &m);
	if (r < 0) {
		fprintf(stderr, PR "%s: %s\n", ccel, r == -EFBIG ? "larger than 64 MiB, not an event log" : strerror(-r));
		return EXIT_FAIL;
	}
	/* Replay once silently: a bad log prints nothing, then print. */
	uint8_t rtmr[CCEL_RTMRS][CCEL_MR_SIZE];
	unsigned n;
	const char *why = "";
	size_t at = 0;
	if (ccel_replay(m.data, m.len, rtmr, &n, NULL, NULL, &why, &at) < 0) {
		fprintf(stderr, PR "%s: event at offset %zu: %s\n", ccel, at, why);
		launch_unmap(&m);
		return EXIT_FIRMWARE;
	}
	int first = 1;
	printf("{");
	json_reg(&first, "rtmr0", rtmr[0]);
	json_reg(&first, "rtmr1", rtmr[1]);
	json_reg(&first, "rtmr2", rtmr[2]);
	json_reg(&first, "rtmr3", rtmr[3]);
	printf(",\"events\":%u", n);
	if (ctx.log) {
		printf(",\"event_log\":[");
		ccel_replay(m.data, m.len, rtmr, &n, print_event, &ctx, &why, &at);
		printf("]");
	}
	launch_unmap(&m);
	return finish();
}
