/* /proc/swaps parsing (swap must be verified off) and the sysctl table. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/context.h"
#include "init/harden.h"
#include "init/stages.h"
#include "tests/harness.h"

TH_DEFINE("harden");

static char paths[SWAPS_MAX][256];

static void no_swap(void)
{
	CHECK_INT(swaps_parse("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", paths, SWAPS_MAX), 0);
	CHECK_INT(swaps_parse("", paths, SWAPS_MAX), 0);
}

static void active_swaps_with_escapes(void)
{
	const char *text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
			   "/dev/vdb2                               partition\t1048572\t\t0\t\t-2\n"
			   "/swap\\040file                          file\t\t65532\t\t0\t\t-3\n";
	CHECK_INT(swaps_parse(text, paths, SWAPS_MAX), 2);
	CHECK_STR(paths[0], "/dev/vdb2");
	CHECK_STR(paths[1], "/swap file");
}

static void nul_escape_stays_literal(void)
{
	/* "\000" would decode to NUL and cut the path short (found by fuzzing) */
	const char *text = "Filename Type Size Used Priority\n/a\\000b partition 1 0 -2\n";
	CHECK_INT(swaps_parse(text, paths, SWAPS_MAX), 1);
	CHECK_STR(paths[0], "/a\\000b");
}

static void too_many_swaps(void)
{
	char text[4096] = "Filename Type Size Used Priority\n";
	for (int i = 0; i < SWAPS_MAX + 1; i++)
		strcat(text, "/dev/x partition 1 0 -2\n");
	CHECK_INT(swaps_parse(text, paths, SWAPS_MAX), -E2BIG);
}

static void sysctl_table_is_sane(void)
{
	CHECK(hardening_sysctl_count >= 10);
	for (size_t i = 0; i < hardening_sysctl_count; i++) {
		CHECK(hardening_sysctls[i].key[0] != '/');
		CHECK(strchr(hardening_sysctls[i].key, '.') == NULL);
	}
}

/* stage_harden against a stand-in /proc: what it writes, what it says. */
static char proc[64];
static struct boot_ctx ctx;
static char console_log[8192];
static int logfd;

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", proc, rel);
	for (char *p = path + strlen(proc) + 1; (p = strchr(p, '/')); *p++ = '/') {
		*p = '\0';
		mkdir(path, 0755);
	}
	th_write_file(path, text);
}

static const char *get(const char *rel)
{
	static char buf[64];
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", proc, rel);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void fake_proc(const char *swaps)
{
	strcpy(proc, "/tmp/cvminit-proc-XXXXXX");
	if (!mkdtemp(proc))
		TH_FAIL("mkdtemp");
	if (swaps)
		put("swaps", swaps);
	boot_ctx_init(&ctx);
	ctx.procfs = proc;
	logfd = memfd_create("console", 0);
	ctx.log.console_fd = logfd;
	ctx.log.stage = "harden";
}

static void done(void)
{
	ssize_t n = pread(logfd, console_log, sizeof(console_log) - 1, 0);
	console_log[n > 0 ? n : 0] = '\0';
	close(logfd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", proc);
	if (system(cmd) != 0)
		TH_FAIL("%s", cmd);
}

#define CHECK_LOGGED(text) CHECK_CONTAINS(console_log, (text))

static const char swaps_none[] = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

static void stage_applies_what_the_kernel_has(void)
{
	fake_proc(swaps_none);
	/* every sysctl but the last two exists (a regular file is not truncated
	 * by the write, as a /proc/sys one needs not be: so it starts empty) */
	for (size_t i = 0; i + 2 < hardening_sysctl_count; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "sys/%s", hardening_sysctls[i].key);
		put(rel, "");
	}
	CHECK_INT(stage_harden(&ctx), 0);
	CHECK_STR(get("sys/kernel/kptr_restrict"), "2");
	CHECK_STR(get("sys/kernel/sysrq"), "0");
	CHECK_STR(get("sys/fs/protected_regular"), "2");
	char want[128];
	snprintf(want, sizeof(want), "cvminit: harden: %zu hardening sysctls applied, 2 not in this kernel\n",
		 hardening_sysctl_count - 2);
	done();
	CHECK_LOGGED("cvminit: harden: swap off (verified: /proc/swaps lists none)\n");
	CHECK_LOGGED("cvminit: harden: sysctl fs/suid_dumpable: not in this kernel\n");
	CHECK_LOGGED("cvminit: harden: sysctl vm/swappiness: not in this kernel\n");
	CHECK_LOGGED(want);
}

static void stage_sysctls_can_be_disabled(void)
{
	char err[256];
	fake_proc(swaps_none);
	put("sys/kernel/sysrq", "1\n");
	CHECK_INT(config_parse_file(&ctx.cfg, "SYSCTL_HARDENING=no\n", 20, "test", err, sizeof(err)), 0);
	CHECK_INT(plan_build(&ctx.cfg, false, &ctx.plan, err, sizeof(err)), 0); /* stages read the plan */
	CHECK_INT(stage_harden(&ctx), 0);
	CHECK_STR(get("sys/kernel/sysrq"), "1\n"); /* untouched */
	done();
	CHECK_LOGGED("cvminit: harden: hardening sysctls disabled by SYSCTL_HARDENING=no\n");
}

static void stage_unwritable_sysctl_stops(void)
{
	fake_proc(swaps_none);
	put("sys/kernel/kptr_restrict/x", ""); /* a directory where the file should be */
	CHECK_INT(stage_harden(&ctx), -EISDIR);
	CHECK_STR(ctx.log.reason, "sysctl kernel/kptr_restrict: Is a directory");
	done();
}

static void stage_without_proc_swaps_stops(void)
{
	char want[160];
	fake_proc(NULL);
	snprintf(want, sizeof(want), "cannot read %s/swaps: No such file or directory", proc);
	CHECK_INT(stage_harden(&ctx), -ENOENT);
	CHECK_STR(ctx.log.reason, want);
	done();
}

static void stage_swap_that_will_not_go_stops(void)
{
	/* swapoff of a listed area fails: the stage stops, naming it */
	fake_proc("Filename Type Size Used Priority\n/nonexistent/cvminit-swap partition 1 0 -2\n");
	int r = stage_harden(&ctx);
	CHECK(r == -ENOENT || r == -EPERM); /* EPERM without CAP_SYS_ADMIN */
	CHECK(!strncmp(ctx.log.reason, "swapoff /nonexistent/cvminit-swap: ", 35));
	done();
}

static void stage_too_many_swaps_stops(void)
{
	char text[4096] = "Filename Type Size Used Priority\n";
	for (int i = 0; i < SWAPS_MAX + 1; i++)
		strcat(text, "/dev/x partition 1 0 -2\n");
	fake_proc(text);
	CHECK_INT(stage_harden(&ctx), -E2BIG);
	char want[64];
	snprintf(want, sizeof(want), "more than %d swap areas active", SWAPS_MAX);
	CHECK_STR(ctx.log.reason, want);
	done();
}

int main(void)
{
	TEST(no_swap);
	TEST(active_swaps_with_escapes);
	TEST(nul_escape_stays_literal);
	TEST(too_many_swaps);
	TEST(sysctl_table_is_sane);
	TEST(stage_applies_what_the_kernel_has);
	TEST(stage_sysctls_can_be_disabled);
	TEST(stage_unwritable_sysctl_stops);
	TEST(stage_without_proc_swaps_stops);
	TEST(stage_swap_that_will_not_go_stops);
	TEST(stage_too_many_swaps_stops);
	return TH_END();
}
