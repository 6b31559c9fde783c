/* Volume binding (crypto/volume_key.c) and its measurement events
 * (crypto/measure_events.c): systemd's volume-key value against answers
 * computed independently with python's hmac module:
 *   python3 -c 'import hmac, hashlib; vk = bytes(range(64));
 *     s = b"cryptsetup:cvm-root:c7a11e00-1000-4000-8000-000000000003";
 *     print(hmac.new(vk, s, hashlib.sha256).hexdigest());
 *     print(hmac.new(vk, s, hashlib.sha384).hexdigest())'
 * the pin's parsing and comparison, the prediction of the events, and the
 * fatal path's wipe of every live key buffer (crypto/secret.c). */
#include <errno.h>

#include "crypto/measure_events.h"
#include "crypto/secret.h"
#include "crypto/volume_key.h"
#include "tests/harness.h"

TH_DEFINE("volume_key");

#define UUID3 "c7a11e00-1000-4000-8000-000000000003"
#define KA_SHA256 "a608d2ae20210bc0cdfb4d8b28838513e826b5607093103aa3d54fc3d46f9e5d"
#define KA_SHA384                                                                                                  \
	"ca864524d017875ebf8023a70100324f664ab5187a50979ab8995d94c3d1526a07ef200cc2cfa325c12f52c788ca7284"
/* the same for "cryptsetup:cvm-jobs:" (no UUID in the header: systemd's strempty) */
#define KA_JOBS_EMPTY "54788d051ae03d8bdd86badfdaf197e06ee2d8386f8c6d591fdd3f1c726ed5d1"

static uint8_t vk[64];

static void key(void)
{
	for (int i = 0; i < 64; i++)
		vk[i] = (uint8_t)i;
}

static void event_string(void)
{
	char s[VOLUME_KEY_EVENT_MAX];

	CHECK_INT(volume_key_event_string("cvm-root", UUID3, s, sizeof(s)), 0);
	CHECK_STR(s, "cryptsetup:cvm-root:" UUID3);
	CHECK_INT(volume_key_event_string("cvm-jobs", NULL, s, sizeof(s)), 0);
	CHECK_STR(s, "cryptsetup:cvm-jobs:");
	/* systemd escapes ':' in the name; ours never has one */
	CHECK_INT(volume_key_event_string("a:b", UUID3, s, sizeof(s)), -EINVAL);
	CHECK_INT(volume_key_event_string("", UUID3, s, sizeof(s)), -EINVAL);
	CHECK_INT(volume_key_event_string("cvm-root", UUID3, s, 20), -ENOSPC);
}

static void known_answers(void)
{
	uint8_t got[64], want[64];
	char s[VOLUME_KEY_EVENT_MAX];

	key();
	volume_key_event_string("cvm-root", UUID3, s, sizeof(s));
	CHECK_INT(volume_key_digest(TPM2_HASH_SHA256, vk, sizeof(vk), s, got), 0);
	CHECK_INT(th_unhex(KA_SHA256, want, 32), 0);
	CHECK_MEM(got, want, 32);
	CHECK_INT(volume_key_digest(TPM2_HASH_SHA384, vk, sizeof(vk), s, got), 0);
	CHECK_INT(th_unhex(KA_SHA384, want, 48), 0);
	CHECK_MEM(got, want, 48);
	volume_key_event_string("cvm-jobs", NULL, s, sizeof(s));
	CHECK_INT(volume_key_digest(TPM2_HASH_SHA256, vk, sizeof(vk), s, got), 0);
	CHECK_INT(th_unhex(KA_JOBS_EMPTY, want, 32), 0);
	CHECK_MEM(got, want, 32);
	/* another key, another name, another UUID: another value */
	uint8_t other[32];
	volume_key_event_string("cvm-root", "c7a11e00-1000-4000-8000-000000000005", s, sizeof(s));
	CHECK_INT(volume_key_digest(TPM2_HASH_SHA256, vk, sizeof(vk), s, other), 0);
	CHECK_INT(th_unhex(KA_SHA256, want, 32), 0);
	CHECK(memcmp(other, want, 32) != 0);
	vk[0] ^= 1;
	volume_key_event_string("cvm-root", UUID3, s, sizeof(s));
	CHECK_INT(volume_key_digest(TPM2_HASH_SHA256, vk, sizeof(vk), s, other), 0);
	CHECK(memcmp(other, want, 32) != 0);
	CHECK_INT(volume_key_digest(TPM2_HASH_SHA256, vk, 0, s, other), -EINVAL);
	CHECK_INT(volume_key_digest(0x0012, vk, sizeof(vk), s, other), -EINVAL);
}

static void pins(void)
{
	uint8_t pin[32], want[32];

	CHECK_INT(volume_key_pin_parse("", pin), 0);
	CHECK_INT(volume_key_pin_parse(NULL, pin), 0);
	CHECK_INT(volume_key_pin_parse(KA_SHA256, pin), 1);
	CHECK_INT(th_unhex(KA_SHA256, want, 32), 0);
	CHECK_MEM(pin, want, 32);
	CHECK(volume_key_pin_equal(pin, want));
	for (int i = 0; i < 32; i++) { /* any byte differs: not equal */
		want[i] ^= 0x80;
		CHECK(!volume_key_pin_equal(pin, want));
		want[i] ^= 0x80;
	}
	CHECK_INT(volume_key_pin_parse("A608D2AE20210BC0CDFB4D8B28838513E826B5607093103AA3D54FC3D46F9E5D", pin), 1);
	CHECK(volume_key_pin_equal(pin, want));
	CHECK_INT(volume_key_pin_parse("a608d2ae", pin), -EINVAL);
	CHECK_INT(volume_key_pin_parse(KA_SHA256 "00", pin), -EINVAL);
	CHECK_INT(volume_key_pin_parse("x608d2ae20210bc0cdfb4d8b28838513e826b5607093103aa3d54fc3d46f9e5d", pin), -EINVAL);
}

static struct measure_facts facts(const char *root_pin, bool jobs, const char *jobs_pin)
{
	struct measure_facts f = { 0 };

	f.boot_roothash = "none";
	f.config_roothash = "none";
	f.root_key_source = "tpm2";
	f.jobs_luks = jobs;
	f.root_pin = root_pin;
	f.jobs_pin = jobs_pin;
	f.root_uuid = UUID3;
	return f;
}

static void events(void)
{
	struct measure_events ev;
	struct measure_facts f = facts(KA_SHA256, true, "");
	uint8_t got[64], want[64], pin[32];

	/* p3 pinned, p5 LUKS2 without a pin: p3's event predicted, p5's named */
	CHECK_INT(measure_events_build(&f, &ev), 0);
	CHECK_INT(ev.sealed, 3);
	CHECK_INT(ev.count, 5);
	CHECK_STR(ev.ev[3].string, "cryptsetup:cvm-root:" UUID3);
	CHECK_STR(ev.ev[3].type, "volume-key");
	CHECK(ev.ev[3].keyed);
	CHECK_STR(ev.ev[4].string, "cvminit:separator");
	CHECK_STR(ev.unpinned, "JOBS_VOLUME_KEY_PIN");
	/* the sha256 value extends by the pin itself */
	CHECK_INT(measure_predict(TPM2_HASH_SHA256, &ev, ev.sealed, want), 0);
	th_unhex(KA_SHA256, pin, 32);
	CHECK_INT(tpm2_extend_sw(TPM2_HASH_SHA256, want, pin), 0);
	CHECK_INT(measure_predict(TPM2_HASH_SHA256, &ev, ev.sealed + 1, got), 0);
	CHECK_MEM(got, want, 32);
	/* other banks need the volume key */
	CHECK_INT(measure_predict(TPM2_HASH_SHA384, &ev, ev.sealed, got), 0);
	CHECK_INT(measure_predict(TPM2_HASH_SHA384, &ev, ev.sealed + 1, got), -ENOKEY);
	/* both pinned, in unlock order; the UUID unknown: a placeholder */
	f = facts(KA_SHA256, true, KA_JOBS_EMPTY);
	f.root_uuid = NULL;
	CHECK_INT(measure_events_build(&f, &ev), 0);
	CHECK_INT(ev.count, 6);
	CHECK(ev.unpinned == NULL);
	CHECK_STR(ev.ev[3].string, "cryptsetup:cvm-root:<uuid>");
	CHECK_STR(ev.ev[4].string, "cryptsetup:cvm-jobs:<uuid>");
	/* p5 plain, p3 plain: no volume-key events */
	f = facts("", false, "");
	f.root_key_source = "none";
	CHECK_INT(measure_events_build(&f, &ev), 0);
	CHECK_INT(ev.count, 4);
	CHECK(ev.unpinned == NULL);
	/* a malformed pin cannot be predicted (the configuration refuses it) */
	f = facts("abcd", false, "");
	CHECK_INT(measure_events_build(&f, &ev), -EINVAL);
}

/* The fatal path's wipe: every live buffer zeroed, freed ones forgotten. */
static void wipe_all(void)
{
	struct secret *a = NULL, *b = NULL;
	size_t base = secret_wipe_all();

	CHECK_INT(secret_new(&a, 64), 0);
	CHECK_INT(secret_new(&b, 5000), 0);
	memset(a->data, 0xa5, 64);
	a->len = 64;
	memset(b->data, 0x5a, 5000);
	b->len = 5000;
	CHECK_INT(secret_wipe_all(), base + 2);
	CHECK_INT(a->len, 0);
	CHECK_INT(b->len, 0);
	for (int i = 0; i < 5000; i++)
		if (b->data[i] || (i < 64 && a->data[i]))
			TH_FAIL("byte %d not wiped", i);
	secret_free(a);
	CHECK_INT(secret_wipe_all(), base + 1);
	secret_free(b);
	CHECK_INT(secret_wipe_all(), base);
}

int main(void)
{
	TEST(event_string);
	TEST(known_answers);
	TEST(pins);
	TEST(events);
	TEST(wipe_all);
	return TH_END();
}
