/* Stage 3: load the kernel modules the initramfs builder listed, in order,
 * with finit_module (the kernel decompresses .ko.xz/.ko.zst/.ko.gz). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init/stages.h"
#include "init/util.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static int is_compressed(const char *path)
{
	size_t n = strlen(path);

	return (n > 6 && !strcmp(path + n - 6, ".ko.xz")) || (n > 7 && !strcmp(path + n - 7, ".ko.zst")) ||
	       (n > 6 && !strcmp(path + n - 6, ".ko.gz"));
}

/* Modules for hardware that may be absent (a TEE guest driver on another
 * vendor's CPU) fail to initialise with ENODEV; that is not an error here.
 * Whether a TEE is required is the tee stage's decision. */
static int absent_hardware(int err)
{
	return err == ENODEV || err == ENXIO;
}

int stage_modules(struct boot_ctx *ctx)
{
	char *list = NULL;
	size_t len = 0;
	unsigned absent = 0, already = 0, lineno = 0;
	int r = read_file_max(ctx->modules_path, 256 * 1024, &list, &len);

	if (r == -ENOENT) {
		log_line(&ctx->log, LOG_INFO, "no module list (%s): nothing to load", ctx->modules_path);
		return 0;
	}
	if (r < 0)
		return log_fail(&ctx->log, r, "cannot read %s: %s", ctx->modules_path, strerror(-r));

	for (char *save = NULL, *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		rstrip(line);
		if (!*line || *line == '#')
			continue;
		if (*line != '/') {
			r = log_fail(&ctx->log, -EINVAL, "%s:%u: module path must be absolute", ctx->modules_path,
				     lineno);
			goto out;
		}
		int fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = log_fail(&ctx->log, -errno, "cannot open module %s: %s", line, strerror(errno));
			goto out;
		}
		long rc = syscall(SYS_finit_module, fd, "", is_compressed(line) ? MODULE_INIT_COMPRESSED_FILE : 0);
		int e = errno;
		close(fd);
		if (rc == 0) {
			ctx->modules_loaded++;
			log_line(&ctx->log, LOG_DEBUG, "loaded %s", line);
		} else if (e == EEXIST) {
			already++;
		} else if (absent_hardware(e)) {
			absent++;
			log_line(&ctx->log, LOG_INFO, "%s: no such device here (%s)", line, strerror(e));
		} else if (e == EOPNOTSUPP && is_compressed(line)) {
			r = log_fail(&ctx->log, -e, "kernel cannot load compressed module %s (needs CONFIG_MODULE_DECOMPRESS)",
				     line);
			goto out;
		} else {
			r = log_fail(&ctx->log, -e, "cannot load module %s: %s", line, strerror(e));
			goto out;
		}
	}
	log_line(&ctx->log, LOG_INFO, "loaded %u modules (%u already present, %u without hardware)",
		 ctx->modules_loaded, already, absent);
	r = 0;
out:
	free(list);
	return r;
}
