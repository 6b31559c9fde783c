/* Kernel module closure for the initramfs: which .ko files a list of module
 * names needs, in the order to load them, computed from a kernel's
 * lib/modules/<kver>/ metadata (the text files depmod writes):
 *
 *   modules.dep              required: "path: dep-path dep-path ..."
 *   modules.softdep          optional: "softdep NAME pre: A B post: C D"
 *   modules.alias            optional: "alias PATTERN NAME" (fnmatch patterns)
 *   modules.builtin          optional: "kernel/.../NAME.ko" built into the kernel
 *   modules.builtin.modinfo  optional: NUL-separated "NAME.alias=PATTERN" (built-in aliases)
 *
 * Name lookup follows kmod (modprobe): names are normalised ('-' and '_' are
 * the same outside [...] of a pattern); a name is first a module of
 * modules.dep, else every module carrying a matching alias (all of them, in
 * modules.alias order), else a built-in (modules.builtin, then built-in
 * aliases), which needs nothing loaded.
 *
 * Load order also follows kmod's probe list: for a module M, first each
 * dependency of M from modules.dep (the list reversed, as kmod loads it),
 * each preceded by its own pre: softdeps; then M's pre: softdeps (with their
 * whole closure), M, then M's post: softdeps (with their whole closure). Each
 * module appears once, at its first position. Deliberate differences from
 * kmod: softdeps of every "softdep M" line for M are used (kmod uses only the
 * first line), and names written before "pre:"/"post:" are ignored (as kmod
 * does). A softdep that names nothing known is skipped with a note, as
 * modprobe skips it; a requested name that is nothing known is an error.
 * Cycles (only possible through softdeps) end: a module is expanded once;
 * where that puts a module before one of its pre: softdeps, a note says so.
 */
#ifndef CVMINIT_INITRAMFS_MODCLOSURE_H
#define CVMINIT_INITRAMFS_MODCLOSURE_H

#include <stddef.h>

struct moddb;

struct modclosure {
	char **paths;     /* load order; paths relative to the modules dir, as in modules.dep */
	size_t npaths;
	char **builtin;   /* names (as requested or as softdep) satisfied by built-ins, skipped */
	size_t nbuiltin;
	char **notes;     /* one line each: skipped softdeps, broken cycles */
	size_t nnotes;
	char **needs;     /* per path: "name,name" of the earlier paths it must follow
			   * (modules.dep, pre: softdeps, modules naming it post:); "" none */
};

/* Reads the metadata of a lib/modules/<kver> directory. Returns 0, or -1 with
 * a message naming the file and line in err. */
int moddb_load(struct moddb **out, const char *dir, char *err, size_t errlen);
void moddb_free(struct moddb *db);

/* Normalises a module name or alias as kmod does ('-' -> '_' outside [...]).
 * out must hold strlen(in) + 1 bytes. */
void mod_normalize(const char *in, char *out);

/* The closure of names[0..n) in load order. A name that is no module, alias
 * or built-in is an error naming it. Can be called more than once. */
int moddb_closure(struct moddb *db, const char *const *names, size_t n,
		  struct modclosure *out, char *err, size_t errlen);
void modclosure_free(struct modclosure *c);

#endif
