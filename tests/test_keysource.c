/* Key sources: reading a passphrase line (bounded, nothing kept on
 * overflow), the key-file source of test builds, and locked secrets. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/capability.h>
#include <pty.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

#include "crypto/keysource.h"
#include "tests/harness.h"

#ifdef CVMINIT_TEST_BUILD
TH_DEFINE("keysource-testbuild");
#else
TH_DEFINE("keysource");
#endif

static struct secret *key;

/* The wrapped-key path: crypto/wrap.c itself is tested in test_wrap; here a
 * stand-in answers by payload, so each outcome of a pasted line is reached. */
static int wrap_calls, offers, frees;
void wrap_guest_free(struct wrap_guest *w)
{
	frees += w != NULL;
}
int wrap_open(struct wrap_guest *w, const char *b64, struct secret *out)
{
	(void)w;
	wrap_calls++;
	if (!strcmp(b64, "stale"))
		return -ESTALE;
	if (!strcmp(b64, "tampered"))
		return -EPERM;
	if (!strcmp(b64, "unsigned"))
		return -EACCES;
	if (!strncmp(b64, "key=", 4) && strlen(b64 + 4) <= out->cap) {
		memcpy(out->data, b64 + 4, strlen(b64 + 4));
		out->len = strlen(b64 + 4);
		return 0;
	}
	return -EBADMSG;
}

static int feed(const char *text, size_t len)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	if (write(fds[1], text, len) != (ssize_t)len)
		TH_FAIL("short write");
	close(fds[1]);
	return fds[0];
}

static void reads_one_line(void)
{
	int fd = feed("s3cret pass\nnext\n", 17);
	CHECK_INT(prompt_read_line(fd, key), 0);
	CHECK_INT(key->len, 11);
	CHECK_MEM(key->data, "s3cret pass", 11);
	CHECK_INT(prompt_read_line(fd, key), 0);
	CHECK_INT(key->len, 4);
	CHECK_INT(prompt_read_line(fd, key), -ENODATA);
	close(fd);
}

static void carriage_return_ends_line(void)
{
	int fd = feed("abc\r\n", 5);
	CHECK_INT(prompt_read_line(fd, key), 0);
	CHECK_INT(key->len, 3);
	close(fd);
}

static void last_line_without_newline(void)
{
	int fd = feed("xyz", 3);
	CHECK_INT(prompt_read_line(fd, key), 0);
	CHECK_INT(key->len, 3);
	close(fd);
}

static void overflow_keeps_nothing(void)
{
	static char big[PASSPHRASE_MAX + 20];
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	int fd = feed(big, sizeof(big));
	CHECK_INT(prompt_read_line(fd, key), -E2BIG);
	CHECK_INT(key->len, 0);
	for (size_t i = 0; i < key->cap; i++)
		if (key->data[i]) {
			TH_FAIL("byte %zu not wiped", i);
			break;
		}
	close(fd);
}

#ifndef __SANITIZE_ADDRESS__
static void secret_refused_when_memory_cannot_be_locked(void)
{
	/* no CAP_IPC_LOCK and no lockable memory: a secret is refused, never
	 * kept in pageable memory */
	pid_t child = fork();
	if (child == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct none[2] = { { 0 } };
		struct rlimit zero = { 0, 0 };
		struct secret *s = NULL;
		if (syscall(SYS_capset, &h, none) != 0 || setrlimit(RLIMIT_MEMLOCK, &zero) != 0)
			exit(10);
		int r = secret_new(&s, 4096);
		exit(r == -EPERM && s == NULL ? 0 : 11);
	}
	int st = 0;
	waitpid(child, &st, 0);
	CHECK(WIFEXITED(st));
	CHECK_INT(WEXITSTATUS(st), 0);
}
#endif

static void overflow_on_the_last_line_keeps_nothing(void)
{
	/* no newline before the end of input: still too long, not truncated */
	static char big[PASSPHRASE_MAX + 20];
	memset(big, 'b', sizeof(big));
	int fd = feed(big, sizeof(big));
	CHECK_INT(prompt_read_line(fd, key), -E2BIG);
	CHECK_INT(key->len, 0);
	CHECK_INT(key->data[0], 0);
	close(fd);
}

static void secret_is_locked_and_cleared(void)
{
	unsigned char vec = 0;
	CHECK(key->cap >= PASSPHRASE_MAX);
	CHECK_INT(mincore(key->data, 1, &vec), 0);
	CHECK(vec & 1); /* resident: mlock'ed pages are */
	memcpy(key->data, "xx", 2);
	key->len = 2;
	secret_clear(key);
	CHECK_INT(key->len, 0);
	CHECK_INT(key->data[0], 0);
}

#ifdef CVMINIT_TEST_BUILD
static struct boot_ctx ctx;
static int tries;
static const char *want;

static int try_key(void *arg, const struct secret *k)
{
	tries++;
	return k->len == strlen(want) && !memcmp(k->data, want, k->len) ? 0 : -EPERM;
}

static void keyfile_source(void)
{
	char path[] = "/tmp/cvminit-key-XXXXXX";
	int fd = mkstemp(path);
	CHECK(write(fd, "key\0bytes", 9) == 9);
	close(fd);
	boot_ctx_init(&ctx);
	struct key_request req = { "jobs", "/dev/vda5", "keyfile", path, 3, NULL, NULL };
	want = "key\0bytes";
	tries = 0;
	/* binary keys: the length is the file's, not strlen */
	CHECK_INT(keysource_unlock(&ctx, &req, try_key, NULL), -EPERM);
	CHECK_INT(tries, 1);
	char reason[300];
	snprintf(reason, sizeof(reason), "the key file %s does not open jobs", path);
	CHECK_STR(ctx.log.reason, reason);
	unlink(path);
	req.keyfile = "/nonexistent/key";
	CHECK_INT(keysource_unlock(&ctx, &req, try_key, NULL), -ENOENT);
	CHECK_STR(ctx.log.reason, "key file /nonexistent/key for jobs: No such file or directory");
}

static void keyfile_matches(void)
{
	char path[] = "/tmp/cvminit-key-XXXXXX";
	int fd = mkstemp(path);
	CHECK(write(fd, "k3y", 3) == 3);
	close(fd);
	boot_ctx_init(&ctx);
	struct key_request req = { "root", "/dev/vda3", "keyfile", path, 3, NULL, NULL };
	want = "k3y";
	CHECK_INT(keysource_unlock(&ctx, &req, try_key, NULL), 0);
	unlink(path);
}

static void empty_keyfile(void)
{
	char path[] = "/tmp/cvminit-key-XXXXXX";
	close(mkstemp(path));
	boot_ctx_init(&ctx);
	struct key_request req = { "root", "/dev/vda3", "keyfile", path, 3, NULL, NULL };
	CHECK_INT(keysource_unlock(&ctx, &req, try_key, NULL), -EINVAL);
	unlink(path);
}
#else
static struct boot_ctx ctx;
static int never(void *arg, const struct secret *k)
{
	return 0;
}

static void release_has_no_keyfile_source(void)
{
	boot_ctx_init(&ctx);
	struct key_request req = { "root", "/dev/vda3", "keyfile", "/k", 3, NULL, NULL };
	CHECK_INT(keysource_unlock(&ctx, &req, never, NULL), -EINVAL);
	CHECK_STR(ctx.log.reason, "key source 'keyfile' is not available in this build");
}
#endif

/* The console prompt on a real terminal (a pty stands in for /dev/console):
 * echo is off while reading, the prompt text is exact, wrong answers count,
 * and the last failure names the tries. A child plays the operator. */
static struct boot_ctx pctx;
static int opened;
static const char *right = "correct horse";

static int try_right(void *arg, const struct secret *k)
{
	opened++;
	return k->len == strlen(right) && !memcmp(k->data, right, k->len) ? 0 : -EPERM;
}

static char console_log[8192];
/* what every prompt of the plan accepts in the next run (boot_ctx_init
 * builds the defaults' plan, whose rules depend on the build's kind) */
static enum typed_rule typed = TYPED_ACCEPT;
static bool signers; /* JOBS_OWNER_PUBKEY / ROOT_DELIVERY_PUBKEY pinned */
static enum plan_prompt offered_for;
static bool offer_none; /* the offer finds no TEE report */

/* crypto/challenge.c's stand-in: a challenge for this prompt, counted. */
static int fake_offer(struct boot_ctx *c, enum plan_prompt prompt, const char *label, struct wrap_guest **out);
static struct wrap_guest *const any_guest = (struct wrap_guest *)&opened; /* never dereferenced */

/* answers: one line per prompt; a line "EOF" hangs up instead of answering. */
static void run_request(struct key_request *req, const char *answers, int want_r, const char *want_reason,
			int want_opened)
{
	int master, slave;
	char dir[] = "/tmp/cvminit-pty-XXXXXX", link[64], name[64];
	if (openpty(&master, &slave, name, NULL, NULL) < 0 || !mkdtemp(dir)) {
		TH_FAIL("openpty");
		return;
	}
	snprintf(link, sizeof(link), "%s/console", dir);
	CHECK(symlink(name, link) == 0);
	pid_t child = fork();
	if (child == 0) { /* the operator: answers each prompt, and checks echo is off */
		static char buf[PROMPT_LINE_MAX + 64];
		const char *a = answers;
		close(slave); /* the terminal's settings are read through the master */
		for (;;) {
			size_t got = 0;
			while (got < 255) { /* read up to the prompt's ": " */
				ssize_t n = read(master, buf + got, 1);
				if (n <= 0)
					_exit(0);
				got += (size_t)n;
				if (got >= 2 && buf[got - 2] == ':' && buf[got - 1] == ' ')
					break;
			}
			struct termios t;
			tcgetattr(master, &t);
			if (t.c_lflag & ECHO)
				_exit(3); /* echo must be off before the prompt shows */
			const char *nl = strchr(a, '\n');
			if (nl && !strncmp(a, "EOF\n", 4))
				_exit(0); /* hang up: the last master goes away */
			if (!nl) /* no answer left: wait until the other side hangs up */
				while (read(master, buf, sizeof(buf)) > 0)
					;
			if (!nl)
				_exit(0);
			if (write(master, a, (size_t)(nl - a + 1)) < 0)
				_exit(4);
			a = nl + 1;
		}
	}
	close(master); /* only the operator holds it: its exit is a hang-up */
	int logfd = memfd_create("console", 0);
	boot_ctx_init(&pctx);
	for (int i = 0; i < PROMPT__COUNT; i++)
		pctx.plan.typed[i] = typed;
	pctx.plan.jobs_signer_set = signers;
	pctx.plan.root_signer_set = signers;
	pctx.devfs = dir;
	pctx.log.console_fd = logfd;
	opened = 0;
	wrap_calls = 0;
	CHECK_INT(keysource_unlock(&pctx, req, try_right, NULL), want_r);
	if (want_reason)
		CHECK_STR(pctx.log.reason, want_reason);
	CHECK_INT(opened, want_opened);
	close(slave); /* the operator sees the hang-up and leaves */
	int st = 0;
	waitpid(child, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ssize_t n = pread(logfd, console_log, sizeof(console_log) - 1, 0);
	console_log[n > 0 ? n : 0] = '\0';
	close(logfd);
	unlink(link);
	rmdir(dir);
}

static void run_prompt(const char *answers, int want_r, const char *want_reason, int want_opened)
{
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, NULL, NULL };
	run_request(&req, answers, want_r, want_reason, want_opened);
}

#define CHECK_LOGGED(text) CHECK_CONTAINS(console_log, (text))

static void prompt_second_try_opens(void)
{
	run_prompt("wrong\ncorrect horse\n", 0, NULL, 2);
}

static void prompt_three_wrong_stops(void)
{
	run_prompt("a\nb\nc\n", -EPERM, "no valid passphrase for jobs after 3 tries", 3);
}

static void prompt_empty_counts_as_wrong(void)
{
	run_prompt("\n\ncorrect horse\n", 0, NULL, 1);
}

static void prompt_wrong_answers_are_counted(void)
{
	run_prompt("a\nb\nc\n", -EPERM, NULL, 3);
	CHECK_LOGGED("cvminit: init: wrong passphrase for jobs (2 tries left)\n");
	CHECK_LOGGED("cvminit: init: wrong passphrase for jobs (1 try left)\n");
	CHECK_LOGGED("cvminit: init: wrong passphrase for jobs (0 tries left)\n");
	CHECK(!strstr(console_log, "Passphrase")); /* the prompt goes to the terminal, not the log */
}

static void prompt_hang_up_stops(void)
{
	run_prompt("EOF\n", -ENODATA, "no input on the console for the jobs passphrase", 0);
}

static void prompt_no_console_stops(void)
{
	struct key_request req = { "root", "/dev/vda3", "prompt", NULL, 3, NULL, NULL };
	boot_ctx_init(&pctx);
	pctx.plan.typed[PROMPT_ROOT] = TYPED_ACCEPT;
	pctx.devfs = "/nonexistent";
	opened = 0;
	CHECK_INT(keysource_unlock(&pctx, &req, try_right, NULL), -ENOENT);
	CHECK_STR(pctx.log.reason, "console prompt failed: No such file or directory");
	CHECK_INT(opened, 0);
}

static char *repeat(char c, size_t n, const char *tail)
{
	char *s = malloc(n + strlen(tail) + 1);
	memset(s, c, n);
	strcpy(s + n, tail);
	return s;
}

static void prompt_overlong_passphrase_is_a_try(void)
{
	/* 600 bytes: longer than a passphrase may be, never tried or truncated */
	char *answers = repeat('p', 600, "\ncorrect horse\n");
	run_prompt(answers, 0, NULL, 1);
	CHECK_LOGGED("cvminit: init: passphrase for jobs longer than 512 bytes (2 tries left)\n");
	free(answers);
}

static void prompt_overlong_passphrase_with_wrap_is_a_try(void)
{
	/* with wrapped lines allowed the line buffer is larger; a long line
	 * that is not a wrapped one is still a passphrase, and too long */
	char *answers = repeat('p', 600, "\ncorrect horse\n");
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, any_guest, NULL };
	run_request(&req, answers, 0, NULL, 1);
	CHECK_LOGGED("cvminit: init: passphrase for jobs longer than 512 bytes (2 tries left)\n");
	CHECK_INT(wrap_calls, 0);
	free(answers);
}

static void wrapped_lines_rejected_with_reasons(void)
{
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, any_guest, NULL };
	run_request(&req, "cvminit-wrapped: stale\ncvminit-wrapped: tampered\ncvminit-wrapped: junk\n", -EPERM,
		    "no valid passphrase or wrapped key for jobs after 3 tries", 0);
	CHECK_INT(wrap_calls, 3);
	CHECK_LOGGED("cvminit: init: wrapped key rejected: it was made for another challenge, not this boot's "
		     "(replayed?) (2 tries left)\n");
	CHECK_LOGGED("cvminit: init: wrapped key rejected: it does not decrypt (tampered or corrupted) (1 try left)\n");
	CHECK_LOGGED("cvminit: init: wrapped key rejected: not a valid cvminit-wrapped line (0 tries left)\n");
}

static void wrapped_key_opens(void)
{
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, any_guest, NULL };
	run_request(&req, "cvminit-wrapped: key=correct horse\n", 0, NULL, 1);
	CHECK_INT(wrap_calls, 1);
}

static void wrapped_key_that_does_not_open_then_passphrase(void)
{
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, any_guest, NULL };
	run_request(&req, "cvminit-wrapped: key=not it\ncorrect horse\n", 0, NULL, 2);
	CHECK_LOGGED("cvminit: init: the unwrapped key does not open jobs (2 tries left)\n");
}

static void wrapped_line_ignored_without_challenge(void)
{
	/* no challenge this boot: a pasted line is only a (wrong) passphrase */
	run_prompt("cvminit-wrapped: key=correct horse\ncorrect horse\n", 0, NULL, 2);
	CHECK_INT(wrap_calls, 0);
}

/* The release policy at p5's prompt (the host reads the console): only
 * wrapped lines, unless JOBS_TYPED_PASSPHRASE=allow, which warns. */
static void typed_passphrase_refused_at_wrapped_only_prompt(void)
{
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, any_guest, NULL };
	typed = TYPED_WRAPPED_ONLY;
	/* the right passphrase, typed: refused and counted; then the wrapped line */
	run_request(&req, "correct horse\ncvminit-wrapped: key=correct horse\n", 0, NULL, 1);
	typed = TYPED_ACCEPT;
	CHECK_INT(wrap_calls, 1);
	CHECK_LOGGED("cvminit: init: jobs: only a cvminit-wrapped line is accepted at this prompt, not a typed "
		     "passphrase (JOBS_TYPED_PASSPHRASE=refuse)\n");
	CHECK_LOGGED("cvminit: init: typed passphrase refused for jobs: only a cvminit-wrapped line is accepted "
		     "here, the host reads the console (2 tries left)\n");
}

static void typed_passphrases_use_up_the_tries(void)
{
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, any_guest, NULL };
	typed = TYPED_WRAPPED_ONLY;
	run_request(&req, "correct horse\n\nb\n", -EPERM, "no valid wrapped key for jobs after 3 tries", 0);
	typed = TYPED_ACCEPT;
	CHECK_INT(wrap_calls, 0);
	CHECK_LOGGED("here, the host reads the console (2 tries left)\n");
	CHECK_LOGGED("here, the host reads the console (1 try left)\n");
	CHECK_LOGGED("here, the host reads the console (0 tries left)\n");
}

static void wrapped_only_without_challenge_stops(void)
{
	/* no TEE report, so no challenge: nothing could ever be accepted */
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, NULL, NULL };
	typed = TYPED_WRAPPED_ONLY;
	run_request(&req, "correct horse\n", -ENOKEY,
		    "jobs: only a cvminit-wrapped key is accepted (JOBS_TYPED_PASSPHRASE=refuse), but this boot has no "
		    "TEE report to wrap it to: no key can open jobs", 0);
	typed = TYPED_ACCEPT;
}

static void typed_passphrase_allowed_warns_every_boot(void)
{
	static const char warn[] = "cvminit: init: jobs: JOBS_TYPED_PASSPHRASE=allow: a passphrase typed at this "
				   "prompt is read by the host; paste a cvminit-wrapped line instead where you can\n";
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, any_guest, NULL };
	typed = TYPED_ACCEPT_WARN;
	for (int boot = 0; boot < 2; boot++) {
		run_request(&req, "correct horse\n", 0, NULL, 1);
		CHECK_LOGGED(warn);
	}
	typed = TYPED_ACCEPT;
	run_request(&req, "correct horse\n", 0, NULL, 1);
	CHECK(!strstr(console_log, "JOBS_TYPED_PASSPHRASE")); /* test rules: no warning */
}

static void refused_prompt_never_asks(void)
{
	/* the config stage refuses these first; the prompt itself holds too */
	struct key_request req = { "root (recovery)", "/dev/vda3", "prompt", NULL, 3, NULL, NULL };
	typed = TYPED_ACCEPT;
	boot_ctx_init(&pctx);
	pctx.plan.typed[PROMPT_ROOT_RECOVERY] = TYPED_REFUSE;
	pctx.devfs = "/nonexistent"; /* would fail differently if it tried to ask */
	opened = 0;
	CHECK_INT(keysource_unlock(&pctx, &req, try_right, NULL), -EPERM);
	CHECK_STR(pctx.log.reason, "root (recovery): a key typed on the console is read by the host: the release "
				   "policy allows no prompt here");
	CHECK_INT(opened, 0);
}

static void prompt_line_for_other_questions(void)
{
	/* keysource_prompt_line: one question, "<what>: ", echo off */
	int master, slave;
	char dir[] = "/tmp/cvminit-pty-XXXXXX", link[64], name[64], buf[128];
	struct secret *line = NULL;
	CHECK(openpty(&master, &slave, name, NULL, NULL) == 0 && mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/console", dir);
	CHECK(symlink(name, link) == 0);
	pid_t child = fork();
	if (child == 0) { /* the operator: the prompt must read exactly so, echo off */
		size_t got = 0;
		close(slave);
		while (got < sizeof(buf) - 1 && read(master, buf + got, 1) == 1)
			if (++got >= 2 && buf[got - 2] == ':' && buf[got - 1] == ' ')
				break;
		buf[got] = '\0';
		struct termios t;
		tcgetattr(master, &t);
		if (strcmp(buf, "TPM PIN for root: ") || (t.c_lflag & ECHO))
			_exit(5);
		if (write(master, "0123-4567\n", 10) != 10)
			_exit(4);
		while ((got = (size_t)read(master, buf, sizeof(buf))) > 0 && got < sizeof(buf))
			if (memmem(buf, got, "0123", 4))
				_exit(6); /* echoed */
		_exit(0);
	}
	boot_ctx_init(&pctx);
	pctx.devfs = dir;
	CHECK_INT(secret_new(&line, 64), 0);
	CHECK_INT(keysource_prompt_line(&pctx, "TPM PIN for root", line), 0);
	CHECK_INT(line->len, 9);
	CHECK_MEM(line->data, "0123-4567", 9);
	close(slave);
	close(master);
	int st = 0;
	waitpid(child, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	secret_free(line);
	unlink(link);
	rmdir(dir);
}

static int fake_offer(struct boot_ctx *c, enum plan_prompt prompt, const char *label, struct wrap_guest **out)
{
	(void)c;
	(void)label;
	offers++;
	offered_for = prompt;
	*out = offer_none ? NULL : any_guest;
	return 0;
}

/* A pinned sender: the challenge is made just before the prompt and freed
 * after it; an unsigned line is refused with its own message and counted. */
static void signed_only_prompt_offers_then_frees(void)
{
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, NULL, fake_offer };
	typed = TYPED_WRAPPED_ONLY;
	signers = true;
	offers = frees = 0;
	run_request(&req, "cvminit-wrapped: unsigned\ncvminit-wrapped: key=correct horse\n", 0, NULL, 1);
	typed = TYPED_ACCEPT;
	signers = false;
	CHECK_INT(offers, 1);
	CHECK_INT(offered_for, PROMPT_JOBS);
	CHECK_INT(frees, 1);
	CHECK_INT(wrap_calls, 2);
	CHECK_LOGGED("cvminit: init: jobs: only a cvminit-wrapped line is accepted at this prompt, not a typed "
		     "passphrase (JOBS_OWNER_PUBKEY is set)\n");
	CHECK_LOGGED("cvminit: init: wrapped key rejected: not signed for jobs by the key pinned in JOBS_OWNER_PUBKEY "
		     "(2 tries left)\n");
}

static void root_prompt_signed_only_without_tee_stops(void)
{
	struct key_request req = { "root (provisioning)", "/dev/vda3", "prompt", NULL, 3, NULL, fake_offer };
	typed = TYPED_WRAPPED_ONLY;
	signers = true;
	offer_none = true;
	offers = frees = 0;
	run_request(&req, "provisioning secret\n", -ENOKEY,
		    "root (provisioning): only a cvminit-wrapped key is accepted (ROOT_DELIVERY_PUBKEY is set), but this "
		    "boot has no TEE report to wrap it to: no key can open root (provisioning)",
		    0);
	typed = TYPED_ACCEPT;
	signers = false;
	offer_none = false;
	CHECK_INT(offers, 1);
	CHECK_INT(offered_for, PROMPT_ROOT_PROVISION);
	CHECK_INT(frees, 0);
}

static void refused_prompt_makes_no_challenge(void)
{
	struct key_request req = { "root", "/dev/vda3", "prompt", NULL, 3, NULL, fake_offer };
	typed = TYPED_REFUSE;
	offers = 0;
	run_request(&req, "typed\n", -EPERM,
		    "root: a key typed on the console is read by the host: the release policy allows no prompt here", 0);
	typed = TYPED_ACCEPT;
	CHECK_INT(offers, 0);
}

int main(void)
{
	if (secret_new(&key, PASSPHRASE_MAX + 1) < 0) {
		printf("not ok - unit/keysource/secret_new\n");
		return 1;
	}
	TEST(reads_one_line);
	TEST(carriage_return_ends_line);
	TEST(last_line_without_newline);
	TEST(overflow_keeps_nothing);
	TEST(secret_is_locked_and_cleared);
	TEST(prompt_second_try_opens);
	TEST(prompt_three_wrong_stops);
	TEST(prompt_empty_counts_as_wrong);
	TEST(overflow_on_the_last_line_keeps_nothing);
#ifndef __SANITIZE_ADDRESS__ /* ASan replaces mlock with a no-op: the coverage build runs it */
	TEST(secret_refused_when_memory_cannot_be_locked);
#endif
	TEST(prompt_wrong_answers_are_counted);
	TEST(prompt_hang_up_stops);
	TEST(prompt_no_console_stops);
	TEST(prompt_overlong_passphrase_is_a_try);
	TEST(prompt_overlong_passphrase_with_wrap_is_a_try);
	TEST(wrapped_lines_rejected_with_reasons);
	TEST(wrapped_key_opens);
	TEST(wrapped_key_that_does_not_open_then_passphrase);
	TEST(wrapped_line_ignored_without_challenge);
	TEST(prompt_line_for_other_questions);
	TEST(typed_passphrase_refused_at_wrapped_only_prompt);
	TEST(typed_passphrases_use_up_the_tries);
	TEST(wrapped_only_without_challenge_stops);
	TEST(typed_passphrase_allowed_warns_every_boot);
	TEST(refused_prompt_never_asks);
	TEST(signed_only_prompt_offers_then_frees);
	TEST(root_prompt_signed_only_without_tee_stops);
	TEST(refused_prompt_makes_no_challenge);
#ifdef CVMINIT_TEST_BUILD
	TEST(keyfile_source);
	TEST(keyfile_matches);
	TEST(empty_keyfile);
#else
	TEST(release_has_no_keyfile_source);
#endif
	secret_free(key);
	return TH_END();
}
