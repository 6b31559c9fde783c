/* Host-side TPM opener: the device TCTI (tpm2.c) or swtpm's TCTI. */
#include "crypto/host/tpm2_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tcti.h>

/* tss2_tcti_swtpm.h's one function: the header is only in the swtpm stack's
 * include directory, the host tool compiles against the release one. */
TSS2_RC Tss2_Tcti_Swtpm_Init(TSS2_TCTI_CONTEXT *tctiContext, size_t *size, const char *conf);

static int open_swtpm(const char *conf, struct tpm2_ctx **out, char *err, size_t errlen)
{
	TSS2_TCTI_CONTEXT *tcti;
	size_t size = 0;
	TSS2_RC rc;

	tpm2_quiet_tss();
	rc = Tss2_Tcti_Swtpm_Init(NULL, &size, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(err, errlen, "swtpm TCTI: %s", Tss2_RC_Decode(rc));
		return -EIO;
	}
	tcti = calloc(1, size);
	if (!tcti) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = Tss2_Tcti_Swtpm_Init(tcti, &size, conf);
	if (rc != TSS2_RC_SUCCESS) {
		free(tcti);
		snprintf(err, errlen, "cannot reach swtpm at '%s': %s", conf, Tss2_RC_Decode(rc));
		return -ENODEV;
	}
	return tpm2_open_tcti(tcti, out, err, errlen);
}

int tpm2_open_spec(const char *spec, struct tpm2_ctx **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!strncmp(spec, "swtpm:", 6))
		return open_swtpm(spec + 6, out, err, errlen);
	if (!strncmp(spec, "device:", 7))
		return tpm2_open_device(spec + 7, out, err, errlen);
	if (spec[0] == '/')
		return tpm2_open_device(spec, out, err, errlen);
	snprintf(err, errlen, "'%s': a TPM is /dev/tpmrm0, device:PATH or swtpm:path=SOCKET", spec);
	return -EINVAL;
}
