/* Key sources: reading a passphrase line (bounded, nothing kept on
 * overflow), the key-file source of test builds, and locked secrets. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pty.h>
#include <sys/stat.h>
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

/* The wrapped-key path needs mbedtls and is exercised in the QEMU scenarios
 * (wrapped-key*); here no request carries a challenge. */
int wrap_open(struct wrap_guest *w, const char *b64, struct secret *out)
{
	(void)w;
	(void)b64;
	(void)out;
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
	struct key_request req = { "jobs", "/dev/vda5", "keyfile", path, 3, NULL };
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
	struct key_request req = { "root", "/dev/vda3", "keyfile", path, 3, NULL };
	want = "k3y";
	CHECK_INT(keysource_unlock(&ctx, &req, try_key, NULL), 0);
	unlink(path);
}

static void empty_keyfile(void)
{
	char path[] = "/tmp/cvminit-key-XXXXXX";
	close(mkstemp(path));
	boot_ctx_init(&ctx);
	struct key_request req = { "root", "/dev/vda3", "keyfile", path, 3, NULL };
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
	struct key_request req = { "root", "/dev/vda3", "keyfile", "/k", 3, NULL };
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

static void run_prompt(const char *answers, int want_r, const char *want_reason, int want_opened)
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
		char buf[256];
		const char *a = answers;
		close(slave); /* the terminal's settings are read through the master */
		for (;;) {
			size_t got = 0;
			while (got < sizeof(buf) - 1) { /* read up to the prompt's ": " */
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
	boot_ctx_init(&pctx);
	pctx.devfs = dir;
	opened = 0;
	struct key_request req = { "jobs", "/dev/vda5", "prompt", NULL, 3, NULL };
	CHECK_INT(keysource_unlock(&pctx, &req, try_right, NULL), want_r);
	if (want_reason)
		CHECK_STR(pctx.log.reason, want_reason);
	CHECK_INT(opened, want_opened);
	close(slave); /* the operator sees the hang-up and leaves */
	int st = 0;
	waitpid(child, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(master);
	unlink(link);
	rmdir(dir);
}

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
