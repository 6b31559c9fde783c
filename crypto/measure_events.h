#ifndef CVMINIT_MEASURE_EVENTS_H
#define CVMINIT_MEASURE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/tpm2_util.h"
#include "init/config.h"

/* The measurement events cvminit extends into MEASURE_PCR, one per fact,
 * in this order (pure: the init measures them, the host predicts them):
 *   cvminit:verity:boot:<hex>        p2's dm-verity root hash ("none" when p2 has no verity)
 *   cvminit:verity:config:<hex>      p4's root hash, only when configured
 *   cvminit:verity:data:<hex>        p6's root hash, only when configured
 *   cvminit:config:sha256:<hex>      the configuration digest
 *   cvminit:key-source:root:<source> p3's key source (prompt, tpm2, ...; "none" for a plain p3)
 *   cryptsetup:cvm-root:<uuid>       stage root: systemd's volume-key event of p3 (LUKS2)
 *   cryptsetup:cvm-jobs:<uuid>       stage jobstore: the same for p5 (LUKS2)
 *   cvminit:separator                just before switch_root
 * Each event's digest per bank is the hash of the string's bytes, except
 * the volume-key events': HMAC-<bank hash>(volume key, string), whose
 * sha256 value is the volume's pin (ROOT_/JOBS_VOLUME_KEY_PIN). A volume
 * without a pin still gets its event, which then cannot be predicted: the
 * list leaves it out and says so (unpinned). The sealed system key targets
 * the value after the first `sealed` events (before any volume is
 * unlocked): after that, the running system can no longer satisfy the
 * policy. */

#define MEASURE_EVENT_MAX 8
#define MEASURE_EVENT_LEN 160
#define MEASURE_DEFAULT_PCR 15

struct measure_facts {
	const char *boot_roothash;   /* 64 hex, or NULL/"none" */
	const char *config_roothash; /* 64 hex, or NULL/"none" (no event) */
	const char *data_roothash;   /* 64 hex, or NULL/"none" (no event) */
	uint8_t config_digest[32];
	const char *root_key_source; /* "prompt", "tpm2", ...; NULL/"none" for a plain p3 */
	bool jobs_luks;              /* p5 is a LUKS2 volume */
	const char *root_pin;        /* 64 hex, or NULL/"" (not pinned) */
	const char *jobs_pin;
	const char *root_uuid;       /* p3's LUKS2 UUID for the event string; NULL: "<uuid>" placeholder */
	const char *jobs_uuid;
};

struct measure_event {
	char string[MEASURE_EVENT_LEN];
	const char *type; /* eventType of the log record */
	bool keyed;       /* a volume-key event: sha256 below is its only known digest */
	uint8_t sha256[32];
};

struct measure_events {
	unsigned count;     /* the separator is the last one */
	unsigned sealed;    /* events of stage measure (what the sealed key targets) */
	const char *unpinned; /* a LUKS2 volume's event that cannot be predicted: its pin's key; NULL: none */
	struct measure_event ev[MEASURE_EVENT_MAX];
};

/* 0 or -EINVAL (a root hash or source that is not plain text). */
int measure_events_build(const struct measure_facts *f, struct measure_events *out);

/* The PCR value (bank's size) after the first n events, starting from all
 * zeros. 0 or -EINVAL; -ENOKEY when a volume-key event is among them and
 * bank is not sha256 (only the volume key gives its other digests). */
int measure_predict(uint16_t bank, const struct measure_events *ev, unsigned n, uint8_t *value);

/* Facts from the effective configuration and its digest (the strings point
 * into cfg). Inline so that it compiles against the configuration schema of
 * the caller's build (release and test builds differ). */
static inline void measure_facts_from_config(const struct cvm_config *cfg, const uint8_t digest[32],
					     struct measure_facts *f)
{
	f->boot_roothash = cfg_str(cfg, CFG_BOOT_VERITY_ROOTHASH);
	f->config_roothash = cfg_str(cfg, CFG_CONFIG_VERITY_ROOTHASH);
	f->data_roothash = cfg_str(cfg, CFG_DATA_VERITY_ROOTHASH);
	for (int i = 0; i < 32; i++)
		f->config_digest[i] = digest[i];
	f->root_key_source = cfg_is(cfg, CFG_ROOT_ENCRYPTION, "none") ? "none" : cfg_str(cfg, CFG_ROOT_KEY_SOURCE);
	f->jobs_luks = !cfg_is(cfg, CFG_JOBS_PART, "none") && cfg_is(cfg, CFG_JOB_STORE_ENCRYPTION, "luks");
	f->root_pin = cfg_str(cfg, CFG_ROOT_VOLUME_KEY_PIN);
	f->jobs_pin = cfg_str(cfg, CFG_JOBS_VOLUME_KEY_PIN);
	f->root_uuid = NULL;
	f->jobs_uuid = NULL;
}

#endif
