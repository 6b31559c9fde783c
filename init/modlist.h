/* The modules stage's pure logic (unit-tested on the host): the load list
 * the initramfs builder wrote, its dependency graph, the scheduler that hands
 * out modules whose prerequisites are done, and which TEE guest driver this
 * machine can have.
 *
 * /etc/cvminit/modules.load, one module a line, in the builder's load order:
 *
 *   /lib/modules/KVER/PATH.ko.xz                  no graph: waits for the line before
 *   /lib/modules/KVER/PATH.ko.xz needs=            no prerequisite
 *   /lib/modules/KVER/PATH.ko.xz needs=dm_mod,dm_bufio
 *
 * needs= names modules listed earlier (names as the file names without .ko*,
 * '-' read as '_'). A line without needs= (lists written by other tools, the
 * dracut module, the initramfs-tools hook) keeps the old meaning: strictly
 * after the line before it. */
#ifndef CVMINIT_MODLIST_H
#define CVMINIT_MODLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "init/plan.h"

#define MODLIST_MAX 1024     /* lines */
#define MODLIST_NAME_MAX 64

enum mod_state {
	MOD_PENDING,  /* not started */
	MOD_RUNNING,  /* handed out by modlist_next */
	MOD_DONE,     /* finished without a fatal error (err: 0, EEXIST, ENODEV, ENXIO) */
	MOD_FAILED,   /* finished with a fatal error: nothing new starts */
	MOD_SKIPPED,  /* not loaded: a TEE guest driver this machine cannot have */
};

enum mod_tee { MOD_TEE_NO, MOD_TEE_SEV, MOD_TEE_TDX };

struct mod_entry {
	const char *path;              /* points into the parsed buffer */
	char name[MODLIST_NAME_MAX];   /* normalised: no .ko*, '-' -> '_' */
	uint16_t *needs;               /* indices of earlier entries */
	size_t nneeds;
	enum mod_tee tee;
	enum mod_state state;
	int err;                       /* errno of the load, 0 when loaded */
	unsigned us;                   /* open + finit_module, microseconds */
};

struct mod_list {
	struct mod_entry *v;
	size_t n;
	bool stop; /* a fatal failure: hand out nothing more */
};

/* Parses buf (modified in place; entries point into it). Returns 0, or
 * -EINVAL with "LINE: reason" in err. */
int modlist_parse(char *buf, struct mod_list *l, char *err, size_t errlen);
void modlist_free(struct mod_list *l);

/* The lowest-numbered pending entry whose prerequisites are all DONE or
 * SKIPPED, marked RUNNING; -1 when none is ready now (or l->stop). */
int modlist_next(struct mod_list *l);
/* true when nothing runs and nothing more will start. */
bool modlist_finished(const struct mod_list *l);

enum mod_outcome { MOD_LOADED, MOD_ALREADY, MOD_ABSENT, MOD_FATAL };
/* How a finit_module errno counts (0: loaded). */
enum mod_outcome mod_classify(int err);
/* Records the end of entry i: DONE or FAILED (sets l->stop). */
void modlist_finish(struct mod_list *l, int i, int err, unsigned us);

/* What the machine shows about the TEE it runs in, read before any TEE
 * driver is loaded. CPUID is the hypervisor's answer (SNP: checked against
 * the firmware's CPUID table; TDX: the TDX module's), but the guest kernel
 * itself only enables SEV when 0x8000001F reports SME or SEV, and TDX when
 * leaf 0x21 carries "IntelTDX    ": without that evidence the kernel runs in
 * no CVM and a TEE driver can only fail with ENODEV. A lying host gains
 * nothing: the wrong driver or none means no guest interface, and the tee
 * stage stops a release boot, as before. */
struct tee_evidence {
	bool amd_mem_encrypt; /* CPUID 0x8000001F EAX bit 0 (SME) or 1 (SEV), leaf in range */
	bool tdx;             /* CPUID 0x21 subleaf 0: EBX,EDX,ECX = "IntelTDX    ", leaf in range */
	bool sev_guest_dev;   /* /sys/bus/platform/devices/sev-guest: the kernel set up SNP */
};

/* cpuid(leaf, subleaf, regs[4] = eax, ebx, ecx, edx): injected in tests. */
typedef void (*cpuid_fn)(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
void tee_evidence_cpuid(cpuid_fn cpuid, struct tee_evidence *ev);

struct tee_drivers {
	bool sev, tdx;   /* load sev-guest / tdx-guest */
	const char *why; /* one phrase for the log */
};
/* TEE=snp/tdx: that driver only (the configuration demands it: a failure
 * stays where it is fatal today); auto: the drivers the evidence allows;
 * mock (test builds): none. */
struct tee_drivers tee_drivers_for(enum tee_want want, const struct tee_evidence *ev);

/* Marks the TEE driver entries (sev_guest, tdx_guest) not in d SKIPPED;
 * returns how many. */
unsigned modlist_apply_tee(struct mod_list *l, const struct tee_drivers *d);

#endif
