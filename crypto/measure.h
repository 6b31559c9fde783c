#ifndef CVMINIT_MEASURE_H
#define CVMINIT_MEASURE_H

#include "init/context.h"

/* Extends the final separator (when anything was measured) and closes the
 * TPM: called by switch_root just before the new root becomes "/". */
int measure_separator(struct boot_ctx *ctx);

#endif
