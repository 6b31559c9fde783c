#ifndef CVMINIT_WRAP_H
#define CVMINIT_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"

/* Attested delivery of the job-store key across a console the host reads.
 *
 * Guest: a fresh P-384 key pair per boot; its public key goes into the
 * challenge's REPORT_DATA = SHA-512("cvminit-challenge/1\0" ||
 * SHA-512(evidence.json) || pub), and the line
 *   cvminit-challenge: base64({"format":"cvminit-challenge/1","tee":...,
 *       "report":b64,"pubkey":b64,"evidence":"...","certs":b64})
 * Owner (host tool): verifies the report, then answers
 *   cvminit-wrapped: base64("CW1" || SHA-256(guest pub) || host pub (97) ||
 *       nonce (12) || AES-256-GCM(u16 length || key || zeros to a multiple of
 *       512 bytes) || tag (16))
 * with the AES key = HKDF-SHA-384(ECDH x-coordinate, info = "cvminit-wrap/1"
 * || SHA-384(report) || guest pub || host pub). Only this boot's private key
 * (locked memory, wiped after use) opens it; a line from an earlier boot
 * names another public key and is refused. */

#define CHALLENGE_PREFIX "cvminit-challenge: "
#define WRAPPED_PREFIX "cvminit-wrapped: "
#define CHALLENGE_FORMAT "cvminit-challenge/1"
#define WRAP_LABEL "cvminit-wrap/1"
#define WRAP_PUB_LEN 97 /* uncompressed SEC1 P-384 point */
#define WRAP_KEY_MAX 4096

struct wrap_guest;

int wrap_guest_new(struct wrap_guest **out);
void wrap_guest_free(struct wrap_guest *w);
const uint8_t *wrap_guest_pub(const struct wrap_guest *w);
/* Remembers the report the challenge carries (its hash enters the KDF). */
void wrap_guest_set_report(struct wrap_guest *w, const uint8_t *report, size_t len);

/* REPORT_DATA of a challenge. 0 or -EIO. */
int wrap_report_data(const char *evidence, size_t evlen, const uint8_t pub[WRAP_PUB_LEN], uint8_t out[64]);

/* The whole console line (malloc'd, with the prefix, no newline). */
int wrap_challenge_line(const char *tee, const uint8_t *report, size_t rlen, const uint8_t pub[WRAP_PUB_LEN],
			const char *evidence, size_t evlen, const uint8_t *certs, size_t clen, char **line);

/* Opens the base64 payload of a cvminit-wrapped line into key.
 * -EBADMSG malformed, -ESTALE made for another challenge (another boot),
 * -EPERM does not decrypt (tampered). */
int wrap_open(struct wrap_guest *w, const char *b64, struct secret *key);

/* Host side: the challenge's parts. */
struct wrap_challenge {
	char tee[8];
	uint8_t *report;
	size_t report_len;
	uint8_t pub[WRAP_PUB_LEN];
	char *evidence;
	size_t evidence_len;
	uint8_t *certs;
	size_t certs_len;
};

/* Finds the cvminit-challenge line in text (e.g. a console log). */
int wrap_challenge_parse(const char *text, struct wrap_challenge *out, char *err, size_t errlen);
void wrap_challenge_free(struct wrap_challenge *c);
/* The cvminit-wrapped line for key (malloc'd, with the prefix). */
int wrap_seal(const struct wrap_challenge *c, const uint8_t *key, size_t klen, char **line);

#endif
