/* Unit tests: kernel module closure (initramfs/modclosure.c) on the synthetic
 * module set in tests/data/initramfs/modules/6.1.0-test. Run from the repo root. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "initramfs/modclosure.h"
#include "tests/harness.h"

TH_DEFINE("modclosure");

#define KDIR "tests/data/initramfs/modules/6.1.0-test"

static struct moddb *db;

/* Closure of the given names must be exactly want[] (NULL-terminated). */
static void expect_order(const char *const *names, size_t n, const char *const *want,
			 struct modclosure *keep)
{
	struct modclosure c;
	char err[1024] = "";
	if (moddb_closure(db, names, n, &c, err, sizeof(err))) {
		TH_FAIL("closure failed: %s", err);
		return;
	}
	size_t nwant = 0;
	while (want[nwant])
		nwant++;
	CHECK_INT(c.npaths, nwant);
	for (size_t i = 0; i < c.npaths && i < nwant; i++)
		CHECK_STR(c.paths[i], want[i]);
	if (c.npaths != nwant)
		for (size_t i = 0; i < c.npaths; i++)
			fprintf(stderr, "#   got[%zu] %s\n", i, c.paths[i]);
	if (keep)
		*keep = c;
	else
		modclosure_free(&c);
}

static int has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

static int note_has(const struct modclosure *c, const char *needle)
{
	for (size_t i = 0; i < c->nnotes; i++)
		if (strstr(c->notes[i], needle))
			return 1;
	return 0;
}

static void load_fixture(void)
{
	char err[1024] = "";
	CHECK_INT(moddb_load(&db, KDIR, err, sizeof(err)), 0);
	if (!db)
		TH_FAIL("moddb_load: %s", err);
}

static void normalize(void)
{
	char out[64];
	mod_normalize("dm-verity", out);
	CHECK_STR(out, "dm_verity");
	mod_normalize("crypto-crc32c", out);
	CHECK_STR(out, "crypto_crc32c");
	mod_normalize("a-[x-y]-b", out);
	CHECK_STR(out, "a_[x-y]_b");
	mod_normalize("open[-", out);
	CHECK_STR(out, "open[-");
	mod_normalize("", out);
	CHECK_STR(out, "");
}

/* Dependencies (reverse of the modules.dep list), pre: softdeps of both
 * softdep lines (one via an alias matching two modules, in alias order),
 * the module, then post: softdeps with their own dependencies. */
static void deps_and_softdeps(void)
{
	const char *names[] = { "top" };
	const char *want[] = {
		"kernel/lib/base.ko", "kernel/lib/mid.ko", "kernel/crypto/pre_one.ko",
		"kernel/crypto/impl_a.ko", "kernel/crypto/impl_b.ko.xz", "kernel/fs/top.ko",
		"kernel/crypto/post_one.ko", NULL,
	};
	struct modclosure c;
	expect_order(names, 1, want, &c);
	CHECK_INT(c.nnotes, 0);
	CHECK_INT(c.nbuiltin, 0);
	modclosure_free(&c);
}

/* A dependency's own softdeps come before that dependency. */
static void softdeps_of_dependencies(void)
{
	const char *names[] = { "deep" };
	const char *want[] = {
		"kernel/lib/base.ko", "kernel/lib/mid.ko", "kernel/crypto/pre_one.ko",
		"kernel/crypto/impl_a.ko", "kernel/crypto/impl_b.ko.xz", "kernel/fs/top.ko",
		"kernel/crypto/post_one.ko", "kernel/misc/deep.ko", NULL,
	};
	expect_order(names, 1, want, NULL);
}

/* cyc_a pre: cyc_b, cyc_b pre: cyc_a: terminates, each once, with a note. */
static void softdep_cycle_terminates(void)
{
	const char *names[] = { "cyc_a" };
	const char *want[] = { "kernel/misc/cyc_b.ko", "kernel/misc/cyc_a.ko", NULL };
	struct modclosure c;
	expect_order(names, 1, want, &c);
	CHECK(note_has(&c, "softdep cycle: cyc_b is listed before its pre: softdep cyc_a"));
	modclosure_free(&c);

	const char *names2[] = { "cyc-b", "cyc_a" };
	const char *want2[] = { "kernel/misc/cyc_a.ko", "kernel/misc/cyc_b.ko", NULL };
	expect_order(names2, 2, want2, NULL);
}

/* hard_user needs hard_base (modules.dep) and hard_base pre: hard_user: the
 * hard dependency wins whichever is asked for. */
static void hard_dependency_beats_softdep_cycle(void)
{
	const char *want[] = { "kernel/misc/hard_base.ko", "kernel/misc/hard_user.ko", NULL };
	const char *a[] = { "hard_user" };
	struct modclosure c;
	expect_order(a, 1, want, &c);
	CHECK(note_has(&c, "hard_base is listed before its pre: softdep hard_user"));
	CHECK(!note_has(&c, "before its dependency"));
	modclosure_free(&c);
	const char *b[] = { "hard_base" };
	expect_order(b, 1, want, NULL);
}

/* Softdeps on a built-in (by name and by a built-in alias) are skipped and
 * reported; an unknown softdep is skipped with a note; names before "pre:"
 * are ignored; post: goes after the module. */
static void softdep_builtin_and_unknown(void)
{
	const char *names[] = { "soft_user" };
	const char *want[] = { "kernel/misc/soft_user.ko", "kernel/drivers/dash-name.ko.xz", NULL };
	struct modclosure c;
	expect_order(names, 1, want, &c);
	CHECK_INT(c.nbuiltin, 2);
	CHECK(has(c.builtin, c.nbuiltin, "builtin_thing"));
	CHECK(has(c.builtin, c.nbuiltin, "crypto-bar"));
	CHECK_INT(c.nnotes, 1);
	CHECK(note_has(&c, "softdep pre: 'nothing_here' of soft_user"));
	CHECK(!note_has(&c, "ignored_name"));
	modclosure_free(&c);
}

static void self_softdep(void)
{
	const char *names[] = { "self" };
	const char *want[] = { "kernel/misc/self.ko", NULL };
	struct modclosure c;
	expect_order(names, 1, want, &c);
	CHECK_INT(c.nnotes, 0);
	modclosure_free(&c);
}

static void aliases(void)
{
	const char *a[] = { "crypto-foo" };
	const char *wa[] = { "kernel/crypto/impl_a.ko", "kernel/crypto/impl_b.ko.xz", NULL };
	expect_order(a, 1, wa, NULL);
	const char *a2[] = { "crypto_foo" };
	expect_order(a2, 1, wa, NULL);
	const char *b[] = { "pci:v00001234d00005678sv00000000sd00000000bc01sc00i00" };
	const char *wb[] = { "kernel/drivers/dash-name.ko.xz", NULL };
	expect_order(b, 1, wb, NULL);
	const char *c[] = { "fs-topfs" };
	const char *wc[] = {
		"kernel/lib/base.ko", "kernel/lib/mid.ko", "kernel/crypto/pre_one.ko",
		"kernel/crypto/impl_a.ko", "kernel/crypto/impl_b.ko.xz", "kernel/fs/top.ko",
		"kernel/crypto/post_one.ko", NULL,
	};
	expect_order(c, 1, wc, NULL);
}

static void dash_underscore(void)
{
	const char *a[] = { "dash-name" };
	const char *b[] = { "dash_name" };
	const char *w[] = { "kernel/drivers/dash-name.ko.xz", NULL };
	expect_order(a, 1, w, NULL);
	expect_order(b, 1, w, NULL);
}

static void builtins_skipped(void)
{
	const char *names[] = { "virtio-pci", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
				"builtin_thing", "crypto-bar" };
	const char *want[] = { NULL };
	struct modclosure c;
	expect_order(names, 4, want, &c);
	CHECK_INT(c.nbuiltin, 4);
	CHECK(has(c.builtin, c.nbuiltin, "virtio-pci"));
	modclosure_free(&c);
}

/* Several names: order of the request, each module once. */
static void several_names_once_each(void)
{
	const char *names[] = { "soft_user", "top", "mid", "top", "crypto-foo" };
	const char *want[] = {
		"kernel/misc/soft_user.ko", "kernel/drivers/dash-name.ko.xz", "kernel/lib/base.ko",
		"kernel/lib/mid.ko", "kernel/crypto/pre_one.ko", "kernel/crypto/impl_a.ko",
		"kernel/crypto/impl_b.ko.xz", "kernel/fs/top.ko", "kernel/crypto/post_one.ko", NULL,
	};
	expect_order(names, 5, want, NULL);
}

static void missing_name_is_error(void)
{
	struct modclosure c;
	char err[1024] = "";
	const char *names[] = { "top", "no-such-module" };
	CHECK_INT(moddb_closure(db, names, 2, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "'no-such-module' not found") != NULL);
	/* An alias whose module is not in modules.dep finds nothing. */
	const char *gone[] = { "gone-alias" };
	CHECK_INT(moddb_closure(db, gone, 1, &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "'gone-alias'") != NULL);
	/* Still usable afterwards. */
	const char *ok[] = { "base" };
	const char *want[] = { "kernel/lib/base.ko", NULL };
	expect_order(ok, 1, want, NULL);
}

static void empty_request(void)
{
	const char *want[] = { NULL };
	expect_order(NULL, 0, want, NULL);
}

static void bad_metadata(void)
{
	struct moddb *b = NULL;
	char err[1024] = "";
	CHECK_INT(moddb_load(&b, "tests/data/initramfs/broken/9.9.9-broken", err, sizeof(err)), -1);
	CHECK(strstr(err, "modules.dep line 1") != NULL);
	CHECK(strstr(err, "kernel/b.ko") != NULL);
	CHECK(b == NULL);
	CHECK_INT(moddb_load(&b, "tests/data/initramfs/no-such-dir", err, sizeof(err)), -1);
	CHECK(strstr(err, "no-such-dir/modules.dep") != NULL);
}

/* A module directory written by the test: NULL leaves a file out. */
static char tmpdir[64];

static void write_meta(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (!text) {
		unlink(path);
		return;
	}
	th_write_file(path, text);
}

static int load_meta(const char *dep, const char *softdep, const char *alias, const char *builtin,
		     struct moddb **out, char *err, size_t errlen)
{
	write_meta("modules.dep", dep);
	write_meta("modules.softdep", softdep);
	write_meta("modules.alias", alias);
	write_meta("modules.builtin", builtin);
	return moddb_load(out, tmpdir, err, errlen);
}

static void expect_meta_error(const char *dep, const char *softdep, const char *want_after_dir)
{
	struct moddb *b = NULL;
	char err[1024] = "", want[1200];
	snprintf(want, sizeof(want), "%s/%s", tmpdir, want_after_dir);
	CHECK_INT(load_meta(dep, softdep, NULL, NULL, &b, err, sizeof(err)), -1);
	CHECK_STR(err, want);
	CHECK(b == NULL);
}

static void metadata_errors_name_file_and_line(void)
{
	expect_meta_error("kernel/a.ko:\n# comment\n\nkernel/b.ko kernel/a.ko\n", NULL,
			  "modules.dep line 4: no ':' (expected 'path: deps...')");
	expect_meta_error("/lib/modules/x/kernel/a.ko:\n", NULL,
			  "modules.dep line 1: module path '/lib/modules/x/kernel/a.ko' must be relative to the modules "
			  "directory, without '.' or '..'");
	expect_meta_error("kernel/../a.ko:\n", NULL,
			  "modules.dep line 1: module path 'kernel/../a.ko' must be relative to the modules directory, "
			  "without '.' or '..'");
	expect_meta_error("kernel/.ko:\n", NULL, "modules.dep line 1: no module name in 'kernel/.ko'");
	expect_meta_error("kernel/a.ko:\n", "# softdeps\nsoftdep\n",
			  "modules.softdep line 2: 'softdep' without a module name");
}

static void metadata_first_line_wins_and_optional_files(void)
{
	struct moddb *b = NULL;
	struct modclosure c;
	char err[1024] = "";
	/* a name listed twice: the first line counts, as in kmod's index;
	 * softdep/alias/builtin files are optional */
	CHECK_INT(load_meta("kernel/one/a.ko:\nkernel/two/a.ko: kernel/b.ko\nkernel/b.ko:\n", NULL, NULL, NULL, &b, err,
			    sizeof(err)),
		  0);
	const char *names[] = { "a" };
	CHECK_INT(moddb_closure(b, names, 1, &c, err, sizeof(err)), 0);
	CHECK_INT(c.npaths, 1);
	if (c.npaths == 1)
		CHECK_STR(c.paths[0], "kernel/one/a.ko");
	modclosure_free(&c);
	moddb_free(b);
}

static void large_module_set(void)
{
	/* more modules, aliases and built-ins than the tables start with: a
	 * chain m0 <- m1 <- ... <- m599, each with two aliases */
	enum { N = 600 };
	size_t cap = N * 64;
	char *dep = malloc(cap), *alias = malloc(cap), *builtin = malloc(cap);
	size_t d = 0, a = 0, bi = 0;
	for (int i = 0; i < N; i++) {
		d += (size_t)snprintf(dep + d, cap - d, "kernel/m%d.ko:", i);
		for (int j = i - 1; j >= 0 && j >= i - 3; j--)
			d += (size_t)snprintf(dep + d, cap - d, " kernel/m%d.ko", j);
		d += (size_t)snprintf(dep + d, cap - d, "\n");
		a += (size_t)snprintf(alias + a, cap - a, "alias pci:v%04Xd* m%d\nalias dev-%d m%d\n", i, i, i, i);
		bi += (size_t)snprintf(builtin + bi, cap - bi, "kernel/b%d.ko\n", i);
	}
	struct moddb *b = NULL;
	struct modclosure c;
	char err[1024] = "";
	CHECK_INT(load_meta(dep, NULL, alias, builtin, &b, err, sizeof(err)), 0);
	if (!b) {
		TH_FAIL("moddb_load: %s", err);
		goto out;
	}
	const char *names[] = { "dev-3", "b599", "m2" };
	CHECK_INT(moddb_closure(b, names, 3, &c, err, sizeof(err)), 0);
	CHECK_INT(c.npaths, 4); /* m0 m1 m2 m3, each once, dependencies first */
	for (size_t i = 0; i < c.npaths && i < 4; i++) {
		char want[32];
		snprintf(want, sizeof(want), "kernel/m%zu.ko", i);
		CHECK_STR(c.paths[i], want);
	}
	CHECK_INT(c.nbuiltin, 1);
	modclosure_free(&c);
	moddb_free(b);
out:
	free(dep);
	free(alias);
	free(builtin);
}

int main(void)
{
	TEST(load_fixture);
	if (!db) {
		printf("not ok - unit/modclosure/fixture-missing\n");
		return 1;
	}
	TEST(normalize);
	TEST(deps_and_softdeps);
	TEST(softdeps_of_dependencies);
	TEST(softdep_cycle_terminates);
	TEST(hard_dependency_beats_softdep_cycle);
	TEST(softdep_builtin_and_unknown);
	TEST(self_softdep);
	TEST(aliases);
	TEST(dash_underscore);
	TEST(builtins_skipped);
	TEST(several_names_once_each);
	TEST(missing_name_is_error);
	TEST(empty_request);
	TEST(bad_metadata);
	strcpy(tmpdir, "/tmp/cvminit-moddb-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("not ok - unit/modclosure/mkdtemp\n");
		return 1;
	}
	TEST(metadata_errors_name_file_and_line);
	TEST(metadata_first_line_wins_and_optional_files);
	TEST(large_module_set);
	static const char *const metas[] = { "modules.dep", "modules.softdep", "modules.alias", "modules.builtin" };
	for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++)
		write_meta(metas[i], NULL);
	rmdir(tmpdir);
	moddb_free(db);
	return TH_END();
}
