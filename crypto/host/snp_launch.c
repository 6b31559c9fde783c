/* SEV-SNP launch digest (see snp_launch.h). Written from the public
 * formats: AMD SEV-SNP firmware ABI (PAGE_INFO, page types), edk2's
 * OvmfPkg/ResetVector (footer table, "ASEV" metadata), QEMU's SEV hash
 * table, and the VMSA layout of AMD APM vol. 2 table B-4. No library
 * computes these; mbedtls does the hashing. */
#include "crypto/host/snp_launch.h"
#include "crypto/host/ovmf_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>

enum { PT_NORMAL = 1, PT_VMSA = 2, PT_ZERO = 3, PT_UNMEASURED = 4, PT_SECRETS = 5, PT_CPUID = 6 };

/* The VMSA's "GPA" in PAGE_INFO: -1, page aligned, bits above 51 clear. */
#define VMSA_GPA 0xFFFFFFFFF000ull
#define BSP_EIP 0xfffffff0u

#define GUID OVMF_GUID
/* 7255371f-3a3b-4b04-927b-1da6efa8d454: SEV hash table block (gpa, size) */
static const uint8_t guid_hash_block[16] = GUID(0x7255371f, 0x3a3b, 0x4b04, 0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54);
/* 00f771de-1a7e-4fcb-890e-68c77e2fb44e: SEV-ES AP reset block (eip) */
static const uint8_t guid_reset[16] = GUID(0x00f771de, 0x1a7e, 0x4fcb, 0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e);
/* dc886566-984a-4798-a75e-5585a7bf67cc: SEV metadata (offset from the end) */
static const uint8_t guid_metadata[16] = GUID(0xdc886566, 0x984a, 0x4798, 0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc);
/* a789a612-0597-4c4b-a49f-cbb1fe9d1ddd: Coconut SVSM info (entry offset) */
static const uint8_t guid_svsm_info[16] = GUID(0xa789a612, 0x0597, 0x4c4b, 0xa4, 0x9f, 0xcb, 0xb1, 0xfe, 0x9d, 0x1d, 0xdd);
/* QEMU's SEV hash table (target/i386/sev.c) */
static const uint8_t guid_ht_header[16] = GUID(0x9438d606, 0x4f22, 0x4cc9, 0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21);
static const uint8_t guid_ht_kernel[16] = GUID(0x4de79437, 0xabd2, 0x427f, 0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b);
static const uint8_t guid_ht_initrd[16] = GUID(0x44baf731, 0x3a2f, 0x4bd7, 0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d);
static const uint8_t guid_ht_cmdline[16] = GUID(0x97d02dd8, 0xbd20, 0x4c94, 0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a);

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void sha384(const uint8_t *p, size_t n, uint8_t out[48])
{
	/* the md interface: the same call in mbedtls 2 (host fuzzing) and 3 */
	mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), p, n, out);
}

int snp_ovmf_parse(const uint8_t *data, size_t size, uint64_t end_gpa, struct snp_ovmf *o, const char **why)
{
	const uint8_t *meta = NULL, *d;
	size_t dlen;
	int r;

	memset(o, 0, sizeof(*o));
	o->data = data;
	o->size = size;
	if (size == 0 || size % SNP_PAGE || size > end_gpa) {
		*why = "firmware size is not a non-zero multiple of 4 KiB (truncated?)";
		return -EINVAL;
	}
	o->gpa = end_gpa - size;
	if ((r = ovmf_table_find(data, size, guid_reset, 4, &d, &dlen, why)) < 0)
		return r;
	if (r) {
		o->has_reset_eip = 1;
		o->reset_eip = le32(d);
	}
	if (ovmf_table_find(data, size, guid_hash_block, 4, &d, &dlen, why) > 0) {
		o->has_hashes_table = 1;
		o->hashes_table_gpa = le32(d);
	}
	if (ovmf_table_find(data, size, guid_svsm_info, 4, &d, &dlen, why) > 0) {
		o->has_svsm_entry = 1;
		o->svsm_entry = le32(d);
	}
	if (ovmf_table_find(data, size, guid_metadata, 4, &d, &dlen, why) > 0)
		meta = d;
	if (!meta)
		return 0;
	size_t off = le32(meta);
	if (off < 16 || off > size) {
		*why = "SEV metadata offset out of range";
		return -EINVAL;
	}
	const uint8_t *m = data + size - off;
	uint32_t mlen = le32(m + 4), n = le32(m + 12);
	if (memcmp(m, "ASEV", 4) || le32(m + 8) != 1) {
		*why = "SEV metadata has a wrong signature or version";
		return -EINVAL;
	}
	if (mlen < 16 || mlen > off || n > (mlen - 16) / 12 || n > SNP_MAX_SECTIONS) {
		*why = "SEV metadata length or section count out of range";
		return -EINVAL;
	}
	o->has_metadata = 1;
	o->nsections = n;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = m + 16 + 12 * i;
		o->sec[i] = (struct snp_section){ le32(s), le32(s + 4), le32(s + 8) };
	}
	return 0;
}

/* One PAGE_INFO (SNP firmware ABI, SNP_LAUNCH_UPDATE): the new digest is
 * SHA-384 over the previous one, the page's contents hash and its metadata. */
static void ld_update(uint8_t ld[48], unsigned type, uint64_t gpa, const uint8_t contents[48])
{
	uint8_t pi[0x70] = { 0 };

	memcpy(pi, ld, 48);
	memcpy(pi + 48, contents, 48);
	put(pi + 96, sizeof(pi), 2);
	pi[98] = (uint8_t)type;
	/* 99: IS_IMI, 100..102: VMPL3..1 permissions, 103: reserved: all 0 */
	put(pi + 104, gpa, 8);
	sha384(pi, sizeof(pi), ld);
}

void snp_ld_pages(uint8_t ld[SNP_LD_SIZE], uint64_t gpa, const uint8_t *data, size_t len)
{
	uint8_t h[48];

	for (size_t off = 0; off + SNP_PAGE <= len; off += SNP_PAGE) {
		sha384(data + off, SNP_PAGE, h);
		ld_update(ld, PT_NORMAL, gpa + off, h);
	}
}

static void ld_empty_pages(uint8_t ld[48], unsigned type, uint64_t gpa, uint32_t size)
{
	static const uint8_t zero[48];

	for (uint64_t off = 0; off < size; off += SNP_PAGE)
		ld_update(ld, type, gpa + off, zero);
}

/* QEMU's padded SEV hash table (GUID, u16 length, then cmdline, initrd,
 * kernel entries of GUID, u16 length, SHA-256), at its offset in the page. */
static void hashes_page(uint8_t page[SNP_PAGE], size_t at, const struct snp_kernel_hashes *h)
{
	const uint8_t *guids[3] = { guid_ht_cmdline, guid_ht_initrd, guid_ht_kernel };
	const uint8_t *vals[3] = { h->cmdline, h->initrd, h->kernel };
	uint8_t *p = page + at;

	memset(page, 0, SNP_PAGE);
	memcpy(p, guid_ht_header, 16);
	put(p + 16, 18 + 3 * 50, 2);
	for (int i = 0; i < 3; i++) {
		uint8_t *e = p + 18 + 50 * i;
		memcpy(e, guids[i], 16);
		put(e + 16, 50, 2);
		memcpy(e + 18, vals[i], 32);
	}
}

#define HT_PADDED 176 /* 168 bytes rounded up to 16 */

static int section(uint8_t ld[48], const struct snp_ovmf *o, const struct snp_section *s, const struct snp_launch *l,
		   const char **why)
{
	if (s->type != SNP_SEC_SECRETS && s->type != SNP_SEC_CPUID && s->size % SNP_PAGE) {
		*why = "SEV metadata section size is not a multiple of 4 KiB";
		return -EINVAL;
	}
	switch (s->type) {
	case SNP_SEC_MEM:
		ld_empty_pages(ld, l->vmm == SNP_VMM_GCE ? PT_UNMEASURED : PT_ZERO, s->gpa, s->size);
		return 0;
	case SNP_SEC_SECRETS:
		ld_update(ld, PT_SECRETS, s->gpa, (const uint8_t[48]){ 0 });
		return 0;
	case SNP_SEC_CPUID:
		/* EC2 adds the CPUID page after every other section. */
		if (l->vmm != SNP_VMM_EC2)
			ld_update(ld, PT_CPUID, s->gpa, (const uint8_t[48]){ 0 });
		return 0;
	case SNP_SEC_SVSM_CAA:
		ld_empty_pages(ld, PT_ZERO, s->gpa, s->size);
		return 0;
	case SNP_SEC_KERNEL_HASHES:
		if (!l->hashes) {
			ld_empty_pages(ld, PT_ZERO, s->gpa, s->size);
			return 0;
		}
		if (!o->has_hashes_table) {
			*why = "no SEV hash table block in the OVMF footer table";
			return -EINVAL;
		}
		size_t at = o->hashes_table_gpa & (SNP_PAGE - 1);
		if (s->size != SNP_PAGE || at + HT_PADDED > SNP_PAGE) {
			*why = "the kernel-hashes section is not one page holding the hash table";
			return -EINVAL;
		}
		uint8_t page[SNP_PAGE];
		hashes_page(page, at, l->hashes);
		snp_ld_pages(ld, s->gpa, page, SNP_PAGE);
		return 0;
	default:
		*why = "unknown SEV metadata section type";
		return -EINVAL;
	}
}

/* The SEV metadata sections in order (and EC2's late CPUID pages). */
static int sections(uint8_t ld[48], const struct snp_ovmf *o, const struct snp_launch *l, const char **why)
{
	int has_hashes_section = 0;

	if (!o->has_metadata) {
		*why = "no SEV metadata in the footer table (not an SEV-SNP capable build)";
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->nsections; i++)
		has_hashes_section |= o->sec[i].type == SNP_SEC_KERNEL_HASHES;
	if (l->hashes && !has_hashes_section) {
		*why = "--kernel given but the SEV metadata has no kernel-hashes section (not an AmdSev build)";
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->nsections; i++)
		if (section(ld, o, &o->sec[i], l, why) < 0)
			return -EINVAL;
	if (l->vmm == SNP_VMM_EC2)
		for (unsigned i = 0; i < o->nsections; i++)
			if (o->sec[i].type == SNP_SEC_CPUID)
				ld_update(ld, PT_CPUID, o->sec[i].gpa, (const uint8_t[48]){ 0 });
	return 0;
}

int snp_ld_finish(uint8_t ld[SNP_LD_SIZE], const struct snp_ovmf *o, const struct snp_launch *l, const char **why)
{
	if (!o->has_metadata) {
		*why = "no SEV metadata in the OVMF footer table (not an SEV-SNP capable build)";
		return -EINVAL;
	}
	if (!o->has_reset_eip) {
		*why = "no SEV-ES reset block in the OVMF footer table";
		return -EINVAL;
	}
	if (sections(ld, o, l, why) < 0)
		return -EINVAL;

	uint8_t page[SNP_PAGE], h[48], ap[48];
	snp_vmsa(page, BSP_EIP, l->guest_features, l->vcpu_sig, l->vmm);
	sha384(page, SNP_PAGE, h);
	snp_vmsa(page, o->reset_eip, l->guest_features, l->vcpu_sig, l->vmm);
	sha384(page, SNP_PAGE, ap);
	for (unsigned i = 0; i < l->vcpus; i++)
		ld_update(ld, PT_VMSA, VMSA_GPA, i ? ap : h);
	return 0;
}

int snp_ld_svsm(uint8_t ld[SNP_LD_SIZE], const uint8_t *ovmf, size_t ovmf_len, const struct snp_ovmf *svsm,
		unsigned vcpus, uint32_t sig, const char **why)
{
	const struct snp_launch l = { .vcpus = vcpus, .vcpu_sig = sig, .vmm = SNP_VMM_QEMU };

	if (!ovmf_len || ovmf_len % SNP_PAGE || ovmf_len > (1ull << 32)) {
		*why = "OVMF size is not a non-zero multiple of 4 KiB";
		return -EINVAL;
	}
	if (!svsm->has_svsm_entry) {
		*why = "no SVSM info entry in the SVSM image's footer table";
		return -EINVAL;
	}
	snp_ld_pages(ld, (1ull << 32) - ovmf_len, ovmf, ovmf_len);
	snp_ld_pages(ld, svsm->gpa, svsm->data, svsm->size);
	if (sections(ld, svsm, &l, why) < 0)
		return -EINVAL;

	/* Every vCPU starts in the SVSM, in 64-bit mode, with the same state. */
	uint8_t page[SNP_PAGE], h[48];
	snp_vmsa_svsm(page, svsm->gpa + svsm->svsm_entry, sig);
	sha384(page, SNP_PAGE, h);
	for (unsigned i = 0; i < vcpus; i++)
		ld_update(ld, PT_VMSA, VMSA_GPA, h);
	return 0;
}

/* A segment register (selector, attributes, limit, base) at off. */
static void seg(uint8_t *v, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit, uint64_t base)
{
	put(v + off, sel, 2);
	put(v + off + 2, attr, 2);
	put(v + off + 4, limit, 4);
	put(v + off + 8, base, 8);
}

void snp_vmsa(uint8_t v[SNP_PAGE], uint64_t eip, uint64_t features, uint32_t sig, enum snp_vmm vmm)
{
	/* Reset state as each VMM sets it (they differ in a few attributes, RDX,
	 * the FPU control words and, for GCE, the PAT). */
	uint16_t cs = 0x9b, ss = 0x93, tr = 0x8b, fcw = 0x37f;
	uint32_t mxcsr = 0x1f80;
	uint64_t rdx = sig, pat = 0x7040600070406ull;

	if (vmm == SNP_VMM_EC2) {
		cs = eip == BSP_EIP ? 0x9a : 0x9b;
		ss = 0x92, tr = 0x83, rdx = 0x600, mxcsr = 0, fcw = 0;
	} else if (vmm == SNP_VMM_GCE) {
		pat = 0x70106, rdx = 0x600, mxcsr = 0, fcw = 0;
	}
	memset(v, 0, SNP_PAGE);
	seg(v, 0x00, 0, 0x93, 0xffff, 0);                         /* es */
	seg(v, 0x10, 0xf000, cs, 0xffff, eip & 0xffff0000u);     /* cs */
	seg(v, 0x20, 0, ss, 0xffff, 0);                           /* ss */
	seg(v, 0x30, 0, 0x93, 0xffff, 0);                         /* ds */
	seg(v, 0x40, 0, 0x93, 0xffff, 0);                         /* fs */
	seg(v, 0x50, 0, 0x93, 0xffff, 0);                         /* gs */
	seg(v, 0x60, 0, 0, 0xffff, 0);                            /* gdtr */
	seg(v, 0x70, 0, 0x82, 0xffff, 0);                         /* ldtr */
	seg(v, 0x80, 0, 0, 0xffff, 0);                            /* idtr */
	seg(v, 0x90, 0, tr, 0xffff, 0);                           /* tr */
	put(v + 0xd0, 0x1000, 8);       /* efer: SVME, as KVM sets it */
	put(v + 0x148, 0x40, 8);        /* cr4: MCE */
	put(v + 0x158, 0x10, 8);        /* cr0: ET */
	put(v + 0x160, 0x400, 8);       /* dr7 */
	put(v + 0x168, 0xffff0ff0, 8);  /* dr6 */
	put(v + 0x170, 0x2, 8);         /* rflags */
	put(v + 0x178, eip & 0xffff, 8); /* rip */
	put(v + 0x268, pat, 8);         /* g_pat */
	put(v + 0x310, rdx, 8);         /* rdx */
	put(v + 0x3b0, features, 8);    /* sev_features */
	put(v + 0x3e8, 0x1, 8);         /* xcr0 */
	put(v + 0x408, mxcsr, 4);       /* mxcsr */
	put(v + 0x410, fcw, 2);         /* x87 fcw */
}

void snp_vmsa_svsm(uint8_t v[SNP_PAGE], uint64_t eip, uint32_t sig)
{
	memset(v, 0, SNP_PAGE);
	seg(v, 0x00, 16, 0xc93, 0xffffffff, 0); /* es: flat 32-bit data */
	seg(v, 0x10, 8, 0xc9b, 0xffffffff, 0);  /* cs */
	seg(v, 0x20, 16, 0xc93, 0xffffffff, 0); /* ss */
	seg(v, 0x30, 16, 0xc93, 0xffffffff, 0); /* ds */
	seg(v, 0x40, 16, 0xc93, 0xffffffff, 0); /* fs */
	seg(v, 0x50, 0, 0x93, 0xffff, 0);       /* gs */
	seg(v, 0x60, 0, 0, 0xffff, 0);          /* gdtr */
	seg(v, 0x70, 0, 0x82, 0xffff, 0);       /* ldtr */
	seg(v, 0x80, 0, 0, 0xffff, 0);          /* idtr */
	seg(v, 0x90, 0, 0x8b, 0xffff, 0);       /* tr */
	put(v + 0xd0, 0x1000, 8);
	put(v + 0x148, 0x40, 8);
	put(v + 0x158, 0x11, 8); /* cr0: PE, ET */
	put(v + 0x160, 0x400, 8);
	put(v + 0x168, 0xffff0ff0, 8);
	put(v + 0x170, 0x2, 8);
	put(v + 0x178, eip, 8);
	put(v + 0x268, 0x7040600070406ull, 8);
	put(v + 0x310, sig, 8);
	put(v + 0x3b0, 0x1, 8); /* SNPActive only */
	put(v + 0x3e8, 0x1, 8);
	put(v + 0x408, 0x1f80, 4);
	/* x87 FCW stays 0: the values measured on hardware for this mode say so. */
}

uint32_t snp_cpu_sig(unsigned family, unsigned model, unsigned stepping)
{
	unsigned fam_lo = family > 0xf ? 0xf : family, fam_hi = family > 0xf ? (family - 0xf) & 0xff : 0;

	return (uint32_t)(fam_hi << 20 | ((model >> 4) & 0xf) << 16 | fam_lo << 8 | (model & 0xf) << 4 | (stepping & 0xf));
}

/* QEMU's EPYC models (builtin_x86_defs) and their family/model/stepping. */
static const struct {
	const char *name;
	unsigned family, model, stepping;
} vcpu_types[] = {
	{ "EPYC", 23, 1, 2 },          { "EPYC-v1", 23, 1, 2 },       { "EPYC-v2", 23, 1, 2 },
	{ "EPYC-IBPB", 23, 1, 2 },     { "EPYC-v3", 23, 1, 2 },       { "EPYC-v4", 23, 1, 2 },
	{ "EPYC-Rome", 23, 49, 0 },    { "EPYC-Rome-v1", 23, 49, 0 }, { "EPYC-Rome-v2", 23, 49, 0 },
	{ "EPYC-Rome-v3", 23, 49, 0 }, { "EPYC-Milan", 25, 1, 1 },    { "EPYC-Milan-v1", 25, 1, 1 },
	{ "EPYC-Milan-v2", 25, 1, 1 }, { "EPYC-Genoa", 25, 17, 0 },   { "EPYC-Genoa-v1", 25, 17, 0 },
	{ "EPYC-Turin", 26, 0, 0 },
};

const char *snp_vcpu_type_name(size_t i)
{
	return i < sizeof(vcpu_types) / sizeof(vcpu_types[0]) ? vcpu_types[i].name : NULL;
}

int snp_vcpu_type_sig(const char *name, uint32_t *sig)
{
	for (size_t i = 0; i < sizeof(vcpu_types) / sizeof(vcpu_types[0]); i++)
		if (!strcmp(name, vcpu_types[i].name)) {
			*sig = snp_cpu_sig(vcpu_types[i].family, vcpu_types[i].model, vcpu_types[i].stepping);
			return 0;
		}
	return -ENOENT;
}
