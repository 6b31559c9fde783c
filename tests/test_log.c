/* Log line format, the kmsg echo rule, and the stage runner's bookkeeping. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init/stages.h"
#include "tests/harness.h"

TH_DEFINE("log");

static struct boot_ctx ctx;

static void capture(int fds[2])
{
	if (pipe(fds) < 0)
		TH_FAIL("pipe");
}

static char *drain(int fd)
{
	static char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void console_line_format(void)
{
	int con[2];
	capture(con);
	boot_ctx_init(&ctx);
	ctx.log.console_fd = con[1];
	ctx.log.stage = "partitions";
	log_line(&ctx.log, LOG_INFO, "root: %s", "x\ny");
	char *out = drain(con[0]);
	/* "[    0.123456] cvminit: partitions: root: x y" */
	CHECK(out[0] == '[');
	char *rest = strstr(out, "] ");
	CHECK(rest != NULL);
	if (rest)
		CHECK_STR(rest + 2, "cvminit: partitions: root: x y\n");
	log_line(&ctx.log, LOG_DEBUG, "hidden");
	close(con[1]);
	CHECK_STR(drain(con[0]), "");
	close(con[0]);
}

static void kmsg_record_and_echo_rule(void)
{
	int con[2], km[2];
	capture(con);
	capture(km);
	boot_ctx_init(&ctx);
	ctx.log.console_fd = con[1];
	ctx.log.kmsg_fd = km[1];
	ctx.log.console_loglevel = 4; /* "quiet": the kernel echoes levels 0-3 */
	ctx.log.stage = "FATAL";
	log_line(&ctx.log, LOG_CRIT, "config: bad");
	CHECK_STR(drain(km[0]), "<10>cvminit: FATAL: config: bad\n");
	log_line(&ctx.log, LOG_INFO, "ok");
	CHECK_STR(drain(km[0]), "<14>cvminit: FATAL: ok\n");
	close(con[1]);
	/* The CRIT line went to kmsg only (the kernel prints it); INFO to both. */
	char *out = drain(con[0]);
	CHECK(strstr(out, "bad") == NULL);
	CHECK(strstr(out, "cvminit: FATAL: ok\n") != NULL);
	close(con[0]);
	close(km[0]);
	close(km[1]);
}

static int calls;
static int ok_stage(struct boot_ctx *c)
{
	calls++;
	return 0;
}
static int failing_stage(struct boot_ctx *c)
{
	calls++;
	return log_fail(&c->log, -ENODEV, "disk %s missing", "p6");
}
static int silent_failing_stage(struct boot_ctx *c)
{
	return -EIO;
}

static void runner_stops_at_first_failure(void)
{
	const struct stage stages[] = { { "one", ok_stage }, { "two", failing_stage }, { "three", ok_stage } };
	boot_ctx_init(&ctx);
	calls = 0;
	CHECK_INT(boot_run(&ctx, stages, 3), -ENODEV);
	CHECK_INT(calls, 2);
	CHECK_STR(ctx.log.stage, "two");
	CHECK_STR(ctx.log.reason, "disk p6 missing");
}

static void runner_names_reasonless_failure(void)
{
	const struct stage stages[] = { { "x", silent_failing_stage } };
	boot_ctx_init(&ctx);
	CHECK_INT(boot_run(&ctx, stages, 1), -EIO);
	CHECK_STR(ctx.log.reason, "failed without a reason (bug)");
}

static void sequence_is_the_design_order(void)
{
	const char *want[] = { "early", "config", "modules", "tee", "partitions", "verity", "luks", "measure",
			       "attest", "root", "jobstore", "mounts", "harden", "switch_root" };
	CHECK_INT(boot_stage_count, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < boot_stage_count && i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_STR(boot_stages[i].name, want[i]);
}

/* The real stages are linked in the init only; the table needs symbols. */
#define STUB(name)                                                                                        \
	int name(struct boot_ctx *c)                                                                      \
	{                                                                                                 \
		return 0;                                                                                 \
	}
STUB(stage_early)
STUB(stage_config)
STUB(stage_modules)
STUB(stage_tee)
STUB(stage_partitions)
STUB(stage_verity)
STUB(stage_luks)
STUB(stage_measure)
STUB(stage_attest)
STUB(stage_root)
STUB(stage_jobstore)
STUB(stage_mounts)
STUB(stage_harden)
STUB(stage_switch_root)

int main(void)
{
	TEST(console_line_format);
	TEST(kmsg_record_and_echo_rule);
	TEST(runner_stops_at_first_failure);
	TEST(runner_names_reasonless_failure);
	TEST(sequence_is_the_design_order);
	return TH_END();
}
