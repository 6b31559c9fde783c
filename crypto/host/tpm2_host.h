#ifndef CVMINIT_TPM2_HOST_H
#define CVMINIT_TPM2_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/measure_events.h"
#include "crypto/tpm2.h"

/* Host-only TPM2 helpers (the host tool and the swtpm tests; never in the
 * init, which has the device TCTI alone). */

/* Opens a TPM named the way systemd-cryptenroll's --tpm2-device names it:
 *   /dev/tpmrm0, device:/dev/tpmrm0    the device TCTI
 *   swtpm:path=SOCKET                  swtpm's unix socket (control: SOCKET.ctrl)
 *   swtpm:host=HOST,port=PORT          swtpm over TCP (control: PORT+1)
 * The swtpm TCTI is linked in as a copy of tpm2-tss's object with its
 * Tss2_Tcti_Info made local (every static TCTI defines that symbol), so
 * both TCTIs live in one binary. 0 or -errno with err (see tpm2.h). */
int tpm2_open_spec(const char *spec, struct tpm2_ctx **out, char *err, size_t errlen);

/* What cvminit will measure for a configuration file and kernel command
 * line, with the release schema or the test build's (their canonical
 * configurations differ, so do their digests). */
struct tpm2_host_facts {
	unsigned pcr;                /* MEASURE_PCR */
	uint8_t config_digest[32];
	struct measure_events events;
	uint8_t mock_measurement[48]; /* test builds: the mock TEE's MEASUREMENT (tee/mock_measure.h) */
	int has_mock_measurement;
	uint8_t mock_rtmr1[48], mock_rtmr2[48]; /* test builds: the mock's TDX RTMR1/RTMR2 (tee/mock_measure.h) */
	char tee[8];                  /* the configuration's TEE: auto, snp, tdx (test builds also: mock) */
};
int tpm2_facts_release(const char *text, size_t len, const char *name, const char *cmdline,
		       struct tpm2_host_facts *out, char *err, size_t errlen);
int tpm2_facts_testbuild(const char *text, size_t len, const char *name, const char *cmdline,
			 struct tpm2_host_facts *out, char *err, size_t errlen);

#endif
