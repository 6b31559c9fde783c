/* The KBS client's pure parts (kbs/): base64url, the KBS's JSON answers,
 * the RFC 8785 runtime data and REPORT_DATA as Trustee computes them, the
 * SNP evidence in virtee/sev's serde form, the HTTP answer parser, and the
 * JWE against itself (kbs/test-jwe-jwcrypto.sh checks jwcrypto's JWEs).
 * Every answer is the host's or the broker's: refusals are exact. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kbs/http.h"
#include "kbs/json.h"
#include "kbs/jwe.h"
#include "kbs/rcar.h"
#include "tests/harness.h"

TH_DEFINE("kbs");

static void b64url_round_trip(void)
{
	uint8_t in[40], out[40];
	char s[64];
	size_t n;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 1);
	for (size_t len = 0; len <= sizeof(in); len++) {
		CHECK_INT(b64url_encode(in, len, s, sizeof(s)), 0);
		CHECK(!strchr(s, '=') && !strchr(s, '+') && !strchr(s, '/'));
		CHECK_INT(b64url_decode(s, strlen(s), out, sizeof(out), &n), 0);
		CHECK_INT(n, len);
		CHECK_MEM(out, in, len);
	}
	CHECK_INT(b64url_encode((const uint8_t *)"\xfb\xff", 2, s, sizeof(s)), 0);
	CHECK_STR(s, "-_8");
}

static void b64url_refusals(void)
{
	uint8_t out[8];
	size_t n;

	CHECK_INT(b64url_decode("AA==", 4, out, sizeof(out), &n), -EINVAL); /* padding */
	CHECK_INT(b64url_decode("+/8", 3, out, sizeof(out), &n), -EINVAL);  /* standard alphabet */
	CHECK_INT(b64url_decode("A", 1, out, sizeof(out), &n), -EINVAL);    /* impossible length */
	CHECK_INT(b64url_decode("AB", 2, out, sizeof(out), &n), -EINVAL);   /* non-zero trailing bits */
	CHECK_INT(b64url_decode("AA AA", 5, out, sizeof(out), &n), -EINVAL);
	CHECK_INT(b64url_decode("AAAAAAAAAAAAAAAA", 16, out, 4, &n), -ENOSPC);
	CHECK_INT(b64url_decode("", 0, out, sizeof(out), &n), 0);
	CHECK_INT(n, 0);
}

static void json_bounds(void)
{
	struct json_object *o;
	char deep[64];
	const char *s;

	CHECK_INT(kbs_json_parse("{\"a\":\"b\"}", 9, &o), 0);
	CHECK_INT(kbs_json_str(o, "a", 1, &s), 0);
	CHECK_STR(s, "b");
	CHECK_INT(kbs_json_str(o, "a", 0, &s), -E2BIG);
	CHECK_INT(kbs_json_str(o, "x", 10, &s), -ENOENT);
	json_object_put(o);
	CHECK_INT(kbs_json_parse("{\"a\":1} x", 9, &o), -EINVAL);  /* trailing bytes */
	CHECK_INT(kbs_json_parse("{\"a\":1,}", 8, &o), -EINVAL);   /* strict */
	CHECK_INT(kbs_json_parse("{\"a\":\"\0\"}", 9, &o), -EINVAL);
	memset(deep, '[', 20);
	memset(deep + 20, ']', 20);
	CHECK_INT(kbs_json_parse(deep, 40, &o), -EINVAL); /* deeper than 16 */
	CHECK_INT(kbs_json_parse("{\"a\":\"\\u0000\"}", 14, &o), 0);
	CHECK_INT(kbs_json_str(o, "a", 10, &s), -EINVAL); /* an embedded NUL */
	json_object_put(o);
}

static void auth_and_challenge(void)
{
	struct kbs_buf b;
	char nonce[KBS_NONCE_MAX + 1];
	const char *why;
	static const char ch[] = "{\"nonce\":\"q83vEjRWeJq8vN7wEjRWeJq8vN7wEjRWeJq8vN7wEjQ=\",\"extra-params\":\"\"}";

	kbs_buf_init(&b, 4096);
	CHECK_INT(kbs_auth_body("snp", &b), 0);
	CHECK_STR(b.p, "{\"version\":\"0.4.0\",\"tee\":\"snp\",\"extra-params\":\"\"}");
	kbs_buf_free(&b);
	kbs_buf_init(&b, 4096);
	CHECK_INT(kbs_auth_body("sgx", &b), -EINVAL);
	kbs_buf_free(&b);
	CHECK_INT(kbs_parse_challenge(ch, strlen(ch), nonce, &why), 0);
	CHECK_STR(nonce, "q83vEjRWeJq8vN7wEjRWeJq8vN7wEjRWeJq8vN7wEjQ=");
	CHECK_INT(kbs_parse_challenge("{\"nonce\":\"a\\\"b\"}", 15, nonce, &why), -EINVAL);
	CHECK_STR(nonce, "");
	CHECK_INT(kbs_parse_challenge("{\"nonce\":5}", 11, nonce, &why), -EINVAL);
	CHECK_INT(kbs_parse_challenge("[]", 2, nonce, &why), -EINVAL);
	CHECK_STR(why, "the challenge is not a JSON object");
	CHECK_INT(kbs_parse_challenge("{\"nonce\":\"\"}", 12, nonce, &why), -EINVAL);
}

/* The runtime data of a fixed nonce and key: the exact JCS text, and its
 * SHA-384 as python3 computes them independently: hashlib.sha384 over
 * json.dumps(sort_keys=True, separators=(",",":")), which equals RFC 8785
 * for ASCII strings. */
static void runtime_data_jcs(void)
{
	struct kbs_jwk jwk;
	struct kbs_buf b;
	uint8_t x[32], y[32], rd[64], want[48];

	memset(x, 0x11, 32);
	memset(y, 0x22, 32);
	CHECK_INT(kbs_jwk_from_point(x, y, &jwk), 0);
	CHECK_STR(jwk.x, "ERERERERERERERERERERERERERERERERERERERERERE");
	kbs_buf_init(&b, 4096);
	CHECK_INT(kbs_runtime_jcs("bm9uY2U=", &jwk, &b), 0);
	CHECK_STR(b.p, "{\"additional-evidence\":\"\",\"nonce\":\"bm9uY2U=\",\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\","
		       "\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"ERERERERERERERERERERERERERERERERERERERERERE\","
		       "\"y\":\"IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI\"}}");
	CHECK_INT(kbs_report_data(b.p, b.len, rd), 0);
	CHECK_INT(th_unhex("a9b03191b4fa73595c3f9db58c68e5cbc4b2580fe9884b220c1cb504a8229af7ab04170012abdd56c405dae8f9be6033",
			   want, sizeof(want)), 0);
	CHECK_MEM(rd, want, 48);
	CHECK(th_is_zero(rd + 48, 16));
	kbs_buf_free(&b);
	kbs_buf_init(&b, 4096);
	CHECK_INT(kbs_runtime_jcs("a\"b", &jwk, &b), -EINVAL);
	kbs_buf_free(&b);
	kbs_buf_init(&b, 64);
	CHECK_INT(kbs_runtime_jcs("n", &jwk, &b), -E2BIG); /* the cap holds */
	kbs_buf_free(&b);
}

/* KBS_TEE_KEY=rsa: the JWK as kbs-types TeePubKey::RSA serialises it
 * ({kty, alg, n, e}, unpadded base64url), in JCS order inside the runtime
 * data. Known answer from python3 as above (the same text, the same hash). */
static void runtime_data_jcs_rsa(void)
{
	struct kbs_jwk jwk;
	struct kbs_buf b;
	uint8_t n[256], e[3] = { 1, 0, 1 }, rd[64], want[48];

	for (size_t i = 0; i < sizeof(n); i++)
		n[i] = (uint8_t)(0xc5 + 7 * i);
	CHECK_INT(kbs_jwk_from_rsa(n, sizeof(n), e, sizeof(e), &jwk), 0);
	CHECK_STR(jwk.e, "AQAB");
	CHECK_INT((int)strlen(jwk.n), 342);
	kbs_buf_init(&b, 4096);
	CHECK_INT(kbs_runtime_jcs("bm9uY2U=", &jwk, &b), 0);
	CHECK_STR(b.p, "{\"additional-evidence\":\"\",\"nonce\":\"bm9uY2U=\",\"tee-pubkey\":{\"alg\":\"RSA-OAEP-256\","
		       "\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"xczT2uHo7_b9BAsSGSAnLjU8Q0pRWF9mbXR7gomQl56lrLO6wcjP1t3k6_L5AAcO"
		       "FRwjKjE4P0ZNVFtiaXB3foWMk5qhqK-2vcTL0tng5-71_AMKERgfJi00O0JJUFdeZWxzeoGIj5adpKuyucDHztXc4-rx-P8GDRQbI"
		       "ikwNz5FTFNaYWhvdn2Ei5KZoKeutbzDytHY3-bt9PsCCRAXHiUsMzpBSE9WXWRrcnmAh46VnKOqsbi_xs3U2-Lp8Pf-BQwTGiEoLz"
		       "Y9REtSWWBnbnV8g4qRmJ-mrbS7wsnQ197l7PP6AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vg\"}}");
	CHECK_INT(kbs_report_data(b.p, b.len, rd), 0);
	CHECK_INT(th_unhex("4724b949c6faf3edb9b7ece8bfbfa65fad4f79e1ebb8a17e3129798a67824dc740f3d0b1c6ee3455b4f22ac2366b8095",
			   want, sizeof(want)), 0);
	CHECK_MEM(rd, want, 48);
	CHECK(th_is_zero(rd + 48, 16));
	kbs_buf_free(&b);
	CHECK_INT(kbs_jwk_from_rsa(n, 0, e, sizeof(e), &jwk), -EINVAL);
}

static int urandom(void *p, unsigned char *out, size_t n)
{
	FILE *f = fopen("/dev/urandom", "rb");
	size_t k = f ? fread(out, 1, n, f) : 0;

	(void)p;
	if (f)
		fclose(f);
	return k == n ? 0 : -1;
}

/* A generated pair is RSA-2048 with e = 65537, n exported minimal (its top
 * bit set, 256 bytes): what goes into "n" and "e". */
static void rsa_key_shape(void)
{
	struct kbs_key k;
	struct kbs_jwk jwk;

	CHECK_INT(kbs_key_generate_rsa(&k, urandom, NULL), 0);
	CHECK(k.rsa);
	CHECK_INT((int)k.nlen, 256);
	CHECK(k.n[0] & 0x80);
	CHECK_INT((int)k.elen, 3);
	CHECK_MEM(k.e, "\x01\x00\x01", 3);
	CHECK_INT(kbs_jwk_from_rsa(k.n, k.nlen, k.e, k.elen, &jwk), 0);
	CHECK_STR(jwk.e, "AQAB");
	CHECK_INT((int)strlen(jwk.n), 342);
	kbs_key_free(&k);
	CHECK(th_is_zero((const uint8_t *)&k, sizeof(k))); /* nothing of the pair left in the struct */
}

static void snp_evidence_shape(void)
{
	uint8_t rep[0x4A0] = { 0 };
	struct kbs_buf b;
	struct json_object *o, *ar, *v;
	char err[200];
	uint8_t certs[24 * 2 + 3] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd,
				       48, 0, 0, 0, 3, 0, 0, 0 };

	certs[48] = 1, certs[49] = 2, certs[50] = 3;
	rep[0] = 3;                     /* version 3: CPUID fields */
	rep[0x08] = 0x00, rep[0x0a] = 0x03; /* policy 0x30000 */
	rep[0x50] = 0xab;               /* report_data[0] */
	rep[0x90] = 0xcd;               /* measurement[0] */
	rep[0x188] = 0x19, rep[0x189] = 0x11, rep[0x18a] = 1; /* Genoa */
	rep[0x180] = 3, rep[0x186] = 8, rep[0x187] = 0x73; /* reported_tcb */
	rep[0x1e8] = 9, rep[0x1e9] = 55, rep[0x1ea] = 1;     /* current build, minor, major */
	rep[0x2a0] = 7;                 /* signature r[0] */
	kbs_buf_init(&b, 1 << 20);
	CHECK_INT(kbs_snp_evidence(rep, sizeof(rep), certs, sizeof(certs), &b, err, sizeof(err)), 0);
	CHECK_INT(kbs_json_parse(b.p, b.len, &o), 0);
	CHECK(json_object_object_get_ex(o, "attestation_report", &ar));
	CHECK(json_object_object_get_ex(ar, "version", &v) && json_object_get_int(v) == 3);
	CHECK(json_object_object_get_ex(ar, "policy", &v) && json_object_get_int64(v) == 0x30000);
	CHECK(json_object_object_get_ex(ar, "report_data", &v) && json_object_array_length(v) == 64 &&
	      json_object_get_int(json_object_array_get_idx(v, 0)) == 0xab);
	CHECK(json_object_object_get_ex(ar, "measurement", &v) && json_object_array_length(v) == 48 &&
	      json_object_get_int(json_object_array_get_idx(v, 0)) == 0xcd);
	CHECK(json_object_object_get_ex(ar, "cpuid_fam_id", &v) && json_object_get_int(v) == 0x19);
	CHECK(json_object_object_get_ex(ar, "launch_mit_vector", &v) && v == NULL); /* null before v5 */
	CHECK_CONTAINS(b.p, "\"reported_tcb\":{\"fmc\":null,\"bootloader\":3,\"tee\":0,\"snp\":8,\"microcode\":115}");
	CHECK_CONTAINS(b.p, "\"current\":{\"major\":1,\"minor\":55,\"build\":9}");
	CHECK_CONTAINS(b.p, "\"signature\":{\"r\":[7,0,");
	CHECK_CONTAINS(b.p, "\"cert_chain\":[{\"cert_type\":\"VCEK\",\"data\":[1,2,3]}]}");
	json_object_put(o);
	kbs_buf_free(&b);
	/* a table pointing outside itself, and one without its end */
	certs[16] = 200;
	kbs_buf_init(&b, 1 << 20);
	CHECK_INT(kbs_snp_evidence(rep, sizeof(rep), certs, sizeof(certs), &b, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "the host's certificate table points outside itself");
	kbs_buf_free(&b);
	kbs_buf_init(&b, 1 << 20);
	CHECK_INT(kbs_snp_evidence(rep, sizeof(rep), certs, 20, &b, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "the host's certificate table has no end marker");
	kbs_buf_free(&b);
	kbs_buf_init(&b, 1 << 20);
	CHECK_INT(kbs_snp_evidence(rep, sizeof(rep), NULL, 0, &b, err, sizeof(err)), 0);
	CHECK_CONTAINS(b.p, "\"cert_chain\":null}");
	kbs_buf_free(&b);
}

static void tdx_evidence_shape(void)
{
	struct kbs_buf b;

	kbs_buf_init(&b, 4096);
	CHECK_INT(kbs_tdx_evidence((const uint8_t *)"quote", 5, NULL, 0, &b), 0);
	CHECK_STR(b.p, "{\"cc_eventlog\":null,\"quote\":\"cXVvdGU=\"}");
	kbs_buf_free(&b);
}

static void attest_body(void)
{
	struct kbs_jwk jwk = { .x = "X", .y = "Y" };
	struct kbs_buf b;

	kbs_buf_init(&b, 4096);
	CHECK_INT(kbs_attest_body("N", &jwk, "{\"e\":1}", &b), 0);
	CHECK_STR(b.p, "{\"runtime-data\":{\"nonce\":\"N\",\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\","
		       "\"kty\":\"EC\",\"x\":\"X\",\"y\":\"Y\"}},\"tee-evidence\":{\"primary_evidence\":{\"e\":1},"
		       "\"additional_evidence\":\"\"}}");
	kbs_buf_free(&b);
	/* an RSA key: TeePubKey::RSA in the attest body too */
	memset(&jwk, 0, sizeof(jwk));
	jwk.rsa = 1;
	snprintf(jwk.n, sizeof(jwk.n), "N");
	snprintf(jwk.e, sizeof(jwk.e), "AQAB");
	kbs_buf_init(&b, 4096);
	CHECK_INT(kbs_attest_body("N", &jwk, "{\"e\":1}", &b), 0);
	CHECK_STR(b.p, "{\"runtime-data\":{\"nonce\":\"N\",\"tee-pubkey\":{\"alg\":\"RSA-OAEP-256\",\"e\":\"AQAB\","
		       "\"kty\":\"RSA\",\"n\":\"N\"}},\"tee-evidence\":{\"primary_evidence\":{\"e\":1},"
		       "\"additional_evidence\":\"\"}}");
	kbs_buf_free(&b);
}

static void problem_text(void)
{
	char t[80];
	static const char p[] = "{\"type\":\"https://github.com/confidential-containers/kbs/errors/PolicyDeny\","
				"\"detail\":\"Access denied\\nby policy\"}";

	kbs_problem_text(p, strlen(p), t, sizeof(t));
	CHECK_STR(t, "PolicyDeny: Access denied?by policy");
	kbs_problem_text("oops\x01", 5, t, sizeof(t));
	CHECK_STR(t, "oops?");
	kbs_problem_text("", 0, t, sizeof(t));
	CHECK_STR(t, "(empty answer)");
}

static void resource_paths(void)
{
	CHECK_INT(kbs_resource_valid("default/cvm/root-key"), 0);
	CHECK_INT(kbs_resource_valid("default/cvm"), -EINVAL);
	CHECK_INT(kbs_resource_valid("a/b/c/d"), -EINVAL);
	CHECK_INT(kbs_resource_valid("a/../c"), -EINVAL);
	CHECK_INT(kbs_resource_valid("a//c"), -EINVAL);
	CHECK_INT(kbs_resource_valid("a/b/c?x=1"), -EINVAL);
}

static int parse(const char *text, struct http_response *r, const char **why)
{
	static char buf[4096];
	size_t n = strlen(text);

	memcpy(buf, text, n);
	return http_parse_response(buf, n, r, why);
}

static void http_answers(void)
{
	struct http_response r;
	const char *why;

	CHECK_INT(parse("HTTP/1.1 200 OK\r\nSet-Cookie: kbs-session-id=abc-123; Expires=Sat, 05 Dec 2026 06:00:00 GMT\r\n"
			"Content-Length: 4\r\n\r\n{\"a\"", &r, &why), 0);
	CHECK_INT(r.status, 200);
	CHECK(r.has_cookie);
	CHECK_STR(r.cookie, "abc-123");
	CHECK_INT(r.body_len, 4);
	CHECK(!memcmp(r.body, "{\"a\"", 4));
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", &r,
			&why), 0);
	CHECK_INT(r.body_len, 5);
	CHECK(!memcmp(r.body, "abcde", 5));
	CHECK_INT(parse("HTTP/1.1 401 Unauthorized\r\n\r\nno", &r, &why), 0); /* ended by the close */
	CHECK_INT(r.status, 401);
	CHECK_INT(r.body_len, 2);
	CHECK(!r.has_cookie);
}

static void http_refusals(void)
{
	struct http_response r;
	const char *why;

#define REFUSED(text, reason)                                   \
	do {                                                    \
		CHECK_INT(parse(text, &r, &why), -EPROTO);      \
		CHECK_STR(why, reason);                         \
	} while (0)
	REFUSED("", "the connection closed without an answer");
	REFUSED("HTTP/1.1 200 OK\r\n", "no complete HTTP header (8 KiB at most)");
	REFUSED("HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line");
	REFUSED("HTTP/1.1 100 Continue\r\n\r\n", "an HTTP status outside 200-599");
	REFUSED("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", "the body is shorter than Content-Length (truncated)");
	REFUSED("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nabc", "bytes follow the Content-Length body");
	REFUSED("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\na", "a bad or conflicting Content-Length");
	REFUSED("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "a bad or conflicting Content-Length");
	REFUSED("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"both Content-Length and Transfer-Encoding (refused: request smuggling shape)");
	REFUSED("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "a Transfer-Encoding other than one \"chunked\"");
	REFUSED("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff\r\n",
		"a chunk size is not a hex number (at most 9 digits)");
	REFUSED("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"a chunk is truncated or not followed by CRLF");
	REFUSED("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX",
		"bytes follow the chunked body");
	REFUSED("HTTP/1.1 200 OK\r\nSet-Cookie: kbs-session-id=a\"b\r\n\r\n",
		"the kbs-session-id cookie has a character outside RFC 6265 cookie-octet");
	REFUSED("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "a header name with a character that is not a token");
	REFUSED("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", "a control character in the HTTP header");
	REFUSED("HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", "a header line without a name");
}

static void http_request_text(void)
{
	struct kbs_buf b;

	kbs_buf_init(&b, 4096);
	CHECK_INT(http_build_request(&b, "POST", "kbs.test", "/kbs/v0/attest", "abc", "{}"), 0);
	CHECK_STR(b.p, "POST /kbs/v0/attest HTTP/1.1\r\nHost: kbs.test\r\nUser-Agent: cvminit\r\nAccept: application/json\r\n"
		       "Connection: close\r\nCookie: kbs-session-id=abc\r\nContent-Type: application/json\r\n"
		       "Content-Length: 2\r\n\r\n{}");
	kbs_buf_free(&b);
}

int main(void)
{
	TEST(b64url_round_trip);
	TEST(b64url_refusals);
	TEST(json_bounds);
	TEST(auth_and_challenge);
	TEST(runtime_data_jcs);
	TEST(runtime_data_jcs_rsa);
	TEST(rsa_key_shape);
	TEST(snp_evidence_shape);
	TEST(tdx_evidence_shape);
	TEST(attest_body);
	TEST(problem_text);
	TEST(resource_paths);
	TEST(http_answers);
	TEST(http_refusals);
	TEST(http_request_text);
	return TH_END();
}
