#ifndef CVMINIT_CHALLENGE_H
#define CVMINIT_CHALLENGE_H

#include "crypto/wrap.h"
#include "init/context.h"

/* A key may arrive wrapped to this boot (crypto/wrap.h): a fresh key pair
 * whose public half the TEE report binds, printed as one console line. For
 * prompt, the plan says whether a challenge is offered and whose signature
 * a wrapped line needs. *out stays NULL when none is offered (no TEE report
 * in this boot, p5's wrapping turned off, or p3 with no sender pinned: an
 * unsigned line for p3 would be anyone's). 0 or a negative errno, logged. */
int challenge_offer(struct boot_ctx *ctx, enum plan_prompt prompt, const char *label, struct wrap_guest **out);

#endif
