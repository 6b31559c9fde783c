/* libFuzzer target: the OVMF footer table and SEV metadata parser of
 * `cvminit measure snp` (snp_ovmf_parse) and the digest over what it
 * accepted (snp_ld_finish, every VMM, with and without kernel hashes). The
 * input is placed at the end of a zeroed image rounded up to 4 KiB, where
 * the footer table lives. Accepted tables stay inside the image and within
 * SNP_MAX_SECTIONS; a refusal always says why. */
// FUZZ_SRCS: crypto/host/snp_launch.c crypto/host/ovmf_table.c
// FUZZ_LIBS: -lmbedcrypto
// FUZZ_OPTS: -max_len=8192
#include <errno.h>

#include "crypto/host/snp_launch.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	size_t len = (size + SNP_PAGE - 1) / SNP_PAGE * SNP_PAGE;
	if (len == 0)
		len = SNP_PAGE;
	uint8_t *img = calloc(1, len);
	if (!img)
		return 0;
	memcpy(img + len - size, data, size);

	struct snp_ovmf o;
	const char *why = NULL;
	if (snp_ovmf_parse(img, len, 1ull << 32, &o, &why) < 0) {
		FUZZ_ASSERT(why && *why);
	} else {
		FUZZ_ASSERT(o.nsections <= SNP_MAX_SECTIONS);
		FUZZ_ASSERT(o.gpa == (1ull << 32) - len);
		struct snp_kernel_hashes h;
		memset(&h, 0x5a, sizeof(h));
		for (int vmm = SNP_VMM_QEMU; vmm <= SNP_VMM_GCE; vmm++)
			for (int k = 0; k < 2; k++) {
				struct snp_launch l = { .vcpus = 2, .vcpu_sig = 0x800f12, .guest_features = 1,
							.vmm = (enum snp_vmm)vmm, .hashes = k ? &h : NULL };
				uint8_t ld[SNP_LD_SIZE] = { 0 };
				why = NULL;
				if (snp_ld_finish(ld, &o, &l, &why) < 0)
					FUZZ_ASSERT(why && *why);
			}
	}
	free(img);
	return 0;
}
