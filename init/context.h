#ifndef CVMINIT_CONTEXT_H
#define CVMINIT_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "init/config.h"
#include "init/log.h"

/* The one boot context, passed explicitly to every stage. No stage keeps
 * state anywhere else. */

enum part_role { ROLE_BOOT, ROLE_ROOT, ROLE_CONFIG, ROLE_JOBS, ROLE_DATA, ROLE__COUNT };

enum tee_kind { TEE_NONE, TEE_SNP, TEE_TDX };

struct found_part {
	bool wanted;
	bool present;
	char name[32]; /* kernel name, e.g. vda2 */
	char dev[64];  /* device node to open, e.g. /dev/vda2 */
};

struct boot_ctx {
	struct cvm_log log;
	struct cvm_config cfg;

	/* Where the kernel's interfaces are: real paths in the VM, fixtures in tests. */
	const char *sysfs;
	const char *procfs;
	const char *devfs;
	const char *sysroot;      /* the new root's mount point */
	const char *config_path;  /* embedded configuration */
	const char *modules_path; /* module load list */

	bool test_build;
	uint8_t config_digest[32];

	enum tee_kind tee;
	struct found_part parts[ROLE__COUNT];
	unsigned modules_loaded;
	unsigned long initramfs_freed; /* entries removed at switch_root */
};

void boot_ctx_init(struct boot_ctx *ctx);

#endif
