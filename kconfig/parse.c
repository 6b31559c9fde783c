/* Parsers for kernel .config files and cvminit's annotated fragments. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kconfig/kconfig.h"

#define CONFIG_PREFIX "CONFIG_"
#define CONFIG_PREFIX_LEN (sizeof(CONFIG_PREFIX) - 1)
#define NOT_SET " is not set"
#define NOT_SET_LEN (sizeof(NOT_SET) - 1)

/* One line of a buffer, without its LF and without a CR before it. */
struct line {
	const char *s;
	size_t len;
	unsigned no;
};

static int next_line(const char **p, const char *end, struct line *l)
{
	if (*p >= end)
		return 0;
	const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
	const char *e = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	if (e > s && e[-1] == '\r')
		e--;
	l->s = s;
	l->len = (size_t)(e - s);
	l->no++;
	return 1;
}

static int is_sym_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Length of the symbol name at s (up to n bytes). */
static size_t sym_len(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_sym_char(s[i]))
		i++;
	return i;
}

static int starts(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return n >= pl && memcmp(s, prefix, pl) == 0;
}

static int all_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* Parses a Kconfig string literal at s[0] == '"' (escapes \" and \\).
 * Returns a malloc'd unescaped copy and sets *used to the bytes consumed
 * (closing quote included); NULL when unterminated (or out of memory). */
static char *parse_quoted(const char *s, size_t n, size_t *used)
{
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			out[o++] = s[++i];
		} else if (s[i] == '"') {
			out[o] = 0;
			*used = i + 1;
			return out;
		} else {
			out[o++] = s[i];
		}
	}
	free(out);
	return NULL;
}

/* ---- .config ----------------------------------------------------------- */

struct raw_sym {
	struct kc_sym sym;
	size_t order; /* position of the assignment, to keep the last one */
};

static int raw_cmp(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;
	int c = strcmp(x->sym.name, y->sym.name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int sym_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct kc_sym *)elem)->name);
}

static void warnf(FILE *warn, const char *label, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void warnf(FILE *warn, const char *label, unsigned line, const char *fmt, ...)
{
	if (!warn)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(warn, "%s:%u: ", label, line);
	vfprintf(warn, fmt, ap);
	fputc('\n', warn);
	va_end(ap);
}

/* Classifies the text after "CONFIG_X=". Returns -1 when malformed. */
static int config_value(const char *v, size_t n, enum kc_state *st, char **value)
{
	*value = NULL;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 0)
		return -1;
	if (n == 1 && (v[0] == 'y' || v[0] == 'm' || v[0] == 'n')) {
		*st = v[0] == 'y' ? KC_YES : v[0] == 'm' ? KC_MODULE : KC_NO;
		return 0;
	}
	if (v[0] == '"') {
		size_t used = 0;
		char *s = parse_quoted(v, n, &used);
		if (!s)
			return -1;
		if (!all_blank(v + used, n - used)) {
			free(s);
			return -1;
		}
		*st = KC_STRING;
		*value = s;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i] == ' ' || v[i] == '\t' || v[i] == '"' || v[i] == '#')
			return -1;
	*value = strndup(v, n);
	if (!*value)
		return -2;
	*st = KC_VALUE;
	return 0;
}

int kc_config_parse(struct kc_config *cfg, const char *text, size_t len, const char *label,
		    FILE *warn)
{
	memset(cfg, 0, sizeof(*cfg));
	if (memchr(text, 0, len)) {
		warnf(warn, label, 0, "contains NUL bytes: not a kernel .config");
		return -1;
	}
	struct raw_sym *raw = NULL;
	size_t n = 0, cap = 0;
	const char *p = text, *end = text + len;
	struct line l = { 0 };
	while (next_line(&p, end, &l)) {
		const char *s = l.s;
		size_t ln = l.len;
		const char *name = NULL;
		size_t nl = 0;
		enum kc_state st = KC_NO;
		char *value = NULL;
		if (ln == 0 || all_blank(s, ln))
			continue;
		if (starts(s, ln, "# " CONFIG_PREFIX)) {
			name = s + 2 + CONFIG_PREFIX_LEN;
			nl = sym_len(name, ln - 2 - CONFIG_PREFIX_LEN);
			const char *rest = name + nl;
			size_t rl = ln - (size_t)(rest - s);
			/* Kconfig's reader, too, ignores what follows "is not set". */
			if (nl == 0 || rl < NOT_SET_LEN || memcmp(rest, NOT_SET, NOT_SET_LEN) != 0)
				continue; /* an ordinary comment that mentions an option */
			st = KC_NO;
		} else if (s[0] == '#') {
			/* "# Linux/x86 6.12.107 Kernel Configuration" */
			if (!cfg->title && starts(s, ln, "# Linux/") && ln > 2 &&
			    ln - 2 >= strlen("Kernel Configuration") &&
			    memcmp(s + ln - strlen("Kernel Configuration"), "Kernel Configuration",
				   strlen("Kernel Configuration")) == 0) {
				cfg->title = strndup(s + 2, ln - 2);
				if (!cfg->title)
					goto oom;
			}
			continue;
		} else if (starts(s, ln, CONFIG_PREFIX)) {
			name = s + CONFIG_PREFIX_LEN;
			nl = sym_len(name, ln - CONFIG_PREFIX_LEN);
			const char *eq = name + nl;
			if (nl == 0 || eq >= s + ln || *eq != '=') {
				cfg->malformed++;
				warnf(warn, label, l.no, "ignoring malformed line: %.*s", (int)(ln > 80 ? 80 : ln), s);
				continue;
			}
			int r = config_value(eq + 1, ln - (size_t)(eq + 1 - s), &st, &value);
			if (r == -2)
				goto oom;
			if (r < 0) {
				cfg->malformed++;
				warnf(warn, label, l.no, "ignoring malformed value: %.*s", (int)(ln > 80 ? 80 : ln), s);
				continue;
			}
		} else {
			cfg->malformed++;
			warnf(warn, label, l.no, "ignoring unexpected line: %.*s", (int)(ln > 80 ? 80 : ln), s);
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			struct raw_sym *nr = realloc(raw, nc * sizeof(*raw));
			if (!nr) {
				free(value);
				goto oom;
			}
			raw = nr;
			cap = nc;
		}
		raw[n].sym.name = strndup(name, nl);
		if (!raw[n].sym.name) {
			free(value);
			goto oom;
		}
		raw[n].sym.state = st;
		raw[n].sym.value = value;
		raw[n].sym.line = l.no;
		raw[n].order = n;
		n++;
		cfg->assignments++;
	}
	if (n)
		qsort(raw, n, sizeof(*raw), raw_cmp);
	cfg->syms = calloc(n ? n : 1, sizeof(*cfg->syms));
	if (!cfg->syms)
		goto oom;
	for (size_t i = 0; i < n;) {
		/* raw[i..j) assign the same symbol, in file order: the last wins. */
		size_t j = i + 1;
		while (j < n && strcmp(raw[i].sym.name, raw[j].sym.name) == 0)
			j++;
		if (j - i > 1)
			cfg->duplicates++;
		for (size_t k = i + 1; k < j; k++)
			warnf(warn, label, raw[k].sym.line,
			      "CONFIG_%s assigned again (first at line %u): the last assignment wins",
			      raw[k].sym.name, raw[i].sym.line);
		for (size_t k = i; k + 1 < j; k++) {
			free(raw[k].sym.name);
			free(raw[k].sym.value);
		}
		cfg->syms[cfg->n++] = raw[j - 1].sym;
		i = j;
	}
	free(raw);
	return 0;
oom:
	for (size_t i = 0; i < n; i++) {
		free(raw[i].sym.name);
		free(raw[i].sym.value);
	}
	free(raw);
	kc_config_free(cfg);
	if (warn)
		fprintf(warn, "%s: out of memory\n", label);
	return -1;
}

const struct kc_sym *kc_config_get(const struct kc_config *cfg, const char *name)
{
	if (!cfg->n)
		return NULL;
	return bsearch(name, cfg->syms, cfg->n, sizeof(*cfg->syms), sym_cmp);
}

void kc_config_free(struct kc_config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->syms[i].name);
		free(cfg->syms[i].value);
	}
	free(cfg->syms);
	free(cfg->title);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- fragments --------------------------------------------------------- */

#define KIND_DIRECTIVE "# cvminit-fragment:"

const char *kc_kind_name(enum kc_kind kind)
{
	return kind == KC_KIND_REQUIRED ? "required" : "hardening";
}

static void entry_free(struct kc_entry *e)
{
	free(e->name);
	free(e->value);
	free(e->module);
	free(e->anyof);
	free(e->when);
	for (size_t i = 0; i < e->n_ifs; i++)
		free(e->ifs[i]);
	free(e->ifs);
	free(e->reason);
	memset(e, 0, sizeof(*e));
}

void kc_fragment_free(struct kc_fragment *frag)
{
	for (size_t i = 0; i < frag->n; i++)
		entry_free(&frag->entries[i]);
	free(frag->entries);
	free(frag->source);
	memset(frag, 0, sizeof(*frag));
}

struct fparse {
	const char *label;
	unsigned line;
	char *err;
	size_t errlen;
};

static int ferr(struct fparse *fp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ferr(struct fparse *fp, const char *fmt, ...)
{
	if (fp->err && fp->errlen) {
		int k = snprintf(fp->err, fp->errlen, "%s:%u: ", fp->label, fp->line);
		if (k >= 0 && (size_t)k < fp->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(fp->err + k, fp->errlen - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

/* A name for module=, anyof=, when=: [A-Za-z0-9_-]+ */
static int is_word(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_sym_char(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* Number syntax for fragment values: -?[0-9]+ or 0x[0-9a-fA-F]+ */
static int is_number(const char *s, size_t n)
{
	size_t i = 0;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (!strchr("0123456789abcdefABCDEF", s[i]))
				return 0;
		return 1;
	}
	if (n && s[0] == '-')
		i = 1;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int set_once(struct fparse *fp, char **slot, const char *key, const char *v, size_t n)
{
	if (*slot)
		return ferr(fp, "annotation '%s' given twice", key);
	if (!is_word(v, n))
		return ferr(fp, "annotation '%s=' needs a name of letters, digits, '_' or '-'", key);
	*slot = strndup(v, n);
	return *slot ? 0 : ferr(fp, "out of memory");
}

static int parse_ifs(struct fparse *fp, struct kc_entry *e, const char *v, size_t n)
{
	if (e->ifs)
		return ferr(fp, "annotation 'if' given twice");
	size_t count = 1;
	for (size_t i = 0; i < n; i++)
		count += v[i] == ',';
	e->ifs = calloc(count, sizeof(*e->ifs));
	if (!e->ifs)
		return ferr(fp, "out of memory");
	const char *s = v, *end = v + n;
	while (s <= end) {
		const char *c = memchr(s, ',', (size_t)(end - s));
		const char *t = c ? c : end;
		size_t tl = (size_t)(t - s);
		if (tl <= CONFIG_PREFIX_LEN || memcmp(s, CONFIG_PREFIX, CONFIG_PREFIX_LEN) != 0 ||
		    sym_len(s + CONFIG_PREFIX_LEN, tl - CONFIG_PREFIX_LEN) != tl - CONFIG_PREFIX_LEN)
			return ferr(fp, "annotation 'if=' takes CONFIG_ names separated by commas");
		e->ifs[e->n_ifs] = strndup(s + CONFIG_PREFIX_LEN, tl - CONFIG_PREFIX_LEN);
		if (!e->ifs[e->n_ifs])
			return ferr(fp, "out of memory");
		e->n_ifs++;
		s = t + 1;
	}
	return 0;
}

/* After the value: blanks, '#', optional [annotations], the reason. */
static int parse_comment(struct fparse *fp, struct kc_entry *e, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n)
		return ferr(fp, "CONFIG_%s has no reason: add '# <why cvminit wants this>'", e->name);
	if (s[i] != '#')
		return ferr(fp, "unexpected text after the value of CONFIG_%s: %.*s", e->name,
			    (int)(n - i), s + i);
	if (i == 0)
		return ferr(fp, "put blanks between the value of CONFIG_%s and its '#'", e->name);
	i++;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && s[i] == '[') {
		const char *close = memchr(s + i, ']', n - i);
		if (!close)
			return ferr(fp, "annotation list '[' without ']'");
		const char *a = s + i + 1, *aend = close;
		while (a < aend) {
			while (a < aend && *a == ' ')
				a++;
			const char *t = a;
			while (t < aend && *t != ' ')
				t++;
			if (t == a)
				break;
			size_t tl = (size_t)(t - a);
			const char *eq = memchr(a, '=', tl);
			size_t kl = eq ? (size_t)(eq - a) : tl;
			const char *v = eq ? eq + 1 : NULL;
			size_t vl = eq ? (size_t)(t - v) : 0;
			int r;
			if (!eq && kl == 8 && !memcmp(a, "optional", 8)) {
				if (e->optional)
					return ferr(fp, "annotation 'optional' given twice");
				e->optional = 1;
				r = 0;
			} else if (eq && kl == 6 && !memcmp(a, "module", 6)) {
				r = set_once(fp, &e->module, "module", v, vl);
			} else if (eq && kl == 5 && !memcmp(a, "anyof", 5)) {
				r = set_once(fp, &e->anyof, "anyof", v, vl);
			} else if (eq && kl == 4 && !memcmp(a, "when", 4)) {
				r = set_once(fp, &e->when, "when", v, vl);
			} else if (eq && kl == 2 && !memcmp(a, "if", 2)) {
				r = parse_ifs(fp, e, v, vl);
			} else {
				return ferr(fp, "unknown annotation '%.*s' (known: module= anyof= when= if= optional)",
					    (int)tl, a);
			}
			if (r)
				return r;
			a = t;
		}
		i = (size_t)(close - s) + 1;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
	}
	size_t rl = n - i;
	while (rl && (s[i + rl - 1] == ' ' || s[i + rl - 1] == '\t'))
		rl--;
	if (rl == 0)
		return ferr(fp, "CONFIG_%s has no reason after its annotations", e->name);
	e->reason = strndup(s + i, rl);
	return e->reason ? 0 : ferr(fp, "out of memory");
}

static int parse_entry(struct fparse *fp, struct kc_entry *e, const char *s, size_t n)
{
	const char *rest;
	if (starts(s, n, "# " CONFIG_PREFIX)) {
		const char *name = s + 2 + CONFIG_PREFIX_LEN;
		size_t nl = sym_len(name, n - 2 - CONFIG_PREFIX_LEN);
		rest = name + nl;
		if (nl == 0 || (size_t)(s + n - rest) < NOT_SET_LEN || memcmp(rest, NOT_SET, NOT_SET_LEN) != 0)
			return ferr(fp, "a comment starting with '# CONFIG_' must be '# CONFIG_X is not set  # reason'");
		e->name = strndup(name, nl);
		e->want = KW_OFF;
		rest += NOT_SET_LEN;
	} else {
		const char *name = s + CONFIG_PREFIX_LEN;
		size_t nl = sym_len(name, n - CONFIG_PREFIX_LEN);
		const char *eq = name + nl;
		if (nl == 0 || eq >= s + n || *eq != '=')
			return ferr(fp, "expected CONFIG_NAME=value");
		e->name = strndup(name, nl);
		if (!e->name)
			return ferr(fp, "out of memory");
		const char *v = eq + 1, *end = s + n;
		size_t vl = 0;
		while (v + vl < end && v[vl] != ' ' && v[vl] != '\t' && v[vl] != '"')
			vl++;
		if (v < end && *v == '"') {
			size_t used = 0;
			e->value = parse_quoted(v, (size_t)(end - v), &used);
			if (!e->value)
				return ferr(fp, "CONFIG_%s: unterminated string", e->name);
			e->want = KW_STRING;
			rest = v + used;
		} else if (vl == 1 && (*v == 'y' || *v == 'm' || *v == 'n')) {
			e->want = *v == 'y' ? KW_YES : *v == 'm' ? KW_MODULE : KW_OFF;
			rest = v + 1;
		} else if (is_number(v, vl)) {
			e->want = KW_NUMBER;
			e->value = strndup(v, vl);
			rest = v + vl;
		} else {
			return ferr(fp, "CONFIG_%s: value must be y, m, n, a number or a \"string\"", e->name);
		}
	}
	if (!e->name || ((e->want == KW_STRING || e->want == KW_NUMBER) && !e->value))
		return ferr(fp, "out of memory");
	if (parse_comment(fp, e, rest, (size_t)(s + n - rest)))
		return -1;
	if (e->want == KW_MODULE && !e->module)
		return ferr(fp, "CONFIG_%s=m needs [module=NAME]: the module the initramfs must load", e->name);
	if (e->want != KW_MODULE && e->module)
		return ferr(fp, "CONFIG_%s: [module=] only goes with =m", e->name);
	return 0;
}

int kc_fragment_parse(struct kc_fragment *frag, const char *text, size_t len, const char *label,
		      char *err, size_t errlen)
{
	struct fparse fp = { .label = label, .err = err, .errlen = errlen };
	int have_kind = 0;
	size_t cap = 0;
	memset(frag, 0, sizeof(*frag));
	if (err && errlen)
		err[0] = 0;
	frag->source = strdup(label);
	if (!frag->source)
		return ferr(&fp, "out of memory");
	if (memchr(text, 0, len)) {
		ferr(&fp, "contains NUL bytes");
		goto fail;
	}
	const char *p = text, *end = text + len;
	struct line l = { 0 };
	while (next_line(&p, end, &l)) {
		fp.line = l.no;
		const char *s = l.s;
		size_t n = l.len;
		if (n == 0 || all_blank(s, n))
			continue;
		if (s[0] == ' ' || s[0] == '\t') {
			ferr(&fp, "lines must not start with blanks");
			goto fail;
		}
		if (starts(s, n, KIND_DIRECTIVE)) {
			const char *v = s + strlen(KIND_DIRECTIVE);
			size_t vl = n - strlen(KIND_DIRECTIVE);
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (have_kind) {
				ferr(&fp, "second '%s' line", KIND_DIRECTIVE);
				goto fail;
			}
			if (vl == 8 && !memcmp(v, "required", 8))
				frag->kind = KC_KIND_REQUIRED;
			else if (vl == 9 && !memcmp(v, "hardening", 9))
				frag->kind = KC_KIND_HARDENING;
			else {
				ferr(&fp, "'%s' must be followed by 'required' or 'hardening'", KIND_DIRECTIVE);
				goto fail;
			}
			have_kind = 1;
			continue;
		}
		if (s[0] == '#' && !starts(s, n, "# " CONFIG_PREFIX))
			continue; /* comment */
		if (s[0] != '#' && !starts(s, n, CONFIG_PREFIX)) {
			ferr(&fp, "expected CONFIG_NAME=value  # reason, '# CONFIG_NAME is not set  # reason' or a comment");
			goto fail;
		}
		if (frag->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct kc_entry *ne = realloc(frag->entries, nc * sizeof(*ne));
			if (!ne) {
				ferr(&fp, "out of memory");
				goto fail;
			}
			frag->entries = ne;
			cap = nc;
		}
		struct kc_entry *e = &frag->entries[frag->n];
		memset(e, 0, sizeof(*e));
		e->line = l.no;
		frag->n++;
		if (parse_entry(&fp, e, s, n))
			goto fail;
		for (size_t i = 0; i + 1 < frag->n; i++)
			if (!strcmp(frag->entries[i].name, e->name)) {
				ferr(&fp, "CONFIG_%s already given at line %u", e->name, frag->entries[i].line);
				goto fail;
			}
	}
	if (!have_kind) {
		fp.line = 0;
		ferr(&fp, "missing '%s required' or '%s hardening' line", KIND_DIRECTIVE, KIND_DIRECTIVE);
		goto fail;
	}
	/* An anyof group needs two members, or it is a typo. */
	for (size_t i = 0; i < frag->n; i++) {
		const struct kc_entry *e = &frag->entries[i];
		if (!e->anyof)
			continue;
		size_t members = 0;
		for (size_t j = 0; j < frag->n; j++)
			members += frag->entries[j].anyof && !strcmp(frag->entries[j].anyof, e->anyof);
		if (members < 2) {
			fp.line = e->line;
			ferr(&fp, "anyof group '%s' has only CONFIG_%s", e->anyof, e->name);
			goto fail;
		}
	}
	return 0;
fail:
	kc_fragment_free(frag);
	return -1;
}
