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
 * names another public key and is refused.
 *
 * Authenticated lines ("CW2"): anyone who sees the challenge can wrap a key
 * of their own to it, so the guest may pin the sender. The head gains a
 * purpose byte (1 jobs, 2 root), authenticated by GCM, and the line ends
 * with the sender's ECDSA P-384 signature (r || s, 96 bytes) over
 * SHA-384("cvminit-wrap-signature/1\0" || SHA-384(report) || every byte
 * before the signature). A guest with a pinned sender opens nothing else. */

#define CHALLENGE_PREFIX "cvminit-challenge: "
#define WRAPPED_PREFIX "cvminit-wrapped: "
#define CHALLENGE_FORMAT "cvminit-challenge/1"
#define WRAP_LABEL "cvminit-wrap/1"
#define WRAP_PUB_LEN 97 /* uncompressed SEC1 P-384 point */
#define WRAP_KEY_MAX 4096

/* What a signed line is for: a line made for one prompt opens no other. */
enum wrap_purpose { WRAP_PURPOSE_JOBS = 1, WRAP_PURPOSE_ROOT = 2 };

struct wrap_guest;

int wrap_guest_new(struct wrap_guest **out);
void wrap_guest_free(struct wrap_guest *w);
const uint8_t *wrap_guest_pub(const struct wrap_guest *w);
/* Remembers the report the challenge carries (its hash enters the KDF). */
void wrap_guest_set_report(struct wrap_guest *w, const uint8_t *report, size_t len);

/* From now on only lines signed by signer (an uncompressed SEC1 P-384
 * point) for purpose open; anything else gives -EACCES. */
void wrap_guest_require_signer(struct wrap_guest *w, const uint8_t signer[WRAP_PUB_LEN], enum wrap_purpose purpose);

/* REPORT_DATA of a challenge. 0 or -EIO. */
int wrap_report_data(const char *evidence, size_t evlen, const uint8_t pub[WRAP_PUB_LEN], uint8_t out[64]);

/* The whole console line (malloc'd, with the prefix, no newline). */
int wrap_challenge_line(const char *tee, const uint8_t *report, size_t rlen, const uint8_t pub[WRAP_PUB_LEN],
			const char *evidence, size_t evlen, const uint8_t *certs, size_t clen, char **line);

/* Opens the base64 payload of a cvminit-wrapped line into key.
 * -EBADMSG malformed, -ESTALE made for another challenge (another boot),
 * -EPERM does not decrypt (tampered), -EACCES not signed by the pinned
 * sender for this purpose (see wrap_guest_require_signer). */
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
/* The same, signed by signer (an EC P-384 private key) for purpose; signer
 * NULL gives wrap_seal's unsigned line. */
struct mbedtls_pk_context;
int wrap_seal_signed(const struct wrap_challenge *c, const uint8_t *key, size_t klen, struct mbedtls_pk_context *signer,
		     enum wrap_purpose purpose, char **line);

#endif
