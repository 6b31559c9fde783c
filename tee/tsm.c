/* configfs-tsm (kernel >= 6.7): one report entry per request; the
 * generation counter proves no other writer changed our request between
 * writing inblob and reading outblob. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/util.h"
#include "tee/guest.h"

static int read_all(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap) {
			close(fd);
			return -E2BIG;
		}
	}
	close(fd);
	*len = got;
	return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, data, len);
	close(fd);
	return r;
}

static long read_generation(const char *dir)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), "%s/generation", dir);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol_or(buf, -1);
}

int tsm_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out)
{
	char dir[200], path[260], provider[64];
	long g0, g1;
	int r;

	snprintf(dir, sizeof(dir), "%s/kernel/config/tsm/report/cvminit-%d", ctx->sysfs, (int)getpid());
	if (mkdir(dir, 0700) < 0)
		return log_fail(&ctx->log, -errno, "configfs-tsm: cannot create %s: %s", dir, strerror(errno));
	g0 = read_generation(dir);
	snprintf(path, sizeof(path), "%s/inblob", dir);
	r = write_file(path, report_data, 64);
	if (r < 0) {
		rmdir(dir);
		return log_fail(&ctx->log, r, "configfs-tsm: writing inblob: %s", strerror(-r));
	}
	snprintf(path, sizeof(path), "%s/outblob", dir);
	r = read_all(path, out->data, sizeof(out->data), &out->len);
	if (r < 0) {
		rmdir(dir);
		return log_fail(&ctx->log, r, "configfs-tsm: reading outblob: %s", strerror(-r));
	}
	snprintf(path, sizeof(path), "%s/provider", dir);
	if (read_small_file(path, provider, sizeof(provider)) < 0)
		provider[0] = '\0';
	rstrip(provider);
	snprintf(path, sizeof(path), "%s/auxblob", dir);
	uint8_t *aux = malloc(TEE_REPORT_MAX);
	size_t auxlen = 0;
	if (aux && read_all(path, aux, TEE_REPORT_MAX, &auxlen) == 0 && auxlen > 0) {
		out->certs = aux;
		out->certs_len = auxlen;
	} else {
		free(aux);
	}
	g1 = read_generation(dir);
	rmdir(dir);
	if (g0 < 0 || g1 != g0 + 1)
		return log_fail(&ctx->log, -EAGAIN, "configfs-tsm: generation went from %ld to %ld: another writer raced us",
				g0, g1);
	if (!strcmp(provider, "sev_guest"))
		out->kind = TEE_SNP;
	else if (!strcmp(provider, "tdx_guest"))
		out->kind = TEE_TDX;
	else
		return log_fail(&ctx->log, -EINVAL, "configfs-tsm: unknown provider '%s'", provider);
	out->provider = "configfs-tsm";
	return 0;
}
