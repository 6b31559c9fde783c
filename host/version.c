#include <stdio.h>

#include "host/commands.h"

#ifndef CVMINIT_VERSION /* set by the Makefile from VERSION */
#define CVMINIT_VERSION "unknown"
#endif

int cmd_version(int argc, char **argv)
{
	printf("cvminit %s (host tool)\n", CVMINIT_VERSION);
	return EXIT_OK;
}
