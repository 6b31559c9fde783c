#ifndef CVMINIT_CONFIG_H
#define CVMINIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* The effective configuration: the embedded file (measured with the
 * initramfs), then the allow-listed cvminit.* kernel parameters (measured
 * with the command line), over the defaults. Values are validated strings. */

#define CONFIG_PATH "/etc/cvminit/cvminit.conf"
#define CONFIG_FILE_MAX (64 * 1024)
#define CONFIG_LINE_MAX 1023
#define CONFIG_VALUE_MAX 255
#define CONFIG_ARGS_MAX 16

#ifdef CVMINIT_TEST_BUILD
#define KS_CHOICES "prompt|tpm2|snp-derived|kbs|keyfile"
#define PROVISION_CHOICES "prompt|keyfile"
#define TEE_CHOICES "auto|snp|tdx|mock"
#else
#define TEE_CHOICES "auto|snp|tdx"
#define KS_CHOICES "prompt|tpm2|snp-derived|kbs"
#define PROVISION_CHOICES "prompt"
#endif

enum cfg_id {
#define KEY(id, name, type, spec, def, param, help) CFG_##id,
#include "init/config_keys.def"
#undef KEY
	CFG__COUNT
};

enum cfg_type {
	CT_ENUM, CT_UINT, CT_PARTREF, CT_FSTYPE, CT_PATH, CT_MOUNTOPTS, CT_SIZE, CT_ARGS,
	CT_ROOTHASH, CT_HASHLOC, CT_BYTES, CT_HEX, CT_FLAGS,
};
enum cfg_source { CS_DEFAULT, CS_FILE, CS_CMDLINE };

struct cfg_def {
	const char *name;
	enum cfg_type type;
	const char *spec;
	const char *def;
	const char *param;
	const char *help;
};

struct cvm_config {
	char val[CFG__COUNT][CONFIG_VALUE_MAX + 1];
	unsigned char src[CFG__COUNT];
	unsigned line[CFG__COUNT]; /* line in the file, when src is CS_FILE */
};

extern const struct cfg_def cfg_defs[CFG__COUNT];

void config_defaults(struct cvm_config *cfg);
/* Parses the embedded file. On error fills err ("<name>:<line>: <what>") and
 * returns -EINVAL (or -E2BIG for a too-large file). */
int config_parse_file(struct cvm_config *cfg, const char *text, size_t len, const char *name,
		      char *err, size_t errlen);
/* The lexer of that file, for other files in the same syntax (the image
 * layout): each KEY=value line calls key() with the key (A-Z, 0-9, _; where
 * is "<name>:<line>: <KEY>" for messages), then, once the value is lexed
 * (bare, "double" or 'single' quoted, never expanded), set(). Line-level
 * errors are config_parse_file's. 0, or the first negative return. */
struct config_lexer {
	int (*key)(void *ctx, const char *key, unsigned line, const char *where, char *err, size_t errlen);
	int (*set)(void *ctx, const char *key, const char *value, unsigned line, char *err, size_t errlen);
};
int config_lex(const char *text, size_t len, const char *name, const struct config_lexer *lx, void *ctx, char *err,
	       size_t errlen);
/* Applies allow-listed cvminit.* parameters from the kernel command line. */
int config_parse_cmdline(struct cvm_config *cfg, const char *cmdline, char *err, size_t errlen);
/* Checks one value against its key's type; 0 or -EINVAL with err filled. */
int config_validate(enum cfg_id id, const char *value, char *err, size_t errlen);

/* Rules across keys and the release policy: init/plan.h (plan_check). */

const char *cfg_str(const struct cvm_config *cfg, enum cfg_id id);
unsigned cfg_uint(const struct cvm_config *cfg, enum cfg_id id);
unsigned long long cfg_u64(const struct cvm_config *cfg, enum cfg_id id);
bool cfg_is(const struct cvm_config *cfg, enum cfg_id id, const char *value);

/* Canonical text ("KEY=value\n" for every key, in schema order) whose
 * SHA-256 is the configuration digest. Returns the length or -ENOSPC. */
int config_canonical(const struct cvm_config *cfg, char *buf, size_t len);

/* Splits ARGS into argv (pointers into buf). Returns count or -E2BIG. */
int config_split_args(const char *value, char *buf, size_t buflen, char **argv, int max);

#endif
