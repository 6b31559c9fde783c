/* `cvminit kconfig`: check a kernel .config against cvminit's fragments. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/commands.h"
#include "kconfig/kconfig.h"

#define MAX_INPUT (64u << 20) /* a .config is ~300 KiB; anything this big is not one */
#define MAX_LIST 32
#define BUILTIN_PREFIX "builtin:"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cvminit kconfig check CONFIG [--fragment FILE]... [--skip TAG]...\n"
		"                             [--profile fast] [--modules-out FILE] [--json] [--strict]\n"
		"       cvminit kconfig fragment [--raw] [--skip TAG]... required|hardening|fast\n"
		"\n"
		"check: compares a kernel .config (CONFIG, or - for stdin) with cvminit's required\n"
		"  and hardening fragments (embedded; --fragment FILE replaces them, repeatable;\n"
		"  --fragment builtin:required / builtin:hardening names an embedded one) and prints\n"
		"  option, wanted, found and verdict (built-in, module, off, ok, missing, wrong,\n"
		"  skipped, n/a) per section.\n"
		"  --skip TAG        do not require the options marked [when=TAG] (snp, tdx, virtio;\n"
		"                    kbs with --profile fast)\n"
		"  --profile fast    also require every driver built in (kconfig/fast.config):\n"
		"                    a kernel that passes needs no modules stage\n"
		"  --modules-out F   write the modules to load (options found as =m), one per line\n"
		"  --json            print one JSON document instead of the table\n"
		"  --strict          hardening findings fail too\n"
		"  exit: 0 required options all met; 1 a required option missing or wrong (or,\n"
		"  with --strict, a hardening finding); 2 usage, unreadable or malformed input.\n"
		"fragment: prints an embedded fragment as a plain Kconfig fragment for\n"
		"  scripts/kconfig/merge_config.sh (reasons as comments above each line);\n"
		"  --raw prints it verbatim with cvminit's annotations.\n");
}

/* Reads a whole file (or stdin for "-"). Returns NULL and prints why on error. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "cvminit kconfig: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			if (cap >= MAX_INPUT) {
				fprintf(stderr, "cvminit kconfig: %s: larger than %u MiB: not a kernel config\n",
					path, MAX_INPUT >> 20);
				free(buf);
				buf = NULL;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (k == 0) {
			if (ferror(f)) {
				fprintf(stderr, "cvminit kconfig: %s: read error\n", path);
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	else
		clearerr(stdin);
	*len = n;
	return buf;
}

/* The name of an embedded fragment: its file name without ".config"
 * ("kconfig/fast.config" -> "fast"). */
static int embedded_named(const struct kc_embedded *em, const char *name)
{
	const char *base = strrchr(em->path, '/');
	base = base ? base + 1 : em->path;
	size_t n = strlen(name);
	return !strncmp(base, name, n) && !strcmp(base + n, ".config");
}

/* Loads a fragment: a file, or builtin:required / builtin:hardening /
 * builtin:fast (an embedded one by kind or by name). */
static int load_fragment(struct kc_fragment *frag, const char *spec)
{
	char err[512];
	if (!strncmp(spec, BUILTIN_PREFIX, strlen(BUILTIN_PREFIX))) {
		const char *kind = spec + strlen(BUILTIN_PREFIX);
		for (size_t i = 0; i < kc_embedded_count; i++) {
			const struct kc_embedded *em = &kc_embedded_fragments[i];
			if (kc_fragment_parse(frag, em->text, em->len, em->path, err, sizeof(err))) {
				fprintf(stderr, "cvminit kconfig: embedded fragment: %s\n", err);
				return -1;
			}
			/* by kind: the first of that kind (required.config, not fast.config) */
			if (embedded_named(em, kind) || (!strcmp(kc_kind_name(frag->kind), kind) &&
							  (embedded_named(em, "required") || embedded_named(em, "hardening"))))
				return 0;
			kc_fragment_free(frag);
		}
		fprintf(stderr, "cvminit kconfig: no embedded fragment '%s' (known: required, hardening, fast)\n", kind);
		return -1;
	}
	size_t len = 0;
	char *text = slurp(spec, &len);
	if (!text)
		return -1;
	int r = kc_fragment_parse(frag, text, len, spec, err, sizeof(err));
	free(text);
	if (r)
		fprintf(stderr, "cvminit kconfig: %s\n", err);
	return r;
}

static int write_modules(const char *path, const struct kc_section *secs, size_t n)
{
	const char **mods = NULL;
	size_t nm = kc_modules(secs, n, &mods);
	if (!mods) {
		fprintf(stderr, "cvminit kconfig: out of memory\n");
		return -1;
	}
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		free(mods);
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	int ok = f != NULL;
	for (size_t i = 0; ok && i < nm; i++)
		ok = fprintf(f, "%s\n", mods[i]) > 0;
	if (f && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "cvminit kconfig: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	free(mods);
	return ok ? 0 : -1;
}

struct opts {
	const char *config;
	const char *fragments[MAX_LIST];
	size_t n_fragments;
	char *skip[MAX_LIST];
	size_t n_skip;
	const char *modules_out;
	const char *profile; /* --profile fast */
	const char *kind; /* fragment subcommand */
	int json, strict, raw;
};

static int need_arg(int argc, char **argv, int i)
{
	if (i + 1 >= argc || !argv[i + 1][0]) {
		fprintf(stderr, "cvminit kconfig: %s needs an argument\n", argv[i]);
		return -1;
	}
	return 0;
}

static int parse_opts(struct opts *o, int argc, char **argv, int check)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--fragment") && check) {
			if (need_arg(argc, argv, i))
				return -1;
			if (o->n_fragments == MAX_LIST) {
				fprintf(stderr, "cvminit kconfig: too many --fragment\n");
				return -1;
			}
			o->fragments[o->n_fragments++] = argv[++i];
		} else if (!strcmp(a, "--skip")) {
			if (need_arg(argc, argv, i))
				return -1;
			if (o->n_skip == MAX_LIST) {
				fprintf(stderr, "cvminit kconfig: too many --skip\n");
				return -1;
			}
			o->skip[o->n_skip++] = argv[++i];
		} else if (!strcmp(a, "--modules-out") && check) {
			if (need_arg(argc, argv, i))
				return -1;
			o->modules_out = argv[++i];
		} else if (!strcmp(a, "--profile") && check) {
			if (need_arg(argc, argv, i))
				return -1;
			if (strcmp(argv[++i], "fast")) {
				fprintf(stderr, "cvminit kconfig: unknown profile '%s' (known: fast)\n", argv[i]);
				return -1;
			}
			o->profile = argv[i];
		} else if (!strcmp(a, "--json") && check) {
			o->json = 1;
		} else if (!strcmp(a, "--strict") && check) {
			o->strict = 1;
		} else if (!strcmp(a, "--raw") && !check) {
			o->raw = 1;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "cvminit kconfig: unknown option '%s'\n", a);
			return -1;
		} else if (check && !o->config) {
			o->config = a;
		} else if (!check && !o->kind) {
			o->kind = a;
		} else {
			fprintf(stderr, "cvminit kconfig: unexpected argument '%s'\n", a);
			return -1;
		}
	}
	if (check && !o->config) {
		fprintf(stderr, "cvminit kconfig check: which CONFIG? (a kernel .config, e.g. /boot/config-$(uname -r))\n");
		return -1;
	}
	if (!check && !o->kind) {
		fprintf(stderr, "cvminit kconfig fragment: which one? required or hardening\n");
		return -1;
	}
	return 0;
}

/* Every --skip tag must be used by some [when=] (a typo would skip nothing). */
static int check_tags(const struct opts *o, const struct kc_fragment *frags, size_t n)
{
	const char *tags[64];
	size_t nt = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < frags[i].n; j++) {
			const char *w = frags[i].entries[j].when;
			int seen = 0;
			for (size_t k = 0; w && k < nt; k++)
				seen |= !strcmp(tags[k], w);
			if (w && !seen && nt < sizeof(tags) / sizeof(tags[0]))
				tags[nt++] = w;
		}
	for (size_t t = 0; t < o->n_skip; t++) {
		int used = 0;
		for (size_t k = 0; k < nt; k++)
			used |= !strcmp(tags[k], o->skip[t]);
		if (used)
			continue;
		fprintf(stderr, "cvminit kconfig: --skip %s: no option is marked [when=%s]; tags in use:",
			o->skip[t], o->skip[t]);
		for (size_t k = 0; k < nt; k++)
			fprintf(stderr, " %s", tags[k]);
		fprintf(stderr, "%s\n", nt ? "" : " (none)");
		return -1;
	}
	return 0;
}

static int cmd_check(struct opts *o)
{
	struct kc_fragment frags[MAX_LIST];
	struct kc_section secs[MAX_LIST];
	size_t nf = 0, ns = 0;
	struct kc_config cfg;
	int status = EXIT_USAGE, have_cfg = 0;
	char *text = NULL;

	if (!o->n_fragments) {
		o->fragments[o->n_fragments++] = BUILTIN_PREFIX "required";
		o->fragments[o->n_fragments++] = BUILTIN_PREFIX "hardening";
	}
	/* --profile fast: the drivers built in, on top of the other fragments */
	int have_fast = 0;
	for (size_t i = 0; i < o->n_fragments; i++)
		have_fast |= !strcmp(o->fragments[i], BUILTIN_PREFIX "fast");
	if (o->profile && !have_fast && o->n_fragments < MAX_LIST)
		o->fragments[o->n_fragments++] = BUILTIN_PREFIX "fast";
	for (size_t i = 0; i < o->n_fragments; i++) {
		if (load_fragment(&frags[nf], o->fragments[i]))
			goto out;
		nf++;
	}
	if (check_tags(o, frags, nf))
		goto out;
	size_t len = 0;
	text = slurp(o->config, &len);
	if (!text)
		goto out;
	if (kc_config_parse(&cfg, text, len, o->config, stderr))
		goto out;
	have_cfg = 1;
	if (cfg.assignments == 0) {
		fprintf(stderr, "cvminit kconfig: %s: no CONFIG_ lines: not a kernel .config\n", o->config);
		goto out;
	}
	if (cfg.malformed)
		fprintf(stderr, "cvminit kconfig: %s: %u malformed line(s) ignored\n", o->config, cfg.malformed);
	for (size_t i = 0; i < nf; i++) {
		if (kc_check(&secs[ns], &cfg, &frags[i], o->skip, o->n_skip)) {
			fprintf(stderr, "cvminit kconfig: out of memory\n");
			goto out;
		}
		ns++;
	}
	struct kc_report rep = {
		.config_label = o->config, .cfg = &cfg, .secs = secs, .n = ns,
		.skip = o->skip, .n_skip = o->n_skip, .strict = o->strict,
	};
	if (o->json)
		kc_print_json(stdout, &rep);
	else
		kc_print_table(stdout, &rep);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "cvminit kconfig: cannot write the report\n");
		goto out;
	}
	if (o->modules_out && write_modules(o->modules_out, secs, ns))
		goto out;
	status = kc_exit_status(secs, ns, o->strict) ? EXIT_FAIL : EXIT_OK;
out:
	for (size_t i = 0; i < ns; i++)
		kc_section_free(&secs[i]);
	for (size_t i = 0; i < nf; i++)
		kc_fragment_free(&frags[i]);
	if (have_cfg)
		kc_config_free(&cfg);
	free(text);
	return status;
}

static void print_kconfig_line(const struct kc_entry *e)
{
	switch (e->want) {
	case KW_YES: printf("CONFIG_%s=y\n", e->name); break;
	case KW_MODULE: printf("CONFIG_%s=m\n", e->name); break;
	case KW_OFF: printf("# CONFIG_%s is not set\n", e->name); break;
	case KW_NUMBER: printf("CONFIG_%s=%s\n", e->name, e->value); break;
	case KW_STRING: {
		printf("CONFIG_%s=\"", e->name);
		for (const char *p = e->value; *p; p++)
			printf("%s%c", (*p == '"' || *p == '\\') ? "\\" : "", *p);
		printf("\"\n");
		break;
	}
	}
}

static int cmd_fragment(struct opts *o)
{
	const struct kc_embedded *em = NULL;
	struct kc_fragment frag;
	char err[512];
	for (size_t i = 0; i < kc_embedded_count && !em; i++) {
		const struct kc_embedded *c = &kc_embedded_fragments[i];
		if (kc_fragment_parse(&frag, c->text, c->len, c->path, err, sizeof(err))) {
			fprintf(stderr, "cvminit kconfig: embedded fragment: %s\n", err);
			return EXIT_USAGE;
		}
		if (embedded_named(c, o->kind))
			em = c;
		else
			kc_fragment_free(&frag);
	}
	if (!em) {
		fprintf(stderr, "cvminit kconfig: no embedded fragment '%s' (known: required, hardening, fast)\n", o->kind);
		return EXIT_USAGE;
	}
	if (check_tags(o, &frag, 1)) {
		kc_fragment_free(&frag);
		return EXIT_USAGE;
	}
	if (o->raw) {
		fwrite(em->text, 1, em->len, stdout);
	} else {
		printf("# cvminit %s kernel options (from %s), for scripts/kconfig/merge_config.sh.\n",
		       o->kind, em->path);
		printf("# '=m' means built in or module; 'cvminit kconfig check' verifies the result.\n");
		for (size_t i = 0; i < frag.n; i++) {
			const struct kc_entry *e = &frag.entries[i];
			int skipped = 0;
			for (size_t t = 0; e->when && t < o->n_skip; t++)
				skipped |= !strcmp(e->when, o->skip[t]);
			if (skipped)
				continue;
			printf("# %s\n", e->reason);
			print_kconfig_line(e);
		}
	}
	kc_fragment_free(&frag);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
}

int cmd_kconfig(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof(o));
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	int check = !strcmp(argv[1], "check");
	if (!check && strcmp(argv[1], "fragment")) {
		fprintf(stderr, "cvminit kconfig: unknown subcommand '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
	if (parse_opts(&o, argc, argv, check))
		return EXIT_USAGE;
	return check ? cmd_check(&o) : cmd_fragment(&o);
}
