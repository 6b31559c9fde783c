#include "init/partitions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "init/util.h"

const struct role_def role_defs[ROLE__COUNT] = {
	[ROLE_BOOT] = { "boot", PLAN_BOOT },
	[ROLE_ROOT] = { "root", PLAN_ROOT },
	[ROLE_CONFIG] = { "config", PLAN_CONFIG },
	[ROLE_JOBS] = { "jobs", PLAN_JOBS },
	[ROLE_DATA] = { "data", PLAN_DATA },
	[ROLE_BOOT_HASH] = { "boot hash", PLAN_BOOT },
	[ROLE_CONFIG_HASH] = { "config hash", PLAN_CONFIG },
	[ROLE_DATA_HASH] = { "data hash", PLAN_DATA },
};

static int read_attr(const char *sysfs, const char *name, const char *attr, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/class/block/%s/%s", sysfs, name, attr);
	ssize_t n = read_small_file(path, buf, len);
	if (n < 0)
		return (int)n;
	rstrip(buf);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct part_entry *)a)->name, ((const struct part_entry *)b)->name);
}

int partitions_scan(const char *sysfs, struct part_entry *out, int max)
{
	char path[256], buf[1024], link[512];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/class/block", sysfs);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL && n < max) {
		struct part_entry *e = &out[n];
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(e->name))
			continue;
		if (read_attr(sysfs, de->d_name, "partition", buf, sizeof(buf)) < 0)
			continue; /* whole disks have no "partition" attribute */
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", de->d_name);
		e->partn = (unsigned)strtoul(buf, NULL, 10);
		if (read_attr(sysfs, de->d_name, "start", buf, sizeof(buf)) == 0)
			e->start = strtoull(buf, NULL, 10);
		if (read_attr(sysfs, de->d_name, "uevent", buf, sizeof(buf)) == 0) {
			for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
				if (!strncmp(line, "PARTNAME=", 9))
					snprintf(e->label, sizeof(e->label), "%s", line + 9);
		}
		/* The parent directory of the partition's device directory is its disk. */
		snprintf(path, sizeof(path), "%s/class/block/%s", sysfs, de->d_name);
		ssize_t l = readlink(path, link, sizeof(link) - 1);
		if (l > 0) {
			link[l] = '\0';
			char *slash = strrchr(link, '/');
			if (slash) {
				*slash = '\0';
				char *parent = strrchr(link, '/');
				snprintf(e->disk, sizeof(e->disk), "%s", parent ? parent + 1 : link);
			}
		}
		n++;
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof(out[0]), cmp_entry);
	return n;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

int gpt_partuuid(int fd, unsigned lbs, unsigned partn, unsigned long long start, char uuid[40])
{
	uint8_t hdr[512], ent[512];

	if (lbs < 512 || lbs > 4096 || partn == 0)
		return -EINVAL;
	if (pread(fd, hdr, sizeof(hdr), (off_t)lbs) != (ssize_t)sizeof(hdr))
		return -EIO;
	if (memcmp(hdr, "EFI PART", 8) != 0)
		return -ENOENT;
	uint64_t entries_lba = le64(hdr + 72);
	uint32_t count = le32(hdr + 80), esize = le32(hdr + 84);
	if (partn > count || esize < 128 || esize > sizeof(ent) || esize % 8)
		return -EINVAL;
	off_t off = (off_t)(entries_lba * lbs + (uint64_t)(partn - 1) * esize);
	if (pread(fd, ent, esize, off) != (ssize_t)esize)
		return -EIO;
	/* The entry must be the one the kernel made this partition from. */
	if (le64(ent + 32) * (lbs / 512) != start)
		return -ESTALE;
	const uint8_t *g = ent + 16;
	snprintf(uuid, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2],
		 g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
	return 0;
}

void partitions_read_uuids(const char *sysfs, const char *devfs, struct part_entry *e, int n)
{
	for (int i = 0; i < n; i++) {
		char path[128], buf[32];
		unsigned lbs = 512;
		if (!e[i].disk[0])
			continue;
		if (read_attr(sysfs, e[i].disk, "queue/logical_block_size", buf, sizeof(buf)) == 0)
			lbs = (unsigned)strtoul(buf, NULL, 10);
		snprintf(path, sizeof(path), "%s/%s", devfs, e[i].disk);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (gpt_partuuid(fd, lbs, e[i].partn, e[i].start, e[i].uuid) < 0)
			e[i].uuid[0] = '\0';
		close(fd);
	}
}

int partitions_match(const struct part_entry *e, int n, const struct partref *ref)
{
	int found = -ENOENT;

	for (int i = 0; i < n; i++) {
		const char *v = ref->kind == PREF_LABEL ? e[i].label : e[i].uuid;
		if (ref->kind == PREF_NONE || strcmp(v, ref->value) != 0)
			continue;
		if (found >= 0)
			return -EEXIST;
		found = i;
	}
	return found;
}

void partitions_describe(const struct part_entry *e, int n, char *buf, size_t len)
{
	size_t used = 0;

	if (n == 0) {
		snprintf(buf, len, "no partitions");
		return;
	}
	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s (%s)", i ? ", " : "", e[i].name,
					 e[i].label[0] ? e[i].label : "no label");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int stage_partitions(struct boot_ctx *ctx)
{
	struct part_entry entries[PART_SCAN_MAX];
	struct partref refs[ROLE__COUNT];
	char desc[600], rs[64];
	unsigned timeout_ms = ctx->plan.part_timeout * 1000;
	double start = log_elapsed_ms(&ctx->log);
	int n = 0, need_uuid = 0;

	for (int r = 0; r < ROLE__COUNT; r++) {
		const struct vol_plan *v = &ctx->plan.vol[role_defs[r].vol];
		/* a hash role: its own partition, or none when the tree is
		 * appended inside the data partition (hash_ref kind PREF_NONE) */
		refs[r] = r < (int)PLAN__VOLUMES ? v->ref : v->verity.hash_ref;
		ctx->parts[r].wanted = refs[r].kind != PREF_NONE;
		need_uuid |= refs[r].kind == PREF_UUID;
	}
	for (;;) {
		int missing = 0;
		n = partitions_scan(ctx->sysfs, entries, PART_SCAN_MAX);
		if (n < 0)
			return log_fail(&ctx->log, n, "cannot list %s/class/block: %s", ctx->sysfs, strerror(-n));
		if (need_uuid)
			partitions_read_uuids(ctx->sysfs, ctx->devfs, entries, n);
		for (int r = 0; r < ROLE__COUNT; r++) {
			if (!ctx->parts[r].wanted)
				continue;
			int i = partitions_match(entries, n, &refs[r]);
			if (i == -EEXIST) {
				partref_str(&refs[r], rs, sizeof(rs));
				partitions_describe(entries, n, desc, sizeof(desc));
				return log_fail(&ctx->log, -EEXIST, "%s partition %s is ambiguous: found: %s",
						role_defs[r].name, rs, desc);
			}
			if (i < 0) {
				missing++;
				continue;
			}
			snprintf(ctx->parts[r].name, sizeof(ctx->parts[r].name), "%s", entries[i].name);
			snprintf(ctx->parts[r].dev, sizeof(ctx->parts[r].dev), "%s/%s", ctx->devfs, entries[i].name);
			ctx->parts[r].present = true;
		}
		if (!missing)
			break;
		if (log_elapsed_ms(&ctx->log) - start >= timeout_ms) {
			char names[256];
			size_t used = 0;
			names[0] = '\0';
			for (int r = 0; r < ROLE__COUNT; r++) {
				if (!ctx->parts[r].wanted || ctx->parts[r].present)
					continue;
				partref_str(&refs[r], rs, sizeof(rs));
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s (%s)",
							 used ? ", " : "", rs, role_defs[r].name);
			}
			partitions_describe(entries, n, desc, sizeof(desc));
			return log_fail(&ctx->log, -ENODEV, "missing %s after %u s; found: %s", names,
					timeout_ms / 1000, desc);
		}
		sleep_ms(50);
	}
	for (int r = 0; r < ROLE__COUNT; r++) {
		partref_str(&refs[r], rs, sizeof(rs));
		if (ctx->parts[r].wanted)
			log_line(&ctx->log, LOG_INFO, "%s: %s is %s", role_defs[r].name, rs, ctx->parts[r].dev);
		else if (r < ROLE_BOOT_HASH)
			log_line(&ctx->log, LOG_INFO, "%s: not configured", role_defs[r].name);
	}
	return 0;
}
