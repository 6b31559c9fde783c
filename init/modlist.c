/* The modules stage's pure logic: see modlist.h. */
#include "init/modlist.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4)))
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "dm-verity" and "dm_verity" are one module, as for kmod. */
static int normalise(const char *s, size_t len, char out[MODLIST_NAME_MAX])
{
	if (!len || len >= MODLIST_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '-')
			c = '_';
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return -1;
		out[i] = c;
	}
	out[len] = '\0';
	return 0;
}

static int name_from_path(const char *path, char out[MODLIST_NAME_MAX])
{
	const char *base = strrchr(path, '/') + 1; /* the path is absolute */
	const char *ko = strstr(base, ".ko");

	while (ko && ko[3] != '\0' && ko[3] != '.')
		ko = strstr(ko + 1, ".ko");
	if (!ko)
		return -1;
	return normalise(base, (size_t)(ko - base), out);
}

static int find_before(const struct mod_list *l, size_t before, const char *name)
{
	for (size_t k = before; k-- > 0;)
		if (!strcmp(l->v[k].name, name))
			return (int)k;
	return -1;
}

static int parse_needs(struct mod_list *l, struct mod_entry *e, char *spec, unsigned lineno, char *err,
		       size_t errlen)
{
	size_t cap = 1;

	for (const char *p = spec; *p; p++)
		cap += *p == ',';
	e->needs = calloc(cap, sizeof(*e->needs));
	if (!e->needs)
		return -ENOMEM;
	if (!*spec)
		return 0;
	for (char *save = NULL, *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char name[MODLIST_NAME_MAX];
		if (normalise(tok, strlen(tok), name))
			return bad(err, errlen, "line %u: needs '%s': not a module name", lineno, tok);
		int k = find_before(l, l->n, name);
		if (k < 0)
			return bad(err, errlen, "line %u: %s needs %s, which is not listed before it", lineno,
				   e->name, name);
		e->needs[e->nneeds++] = (uint16_t)k;
	}
	return 0;
}

int modlist_parse(char *buf, struct mod_list *l, char *err, size_t errlen)
{
	unsigned lineno = 0;
	int r;

	memset(l, 0, sizeof(*l));
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line += strspn(line, " \t");
		size_t len = strlen(line);
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!*line || *line == '#')
			continue;
		if (*line != '/')
			return bad(err, errlen, "line %u: module path must be absolute", lineno);
		if (l->n == MODLIST_MAX)
			return bad(err, errlen, "line %u: more than %d modules", lineno, MODLIST_MAX);
		if (!l->v && !(l->v = calloc(MODLIST_MAX, sizeof(*l->v))))
			return -ENOMEM;
		struct mod_entry *e = &l->v[l->n];
		char *rest = line + strcspn(line, " \t");
		if (*rest) {
			*rest++ = '\0';
			rest += strspn(rest, " \t");
		}
		e->path = line;
		if (name_from_path(line, e->name))
			return bad(err, errlen, "line %u: %s is not a module file (NAME.ko[.xz|.zst|.gz])", lineno,
				   line);
		if (*rest) {
			if (strncmp(rest, "needs=", 6) || strpbrk(rest, " \t"))
				return bad(err, errlen, "line %u: expected 'needs=NAME,...' after the path, not '%s'",
					   lineno, rest);
			if ((r = parse_needs(l, e, rest + 6, lineno, err, errlen)) < 0) {
				free(e->needs);
				e->needs = NULL;
				return r;
			}
		} else if (l->n) {
			/* no graph: strictly after the line before */
			if (!(e->needs = calloc(1, sizeof(*e->needs))))
				return -ENOMEM;
			e->needs[e->nneeds++] = (uint16_t)(l->n - 1);
		}
		if (!strcmp(e->name, "sev_guest"))
			e->tee = MOD_TEE_SEV;
		else if (!strcmp(e->name, "tdx_guest"))
			e->tee = MOD_TEE_TDX;
		l->n++;
	}
	return 0;
}

void modlist_free(struct mod_list *l)
{
	for (size_t i = 0; l->v && i < l->n; i++)
		free(l->v[i].needs);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool satisfied(const struct mod_list *l, const struct mod_entry *e)
{
	for (size_t k = 0; k < e->nneeds; k++) {
		enum mod_state s = l->v[e->needs[k]].state;
		if (s != MOD_DONE && s != MOD_SKIPPED)
			return false;
	}
	return true;
}

int modlist_next(struct mod_list *l)
{
	if (l->stop)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].state == MOD_PENDING && satisfied(l, &l->v[i])) {
			l->v[i].state = MOD_RUNNING;
			return (int)i;
		}
	return -1;
}

bool modlist_finished(const struct mod_list *l)
{
	bool pending = false;

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].state == MOD_RUNNING)
			return false;
		pending |= l->v[i].state == MOD_PENDING;
	}
	/* A pending entry whose prerequisite failed never becomes ready: the
	 * failure stopped the list. Otherwise something is ready. */
	return !pending || l->stop;
}

enum mod_outcome mod_classify(int err)
{
	switch (err) {
	case 0:
		return MOD_LOADED;
	case EEXIST:
		return MOD_ALREADY;
	/* hardware that may be absent (crc32c-intel without SSE4.2, a TEE
	 * driver the configuration demands on a machine without it): whether
	 * a TEE is required is the tee stage's decision */
	case ENODEV:
	case ENXIO:
		return MOD_ABSENT;
	default:
		return MOD_FATAL;
	}
}

void modlist_finish(struct mod_list *l, int i, int err, unsigned us)
{
	struct mod_entry *e = &l->v[i];

	e->err = err;
	e->us = us;
	if (mod_classify(err) == MOD_FATAL) {
		e->state = MOD_FAILED;
		l->stop = true;
	} else {
		e->state = MOD_DONE;
	}
}

void tee_evidence_cpuid(cpuid_fn cpuid, struct tee_evidence *ev)
{
	uint32_t r[4];

	/* A leaf above the maximum returns another leaf's data on Intel: check
	 * the range first. */
	cpuid(0x80000000u, 0, r);
	if (r[0] >= 0x8000001Fu && r[0] < 0x80010000u) {
		cpuid(0x8000001Fu, 0, r);
		ev->amd_mem_encrypt = (r[0] & 0x3u) != 0;
	}
	cpuid(0, 0, r);
	if (r[0] >= 0x21u) {
		cpuid(0x21u, 0, r);
		/* as the kernel reads it: EBX, EDX, ECX */
		ev->tdx = !memcmp(&r[1], "Inte", 4) && !memcmp(&r[3], "lTDX", 4) && !memcmp(&r[2], "    ", 4);
	}
}

struct tee_drivers tee_drivers_for(enum tee_want want, const struct tee_evidence *ev)
{
	struct tee_drivers d = { 0 };

	switch (want) {
	case TEE_WANT_SNP:
		d.sev = true;
		d.why = "TEE=snp";
		break;
	case TEE_WANT_TDX:
		d.tdx = true;
		d.why = "TEE=tdx";
		break;
	case TEE_WANT_MOCK:
		d.why = "TEE=mock";
		break;
	case TEE_WANT_AUTO:
	default:
		d.sev = ev->amd_mem_encrypt || ev->sev_guest_dev;
		d.tdx = ev->tdx;
		/* both: a host that lies; the tee stage refuses two interfaces */
		d.why = d.sev && d.tdx ? "CPUID shows both AMD memory encryption and TDX"
			: d.sev        ? "CPUID/sysfs show AMD memory encryption"
			: d.tdx        ? "CPUID shows TDX"
				       : "CPUID shows neither AMD memory encryption nor TDX";
		break;
	}
	return d;
}

unsigned modlist_apply_tee(struct mod_list *l, const struct tee_drivers *d)
{
	unsigned n = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct mod_entry *e = &l->v[i];
		if ((e->tee == MOD_TEE_SEV && !d->sev) || (e->tee == MOD_TEE_TDX && !d->tdx)) {
			e->state = MOD_SKIPPED;
			n++;
		}
	}
	return n;
}
