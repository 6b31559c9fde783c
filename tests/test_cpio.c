/* Unit tests: the newc cpio writer (initramfs/cpio.c) and the
 * `cvminit initramfs build` command (initramfs/build.c). Archives are parsed
 * back with a parser written here, independent of the writer. Run from the
 * repo root (fixtures under tests/data/initramfs/). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/commands.h"
#include "initramfs/cpio.h"
#include "tests/harness.h"

TH_DEFINE("cpio");

#define KDIR "tests/data/initramfs/modules/6.1.0-test"
#define KPFX "/lib/modules/6.1.0-test/"

/* ---- an independent newc parser ---- */

enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_SIZE, F_DEVMAJ, F_DEVMIN,
       F_RDEVMAJ, F_RDEVMIN, F_NAMESIZE, F_CHECK, NFIELDS };

struct ent {
	uint32_t f[NFIELDS];
	char name[1100];
	const unsigned char *data;
	size_t hdr_off;
};

struct archive {
	struct ent e[256];
	size_t n; /* entries before the trailer */
	struct ent trailer;
};

static int hex8(const unsigned char *p, uint32_t *v)
{
	uint32_t r = 0;
	for (int i = 0; i < 8; i++) {
		unsigned char c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F') /* the writer promises upper case */
			d = c - 'A' + 10;
		else
			return -1;
		r = r << 4 | d;
	}
	*v = r;
	return 0;
}

/* Parses a whole archive; any deviation from the promised layout fails. */
static int parse(const unsigned char *buf, size_t len, struct archive *a)
{
	size_t off = 0;
	memset(a, 0, sizeof(*a));
	for (;;) {
		if (off % 4 || off + 110 > len) {
			TH_FAIL("header at %zu: misaligned or truncated", off);
			return -1;
		}
		if (memcmp(buf + off, "070701", 6)) {
			TH_FAIL("header at %zu: bad magic", off);
			return -1;
		}
		struct ent e;
		memset(&e, 0, sizeof(e));
		e.hdr_off = off;
		for (int i = 0; i < NFIELDS; i++)
			if (hex8(buf + off + 6 + 8 * i, &e.f[i])) {
				TH_FAIL("header at %zu: field %d not 8 upper-case hex digits", off, i);
				return -1;
			}
		size_t ns = e.f[F_NAMESIZE];
		if (ns < 2 || ns > sizeof(e.name) || off + 110 + ns > len) {
			TH_FAIL("header at %zu: bad namesize %zu", off, ns);
			return -1;
		}
		const unsigned char *name = buf + off + 110;
		if (name[ns - 1] != '\0' || memchr(name, '\0', ns - 1)) {
			TH_FAIL("header at %zu: name not NUL-terminated exactly at namesize", off);
			return -1;
		}
		memcpy(e.name, name, ns);
		size_t p = off + 110 + ns;
		while (p % 4) {
			if (p >= len || buf[p]) {
				TH_FAIL("%s: non-zero name padding", e.name);
				return -1;
			}
			p++;
		}
		if (p + e.f[F_SIZE] > len) {
			TH_FAIL("%s: data runs past the end", e.name);
			return -1;
		}
		e.data = buf + p;
		p += e.f[F_SIZE];
		while (p % 4) {
			if (p >= len || buf[p]) {
				TH_FAIL("%s: non-zero data padding", e.name);
				return -1;
			}
			p++;
		}
		off = p;
		if (!strcmp(e.name, "TRAILER!!!")) {
			a->trailer = e;
			break;
		}
		if (a->n == sizeof(a->e) / sizeof(a->e[0])) {
			TH_FAIL("too many entries");
			return -1;
		}
		a->e[a->n++] = e;
	}
	if (len % 512) {
		TH_FAIL("archive length %zu not a multiple of 512", len);
		return -1;
	}
	for (size_t p = off; p < len; p++)
		if (buf[p]) {
			TH_FAIL("non-zero byte after the trailer at %zu", p);
			return -1;
		}
	if (len - off >= 512) {
		TH_FAIL("more than one block of padding after the trailer");
		return -1;
	}
	return 0;
}

/* Every rule of the format, for every entry. */
static void check_invariants(const struct archive *a, uint32_t mtime)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct ent *e = &a->e[i];
		CHECK_INT(e->f[F_INO], i + 1);
		CHECK_INT(e->f[F_UID], 0);
		CHECK_INT(e->f[F_GID], 0);
		CHECK_INT(e->f[F_MTIME], mtime);
		CHECK_INT(e->f[F_DEVMAJ], 0);
		CHECK_INT(e->f[F_DEVMIN], 0);
		CHECK_INT(e->f[F_RDEVMAJ], 0);
		CHECK_INT(e->f[F_RDEVMIN], 0);
		CHECK_INT(e->f[F_CHECK], 0);
		CHECK_INT(e->f[F_NAMESIZE], strlen(e->name) + 1);
		CHECK(e->name[0] != '/');
		uint32_t type = e->f[F_MODE] & 0170000;
		if (type == 0040000) {
			CHECK_INT(e->f[F_MODE], 040755);
			CHECK_INT(e->f[F_NLINK], 2);
			CHECK_INT(e->f[F_SIZE], 0);
		} else {
			CHECK_INT(type, 0100000);
			CHECK((e->f[F_MODE] & 07777) <= 0777);
			CHECK_INT(e->f[F_NLINK], 1);
		}
		if (i > 0 && strcmp(a->e[i - 1].name, e->name) >= 0)
			TH_FAIL("entries not strictly sorted: '%s' then '%s'", a->e[i - 1].name, e->name);
		/* every parent is an earlier directory entry */
		const char *slash = strrchr(e->name, '/');
		if (slash) {
			size_t plen = (size_t)(slash - e->name);
			int found = 0;
			for (size_t j = 0; j < i; j++)
				if (strlen(a->e[j].name) == plen && !strncmp(a->e[j].name, e->name, plen) &&
				    (a->e[j].f[F_MODE] & 0170000) == 0040000)
					found = 1;
			if (!found)
				TH_FAIL("%s: parent directory missing or after it", e->name);
		}
	}
	const struct ent *t = &a->trailer;
	for (int i = 0; i < NFIELDS; i++) {
		uint32_t want = i == F_NLINK ? 1 : i == F_NAMESIZE ? 11 : 0;
		if (t->f[i] != want)
			TH_FAIL("trailer field %d = %u, want %u", i, t->f[i], want);
	}
}

static const struct ent *find(const struct archive *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->e[i].name, name))
			return &a->e[i];
	return NULL;
}

/* ---- helpers ---- */

static unsigned char *dupmem(const char *s)
{
	size_t n = strlen(s);
	unsigned char *p = malloc(n ? n : 1);
	memcpy(p, s, n);
	return p;
}

static char tmpdir[256];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void make_file(const char *name, const char *content, mode_t mode, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", tmpdir, name);
	FILE *f = fopen(out, "w");
	if (!f) {
		TH_FAIL("cannot create %s: %s", out, strerror(errno));
		return;
	}
	fputs(content, f);
	fclose(f);
	chmod(out, mode);
}

static int read_whole(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 1 << 16, n = 0;
	unsigned char *b = malloc(cap);
	size_t r;
	while ((r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

struct run {
	int rc;
	char out[1 << 16];
	char err[1 << 16];
};

static void slurp(FILE *f, char *dst, size_t cap)
{
	rewind(f);
	size_t n = fread(dst, 1, cap - 1, f);
	dst[n] = '\0';
	fclose(f);
}

/* Runs cvminit initramfs ARGS (NULL-terminated), capturing stdout and stderr. */
static void run(struct run *r, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	va_start(ap, r);
	argv[argc++] = "initramfs";
	for (char *a; (a = va_arg(ap, char *)) && argc < 63;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	FILE *fo = tmpfile(), *fe = tmpfile();
	int so = dup(1), se = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	r->rc = cmd_initramfs(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	slurp(fo, r->out, sizeof(r->out));
	slurp(fe, r->err, sizeof(r->err));
	/* Shown as TAP diagnostics ("# " lines on stderr). */
	for (const char *p = r->err; *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(stderr, "#   %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static int dir_has_tmp(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -q '\\.tmp-'", tmpdir);
	return system(cmd) == 0;
}

/* ---- writer tests ---- */

/* The exact bytes of a one-file archive: pins the format. */
static void golden_bytes(void)
{
	struct cpio_tree t = { 0 };
	struct cpio_buf b = { 0 };
	char err[256];
	CHECK_INT(cpio_add_file(&t, "/a", 0644, dupmem("hi"), 2, "test", err, sizeof(err)), 0);
	CHECK_INT(cpio_serialize(&t, 0x6543210F, &b, err, sizeof(err)), 0);
	unsigned char want[512] = { 0 };
	const char *h1 = "070701"
			 "00000001" "000081A4" "00000000" "00000000" "00000001" "6543210F"
			 "00000002" "00000000" "00000000" "00000000" "00000000" "00000002" "00000000";
	const char *h2 = "070701"
			 "00000000" "00000000" "00000000" "00000000" "00000001" "00000000"
			 "00000000" "00000000" "00000000" "00000000" "00000000" "0000000B" "00000000";
	memcpy(want, h1, 110);
	memcpy(want + 110, "a\0", 2);   /* 112: aligned */
	memcpy(want + 112, "hi", 2);    /* 114, pad to 116 */
	memcpy(want + 116, h2, 110);    /* 226 */
	memcpy(want + 226, "TRAILER!!!\0", 11); /* 237, pad to 240, then to 512 */
	CHECK_INT(b.len, 512);
	if (b.len == 512)
		CHECK_MEM(b.p, want, 512);
	cpio_buf_free(&b);
	cpio_tree_free(&t);
}

/* Every header field of every entry, names of every length mod 4, data of
 * every length mod 4, implicit parents, sorting with '-', '.', '/' and '0'. */
static void fields_order_alignment(void)
{
	struct cpio_tree t = { 0 };
	struct cpio_buf b = { 0 };
	char err[256];
	static const char *files[] = { "/a/b", "/a-b", "/a.b", "/a0", "/a/b2/c", "/ab", "/x/yy/zzz" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char content[16];
		snprintf(content, sizeof(content), "%.*s", (int)i, "0123456789");
		unsigned perm = i % 3 == 0 ? 0755 : i % 3 == 1 ? 0644 : 0600;
		CHECK_INT(cpio_add_file(&t, files[i], perm, dupmem(content), i, files[i], err, sizeof(err)), 0);
	}
	CHECK_INT(cpio_add_dir(&t, "/dev", err, sizeof(err)), 0);
	CHECK_INT(cpio_add_dir(&t, "/dev", err, sizeof(err)), 0); /* again: fine */
	CHECK_INT(cpio_add_dir(&t, "/a/b2", err, sizeof(err)), 0);
	CHECK_INT(cpio_serialize(&t, 1700000000u, &b, err, sizeof(err)), 0);
	struct archive *a = malloc(sizeof(*a));
	if (parse(b.p, b.len, a) == 0) {
		check_invariants(a, 1700000000u);
		static const char *order[] = { "a", "a-b", "a.b", "a/b", "a/b2", "a/b2/c", "a0", "ab",
					       "dev", "x", "x/yy", "x/yy/zzz" };
		CHECK_INT(a->n, sizeof(order) / sizeof(order[0]));
		for (size_t i = 0; i < a->n && i < sizeof(order) / sizeof(order[0]); i++)
			CHECK_STR(a->e[i].name, order[i]);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			const struct ent *e = find(a, files[i] + 1);
			if (!e) {
				TH_FAIL("%s missing", files[i]);
				continue;
			}
			unsigned perm = i % 3 == 0 ? 0755 : i % 3 == 1 ? 0644 : 0600;
			CHECK_INT(e->f[F_MODE], 0100000 | perm);
			CHECK_INT(e->f[F_SIZE], i);
			CHECK(!memcmp(e->data, "0123456789", i));
		}
		CHECK_INT(find(a, "x/yy")->f[F_MODE], 040755);
	}
	free(a);
	cpio_buf_free(&b);
	cpio_tree_free(&t);
}

static void path_rules(void)
{
	char err[256];
	CHECK_INT(cpio_path_check("/etc/cvminit/cvminit.conf", err, sizeof(err)), 0);
	CHECK_INT(cpio_path_check("/lib/modules/6.12.107+deb13-amd64/kernel/fs/ext4/ext4.ko.xz", err, sizeof(err)), 0);
	static const char *bad[] = { "relative", "", "/", "//x", "/x/", "/x//y", "/./x", "/x/.",
				     "/x/../y", "/..", "/a b", "/a\tb", "/a\nb", "/caf\xc3\xa9" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cpio_path_check(bad[i], err, sizeof(err)) != -1)
			TH_FAIL("path '%s' accepted", bad[i]);
	char longp[CPIO_PATH_MAX + 3];
	longp[0] = '/';
	memset(longp + 1, 'x', CPIO_PATH_MAX + 1);
	longp[CPIO_PATH_MAX + 2] = '\0';
	CHECK_INT(cpio_path_check(longp, err, sizeof(err)), -1);
	longp[CPIO_PATH_MAX + 1] = '\0';
	CHECK_INT(cpio_path_check(longp, err, sizeof(err)), 0);
}

static void conflicts(void)
{
	struct cpio_tree t = { 0 };
	char err[512];
	CHECK_INT(cpio_add_file(&t, "/init", 0755, dupmem("x"), 1, "first", err, sizeof(err)), 0);
	CHECK_INT(cpio_add_file(&t, "/init", 0755, dupmem("y"), 1, "second", err, sizeof(err)), -1);
	CHECK(strstr(err, "/init given twice") && strstr(err, "first") && strstr(err, "second"));
	CHECK_INT(cpio_add_file(&t, "/init/sub", 0644, dupmem("z"), 1, "third", err, sizeof(err)), -1);
	CHECK(strstr(err, "/init is a file") != NULL);
	CHECK_INT(cpio_add_dir(&t, "/init", err, sizeof(err)), -1);
	CHECK_INT(cpio_add_file(&t, "/d/f", 0644, NULL, 0, "fourth", err, sizeof(err)), 0);
	CHECK_INT(cpio_add_file(&t, "/d", 0644, NULL, 0, "fifth", err, sizeof(err)), -1);
	CHECK(strstr(err, "/d is a directory") != NULL);
	CHECK_INT(cpio_add_file(&t, "/m", 01755, NULL, 0, "sixth", err, sizeof(err)), -1);
	CHECK_INT(cpio_add_file(&t, "/m", 04755, NULL, 0, "seventh", err, sizeof(err)), -1);
	CHECK_INT(t.n, 3); /* init, d, d/f */
	CHECK(cpio_find(&t, "/d/f") != NULL);
	CHECK(cpio_find(&t, "/m") == NULL);
	cpio_tree_free(&t);
}

static void edge_errors(void)
{
	struct cpio_tree t = { 0 };
	struct cpio_buf b = { 0 };
	char err[512] = "";
	CHECK_INT(cpio_add_file(&t, "/big", 0644, NULL, (size_t)1 << 32, NULL, err, sizeof(err)), -1);
	CHECK_STR(err, "(unnamed): 4294967296 bytes: newc cpio files must be smaller than 4 GiB");
	CHECK_INT(cpio_add_file(&t, "/m", 01755, NULL, 0, "conf", err, sizeof(err)), -1);
	CHECK_STR(err, "conf: mode 1755 for /m: only permission bits (at most 0777) are allowed");
	CHECK_INT(cpio_add_dir(&t, "no-slash", err, sizeof(err)), -1);
	CHECK_INT(t.n, 0);
	CHECK(cpio_find(&t, NULL) == NULL);
	CHECK(cpio_find(&t, "init") == NULL); /* relative: never found */
	/* the archive is written from a 4-aligned offset only */
	CHECK_INT(cpio_add_dir(&t, "/etc", err, sizeof(err)), 0);
	b.p = malloc(4);
	b.cap = 4;
	b.len = 3;
	CHECK_INT(cpio_serialize(&t, 0, &b, err, sizeof(err)), -1);
	CHECK_STR(err, "internal: cpio output buffer not 4-byte aligned");
	CHECK_INT(b.len, 3);
	cpio_buf_free(&b);
	cpio_tree_free(&t);
}

static void listing(void)
{
	struct cpio_tree t = { 0 };
	char err[256];
	CHECK_INT(cpio_add_file(&t, "/etc/x", 0600, dupmem("abc"), 3, "t", err, sizeof(err)), 0);
	CHECK_INT(cpio_add_file(&t, "/init", 0755, NULL, 0, "t", err, sizeof(err)), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cpio_list(&t, f);
	fclose(f);
	CHECK_STR(text, "drwxr-xr-x          0 /etc\n"
			"-rw-------          3 /etc/x\n"
			"-rwxr-xr-x          0 /init\n");
	free(text);
	cpio_tree_free(&t);
}

/* ---- the command ---- */

static char init_path[512], plain_path[512], exec_path[512], out_path[512];

static void setup_files(void)
{
	make_file("init", "#!/bin/false\nfake init\n", 0700, init_path, sizeof(init_path));
	make_file("plain.txt", "plain\n", 0600, plain_path, sizeof(plain_path));
	make_file("tool", "tool\n", 0750, exec_path, sizeof(exec_path));
	snprintf(out_path, sizeof(out_path), "%s/initrd.img", tmpdir);
}

static void build_contents(void)
{
	struct run *r = malloc(sizeof(*r));
	char fspec1[600], fspec2[600], fspec3[600];
	snprintf(fspec1, sizeof(fspec1), "%s:/usr/share/plain", plain_path);
	snprintf(fspec2, sizeof(fspec2), "%s:/usr/bin/tool", exec_path);
	snprintf(fspec3, sizeof(fspec3), "%s:/etc/secret:0600", exec_path);
	run(r, "build", "--init", init_path, "--config", "tests/data/initramfs/cvminit.conf",
	    "--kernel-modules", KDIR, "--modules", "soft-user, top", "--modules=virtio_pci",
	    "--file", fspec1, "--file", fspec2, "--file", fspec3, "--output", out_path,
	    "--compress", "none", "--source-date-epoch", "1234567890", (char *)NULL);
	CHECK_INT(r->rc, 0);
	CHECK(strstr(r->err, "built into the kernel, nothing to load: builtin_thing crypto-bar virtio_pci"));
	CHECK(strstr(r->err, "note: softdep pre: 'nothing_here' of soft_user"));
	unsigned char *buf = NULL;
	size_t len = 0;
	struct archive *a = malloc(sizeof(*a));
	if (read_whole(out_path, &buf, &len)) {
		TH_FAIL("no output file");
	} else if (parse(buf, len, a) == 0) {
		check_invariants(a, 1234567890u);
		static const char *names[] = {
			"dev", "etc", "etc/cvminit", "etc/cvminit/cvminit.conf", "etc/cvminit/modules.load",
			"etc/secret", "init", "lib", "lib/modules", "lib/modules/6.1.0-test",
			"lib/modules/6.1.0-test/kernel", "lib/modules/6.1.0-test/kernel/crypto",
			"lib/modules/6.1.0-test/kernel/crypto/impl_a.ko",
			"lib/modules/6.1.0-test/kernel/crypto/impl_b.ko.xz",
			"lib/modules/6.1.0-test/kernel/crypto/post_one.ko",
			"lib/modules/6.1.0-test/kernel/crypto/pre_one.ko",
			"lib/modules/6.1.0-test/kernel/drivers",
			"lib/modules/6.1.0-test/kernel/drivers/dash-name.ko.xz",
			"lib/modules/6.1.0-test/kernel/fs", "lib/modules/6.1.0-test/kernel/fs/top.ko",
			"lib/modules/6.1.0-test/kernel/lib", "lib/modules/6.1.0-test/kernel/lib/base.ko",
			"lib/modules/6.1.0-test/kernel/lib/mid.ko", "lib/modules/6.1.0-test/kernel/misc",
			"lib/modules/6.1.0-test/kernel/misc/soft_user.ko", "proc", "run", "sys", "sysroot",
			"tmp", "usr", "usr/bin", "usr/bin/tool", "usr/share", "usr/share/plain",
		};
		size_t nn = sizeof(names) / sizeof(names[0]);
		CHECK_INT(a->n, nn);
		for (size_t i = 0; i < a->n && i < nn; i++)
			CHECK_STR(a->e[i].name, names[i]);
		const struct ent *e;
		if ((e = find(a, "init"))) {
			CHECK_INT(e->f[F_MODE], 0100755);
			CHECK_INT(e->f[F_SIZE], strlen("#!/bin/false\nfake init\n"));
			CHECK(!memcmp(e->data, "#!/bin/false\nfake init\n", e->f[F_SIZE]));
		}
		if ((e = find(a, "etc/cvminit/cvminit.conf"))) {
			CHECK_INT(e->f[F_MODE], 0100644);
			CHECK(e->f[F_SIZE] == strlen("CVMINIT_TEST=1\n") && !memcmp(e->data, "CVMINIT_TEST=1\n", 15));
		}
		if ((e = find(a, "usr/share/plain")))
			CHECK_INT(e->f[F_MODE], 0100644);
		if ((e = find(a, "usr/bin/tool")))
			CHECK_INT(e->f[F_MODE], 0100755);
		if ((e = find(a, "etc/secret")))
			CHECK_INT(e->f[F_MODE], 0100600);
		if ((e = find(a, "lib/modules/6.1.0-test/kernel/fs/top.ko"))) {
			CHECK_INT(e->f[F_MODE], 0100644);
			const char *want = "fake module top.ko for cvminit tests\n";
			CHECK(e->f[F_SIZE] == strlen(want) && !memcmp(e->data, want, strlen(want)));
		}
		/* each line names its prerequisites: modules.dep, pre: softdeps,
		 * and the module naming it post: (dash-name after soft_user) */
		const char *load = KPFX "kernel/misc/soft_user.ko needs=\n"
				   KPFX "kernel/drivers/dash-name.ko.xz needs=soft_user\n"
				   KPFX "kernel/lib/base.ko needs=\n" KPFX "kernel/lib/mid.ko needs=base\n"
				   KPFX "kernel/crypto/pre_one.ko needs=\n" KPFX "kernel/crypto/impl_a.ko needs=\n"
				   KPFX "kernel/crypto/impl_b.ko.xz needs=\n"
				   KPFX "kernel/fs/top.ko needs=base,mid,pre_one,impl_a,impl_b\n"
				   KPFX "kernel/crypto/post_one.ko needs=base,top\n";
		if ((e = find(a, "etc/cvminit/modules.load"))) {
			CHECK_INT(e->f[F_MODE], 0100644);
			CHECK_INT(e->f[F_SIZE], strlen(load));
			if (e->f[F_SIZE] == strlen(load))
				CHECK(!memcmp(e->data, load, strlen(load)));
		}
	}
	struct stat st;
	CHECK(stat(out_path, &st) == 0 && (st.st_mode & 07777) == 0644);
	CHECK(!dir_has_tmp());
	free(buf);
	free(a);
	free(r);
}

/* --modules-from, --list without --output, SOURCE_DATE_EPOCH, no modules. */
static void list_and_epoch(void)
{
	struct run *r = malloc(sizeof(*r));
	setenv("SOURCE_DATE_EPOCH", "42", 1);
	run(r, "build", "--init", init_path, "--kernel-modules", KDIR "/", "--modules-from",
	    "tests/data/initramfs/modules.list", "--list", (char *)NULL);
	CHECK_INT(r->rc, 0);
	CHECK(strstr(r->out, "drwxr-xr-x          0 /dev\n"));
	CHECK(strstr(r->out, "-rwxr-xr-x         23 /init\n"));
	CHECK(strstr(r->out, "-rw-r--r--         37 /lib/modules/6.1.0-test/kernel/fs/top.ko\n"));
	CHECK(strstr(r->out, "/kernel/misc/soft_user.ko\n"));

	unlink(out_path);
	run(r, "build", "--init", init_path, "--output", out_path, "--compress", "none", (char *)NULL);
	CHECK_INT(r->rc, 0);
	unsigned char *buf = NULL;
	size_t len = 0;
	struct archive *a = malloc(sizeof(*a));
	if (read_whole(out_path, &buf, &len) == 0 && parse(buf, len, a) == 0) {
		check_invariants(a, 42);
		const struct ent *e = find(a, "etc/cvminit/modules.load");
		CHECK(e && e->f[F_SIZE] == 0);
		CHECK_INT(a->n, 10); /* the 8 standard directories, /init, modules.load */
	}
	free(buf);
	setenv("SOURCE_DATE_EPOCH", "12abc", 1);
	run(r, "build", "--init", init_path, "--list", (char *)NULL);
	CHECK_INT(r->rc, EXIT_USAGE);
	CHECK(strstr(r->err, "SOURCE_DATE_EPOCH='12abc'"));
	/* the option wins over the environment */
	run(r, "build", "--init", init_path, "--list", "--source-date-epoch", "7", (char *)NULL);
	CHECK_INT(r->rc, 0);
	unsetenv("SOURCE_DATE_EPOCH");
	free(a);
	free(r);
}

static void usage_errors(void)
{
	struct run *r = malloc(sizeof(*r));
	char fs[600];
	struct {
		const char *want;
		const char *args[8];
	} cases[] = {
		{ "--init FILE is required", { "build", "--output", "x", NULL } },
		{ "unknown argument '--bogus'", { "build", "--init", "x", "--bogus", NULL } },
		{ "nothing to do", { "build", "--init", "x", NULL } },
		{ "--compress 'lzma'", { "build", "--init", "x", "--list", "--compress", "lzma", NULL } },
		{ "--source-date-epoch '-1'", { "build", "--init", "x", "--list", "--source-date-epoch", "-1", NULL } },
		{ "--source-date-epoch '4294967296'", { "build", "--init", "x", "--list", "--source-date-epoch", "4294967296", NULL } },
		{ "need --kernel-modules", { "build", "--init", "x", "--list", "--modules", "ext4", NULL } },
		{ "--output needs a value", { "build", "--init", "x", "--output", NULL } },
		{ "--init given twice", { "build", "--init", "x", "--init", "y", "--list", NULL } },
		{ "unknown subcommand 'make'", { "make", NULL } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;
		run(r, a[0], a[1], a[2], a[3], a[4], a[5], a[6], (char *)NULL);
		if (r->rc != EXIT_USAGE || !strstr(r->err, cases[i].want))
			TH_FAIL("case %zu: rc %d, stderr '%s', want 2 and '%s'", i, r->rc, r->err, cases[i].want);
	}
	/* Bad module names and bad --file specs are usage errors too. */
	run(r, "build", "--init", init_path, "--list", "--kernel-modules", KDIR, "--modules", "top,,mid", (char *)NULL);
	CHECK_INT(r->rc, EXIT_USAGE);
	snprintf(fs, sizeof(fs), "%s:relative", plain_path);
	run(r, "build", "--init", init_path, "--list", "--file", fs, (char *)NULL);
	CHECK_INT(r->rc, EXIT_USAGE);
	snprintf(fs, sizeof(fs), "%s:/x:0999", plain_path);
	run(r, "build", "--init", init_path, "--list", "--file", fs, (char *)NULL);
	CHECK_INT(r->rc, EXIT_USAGE);
	CHECK(strstr(r->err, "MODE '0999'"));
	snprintf(fs, sizeof(fs), "%s:/x:4755", plain_path);
	run(r, "build", "--init", init_path, "--list", "--file", fs, (char *)NULL);
	CHECK_INT(r->rc, EXIT_USAGE);
	run(r, "build", "--help", (char *)NULL);
	CHECK_INT(r->rc, 0);
	CHECK(strstr(r->out, "usage: cvminit initramfs build"));
	free(r);
}

/* Failures exit 1, name the culprit, and leave an existing output alone. */
static void failures_keep_output(void)
{
	struct run *r = malloc(sizeof(*r));
	char link[600], fs[700], missing_dir_out[600];
	FILE *f = fopen(out_path, "w");
	fputs("previous", f);
	fclose(f);

	run(r, "build", "--init", init_path, "--kernel-modules", KDIR, "--modules", "top,no_such_mod",
	    "--output", out_path, (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "module 'no_such_mod' not found"));

	snprintf(link, sizeof(link), "%s/init-link", tmpdir);
	CHECK(symlink(init_path, link) == 0);
	run(r, "build", "--init", link, "--output", out_path, (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "init-link: is a symbolic link"));

	run(r, "build", "--init", tmpdir, "--output", out_path, (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "not a regular file"));

	run(r, "build", "--init", "tests/data/initramfs/does-not-exist", "--output", out_path, (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "does-not-exist: No such file"));

	snprintf(fs, sizeof(fs), "%s:/init", plain_path);
	run(r, "build", "--init", init_path, "--file", fs, "--output", out_path, (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "/init given twice"));

	snprintf(fs, sizeof(fs), "%s:/etc/cvminit/modules.load", plain_path);
	run(r, "build", "--init", init_path, "--file", fs, "--output", out_path, (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);

	run(r, "build", "--init", init_path, "--kernel-modules", "tests/data/initramfs/broken/9.9.9-broken",
	    "--output", out_path, (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "modules.dep line 1"));

	unsigned char *buf = NULL;
	size_t len = 0;
	CHECK(read_whole(out_path, &buf, &len) == 0 && len == 8 && !memcmp(buf, "previous", 8));
	free(buf);

	snprintf(missing_dir_out, sizeof(missing_dir_out), "%s/no-such-dir/initrd.img", tmpdir);
	run(r, "build", "--init", init_path, "--output", missing_dir_out, (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "cannot create a temporary file"));

	/* A compressor that fails: the temp file goes, the old output stays. */
	char *oldpath = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	setenv("PATH", "/nonexistent-dir", 1);
	run(r, "build", "--init", init_path, "--output", out_path, "--compress", "xz", (char *)NULL);
	if (oldpath) {
		setenv("PATH", oldpath, 1);
		free(oldpath);
	}
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "xz is not installed"));
	CHECK(read_whole(out_path, &buf, &len) == 0 && len == 8 && !memcmp(buf, "previous", 8));
	free(buf);
	CHECK(!dir_has_tmp());
	free(r);
}

/* Each compressor: the right magic, and it decompresses to the plain cpio. */
static void compressed_outputs(void)
{
	struct run *r = malloc(sizeof(*r));
	char plain[600];
	snprintf(plain, sizeof(plain), "%s/plain.cpio", tmpdir);
	run(r, "build", "--init", init_path, "--kernel-modules", KDIR, "--modules", "top", "--output", plain,
	    "--compress", "none", (char *)NULL);
	CHECK_INT(r->rc, 0);
	unsigned char *want = NULL;
	size_t wantlen = 0;
	CHECK(read_whole(plain, &want, &wantlen) == 0);
	static const struct {
		const char *name, *magic, *decomp;
		size_t mlen;
	} c[] = {
		{ "gzip", "\x1f\x8b\x08", "gzip -dc", 3 },
		{ "xz", "\xfd" "7zXZ\0", "xz -dc", 6 },
		{ "zstd", "\x28\xb5\x2f\xfd", "zstd -dcq", 4 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char out[600], cmd[1500], back[600];
		snprintf(out, sizeof(out), "%s/initrd.%s", tmpdir, c[i].name);
		snprintf(back, sizeof(back), "%s/back.%s", tmpdir, c[i].name);
		run(r, "build", "--init", init_path, "--kernel-modules", KDIR, "--modules", "top",
		    "--output", out, "--compress", c[i].name, (char *)NULL);
		CHECK_INT(r->rc, 0);
		unsigned char *got = NULL;
		size_t len = 0;
		if (read_whole(out, &got, &len) || len < c[i].mlen || memcmp(got, c[i].magic, c[i].mlen))
			TH_FAIL("%s: missing or wrong magic", c[i].name);
		free(got);
		snprintf(cmd, sizeof(cmd), "%s < '%s' > '%s'", c[i].decomp, out, back);
		CHECK_INT(system(cmd), 0);
		if (read_whole(back, &got, &len) == 0) {
			CHECK_INT(len, wantlen);
			if (len == wantlen)
				CHECK_MEM(got, want, len);
			free(got);
		}
		/* xz: stream flags say CRC32, the check the kernel's xz documentation asks for */
		if (!strcmp(c[i].name, "xz") && read_whole(out, &got, &len) == 0) {
			CHECK(len > 8 && got[6] == 0 && got[7] == 0x01);
			free(got);
		}
	}
	free(want);
	free(r);
}

/* Same inputs, different umask and working directory: same bytes. */
static void same_bytes_any_umask_cwd(void)
{
	struct run *r = malloc(sizeof(*r));
	char a[600], b[600], abs_init[600], cwd[1024], kabs[1200];
	snprintf(a, sizeof(a), "%s/one.img", tmpdir);
	snprintf(b, sizeof(b), "%s/two.img", tmpdir);
	snprintf(abs_init, sizeof(abs_init), "%s", init_path);
	if (!getcwd(cwd, sizeof(cwd))) {
		TH_FAIL("getcwd");
		free(r);
		return;
	}
	snprintf(kabs, sizeof(kabs), "%s/%s", cwd, KDIR);
	mode_t old = umask(022);
	run(r, "build", "--init", abs_init, "--kernel-modules", KDIR, "--modules", "deep,soft_user",
	    "--output", a, "--compress", "gzip", (char *)NULL);
	CHECK_INT(r->rc, 0);
	umask(077);
	CHECK(chdir(tmpdir) == 0);
	run(r, "build", "--init", abs_init, "--kernel-modules", kabs, "--modules", "deep,soft_user",
	    "--output", b, "--compress", "gzip", (char *)NULL);
	CHECK(chdir(cwd) == 0);
	umask(old);
	CHECK_INT(r->rc, 0);
	unsigned char *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	CHECK(read_whole(a, &x, &xl) == 0 && read_whole(b, &y, &yl) == 0);
	CHECK(xl == yl && xl > 0 && !memcmp(x, y, xl));
	free(x);
	free(y);
	free(r);
}

/* `cvminit initramfs closure`: the load order on stdout, built-ins after it. */
static void closure_command(void)
{
	struct run *r = malloc(sizeof(*r));
	run(r, "closure", "--kernel-modules", KDIR, "--modules", "soft_user,virtio_pci", (char *)NULL);
	CHECK_INT(r->rc, 0);
	CHECK_STR(r->out, "kernel/misc/soft_user.ko\n"
			  "kernel/drivers/dash-name.ko.xz\n"
			  "builtin builtin_thing\n"
			  "builtin crypto-bar\n"
			  "builtin virtio_pci\n");
	CHECK(strstr(r->err, "note: softdep pre: 'nothing_here' of soft_user"));
	run(r, "closure", "--kernel-modules", KDIR, "--modules", "nope", (char *)NULL);
	CHECK_INT(r->rc, EXIT_FAIL);
	CHECK(strstr(r->err, "module 'nope' not found"));
	run(r, "closure", "--modules", "top", (char *)NULL);
	CHECK_INT(r->rc, EXIT_USAGE);
	run(r, "closure", "--kernel-modules", KDIR, "--init", "x", (char *)NULL);
	CHECK_INT(r->rc, EXIT_USAGE);
	free(r);
}

int main(void)
{
	unsetenv("SOURCE_DATE_EPOCH");
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/cvminit-test-cpio.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("not ok - unit/cpio/tmpdir\n");
		return 1;
	}
	setup_files();
	TEST(golden_bytes);
	TEST(fields_order_alignment);
	TEST(path_rules);
	TEST(conflicts);
	TEST(listing);
	TEST(build_contents);
	TEST(list_and_epoch);
	TEST(usage_errors);
	TEST(failures_keep_output);
	TEST(compressed_outputs);
	TEST(same_bytes_any_umask_cwd);
	TEST(closure_command);
	TEST(edge_errors);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return TH_END();
}
