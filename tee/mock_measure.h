#ifndef CVMINIT_TEE_MOCK_MEASURE_H
#define CVMINIT_TEE_MOCK_MEASURE_H

/* The mock TEE's launch measurement (test builds and `cvminit measure
 * --test-build` only). A real SNP MEASUREMENT changes with the kernel, the
 * initramfs (so with the embedded configuration) and the command line; the
 * mock's must too, or a test could pass only because it is a constant:
 *
 *   MEASUREMENT = SHA-384(MOCK_MEASUREMENT_LABEL || 0x00
 *                         || SHA-256(the canonical configuration without its MOCK_* lines)
 *                         || the kernel command line, trailing blanks removed)
 *
 * The canonical configuration is the text the configuration digest hashes
 * (every key, "NAME=value\n", schema order, defaults included). The MOCK_*
 * keys are left out because they stand for the platform and the host (the
 * mock's signing key, its TCB, VMPL and debug policy, a power cut), which do
 * not change a real launch measurement either. The initramfs archive itself
 * is not covered: the init sees only its unpacked files.
 *
 * Inline so that it compiles against the caller's configuration schema (the
 * host tool includes it with the test build's, as tpm2_facts_tb.c does). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "init/config.h"

#define MOCK_MEASUREMENT_LABEL "cvminit mock SEV-SNP launch measurement"
#define MOCK_RTMR1_LABEL "cvminit mock TDX RTMR1: kernel and initrd"

static inline int mock_measurement_of(const struct cvm_config *cfg, const char *cmdline, uint8_t out[48])
{
	mbedtls_sha256_context c;
	mbedtls_sha512_context m;
	uint8_t digest[32], h[64];
	size_t n = strlen(cmdline);
	int r;

	while (n && (cmdline[n - 1] == '\n' || cmdline[n - 1] == ' ' || cmdline[n - 1] == '\t'))
		n--;
	mbedtls_sha256_init(&c);
	r = mbedtls_sha256_starts(&c, 0);
	for (int i = 0; r == 0 && i < CFG__COUNT; i++) {
		if (!strncmp(cfg_defs[i].name, "MOCK_", 5))
			continue;
		r = mbedtls_sha256_update(&c, (const unsigned char *)cfg_defs[i].name, strlen(cfg_defs[i].name));
		if (r == 0)
			r = mbedtls_sha256_update(&c, (const unsigned char *)"=", 1);
		if (r == 0)
			r = mbedtls_sha256_update(&c, (const unsigned char *)cfg->val[i], strlen(cfg->val[i]));
		if (r == 0)
			r = mbedtls_sha256_update(&c, (const unsigned char *)"\n", 1);
	}
	if (r == 0)
		r = mbedtls_sha256_finish(&c, digest);
	mbedtls_sha256_free(&c);
	mbedtls_sha512_init(&m);
	if (r == 0)
		r = mbedtls_sha512_starts(&m, 1 /* SHA-384 */);
	if (r == 0)
		r = mbedtls_sha512_update(&m, (const unsigned char *)MOCK_MEASUREMENT_LABEL, sizeof(MOCK_MEASUREMENT_LABEL));
	if (r == 0)
		r = mbedtls_sha512_update(&m, digest, sizeof(digest));
	if (r == 0)
		r = mbedtls_sha512_update(&m, (const unsigned char *)cmdline, n);
	if (r == 0)
		r = mbedtls_sha512_finish(&m, h);
	mbedtls_sha512_free(&m);
	if (r == 0)
		memcpy(out, h, 48);
	return r == 0 ? 0 : -EIO;
}

/* The mock as a TDX guest (MOCK_TEE_KIND=tdx): MRTD is the MEASUREMENT
 * above; the RTMRs are extended as TDVF extends them (RTMR = SHA-384(RTMR ||
 * SHA-384(event)), from 48 zero bytes), one event each, so a test predicts
 * them and a changed command line changes RTMR2 as it does on real TDX:
 *
 *   RTMR1 = extend(0, MOCK_RTMR1_LABEL)        (stands for kernel and initrd)
 *   RTMR2 = extend(0, the kernel command line, trailing blanks removed)
 *   RTMR0 = RTMR3 = 48 zero bytes */
static inline int mock_rtmr_extend(uint8_t rtmr[48], const void *event, size_t len)
{
	uint8_t d[64], h[64];
	mbedtls_sha512_context m;
	int r;

	r = mbedtls_sha512(event, len, d, 1);
	mbedtls_sha512_init(&m);
	if (r == 0)
		r = mbedtls_sha512_starts(&m, 1);
	if (r == 0)
		r = mbedtls_sha512_update(&m, rtmr, 48);
	if (r == 0)
		r = mbedtls_sha512_update(&m, d, 48);
	if (r == 0)
		r = mbedtls_sha512_finish(&m, h);
	mbedtls_sha512_free(&m);
	if (r == 0)
		memcpy(rtmr, h, 48);
	return r == 0 ? 0 : -EIO;
}

static inline int mock_tdx_rtmrs_of(const char *cmdline, uint8_t rtmr1[48], uint8_t rtmr2[48])
{
	size_t n = strlen(cmdline);

	while (n && (cmdline[n - 1] == '\n' || cmdline[n - 1] == ' ' || cmdline[n - 1] == '\t'))
		n--;
	memset(rtmr1, 0, 48);
	memset(rtmr2, 0, 48);
	if (mock_rtmr_extend(rtmr1, MOCK_RTMR1_LABEL, sizeof(MOCK_RTMR1_LABEL) - 1) < 0)
		return -EIO;
	return mock_rtmr_extend(rtmr2, cmdline, n);
}

#endif
