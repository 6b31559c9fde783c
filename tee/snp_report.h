/* AMD SEV-SNP ATTESTATION_REPORT (SEV-SNP firmware ABI, versions 2-5):
 * a pure parser shared by the init (own-report policy) and the host tool
 * (`cvminit report show|verify`). No I/O, no allocation, no globals: the
 * parsed fields are copies, the input may be freed afterwards.
 *
 * Layout (little-endian, 0x4A0 bytes; the signature covers 0x000-0x29F):
 *   0x000 version u32        0x004 guest_svn u32      0x008 policy u64
 *   0x010 family_id[16]      0x020 image_id[16]       0x030 vmpl u32
 *   0x034 signature_algo u32 0x038 current_tcb u64    0x040 platform_info u64
 *   0x048 signer info u32 (bit 0 author_key_en, bit 1 mask_chip_key,
 *         bits 4:2 signing_key: 0 VCEK, 1 VLEK, 7 none)
 *   0x050 report_data[64]    0x090 measurement[48]    0x0C0 host_data[32]
 *   0x0E0 id_key_digest[48]  0x110 author_key_digest[48]
 *   0x140 report_id[32]      0x160 report_id_ma[32]   0x180 reported_tcb u64
 *   0x188 cpuid_fam_id, 0x189 cpuid_mod_id, 0x18A cpuid_step (v3+)
 *   0x1A0 chip_id[64]        0x1E0 committed_tcb u64
 *   0x1E8 current build/minor/major   0x1EC committed build/minor/major
 *   0x1F0 launch_tcb u64     0x1F8 launch_mit_vector u64, 0x200 current_mit_vector u64 (v5)
 *   0x2A0 signature: r[72], s[72] little-endian (ECDSA P-384: 48 bytes used), reserved */
#ifndef CVMINIT_TEE_SNP_REPORT_H
#define CVMINIT_TEE_SNP_REPORT_H

#include <stddef.h>
#include <stdint.h>

#define SNP_REPORT_SIZE 0x4A0u
#define SNP_REPORT_SIGNED_SIZE 0x2A0u /* bytes 0x000-0x29F are signed */
#define SNP_REPORT_SIG_OFFSET 0x2A0u
#define SNP_REPORT_SIG_R_OFFSET 0x2A0u
#define SNP_REPORT_SIG_S_OFFSET 0x2E8u
#define SNP_REPORT_SIG_FIELD 72u       /* r and s are 72-byte little-endian fields */
#define SNP_REPORT_MIN_VERSION 2u
#define SNP_REPORT_MAX_VERSION 5u

#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1u

/* Guest policy (report offset 0x08). */
#define SNP_POLICY_ABI_MINOR(p) ((unsigned)((p) & 0xff))
#define SNP_POLICY_ABI_MAJOR(p) ((unsigned)(((p) >> 8) & 0xff))
#define SNP_POLICY_SMT (1ull << 16)
#define SNP_POLICY_RESERVED1 (1ull << 17) /* must be 1 */
#define SNP_POLICY_MIGRATE_MA (1ull << 18)
#define SNP_POLICY_DEBUG (1ull << 19)
#define SNP_POLICY_SINGLE_SOCKET (1ull << 20)
#define SNP_POLICY_CXL_ALLOW (1ull << 21)
#define SNP_POLICY_MEM_AES_256_XTS (1ull << 22)
#define SNP_POLICY_RAPL_DIS (1ull << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING_DRAM (1ull << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25)

/* PLATFORM_INFO (report offset 0x40). */
#define SNP_PLATFORM_SMT_EN (1ull << 0)
#define SNP_PLATFORM_TSME_EN (1ull << 1)
#define SNP_PLATFORM_ECC_EN (1ull << 2)
#define SNP_PLATFORM_RAPL_DIS (1ull << 3)
#define SNP_PLATFORM_CIPHERTEXT_HIDING_DRAM_EN (1ull << 4)
#define SNP_PLATFORM_ALIAS_CHECK_COMPLETE (1ull << 5)
#define SNP_PLATFORM_TIO_EN (1ull << 7)

/* SIGNING_KEY (bits 4:2 of the word at 0x48). */
#define SNP_SIGNING_KEY_VCEK 0u
#define SNP_SIGNING_KEY_VLEK 1u
#define SNP_SIGNING_KEY_NONE 7u

/* CPUID family of Turin (Zen 5): its TCB_VERSION layout differs. */
#define SNP_CPUID_FAMILY_TURIN 0x1Au

/* TCB_VERSION, decoded. Milan/Genoa: byte 0 boot loader, 1 TEE, 2-5
 * reserved, 6 SNP, 7 microcode. Turin: byte 0 FMC, 1 boot loader, 2 TEE,
 * 3 SNP, 4-6 reserved, 7 microcode. */
struct snp_tcb {
	uint64_t raw;
	int turin; /* 1: Turin layout (fmc valid) */
	uint8_t fmc, boot_loader, tee, snp, microcode;
};

struct snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t vmpl;
	uint32_t signature_algo;
	struct snp_tcb current_tcb;
	uint64_t platform_info;
	uint32_t signer_info; /* the raw word at 0x48 */
	int author_key_en;
	int mask_chip_key;
	unsigned signing_key; /* SNP_SIGNING_KEY_* (2-6 reserved) */
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t report_id[32];
	uint8_t report_id_ma[32];
	struct snp_tcb reported_tcb;
	int has_cpuid; /* version >= 3 */
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;
	uint8_t chip_id[64];
	struct snp_tcb committed_tcb;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	struct snp_tcb launch_tcb;
	int has_mit_vector; /* version >= 5 */
	uint64_t launch_mit_vector, current_mit_vector;
	uint8_t sig_r[72]; /* as in the report: little-endian, zero-extended */
	uint8_t sig_s[72];
	size_t size;     /* SNP_REPORT_SIZE */
	size_t trailing; /* bytes after the report (e.g. a certificate table) */
};

/* Parses buf[0, len). Bytes after the 0x4A0-byte report are tolerated and
 * counted in `trailing`. Returns 0, or -1 with a one-line reason in err
 * (e.g. "truncated at offset 144: need 48 bytes for measurement, 10
 * available", "unsupported SNP report version 7 (supported: 2-5)"). */
int snp_report_parse(const uint8_t *buf, size_t len, struct snp_report *out, char *err, size_t errlen);

/* Decodes a TCB_VERSION; turin selects the Turin (family 1Ah) layout. */
void snp_tcb_decode(uint64_t raw, int turin, struct snp_tcb *out);

/* 1 when the report says it comes from a Turin (family 1Ah) CPU: only
 * version 3+ reports carry the CPUID fields; older ones are Milan/Genoa. */
int snp_report_is_turin(uint32_t version, uint8_t cpuid_fam_id);

/* "Milan", "Genoa", "Turin" from the CPUID family/model, or NULL. */
const char *snp_product_name(uint8_t fam, uint8_t model);

/* "vcek", "vlek", "none" or "reserved". */
const char *snp_signing_key_name(unsigned signing_key);

/* The signature's r and s as 48-byte big-endian integers (P-384). Returns
 * -1 when a 72-byte field has non-zero bytes beyond the 48 used (not a
 * P-384 value). */
int snp_report_signature_be(const struct snp_report *r, uint8_t r_be[48], uint8_t s_be[48]);

#endif
