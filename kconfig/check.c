/* Verdicts of a fragment against a kernel .config, and the reports. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kconfig/kconfig.h"

const char *kc_verdict_name(enum kc_verdict v)
{
	switch (v) {
	case KV_BUILTIN: return "built-in";
	case KV_MODULE: return "module";
	case KV_OFF: return "off";
	case KV_OK: return "ok";
	case KV_MISSING: return "missing";
	case KV_WRONG: return "wrong";
	case KV_SKIPPED: return "skipped";
	case KV_NA: return "n/a";
	}
	return "?";
}

static void quoted(char *buf, size_t len, const char *v)
{
	/* Kconfig's own escaping: \ and " get a backslash. */
	size_t o = 0;
	if (len < 3) {
		if (len)
			buf[0] = 0;
		return;
	}
	buf[o++] = '"';
	for (const char *p = v; *p && o + 3 < len; p++) {
		if (*p == '"' || *p == '\\')
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	buf[o++] = '"';
	buf[o] = 0;
}

void kc_want_text(const struct kc_entry *e, char *buf, size_t len)
{
	switch (e->want) {
	case KW_YES: snprintf(buf, len, "y"); break;
	case KW_MODULE: snprintf(buf, len, "y/m"); break;
	case KW_OFF: snprintf(buf, len, "n"); break;
	case KW_STRING: quoted(buf, len, e->value); break;
	case KW_NUMBER: snprintf(buf, len, "%s", e->value); break;
	}
}

void kc_found_text(const struct kc_sym *s, char *buf, size_t len)
{
	if (!s) {
		snprintf(buf, len, "-");
		return;
	}
	switch (s->state) {
	case KC_ABSENT: snprintf(buf, len, "-"); break;
	case KC_NO: snprintf(buf, len, "n"); break;
	case KC_MODULE: snprintf(buf, len, "m"); break;
	case KC_YES: snprintf(buf, len, "y"); break;
	case KC_STRING: quoted(buf, len, s->value); break;
	case KC_VALUE: snprintf(buf, len, "%s", s->value); break;
	}
}

static int parse_int(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int values_equal(const char *want, const char *found, int numeric)
{
	long long a, b;
	if (numeric && parse_int(want, &a) == 0 && parse_int(found, &b) == 0)
		return a == b;
	return strcmp(want, found) == 0;
}

static enum kc_verdict verdict(const struct kc_entry *e, const struct kc_sym *s)
{
	enum kc_state st = s ? s->state : KC_ABSENT;
	switch (e->want) {
	case KW_YES:
		return st == KC_YES ? KV_BUILTIN :
		       st == KC_ABSENT || st == KC_NO ? KV_MISSING : KV_WRONG;
	case KW_MODULE:
		return st == KC_YES ? KV_BUILTIN : st == KC_MODULE ? KV_MODULE :
		       st == KC_ABSENT || st == KC_NO ? KV_MISSING : KV_WRONG;
	case KW_OFF:
		return st == KC_ABSENT || st == KC_NO ? KV_OFF : KV_WRONG;
	case KW_STRING:
	case KW_NUMBER:
		if (st == KC_ABSENT || st == KC_NO)
			return KV_MISSING;
		if (st != KC_STRING && st != KC_VALUE)
			return KV_WRONG;
		/* A wanted string matches only a quoted value; a number only an
		 * unquoted one (Kconfig writes int and hex unquoted). */
		if ((e->want == KW_STRING) != (st == KC_STRING))
			return KV_WRONG;
		return values_equal(e->value, s->value, e->want == KW_NUMBER) ? KV_OK : KV_WRONG;
	}
	return KV_WRONG;
}

static int tag_skipped(const char *tag, char *const *skip, size_t n_skip)
{
	for (size_t i = 0; tag && i < n_skip; i++)
		if (!strcmp(tag, skip[i]))
			return 1;
	return 0;
}

static int condition_holds(const struct kc_config *cfg, const struct kc_entry *e)
{
	if (!e->n_ifs)
		return 1;
	for (size_t i = 0; i < e->n_ifs; i++) {
		const struct kc_sym *s = kc_config_get(cfg, e->ifs[i]);
		if (s && (s->state == KC_YES || s->state == KC_MODULE))
			return 1;
	}
	return 0;
}

static int evaluated(const struct kc_result *r)
{
	return r->verdict != KV_SKIPPED && r->verdict != KV_NA;
}

int kc_check(struct kc_section *sec, const struct kc_config *cfg, const struct kc_fragment *frag,
	     char *const *skip, size_t n_skip)
{
	memset(sec, 0, sizeof(*sec));
	sec->frag = frag;
	sec->results = calloc(frag->n ? frag->n : 1, sizeof(*sec->results));
	if (!sec->results)
		return -1;
	for (size_t i = 0; i < frag->n; i++) {
		struct kc_result *r = &sec->results[i];
		const struct kc_entry *e = &frag->entries[i];
		r->entry = e;
		r->found = kc_config_get(cfg, e->name);
		if (tag_skipped(e->when, skip, n_skip))
			r->verdict = KV_SKIPPED;
		else if (!condition_holds(cfg, e))
			r->verdict = KV_NA;
		else
			r->verdict = verdict(e, r->found);
		r->satisfied = r->verdict == KV_BUILTIN || r->verdict == KV_MODULE ||
			       r->verdict == KV_OFF || r->verdict == KV_OK;
	}
	for (size_t i = 0; i < frag->n; i++) {
		struct kc_result *r = &sec->results[i];
		if (!r->entry->anyof)
			continue;
		/* Met when an evaluated member is satisfied; members skipped or
		 * not applicable do not count, and a group with no evaluated
		 * member cannot fail. */
		size_t members = 0;
		for (size_t j = 0; j < frag->n; j++) {
			const struct kc_result *o = &sec->results[j];
			if (!o->entry->anyof || strcmp(o->entry->anyof, r->entry->anyof) || !evaluated(o))
				continue;
			members++;
			if (o->satisfied)
				r->group_ok = 1;
		}
		if (!members)
			r->group_ok = 1;
	}
	for (size_t i = 0; i < frag->n; i++) {
		struct kc_result *r = &sec->results[i];
		const struct kc_entry *e = r->entry;
		if (r->verdict == KV_SKIPPED) {
			sec->skipped++;
			continue;
		}
		if (r->verdict == KV_NA) {
			sec->na++;
			continue;
		}
		if (r->satisfied) {
			sec->satisfied++;
			continue;
		}
		if (e->optional || (e->anyof && r->group_ok))
			continue;
		r->failing = 1;
		/* A failing group counts once: at its first failing member. */
		int first = 1;
		for (size_t j = 0; e->anyof && j < i; j++)
			if (sec->results[j].failing && sec->results[j].entry->anyof &&
			    !strcmp(sec->results[j].entry->anyof, e->anyof))
				first = 0;
		if (first)
			sec->failing++;
	}
	return 0;
}

void kc_section_free(struct kc_section *sec)
{
	free(sec->results);
	memset(sec, 0, sizeof(*sec));
}

int kc_exit_status(const struct kc_section *secs, size_t n, int strict)
{
	for (size_t i = 0; i < n; i++) {
		if (!secs[i].failing)
			continue;
		if (secs[i].frag->kind == KC_KIND_REQUIRED || strict)
			return 1;
	}
	return 0;
}

size_t kc_modules(const struct kc_section *secs, size_t n, const char ***out)
{
	size_t total = 0, k = 0;
	for (size_t i = 0; i < n; i++)
		total += secs[i].frag->n;
	*out = calloc(total ? total : 1, sizeof(**out));
	if (!*out)
		return 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < secs[i].frag->n; j++) {
			const struct kc_result *r = &secs[i].results[j];
			if (r->verdict != KV_MODULE || !r->entry->module)
				continue;
			int dup = 0;
			for (size_t m = 0; m < k; m++)
				dup |= !strcmp((*out)[m], r->entry->module);
			if (!dup)
				(*out)[k++] = r->entry->module;
		}
	return k;
}

/* ---- the table --------------------------------------------------------- */

#define COL_VERDICT 9 /* "built-in" */
#define COL_VALUE_MAX 24 /* a longer wanted/found value overflows its column */

struct widths {
	int option, want, found;
};

/* Column widths fit the longest entry of all sections, so the same fragments
 * always give the same layout. */
static struct widths column_widths(const struct kc_report *r)
{
	struct widths w = { (int)strlen("OPTION"), (int)strlen("WANT"), (int)strlen("FOUND") };
	char buf[128];
	for (size_t si = 0; si < r->n; si++)
		for (size_t i = 0; i < r->secs[si].frag->n; i++) {
			const struct kc_result *res = &r->secs[si].results[i];
			int k = (int)(strlen("CONFIG_") + strlen(res->entry->name));
			if (k > w.option)
				w.option = k;
			kc_want_text(res->entry, buf, sizeof(buf));
			k = (int)strlen(buf);
			if (k > w.want && k <= COL_VALUE_MAX)
				w.want = k;
			kc_found_text(res->found, buf, sizeof(buf));
			k = (int)strlen(buf);
			if (k > w.found && k <= COL_VALUE_MAX)
				w.found = k;
		}
	return w;
}

/* The NOTE column: what a reader needs beside the verdict. */
static void note_text(const struct kc_result *r, char *buf, size_t len)
{
	const struct kc_entry *e = r->entry;
	size_t o = 0;
	buf[0] = 0;
#define ADD(...)                                                                      \
	do {                                                                          \
		if (o < len) {                                                        \
			int k_ = snprintf(buf + o, len - o, "%s", o ? "; " : "");     \
			if (k_ > 0)                                                   \
				o += (size_t)k_;                                      \
		}                                                                     \
		if (o < len) {                                                        \
			int k_ = snprintf(buf + o, len - o, __VA_ARGS__);             \
			if (k_ > 0)                                                   \
				o += (size_t)k_;                                      \
		}                                                                     \
	} while (0)
	if (r->verdict == KV_MODULE)
		ADD("load %s", e->module);
	if (r->verdict == KV_SKIPPED)
		ADD("when=%s skipped", e->when);
	else if (e->when)
		ADD("when=%s", e->when);
	if (e->n_ifs) {
		char list[256];
		size_t lo = 0;
		list[0] = 0;
		for (size_t i = 0; i < e->n_ifs && lo < sizeof(list); i++) {
			int k = snprintf(list + lo, sizeof(list) - lo, "%s%s", i ? "," : "", e->ifs[i]);
			if (k > 0)
				lo += (size_t)k;
		}
		ADD("if %s%s", list, r->verdict == KV_NA ? " (none set)" : "");
	}
	if (e->anyof && r->verdict != KV_SKIPPED && r->verdict != KV_NA)
		ADD("anyof %s: %s", e->anyof, r->group_ok ? "met" : "unmet");
	if (e->optional)
		ADD("optional");
	if (r->verdict == KV_WRONG && e->want == KW_YES && r->found && r->found->state == KC_MODULE)
		ADD("must be built in");
#undef ADD
}

static const char *section_word(const struct kc_section *s)
{
	return s->frag->kind == KC_KIND_REQUIRED ? "failing" : "findings";
}

void kc_print_table(FILE *out, const struct kc_report *r)
{
	char want[128], found[128], note[512];
	struct widths w = column_widths(r);
	fprintf(out, "kernel config: %s", r->config_label);
	if (r->cfg->title)
		fprintf(out, " (%s)", r->cfg->title);
	fprintf(out, "\n");
	if (r->n_skip) {
		fprintf(out, "skipped tags:");
		for (size_t i = 0; i < r->n_skip; i++)
			fprintf(out, " %s", r->skip[i]);
		fprintf(out, "\n");
	}
	for (size_t si = 0; si < r->n; si++) {
		const struct kc_section *s = &r->secs[si];
		fprintf(out, "\n== %s (%s) ==\n", kc_kind_name(s->frag->kind), s->frag->source);
		fprintf(out, "%-*s %-*s %-*s %-*s %s\n", w.option, "OPTION", w.want, "WANT", w.found,
			"FOUND", COL_VERDICT, "VERDICT", "NOTE");
		for (size_t i = 0; i < s->frag->n; i++) {
			const struct kc_result *res = &s->results[i];
			char name[128];
			snprintf(name, sizeof(name), "CONFIG_%s", res->entry->name);
			kc_want_text(res->entry, want, sizeof(want));
			kc_found_text(res->found, found, sizeof(found));
			note_text(res, note, sizeof(note));
			/* no trailing blanks when the note is empty */
			if (note[0])
				fprintf(out, "%-*s %-*s %-*s %-*s %s\n", w.option, name, w.want, want,
					w.found, found, COL_VERDICT, kc_verdict_name(res->verdict), note);
			else
				fprintf(out, "%-*s %-*s %-*s %s\n", w.option, name, w.want, want,
					w.found, found, kc_verdict_name(res->verdict));
		}
		fprintf(out, "%s: %zu options: %zu satisfied, %zu %s, %zu skipped, %zu not applicable\n",
			kc_kind_name(s->frag->kind), s->frag->n, s->satisfied, s->failing, section_word(s),
			s->skipped, s->na);
		/* Why each unsatisfied option matters. */
		int enforced = s->frag->kind == KC_KIND_REQUIRED || r->strict;
		for (size_t i = 0; i < s->frag->n; i++) {
			const struct kc_result *res = &s->results[i];
			if (res->satisfied || res->verdict == KV_SKIPPED || res->verdict == KV_NA)
				continue;
			const char *tag = res->failing ? (enforced ? "FAIL" : "warn") : "note";
			kc_found_text(res->found, found, sizeof(found));
			fprintf(out, "  %s CONFIG_%s: %s (found %s): %s\n", tag, res->entry->name,
				kc_verdict_name(res->verdict), found, res->entry->reason);
		}
	}
	const char **mods = NULL;
	size_t nm = kc_modules(r->secs, r->n, &mods);
	fprintf(out, "\nmodules to load (%zu):", nm);
	for (size_t i = 0; i < nm; i++)
		fprintf(out, " %s", mods[i]);
	fprintf(out, "\n");
	free(mods);

	size_t req = 0, hard = 0;
	for (size_t si = 0; si < r->n; si++) {
		if (r->secs[si].frag->kind == KC_KIND_REQUIRED)
			req += r->secs[si].failing;
		else
			hard += r->secs[si].failing;
	}
	int status = kc_exit_status(r->secs, r->n, r->strict);
	fprintf(out, "result: %s: %zu required failing, %zu hardening findings (%s)\n",
		status ? "FAIL" : "PASS", req, hard,
		r->strict ? "--strict: findings fail" : "reported only; --strict makes them fail");
}

/* ---- JSON -------------------------------------------------------------- */

static void json_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

static void json_found(FILE *out, const struct kc_sym *s)
{
	if (!s || s->state == KC_ABSENT) {
		fputs("null", out);
		return;
	}
	switch (s->state) {
	case KC_NO: json_str(out, "n"); break;
	case KC_MODULE: json_str(out, "m"); break;
	case KC_YES: json_str(out, "y"); break;
	default: json_str(out, s->value); break;
	}
}

void kc_print_json(FILE *out, const struct kc_report *r)
{
	char want[128];
	fputs("{\n  \"config\": ", out);
	json_str(out, r->config_label);
	fputs(",\n  \"title\": ", out);
	json_str(out, r->cfg->title);
	fputs(",\n  \"skip\": [", out);
	for (size_t i = 0; i < r->n_skip; i++) {
		fputs(i ? ", " : "", out);
		json_str(out, r->skip[i]);
	}
	fprintf(out, "],\n  \"strict\": %s,\n  \"sections\": [", r->strict ? "true" : "false");
	for (size_t si = 0; si < r->n; si++) {
		const struct kc_section *s = &r->secs[si];
		fputs(si ? ",\n    {" : "\n    {", out);
		fputs("\n      \"kind\": ", out);
		json_str(out, kc_kind_name(s->frag->kind));
		fputs(", \"source\": ", out);
		json_str(out, s->frag->source);
		fprintf(out, ",\n      \"satisfied\": %zu, \"failing\": %zu, \"skipped\": %zu, \"not_applicable\": %zu,",
			s->satisfied, s->failing, s->skipped, s->na);
		fputs("\n      \"options\": [", out);
		for (size_t i = 0; i < s->frag->n; i++) {
			const struct kc_result *res = &s->results[i];
			const struct kc_entry *e = res->entry;
			char name[128];
			snprintf(name, sizeof(name), "CONFIG_%s", e->name);
			kc_want_text(e, want, sizeof(want));
			fputs(i ? ",\n        {" : "\n        {", out);
			fputs("\"option\": ", out);
			json_str(out, name);
			fputs(", \"want\": ", out);
			json_str(out, e->want == KW_STRING ? e->value : want);
			fputs(", \"found\": ", out);
			json_found(out, res->found);
			fputs(", \"verdict\": ", out);
			json_str(out, kc_verdict_name(res->verdict));
			fprintf(out, ", \"failing\": %s", res->failing ? "true" : "false");
			fputs(", \"module\": ", out);
			json_str(out, e->module);
			fputs(", \"anyof\": ", out);
			json_str(out, e->anyof);
			fputs(", \"when\": ", out);
			json_str(out, e->when);
			fputs(", \"if\": [", out);
			for (size_t k = 0; k < e->n_ifs; k++) {
				char iname[128];
				snprintf(iname, sizeof(iname), "CONFIG_%s", e->ifs[k]);
				fputs(k ? ", " : "", out);
				json_str(out, iname);
			}
			fprintf(out, "], \"optional\": %s, \"reason\": ", e->optional ? "true" : "false");
			json_str(out, e->reason);
			fputs("}", out);
		}
		fputs("\n      ]\n    }", out);
	}
	fputs("\n  ],\n  \"modules\": [", out);
	const char **mods = NULL;
	size_t nm = kc_modules(r->secs, r->n, &mods);
	for (size_t i = 0; i < nm; i++) {
		fputs(i ? ", " : "", out);
		json_str(out, mods[i]);
	}
	free(mods);
	int status = kc_exit_status(r->secs, r->n, r->strict);
	fprintf(out, "],\n  \"result\": \"%s\",\n  \"exit\": %d\n}\n", status ? "fail" : "pass", status);
}
