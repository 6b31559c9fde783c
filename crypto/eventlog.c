/* The TPM2 measurement log, in systemd's JSON-SEQ/CEL format: writer and
 * replayer. */
#include "crypto/eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#define RS 0x1E

/* JSON string body (no quotes): escapes '"', '\\' and control bytes. */
static int put_json_string(char *out, size_t outlen, size_t *used, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t n;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c < 0x20) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		if (*used + n >= outlen)
			return -ENOSPC;
		memcpy(out + *used, esc, n);
		*used += n;
	}
	return 0;
}


int eventlog_format(unsigned pcr, const struct tpm2_digests *d, const char *string, const char *event_type, char *out,
		    size_t outlen)
{
	size_t used = 0;
	int r;

	if (!d || !d->count || d->count > TPM2_MAX_BANKS || !string || pcr >= TPM2_PCR_COUNT)
		return -EINVAL;
	if (outlen < 2)
		return -ENOSPC;
	out[used++] = RS;
	r = tpm2_appendf(out, outlen, &used, "{\"pcr\":%u,\"digests\":[", pcr);
	for (unsigned i = 0; r == 0 && i < d->count; i++) {
		const struct tpm2_bank_info *b = tpm2_bank_by_alg(d->alg[i]);
		char hex[2 * TPM2_MAX_DIGEST + 1];
		if (!b)
			return -EINVAL;
		tpm2_hex_encode(d->digest[i], b->size, hex, sizeof(hex));
		r = tpm2_appendf(out, outlen, &used, "%s{\"hashAlg\":\"%s\",\"digest\":\"%s\"}", i ? "," : "", b->name, hex);
	}
	if (r == 0)
		r = tpm2_appendf(out, outlen, &used, "],\"content_type\":\"systemd\",\"content\":{\"string\":\"");
	if (r == 0)
		r = put_json_string(out, outlen, &used, string);
	if (r == 0 && event_type) {
		r = tpm2_appendf(out, outlen, &used, "\",\"eventType\":\"");
		if (r == 0)
			r = put_json_string(out, outlen, &used, event_type);
	}
	if (r == 0)
		r = tpm2_appendf(out, outlen, &used, "\"}}\n");
	return r < 0 ? r : (int)used;
}

int eventlog_append(const char *path, unsigned pcr, const struct tpm2_digests *d, const char *string,
		    const char *event_type)
{
	char rec[EVENTLOG_RECORD_MAX], dir[256];
	const char *slash = strrchr(path, '/');
	int n = eventlog_format(pcr, d, string, event_type, rec, sizeof(rec));
	int fd, r = 0;

	if (n < 0)
		return n;
	if (slash && slash != path && (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0)
		r = -errno;
	if (r == 0) {
		ssize_t w;
		do
			w = write(fd, rec, (size_t)n);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			r = -errno;
		else if (w != n)
			r = -EIO;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

__attribute__((format(printf, 4, 5))) static int bad(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* One record's JSON text; extends value when it is for pcr. */
static int replay_record(struct json_object *o, unsigned idx, unsigned pcr, const struct tpm2_bank_info *bank,
			 uint8_t *value, unsigned *events, char *err, size_t errlen)
{
	struct json_object *v, *digests, *content, *str;
	uint8_t digest[TPM2_MAX_DIGEST];
	bool found = false;
	int64_t p;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "pcr", &v) ||
	    !json_object_is_type(v, json_type_int))
		return bad(err, errlen, -EBADMSG, "record %u: no \"pcr\"", idx);
	p = json_object_get_int64(v);
	if (p < 0 || p >= TPM2_PCR_COUNT)
		return bad(err, errlen, -EBADMSG, "record %u: pcr %lld out of range", idx, (long long)p);
	if ((unsigned)p != pcr)
		return 0;
	if (!json_object_object_get_ex(o, "digests", &digests) || !json_object_is_type(digests, json_type_array))
		return bad(err, errlen, -EBADMSG, "record %u: no \"digests\"", idx);
	for (size_t i = 0; i < json_object_array_length(digests); i++) {
		struct json_object *e = json_object_array_get_idx(digests, i), *alg, *dig;
		if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "hashAlg", &alg) ||
		    !json_object_object_get_ex(e, "digest", &dig) || !json_object_is_type(alg, json_type_string) ||
		    !json_object_is_type(dig, json_type_string))
			return bad(err, errlen, -EBADMSG, "record %u: digest %zu malformed", idx, i);
		if (strcmp(json_object_get_string(alg), bank->name))
			continue;
		if (tpm2_hex_decode(json_object_get_string(dig), digest, sizeof(digest)) != (int)bank->size)
			return bad(err, errlen, -EBADMSG, "record %u: %s digest is not %zu bytes of hex", idx,
				   bank->name, bank->size);
		found = true;
		break;
	}
	if (!found)
		return bad(err, errlen, -EBADMSG, "record %u: no %s digest", idx, bank->name);
	if (json_object_object_get_ex(o, "content", &content) && json_object_object_get_ex(content, "string", &str) &&
	    json_object_is_type(str, json_type_string) && !strncmp(json_object_get_string(str), "cvminit:", 8)) {
		uint8_t want[TPM2_MAX_DIGEST];
		const char *s = json_object_get_string(str);
		if (tpm2_hash(bank->alg, s, strlen(s), want) < 0 || memcmp(want, digest, bank->size))
			return bad(err, errlen, -EBADMSG, "record %u: %s digest is not the hash of \"%.100s\"", idx,
				   bank->name, s);
	}
	if (tpm2_extend_sw(bank->alg, value, digest) < 0)
		return bad(err, errlen, -EIO, "record %u: hashing failed", idx);
	(*events)++;
	return 0;
}

int eventlog_replay(const char *log, size_t len, unsigned pcr, uint16_t bank_alg, uint8_t *value, unsigned *events,
		    char *err, size_t errlen)
{
	const struct tpm2_bank_info *bank = tpm2_bank_by_alg(bank_alg);
	struct json_tokener *jt;
	size_t pos = 0;
	unsigned idx = 0;
	int r = 0;

	*events = 0;
	if (errlen)
		err[0] = '\0';
	if (!bank || pcr >= TPM2_PCR_COUNT)
		return bad(err, errlen, -EINVAL, "unknown bank or PCR");
	memset(value, 0, bank->size);
	jt = json_tokener_new();
	if (!jt)
		return -ENOMEM;
	while (r == 0 && pos < len) {
		const char *start, *end;
		struct json_object *o;
		size_t rlen;

		if (log[pos] != RS) {
			r = bad(err, errlen, -EBADMSG, "byte %zu: text outside a record (no 0x1E)", pos);
			break;
		}
		idx++;
		start = log + pos + 1;
		end = memchr(start, RS, len - pos - 1);
		rlen = end ? (size_t)(end - start) : len - pos - 1;
		pos += 1 + rlen;
		if (rlen == 0 || start[rlen - 1] != '\n') {
			r = bad(err, errlen, -EBADMSG, "record %u: truncated (no final newline)", idx);
			break;
		}
		json_tokener_reset(jt);
		o = json_tokener_parse_ex(jt, start, (int)rlen);
		if (!o || json_tokener_get_error(jt) != json_tokener_success) {
			json_object_put(o);
			r = bad(err, errlen, -EBADMSG, "record %u: not valid JSON", idx);
			break;
		}
		for (size_t e = json_tokener_get_parse_end(jt); r == 0 && e < rlen; e++)
			if (start[e] != '\n' && start[e] != ' ' && start[e] != '\t' && start[e] != '\r')
				r = bad(err, errlen, -EBADMSG, "record %u: text after the JSON object", idx);
		if (r == 0)
			r = replay_record(o, idx, pcr, bank, value, events, err, errlen);
		json_object_put(o);
	}
	json_tokener_free(jt);
	return r;
}
