/* Stage luks: the LUKS2 header area of p3 and p5 read once, checked against
 * the header policy (crypto/luks_header.c) and kept as a copy on the tmpfs,
 * before any key is tried and before the attest stage puts the UUIDs into
 * the evidence. Everything later uses that copy (crypto/luks.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto/luks.h"
#include "init/stages.h"
#include "init/util.h"

#define COPY_DIR "/run/cvminit/luks"

static void policy_of(struct boot_ctx *ctx, struct luks_policy *pol)
{
	pol->ciphers = ctx->plan.luks.ciphers;
	pol->sector_size = ctx->plan.luks.sector_size;
	pol->data_offset = ctx->plan.luks.data_offset;
	pol->enforce = ctx->plan.luks.enforce;
}

static const char *label_of(enum part_role role)
{
	return role == ROLE_ROOT ? "root" : "jobs";
}

/* Reads, checks and (re)writes the copy of role's header: at boot, and after
 * a header change the init made itself (enrollment). */
static int load(struct boot_ctx *ctx, enum part_role role)
{
	struct found_part *p = &ctx->parts[role];
	struct luks_policy pol;
	char path[64], err[300];
	int r;

	policy_of(ctx, &pol);
	snprintf(path, sizeof(path), COPY_DIR "/cvm-%s.hdr", label_of(role));
	/* /run/cvminit stays 0755 (the attestation files under it are for
	 * NVFlare); only the copies' directory is 0700 */
	r = mkdir_p_nofollow("/run/cvminit", 0755);
	if (r == 0)
		r = mkdir_p_nofollow(COPY_DIR, 0700);
	if (r < 0)
		return log_fail(&ctx->log, r, "cannot create " COPY_DIR ": %s", strerror(-r));
#ifdef CVMINIT_TEST_BUILD
	if (!pol.enforce)
		log_line(&ctx->log, LOG_WARN, "%s: %s: LUKS2 header policy OFF (MOCK_LUKS_POLICY=off, TEST BUILD)",
			 label_of(role), p->dev);
#endif
	r = luks_header_load(p->dev, path, &pol, &p->luks, err, sizeof(err));
	if (r < 0)
		return log_fail(&ctx->log, r, "%s: %s: LUKS2 header refused: %s", label_of(role), p->dev, err);
	return 0;
}

int luks_copy_refresh(struct boot_ctx *ctx, enum part_role role)
{
	int r = load(ctx, role);

	if (r == 0)
		log_line(&ctx->log, LOG_INFO,
			 "%s: %s: LUKS2 header changed by this boot, read back and checked again (seqid %llu, keyslots 0x%x)",
			 label_of(role), ctx->parts[role].dev, (unsigned long long)ctx->parts[role].luks.seqid,
			 ctx->parts[role].luks.keyslots);
	return r;
}

void luks_copy_drop(struct boot_ctx *ctx, enum part_role role)
{
	/* the mapping holds the key now; the copy (as big as the header area)
	 * would only use RAM in the tmpfs */
	if (ctx->parts[role].luks.copy[0])
		unlink(ctx->parts[role].luks.copy);
	ctx->parts[role].luks.copy[0] = '\0';
}

int stage_luks(struct boot_ctx *ctx)
{
	static const struct {
		enum part_role role;
		enum plan_volume vol;
	} vols[] = { { ROLE_ROOT, PLAN_ROOT }, { ROLE_JOBS, PLAN_JOBS } };
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(vols) / sizeof(vols[0]); i++) {
		struct found_part *p = &ctx->parts[vols[i].role];
		if (!p->wanted || ctx->plan.vol[vols[i].vol].prot != PROT_LUKS)
			continue;
		int r = load(ctx, vols[i].role);
		if (r < 0)
			return r;
		log_line(&ctx->log, LOG_INFO, "%s: %s: LUKS2 header accepted (uuid %s, %s, %u-byte sectors, data at %llu)",
			 label_of(vols[i].role), p->dev, p->luks.uuid, p->luks.cipher, p->luks.sector_size,
			 (unsigned long long)p->luks.data_offset);
		n++;
	}
	if (!n)
		log_line(&ctx->log, LOG_INFO, "no LUKS2 volume configured");
	return 0;
}
