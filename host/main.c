/* cvminit host tool: image-builder side commands (initramfs, measurements,
 * kernel config checks, reports). Each subcommand lives with its domain. */
#include <stdio.h>
#include <string.h>

#include "host/commands.h"

struct command {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
#define CMD(name, help) { #name, help, cmd_##name },
#include "host/commands.def"
#undef CMD
};

static void usage(FILE *out)
{
	fprintf(out, "usage: cvminit COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'cvminit COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		argv[1] = "version";
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "cvminit: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
