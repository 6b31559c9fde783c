/* Volume binding, the pure part (mbedtls): the event string, its per-bank
 * HMAC and the pin. See crypto/volume_key.h. */
#include "crypto/volume_key.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/constant_time.h>

#include "crypto/tpm2_util.h"

int volume_key_event_string(const char *name, const char *uuid, char *out, size_t len)
{
	int n;

	if (!name || !*name || strchr(name, ':'))
		return -EINVAL;
	n = snprintf(out, len, "cryptsetup:%s:%s", name, uuid ? uuid : "");
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

int volume_key_digest(uint16_t bank, const uint8_t *vk, size_t vklen, const char *event, uint8_t *out)
{
	if (!vk || !vklen || !event)
		return -EINVAL;
	return tpm2_hmac(bank, vk, vklen, event, strlen(event), out);
}

int volume_key_pin_parse(const char *hex, uint8_t pin[VOLUME_KEY_PIN_LEN])
{
	if (!hex || !*hex)
		return 0;
	if (strlen(hex) != 2 * VOLUME_KEY_PIN_LEN)
		return -EINVAL;
	return tpm2_hex_decode(hex, pin, VOLUME_KEY_PIN_LEN) == VOLUME_KEY_PIN_LEN ? 1 : -EINVAL;
}

bool volume_key_pin_equal(const uint8_t a[VOLUME_KEY_PIN_LEN], const uint8_t b[VOLUME_KEY_PIN_LEN])
{
	return mbedtls_ct_memcmp(a, b, VOLUME_KEY_PIN_LEN) == 0;
}
