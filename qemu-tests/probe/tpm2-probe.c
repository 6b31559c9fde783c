/* Test launcher for the TPM scenarios: runs as PID 1 in the new root, after
 * cvminit's separator. It reads the measurement PCR, then tries to unseal
 * the system key from p3's systemd-tpm2 token exactly as cvminit would —
 * which must fail now — and execs the stand-in.
 *   tpm2-probe DEVICE [ARGS for /sbin/standin...]
 * Lines: "PROBE: pcr 15 sha256 <hex>", "PROBE: unseal refused: <why>" or
 * "PROBE: unseal SUCCEEDED" (a failure of the separator). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "crypto/secret.h"
#include "crypto/tpm2.h"
#include "crypto/tpm2_token.h"
#include "crypto/tpm2_util.h"

static FILE *out;

/* The first systemd-tpm2 token of a LUKS2 header, read directly (the JSON
 * area follows the 4096-byte binary header). */
static int read_token(const char *dev, char *json, size_t len)
{
	static char area[12288 + 1];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, area, sizeof(area) - 1, 4096);
	close(fd);
	if (n <= 0)
		return -EIO;
	area[n] = '\0';
	struct json_object *o = json_tokener_parse(area), *tokens;
	if (!o || !json_object_object_get_ex(o, "tokens", &tokens)) {
		json_object_put(o);
		return -EINVAL;
	}
	int r = -ENOENT;
	json_object_object_foreach(tokens, key, val)
	{
		struct json_object *type;
		(void)key;
		if (json_object_object_get_ex(val, "type", &type) &&
		    !strcmp(json_object_get_string(type), "systemd-tpm2")) {
			snprintf(json, len, "%s", json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
			r = 0;
			break;
		}
	}
	json_object_put(o);
	return r;
}

int main(int argc, char **argv)
{
	struct tpm2_ctx *t = NULL;
	struct tpm2_token tok;
	struct secret *raw = NULL;
	char err[256], json[8192], hex[2 * TPM2_MAX_DIGEST + 1];
	uint8_t pcr[TPM2_MAX_DIGEST];
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY);

	out = fd >= 0 ? fdopen(fd, "w") : stdout;
	if (argc < 2) {
		fprintf(out, "PROBE: usage: tpm2-probe LUKS-DEVICE [stand-in args]\n");
		return 1;
	}
	if (tpm2_open_device("/dev/tpmrm0", &t, err, sizeof(err)) < 0) {
		fprintf(out, "PROBE: no TPM: %s\n", err);
	} else {
		if (tpm2_pcr_read(t, 15, TPM2_ALG_SHA256, pcr, err, sizeof(err)) == 0) {
			for (int i = 0; i < 32; i++)
				sprintf(hex + 2 * i, "%02x", pcr[i]);
			fprintf(out, "PROBE: pcr 15 sha256 %s\n", hex);
		}
		int r = read_token(argv[1], json, sizeof(json));
		if (r < 0)
			fprintf(out, "PROBE: no systemd-tpm2 token on %s (%d)\n", argv[1], r);
		else if (tpm2_token_parse(json, &tok, err, sizeof(err)) < 0)
			fprintf(out, "PROBE: token: %s\n", err);
		else if (secret_new(&raw, 256) == 0) {
			r = tpm2_unseal(t, &tok, NULL, raw, err, sizeof(err));
			if (r == 0)
				fprintf(out, "PROBE: unseal SUCCEEDED\n");
			else
				fprintf(out, "PROBE: unseal refused: %s\n", err);
			secret_free(raw);
		}
		tpm2_close(t);
	}
	fflush(out);
	argv[1] = "/sbin/standin";
	execv("/sbin/standin", argv + 1);
	fprintf(out, "PROBE: cannot exec /sbin/standin: %s\n", strerror(errno));
	return 1;
}
