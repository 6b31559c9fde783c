/* Intel TDX quote (v4, v5) and TDREPORT parsers (see tdx_quote.h). */
#include "tee/tdx_quote.h"

#include <string.h>

#include "tee/bytes.h"

uint64_t tdx_attributes_u64(const uint8_t attr[8])
{
	return le64(attr);
}

const char *tdx_body_type_name(uint16_t type)
{
	switch (type) {
	case TDX_BODY_TYPE_SGX: return "sgx";
	case TDX_BODY_TYPE_TD10: return "td10";
	case TDX_BODY_TYPE_TD15: return "td15";
	default: return "unknown";
	}
}

static int take(const struct rd *r, size_t off, void *dst, size_t n, const char *what)
{
	if (rd_need(r, off, n, what))
		return -1;
	memcpy(dst, r->buf + off, n);
	return 0;
}

/* The TD report body at off (TD10, or TD15 when td15). */
static int parse_td_body(const struct rd *r, size_t off, int td15, struct tdx_td_body *b)
{
	static const char *const rtmr_name[4] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };

	b->td15 = td15;
	if (take(r, off + 0, b->tee_tcb_svn, 16, "tee_tcb_svn") ||
	    take(r, off + 16, b->mr_seam, 48, "mr_seam") ||
	    take(r, off + 64, b->mr_signer_seam, 48, "mr_signer_seam") ||
	    take(r, off + 112, b->seam_attributes, 8, "seam_attributes") ||
	    take(r, off + 120, b->td_attributes, 8, "td_attributes") ||
	    take(r, off + 128, b->xfam, 8, "xfam") ||
	    take(r, off + 136, b->mr_td, 48, "mr_td") ||
	    take(r, off + 184, b->mr_config_id, 48, "mr_config_id") ||
	    take(r, off + 232, b->mr_owner, 48, "mr_owner") ||
	    take(r, off + 280, b->mr_owner_config, 48, "mr_owner_config"))
		return -1;
	for (int i = 0; i < 4; i++)
		if (take(r, off + 328 + 48 * (size_t)i, b->rtmr[i], 48, rtmr_name[i]))
			return -1;
	if (take(r, off + 520, b->report_data, 64, "report_data"))
		return -1;
	if (td15 && (take(r, off + 584, b->tee_tcb_svn2, 16, "tee_tcb_svn2") ||
		     take(r, off + 600, b->mr_servicetd, 48, "mr_servicetd")))
		return -1;
	return 0;
}

static void parse_sgx_report(const uint8_t *p, struct sgx_report_body *q)
{
	memcpy(q->cpu_svn, p + 0, 16);
	q->misc_select = le32(p + 16);
	memcpy(q->isv_ext_prod_id, p + 32, 16);
	memcpy(q->attributes, p + 48, 16);
	memcpy(q->mr_enclave, p + 64, 32);
	memcpy(q->mr_signer, p + 128, 32);
	memcpy(q->config_id, p + 192, 64);
	q->isv_prod_id = le16(p + 256);
	q->isv_svn = le16(p + 258);
	q->config_svn = le16(p + 260);
	memcpy(q->isv_family_id, p + 304, 16);
	memcpy(q->report_data, p + 320, 64);
}

/* Certification data type 6 in [off, r->end): QE report, its signature, QE
 * auth data, and the inner certification data (the PCK chain). */
static int parse_qe_cert_data(const struct rd *r, size_t off, struct tdx_quote *q)
{
	if (rd_need(r, off, SGX_REPORT_BODY_SIZE, "QE report"))
		return -1;
	q->qe_report_raw = r->buf + off;
	parse_sgx_report(q->qe_report_raw, &q->qe_report);
	off += SGX_REPORT_BODY_SIZE;
	if (take(r, off, q->qe_report_sig, 64, "QE report signature"))
		return -1;
	off += 64;
	if (rd_need(r, off, 2, "QE authentication data size"))
		return -1;
	q->qe_auth_len = le16(r->buf + off);
	off += 2;
	if (rd_need(r, off, q->qe_auth_len, "QE authentication data"))
		return -1;
	q->qe_auth = r->buf + off;
	off += q->qe_auth_len;
	if (rd_need(r, off, 6, "PCK certification data type and size"))
		return -1;
	q->pck_cert_type = le16(r->buf + off);
	q->pck_cert_size = le32(r->buf + off + 2);
	off += 6;
	if (rd_need(r, off, q->pck_cert_size, "PCK certification data"))
		return -1;
	q->pck_cert_data = r->buf + off;
	off += q->pck_cert_size;
	if (off != r->end)
		return rd_fail(r, "certification data has %zu unused bytes at offset %zu after the PCK certification data",
			       r->end - off, off);
	q->has_qe_report = 1;
	return 0;
}

int tdx_quote_parse(const uint8_t *buf, size_t len, struct tdx_quote *q, char *err, size_t errlen)
{
	static const uint8_t none[1];
	size_t off;

	if (!buf) {
		buf = none;
		len = 0;
	}
	struct rd r = { .buf = buf, .end = len, .err = err, .errlen = errlen };
	memset(q, 0, sizeof(*q));
	if (err && errlen)
		err[0] = '\0';
	if (rd_need(&r, 0, TDX_QUOTE_HEADER_SIZE, "quote header"))
		return -1;
	q->version = le16(buf + 0);
	q->att_key_type = le16(buf + 2);
	q->tee_type = le32(buf + 4);
	q->qe_svn = le16(buf + 8);
	q->pce_svn = le16(buf + 10);
	memcpy(q->qe_vendor_id, buf + 12, 16);
	memcpy(q->user_data, buf + 28, 20);
	if (q->version != 4 && q->version != 5)
		return rd_fail(&r, "unsupported quote version %u (supported: 4, 5)", q->version);
	if (q->tee_type != TDX_TEE_TYPE_TDX)
		return rd_fail(&r, "quote TEE type 0x%x is not TDX (0x81)", q->tee_type);
	if (q->att_key_type != TDX_ATT_KEY_ECDSA_P256)
		return rd_fail(&r, "quote attestation key type %u is not supported (2: ECDSA-256-with-P-256)",
			       q->att_key_type);
	off = TDX_QUOTE_HEADER_SIZE;
	if (q->version == 4) {
		q->body_type = TDX_BODY_TYPE_TD10;
		q->body_size = TDX_TD10_BODY_SIZE;
	} else {
		if (rd_need(&r, off, 6, "quote body type and size"))
			return -1;
		q->body_type = le16(buf + off);
		q->body_size = le32(buf + off + 2);
		if (q->body_type != TDX_BODY_TYPE_TD10 && q->body_type != TDX_BODY_TYPE_TD15)
			return rd_fail(&r, "quote body type %u is not supported (2: TD 1.0, 3: TD 1.5)",
				       q->body_type);
		uint32_t want = q->body_type == TDX_BODY_TYPE_TD15 ? TDX_TD15_BODY_SIZE : TDX_TD10_BODY_SIZE;
		if (q->body_size != want)
			return rd_fail(&r, "quote body size %u does not match body type %u (%u bytes)",
				       q->body_size, q->body_type, want);
		off += 6;
	}
	if (parse_td_body(&r, off, q->body_type == TDX_BODY_TYPE_TD15, &q->body))
		return -1;
	off += q->body_size;
	q->signed_len = off;
	if (rd_need(&r, off, 4, "signature data length"))
		return -1;
	q->sig_data_len = le32(buf + off);
	off += 4;
	if (rd_need(&r, off, q->sig_data_len, "signature data"))
		return -1;
	q->quote_len = off + q->sig_data_len;
	q->trailing = len - q->quote_len;

	/* Everything below stays inside the signature data. */
	struct rd s = r;
	s.end = q->quote_len;
	s.scope = "signature data";
	if (take(&s, off, q->signature, 64, "quote signature") ||
	    take(&s, off + 64, q->attest_key, 64, "attestation key") ||
	    rd_need(&s, off + 128, 6, "certification data type and size"))
		return -1;
	q->cert_type = le16(buf + off + 128);
	q->cert_size = le32(buf + off + 130);
	off += 134;
	if (q->cert_size != q->quote_len - off)
		return rd_fail(&r, "certification data size %u at offset %zu does not match the %zu bytes left in the signature data",
			       q->cert_size, off - 4, q->quote_len - off);
	q->cert_data = buf + off;
	if (q->cert_type != TDX_CERT_TYPE_QE_REPORT)
		return 0; /* parsed; a verifier needs type 6 */
	struct rd c = r;
	c.end = q->quote_len;
	c.scope = "certification data";
	return parse_qe_cert_data(&c, off, q);
}

int tdx_tdreport_parse(const uint8_t *buf, size_t len, struct tdx_tdreport *t, char *err, size_t errlen)
{
	static const char *const rtmr_name[4] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
	static const uint8_t none[1];

	if (!buf) {
		buf = none;
		len = 0;
	}
	struct rd r = { .buf = buf, .end = len, .err = err, .errlen = errlen };
	memset(t, 0, sizeof(*t));
	if (err && errlen)
		err[0] = '\0';
	if (rd_need(&r, 0, 4, "report type"))
		return -1;
	t->report_type = buf[0];
	t->report_subtype = buf[1];
	t->report_version = buf[2];
	if (t->report_type != TDX_TEE_TYPE_TDX)
		return rd_fail(&r, "TDREPORT type 0x%02x is not TDX (0x81)", t->report_type);
	if (t->report_subtype != 0)
		return rd_fail(&r, "TDREPORT subtype %u is not supported (0)", t->report_subtype);
	if (take(&r, 16, t->cpu_svn, 16, "cpu_svn") ||
	    take(&r, 32, t->tee_tcb_info_hash, 48, "tee_tcb_info_hash") ||
	    take(&r, 80, t->tee_info_hash, 48, "tee_info_hash") ||
	    take(&r, 128, t->report_data, 64, "report_data") ||
	    take(&r, 224, t->mac, 32, "mac"))
		return -1;
	size_t o = TDX_TEE_TCB_INFO_OFFSET;
	if (take(&r, o + 0, t->tcb_valid, 8, "tee_tcb_info.valid") ||
	    take(&r, o + 8, t->tee_tcb_svn, 16, "tee_tcb_info.tee_tcb_svn") ||
	    take(&r, o + 24, t->mr_seam, 48, "tee_tcb_info.mr_seam") ||
	    take(&r, o + 72, t->mr_signer_seam, 48, "tee_tcb_info.mr_signer_seam") ||
	    take(&r, o + 120, t->seam_attributes, 8, "tee_tcb_info.attributes") ||
	    take(&r, o + 128, t->tee_tcb_svn2, 16, "tee_tcb_info.tee_tcb_svn2") ||
	    rd_need(&r, o + 144, TDX_TDINFO_OFFSET - (o + 144), "tee_tcb_info (reserved)"))
		return -1;
	t->tee_tcb_info_raw = buf + o;
	o = TDX_TDINFO_OFFSET;
	if (take(&r, o + 0, t->td_attributes, 8, "tdinfo.attributes") ||
	    take(&r, o + 8, t->xfam, 8, "tdinfo.xfam") ||
	    take(&r, o + 16, t->mr_td, 48, "tdinfo.mr_td") ||
	    take(&r, o + 64, t->mr_config_id, 48, "tdinfo.mr_config_id") ||
	    take(&r, o + 112, t->mr_owner, 48, "tdinfo.mr_owner") ||
	    take(&r, o + 160, t->mr_owner_config, 48, "tdinfo.mr_owner_config"))
		return -1;
	for (int i = 0; i < 4; i++)
		if (take(&r, o + 208 + 48 * (size_t)i, t->rtmr[i], 48, rtmr_name[i]))
			return -1;
	if (take(&r, o + 400, t->servtd_hash, 48, "tdinfo.servtd_hash") ||
	    rd_need(&r, o + 448, TDX_TDREPORT_SIZE - (o + 448), "tdinfo (reserved)"))
		return -1;
	t->tdinfo_raw = buf + o;
	t->trailing = len - TDX_TDREPORT_SIZE;
	return 0;
}
