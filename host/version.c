#include <stdio.h>

#include "host/commands.h"

int cmd_version(int argc, char **argv)
{
	printf("cvminit %s (host tool)\n", CVMINIT_VERSION);
	return EXIT_OK;
}
