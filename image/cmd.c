/* cvminit image build|verify: the command line (image/README.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "host/commands.h"
#include "image/build.h"
#include "image/layout.h"
#include "image/verify.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvminit image build --layout LAYOUT --out DISK [--config-out FRAGMENT]\n"
		"                           [--manifest-out FILE] [--parts-dir DIR] [--qcow2] [--quiet]\n"
		"       cvminit image check --layout LAYOUT\n"
		"       cvminit image verify DISK --config CVMINIT.CONF [--layout LAYOUT]\n"
		"                            [--key-file ROLE=FILE | --passphrase-file ROLE=FILE |\n"
		"                             --volume-key-file ROLE=FILE]...   (ROLE: root, jobs)\n"
		"\n"
		"build: a raw GPT disk from a layout (KEY=value, cvminit.conf's syntax; image/README.md),\n"
		"unprivileged and offline: ext4 from directories, dm-verity and LUKS2 through\n"
		"libcryptsetup, the GPT through sgdisk. --config-out: the cvminit.conf lines that pin\n"
		"it (partitions, root hashes, offsets or data sizes, salts, volume-key pins).\n"
		"--manifest-out: per-slot facts (starts, sizes, UUIDs). --qcow2: DISK's .qcow2 too.\n"
		"check: parse and check the layout only.\n"
		"verify: every check the init makes on DISK under CVMINIT.CONF (release schema): GPT\n"
		"partitions, dm-verity superblocks, data sizes and every block against the root hash,\n"
		"LUKS2 headers against the header policy, volume-key pins (with a key); with\n"
		"--layout also GPT names, GUIDs, types and sizes. One 'ok'/'FAIL' line per check;\n"
		"exit 1 on any failure.\n");
}

static int cmd_build(int argc, char **argv, int check_only)
{
	static const struct option opts[] = {
		{ "layout", required_argument, NULL, 'l' },     { "out", required_argument, NULL, 'o' },
		{ "config-out", required_argument, NULL, 'c' }, { "manifest-out", required_argument, NULL, 'm' },
		{ "parts-dir", required_argument, NULL, 'p' },  { "qcow2", no_argument, NULL, 'q' },
		{ "quiet", no_argument, NULL, 'Q' },            { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct img_layout l;
	struct build_opts bo = { 0 };
	const char *layout = NULL;
	char err[600];
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'l': layout = optarg; break;
		case 'o': bo.out = optarg; break;
		case 'c': bo.config_out = optarg; break;
		case 'm': bo.manifest_out = optarg; break;
		case 'p': bo.parts_dir = optarg; break;
		case 'q': bo.qcow2 = true; break;
		case 'Q': bo.quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!layout || optind != argc || (!check_only && !bo.out)) {
		fprintf(stderr, "cvminit image %s: needs --layout LAYOUT%s\n", check_only ? "check" : "build",
			check_only ? "" : " and --out DISK");
		return EXIT_USAGE;
	}
	if (layout_load(&l, layout, err, sizeof(err)) < 0) {
		fprintf(stderr, "cvminit image: %s\n", err);
		return EXIT_FAIL;
	}
	if (check_only) {
		printf("cvminit image: %s: ok (%llu bytes)\n", layout, (unsigned long long)l.disk_bytes);
		return EXIT_OK;
	}
	return image_build(&l, &bo) < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_image(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "build"))
		return cmd_build(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "check"))
		return cmd_build(argc - 1, argv + 1, 1);
	if (!strcmp(argv[1], "verify"))
		return image_verify_main(argc - 1, argv + 1);
	fprintf(stderr, "cvminit image: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
