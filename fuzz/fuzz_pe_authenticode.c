/* libFuzzer target: the PE/COFF Authenticode hasher of `cvminit measure tdx`
 * (pe_authenticode), SHA-256 and SHA-384, and the EFI-stub probe
 * (tdx_kernel_stub_cc). Every offset comes from the input: ASan catches a
 * read outside it; a refusal says why. */
// FUZZ_SRCS: crypto/host/pe_authenticode.c crypto/host/tdx_launch.c crypto/host/ovmf_table.c
// FUZZ_LIBS: -lmbedcrypto
// FUZZ_OPTS: -max_len=8192
#include "crypto/host/pe_authenticode.h"
#include "crypto/host/tdx_launch.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: reads past the end are caught */
	uint8_t *img = malloc(size ? size : 1), d[48];
	const char *why = NULL;

	if (!img)
		return 0;
	memcpy(img, data, size);
	if (pe_authenticode(img, size, MBEDTLS_MD_SHA384, d, &why) < 0)
		FUZZ_ASSERT(why && *why);
	why = NULL;
	if (pe_authenticode(img, size, MBEDTLS_MD_SHA256, d, &why) < 0)
		FUZZ_ASSERT(why && *why);
	(void)tdx_kernel_stub_cc(img, size);
	free(img);
	return 0;
}
