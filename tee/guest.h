#ifndef CVMINIT_TEE_GUEST_H
#define CVMINIT_TEE_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"
#include "init/context.h"

/* Attestation reports and derived keys from inside the guest: configfs-tsm
 * first, then /dev/sev-guest or /dev/tdx_guest; the mock in test builds. */

#define TEE_REPORT_MAX 16384

struct tee_report {
	enum tee_kind kind;
	const char *provider;           /* "configfs-tsm", "sev-guest", "tdx-guest", "mock" */
	uint8_t data[TEE_REPORT_MAX];   /* SNP report, or TDX TDREPORT/quote */
	size_t len;
	uint8_t *certs;                 /* SNP certificate table when offered (malloc'd) */
	size_t certs_len;
};

void tee_report_free(struct tee_report *r);

/* SNP_GET_DERIVED_KEY parameters (SEV-SNP ABI MSG_KEY_REQ). */
struct snp_key_params {
	uint32_t root_key_select;   /* 0: VCEK, 1: VMRK */
	uint64_t guest_field_select; /* bit 0 policy, 1 image id, 2 family id, 3 measurement, 4 svn, 5 tcb */
	uint32_t vmpl;
	uint32_t guest_svn;
	uint64_t tcb_version;
};

int tee_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out);
/* 32 bytes from the SNP firmware (or the mock) into key. */
int tee_derived_key(struct boot_ctx *ctx, const struct snp_key_params *p, struct secret *key);

/* Providers (each logs its own failure reason). */
int tsm_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out);
int sev_guest_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out);
int sev_guest_derived_key(struct boot_ctx *ctx, const struct snp_key_params *p, struct secret *key);
int tdx_guest_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out);
#ifdef CVMINIT_TEST_BUILD
int mock_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out);
int mock_derived_key(struct boot_ctx *ctx, const struct snp_key_params *p, struct secret *key);
#endif

/* The guest's own report against the configuration: debug policy, migration
 * agent, VMPL (SNP); DEBUG attribute (TDX); and that it carries our
 * REPORT_DATA. Pure: 0, or -EPERM with a reason naming the field. */
int tee_check_own_report(const struct boot_plan *plan, enum tee_kind kind, const uint8_t *report, size_t len,
			 const uint8_t report_data[64], char *err, size_t errlen);

#endif
