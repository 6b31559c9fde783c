/* Configuration file and kernel command-line parsing: every error names the
 * key and line, and nothing invalid is accepted. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "crypto/verity_geometry.h"
#include "init/config.h"
#include "init/mountopts.h"
#include "init/partref.h"
#include "init/plan.h"
#include "tests/harness.h"

#ifdef CVMINIT_TEST_BUILD
TH_DEFINE("config-testbuild");
#else
TH_DEFINE("config");
#endif

static struct cvm_config cfg;
static char err[512];

static int parse(const char *text)
{
	config_defaults(&cfg);
	err[0] = '\0';
	return config_parse_file(&cfg, text, strlen(text), "c.conf", err, sizeof(err));
}

static void defaults_are_valid(void)
{
	config_defaults(&cfg);
	for (int i = 0; i < CFG__COUNT; i++) {
		char e[300];
		if (config_validate((enum cfg_id)i, cfg.val[i], e, sizeof(e)) < 0)
			TH_FAIL("default of %s invalid: %s", cfg_defs[i].name, e);
	}
	CHECK_STR(cfg_str(&cfg, CFG_LAUNCHER), "/sbin/init");
	CHECK_STR(cfg_str(&cfg, CFG_DATA_OPTIONS), "ro,nodev,nosuid,noexec,noload");
	CHECK_INT(cfg_uint(&cfg, CFG_PART_TIMEOUT), 10);
}

static void parses_values_and_comments(void)
{
	CHECK_INT(parse("# comment\n\n  PART_TIMEOUT=30\nLAUNCHER=\"/opt/nvflare/start.sh\"  # why\n"
			"LAUNCHER_ARGS='--verify -w /ws'\nTMP_SIZE=2g\n"),
		  0);
	CHECK_STR(err, "");
	CHECK_INT(cfg_uint(&cfg, CFG_PART_TIMEOUT), 30);
	CHECK_STR(cfg_str(&cfg, CFG_LAUNCHER), "/opt/nvflare/start.sh");
	CHECK_STR(cfg_str(&cfg, CFG_LAUNCHER_ARGS), "--verify -w /ws");
	CHECK_STR(cfg_str(&cfg, CFG_TMP_SIZE), "2g");
	CHECK_INT(cfg.src[CFG_PART_TIMEOUT], CS_FILE);
	CHECK_INT(cfg.line[CFG_PART_TIMEOUT], 3);
	CHECK_INT(cfg.src[CFG_DEBUG], CS_DEFAULT);
}

static void last_line_without_newline(void)
{
	CHECK_INT(parse("DEBUG=yes"), 0);
	CHECK_STR(cfg_str(&cfg, CFG_DEBUG), "yes");
}

static void unknown_key_names_key_and_line(void)
{
	CHECK_INT(parse("DEBUG=no\n\nFROBNICATE=1\n"), -EINVAL);
	CHECK_STR(err, "c.conf:3: unknown key FROBNICATE");
}

static void duplicate_key(void)
{
	CHECK_INT(parse("DEBUG=no\nDEBUG=yes\n"), -EINVAL);
	CHECK_STR(err, "c.conf:2: DEBUG: duplicate key (first set on line 1)");
}

static void bad_enum_value(void)
{
	CHECK_INT(parse("ON_FAILURE=halt\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: ON_FAILURE: 'halt' is not one of poweroff|reboot");
}

static void bad_uint_values(void)
{
	CHECK_INT(parse("PART_TIMEOUT=0\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: PART_TIMEOUT: 0 is outside 1..600");
	CHECK_INT(parse("PART_TIMEOUT=601\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: PART_TIMEOUT: 601 is outside 1..600");
	CHECK_INT(parse("PART_TIMEOUT=1x\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: PART_TIMEOUT: '1x' is not a number in 1..600");
	CHECK_INT(parse("PART_TIMEOUT=99999999999999999999\n"), -EINVAL);
	CHECK_INT(parse("PART_TIMEOUT=\n"), -EINVAL);
}

static void over_long_line(void)
{
	char text[1100];
	memset(text, 'a', sizeof(text));
	memcpy(text, "LAUNCHER=/", 10);
	text[1024] = '\n';
	text[1025] = '\0';
	CHECK_INT(parse(text), -EINVAL);
	CHECK_STR(err, "c.conf:1: LAUNCHER: line longer than 1023 bytes");
}

static void over_long_value(void)
{
	char text[400];
	memset(text, 'a', sizeof(text));
	memcpy(text, "LAUNCHER=/", 10);
	text[300] = '\n';
	text[301] = '\0';
	CHECK_INT(parse(text), -EINVAL);
	CHECK_STR(err, "c.conf:1: LAUNCHER: value too long");
}

static void syntax_errors(void)
{
	CHECK_INT(parse("DEBUG = yes\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: expected KEY=value without spaces around '='");
	CHECK_INT(parse("debug=yes\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: expected KEY=value (KEY in A-Z, 0-9, _)");
	CHECK_INT(parse("LAUNCHER=\"/sbin/init\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: LAUNCHER: missing closing quote");
	CHECK_INT(parse("LAUNCHER=/sbin/init extra\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: LAUNCHER: unexpected text after the value");
	CHECK_INT(parse("LAUNCHER=$HOME/x\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: LAUNCHER: shell special character in an unquoted value (quote it)");
	CHECK_INT(parse("LAUNCHER=\"/a$b\"\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: LAUNCHER: '\\', '$' and '`' are not allowed inside double quotes");
	CHECK_INT(parse("DEBUG=yes\r\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: DEBUG: carriage return (DOS line ending) in the file");
	CHECK_INT(parse("DEBUG=y\x01s\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: DEBUG: control character in the line");
	CHECK_INT(parse("DEBUG=\xc3\xa9\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: DEBUG: non-ASCII byte in the line");
}

static void too_large_file(void)
{
	static char big[CONFIG_FILE_MAX + 2];
	memset(big, '\n', sizeof(big) - 1);
	config_defaults(&cfg);
	CHECK_INT(config_parse_file(&cfg, big, sizeof(big) - 1, "c.conf", err, sizeof(err)), -E2BIG);
	CHECK_STR(err, "c.conf: file larger than 65536 bytes");
}

static void path_values(void)
{
	CHECK_INT(parse("BOOT_MOUNT=boot\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: BOOT_MOUNT: 'boot' is not a clean absolute path (no '.', '..', '//', trailing "
		       "'/' or spaces)");
	CHECK_INT(parse("BOOT_MOUNT=/a/../b\n"), -EINVAL);
	CHECK_INT(parse("BOOT_MOUNT=/a//b\n"), -EINVAL);
	CHECK_INT(parse("BOOT_MOUNT=/a/\n"), -EINVAL);
	CHECK_INT(parse("BOOT_MOUNT=/a/./b\n"), -EINVAL);
	CHECK_INT(parse("BOOT_MOUNT='/a b'\n"), -EINVAL);
	CHECK_INT(parse("BOOT_MOUNT=/a/.hidden/b..c\n"), 0);
}

static void partition_refs(void)
{
	CHECK_INT(parse("ROOT_PART=PARTUUID=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n"), 0);
	CHECK_STR(cfg_str(&cfg, CFG_ROOT_PART), "PARTUUID=0FC63DAF-8483-4772-8E79-3D69D8477DE4");
	CHECK_INT(parse("ROOT_PART=none\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: ROOT_PART: this partition is required, 'none' is not allowed");
	CHECK_INT(parse("DATA_PART=none\n"), 0);
	CHECK_INT(parse("DATA_PART=/dev/vda6\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: DATA_PART: '/dev/vda6': expected PARTLABEL=<name>, PARTUUID=<uuid> or none");
	CHECK_INT(parse("DATA_PART=PARTUUID=1234\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: DATA_PART: '1234' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
	CHECK_INT(parse("DATA_PART=PARTLABEL=\n"), -EINVAL);
	CHECK_INT(parse("DATA_PART=PARTLABEL=a/b\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: DATA_PART: partition label 'a/b': only A-Z a-z 0-9 . _ - allowed");
}

static void partref_normalises_uuid(void)
{
	struct partref ref;
	CHECK_INT(partref_parse("PARTUUID=0FC63DAF-8483-4772-8E79-3D69D8477DE4", &ref, err, sizeof(err)), 0);
	CHECK_INT(ref.kind, PREF_UUID);
	CHECK_STR(ref.value, "0fc63daf-8483-4772-8e79-3d69d8477de4");
	char s[64];
	partref_str(&ref, s, sizeof(s));
	CHECK_STR(s, "PARTUUID=0fc63daf-8483-4772-8e79-3d69d8477de4");
}

static void sizes(void)
{
	CHECK_INT(parse("TMP_SIZE=512M\nSHM_SIZE=50%\n"), 0);
	CHECK_INT(parse("TMP_SIZE=0\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: TMP_SIZE: '0' is not a size (N, Nk, Nm, Ng or N%, N > 0)");
	CHECK_INT(parse("TMP_SIZE=101%\n"), -EINVAL);
	CHECK_INT(parse("TMP_SIZE=5t\n"), -EINVAL);
	CHECK_INT(parse("TMP_SIZE=5mb\n"), -EINVAL);
	CHECK_INT(parse("FSTYPE_X=1\n"), -EINVAL);
	CHECK_INT(parse("ROOT_FSTYPE=Ext4\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: ROOT_FSTYPE: 'Ext4' is not a file-system type name");
}

static void mount_option_values(void)
{
	CHECK_INT(parse("DATA_OPTIONS=ro,nosiud\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: DATA_OPTIONS: unknown mount option 'nosiud'");
	CHECK_INT(parse("DATA_OPTIONS=ro,,nodev\n"), -EINVAL);
	CHECK_INT(parse("DATA_OPTIONS=ro,\n"), -EINVAL);
	CHECK_INT(parse("DATA_OPTIONS=ro,noload,errors=panic\n"), 0);
}

static void mountopts_table(void)
{
	struct mount_opts mo;
	char s[128];
	CHECK_INT(mountopts_parse("ro,nodev,nosuid,noexec", &mo, err, sizeof(err)), 0);
	CHECK_INT(mo.flags, MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC);
	CHECK_STR(mo.data, "");
	mountopts_flags_str(mo.flags, s, sizeof(s));
	CHECK_STR(s, "ro,nosuid,nodev,noexec");
	CHECK_INT(mountopts_parse("ro,rw,noatime,size=10%,mode=1777,noload", &mo, err, sizeof(err)), 0);
	CHECK_INT(mo.flags, MS_NOATIME);
	CHECK_STR(mo.data, "size=10%,mode=1777,noload");
	CHECK_INT(mountopts_parse("ro,x=\"y\"", &mo, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "bad character in mount option 'x=\"y\"'");
	CHECK_INT(mountopts_parse("=x", &mo, err, sizeof(err)), -EINVAL);
}

static void cmdline_allow_list(void)
{
	config_defaults(&cfg);
	CHECK_INT(config_parse_cmdline(&cfg,
				       "BOOT_IMAGE=/vmlinuz console=ttyS0 cvminit.part_timeout=3 "
				       "cvminit.on_failure=reboot quiet\n",
				       err, sizeof(err)),
		  0);
	CHECK_INT(cfg_uint(&cfg, CFG_PART_TIMEOUT), 3);
	CHECK_STR(cfg_str(&cfg, CFG_ON_FAILURE), "reboot");
	CHECK_INT(cfg.src[CFG_ON_FAILURE], CS_CMDLINE);
}

static void cmdline_overrides_file(void)
{
	CHECK_INT(parse("PART_TIMEOUT=30\n"), 0);
	CHECK_INT(config_parse_cmdline(&cfg, "cvminit.part_timeout=5", err, sizeof(err)), 0);
	CHECK_INT(cfg_uint(&cfg, CFG_PART_TIMEOUT), 5);
}

static void cmdline_errors(void)
{
	config_defaults(&cfg);
	CHECK_INT(config_parse_cmdline(&cfg, "quiet cvminit.launcher=/bin/sh", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "kernel command line: unknown parameter cvminit.launcher");
	CHECK_INT(config_parse_cmdline(&cfg, "cvminit.debug", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "kernel command line: cvminit.debug needs a value (cvminit.debug=...)");
	CHECK_INT(config_parse_cmdline(&cfg, "cvminit.debug=yes cvminit.debug=no", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "kernel command line: cvminit.debug given twice");
	CHECK_INT(config_parse_cmdline(&cfg, "cvminit.part_timeout=0", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "kernel command line: PART_TIMEOUT: 0 is outside 1..600");
}

static void cmdline_quotes_and_init_args(void)
{
	config_defaults(&cfg);
	CHECK_INT(config_parse_cmdline(&cfg, "a=\"x y cvminit.bogus=1\" cvminit.debug=\"yes\"", err, sizeof(err)),
		  0);
	CHECK_STR(cfg_str(&cfg, CFG_DEBUG), "yes");
	/* Words after "--" are init's arguments, not parameters. */
	CHECK_INT(config_parse_cmdline(&cfg, "quiet -- cvminit.bogus=1", err, sizeof(err)), 0);
}

static void canonical_text_and_args(void)
{
	char buf[16384];
	config_defaults(&cfg);
	int n = config_canonical(&cfg, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(!strncmp(buf, "ON_FAILURE=poweroff\nDEBUG=no\nPART_TIMEOUT=10\n", 45));
	CHECK(strstr(buf, "\nLAUNCHER_CWD=/\n") != NULL);
	CHECK_INT(config_canonical(&cfg, buf, 10), -ENOSPC);

	char abuf[256];
	char *argv[CONFIG_ARGS_MAX];
	CHECK_INT(config_split_args("  a  b\tc ", abuf, sizeof(abuf), argv, CONFIG_ARGS_MAX), 3);
	CHECK_STR(argv[0], "a");
	CHECK_STR(argv[2], "c");
	CHECK_INT(config_split_args("a b c", abuf, sizeof(abuf), argv, 2), -E2BIG);
	CHECK_INT(config_split_args("", abuf, sizeof(abuf), argv, 2), 0);
}

static void verity_values(void)
{
	const char *h = "BOOT_VERITY_ROOTHASH=0123456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef\n";
	CHECK_INT(parse(h), 0);
	CHECK_INT(parse("BOOT_VERITY_ROOTHASH=0123\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: BOOT_VERITY_ROOTHASH: expected 64 hex digits (a sha256 root hash) or none");
	CHECK_INT(parse("CONFIG_VERITY_HASH=PARTLABEL=cvm-config-hash\n"), 0);
	CHECK_INT(parse("CONFIG_VERITY_HASH=none\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: CONFIG_VERITY_HASH: expected appended, PARTLABEL=<name> or PARTUUID=<uuid>");
	CHECK_INT(parse("CONFIG_VERITY_HASH_OFFSET=8392704\n"), 0);
	CHECK_INT(parse("CONFIG_VERITY_HASH_OFFSET=8392705\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: CONFIG_VERITY_HASH_OFFSET: '8392705' is not a byte count that is a multiple of 4096");
	CHECK_INT(parse("CONFIG_VERITY_HASH_OFFSET=99999999999999999999\n"), -EINVAL);
	CHECK_INT(parse("BOOT_VERITY_SALT=00ff\n"), 0);
	CHECK_INT(parse("BOOT_VERITY_SALT=0\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: BOOT_VERITY_SALT: expected an even number of hex digits, at most 256 bytes");
	CHECK_INT(parse("BOOT_VERITY_SALT=\"\"\n"), 0);
	CHECK_INT(parse("VERITY_ON_CORRUPTION=ignore\n"), -EINVAL);
	CHECK_INT(parse("VERITY_PREVERIFY=all\n"), 0);
}

static int policy(const char *text, bool test_build)
{
	int r = parse(text);
	if (r < 0)
		return r;
	err[0] = '\0';
	return config_check_policy(&cfg, test_build, err, sizeof(err));
}

#define RH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define KEYS_OK "ROOT_KEY_SOURCE=snp-derived\nSNP_KEY_MIN_TCB=7308000000000003\nJOBS_PART=none\n"

static void release_requires_protection(void)
{
	CHECK_INT(policy("ROOT_ENCRYPTION=luks\n", false), -EINVAL);
	CHECK_STR(err, "BOOT_VERITY_ROOTHASH is not set: a release build mounts p2 only through dm-verity");
	CHECK_INT(policy("BOOT_PART=none\n", false), -EINVAL);
	CHECK_STR(err, "CONFIG_VERITY_ROOTHASH is not set: a release build mounts p4 only through dm-verity");
	CHECK_INT(policy("BOOT_PART=none\nCONFIG_VERITY_ROOTHASH=" RH "\n", false), -EINVAL);
	CHECK_STR(err, "CONFIG_VERITY_HASH_OFFSET must give the data size when the hash tree is appended");
	/* (with key sources the release key-source policy accepts: tests/test_plan.c) */
	CHECK_INT(policy("BOOT_PART=none\nCONFIG_VERITY_ROOTHASH=" RH "\nCONFIG_VERITY_HASH_OFFSET=4096\n" KEYS_OK, false),
		  0);
	CHECK_INT(policy("BOOT_PART=none\nCONFIG_VERITY_ROOTHASH=" RH "\nCONFIG_VERITY_HASH=PARTLABEL=h\n"
			 "CONFIG_VERITY_DATA_SIZE=8192\n" KEYS_OK,
			 false),
		  0);
	CHECK_INT(policy("BOOT_PART=none\nCONFIG_VERITY_ROOTHASH=" RH
			 "\nCONFIG_VERITY_HASH_OFFSET=4096\nROOT_ENCRYPTION=none\n",
			 false),
		  -EINVAL);
	CHECK_STR(err, "ROOT_ENCRYPTION=none: a release build mounts p3 only through LUKS2");
	CHECK_INT(policy("BOOT_PART=none\nBOOT_VERITY_ROOTHASH=" RH "\n", true), -EINVAL);
	CHECK_STR(err, "BOOT_VERITY_ROOTHASH is set but BOOT_PART=none");
}

/* Issue 12: p6 may have dm-verity (never required), and a separate hash
 * partition needs the data size pinned, for every volume. */
static void verity_data_size_rules(void)
{
	CHECK_INT(policy("BOOT_PART=none\nCONFIG_VERITY_ROOTHASH=" RH "\nCONFIG_VERITY_HASH=PARTLABEL=h\n", false),
		  -EINVAL);
	CHECK_STR(err, "CONFIG_VERITY_DATA_SIZE must give the data size when the hash tree is on its own partition "
		       "(CONFIG_VERITY_HASH)");
	CHECK_INT(policy("BOOT_VERITY_ROOTHASH=" RH "\nBOOT_VERITY_HASH=PARTLABEL=h\n", true), -EINVAL);
	CHECK_STR(err, "BOOT_VERITY_DATA_SIZE must give the data size when the hash tree is on its own partition "
		       "(BOOT_VERITY_HASH)");
	CHECK_INT(policy("BOOT_VERITY_ROOTHASH=" RH "\nBOOT_VERITY_HASH=PARTLABEL=h\nBOOT_VERITY_DATA_SIZE=4097\n", true),
		  -EINVAL);
	CHECK_STR(err, "c.conf:3: BOOT_VERITY_DATA_SIZE: '4097' is not a byte count that is a multiple of 4096");
	CHECK_INT(policy("BOOT_VERITY_ROOTHASH=" RH "\nBOOT_VERITY_HASH=PARTLABEL=h\nBOOT_VERITY_DATA_SIZE=4096\n", true),
		  0);
	/* appended: HASH_OFFSET is the data size; a DATA_SIZE must agree */
	CHECK_INT(policy("BOOT_VERITY_ROOTHASH=" RH "\nBOOT_VERITY_HASH_OFFSET=8192\nBOOT_VERITY_DATA_SIZE=4096\n", true),
		  -EINVAL);
	CHECK_STR(err, "BOOT_VERITY_DATA_SIZE=4096 differs from BOOT_VERITY_HASH_OFFSET=8192 (with the tree appended, "
		       "the data ends where it starts)");
	CHECK_INT(policy("BOOT_VERITY_ROOTHASH=" RH "\nBOOT_VERITY_HASH_OFFSET=8192\nBOOT_VERITY_DATA_SIZE=8192\n", true),
		  0);
	/* a hash partition without a root hash would be waited for, never used */
	CHECK_INT(policy("DATA_VERITY_HASH=PARTLABEL=h\n", true), -EINVAL);
	CHECK_STR(err, "DATA_VERITY_HASH names a hash partition but DATA_VERITY_ROOTHASH=none");
	/* p6: optional in a release build too; its geometry rules are p2's */
	CHECK_INT(policy("BOOT_PART=none\nCONFIG_VERITY_ROOTHASH=" RH "\nCONFIG_VERITY_HASH_OFFSET=4096\n" KEYS_OK, false),
		  0);
	CHECK_INT(policy("BOOT_PART=none\nCONFIG_VERITY_ROOTHASH=" RH "\nCONFIG_VERITY_HASH_OFFSET=4096\n"
			 "DATA_VERITY_ROOTHASH=" RH "\n" KEYS_OK,
			 false),
		  -EINVAL);
	CHECK_STR(err, "DATA_VERITY_HASH_OFFSET must give the data size when the hash tree is appended");
	CHECK_INT(policy("DATA_VERITY_ROOTHASH=" RH "\nDATA_VERITY_HASH=PARTLABEL=cvm-data-verity\n", true), -EINVAL);
	CHECK_STR(err, "DATA_VERITY_DATA_SIZE must give the data size when the hash tree is on its own partition "
		       "(DATA_VERITY_HASH)");
	CHECK_INT(policy("DATA_VERITY_ROOTHASH=" RH "\nDATA_VERITY_HASH=PARTLABEL=cvm-data-verity\n"
			 "DATA_VERITY_DATA_SIZE=8388608\n",
			 true),
		  0);
	CHECK_INT(policy("DATA_PART=none\nDATA_VERITY_ROOTHASH=" RH "\nDATA_VERITY_HASH_OFFSET=4096\n", true), -EINVAL);
	CHECK_STR(err, "DATA_VERITY_ROOTHASH is set but DATA_PART=none");
	CHECK_INT(parse("VERITY_PREVERIFY=data\n"), 0);
	CHECK_INT(parse("cvminit.data_roothash=" RH "\n"), -EINVAL);
	config_defaults(&cfg);
	CHECK_INT(config_parse_cmdline(&cfg, "quiet cvminit.data_roothash=" RH, err, sizeof(err)), 0);
	CHECK_STR(cfg_str(&cfg, CFG_DATA_VERITY_ROOTHASH), RH);
}

/* noload (no replay of the host's journal) is on by default; it is an
 * ext3/ext4 option, so another DATA_FSTYPE needs DATA_OPTIONS without it. */
static void data_noload_rules(void)
{
	struct mount_opts mo;

	CHECK_INT(policy("", true), 0);
	CHECK_INT(mountopts_parse(cfg_str(&cfg, CFG_DATA_OPTIONS), &mo, err, sizeof(err)), 0);
	CHECK_STR(mo.data, "noload");
	CHECK(mo.flags & MS_RDONLY);
	CHECK_INT(policy("DATA_FSTYPE=xfs\n", true), -EINVAL);
	CHECK_STR(err, "DATA_OPTIONS has noload (no journal replay), an ext3/ext4 option, but DATA_FSTYPE=xfs: set "
		       "DATA_OPTIONS without it (and that file system's own no-replay option, if any)");
	CHECK_INT(policy("DATA_FSTYPE=xfs\nDATA_OPTIONS=ro,nodev,nosuid,noexec,norecovery\n", true), 0);
	CHECK_INT(policy("DATA_FSTYPE=ext3\n", true), 0);
	CHECK_INT(policy("DATA_FSTYPE=xfs\nDATA_PART=none\n", true), 0);
	/* removing it is allowed (the mount stage then warns) */
	CHECK_INT(policy("DATA_OPTIONS=ro,nodev,nosuid,noexec\n", true), 0);
	CHECK_INT(policy("DATA_FSTYPE=vfat\nDATA_OPTIONS=ro,noload2=1\n", true), 0);
}

static void tpm2_rules(void)
{
	CHECK_INT(policy("ROOT_KEY_SOURCE=tpm2\nTPM_MEASURE=none\n", true), -EINVAL);
	CHECK_STR(err, "ROOT_KEY_SOURCE=tpm2 needs the measurements it is sealed to: TPM_MEASURE=none is not allowed");
	CHECK_INT(policy("JOBS_KEY_SOURCE=tpm2\n", true), -EINVAL);
	CHECK_STR(err, "JOBS_KEY_SOURCE=tpm2: the job store's key belongs to the model owner, not to this machine");
	CHECK_INT(policy("ROOT_KEY_SOURCE=tpm2\nROOT_TPM2_FALLBACK=prompt\n", true), 0);
	CHECK_INT(parse("MEASURE_PCR=16\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: MEASURE_PCR: 16 is outside 8..15");
}

static void snp_key_rules(void)
{
	CHECK_INT(parse("SNP_KEY_FIELDS=measurement,policy,guest-svn\n"), 0);
	CHECK_INT(parse("SNP_KEY_FIELDS=measurement,measurement\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: SNP_KEY_FIELDS: 'measurement,measurement' is not a comma-separated list of distinct "
		       "words from policy|image-id|family-id|measurement|guest-svn|tcb-version");
	CHECK_INT(parse("SNP_KEY_FIELDS=measurement,\n"), -EINVAL);
	CHECK_INT(parse("SNP_KEY_FIELDS=host-data\n"), -EINVAL);
	CHECK_INT(parse("SNP_KEY_FIELDS=\"\"\n"), -EINVAL);
	CHECK_INT(policy("ROOT_ENROLL=yes\n", true), -EINVAL);
	CHECK_STR(err, "ROOT_ENROLL=yes enrolls the snp-derived key: it needs ROOT_KEY_SOURCE=snp-derived");
	CHECK_INT(policy("ROOT_ENROLL=yes\nROOT_KEY_SOURCE=snp-derived\n", true), 0);
	CHECK_INT(policy("JOBS_KEY_SOURCE=snp-derived\n", true), -EINVAL);
	/* the TCB floor: a whole TCB_VERSION or nothing */
	CHECK_INT(policy("SNP_KEY_MIN_TCB=7308000000000003\n", true), 0);
	CHECK_INT(policy("SNP_KEY_MIN_TCB=\"\"\n", true), 0);
	CHECK_INT(policy("SNP_KEY_MIN_TCB=73080003\n", true), -EINVAL);
	CHECK_STR(err, "SNP_KEY_MIN_TCB: expected 16 hex digits (the 8 bytes of a TCB_VERSION), or empty");
	CHECK_INT(parse("SNP_KEY_MIN_TCB=7308000000000003aa\n"), -EINVAL);
	CHECK_INT(policy("SNP_KEY_FIELDS=measurement,tcb-version\n", true), -EINVAL);
	CHECK_STR(err, "SNP_KEY_FIELDS has tcb-version but SNP_KEY_MIN_TCB is empty: set the floor it binds to");
	CHECK_INT(policy("SNP_KEY_FIELDS=measurement,tcb-version\nSNP_KEY_MIN_TCB=7308000000000003\n", true), 0);
#ifdef CVMINIT_TEST_BUILD
	CHECK_INT(parse("MOCK_TEE_TCB=7308000000000003\n"), 0);
	CHECK_INT(parse("MOCK_TEE_TCB=\"\"\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: MOCK_TEE_TCB: expected exactly 16 hex digits");
	CHECK_INT(parse("MOCK_TEE_TCB=73080000000003\n"), -EINVAL);
#endif
}

/* The superblock's data_blocks and the partition's size against the pinned
 * size (crypto/verity_geometry.c): one line, the volume and both values. */
static void verity_geometry(void)
{
	struct verity_geometry g = { "data", "/dev/vda7", "/dev/vda6", "DATA_VERITY_DATA_SIZE", 8388608, 2048,
				     8388608 };

	CHECK_INT(verity_geometry_check(&g, err, sizeof(err)), 0);
	g.part_bytes = 9437184; /* a partition larger than the data is fine */
	CHECK_INT(verity_geometry_check(&g, err, sizeof(err)), 0);
	g.sb_blocks = 1024; /* the host shrank data_blocks */
	CHECK_INT(verity_geometry_check(&g, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "data: the dm-verity superblock on /dev/vda7 covers 4194304 bytes of data but "
		       "DATA_VERITY_DATA_SIZE=8388608");
	g.sb_blocks = 2048;
	g.part_bytes = 4194304; /* a shorter partition with the genuine superblock */
	CHECK_INT(verity_geometry_check(&g, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "data: /dev/vda6 is 4194304 bytes, shorter than DATA_VERITY_DATA_SIZE=8388608");
	g.sb_blocks = UINT64_MAX / 2; /* no overflow into a match */
	g.want = 0;
	CHECK_INT(verity_geometry_check(&g, err, sizeof(err)), -EINVAL);
}

static void volume_key_pins(void)
{
	CHECK_INT(policy("ROOT_VOLUME_KEY_PIN=" RH "\nJOBS_VOLUME_KEY_PIN=" RH "\n", true), 0);
	CHECK_INT(policy("ROOT_VOLUME_KEY_PIN=\"\"\n", true), 0);
	CHECK_INT(policy("ROOT_VOLUME_KEY_PIN=0123456789abcdef\n", true), -EINVAL);
	CHECK_STR(err, "ROOT_VOLUME_KEY_PIN: expected 64 hex digits (HMAC-SHA256 of the volume key; see cvminit "
		       "measure), or empty");
	CHECK_INT(policy("JOBS_VOLUME_KEY_PIN=00\n", true), -EINVAL);
	CHECK_STR(err, "JOBS_VOLUME_KEY_PIN: expected 64 hex digits (HMAC-SHA256 of the volume key; see cvminit "
		       "measure), or empty");
	CHECK_INT(parse("ROOT_VOLUME_KEY_PIN=" RH "zz\n"), -EINVAL);
}

static void test_build_allows_plain(void)
{
	CHECK_INT(policy("ROOT_ENCRYPTION=none\nJOB_STORE_ENCRYPTION=none\n", true), 0);
}

static void key_sources_of_this_build(void)
{
#ifdef CVMINIT_TEST_BUILD
	CHECK_INT(parse("ROOT_KEY_SOURCE=keyfile\nROOT_KEYFILE=/etc/cvminit/keys/r\n"), 0);
	CHECK_STR(cfg_str(&cfg, CFG_ROOT_KEYFILE), "/etc/cvminit/keys/r");
#else
	/* The release build does not even know the key-file source. */
	CHECK_INT(parse("ROOT_KEY_SOURCE=keyfile\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: ROOT_KEY_SOURCE: 'keyfile' is not one of prompt|tpm2|snp-derived|kbs");
	CHECK_INT(parse("ROOT_KEYFILE=/etc/cvminit/keys/r\n"), -EINVAL);
	CHECK_STR(err, "c.conf:1: unknown key ROOT_KEYFILE");
#endif
	CHECK_INT(parse("JOBS_KEY_SOURCE=prompt\nPROMPT_TRIES=10\n"), 0);
	CHECK_INT(parse("PROMPT_TRIES=11\n"), -EINVAL);
}

static void readme_documents_every_key(void)
{
	FILE *f = fopen("README.md", "r");
	static char text[1 << 17];
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	CHECK(n > 0);
	for (int i = 0; i < CFG__COUNT; i++) {
		char cell[80];
		snprintf(cell, sizeof(cell), "| `%s` |", cfg_defs[i].name);
		if (!strstr(text, cell))
			TH_FAIL("README.md lacks a table row for %s", cfg_defs[i].name);
		if (cfg_defs[i].param && !strstr(text, cfg_defs[i].param))
			TH_FAIL("README.md does not mention %s", cfg_defs[i].param);
	}
}

int main(void)
{
	TEST(defaults_are_valid);
	TEST(parses_values_and_comments);
	TEST(last_line_without_newline);
	TEST(unknown_key_names_key_and_line);
	TEST(duplicate_key);
	TEST(bad_enum_value);
	TEST(bad_uint_values);
	TEST(over_long_line);
	TEST(over_long_value);
	TEST(syntax_errors);
	TEST(too_large_file);
	TEST(path_values);
	TEST(partition_refs);
	TEST(partref_normalises_uuid);
	TEST(sizes);
	TEST(mount_option_values);
	TEST(mountopts_table);
	TEST(cmdline_allow_list);
	TEST(cmdline_overrides_file);
	TEST(cmdline_errors);
	TEST(cmdline_quotes_and_init_args);
	TEST(canonical_text_and_args);
	TEST(verity_values);
	TEST(release_requires_protection);
	TEST(test_build_allows_plain);
	TEST(verity_data_size_rules);
	TEST(data_noload_rules);
	TEST(tpm2_rules);
	TEST(verity_geometry);
	TEST(snp_key_rules);
	TEST(volume_key_pins);
	TEST(key_sources_of_this_build);
	TEST(readme_documents_every_key);
	return TH_END();
}
