/* deps-smoke: proves the static musl dependency stack links and works.
 * Built by `make deps-smoke` twice: against the release prefix (device TCTI)
 * and, with -DSMOKE_SWTPM, against the swtpm prefix. Runs on the build host,
 * needs no TPM, no device-mapper and no AF_ALG in the kernel.
 * Prints one "ok - deps/..." or "not ok - deps/..." line per check and exits
 * non-zero when any check fails. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libcryptsetup.h>
#include <libdevmapper.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <uuid/uuid.h>
#ifdef SMOKE_SWTPM
#include <tss2/tss2_tcti_swtpm.h>
#define SMOKE_VARIANT "swtpm"
#else
#include <tss2/tss2_tcti_device.h>
#define SMOKE_VARIANT "release"
#endif

static int n_ok, n_fail;

__attribute__((format(printf, 3, 4)))
static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s - deps/%s/%s: ", ok ? "ok" : "not ok", SMOKE_VARIANT, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		n_ok++;
	else
		n_fail++;
}

static void smoke_mbedtls(void)
{
	static const unsigned char want[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	unsigned char got[32];
	char ver[32];
	int rc = mbedtls_sha256((const unsigned char *)"abc", 3, got, 0);

	mbedtls_version_get_string(ver);
	check(rc == 0 && memcmp(got, want, sizeof(want)) == 0, "mbedtls",
	      "SHA-256(\"abc\") %s (mbedtls %s)", rc == 0 && !memcmp(got, want, 32) ? "matches" : "WRONG", ver);
}

static void smoke_json(void)
{
	json_object *o = json_tokener_parse("{\"a\":[1,2,3],\"b\":\"x\"}");
	json_object *a = NULL;
	int ok = o && json_object_object_get_ex(o, "a", &a) && json_object_array_length(a) == 3;

	check(ok, "json-c", "parsed an object with a 3-element array (json-c %s)", json_c_version());
	json_object_put(o);
}

static void smoke_uuid(void)
{
	uuid_t u, back;
	char s[37];

	uuid_generate(u);
	uuid_unparse_lower(u, s);
	check(strlen(s) == 36 && uuid_parse(s, back) == 0 && uuid_compare(u, back) == 0 && !uuid_is_null(u),
	      "libuuid", "generated %s", s);
}

static void smoke_devmapper(void)
{
	char ver[64] = "";
	int ok = dm_get_library_version(ver, sizeof(ver));

	check(ok && ver[0], "libdevmapper", "library version %s", ver);
}

static void smoke_tss(void)
{
	size_t size = 0;
	TSS2_RC rc;
	ESYS_CONTEXT *ectx = NULL;

#ifdef SMOKE_SWTPM
	rc = Tss2_Tcti_Swtpm_Init(NULL, &size, NULL);
	check(rc == TSS2_RC_SUCCESS && size > 0, "tss2-tcti-swtpm", "context size %zu", size);
#else
	rc = Tss2_Tcti_Device_Init(NULL, &size, NULL);
	check(rc == TSS2_RC_SUCCESS && size > 0, "tss2-tcti-device", "context size %zu", size);
#endif
	check(Tss2_RC_Decode(TPM2_RC_SUCCESS) != NULL, "tss2-rc", "RC decode: %s", Tss2_RC_Decode(TPM2_RC_SUCCESS));
	/* No TPM is expected here: a clean error is a pass, so is a real TPM. */
	setenv("TSS2_LOG", "all+none", 0);
	rc = Esys_Initialize(&ectx, NULL, NULL);
	if (rc == TSS2_RC_SUCCESS) {
		TPM2B_DIGEST *rnd = NULL;

		/* A TPM answers (e.g. swtpm for the swtpm build): one round trip. */
		(void)Esys_Startup(ectx, TPM2_SU_CLEAR); /* TPM2_RC_INITIALIZE if started */
		rc = Esys_GetRandom(ectx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, 8, &rnd);
		check(rc == TSS2_RC_SUCCESS && rnd && rnd->size == 8, "tss2-esys",
		      "found a TPM; GetRandom(8): %s", Tss2_RC_Decode(rc));
		Esys_Free(rnd);
		Esys_Finalize(&ectx);
	} else {
		check(ectx == NULL, "tss2-esys", "Esys_Initialize without a TPM: %s", Tss2_RC_Decode(rc));
	}
}

/* LUKS2 on a sparse temp file, entirely in user space: format, a PBKDF2 and
 * an Argon2id keyslot, reload, check both passphrases and a wrong one. */
static void smoke_cryptsetup(void)
{
	char path[] = "/tmp/cvminit-deps-smoke.XXXXXX";
	const char *tmpdir = getenv("TMPDIR");
	char buf[4096];
	struct crypt_device *cd = NULL;
	struct crypt_pbkdf_type pbkdf2 = {
		.type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_pbkdf_type argon = {
		.type = CRYPT_KDF_ARGON2ID, .iterations = 4, .max_memory_kb = 32, .parallel_threads = 1,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_params_luks2 params = { .sector_size = 512 };
	const char *p1 = "smoke-pbkdf2", *p2 = "smoke-argon2id";
	int fd, r, s1 = -1, s2 = -1, bad = 0;
	const char *step = "";

	if (tmpdir && *tmpdir && strlen(tmpdir) + 32 < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%s/cvminit-deps-smoke.XXXXXX", tmpdir);
		fd = mkstemp(buf);
	} else {
		fd = mkstemp(path);
		snprintf(buf, sizeof(buf), "%s", path);
	}
	if (fd < 0) {
		check(0, "libcryptsetup", "mkstemp: %s", strerror(errno));
		return;
	}
	step = "ftruncate";
	r = ftruncate(fd, 32 << 20) ? -errno : 0;
	close(fd);
	if (r < 0)
		goto out;

	/* The minimum the brief asks for: init + free on a small file. */
	step = "crypt_init";
	if ((r = crypt_init(&cd, buf)) < 0)
		goto out;
	crypt_free(cd);
	cd = NULL;

	step = "crypt_init";
	if ((r = crypt_init(&cd, buf)) < 0)
		goto out;
	step = "crypt_set_pbkdf_type(pbkdf2)";
	if ((r = crypt_set_pbkdf_type(cd, &pbkdf2)) < 0)
		goto out;
	step = "crypt_format(LUKS2 aes-xts-plain64)";
	if ((r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &params)) < 0)
		goto out;
	step = "keyslot add (pbkdf2)";
	if ((s1 = r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, p1, strlen(p1))) < 0)
		goto out;
	step = "crypt_set_pbkdf_type(argon2id)";
	if ((r = crypt_set_pbkdf_type(cd, &argon)) < 0)
		goto out;
	step = "keyslot add (argon2id)";
	if ((s2 = r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, p2, strlen(p2))) < 0)
		goto out;
	crypt_free(cd);
	cd = NULL;

	step = "reload: crypt_init";
	if ((r = crypt_init(&cd, buf)) < 0)
		goto out;
	step = "crypt_load(LUKS2)";
	if ((r = crypt_load(cd, CRYPT_LUKS2, NULL)) < 0)
		goto out;
	/* name NULL: checks the passphrase, activates nothing (no dm needed). */
	step = "passphrase check (pbkdf2)";
	if ((r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, p1, strlen(p1), 0)) != s1)
		goto out;
	step = "passphrase check (argon2id)";
	if ((r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, p2, strlen(p2), 0)) != s2)
		goto out;
	step = "wrong passphrase refused";
	bad = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, "wrong", 5, 0);
	r = bad == -EPERM ? 0 : -EINVAL;
out:
	if (r >= 0)
		check(1, "libcryptsetup", "LUKS2 %s: format, PBKDF2 + Argon2id keyslots %d/%d, "
		      "reload, passphrases checked, wrong one refused", crypt_get_uuid(cd), s1, s2);
	else
		check(0, "libcryptsetup", "%s failed: %s", step, strerror(-r));
	crypt_free(cd);
	unlink(buf);
}

int main(void)
{
	smoke_mbedtls();
	smoke_json();
	smoke_uuid();
	smoke_devmapper();
	smoke_tss();
	smoke_cryptsetup();
	printf("deps-smoke (%s): %d ok, %d failed\n", SMOKE_VARIANT, n_ok, n_fail);
	return n_fail ? 1 : 0;
}
