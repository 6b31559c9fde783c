/* The SEV-SNP launch digest (the report's MEASUREMENT) of a guest started
 * from an OVMF build, computed before it boots (`cvminit measure snp`).
 * Pure: bytes in, digest out; the caller reads files and hashes the kernel
 * and initrd (streamed). The format follows AMD's SNP firmware ABI
 * (SNP_LAUNCH_UPDATE's PAGE_INFO), OVMF's footer table and SEV metadata
 * (edk2 OvmfPkg/ResetVector) and the VMSA initial state QEMU, EC2 and GCE
 * give a vCPU, as the reference implementation (sev-snp-measure) models it. */
#ifndef CVMINIT_CRYPTO_HOST_SNP_LAUNCH_H
#define CVMINIT_CRYPTO_HOST_SNP_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#define SNP_LD_SIZE 48
#define SNP_PAGE 4096u
#define SNP_MAX_SECTIONS 64

enum snp_vmm { SNP_VMM_QEMU, SNP_VMM_EC2, SNP_VMM_GCE };

enum snp_section_type {
	SNP_SEC_MEM = 1,
	SNP_SEC_SECRETS = 2,
	SNP_SEC_CPUID = 3,
	SNP_SEC_SVSM_CAA = 4,
	SNP_SEC_KERNEL_HASHES = 0x10,
};

struct snp_section {
	uint32_t gpa, size, type;
};

/* What the footer table and the SEV metadata of a firmware image say. */
struct snp_ovmf {
	const uint8_t *data;
	size_t size;
	uint64_t gpa;             /* where the image is mapped: it ends at end_gpa */
	int has_reset_eip;        /* SEV-ES reset block: where APs start */
	uint32_t reset_eip;
	int has_hashes_table;     /* SEV hash table block: where QEMU puts the hashes */
	uint32_t hashes_table_gpa;
	int has_svsm_entry;       /* Coconut SVSM: entry point, offset in the image */
	uint32_t svsm_entry;
	int has_metadata;         /* SEV metadata ("ASEV") */
	unsigned nsections;
	struct snp_section sec[SNP_MAX_SECTIONS];
};

/* The hashes QEMU writes into the kernel-hashes page (SHA-256 each). */
struct snp_kernel_hashes {
	uint8_t cmdline[32]; /* of the command line and its NUL */
	uint8_t initrd[32];  /* of the initrd (empty without one) */
	uint8_t kernel[32];
};

/* Parse the footer table and the SEV metadata of an image mapped to end
 * at end_gpa (4 GiB for OVMF). 0, or -EINVAL with *why a short reason. */
int snp_ovmf_parse(const uint8_t *data, size_t size, uint64_t end_gpa, struct snp_ovmf *o, const char **why);

/* The launch digest after the image's pages (what --snp-ovmf-hash takes):
 * one NORMAL page per 4 KiB, from a zero digest. */
void snp_ld_pages(uint8_t ld[SNP_LD_SIZE], uint64_t gpa, const uint8_t *data, size_t len);

struct snp_launch {
	unsigned vcpus;
	uint32_t vcpu_sig;       /* CPUID Fn0000_0001 EAX (QEMU puts it in RDX) */
	uint64_t guest_features; /* SEV_FEATURES of the VMSAs */
	enum snp_vmm vmm;
	const struct snp_kernel_hashes *hashes; /* NULL: no --kernel */
};

/* From the digest after the image's pages: the metadata sections, then one
 * VMSA per vCPU. 0, or -EINVAL with *why. */
int snp_ld_finish(uint8_t ld[SNP_LD_SIZE], const struct snp_ovmf *o, const struct snp_launch *l, const char **why);

/* SNP with a Coconut SVSM below OVMF (QEMU): OVMF's pages (ovmf is mapped
 * to end at 4 GiB), the SVSM image's pages (svsm parsed to end below OVMF
 * and its variable store), the SVSM's metadata sections, one VMSA per vCPU
 * at the SVSM's entry. 0, or -EINVAL with *why. */
int snp_ld_svsm(uint8_t ld[SNP_LD_SIZE], const uint8_t *ovmf, size_t ovmf_len, const struct snp_ovmf *svsm,
		unsigned vcpus, uint32_t sig, const char **why);
void snp_vmsa_svsm(uint8_t page[SNP_PAGE], uint64_t eip, uint32_t sig);

/* The initial VMSA of a vCPU starting at eip. */
void snp_vmsa(uint8_t page[SNP_PAGE], uint64_t eip, uint64_t features, uint32_t sig, enum snp_vmm vmm);

/* CPUID signature of family/model/stepping (AMD CPUID spec, Fn0000_0001_EAX). */
uint32_t snp_cpu_sig(unsigned family, unsigned model, unsigned stepping);
/* The signature of a QEMU vCPU model name. 0 or -ENOENT. */
int snp_vcpu_type_sig(const char *name, uint32_t *sig);
/* The i-th name snp_vcpu_type_sig knows; NULL past the last. */
const char *snp_vcpu_type_name(size_t i);

/* Measured direct boot of files, as `cvminit measure snp` computes it
 * (measure_snp_cmd.c), also for `cvminit measure --snp-ovmf`. The kernel
 * and initrd are hashed as they are read. */
#define EXIT_FIRMWARE 3 /* the firmware image is not usable */
struct snp_direct {
	const char *ovmf;
	const char *kernel, *initrd, *append; /* kernel NULL: no kernel-hashes table */
	struct snp_launch launch;             /* its hashes are set from the files */
	int has_ovmf_hash;                    /* start from ovmf_hash, not the image's pages */
	uint8_t ovmf_hash[SNP_LD_SIZE];
	int hash_only;                        /* stop after the image's pages */
};
struct snp_direct_out {
	uint8_t ld[SNP_LD_SIZE];
	uint8_t ovmf_sha256[32];         /* of the firmware file */
	int has_hashes;
	struct snp_kernel_hashes hashes; /* the SEV hashes table's entries */
};
/* EXIT_OK, EXIT_FAIL (a file cannot be read) or EXIT_FIRMWARE, after one
 * line on stderr that starts with who. */
int snp_measure_direct(const struct snp_direct *in, struct snp_direct_out *out, const char *who);

/* --vmm-type: qemu, ec2, gce (any case). 0 or -EINVAL. */
int snp_vmm_parse(const char *s, enum snp_vmm *vmm);
const char *snp_vmm_name(enum snp_vmm vmm);
/* An unsigned number in C notation (0x.., decimal) up to max. 0 or -EINVAL. */
int snp_parse_number(const char *s, uint64_t max, uint64_t *v);

/* `cvminit measure snp` (measure_snp_cmd.c); argv[0] is "snp". */
int cmd_measure_snp(int argc, char **argv);

#endif
