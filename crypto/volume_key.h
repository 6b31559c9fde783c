#ifndef CVMINIT_VOLUME_KEY_H
#define CVMINIT_VOLUME_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "init/context.h"

/* Volume binding. A keyslot only proves that a passphrase opens *some*
 * volume; a host that learned the passphrase (it reads the console, it may
 * own the TPM) can serve a LUKS2 volume of its own that the same passphrase
 * opens. What identifies the genuine volume is its volume key. Like
 * systemd-cryptsetup's tpm2-measure-pcr= (and v260's fixate-volume-key=),
 * every LUKS2 unlock:
 *   1. gets the volume key from the keyslot (locked memory),
 *   2. computes HMAC(volume key, "cryptsetup:<name>:<uuid>") — systemd's
 *      volume-key measurement: per TPM bank with that bank's hash, the
 *      sha256 one being the "pin",
 *   3. extends MEASURE_PCR with it as a systemd "volume-key" event,
 *   4. compares the sha256 value with ROOT_/JOBS_VOLUME_KEY_PIN when set,
 *   5. only then activates the mapping with that volume key.
 * The pin is not secret: it is an HMAC keyed by the volume key. */

#define VOLUME_KEY_PIN_LEN 32
#define VOLUME_KEY_EVENT_TYPE "volume-key" /* systemd's eventType */
#define VOLUME_KEY_EVENT_MAX 128

/* "cryptsetup:<name>:<uuid>" into out. systemd escapes ':' in the name to
 * keep the string unambiguous; our names have none, so a ':' is refused.
 * uuid NULL is "" (as systemd's strempty). 0, -EINVAL, -ENOSPC. */
int volume_key_event_string(const char *name, const char *uuid, char *out, size_t len);

/* The event's digest in one TPM bank: HMAC-<bank hash>(vk, event). For
 * TPM2_HASH_SHA256 this is the pin. 0, -EINVAL, -EIO. */
int volume_key_digest(uint16_t bank, const uint8_t *vk, size_t vklen, const char *event, uint8_t *out);

/* A pin as configured: "" (not pinned: 0) or 64 hex digits (1, pin set).
 * Anything else -EINVAL. */
int volume_key_pin_parse(const char *hex, uint8_t pin[VOLUME_KEY_PIN_LEN]);

/* Constant-time comparison of two pins: true when equal. */
bool volume_key_pin_equal(const uint8_t a[VOLUME_KEY_PIN_LEN], const uint8_t b[VOLUME_KEY_PIN_LEN]);

struct crypt_device;

/* The one activation every LUKS2 unlock path uses (prompt, key file, TPM2,
 * snp-derived, enrollment): steps 1-5 above for p3 (ROLE_ROOT) or p5
 * (ROLE_JOBS) on the loaded header cd, with keyslot (or CRYPT_ANY_SLOT) and
 * passphrase. name NULL: steps 1, 2 and 4 only (check that the passphrase
 * opens the pinned volume; nothing measured, nothing activated).
 * Returns the keyslot that opened (>= 0); -EPERM when the passphrase opens
 * no keyslot (nothing logged: a prompt may ask again); any other error
 * after log_fail (a pin mismatch: -EKEYREJECTED, before activation). The
 * volume key is wiped on every path. */
int volume_key_open(struct boot_ctx *ctx, struct crypt_device *cd, enum part_role role, const char *name, int keyslot,
		    const void *pass, size_t passlen);

#endif
