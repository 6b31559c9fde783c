/* cvminit tpm2: predict the measurement PCR, enroll a TPM2-sealed key into
 * a LUKS2 image (systemd-tpm2 token), replay a measurement log. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "crypto/eventlog.h"
#include "crypto/host/tpm2_host.h"
#include "host/commands.h"

#define KEY_FILE_MAX 8192
#define PIN_MAX 256
#define LOG_MAX (4 * 1024 * 1024)
#define SEALED_KEY_BYTES 32

static const char usage_text[] =
	"usage: cvminit tpm2 predict --config FILE [--cmdline TEXT] [--bank BANK] [--test-build]\n"
	"       cvminit tpm2 enroll --device IMAGE --config FILE [--cmdline TEXT] [--test-build]\n"
	"                           --tpm2-device DEV --unlock-key-file FILE\n"
	"                           [--bank BANK] [--primary-alg ecc|rsa] [--srk] [--pin [--pin-salt]]\n"
	"       cvminit tpm2 replay --log FILE [--pcr N] [--bank BANK]\n"
	"\n"
	"predict  prints, as JSON, the events cvminit measures for this configuration\n"
	"         (and kernel command line) and the value of MEASURE_PCR before any\n"
	"         volume is unlocked (before_unlock: what a sealed key targets), before\n"
	"         the final separator and after it. The volume-key events of p3/p5 are\n"
	"         predicted from ROOT_/JOBS_VOLUME_KEY_PIN (sha256 bank; their strings\n"
	"         show <uuid>); without a pin the last two values are null.\n"
	"enroll   seals a fresh random 32-byte key in the TPM under the predicted\n"
	"         PCR value (policy computed in software: the PCR need not hold it\n"
	"         yet), adds a LUKS2 keyslot whose passphrase is the key's base64\n"
	"         (PBKDF2, minimal cost: the key is high-entropy) and a systemd-tpm2\n"
	"         token, as systemd-cryptenroll does. The image is unlocked with the\n"
	"         passphrase in --unlock-key-file (the whole file).\n"
	"         DEV: /dev/tpmrm0, device:PATH, swtpm:path=SOCKET or swtpm:host=H,port=P.\n"
	"         --srk: seal under the persistent SRK 0x81000001 (created if missing)\n"
	"         and record it (tpm2_srk), as systemd >= 255; default: a transient\n"
	"         primary from the template, as systemd 252 (tpm2-primary-alg).\n"
	"         --pin: the PIN from $NEWPIN, else asked twice on the terminal;\n"
	"         --pin-salt salts it (tpm2_salt, systemd >= 254; systemd 252 cannot\n"
	"         open such a token).\n"
	"replay   replays a measurement log (systemd's JSON-SEQ format) to the PCR\n"
	"         value (default PCR 15, sha256).\n"
	"--test-build: the configuration is for build/init-test (its schema has the\n"
	"         key-file keys, so its digest differs from the release build's).\n"
	"BANK: sha1, sha256 (default), sha384, sha512.\n";

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "cvminit tpm2: %s\n", why);
	fputs(usage_text, why ? stderr : stdout);
	return why ? EXIT_USAGE : EXIT_OK;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("cvminit tpm2: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

/* Reads a whole file: malloc'd text (NUL-terminated) or NULL with errno. */
static char *read_all(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t used = 0;

	if (fd < 0)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			free(buf);
			close(fd);
			errno = EFBIG;
			return NULL;
		}
	}
	close(fd);
	buf[used] = '\0';
	*len = used;
	return buf;
}

/* Reads a key file into locked memory. */
static int read_secret_file(const char *path, struct secret *s)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	secret_clear(s);
	for (;;) {
		ssize_t n = read(fd, s->data + s->len, s->cap - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		s->len += (size_t)n;
		if (s->len == s->cap) {
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	return s->len ? 0 : -ENODATA;
}

struct opts {
	const char *config, *cmdline, *device, *tpm, *unlock, *log;
	uint16_t bank, primary_alg;
	unsigned pcr;
	bool test_build, srk, pin, pin_salt;
};

static int load_facts(const struct opts *o, struct tpm2_host_facts *f)
{
	char err[512];
	size_t len = 0;
	char *text = read_all(o->config, CONFIG_FILE_MAX, &len);
	int r;

	if (!text)
		return fail("%s: %s", o->config, errno == EFBIG ? "file too large" : strerror(errno));
	r = o->test_build ? tpm2_facts_testbuild(text, len, o->config, o->cmdline, f, err, sizeof(err))
			  : tpm2_facts_release(text, len, o->config, o->cmdline, f, err, sizeof(err));
	free(text);
	if (r < 0)
		return fail("%s", err);
	return 0;
}

/* A JSON string (quotes included). */
static void print_json_string(const char *v)
{
	putchar('"');
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_hex_field(const char *name, const uint8_t *v, size_t len, bool comma)
{
	char hex[2 * TPM2_MAX_DIGEST + 1];

	tpm2_hex_encode(v, len, hex, sizeof(hex));
	printf("  \"%s\": \"%s\"%s\n", name, hex, comma ? "," : "");
}

/* Why the value after the volume-key events cannot be predicted, or NULL. */
static const char *unpredictable(const struct tpm2_host_facts *f, uint16_t bank, char *buf, size_t len)
{
	if (f->events.unpinned) {
		snprintf(buf, len, "a LUKS2 volume's volume-key event is measured but %s is not set", f->events.unpinned);
		return buf;
	}
	for (unsigned i = 0; i < f->events.count; i++)
		if (f->events.ev[i].keyed && bank != TPM2_HASH_SHA256) {
			snprintf(buf, len, "the volume-key events' %s digests need the volume keys (the pins are the sha256 ones)",
				 tpm2_bank_by_alg(bank)->name);
			return buf;
		}
	return NULL;
}

static int cmd_predict(const struct opts *o)
{
	const struct tpm2_bank_info *b = tpm2_bank_by_alg(o->bank);
	uint8_t unlock[TPM2_MAX_DIGEST], before[TPM2_MAX_DIGEST], after[TPM2_MAX_DIGEST];
	struct tpm2_host_facts f = { 0 };
	const char *why;
	char whybuf[200];

	if (!o->config)
		return usage("predict needs --config FILE");
	if (load_facts(o, &f))
		return EXIT_FAIL;
	why = unpredictable(&f, o->bank, whybuf, sizeof(whybuf));
	if (measure_predict(o->bank, &f.events, f.events.sealed, unlock) < 0 ||
	    (!why && (measure_predict(o->bank, &f.events, f.events.count - 1, before) < 0 ||
		      measure_predict(o->bank, &f.events, f.events.count, after) < 0)))
		return fail("prediction failed");
	printf("{\n  \"pcr\": %u,\n  \"bank\": \"%s\",\n  \"build\": \"%s\",\n", f.pcr, b->name,
	       o->test_build ? "test" : "release");
	print_hex_field("config_digest", f.config_digest, sizeof(f.config_digest), true);
	printf("  \"events\": [\n");
	for (unsigned i = 0; i < f.events.count; i++)
		printf("    \"%s\"%s\n", f.events.ev[i].string, i + 1 < f.events.count ? "," : "");
	printf("  ],\n  \"sealed_events\": %u,\n", f.events.sealed);
	print_hex_field("before_unlock", unlock, b->size, true);
	if (why) {
		printf("  \"before_separator\": null,\n  \"after_separator\": null,\n  \"unpredictable\": ");
		print_json_string(why);
		printf("\n");
	} else {
		print_hex_field("before_separator", before, b->size, true);
		print_hex_field("after_separator", after, b->size, false);
	}
	printf("}\n");
	return EXIT_OK;
}

/* The PIN: $NEWPIN (as systemd-cryptenroll), else twice on the terminal. */
static int read_tty_line(int fd, const char *prompt, struct secret *s)
{
	struct termios old, quiet;
	int have = tcgetattr(fd, &old) == 0, r = 0;

	if (have) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		r = -errno;
	secret_clear(s);
	while (r == 0) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (s->len + 1 >= s->cap)
			r = -E2BIG;
		else
			s->data[s->len++] = (uint8_t)c;
	}
	if (have)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* cosmetic */
	}
	return r;
}

static int get_pin(struct secret *pin)
{
	cleanup_secret struct secret *again = NULL;
	const char *env = getenv("NEWPIN");
	int fd, r;

	if (env) {
		size_t n = strlen(env);
		if (!n || n >= pin->cap)
			return fail("$NEWPIN must hold 1 to %zu bytes", pin->cap - 1);
		memcpy(pin->data, env, n);
		pin->len = n;
		return 0;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return fail("--pin: no $NEWPIN and no terminal to ask on");
	r = secret_new(&again, PIN_MAX);
	if (r == 0)
		r = read_tty_line(fd, "TPM2 PIN: ", pin);
	if (r == 0)
		r = read_tty_line(fd, "TPM2 PIN (again): ", again);
	close(fd);
	if (r < 0)
		return fail("reading the PIN: %s", strerror(-r));
	if (!pin->len)
		return fail("empty PIN");
	if (pin->len != again->len || memcmp(pin->data, again->data, pin->len))
		return fail("the PINs differ");
	return 0;
}

static void cs_log(int level, const char *msg, void *usrptr)
{
	(void)usrptr;
	if (level == CRYPT_LOG_ERROR)
		fprintf(stderr, "cvminit tpm2: libcryptsetup: %s", msg);
}

static int cmd_enroll(const struct opts *o)
{
	cleanup_secret struct secret *unlock = NULL, *vk = NULL, *key = NULL, *pass = NULL, *pin = NULL,
				       *check = NULL;
	const struct tpm2_bank_info *b = tpm2_bank_by_alg(o->bank);
	uint8_t predicted[TPM2_MAX_DIGEST], current[TPM2_MAX_DIGEST], salt[32];
	struct tpm2_host_facts f = { 0 };
	struct tpm2_token *tok = NULL;
	struct tpm2_ctx *tpm = NULL;
	struct crypt_device *cd = NULL;
	char err[512], json[TPM2_TOKEN_JSON_MAX], hex[2 * TPM2_MAX_DIGEST + 1];
	size_t vk_len;
	int r, keyslot = -1, token = -1, verified = 0, status = EXIT_FAIL;

	if (!o->config || !o->device || !o->tpm || !o->unlock)
		return usage("enroll needs --device, --config, --tpm2-device and --unlock-key-file");
	if (load_facts(o, &f))
		return EXIT_FAIL;
	if (measure_predict(o->bank, &f.events, f.events.sealed, predicted) < 0)
		return fail("prediction failed");

	if (secret_new(&unlock, KEY_FILE_MAX + 1) < 0 || secret_new(&vk, 512) < 0 ||
	    secret_new(&key, SEALED_KEY_BYTES) < 0 || secret_new(&pass, 128) < 0 || secret_new(&pin, PIN_MAX) < 0 ||
	    secret_new(&check, 128) < 0)
		return fail("cannot allocate locked memory");
	r = read_secret_file(o->unlock, unlock);
	if (r < 0)
		return fail("%s: %s", o->unlock, r == -EFBIG ? "larger than 8 KiB" : strerror(-r));
	if (o->pin && get_pin(pin))
		return EXIT_FAIL;

	/* The image first: a wrong unlock key must not touch the TPM. */
	crypt_set_log_callback(NULL, cs_log, NULL);
	r = crypt_init(&cd, o->device);
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		crypt_free(cd);
		return fail("%s: no LUKS2 header (%s)", o->device, strerror(-r));
	}
	vk_len = vk->cap;
	r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk->data, &vk_len, (const char *)unlock->data,
				 unlock->len);
	if (r < 0) {
		crypt_free(cd);
		return fail("%s: the passphrase in %s opens no keyslot (%s)", o->device, o->unlock, strerror(-r));
	}
	vk->len = vk_len;

	if (getrandom(key->data, SEALED_KEY_BYTES, 0) != SEALED_KEY_BYTES ||
	    (o->pin_salt && getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))) {
		crypt_free(cd);
		return fail("getrandom failed");
	}
	key->len = SEALED_KEY_BYTES;

	tok = calloc(1, sizeof(*tok));
	if (!tok) {
		crypt_free(cd);
		return fail("out of memory");
	}
	r = tpm2_open_spec(o->tpm, &tpm, err, sizeof(err));
	if (r == 0) {
		struct tpm2_seal_request req = {
			.bank = o->bank,
			.pcr_mask = 1u << f.pcr,
			.pcr_values = (const uint8_t(*)[TPM2_MAX_DIGEST])predicted,
			.primary_alg = o->primary_alg,
			.use_srk = o->srk,
			.pin = o->pin ? pin : NULL,
			.salt = o->pin_salt ? salt : NULL,
			.salt_len = o->pin_salt ? sizeof(salt) : 0,
		};
		r = tpm2_seal(tpm, &req, key, tok, err, sizeof(err));
	}
	if (r < 0) {
		fail("sealing in the TPM (%s): %s", o->tpm, err);
		goto out;
	}
	/* When the TPM already holds the predicted value, prove the round trip
	 * (systemd-cryptenroll does the same with current values). */
	if (tpm2_pcr_read(tpm, f.pcr, o->bank, current, err, sizeof(err)) == 0 &&
	    !memcmp(current, predicted, b->size)) {
		r = tpm2_unseal(tpm, tok, o->pin ? pin : NULL, check, err, sizeof(err));
		if (r < 0 || check->len != key->len || memcmp(check->data, key->data, key->len)) {
			fail("the sealed key does not unseal (%s)", r < 0 ? err : "different bytes");
			goto out;
		}
		verified = 1;
	}

	r = tpm2_passphrase_from_secret(key, pass);
	if (r == 0) {
		struct crypt_pbkdf_type pbkdf = {
			.type = CRYPT_KDF_PBKDF2,
			.hash = "sha512",
			.iterations = 1000, /* libcryptsetup's minimum; the key is 256 random bits */
			.flags = CRYPT_PBKDF_NO_BENCHMARK,
		};
		r = crypt_set_pbkdf_type(cd, &pbkdf);
	}
	if (r == 0)
		r = keyslot = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, (const char *)vk->data, vk->len,
							      (const char *)pass->data, pass->len);
	if (r < 0) {
		fail("%s: cannot add a keyslot: %s", o->device, strerror(-r));
		goto out;
	}
	tok->keyslot = keyslot;
	r = tpm2_token_format(tok, json, sizeof(json));
	if (r >= 0)
		r = token = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
	if (r < 0) {
		fail("%s: cannot add the systemd-tpm2 token: %s", o->device, strerror(-r));
		crypt_keyslot_destroy(cd, keyslot); /* no keyslot without its token */
		goto out;
	}
	tpm2_hex_encode(predicted, b->size, hex, sizeof(hex));
	printf("{\n  \"device\": ");
	print_json_string(o->device);
	printf(",\n  \"keyslot\": %d,\n  \"token\": %d,\n  \"pcr\": %u,\n  \"bank\": \"%s\",\n  \"sealed_to\": \"%s\",\n",
	       keyslot, token, f.pcr, b->name, hex);
	print_hex_field("policy_hash", tok->policy_hash, tok->policy_hash_len, true);
	printf("  \"primary\": \"%s\",\n  \"srk\": %s,\n  \"pin\": %s,\n  \"verified\": %s\n}\n",
	       tpm2_asym_name(tok->primary_alg), tok->srk_len ? "true" : "false", tok->pin ? "true" : "false",
	       verified ? "true" : "false");
	status = EXIT_OK;
out:
	explicit_bzero(salt, sizeof(salt));
	free(tok);
	tpm2_close(tpm);
	crypt_free(cd);
	return status;
}

static int cmd_replay(const struct opts *o)
{
	const struct tpm2_bank_info *b = tpm2_bank_by_alg(o->bank);
	uint8_t value[TPM2_MAX_DIGEST];
	unsigned events = 0;
	char err[256];
	size_t len = 0;
	char *log;
	int r;

	if (!o->log)
		return usage("replay needs --log FILE");
	log = read_all(o->log, LOG_MAX, &len);
	if (!log)
		return fail("%s: %s", o->log, errno == EFBIG ? "file too large" : strerror(errno));
	r = eventlog_replay(log, len, o->pcr, o->bank, value, &events, err, sizeof(err));
	free(log);
	if (r < 0)
		return fail("%s: %s", o->log, err);
	printf("{\n  \"pcr\": %u,\n  \"bank\": \"%s\",\n  \"events\": %u,\n", o->pcr, b->name, events);
	print_hex_field("value", value, b->size, false);
	printf("}\n");
	return EXIT_OK;
}

int cmd_tpm2(int argc, char **argv)
{
	enum { O_CONFIG = 256, O_CMDLINE, O_BANK, O_TEST, O_DEVICE, O_TPM, O_UNLOCK, O_PIN, O_SALT, O_ALG, O_SRK,
	       O_LOG, O_PCR, O_HELP };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "bank", required_argument, NULL, O_BANK },
		{ "test-build", no_argument, NULL, O_TEST },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "tpm2-device", required_argument, NULL, O_TPM },
		{ "unlock-key-file", required_argument, NULL, O_UNLOCK },
		{ "pin", no_argument, NULL, O_PIN },
		{ "pin-salt", no_argument, NULL, O_SALT },
		{ "primary-alg", required_argument, NULL, O_ALG },
		{ "srk", no_argument, NULL, O_SRK },
		{ "log", required_argument, NULL, O_LOG },
		{ "pcr", required_argument, NULL, O_PCR },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .bank = TPM2_HASH_SHA256, .primary_alg = TPM2_ASYM_ECC, .pcr = MEASURE_DEFAULT_PCR };
	const char *verb;
	int c;

	if (argc < 2)
		return usage("no subcommand");
	verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help"))
		return usage(NULL);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
		const struct tpm2_bank_info *b;
		char *end;
		switch (c) {
		case O_CONFIG: o.config = optarg; break;
		case O_CMDLINE: o.cmdline = optarg; break;
		case O_TEST: o.test_build = true; break;
		case O_DEVICE: o.device = optarg; break;
		case O_TPM: o.tpm = optarg; break;
		case O_UNLOCK: o.unlock = optarg; break;
		case O_PIN: o.pin = true; break;
		case O_SALT: o.pin_salt = true; break;
		case O_SRK: o.srk = true; break;
		case O_LOG: o.log = optarg; break;
		case O_HELP: return usage(NULL);
		case O_BANK:
			b = tpm2_bank_by_name(optarg);
			if (!b)
				return usage("--bank: sha1, sha256, sha384 or sha512");
			o.bank = b->alg;
			break;
		case O_ALG:
			if (!strcmp(optarg, "ecc"))
				o.primary_alg = TPM2_ASYM_ECC;
			else if (!strcmp(optarg, "rsa"))
				o.primary_alg = TPM2_ASYM_RSA;
			else
				return usage("--primary-alg: ecc or rsa");
			break;
		case O_PCR:
			errno = 0;
			o.pcr = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || o.pcr >= TPM2_PCR_COUNT)
				return usage("--pcr: 0 to 23");
			break;
		default:
			return usage("unknown option or missing value");
		}
	}
	if (optind + 1 != argc)
		return usage("unexpected arguments");
	if (o.pin_salt && !o.pin)
		return usage("--pin-salt needs --pin");
	if (!strcmp(verb, "predict"))
		return cmd_predict(&o);
	if (!strcmp(verb, "enroll"))
		return cmd_enroll(&o);
	if (!strcmp(verb, "replay"))
		return cmd_replay(&o);
	return usage("subcommand: predict, enroll or replay");
}
