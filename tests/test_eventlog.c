/* The measurement events (crypto/measure_events.c), their PCR prediction and
 * the event log in systemd's JSON-SEQ format (crypto/eventlog.c): known
 * answers from tests/data/tpm2/known-answers.txt (python hashlib), writer,
 * replayer and what the replayer refuses. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/eventlog.h"
#include "crypto/measure_events.h"
#include "tests/harness.h"
#include "tests/tpm2_ka.h"

TH_DEFINE("eventlog");

static char err[512];

/* A known-answer string (stored as hex) into text. */
static void ka_text(const char *key, char *text, size_t max)
{
	int n = ka(key, (uint8_t *)text, max - 1);
	text[n < 0 ? 0 : n] = '\0';
}

static struct measure_facts facts;
static char boot[80], config[80];

static void known_facts(void)
{
	ka_text("facts_boot", boot, sizeof(boot));
	ka_text("facts_config", config, sizeof(config));
	facts.boot_roothash = boot;
	facts.config_roothash = config;
	facts.root_key_source = "tpm2";
	CHECK_INT(ka("facts_digest", facts.config_digest, 32), 32);
}

static void events_strings(void)
{
	struct measure_events ev;
	char want[256], key[32];

	known_facts();
	CHECK_INT(measure_events_build(&facts, &ev), 0);
	CHECK_INT(ev.count, 5);
	for (unsigned i = 0; i < ev.count; i++) {
		snprintf(key, sizeof(key), "event_%u", i);
		ka_text(key, want, sizeof(want));
		CHECK_STR(ev.ev[i].string, want);
	}
	CHECK_STR(ev.ev[0].type, "cvminit-verity");
	CHECK_STR(ev.ev[2].type, "cvminit-config");
	CHECK_STR(ev.ev[3].type, "cvminit-key-source");
	CHECK_STR(ev.ev[4].type, "cvminit-separator");
}

static void events_optional_facts(void)
{
	struct measure_events ev;

	known_facts();
	/* p4 without dm-verity: no event; p2 without: "none"; plain p3: "none". */
	facts.config_roothash = "none";
	facts.boot_roothash = NULL;
	facts.root_key_source = "none";
	CHECK_INT(measure_events_build(&facts, &ev), 0);
	CHECK_INT(ev.count, 4);
	CHECK_STR(ev.ev[0].string, "cvminit:verity:boot:none");
	CHECK(!strncmp(ev.ev[1].string, "cvminit:config:sha256:", 22));
	CHECK_STR(ev.ev[2].string, "cvminit:key-source:root:none");
	CHECK_STR(ev.ev[3].string, "cvminit:separator");
	facts.root_key_source = "prompt";
	CHECK_INT(measure_events_build(&facts, &ev), 0);
	CHECK_STR(ev.ev[2].string, "cvminit:key-source:root:prompt");
	/* Values that are not plain words cannot be measured unambiguously. */
	facts.root_key_source = "tpm2 x";
	CHECK_INT(measure_events_build(&facts, &ev), -EINVAL);
	CHECK_INT(ev.count, 0);
	facts.root_key_source = "tpm2";
	facts.boot_roothash = "ab\"cd";
	CHECK_INT(measure_events_build(&facts, &ev), -EINVAL);
	char longhash[300];
	memset(longhash, 'a', sizeof(longhash) - 1);
	longhash[sizeof(longhash) - 1] = '\0';
	facts.boot_roothash = longhash;
	CHECK_INT(measure_events_build(&facts, &ev), -EINVAL);
}

/* p6's root hash (issue 12): after p2's and p4's, before the configuration. */
static void events_data_verity(void)
{
	static const char data[] = "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd0";
	struct measure_events ev;
	char want[256];

	known_facts();
	facts.data_roothash = data;
	CHECK_INT(measure_events_build(&facts, &ev), 0);
	CHECK_INT(ev.count, 6);
	CHECK(!strncmp(ev.ev[0].string, "cvminit:verity:boot:", 20));
	CHECK(!strncmp(ev.ev[1].string, "cvminit:verity:config:", 22));
	snprintf(want, sizeof(want), "cvminit:verity:data:%s", data);
	CHECK_STR(ev.ev[2].string, want);
	CHECK_STR(ev.ev[2].type, "cvminit-verity");
	CHECK(!strncmp(ev.ev[3].string, "cvminit:config:sha256:", 22));
	CHECK_STR(ev.ev[5].string, "cvminit:separator");
	facts.data_roothash = "none";
	CHECK_INT(measure_events_build(&facts, &ev), 0);
	CHECK_INT(ev.count, 5);
	facts.data_roothash = "dd cc";
	CHECK_INT(measure_events_build(&facts, &ev), -EINVAL);
	facts.data_roothash = NULL;
}

static void prediction(void)
{
	static const char *const names[] = { "sha1", "sha256", "sha384", "sha512" };
	struct measure_events ev;
	char key[64];

	known_facts();
	CHECK_INT(measure_events_build(&facts, &ev), 0);
	for (size_t i = 0; i < 4; i++) {
		const struct tpm2_bank_info *b = tpm2_bank_by_name(names[i]);
		uint8_t want[64], got[64];
		snprintf(key, sizeof(key), "predict_before_%s", names[i]);
		CHECK_INT(ka(key, want, sizeof(want)), (int)b->size);
		CHECK_INT(measure_predict(b->alg, &ev, ev.count - 1, got), 0);
		CHECK_MEM(got, want, b->size);
		snprintf(key, sizeof(key), "predict_after_%s", names[i]);
		CHECK_INT(ka(key, want, sizeof(want)), (int)b->size);
		CHECK_INT(measure_predict(b->alg, &ev, ev.count, got), 0);
		CHECK_MEM(got, want, b->size);
	}
	uint8_t zero[64], got[64];
	memset(zero, 0, sizeof(zero));
	CHECK_INT(measure_predict(TPM2_HASH_SHA256, &ev, 0, got), 0);
	CHECK_MEM(got, zero, 32);
	CHECK_INT(measure_predict(TPM2_HASH_SHA256, &ev, ev.count + 1, got), -EINVAL);
	CHECK_INT(measure_predict(0x0012, &ev, 1, got), -EINVAL);
}

static void digests_of(const char *s, struct tpm2_digests *d, const uint16_t *algs, unsigned n)
{
	memset(d, 0, sizeof(*d));
	for (unsigned i = 0; i < n; i++) {
		d->alg[i] = algs[i];
		tpm2_hash(algs[i], s, strlen(s), d->digest[i]);
	}
	d->count = n;
}

static void record_bytes(void)
{
	static const uint16_t algs[] = { TPM2_HASH_SHA256, TPM2_HASH_SHA384 };
	struct tpm2_digests d;
	char want[2048], got[2048];

	ka_text("log_record", want, sizeof(want));
	digests_of("cvminit:key-source:root:tpm2", &d, algs, 2);
	CHECK_INT(eventlog_format(15, &d, "cvminit:key-source:root:tpm2", "cvminit-key-source", got, sizeof(got)),
		  (int)strlen(want));
	CHECK_STR(got, want);
	/* JSON escaping of what a string could hold; no eventType. */
	CHECK(eventlog_format(15, &d, "a\"b\\c\n", NULL, got, sizeof(got)) > 0);
	CHECK(strstr(got, "\"content\":{\"string\":\"a\\\"b\\\\c\\u000a\"}}\n") != NULL);
	CHECK_INT(eventlog_format(15, &d, "x", NULL, got, 100), -ENOSPC);
	CHECK_INT(eventlog_format(24, &d, "x", NULL, got, sizeof(got)), -EINVAL);
	d.count = 0;
	CHECK_INT(eventlog_format(15, &d, "x", NULL, got, sizeof(got)), -EINVAL);
}

static char *read_file(const char *path, size_t *len)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	if (fd >= 0)
		close(fd);
	*len = n < 0 ? 0 : (size_t)n;
	return buf;
}

/* Written record by record (two PCRs, three banks), replayed per bank: the
 * known-answer prediction; the file is created 0600 with its directory. */
static void write_and_replay(void)
{
	static const uint16_t algs[] = { TPM2_HASH_SHA1, TPM2_HASH_SHA256, TPM2_HASH_SHA384 };
	char dir[] = "/tmp/cvminit-eventlog.XXXXXX", path[128], key[64];
	struct measure_events ev;
	struct tpm2_digests d;
	struct stat st;
	size_t len;

	known_facts();
	CHECK_INT(measure_events_build(&facts, &ev), 0);
	if (!mkdtemp(dir)) {
		TH_FAIL("mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/log/cvminit/tpm2-measure.log", dir);
	digests_of("x", &d, algs, 3);
	CHECK_INT(eventlog_append(path, 15, &d, "x", NULL), -ENOENT); /* only the last directory is made */
	snprintf(path, sizeof(path), "%s/log", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/log/cvminit/tpm2-measure.log", dir);
	for (unsigned i = 0; i < ev.count; i++) {
		digests_of(ev.ev[i].string, &d, algs, 3);
		CHECK_INT(eventlog_append(path, 15, &d, ev.ev[i].string, ev.ev[i].type), 0);
		if (i == 1) { /* another component's record for another PCR, between ours */
			digests_of("phase:enter-initrd", &d, algs, 3);
			CHECK_INT(eventlog_append(path, 11, &d, "phase:enter-initrd", "phase"), 0);
		}
	}
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	const char *log = read_file(path, &len);
	for (unsigned i = 0; i < 3; i++) {
		const struct tpm2_bank_info *b = tpm2_bank_by_alg(algs[i]);
		uint8_t want[64], got[64];
		unsigned n = 0;
		snprintf(key, sizeof(key), "predict_after_%s", b->name);
		CHECK_INT(ka(key, want, sizeof(want)), (int)b->size);
		CHECK_INT(eventlog_replay(log, len, 15, b->alg, got, &n, err, sizeof(err)), 0);
		CHECK_INT(n, 5);
		CHECK_MEM(got, want, b->size);
		CHECK_INT(eventlog_replay(log, len, 11, b->alg, got, &n, err, sizeof(err)), 0);
		CHECK_INT(n, 1);
	}
	/* A bank that was not logged. */
	uint8_t v[64];
	unsigned n;
	CHECK_INT(eventlog_replay(log, len, 15, TPM2_HASH_SHA512, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 1: no sha512 digest");
	/* An empty log replays to zeros. */
	CHECK_INT(eventlog_replay("", 0, 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);
	CHECK_MEM(v, (uint8_t[32]){ 0 }, 32);
	unlink(path);
	snprintf(path, sizeof(path), "%s/log/cvminit", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/log", dir);
	rmdir(path);
	rmdir(dir);
}

static void replay_refuses(void)
{
	static const uint16_t algs[] = { TPM2_HASH_SHA256 };
	struct tpm2_digests d;
	char rec[2048], log[4096];
	uint8_t v[64];
	unsigned n;
	int len;

	digests_of("cvminit:separator", &d, algs, 1);
	len = eventlog_format(15, &d, "cvminit:separator", "cvminit-separator", rec, sizeof(rec));
	CHECK(len > 0);
	CHECK_INT(eventlog_replay(rec, (size_t)len, 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 1);

	snprintf(log, sizeof(log), "x%s", rec);
	CHECK_INT(eventlog_replay(log, strlen(log), 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "byte 0: text outside a record (no 0x1E)");
	CHECK_INT(eventlog_replay(rec, (size_t)len - 1, 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 1: truncated (no final newline)");
	snprintf(log, sizeof(log), "%s\x1e{\"pcr\":15,\n", rec);
	CHECK_INT(eventlog_replay(log, strlen(log), 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 2: not valid JSON");
	snprintf(log, sizeof(log), "\x1e{\"pcr\":15} {}\n");
	CHECK_INT(eventlog_replay(log, strlen(log), 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 1: text after the JSON object");
	snprintf(log, sizeof(log), "\x1e{\"digests\":[]}\n");
	CHECK_INT(eventlog_replay(log, strlen(log), 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 1: no \"pcr\"");
	snprintf(log, sizeof(log), "\x1e{\"pcr\":99}\n");
	CHECK_INT(eventlog_replay(log, strlen(log), 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	snprintf(log, sizeof(log), "\x1e{\"pcr\":15}\n");
	CHECK_INT(eventlog_replay(log, strlen(log), 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 1: no \"digests\"");
	snprintf(log, sizeof(log), "\x1e{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"00\"}]}\n");
	CHECK_INT(eventlog_replay(log, strlen(log), 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 1: sha256 digest is not 32 bytes of hex");
	snprintf(log, sizeof(log), "\x1e{\"pcr\":15,\"digests\":[7]}\n");
	CHECK_INT(eventlog_replay(log, strlen(log), 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 1: digest 0 malformed");
	/* A cvminit record whose digest is not its string's: tampered. */
	memcpy(log, rec, (size_t)len + 1);
	char *s = strstr(log, "cvminit:separator");
	s[8] = 'S';
	CHECK_INT(eventlog_replay(log, (size_t)len, 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EBADMSG);
	CHECK_STR(err, "record 1: sha256 digest is not the hash of \"cvminit:Separator\"");
	/* Records for other PCRs are not checked (another tool's business). */
	CHECK_INT(eventlog_replay(log, (size_t)len, 14, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);
	CHECK_INT(eventlog_replay(rec, (size_t)len, 15, 0x0012, v, &n, err, sizeof(err)), -EINVAL);
	CHECK_INT(eventlog_replay(rec, (size_t)len, 24, TPM2_HASH_SHA256, v, &n, err, sizeof(err)), -EINVAL);
	/* Every prefix of a two-record log: a verdict, never a crash. */
	snprintf(log, sizeof(log), "%s%s", rec, rec);
	for (size_t cut = 0; cut <= strlen(log); cut++) {
		int r = eventlog_replay(log, cut, 15, TPM2_HASH_SHA256, v, &n, err, sizeof(err));
		if (r != 0 && r != -EBADMSG)
			TH_FAIL("prefix %zu: %d", cut, r);
	}
}

int main(void)
{
	TEST(events_strings);
	TEST(events_optional_facts);
	TEST(events_data_verity);
	TEST(prediction);
	TEST(record_bytes);
	TEST(write_and_replay);
	TEST(replay_refuses);
	return TH_END();
}
