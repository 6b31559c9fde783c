#ifndef CVMINIT_SNP_PARAMS_H
#define CVMINIT_SNP_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "init/plan.h"
#include "tee/guest.h"

/* The MSG_KEY_REQ of the snp-derived key, from the boot plan alone (pure:
 * the init builds the request with it, the unit tests check it). */

/* GUEST_FIELD_SELECT bits (SEV-SNP firmware ABI, MSG_KEY_REQ). */
#define SNP_FIELD_POLICY (1ull << 0)
#define SNP_FIELD_IMAGE_ID (1ull << 1)
#define SNP_FIELD_FAMILY_ID (1ull << 2)
#define SNP_FIELD_MEASUREMENT (1ull << 3)
#define SNP_FIELD_GUEST_SVN (1ull << 4)
#define SNP_FIELD_TCB_VERSION (1ull << 5)

/* MSG_KEY_RSP STATUS: the firmware refused a parameter (a TCB_VERSION above
 * the committed TCB, a VMPL below the caller's, a GUEST_SVN above the
 * guest's). */
#define SNP_KEY_STATUS_INVALID_PARAM 0x16u

/* SNP_KEY_MIN_TCB: 16 hex digits, the TCB_VERSION as a 64-bit number the
 * way `cvminit report show` prints its "raw" field (the report stores it
 * little-endian: the last two digits are byte 0). 0, or -EINVAL. */
int snp_tcb_parse(const char *hex, uint64_t *out);

/* SNP_KEY_ROOT, SNP_KEY_FIELDS, SNP_VMPL, SNP_KEY_SVN and SNP_KEY_MIN_TCB,
 * as the plan has them (plan_build checked the floor's 16 digits).
 * With a floor, TCB_VERSION = the floor and its field is selected: the
 * firmware refuses a TCB_VERSION above its committed TCB, so a host that
 * rolled the firmware back below the floor cannot get the key, and the key
 * stays the same across firmware updates above it. */
void snp_key_params_from_plan(const struct boot_plan *plan, struct snp_key_params *p);

/* Whether a platform whose committed TCB is `committed` may serve a request
 * for `requested`: no component (byte) of requested above committed's. The
 * components are bytes in both the Milan/Genoa and the Turin layouts, and
 * reserved bytes are 0, so the byte-wise order is the firmware's. */
bool snp_tcb_covers(uint64_t committed, uint64_t requested);

#endif
