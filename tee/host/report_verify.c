/* `cvminit report verify`: signatures, certificate chains, the debug policy
 * and the expected values, with mbedtls. Order: structure (exit 3), then
 * every signature, binding and chain (exit 4), then policy and expectations
 * (exit 5): a report whose signature fails is never judged on its content.
 *
 * Certificate chains are checked link by link here rather than with
 * mbedtls_x509_crt_verify(): each link must name its issuer, the issuer must
 * be a CA allowed to sign certificates, the signature must use the expected
 * algorithm (RSASSA-PSS SHA-384 for AMD, ECDSA SHA-256 for Intel) and verify,
 * and every certificate must be valid at the checked instant (--time, else
 * now). This reads a few fields that mbedtls 3.6 marks private (signature
 * algorithm, CA flag); the dependency stack pins mbedtls 3.6. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include "tee/host/report.h"
#include "tee/host/report_policy.h"
#include "tee/host/roots.h"
#include "tee/host/verify_out.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"


static const char *mbed_err(int ret, char *buf, size_t n)
{
	mbedtls_strerror(ret, buf, n);
	return buf;
}

static void hexs(char *out, const uint8_t *p, size_t n)
{
	report_hex(out, p, n);
}

/* ---- small crypto helpers ------------------------------------------------- */

/* DER INTEGER from a big-endian unsigned value. */
static size_t der_int(uint8_t *out, const uint8_t *v, size_t n)
{
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	size_t pad = (v[0] & 0x80) ? 1 : 0;
	out[0] = 0x02;
	out[1] = (uint8_t)(n + pad);
	if (pad)
		out[2] = 0;
	memcpy(out + 2 + pad, v, n);
	return 2 + pad + n;
}

/* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } from two n-byte
 * big-endian values (n <= 66). out: at least 2 * (n + 3) + 3 bytes. */
static size_t ecdsa_der(uint8_t *out, const uint8_t *r, const uint8_t *s, size_t n)
{
	uint8_t tmp[2 * (66 + 3)];
	size_t l = der_int(tmp, r, n);

	l += der_int(tmp + l, s, n);
	out[0] = 0x30;
	if (l < 128) {
		out[1] = (uint8_t)l;
		memcpy(out + 2, tmp, l);
		return l + 2;
	}
	out[1] = 0x81;
	out[2] = (uint8_t)l;
	memcpy(out + 3, tmp, l);
	return l + 3;
}

static int ecdsa_verify(mbedtls_pk_context *pk, mbedtls_md_type_t md, const uint8_t *hash, size_t hlen,
			const uint8_t *r, const uint8_t *s, size_t n)
{
	uint8_t der[2 * (66 + 3) + 3];
	size_t dl = ecdsa_der(der, r, s, n);

	return mbedtls_pk_verify(pk, md, hash, hlen, der, dl);
}

static int is_ec_key(mbedtls_pk_context *pk, size_t bits)
{
	return mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY && mbedtls_pk_get_bitlen(pk) == bits;
}

/* ---- certificates --------------------------------------------------------- */

static int same_buf(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static int self_issued(const mbedtls_x509_crt *c)
{
	return same_buf(&c->issuer_raw, &c->subject_raw);
}

static const char *cert_cn(const mbedtls_x509_crt *c, char *out, size_t n)
{
	snprintf(out, n, "(certificate without CN)");
	for (const mbedtls_x509_name *nm = &c->subject; nm; nm = nm->next) {
		if (!nm->oid.p || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &nm->oid) != 0)
			continue;
		size_t l = nm->val.len < n - 1 ? nm->val.len : n - 1;
		for (size_t i = 0; i < l; i++) {
			unsigned char ch = nm->val.p[i];
			char shown = '?';
			if (ch >= 0x20 && ch < 0x7f)
				shown = (char)ch;
			out[i] = shown;
		}
		out[l] = '\0';
		break;
	}
	return out;
}

static int count_certs(const mbedtls_x509_crt *c)
{
	int n = 0;

	for (; c && c->raw.len; c = c->next)
		n++;
	return n;
}

/* Loads every certificate of a DER or PEM file into crt. */
static int load_certs(const char *path, const char *what, mbedtls_x509_crt *crt)
{
	uint8_t *buf;
	size_t len;
	char e[128];
	int ret;

	if (report_read_file(path, &buf, &len))
		return EXIT_FAIL;
	if (memmem(buf, len, "-----BEGIN", 10))
		ret = mbedtls_x509_crt_parse(crt, buf, len + 1); /* buf[len] is NUL */
	else
		ret = mbedtls_x509_crt_parse_der(crt, buf, len);
	free(buf);
	if (ret < 0)
		return verify_fail(EXIT_REPORT_MALFORMED, "%s %s: not a certificate: %s", what, path,
			    mbed_err(ret, e, sizeof(e)));
	if (ret > 0)
		return verify_fail(EXIT_REPORT_MALFORMED, "%s %s: %d certificate(s) could not be parsed", what, path, ret);
	if (!count_certs(crt))
		return verify_fail(EXIT_REPORT_MALFORMED, "%s %s: no certificate", what, path);
	return EXIT_OK;
}

/* The one self-signed certificate of a --root file (it may hold a chain). */
static int pick_root(mbedtls_x509_crt *list, const char *path, mbedtls_x509_crt **out)
{
	*out = NULL;
	for (mbedtls_x509_crt *c = list; c && c->raw.len; c = c->next) {
		if (!self_issued(c))
			continue;
		if (*out)
			return verify_fail(EXIT_REPORT_MALFORMED, "--root %s: more than one self-signed certificate", path);
		*out = c;
	}
	if (!*out)
		return verify_fail(EXIT_REPORT_MALFORMED, "--root %s: no self-signed (root) certificate", path);
	return EXIT_OK;
}

static int tcmp(const mbedtls_x509_time *a, const struct report_time *b)
{
	int x[6] = { a->year, a->mon, a->day, a->hour, a->min, a->sec };
	int y[6] = { b->year, b->mon, b->day, b->hour, b->min, b->sec };

	for (int i = 0; i < 6; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static const char *ttext(char *out, size_t n, int y, int mo, int d, int h, int mi, int s)
{
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
	return out;
}

static const char *xtime(char *out, size_t n, const mbedtls_x509_time *t)
{
	return ttext(out, n, t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

static const char *rtime(char *out, size_t n, const struct report_time *t)
{
	return ttext(out, n, t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

static int check_validity(const mbedtls_x509_crt *c, const struct verify_opts *o)
{
	char cn[96], t1[32], t2[32];

	if (tcmp(&c->valid_from, &o->at) > 0)
		return verify_fail(EXIT_REPORT_SIGNATURE, "certificate '%s' is not valid before %s (checked at %s)",
			    cert_cn(c, cn, sizeof(cn)), xtime(t1, sizeof(t1), &c->valid_from),
			    rtime(t2, sizeof(t2), &o->at));
	if (tcmp(&c->valid_to, &o->at) < 0)
		return verify_fail(EXIT_REPORT_SIGNATURE, "certificate '%s' expired at %s (checked at %s)",
			    cert_cn(c, cn, sizeof(cn)), xtime(t1, sizeof(t1), &c->valid_to),
			    rtime(t2, sizeof(t2), &o->at));
	return EXIT_OK;
}

struct chain_spec {
	mbedtls_pk_type_t sig_pk;
	mbedtls_md_type_t sig_md;
	const char *alg; /* for messages */
	int length;      /* required number of certificates, 0: any up to 5 */
	const char *vendor;     /* whose built-in roots end the chain */
	const char *roots_text; /* their names, for messages */
	int exact_pool;         /* every certificate offered must be on the path */
};

/* child is signed by parent: names chain, parent is a CA that may sign
 * certificates, the algorithm is the expected one, the signature verifies. */
static int check_link(mbedtls_x509_crt *child, mbedtls_x509_crt *parent, const struct chain_spec *spec)
{
	char cc[96], pc[96], e[128];
	unsigned char hash[MBEDTLS_MD_MAX_SIZE];

	cert_cn(child, cc, sizeof(cc));
	cert_cn(parent, pc, sizeof(pc));
	if (!same_buf(&child->issuer_raw, &parent->subject_raw))
		return verify_fail(EXIT_REPORT_SIGNATURE, "'%s' was not issued by '%s' (issuer and subject names differ)", cc,
			    pc);
	if (!mbedtls_x509_crt_has_ext_type(parent, MBEDTLS_X509_EXT_BASIC_CONSTRAINTS) ||
	    !parent->MBEDTLS_PRIVATE(ca_istrue))
		return verify_fail(EXIT_REPORT_SIGNATURE, "'%s' is not a CA certificate (basicConstraints)", pc);
	if (mbedtls_x509_crt_check_key_usage(parent, MBEDTLS_X509_KU_KEY_CERT_SIGN) != 0)
		return verify_fail(EXIT_REPORT_SIGNATURE, "'%s' may not sign certificates (keyUsage)", pc);
	if (child->MBEDTLS_PRIVATE(sig_pk) != spec->sig_pk || child->MBEDTLS_PRIVATE(sig_md) != spec->sig_md)
		return verify_fail(EXIT_REPORT_SIGNATURE, "'%s' is not signed with %s", cc, spec->alg);
	const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(spec->sig_md);
	if (!mi || mbedtls_md(mi, child->tbs.p, child->tbs.len, hash) != 0)
		return verify_fail(EXIT_REPORT_SIGNATURE, "cannot hash '%s'", cc);
	int ret = mbedtls_pk_verify_ext(child->MBEDTLS_PRIVATE(sig_pk), child->MBEDTLS_PRIVATE(sig_opts),
					&parent->pk, spec->sig_md, hash, mbedtls_md_get_size(mi),
					child->MBEDTLS_PRIVATE(sig).p, child->MBEDTLS_PRIVATE(sig).len);
	if (ret != 0)
		return verify_fail(EXIT_REPORT_SIGNATURE, "the signature of '%s' does not verify with the key of '%s' (%s)", cc,
			    pc, mbed_err(ret, e, sizeof(e)));
	return EXIT_OK;
}

static mbedtls_x509_crt *find_issuer(mbedtls_x509_crt *pool, const mbedtls_x509_crt *child)
{
	for (mbedtls_x509_crt *c = pool; c && c->raw.len; c = c->next)
		if (c != child && same_buf(&c->subject_raw, &child->issuer_raw))
			return c;
	return NULL;
}

/* leaf -> ... -> a self-signed root, issuers taken from pool (then root);
 * the root must be the pinned one when root is given. */
static int check_chain(mbedtls_x509_crt *leaf, mbedtls_x509_crt *pool, mbedtls_x509_crt *root,
		       const char *pool_name, const struct chain_spec *spec, const struct verify_opts *o)
{
	mbedtls_x509_crt *cur = leaf, *path[5];
	char cc[96], pc[96], t[32];
	int n = 0, rc;

	for (;;) {
		path[n++] = cur;
		if ((rc = check_validity(cur, o)))
			return rc;
		if (self_issued(cur)) {
			if ((rc = check_link(cur, cur, spec)))
				return rc;
			verify_ok(o, "'%s' is self-signed (%s)", cert_cn(cur, cc, sizeof(cc)), spec->alg);
			break;
		}
		if (n >= 5)
			return verify_fail(EXIT_REPORT_SIGNATURE, "certificate chain from '%s' is longer than 5",
				    cert_cn(leaf, cc, sizeof(cc)));
		mbedtls_x509_crt *parent = find_issuer(pool, cur);
		if (!parent && root && same_buf(&root->subject_raw, &cur->issuer_raw))
			parent = root;
		if (!parent)
			return verify_fail(EXIT_REPORT_SIGNATURE, "no certificate in %s issued '%s'", pool_name,
				    cert_cn(cur, cc, sizeof(cc)));
		if ((rc = check_link(cur, parent, spec)))
			return rc;
		verify_ok(o, "'%s' is signed by '%s' (%s)", cert_cn(cur, cc, sizeof(cc)), cert_cn(parent, pc, sizeof(pc)),
		   spec->alg);
		cur = parent;
	}
	/* Vendors' bundles carry more than one path needs (AMD's ASK + ARK +
	 * ASVK): there a certificate off the path decides nothing, so it is
	 * named and ignored; what decides is the pinned root the path ends in.
	 * A chain the evidence itself carries (the TDX quote's) must be exactly
	 * the path: a stray or altered copy there is an error. */
	for (mbedtls_x509_crt *c = pool; c && c->raw.len; c = c->next) {
		int used = 0;
		for (int i = 0; i < n; i++)
			used |= path[i] == c;
		if (used)
			continue;
		if (spec->exact_pool)
			return verify_fail(EXIT_REPORT_SIGNATURE, "certificate '%s' in %s is not part of the chain to '%s'",
				    cert_cn(c, cc, sizeof(cc)), pool_name, cert_cn(cur, pc, sizeof(pc)));
		verify_note(o, "certificate '%s' in %s is not on the path to '%s': ignored", cert_cn(c, cc, sizeof(cc)), pool_name,
		     cert_cn(cur, pc, sizeof(pc)));
	}
	if (spec->length && n != spec->length)
		return verify_fail(EXIT_REPORT_SIGNATURE, "the certificate chain has %d certificates, expected %d", n,
			    spec->length);
	if (root) {
		if (!same_buf(&cur->raw, &root->raw))
			return verify_fail(EXIT_REPORT_SIGNATURE, "the chain ends at '%s', which is not the --root certificate",
				    cert_cn(cur, cc, sizeof(cc)));
		verify_ok(o, "'%s' is the --root certificate", cert_cn(cur, cc, sizeof(cc)));
	} else {
		const struct trusted_root *tr = trusted_root_find(cur);
		if (!tr || strcmp(tr->vendor, spec->vendor))
			return verify_fail(EXIT_REPORT_SIGNATURE,
				    "the chain ends at '%s', which is not a built-in %s root of trust (%s); "
				    "--root names another root explicitly",
				    cert_cn(cur, cc, sizeof(cc)), spec->vendor, spec->roots_text);
		verify_ok(o, "'%s' is the built-in %s root %s (key pinned by SHA-256)", cert_cn(cur, cc, sizeof(cc)), tr->vendor,
		   tr->name);
	}
	verify_ok(o, "certificates valid at %s", rtime(t, sizeof(t), &o->at));
	return EXIT_OK;
}

/* ---- expectations --------------------------------------------------------- */

static int expect(const char *field, const uint8_t *got, const uint8_t *want, size_t n,
		  const struct verify_opts *o)
{
	char g[2 * 64 + 1], w[2 * 64 + 1];

	hexs(g, got, n);
	if (memcmp(got, want, n) != 0) {
		hexs(w, want, n);
		return verify_fail(EXIT_REPORT_POLICY, "expectation: %s is %s, expected %s", field, g, w);
	}
	verify_ok(o, "%s is the expected %s", field, g);
	return EXIT_OK;
}

/* extra: the report's field for each report_extra_defs entry, NULL when
 * this format has none (an expectation of it is then a usage error). */
static int check_expectations(const char *mname, const uint8_t *meas, const uint8_t (*rtmr)[48],
			      const uint8_t *rdata, const uint8_t *const extra[EXP__COUNT], const struct verify_opts *o)
{
	static const char *const rtmr_name[4] = { "RTMR0", "RTMR1", "RTMR2", "RTMR3" };
	int rc;

	if (o->has_measurement && (rc = expect(mname, meas, o->measurement, 48, o)))
		return rc;
	for (int i = 0; i < 4; i++)
		if (o->has_rtmr[i] && (rc = expect(rtmr_name[i], rtmr[i], o->rtmr[i], 48, o)))
			return rc;
	for (int i = 0; i < EXP__COUNT; i++) {
		const struct report_extra_def *d = &report_extra_defs[i];
		if (!o->has_extra[i])
			continue;
		if (!extra[i])
			return verify_fail(EXIT_USAGE, "%s (%s) is not a field of this report (%s)", d->flag, d->field,
					   d->tdx ? "TDX only" : "SEV-SNP only");
		if ((rc = expect(d->field, extra[i], o->extra[i], d->len, o)))
			return rc;
	}
	if (o->has_report_data && (rc = expect("REPORT_DATA", rdata, o->report_data, 64, o)))
		return rc;
	return EXIT_OK;
}

/* ---- SEV-SNP -------------------------------------------------------------- */

/* AMD's VCEK/VLEK extensions, 1.3.6.1.4.1.3704.1.x (AMD VCEK specification). */
struct amd_ext {
	int have_hwid;
	uint8_t hwid[64];
	size_t hwid_len;
	int have_spl[5]; /* bl, tee, snp, ucode, fmc */
	int spl[5];
};

static const uint8_t amd_oid_prefix[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01 };

static int amd_extensions(const mbedtls_x509_crt *c, struct amd_ext *e)
{
	unsigned char *p = c->v3_ext.p, *end;
	size_t len;

	memset(e, 0, sizeof(*e));
	if (!p || !c->v3_ext.len)
		return 0;
	end = p + c->v3_ext.len;
	if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return -1;
	end = p + len;
	while (p < end) {
		unsigned char *ext_end, *oid, *val;
		size_t olen, vlen;
		int crit;

		if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
			return -1;
		ext_end = p + len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &olen, MBEDTLS_ASN1_OID))
			return -1;
		oid = p;
		p += olen;
		int ret = mbedtls_asn1_get_bool(&p, ext_end, &crit);
		if (ret && ret != MBEDTLS_ERR_ASN1_UNEXPECTED_TAG)
			return -1;
		if (mbedtls_asn1_get_tag(&p, ext_end, &vlen, MBEDTLS_ASN1_OCTET_STRING))
			return -1;
		val = p;
		p = ext_end;
		if (olen <= sizeof(amd_oid_prefix) || memcmp(oid, amd_oid_prefix, sizeof(amd_oid_prefix)))
			continue;
		const unsigned char *rest = oid + sizeof(amd_oid_prefix);
		size_t rlen = olen - sizeof(amd_oid_prefix);
		if (rlen == 1 && rest[0] == 4) { /* hwID: the raw chip id */
			e->have_hwid = 1;
			e->hwid_len = vlen < sizeof(e->hwid) ? vlen : sizeof(e->hwid);
			memcpy(e->hwid, val, e->hwid_len);
		} else if (rlen == 2 && rest[0] == 3) {
			static const unsigned char which[5] = { 1, 2, 3, 8, 9 };
			for (int i = 0; i < 5; i++) {
				if (rest[1] != which[i])
					continue;
				unsigned char *vp = val;
				int v;
				if (mbedtls_asn1_get_int(&vp, val + vlen, &v))
					return -1;
				e->have_spl[i] = 1;
				e->spl[i] = v;
			}
		}
	}
	return 0;
}

static void tcb_text(char *out, size_t n, const struct snp_tcb *t)
{
	if (t->turin)
		snprintf(out, n, "fmc=%u bl=%u tee=%u snp=%u ucode=%u", t->fmc, t->boot_loader, t->tee, t->snp,
			 t->microcode);
	else
		snprintf(out, n, "bl=%u tee=%u snp=%u ucode=%u", t->boot_loader, t->tee, t->snp, t->microcode);
}

/* The VCEK is made for one chip and one TCB: both must be the report's. */
static int check_vcek_binding(const mbedtls_x509_crt *leaf, const struct snp_report *r, const char *kname,
			      const struct verify_opts *o)
{
	struct amd_ext e;
	const struct snp_tcb *t = &r->reported_tcb;
	char a[96], b[96];

	if (amd_extensions(leaf, &e))
		return verify_fail(EXIT_REPORT_MALFORMED, "the %s certificate's extensions cannot be parsed", kname);
	if (r->signing_key == SNP_SIGNING_KEY_VCEK && e.have_hwid) {
		if (r->mask_chip_key) {
			verify_note(o, "CHIP_ID is masked (MASK_CHIP_KEY): the VCEK's hwID is not compared");
		} else if (e.hwid_len == 0 || memcmp(e.hwid, r->chip_id, e.hwid_len) != 0) {
			return verify_fail(EXIT_REPORT_SIGNATURE, "the VCEK is for another chip: its hwID differs from the report's CHIP_ID");
		} else {
			verify_ok(o, "VCEK hwID is the report's CHIP_ID");
		}
	}
	int any = 0, bad = 0;
	const uint8_t want[5] = { t->boot_loader, t->tee, t->snp, t->microcode, t->fmc };
	for (int i = 0; i < 5; i++) {
		if (!e.have_spl[i])
			continue;
		any = 1;
		/* an fmcSPL only exists in the Turin layout */
		if ((i == 4 && !t->turin) || e.spl[i] != want[i])
			bad = 1;
	}
	if (!any) {
		verify_note(o, "the %s certificate carries no TCB extensions: REPORTED_TCB is not compared", kname);
		return EXIT_OK;
	}
	tcb_text(b, sizeof(b), t);
	if (bad) {
		snprintf(a, sizeof(a), "bl=%d tee=%d snp=%d ucode=%d%s", e.spl[0], e.spl[1], e.spl[2], e.spl[3],
			 e.have_spl[4] ? " fmc=set" : "");
		return verify_fail(EXIT_REPORT_SIGNATURE, "the %s certificate is for TCB %s, the report's REPORTED_TCB is %s",
			    kname, a, b);
	}
	verify_ok(o, "%s TCB extensions equal REPORTED_TCB (%s)", kname, b);
	return EXIT_OK;
}

static int verify_snp(const uint8_t *buf, size_t len, const struct verify_opts *o)
{
	struct snp_report r;
	char err[256], cn[96];
	uint8_t rbe[48], sbe[48], hash[64];
	mbedtls_x509_crt vcek, chain, root, *ark = NULL;
	int rc;

	if (snp_report_parse(buf, len, &r, err, sizeof(err)))
		return verify_fail(EXIT_REPORT_MALFORMED, "malformed SEV-SNP report: %s", err);
	if (r.signature_algo != SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return verify_fail(EXIT_REPORT_MALFORMED, "SIGNATURE_ALGO %u is not supported (1: ECDSA P-384 with SHA-384)",
			    r.signature_algo);
	if (r.signing_key == SNP_SIGNING_KEY_NONE)
		return verify_fail(EXIT_REPORT_SIGNATURE, "the report is not signed (SIGNING_KEY: none)");
	if (r.signing_key != SNP_SIGNING_KEY_VCEK && r.signing_key != SNP_SIGNING_KEY_VLEK)
		return verify_fail(EXIT_REPORT_MALFORMED, "SIGNING_KEY %u is reserved", r.signing_key);
	const char *kname = r.signing_key == SNP_SIGNING_KEY_VLEK ? "VLEK" : "VCEK";
	if (!o->quiet)
		printf("SEV-SNP report v%u (%s), signed by the %s\n", r.version, o->file, kname);

	mbedtls_x509_crt_init(&vcek);
	mbedtls_x509_crt_init(&chain);
	mbedtls_x509_crt_init(&root);
	if ((rc = load_certs(o->vcek, "--vcek", &vcek)) || (rc = load_certs(o->chain, "--chain", &chain)) ||
	    (o->root && ((rc = load_certs(o->root, "--root", &root)) || (rc = pick_root(&root, o->root, &ark)))))
		goto out;

	/* 1. the report signature */
	if (!is_ec_key(&vcek.pk, 384)) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE, "the --vcek certificate '%s' has no ECDSA P-384 key",
			  cert_cn(&vcek, cn, sizeof(cn)));
		goto out;
	}
	cert_cn(&vcek, cn, sizeof(cn));
	if (!strncmp(cn, "SEV-V", 5) && strcmp(cn + 4, kname)) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE, "the report is signed by a %s but --vcek is '%s'", kname, cn);
		goto out;
	}
	if (snp_report_signature_be(&r, rbe, sbe)) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE, "signature: r or s has non-zero bytes beyond the 48 of a P-384 value");
		goto out;
	}
	for (size_t i = SNP_REPORT_SIG_S_OFFSET + SNP_REPORT_SIG_FIELD; i < SNP_REPORT_SIZE; i++)
		if (buf[i]) {
			rc = verify_fail(EXIT_REPORT_SIGNATURE, "signature: reserved byte at offset 0x%zx is not zero", i);
			goto out;
		}
	mbedtls_sha512(buf, SNP_REPORT_SIGNED_SIZE, hash, 1);
	int ret = ecdsa_verify(&vcek.pk, MBEDTLS_MD_SHA384, hash, 48, rbe, sbe, 48);
	if (ret) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE, "the report signature does not verify with the %s key of '%s' (%s)",
			  kname, cn, mbed_err(ret, err, sizeof(err)));
		goto out;
	}
	verify_ok(o, "report signature: ECDSA P-384/SHA-384 over bytes 0x000-0x29F, %s '%s'", kname, cn);

	/* 2. the VCEK belongs to this chip and TCB; 3. VCEK -> ASK -> ARK */
	if ((rc = check_vcek_binding(&vcek, &r, kname, o)))
		goto out;
	struct chain_spec spec = { MBEDTLS_PK_RSASSA_PSS, MBEDTLS_MD_SHA384, "RSASSA-PSS SHA-384", 3, "AMD",
				    "ARK-Milan, ARK-Genoa, ARK-Turin", 0 };
	if ((rc = check_chain(&vcek, &chain, ark, "--chain", &spec, o)))
		goto out;

	/* 4. policy, 5. expectations */
	if ((rc = snp_policy_check(&r, o)))
		goto out;
	const uint8_t *const extra[EXP__COUNT] = { [EXP_HOST_DATA] = r.host_data, [EXP_ID_KEY_DIGEST] = r.id_key_digest,
						   [EXP_AUTHOR_KEY_DIGEST] = r.author_key_digest,
						   [EXP_FAMILY_ID] = r.family_id, [EXP_IMAGE_ID] = r.image_id };
	if ((rc = check_expectations("MEASUREMENT", r.measurement, NULL, r.report_data, extra, o)))
		goto out;
	if (r.trailing)
		verify_note(o, "%zu bytes after the report were ignored", r.trailing);
	if (!o->quiet)
		printf("verified\n");
	rc = EXIT_OK;
out:
	mbedtls_x509_crt_free(&vcek);
	mbedtls_x509_crt_free(&chain);
	mbedtls_x509_crt_free(&root);
	return rc;
}

/* ---- TDX quote ------------------------------------------------------------ */

/* SubjectPublicKeyInfo of a P-256 key, up to the uncompressed point's X||Y. */
static const uint8_t p256_spki_prefix[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
	0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};

/* The PCK certification data is not signed as a whole: only the DER of each
 * certificate is. Require it to be exactly the PEM of the parsed
 * certificates (whitespace and trailing NULs aside), so that no byte of the
 * quote can change without failing verification (text between or after the
 * PEM blocks, a non-canonical base64 encoding). */
static int pem_is_exact(const uint8_t *data, size_t n, const mbedtls_x509_crt *chain)
{
	/* whitespace-free forms: whitespace is removed from the data before comparing */
	static const char begin[] = "-----BEGINCERTIFICATE-----", end[] = "-----ENDCERTIFICATE-----";
	size_t cap = 1, sl = 0, cl = 0;
	int same = 0;

	for (const mbedtls_x509_crt *c = chain; c && c->raw.len; c = c->next)
		cap += 4 * ((c->raw.len + 2) / 3) + sizeof(begin) + sizeof(end);
	char *s = malloc(n + 1), *canon = malloc(cap);
	if (!s || !canon)
		goto out;
	while (n && data[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\n')
			s[sl++] = (char)data[i];
	for (const mbedtls_x509_crt *c = chain; c && c->raw.len; c = c->next) {
		size_t olen = 0;
		memcpy(canon + cl, begin, sizeof(begin) - 1);
		cl += sizeof(begin) - 1;
		if (mbedtls_base64_encode((unsigned char *)canon + cl, cap - cl, &olen, c->raw.p, c->raw.len))
			goto out;
		cl += olen;
		memcpy(canon + cl, end, sizeof(end) - 1);
		cl += sizeof(end) - 1;
	}
	same = sl == cl && memcmp(s, canon, sl) == 0;
out:
	free(s);
	free(canon);
	return same;
}

static int verify_tdx_quote(const uint8_t *buf, size_t len, const struct verify_opts *o)
{
	struct tdx_quote q;
	char err[256], cn[96];
	uint8_t hash[32], spki[sizeof(p256_spki_prefix) + 64];
	mbedtls_pk_context ak;
	mbedtls_x509_crt pck, root, *anchor = NULL;
	uint8_t *pem = NULL;
	int rc, ret;

	if (tdx_quote_parse(buf, len, &q, err, sizeof(err)))
		return verify_fail(EXIT_REPORT_MALFORMED, "malformed TDX quote: %s", err);
	if (!o->quiet)
		printf("TDX quote v%u, %s body (%s)\n", q.version, tdx_body_type_name(q.body_type), o->file);
	mbedtls_pk_init(&ak);
	mbedtls_x509_crt_init(&pck);
	mbedtls_x509_crt_init(&root);
	if (o->root && ((rc = load_certs(o->root, "--root", &root)) || (rc = pick_root(&root, o->root, &anchor))))
		goto out;

	/* 1. the quote signature by the attestation key */
	memcpy(spki, p256_spki_prefix, sizeof(p256_spki_prefix));
	memcpy(spki + sizeof(p256_spki_prefix), q.attest_key, 64);
	if ((ret = mbedtls_pk_parse_public_key(&ak, spki, sizeof(spki)))) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE, "the attestation key is not a P-256 public key (%s)",
			  mbed_err(ret, err, sizeof(err)));
		goto out;
	}
	mbedtls_sha256(buf, q.signed_len, hash, 0);
	if ((ret = ecdsa_verify(&ak, MBEDTLS_MD_SHA256, hash, 32, q.signature, q.signature + 32, 32))) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE, "the quote signature does not verify with the attestation key (%s)",
			  mbed_err(ret, err, sizeof(err)));
		goto out;
	}
	verify_ok(o, "quote signature: ECDSA P-256/SHA-256 over bytes 0-%zu (header and TD report), attestation key",
	   q.signed_len - 1);

	/* 2. the QE report, signed by the PCK certificate from the quote */
	if (!q.has_qe_report) {
		rc = verify_fail(EXIT_REPORT_MALFORMED,
			  "certification data type %u is not supported (6: QE report with the PCK certificate chain)",
			  q.cert_type);
		goto out;
	}
	if (q.pck_cert_type != TDX_CERT_TYPE_PCK_CHAIN) {
		rc = verify_fail(EXIT_REPORT_MALFORMED, "PCK certification data type %u is not supported (5: PEM chain)",
			  q.pck_cert_type);
		goto out;
	}
	if (!(pem = malloc((size_t)q.pck_cert_size + 1))) {
		rc = verify_fail(EXIT_FAIL, "out of memory");
		goto out;
	}
	memcpy(pem, q.pck_cert_data, q.pck_cert_size);
	pem[q.pck_cert_size] = '\0';
	ret = mbedtls_x509_crt_parse(&pck, pem, strlen((char *)pem) + 1);
	if (ret || !count_certs(&pck)) {
		rc = verify_fail(EXIT_REPORT_MALFORMED, "the PCK certificate chain in the quote cannot be parsed (%s)",
			  ret < 0 ? mbed_err(ret, err, sizeof(err)) : "not PEM certificates");
		goto out;
	}
	if (!pem_is_exact(q.pck_cert_data, q.pck_cert_size, &pck)) {
		rc = verify_fail(EXIT_REPORT_MALFORMED,
			  "the PCK certification data is not exactly a PEM certificate chain (stray or non-canonical bytes)");
		goto out;
	}
	cert_cn(&pck, cn, sizeof(cn));
	if (!is_ec_key(&pck.pk, 256)) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE, "the PCK certificate '%s' has no ECDSA P-256 key", cn);
		goto out;
	}
	mbedtls_sha256(q.qe_report_raw, SGX_REPORT_BODY_SIZE, hash, 0);
	if ((ret = ecdsa_verify(&pck.pk, MBEDTLS_MD_SHA256, hash, 32, q.qe_report_sig, q.qe_report_sig + 32, 32))) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE, "the QE report signature does not verify with the key of '%s' (%s)",
			  cn, mbed_err(ret, err, sizeof(err)));
		goto out;
	}
	verify_ok(o, "QE report signature: ECDSA P-256/SHA-256, '%s'", cn);

	/* 3. the QE report binds the attestation key */
	mbedtls_sha256_context sc;
	mbedtls_sha256_init(&sc);
	mbedtls_sha256_starts(&sc, 0);
	mbedtls_sha256_update(&sc, q.attest_key, 64);
	mbedtls_sha256_update(&sc, q.qe_auth, q.qe_auth_len);
	mbedtls_sha256_finish(&sc, hash);
	mbedtls_sha256_free(&sc);
	static const uint8_t zero[32];
	if (memcmp(hash, q.qe_report.report_data, 32) != 0 || memcmp(q.qe_report.report_data + 32, zero, 32) != 0) {
		rc = verify_fail(EXIT_REPORT_SIGNATURE,
			  "the QE report does not bind the attestation key: its REPORT_DATA is not SHA-256(attestation key || QE auth data) || 32 zero bytes");
		goto out;
	}
	verify_ok(o, "QE report REPORT_DATA = SHA-256(attestation key || QE auth data)");

	/* 4. PCK -> intermediate CA -> Intel root, pinned by --root */
	struct chain_spec spec = { MBEDTLS_PK_ECDSA, MBEDTLS_MD_SHA256, "ECDSA SHA-256", 0, "Intel", "Intel SGX Root CA", 1 };
	if ((rc = check_chain(&pck, &pck, anchor, "the quote's PCK chain", &spec, o)))
		goto out;
	verify_note(o, "not checked: TCB status, QE identity and revocation (Intel PCS collateral)");

	/* 5. policy, 6. expectations */
	if ((rc = tdx_policy_check(q.body.td_attributes, q.body.xfam, q.body.tee_tcb_svn, o)))
		goto out;
	const uint8_t *const extra[EXP__COUNT] = { [EXP_MRCONFIGID] = q.body.mr_config_id,
						   [EXP_MROWNER] = q.body.mr_owner };
	if ((rc = check_expectations("MRTD", q.body.mr_td, q.body.rtmr, q.body.report_data, extra, o)))
		goto out;
	if (q.trailing)
		verify_note(o, "%zu bytes after the quote were ignored", q.trailing);
	if (!o->quiet)
		printf("verified\n");
	rc = EXIT_OK;
out:
	free(pem);
	mbedtls_pk_free(&ak);
	mbedtls_x509_crt_free(&pck);
	mbedtls_x509_crt_free(&root);
	return rc;
}

/* ---- TDREPORT ------------------------------------------------------------- */

/* A TDREPORT is MACed with a key only the TDX module on the same platform
 * holds: off the platform only its internal hashes, the policy and the
 * expectations can be checked, and the verdict stays "not authenticated". */
static int verify_tdreport(const uint8_t *buf, size_t len, const struct verify_opts *o)
{
	struct tdx_tdreport t;
	char err[256];
	uint8_t hash[64];
	int rc;

	if (tdx_tdreport_parse(buf, len, &t, err, sizeof(err)))
		return verify_fail(EXIT_REPORT_MALFORMED, "malformed TDREPORT: %s", err);
	if (!o->quiet)
		printf("TDREPORT (%s)\n", o->file);
	if (o->root)
		verify_note(o, "--root is not used for a TDREPORT");
	mbedtls_sha512(t.tee_tcb_info_raw, TDX_TEE_TCB_INFO_SIZE, hash, 1);
	if (memcmp(hash, t.tee_tcb_info_hash, 48) != 0)
		return verify_fail(EXIT_REPORT_SIGNATURE, "TEE_TCB_INFO_HASH is not SHA-384 of TEE_TCB_INFO");
	mbedtls_sha512(t.tdinfo_raw, TDX_TDINFO_SIZE, hash, 1);
	if (memcmp(hash, t.tee_info_hash, 48) != 0)
		return verify_fail(EXIT_REPORT_SIGNATURE, "TEE_INFO_HASH is not SHA-384 of TDINFO");
	verify_ok(o, "TEE_TCB_INFO_HASH and TEE_INFO_HASH match their structures");
	if ((rc = tdx_policy_check(t.td_attributes, t.xfam, t.tee_tcb_svn, o)))
		return rc;
	const uint8_t *const extra[EXP__COUNT] = { [EXP_MRCONFIGID] = t.mr_config_id, [EXP_MROWNER] = t.mr_owner };
	if ((rc = check_expectations("MRTD", t.mr_td, t.rtmr, t.report_data, extra, o)))
		return rc;
	return verify_fail(EXIT_REPORT_SIGNATURE,
		    "a TDREPORT is not authenticated off its platform (its MAC key stays in the TDX module): verify a quote");
}

int report_verify(enum report_format f, const uint8_t *buf, size_t len, const struct verify_opts *o)
{
	switch (f) {
	case REPORT_FMT_SNP: return verify_snp(buf, len, o);
	case REPORT_FMT_TDX_QUOTE: return verify_tdx_quote(buf, len, o);
	case REPORT_FMT_TDREPORT: return verify_tdreport(buf, len, o);
	default: return verify_fail(EXIT_REPORT_MALFORMED, "unknown input format");
	}
}

int report_require_expectations(enum report_format f, const struct verify_opts *o, const char *who)
{
	for (int i = 0; i < EXP__COUNT; i++)
		if (o->has_extra[i] && report_extra_defs[i].tdx != (f != REPORT_FMT_SNP)) {
			fprintf(stderr, "%s: %s (%s) is for %s; this is a%s %s\n", who, report_extra_defs[i].flag,
				report_extra_defs[i].field, report_extra_defs[i].tdx ? "TDX" : "SEV-SNP",
				f == REPORT_FMT_SNP ? "n" : "", f == REPORT_FMT_SNP ? "SEV-SNP report" : "TDX report");
			return EXIT_USAGE;
		}
	if (f == REPORT_FMT_SNP) {
		if (o->has_measurement)
			return EXIT_OK;
		fprintf(stderr,
			"%s: no expected MEASUREMENT: any image on genuine hardware would pass. Give --measurements "
			"measurements.json with an snp object (cvminit measure ... --snp-ovmf OVMF.fd --vcpus N --vcpu-type "
			"NAME --kernel FILE predicts it) or --expect-measurement HEX, the launch measurement published for the "
			"image\n",
			who);
		return EXIT_USAGE;
	}
	if (o->has_measurement && o->has_rtmr[1] && o->has_rtmr[2])
		return EXIT_OK;
	fprintf(stderr,
		"%s: missing expected%s%s%s: MRTD covers only the firmware; under measured direct boot the kernel is in "
		"RTMR1 and the command line and initrd in RTMR2. Give --measurements measurements.json with a tdx object "
		"holding mrtd, rtmr1 and rtmr2 (cvminit measure predicts them) or --expect-measurement (MRTD), "
		"--expect-rtmr1 and --expect-rtmr2, the values published for the image\n",
		who, o->has_measurement ? "" : " MRTD", o->has_rtmr[1] ? "" : " RTMR1", o->has_rtmr[2] ? "" : " RTMR2");
	return EXIT_USAGE;
}
