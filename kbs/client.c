#include "kbs/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/log.h"
#include "init/util.h"
#include "kbs/http.h"
#include "kbs/jwe.h"
#include "kbs/net.h"
#include "kbs/rcar.h"
#include "kbs/tls.h"
#include "tee/guest.h"

#define CA_MAX (64 * 1024)
#define CCEL_PATH "/sys/firmware/acpi/tables/data/CCEL"
#define CCEL_MAX (4 * 1024 * 1024)


/* One step's outcome: -EAGAIN-like failures are retried until the deadline. */
struct step {
	char what[160]; /* "POST /kbs/v0/attest" */
	char why[400];
	bool retry;
};

static int read_file(const char *path, size_t max, unsigned char **out, size_t *n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	struct stat st;

	*out = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > max) {
		close(fd);
		return -E2BIG;
	}
	/* sysfs files report size 0 or a page: read to the end within max */
	size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 65536, len = 0;
	unsigned char *b = malloc(cap);
	while (b) {
		ssize_t k;

		if (len + 1 >= cap) {
			unsigned char *nb = cap * 2 <= max + 1 ? realloc(b, cap * 2) : NULL;
			if (!nb) {
				r = -E2BIG;
				break;
			}
			b = nb;
			cap *= 2;
		}
		k = read(fd, b + len, cap - len - 1);
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	if (!b)
		return -ENOMEM;
	if (r < 0) {
		free(b);
		return r;
	}
	b[len] = '\0';
	*out = b;
	*n = len;
	return 0;
}

/* One request; resp holds the parsed answer (body points into buf). */
static int request(struct boot_ctx *ctx, const struct kbs_endpoint *ep, const char *method, const char *path,
		   const char *cookie, const char *body, char *buf, struct http_response *resp, uint64_t deadline,
		   struct step *st)
{
	struct kbs_buf req;
	size_t n = 0;
	const char *why;
	int r;

	snprintf(st->what, sizeof(st->what), "%s %s", method, path);
	kbs_buf_init(&req, 2 * 1024 * 1024);
	r = http_build_request(&req, method, ep->host, path, cookie, body);
	if (r < 0) {
		kbs_buf_free(&req);
		snprintf(st->why, sizeof(st->why), "the request does not fit");
		return r;
	}
	r = kbs_exchange(ep, req.p, req.len, buf, HTTP_RESPONSE_MAX, &n, deadline, st->why, sizeof(st->why));
	kbs_buf_free(&req);
	if (r < 0) {
		/* no answer, or no TCP: worth another try; a refused
		 * certificate or a broken TLS peer is not */
		st->retry = r == -ETIMEDOUT || r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH ||
			    r == -ECONNRESET || r == -EPIPE;
		return r;
	}
	if (http_parse_response(buf, n, resp, &why) < 0) {
		snprintf(st->why, sizeof(st->why), "not a valid HTTP answer: %s", why);
		return -EPROTO;
	}
	if (resp->status != 200) {
		char text[220];

		kbs_problem_text(resp->body, resp->body_len, text, sizeof(text));
		snprintf(st->why, sizeof(st->why), "the KBS answered %d%s%s", resp->status,
			 resp->status == 401 ? " (unauthorized: attestation or policy refused)" :
			 resp->status == 403 ? " (forbidden by the resource policy)" :
			 resp->status == 404 ? " (no such resource)" : "", "");
		size_t l = strlen(st->why);
		snprintf(st->why + l, sizeof(st->why) - l, ": %s", text);
		st->retry = resp->status >= 500;
		return resp->status == 404 ? -ENOENT : -EACCES;
	}
	return 0;
}

static int evidence_json(struct boot_ctx *ctx, const struct tee_report *rep, struct kbs_buf *ev, struct step *st)
{
	int r;

	if (rep->kind == TEE_SNP)
		return kbs_snp_evidence(rep->data, rep->len, rep->certs, rep->certs_len, ev, st->why, sizeof(st->why));
	unsigned char *ccel = NULL;
	size_t ccel_len = 0;
	if (read_file(CCEL_PATH, CCEL_MAX, &ccel, &ccel_len) < 0)
		ccel_len = 0; /* no CC event log table: the verifier then checks the quote alone */
	r = kbs_tdx_evidence(rep->data, rep->len, ccel, ccel_len, ev);
	free(ccel);
	if (r < 0)
		snprintf(st->why, sizeof(st->why), "the TDX evidence does not fit");
	return r;
}

/* This attempt's TEE key pair, of the kind KBS_TEE_KEY names. RSA key
 * generation is a prime search (seconds under emulation): its time is logged. */
static int make_key(struct boot_ctx *ctx, const char *label, struct kbs_key *key, struct kbs_jwk *jwk,
		    struct step *st)
{
	bool rsa = ctx->plan.kbs.tee_key == KBS_TEE_KEY_RSA;
	uint64_t t0 = kbs_now_ms();
	int r = rsa ? kbs_key_generate_rsa(key, kbs_rng, NULL) : kbs_key_generate(key, kbs_rng, NULL);

	if (r < 0) {
		snprintf(st->what, sizeof(st->what), "key pair");
		snprintf(st->why, sizeof(st->why), "no %s key pair (random generator?)", rsa ? "RSA-2048" : "P-256");
		return -EIO;
	}
	if (rsa) {
		log_line(&ctx->log, LOG_INFO, "%s: RSA-%d TEE key pair made in %llu ms", label, KBS_RSA_BITS,
			 (unsigned long long)(kbs_now_ms() - t0));
		r = kbs_jwk_from_rsa(key->n, key->nlen, key->e, key->elen, jwk);
	} else {
		r = kbs_jwk_from_point(key->x, key->y, jwk);
	}
	if (r < 0) {
		kbs_key_free(key);
		snprintf(st->what, sizeof(st->what), "key pair");
		snprintf(st->why, sizeof(st->why), "its JWK does not fit");
		return -EIO;
	}
	return 0;
}

/* One complete handshake and fetch. */
static int attempt(struct boot_ctx *ctx, const char *label, const struct kbs_endpoint *ep, const char *resource,
		   uint64_t deadline, char *buf, struct secret **out, struct step *st)
{
	struct http_response resp;
	struct kbs_buf body, jcs, ev;
	struct kbs_key key;
	struct kbs_jwk jwk;
	struct tee_report rep;
	char nonce[KBS_NONCE_MAX + 1], cookie[KBS_COOKIE_MAX + 1], path[CONFIG_VALUE_MAX + 32];
	uint8_t report_data[64];
	const char *why;
	const char *tee = ctx->tee == TEE_TDX ? "tdx" : "snp";
	int r;

	memset(&rep, 0, sizeof(rep));
	kbs_buf_init(&body, 4 * 1024 * 1024);
	kbs_buf_init(&jcs, 4096);
	kbs_buf_init(&ev, 4 * 1024 * 1024);
	st->retry = false;
	if ((r = make_key(ctx, label, &key, &jwk, st)) < 0)
		goto out_nokey;
	/* 1. Request -> Challenge */
	kbs_auth_body(tee, &body);
	r = request(ctx, ep, "POST", "/kbs/v0/auth", NULL, body.p, buf, &resp, deadline, st);
	if (r < 0)
		goto out;
	if (!resp.has_cookie) {
		snprintf(st->why, sizeof(st->why), "the challenge came without a kbs-session-id cookie");
		r = -EPROTO;
		goto out;
	}
	snprintf(cookie, sizeof(cookie), "%s", resp.cookie);
	if (kbs_parse_challenge(resp.body, resp.body_len, nonce, &why) < 0) {
		snprintf(st->why, sizeof(st->why), "%s", why);
		r = -EPROTO;
		goto out;
	}
	/* 2. the report binds the runtime data: nonce and this attempt's key */
	if ((r = kbs_runtime_jcs(nonce, &jwk, &jcs)) < 0 || (r = kbs_report_data(jcs.p, jcs.len, report_data)) < 0) {
		snprintf(st->why, sizeof(st->why), "the runtime data cannot be built");
		goto out;
	}
	snprintf(st->what, sizeof(st->what), "TEE report");
	r = tee_get_report(ctx, report_data, &rep);
	if (r < 0) {
		snprintf(st->why, sizeof(st->why), "%s", ctx->log.reason);
		goto out;
	}
	if ((r = evidence_json(ctx, &rep, &ev, st)) < 0)
		goto out;
	/* 3. Attestation */
	kbs_buf_free(&body);
	kbs_buf_init(&body, 4 * 1024 * 1024);
	if ((r = kbs_attest_body(nonce, &jwk, ev.p, &body)) < 0) {
		snprintf(st->why, sizeof(st->why), "the attestation does not fit");
		goto out;
	}
	r = request(ctx, ep, "POST", "/kbs/v0/attest", cookie, body.p, buf, &resp, deadline, st);
	if (r < 0)
		goto out;
	if (resp.has_cookie)
		snprintf(cookie, sizeof(cookie), "%s", resp.cookie);
	/* 4. the resource, encrypted to this attempt's key */
	snprintf(path, sizeof(path), "/kbs/v0/resource/%s", resource);
	r = request(ctx, ep, "GET", path, cookie, NULL, buf, &resp, deadline, st);
	if (r < 0)
		goto out;
	r = kbs_jwe_decrypt(resp.body, resp.body_len, &key, kbs_rng, NULL, out, st->why, sizeof(st->why));
	if (r < 0)
		snprintf(st->what, sizeof(st->what), "the answer to GET %s", path);
out:
	kbs_key_free(&key);
out_nokey:
	tee_report_free(&rep);
	kbs_buf_free(&body);
	kbs_buf_free(&jcs);
	kbs_buf_free(&ev);
	return r;
}

int kbs_unlock(struct boot_ctx *ctx, const char *label, const char *device, try_key_fn try_key, void *arg)
{
	const struct kbs_plan *k = &ctx->plan.kbs;
	const char *resource = k->resource[strcmp(label, "jobs") == 0];
	uint64_t deadline = kbs_now_ms() + (uint64_t)k->timeout * 1000u;
	unsigned char *ca = NULL;
	size_t ca_len = 0;
	struct kbs_endpoint ep = { .host = k->host, .addr = k->addr, .port = k->port };
	struct step st;
	char *buf;
	unsigned tries = 0, backoff = 1;
	int r;

	if (k->https) {
		r = read_file(k->ca, CA_MAX, &ca, &ca_len);
		if (r < 0)
			return log_fail(&ctx->log, r, "%s: KBS_CA %s cannot be read: %s", label, k->ca, strerror(-r));
		ep.ca_pem = ca;
		ep.ca_len = ca_len + 1; /* mbedtls wants the NUL of PEM counted */
	}
	if (!ctx->net_down) {
		/* set first: a half-configured interface is taken down too */
		ctx->net_down = kbs_net_down;
		r = kbs_net_up(ctx, k->timeout);
		if (r < 0) {
			free(ca);
			return r;
		}
	}
	buf = malloc(HTTP_RESPONSE_MAX);
	if (!buf) {
		free(ca);
		return log_fail(&ctx->log, -ENOMEM, "%s: no memory for the KBS's answers", label);
	}
	log_line(&ctx->log, LOG_INFO, "%s: asking the KBS %s://%s:%u for %s (deadline %u s)", label,
		 k->https ? "https" : "http", k->host, k->port, resource, k->timeout);
	for (;;) {
		struct secret *key = NULL;

		memset(&st, 0, sizeof(st));
		tries++;
		r = attempt(ctx, label, &ep, resource, deadline, buf, &key, &st);
		if (r == 0) {
			log_line(&ctx->log, LOG_INFO, "%s: the KBS released %s (attempt %u)", label, resource, tries);
			r = try_key(arg, key);
			secret_free(key);
			if (r == -EPERM)
				r = log_fail(&ctx->log, -EPERM, "%s: the key the KBS released for %s does not open %s", label,
					     resource, device);
			break;
		}
		if (!st.retry || kbs_now_ms() + backoff * 1000u >= deadline) {
			if (st.retry)
				r = log_fail(&ctx->log, -ETIMEDOUT, "%s: KBS %s:%u: %s: %s (gave up after %u attempt%s, "
					     "KBS_TIMEOUT=%u s)", label, k->host, k->port, st.what, st.why, tries, tries == 1 ? "" : "s",
					     k->timeout);
			else
				r = log_fail(&ctx->log, r, "%s: KBS %s:%u: %s: %s", label, k->host, k->port, st.what, st.why);
			break;
		}
		log_line(&ctx->log, LOG_WARN, "%s: KBS %s: %s (retrying in %u s)", label, st.what, st.why, backoff);
		sleep(backoff);
		backoff = backoff < 8 ? backoff * 2 : 8;
	}
	free(buf);
	free(ca);
	return r;
}

int kbs_finish(struct boot_ctx *ctx)
{
	if (!ctx->net_down || ctx->plan.kbs.keep)
		return 0;
	ctx->net_down = NULL;
	return kbs_net_down(ctx);
}
