/* `cvminit measure snp`: the SEV-SNP launch MEASUREMENT of a guest, with
 * the inputs and option names of the reference tool (sev-snp-measure,
 * --mode snp). Prints the digest alone; any error is one line on stderr and
 * nothing on stdout. The kernel and initrd are hashed as they are read. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "crypto/hash.h"
#include "crypto/host/launch_file.h"
#include "crypto/host/snp_launch.h"
#include "crypto/tpm2_util.h"
#include "host/commands.h"

#define P "cvminit measure snp: "
#define OVMF_MAX (64u << 20)        /* far above any OVMF (4 MiB) */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvminit measure snp --ovmf FILE --vcpus N\n"
		"           (--vcpu-type NAME | --vcpu-family F --vcpu-model M --vcpu-stepping S | --vcpu-sig VALUE)\n"
		"           [--vmm-type QEMU|ec2|gce] [--guest-features VALUE]\n"
		"           [--kernel FILE [--initrd FILE] [--append CMDLINE]]\n"
		"           [--output-format hex|base64] [--snp-ovmf-hash HEX]\n"
		"       cvminit measure snp --ovmf FILE --ovmf-hash-only\n"
		"\n"
		"Prints the SEV-SNP launch digest (the attestation report's MEASUREMENT) of a guest\n"
		"started by the VMM from --ovmf (an OVMF build with SEV metadata; measured direct\n"
		"boot of --kernel needs the AmdSev build with its kernel-hashes page), with --vcpus\n"
		"VMSAs. The options and defaults are sev-snp-measure's (--mode snp): --guest-features\n"
		"defaults to 0x1 (SNPActive), --vmm-type to QEMU; --vcpu-* is needed for QEMU only.\n"
		"--append is the kernel command line as given to the VMM. --snp-ovmf-hash takes the\n"
		"digest after the firmware's pages, which --ovmf-hash-only prints (hex).\n"
		"vCPU types:");
	for (size_t i = 0; snp_vcpu_type_name(i); i++)
		fprintf(f, " %s", snp_vcpu_type_name(i));
	fprintf(f, "\nExit status: 0 digest printed, 1 a file cannot be read, 2 bad arguments,\n"
		   "3 the firmware cannot be measured (no SEV metadata, truncated, no kernel-hashes page).\n");
}

/* An unsigned number in C notation (0x.., decimal), as Python's int(s, 0). */
static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || *end || x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

int snp_vmm_parse(const char *s, enum snp_vmm *vmm)
{
	static const char *const names[] = { [SNP_VMM_QEMU] = "qemu", [SNP_VMM_EC2] = "ec2", [SNP_VMM_GCE] = "gce" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i])) {
			*vmm = (enum snp_vmm)i;
			return 0;
		}
	return -EINVAL;
}

const char *snp_vmm_name(enum snp_vmm vmm)
{
	return vmm == SNP_VMM_EC2 ? "ec2" : vmm == SNP_VMM_GCE ? "gce" : "qemu";
}

int snp_parse_number(const char *s, uint64_t max, uint64_t *v)
{
	return parse_u64(s, max, v);
}

/* exactly n bytes of hex: the project's one strict decoder */
static int unhex(const char *s, uint8_t *out, size_t n)
{
	return strlen(s) == 2 * n && tpm2_hex_decode(s, out, n) == (int)n ? 0 : -EINVAL;
}

static int print_digest(const uint8_t ld[48], int base64)
{
	char out[128];
	size_t olen = 0;

	if (base64) {
		if (mbedtls_base64_encode((unsigned char *)out, sizeof(out), &olen, ld, 48))
			return EXIT_FAIL;
		out[olen] = '\0';
	} else {
		hex_encode(ld, 48, out, sizeof(out));
	}
	printf("%s\n", out);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int bad(const char *what, const char *val)
{
	fprintf(stderr, P "%s: '%s'\n", what, val);
	return EXIT_USAGE;
}

/* SNP with a Coconut SVSM (the reference's --mode snp:svsm, QEMU only):
 * the SVSM image sits below OVMF and its variable store. */
static int svsm_mode(const char *ovmf, const char *svsm, const char *vars_file, int has_vars_size, uint64_t vars_size,
		     unsigned vcpus, struct snp_launch l, int other_inputs, int base64)
{
	if (l.vmm != SNP_VMM_QEMU || other_inputs) {
		fprintf(stderr, P "--svsm: QEMU only, without --kernel, --snp-ovmf-hash or --ovmf-hash-only\n");
		return EXIT_USAGE;
	}
	if (!!vars_file == has_vars_size) {
		fprintf(stderr, P "--svsm needs one of --vars-size N or --vars-file FILE\n");
		return EXIT_USAGE;
	}
	if (vars_file) {
		struct stat st;
		if (stat(vars_file, &st) < 0) {
			fprintf(stderr, P "%s: %s\n", vars_file, strerror(errno));
			return EXIT_FAIL;
		}
		vars_size = (uint64_t)st.st_size;
		if (vars_size % SNP_PAGE) {
			fprintf(stderr, P "%s: size is not a multiple of 4 KiB\n", vars_file);
			return EXIT_FAIL;
		}
	}
	struct launch_map fwm, svm = { 0 };
	uint8_t ld[48] = { 0 };
	const char *bad_file = ovmf, *why = "";
	int r = launch_map(ovmf, OVMF_MAX, &fwm), rc = EXIT_FIRMWARE;
	if (r == 0) {
		bad_file = svsm;
		r = launch_map(svsm, OVMF_MAX, &svm);
	}
	if (r < 0) {
		fprintf(stderr, P "%s: %s\n", bad_file, r == -EFBIG ? "larger than 64 MiB, not a firmware image" : strerror(-r));
		launch_unmap(&fwm);
		return EXIT_FAIL;
	}
	const uint8_t *fw = fwm.data, *sv = svm.data;
	size_t fwlen = fwm.len, svlen = svm.len;
	struct snp_ovmf s;
	uint64_t below = (1ull << 32) - fwlen;
	if (fwlen > (1ull << 32) || vars_size > below) {
		why = "OVMF and variable store larger than 4 GiB";
	} else if (!fwlen || fwlen % SNP_PAGE) {
		bad_file = ovmf;
		why = "firmware size is not a non-zero multiple of 4 KiB (truncated?)";
	} else if (snp_ovmf_parse(sv, svlen, below - vars_size, &s, &why) == 0 &&
		   snp_ld_svsm(ld, fw, fwlen, &s, vcpus, l.vcpu_sig, &why) == 0) {
		rc = print_digest(ld, base64);
	}
	if (rc == EXIT_FIRMWARE)
		fprintf(stderr, P "%s: %s\n", bad_file, why);
	launch_unmap(&fwm);
	launch_unmap(&svm);
	return rc;
}

int cmd_measure_snp(int argc, char **argv)
{
	enum { OPT_OVMF = 256, OPT_VCPUS, OPT_TYPE, OPT_FAM, OPT_MODEL, OPT_STEP, OPT_SIG, OPT_VMM, OPT_FEAT, OPT_KERNEL, OPT_INITRD,
	       OPT_APPEND, OPT_FMT, OPT_HASH, OPT_HASHONLY, OPT_SVSM, OPT_VARS_SIZE, OPT_VARS_FILE };
	static const struct option opts[] = {
		{ "ovmf", required_argument, NULL, OPT_OVMF },
		{ "vcpus", required_argument, NULL, OPT_VCPUS },
		{ "vcpu-type", required_argument, NULL, OPT_TYPE },
		{ "vcpu-family", required_argument, NULL, OPT_FAM },
		{ "vcpu-model", required_argument, NULL, OPT_MODEL },
		{ "vcpu-stepping", required_argument, NULL, OPT_STEP },
		{ "vcpu-sig", required_argument, NULL, OPT_SIG },
		{ "vmm-type", required_argument, NULL, OPT_VMM },
		{ "guest-features", required_argument, NULL, OPT_FEAT },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "output-format", required_argument, NULL, OPT_FMT },
		{ "snp-ovmf-hash", required_argument, NULL, OPT_HASH },
		{ "ovmf-hash-only", no_argument, NULL, OPT_HASHONLY },
		{ "svsm", required_argument, NULL, OPT_SVSM },
		{ "vars-size", required_argument, NULL, OPT_VARS_SIZE },
		{ "vars-file", required_argument, NULL, OPT_VARS_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ovmf = NULL, *kernel = NULL, *initrd = NULL, *append = NULL, *type = NULL, *hash = NULL;
	const char *fam = NULL, *model = NULL, *step = NULL, *sigarg = NULL, *svsm = NULL, *vars_file = NULL;
	uint64_t vcpus = 0, features = 0x1, v, vars_size = 0;
	int has_vars_size = 0;
	int base64 = 0, hash_only = 0, has_vcpus = 0, o;
	struct snp_launch l = { .vmm = SNP_VMM_QEMU };

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case OPT_OVMF: ovmf = optarg; break;
		case OPT_VCPUS:
			if (parse_u64(optarg, 8192, &vcpus) < 0 || vcpus == 0)
				return bad("--vcpus must be a number from 1 to 8192", optarg);
			has_vcpus = 1;
			break;
		case OPT_TYPE: type = optarg; break;
		case OPT_FAM: fam = optarg; break;
		case OPT_MODEL: model = optarg; break;
		case OPT_STEP: step = optarg; break;
		case OPT_SIG: sigarg = optarg; break;
		case OPT_VMM:
			if (snp_vmm_parse(optarg, &l.vmm) < 0)
				return bad("unknown VMM type (QEMU, ec2, gce)", optarg);
			break;
		case OPT_FEAT:
			if (parse_u64(optarg, UINT64_MAX, &features) < 0)
				return bad("--guest-features is not a number", optarg);
			break;
		case OPT_KERNEL: kernel = optarg; break;
		case OPT_INITRD: initrd = optarg; break;
		case OPT_APPEND: append = optarg; break;
		case OPT_FMT:
			if (strcmp(optarg, "hex") && strcmp(optarg, "base64"))
				return bad("--output-format is hex or base64", optarg);
			base64 = !strcmp(optarg, "base64");
			break;
		case OPT_HASH: hash = optarg; break;
		case OPT_HASHONLY: hash_only = 1; break;
		case OPT_SVSM: svsm = optarg; break;
		case OPT_VARS_SIZE:
			if (parse_u64(optarg, 1ull << 31, &vars_size) < 0 || vars_size % SNP_PAGE)
				return bad("--vars-size must be a multiple of 4096", optarg);
			has_vars_size = 1;
			break;
		case OPT_VARS_FILE: vars_file = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad("unexpected argument", argv[optind]);
	if (!ovmf) {
		fprintf(stderr, P "--ovmf FILE is required\n");
		return EXIT_USAGE;
	}
	if ((initrd || append) && !kernel) {
		fprintf(stderr, P "--initrd and --append need --kernel\n");
		return EXIT_USAGE;
	}
	if (!hash_only && !has_vcpus) {
		fprintf(stderr, P "--vcpus N is required\n");
		return EXIT_USAGE;
	}
	/* The vCPU signature: as the reference, family/model/stepping first,
	 * then --vcpu-sig, then --vcpu-type; EC2 and GCE put a fixed RDX. */
	if (fam || model || step) {
		uint64_t f, m, s;
		if (!fam || !model || !step)
			return bad("--vcpu-family, --vcpu-model and --vcpu-stepping go together", fam ? fam : model ? model : step);
		if (parse_u64(fam, 0x10e, &f) < 0 || parse_u64(model, 0xff, &m) < 0 || parse_u64(step, 0xf, &s) < 0)
			return bad("--vcpu-family/--vcpu-model/--vcpu-stepping out of range", fam);
		l.vcpu_sig = snp_cpu_sig((unsigned)f, (unsigned)m, (unsigned)s);
	} else if (sigarg) {
		if (parse_u64(sigarg, UINT32_MAX, &v) < 0)
			return bad("--vcpu-sig is not a 32-bit number", sigarg);
		l.vcpu_sig = (uint32_t)v;
	} else if (type) {
		if (snp_vcpu_type_sig(type, &l.vcpu_sig) < 0)
			return bad("unknown vCPU type (see --help for the list)", type);
	} else if (!hash_only && l.vmm == SNP_VMM_QEMU) {
		fprintf(stderr, P "one of --vcpu-type, --vcpu-sig or --vcpu-family/--vcpu-model/--vcpu-stepping is needed for QEMU\n");
		return EXIT_USAGE;
	}
	if (svsm)
		return svsm_mode(ovmf, svsm, vars_file, has_vars_size, vars_size, (unsigned)vcpus, l, kernel || hash || hash_only,
				 base64);
	if (vars_file || has_vars_size) {
		fprintf(stderr, P "--vars-size and --vars-file go with --svsm\n");
		return EXIT_USAGE;
	}
	uint8_t ld[48] = { 0 };
	if (hash && (hash_only || unhex(hash, ld, sizeof(ld)) < 0))
		return bad(hash_only ? "--snp-ovmf-hash with --ovmf-hash-only" : "--snp-ovmf-hash is not 96 hex digits", hash);
	l.vcpus = (unsigned)vcpus;
	l.guest_features = features;
	struct snp_direct in = { .ovmf = ovmf, .kernel = hash_only ? NULL : kernel, .initrd = initrd, .append = append,
				 .launch = l, .has_ovmf_hash = !!hash, .hash_only = hash_only };
	struct snp_direct_out out;
	memcpy(in.ovmf_hash, ld, sizeof(ld));
	int rc = snp_measure_direct(&in, &out, P);
	if (rc == EXIT_OK)
		rc = print_digest(out.ld, base64 && !hash_only);
	return rc;
}

int snp_measure_direct(const struct snp_direct *in, struct snp_direct_out *out, const char *who)
{
	struct snp_launch l = in->launch;
	uint8_t *ld = out->ld;

	memset(out, 0, sizeof(*out));
	if (in->has_ovmf_hash)
		memcpy(ld, in->ovmf_hash, SNP_LD_SIZE);
	/* Hash the kernel and initrd before the firmware: a missing file is
	 * reported before anything else is computed. */
	struct snp_kernel_hashes *kh = &out->hashes;
	if (in->kernel) {
		const char *c = in->append ? in->append : "";
		int r = launch_file_digest(in->kernel, MBEDTLS_MD_SHA256, kh->kernel);
		if (r < 0) {
			fprintf(stderr, "%s%s: %s\n", who, in->kernel, strerror(-r));
			return EXIT_FAIL;
		}
		if (in->initrd && (r = launch_file_digest(in->initrd, MBEDTLS_MD_SHA256, kh->initrd)) < 0) {
			fprintf(stderr, "%s%s: %s\n", who, in->initrd, strerror(-r));
			return EXIT_FAIL;
		}
		if (!in->initrd)
			mbedtls_sha256(NULL, 0, kh->initrd, 0);
		/* QEMU hashes the command line with its terminating NUL. */
		mbedtls_sha256((const uint8_t *)c, strlen(c) + 1, kh->cmdline, 0);
		l.hashes = kh;
		out->has_hashes = 1;
	}

	struct launch_map m;
	int r = launch_map(in->ovmf, OVMF_MAX, &m);
	const uint8_t *img = m.data;
	size_t len = m.len;
	if (r < 0) {
		fprintf(stderr, "%s%s: %s\n", who, in->ovmf, r == -EFBIG ? "larger than 64 MiB, not a firmware image" : strerror(-r));
		return EXIT_FAIL;
	}
	mbedtls_sha256(img, len, out->ovmf_sha256, 0);
	struct snp_ovmf fw;
	const char *why = "";
	int rc = EXIT_OK;
	if (snp_ovmf_parse(img, len, 1ull << 32, &fw, &why) < 0) {
		fprintf(stderr, "%s%s: %s\n", who, in->ovmf, why);
		rc = EXIT_FIRMWARE;
	} else if (in->hash_only) {
		snp_ld_pages(ld, fw.gpa, img, len);
	} else {
		if (!in->has_ovmf_hash)
			snp_ld_pages(ld, fw.gpa, img, len);
		if (snp_ld_finish(ld, &fw, &l, &why) < 0) {
			fprintf(stderr, "%s%s: %s\n", who, in->ovmf, why);
			rc = EXIT_FIRMWARE;
		}
	}
	launch_unmap(&m);
	return rc;
}
