/* measurements.json as expected values (`--measurements FILE` of `key wrap`
 * and `report verify`): the owner demands exactly what the image publisher
 * predicted. The document is the owner's own input, not the host's, but it
 * travels between machines and people, so it is read strictly: bounded size
 * and depth, one known format, every value of the right type and length, a
 * value given twice (flag and file) only when both agree. json-c parses;
 * the schema is crypto/MEASUREMENTS.md. */
#include "tee/host/measurements.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <mbedtls/base64.h>

#include "crypto/tpm2_util.h"

const struct report_extra_def report_extra_defs[EXP__COUNT] = {
	[EXP_HOST_DATA] = { "--expect-host-data", "host_data", "HOST_DATA", 32, 0 },
	[EXP_ID_KEY_DIGEST] = { "--expect-id-key-digest", "id_key_digest", "ID_KEY_DIGEST", 48, 0 },
	[EXP_AUTHOR_KEY_DIGEST] = { "--expect-author-key-digest", "author_key_digest", "AUTHOR_KEY_DIGEST", 48, 0 },
	[EXP_FAMILY_ID] = { "--expect-family-id", "family_id", "FAMILY_ID", 16, 0 },
	[EXP_IMAGE_ID] = { "--expect-image-id", "image_id", "IMAGE_ID", 16, 0 },
	[EXP_MRCONFIGID] = { "--expect-mrconfigid", "mrconfigid", "MRCONFIGID", 48, 1 },
	[EXP_MROWNER] = { "--expect-mrowner", "mrowner", "MROWNER", 48, 1 },
};

const char report_extra_usage[] =
	"expected values beyond the measurement (hex; each is checked when given):\n"
	"  --expect-host-data HEX     SNP HOST_DATA (32 bytes)\n"
	"  --expect-id-key-digest HEX, --expect-author-key-digest HEX\n"
	"                             SNP ID block key digests (48 bytes)\n"
	"  --expect-family-id HEX, --expect-image-id HEX\n"
	"                             SNP ID block FAMILY_ID, IMAGE_ID (16 bytes)\n"
	"  --expect-mrconfigid HEX, --expect-mrowner HEX\n"
	"                             TDX MRCONFIGID, MROWNER (48 bytes)\n"
	"  --measurements FILE        the expected values from cvminit measure's measurements.json\n"
	"                             (SNP: snp.measurement ...; TDX: tdx.mrtd, tdx.rtmr0-2 ...);\n"
	"                             a value also given as a flag must be the same\n";

static int unhex(const char *s, uint8_t *out, size_t n)
{
	return strlen(s) == 2 * n && tpm2_hex_decode(s, out, n) == (int)n ? 0 : -1;
}

int report_extra_parse(struct verify_opts *o, const char *opt, const char *val, const char *who)
{
	for (int i = 0; i < EXP__COUNT; i++) {
		const struct report_extra_def *d = &report_extra_defs[i];
		if (strcmp(opt, d->flag))
			continue;
		if (!val || unhex(val, o->extra[i], d->len) < 0) {
			fprintf(stderr, "%s: %s wants %u hex digits, got '%s'\n", who, opt, 2 * d->len, val ? val : "(nothing)");
			return -1;
		}
		o->has_extra[i] = 1;
		return 2;
	}
	return 0;
}

static const char *type_name(struct json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

/* A hex member of obj: absent (0), n bytes (1), or -1 with err. */
static int hex_member(struct json_object *obj, const char *where, const char *key, uint8_t *out, size_t n, char *err,
		      size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string) || unhex(json_object_get_string(v), out, n) < 0) {
		snprintf(err, errlen, "%s%s must be %zu hex digits (a %s)", where, key, 2 * n,
			 json_object_is_type(v, json_type_string) ? "string of another length or not hex" : type_name(v));
		return -1;
	}
	return 1;
}

/* The "snp" object: MEASUREMENT (hex, and its base64 when given, which must
 * say the same), then the optional HOST_DATA and ID-block fields. */
static int parse_snp(struct json_object *o, struct expect_set *s, char *err, size_t errlen)
{
	struct json_object *b;
	int r = hex_member(o, "snp.", "measurement", s->measurement, 48, err, errlen);

	if (r < 0)
		return -1;
	if (r == 0) {
		snprintf(err, errlen, "snp has no \"measurement\" (the predicted launch MEASUREMENT, 96 hex digits)");
		return -1;
	}
	s->has_measurement = 1;
	if (json_object_object_get_ex(o, "measurement_base64", &b) && !json_object_is_type(b, json_type_null)) {
		uint8_t d[64];
		size_t dl = 0;
		const char *t = json_object_is_type(b, json_type_string) ? json_object_get_string(b) : NULL;
		if (!t || mbedtls_base64_decode(d, sizeof(d), &dl, (const unsigned char *)t, strlen(t)) != 0 || dl != 48 ||
		    memcmp(d, s->measurement, 48) != 0) {
			snprintf(err, errlen, "snp.measurement_base64 is not the base64 of snp.measurement");
			return -1;
		}
	}
	for (int i = 0; i < EXP__COUNT; i++) {
		const struct report_extra_def *d = &report_extra_defs[i];
		if (d->tdx)
			continue;
		if ((r = hex_member(o, "snp.", d->json, s->extra[i], d->len, err, errlen)) < 0)
			return -1;
		s->has_extra[i] = r;
	}
	return 0;
}

/* The "tdx" object: MRTD, the RTMRs predicted, MRCONFIGID and MROWNER. */
static int parse_tdx(struct json_object *o, struct expect_set *s, char *err, size_t errlen)
{
	static const char *const rtmr[3] = { "rtmr0", "rtmr1", "rtmr2" };
	int r = hex_member(o, "tdx.", "mrtd", s->measurement, 48, err, errlen);

	if (r < 0)
		return -1;
	if (r == 0) {
		snprintf(err, errlen, "tdx has no \"mrtd\" (the predicted MRTD, 96 hex digits)");
		return -1;
	}
	s->has_measurement = 1;
	for (int i = 0; i < 3; i++) {
		if ((r = hex_member(o, "tdx.", rtmr[i], s->rtmr[i], 48, err, errlen)) < 0)
			return -1;
		s->has_rtmr[i] = r;
	}
	for (int i = 0; i < EXP__COUNT; i++) {
		const struct report_extra_def *d = &report_extra_defs[i];
		if (!d->tdx)
			continue;
		if ((r = hex_member(o, "tdx.", d->json, s->extra[i], d->len, err, errlen)) < 0)
			return -1;
		s->has_extra[i] = r;
	}
	return 0;
}

/* A test build's document for TEE=mock: the mock TEE reports what
 * tee/mock_measure.h computes (MEASUREMENT = MRTD, RTMR1, RTMR2), not what
 * real firmware would, so those are the values its reports must show. */
static int parse_mock(struct json_object *root, struct measurements *m, char *err, size_t errlen)
{
	int r = hex_member(root, "", "mock_tee_measurement", m->snp.measurement, 48, err, errlen);

	if (r < 0)
		return -1;
	if (r == 0) {
		snprintf(err, errlen, "\"tee\" is \"mock\" but there is no \"mock_tee_measurement\"");
		return -1;
	}
	memset(&m->tdx, 0, sizeof(m->tdx));
	m->snp.present = m->snp.has_measurement = 1;
	for (int i = 0; i < EXP__COUNT; i++)
		m->snp.has_extra[i] = 0;
	m->tdx.present = m->tdx.has_measurement = 1;
	memcpy(m->tdx.measurement, m->snp.measurement, 48);
	for (int i = 1; i <= 2; i++) {
		const char *key = i == 1 ? "mock_tdx_rtmr1" : "mock_tdx_rtmr2";
		if ((r = hex_member(root, "", key, m->tdx.rtmr[i], 48, err, errlen)) < 0)
			return -1;
		m->tdx.has_rtmr[i] = r;
	}
	m->mock = 1;
	return 0;
}

int measurements_parse(const char *text, size_t len, struct measurements *m, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root = NULL, *v;
	size_t end;
	int r = -EINVAL;

	memset(m, 0, sizeof(*m));
	if (len > MEASUREMENTS_MAX || len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "larger than %u bytes: not a measurements document", MEASUREMENTS_MAX);
		return -EINVAL;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "not a JSON document (a NUL byte)");
		return -EINVAL;
	}
	/* depth 8: the schema nests three levels */
	tok = json_tokener_new_ex(8);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < len && strchr(" \t\r\n", text[end]))
		end++;
	if (!root || je != json_tokener_success || end != len) {
		snprintf(err, errlen, "not a JSON document (%s at byte %zu)",
			 je != json_tokener_success ? json_tokener_error_desc(je) : "text after the document", end);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "not a cvminit measurements document (a JSON %s, not an object)", type_name(root));
		goto out;
	}
	if (!json_object_object_get_ex(root, "format", &v) || !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "not a cvminit measurements document (no \"format\": \"%s\")", MEASUREMENTS_FORMAT);
		goto out;
	}
	if (strcmp(json_object_get_string(v), MEASUREMENTS_FORMAT)) {
		char shown[64];
		snprintf(shown, sizeof(shown), "%s", json_object_get_string(v));
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		snprintf(err, errlen, "unknown format '%s' (this cvminit reads %s; a newer cvminit wrote it?)", shown,
			 MEASUREMENTS_FORMAT);
		goto out;
	}
	static const char *const tees[2] = { "snp", "tdx" };
	struct expect_set *sets[2] = { &m->snp, &m->tdx };
	for (int i = 0; i < 2; i++) {
		if (!json_object_object_get_ex(root, tees[i], &v) || json_object_is_type(v, json_type_null))
			continue;
		if (!json_object_is_type(v, json_type_object)) {
			snprintf(err, errlen, "\"%s\" must be an object (a %s)", tees[i], type_name(v));
			goto out;
		}
		sets[i]->present = 1;
		if ((i == 0 ? parse_snp : parse_tdx)(v, sets[i], err, errlen) < 0)
			goto out;
	}
	if (json_object_object_get_ex(root, "tee", &v) && json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), "mock") && parse_mock(root, m, err, errlen) < 0)
		goto out;
	r = 0;
out:
	json_object_put(root);
	return r;
}

/* The file, bounded. 0, or -1 after a message. */
static int read_doc(const char *path, char **out, size_t *len, const char *who)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(MEASUREMENTS_MAX + 1);
	size_t n = 0;

	if (!f || !buf) {
		fprintf(stderr, "%s: cannot open %s: %s\n", who, path, f ? "out of memory" : strerror(errno));
		if (f)
			fclose(f);
		free(buf);
		return -1;
	}
	n = fread(buf, 1, MEASUREMENTS_MAX + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: cannot read %s\n", who, path);
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* One value from the file into o; a flag that says otherwise is a conflict. */
static int merge(const char *who, const char *path, const char *flag, const char *member, int *has, uint8_t *dst,
		 const uint8_t *val, size_t n)
{
	if (*has && memcmp(dst, val, n) != 0) {
		char a[97], b[97];
		tpm2_hex_encode(dst, n, a, sizeof(a));
		tpm2_hex_encode(val, n, b, sizeof(b));
		fprintf(stderr, "%s: %s %s conflicts with %s of %s: %s (give one, or the same value)\n", who, flag, a, member,
			path, b);
		return -1;
	}
	memcpy(dst, val, n);
	*has = 1;
	return 0;
}

int report_measurements_apply(const char *path, enum report_format f, struct verify_opts *o, const char *who)
{
	struct measurements m;
	char err[256], *text = NULL;
	size_t len = 0;

	if (read_doc(path, &text, &len, who) < 0)
		return EXIT_FAIL;
	int r = measurements_parse(text, len, &m, err, sizeof(err));
	free(text);
	if (r < 0) {
		fprintf(stderr, "%s: --measurements %s: %s\n", who, path, err);
		return EXIT_USAGE;
	}
	int tdx = f != REPORT_FMT_SNP;
	const struct expect_set *s = tdx ? &m.tdx : &m.snp;
	const char *obj = tdx ? "tdx" : "snp";
	char member[64];
	if (!s->present)
		return EXIT_OK; /* report_require_expectations says what is missing */
	/* name the member as the file does */
	if (m.mock) {
		fprintf(stderr, "%s: %s is a test build's (TEE=mock): expecting the mock TEE's values\n", who, path);
		snprintf(member, sizeof(member), "mock_tee_measurement");
	} else {
		snprintf(member, sizeof(member), "%s.%s", obj, tdx ? "mrtd" : "measurement");
	}
	if (s->has_measurement && merge(who, path, "--expect-measurement", member, &o->has_measurement, o->measurement,
					s->measurement, 48) < 0)
		return EXIT_USAGE;
	for (int i = 0; i < 3; i++) {
		char flag[24];
		if (!s->has_rtmr[i])
			continue;
		snprintf(flag, sizeof(flag), "--expect-rtmr%d", i);
		if (m.mock)
			snprintf(member, sizeof(member), "mock_tdx_rtmr%d", i);
		else
			snprintf(member, sizeof(member), "%s.rtmr%d", obj, i);
		if (merge(who, path, flag, member, &o->has_rtmr[i], o->rtmr[i], s->rtmr[i], 48) < 0)
			return EXIT_USAGE;
	}
	for (int i = 0; i < EXP__COUNT; i++) {
		if (!s->has_extra[i])
			continue;
		snprintf(member, sizeof(member), "%s.%s", obj, report_extra_defs[i].json);
		if (merge(who, path, report_extra_defs[i].flag, member, &o->has_extra[i], o->extra[i], s->extra[i],
			  report_extra_defs[i].len) < 0)
			return EXIT_USAGE;
	}
	return EXIT_OK;
}
