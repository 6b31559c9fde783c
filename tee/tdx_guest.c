/* /dev/tdx_guest: TDX_CMD_GET_REPORT0 (the TDREPORT a quote is made from). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tee/guest.h"
#include "tee/tdx_quote.h"

/* include/uapi/linux/tdx-guest.h (kernel >= 6.2; not in every libc's headers). */
struct tdx_report_req {
	uint8_t reportdata[64];
	uint8_t tdreport[TDX_TDREPORT_SIZE];
};
#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)

int tdx_guest_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out)
{
	struct tdx_report_req req;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "%s/tdx_guest", ctx->devfs);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return log_fail(&ctx->log, -errno, "cannot open %s: %s", path, strerror(errno));
	memset(&req, 0, sizeof(req));
	memcpy(req.reportdata, report_data, 64);
	if (ioctl(fd, TDX_CMD_GET_REPORT0, &req) < 0) {
		int e = errno;
		close(fd);
		return log_fail(&ctx->log, -e, "TDX_CMD_GET_REPORT0 failed: %s", strerror(e));
	}
	close(fd);
	memcpy(out->data, req.tdreport, TDX_TDREPORT_SIZE);
	out->len = TDX_TDREPORT_SIZE;
	out->kind = TEE_TDX;
	out->provider = "tdx-guest";
	return 0;
}
