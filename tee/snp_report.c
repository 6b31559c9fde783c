/* AMD SEV-SNP attestation report parser (see snp_report.h for the layout). */
#include "tee/snp_report.h"

#include <string.h>

#include "tee/bytes.h"

void snp_tcb_decode(uint64_t raw, int turin, struct snp_tcb *out)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(raw >> (8 * i));
	memset(out, 0, sizeof(*out));
	out->raw = raw;
	out->turin = turin ? 1 : 0;
	if (turin) {
		out->fmc = b[0];
		out->boot_loader = b[1];
		out->tee = b[2];
		out->snp = b[3];
	} else {
		out->boot_loader = b[0];
		out->tee = b[1];
		out->snp = b[6];
	}
	out->microcode = b[7];
}

int snp_report_is_turin(uint32_t version, uint8_t cpuid_fam_id)
{
	return version >= 3 && cpuid_fam_id == SNP_CPUID_FAMILY_TURIN;
}

const char *snp_product_name(uint8_t fam, uint8_t model)
{
	if (fam == 0x19) {
		if (model <= 0x0f)
			return "Milan";
		if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))
			return "Genoa";
		return NULL;
	}
	if (fam == SNP_CPUID_FAMILY_TURIN)
		return "Turin";
	return NULL;
}

const char *snp_signing_key_name(unsigned signing_key)
{
	switch (signing_key) {
	case SNP_SIGNING_KEY_VCEK: return "vcek";
	case SNP_SIGNING_KEY_VLEK: return "vlek";
	case SNP_SIGNING_KEY_NONE: return "none";
	default: return "reserved";
	}
}

int snp_report_signature_be(const struct snp_report *r, uint8_t r_be[48], uint8_t s_be[48])
{
	for (unsigned i = 48; i < SNP_REPORT_SIG_FIELD; i++)
		if (r->sig_r[i] || r->sig_s[i])
			return -1;
	for (unsigned i = 0; i < 48; i++) {
		r_be[i] = r->sig_r[47 - i];
		s_be[i] = r->sig_s[47 - i];
	}
	return 0;
}

/* Copies n bytes at off into dst after the bounds check. */
static int take(const struct rd *r, size_t off, void *dst, size_t n, const char *what)
{
	if (rd_need(r, off, n, what))
		return -1;
	memcpy(dst, r->buf + off, n);
	return 0;
}

static int take_u32(const struct rd *r, size_t off, uint32_t *v, const char *what)
{
	if (rd_need(r, off, 4, what))
		return -1;
	*v = le32(r->buf + off);
	return 0;
}

static int take_u64(const struct rd *r, size_t off, uint64_t *v, const char *what)
{
	if (rd_need(r, off, 8, what))
		return -1;
	*v = le64(r->buf + off);
	return 0;
}

static int take_u8(const struct rd *r, size_t off, uint8_t *v, const char *what)
{
	if (rd_need(r, off, 1, what))
		return -1;
	*v = r->buf[off];
	return 0;
}

int snp_report_parse(const uint8_t *buf, size_t len, struct snp_report *out, char *err, size_t errlen)
{
	static const uint8_t none[1];
	uint64_t cur = 0, rep = 0, com = 0, lau = 0;

	if (!buf) {
		buf = none;
		len = 0;
	}
	struct rd r = { .buf = buf, .end = len, .err = err, .errlen = errlen };
	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (take_u32(&r, 0x000, &out->version, "version"))
		return -1;
	if (out->version < SNP_REPORT_MIN_VERSION || out->version > SNP_REPORT_MAX_VERSION)
		return rd_fail(&r, "unsupported SNP report version %u (supported: %u-%u)", out->version,
			       SNP_REPORT_MIN_VERSION, SNP_REPORT_MAX_VERSION);
	if (take_u32(&r, 0x004, &out->guest_svn, "guest_svn") ||
	    take_u64(&r, 0x008, &out->policy, "policy") ||
	    take(&r, 0x010, out->family_id, 16, "family_id") ||
	    take(&r, 0x020, out->image_id, 16, "image_id") ||
	    take_u32(&r, 0x030, &out->vmpl, "vmpl") ||
	    take_u32(&r, 0x034, &out->signature_algo, "signature_algo") ||
	    take_u64(&r, 0x038, &cur, "current_tcb") ||
	    take_u64(&r, 0x040, &out->platform_info, "platform_info") ||
	    take_u32(&r, 0x048, &out->signer_info, "signer info (author_key_en, mask_chip_key, signing_key)") ||
	    rd_need(&r, 0x04C, 4, "reserved") ||
	    take(&r, 0x050, out->report_data, 64, "report_data") ||
	    take(&r, 0x090, out->measurement, 48, "measurement") ||
	    take(&r, 0x0C0, out->host_data, 32, "host_data") ||
	    take(&r, 0x0E0, out->id_key_digest, 48, "id_key_digest") ||
	    take(&r, 0x110, out->author_key_digest, 48, "author_key_digest") ||
	    take(&r, 0x140, out->report_id, 32, "report_id") ||
	    take(&r, 0x160, out->report_id_ma, 32, "report_id_ma") ||
	    take_u64(&r, 0x180, &rep, "reported_tcb") ||
	    take_u8(&r, 0x188, &out->cpuid_fam_id, "cpuid_fam_id") ||
	    take_u8(&r, 0x189, &out->cpuid_mod_id, "cpuid_mod_id") ||
	    take_u8(&r, 0x18A, &out->cpuid_step, "cpuid_step") ||
	    rd_need(&r, 0x18B, 0x1A0 - 0x18B, "reserved") ||
	    take(&r, 0x1A0, out->chip_id, 64, "chip_id") ||
	    take_u64(&r, 0x1E0, &com, "committed_tcb") ||
	    take_u8(&r, 0x1E8, &out->current_build, "current_build") ||
	    take_u8(&r, 0x1E9, &out->current_minor, "current_minor") ||
	    take_u8(&r, 0x1EA, &out->current_major, "current_major") ||
	    rd_need(&r, 0x1EB, 1, "reserved") ||
	    take_u8(&r, 0x1EC, &out->committed_build, "committed_build") ||
	    take_u8(&r, 0x1ED, &out->committed_minor, "committed_minor") ||
	    take_u8(&r, 0x1EE, &out->committed_major, "committed_major") ||
	    rd_need(&r, 0x1EF, 1, "reserved") ||
	    take_u64(&r, 0x1F0, &lau, "launch_tcb") ||
	    take_u64(&r, 0x1F8, &out->launch_mit_vector, "launch_mit_vector") ||
	    take_u64(&r, 0x200, &out->current_mit_vector, "current_mit_vector") ||
	    rd_need(&r, 0x208, SNP_REPORT_SIG_OFFSET - 0x208, "reserved") ||
	    take(&r, SNP_REPORT_SIG_R_OFFSET, out->sig_r, SNP_REPORT_SIG_FIELD, "signature r") ||
	    take(&r, SNP_REPORT_SIG_S_OFFSET, out->sig_s, SNP_REPORT_SIG_FIELD, "signature s") ||
	    rd_need(&r, SNP_REPORT_SIG_S_OFFSET + SNP_REPORT_SIG_FIELD,
		    SNP_REPORT_SIZE - (SNP_REPORT_SIG_S_OFFSET + SNP_REPORT_SIG_FIELD), "signature (reserved)"))
		return -1;

	out->author_key_en = (int)(out->signer_info & 1);
	out->mask_chip_key = (int)((out->signer_info >> 1) & 1);
	out->signing_key = (out->signer_info >> 2) & 7;
	out->has_cpuid = out->version >= 3;
	if (!out->has_cpuid)
		out->cpuid_fam_id = out->cpuid_mod_id = out->cpuid_step = 0;
	out->has_mit_vector = out->version >= 5;
	if (!out->has_mit_vector)
		out->launch_mit_vector = out->current_mit_vector = 0;
	int turin = snp_report_is_turin(out->version, out->cpuid_fam_id);
	snp_tcb_decode(cur, turin, &out->current_tcb);
	snp_tcb_decode(rep, turin, &out->reported_tcb);
	snp_tcb_decode(com, turin, &out->committed_tcb);
	snp_tcb_decode(lau, turin, &out->launch_tcb);
	out->size = SNP_REPORT_SIZE;
	out->trailing = len - SNP_REPORT_SIZE;
	return 0;
}
