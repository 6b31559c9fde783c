/* TDX launch measurements (see tdx_launch.h). Written from the public
 * formats: edk2's TDVF metadata and TdTcg2Dxe, QEMU's TDVF loader, the TDX
 * module's MRTD records (Intel TDX module spec, TDH.MEM.PAGE.ADD and
 * TDH.MR.EXTEND), the Linux EFI stub's tagged events. No library computes
 * them; mbedtls does the hashing. */
#include "crypto/host/tdx_launch.h"
#include "crypto/host/ovmf_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>

#define EV_SEPARATOR 0x4u
#define EV_EVENT_TAG 0x6u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_ACTION 0x80000007u

/* e47a6535-984a-4798-865e-4685a7bf8ec2: TDX metadata offset (from the end) */
static const uint8_t guid_tdx_metadata[16] =
	OVMF_GUID(0xe47a6535, 0x984a, 0x4798, 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2);
/* 96751a3d-72f4-41a6-a794-ed5d0e67ae6b: EFI_CC_MEASUREMENT_PROTOCOL */
static const uint8_t guid_cc_measurement[16] =
	OVMF_GUID(0x96751a3d, 0x72f4, 0x41a6, 0xa7, 0x94, 0xed, 0x5d, 0x0e, 0x67, 0xae, 0x6b);

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

int tdvf_parse(const uint8_t *data, size_t size, struct tdvf *t, const char **why)
{
	const uint8_t *d;
	size_t dlen;
	int r;

	memset(t, 0, sizeof(*t));
	t->data = data;
	t->size = size;
	if (size == 0 || size % TDX_PAGE)
		return fail(why, "firmware size is not a non-zero multiple of 4 KiB (truncated?)");
	if ((r = ovmf_table_find(data, size, guid_tdx_metadata, 4, &d, &dlen, why)) < 0)
		return r;
	if (r == 0)
		return fail(why, "no TDX metadata in the OVMF footer table (not a TDVF/IntelTdx build)");
	size_t off = le32(d);
	if (off < 16 || off > size)
		return fail(why, "TDX metadata offset out of range");
	const uint8_t *m = data + size - off;
	if (memcmp(m, "TDVF", 4) || le32(m + 8) != 1)
		return fail(why, "TDX metadata has a wrong signature or version");
	uint32_t len = le32(m + 4), n = le32(m + 12);
	if (len < 16 || len > off || n > (len - 16) / 32)
		return fail(why, "TDX metadata length or section count out of range");
	if (n == 0 || n > TDVF_MAX_SECTIONS)
		return fail(why, "TDX metadata has no or too many sections");
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = m + 16 + 32 * i;
		struct tdvf_section s = { le32(e), le32(e + 4), le64(e + 8), le64(e + 16), le32(e + 24), le32(e + 28) };
		/* QEMU's checks (hw/i386/tdvf.c), and what this model assumes. */
		if (s.gpa % TDX_PAGE || s.mem_size % TDX_PAGE || s.mem_size == 0 || s.gpa + s.mem_size < s.gpa)
			return fail(why, "TDX metadata section not 4 KiB aligned");
		if (s.attributes & ~(TDVF_ATTR_MR_EXTEND | TDVF_ATTR_PAGE_AUG) || (s.attributes & TDVF_ATTR_PAGE_AUG))
			return fail(why, "TDX metadata section has attributes QEMU does not support");
		switch (s.type) {
		case TDVF_BFV:
		case TDVF_CFV:
			if (s.raw_size == 0 || s.raw_size != s.mem_size)
				return fail(why, "TDX metadata firmware volume size differs from its memory size");
			if (s.data_offset > size || s.raw_size > size - s.data_offset)
				return fail(why, "TDX metadata firmware volume outside the image");
			break;
		case TDVF_TD_HOB:
		case TDVF_TEMP_MEM:
			if (s.raw_size || (s.attributes & TDVF_ATTR_MR_EXTEND))
				return fail(why, "TDX metadata memory section with data or MR.EXTEND");
			break;
		default:
			return fail(why, "TDX metadata section type QEMU does not support");
		}
		t->sec[i] = s;
	}
	t->nsections = n;
	return 0;
}

static void record(mbedtls_md_context_t *c, const char *op, uint64_t gpa)
{
	uint8_t b[128] = { 0 };

	for (size_t i = 0; op[i]; i++) /* the ASCII tag, no NUL: the rest is zero */
		b[i] = (uint8_t)op[i];
	for (int i = 0; i < 8; i++)
		b[16 + i] = (uint8_t)(gpa >> (8 * i));
	mbedtls_md_update(c, b, sizeof(b));
}

static void extend_page(mbedtls_md_context_t *c, const struct tdvf *t, const struct tdvf_section *s, uint64_t off)
{
	for (unsigned k = 0; k < TDX_PAGE; k += 256) {
		record(c, "MR.EXTEND", s->gpa + off + k);
		mbedtls_md_update(c, t->data + s->data_offset + off + k, 256);
	}
}

void tdx_mrtd(const struct tdvf *t, int two_pass, uint8_t mrtd[TDX_MR_SIZE])
{
	mbedtls_md_context_t c;

	mbedtls_md_init(&c);
	mbedtls_md_setup(&c, mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), 0);
	mbedtls_md_starts(&c);
	for (unsigned i = 0; i < t->nsections; i++) {
		const struct tdvf_section *s = &t->sec[i];
		int extend = !!(s->attributes & TDVF_ATTR_MR_EXTEND);
		for (uint64_t off = 0; off < s->mem_size; off += TDX_PAGE) {
			record(&c, "MEM.PAGE.ADD", s->gpa + off);
			if (extend && !two_pass)
				extend_page(&c, t, s, off);
		}
		for (uint64_t off = 0; extend && two_pass && off < s->mem_size; off += TDX_PAGE)
			extend_page(&c, t, s, off);
	}
	mbedtls_md_finish(&c, mrtd);
	mbedtls_md_free(&c);
}

int tdx_kernel_stub_cc(const uint8_t *img, size_t len)
{
	/* The stub builds the GUID on its stack: compilers store it as two
	 * 64-bit immediates, a few instruction bytes apart (or, unoptimised,
	 * as 16 bytes of data). */
	const uint8_t *p = img, *end = img ? img + len : NULL;

	while (p && (p = memmem(p, (size_t)(end - p), guid_cc_measurement, 8)) != NULL) {
		size_t window = (size_t)(end - p) < 64 ? (size_t)(end - p) : 64;
		if (memmem(p + 8, window - 8, guid_cc_measurement + 8, 8))
			return 1;
		p++;
	}
	return 0;
}

static void sha384(const void *p, size_t n, uint8_t out[TDX_MR_SIZE])
{
	mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), p, n, out);
}

static void event(struct tdx_launch_out *o, unsigned rtmr, uint32_t type, const uint8_t digest[TDX_MR_SIZE],
		  const char *desc)
{
	struct tdx_event *e = &o->ev[o->nevents++];
	uint8_t *reg = rtmr == 1 ? o->rtmr1 : o->rtmr2, buf[2 * TDX_MR_SIZE];

	e->rtmr = rtmr;
	e->type = type;
	memcpy(e->digest, digest, TDX_MR_SIZE);
	snprintf(e->desc, sizeof(e->desc), "%s", desc);
	memcpy(buf, reg, TDX_MR_SIZE);
	memcpy(buf + TDX_MR_SIZE, digest, TDX_MR_SIZE);
	sha384(buf, sizeof(buf), reg);
}

static void action(struct tdx_launch_out *o, const char *text)
{
	uint8_t d[TDX_MR_SIZE];

	sha384(text, strlen(text), d); /* EV_EFI_ACTION: the string, no NUL */
	event(o, 1, EV_EFI_ACTION, d, text);
}

/* SHA-384 of LoadOptions as OVMF's X86QemuLoadImageLib builds them: UTF-16
 * of "initrd=initrd " (with an initrd) and the command line, each byte
 * widened, and a UTF-16 NUL. 0 when they are empty (nothing measured). */
static size_t load_options(const char *prefix, const char *append, uint8_t d[TDX_MR_SIZE])
{
	mbedtls_md_context_t c;
	size_t n = strlen(prefix) + strlen(append);
	uint8_t buf[512];
	size_t used = 0;

	if (n == 0)
		return 0;
	mbedtls_md_init(&c);
	mbedtls_md_setup(&c, mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), 0);
	mbedtls_md_starts(&c);
	for (const char *parts[2] = { prefix, append }, **p = parts; p < parts + 2; p++)
		for (const unsigned char *s = (const unsigned char *)*p; *s; s++) {
			buf[used++] = *s;
			buf[used++] = 0;
			if (used == sizeof(buf)) {
				mbedtls_md_update(&c, buf, used);
				used = 0;
			}
		}
	buf[used++] = 0;
	buf[used++] = 0;
	mbedtls_md_update(&c, buf, used);
	mbedtls_md_finish(&c, d);
	mbedtls_md_free(&c);
	return n;
}

void tdx_launch_predict(const struct tdx_launch_in *in, struct tdx_launch_out *out)
{
	memset(out, 0, sizeof(*out));
	if (in->fw) {
		tdx_mrtd(in->fw, in->two_pass, out->mrtd);
		out->have_mrtd = 1;
	}
	if (!in->have_kernel)
		return;
	/* RTMR1 (PCRs 2-6): QemuLoadKernelImage's LoadImage measures the kernel
	 * (PCR 4) before TryRunningQemuKernel signals ReadyToBoot; TdTcg2Dxe's
	 * first ReadyToBoot adds the action and the RTMR1 separator; the stub's
	 * ExitBootServices the two actions (PCR 5). */
	event(out, 1, EV_EFI_BOOT_SERVICES_APPLICATION, in->kernel_authenticode, "kernel (PE Authenticode)");
	action(out, "Calling EFI Application from Boot Option");
	static const uint8_t zero4[4];
	uint8_t d[TDX_MR_SIZE];
	sha384(zero4, sizeof(zero4), d);
	event(out, 1, EV_SEPARATOR, d, "separator");
	/* RTMR2 (PCRs 8-15): the EFI stub's tagged events (PCR 9), LoadOptions
	 * in efi_convert_cmdline before the initrd in efi_load_initrd. Between
	 * them in time but in another register: ExitBootServices comes last. */
	if (in->kernel_stub_cc) {
		if (load_options(in->have_initrd ? "initrd=initrd " : "", in->append ? in->append : "", d))
			event(out, 2, EV_EVENT_TAG, d, "LOADED_IMAGE::LoadOptions");
		if (in->have_initrd)
			event(out, 2, EV_EVENT_TAG, in->initrd_sha384, "Linux initrd");
	}
	action(out, "Exit Boot Services Invocation");
	action(out, "Exit Boot Services Returned with Success");
	out->have_rtmr1 = out->have_rtmr2 = 1;
}
