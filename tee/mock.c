/* Test builds only: a TEE that signs SNP-shaped reports with a test key
 * chain generated at test time, so the host tool verifies them as it would
 * verify a real one. Compiled out of release builds entirely. */
#ifdef CVMINIT_TEST_BUILD
#include <errno.h>
#include <stdio.h>
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

static int sign_report(struct boot_ctx *ctx, uint8_t *rep)
{
	mbedtls_pk_context pk;
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_mpi r, s;
	uint8_t hash[64], be[48];
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
	if (!mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECKEY) || mbedtls_pk_ec(pk)->MBEDTLS_PRIVATE(grp).id != MBEDTLS_ECP_DP_SECP384R1) {
		rc = log_fail(&ctx->log, -EINVAL, "mock TEE: %s is not a P-384 key", keypath);
		goto out;
	}
	mbedtls_sha512(rep, SNP_REPORT_SIGNED_SIZE, hash, 1);
	mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pk);
	rc = mbedtls_ecdsa_sign(&ec->MBEDTLS_PRIVATE(grp), &r, &s, &ec->MBEDTLS_PRIVATE(d), hash, 48,
				mbedtls_ctr_drbg_random, &drbg);
	if (rc != 0) {
		rc = log_fail(&ctx->log, -EIO, "mock TEE: signing failed (mbedtls -0x%x)", (unsigned)-rc);
		goto out;
	}
	/* The report stores r and s little-endian in 72-byte fields. */
	mbedtls_mpi_write_binary(&r, be, sizeof(be));
	for (int i = 0; i < 48; i++)
		rep[SNP_REPORT_SIG_R_OFFSET + i] = be[47 - i];
	mbedtls_mpi_write_binary(&s, be, sizeof(be));
	for (int i = 0; i < 48; i++)
		rep[SNP_REPORT_SIG_S_OFFSET + i] = be[47 - i];
	rc = 0;
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	mbedtls_pk_free(&pk);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
	return rc;
}

int mock_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out)
{
	uint8_t *rep = out->data;
	uint64_t policy = 0x30000ull; /* SMT allowed, reserved bit 17 */

	if (ctx->plan.mock.tee_debug)
		policy |= SNP_POLICY_DEBUG;
	memset(rep, 0, SNP_REPORT_SIZE);
	put_le32(rep + 0x00, 2);                                   /* version */
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
