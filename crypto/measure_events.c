/* The list of measurement events and the PCR value they produce. */
#include "crypto/measure_events.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/volume_key.h"

/* Values go into measured strings: plain printable words only. */
static int plain(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

__attribute__((format(printf, 3, 4))) static int add(struct measure_events *out, const char *type, const char *fmt,
						    ...)
{
	va_list ap;
	int n;

	if (out->count >= MEASURE_EVENT_MAX)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(out->ev[out->count].string, MEASURE_EVENT_LEN, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= MEASURE_EVENT_LEN)
		return -EINVAL;
	out->ev[out->count].type = type;
	out->count++;
	return 0;
}

/* A volume's systemd volume-key event: predictable only through its pin. */
static int add_volume(struct measure_events *out, const char *name, const char *uuid, const char *pin,
		      const char *pin_key)
{
	struct measure_event *e;
	uint8_t bin[VOLUME_KEY_PIN_LEN];
	int r = volume_key_pin_parse(pin, bin);

	if (r < 0)
		return -EINVAL;
	if (r == 0) {
		if (!out->unpinned)
			out->unpinned = pin_key;
		return 0;
	}
	if (uuid && !plain(uuid))
		return -EINVAL;
	if (out->count >= MEASURE_EVENT_MAX)
		return -E2BIG;
	e = &out->ev[out->count];
	r = volume_key_event_string(name, uuid ? uuid : "<uuid>", e->string, sizeof(e->string));
	if (r < 0)
		return r;
	e->type = VOLUME_KEY_EVENT_TYPE;
	e->keyed = true;
	memcpy(e->sha256, bin, sizeof(bin));
	out->count++;
	return 0;
}

static int is_none(const char *s)
{
	return !s || !*s || !strcmp(s, "none");
}

int measure_events_build(const struct measure_facts *f, struct measure_events *out)
{
	const char *boot = is_none(f->boot_roothash) ? "none" : f->boot_roothash;
	const char *source = is_none(f->root_key_source) ? "none" : f->root_key_source;
	char hex[65];
	int r;

	memset(out, 0, sizeof(*out));
	if (!plain(boot) || !plain(source) || (!is_none(f->config_roothash) && !plain(f->config_roothash)) ||
	    (!is_none(f->data_roothash) && !plain(f->data_roothash)))
		return -EINVAL;
	tpm2_hex_encode(f->config_digest, sizeof(f->config_digest), hex, sizeof(hex));
	r = add(out, "cvminit-verity", "cvminit:verity:boot:%s", boot);
	if (r == 0 && !is_none(f->config_roothash))
		r = add(out, "cvminit-verity", "cvminit:verity:config:%s", f->config_roothash);
	if (r == 0 && !is_none(f->data_roothash))
		r = add(out, "cvminit-verity", "cvminit:verity:data:%s", f->data_roothash);
	if (r == 0)
		r = add(out, "cvminit-config", "cvminit:config:sha256:%s", hex);
	if (r == 0)
		r = add(out, "cvminit-key-source", "cvminit:key-source:root:%s", source);
	out->sealed = out->count;
	if (r == 0 && !is_none(source))
		r = add_volume(out, "cvm-root", f->root_uuid, f->root_pin, "ROOT_VOLUME_KEY_PIN");
	if (r == 0 && f->jobs_luks)
		r = add_volume(out, "cvm-jobs", f->jobs_uuid, f->jobs_pin, "JOBS_VOLUME_KEY_PIN");
	if (r == 0)
		r = add(out, "cvminit-separator", "cvminit:separator");
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int measure_predict(uint16_t bank, const struct measure_events *ev, unsigned n, uint8_t *value)
{
	const struct tpm2_bank_info *b = tpm2_bank_by_alg(bank);

	if (!b || n > ev->count)
		return -EINVAL;
	memset(value, 0, b->size);
	for (unsigned i = 0; i < n; i++) {
		uint8_t d[TPM2_MAX_DIGEST];
		int r;

		if (ev->ev[i].keyed && bank != TPM2_HASH_SHA256)
			return -ENOKEY;
		if (ev->ev[i].keyed) {
			memcpy(d, ev->ev[i].sha256, 32);
			r = 0;
		} else {
			r = tpm2_hash(bank, ev->ev[i].string, strlen(ev->ev[i].string), d);
		}
		if (r == 0)
			r = tpm2_extend_sw(bank, value, d);
		if (r < 0)
			return r;
	}
	return 0;
}
