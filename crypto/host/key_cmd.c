/* `cvminit key wrap`: on the model owner's trusted machine, seal the
 * job-store key to one boot of one attested CVM (see crypto/wrap.h). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include "crypto/tpm2_util.h"
#include "crypto/wrap.h"
#include "host/commands.h"
#include "tee/host/report.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cvminit key wrap --challenge FILE --key KEYFILE\n"
		   "                        (--measurements measurements.json | --expect-measurement HEX\n"
		   "                         [--expect-rtmr1 HEX --expect-rtmr2 HEX (TDX)]) [--expect-rtmr0|3 HEX]\n"
		   "                        [--vcek CERT --chain PEM] [--root CERT] [policy options]\n"
		   "                        [--sign-key KEY.pem [--purpose jobs|root]]\n"
		   "       cvminit key pubkey --sign-key KEY.pem\n"
		   "\n"
		   "Verifies the attestation report in the cvminit-challenge line of FILE (a console log\n"
		   "or just that line): its signature chain, its policy, the expected measurement, and\n"
		   "that its REPORT_DATA binds the challenge's public key and evidence. Only then prints\n"
		   "one line, cvminit-wrapped: ..., the content of KEYFILE (without a final newline)\n"
		   "encrypted to that boot's key. Paste it at the CVM's job-store prompt.\n"
		   "--sign-key signs the line (EC P-384): a CVM that pins this key (JOBS_OWNER_PUBKEY,\n"
		   "ROOT_DELIVERY_PUBKEY) opens only lines it signed for that --purpose (default jobs).\n"
		   "'key pubkey' prints the public key to pin.\n"
		   "\n"
		   "Expected values are required: SNP MEASUREMENT; TDX MRTD, RTMR1 and RTMR2, from\n"
		   "--measurements (cvminit measure's document) or the --expect-* flags (both: they must agree).\n"
		   "SNP: --vcek and --chain (ASK+ARK, extra certificates ignored) are required.\n"
		   "TDX: the challenge must carry a quote. Chains must end in a built-in root (AMD\n"
		   "ARK-Milan/Genoa/Turin, Intel SGX Root CA) unless --root names another.\n"
		   "exit status: 0 wrapped, 1 a file cannot be read, 2 usage, 3 malformed challenge,\n"
		   "             4 bad signature, chain or binding, 5 policy or expectation mismatch\n\n%s%s",
		report_policy_usage, report_extra_usage);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	return strlen(s) == 2 * n && tpm2_hex_decode(s, out, n) == (int)n ? 0 : -1;
}

static int read_key(const char *path, uint8_t **key, size_t *len)
{
	if (report_read_file(path, key, len) < 0)
		return -1;
	if (*len > 0 && (*key)[*len - 1] == '\n')
		(*len)--;
	if (*len > 0 && (*key)[*len - 1] == '\r')
		(*len)--;
	return 0;
}

/* The sender's signing key: EC P-384, PEM or DER, unencrypted. */
static int load_sign_key(const char *path, mbedtls_pk_context *pk)
{
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	int r;

	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, (const unsigned char *)"cvminit-key", 11);
	if (r == 0)
		r = mbedtls_pk_parse_keyfile(pk, path, NULL, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
	if (r != 0) {
		fprintf(stderr, "cvminit key: %s: not a readable private key (PEM or DER, unencrypted)\n", path);
		return -1;
	}
	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY || mbedtls_pk_ec(*pk)->MBEDTLS_PRIVATE(grp).id != MBEDTLS_ECP_DP_SECP384R1) {
		fprintf(stderr, "cvminit key: %s: the signing key must be EC P-384 (openssl ecparam -name secp384r1 -genkey)\n",
			path);
		return -1;
	}
	return 0;
}

/* `cvminit key pubkey --sign-key PEM`: the public half as the configuration
 * pins it (an uncompressed SEC1 point, hex). */
static int cmd_pubkey(int argc, char **argv)
{
	mbedtls_pk_context pk;
	uint8_t pub[WRAP_PUB_LEN];
	size_t olen = 0;
	int rc;

	if (argc != 3 || strcmp(argv[1], "--sign-key")) {
		fprintf(stderr, "usage: cvminit key pubkey --sign-key KEY.pem\n"
				"prints the key's public point (hex) for JOBS_OWNER_PUBKEY / ROOT_DELIVERY_PUBKEY\n");
		return EXIT_USAGE;
	}
	mbedtls_pk_init(&pk);
	rc = load_sign_key(argv[2], &pk) < 0 ? EXIT_USAGE : EXIT_OK;
	if (rc == EXIT_OK) {
		const mbedtls_ecp_keypair *kp = mbedtls_pk_ec(pk);
		if (mbedtls_ecp_point_write_binary(&kp->MBEDTLS_PRIVATE(grp), &kp->MBEDTLS_PRIVATE(Q),
						   MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub, sizeof(pub)) != 0 ||
		    olen != sizeof(pub))
			rc = EXIT_FAIL;
	}
	mbedtls_pk_free(&pk);
	if (rc == EXIT_OK) {
		for (size_t i = 0; i < sizeof(pub); i++)
			printf("%02x", pub[i]);
		printf("\n");
	}
	return rc;
}

static int cmd_wrap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "challenge", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'k' },
		{ "expect-rtmr0", required_argument, NULL, '0' }, { "expect-rtmr1", required_argument, NULL, '1' },
		{ "expect-rtmr2", required_argument, NULL, '2' }, { "expect-rtmr3", required_argument, NULL, '3' },
		{ "expect-measurement", required_argument, NULL, 'm' }, { "vcek", required_argument, NULL, 'v' },
		{ "chain", required_argument, NULL, 'C' }, { "root", required_argument, NULL, 'r' },
		{ "allow-debug", no_argument, NULL, 'F' }, { "allow-migration-agent", no_argument, NULL, 'F' },
		{ "require-no-smt", no_argument, NULL, 'F' }, { "require-single-socket", no_argument, NULL, 'F' },
		{ "vmpl", required_argument, NULL, 'P' }, { "min-report-version", required_argument, NULL, 'P' },
		{ "min-tcb", required_argument, NULL, 'P' }, { "td-attributes-allowed", required_argument, NULL, 'P' },
		{ "expect-xfam", required_argument, NULL, 'P' }, { "min-tee-tcb-svn", required_argument, NULL, 'P' },
		{ "sign-key", required_argument, NULL, 's' }, { "purpose", required_argument, NULL, 'u' },
		{ "measurements", required_argument, NULL, 'M' }, { "expect-host-data", required_argument, NULL, 'X' },
		{ "expect-id-key-digest", required_argument, NULL, 'X' },
		{ "expect-author-key-digest", required_argument, NULL, 'X' },
		{ "expect-family-id", required_argument, NULL, 'X' }, { "expect-image-id", required_argument, NULL, 'X' },
		{ "expect-mrconfigid", required_argument, NULL, 'X' }, { "expect-mrowner", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *sign_key = NULL;
	enum wrap_purpose purpose = WRAP_PURPOSE_JOBS;
	struct verify_opts vo = { .file = "challenge report", .quiet = 1 };
	const char *challenge = NULL, *keyfile = NULL, *measurements = NULL;
	struct wrap_challenge c;
	uint8_t *text = NULL, *key = NULL;
	size_t tlen = 0, klen = 0;
	char err[200], *line = NULL;
	int o, rc;

	report_time_now(&vo.at);
	optind = 1;
	int idx = 0;
	while ((o = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		switch (o) {
		case 'c': challenge = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'm':
			if (unhex(optarg, vo.measurement, sizeof(vo.measurement)) < 0) {
				fprintf(stderr, "cvminit key wrap: --expect-measurement wants 96 hex digits\n");
				return EXIT_USAGE;
			}
			vo.has_measurement = 1;
			break;
		case '0': case '1': case '2': case '3':
			if (unhex(optarg, vo.rtmr[o - '0'], sizeof(vo.rtmr[0])) < 0) {
				fprintf(stderr, "cvminit key wrap: --expect-rtmr%c wants 96 hex digits\n", o);
				return EXIT_USAGE;
			}
			vo.has_rtmr[o - '0'] = 1;
			break;
		case 'v': vo.vcek = optarg; break;
		case 'C': vo.chain = optarg; break;
		case 'r': vo.root = optarg; break;
		case 'F':
		case 'P': {
			/* the policy options are report verify's: one parser for both */
			char name[40];
			snprintf(name, sizeof(name), "--%s", opts[idx].name);
			if (report_policy_parse(&vo, name, optarg, "cvminit key wrap") < 0)
				return EXIT_USAGE;
			break;
		}
		case 'X': {
			char name[40];
			snprintf(name, sizeof(name), "--%s", opts[idx].name);
			if (report_extra_parse(&vo, name, optarg, "cvminit key wrap") < 0)
				return EXIT_USAGE;
			break;
		}
		case 'M': measurements = optarg; break;
		case 's': sign_key = optarg; break;
		case 'u':
			if (!strcmp(optarg, "jobs") || !strcmp(optarg, "root")) {
				purpose = !strcmp(optarg, "jobs") ? WRAP_PURPOSE_JOBS : WRAP_PURPOSE_ROOT;
				break;
			}
			fprintf(stderr, "cvminit key wrap: --purpose is jobs (p5's key) or root (p3's provisioning or recovery key)\n");
			return EXIT_USAGE;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!challenge || !keyfile || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (report_read_file(challenge, &text, &tlen) < 0)
		return EXIT_FAIL;
	char *z = realloc(text, tlen + 1);
	if (!z) {
		free(text);
		return EXIT_FAIL;
	}
	z[tlen] = '\0';
	if (wrap_challenge_parse(z, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "cvminit key wrap: %s: %s\n", challenge, err);
		free(z);
		return EXIT_REPORT_MALFORMED;
	}
	free(z);
	/* The report must bind exactly this public key and this evidence. */
	if (wrap_report_data(c.evidence, c.evidence_len, c.pub, vo.report_data) < 0) {
		wrap_challenge_free(&c);
		return EXIT_FAIL;
	}
	vo.has_report_data = 1;
	enum report_format f = report_detect(c.report, c.report_len);
	if (!strcmp(c.tee, "tdx") && f != REPORT_FMT_TDX_QUOTE) {
		fprintf(stderr, "cvminit key wrap: refusing: the challenge carries a TDREPORT, which cannot be verified off the "
				"machine (the guest needs configfs-tsm for a quote)\n");
		wrap_challenge_free(&c);
		return EXIT_REPORT_MALFORMED;
	}
	if (measurements && (rc = report_measurements_apply(measurements, f, &vo, "cvminit key wrap")) != EXIT_OK) {
		wrap_challenge_free(&c);
		return rc;
	}
	/* Never without expectations: the key would go to any image. */
	if ((rc = report_require_expectations(f, &vo, "cvminit key wrap: refusing")) != EXIT_OK) {
		wrap_challenge_free(&c);
		return rc;
	}
	rc = report_verify(f, c.report, c.report_len, &vo);
	if (rc != EXIT_OK) {
		fprintf(stderr, "cvminit key wrap: refusing to wrap: the challenge's report does not verify (see above)\n");
		wrap_challenge_free(&c);
		return rc;
	}
	fprintf(stderr, "cvminit key wrap: report verified; the CVM booted with this evidence:\n  %.*s\n",
		(int)c.evidence_len, c.evidence);
	if (read_key(keyfile, &key, &klen) < 0) {
		wrap_challenge_free(&c);
		return EXIT_FAIL;
	}
	if (klen == 0 || klen > WRAP_KEY_MAX) {
		fprintf(stderr, "cvminit key wrap: %s: the key must have 1 to %d bytes\n", keyfile, WRAP_KEY_MAX);
		explicit_bzero(key, klen);
		free(key);
		wrap_challenge_free(&c);
		return EXIT_USAGE;
	}
	mbedtls_pk_context pk;
	mbedtls_pk_init(&pk);
	if (sign_key && load_sign_key(sign_key, &pk) < 0)
		rc = EXIT_USAGE;
	else
		rc = wrap_seal_signed(&c, key, klen, sign_key ? &pk : NULL, purpose, &line) < 0 ? EXIT_FAIL : EXIT_OK;
	mbedtls_pk_free(&pk);
	explicit_bzero(key, klen);
	free(key);
	wrap_challenge_free(&c);
	if (rc == EXIT_OK)
		printf("%s\n", line);
	free(line);
	return rc;
}

int cmd_key(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "wrap"))
		return cmd_wrap(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "pubkey"))
		return cmd_pubkey(argc - 1, argv + 1);
	usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return argc >= 2 && !strcmp(argv[1], "--help") ? EXIT_OK : EXIT_USAGE;
}
