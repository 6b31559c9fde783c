/* libFuzzer target: the GPT entry reader (gpt_partuuid in init/partitions.c)
 * on a memfd standing in for the disk.
 *
 * Input: 16 bytes of parameters, then the disk.
 *   byte 0      bit 0: 0 = structured, 1 = raw image;
 *               bits 1-2: logical block size 512, 4096, 520 (odd), 8192 (invalid)
 *   bytes 1-4   partition number (little endian; reduced to 0..255)
 *   bytes 5-12  start of the partition, 512-byte sectors (little endian)
 *   bytes 13-15 unused
 * Raw image: the rest is the disk from byte 0 (the seeds hold LBA 0-2 of a
 * real sgdisk disk: three entries). Structured: the next 512 bytes are
 * the header sector (written at LBA 1), the rest is the partition entry,
 * written where the header says the entry partn lives, when that is below
 * 1 MiB (else the read runs past the end of the disk). */
// FUZZ_SRCS: init/partitions.c init/partref.c init/config.c init/plan.c init/mountopts.c init/util.c init/log.c init/context.c
// FUZZ_OPTS: -max_len=4096
#include <ctype.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "init/partitions.h"

static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fd = memfd_create("fuzz-gpt", MFD_CLOEXEC);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	return 0;
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put(const uint8_t *p, size_t n, uint64_t off)
{
	if (n && pwrite(fd, p, n, (off_t)off) != (ssize_t)n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[4] = { 512, 4096, 520, 8192 };
	char uuid[40];

	if (size < 16)
		return 0;
	unsigned lbs = sizes[(data[0] >> 1) & 3];
	unsigned partn = (unsigned)(get_le(data + 1, 4) & 0xff);
	unsigned long long start = get_le(data + 5, 8);
	const uint8_t *disk = data + 16;
	size_t dlen = size - 16;

	if (ftruncate(fd, 0) < 0)
		abort();
	if (data[0] & 1) {
		put(disk, dlen, 0);
	} else {
		size_t hlen = dlen < 512 ? dlen : 512;
		put(disk, hlen, lbs);
		if (hlen == 512) {
			uint64_t lba = get_le(disk + 72, 8), esize = get_le(disk + 84, 4);
			if (lba < (1u << 20) && esize <= 4096 && partn > 0) {
				uint64_t off = lba * lbs + (uint64_t)(partn - 1) * esize;
				if (off < (1u << 20))
					put(disk + 512, dlen - 512, off);
			}
		}
	}
	memset(uuid, 0x5a, sizeof(uuid));
	int r = gpt_partuuid(fd, lbs, partn, start, uuid);
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -EIO || r == -ENOENT || r == -ESTALE);
	if (r == 0) {
		FUZZ_ASSERT(strlen(uuid) == 36);
		for (int i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				FUZZ_ASSERT(uuid[i] == '-');
			else
				FUZZ_ASSERT(isxdigit((unsigned char)uuid[i]) && !isupper((unsigned char)uuid[i]));
		}
	}
	return 0;
}
