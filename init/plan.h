#ifndef CVMINIT_PLAN_H
#define CVMINIT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "init/config.h"
#include "init/partref.h"

/* The boot plan: the parsed configuration turned once, by the config stage,
 * into typed and validated facts. Stages read the plan, not configuration
 * strings; the release policy is one function over it (plan_check). The
 * configuration digest stays that of the canonical text (config_canonical):
 * the plan changes no measurement. */

/* The volumes of DESIGN.md's table, indexed like enum part_role's first five
 * (ROLE_BOOT .. ROLE_DATA; plan.c checks it at compile time). */
enum plan_volume { PLAN_BOOT, PLAN_ROOT, PLAN_CONFIG, PLAN_JOBS, PLAN_DATA, PLAN__VOLUMES };

enum vol_protection { PROT_ABSENT, PROT_PLAIN, PROT_VERITY, PROT_LUKS };

enum key_source { KS_NONE, KS_PROMPT, KS_TPM2, KS_SNP_DERIVED, KS_KEYFILE /* test builds only */, KS_KBS };

/* What a console prompt does with a line typed on it (the host reads the
 * console and can type on it). */
enum typed_rule {
	TYPED_ACCEPT,      /* test rules: typed secrets are accepted */
	TYPED_ACCEPT_WARN, /* accepted, and the boot says that the host can read them */
	TYPED_WRAPPED_ONLY, /* only a cvminit-wrapped line; a typed line is a failed try */
	TYPED_REFUSE,      /* no prompt at all (the release policy refuses it at config) */
};

/* The console prompts a boot may show. */
enum plan_prompt { PROMPT_ROOT, PROMPT_ROOT_RECOVERY, PROMPT_ROOT_PROVISION, PROMPT_JOBS, PROMPT__COUNT };

enum tee_want { TEE_WANT_AUTO, TEE_WANT_SNP, TEE_WANT_TDX, TEE_WANT_MOCK /* test builds only */ };

enum tpm_measure { TPM_MEASURE_AUTO, TPM_MEASURE_REQUIRED, TPM_MEASURE_NONE };

struct verity_plan {
	uint8_t roothash[32];
	bool hash_appended;      /* the tree follows the data on the same partition */
	struct partref hash_ref; /* else: the separate hash partition */
	uint64_t hash_offset;    /* appended: the data size in bytes */
	uint64_t data_size;      /* *_VERITY_DATA_SIZE (0: not given; required with a hash partition) */
	uint8_t salt[256];
	size_t salt_len;         /* 0: not pinned */
	bool preverify;          /* VERITY_PREVERIFY names it (or all): checked block by block first */
};

struct vol_plan {
	const char *name;   /* "p2" .. "p6" */
	const char *label;  /* "boot", "root", "config", "jobs", "data" */
	enum cfg_id key;    /* the *_PART key, for messages */
	struct partref ref; /* kind PREF_NONE: the partition is not used */
	enum vol_protection prot;
	enum key_source ks; /* LUKS2 volumes (p3, p5); KS_NONE otherwise */
	bool pinned;        /* *_VOLUME_KEY_PIN set */
	uint8_t pin[32];    /* HMAC-SHA256(volume key, "cryptsetup:<name>:<uuid>") */
	struct verity_plan verity; /* prot == PROT_VERITY */
	/* where and how it is mounted (validated by the schema) */
	char fstype[CONFIG_VALUE_MAX + 1];
	char mount[CONFIG_VALUE_MAX + 1];   /* "/" for p3 */
	char options[CONFIG_VALUE_MAX + 1];
#ifdef CVMINIT_TEST_BUILD
	char keyfile[CONFIG_VALUE_MAX + 1]; /* p3, p5: ROOT_KEYFILE, JOBS_KEYFILE */
#endif
};

/* The LUKS2 header policy of p3 and p5 (crypto/luks_header.h). */
struct luks_plan {
	char ciphers[CONFIG_VALUE_MAX + 1]; /* LUKS_CIPHERS: comma-separated, each validated by the schema */
	unsigned sector_size;               /* LUKS_SECTOR_SIZE */
	uint64_t data_offset;               /* LUKS_DATA_OFFSET */
	bool enforce;                       /* false only with MOCK_LUKS_POLICY=off (test builds) */
};

/* MOCK_POWERCUT's points of an enrollment (test builds; the names exist in
 * both so the enrollment code reads the same). */
enum mock_powercut { POWERCUT_NONE, POWERCUT_AFTER_TOKEN, POWERCUT_AFTER_KEYSLOT, POWERCUT_AFTER_DESTROY };

#ifdef CVMINIT_TEST_BUILD
/* The test build's MOCK_* keys (the release binary has neither the keys
 * nor this). */
struct mock_plan {
	char tee_key[CONFIG_VALUE_MAX + 1]; /* MOCK_TEE_KEY */
	bool tee_debug;                     /* MOCK_TEE_DEBUG=yes */
	unsigned tee_vmpl;                  /* MOCK_TEE_VMPL */
	uint64_t tee_tcb;                   /* MOCK_TEE_TCB, as SNP_KEY_MIN_TCB */
	enum mock_powercut powercut;        /* MOCK_POWERCUT */
};
#endif

/* The key broker and the one interface that reaches it (kbs/README.md);
 * used only when p3 or p5 has key source kbs. */
struct kbs_plan {
	bool used;                 /* a kbs key source is configured */
	bool https;                /* KBS_URL scheme (http only in test builds) */
	char host[CONFIG_VALUE_MAX + 1]; /* the URL's host: the certificate's name, the Host header */
	unsigned port;
	uint32_t addr;             /* the address connected to, network byte order */
	char ca[CONFIG_VALUE_MAX + 1];   /* KBS_CA */
	char resource[2][CONFIG_VALUE_MAX + 1]; /* [0] p3, [1] p5: <repository>/<type>/<tag> */
	unsigned timeout;          /* KBS_TIMEOUT, seconds */
	enum kbs_tee_key { KBS_TEE_KEY_EC, KBS_TEE_KEY_RSA } tee_key; /* KBS_TEE_KEY */
	char ifname[16];           /* NET_INTERFACE */
	bool dhcp;                 /* NET_ADDRESS=dhcp: ip, prefix, gateway come from the lease */
	uint32_t ip, gateway;      /* network byte order; gateway 0: none */
	unsigned prefix;
	bool keep;                 /* NET_KEEP=yes */
};

struct boot_plan {
	struct vol_plan vol[PLAN__VOLUMES];
	struct kbs_plan kbs;
	bool test_build;    /* structural relaxations: no verity, plain p3, key files, mock TEE */
	bool release_rules; /* the release key-source policy applies (release build, or MOCK_RELEASE_POLICY=yes) */
	enum tee_want tee;
	bool tpm_in_tee;           /* TPM_IN_TEE=yes */
	bool jobs_typed_allowed;   /* JOBS_TYPED_PASSPHRASE=allow */
	bool root_tpm2_fallback;   /* ROOT_TPM2_FALLBACK=prompt */
	bool root_enroll;          /* ROOT_ENROLL=yes */
	enum key_source provision; /* ROOT_PROVISION_SOURCE */
	bool snp_min_tcb_set;
	uint64_t snp_min_tcb;      /* SNP_KEY_MIN_TCB: the TCB_VERSION number (as report show prints raw) */
	bool snp_key_tcb_field;    /* SNP_KEY_FIELDS names tcb-version */
	/* the snp-derived key's request (crypto/snp_params.c); the texts as
	 * configured, for the cvminit-snp token and messages */
	bool snp_key_vmrk;         /* SNP_KEY_ROOT=vmrk (else vcek) */
	uint64_t snp_key_fields;   /* SNP_KEY_FIELDS as SNP_FIELD_* bits */
	unsigned snp_key_svn;      /* SNP_KEY_SVN */
	char snp_key_fields_text[CONFIG_VALUE_MAX + 1];
	char snp_min_tcb_text[CONFIG_VALUE_MAX + 1]; /* "" when not set */
	bool jobs_wrapping;        /* JOBS_KEY_WRAPPING=auto */
	/* senders whose signed wrapped lines a prompt accepts (crypto/wrap.h):
	 * JOBS_OWNER_PUBKEY for p5, ROOT_DELIVERY_PUBKEY for p3's prompts */
	bool jobs_signer_set, root_signer_set;
	uint8_t jobs_signer[97], root_signer[97]; /* uncompressed SEC1 P-384 points */
	enum tpm_measure tpm_measure;
	unsigned measure_pcr;
	char tpm_device[CONFIG_VALUE_MAX + 1];
	unsigned prompt_tries;
	unsigned part_timeout;     /* seconds */
	bool sysctl_hardening;
	bool debug;
	bool on_failure_reboot;    /* ON_FAILURE=reboot (else power off) */
	bool verity_panic;         /* VERITY_ON_CORRUPTION=panic (else restart) */
	unsigned snp_vmpl;         /* the VMPL the SNP report must show */
	bool snp_allow_migration_agent;
	char attest_nonce[CONFIG_VALUE_MAX + 1]; /* hex, "" for none */
	char tmp_size[CONFIG_VALUE_MAX + 1];     /* tmpfs sizes as configured (N, Nk, Nm, Ng, N%) */
	char shm_size[CONFIG_VALUE_MAX + 1];
	/* what each console prompt accepts, derived from the above */
	enum typed_rule typed[PROMPT__COUNT];
	/* the launcher, as configured (validated by the schema) */
	char launcher[CONFIG_VALUE_MAX + 1];
	char launcher_args[CONFIG_VALUE_MAX + 1];
	char launcher_cwd[CONFIG_VALUE_MAX + 1];
	struct luks_plan luks;
#ifdef CVMINIT_TEST_BUILD
	struct mock_plan mock;
#endif
};

/* Turns a parsed configuration into a plan. test_build: the build's kind
 * (CVMINIT_IS_TEST_BUILD). Fails (-EINVAL, err filled) only on values the
 * schema lets through but the plan cannot use (e.g. a pin that is not 64
 * hex digits). Decides nothing about policy. */
int plan_build(const struct cvm_config *cfg, bool test_build, struct boot_plan *plan, char *err, size_t errlen);

/* The one policy over the plan: rules across keys, what a release build
 * refuses (plan->test_build), and with release_rules the release key-source
 * policy (README: "Release key-source policy"). 0 or -EINVAL with err. */
int plan_check(const struct boot_plan *plan, bool release_rules, char *err, size_t errlen);

/* plan_build + plan_check(plan, plan->release_rules): what the config stage
 * decides, for the host tools and the fuzzers. */
int config_check_policy(const struct cvm_config *cfg, bool test_build, char *err, size_t errlen);

const char *key_source_name(enum key_source ks);
const char *tpm_measure_name(enum tpm_measure m); /* as TPM_MEASURE spells it */

#endif
