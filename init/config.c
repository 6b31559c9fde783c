#include "init/config.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/mountopts.h"
#include "init/partref.h"

const struct cfg_def cfg_defs[CFG__COUNT] = {
#define KEY(id, name, type, spec, def, param, help) [CFG_##id] = { name, CT_##type, spec, def, param, help },
#include "init/config_keys.def"
#undef KEY
};

void config_defaults(struct cvm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < CFG__COUNT; i++)
		snprintf(cfg->val[i], sizeof(cfg->val[i]), "%s", cfg_defs[i].def);
}

static int find_key(const char *name, size_t len)
{
	for (int i = 0; i < CFG__COUNT; i++)
		if (strlen(cfg_defs[i].name) == len && !memcmp(cfg_defs[i].name, name, len))
			return i;
	return -1;
}

static int validate_enum(const char *spec, const char *value)
{
	size_t vlen = strlen(value);

	for (const char *p = spec;;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == vlen && !memcmp(p, value, n))
			return 0;
		if (!bar)
			return -EINVAL;
		p = bar + 1;
	}
}

static int validate_uint(const char *spec, const char *value, char *err, size_t errlen,
			 const char *name)
{
	unsigned long lo = strtoul(spec, NULL, 10);
	const char *dots = strstr(spec, "..");
	unsigned long hi = dots ? strtoul(dots + 2, NULL, 10) : lo;
	unsigned long v = 0;

	if (!*value || strlen(value) > 9) {
		snprintf(err, errlen, "%s: '%s' is not a number in %s", name, value, spec);
		return -EINVAL;
	}
	for (const char *p = value; *p; p++) {
		if (!isdigit((unsigned char)*p)) {
			snprintf(err, errlen, "%s: '%s' is not a number in %s", name, value, spec);
			return -EINVAL;
		}
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < lo || v > hi) {
		snprintf(err, errlen, "%s: %lu is outside %s", name, v, spec);
		return -EINVAL;
	}
	return 0;
}

static int validate_path(const char *value)
{
	if (value[0] != '/')
		return -EINVAL;
	if (strlen(value) > 1 && value[strlen(value) - 1] == '/')
		return -EINVAL;
	for (const char *p = value; *p; p++) {
		if (*p <= ' ' || *p > '~')
			return -EINVAL;
		if (*p == '/' && p[1] == '/')
			return -EINVAL;
		if (*p == '/' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return -EINVAL;
		if (*p == '/' && p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0'))
			return -EINVAL;
	}
	return 0;
}

static int validate_size(const char *value)
{
	const char *p = value;

	if (!isdigit((unsigned char)*p) || *p == '0')
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		p++;
	if (p - value > 9)
		return -EINVAL;
	if (*p == '\0')
		return 0;
	if (p[1] != '\0')
		return -EINVAL;
	if (*p == '%')
		return strtoul(value, NULL, 10) <= 100 ? 0 : -EINVAL;
	return strchr("kKmMgG", *p) ? 0 : -EINVAL;
}

static int validate_hex(const char *value, size_t minlen, size_t maxlen)
{
	size_t n = strlen(value);

	if (n % 2 || n < minlen || n > maxlen)
		return -EINVAL;
	for (const char *p = value; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return -EINVAL;
	return 0;
}

static int validate_bytes(const char *value)
{
	unsigned long long v = 0;

	if (!*value || strlen(value) > 19)
		return -EINVAL;
	for (const char *p = value; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	return v % 4096 == 0 ? 0 : -EINVAL;
}

int config_validate(enum cfg_id id, const char *value, char *err, size_t errlen)
{
	const struct cfg_def *d = &cfg_defs[id];
	char why[160];

	switch (d->type) {
	case CT_ENUM:
		if (validate_enum(d->spec, value) < 0) {
			snprintf(err, errlen, "%s: '%s' is not one of %s", d->name, value, d->spec);
			return -EINVAL;
		}
		return 0;
	case CT_UINT:
		return validate_uint(d->spec, value, err, errlen, d->name);
	case CT_PARTREF: {
		struct partref ref;
		if (partref_parse(value, &ref, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", d->name, why);
			return -EINVAL;
		}
		if (ref.kind == PREF_NONE && strcmp(d->spec, "optional") != 0) {
			snprintf(err, errlen, "%s: this partition is required, 'none' is not allowed", d->name);
			return -EINVAL;
		}
		return 0;
	}
	case CT_FSTYPE: {
		size_t n = strlen(value);
		int ok = n > 0 && n <= 32;
		for (const char *p = value; ok && *p; p++)
			ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_';
		if (!ok) {
			snprintf(err, errlen, "%s: '%s' is not a file-system type name", d->name, value);
			return -EINVAL;
		}
		return 0;
	}
	case CT_PATH:
		if (validate_path(value) < 0) {
			snprintf(err, errlen,
				 "%s: '%s' is not a clean absolute path (no '.', '..', '//', trailing '/' or spaces)",
				 d->name, value);
			return -EINVAL;
		}
		return 0;
	case CT_MOUNTOPTS: {
		struct mount_opts mo;
		if (mountopts_parse(value, &mo, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", d->name, why);
			return -EINVAL;
		}
		return 0;
	}
	case CT_SIZE:
		if (validate_size(value) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a size (N, Nk, Nm, Ng or N%%, N > 0)", d->name,
				 value);
			return -EINVAL;
		}
		return 0;
	case CT_ROOTHASH:
		if (strcmp(value, "none") != 0 && validate_hex(value, 64, 64) < 0) {
			snprintf(err, errlen, "%s: expected 64 hex digits (a sha256 root hash) or none", d->name);
			return -EINVAL;
		}
		return 0;
	case CT_HASHLOC: {
		struct partref ref;
		if (!strcmp(value, "appended"))
			return 0;
		if (partref_parse(value, &ref, why, sizeof(why)) < 0 || ref.kind == PREF_NONE) {
			snprintf(err, errlen, "%s: expected appended, PARTLABEL=<name> or PARTUUID=<uuid>", d->name);
			return -EINVAL;
		}
		return 0;
	}
	case CT_BYTES:
		if (validate_bytes(value) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a byte count that is a multiple of 4096", d->name,
				 value);
			return -EINVAL;
		}
		return 0;
	case CT_HEX: {
		unsigned long lo = strtoul(d->spec, NULL, 10), hi = 0;
		const char *dots = strstr(d->spec, "..");
		if (dots)
			hi = strtoul(dots + 2, NULL, 10);
		/* "N..N": exactly N bytes (a fixed-size field such as a TCB_VERSION) */
		if (lo && lo == hi && strlen(value) != 2 * lo) {
			snprintf(err, errlen, "%s: expected exactly %lu hex digits", d->name, 2 * lo);
			return -EINVAL;
		}
		if (validate_hex(value, 0, hi * 2) < 0) {
			snprintf(err, errlen, "%s: expected an even number of hex digits, at most %lu bytes", d->name,
				 hi);
			return -EINVAL;
		}
		return 0;
	}
	case CT_FLAGS: {
		/* comma-separated words of spec, each at most once */
		char seen[CONFIG_VALUE_MAX + 2] = ",";
		const char *p = value;
		if (!*value)
			goto bad_flags;
		while (*p) {
			const char *end = strchr(p, ',');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			char word[64];
			if (n == 0 || n >= sizeof(word))
				goto bad_flags;
			memcpy(word, p, n);
			word[n] = '\0';
			char needle[68];
			snprintf(needle, sizeof(needle), ",%s,", word);
			if (validate_enum(d->spec, word) < 0 || strstr(seen, needle))
				goto bad_flags;
			size_t used = strlen(seen);
			snprintf(seen + used, sizeof(seen) - used, "%s,", word);
			p += n;
			if (*p == ',' && !*++p)
				goto bad_flags;
		}
		return 0;
bad_flags:
		snprintf(err, errlen, "%s: '%s' is not a comma-separated list of distinct words from %s", d->name, value,
			 d->spec);
		return -EINVAL;
	}
	case CT_ARGS: {
		char buf[CONFIG_VALUE_MAX + 1];
		char *argv[CONFIG_ARGS_MAX];
		for (const char *p = value; *p; p++) {
			if ((*p < ' ' || *p > '~')) {
				snprintf(err, errlen, "%s: control or non-ASCII character", d->name);
				return -EINVAL;
			}
		}
		if (config_split_args(value, buf, sizeof(buf), argv, CONFIG_ARGS_MAX) < 0) {
			snprintf(err, errlen, "%s: more than %d arguments", d->name, CONFIG_ARGS_MAX);
			return -EINVAL;
		}
		return 0;
	}
	}
	snprintf(err, errlen, "%s: unknown type", d->name);
	return -EINVAL;
}

/* Parses the value part of KEY=<value...> (shell-style, no expansion):
 * bare word, "double quoted" or 'single quoted', then optional whitespace and
 * an optional # comment. */
static int parse_value(const char *p, const char *end, char *out, size_t outlen, const char **why)
{
	size_t n = 0;

	if (p < end && (*p == '"' || *p == '\'')) {
		char quote = *p++;
		while (p < end && *p != quote) {
			if (quote == '"' && (*p == '\\' || *p == '$' || *p == '`')) {
				*why = "'\\', '$' and '`' are not allowed inside double quotes";
				return -EINVAL;
			}
			if (n >= outlen - 1) {
				*why = "value too long";
				return -E2BIG;
			}
			out[n++] = *p++;
		}
		if (p >= end) {
			*why = "missing closing quote";
			return -EINVAL;
		}
		p++;
	} else {
		while (p < end && *p != ' ' && *p != '\t') {
			if (strchr("\"'\\$`;&|<>()*?[]{}~", *p)) {
				*why = "shell special character in an unquoted value (quote it)";
				return -EINVAL;
			}
			if (n >= outlen - 1) {
				*why = "value too long";
				return -E2BIG;
			}
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p != '#') {
		*why = "unexpected text after the value";
		return -EINVAL;
	}
	return 0;
}

static int set_value(struct cvm_config *cfg, int id, const char *value, enum cfg_source src, unsigned line,
		     char *err, size_t errlen, const char *where)
{
	char why[300];

	if (config_validate((enum cfg_id)id, value, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", where, why);
		return -EINVAL;
	}
	snprintf(cfg->val[id], sizeof(cfg->val[id]), "%s", value);
	cfg->src[id] = (unsigned char)src;
	cfg->line[id] = line;
	return 0;
}

int config_lex(const char *text, size_t len, const char *name, const struct config_lexer *lx, void *ctx, char *err,
	       size_t errlen)
{
	unsigned lineno = 0;
	const char *p = text, *end = text + len;
	char where[160];

	if (len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: file larger than %d bytes", name, CONFIG_FILE_MAX);
		return -E2BIG;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *k, *eq;
		char key[64], value[CONFIG_VALUE_MAX + 1];
		const char *why = NULL;
		int r;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", name, lineno);
		/* Name the key in every error when the line has one. */
		k = p;
		while (k < le && (*k == ' ' || *k == '\t'))
			k++;
		eq = k;
		while (eq < le && (isupper((unsigned char)*eq) || isdigit((unsigned char)*eq) || *eq == '_'))
			eq++;
		if (eq > k && eq < le && *eq == '=' && eq - k < 64)
			snprintf(where, sizeof(where), "%s:%u: %.*s", name, lineno, (int)(eq - k), k);

		if ((size_t)(le - p) > CONFIG_LINE_MAX) {
			snprintf(err, errlen, "%s: line longer than %d bytes", where, CONFIG_LINE_MAX);
			return -EINVAL;
		}
		for (const char *c = p; c < le; c++) {
			if (*c == '\r') {
				snprintf(err, errlen, "%s: carriage return (DOS line ending) in the file", where);
				return -EINVAL;
			}
			if ((unsigned char)*c < ' ' && *c != '\t') {
				snprintf(err, errlen, "%s: control character in the line", where);
				return -EINVAL;
			}
			if ((unsigned char)*c > '~') {
				snprintf(err, errlen, "%s: non-ASCII byte in the line", where);
				return -EINVAL;
			}
		}
		p = nl ? nl + 1 : end;
		if (k == le || *k == '#')
			continue;
		if (eq == k || eq == le || *eq != '=') {
			if (eq < le && (*eq == ' ' || *eq == '\t'))
				snprintf(err, errlen, "%s: expected KEY=value without spaces around '='", where);
			else
				snprintf(err, errlen, "%s: expected KEY=value (KEY in A-Z, 0-9, _)", where);
			return -EINVAL;
		}
		if (eq - k >= (ptrdiff_t)sizeof(key)) {
			snprintf(err, errlen, "%s:%u: unknown key %.*s", name, lineno, (int)(eq - k), k);
			return -EINVAL;
		}
		memcpy(key, k, (size_t)(eq - k));
		key[eq - k] = '\0';
		r = lx->key(ctx, key, lineno, where, err, errlen);
		if (r < 0)
			return r;
		r = parse_value(eq + 1, le, value, sizeof(value), &why);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", where, why);
			return -EINVAL;
		}
		r = lx->set(ctx, key, value, lineno, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

struct file_ctx {
	struct cvm_config *cfg;
	const char *name;
	int id;
};

static int file_key(void *vctx, const char *key, unsigned line, const char *where, char *err, size_t errlen)
{
	struct file_ctx *fc = vctx;

	fc->id = find_key(key, strlen(key));
	if (fc->id < 0) {
		snprintf(err, errlen, "%s:%u: unknown key %s", fc->name, line, key);
		return -EINVAL;
	}
	if (fc->cfg->src[fc->id] == CS_FILE) {
		snprintf(err, errlen, "%s: duplicate key (first set on line %u)", where, fc->cfg->line[fc->id]);
		return -EINVAL;
	}
	return 0;
}

static int file_set(void *vctx, const char *key, const char *value, unsigned line, char *err, size_t errlen)
{
	struct file_ctx *fc = vctx;
	char where[160];

	/* config_validate names the key itself. */
	snprintf(where, sizeof(where), "%s:%u", fc->name, line);
	return set_value(fc->cfg, fc->id, value, CS_FILE, line, err, errlen, where);
}

int config_parse_file(struct cvm_config *cfg, const char *text, size_t len, const char *name, char *err,
		      size_t errlen)
{
	static const struct config_lexer lx = { file_key, file_set };
	struct file_ctx fc = { cfg, name, -1 };

	return config_lex(text, len, name, &lx, &fc, err, errlen);
}

int config_parse_cmdline(struct cvm_config *cfg, const char *cmdline, char *err, size_t errlen)
{
	const char *p = cmdline;
	unsigned char seen[CFG__COUNT] = { 0 };

	while (*p) {
		char tok[CONFIG_VALUE_MAX + 64];
		size_t n = 0;
		int inq = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		/* Kernel rules: spaces split unless inside double quotes; quotes are dropped. */
		while (*p && (inq || (*p != ' ' && *p != '\t' && *p != '\n'))) {
			if (*p == '"') {
				inq = !inq;
				p++;
				continue;
			}
			if (n < sizeof(tok) - 1)
				tok[n] = *p;
			n++;
			p++;
		}
		if (n >= sizeof(tok)) {
			if (!strncmp(tok, "cvminit.", 8)) {
				snprintf(err, errlen, "kernel command line: parameter %.40s... too long", tok);
				return -EINVAL;
			}
			continue;
		}
		tok[n] = '\0';
		if (!strcmp(tok, "--"))
			break; /* the rest belongs to init's argv, not to us */
		if (strncmp(tok, "cvminit.", 8) != 0)
			continue;
		char *eq = strchr(tok, '=');
		const char *value = eq ? eq + 1 : "";
		if (eq)
			*eq = '\0';
		int id = -1;
		for (int i = 0; i < CFG__COUNT; i++)
			if (cfg_defs[i].param && !strcmp(cfg_defs[i].param, tok))
				id = i;
		if (id < 0) {
			snprintf(err, errlen, "kernel command line: unknown parameter %s", tok);
			return -EINVAL;
		}
		if (!eq) {
			snprintf(err, errlen, "kernel command line: %s needs a value (%s=...)", tok, tok);
			return -EINVAL;
		}
		if (seen[id]) {
			snprintf(err, errlen, "kernel command line: %s given twice", tok);
			return -EINVAL;
		}
		seen[id] = 1;
		char why[300];
		if (config_validate((enum cfg_id)id, value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "kernel command line: %s", why);
			return -EINVAL;
		}
		snprintf(cfg->val[id], sizeof(cfg->val[id]), "%s", value);
		cfg->src[id] = CS_CMDLINE;
	}
	return 0;
}

const char *cfg_str(const struct cvm_config *cfg, enum cfg_id id)
{
	return cfg->val[id];
}

unsigned cfg_uint(const struct cvm_config *cfg, enum cfg_id id)
{
	return (unsigned)strtoul(cfg->val[id], NULL, 10);
}

unsigned long long cfg_u64(const struct cvm_config *cfg, enum cfg_id id)
{
	return strtoull(cfg->val[id], NULL, 10);
}

bool cfg_is(const struct cvm_config *cfg, enum cfg_id id, const char *value)
{
	return !strcmp(cfg->val[id], value);
}

int config_canonical(const struct cvm_config *cfg, char *buf, size_t len)
{
	size_t used = 0;

	for (int i = 0; i < CFG__COUNT; i++) {
		int n = snprintf(buf + used, len - used, "%s=%s\n", cfg_defs[i].name, cfg->val[i]);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return (int)used;
}

int config_split_args(const char *value, char *buf, size_t buflen, char **argv, int max)
{
	int argc = 0;

	snprintf(buf, buflen, "%s", value);
	for (char *p = buf; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc >= max)
			return -E2BIG;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return argc;
}
