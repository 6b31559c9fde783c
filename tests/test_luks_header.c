/* The LUKS2 header policy (crypto/luks_header.c) on headers Debian's
 * cryptsetup makes at test time (luksFormat on a plain file), then edited
 * the way a host that owns the disk can (qemu-tests/luks-edit.py: the JSON
 * changed, both unkeyed checksums recomputed; cryptsetup itself accepts the
 * result). One case per refusal with its exact message; the loader reads
 * once and only the validated bytes reach the copy. Runs from the repository
 * root (make unit) under ASan/UBSan. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/luks_header.h"
#include "tests/harness.h"

TH_DEFINE("luks_header");

#define AREA (16u << 20)
#define UUID "c7a11e00-1000-4000-8000-0000000000aa"

static char dir[64], img[128], copy[128];
static uint8_t *genuine;  /* the header area luksFormat wrote */
static uint8_t *buf;      /* scratch */
static struct luks_facts facts;
static char err[400];
static const struct luks_policy pol = { "aes-xts-plain64", 512, AREA, true };

static int run(const char *cmd)
{
	int r = system(cmd);
	if (r != 0)
		TH_FAIL("command failed (%d): %s", r, cmd);
	return r;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = fd < 0 ? -1 : write(fd, data, len);
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int read_file(const char *path, uint8_t *data, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, data, len);
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* The genuine header, edited by luks-edit.py, into buf; edits are its
 * arguments, shell-quoted. */
static int edited_args(const char *edits)
{
	char cmd[1024];

	memcpy(buf, genuine, AREA);
	if (write_file(img, buf, AREA) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "python3 qemu-tests/luks-edit.py %s %s", img, edits);
	if (run(cmd) != 0 || read_file(img, buf, AREA) < 0)
		return -1;
	/* most edits give a header Debian's cryptsetup reads as valid: say
	 * when one does not (then libcryptsetup would refuse it too) */
	snprintf(cmd, sizeof(cmd), "cryptsetup luksDump --disable-locks %s >/dev/null 2>&1", img);
	if (system(cmd) != 0)
		fprintf(stderr, "# %s: cryptsetup luksDump refuses this header too\n", th.name);
	return 0;
}

static int edited(const char *edit)
{
	char q[900];

	snprintf(q, sizeof(q), "'%s'", edit);
	return edited_args(q);
}

static void refused(const char *edit, const char *want)
{
	if (edited(edit) < 0)
		return;
	CHECK(luks_header_check(buf, AREA, &pol, &facts, err, sizeof(err)) < 0);
	CHECK_STR(err, want);
	CHECK(!facts.valid);
}

static void genuine_accepted(void)
{
	CHECK_INT(luks_header_check(genuine, AREA, &pol, &facts, err, sizeof(err)), 0);
	CHECK(facts.valid);
	CHECK_STR(facts.uuid, UUID);
	CHECK_STR(facts.cipher, "aes-xts-plain64");
	CHECK_INT(facts.data_offset, AREA);
	CHECK_INT(facts.hdr_size, 16384);
	CHECK_INT(facts.sector_size, 512);
	CHECK_INT(facts.key_bytes, 64);
	CHECK_INT(facts.keyslots, 1);
}

static void known_tokens_accepted(void)
{
	if (edited_args("'set tokens.0={\"type\":\"cvminit-snp\",\"keyslots\":[\"0\"]}' "
			"'set tokens.1={\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"]}'") < 0)
		return;
	CHECK_INT(luks_header_check(buf, AREA, &pol, &facts, err, sizeof(err)), 0);
}

static void cipher_null_segment(void)
{
	refused("set segments.0.encryption=\"cipher_null-ecb\"",
		"segments.0.encryption is cipher_null-ecb (allowed: aes-xts-plain64)");
}

static void ecb_segment(void)
{
	refused("set segments.0.encryption=\"aes-ecb\"", "segments.0.encryption is aes-ecb (allowed: aes-xts-plain64)");
}

static void plain_iv_segment(void)
{
	refused("set segments.0.encryption=\"aes-cbc-plain\"",
		"segments.0.encryption is aes-cbc-plain (allowed: aes-xts-plain64)");
}

static void capi_segment(void)
{
	refused("set segments.0.encryption=\"capi:xts(aes)-plain64\"",
		"segments.0.encryption is capi:xts(aes)-plain64 (allowed: aes-xts-plain64)");
}

static void extra_segment(void)
{
	refused("set segments.1={\"type\":\"crypt\",\"offset\":\"16777216\",\"size\":\"512\",\"iv_tweak\":\"0\","
		"\"encryption\":\"cipher_null-ecb\",\"sector_size\":512}",
		"segments has 2 entries (allowed: exactly one, segment 0)");
}

static void changed_offset(void)
{
	refused("set segments.0.offset=\"8388608\"", "segments.0.offset is 8388608 (expected 16777216)");
}

static void iv_tweak(void)
{
	refused("set segments.0.iv_tweak=\"1\"", "segments.0.iv_tweak is 1 (expected 0)");
}

static void sector_size(void)
{
	refused("set segments.0.sector_size=4096", "segments.0.sector_size is 4096 (expected 512)");
}

static void fixed_size_segment(void)
{
	refused("set segments.0.size=\"4096\"", "segments.0.size is 4096 (allowed: dynamic)");
}

static void integrity_segment(void)
{
	refused("set segments.0.integrity={\"type\":\"hmac(sha256)\",\"journal_encryption\":\"none\","
		"\"journal_integrity\":\"none\"}",
		"segments.0.integrity is set (allowed: no integrity)");
}

static void reencryption_requirement(void)
{
	refused("set config.requirements={\"mandatory\":[\"online-reencrypt-v2\"]}",
		"config.requirements is {\"mandatory\":[\"online-reencrypt-v2\"]} (allowed: none)");
}

static void opal_requirement(void)
{
	refused("set config.requirements={\"mandatory\":[\"opal\"]}",
		"config.requirements is {\"mandatory\":[\"opal\"]} (allowed: none)");
}

static void persistent_flags(void)
{
	refused("set config.flags=[\"allow-discards\"]", "config.flags is [\"allow-discards\"] (allowed: none)");
}

static void keyslot_area_cipher(void)
{
	refused("set keyslots.0.area.encryption=\"cipher_null-ecb\"",
		"keyslots.0.area.encryption is cipher_null-ecb (allowed: aes-xts-plain64)");
}

static void keyslot_area_outside(void)
{
	refused("set keyslots.0.area.offset=\"16773120\"",
		"keyslots.0.area lies outside the keyslots area (between 32768 and 16777216)");
}

static void keyslot_type(void)
{
	refused("set keyslots.0.type=\"reencrypt\"", "keyslots.0.type is reencrypt (allowed: luks2)");
}

static void unknown_token(void)
{
	refused("set tokens.0={\"type\":\"systemd-fido2\",\"keyslots\":[\"0\"]}",
		"tokens.0.type is systemd-fido2 (allowed: systemd-tpm2, cvminit-snp)");
}

static void digest_for_other_segment(void)
{
	refused("set digests.0.segments=[\"1\"]", "digests.0.segments is [\"1\"] (allowed: [\"0\"])");
}

static void second_digest(void)
{
	refused("set digests.1={\"type\":\"pbkdf2\",\"keyslots\":[],\"segments\":[\"1\"],\"hash\":\"sha256\","
		"\"iterations\":1000,\"salt\":\"AA==\",\"digest\":\"AA==\"}",
		"digests has 2 entries (allowed: exactly one, for segment 0)");
}

static void keyslot_without_digest(void)
{
	refused("set digests.0.keyslots=[]", "keyslots.0 is not linked to segment 0 by a digest");
}

static void checksum_not_recomputed(void)
{
	memcpy(buf, genuine, AREA);
	buf[4096 + 20] ^= 1;
	CHECK(luks_header_check(buf, AREA, &pol, &facts, err, sizeof(err)) < 0);
	CHECK_STR(err, "header copy 1 (offset 0): checksum mismatch");
}

/* Copy 2 newer and evil, copy 1 genuine: libcryptsetup would take copy 2. */
static void evil_second_copy(void)
{
	if (edited("set segments.0.encryption=\"cipher_null-ecb\"") < 0)
		return;
	memcpy(buf, genuine, 16384);
	CHECK(luks_header_check(buf, AREA, &pol, &facts, err, sizeof(err)) < 0);
	CHECK_STR(err, "header copy 2: segments.0.encryption is cipher_null-ecb (allowed: aes-xts-plain64)");
}

static void absurd_hdr_size(void)
{
	memcpy(buf, genuine, AREA);
	buf[8] = 0x40;
	CHECK(luks_header_check(buf, AREA, &pol, &facts, err, sizeof(err)) < 0);
	CHECK_STR(err, "hdr_size is 4611686018427404288 (allowed: 16384 to 4194304, a power of two)");
}

static void luks1_or_foreign(void)
{
	memcpy(buf, genuine, AREA);
	buf[7] = 1;
	CHECK(luks_header_check(buf, AREA, &pol, &facts, err, sizeof(err)) < 0);
	CHECK_STR(err, "header copy 1 is version 1 (allowed: 2)");
	memset(buf, 0, 4096);
	CHECK(luks_header_check(buf, AREA, &pol, &facts, err, sizeof(err)) < 0);
	CHECK_STR(err, "header copy 1 (offset 0) has no LUKS2 magic");
}

static void policy_off_checks_structure_only(void)
{
	struct luks_policy off = pol;
	off.enforce = false;
	if (edited("set segments.0.encryption=\"cipher_null-ecb\"") < 0)
		return;
	CHECK_INT(luks_header_check(buf, AREA, &off, &facts, err, sizeof(err)), 0);
	CHECK_STR(facts.cipher, "cipher_null-ecb");
	buf[4096 + 20] ^= 1;
	CHECK(luks_header_check(buf, AREA, &off, &facts, err, sizeof(err)) < 0);
}

/* The host serves the genuine header to the one read, then other bytes:
 * the copy holds what was checked, and only the copy is used. */
static void changed_after_load(void)
{
	char dev[128];
	struct stat st;

	snprintf(dev, sizeof(dev), "%s/dev", dir);
	if (write_file(dev, genuine, AREA) < 0) {
		TH_FAIL("cannot write %s", dev);
		return;
	}
	unlink(copy);
	CHECK_INT(luks_header_load(dev, copy, &pol, &facts, err, sizeof(err)), 0);
	CHECK_STR(facts.copy, copy);
	CHECK_STR(facts.uuid, UUID);
	if (edited("set segments.0.encryption=\"cipher_null-ecb\"") < 0)
		return;
	CHECK_INT(write_file(dev, buf, AREA), 0);  /* the host's second answer */
	CHECK_INT(read_file(copy, buf, AREA), 0);
	CHECK_MEM(buf, genuine, AREA);
	CHECK_INT(luks_header_check(buf, AREA, &pol, &facts, err, sizeof(err)), 0);
	CHECK_STR(facts.cipher, "aes-xts-plain64");
	CHECK(stat(copy, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* a load of the changed device refuses and leaves the copy alone */
	CHECK(luks_header_load(dev, copy, &pol, &facts, err, sizeof(err)) < 0);
	CHECK_STR(err, "segments.0.encryption is cipher_null-ecb (allowed: aes-xts-plain64)");
	CHECK_INT(read_file(copy, buf, AREA), 0);
	CHECK_MEM(buf, genuine, AREA);
	CHECK(!facts.valid);
}

static void short_device(void)
{
	char dev[128];

	snprintf(dev, sizeof(dev), "%s/short", dir);
	write_file(dev, genuine, AREA / 2);
	CHECK(luks_header_load(dev, copy, &pol, &facts, err, sizeof(err)) < 0);
	CHECK_STR(err, "cannot read its 16777216 header bytes: the device is smaller");
}

static void absurd_offset_refused_before_allocating(void)
{
	struct luks_policy big = pol;
	big.data_offset = 1ull << 40;
	CHECK_INT(luks_header_load(img, copy, &big, &facts, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "LUKS_DATA_OFFSET 1099511627776 is outside 32 KiB to 256 MiB");
}

int main(void)
{
	char cmd[1024];

	snprintf(dir, sizeof(dir), "/tmp/cvminit-luks-header.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(copy, sizeof(copy), "%s/copy.hdr", dir);
	genuine = malloc(AREA);
	buf = malloc(AREA);
	snprintf(cmd, sizeof(cmd),
		 "head -c 64 /dev/zero | tr '\\0' k > %s/key && truncate -s 17M %s && "
		 "cryptsetup luksFormat --type luks2 --batch-mode --disable-locks --cipher aes-xts-plain64 "
		 "--key-size 512 --sector-size 512 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 "
		 "--uuid " UUID " --key-file %s/key %s",
		 dir, img, dir, img);
	if (!genuine || !buf || system(cmd) != 0 || read_file(img, genuine, AREA) < 0) {
		printf("not ok - unit/luks_header/cryptsetup_luksFormat\n");
		return 1;
	}
	TEST(genuine_accepted);
	TEST(known_tokens_accepted);
	TEST(cipher_null_segment);
	TEST(ecb_segment);
	TEST(plain_iv_segment);
	TEST(capi_segment);
	TEST(extra_segment);
	TEST(changed_offset);
	TEST(iv_tweak);
	TEST(sector_size);
	TEST(fixed_size_segment);
	TEST(integrity_segment);
	TEST(reencryption_requirement);
	TEST(opal_requirement);
	TEST(persistent_flags);
	TEST(keyslot_area_cipher);
	TEST(keyslot_area_outside);
	TEST(keyslot_type);
	TEST(unknown_token);
	TEST(digest_for_other_segment);
	TEST(second_digest);
	TEST(keyslot_without_digest);
	TEST(checksum_not_recomputed);
	TEST(evil_second_copy);
	TEST(absurd_hdr_size);
	TEST(luks1_or_foreign);
	TEST(policy_off_checks_structure_only);
	TEST(changed_after_load);
	TEST(short_device);
	TEST(absurd_offset_refused_before_allocating);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", dir);
	free(genuine);
	free(buf);
	return TH_END();
}
