/* The typed boot plan (init/plan.c): what plan_build makes of a
 * configuration, and the one policy over it, plan_check: the rules across
 * keys, the release build's protections, and the release key-source policy
 * (README: "Release key-source policy") row by row, with its exact messages,
 * under the release and the test rules. Built with both schemas. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "init/config.h"
#include "init/plan.h"
#include "tests/harness.h"

#ifdef CVMINIT_TEST_BUILD
TH_DEFINE("plan-testbuild");
#define TEST_BUILD true
#else
TH_DEFINE("plan");
#define TEST_BUILD false
#endif

static struct cvm_config cfg;
static struct boot_plan plan;
static char err[512];

#define RH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define PIN "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
/* p2 and p4 under dm-verity: what a release build needs before any key rule */
#define VERITY "BOOT_VERITY_ROOTHASH=" RH "\nBOOT_VERITY_HASH_OFFSET=4096\nCONFIG_VERITY_ROOTHASH=" RH \
	       "\nCONFIG_VERITY_HASH=PARTLABEL=cvm-config-hash\nCONFIG_VERITY_DATA_SIZE=8192\n"

static int build(const char *text)
{
	config_defaults(&cfg);
	err[0] = '\0';
	int r = config_parse_file(&cfg, text, strlen(text), "c.conf", err, sizeof(err));
	if (r < 0) {
		TH_FAIL("parse: %s", err);
		return r;
	}
	return plan_build(&cfg, TEST_BUILD, &plan, err, sizeof(err));
}

/* plan_check over the plan of VERITY + text, with the given rules */
static int check(const char *text, bool release_rules)
{
	char full[2048];
	snprintf(full, sizeof(full), "%s%s", VERITY, text);
	int r = build(full);
	if (r < 0)
		return r;
	err[0] = '\0';
	return plan_check(&plan, release_rules, err, sizeof(err));
}

/* release rules: refused with exactly msg; test rules: accepted */
static void refused(const char *text, const char *msg)
{
	CHECK_INT(check(text, true), -EINVAL);
	CHECK_STR(err, msg);
	CHECK_INT(check(text, false), 0);
}

static void accepted(const char *text)
{
	CHECK_INT(check(text, true), 0);
	if (err[0])
		TH_FAIL("unexpected: %s", err);
	CHECK_INT(check(text, false), 0);
}

#define M_ROOT_PROMPT \
	"ROOT_KEY_SOURCE=prompt: a key typed on the console is read by the host; set ROOT_DELIVERY_PUBKEY (p3's " \
	"key then arrives only as a wrapped line the image builder signed), or use snp-derived, or tpm2 with " \
	"TPM_IN_TEE=yes and ROOT_VOLUME_KEY_PIN"
#define M_TPM_HOST                                                                                             \
	"ROOT_KEY_SOURCE=tpm2: a TPM outside the TEE is the host's, which can unseal what is sealed to it; set " \
	"TPM_IN_TEE=yes only for a vTPM inside the TEE (SVSM or paravisor)"
#define M_TPM_PIN                                                                                              \
	"ROOT_KEY_SOURCE=tpm2 needs ROOT_VOLUME_KEY_PIN: anyone can seal a key of their own to the TPM for a "  \
	"volume of their own"
#define M_TPM_FALLBACK \
	"ROOT_TPM2_FALLBACK=prompt: a recovery key typed on the console is read by the host; set " \
	"ROOT_DELIVERY_PUBKEY (the recovery key then arrives only as a signed wrapped line) or ROOT_TPM2_FALLBACK=none"
#define M_SNP_TCB                                                                                              \
	"ROOT_KEY_SOURCE=snp-derived needs SNP_KEY_MIN_TCB: without a TCB floor the host can roll the "         \
	"firmware back and still get the key"
#define M_ENROLL_PROMPT \
	"ROOT_ENROLL=yes with ROOT_PROVISION_SOURCE=prompt: a provisioning secret typed on the console is read " \
	"by the host; set ROOT_DELIVERY_PUBKEY (the secret then arrives only as a wrapped line the image builder " \
	"signed)"
#define M_ENROLL_PIN                                                                                           \
	"ROOT_ENROLL=yes needs ROOT_VOLUME_KEY_PIN: the host could serve a volume of its own for the "          \
	"snp-derived key to be enrolled into"
#define M_JOBS_TYPED_PIN                                                                                       \
	"JOBS_TYPED_PASSPHRASE=allow needs JOBS_VOLUME_KEY_PIN: the host reads the typed passphrase and could " \
	"serve a volume of its own that it opens"
#define M_JOBS_NO_WRAP                                                                                         \
	"JOBS_KEY_WRAPPING=no: p5's prompt accepts only cvminit-wrapped keys (JOBS_TYPED_PASSPHRASE=refuse), "   \
	"so no key could open p5"
#define M_JOBS_PIN \
	"JOBS_KEY_SOURCE=prompt needs JOBS_OWNER_PUBKEY: anyone who sees the challenge can wrap a key of their " \
	"own, so p5 accepts only lines the owner signed (cvminit key pubkey prints the key to pin)"

/* p3 from a good source and p5 pinned: the key rules below see one volume at a time */
#define ROOT_OK "ROOT_KEY_SOURCE=snp-derived\nSNP_KEY_MIN_TCB=7308000000000003\n"
/* an uncompressed P-384 point: the plan checks its form, not the curve */
#define SIGNER "04" RH RH RH
#define JOBS_OK "JOBS_OWNER_PUBKEY=" SIGNER "\n"
#define JOBS_PIN "JOBS_VOLUME_KEY_PIN=" PIN "\n"

static void root_typed_key_refused(void)
{
	refused(JOBS_OK, M_ROOT_PROMPT); /* the default source */
	refused("ROOT_KEY_SOURCE=prompt\n" JOBS_OK, M_ROOT_PROMPT);
	/* no prompt for a plain p3 (test builds only) */
#ifdef CVMINIT_TEST_BUILD
	CHECK_INT(check("ROOT_ENCRYPTION=none\n" JOBS_OK, true), 0);
#endif
}

static void root_tpm2_needs_tee_and_pin(void)
{
	refused("ROOT_KEY_SOURCE=tpm2\n" JOBS_OK, M_TPM_HOST);
	refused("ROOT_KEY_SOURCE=tpm2\nROOT_VOLUME_KEY_PIN=" PIN "\n" JOBS_OK, M_TPM_HOST);
	refused("ROOT_KEY_SOURCE=tpm2\nTPM_IN_TEE=yes\n" JOBS_OK, M_TPM_PIN);
	refused("ROOT_KEY_SOURCE=tpm2\nTPM_IN_TEE=yes\nROOT_VOLUME_KEY_PIN=" PIN "\nROOT_TPM2_FALLBACK=prompt\n" JOBS_OK,
		M_TPM_FALLBACK);
	accepted("ROOT_KEY_SOURCE=tpm2\nTPM_IN_TEE=yes\nROOT_VOLUME_KEY_PIN=" PIN "\n" JOBS_OK);
	/* the rule across keys comes first, under either rules */
	CHECK_INT(check("ROOT_KEY_SOURCE=tpm2\nTPM_MEASURE=none\n", false), -EINVAL);
	CHECK_STR(err, "ROOT_KEY_SOURCE=tpm2 needs the measurements it is sealed to: TPM_MEASURE=none is not allowed");
}

static void root_snp_derived_needs_tcb_floor(void)
{
	refused("ROOT_KEY_SOURCE=snp-derived\n" JOBS_OK, M_SNP_TCB);
	accepted(ROOT_OK JOBS_OK);
	/* enrollment: the typed provisioning secret is refused first, then the pin */
	refused(ROOT_OK "ROOT_ENROLL=yes\n" JOBS_OK, M_ENROLL_PROMPT);
	refused(ROOT_OK "ROOT_ENROLL=yes\nROOT_VOLUME_KEY_PIN=" PIN "\n" JOBS_OK, M_ENROLL_PROMPT);
#ifdef CVMINIT_TEST_BUILD
	refused(ROOT_OK "ROOT_ENROLL=yes\nROOT_PROVISION_SOURCE=keyfile\n" JOBS_OK, M_ENROLL_PIN);
	accepted(ROOT_OK "ROOT_ENROLL=yes\nROOT_PROVISION_SOURCE=keyfile\nROOT_VOLUME_KEY_PIN=" PIN "\n" JOBS_OK);
#endif
	/* a provisioning prompt that is never reached (no enrollment) is no reason */
	accepted(ROOT_OK "ROOT_PROVISION_SOURCE=prompt\n" JOBS_OK);
}

static void jobs_prompt_rules(void)
{
	refused(ROOT_OK, M_JOBS_PIN);
	refused(ROOT_OK "JOBS_TYPED_PASSPHRASE=allow\n", M_JOBS_TYPED_PIN);
	refused(ROOT_OK "JOBS_KEY_WRAPPING=no\n" JOBS_PIN, M_JOBS_NO_WRAP);
	accepted(ROOT_OK "JOBS_KEY_WRAPPING=no\nJOBS_TYPED_PASSPHRASE=allow\n" JOBS_PIN);
	accepted(ROOT_OK "JOBS_TYPED_PASSPHRASE=allow\n" JOBS_PIN);
	/* the owner's key pinned: wrapped lines are authenticated, no pin needed */
	accepted(ROOT_OK JOBS_OK);
	/* no p5, or a plain p5: no prompt, no rule */
	accepted(ROOT_OK "JOBS_PART=none\n");
	accepted(ROOT_OK "JOB_STORE_ENCRYPTION=none\n");
	/* the owner's key never comes from this machine, under either rules */
	CHECK_INT(check(ROOT_OK "JOBS_KEY_SOURCE=tpm2\n", false), -EINVAL);
	CHECK_STR(err, "JOBS_KEY_SOURCE=tpm2: the job store's key belongs to the model owner, not to this machine");
	CHECK_INT(check(ROOT_OK "JOBS_KEY_SOURCE=snp-derived\n", false), -EINVAL);
	CHECK_STR(err, "JOBS_KEY_SOURCE=snp-derived: the job store's key belongs to the model owner, not to this machine");
}

static void keyfile_is_a_test_stand_in(void)
{
#ifdef CVMINIT_TEST_BUILD
	/* key files exist only in test builds; the release rules let them stand
	 * in for a private source, so QEMU scenarios can show the other rules */
	accepted("ROOT_KEY_SOURCE=keyfile\nJOBS_KEY_SOURCE=keyfile\n");
#else
	config_defaults(&cfg); /* the release schema does not know the word */
	CHECK_INT(config_parse_file(&cfg, "ROOT_KEY_SOURCE=keyfile\n", 24, "c.conf", err, sizeof(err)), -EINVAL);
#endif
}

static void typed_rules_per_prompt(void)
{
	CHECK_INT(build(VERITY), 0);
	CHECK(plan.release_rules == !TEST_BUILD);
	CHECK(plan.test_build == TEST_BUILD);
	if (TEST_BUILD) {
		CHECK_INT(plan.typed[PROMPT_ROOT], TYPED_ACCEPT);
		CHECK_INT(plan.typed[PROMPT_ROOT_RECOVERY], TYPED_ACCEPT);
		CHECK_INT(plan.typed[PROMPT_ROOT_PROVISION], TYPED_ACCEPT);
		CHECK_INT(plan.typed[PROMPT_JOBS], TYPED_ACCEPT);
	} else {
		CHECK_INT(plan.typed[PROMPT_ROOT], TYPED_REFUSE);
		CHECK_INT(plan.typed[PROMPT_ROOT_RECOVERY], TYPED_REFUSE);
		CHECK_INT(plan.typed[PROMPT_ROOT_PROVISION], TYPED_REFUSE);
		CHECK_INT(plan.typed[PROMPT_JOBS], TYPED_WRAPPED_ONLY);
	}
	/* allowed explicitly: accepted, and every boot says the host reads it */
	CHECK_INT(build(VERITY "JOBS_TYPED_PASSPHRASE=allow\n"), 0);
	CHECK_INT(plan.typed[PROMPT_JOBS], TYPED_ACCEPT_WARN);
}

static void mock_release_policy(void)
{
#ifdef CVMINIT_TEST_BUILD
	/* a test build applies the release key-source rules on request, and
	 * keeps its own structural ones (no verity needed, plain p3 allowed) */
	config_defaults(&cfg);
	CHECK_INT(config_parse_file(&cfg, "MOCK_RELEASE_POLICY=yes\n", 24, "c.conf", err, sizeof(err)), 0);
	CHECK_INT(config_check_policy(&cfg, true, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, M_ROOT_PROMPT);
	CHECK_INT(plan_build(&cfg, true, &plan, err, sizeof(err)), 0);
	CHECK(plan.release_rules);
	CHECK_INT(plan.typed[PROMPT_ROOT], TYPED_REFUSE);
	CHECK_INT(plan.typed[PROMPT_JOBS], TYPED_WRAPPED_ONLY);
	config_defaults(&cfg);
	CHECK_INT(config_check_policy(&cfg, true, err, sizeof(err)), 0);
	const char *plain = "MOCK_RELEASE_POLICY=yes\nROOT_ENCRYPTION=none\nJOBS_OWNER_PUBKEY=" SIGNER "\n";
	CHECK_INT(config_parse_file(&cfg, plain, strlen(plain), "c.conf", err, sizeof(err)), 0);
	CHECK_INT(config_check_policy(&cfg, true, err, sizeof(err)), 0);
#else
	/* the release build: its default configuration (with p2/p4 verified)
	 * stops at the typed p3 key */
	config_defaults(&cfg);
	CHECK_INT(config_parse_file(&cfg, VERITY, strlen(VERITY), "c.conf", err, sizeof(err)), 0);
	CHECK_INT(config_check_policy(&cfg, false, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, M_ROOT_PROMPT);
#endif
}

static void release_structure_rules_kept(void)
{
	/* config_check_policy's rules, unchanged, now over the plan */
	config_defaults(&cfg);
	CHECK_INT(plan_build(&cfg, false, &plan, err, sizeof(err)), 0);
	CHECK_INT(plan_check(&plan, true, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "BOOT_VERITY_ROOTHASH is not set: a release build mounts p2 only through dm-verity");
	CHECK_INT(build("BOOT_PART=none\nBOOT_VERITY_ROOTHASH=" RH "\n"), 0);
	CHECK_INT(plan_check(&plan, false, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "BOOT_VERITY_ROOTHASH is set but BOOT_PART=none");
	CHECK_INT(build("BOOT_PART=none\nCONFIG_VERITY_ROOTHASH=" RH "\n"), 0);
	CHECK_INT(plan_check(&plan, false, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "CONFIG_VERITY_HASH_OFFSET must give the data size when the hash tree is appended");
	CHECK_INT(build(VERITY "ROOT_ENROLL=yes\n"), 0);
	CHECK_INT(plan_check(&plan, false, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "ROOT_ENROLL=yes enrolls the snp-derived key: it needs ROOT_KEY_SOURCE=snp-derived");
#ifdef CVMINIT_TEST_BUILD
	CHECK_INT(build(VERITY "ROOT_ENCRYPTION=none\n"), 0);
	plan.test_build = false; /* the same plan in a release build */
	CHECK_INT(plan_check(&plan, false, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "ROOT_ENCRYPTION=none: a release build mounts p3 only through LUKS2");
#endif
}

static void volumes_are_typed(void)
{
	CHECK_INT(build(VERITY "BOOT_VERITY_SALT=00FF\nROOT_VOLUME_KEY_PIN=" PIN "\nJOBS_PART=none\n"
			"DATA_PART=PARTUUID=0fc63daf-8483-4772-8e79-3d69d8477de4\n"), 0);
	const struct vol_plan *v = plan.vol;
	CHECK_STR(v[PLAN_BOOT].name, "p2");
	CHECK_INT(v[PLAN_BOOT].prot, PROT_VERITY);
	CHECK_INT(v[PLAN_BOOT].ref.kind, PREF_LABEL);
	CHECK_STR(v[PLAN_BOOT].ref.value, "cvm-boot");
	CHECK_INT(v[PLAN_BOOT].verity.roothash[0], 0x01);
	CHECK_INT(v[PLAN_BOOT].verity.roothash[31], 0xef);
	CHECK(v[PLAN_BOOT].verity.hash_appended);
	CHECK_INT(v[PLAN_BOOT].verity.hash_offset, 4096);
	CHECK_INT(v[PLAN_BOOT].verity.salt_len, 2);
	CHECK_INT(v[PLAN_BOOT].verity.salt[1], 0xff);
	CHECK_INT(v[PLAN_CONFIG].prot, PROT_VERITY);
	CHECK(!v[PLAN_CONFIG].verity.hash_appended);
	CHECK_STR(v[PLAN_CONFIG].verity.hash_ref.value, "cvm-config-hash");
	CHECK_INT(v[PLAN_ROOT].prot, PROT_LUKS);
	CHECK_INT(v[PLAN_ROOT].ks, KS_PROMPT);
	CHECK(v[PLAN_ROOT].pinned);
	CHECK_INT(v[PLAN_ROOT].pin[0], 0x00);
	CHECK_INT(v[PLAN_ROOT].pin[1], 0x11);
	CHECK_INT(v[PLAN_ROOT].pin[31], 0xff);
	CHECK_INT(v[PLAN_JOBS].prot, PROT_ABSENT);
	CHECK(!v[PLAN_JOBS].pinned);
	CHECK_INT(v[PLAN_DATA].prot, PROT_PLAIN);
	CHECK_INT(v[PLAN_DATA].ref.kind, PREF_UUID);
	CHECK_INT(plan.prompt_tries, 3);
	CHECK(plan.sysctl_hardening);
	CHECK(plan.jobs_wrapping);
	CHECK_STR(plan.launcher, "/sbin/init");
	CHECK_INT(plan.tee, TEE_WANT_AUTO);
	CHECK(!plan.snp_min_tcb_set);
	CHECK_STR(v[PLAN_ROOT].mount, "/");
	CHECK_STR(v[PLAN_ROOT].options, "rw,nodev,nosuid");
	CHECK_STR(v[PLAN_JOBS].mount, "/opt/nvflare/jobs");
	CHECK_STR(v[PLAN_DATA].fstype, "ext4");
	CHECK_INT(plan.tpm_measure, TPM_MEASURE_AUTO);
	CHECK_INT(plan.measure_pcr, 15);
	CHECK_STR(plan.tpm_device, "/dev/tpmrm0");
	CHECK(!plan.on_failure_reboot && !plan.debug && plan.verity_panic);
	CHECK_INT(plan.part_timeout, 10);
	CHECK_INT(plan.snp_vmpl, 0);
	CHECK(!plan.snp_allow_migration_agent);
	CHECK_STR(plan.attest_nonce, "");
	CHECK(!v[PLAN_BOOT].verity.preverify && v[PLAN_CONFIG].verity.preverify); /* VERITY_PREVERIFY=config */
	CHECK_STR(plan.tmp_size, "25%");
	CHECK_STR(plan.shm_size, "10%");
	CHECK_INT(build("TEE=tdx\nTPM_IN_TEE=yes\nROOT_TPM2_FALLBACK=prompt\nPROMPT_TRIES=5\nTPM_MEASURE=required\n"
			"ON_FAILURE=reboot\nSNP_VMPL=2\nSNP_ALLOW_MIGRATION_AGENT=yes\nATTEST_NONCE=00ff\n"
			"VERITY_ON_CORRUPTION=restart\n"), 0);
	CHECK_INT(plan.tpm_measure, TPM_MEASURE_REQUIRED);
	CHECK(plan.on_failure_reboot && !plan.verity_panic && plan.snp_allow_migration_agent);
	CHECK_INT(plan.snp_vmpl, 2);
	CHECK_STR(plan.attest_nonce, "00ff");
	CHECK_INT(plan.tee, TEE_WANT_TDX);
	CHECK(plan.tpm_in_tee && plan.root_tpm2_fallback);
	CHECK_INT(plan.prompt_tries, 5);
	CHECK_INT(build(VERITY "VERITY_PREVERIFY=all\n"), 0);
	CHECK(plan.vol[PLAN_BOOT].verity.preverify && plan.vol[PLAN_CONFIG].verity.preverify);
	CHECK_INT(build(VERITY "VERITY_PREVERIFY=boot\n"), 0);
	CHECK(plan.vol[PLAN_BOOT].verity.preverify && !plan.vol[PLAN_CONFIG].verity.preverify);
}

static void pins_and_tcb_are_exact(void)
{
	CHECK_INT(build("ROOT_VOLUME_KEY_PIN=" PIN "\n"), 0);
	/* HEX lets any even count through; a pin is exactly 32 bytes */
	CHECK_INT(build("ROOT_VOLUME_KEY_PIN=0011\n"), -EINVAL);
	CHECK_STR(err, "ROOT_VOLUME_KEY_PIN: expected 64 hex digits (HMAC-SHA256 of the volume key; see cvminit "
		       "measure), or empty");
	CHECK_INT(build("JOBS_VOLUME_KEY_PIN=" RH "\n"), 0);
	CHECK(plan.vol[PLAN_JOBS].pinned);
	CHECK_INT(build("SNP_KEY_MIN_TCB=03000000\n"), -EINVAL);
	CHECK_STR(err, "SNP_KEY_MIN_TCB: expected 16 hex digits (the 8 bytes of a TCB_VERSION), or empty");
	/* the TCB_VERSION number as `cvminit report show` prints raw values
	 * (crypto/snp_params.c reads it the same way): microcode in the top byte */
	CHECK_INT(build("SNP_KEY_MIN_TCB=7308000000000003\n"), 0);
	CHECK(plan.snp_min_tcb_set);
	CHECK(plan.snp_min_tcb == 0x7308000000000003ull);
}

/* What the stages that used to read configuration strings now take from
 * the plan: the LUKS2 header policy, the snp-derived key's request (and the
 * texts its token records), the key files and MOCK_* keys of test builds,
 * and the hash partitions the partitions stage looks for. */
static void stage_inputs_are_typed(void)
{
	CHECK_INT(build(""), 0);
	CHECK_STR(plan.luks.ciphers, "aes-xts-plain64");
	CHECK_INT(plan.luks.sector_size, 512);
	CHECK(plan.luks.data_offset == 16777216ull);
	CHECK(plan.luks.enforce);
	CHECK(!plan.snp_key_vmrk);
	CHECK(plan.snp_key_fields == ((1ull << 3) | (1ull << 0))); /* measurement, policy */
	CHECK_STR(plan.snp_key_fields_text, "measurement,policy");
	CHECK_INT(plan.snp_key_svn, 0);
	CHECK_STR(plan.snp_min_tcb_text, "");
	CHECK_STR(tpm_measure_name(plan.tpm_measure), "auto");
	CHECK_STR(key_source_name(plan.vol[PLAN_ROOT].ks), "prompt");
	CHECK_INT(build("LUKS_CIPHERS=serpent-xts-plain64,aes-xts-plain64\nLUKS_SECTOR_SIZE=4096\n"
			"LUKS_DATA_OFFSET=33554432\nSNP_KEY_ROOT=vmrk\nSNP_KEY_FIELDS=tcb-version,image-id\n"
			"SNP_KEY_SVN=7\nSNP_KEY_MIN_TCB=D315000000000004\nTPM_MEASURE=none\n"), 0);
	CHECK_STR(plan.luks.ciphers, "serpent-xts-plain64,aes-xts-plain64");
	CHECK_INT(plan.luks.sector_size, 4096);
	CHECK(plan.luks.data_offset == 33554432ull);
	CHECK(plan.snp_key_vmrk);
	CHECK(plan.snp_key_fields == ((1ull << 5) | (1ull << 1))); /* tcb-version, image-id */
	CHECK(plan.snp_key_tcb_field);
	CHECK_STR(plan.snp_key_fields_text, "tcb-version,image-id"); /* as written: the token records it */
	CHECK_INT(plan.snp_key_svn, 7);
	CHECK(plan.snp_min_tcb == 0xd315000000000004ull);
	CHECK_STR(plan.snp_min_tcb_text, "D315000000000004");
	CHECK_STR(tpm_measure_name(plan.tpm_measure), "none");
	/* a hash partition is parsed even without a root hash (plan_check refuses that) */
	CHECK_INT(build("DATA_VERITY_HASH=PARTLABEL=cvm-data-hash\n"), 0);
	CHECK_INT(plan.vol[PLAN_DATA].prot, PROT_PLAIN);
	CHECK_INT(plan.vol[PLAN_DATA].verity.hash_ref.kind, PREF_LABEL);
	CHECK_STR(plan.vol[PLAN_DATA].verity.hash_ref.value, "cvm-data-hash");
	CHECK_INT(plan.vol[PLAN_BOOT].verity.hash_ref.kind, PREF_NONE); /* appended */
#ifdef CVMINIT_TEST_BUILD
	CHECK_INT(build("ROOT_KEYFILE=/etc/k/r.key\nMOCK_LUKS_POLICY=off\nMOCK_TEE_TCB=7207000000000003\n"
			"MOCK_TEE_DEBUG=yes\nMOCK_TEE_VMPL=1\nMOCK_POWERCUT=after-keyslot\nMOCK_TEE_KEY=/etc/m.pem\n"), 0);
	CHECK_STR(plan.vol[PLAN_ROOT].keyfile, "/etc/k/r.key");
	CHECK_STR(plan.vol[PLAN_JOBS].keyfile, "/etc/cvminit/keys/jobs.key");
	CHECK(!plan.luks.enforce);
	CHECK(plan.mock.tee_tcb == 0x7207000000000003ull);
	CHECK(plan.mock.tee_debug);
	CHECK_INT(plan.mock.tee_vmpl, 1);
	CHECK_INT(plan.mock.powercut, POWERCUT_AFTER_KEYSLOT);
	CHECK_STR(plan.mock.tee_key, "/etc/m.pem");
	CHECK_INT(build(""), 0);
	CHECK_INT(plan.mock.powercut, POWERCUT_NONE);
	CHECK(plan.mock.tee_tcb == 0x7308000000000003ull);
#endif
}

static void check_sees_only_the_plan(void)
{
	/* the policy reads the plan alone: a plan changed after building is judged as it is */
	CHECK_INT(build(VERITY ROOT_OK JOBS_OK), 0);
	CHECK_INT(plan_check(&plan, true, err, sizeof(err)), 0);
	plan.vol[PLAN_ROOT].ks = KS_PROMPT;
	CHECK_INT(plan_check(&plan, true, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, M_ROOT_PROMPT);
	CHECK_STR(key_source_name(KS_SNP_DERIVED), "snp-derived");
}

/* Authenticated delivery: with a sender pinned, its prompts take only the
 * wrapped lines it signed, and the release policy accepts them. */
static void pinned_senders(void)
{
	CHECK_INT(build(VERITY "JOBS_OWNER_PUBKEY=" SIGNER "\nROOT_DELIVERY_PUBKEY=" SIGNER "\n"), 0);
	CHECK(plan.jobs_signer_set && plan.root_signer_set);
	CHECK_INT(plan.jobs_signer[0], 4);
	CHECK_INT(plan.typed[PROMPT_ROOT], TYPED_WRAPPED_ONLY);
	CHECK_INT(plan.typed[PROMPT_ROOT_RECOVERY], TYPED_WRAPPED_ONLY);
	CHECK_INT(plan.typed[PROMPT_ROOT_PROVISION], TYPED_WRAPPED_ONLY);
	CHECK_INT(plan.typed[PROMPT_JOBS], TYPED_WRAPPED_ONLY);
	/* p3's typed key, recovery and provisioning: allowed when signed lines are the only way in */
	accepted("ROOT_DELIVERY_PUBKEY=" SIGNER "\n" JOBS_OK);
	accepted("ROOT_KEY_SOURCE=tpm2\nTPM_IN_TEE=yes\nROOT_VOLUME_KEY_PIN=" PIN "\nROOT_TPM2_FALLBACK=prompt\n"
		 "ROOT_DELIVERY_PUBKEY=" SIGNER "\n" JOBS_OK);
	accepted(ROOT_OK "ROOT_ENROLL=yes\nROOT_VOLUME_KEY_PIN=" PIN "\nROOT_DELIVERY_PUBKEY=" SIGNER "\n" JOBS_OK);
	/* malformed keys */
	CHECK_INT(build("JOBS_OWNER_PUBKEY=" RH "\n"), -EINVAL);
	CHECK_STR(err, "JOBS_OWNER_PUBKEY: expected an EC P-384 public key as 194 hex digits starting 04 (cvminit key "
		       "pubkey prints it), or empty");
	CHECK_INT(build("ROOT_DELIVERY_PUBKEY=05" RH RH RH "\n"), -EINVAL);
	CHECK_STR(err, "ROOT_DELIVERY_PUBKEY: expected an EC P-384 public key as 194 hex digits starting 04 (cvminit key "
		       "pubkey prints it), or empty");
	/* a pinned owner with wrapping off: nothing could open p5, in any build */
	CHECK_INT(check(ROOT_OK JOBS_OK "JOBS_KEY_WRAPPING=no\n", false), -EINVAL);
	CHECK_STR(err, "JOBS_OWNER_PUBKEY with JOBS_KEY_WRAPPING=no: p5's prompt accepts only wrapped lines the owner "
		       "signed, but none can be wrapped to this boot");
	/* typed passphrases allowed explicitly win over the pinned owner (and warn) */
	CHECK_INT(build(VERITY JOBS_OK "JOBS_TYPED_PASSPHRASE=allow\n"), 0);
	CHECK_INT(plan.typed[PROMPT_JOBS], TYPED_ACCEPT_WARN);
}

/* The kbs key source: its network and broker settings are parsed into the
 * plan once, refused with the key named, and the release rules demand
 * HTTPS and the volume-key pins. */
#define KBS_NET "KBS_URL=https://kbs.test:8443\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=10.0.2.15/24\n" \
		"NET_GATEWAY=10.0.2.2\nKBS_RESOURCE_ROOT=cvminit/luks/root\nKBS_RESOURCE_JOBS=cvminit/luks/jobs\n"
#define KBS_BOTH "ROOT_KEY_SOURCE=kbs\nJOBS_KEY_SOURCE=kbs\n"
#define KBS_PINS "ROOT_VOLUME_KEY_PIN=" PIN "\nJOBS_VOLUME_KEY_PIN=" PIN "\n"

static void refused_at_build(const char *text, const char *needle)
{
	char full[2048];
	snprintf(full, sizeof(full), "%s%s", VERITY, text);
	CHECK_INT(build(full), -EINVAL);
	if (!strstr(err, needle))
		TH_FAIL("error '%s' does not name '%s'", err, needle);
}

static void kbs_plan_rules(void)
{
	CHECK_INT(build(VERITY KBS_BOTH KBS_NET KBS_PINS), 0);
	CHECK(plan.kbs.used);
	CHECK(plan.kbs.https);
	CHECK_STR(plan.kbs.resource[0], "cvminit/luks/root");
	CHECK_STR(plan.kbs.resource[1], "cvminit/luks/jobs");
	CHECK_STR(plan.kbs.ifname, "eth0");
	CHECK_INT(plan.kbs.timeout, 60);
	CHECK_INT(plan.kbs.tee_key, KBS_TEE_KEY_EC); /* P-256 unless asked */
	CHECK_INT(build(VERITY KBS_BOTH KBS_NET KBS_PINS "KBS_TEE_KEY=rsa\n"), 0);
	CHECK_INT(plan.kbs.tee_key, KBS_TEE_KEY_RSA);
	accepted(KBS_BOTH KBS_NET KBS_PINS "KBS_TEE_KEY=rsa\n");
	{
		static const char bad[] = "KBS_TEE_KEY=dsa\n";
		config_defaults(&cfg);
		CHECK(config_parse_file(&cfg, bad, strlen(bad), "c.conf", err, sizeof(err)) < 0);
		if (!strstr(err, "KBS_TEE_KEY"))
			TH_FAIL("error '%s' does not name KBS_TEE_KEY", err);
	}
	accepted(KBS_BOTH KBS_NET KBS_PINS);
	/* without kbs, no network: the plan does not use it */
	CHECK_INT(build(VERITY ROOT_OK JOBS_OK), 0);
	CHECK(!plan.kbs.used);
	/* the pins are what stops a broker (or host) that hands over a key to a volume of its own */
	refused(KBS_BOTH KBS_NET "JOBS_VOLUME_KEY_PIN=" PIN "\n",
		"ROOT_KEY_SOURCE=kbs needs ROOT_VOLUME_KEY_PIN: the host cannot read the released key, but a broker "
		"that releases a wrong one (or a host that serves a volume of its own) must not get a boot");
	refused(KBS_BOTH KBS_NET "ROOT_VOLUME_KEY_PIN=" PIN "\n",
		"JOBS_KEY_SOURCE=kbs needs JOBS_VOLUME_KEY_PIN: the host cannot read the released key, but a volume "
		"of its own must not be opened");
	/* malformed network and broker settings: refused while building, the key named */
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=ftp://kbs.test\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=10.0.2.15/24\n"
			 "KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n", "KBS_URL");
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test/x\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=10.0.2.15/24\n"
			 "KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n", "no path after the host");
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test\nNET_ADDRESS=10.0.2.15/24\n"
			 "KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n", "KBS_ADDRESS");
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=10.0.2.15\n"
			 "KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n", "NET_ADDRESS");
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=10.0.2.15/24\n"
			 "KBS_RESOURCE_ROOT=a/b\nKBS_RESOURCE_JOBS=a/b/d\n", "KBS_RESOURCE_ROOT");
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=10.0.2.15/24\n"
			 "KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\nNET_INTERFACE=a/b\n", "NET_INTERFACE");
	/* reachability: the gateway on the link, the KBS on the link or behind the gateway */
#define KBS_NO_NET "KBS_URL=https://kbs.test\nKBS_ADDRESS=10.0.2.100\nKBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n"
	refused_at_build(KBS_BOTH KBS_PINS KBS_NO_NET "NET_ADDRESS=10.0.2.15/24\nNET_GATEWAY=10.0.3.1\n",
			 "NET_GATEWAY 10.0.3.1 is not another address on NET_ADDRESS's subnet 10.0.2.15/24");
	refused_at_build(KBS_BOTH KBS_PINS KBS_NO_NET "NET_ADDRESS=10.0.2.15/24\nNET_GATEWAY=10.0.2.15\n",
			 "NET_GATEWAY 10.0.2.15 is not another address on NET_ADDRESS's subnet 10.0.2.15/24");
	refused_at_build(KBS_BOTH KBS_PINS KBS_NO_NET "NET_ADDRESS=10.0.2.15/32\nNET_GATEWAY=10.0.2.2\n",
			 "NET_GATEWAY 10.0.2.2 is not another address on NET_ADDRESS's subnet 10.0.2.15/32");
	refused_at_build(KBS_BOTH KBS_PINS KBS_NO_NET "NET_ADDRESS=10.0.3.15/24\n",
			 "KBS_ADDRESS 10.0.2.100 is not on NET_ADDRESS's subnet 10.0.3.15/24 and NET_GATEWAY is empty: "
			 "nothing could reach the KBS");
	refused_at_build(KBS_BOTH KBS_PINS KBS_NO_NET "NET_ADDRESS=10.0.2.100/24\n", "KBS_ADDRESS is NET_ADDRESS itself");
	/* accepted: the KBS on the link without a gateway; /1 and /31 edges */
	CHECK_INT(build(VERITY KBS_BOTH KBS_PINS KBS_NO_NET "NET_ADDRESS=10.0.2.15/24\n"), 0);
	CHECK_INT(build(VERITY KBS_BOTH KBS_PINS KBS_NO_NET "NET_ADDRESS=10.0.2.101/31\n"), 0);
	CHECK_INT(build(VERITY KBS_BOTH KBS_PINS KBS_NO_NET "NET_ADDRESS=10.9.9.9/8\nNET_GATEWAY=10.0.0.1\n"), 0);
	CHECK(!plan.kbs.dhcp);
	/* NET_ADDRESS=dhcp: the lease is the host's, the gateway its too */
	CHECK_INT(build(VERITY KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test:8443\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=dhcp\n"
			"KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n"), 0);
	CHECK(plan.kbs.dhcp);
	CHECK_INT(plan.kbs.ip, 0);
	CHECK_INT(plan.kbs.gateway, 0);
	CHECK_INT(plan.kbs.addr, htonl(0x0a000264));
	accepted(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test:8443\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=dhcp\n"
		 "KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n");
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=dhcp\n"
			 "NET_GATEWAY=10.0.2.2\nKBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n",
			 "NET_GATEWAY must be empty with NET_ADDRESS=dhcp (the DHCP lease names the gateway)");
	/* dhcp does not replace KBS_ADDRESS: the KBS is still where the measured config says */
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test\nNET_ADDRESS=dhcp\n"
			 "KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n", "KBS_ADDRESS");
	refused_at_build(KBS_BOTH KBS_PINS "KBS_URL=https://kbs.test\nKBS_ADDRESS=10.0.2.100\nNET_ADDRESS=DHCP\n"
			 "KBS_RESOURCE_ROOT=a/b/c\nKBS_RESOURCE_JOBS=a/b/d\n", "NET_ADDRESS must be a.b.c.d/prefix or dhcp");
}

int main(void)
{
	TEST(root_typed_key_refused);
	TEST(pinned_senders);
	TEST(root_tpm2_needs_tee_and_pin);
	TEST(root_snp_derived_needs_tcb_floor);
	TEST(jobs_prompt_rules);
	TEST(keyfile_is_a_test_stand_in);
	TEST(typed_rules_per_prompt);
	TEST(mock_release_policy);
	TEST(release_structure_rules_kept);
	TEST(volumes_are_typed);
	TEST(pins_and_tcb_are_exact);
	TEST(stage_inputs_are_typed);
	TEST(check_sees_only_the_plan);
	TEST(kbs_plan_rules);
	return TH_END();
}
