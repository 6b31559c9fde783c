/* cvminit: the /init of a confidential VM's initramfs. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init/stages.h"

#ifndef CVMINIT_VERSION /* set by the Makefile from VERSION */
#define CVMINIT_VERSION "unknown"
#endif

#ifdef CVMINIT_TEST_BUILD
#define BUILD_KIND "TEST build: test-only key sources and TEE mock allowed, NOT FOR PRODUCTION"
#else
#define BUILD_KIND "release build: no TEE mock, no key-file key source"
#endif

static struct boot_ctx ctx;

int main(int argc, char **argv)
{
	if (getpid() != 1) {
		if (argc > 1 && !strcmp(argv[1], "--version")) {
			printf("cvminit %s (%s)\n", CVMINIT_VERSION, BUILD_KIND);
			return 0;
		}
		fprintf(stderr, "cvminit: this is an initramfs /init and runs only as PID 1 "
				"('--version' describes the build)\n");
		return 1;
	}
	boot_ctx_init(&ctx);
	if (boot_run(&ctx, boot_stages, boot_stage_count) == 0)
		log_fail(&ctx.log, -1, "the boot sequence ended without starting the launcher (bug)");
	fatal_stop(&ctx);
}
