#ifndef CVMINIT_MEASURE_H
#define CVMINIT_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "init/context.h"

/* Extends the final separator (when anything was measured) and closes the
 * TPM: called by switch_root just before the new root becomes "/". */
int measure_separator(struct boot_ctx *ctx);

/* The fatal path's cap: the separator when it is not in yet (so nothing
 * sealed to the value before it can be unsealed after a failed boot), the
 * TPM closed. 1 when extended now, 0 when nothing was measured or it was
 * in already, <0 (ctx->log.reason says why). Logs nothing. sha256_hex
 * (65 bytes) gets the PCR's sha256 value after the cap when a TPM is open
 * (for the console: operators and tests compare it), else "". */
int measure_cap(struct boot_ctx *ctx, char *sha256_hex, size_t len);

/* A systemd "volume-key" event (event = "cryptsetup:<name>:<uuid>", the
 * digests HMACs keyed by vk) into MEASURE_PCR and the log, when this boot
 * measures (stage measure opened a TPM or extended an RTMR). 0 or <0. */
int measure_volume_key(struct boot_ctx *ctx, const char *event, const uint8_t *vk, size_t vklen);

#endif
