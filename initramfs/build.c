/* cvminit initramfs build: a reproducible newc initramfs (see README.md). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/commands.h"
#include "initramfs/configcheck.h"
#include "initramfs/cpio.h"
#include "initramfs/fileio.h"
#include "initramfs/modclosure.h"

#define PFX "cvminit initramfs: "

/* The directories every cvminit initramfs has. */
static const char *const base_dirs[] = {
	"/dev", "/proc", "/sys", "/run", "/sysroot", "/tmp", "/etc", "/etc/cvminit",
};
#define INIT_PATH "/init"
#define CONFIG_PATH "/etc/cvminit/cvminit.conf"
#define MODLOAD_PATH "/etc/cvminit/modules.load"
#define MODULES_ROOT "/lib/modules"
#define MODNAME_MAX 255

struct compressor {
	const char *name;
	const char *argv[10]; /* argv[0] NULL: no compression */
};

/* Deterministic settings: no names or times in the output, one thread (xz's
 * output depends on the thread count; pinned for zstd too), and for xz the
 * CRC32 check the kernel's documentation asks for (xz's default is CRC64).
 * The child gets a clean environment: GZIP, XZ_OPT, XZ_DEFAULTS, ZSTD_CLEVEL, ZSTD_NBTHREADS
 * would otherwise change the bytes. */
static const struct compressor compressors[] = {
	{ "none", { NULL } },
	{ "gzip", { "gzip", "-n", "-9", "-c", NULL } },
	{ "xz", { "xz", "--format=xz", "--check=crc32", "--threads=1", "-9", "-c", NULL } },
	{ "zstd", { "zstd", "-19", "--threads=1", "-q", "-c", NULL } },
};
#define DEFAULT_COMPRESS "gzip"

struct strlist {
	const char **v;
	size_t n;
};

struct opts {
	const char *init, *config, *kmoddir, *kver, *output;
	const struct compressor *comp;
	struct strlist modules, modules_from, files;
	int list;
	int have_epoch;
	uint32_t epoch;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cvminit initramfs build --init FILE [options]\n"
		"       cvminit initramfs closure --kernel-modules DIR [--kver K] --modules A,B,...\n"
		"                                 [--modules-from FILE]\n"
		"\n"
		"Writes a reproducible initramfs: a newc cpio with sorted entries, one mtime,\n"
		"uid/gid 0, normalised modes and inode numbers, optionally compressed.\n"
		"\n"
		"  --init FILE              becomes /init (mode 0755); required\n"
		"  --config FILE            becomes " CONFIG_PATH " (0644)\n"
		"  --kernel-modules DIR     a kernel's lib/modules/<kver> directory (modules.dep,\n"
		"                           modules.softdep, modules.alias, modules.builtin)\n"
		"  --kver KVER              the kernel release (default: the last component of DIR)\n"
		"  --modules A,B,...        modules to load, as modprobe names them (repeatable)\n"
		"  --modules-from FILE      one module name per line, '#' comments (repeatable)\n"
		"                           The closure (modules.dep + pre:/post: softdeps) goes to\n"
		"                           " MODULES_ROOT "/<kver>/..., its load order to " MODLOAD_PATH "\n"
		"  --file SRC:DEST[:MODE]   an extra file; MODE octal <= 0777 (default 0755 if SRC\n"
		"                           is executable, else 0644) (repeatable)\n"
		"  --output FILE            write the archive (atomically: temp file + rename)\n"
		"  --compress none|gzip|xz|zstd   (default " DEFAULT_COMPRESS ")\n"
		"  --source-date-epoch N    mtime of every entry (default: $SOURCE_DATE_EPOCH, else 0)\n"
		"  --list                   print the entries, sorted (with or without --output)\n"
		"\n"
		"closure prints the load order (paths relative to DIR, as in modules.dep), then\n"
		"'builtin NAME' for each name that is built into the kernel.\n"
		"\n"
		"Sources must be regular files; a symbolic link as the last component of a\n"
		"source path is refused. Exit status: 0 done, 1 failed, 2 usage error.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs(PFX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(cvminit initramfs build --help for the options)\n", stderr);
	return EXIT_USAGE;
}

static int strlist_add(struct strlist *l, const char *s)
{
	const char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	l->v = v;
	l->v[l->n++] = s;
	return 0;
}

/* Strict decimal 0..4294967295. */
static int parse_epoch(const char *s, uint32_t *out)
{
	if (!s || !*s)
		return -1;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Octal permission bits, at most 0777. */
static int parse_perm(const char *s, unsigned *out)
{
	if (!*s || strlen(s) > 4)
		return -1;
	unsigned v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return -1;
		v = v * 8 + (unsigned)(*p - '0');
	}
	if (v > 0777)
		return -1;
	*out = v;
	return 0;
}

static int name_ok(const char *s, size_t len)
{
	if (len == 0 || len > MODNAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || c == '/' || c == ',' || c == '#')
			return 0;
	}
	return 1;
}

/* closure_only: `cvminit initramfs closure`, which takes only the module options. */
static int parse_args(int argc, char **argv, struct opts *o, int closure_only)
{
	static const char *const with_value[] = {
		"--init", "--config", "--kernel-modules", "--kver", "--modules", "--modules-from",
		"--file", "--output", "--compress", "--source-date-epoch",
	};
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--list") && !closure_only) {
			o->list = 1;
			continue;
		}
		const char *opt = NULL, *val = NULL;
		size_t optlen = strcspn(arg, "=");
		for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			if (strlen(with_value[k]) == optlen && !strncmp(arg, with_value[k], optlen))
				opt = with_value[k];
		if (opt && closure_only && strcmp(opt, "--kernel-modules") && strcmp(opt, "--modules") &&
		    strcmp(opt, "--modules-from") && strcmp(opt, "--kver"))
			opt = NULL;
		if (!opt)
			return usage_error("unknown argument '%s'", arg);
		if (arg[optlen] == '=')
			val = arg + optlen + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return usage_error("%s needs a value", opt);

		const char **single = NULL;
		if (!strcmp(opt, "--init"))
			single = &o->init;
		else if (!strcmp(opt, "--config"))
			single = &o->config;
		else if (!strcmp(opt, "--kernel-modules"))
			single = &o->kmoddir;
		else if (!strcmp(opt, "--kver"))
			single = &o->kver;
		else if (!strcmp(opt, "--output"))
			single = &o->output;
		if (single) {
			if (*single)
				return usage_error("%s given twice", opt);
			if (!*val)
				return usage_error("%s needs a non-empty value", opt);
			*single = val;
		} else if (!strcmp(opt, "--modules")) {
			if (strlist_add(&o->modules, val))
				return usage_error("out of memory");
		} else if (!strcmp(opt, "--modules-from")) {
			if (strlist_add(&o->modules_from, val))
				return usage_error("out of memory");
		} else if (!strcmp(opt, "--file")) {
			if (strlist_add(&o->files, val))
				return usage_error("out of memory");
		} else if (!strcmp(opt, "--compress")) {
			if (o->comp)
				return usage_error("--compress given twice");
			for (size_t k = 0; k < sizeof(compressors) / sizeof(compressors[0]); k++)
				if (!strcmp(val, compressors[k].name))
					o->comp = &compressors[k];
			if (!o->comp)
				return usage_error("--compress '%s': choose none, gzip, xz or zstd", val);
		} else if (!strcmp(opt, "--source-date-epoch")) {
			if (o->have_epoch)
				return usage_error("--source-date-epoch given twice");
			if (parse_epoch(val, &o->epoch))
				return usage_error("--source-date-epoch '%s': want seconds since 1970, 0..4294967295", val);
			o->have_epoch = 1;
		}
	}
	if (closure_only) {
		if (!o->kmoddir)
			return usage_error("--kernel-modules DIR is required");
		return EXIT_OK;
	}
	if (!o->init)
		return usage_error("--init FILE is required");
	if (!o->output && !o->list)
		return usage_error("nothing to do: give --output FILE and/or --list");
	if ((o->modules.n || o->modules_from.n) && !o->kmoddir)
		return usage_error("--modules/--modules-from need --kernel-modules DIR");
	if (o->kver && !o->kmoddir)
		return usage_error("--kver needs --kernel-modules DIR");
	if (!o->comp) {
		for (size_t k = 0; k < sizeof(compressors) / sizeof(compressors[0]); k++)
			if (!strcmp(compressors[k].name, DEFAULT_COMPRESS))
				o->comp = &compressors[k];
	}
	if (!o->have_epoch) {
		const char *env = getenv("SOURCE_DATE_EPOCH");
		if (env) {
			if (parse_epoch(env, &o->epoch))
				return usage_error("SOURCE_DATE_EPOCH='%s': want seconds since 1970, 0..4294967295", env);
		} else {
			o->epoch = 0;
		}
		o->have_epoch = 1;
	}
	return EXIT_OK;
}

/* Module names: from --modules (comma-separated) and --modules-from files. */
static int collect_modules(const struct opts *o, struct strlist *names, char ***owned, size_t *nowned)
{
	for (size_t i = 0; i < o->modules.n; i++) {
		const char *s = o->modules.v[i];
		for (;;) {
			size_t len = strcspn(s, ",");
			while (len && (*s == ' ' || *s == '\t')) {
				s++;
				len--;
			}
			while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
				len--;
			if (!name_ok(s, len)) {
				fprintf(stderr, PFX "--modules '%s': '%.*s' is not a module name\n",
					o->modules.v[i], (int)len, s);
				return EXIT_USAGE;
			}
			char *copy = strndup(s, len);
			char **ow = realloc(*owned, (*nowned + 1) * sizeof(*ow));
			if (!copy || !ow) {
				free(copy);
				if (ow)
					*owned = ow;
				fprintf(stderr, PFX "out of memory\n");
				return EXIT_FAIL;
			}
			*owned = ow;
			(*owned)[(*nowned)++] = copy;
			if (strlist_add(names, copy)) {
				fprintf(stderr, PFX "out of memory\n");
				return EXIT_FAIL;
			}
			s += strcspn(s, ",");
			if (!*s)
				break;
			s++;
		}
	}
	for (size_t i = 0; i < o->modules_from.n; i++) {
		const char *path = o->modules_from.v[i];
		unsigned char *data;
		size_t len;
		char err[512];
		if (ifs_read_file(path, 0, &data, &len, NULL, err, sizeof(err))) {
			fprintf(stderr, PFX "--modules-from: %s\n", err);
			return EXIT_FAIL;
		}
		char **ow = realloc(*owned, (*nowned + 1) * sizeof(*ow));
		if (!ow) {
			free(data);
			fprintf(stderr, PFX "out of memory\n");
			return EXIT_FAIL;
		}
		*owned = ow;
		(*owned)[(*nowned)++] = (char *)data; /* names point into it */
		char *cur = (char *)data;
		size_t ln = 0;
		while (cur) {
			char *line = cur;
			char *nl = strchr(cur, '\n');
			if (nl) {
				*nl = '\0';
				cur = nl + 1;
			} else {
				cur = NULL;
			}
			ln++;
			char *hash = strchr(line, '#');
			if (hash)
				*hash = '\0';
			line += strspn(line, " \t\r");
			size_t l = strlen(line);
			while (l && strchr(" \t\r", line[l - 1]))
				line[--l] = '\0';
			if (!l)
				continue;
			if (!name_ok(line, l)) {
				fprintf(stderr, PFX "%s line %zu: '%s' is not a module name (one name per line)\n",
					path, ln, line);
				return EXIT_FAIL;
			}
			if (strlist_add(names, line)) {
				fprintf(stderr, PFX "out of memory\n");
				return EXIT_FAIL;
			}
		}
	}
	return EXIT_OK;
}

static int add_source(struct cpio_tree *t, const char *src, const char *dest, int have_perm,
		      unsigned perm, const char *what)
{
	unsigned char *data;
	size_t len;
	mode_t mode;
	char err[1024];
	if (ifs_read_file(src, 1, &data, &len, &mode, err, sizeof(err))) {
		fprintf(stderr, PFX "%s: %s\n", what, err);
		return EXIT_FAIL;
	}
	if (!have_perm)
		perm = (mode & 0111) ? 0755 : 0644;
	char origin[1024];
	snprintf(origin, sizeof(origin), "%s %s", what, src);
	if (cpio_add_file(t, dest, perm, data, len, origin, err, sizeof(err))) {
		fprintf(stderr, PFX "%s\n", err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* --file SRC:DEST[:MODE]; DEST and MODE cannot contain ':'. */
static int add_file_spec(struct cpio_tree *t, const char *spec)
{
	char *s = strdup(spec);
	if (!s) {
		fprintf(stderr, PFX "out of memory\n");
		return EXIT_FAIL;
	}
	int rc = EXIT_USAGE;
	unsigned perm = 0;
	int have_perm = 0;
	char *last = strrchr(s, ':');
	if (!last)
		goto bad;
	if (last[1] != '/') {
		/* The last field is a MODE; DEST is the one before it. */
		if (parse_perm(last + 1, &perm)) {
			fprintf(stderr, PFX "--file '%s': MODE '%s' must be octal, at most 0777\n", spec, last + 1);
			goto out;
		}
		have_perm = 1;
		*last = '\0';
		last = strrchr(s, ':');
		if (!last)
			goto bad;
	}
	*last = '\0';
	const char *src = s, *dest = last + 1;
	if (!*src || !*dest)
		goto bad;
	char err[1024];
	if (cpio_path_check(dest, err, sizeof(err))) {
		fprintf(stderr, PFX "--file '%s': %s\n", spec, err);
		goto out;
	}
	rc = add_source(t, src, dest, have_perm, perm, "--file");
	goto out;
bad:
	fprintf(stderr, PFX "--file '%s': want SRC:DEST[:MODE] with DEST absolute\n", spec);
out:
	free(s);
	return rc;
}

static int kver_ok(const char *k)
{
	if (!*k || !strcmp(k, ".") || !strcmp(k, ".."))
		return 0;
	for (const char *p = k; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '/')
			return 0;
	return 1;
}

/* With t == NULL (`closure`): prints the load order instead of adding files. */
static int add_modules(const struct opts *o, struct cpio_tree *t, size_t *nmods)
{
	struct strlist names = { 0 };
	char **owned = NULL;
	size_t nowned = 0;
	struct moddb *db = NULL;
	struct modclosure c = { 0 };
	char *load = NULL;
	size_t loadlen = 0;
	char kverbuf[256];
	char err[1024];
	int rc = collect_modules(o, &names, &owned, &nowned);
	if (rc != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if (o->kmoddir) {
		const char *kver = o->kver;
		if (!kver) {
			size_t len = strlen(o->kmoddir);
			while (len > 1 && o->kmoddir[len - 1] == '/')
				len--;
			size_t start = len;
			while (start > 0 && o->kmoddir[start - 1] != '/')
				start--;
			if (len - start >= sizeof(kverbuf))
				len = start; /* reported as unknown below */
			memcpy(kverbuf, o->kmoddir + start, len - start);
			kverbuf[len - start] = '\0';
			kver = kverbuf;
		}
		if (!kver_ok(kver)) {
			fprintf(stderr, PFX "cannot tell the kernel release from '%s' (got '%s'); pass --kver\n",
				o->kmoddir, kver);
			rc = EXIT_USAGE;
			goto out;
		}
		if (moddb_load(&db, o->kmoddir, err, sizeof(err))) {
			fprintf(stderr, PFX "%s\n", err);
			goto out;
		}
		if (moddb_closure(db, names.v, names.n, &c, err, sizeof(err))) {
			fprintf(stderr, PFX "%s\n", err);
			goto out;
		}
		for (size_t i = 0; i < c.nnotes; i++)
			fprintf(stderr, PFX "note: %s\n", c.notes[i]);
		if (!t) {
			for (size_t i = 0; i < c.npaths; i++)
				printf("%s\n", c.paths[i]);
			for (size_t i = 0; i < c.nbuiltin; i++)
				printf("builtin %s\n", c.builtin[i]);
			rc = fflush(stdout) ? EXIT_FAIL : EXIT_OK;
			goto out;
		}
		if (c.nbuiltin) {
			fprintf(stderr, PFX "built into the kernel, nothing to load:");
			for (size_t i = 0; i < c.nbuiltin; i++)
				fprintf(stderr, " %s", c.builtin[i]);
			fputc('\n', stderr);
		}
		for (size_t i = 0; i < c.npaths; i++) {
			char src[PATH_MAX], dest[PATH_MAX];
			if ((size_t)snprintf(src, sizeof(src), "%s/%s", o->kmoddir, c.paths[i]) >= sizeof(src) ||
			    (size_t)snprintf(dest, sizeof(dest), MODULES_ROOT "/%s/%s", kver, c.paths[i]) >= sizeof(dest)) {
				fprintf(stderr, PFX "%s: path too long\n", c.paths[i]);
				goto out;
			}
			if (add_source(t, src, dest, 1, 0644, "module") != EXIT_OK)
				goto out;
			/* "PATH needs=A,B": the init loads modules whose prerequisites
			 * are loaded concurrently (init/modlist.h) */
			size_t add = strlen(dest) + strlen(" needs=") + strlen(c.needs[i]) + 1;
			char *nl = realloc(load, loadlen + add + 1);
			if (!nl) {
				fprintf(stderr, PFX "out of memory\n");
				goto out;
			}
			load = nl;
			snprintf(load + loadlen, add + 1, "%s needs=%s\n", dest, c.needs[i]);
			loadlen += add;
		}
		*nmods = c.npaths;
	}
	/* The load list always exists, empty when nothing is to be loaded. */
	if (cpio_add_file(t, MODLOAD_PATH, 0644, (unsigned char *)load, loadlen, "the module load list",
			  err, sizeof(err))) {
		load = NULL;
		fprintf(stderr, PFX "%s\n", err);
		goto out;
	}
	load = NULL;
	rc = EXIT_OK;
out:
	free(load);
	modclosure_free(&c);
	moddb_free(db);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(names.v);
	return rc;
}

/* ---- output: temp file in the destination's directory, then rename ---- */

static char tmp_path[PATH_MAX + 32];
static volatile sig_atomic_t tmp_active;

static void on_signal(int sig)
{
	if (tmp_active)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Pipes data through the compressor into outfd. */
static int compress_to(const struct compressor *c, const unsigned char *data, size_t len, int outfd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		fprintf(stderr, PFX "pipe: %s\n", strerror(errno));
		return -1;
	}
	const char *path = getenv("PATH");
	char pathenv[4096];
	snprintf(pathenv, sizeof(pathenv), "PATH=%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *const envp[] = { pathenv, "LC_ALL=C", NULL };
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, PFX "fork: %s\n", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (dup2(p[0], 0) < 0 || dup2(outfd, 1) < 0)
			_exit(126);
		execvpe(c->argv[0], (char *const *)c->argv, envp);
		dprintf(2, PFX "cannot run %s: %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int werr = write_all(p[1], data, len) ? errno : 0;
	close(p[1]);
	signal(SIGPIPE, old);
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, PFX "waitpid: %s\n", strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		fprintf(stderr, PFX "%s is not installed (or not in PATH); install it or use --compress none\n",
			c->argv[0]);
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			fprintf(stderr, PFX "%s was killed by signal %d\n", c->argv[0], WTERMSIG(st));
		else
			fprintf(stderr, PFX "%s failed (exit %d)\n", c->argv[0], WEXITSTATUS(st));
		return -1;
	}
	if (werr) {
		fprintf(stderr, PFX "writing to %s: %s\n", c->argv[0], strerror(werr));
		return -1;
	}
	return 0;
}

static int write_output(const char *out, const struct compressor *c, const unsigned char *data,
			size_t len, off_t *outsize)
{
	if ((size_t)snprintf(tmp_path, sizeof(tmp_path), "%s.tmp-XXXXXX", out) >= sizeof(tmp_path)) {
		fprintf(stderr, PFX "%s: path too long\n", out);
		return -1;
	}
	int ok = 0;
	struct sigaction sa = { 0 }, old_int, old_term, old_hup;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	int fd = mkostemp(tmp_path, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, PFX "%s: cannot create a temporary file beside it: %s\n", out, strerror(errno));
		goto restore;
	}
	tmp_active = 1;
	if (!c->argv[0]) {
		if (write_all(fd, data, len)) {
			fprintf(stderr, PFX "%s: write: %s\n", tmp_path, strerror(errno));
			goto cleanup;
		}
	} else if (compress_to(c, data, len, fd)) {
		goto cleanup;
	}
	struct stat st;
	if (fchmod(fd, 0644) || fsync(fd) || fstat(fd, &st)) {
		fprintf(stderr, PFX "%s: %s\n", tmp_path, strerror(errno));
		goto cleanup;
	}
	*outsize = st.st_size;
	if (close(fd)) {
		fd = -1;
		fprintf(stderr, PFX "%s: close: %s\n", tmp_path, strerror(errno));
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp_path, out)) {
		fprintf(stderr, PFX "%s: %s\n", out, strerror(errno));
		goto cleanup;
	}
	tmp_active = 0;
	ok = 1;
cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp_active) {
		unlink(tmp_path);
		tmp_active = 0;
	}
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	return ok ? 0 : -1;
}

static int build(int argc, char **argv)
{
	struct opts o = { 0 };
	struct cpio_tree t = { 0 };
	struct cpio_buf buf = { 0 };
	size_t nmods = 0;
	char err[1024];
	int rc = parse_args(argc, argv, &o, 0);
	if (rc != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	for (size_t i = 0; i < sizeof(base_dirs) / sizeof(base_dirs[0]); i++)
		if (cpio_add_dir(&t, base_dirs[i], err, sizeof(err))) {
			fprintf(stderr, PFX "%s\n", err);
			goto out;
		}
	if ((rc = add_source(&t, o.init, INIT_PATH, 1, 0755, "--init")) != EXIT_OK)
		goto out;
	if (o.config && (rc = add_source(&t, o.config, CONFIG_PATH, 1, 0644, "--config")) != EXIT_OK)
		goto out;
	if ((rc = add_modules(&o, &t, &nmods)) != EXIT_OK)
		goto out;
	for (size_t i = 0; i < o.files.n; i++)
		if ((rc = add_file_spec(&t, o.files.v[i])) != EXIT_OK)
			goto out;
	rc = EXIT_FAIL;
	if (initramfs_check_config(&t, CONFIG_PATH, o.kmoddir))
		goto out;
	if (cpio_serialize(&t, o.epoch, &buf, err, sizeof(err))) {
		fprintf(stderr, PFX "%s\n", err);
		goto out;
	}
	if (o.list) {
		cpio_list(&t, stdout);
		if (fflush(stdout)) {
			fprintf(stderr, PFX "stdout: %s\n", strerror(errno));
			goto out;
		}
	}
	if (o.output) {
		off_t size = 0;
		if (write_output(o.output, o.comp, buf.p, buf.len, &size))
			goto out;
		if (o.comp->argv[0])
			fprintf(stderr, PFX "wrote %s: %zu entries, %zu modules, cpio %zu bytes, %s %jd bytes\n",
				o.output, t.n, nmods, buf.len, o.comp->name, (intmax_t)size);
		else
			fprintf(stderr, PFX "wrote %s: %zu entries, %zu modules, cpio %zu bytes (uncompressed)\n",
				o.output, t.n, nmods, buf.len);
	}
	rc = EXIT_OK;
out:
	cpio_buf_free(&buf);
	cpio_tree_free(&t);
	free(o.modules.v);
	free(o.modules_from.v);
	free(o.files.v);
	return rc;
}

static int closure(int argc, char **argv)
{
	struct opts o = { 0 };
	size_t n = 0;
	int rc = parse_args(argc, argv, &o, 1);
	if (rc == EXIT_OK)
		rc = add_modules(&o, NULL, &n);
	free(o.modules.v);
	free(o.modules_from.v);
	free(o.files.v);
	return rc;
}

int cmd_initramfs(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	int is_closure = !strcmp(argv[1], "closure");
	if (strcmp(argv[1], "build") && !is_closure) {
		fprintf(stderr, PFX "unknown subcommand '%s' (build or closure)\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
	return is_closure ? closure(argc, argv) : build(argc, argv);
}
