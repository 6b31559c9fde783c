#include "crypto/snp_params.h"

#include <errno.h>
#include <string.h>

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

void snp_key_params_from_plan(const struct boot_plan *plan, struct snp_key_params *p)
{
	memset(p, 0, sizeof(*p));
	p->root_key_select = plan->snp_key_vmrk ? 1 : 0;
	p->guest_field_select = plan->snp_key_fields;
	p->vmpl = plan->snp_vmpl;
	p->guest_svn = plan->snp_key_svn;
	if (plan->snp_min_tcb_set) {
		p->tcb_version = plan->snp_min_tcb;
		p->guest_field_select |= SNP_FIELD_TCB_VERSION;
	}
}

bool snp_tcb_covers(uint64_t committed, uint64_t requested)
{
	for (int i = 0; i < 64; i += 8)
		if (((requested >> i) & 0xff) > ((committed >> i) & 0xff))
			return false;
	return true;
}
