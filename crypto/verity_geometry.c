#include "crypto/verity_geometry.h"

#include <errno.h>
#include <stdio.h>

#define VERITY_DATA_BLOCK 4096ull

int verity_geometry_check(const struct verity_geometry *g, char *err, size_t errlen)
{
	uint64_t covered = g->sb_blocks <= UINT64_MAX / VERITY_DATA_BLOCK ? g->sb_blocks * VERITY_DATA_BLOCK : UINT64_MAX;

	if (covered != g->want) {
		snprintf(err, errlen, "%s: the dm-verity superblock on %s covers %llu bytes of data but %s=%llu", g->label,
			 g->hashdev, (unsigned long long)covered, g->key, (unsigned long long)g->want);
		return -EINVAL;
	}
	if (g->part_bytes < g->want) {
		snprintf(err, errlen, "%s: %s is %llu bytes, shorter than %s=%llu", g->label, g->datadev,
			 (unsigned long long)g->part_bytes, g->key, (unsigned long long)g->want);
		return -EINVAL;
	}
	return 0;
}
