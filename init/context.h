#ifndef CVMINIT_CONTEXT_H
#define CVMINIT_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/luks_header.h"
#include "init/config.h"
#include "init/log.h"
#include "init/plan.h"

/* The one boot context, passed explicitly to every stage. No stage keeps
 * state anywhere else. */

/* The partitions of DESIGN.md's table, plus the optional separate hash
 * partitions of the three dm-verity volumes. */
enum part_role {
	ROLE_BOOT, ROLE_ROOT, ROLE_CONFIG, ROLE_JOBS, ROLE_DATA, ROLE_BOOT_HASH, ROLE_CONFIG_HASH, ROLE_DATA_HASH,
	ROLE__COUNT
};

enum tee_kind { TEE_NONE, TEE_SNP, TEE_TDX };

struct tpm2_ctx;

/* A compile-time constant, so that a release build contains neither the
 * test-only code paths nor their strings. */
#ifdef CVMINIT_TEST_BUILD
#define CVMINIT_IS_TEST_BUILD 1
#else
#define CVMINIT_IS_TEST_BUILD 0
#endif

struct found_part {
	bool wanted;
	bool present;
	char name[32]; /* kernel name, e.g. vda2 */
	char dev[64];  /* device node to open, e.g. /dev/vda2 */
	char mapped[64]; /* the dm device once verity/LUKS2 opened it */
	struct luks_facts luks; /* p3/p5: the checked LUKS2 header copy (stage luks) */
};

struct boot_ctx {
	struct cvm_log log;
	struct cvm_config cfg;
	struct boot_plan plan; /* the configuration as typed facts (stage config): stages read this */

	/* Where the kernel's interfaces are: real paths in the VM, fixtures in tests. */
	const char *sysfs;
	const char *procfs;
	const char *devfs;
	const char *sysroot;      /* the new root's mount point */
	const char *config_path;  /* embedded configuration */
	const char *modules_path; /* module load list */

	uint8_t config_digest[32];

	enum tee_kind tee;
	struct found_part parts[ROLE__COUNT];
	struct tpm2_ctx *tpm;  /* open from the measure stage until the separator */
	unsigned measured;    /* events extended into MEASURE_PCR (0: none) */
	bool capped;          /* the separator is in MEASURE_PCR */
	char evidence[1024];  /* the evidence document REPORT_DATA binds */
	int evidence_len;     /* 0: no attestation in this boot */
	unsigned modules_loaded;
	unsigned long initramfs_freed; /* entries removed at switch_root */
	/* set by the kbs key source while its interface is up: the fatal path
	 * calls it too, so no boot ends with an address the host handed out
	 * or chose still configured (a pointer keeps init/ free of kbs/) */
	int (*net_down)(struct boot_ctx *ctx);
};

void boot_ctx_init(struct boot_ctx *ctx);

#endif
