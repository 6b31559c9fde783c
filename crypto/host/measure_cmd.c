/* `cvminit measure`: everything an image's boot will show, computed before
 * it ever boots, as one JSON document an OEM pipeline publishes: the
 * initramfs hashes (what SEV-SNP kernel-hashes and TDX measured boot
 * record), the verity root hashes, the TPM2 events, the PCR value and the
 * exact event log, and the evidence document with its REPORT_DATA. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libcryptsetup.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "crypto/eventlog.h"
#include "crypto/host/snp_launch.h"
#include "crypto/host/tdx_launch.h"
#include "crypto/host/tdx_launch.h"
#include "crypto/host/tpm2_host.h"
#include "crypto/secret.h"
#include "crypto/tpm2_util.h"
#include "crypto/volume_key.h"
#include "host/commands.h"
#include "tee/evidence.h"
#include "tee/host/report.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvminit measure --initramfs FILE --config FILE [--cmdline TEXT] [--test-build]\n"
		"                       [--banks sha256[,sha1,sha384,...]] [--no-tpm]\n"
		"                       [--root-luks IMAGE | --root-uuid UUID] [--jobs-luks IMAGE | --jobs-uuid UUID]\n"
		"                       [--nonce HEX] [--output FILE]\n"
		"                       [--snp-ovmf FILE --vcpus N (--vcpu-type NAME | --vcpu-sig VALUE)\n"
		"                        [--vmm-type qemu|ec2|gce] [--guest-features VALUE] --kernel FILE\n"
		"                        [--snp-host-data HEX] [--snp-id-key-digest HEX] [--snp-author-key-digest HEX]\n"
		"                        [--snp-family-id HEX] [--snp-image-id HEX]]\n"
		"                       [--tdx-ovmf FILE --kernel FILE [--tdx-two-pass-add-pages]]\n"
		"\n"
		"Prints, as one JSON document, what booting this image will produce: SHA-256 and\n"
		"SHA-384 of the initramfs, the dm-verity root hashes, the events cvminit extends into\n"
		"MEASURE_PCR with the PCR value before and after the separator, the exact event log\n"
		"(one record per event, a digest for each of --banks: the TPM's active banks, in\n"
		"ascending algorithm order; default sha256), and the evidence document whose SHA-512\n"
		"is the attestation report's REPORT_DATA. --no-tpm: a guest without a TPM (no log).\n"
		"--config is the configuration embedded in the initramfs, --cmdline the kernel\n"
		"command line (both measured). --test-build for build/init-test; it also prints\n"
		"mock_tee_measurement, the mock TEE's MEASUREMENT, which covers the whole command\n"
		"line: give --cmdline exactly as /proc/cmdline will show it (and mock_tdx_rtmr1,\n"
		"mock_tdx_rtmr2: the mock's TDX RTMRs; its MRTD is mock_tee_measurement).\n"
		"The volume-key events of p3/p5 (stage root/jobstore) are predicted from\n"
		"ROOT_/JOBS_VOLUME_KEY_PIN (sha256 bank); a LUKS2 volume without a pin makes the\n"
		"values after it null (\"unpredictable\" says why). The pins are published too.\n"
		"--snp-ovmf adds \"snp\": the SEV-SNP launch MEASUREMENT (hex and base64) of this\n"
		"initramfs and --cmdline booted with --kernel from that AmdSev OVMF build, as\n"
		"cvminit measure snp computes it (same options), and its inputs; --snp-host-data and\n"
		"the --snp-id-* options are recorded as the HOST_DATA and ID block the VMM will set.\n"
		"--tdx-ovmf adds \"tdx\": MRTD, RTMR1 and RTMR2 of the same direct boot from that\n"
		"TDVF build, as cvminit measure tdx computes them (--tdx-two-pass-add-pages: its\n"
		"--two-pass-add-pages). RTMR0 (the VM's configuration) is not predicted.\n"
		"The document's schema: crypto/MEASUREMENTS.md. Same inputs, same bytes.\n"
		"\n"
		"usage: cvminit measure volume-key-pin --luks IMAGE --name cvm-root|cvm-jobs\n"
		"                       (--passphrase-file FILE | --key-file FILE | --volume-key-file FILE)\n"
		"\n"
		"Prints ROOT_VOLUME_KEY_PIN=<hex> (or JOBS_...) for cvminit.conf: HMAC-SHA256 keyed by\n"
		"the volume key over \"cryptsetup:<name>:<LUKS2 UUID>\", systemd's volume-key value.\n"
		"The volume key comes from a keyslot of the image file (no device-mapper needed):\n"
		"--passphrase-file: its first line, as typed; --key-file: all its bytes;\n"
		"--volume-key-file: the raw volume key (cryptsetup luksDump --dump-volume-key).\n"
		"\n"
		"usage: cvminit measure snp --ovmf FILE --vcpus N --vcpu-type NAME [...]\n"
		"\n"
		"Prints the SEV-SNP launch MEASUREMENT (cvminit measure snp --help).\n"
		"\n"
		"usage: cvminit measure tdx --ovmf FILE [--kernel FILE [--initrd FILE] [--append CMDLINE]]\n"
		"       cvminit measure tdx-replay --ccel FILE\n"
		"\n"
		"Prints the TDX MRTD and RTMRs as JSON, or replays a CCEL event log (cvminit measure tdx --help).\n");
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static int luks_uuid_of(const char *image, char *out, size_t len)
{
	struct crypt_device *cd = NULL;
	int r = crypt_init(&cd, image);

	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == 0 && crypt_get_uuid(cd))
		snprintf(out, len, "%s", crypt_get_uuid(cd));
	else if (r == 0)
		r = -ENOENT;
	crypt_free(cd);
	return r;
}

/* JSON string with the few escapes our values can need. */
static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static const char *event_value(const struct measure_events *ev, const char *prefix)
{
	for (unsigned i = 0; i < ev->count; i++)
		if (!strncmp(ev->ev[i].string, prefix, strlen(prefix)))
			return ev->ev[i].string + strlen(prefix);
	return "none";
}

static int parse_banks(const char *list, uint16_t *banks, unsigned *n)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", list);
	*n = 0;
	for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		const struct tpm2_bank_info *b = tpm2_bank_by_name(w);
		if (!b || *n >= TPM2_MAX_BANKS)
			return -EINVAL;
		banks[(*n)++] = b->alg;
	}
	return *n ? 0 : -EINVAL;
}

/* A secret file into locked memory: all bytes, or the first line without
 * its newline (a passphrase as typed). 0 or -errno. */
static int read_key(const char *path, int first_line, struct secret *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (report_read_file(path, &buf, &len) < 0)
		return -EIO;
	if (first_line) {
		uint8_t *nl = memchr(buf, '\n', len);
		if (nl)
			len = (size_t)(nl - buf);
	}
	int r = len && len <= out->cap ? 0 : -EINVAL;
	if (r == 0) {
		memcpy(out->data, buf, len);
		out->len = len;
	}
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

static int cmd_volume_key_pin(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "luks", required_argument, NULL, 'l' },	     { "name", required_argument, NULL, 'n' },
		{ "passphrase-file", required_argument, NULL, 'p' }, { "key-file", required_argument, NULL, 'k' },
		{ "volume-key-file", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *image = NULL, *name = NULL, *keyfile = NULL;
	cleanup_secret struct secret *key = NULL, *vk = NULL;
	struct crypt_device *cd = NULL;
	char event[VOLUME_KEY_EVENT_MAX], hexpin[2 * VOLUME_KEY_PIN_LEN + 1];
	uint8_t pin[VOLUME_KEY_PIN_LEN];
	int kind = 0, o, r;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'l': image = optarg; break;
		case 'n': name = optarg; break;
		case 'p':
		case 'k':
		case 'v':
			if (kind) {
				fprintf(stderr, "cvminit measure volume-key-pin: one of --passphrase-file, --key-file, --volume-key-file\n");
				return EXIT_USAGE;
			}
			kind = o;
			keyfile = optarg;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!image || !name || !kind || optind != argc ||
	    (strcmp(name, "cvm-root") && strcmp(name, "cvm-jobs"))) {
		fprintf(stderr, "cvminit measure volume-key-pin: needs --luks IMAGE, --name cvm-root|cvm-jobs and a key\n");
		return EXIT_USAGE;
	}
	if (secret_new(&key, 8192) < 0 || secret_new(&vk, 512) < 0) {
		fprintf(stderr, "cvminit measure: cannot allocate locked memory\n");
		return EXIT_FAIL;
	}
	if (read_key(keyfile, kind == 'p', key) < 0) {
		fprintf(stderr, "cvminit measure volume-key-pin: %s: cannot read a key (empty or over 8 KiB?)\n", keyfile);
		return EXIT_FAIL;
	}
	r = crypt_init(&cd, image);
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		crypt_free(cd);
		fprintf(stderr, "cvminit measure volume-key-pin: %s: no LUKS2 header\n", image);
		return EXIT_FAIL;
	}
	if (kind == 'v') {
		/* the volume key as given: libcryptsetup checks it against the header's digest */
		r = crypt_volume_key_verify(cd, (const char *)key->data, key->len);
		if (r == 0) {
			memcpy(vk->data, key->data, key->len);
			vk->len = key->len;
		}
	} else {
		size_t vks = vk->cap;
		r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk->data, &vks, (const char *)key->data, key->len);
		if (r >= 0)
			vk->len = vks;
	}
	if (r >= 0)
		r = volume_key_event_string(name, crypt_get_uuid(cd), event, sizeof(event));
	crypt_free(cd);
	if (r == -EPERM) {
		fprintf(stderr, "cvminit measure volume-key-pin: %s: the key opens no keyslot (or is not the volume key)\n", image);
		return EXIT_FAIL;
	}
	if (r >= 0)
		r = volume_key_digest(TPM2_HASH_SHA256, vk->data, vk->len, event, pin);
	if (r < 0) {
		fprintf(stderr, "cvminit measure volume-key-pin: %s: %s\n", image, strerror(-r));
		return EXIT_FAIL;
	}
	hex(pin, sizeof(pin), hexpin);
	printf("%s_VOLUME_KEY_PIN=%s\n", strcmp(name, "cvm-root") ? "JOBS" : "ROOT", hexpin);
	return EXIT_OK;
}

/* The measured event strings carry the LUKS2 UUIDs when they are known. */
static void set_uuids(struct measure_events *ev, const char *root_uuid, const char *jobs_uuid)
{
	for (unsigned i = 0; i < ev->count; i++) {
		if (!ev->ev[i].keyed)
			continue;
		int root = !strncmp(ev->ev[i].string, "cryptsetup:cvm-root:", 20);
		const char *u = root ? root_uuid : jobs_uuid;
		if (strcmp(u, "none"))
			volume_key_event_string(root ? "cvm-root" : "cvm-jobs", u, ev->ev[i].string, sizeof(ev->ev[i].string));
	}
}

static void pin_field(FILE *f, const char *name, const struct measure_events *ev, const char *prefix)
{
	for (unsigned i = 0; i < ev->count; i++)
		if (ev->ev[i].keyed && !strncmp(ev->ev[i].string, prefix, strlen(prefix))) {
			char x[65];
			hex(ev->ev[i].sha256, 32, x);
			fprintf(f, "\"%s\": \"%s\"", name, x);
			return;
		}
	fprintf(f, "\"%s\": null", name);
}

/* The SEV-SNP prediction's options: those of `cvminit measure snp`, with
 * --snp-ovmf for --ovmf (the initrd and append are the initramfs and the
 * command line of the document), and the HOST_DATA / ID-block values the
 * VMM is given, which the report shows as they are. */
struct snp_args {
	const char *ovmf, *kernel, *type;
	struct snp_launch launch;
	int any, has_vcpus, has_sig;
	int has_extra[EXP__COUNT];
	uint8_t extra[EXP__COUNT][48];
};

static int snp_option(struct snp_args *a, const char *name, const char *val)
{
	uint64_t v;

	if (!strcmp(name, "kernel")) { /* shared with --tdx-ovmf */
		a->kernel = val;
		return 0;
	}
	a->any = 1;
	if (!strcmp(name, "snp-ovmf")) {
		a->ovmf = val;
	} else if (!strcmp(name, "vcpus")) {
		if (snp_parse_number(val, 8192, &v) < 0 || v == 0)
			goto bad;
		a->launch.vcpus = (unsigned)v;
		a->has_vcpus = 1;
	} else if (!strcmp(name, "vcpu-type")) {
		if (snp_vcpu_type_sig(val, &a->launch.vcpu_sig) < 0) {
			fprintf(stderr, "cvminit measure: unknown vCPU type '%s' (cvminit measure snp --help lists them)\n", val);
			return -1;
		}
		a->type = val;
		a->has_sig = 1;
	} else if (!strcmp(name, "vcpu-sig")) {
		if (snp_parse_number(val, UINT32_MAX, &v) < 0)
			goto bad;
		a->launch.vcpu_sig = (uint32_t)v;
		a->type = NULL;
		a->has_sig = 1;
	} else if (!strcmp(name, "vmm-type")) {
		if (snp_vmm_parse(val, &a->launch.vmm) < 0)
			goto bad;
	} else if (!strcmp(name, "guest-features")) {
		if (snp_parse_number(val, UINT64_MAX, &a->launch.guest_features) < 0)
			goto bad;
	} else {
		for (int i = 0; i < EXP__COUNT; i++) {
			const struct report_extra_def *d = &report_extra_defs[i];
			if (d->tdx || strcmp(name + 4, d->flag + 9)) /* snp-host-data, --expect-host-data */
				continue;
			if (strlen(val) != 2 * d->len || tpm2_hex_decode(val, a->extra[i], d->len) != (int)d->len)
				goto bad;
			a->has_extra[i] = 1;
			return 0;
		}
		goto bad;
	}
	return 0;
bad:
	fprintf(stderr, "cvminit measure: --%s: bad value '%s' (cvminit measure snp --help)\n", name, val);
	return -1;
}

static int snp_check(const struct snp_args *a)
{
	if (!a->ovmf) {
		fprintf(stderr, "cvminit measure: --vcpus, --vcpu-type, ... go with --snp-ovmf FILE\n");
		return -1;
	}
	if (!a->kernel || !a->has_vcpus) {
		fprintf(stderr, "cvminit measure: --snp-ovmf needs --kernel FILE and --vcpus N (measured direct boot)\n");
		return -1;
	}
	if (!a->has_sig && a->launch.vmm == SNP_VMM_QEMU) {
		fprintf(stderr, "cvminit measure: --snp-ovmf with QEMU needs --vcpu-type NAME or --vcpu-sig VALUE\n");
		return -1;
	}
	return 0;
}

static void snp_object(FILE *f, const struct snp_args *a, const struct snp_direct_out *d)
{
	char x[97], b64[80];
	size_t olen = 0;

	hex(d->ld, SNP_LD_SIZE, x);
	mbedtls_base64_encode((unsigned char *)b64, sizeof(b64), &olen, d->ld, SNP_LD_SIZE);
	b64[olen] = '\0';
	fprintf(f, "  \"snp\": {\n    \"measurement\": \"%s\",\n    \"measurement_base64\": \"%s\",\n", x, b64);
	hex(d->ovmf_sha256, 32, x);
	fprintf(f, "    \"ovmf_sha256\": \"%s\",\n    \"vcpus\": %u,\n    \"vcpu_type\": ", x, a->launch.vcpus);
	if (a->type)
		jstr(f, a->type);
	else
		fprintf(f, "null");
	fprintf(f, ",\n    \"vcpu_sig\": \"0x%08x\",\n    \"vmm_type\": \"%s\",\n", a->launch.vcpu_sig,
		snp_vmm_name(a->launch.vmm));
	fprintf(f, "    \"guest_features\": \"0x%llx\",\n", (unsigned long long)a->launch.guest_features);
	hex(d->hashes.kernel, 32, x);
	fprintf(f, "    \"kernel_sha256\": \"%s\",\n", x);
	hex(d->hashes.initrd, 32, x);
	fprintf(f, "    \"initrd_sha256\": \"%s\",\n", x);
	hex(d->hashes.cmdline, 32, x);
	fprintf(f, "    \"cmdline_sha256\": \"%s\"", x);
	for (int i = 0; i < EXP__COUNT; i++) {
		if (!a->has_extra[i])
			continue;
		hex(a->extra[i], report_extra_defs[i].len, x);
		fprintf(f, ",\n    \"%s\": \"%s\"", report_extra_defs[i].json, x);
	}
	fprintf(f, "\n  },\n");
}

/* "tdx": the registers `cvminit measure tdx` predicts (crypto/MEASUREMENTS.md);
 * RTMR0 (the VM's configuration) stays absent. */
static void tdx_object(FILE *f, const struct tdx_launch_out *t)
{
	const struct { const char *name; int have; const uint8_t *v; } regs[] = {
		{ "mrtd", t->have_mrtd, t->mrtd },	  { "rtmr0", t->have_rtmr0, t->rtmr0 },
		{ "rtmr1", t->have_rtmr1, t->rtmr1 }, { "rtmr2", t->have_rtmr2, t->rtmr2 },
	};
	char x[97];
	int first = 1;

	fprintf(f, "  \"tdx\": {");
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		if (!regs[i].have)
			continue;
		hex(regs[i].v, 48, x);
		fprintf(f, "%s\n    \"%s\": \"%s\"", first ? "" : ",", regs[i].name, x);
		first = 0;
	}
	fprintf(f, "\n  },\n");
}

int cmd_measure(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "initramfs", required_argument, NULL, 'i' }, { "config", required_argument, NULL, 'c' },
		{ "cmdline", required_argument, NULL, 'k' },   { "test-build", no_argument, NULL, 't' },
		{ "banks", required_argument, NULL, 'b' },     { "no-tpm", no_argument, NULL, 'n' },
		{ "root-luks", required_argument, NULL, 'R' }, { "root-uuid", required_argument, NULL, 'r' },
		{ "jobs-luks", required_argument, NULL, 'J' }, { "jobs-uuid", required_argument, NULL, 'j' },
		{ "nonce", required_argument, NULL, 'N' },     { "output", required_argument, NULL, 'o' },
		{ "snp-ovmf", required_argument, NULL, 'O' },  { "vcpus", required_argument, NULL, 'V' },
		{ "vcpu-type", required_argument, NULL, 'T' }, { "vcpu-sig", required_argument, NULL, 'S' },
		{ "vmm-type", required_argument, NULL, 'M' },  { "guest-features", required_argument, NULL, 'G' },
		{ "kernel", required_argument, NULL, 'K' },    { "snp-host-data", required_argument, NULL, 'X' },
		{ "snp-id-key-digest", required_argument, NULL, 'X' },
		{ "snp-author-key-digest", required_argument, NULL, 'X' },
		{ "snp-family-id", required_argument, NULL, 'X' },
		{ "snp-image-id", required_argument, NULL, 'X' },
		{ "tdx-ovmf", required_argument, NULL, 'D' },  { "tdx-two-pass-add-pages", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
	};
	struct snp_args snp = { .launch = { .vmm = SNP_VMM_QEMU, .guest_features = 0x1 } };
	const char *tdx_ovmf = NULL;
	int tdx_two_pass = 0;
	const char *initramfs = NULL, *config = NULL, *cmdline = "", *banks_arg = "sha256", *output = NULL, *nonce = "";
	char root_uuid[64] = "none", jobs_uuid[64] = "none", err[300];
	int test_build = 0, no_tpm = 0, o, idx = 0;

	if (argc > 1 && !strcmp(argv[1], "volume-key-pin"))
		return cmd_volume_key_pin(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "snp"))
		return cmd_measure_snp(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "tdx"))
		return cmd_measure_tdx(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "tdx-replay"))
		return cmd_measure_tdx_replay(argc - 1, argv + 1);
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		switch (o) {
		case 'O': case 'V': case 'T': case 'S': case 'M': case 'G': case 'K': case 'X':
			if (snp_option(&snp, opts[idx].name, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'D': tdx_ovmf = optarg; break;
		case 'P': tdx_two_pass = 1; break;
		case 'i': initramfs = optarg; break;
		case 'c': config = optarg; break;
		case 'k': cmdline = optarg; break;
		case 't': test_build = 1; break;
		case 'b': banks_arg = optarg; break;
		case 'n': no_tpm = 1; break;
		case 'r': snprintf(root_uuid, sizeof(root_uuid), "%s", optarg); break;
		case 'j': snprintf(jobs_uuid, sizeof(jobs_uuid), "%s", optarg); break;
		case 'R':
		case 'J':
			if (luks_uuid_of(optarg, o == 'R' ? root_uuid : jobs_uuid, sizeof(root_uuid)) < 0) {
				fprintf(stderr, "cvminit measure: %s: no LUKS2 header\n", optarg);
				return EXIT_FAIL;
			}
			break;
		case 'N': nonce = optarg; break;
		case 'o': output = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!initramfs || !config || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((snp.ovmf || snp.any) && snp_check(&snp) < 0)
		return EXIT_USAGE;
	if (tdx_ovmf && !snp.kernel) {
		fprintf(stderr, "cvminit measure: --tdx-ovmf needs --kernel FILE (measured direct boot)\n");
		return EXIT_USAGE;
	}
	if (tdx_two_pass && !tdx_ovmf) {
		fprintf(stderr, "cvminit measure: --tdx-two-pass-add-pages goes with --tdx-ovmf FILE\n");
		return EXIT_USAGE;
	}
	if (snp.kernel && !snp.ovmf && !tdx_ovmf) {
		fprintf(stderr, "cvminit measure: --kernel goes with --snp-ovmf FILE or --tdx-ovmf FILE\n");
		return EXIT_USAGE;
	}
	uint16_t banks[TPM2_MAX_BANKS];
	unsigned nbanks = 0;
	if (parse_banks(banks_arg, banks, &nbanks) < 0) {
		fprintf(stderr, "cvminit measure: --banks: a comma-separated list of sha1, sha256, sha384, sha512\n");
		return EXIT_USAGE;
	}
	uint8_t *img = NULL, *conf = NULL;
	size_t imglen = 0, conflen = 0;
	if (report_read_file(initramfs, &img, &imglen) < 0 || report_read_file(config, &conf, &conflen) < 0) {
		free(img);
		return EXIT_FAIL;
	}
	struct tpm2_host_facts facts = { 0 };
	int r = (test_build ? tpm2_facts_testbuild : tpm2_facts_release)((const char *)conf, conflen, config, cmdline,
									  &facts, err, sizeof(err));
	free(conf);
	if (r < 0) {
		fprintf(stderr, "cvminit measure: %s\n", err);
		free(img);
		return EXIT_FAIL;
	}

	/* the initramfs as SNP kernel-hashes / TDX measured boot see it */
	uint8_t h256[32], h384[64];
	char h256x[65], h384x[97];
	mbedtls_sha256(img, imglen, h256, 0);
	mbedtls_sha512(img, imglen, h384, 1);
	free(img);
	hex(h256, 32, h256x);
	hex(h384, 48, h384x);

	set_uuids(&facts.events, root_uuid, jobs_uuid);
	/* the PCR and the exact log of stage measure (what attest hashes) */
	char log[MEASURE_EVENT_MAX * EVENTLOG_RECORD_MAX], logx[65] = "none";
	size_t loglen = 0;
	if (!no_tpm) {
		for (unsigned i = 0; i < facts.events.sealed; i++) {
			struct tpm2_digests d = { .count = nbanks };
			for (unsigned b = 0; b < nbanks; b++) {
				d.alg[b] = banks[b];
				tpm2_hash(banks[b], facts.events.ev[i].string, strlen(facts.events.ev[i].string), d.digest[b]);
			}
			int n = eventlog_format(facts.pcr, &d, facts.events.ev[i].string, facts.events.ev[i].type, log + loglen,
						sizeof(log) - loglen);
			if (n < 0) {
				fprintf(stderr, "cvminit measure: event log record: %s\n", strerror(-n));
				return EXIT_FAIL;
			}
			loglen += (size_t)n;
		}
		uint8_t lh[32];
		mbedtls_sha256((const uint8_t *)log, loglen, lh, 0);
		hex(lh, 32, logx);
	}
	log[loglen] = '\0';

	char digestx[65], unlock[2 * TPM2_MAX_DIGEST + 1], before[2 * TPM2_MAX_DIGEST + 3] = "null",
		after[2 * TPM2_MAX_DIGEST + 3] = "null", why[200] = "";
	uint8_t pv[TPM2_MAX_DIGEST];
	/* the PCR value in sha256 when the TPM has that bank, else the first */
	uint16_t pbank = banks[0];
	for (unsigned b = 0; b < nbanks; b++)
		if (banks[b] == TPM2_ALG_SHA256)
			pbank = banks[b];
	size_t psize = tpm2_bank_by_alg(pbank)->size;
	hex(facts.config_digest, 32, digestx);
	measure_predict(pbank, &facts.events, facts.events.sealed, pv);
	hex(pv, psize, unlock);
	if (facts.events.unpinned) {
		snprintf(why, sizeof(why), "a LUKS2 volume's volume-key event is measured but %s is not set",
			 facts.events.unpinned);
	} else if (measure_predict(pbank, &facts.events, facts.events.count, pv) == -ENOKEY) {
		snprintf(why, sizeof(why), "the volume-key events' %s digests need the volume keys (the pins are sha256)",
			 tpm2_bank_by_alg(pbank)->name);
	} else {
		char x[2 * TPM2_MAX_DIGEST + 1];
		measure_predict(pbank, &facts.events, facts.events.count - 1, pv);
		hex(pv, psize, x);
		snprintf(before, sizeof(before), "\"%s\"", x);
		measure_predict(pbank, &facts.events, facts.events.count, pv);
		hex(pv, psize, x);
		snprintf(after, sizeof(after), "\"%s\"", x);
	}

	/* the evidence document and REPORT_DATA */
	char boot_rh[80], config_rh[80], data_rh[80], doc[1024], rdx[129];
	snprintf(boot_rh, sizeof(boot_rh), "%s", event_value(&facts.events, "cvminit:verity:boot:"));
	snprintf(config_rh, sizeof(config_rh), "%s", event_value(&facts.events, "cvminit:verity:config:"));
	snprintf(data_rh, sizeof(data_rh), "%s", event_value(&facts.events, "cvminit:verity:data:"));
	for (char *p = boot_rh; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	for (char *p = config_rh; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	for (char *p = data_rh; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	struct evidence_inputs in = { .boot_roothash = boot_rh, .config_roothash = config_rh, .data_roothash = data_rh,
				      .root_luks_uuid = root_uuid, .jobs_luks_uuid = jobs_uuid, .config_sha256 = digestx,
				      .eventlog_sha256 = logx, .nonce = nonce };
	int dn = evidence_build(&in, doc, sizeof(doc));
	if (dn < 0) {
		fprintf(stderr, "cvminit measure: a UUID or the nonce is not lower-case hex\n");
		return EXIT_USAGE;
	}
	uint8_t rd[64];
	mbedtls_sha512((const uint8_t *)doc, (size_t)dn, rd, 0);
	hex(rd, 64, rdx);

	/* the SEV-SNP launch digest: the initramfs is the initrd, --cmdline the append */
	struct snp_direct_out sd;
	if (snp.ovmf) {
		struct snp_direct sin = { .ovmf = snp.ovmf, .kernel = snp.kernel, .initrd = initramfs, .append = cmdline,
					 .launch = snp.launch };
		int rc = snp_measure_direct(&sin, &sd, "cvminit measure: --snp-ovmf: ");
		if (rc != EXIT_OK)
			return rc;
	}

	/* TDX: MRTD and the RTMRs of the same direct boot */
	struct tdx_launch_out td;
	if (tdx_ovmf) {
		int rc = tdx_measure_direct(tdx_ovmf, snp.kernel, initramfs, cmdline, tdx_two_pass, &td,
					    "cvminit measure: --tdx-ovmf: ");
		if (rc != EXIT_OK)
			return rc;
	}

	FILE *f = output ? fopen(output, "w") : stdout;
	if (!f) {
		fprintf(stderr, "cvminit measure: %s: %s\n", output, strerror(errno));
		return EXIT_FAIL;
	}
	fprintf(f, "{\n  \"format\": \"cvminit-measurements/1\",\n  \"build\": \"%s\",\n", test_build ? "test" : "release");
	fprintf(f, "  \"initramfs\": {\"size\": %zu, \"sha256\": \"%s\", \"sha384\": \"%s\"},\n", imglen, h256x, h384x);
	fprintf(f, "  \"tee\": \"%s\",\n", facts.tee);
	fprintf(f, "  \"kernel_cmdline\": ");
	jstr(f, cmdline);
	fprintf(f, ",\n  \"config_sha256\": \"%s\",\n", digestx);
	fprintf(f, "  \"verity\": {\"boot\": \"%s\", \"config\": \"%s\", \"data\": \"%s\"},\n", boot_rh, config_rh,
		data_rh);
	fprintf(f, "  \"volume_key_pins\": {");
	pin_field(f, "root", &facts.events, "cryptsetup:cvm-root:");
	fprintf(f, ", ");
	pin_field(f, "jobs", &facts.events, "cryptsetup:cvm-jobs:");
	fprintf(f, "},\n");
	if (no_tpm) {
		fprintf(f, "  \"tpm2\": null,\n");
	} else {
		fprintf(f, "  \"tpm2\": {\n    \"pcr\": %u,\n    \"bank\": \"%s\",\n    \"events\": [", facts.pcr,
			tpm2_bank_by_alg(pbank)->name);
		for (unsigned i = 0; i < facts.events.count; i++) {
			fprintf(f, "%s", i ? ", " : "");
			jstr(f, facts.events.ev[i].string);
		}
		fprintf(f, "],\n    \"sealed_events\": %u,\n    \"before_unlock\": \"%s\",\n", facts.events.sealed, unlock);
		fprintf(f, "    \"before_separator\": %s,\n    \"after_separator\": %s,\n", before, after);
		if (why[0]) {
			fprintf(f, "    \"unpredictable\": ");
			jstr(f, why);
			fprintf(f, ",\n");
		}
		fprintf(f, "    \"eventlog\": ");
		jstr(f, log);
		fprintf(f, ",\n    \"eventlog_sha256\": \"%s\"\n  },\n", logx);
	}
	if (snp.ovmf)
		snp_object(f, &snp, &sd);
	if (tdx_ovmf)
		tdx_object(f, &td);
	if (facts.has_mock_measurement) {
		/* test builds: what the mock TEE will report (tests/README: mock TEE) */
		char mx[97];
		hex(facts.mock_measurement, 48, mx);
		fprintf(f, "  \"mock_tee_measurement\": \"%s\",\n", mx);
		/* and, with MOCK_TEE_KIND=tdx, MRTD = that measurement and these RTMRs */
		hex(facts.mock_rtmr1, 48, mx);
		fprintf(f, "  \"mock_tdx_rtmr1\": \"%s\",\n", mx);
		hex(facts.mock_rtmr2, 48, mx);
		fprintf(f, "  \"mock_tdx_rtmr2\": \"%s\",\n", mx);
	}
	fprintf(f, "  \"evidence\": ");
	jstr(f, doc);
	fprintf(f, ",\n  \"report_data\": \"%s\"\n}\n", rdx);
	if (output && fclose(f) != 0)
		return EXIT_FAIL;
	return EXIT_OK;
}
