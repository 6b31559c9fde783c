/* The TDX launch measurements of a guest started by QEMU/KVM from a TDVF
 * (OVMF IntelTdx) build with measured direct boot (-kernel/-initrd/-append),
 * computed before it boots (`cvminit measure tdx`):
 *  - MRTD: what the TDX module hashes while the VMM adds the firmware's
 *    metadata sections (TDH.MEM.PAGE.ADD, TDH.MR.EXTEND), edk2's TDVF
 *    metadata (OvmfPkg/ResetVector/X64/IntelTdxMetadata.nasm.inc) read as
 *    QEMU reads it (target/i386/kvm/tdx.c, hw/i386/tdvf.c);
 *  - RTMR1 and RTMR2: the events TDVF (OvmfPkg/Tcg/TdTcg2Dxe, the measured
 *    LoadImage of the kernel) and the Linux EFI stub (CC measurement
 *    protocol, Linux >= 6.10) extend, from the kernel's Authenticode digest,
 *    the initrd and the command line as QEMU and OVMF pass them.
 * RTMR0 is not computed: it holds the TD HOB, QEMU's ACPI tables and the
 * variable store, which depend on the whole VM configuration.
 * Pure: bytes and digests in, registers and events out; the caller maps
 * the firmware and hashes the kernel and initrd. */
#ifndef CVMINIT_CRYPTO_HOST_TDX_LAUNCH_H
#define CVMINIT_CRYPTO_HOST_TDX_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#define TDX_MR_SIZE 48
#define TDX_PAGE 4096u
#define TDVF_MAX_SECTIONS 32
#define TDX_MAX_EVENTS 8

enum tdvf_section_type { TDVF_BFV = 0, TDVF_CFV = 1, TDVF_TD_HOB = 2, TDVF_TEMP_MEM = 3 };
#define TDVF_ATTR_MR_EXTEND 0x1u
#define TDVF_ATTR_PAGE_AUG 0x2u

struct tdvf_section {
	uint32_t data_offset, raw_size; /* in the image */
	uint64_t gpa, mem_size;         /* in the guest */
	uint32_t type, attributes;
};

/* The TDVF metadata of a firmware image. */
struct tdvf {
	const uint8_t *data;
	size_t size;
	unsigned nsections;
	struct tdvf_section sec[TDVF_MAX_SECTIONS];
};

/* Find and check the TDVF metadata (footer table entry e47a6535-...: offset
 * of the "TDVF" descriptor from the image's end) with QEMU's rules. 0, or
 * -EINVAL with *why a short reason. */
int tdvf_parse(const uint8_t *data, size_t size, struct tdvf *t, const char **why);

/* MRTD: SHA-384 over, for each section and each of its 4 KiB pages in
 * order, the 128-byte TDH.MEM.PAGE.ADD record ("MEM.PAGE.ADD", GPA) and, for
 * MR.EXTEND sections, the page's 16 TDH.MR.EXTEND records ("MR.EXTEND", GPA,
 * then the 256 bytes): page by page as upstream KVM (guest_memfd populate)
 * issues them, or with two_pass all of a section's PAGE.ADDs before its
 * MR.EXTENDs, as the earlier out-of-tree TDX KVM/QEMU did. */
void tdx_mrtd(const struct tdvf *t, int two_pass, uint8_t mrtd[TDX_MR_SIZE]);

/* Whether a kernel image's EFI stub measures into the CC measurement
 * protocol (Linux >= 6.10): its code carries that protocol's GUID. */
int tdx_kernel_stub_cc(const uint8_t *img, size_t len);

struct tdx_event {
	unsigned rtmr;                /* 0..3 */
	uint32_t type;                /* TCG event type */
	uint8_t digest[TDX_MR_SIZE];
	char desc[80];                /* what was measured, for people */
};

struct tdx_launch_in {
	const struct tdvf *fw;         /* NULL: no MRTD */
	int two_pass;                  /* see tdx_mrtd */
	int have_kernel;               /* RTMR1 and RTMR2 need the kernel */
	uint8_t kernel_authenticode[TDX_MR_SIZE];
	int kernel_stub_cc;            /* tdx_kernel_stub_cc() of the kernel */
	int have_initrd;               /* a non-empty initrd */
	uint8_t initrd_sha384[TDX_MR_SIZE];
	const char *append;            /* -append; NULL as "" */
};

struct tdx_launch_out {
	int have_mrtd, have_rtmr0, have_rtmr1, have_rtmr2;
	uint8_t mrtd[TDX_MR_SIZE], rtmr0[TDX_MR_SIZE], rtmr1[TDX_MR_SIZE], rtmr2[TDX_MR_SIZE];
	unsigned nevents;              /* in extend order */
	struct tdx_event ev[TDX_MAX_EVENTS];
};

/* Everything in can give (have_* say which). */
void tdx_launch_predict(const struct tdx_launch_in *in, struct tdx_launch_out *out);

/* `cvminit measure tdx` and `cvminit measure tdx-replay`
 * (measure_tdx_cmd.c); argv[0] is the subcommand. */
/* measure_tdx_cmd.c: the prediction for these files (exit status of the
 * command; errors printed with the prefix who). */
int tdx_measure_direct(const char *ovmf, const char *kernel, const char *initrd, const char *append, int two_pass,
		       struct tdx_launch_out *out, const char *who);
int cmd_measure_tdx(int argc, char **argv);
int cmd_measure_tdx_replay(int argc, char **argv);

#endif
