#include "crypto/snp_params.h"

#include <errno.h>
#include <string.h>

static const char *const field_names[] = { "policy", "image-id", "family-id", "measurement", "guest-svn", "tcb-version" };

static uint64_t field_mask(const char *list)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++) {
		size_t n = strlen(field_names[i]);
		for (const char *p = list; (p = strstr(p, field_names[i])) != NULL; p += n)
			if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
				mask |= 1ull << i;
	}
	return mask;
}

int snp_tcb_parse(const char *hex, uint64_t *out)
{
	uint64_t v = 0;

	if (strlen(hex) != 16)
		return -EINVAL;
	for (const char *c = hex; *c; c++) {
		int d = *c >= '0' && *c <= '9' ? *c - '0'
			: *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
			: *c >= 'A' && *c <= 'F' ? *c - 'A' + 10
						 : -1;
		if (d < 0)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

int snp_key_params_from_config(const struct cvm_config *cfg, struct snp_key_params *p)
{
	const char *floor = cfg_str(cfg, CFG_SNP_KEY_MIN_TCB);

	memset(p, 0, sizeof(*p));
	p->root_key_select = cfg_is(cfg, CFG_SNP_KEY_ROOT, "vmrk") ? 1 : 0;
	p->guest_field_select = field_mask(cfg_str(cfg, CFG_SNP_KEY_FIELDS));
	p->vmpl = cfg_uint(cfg, CFG_SNP_VMPL);
	p->guest_svn = cfg_uint(cfg, CFG_SNP_KEY_SVN);
	if (*floor) {
		if (snp_tcb_parse(floor, &p->tcb_version) < 0)
			return -EINVAL;
		p->guest_field_select |= SNP_FIELD_TCB_VERSION;
	}
	return 0;
}

bool snp_tcb_covers(uint64_t committed, uint64_t requested)
{
	for (int i = 0; i < 64; i += 8)
		if (((requested >> i) & 0xff) > ((committed >> i) & 0xff))
			return false;
	return true;
}
