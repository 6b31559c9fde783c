/*
 * Launcher stand-in for the QEMU scenarios: installed as the new root's
 * launcher (/sbin/init on the test disk) in place of NVFlare. It reports,
 * on /dev/console, what a launched program sees after cvminit's
 * switch_root, one fact per line, each prefixed "STANDIN: ", so scenarios
 * can judge the boot by exact lines:
 *
 *   STANDIN: NVFlare stand-in launched
 *   STANDIN: pid=<pid>
 *   STANDIN: argc=<n>                      then  STANDIN: argv[i]=<arg>
 *   STANDIN: cwd=<dir>
 *   STANDIN: mount <dev> <dir> <type> <opts>      every /proc/mounts line (octal
 *                                          escapes such as \040 kept as the kernel wrote them)
 *   STANDIN: swap <line> | STANDIN: swaps none    /proc/swaps data lines
 *   STANDIN: exists <path>=yes|no          for the TEE device nodes / configfs
 *   STANDIN: ...                           optional reports (see below)
 *   STANDIN: done
 *
 * then sync() and reboot(RB_POWER_OFF) when it is PID 1, else exit 0.
 *
 * Optional reports, chosen by arguments of the form --standin-X=VALUE (all
 * other arguments are only echoed, so the stand-in can sit behind any
 * launcher command line):
 *   --standin-cat=PATH     print PATH's content, one "STANDIN: cat PATH: <line>"
 *                          per line (e.g. an event log under /run), or
 *                          "STANDIN: cat PATH: error <strerror>"
 *   --standin-ls=DIR       "STANDIN: ls DIR: <name>" per entry (sorted), e.g. to
 *                          show that the initramfs contents were freed
 *   --standin-exists=PATH  one more "STANDIN: exists PATH=yes|no" line
 *   --standin-hex=PATH     "STANDIN: hex PATH: <the file as hex>" (binary files)
 *   --standin-prompt=TEXT  print TEXT (no prefix, no newline), read one line from
 *                          the console and print "STANDIN: read <line>" (tests of
 *                          the harness's --expect/--send)
 * When the stand-in is the initramfs /init itself, pass these after "--" on
 * the kernel command line (the kernel would turn "x=y" into environment).
 * New reports go into the table `reports` below.
 *
 * Static musl, no other libraries: musl-gcc -static -Os.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define PFX "STANDIN: "

static FILE *out;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs(PFX, out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

/* Open the console for writing; fall back to stderr, then stdout. */
static void open_console(void)
{
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0)
		out = fdopen(fd, "w");
	if (!out)
		out = fcntl(2, F_GETFD) >= 0 ? stderr : stdout;
	setvbuf(out, NULL, _IOLBF, 0);
}

/* Calls fn for each line of path (without its newline); returns -errno on
 * open failure, else the number of lines. */
static int each_line(const char *path, void (*fn)(const char *line, void *ctx), void *ctx)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int count = 0;

	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		fn(line, ctx);
		count++;
	}
	free(line);
	fclose(f);
	return count;
}

/* /proc/mounts: "dev dir type opts 0 0"; the two dump/pass zeros are dropped. */
static void mount_line(const char *line, void *ctx)
{
	char dev[256], dir[1024], type[64], opts[1024];

	(void)ctx;
	if (sscanf(line, "%255s %1023s %63s %1023s", dev, dir, type, opts) == 4)
		say("mount %s %s %s %s", dev, dir, type, opts);
	else
		say("mount %s", line);
}

static void report_mounts(void)
{
	int r = each_line("/proc/mounts", mount_line, NULL);

	if (r < 0)
		say("mounts error %s", strerror(-r));
}

static void swap_line(const char *line, void *ctx)
{
	int *n = ctx;

	/* The first line of /proc/swaps is its header. */
	if ((*n)++ == 0)
		return;
	say("swap %s", line);
}

static void report_swaps(void)
{
	int n = 0;
	int r = each_line("/proc/swaps", swap_line, &n);

	if (r < 0)
		say("swaps error %s", strerror(-r));
	else if (n <= 1)
		say("swaps none");
}

static void report_exists(const char *path)
{
	struct stat st;

	say("exists %s=%s", path, lstat(path, &st) == 0 ? "yes" : "no");
}

struct cat_ctx {
	const char *path;
};

static void cat_line(const char *line, void *ctx)
{
	say("cat %s: %s", ((struct cat_ctx *)ctx)->path, line);
}

static void report_cat(const char *path)
{
	struct cat_ctx c = { path };
	int r = each_line(path, cat_line, &c);

	if (r < 0)
		say("cat %s: error %s", path, strerror(-r));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void report_ls(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		say("ls %s: error %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 32) * sizeof(*names));
			if (!nn)
				break;
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		say("ls %s: %s", dir, names[i]);
		free(names[i]);
	}
	if (n == 0)
		say("ls %s: empty", dir);
	free(names);
}

static void report_prompt(const char *text)
{
	char buf[512];
	ssize_t n;
	size_t len = 0;
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		say("read error %s", strerror(errno));
		return;
	}
	if (write(fd, text, strlen(text)) < 0)
		say("write error %s", strerror(errno));
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, 1)) == 1 && buf[len] != '\n')
		len++;
	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n'))
		len--;
	buf[len] = '\0';
	close(fd);
	say("read %s", buf);
}

/* A binary file as one hex line, so a scenario can take it off the console
 * (e.g. the attestation report, to verify it on the host). */
static void report_hex(const char *path)
{
	static unsigned char buf[32768];
	static char hex[2 * sizeof(buf) + 1];
	static const char digits[] = "0123456789abcdef";
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		say("hex %s: error %s", path, strerror(errno));
		return;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[buf[i] >> 4];
		hex[2 * i + 1] = digits[buf[i] & 15];
	}
	hex[2 * len] = '\0';
	say("hex %s: %s", path, hex);
}

/* Optional reports selected by --standin-NAME=VALUE arguments. */
static const struct {
	const char *name;
	void (*fn)(const char *value);
} reports[] = {
	{ "--standin-cat=", report_cat },
	{ "--standin-ls=", report_ls },
	{ "--standin-exists=", report_exists },
	{ "--standin-prompt=", report_prompt },
	{ "--standin-hex=", report_hex },
};

int main(int argc, char **argv)
{
	char cwd[PATH_MAX];

	open_console();
	say("NVFlare stand-in launched");
	say("pid=%ld", (long)getpid());
	say("argc=%d", argc);
	for (int i = 0; i < argc; i++)
		say("argv[%d]=%s", i, argv[i]);
	if (getcwd(cwd, sizeof(cwd)))
		say("cwd=%s", cwd);
	else
		say("cwd error %s", strerror(errno));
	report_mounts();
	report_swaps();
	report_exists("/dev/sev-guest");
	report_exists("/dev/tdx_guest");
	report_exists("/sys/kernel/config");

	for (int i = 1; i < argc; i++)
		for (size_t r = 0; r < sizeof(reports) / sizeof(reports[0]); r++) {
			size_t len = strlen(reports[r].name);
			if (!strncmp(argv[i], reports[r].name, len))
				reports[r].fn(argv[i] + len);
		}

	say("done");
	if (getpid() == 1) {
		sync();
		reboot(RB_POWER_OFF);
		/* Only reached if the power-off failed: PID 1 must not exit. */
		say("power-off failed: %s", strerror(errno));
		for (;;)
			pause();
	}
	return 0;
}
