/* /dev/sev-guest: SNP_GET_REPORT, SNP_GET_EXT_REPORT and SNP_GET_DERIVED_KEY.
 * The ioctl's error field was one u64 (fw_err) before kernel 6.x and is now
 * a union of exitinfo2 with {fw_error, vmm_error}: the same 8 bytes, read
 * here as firmware error (low 32 bits) and VMM error (high 32 bits). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sev-guest.h>

#include "crypto/snp_params.h"
#include "tee/guest.h"
#include "tee/snp_report.h"

/* MSG_REPORT_RSP and MSG_KEY_RSP (SEV-SNP ABI). */
struct report_rsp {
	uint32_t status;
	uint32_t report_size;
	uint8_t reserved[24];
	uint8_t report[SNP_REPORT_SIZE];
};

struct key_rsp {
	uint32_t status;
	uint8_t reserved[28];
	uint8_t key[32];
};

static int open_dev(struct boot_ctx *ctx)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "%s/sev-guest", ctx->devfs);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return log_fail(&ctx->log, -errno, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

static int guest_request(struct boot_ctx *ctx, int fd, unsigned long cmd, const char *what, void *req, void *resp,
			 uint64_t *exitinfo)
{
	struct snp_guest_request_ioctl io = { .msg_version = 1, .req_data = (uintptr_t)req, .resp_data = (uintptr_t)resp };

	if (ioctl(fd, cmd, &io) == 0)
		return 0;
	int e = errno;
	if (exitinfo)
		*exitinfo = io.exitinfo2;
	/* Too small a certificate buffer: ENOSPC on newer kernels, EIO with the
	 * VMM's INVALID_LEN on older ones; certs_len then says what is needed. */
	if (exitinfo && (e == ENOSPC || (io.exitinfo2 >> 32) == 1))
		return -ENOSPC;
	return log_fail(&ctx->log, -e, "%s failed: %s (firmware error 0x%x, VMM error 0x%x)", what, strerror(e),
			(unsigned)(io.exitinfo2 & 0xffffffffu), (unsigned)(io.exitinfo2 >> 32));
}

int sev_guest_get_report(struct boot_ctx *ctx, const uint8_t report_data[64], struct tee_report *out)
{
	struct snp_ext_report_req ext;
	struct snp_report_resp resp;
	struct report_rsp *rsp = (struct report_rsp *)resp.data;
	uint64_t exitinfo = 0;
	size_t certs_len = 4 * 4096;
	int fd = open_dev(ctx), r;

	if (fd < 0)
		return fd;
	for (int attempt = 0; attempt < 2; attempt++) {
		uint8_t *certs = aligned_alloc(4096, certs_len);
		if (!certs) {
			close(fd);
			return log_fail(&ctx->log, -ENOMEM, "out of memory");
		}
		memset(certs, 0, certs_len);
		memset(&ext, 0, sizeof(ext));
		memset(&resp, 0, sizeof(resp));
		memcpy(ext.data.user_data, report_data, 64);
		ext.data.vmpl = ctx->plan.snp_vmpl;
		ext.certs_address = (uintptr_t)certs;
		ext.certs_len = (uint32_t)certs_len;
		r = guest_request(ctx, fd, SNP_GET_EXT_REPORT, "SNP_GET_EXT_REPORT", &ext, &resp, &exitinfo);
		if (r == -ENOSPC && attempt == 0 && ext.certs_len > certs_len && ext.certs_len <= 1024 * 1024) {
			free(certs);
			certs_len = (ext.certs_len + 4095) / 4096 * 4096;
			continue;
		}
		if (r < 0) {
			free(certs);
			/* Without certificates from the host the plain report still serves. */
			struct snp_report_req req = { .vmpl = ctx->plan.snp_vmpl };
			memcpy(req.user_data, report_data, 64);
			memset(&resp, 0, sizeof(resp));
			r = guest_request(ctx, fd, SNP_GET_REPORT, "SNP_GET_REPORT", &req, &resp, NULL);
			if (r < 0) {
				close(fd);
				return r;
			}
		} else {
			out->certs = certs;
			out->certs_len = ext.certs_len;
		}
		break;
	}
	close(fd);
	if (rsp->status != 0 || rsp->report_size < SNP_REPORT_SIZE)
		return log_fail(&ctx->log, -EIO, "SNP report request: status 0x%x, size %u", rsp->status, rsp->report_size);
	memcpy(out->data, rsp->report, SNP_REPORT_SIZE);
	out->len = SNP_REPORT_SIZE;
	out->kind = TEE_SNP;
	out->provider = "sev-guest";
	return 0;
}

int sev_guest_derived_key(struct boot_ctx *ctx, const struct snp_key_params *p, struct secret *key)
{
	struct snp_derived_key_req req = {
		.root_key_select = p->root_key_select,
		.guest_field_select = p->guest_field_select,
		.vmpl = p->vmpl,
		.guest_svn = p->guest_svn,
		.tcb_version = p->tcb_version,
	};
	struct snp_derived_key_resp resp;
	struct key_rsp *rsp = (struct key_rsp *)resp.data;
	int fd = open_dev(ctx), r;

	if (fd < 0)
		return fd;
	memset(&resp, 0, sizeof(resp));
	r = guest_request(ctx, fd, SNP_GET_DERIVED_KEY, "SNP_GET_DERIVED_KEY", &req, &resp, NULL);
	close(fd);
	/* INVALID_PARAM: a parameter the firmware will not serve, above all a
	 * TCB_VERSION above the committed TCB (a rolled-back firmware); the
	 * caller names the configuration key that asked for it. */
	if (r == 0 && rsp->status == SNP_KEY_STATUS_INVALID_PARAM)
		r = -EKEYREJECTED;
	else if (r == 0 && rsp->status != 0)
		r = log_fail(&ctx->log, -EIO, "SNP_GET_DERIVED_KEY: status 0x%x", rsp->status);
	if (r == 0) {
		memcpy(key->data, rsp->key, 32);
		key->len = 32;
	}
	explicit_bzero(&resp, sizeof(resp));
	return r;
}
