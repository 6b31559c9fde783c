/* The boot plan (plan.h): the configuration as typed facts, and the one
 * policy over them. The release key-source policy's reasons are in
 * THREAT_MODEL.md; every refusal names the key to change. */
#include "init/plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/snp_params.h"
#include "init/context.h"

#define REFUSE(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

_Static_assert(SNP_FIELD_POLICY == 1 << 0 && SNP_FIELD_TCB_VERSION == 1 << 5, "SNP_KEY_FIELDS' words are the bits' order");
_Static_assert(PLAN_BOOT == (int)ROLE_BOOT && PLAN_ROOT == (int)ROLE_ROOT && PLAN_CONFIG == (int)ROLE_CONFIG &&
		       PLAN_JOBS == (int)ROLE_JOBS && PLAN_DATA == (int)ROLE_DATA,
	       "plan volumes are indexed like enum part_role");

const char *key_source_name(enum key_source ks)
{
	static const char *const names[] = { "none", "prompt", "tpm2", "snp-derived", "keyfile", "kbs" };

	return (unsigned)ks < sizeof(names) / sizeof(names[0]) ? names[ks] : "?";
}

const char *tpm_measure_name(enum tpm_measure m)
{
	static const char *const names[] = { "auto", "required", "none" };

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

static enum key_source parse_ks(const char *v)
{
	if (!strcmp(v, "prompt"))
		return KS_PROMPT;
	if (!strcmp(v, "tpm2"))
		return KS_TPM2;
	if (!strcmp(v, "snp-derived"))
		return KS_SNP_DERIVED;
	if (!strcmp(v, "keyfile"))
		return KS_KEYFILE; /* the release schema does not even accept the word */
	if (!strcmp(v, "kbs"))
		return KS_KBS;
	return KS_NONE;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex (already checked by the schema, except its length) to bytes. */
static int hex_bytes(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > cap)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* A pin is all or nothing: 64 hex digits, or empty (not pinned). */
static int build_pin(const struct cvm_config *cfg, enum cfg_id id, struct vol_plan *v, char *err, size_t errlen)
{
	size_t n = 0;

	if (!*cfg_str(cfg, id))
		return 0;
	if (strlen(cfg_str(cfg, id)) != 64 || hex_bytes(cfg_str(cfg, id), v->pin, sizeof(v->pin), &n) < 0) {
		snprintf(err, errlen, "%s: expected 64 hex digits (HMAC-SHA256 of the volume key; see cvminit measure), or empty",
			 cfg_defs[id].name);
		return -EINVAL;
	}
	v->pinned = true;
	return 0;
}

static int build_verity(const struct cvm_config *cfg, struct vol_plan *v, enum cfg_id roothash, enum cfg_id hash,
			enum cfg_id offset, enum cfg_id salt, enum cfg_id data_size, char *err, size_t errlen)
{
	struct verity_plan *vp = &v->verity;
	size_t n;

	vp->hash_appended = !strcmp(cfg_str(cfg, hash), "appended");
	vp->data_size = cfg_u64(cfg, data_size);
	vp->preverify = cfg_is(cfg, CFG_VERITY_PREVERIFY, "all") || cfg_is(cfg, CFG_VERITY_PREVERIFY, v->label);
	/* parsed even without a root hash: the partitions stage looks for it
	 * (plan_check refuses a hash partition without a root hash) */
	if (!vp->hash_appended && partref_parse(cfg_str(cfg, hash), &vp->hash_ref, err, errlen) < 0)
		return -EINVAL;

	if (!strcmp(cfg_str(cfg, roothash), "none")) {
		v->prot = v->ref.kind == PREF_NONE ? PROT_ABSENT : PROT_PLAIN;
		return 0;
	}
	/* set even when the partition is not used: plan_check reports that */
	v->prot = PROT_VERITY;
	if (hex_bytes(cfg_str(cfg, roothash), vp->roothash, sizeof(vp->roothash), &n) < 0 || n != sizeof(vp->roothash)) {
		snprintf(err, errlen, "%s: expected 64 hex digits (a sha256 root hash) or none", cfg_defs[roothash].name);
		return -EINVAL;
	}
	vp->hash_offset = cfg_u64(cfg, offset);
	if (hex_bytes(cfg_str(cfg, salt), vp->salt, sizeof(vp->salt), &vp->salt_len) < 0) {
		snprintf(err, errlen, "%s: not hex", cfg_defs[salt].name);
		return -EINVAL;
	}
	return 0;
}

/* A TCB_VERSION: 16 hex digits, read as the number `cvminit report show`
 * prints raw (crypto/snp_params.c's snp_tcb_parse reads it the same way). */
static int tcb_of(const char *hex, uint64_t *out)
{
	uint8_t tcb[8];
	size_t n = 0;

	if (strlen(hex) != 16 || hex_bytes(hex, tcb, sizeof(tcb), &n) < 0)
		return -EINVAL;
	*out = 0;
	for (int i = 0; i < 8; i++)
		*out = *out << 8 | tcb[i];
	return 0;
}

/* word is one of the comma-separated words of list */
static bool flag_listed(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *q = list; (q = strstr(q, word)) != NULL; q += n)
		if ((q == list || q[-1] == ',') && (q[n] == ',' || q[n] == '\0'))
			return true;
	return false;
}

static void compute_typed(struct boot_plan *p)
{
	/* p3's prompts: with the image builder's key pinned, only lines it
	 * signed (in any build: a pinned sender means typed lines are not
	 * wanted); without it a release build shows no prompt at all. */
	enum typed_rule root_rule = p->root_signer_set ? TYPED_WRAPPED_ONLY
				    : p->release_rules ? TYPED_REFUSE
						       : TYPED_ACCEPT;

	p->typed[PROMPT_ROOT] = root_rule;
	p->typed[PROMPT_ROOT_RECOVERY] = root_rule;
	p->typed[PROMPT_ROOT_PROVISION] = root_rule;
	/* p5's prompt stays (the owner's key): wrapped lines only under the
	 * release rules or with the owner's key pinned, unless typed
	 * passphrases are allowed explicitly, and then every boot says that
	 * the host reads them. */
	if (p->jobs_typed_allowed)
		p->typed[PROMPT_JOBS] = TYPED_ACCEPT_WARN;
	else
		p->typed[PROMPT_JOBS] = p->release_rules || p->jobs_signer_set ? TYPED_WRAPPED_ONLY : TYPED_ACCEPT;
}

/* A pinned sender: an uncompressed P-384 point (97 bytes, 0x04 first), or
 * empty. Whether it is on the curve is checked when a line is verified. */
static int build_signer(const struct cvm_config *cfg, enum cfg_id id, bool *set, uint8_t out[97], char *err,
			size_t errlen)
{
	size_t n = 0;

	*set = false;
	if (!*cfg_str(cfg, id))
		return 0;
	if (hex_bytes(cfg_str(cfg, id), out, 97, &n) < 0 || n != 97 || out[0] != 0x04) {
		snprintf(err, errlen, "%s: expected an EC P-384 public key as 194 hex digits starting 04 (cvminit key pubkey "
			 "prints it), or empty", cfg_defs[id].name);
		return -EINVAL;
	}
	*set = true;
	return 0;
}

static int ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = a.s_addr;
	return 0;
}

/* "<repository>/<type>/<tag>": as kbs_resource_valid (kbs/rcar.c), kept
 * here so the plan needs no KBS code. */
static int resource_ok(const char *s)
{
	unsigned segs = 0;
	size_t n = 0;

	for (const char *c = s;; c++) {
		if (*c == '/' || !*c) {
			if (n == 0 || (n == 1 && c[-1] == '.') || (n == 2 && c[-1] == '.' && c[-2] == '.'))
				return 0;
			segs++;
			n = 0;
			if (!*c)
				break;
			continue;
		}
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		      *c == '_' || *c == '-'))
			return 0;
		n++;
	}
	return segs == 3;
}

/* The key broker's facts, only when p3 or p5 takes its key from it. */
static int build_kbs(const struct cvm_config *cfg, struct boot_plan *p, char *err, size_t errlen)
{
	struct kbs_plan *k = &p->kbs;
	const char *url = cfg_str(cfg, CFG_KBS_URL), *h, *addr = cfg_str(cfg, CFG_KBS_ADDRESS);
	const char *net = cfg_str(cfg, CFG_NET_ADDRESS), *gw = cfg_str(cfg, CFG_NET_GATEWAY), *slash;
	const struct vol_plan *root = &p->vol[PLAN_ROOT], *jobs = &p->vol[PLAN_JOBS];
	size_t hn;
	char ip[32];

	k->used = (root->prot == PROT_LUKS && root->ks == KS_KBS) || (jobs->prot == PROT_LUKS && jobs->ks == KS_KBS);
	if (!k->used)
		return 0;
	k->timeout = (unsigned)strtoul(cfg_str(cfg, CFG_KBS_TIMEOUT), NULL, 10);
	k->keep = cfg_is(cfg, CFG_NET_KEEP, "yes");
	k->tee_key = cfg_is(cfg, CFG_KBS_TEE_KEY, "rsa") ? KBS_TEE_KEY_RSA : KBS_TEE_KEY_EC;
	snprintf(k->ca, sizeof(k->ca), "%s", cfg_str(cfg, CFG_KBS_CA));
	if (!strncmp(url, "https://", 8)) {
		k->https = true;
		h = url + 8;
		k->port = 443;
	} else if (!strncmp(url, "http://", 7)) {
		h = url + 7;
		k->port = 80;
	} else {
		return REFUSE("KBS_URL must be https://<host>[:port] for a kbs key source (is \"%s\")", url);
	}
	hn = strcspn(h, ":/");
	if (hn == 0 || hn > 253)
		return REFUSE("KBS_URL has no host name");
	for (size_t i = 0; i < hn; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ||
		      h[i] == '.' || h[i] == '-'))
			return REFUSE("KBS_URL: the host may have letters, digits, '.' and '-' only");
	memcpy(k->host, h, hn);
	k->host[hn] = '\0';
	h += hn;
	if (*h == ':') {
		char *end;
		unsigned long port = strtoul(h + 1, &end, 10);

		if (end == h + 1 || port == 0 || port > 65535 || (*end && strcmp(end, "/")))
			return REFUSE("KBS_URL: the port must be 1-65535 and nothing may follow it");
		k->port = (unsigned)port;
	} else if (*h && strcmp(h, "/")) {
		return REFUSE("KBS_URL: no path after the host (the KBS's paths are /kbs/v0/...)");
	}
	if (addr[0] ? ipv4(addr, &k->addr) < 0 : ipv4(k->host, &k->addr) < 0)
		return REFUSE(addr[0] ? "KBS_ADDRESS is not an IPv4 address" :
				"KBS_URL's host is a name: set KBS_ADDRESS (the init has no DNS)");
	for (int i = 0; i < 2; i++) {
		const struct vol_plan *v = i ? jobs : root;
		const char *res = cfg_str(cfg, i ? CFG_KBS_RESOURCE_JOBS : CFG_KBS_RESOURCE_ROOT);

		if (!(v->prot == PROT_LUKS && v->ks == KS_KBS))
			continue;
		if (!resource_ok(res))
			return REFUSE("%s must be <repository>/<type>/<tag> (letters, digits, '.', '_', '-') for %s=kbs",
				      i ? "KBS_RESOURCE_JOBS" : "KBS_RESOURCE_ROOT", i ? "JOBS_KEY_SOURCE" : "ROOT_KEY_SOURCE");
		snprintf(k->resource[i], sizeof(k->resource[i]), "%s", res);
	}
	if (strlen(cfg_str(cfg, CFG_NET_INTERFACE)) >= sizeof(k->ifname) || strchr(cfg_str(cfg, CFG_NET_INTERFACE), '/') ||
	    strchr(cfg_str(cfg, CFG_NET_INTERFACE), ' ') || !cfg_str(cfg, CFG_NET_INTERFACE)[0])
		return REFUSE("NET_INTERFACE must be an interface name of 1-15 characters");
	snprintf(k->ifname, sizeof(k->ifname), "%s", cfg_str(cfg, CFG_NET_INTERFACE));
	if (!strcmp(net, "dhcp")) {
		/* the lease names the gateway; a second source of it would leave
		 * unclear which one the host may change */
		if (gw[0])
			return REFUSE("NET_GATEWAY must be empty with NET_ADDRESS=dhcp (the DHCP lease names the gateway)");
		k->dhcp = true;
		return 0;
	}
	slash = strchr(net, '/');
	if (!slash || (size_t)(slash - net) >= sizeof(ip))
		return REFUSE("NET_ADDRESS must be a.b.c.d/prefix or dhcp for a kbs key source");
	memcpy(ip, net, (size_t)(slash - net));
	ip[slash - net] = '\0';
	char *end;
	unsigned long prefix = strtoul(slash + 1, &end, 10);
	if (ipv4(ip, &k->ip) < 0 || end == slash + 1 || *end || prefix < 1 || prefix > 32)
		return REFUSE("NET_ADDRESS must be a.b.c.d/prefix (prefix 1-32) or dhcp");
	k->prefix = (unsigned)prefix;
	if (gw[0] && ipv4(gw, &k->gateway) < 0)
		return REFUSE("NET_GATEWAY is not an IPv4 address");
	/* a configuration that cannot reach the KBS is refused here, before a
	 * boot spends KBS_TIMEOUT finding out */
	uint32_t mask = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
	if (k->gateway && ((k->gateway ^ k->ip) & mask || k->gateway == k->ip))
		return REFUSE("NET_GATEWAY %s is not another address on NET_ADDRESS's subnet %s", gw, net);
	if (!k->gateway && (k->addr ^ k->ip) & mask)
		return REFUSE("KBS_ADDRESS %s is not on NET_ADDRESS's subnet %s and NET_GATEWAY is empty: nothing "
			      "could reach the KBS", addr[0] ? addr : k->host, net);
	if (k->addr == k->ip)
		return REFUSE("KBS_ADDRESS is NET_ADDRESS itself");
	return 0;
}

int plan_build(const struct cvm_config *cfg, bool test_build, struct boot_plan *p, char *err, size_t errlen)
{
	static const struct {
		const char *name, *label;
		enum cfg_id part, fstype, mount, options; /* mount CFG__COUNT: the new root */
	} vols[PLAN__VOLUMES] = {
		[PLAN_BOOT] = { "p2", "boot", CFG_BOOT_PART, CFG_BOOT_FSTYPE, CFG_BOOT_MOUNT, CFG_BOOT_OPTIONS },
		[PLAN_ROOT] = { "p3", "root", CFG_ROOT_PART, CFG_ROOT_FSTYPE, CFG__COUNT, CFG_ROOT_OPTIONS },
		[PLAN_CONFIG] = { "p4", "config", CFG_CONFIG_PART, CFG_CONFIG_FSTYPE, CFG_CONFIG_MOUNT, CFG_CONFIG_OPTIONS },
		[PLAN_JOBS] = { "p5", "jobs", CFG_JOBS_PART, CFG_JOBS_FSTYPE, CFG_JOBS_MOUNT, CFG_JOBS_OPTIONS },
		[PLAN_DATA] = { "p6", "data", CFG_DATA_PART, CFG_DATA_FSTYPE, CFG_DATA_MOUNT, CFG_DATA_OPTIONS },
	};
	/* SNP_KEY_FIELDS' words, in the order of the SNP_FIELD_* bits */
	static const char *const snp_fields[] = { "policy", "image-id", "family-id", "measurement", "guest-svn",
						  "tcb-version" };
	const char *tee = cfg_str(cfg, CFG_TEE);
	int r;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < PLAN__VOLUMES; i++) {
		struct vol_plan *v = &p->vol[i];
		v->name = vols[i].name;
		v->label = vols[i].label;
		v->key = vols[i].part;
		if (partref_parse(cfg_str(cfg, vols[i].part), &v->ref, err, errlen) < 0)
			return -EINVAL;
		v->prot = v->ref.kind == PREF_NONE ? PROT_ABSENT : PROT_PLAIN;
		snprintf(v->fstype, sizeof(v->fstype), "%s", cfg_str(cfg, vols[i].fstype));
		snprintf(v->mount, sizeof(v->mount), "%s", vols[i].mount < CFG__COUNT ? cfg_str(cfg, vols[i].mount) : "/");
		snprintf(v->options, sizeof(v->options), "%s", cfg_str(cfg, vols[i].options));
	}
#ifdef CVMINIT_TEST_BUILD
	snprintf(p->vol[PLAN_ROOT].keyfile, sizeof(p->vol[PLAN_ROOT].keyfile), "%s", cfg_str(cfg, CFG_ROOT_KEYFILE));
	snprintf(p->vol[PLAN_JOBS].keyfile, sizeof(p->vol[PLAN_JOBS].keyfile), "%s", cfg_str(cfg, CFG_JOBS_KEYFILE));
#endif
	r = build_verity(cfg, &p->vol[PLAN_BOOT], CFG_BOOT_VERITY_ROOTHASH, CFG_BOOT_VERITY_HASH,
			 CFG_BOOT_VERITY_HASH_OFFSET, CFG_BOOT_VERITY_SALT, CFG_BOOT_VERITY_DATA_SIZE, err, errlen);
	if (r == 0)
		r = build_verity(cfg, &p->vol[PLAN_CONFIG], CFG_CONFIG_VERITY_ROOTHASH, CFG_CONFIG_VERITY_HASH,
				 CFG_CONFIG_VERITY_HASH_OFFSET, CFG_CONFIG_VERITY_SALT, CFG_CONFIG_VERITY_DATA_SIZE, err,
				 errlen);
	if (r == 0)
		r = build_verity(cfg, &p->vol[PLAN_DATA], CFG_DATA_VERITY_ROOTHASH, CFG_DATA_VERITY_HASH,
				 CFG_DATA_VERITY_HASH_OFFSET, CFG_DATA_VERITY_SALT, CFG_DATA_VERITY_DATA_SIZE, err, errlen);
	if (r < 0)
		return r;

	/* p3 and p5: the key source as configured (rules across keys read it
	 * even for a plain volume, as they always did). */
	struct vol_plan *root = &p->vol[PLAN_ROOT], *jobs = &p->vol[PLAN_JOBS];
	root->prot = cfg_is(cfg, CFG_ROOT_ENCRYPTION, "luks") ? PROT_LUKS : PROT_PLAIN;
	root->ks = parse_ks(cfg_str(cfg, CFG_ROOT_KEY_SOURCE));
	if (jobs->ref.kind != PREF_NONE)
		jobs->prot = cfg_is(cfg, CFG_JOB_STORE_ENCRYPTION, "luks") ? PROT_LUKS : PROT_PLAIN;
	jobs->ks = parse_ks(cfg_str(cfg, CFG_JOBS_KEY_SOURCE));
	r = build_pin(cfg, CFG_ROOT_VOLUME_KEY_PIN, root, err, errlen);
	if (r == 0)
		r = build_pin(cfg, CFG_JOBS_VOLUME_KEY_PIN, jobs, err, errlen);
	if (r == 0)
		r = build_kbs(cfg, p, err, errlen);
	if (r < 0)
		return r;

	p->test_build = test_build;
	p->release_rules = !test_build;
#ifdef CVMINIT_TEST_BUILD
	if (cfg_is(cfg, CFG_MOCK_RELEASE_POLICY, "yes"))
		p->release_rules = true;
#endif
	p->tee = !strcmp(tee, "snp") ? TEE_WANT_SNP : !strcmp(tee, "tdx") ? TEE_WANT_TDX
		: !strcmp(tee, "mock") ? TEE_WANT_MOCK : TEE_WANT_AUTO;
	p->tpm_in_tee = cfg_is(cfg, CFG_TPM_IN_TEE, "yes");
	p->jobs_typed_allowed = cfg_is(cfg, CFG_JOBS_TYPED_PASSPHRASE, "allow");
	p->root_tpm2_fallback = cfg_is(cfg, CFG_ROOT_TPM2_FALLBACK, "prompt");
	p->root_enroll = cfg_is(cfg, CFG_ROOT_ENROLL, "yes");
	p->provision = parse_ks(cfg_str(cfg, CFG_ROOT_PROVISION_SOURCE));
	if (*cfg_str(cfg, CFG_SNP_KEY_MIN_TCB)) {
		if (tcb_of(cfg_str(cfg, CFG_SNP_KEY_MIN_TCB), &p->snp_min_tcb) < 0) {
			snprintf(err, errlen, "SNP_KEY_MIN_TCB: expected 16 hex digits (the 8 bytes of a TCB_VERSION), or empty");
			return -EINVAL;
		}
		p->snp_min_tcb_set = true;
	}
	snprintf(p->snp_min_tcb_text, sizeof(p->snp_min_tcb_text), "%s", cfg_str(cfg, CFG_SNP_KEY_MIN_TCB));
	p->snp_key_tcb_field = flag_listed(cfg_str(cfg, CFG_SNP_KEY_FIELDS), "tcb-version");
	p->snp_key_vmrk = cfg_is(cfg, CFG_SNP_KEY_ROOT, "vmrk");
	for (size_t i = 0; i < sizeof(snp_fields) / sizeof(snp_fields[0]); i++)
		if (flag_listed(cfg_str(cfg, CFG_SNP_KEY_FIELDS), snp_fields[i]))
			p->snp_key_fields |= 1ull << i;
	snprintf(p->snp_key_fields_text, sizeof(p->snp_key_fields_text), "%s", cfg_str(cfg, CFG_SNP_KEY_FIELDS));
	p->snp_key_svn = cfg_uint(cfg, CFG_SNP_KEY_SVN);
	p->jobs_wrapping = cfg_is(cfg, CFG_JOBS_KEY_WRAPPING, "auto");
	r = build_signer(cfg, CFG_JOBS_OWNER_PUBKEY, &p->jobs_signer_set, p->jobs_signer, err, errlen);
	if (r == 0)
		r = build_signer(cfg, CFG_ROOT_DELIVERY_PUBKEY, &p->root_signer_set, p->root_signer, err, errlen);
	if (r < 0)
		return r;
	p->tpm_measure = cfg_is(cfg, CFG_TPM_MEASURE, "none")	    ? TPM_MEASURE_NONE
			 : cfg_is(cfg, CFG_TPM_MEASURE, "required") ? TPM_MEASURE_REQUIRED
								    : TPM_MEASURE_AUTO;
	p->measure_pcr = cfg_uint(cfg, CFG_MEASURE_PCR);
	snprintf(p->tpm_device, sizeof(p->tpm_device), "%s", cfg_str(cfg, CFG_TPM_DEVICE));
	p->prompt_tries = cfg_uint(cfg, CFG_PROMPT_TRIES);
	p->part_timeout = cfg_uint(cfg, CFG_PART_TIMEOUT);
	p->sysctl_hardening = cfg_is(cfg, CFG_SYSCTL_HARDENING, "yes");
	p->debug = cfg_is(cfg, CFG_DEBUG, "yes");
	p->on_failure_reboot = cfg_is(cfg, CFG_ON_FAILURE, "reboot");
	p->verity_panic = cfg_is(cfg, CFG_VERITY_ON_CORRUPTION, "panic");
	p->snp_vmpl = cfg_uint(cfg, CFG_SNP_VMPL);
	p->snp_allow_migration_agent = cfg_is(cfg, CFG_SNP_ALLOW_MIGRATION_AGENT, "yes");
	snprintf(p->attest_nonce, sizeof(p->attest_nonce), "%s", cfg_str(cfg, CFG_ATTEST_NONCE));
	snprintf(p->tmp_size, sizeof(p->tmp_size), "%s", cfg_str(cfg, CFG_TMP_SIZE));
	snprintf(p->shm_size, sizeof(p->shm_size), "%s", cfg_str(cfg, CFG_SHM_SIZE));
	snprintf(p->launcher, sizeof(p->launcher), "%s", cfg_str(cfg, CFG_LAUNCHER));
	snprintf(p->launcher_args, sizeof(p->launcher_args), "%s", cfg_str(cfg, CFG_LAUNCHER_ARGS));
	snprintf(p->launcher_cwd, sizeof(p->launcher_cwd), "%s", cfg_str(cfg, CFG_LAUNCHER_CWD));
	snprintf(p->luks.ciphers, sizeof(p->luks.ciphers), "%s", cfg_str(cfg, CFG_LUKS_CIPHERS));
	p->luks.sector_size = cfg_uint(cfg, CFG_LUKS_SECTOR_SIZE);
	p->luks.data_offset = cfg_u64(cfg, CFG_LUKS_DATA_OFFSET);
	p->luks.enforce = true;
#ifdef CVMINIT_TEST_BUILD
	p->luks.enforce = !cfg_is(cfg, CFG_MOCK_LUKS_POLICY, "off");
	snprintf(p->mock.tee_key, sizeof(p->mock.tee_key), "%s", cfg_str(cfg, CFG_MOCK_TEE_KEY));
	p->mock.tee_debug = cfg_is(cfg, CFG_MOCK_TEE_DEBUG, "yes");
	p->mock.tee_vmpl = cfg_uint(cfg, CFG_MOCK_TEE_VMPL);
	if (tcb_of(cfg_str(cfg, CFG_MOCK_TEE_TCB), &p->mock.tee_tcb) < 0) {
		snprintf(err, errlen, "MOCK_TEE_TCB: expected 16 hex digits (a TCB_VERSION)");
		return -EINVAL;
	}
	p->mock.powercut = cfg_is(cfg, CFG_MOCK_POWERCUT, "after-token")	  ? POWERCUT_AFTER_TOKEN
			   : cfg_is(cfg, CFG_MOCK_POWERCUT, "after-keyslot") ? POWERCUT_AFTER_KEYSLOT
			   : cfg_is(cfg, CFG_MOCK_POWERCUT, "after-destroy") ? POWERCUT_AFTER_DESTROY
									      : POWERCUT_NONE;
#endif
	compute_typed(p);
	return 0;
}


/* p2, p4 and p6: dm-verity as configured, and only dm-verity for p2 and p4
 * in a release build. A root hash needs its geometry pinned: with the tree
 * appended, HASH_OFFSET is the data size; with a separate hash partition
 * nothing on the data partition says where the data ends, so DATA_SIZE must
 * (the superblock is the host's: stage_verity checks it). */
static int check_verity(const struct boot_plan *p, char *err, size_t errlen)
{
	static const struct {
		enum plan_volume vol;
		const char *roothash, *hash, *offset, *data_size;
		bool required;
	} vk[] = {
		{ PLAN_BOOT, "BOOT_VERITY_ROOTHASH", "BOOT_VERITY_HASH", "BOOT_VERITY_HASH_OFFSET", "BOOT_VERITY_DATA_SIZE", true },
		{ PLAN_CONFIG, "CONFIG_VERITY_ROOTHASH", "CONFIG_VERITY_HASH", "CONFIG_VERITY_HASH_OFFSET",
		  "CONFIG_VERITY_DATA_SIZE", true },
		{ PLAN_DATA, "DATA_VERITY_ROOTHASH", "DATA_VERITY_HASH", "DATA_VERITY_HASH_OFFSET", "DATA_VERITY_DATA_SIZE", false },
	};

	for (size_t i = 0; i < sizeof(vk) / sizeof(vk[0]); i++) {
		const struct vol_plan *v = &p->vol[vk[i].vol];
		const struct verity_plan *vp = &v->verity;
		if (v->ref.kind == PREF_NONE) {
			if (v->prot == PROT_VERITY)
				return REFUSE("%s is set but %s=none", vk[i].roothash, cfg_defs[v->key].name);
			continue;
		}
		if (v->prot != PROT_VERITY) {
			if (!vp->hash_appended)
				return REFUSE("%s names a hash partition but %s=none", vk[i].hash, vk[i].roothash);
			if (p->test_build || !vk[i].required)
				continue;
			return REFUSE("%s is not set: a release build mounts %s only through dm-verity", vk[i].roothash,
				      v->name);
		}
		if (vp->hash_appended && vp->hash_offset == 0)
			return REFUSE("%s must give the data size when the hash tree is appended", vk[i].offset);
		if (vp->hash_appended && vp->data_size && vp->data_size != vp->hash_offset)
			return REFUSE("%s=%llu differs from %s=%llu (with the tree appended, the data ends where it starts)",
				      vk[i].data_size, (unsigned long long)vp->data_size, vk[i].offset,
				      (unsigned long long)vp->hash_offset);
		if (!vp->hash_appended && vp->data_size == 0)
			return REFUSE("%s must give the data size when the hash tree is on its own partition (%s)",
				      vk[i].data_size, vk[i].hash);
	}
	return 0;
}

/* noload keeps the kernel from replaying p6's journal, which the host wrote;
 * only ext3/ext4 know it (another file system would refuse the mount). */
static int check_data_noload(const struct boot_plan *p, char *err, size_t errlen)
{
	const struct vol_plan *v = &p->vol[PLAN_DATA];

	if (v->ref.kind == PREF_NONE || !flag_listed(v->options, "noload") || !strcmp(v->fstype, "ext4") ||
	    !strcmp(v->fstype, "ext3"))
		return 0;
	return REFUSE("DATA_OPTIONS has noload (no journal replay), an ext3/ext4 option, but DATA_FSTYPE=%s: "
		      "set DATA_OPTIONS without it (and that file system's own no-replay option, if any)",
		      v->fstype);
}

/* The release key-source policy: the host reads and types on the console
 * and owns a TPM that runs outside the TEE (THREAT_MODEL.md). */
static int check_release_key_sources(const struct boot_plan *p, char *err, size_t errlen)
{
	const struct vol_plan *root = &p->vol[PLAN_ROOT], *jobs = &p->vol[PLAN_JOBS];

	if (root->ref.kind != PREF_NONE && root->prot == PROT_LUKS) {
		switch (root->ks) {
		case KS_PROMPT:
			if (!p->root_signer_set)
				return REFUSE("ROOT_KEY_SOURCE=prompt: a key typed on the console is read by the host; set "
					      "ROOT_DELIVERY_PUBKEY (p3's key then arrives only as a wrapped line the image "
					      "builder signed), or use snp-derived, or tpm2 with TPM_IN_TEE=yes and "
					      "ROOT_VOLUME_KEY_PIN");
			break;
		case KS_TPM2:
			if (!p->tpm_in_tee)
				return REFUSE("ROOT_KEY_SOURCE=tpm2: a TPM outside the TEE is the host's, which can unseal "
					      "what is sealed to it; set TPM_IN_TEE=yes only for a vTPM inside the TEE "
					      "(SVSM or paravisor)");
			if (!root->pinned)
				return REFUSE("ROOT_KEY_SOURCE=tpm2 needs ROOT_VOLUME_KEY_PIN: anyone can seal a key of "
					      "their own to the TPM for a volume of their own");
			if (p->root_tpm2_fallback && !p->root_signer_set)
				return REFUSE("ROOT_TPM2_FALLBACK=prompt: a recovery key typed on the console is read by "
					      "the host; set ROOT_DELIVERY_PUBKEY (the recovery key then arrives only as a "
					      "signed wrapped line) or ROOT_TPM2_FALLBACK=none");
			break;
		case KS_SNP_DERIVED:
			if (!p->snp_min_tcb_set)
				return REFUSE("ROOT_KEY_SOURCE=snp-derived needs SNP_KEY_MIN_TCB: without a TCB floor the "
					      "host can roll the firmware back and still get the key");
			if (p->root_enroll && p->provision == KS_PROMPT && !p->root_signer_set)
				return REFUSE("ROOT_ENROLL=yes with ROOT_PROVISION_SOURCE=prompt: a provisioning secret "
					      "typed on the console is read by the host; set ROOT_DELIVERY_PUBKEY (the "
					      "secret then arrives only as a wrapped line the image builder signed)");
			if (p->root_enroll && !root->pinned)
				return REFUSE("ROOT_ENROLL=yes needs ROOT_VOLUME_KEY_PIN: the host could serve a volume "
					      "of its own for the snp-derived key to be enrolled into");
			break;
		case KS_KBS:
			if (!root->pinned)
				return REFUSE("ROOT_KEY_SOURCE=kbs needs ROOT_VOLUME_KEY_PIN: the host cannot read the "
					      "released key, but a broker that releases a wrong one (or a host that serves "
					      "a volume of its own) must not get a boot");
			break;
		case KS_KEYFILE: /* test builds only, in the measured initramfs: a stand-in */
		case KS_NONE:
			break;
		}
	}
	if (jobs->ref.kind != PREF_NONE && jobs->prot == PROT_LUKS && jobs->ks == KS_KBS && !jobs->pinned)
		return REFUSE("JOBS_KEY_SOURCE=kbs needs JOBS_VOLUME_KEY_PIN: the host cannot read the released key, "
			      "but a volume of its own must not be opened");
	if (jobs->ref.kind != PREF_NONE && jobs->prot == PROT_LUKS && jobs->ks == KS_PROMPT) {
		if (p->jobs_typed_allowed && !jobs->pinned)
			return REFUSE("JOBS_TYPED_PASSPHRASE=allow needs JOBS_VOLUME_KEY_PIN: the host reads the typed "
				      "passphrase and could serve a volume of its own that it opens");
		if (!p->jobs_typed_allowed && !p->jobs_wrapping)
			return REFUSE("JOBS_KEY_WRAPPING=no: p5's prompt accepts only cvminit-wrapped keys "
				      "(JOBS_TYPED_PASSPHRASE=refuse), so no key could open p5");
		if (!p->jobs_typed_allowed && !p->jobs_signer_set)
			return REFUSE("JOBS_KEY_SOURCE=prompt needs JOBS_OWNER_PUBKEY: anyone who sees the challenge can "
				      "wrap a key of their own, so p5 accepts only lines the owner signed (cvminit key "
				      "pubkey prints the key to pin)");
	}
	return 0;
}

int plan_check(const struct boot_plan *p, bool release_rules, char *err, size_t errlen)
{
	const struct vol_plan *root = &p->vol[PLAN_ROOT], *jobs = &p->vol[PLAN_JOBS];
	int r = check_verity(p, err, errlen);

	if (r == 0)
		r = check_data_noload(p, err, errlen);
	if (r < 0)
		return r;
	if (p->jobs_signer_set && !p->jobs_typed_allowed && !p->jobs_wrapping)
		return REFUSE("JOBS_OWNER_PUBKEY with JOBS_KEY_WRAPPING=no: p5's prompt accepts only wrapped lines the owner "
			      "signed, but none can be wrapped to this boot");
	if (p->snp_key_tcb_field && !p->snp_min_tcb_set) /* it would mix TCB_VERSION 0 in: bound to nothing */
		return REFUSE("SNP_KEY_FIELDS has tcb-version but SNP_KEY_MIN_TCB is empty: set the floor it binds to");
	if (root->ks == KS_TPM2 && p->tpm_measure == TPM_MEASURE_NONE)
		return REFUSE("ROOT_KEY_SOURCE=tpm2 needs the measurements it is sealed to: TPM_MEASURE=none is not allowed");
	if (p->root_enroll && root->ks != KS_SNP_DERIVED)
		return REFUSE("ROOT_ENROLL=yes enrolls the snp-derived key: it needs ROOT_KEY_SOURCE=snp-derived");
	if (jobs->ks == KS_SNP_DERIVED || jobs->ks == KS_TPM2)
		return REFUSE("JOBS_KEY_SOURCE=%s: the job store's key belongs to the model owner, not to this machine",
			      key_source_name(jobs->ks));
	if (root->prot == PROT_PLAIN && !p->test_build)
		return REFUSE("ROOT_ENCRYPTION=none: a release build mounts p3 only through LUKS2");
	if (p->kbs.used && !p->kbs.https && !p->test_build)
		return REFUSE("KBS_URL is http://: a release build speaks to the KBS only over HTTPS");
	return release_rules ? check_release_key_sources(p, err, errlen) : 0;
}

int config_check_policy(const struct cvm_config *cfg, bool test_build, char *err, size_t errlen)
{
	struct boot_plan plan;
	int r = plan_build(cfg, test_build, &plan, err, errlen);

	return r < 0 ? r : plan_check(&plan, plan.release_rules, err, errlen);
}
