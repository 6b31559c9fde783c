/* Kernel module closure from depmod's text files: see modclosure.h. */
#include "initramfs/modclosure.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initramfs/fileio.h"

struct strvec {
	char **v;
	size_t n, cap;
};

struct kmodule {
	char *name;  /* normalised */
	char *path;  /* relative to the modules dir, as in modules.dep */
	size_t *deps; /* indices, in modules.dep order */
	size_t ndeps;
	struct strvec pre, post; /* softdep names, as written */
	unsigned char visited, emitted;
	size_t pos; /* position in the load order, once emitted */
};

struct alias {
	char *pattern; /* normalised */
	char *target;  /* normalised module name */
};

/* String -> index map (open addressing); keys are owned elsewhere. */
struct smap {
	const char **keys;
	size_t *vals;
	size_t cap, n;
};

struct moddb {
	char *dir;
	struct kmodule *mods;
	size_t nmods, capmods;
	struct smap byname;
	struct strvec builtin; /* normalised names */
	struct smap builtin_set;
	struct alias *aliases;
	size_t naliases, capaliases;
	struct strvec builtin_aliases; /* normalised patterns */
};

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static int smap_get(const struct smap *m, const char *key, size_t *val)
{
	if (!m->cap)
		return 0;
	for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return 0;
		if (!strcmp(m->keys[i], key)) {
			if (val)
				*val = m->vals[i];
			return 1;
		}
	}
}

/* Returns 1 when the key was already there (value unchanged), 0 when added,
 * -1 out of memory. */
static int smap_put(struct smap *m, const char *key, size_t val)
{
	if (smap_get(m, key, NULL))
		return 1;
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		const char **keys = calloc(cap, sizeof(*keys));
		size_t *vals = calloc(cap, sizeof(*vals));
		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			size_t j = hash_str(m->keys[i]) & (cap - 1);
			while (keys[j])
				j = (j + 1) & (cap - 1);
			keys[j] = m->keys[i];
			vals[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = keys;
		m->vals = vals;
		m->cap = cap;
	}
	size_t i = hash_str(key) & (m->cap - 1);
	while (m->keys[i])
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

static void smap_free(struct smap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* Takes ownership of s (freed on failure). */
static int strvec_push_owned(struct strvec *v, char *s)
{
	if (!s)
		return -1;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		char **p = realloc(v->v, cap * sizeof(*p));
		if (!p) {
			free(s);
			return -1;
		}
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n++] = s;
	return 0;
}

static int strvec_push(struct strvec *v, const char *s)
{
	return strvec_push_owned(v, strdup(s));
}

static int strvec_has(const struct strvec *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return 1;
	return 0;
}

static void strvec_free(struct strvec *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

void mod_normalize(const char *in, char *out)
{
	size_t i = 0;
	while (in[i]) {
		if (in[i] == '[') {
			/* A bracket expression is copied as is, up to its ']'. */
			while (in[i] && in[i] != ']') {
				out[i] = in[i];
				i++;
			}
			if (in[i]) {
				out[i] = in[i];
				i++;
			}
			continue;
		}
		out[i] = (char)(in[i] == '-' ? '_' : in[i]);
		i++;
	}
	out[i] = '\0';
}

static char *normalized_dup(const char *s)
{
	char *r = malloc(strlen(s) + 1);
	if (r)
		mod_normalize(s, r);
	return r;
}

/* "kernel/fs/ext4/ext4.ko.xz" -> "ext4"; "dm-mod.ko" -> "dm_mod". */
static char *modname_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strcspn(base, ".");
	if (len == 0)
		return NULL;
	char *tmp = strndup(base, len);
	if (!tmp)
		return NULL;
	char *r = normalized_dup(tmp);
	free(tmp);
	return r;
}

/* A path inside the modules dir: relative, no "." / ".." / empty component. */
static int relpath_ok(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (;;) {
		size_t c = strcspn(p, "/");
		if (c == 0 || (c == 1 && p[0] == '.') || (c == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!p[c])
			return 1;
		p += c + 1;
	}
}

static const char *const WS = " \t\r\v\f";

static char *next_line(char **cursor)
{
	char *line = *cursor;
	if (!line)
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
		if (!**cursor)
			*cursor = NULL;
	} else {
		*cursor = NULL;
	}
	return line;
}

static int read_meta(const char *dir, const char *name, int optional, char **buf, int *present,
		     char *err, size_t errlen)
{
	char path[4096];
	*present = 0;
	*buf = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return fail(err, errlen, "%s/%s: path too long", dir, name);
	unsigned char *data;
	size_t len;
	char msg[512];
	if (ifs_read_file(path, 0, &data, &len, NULL, msg, sizeof(msg))) {
		if (optional && errno == ENOENT)
			return 0;
		return fail(err, errlen, "%s", msg);
	}
	*buf = (char *)data;
	*present = 1;
	return 0;
}

static int add_module(struct moddb *db, const char *path, char *name)
{
	if (db->nmods == db->capmods) {
		size_t cap = db->capmods ? db->capmods * 2 : 256;
		struct kmodule *m = realloc(db->mods, cap * sizeof(*m));
		if (!m)
			return -1;
		db->mods = m;
		db->capmods = cap;
	}
	struct kmodule *m = &db->mods[db->nmods];
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->path = strdup(path);
	if (!m->path)
		return -1;
	db->nmods++;
	return 0;
}

static int parse_dep(struct moddb *db, char *buf, const char *file, char *err, size_t errlen)
{
	/* Pass 1: every module line; pass 2: its dependencies. */
	size_t nlines = 0;
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			nlines++;
	char **rest = calloc(nlines + 1, sizeof(*rest));
	size_t *owner = calloc(nlines + 1, sizeof(*owner));
	size_t *lineno = calloc(nlines + 1, sizeof(*lineno));
	size_t nrest = 0;
	int rc = -1;
	if (!rest || !owner || !lineno) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	char *cur = buf, *line;
	size_t ln = 0;
	while ((line = next_line(&cur))) {
		ln++;
		line += strspn(line, WS);
		if (!*line || *line == '#')
			continue;
		char *colon = strchr(line, ':');
		if (!colon) {
			fail(err, errlen, "%s line %zu: no ':' (expected 'path: deps...')", file, ln);
			goto out;
		}
		*colon = '\0';
		char *end = colon;
		while (end > line && strchr(WS, end[-1]))
			*--end = '\0';
		if (!relpath_ok(line)) {
			fail(err, errlen, "%s line %zu: module path '%s' must be relative to the modules directory, without '.' or '..'",
			     file, ln, line);
			goto out;
		}
		char *name = modname_from_path(line);
		if (!name) {
			fail(err, errlen, "%s line %zu: no module name in '%s'", file, ln, line);
			goto out;
		}
		size_t idx;
		if (smap_get(&db->byname, name, &idx)) {
			/* As kmod's index: the first line for a name wins. */
			free(name);
			continue;
		}
		if (add_module(db, line, name)) {
			free(name);
			fail(err, errlen, "out of memory");
			goto out;
		}
		if (smap_put(&db->byname, db->mods[db->nmods - 1].name, db->nmods - 1) < 0) {
			fail(err, errlen, "out of memory");
			goto out;
		}
		rest[nrest] = colon + 1;
		owner[nrest] = db->nmods - 1;
		lineno[nrest] = ln;
		nrest++;
	}
	for (size_t r = 0; r < nrest; r++) {
		struct kmodule *m = &db->mods[owner[r]];
		char *save = NULL;
		for (char *tok = strtok_r(rest[r], WS, &save); tok; tok = strtok_r(NULL, WS, &save)) {
			char *dname = modname_from_path(tok);
			size_t d;
			if (!dname || !smap_get(&db->byname, dname, &d) || strcmp(db->mods[d].path, tok)) {
				fail(err, errlen, "%s line %zu: %s depends on %s, which has no line of its own",
				     file, lineno[r], m->path, tok);
				free(dname);
				goto out;
			}
			free(dname);
			size_t *deps = realloc(m->deps, (m->ndeps + 1) * sizeof(*deps));
			if (!deps) {
				fail(err, errlen, "out of memory");
				goto out;
			}
			m->deps = deps;
			m->deps[m->ndeps++] = d;
		}
	}
	rc = 0;
out:
	free(rest);
	free(owner);
	free(lineno);
	return rc;
}

static int parse_softdep(struct moddb *db, char *buf, const char *file, char *err, size_t errlen)
{
	char *cur = buf, *line;
	size_t ln = 0;
	while ((line = next_line(&cur))) {
		ln++;
		char *save = NULL;
		char *tok = strtok_r(line, WS, &save);
		if (!tok || *tok == '#' || strcmp(tok, "softdep"))
			continue;
		char *name = strtok_r(NULL, WS, &save);
		if (!name)
			return fail(err, errlen, "%s line %zu: 'softdep' without a module name", file, ln);
		char *norm = normalized_dup(name);
		if (!norm)
			return fail(err, errlen, "out of memory");
		size_t idx;
		int known = smap_get(&db->byname, norm, &idx);
		free(norm);
		if (!known)
			continue; /* a built-in's or an absent module's softdeps never matter */
		enum { NONE, PRE, POST } mode = NONE;
		while ((tok = strtok_r(NULL, WS, &save))) {
			if (!strcmp(tok, "pre:"))
				mode = PRE;
			else if (!strcmp(tok, "post:"))
				mode = POST;
			else if (mode != NONE &&
				 strvec_push(mode == PRE ? &db->mods[idx].pre : &db->mods[idx].post, tok))
				return fail(err, errlen, "out of memory");
		}
	}
	return 0;
}

static int parse_alias(struct moddb *db, char *buf, char *err, size_t errlen)
{
	char *cur = buf, *line;
	while ((line = next_line(&cur))) {
		char *save = NULL;
		char *kw = strtok_r(line, WS, &save);
		if (!kw || strcmp(kw, "alias"))
			continue;
		char *pat = strtok_r(NULL, WS, &save);
		char *target = strtok_r(NULL, WS, &save);
		if (!pat || !target)
			continue;
		if (db->naliases == db->capaliases) {
			size_t cap = db->capaliases ? db->capaliases * 2 : 1024;
			struct alias *a = realloc(db->aliases, cap * sizeof(*a));
			if (!a)
				return fail(err, errlen, "out of memory");
			db->aliases = a;
			db->capaliases = cap;
		}
		struct alias *a = &db->aliases[db->naliases];
		a->pattern = normalized_dup(pat);
		a->target = normalized_dup(target);
		if (!a->pattern || !a->target) {
			free(a->pattern);
			free(a->target);
			return fail(err, errlen, "out of memory");
		}
		db->naliases++;
	}
	return 0;
}

static int add_builtin(struct moddb *db, char *norm_owned)
{
	if (!norm_owned)
		return -1;
	if (smap_get(&db->builtin_set, norm_owned, NULL)) {
		free(norm_owned);
		return 0;
	}
	if (strvec_push_owned(&db->builtin, norm_owned))
		return -1;
	return smap_put(&db->builtin_set, db->builtin.v[db->builtin.n - 1], 0) < 0 ? -1 : 0;
}

static int parse_builtin(struct moddb *db, char *buf, char *err, size_t errlen)
{
	char *cur = buf, *line;
	while ((line = next_line(&cur))) {
		char *save = NULL;
		char *tok = strtok_r(line, WS, &save);
		if (!tok || *tok == '#')
			continue;
		char *name = modname_from_path(tok);
		if (name && add_builtin(db, name))
			return fail(err, errlen, "out of memory");
	}
	return 0;
}

/* modules.builtin.modinfo: NUL-separated "module.key=value" records. */
static int parse_builtin_modinfo(struct moddb *db, const char *buf, size_t len, char *err, size_t errlen)
{
	for (size_t off = 0; off < len;) {
		const char *rec = buf + off;
		size_t rlen = strnlen(rec, len - off);
		off += rlen + 1;
		const char *dot = memchr(rec, '.', rlen);
		const char *eq = memchr(rec, '=', rlen);
		if (!dot || !eq || eq < dot || dot == rec)
			continue;
		char *mod = strndup(rec, (size_t)(dot - rec));
		char *norm = mod ? normalized_dup(mod) : NULL;
		free(mod);
		if (!norm || add_builtin(db, norm))
			return fail(err, errlen, "out of memory");
		if ((size_t)(eq - dot - 1) == 5 && !memcmp(dot + 1, "alias", 5)) {
			char *val = strndup(eq + 1, rlen - (size_t)(eq + 1 - rec));
			char *pat = val ? normalized_dup(val) : NULL;
			free(val);
			if (!pat || strvec_push_owned(&db->builtin_aliases, pat))
				return fail(err, errlen, "out of memory");
		}
	}
	return 0;
}

int moddb_load(struct moddb **out, const char *dir, char *err, size_t errlen)
{
	*out = NULL;
	struct moddb *db = calloc(1, sizeof(*db));
	if (!db || !(db->dir = strdup(dir))) {
		free(db);
		return fail(err, errlen, "out of memory");
	}
	char *buf = NULL;
	int present;
	char file[4200];

	snprintf(file, sizeof(file), "%s/modules.dep", dir);
	if (read_meta(dir, "modules.dep", 0, &buf, &present, err, errlen))
		goto fail;
	if (parse_dep(db, buf, file, err, errlen))
		goto fail;
	free(buf);

	snprintf(file, sizeof(file), "%s/modules.softdep", dir);
	if (read_meta(dir, "modules.softdep", 1, &buf, &present, err, errlen))
		goto fail;
	if (present && parse_softdep(db, buf, file, err, errlen))
		goto fail;
	free(buf);

	if (read_meta(dir, "modules.alias", 1, &buf, &present, err, errlen))
		goto fail;
	if (present && parse_alias(db, buf, err, errlen))
		goto fail;
	free(buf);

	if (read_meta(dir, "modules.builtin", 1, &buf, &present, err, errlen))
		goto fail;
	if (present && parse_builtin(db, buf, err, errlen))
		goto fail;
	free(buf);

	{
		snprintf(file, sizeof(file), "%s/modules.builtin.modinfo", dir);
		unsigned char *data;
		size_t len;
		char msg[512];
		if (ifs_read_file(file, 0, &data, &len, NULL, msg, sizeof(msg)) == 0) {
			int rc = parse_builtin_modinfo(db, (const char *)data, len, err, errlen);
			free(data);
			if (rc)
				goto fail_nobuf;
		} else if (errno != ENOENT) {
			fail(err, errlen, "%s", msg);
			goto fail_nobuf;
		}
	}
	*out = db;
	return 0;
fail:
	free(buf);
fail_nobuf:
	moddb_free(db);
	return -1;
}

void moddb_free(struct moddb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->nmods; i++) {
		free(db->mods[i].name);
		free(db->mods[i].path);
		free(db->mods[i].deps);
		strvec_free(&db->mods[i].pre);
		strvec_free(&db->mods[i].post);
	}
	free(db->mods);
	smap_free(&db->byname);
	smap_free(&db->builtin_set);
	strvec_free(&db->builtin);
	for (size_t i = 0; i < db->naliases; i++) {
		free(db->aliases[i].pattern);
		free(db->aliases[i].target);
	}
	free(db->aliases);
	strvec_free(&db->builtin_aliases);
	free(db->dir);
	free(db);
}

/* Lookup result: module indices (in order, no repeats), or built-in. */
struct lookup {
	size_t *idx;
	size_t n;
	int builtin;
};

static int lookup_add(struct lookup *l, size_t i)
{
	for (size_t k = 0; k < l->n; k++)
		if (l->idx[k] == i)
			return 0;
	size_t *p = realloc(l->idx, (l->n + 1) * sizeof(*p));
	if (!p)
		return -1;
	l->idx = p;
	l->idx[l->n++] = i;
	return 0;
}

/* Returns 1 found (modules or built-in), 0 not found, -1 out of memory. */
static int resolve(const struct moddb *db, const char *name, struct lookup *l)
{
	memset(l, 0, sizeof(*l));
	char *norm = normalized_dup(name);
	if (!norm)
		return -1;
	int rc = 1;
	size_t i;
	if (smap_get(&db->byname, norm, &i)) {
		if (lookup_add(l, i))
			rc = -1;
		goto out;
	}
	for (size_t a = 0; a < db->naliases; a++) {
		if (fnmatch(db->aliases[a].pattern, norm, 0) != 0)
			continue;
		if (!smap_get(&db->byname, db->aliases[a].target, &i))
			continue; /* an alias of a module that is not in modules.dep */
		if (lookup_add(l, i)) {
			rc = -1;
			goto out;
		}
	}
	if (l->n)
		goto out;
	if (smap_get(&db->builtin_set, norm, NULL)) {
		l->builtin = 1;
		goto out;
	}
	for (size_t a = 0; a < db->builtin_aliases.n; a++)
		if (fnmatch(db->builtin_aliases.v[a], norm, 0) == 0) {
			l->builtin = 1;
			goto out;
		}
	rc = 0;
out:
	free(norm);
	return rc;
}

struct walk {
	struct moddb *db;
	struct modclosure *out;
	struct strvec paths, builtin, notes;
	size_t *order; /* module index of each path */
	char *err;
	size_t errlen;
};

static int note(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(struct walk *w, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strvec_has(&w->notes, buf))
		return 0;
	return strvec_push(&w->notes, buf);
}

static int probe(struct walk *w, size_t m);

/* Resolves a softdep list into module indices; notes what is skipped. */
static int resolve_softdeps(struct walk *w, const struct kmodule *m, const struct strvec *names,
			    const char *kind, struct lookup *all)
{
	memset(all, 0, sizeof(*all));
	for (size_t i = 0; i < names->n; i++) {
		struct lookup l;
		int rc = resolve(w->db, names->v[i], &l);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			if (note(w, "softdep %s '%s' of %s: no module, alias or built-in by that name; skipped",
				 kind, names->v[i], m->name))
				return -1;
		} else if (l.builtin) {
			if (!strvec_has(&w->builtin, names->v[i]) && strvec_push(&w->builtin, names->v[i]))
				return -1;
		}
		for (size_t k = 0; k < l.n; k++)
			if (lookup_add(all, l.idx[k])) {
				free(l.idx);
				return -1;
			}
		free(l.idx);
	}
	return 0;
}

/* kmod's __kmod_module_fill_softdep: pre softdeps, the module, post softdeps. */
static int fill(struct walk *w, size_t mi)
{
	struct kmodule *m = &w->db->mods[mi];
	if (m->emitted)
		return 0;
	struct lookup pre, post;
	if (resolve_softdeps(w, m, &m->pre, "pre:", &pre))
		return -1;
	int rc = -1;
	memset(&post, 0, sizeof(post));
	for (size_t i = 0; i < pre.n; i++)
		if (probe(w, pre.idx[i]))
			goto out;
	if (!m->emitted) {
		for (size_t i = 0; i < m->ndeps; i++)
			if (!w->db->mods[m->deps[i]].emitted &&
			    note(w, "cycle: %s is listed before its dependency %s", m->name,
				 w->db->mods[m->deps[i]].name))
				goto out;
		for (size_t i = 0; i < pre.n; i++)
			if (pre.idx[i] != mi && !w->db->mods[pre.idx[i]].emitted &&
			    note(w, "softdep cycle: %s is listed before its pre: softdep %s", m->name,
				 w->db->mods[pre.idx[i]].name))
				goto out;
		m->emitted = 1;
		m->pos = w->paths.n;
		size_t *o = realloc(w->order, (w->paths.n + 1) * sizeof(*o));
		if (!o)
			goto out;
		w->order = o;
		o[w->paths.n] = mi;
		if (strvec_push(&w->paths, m->path))
			goto out;
	}
	if (resolve_softdeps(w, m, &m->post, "post:", &post))
		goto out;
	for (size_t i = 0; i < post.n; i++)
		if (probe(w, post.idx[i]))
			goto out;
	rc = 0;
out:
	free(pre.idx);
	free(post.idx);
	return rc;
}

/* kmod's __kmod_module_get_probe_list: dependencies (modules.dep lists them
 * in reverse load order), each with its softdeps, then the module. */
static int probe(struct walk *w, size_t mi)
{
	struct kmodule *m = &w->db->mods[mi];
	if (m->visited)
		return 0;
	m->visited = 1;
	for (size_t i = m->ndeps; i-- > 0;)
		if (fill(w, m->deps[i]))
			return -1;
	return fill(w, mi);
}

static int need_add(struct lookup *l, size_t pos)
{
	return lookup_add(l, pos);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* The prerequisites of each path, as positions before it: its modules.dep
 * dependencies, its pre: softdeps, and every module that names it as a
 * post: softdep. A softdep that a cycle put later is no edge (the order
 * already broke the cycle). Written as "name,name" for the load list. */
static int compute_needs(struct walk *w)
{
	size_t n = w->paths.n;
	struct lookup *need = calloc(n ? n : 1, sizeof(*need));
	char **str = calloc(n ? n : 1, sizeof(*str));
	int rc = -1;
	if (!need || !str)
		goto out;
	for (size_t p = 0; p < n; p++) {
		const struct kmodule *m = &w->db->mods[w->order[p]];
		struct lookup pre, post;
		for (size_t i = 0; i < m->ndeps; i++) {
			const struct kmodule *d = &w->db->mods[m->deps[i]];
			if (d->emitted && d->pos < p && need_add(&need[p], d->pos))
				goto out;
		}
		if (resolve_softdeps(w, m, &m->pre, "pre:", &pre))
			goto out;
		for (size_t i = 0; i < pre.n; i++) {
			const struct kmodule *d = &w->db->mods[pre.idx[i]];
			if (d->emitted && d->pos < p && need_add(&need[p], d->pos)) {
				free(pre.idx);
				goto out;
			}
		}
		free(pre.idx);
		if (resolve_softdeps(w, m, &m->post, "post:", &post))
			goto out;
		for (size_t i = 0; i < post.n; i++) {
			const struct kmodule *d = &w->db->mods[post.idx[i]];
			if (d->emitted && d->pos > p && need_add(&need[d->pos], p)) {
				free(post.idx);
				goto out;
			}
		}
		free(post.idx);
	}
	for (size_t p = 0; p < n; p++) {
		size_t len = 1;
		if (need[p].n)
			qsort(need[p].idx, need[p].n, sizeof(size_t), cmp_size);
		for (size_t i = 0; i < need[p].n; i++)
			len += strlen(w->db->mods[w->order[need[p].idx[i]]].name) + 1;
		if (!(str[p] = calloc(1, len)))
			goto out;
		size_t at = 0;
		for (size_t i = 0; i < need[p].n; i++) {
			const char *nm = w->db->mods[w->order[need[p].idx[i]]].name;
			/* len counted every name and comma: never truncated */
			at += (size_t)snprintf(str[p] + at, len - at, "%s%s", i ? "," : "", nm);
		}
	}
	w->out->needs = str;
	str = NULL;
	rc = 0;
out:
	for (size_t p = 0; need && p < n; p++)
		free(need[p].idx);
	free(need);
	for (size_t p = 0; str && p < n; p++)
		free(str[p]);
	free(str);
	return rc;
}

int moddb_closure(struct moddb *db, const char *const *names, size_t n,
		  struct modclosure *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < db->nmods; i++)
		db->mods[i].visited = db->mods[i].emitted = 0;
	struct walk w = { .db = db, .out = out, .err = err, .errlen = errlen };
	for (size_t i = 0; i < n; i++) {
		struct lookup l;
		int rc = resolve(db, names[i], &l);
		if (rc < 0)
			goto oom;
		if (rc == 0) {
			fail(err, errlen,
			     "module '%s' not found in %s: no module (modules.dep), alias (modules.alias) or built-in (modules.builtin) by that name",
			     names[i], db->dir);
			goto error;
		}
		if (l.builtin && !strvec_has(&w.builtin, names[i]) && strvec_push(&w.builtin, names[i])) {
			free(l.idx);
			goto oom;
		}
		for (size_t k = 0; k < l.n; k++)
			if (probe(&w, l.idx[k])) {
				free(l.idx);
				goto oom;
			}
		free(l.idx);
	}
	if (compute_needs(&w))
		goto oom;
	free(w.order);
	out->paths = w.paths.v;
	out->npaths = w.paths.n;
	out->builtin = w.builtin.v;
	out->nbuiltin = w.builtin.n;
	out->notes = w.notes.v;
	out->nnotes = w.notes.n;
	return 0;
oom:
	fail(err, errlen, "out of memory computing the module closure");
error:
	free(w.order);
	strvec_free(&w.paths);
	strvec_free(&w.builtin);
	strvec_free(&w.notes);
	return -1;
}

void modclosure_free(struct modclosure *c)
{
	struct strvec v = { c->paths, c->npaths, c->npaths };
	strvec_free(&v);
	struct strvec b = { c->builtin, c->nbuiltin, c->nbuiltin };
	strvec_free(&b);
	struct strvec nt = { c->notes, c->nnotes, c->nnotes };
	strvec_free(&nt);
	struct strvec nd = { c->needs, c->needs ? c->npaths : 0, c->npaths };
	strvec_free(&nd);
	memset(c, 0, sizeof(*c));
}
