/* `cvminit report show`: every field as JSON. Byte fields are lowercase hex
 * strings in report order; integers are JSON numbers; 64-bit flag words are
 * also given as "0x%016x" strings with their decoded bits. One member per
 * line, so `grep '"measurement": '` works as well as a JSON parser. */
#include <stdio.h>
#include <string.h>

#include "tee/host/report.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"

struct jw {
	FILE *f;
	int depth;
	int comma;
};

static void jw_key(struct jw *w, const char *key)
{
	fputs(w->comma ? ",\n" : "\n", w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
	if (key)
		fprintf(w->f, "\"%s\": ", key);
	w->comma = 1;
}

static void jw_open(struct jw *w, const char *key, char c)
{
	if (w->depth || key)
		jw_key(w, key);
	fputc(c, w->f);
	w->depth++;
	w->comma = 0;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
	fputc(c, w->f);
	w->comma = 1;
	if (!w->depth)
		fputc('\n', w->f);
}

static void jw_uint(struct jw *w, const char *key, unsigned long long v)
{
	jw_key(w, key);
	fprintf(w->f, "%llu", v);
}

static void jw_bool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

/* A JSON string: printable ASCII as is, the rest escaped. */
static void jw_strn(struct jw *w, const char *key, const char *s, size_t n)
{
	jw_key(w, key);
	fputc('"', w->f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(w->f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", w->f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(w->f, "\\u%04x", c);
		else
			fputc(c, w->f);
	}
	fputc('"', w->f);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_strn(w, key, s, strlen(s));
}

static void jw_hex(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
	jw_key(w, key);
	fputc('"', w->f);
	for (size_t i = 0; i < n; i++)
		fprintf(w->f, "%02x", p[i]);
	fputc('"', w->f);
}

static void jw_x64(struct jw *w, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)v);
	jw_str(w, key, buf);
}

static void jw_x32(struct jw *w, const char *key, uint32_t v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%08x", (unsigned)v);
	jw_str(w, key, buf);
}

/* ---- SEV-SNP -------------------------------------------------------------- */

static void snp_tcb(struct jw *w, const char *key, const struct snp_tcb *t)
{
	jw_open(w, key, '{');
	jw_x64(w, "raw", t->raw);
	jw_str(w, "layout", t->turin ? "turin" : "milan-genoa");
	if (t->turin)
		jw_uint(w, "fmc", t->fmc);
	jw_uint(w, "boot_loader", t->boot_loader);
	jw_uint(w, "tee", t->tee);
	jw_uint(w, "snp", t->snp);
	jw_uint(w, "microcode", t->microcode);
	jw_close(w, '}');
}

static int show_snp(struct jw *w, const uint8_t *buf, size_t len)
{
	struct snp_report r;
	char err[256];
	uint8_t rbe[48], sbe[48];

	if (snp_report_parse(buf, len, &r, err, sizeof(err))) {
		fprintf(stderr, "cvminit report show: malformed SEV-SNP report: %s\n", err);
		return EXIT_REPORT_MALFORMED;
	}
	jw_open(w, NULL, '{');
	jw_str(w, "format", "snp");
	jw_uint(w, "size", r.size);
	jw_uint(w, "trailing_bytes", r.trailing);
	jw_uint(w, "version", r.version);
	jw_uint(w, "guest_svn", r.guest_svn);
	jw_open(w, "policy", '{');
	jw_x64(w, "raw", r.policy);
	jw_uint(w, "abi_minor", SNP_POLICY_ABI_MINOR(r.policy));
	jw_uint(w, "abi_major", SNP_POLICY_ABI_MAJOR(r.policy));
	jw_bool(w, "smt", !!(r.policy & SNP_POLICY_SMT));
	jw_bool(w, "reserved_bit17", !!(r.policy & SNP_POLICY_RESERVED1));
	jw_bool(w, "migrate_ma", !!(r.policy & SNP_POLICY_MIGRATE_MA));
	jw_bool(w, "debug", !!(r.policy & SNP_POLICY_DEBUG));
	jw_bool(w, "single_socket", !!(r.policy & SNP_POLICY_SINGLE_SOCKET));
	jw_bool(w, "cxl_allow", !!(r.policy & SNP_POLICY_CXL_ALLOW));
	jw_bool(w, "mem_aes_256_xts", !!(r.policy & SNP_POLICY_MEM_AES_256_XTS));
	jw_bool(w, "rapl_dis", !!(r.policy & SNP_POLICY_RAPL_DIS));
	jw_bool(w, "ciphertext_hiding_dram", !!(r.policy & SNP_POLICY_CIPHERTEXT_HIDING_DRAM));
	jw_bool(w, "page_swap_disable", !!(r.policy & SNP_POLICY_PAGE_SWAP_DISABLE));
	jw_x64(w, "unknown_bits", r.policy & ~0x3ffffffull);
	jw_close(w, '}');
	jw_hex(w, "family_id", r.family_id, 16);
	jw_hex(w, "image_id", r.image_id, 16);
	jw_uint(w, "vmpl", r.vmpl);
	jw_uint(w, "signature_algo", r.signature_algo);
	jw_str(w, "signature_algo_name",
	       r.signature_algo == SNP_SIG_ALGO_ECDSA_P384_SHA384 ? "ecdsa-p384-sha384" : "unknown");
	snp_tcb(w, "current_tcb", &r.current_tcb);
	jw_open(w, "platform_info", '{');
	jw_x64(w, "raw", r.platform_info);
	jw_bool(w, "smt_enabled", !!(r.platform_info & SNP_PLATFORM_SMT_EN));
	jw_bool(w, "tsme_enabled", !!(r.platform_info & SNP_PLATFORM_TSME_EN));
	jw_bool(w, "ecc_enabled", !!(r.platform_info & SNP_PLATFORM_ECC_EN));
	jw_bool(w, "rapl_disabled", !!(r.platform_info & SNP_PLATFORM_RAPL_DIS));
	jw_bool(w, "ciphertext_hiding_dram_enabled", !!(r.platform_info & SNP_PLATFORM_CIPHERTEXT_HIDING_DRAM_EN));
	jw_bool(w, "alias_check_complete", !!(r.platform_info & SNP_PLATFORM_ALIAS_CHECK_COMPLETE));
	jw_bool(w, "tio_enabled", !!(r.platform_info & SNP_PLATFORM_TIO_EN));
	jw_close(w, '}');
	jw_open(w, "signer_info", '{');
	jw_x32(w, "raw", r.signer_info);
	jw_bool(w, "author_key_en", r.author_key_en);
	jw_bool(w, "mask_chip_key", r.mask_chip_key);
	jw_uint(w, "signing_key", r.signing_key);
	jw_str(w, "signing_key_name", snp_signing_key_name(r.signing_key));
	jw_close(w, '}');
	jw_hex(w, "report_data", r.report_data, 64);
	jw_hex(w, "measurement", r.measurement, 48);
	jw_hex(w, "host_data", r.host_data, 32);
	jw_hex(w, "id_key_digest", r.id_key_digest, 48);
	jw_hex(w, "author_key_digest", r.author_key_digest, 48);
	jw_hex(w, "report_id", r.report_id, 32);
	jw_hex(w, "report_id_ma", r.report_id_ma, 32);
	snp_tcb(w, "reported_tcb", &r.reported_tcb);
	if (r.has_cpuid) {
		const char *prod = snp_product_name(r.cpuid_fam_id, r.cpuid_mod_id);
		jw_uint(w, "cpuid_fam_id", r.cpuid_fam_id);
		jw_uint(w, "cpuid_mod_id", r.cpuid_mod_id);
		jw_uint(w, "cpuid_step", r.cpuid_step);
		if (prod)
			jw_str(w, "product", prod);
		else
			jw_null(w, "product");
	} else {
		jw_null(w, "cpuid_fam_id");
		jw_null(w, "cpuid_mod_id");
		jw_null(w, "cpuid_step");
		jw_null(w, "product");
	}
	jw_hex(w, "chip_id", r.chip_id, 64);
	snp_tcb(w, "committed_tcb", &r.committed_tcb);
	jw_uint(w, "current_build", r.current_build);
	jw_uint(w, "current_minor", r.current_minor);
	jw_uint(w, "current_major", r.current_major);
	jw_uint(w, "committed_build", r.committed_build);
	jw_uint(w, "committed_minor", r.committed_minor);
	jw_uint(w, "committed_major", r.committed_major);
	snp_tcb(w, "launch_tcb", &r.launch_tcb);
	if (r.has_mit_vector) {
		jw_x64(w, "launch_mit_vector", r.launch_mit_vector);
		jw_x64(w, "current_mit_vector", r.current_mit_vector);
	} else {
		jw_null(w, "launch_mit_vector");
		jw_null(w, "current_mit_vector");
	}
	jw_open(w, "signature", '{');
	jw_hex(w, "r_le", r.sig_r, sizeof(r.sig_r));
	jw_hex(w, "s_le", r.sig_s, sizeof(r.sig_s));
	if (snp_report_signature_be(&r, rbe, sbe) == 0) {
		jw_hex(w, "r", rbe, 48);
		jw_hex(w, "s", sbe, 48);
	} else {
		jw_null(w, "r");
		jw_null(w, "s");
	}
	jw_close(w, '}');
	jw_close(w, '}');
	return EXIT_OK;
}

/* ---- TDX ------------------------------------------------------------------ */

static void td_attributes(struct jw *w, const char *key, const uint8_t attr[8])
{
	uint64_t a = tdx_attributes_u64(attr);

	jw_open(w, key, '{');
	jw_x64(w, "raw", a);
	jw_bool(w, "debug", !!(a & TDX_ATTR_DEBUG));
	jw_bool(w, "hgs_plus_prof", !!(a & TDX_ATTR_HGS_PLUS_PROF));
	jw_bool(w, "perf_prof", !!(a & TDX_ATTR_PERF_PROF));
	jw_bool(w, "pmt_prof", !!(a & TDX_ATTR_PMT_PROF));
	jw_bool(w, "icssd", !!(a & TDX_ATTR_ICSSD));
	jw_bool(w, "lass", !!(a & TDX_ATTR_LASS));
	jw_bool(w, "sept_ve_disable", !!(a & TDX_ATTR_SEPT_VE_DISABLE));
	jw_bool(w, "migratable", !!(a & TDX_ATTR_MIGRATABLE));
	jw_bool(w, "pks", !!(a & TDX_ATTR_PKS));
	jw_bool(w, "kl", !!(a & TDX_ATTR_KL));
	jw_bool(w, "tpa", !!(a & TDX_ATTR_TPA));
	jw_bool(w, "perfmon", !!(a & TDX_ATTR_PERFMON));
	jw_close(w, '}');
}

static void td_rtmrs(struct jw *w, const uint8_t rtmr[4][48])
{
	static const char *const name[4] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };

	for (int i = 0; i < 4; i++)
		jw_hex(w, name[i], rtmr[i], 48);
}

static size_t count_pem_certs(const uint8_t *p, size_t n)
{
	static const char tag[] = "-----BEGIN CERTIFICATE-----";
	size_t count = 0;
	const uint8_t *end = p + n;

	while (p && p < end) {
		p = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1);
		if (p) {
			count++;
			p += sizeof(tag) - 1;
		}
	}
	return count;
}

static int show_tdx_quote(struct jw *w, const uint8_t *buf, size_t len)
{
	struct tdx_quote q;
	char err[256];

	if (tdx_quote_parse(buf, len, &q, err, sizeof(err))) {
		fprintf(stderr, "cvminit report show: malformed TDX quote: %s\n", err);
		return EXIT_REPORT_MALFORMED;
	}
	const struct tdx_td_body *b = &q.body;
	jw_open(w, NULL, '{');
	jw_str(w, "format", "tdx-quote");
	jw_uint(w, "size", len);
	jw_uint(w, "quote_size", q.quote_len);
	jw_uint(w, "trailing_bytes", q.trailing);
	jw_open(w, "header", '{');
	jw_uint(w, "version", q.version);
	jw_uint(w, "att_key_type", q.att_key_type);
	jw_str(w, "att_key_type_name", "ecdsa-p256");
	jw_uint(w, "tee_type", q.tee_type);
	jw_str(w, "tee_type_name", "tdx");
	jw_uint(w, "qe_svn", q.qe_svn);
	jw_uint(w, "pce_svn", q.pce_svn);
	jw_hex(w, "qe_vendor_id", q.qe_vendor_id, 16);
	jw_hex(w, "user_data", q.user_data, 20);
	jw_close(w, '}');
	jw_uint(w, "body_type", q.body_type);
	jw_str(w, "body_type_name", tdx_body_type_name(q.body_type));
	jw_uint(w, "body_size", q.body_size);
	jw_open(w, "td_report", '{');
	jw_hex(w, "tee_tcb_svn", b->tee_tcb_svn, 16);
	jw_hex(w, "mr_seam", b->mr_seam, 48);
	jw_hex(w, "mr_signer_seam", b->mr_signer_seam, 48);
	jw_hex(w, "seam_attributes", b->seam_attributes, 8);
	jw_hex(w, "td_attributes", b->td_attributes, 8);
	td_attributes(w, "td_attributes_decoded", b->td_attributes);
	jw_hex(w, "xfam", b->xfam, 8);
	jw_hex(w, "mr_td", b->mr_td, 48);
	jw_hex(w, "mr_config_id", b->mr_config_id, 48);
	jw_hex(w, "mr_owner", b->mr_owner, 48);
	jw_hex(w, "mr_owner_config", b->mr_owner_config, 48);
	td_rtmrs(w, b->rtmr);
	jw_hex(w, "report_data", b->report_data, 64);
	if (b->td15) {
		jw_hex(w, "tee_tcb_svn2", b->tee_tcb_svn2, 16);
		jw_hex(w, "mr_servicetd", b->mr_servicetd, 48);
	}
	jw_close(w, '}');
	jw_uint(w, "signature_data_size", q.sig_data_len);
	jw_hex(w, "signature", q.signature, 64);
	jw_hex(w, "attestation_key", q.attest_key, 64);
	jw_open(w, "certification_data", '{');
	jw_uint(w, "type", q.cert_type);
	jw_uint(w, "size", q.cert_size);
	if (q.has_qe_report) {
		const struct sgx_report_body *e = &q.qe_report;
		jw_open(w, "qe_report", '{');
		jw_hex(w, "cpu_svn", e->cpu_svn, 16);
		jw_uint(w, "misc_select", e->misc_select);
		jw_hex(w, "isv_ext_prod_id", e->isv_ext_prod_id, 16);
		jw_hex(w, "attributes", e->attributes, 16);
		jw_hex(w, "mr_enclave", e->mr_enclave, 32);
		jw_hex(w, "mr_signer", e->mr_signer, 32);
		jw_hex(w, "config_id", e->config_id, 64);
		jw_uint(w, "isv_prod_id", e->isv_prod_id);
		jw_uint(w, "isv_svn", e->isv_svn);
		jw_uint(w, "config_svn", e->config_svn);
		jw_hex(w, "isv_family_id", e->isv_family_id, 16);
		jw_hex(w, "report_data", e->report_data, 64);
		jw_close(w, '}');
		jw_hex(w, "qe_report_signature", q.qe_report_sig, 64);
		jw_uint(w, "qe_auth_data_size", q.qe_auth_len);
		jw_hex(w, "qe_auth_data", q.qe_auth, q.qe_auth_len);
		jw_open(w, "pck_certification_data", '{');
		jw_uint(w, "type", q.pck_cert_type);
		jw_uint(w, "size", q.pck_cert_size);
		if (q.pck_cert_type == TDX_CERT_TYPE_PCK_CHAIN) {
			size_t n = q.pck_cert_size;
			while (n && q.pck_cert_data[n - 1] == '\0')
				n--;
			jw_uint(w, "pem_certificates", count_pem_certs(q.pck_cert_data, n));
			jw_strn(w, "pem", (const char *)q.pck_cert_data, n);
		}
		jw_close(w, '}');
	}
	jw_close(w, '}');
	jw_close(w, '}');
	return EXIT_OK;
}

static int show_tdreport(struct jw *w, const uint8_t *buf, size_t len)
{
	struct tdx_tdreport t;
	char err[256];

	if (tdx_tdreport_parse(buf, len, &t, err, sizeof(err))) {
		fprintf(stderr, "cvminit report show: malformed TDREPORT: %s\n", err);
		return EXIT_REPORT_MALFORMED;
	}
	jw_open(w, NULL, '{');
	jw_str(w, "format", "tdreport");
	jw_uint(w, "size", TDX_TDREPORT_SIZE);
	jw_uint(w, "trailing_bytes", t.trailing);
	jw_open(w, "report_mac", '{');
	jw_uint(w, "report_type", t.report_type);
	jw_uint(w, "report_subtype", t.report_subtype);
	jw_uint(w, "report_version", t.report_version);
	jw_hex(w, "cpu_svn", t.cpu_svn, 16);
	jw_hex(w, "tee_tcb_info_hash", t.tee_tcb_info_hash, 48);
	jw_hex(w, "tee_info_hash", t.tee_info_hash, 48);
	jw_hex(w, "report_data", t.report_data, 64);
	jw_hex(w, "mac", t.mac, 32);
	jw_close(w, '}');
	jw_open(w, "tee_tcb_info", '{');
	jw_hex(w, "valid", t.tcb_valid, 8);
	jw_hex(w, "tee_tcb_svn", t.tee_tcb_svn, 16);
	jw_hex(w, "mr_seam", t.mr_seam, 48);
	jw_hex(w, "mr_signer_seam", t.mr_signer_seam, 48);
	jw_hex(w, "attributes", t.seam_attributes, 8);
	jw_hex(w, "tee_tcb_svn2", t.tee_tcb_svn2, 16);
	jw_close(w, '}');
	jw_open(w, "td_info", '{');
	jw_hex(w, "attributes", t.td_attributes, 8);
	td_attributes(w, "attributes_decoded", t.td_attributes);
	jw_hex(w, "xfam", t.xfam, 8);
	jw_hex(w, "mr_td", t.mr_td, 48);
	jw_hex(w, "mr_config_id", t.mr_config_id, 48);
	jw_hex(w, "mr_owner", t.mr_owner, 48);
	jw_hex(w, "mr_owner_config", t.mr_owner_config, 48);
	td_rtmrs(w, t.rtmr);
	jw_hex(w, "servtd_hash", t.servtd_hash, 48);
	jw_close(w, '}');
	jw_close(w, '}');
	return EXIT_OK;
}

int report_show(enum report_format f, const uint8_t *buf, size_t len, const char *name)
{
	struct jw w = { .f = stdout };
	int rc;

	(void)name;
	switch (f) {
	case REPORT_FMT_SNP: rc = show_snp(&w, buf, len); break;
	case REPORT_FMT_TDX_QUOTE: rc = show_tdx_quote(&w, buf, len); break;
	case REPORT_FMT_TDREPORT: rc = show_tdreport(&w, buf, len); break;
	default: return EXIT_REPORT_MALFORMED;
	}
	if (rc == EXIT_OK && (fflush(stdout) || ferror(stdout))) {
		fprintf(stderr, "cvminit report show: cannot write the output\n");
		return EXIT_FAIL;
	}
	return rc;
}
