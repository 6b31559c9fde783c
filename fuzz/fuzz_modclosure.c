/* libFuzzer target: the initramfs builder's kernel-module metadata readers
 * (initramfs/modclosure.c: modules.dep, modules.softdep, modules.alias,
 * modules.builtin, modules.builtin.modinfo) and the closure computed from
 * them.
 *
 * Input: sections separated by a 0x01 byte, written as files into a private
 * temporary directory (a section that is absent is a file that is absent):
 *   0 modules.dep  1 modules.softdep  2 modules.alias  3 modules.builtin
 *   4 modules.builtin.modinfo (NUL-separated records)
 *   5 the module names to close over (whitespace-separated; at most 32;
 *     none given: "ext4 dm-verity virtio_blk")
 * The closure must list each path once, and only paths of modules.dep. */
// FUZZ_SRCS: initramfs/modclosure.c initramfs/fileio.c
// FUZZ_OPTS: -max_len=8192
#include <ftw.h>
#include <stdbool.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "initramfs/modclosure.h"

static const char *const files[] = { "modules.dep", "modules.softdep", "modules.alias", "modules.builtin",
				     "modules.builtin.modinfo" };
#define NFILES (sizeof(files) / sizeof(files[0]))
static char dir[4096];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void cleanup(void)
{
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/cvminit-fuzz-mod.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(cleanup);
	return 0;
}

static void write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		abort();
}

static void remove_file(const char *name)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* Does modules.dep (section 0) name this path, at the start of the text or
 * after whitespace (modclosure.c skips " \t\r\v\f" before a path)? */
static bool dep_has(const uint8_t *dep, size_t n, const char *path)
{
	size_t pl = strlen(path);
	for (size_t i = 0; i + pl <= n; i++)
		if ((i == 0 || memchr(" \t\r\v\f\n", dep[i - 1], 6)) && !memcmp(dep + i, path, pl))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sec[NFILES + 1];
	size_t len[NFILES + 1], nsec = 0;
	const uint8_t *p = data, *end = data + size;

	while (nsec < NFILES + 1) {
		const uint8_t *sep = memchr(p, 1, (size_t)(end - p));
		sec[nsec] = p;
		len[nsec] = (size_t)((sep ? sep : end) - p);
		nsec++;
		if (!sep)
			break;
		p = sep + 1;
	}
	for (size_t i = 0; i < NFILES; i++) {
		if (i < nsec)
			write_file(files[i], sec[i], len[i]);
		else
			remove_file(files[i]);
	}

	char *names_buf = fuzz_cstr(nsec > NFILES ? sec[NFILES] : (const uint8_t *)"ext4 dm-verity virtio_blk",
				    nsec > NFILES ? len[NFILES] : 25);
	const char *names[32];
	size_t nnames = 0;
	char *save = NULL;
	for (char *t = strtok_r(names_buf, " \t\n", &save); t && nnames < 32; t = strtok_r(NULL, " \t\n", &save))
		names[nnames++] = t;

	struct moddb *db = NULL;
	char err[1024];
	err[0] = '\0';
	if (moddb_load(&db, dir, err, sizeof(err)) != 0) {
		FUZZ_ASSERT(db == NULL && err[0] != '\0');
		free(names_buf);
		return 0;
	}
	for (int round = 0; round < 2; round++) { /* "can be called more than once" */
		struct modclosure c;
		if (moddb_closure(db, names, nnames, &c, err, sizeof(err)) != 0) {
			FUZZ_ASSERT(err[0] != '\0');
			continue;
		}
		for (size_t i = 0; i < c.npaths; i++) {
			FUZZ_ASSERT(dep_has(sec[0], len[0], c.paths[i]));
			for (size_t j = 0; j < i; j++)
				FUZZ_ASSERT(strcmp(c.paths[i], c.paths[j]) != 0);
		}
		for (size_t i = 0; i < c.nnotes; i++)
			FUZZ_ASSERT(c.notes[i] != NULL);
		modclosure_free(&c);
	}
	moddb_free(db);
	free(names_buf);
	return 0;
}
