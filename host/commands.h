#ifndef CVMINIT_HOST_COMMANDS_H
#define CVMINIT_HOST_COMMANDS_H

/* Exit statuses shared by every subcommand. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,  /* the operation ran and failed, or a verdict is "no" */
	EXIT_USAGE = 2, /* bad arguments */
};

#define CMD(name, help) int cmd_##name(int argc, char **argv);
#include "host/commands.def"
#undef CMD

#endif
