/* Stage 8: the attestation report, bound to what was verified and measured:
 * REPORT_DATA = SHA-512 of the canonical evidence document. The report, the
 * document and any certificates are kept under /run/cvminit/attestation for
 * NVFlare (CCManager / SNPAuthorizer) and remote verifiers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "crypto/hash.h"
#include "init/stages.h"
#include "init/util.h"
#include "tee/evidence.h"
#include "tee/guest.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"

#define ATTEST_DIR "/run/cvminit/attestation"
#define EVENTLOG_PATH "/run/log/cvminit/tpm2-measure.log"

static int write_out(struct boot_ctx *ctx, const char *name, const void *data, size_t len)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), ATTEST_DIR "/%s", name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return log_fail(&ctx->log, -errno, "cannot write %s: %s", path, strerror(errno));
	r = fd_write_all(fd, data, len);
	close(fd);
	if (r < 0)
		return log_fail(&ctx->log, r, "cannot write %s: %s", path, strerror(-r));
	return 0;
}

/* The UUID of the header copy the luks stage checked and the root/jobstore
 * stages open: no second read of the host's bytes. */
static void luks_uuid_of(struct boot_ctx *ctx, enum part_role role, char *out, size_t len)
{
	const struct found_part *p = &ctx->parts[role];

	snprintf(out, len, "%s",
		 p->wanted && ctx->plan.vol[role].prot == PROT_LUKS && p->luks.valid ? p->luks.uuid : "none");
}

static void eventlog_digest(char hex[65])
{
	char *text = NULL;
	size_t len = 0;
	uint8_t d[32];

	if (read_file_max(EVENTLOG_PATH, 1 << 20, &text, &len) == 0 && hash_sha256(text, len, d) == 0)
		hex_encode(d, sizeof(d), hex, 65);
	else
		snprintf(hex, 65, "none");
	free(text);
}

static const uint8_t *measurement_of(const struct tee_report *rep, size_t *len)
{
	static struct snp_report snp;
	static struct tdx_tdreport td;
	static struct tdx_quote q;
	char why[128];

	if (rep->kind == TEE_SNP && snp_report_parse(rep->data, rep->len, &snp, why, sizeof(why)) == 0) {
		*len = sizeof(snp.measurement);
		return snp.measurement;
	}
	/* TDX: MRTD, from a quote or a TDREPORT */
	if (rep->kind == TEE_TDX && tdx_quote_parse(rep->data, rep->len, &q, why, sizeof(why)) == 0) {
		*len = sizeof(q.body.mr_td);
		return q.body.mr_td;
	}
	if (rep->kind == TEE_TDX && tdx_tdreport_parse(rep->data, rep->len, &td, why, sizeof(why)) == 0) {
		*len = sizeof(td.mr_td);
		return td.mr_td;
	}
	return NULL;
}

/* `Measurement: <base64>` on the console, and the report's facts in the log. */
static void print_measurement(struct boot_ctx *ctx, const struct tee_report *rep, const uint8_t report_data[64])
{
	size_t mlen = 0, olen = 0;
	const uint8_t *m = measurement_of(rep, &mlen);
	unsigned char b64[96];
	char line[128], rdhex[17];

	if (!m || mbedtls_base64_encode(b64, sizeof(b64), &olen, m, mlen) != 0)
		return;
	b64[olen] = '\0';
	snprintf(line, sizeof(line), "Measurement: %s\n", b64);
	log_console_raw(&ctx->log, line);
	hex_encode(report_data, 8, rdhex, sizeof(rdhex));
	log_line(&ctx->log, LOG_INFO, "%s report from %s (%zu bytes), REPORT_DATA sha512(evidence.json) %s...; launch measurement %s",
		 rep->kind == TEE_SNP ? "SNP" : "TDX", rep->provider, rep->len, rdhex, b64);
}

int stage_attest(struct boot_ctx *ctx)
{
	char config_hex[65], log_hex[65], root_uuid[64], jobs_uuid[64], doc[1024], err[300];
	uint8_t report_data[64];
	struct tee_report *rep;
	int n, r;

	if (ctx->tee == TEE_NONE) {
		/* stage_tee let this through only in a test build */
		log_line(&ctx->log, LOG_WARN, "no TEE: no attestation report");
		return 0;
	}
	hex_encode(ctx->config_digest, sizeof(ctx->config_digest), config_hex, sizeof(config_hex));
	eventlog_digest(log_hex);
	luks_uuid_of(ctx, ROLE_ROOT, root_uuid, sizeof(root_uuid));
	luks_uuid_of(ctx, ROLE_JOBS, jobs_uuid, sizeof(jobs_uuid));
	/* the root hashes in lower-case hex (the plan holds bytes), or "none" */
	char boot_rh[65] = "none", config_rh[65] = "none", data_rh[65] = "none";
	const struct vol_plan *boot = &ctx->plan.vol[PLAN_BOOT], *config = &ctx->plan.vol[PLAN_CONFIG];
	const struct vol_plan *data = &ctx->plan.vol[PLAN_DATA];
	if (ctx->parts[ROLE_BOOT].wanted && boot->prot == PROT_VERITY)
		hex_encode(boot->verity.roothash, sizeof(boot->verity.roothash), boot_rh, sizeof(boot_rh));
	if (config->prot == PROT_VERITY)
		hex_encode(config->verity.roothash, sizeof(config->verity.roothash), config_rh, sizeof(config_rh));
	if (data->prot == PROT_VERITY)
		hex_encode(data->verity.roothash, sizeof(data->verity.roothash), data_rh, sizeof(data_rh));
	struct evidence_inputs in = {
		.boot_roothash = boot_rh,
		.config_roothash = config_rh,
		.data_roothash = data_rh,
		.root_luks_uuid = root_uuid,
		.jobs_luks_uuid = jobs_uuid,
		.config_sha256 = config_hex,
		.eventlog_sha256 = log_hex,
		.nonce = ctx->plan.attest_nonce,
	};
	n = evidence_build(&in, doc, sizeof(doc));
	if (n < 0)
		return log_fail(&ctx->log, n, "cannot build the evidence document");
	if (mbedtls_sha512((const unsigned char *)doc, (size_t)n, report_data, 0) != 0)
		return log_fail(&ctx->log, -EIO, "SHA-512 failed");

	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return log_fail(&ctx->log, -ENOMEM, "out of memory");
	r = tee_get_report(ctx, report_data, rep);
	/* The line NVIDIA's CVM tooling reads from the console, printed as soon
	 * as the report exists (as theirs is): a boot that stops at the
	 * own-policy checks or any later stage still tells the operator which
	 * image it was. It is only information: nothing trusts the console. */
	if (r == 0)
		print_measurement(ctx, rep, report_data);
	if (r == 0 && tee_check_own_report(&ctx->plan, rep->kind, rep->data, rep->len, report_data, err, sizeof(err)) < 0)
		r = log_fail(&ctx->log, -EPERM, "%s", err);
	if (r == 0 && mkdir_p_nofollow(ATTEST_DIR, 0755) < 0)
		r = log_fail(&ctx->log, -errno, "cannot create " ATTEST_DIR);
	if (r == 0)
		r = write_out(ctx, "report.bin", rep->data, rep->len);
	if (r == 0)
		r = write_out(ctx, "evidence.json", doc, (size_t)n);
	if (r == 0) {
		memcpy(ctx->evidence, doc, (size_t)n);
		ctx->evidence_len = n;
	}
	if (r == 0 && rep->certs_len)
		r = write_out(ctx, "certs.bin", rep->certs, rep->certs_len);
	tee_report_free(rep);
	free(rep);
	return r;
}
