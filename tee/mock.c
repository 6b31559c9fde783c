/* Test builds only: a TEE that signs SNP-shaped reports (or, with
 * MOCK_TEE_KIND=tdx, TDX quotes) with a test key chain generated at test
 * time, so the host tool verifies them as it would verify a real one.
 * Compiled out of release builds entirely. */
#ifdef CVMINIT_TEST_BUILD
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "crypto/snp_params.h"
#include "init/util.h"
#include "tee/guest.h"
#include "tee/mock_measure.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The mock's launch measurement: it changes with the configuration and
 * the kernel command line as a real one does (tee/mock_measure.h says
 * exactly what it covers; `cvminit measure --test-build` predicts it). */
static int mock_measurement(struct boot_ctx *ctx, uint8_t out[48])
{
	char path[128], cmdline[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cmdline", ctx->procfs);
	n = read_small_file(path, cmdline, sizeof(cmdline));
	if (n < 0)
		return log_fail(&ctx->log, (int)n, "mock TEE: cannot read %s: %s", path, strerror((int)-n));
	if (mock_measurement_of(&ctx->cfg, cmdline, out) < 0)
		return log_fail(&ctx->log, -EIO, "mock TEE: hashing the measurement failed");
	return 0;
}

/* MOCK_TEE_TCB: the TCB the mock reports and has committed. */
static uint64_t mock_tcb(struct boot_ctx *ctx)
{
	return ctx->plan.mock.tee_tcb;
}

/* ECDSA with MOCK_TEE_KEY over data: P-384/SHA-384 (the VCEK, SNP) or
 * P-256/SHA-256 (the attestation key, TDX); r and s big-endian, n bytes each. */
static int mock_sign(struct boot_ctx *ctx, mbedtls_ecp_group_id curve, const uint8_t *data, size_t len, uint8_t *r_be,
		     uint8_t *s_be, size_t n)
{
	mbedtls_pk_context pk;
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_mpi r, s;
	uint8_t hash[64];
	const char *keypath = ctx->plan.mock.tee_key;
	int rc;

	mbedtls_pk_init(&pk);
	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, (const unsigned char *)"cvminit-mock", 12);
	if (rc == 0)
		rc = mbedtls_pk_parse_keyfile(&pk, keypath, NULL, mbedtls_ctr_drbg_random, &drbg);
	if (rc != 0) {
		rc = log_fail(&ctx->log, -EINVAL, "mock TEE: cannot load its signing key %s (mbedtls -0x%x)", keypath,
			      (unsigned)-rc);
		goto out;
	}
	if (!mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECKEY) || mbedtls_pk_ec(pk)->MBEDTLS_PRIVATE(grp).id != curve) {
		rc = log_fail(&ctx->log, -EINVAL, "mock TEE: %s is not a %s key", keypath,
			      curve == MBEDTLS_ECP_DP_SECP384R1 ? "P-384" : "P-256");
		goto out;
	}
	if (curve == MBEDTLS_ECP_DP_SECP384R1)
		rc = mbedtls_sha512(data, len, hash, 1);
	else
		rc = mbedtls_sha256(data, len, hash, 0);
	mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pk);
	if (rc == 0)
		rc = mbedtls_ecdsa_sign(&ec->MBEDTLS_PRIVATE(grp), &r, &s, &ec->MBEDTLS_PRIVATE(d), hash, n,
					mbedtls_ctr_drbg_random, &drbg);
	if (rc == 0)
		rc = mbedtls_mpi_write_binary(&r, r_be, n);
	if (rc == 0)
		rc = mbedtls_mpi_write_binary(&s, s_be, n);
	if (rc != 0) {
		rc = log_fail(&ctx->log, -EIO, "mock TEE: signing failed (mbedtls -0x%x)", (unsigned)-rc);
		goto out;
	}
	rc = 0;
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_pk_free(&pk);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
	return rc;
}

static int sign_report(struct boot_ctx *ctx, uint8_t *rep)
{
	uint8_t r[48] = { 0 }, s[48] = { 0 };
	int rc = mock_sign(ctx, MBEDTLS_ECP_DP_SECP384R1, rep, SNP_REPORT_SIGNED_SIZE, r, s, 48);

	if (rc < 0)
		return rc;
	/* The report stores r and s little-endian in 72-byte fields. */
	for (int i = 0; i < 48; i++) {
		rep[SNP_REPORT_SIG_R_OFFSET + i] = r[47 - i];
		rep[SNP_REPORT_SIG_S_OFFSET + i] = s[47 - i];
	}
	return 0;
}

/* The mock as a TDX guest: a quote v4 (header, TD 1.0 report body, then the
 * signature data). The guest only signs header and body with the test
 * attestation key; what follows the signature (the attestation public key
 * and certification data type 6: a QE report that binds it, signed by the
 * test PCK key, and the PCK -> CA -> root chain) was made on the host by
 * qemu-tests/mock-tdx-chain.sh and comes in as MOCK_TEE_TDX_CERTS. */
#define Q_BODY TDX_QUOTE_HEADER_SIZE
static int mock_tdx_quote(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out)
{
	static const uint8_t intel_qe_vendor[16] = { 0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
						     0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07 };
	uint8_t *q = out->data;
	const size_t signed_len = TDX_QUOTE_HEADER_SIZE + TDX_TD10_BODY_SIZE;
	char path[128], cmdline[4096];
	char *tail = NULL;
	size_t tail_len = 0;
	uint64_t attr = TDX_ATTR_SEPT_VE_DISABLE;
	ssize_t n;
	int r;

	if (ctx->plan.mock.tee_debug)
		attr |= TDX_ATTR_DEBUG;
	memset(q, 0, signed_len);
	q[0] = 4;                            /* version */
	q[2] = TDX_ATT_KEY_ECDSA_P256;       /* attestation key type */
	q[4] = TDX_TEE_TYPE_TDX;             /* TEE type */
	memcpy(q + 12, intel_qe_vendor, 16); /* QE vendor id */
	/* TD report body (TD 1.0): offsets inside the body */
	q[Q_BODY + 0] = 3;                   /* TEE_TCB_SVN */
	memset(q + Q_BODY + 16, 0x5a, 48);   /* MRSEAM: a constant for the mock's "TDX module" */
	put_le64(q + Q_BODY + 120, attr);    /* TD_ATTRIBUTES */
	put_le64(q + Q_BODY + 128, 0x602e7); /* XFAM: x87, SSE, AVX, AVX-512, PK, AMX as a common TD has */
	snprintf(path, sizeof(path), "%s/cmdline", ctx->procfs);
	n = read_small_file(path, cmdline, sizeof(cmdline));
	if (n < 0)
		return log_fail(&ctx->log, (int)n, "mock TEE: cannot read %s: %s", path, strerror((int)-n));
	r = mock_measurement(ctx, q + Q_BODY + 136); /* MRTD */
	if (r < 0)
		return r;
	/* RTMR0 at 328 and RTMR3 at 472 stay zero */
	if (mock_tdx_rtmrs_of(cmdline, q + Q_BODY + 376, q + Q_BODY + 424) < 0)
		return log_fail(&ctx->log, -EIO, "mock TEE: hashing the RTMRs failed");
	memcpy(q + Q_BODY + 520, report_data, 64); /* REPORT_DATA */

	const char *tpath = cfg_str(&ctx->cfg, CFG_MOCK_TEE_TDX_CERTS);
	r = read_file_max(tpath, TEE_REPORT_MAX, &tail, &tail_len);
	if (r < 0)
		return log_fail(&ctx->log, r, "mock TEE: cannot read the quote's certification data %s: %s", tpath,
				strerror(-r));
	if (signed_len + 4 + 64 + tail_len > TEE_REPORT_MAX) {
		free(tail);
		return log_fail(&ctx->log, -E2BIG, "mock TEE: %s is too large for a quote", tpath);
	}
	put_le32(q + signed_len, (uint32_t)(64 + tail_len)); /* signature data length */
	memcpy(q + signed_len + 4 + 64, tail, tail_len);
	free(tail);
	r = mock_sign(ctx, MBEDTLS_ECP_DP_SECP256R1, q, signed_len, q + signed_len + 4, q + signed_len + 4 + 32, 32);
	if (r < 0)
		return r;
	out->len = signed_len + 4 + 64 + tail_len;
	out->kind = TEE_TDX;
	out->provider = "mock";
	return 0;
}

int mock_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out)
{
	uint8_t *rep = out->data;
	uint64_t policy = 0x30000ull; /* SMT allowed, reserved bit 17 */

	if (cfg_is(&ctx->cfg, CFG_MOCK_TEE_KIND, "tdx"))
		return mock_tdx_quote(ctx, report_data, out);
	if (ctx->plan.mock.tee_debug)
		policy |= SNP_POLICY_DEBUG;
	memset(rep, 0, SNP_REPORT_SIZE);
	/* version 3, as current firmware writes and Trustee's verifier requires
	 * (3 to 5): CPUID family/model/stepping of a Genoa part */
	put_le32(rep + 0x00, 3);                                   /* version */
	put_le64(rep + 0x08, policy);                              /* policy */
	put_le32(rep + 0x30, ctx->plan.mock.tee_vmpl);           /* vmpl */
	put_le32(rep + 0x34, SNP_SIG_ALGO_ECDSA_P384_SHA384);
	memcpy(rep + 0x50, report_data, 64);
	int r = mock_measurement(ctx, rep + 0x90);
	if (r < 0)
		return r;
	/* current, reported, committed and launch TCB: one firmware, no update pending */
	put_le64(rep + 0x38, mock_tcb(ctx));
	put_le64(rep + 0x180, mock_tcb(ctx));
	put_le64(rep + 0x1E0, mock_tcb(ctx));
	put_le64(rep + 0x1F0, mock_tcb(ctx));
	rep[0x188] = 0x19; /* cpuid_fam_id */
	rep[0x189] = 0x11; /* cpuid_mod_id */
	rep[0x18A] = 0x01; /* cpuid_step */
	memset(rep + 0x1A0, 0x5a, 64); /* chip id */
	r = sign_report(ctx, rep);
	if (r < 0)
		return r;
	out->len = SNP_REPORT_SIZE;
	out->kind = TEE_SNP;
	out->provider = "mock";
	return 0;
}

/* Bound to the parameters and to the mock's measurement and policy, like the
 * firmware's key: a different choice gives a different key. Like the
 * firmware, it refuses a TCB_VERSION above its committed TCB (MOCK_TEE_TCB):
 * -EKEYREJECTED, logged by the caller, which knows the configuration key. */
int mock_derived_key(struct boot_ctx *ctx, const struct snp_key_params *p, struct secret *key)
{
	uint8_t msg[64 + 48 + 8];
	uint8_t root[32];
	static const char root_label[] = "cvminit mock VCEK root key (TEST ONLY)";

	if (!snp_tcb_covers(mock_tcb(ctx), p->tcb_version)) {
		log_line(&ctx->log, LOG_DEBUG, "mock TEE: MSG_KEY_REQ TCB_VERSION %016llx above the committed TCB %016llx: "
			 "status 0x%x", (unsigned long long)p->tcb_version, (unsigned long long)mock_tcb(ctx),
			 SNP_KEY_STATUS_INVALID_PARAM);
		return -EKEYREJECTED;
	}
	mbedtls_sha256((const unsigned char *)root_label, sizeof(root_label) - 1, root, 0);
	memset(msg, 0, sizeof(msg));
	put_le32(msg, p->root_key_select);
	put_le64(msg + 4, p->guest_field_select);
	put_le32(msg + 12, p->vmpl);
	put_le32(msg + 16, p->guest_svn);
	put_le64(msg + 20, p->tcb_version);
	if ((p->guest_field_select & SNP_FIELD_MEASUREMENT) && mock_measurement(ctx, msg + 64) < 0)
		return -EIO;
	if (p->guest_field_select & SNP_FIELD_POLICY)
		put_le64(msg + 112, ctx->plan.mock.tee_debug ? 0x30000ull | SNP_POLICY_DEBUG : 0x30000ull);
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	if (mbedtls_md_hmac(md, root, sizeof(root), msg, sizeof(msg), key->data) != 0)
		return log_fail(&ctx->log, -EIO, "mock TEE: key derivation failed");
	key->len = 32;
	explicit_bzero(root, sizeof(root));
	return 0;
}
#endif
