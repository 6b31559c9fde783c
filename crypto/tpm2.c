/* TPM 2.0 through tpm2-tss ESYS: measurement (extend, read, banks) and the
 * systemd-tpm2 sealed key (seal on the host, unseal in the init). The
 * templates, attributes and sessions follow systemd's tpm2-util.c so that
 * tokens written by systemd-cryptenroll open here and ours open there. */
#include "crypto/tpm2.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tcti_device.h>

#define SRK_HANDLE 0x81000001u
#define UNSEAL_PCR_CHANGED_TRIES 5

_Static_assert(TPM2_HASH_SHA1 == TPM2_ALG_SHA1 && TPM2_HASH_SHA256 == TPM2_ALG_SHA256 &&
		       TPM2_HASH_SHA384 == TPM2_ALG_SHA384 && TPM2_HASH_SHA512 == TPM2_ALG_SHA512 &&
		       TPM2_ASYM_RSA == TPM2_ALG_RSA && TPM2_ASYM_ECC == TPM2_ALG_ECC,
	       "tpm2_util.h algorithm numbers are the TPM's");

struct tpm2_ctx {
	ESYS_CONTEXT *esys;
	TSS2_TCTI_CONTEXT *tcti;
};

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* The TPM's response code without the handle/session/parameter number. */
static TSS2_RC rc_base(TSS2_RC rc)
{
	if (rc & ~(TSS2_RC)0xFFFF)
		return rc; /* a TSS layer's own code */
	if (rc & TPM2_RC_FMT1)
		return (rc & 0x3F) | TPM2_RC_FMT1;
	return rc & 0xFFF;
}

static int rc_errno(TSS2_RC rc)
{
	switch (rc_base(rc)) {
	case TPM2_RC_AUTH_FAIL:
	case TPM2_RC_BAD_AUTH:
		return -EACCES;
	case TPM2_RC_LOCKOUT:
		return -EBUSY;
	case TPM2_RC_POLICY_FAIL:
		return -EPERM;
	default:
		return -EIO;
	}
}

/* A TSS failure: errno by class, one line naming the step. */
static int tss_fail(char *err, size_t errlen, TSS2_RC rc, const char *what)
{
	int r = rc_errno(rc);

	if (r == -EBUSY)
		return fail(err, errlen, r,
			    "%s: the TPM is in dictionary-attack lockout (too many wrong PINs); it recovers with time "
			    "or TPM2_DictionaryAttackLockReset", what);
	if (r == -EACCES)
		return fail(err, errlen, r, "%s: wrong PIN (TPM: %s)", what, Tss2_RC_Decode(rc));
	return fail(err, errlen, r, "%s: %s", what, Tss2_RC_Decode(rc));
}

void tpm2_quiet_tss(void)
{
	setenv("TSS2_LOG", "all+none", 1);
}

int tpm2_open_tcti(TSS2_TCTI_CONTEXT *tcti, struct tpm2_ctx **out, char *err, size_t errlen)
{
	struct tpm2_ctx *t;
	TSS2_RC rc;

	*out = NULL;
	tpm2_quiet_tss();
	t = calloc(1, sizeof(*t));
	if (!t) {
		Tss2_Tcti_Finalize(tcti);
		free(tcti);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	t->tcti = tcti;
	rc = Esys_Initialize(&t->esys, tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		tpm2_close(t);
		return tss_fail(err, errlen, rc, "ESYS initialisation");
	}
	rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
	if (rc != TSS2_RC_SUCCESS && rc_base(rc) != TPM2_RC_INITIALIZE) {
		tpm2_close(t);
		return tss_fail(err, errlen, rc, "TPM2_Startup");
	}
	*out = t;
	return 0;
}

int tpm2_open_device(const char *path, struct tpm2_ctx **out, char *err, size_t errlen)
{
	TSS2_TCTI_CONTEXT *tcti;
	struct stat st;
	size_t size = 0;
	TSS2_RC rc;

	*out = NULL;
	tpm2_quiet_tss();
	if (stat(path, &st) < 0)
		return fail(err, errlen, errno == ENOENT ? -ENODEV : -errno, "no TPM: %s: %s", path, strerror(errno));
	if (!S_ISCHR(st.st_mode))
		return fail(err, errlen, -ENODEV, "no TPM: %s is not a character device", path);
	rc = Tss2_Tcti_Device_Init(NULL, &size, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "device TCTI");
	tcti = calloc(1, size);
	if (!tcti)
		return fail(err, errlen, -ENOMEM, "out of memory");
	rc = Tss2_Tcti_Device_Init(tcti, &size, path);
	if (rc != TSS2_RC_SUCCESS) {
		free(tcti);
		return fail(err, errlen, -ENODEV, "cannot open the TPM %s: %s", path, Tss2_RC_Decode(rc));
	}
	return tpm2_open_tcti(tcti, out, err, errlen);
}

void tpm2_close(struct tpm2_ctx *t)
{
	if (!t)
		return;
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti) {
		Tss2_Tcti_Finalize(t->tcti);
		free(t->tcti);
	}
	free(t);
}

int tpm2_active_banks(struct tpm2_ctx *t, unsigned pcr, uint16_t *algs, unsigned *count, char *err, size_t errlen)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;

	*count = 0;
	if (pcr >= TPM2_PCR_COUNT)
		return fail(err, errlen, -EINVAL, "PCR %u out of range", pcr);
	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "reading the PCR banks");
	for (UINT32 i = 0; i < cap->data.assignedPCR.count && *count < TPM2_MAX_BANKS; i++) {
		const TPMS_PCR_SELECTION *s = &cap->data.assignedPCR.pcrSelections[i];
		if (pcr / 8 >= s->sizeofSelect || !(s->pcrSelect[pcr / 8] & (1u << (pcr % 8))))
			continue;
		if (tpm2_bank_by_alg(s->hash))
			algs[(*count)++] = s->hash;
	}
	Esys_Free(cap);
	if (!*count)
		return fail(err, errlen, -EOPNOTSUPP, "the TPM has no SHA-1/SHA-2 bank with PCR %u", pcr);
	return 0;
}

int tpm2_extend(struct tpm2_ctx *t, unsigned pcr, const void *data, size_t len, struct tpm2_digests *out, char *err,
		size_t errlen)
{
	return tpm2_extend_keyed(t, pcr, NULL, 0, data, len, out, err, errlen);
}

int tpm2_extend_keyed(struct tpm2_ctx *t, unsigned pcr, const void *key, size_t keylen, const void *data, size_t len,
		      struct tpm2_digests *out, char *err, size_t errlen)
{
	TPML_DIGEST_VALUES values = { 0 };
	uint16_t algs[TPM2_MAX_BANKS];
	unsigned n;
	TSS2_RC rc;
	int r;

	memset(out, 0, sizeof(*out));
	r = tpm2_active_banks(t, pcr, algs, &n, err, errlen);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < n && i < TPM2_NUM_PCR_BANKS; i++) {
		const struct tpm2_bank_info *b = tpm2_bank_by_alg(algs[i]);
		r = key ? tpm2_hmac(algs[i], key, keylen, data, len, out->digest[i])
			: tpm2_hash(algs[i], data, len, out->digest[i]);
		if (r < 0)
			return fail(err, errlen, r, "hashing the event (%s)", b->name);
		out->alg[i] = algs[i];
		values.digests[i].hashAlg = algs[i];
		memcpy(&values.digests[i].digest, out->digest[i], b->size);
		values.count = ++out->count;
	}
	rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &values);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "extending the PCR");
	return 0;
}

static void selection_of(uint16_t bank, uint32_t mask, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = bank;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[0] = (uint8_t)mask;
	sel->pcrSelections[0].pcrSelect[1] = (uint8_t)(mask >> 8);
	sel->pcrSelections[0].pcrSelect[2] = (uint8_t)(mask >> 16);
}

int tpm2_pcr_read(struct tpm2_ctx *t, unsigned pcr, uint16_t bank, uint8_t *value, char *err, size_t errlen)
{
	const struct tpm2_bank_info *b = tpm2_bank_by_alg(bank);
	TPML_PCR_SELECTION sel, *got = NULL;
	TPML_DIGEST *vals = NULL;
	TSS2_RC rc;
	int r = 0;

	if (!b || pcr >= TPM2_PCR_COUNT)
		return fail(err, errlen, -EINVAL, "unknown bank or PCR %u", pcr);
	selection_of(bank, 1u << pcr, &sel);
	rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, NULL, &got, &vals);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "reading the PCR");
	if (vals->count != 1 || vals->digests[0].size != b->size)
		r = fail(err, errlen, -EOPNOTSUPP, "the TPM has no %s bank for PCR %u", b->name, pcr);
	else
		memcpy(value, vals->digests[0].buffer, b->size);
	Esys_Free(got);
	Esys_Free(vals);
	return r;
}

/* ---- primaries: systemd's templates ------------------------------------ */

/* TCG "SRK template" (Provisioning Guidance), as systemd's
 * tpm2_get_primary_template(): restricted decrypt storage key, AES-128-CFB,
 * RSA 2048 or ECC NIST P-256, empty unique. systemd 252 (and later without
 * an SRK) uses it without noDA; the persistent SRK of systemd >= 255 with. */
static void primary_template(uint16_t alg, bool noda, TPM2B_PUBLIC *p)
{
	memset(p, 0, sizeof(*p));
	p->publicArea.type = alg;
	p->publicArea.nameAlg = TPM2_ALG_SHA256;
	p->publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
					 TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
					 TPMA_OBJECT_USERWITHAUTH | (noda ? TPMA_OBJECT_NODA : 0);
	if (alg == TPM2_ALG_ECC) {
		p->publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
		p->publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		p->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		p->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
		p->publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		p->publicArea.parameters.rsaDetail.keyBits = 2048;
	}
}

/* Handles to release: transient ones are flushed, the persistent SRK's
 * ESYS_TR only closed. */
struct handles {
	ESYS_TR primary;
	bool primary_persistent;
	ESYS_TR object;
	ESYS_TR hmac_session;
	ESYS_TR policy_session;
};

static void handles_release(struct tpm2_ctx *t, struct handles *h)
{
	ESYS_TR *flush[] = { &h->policy_session, &h->hmac_session, &h->object };

	for (size_t i = 0; i < sizeof(flush) / sizeof(flush[0]); i++)
		if (*flush[i] != ESYS_TR_NONE) {
			Esys_FlushContext(t->esys, *flush[i]);
			*flush[i] = ESYS_TR_NONE;
		}
	if (h->primary != ESYS_TR_NONE) {
		if (h->primary_persistent)
			Esys_TR_Close(t->esys, &h->primary);
		else
			Esys_FlushContext(t->esys, h->primary);
		h->primary = ESYS_TR_NONE;
	}
}

static int create_primary(struct tpm2_ctx *t, uint16_t alg, bool noda, ESYS_TR *out, char *err, size_t errlen)
{
	static const TPM2B_SENSITIVE_CREATE sensitive;
	static const TPML_PCR_SELECTION no_pcrs;
	TPM2B_PUBLIC tmpl;
	TSS2_RC rc;

	primary_template(alg, noda, &tmpl);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
				&tmpl, NULL, &no_pcrs, out, NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc,
				alg == TPM2_ALG_ECC ? "creating the ECC primary key" : "creating the RSA primary key");
	return 0;
}

/* The persistent SRK at 0x81000001: used when present (its algorithm wins),
 * else created from the template (with noDA) and persisted, as systemd does. */
static int get_or_create_srk(struct tpm2_ctx *t, uint16_t alg, struct handles *h, uint16_t *got_alg, char *err,
			     size_t errlen)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPM2B_PUBLIC *pub = NULL;
	TPMI_YES_NO more;
	ESYS_TR transient = ESYS_TR_NONE;
	TSS2_RC rc;
	bool present;
	int r;

	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, SRK_HANDLE, 1,
				&more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "looking for the SRK");
	present = cap->data.handles.count > 0 && cap->data.handles.handle[0] == SRK_HANDLE;
	Esys_Free(cap);
	if (present) {
		rc = Esys_TR_FromTPMPublic(t->esys, SRK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &h->primary);
		if (rc != TSS2_RC_SUCCESS)
			return tss_fail(err, errlen, rc, "opening the SRK 0x81000001");
		h->primary_persistent = true;
		rc = Esys_ReadPublic(t->esys, h->primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
		if (rc != TSS2_RC_SUCCESS)
			return tss_fail(err, errlen, rc, "reading the SRK 0x81000001");
		*got_alg = pub->publicArea.type;
		r = 0;
		if ((pub->publicArea.objectAttributes & (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)) !=
			    (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT) ||
		    (*got_alg != TPM2_ALG_ECC && *got_alg != TPM2_ALG_RSA))
			r = fail(err, errlen, -EOPNOTSUPP, "the key at 0x81000001 is not a storage key (SRK)");
		Esys_Free(pub);
		return r;
	}
	r = create_primary(t, alg, true, &transient, err, errlen);
	if (r < 0)
		return r;
	rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, transient, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			       SRK_HANDLE, &h->primary);
	Esys_FlushContext(t->esys, transient);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "persisting the SRK at 0x81000001");
	h->primary_persistent = true;
	*got_alg = alg;
	return 0;
}

static const TPMT_SYM_DEF session_sym = {
	.algorithm = TPM2_ALG_AES,
	.keyBits.aes = 128,
	.mode.aes = TPM2_ALG_CFB,
};

/* HMAC session salted with the primary (only this TPM can recover the salt),
 * optionally bound to an object, encrypting command and response parameters. */
static int encryption_session(struct tpm2_ctx *t, struct handles *h, ESYS_TR bind, char *err, size_t errlen)
{
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, h->primary, bind, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
				   TPM2_SE_HMAC, &session_sym, TPM2_ALG_SHA256, &h->hmac_session);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "starting the encrypted session");
	rc = Esys_TRSess_SetAttributes(t->esys, h->hmac_session,
				       TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "configuring the encrypted session");
	return 0;
}

/* ---- unseal ------------------------------------------------------------ */

static int load_primary(struct tpm2_ctx *t, const struct tpm2_token *tok, struct handles *h, char *err,
			size_t errlen)
{
	TSS2_RC rc;

	if (tok->srk_len) {
		rc = Esys_TR_Deserialize(t->esys, tok->srk, tok->srk_len, &h->primary);
		if (rc != TSS2_RC_SUCCESS)
			return tss_fail(err, errlen, rc, "tpm2_srk: cannot use the recorded SRK");
		h->primary_persistent = true;
		return 0;
	}
	return create_primary(t, tok->primary_alg, false, &h->primary, err, errlen);
}

static int policy_session(struct tpm2_ctx *t, const struct tpm2_token *tok, struct handles *h, char *err,
			  size_t errlen)
{
	TPM2B_DIGEST *digest = NULL;
	TSS2_RC rc;
	int r = 0;

	rc = Esys_StartAuthSession(t->esys, h->primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
				   TPM2_SE_POLICY, &session_sym, TPM2_ALG_SHA256, &h->policy_session);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "starting the policy session");
	if (tok->pcr_mask) {
		TPML_PCR_SELECTION sel;
		selection_of(tok->pcr_bank, tok->pcr_mask, &sel);
		rc = Esys_PolicyPCR(t->esys, h->policy_session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &sel);
		if (rc != TSS2_RC_SUCCESS)
			return tss_fail(err, errlen, rc, "TPM2_PolicyPCR");
	}
	if (tok->pin) {
		rc = Esys_PolicyAuthValue(t->esys, h->policy_session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
		if (rc != TSS2_RC_SUCCESS)
			return tss_fail(err, errlen, rc, "TPM2_PolicyAuthValue");
	}
	rc = Esys_PolicyGetDigest(t->esys, h->policy_session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &digest);
	if (rc != TSS2_RC_SUCCESS)
		return tss_fail(err, errlen, rc, "TPM2_PolicyGetDigest");
	if (digest->size != tok->policy_hash_len || memcmp(digest->buffer, tok->policy_hash, digest->size)) {
		char pcrs[80] = "";
		size_t used = 0;
		unsigned count = 0;
		for (unsigned p = 0; p < TPM2_PCR_COUNT; p++)
			if (tok->pcr_mask & (1u << p)) {
				used += (size_t)snprintf(pcrs + used, sizeof(pcrs) - used, "%s%u", count ? "+" : "", p);
				count++;
			}
		if (count)
			r = fail(err, errlen, -EPERM, "PCR mismatch: PCR%s %s (%s) %s not hold the value%s the key was sealed to",
				 count > 1 ? "s" : "", pcrs, tpm2_bank_by_alg(tok->pcr_bank)->name, count > 1 ? "do" : "does",
				 count > 1 ? "s" : "");
		else
			r = fail(err, errlen, -EPERM, "policy mismatch: the token's policy hash is not PolicyAuthValue's");
	}
	Esys_Free(digest);
	return r;
}

int tpm2_unseal(struct tpm2_ctx *t, const struct tpm2_token *tok, const struct secret *pin, struct secret *out,
		char *err, size_t errlen)
{
	struct handles h = { ESYS_TR_NONE, false, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE };
	TPM2B_PRIVATE priv = { 0 };
	TPM2B_PUBLIC pub = { 0 };
	TPM2B_SENSITIVE_DATA *data = NULL;
	size_t off = 0;
	TSS2_RC rc;
	int r;

	secret_clear(out);
	if (!tpm2_bank_by_alg(tok->pcr_bank) || tok->policy_hash_len != 32)
		return fail(err, errlen, -EINVAL, "token: bad bank or policy hash");
	if (tok->pin && (!pin || !pin->len))
		return fail(err, errlen, -EINVAL, "the token needs a PIN");
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(tok->blob, tok->blob_len, &off, &priv) != TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(tok->blob, tok->blob_len, &off, &pub) != TSS2_RC_SUCCESS)
		return fail(err, errlen, -EINVAL, "tpm2-blob: not a TPM2B_PRIVATE and a TPM2B_PUBLIC");

	r = load_primary(t, tok, &h, err, errlen);
	if (r == 0) {
		rc = Esys_Load(t->esys, h.primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &h.object);
		if (rc != TSS2_RC_SUCCESS)
			r = tss_fail(err, errlen, rc,
				     rc_errno(rc) == -EIO ? "loading the sealed key (sealed by another TPM, or under "
							    "another primary key?)"
							  : "loading the sealed key");
	}
	if (r == 0 && tok->pin) {
		TPM2B_AUTH auth = { .size = 32 };
		r = tpm2_pin_auth(pin->data, pin->len, tok->salt, tok->salt_len, auth.buffer);
		if (r < 0)
			r = fail(err, errlen, r, "deriving the PIN's auth value");
		else if ((rc = Esys_TR_SetAuth(t->esys, h.object, &auth)) != TSS2_RC_SUCCESS)
			r = tss_fail(err, errlen, rc, "setting the PIN");
		explicit_bzero(&auth, sizeof(auth));
	}
	if (r == 0)
		r = encryption_session(t, &h, h.object, err, errlen);
	for (int tries = UNSEAL_PCR_CHANGED_TRIES; r == 0; tries--) {
		r = policy_session(t, tok, &h, err, errlen);
		if (r < 0)
			break;
		rc = Esys_Unseal(t->esys, h.object, h.policy_session, h.hmac_session, ESYS_TR_NONE, &data);
		if (rc == TSS2_RC_SUCCESS)
			break;
		if (rc_base(rc) == TPM2_RC_PCR_CHANGED && tries > 1) {
			Esys_FlushContext(t->esys, h.policy_session);
			h.policy_session = ESYS_TR_NONE;
			continue; /* a PCR moved during the session: build it again */
		}
		r = tss_fail(err, errlen, rc, "TPM2_Unseal");
		if (r == -EPERM)
			r = fail(err, errlen, -EPERM, "PCR mismatch: the TPM refused the policy (%s)", Tss2_RC_Decode(rc));
	}
	if (r == 0) {
		if (data->size > out->cap)
			r = fail(err, errlen, -ENOSPC, "the unsealed key does not fit its buffer");
		else {
			memcpy(out->data, data->buffer, data->size);
			out->len = data->size;
		}
		explicit_bzero(data->buffer, sizeof(data->buffer));
	}
	Esys_Free(data);
	handles_release(t, &h);
	explicit_bzero(&priv, sizeof(priv));
	return r;
}

/* ---- seal -------------------------------------------------------------- */

int tpm2_seal(struct tpm2_ctx *t, const struct tpm2_seal_request *req, const struct secret *key,
	      struct tpm2_token *tok, char *err, size_t errlen)
{
	struct handles h = { ESYS_TR_NONE, false, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE };
	static const TPML_PCR_SELECTION no_pcrs;
	TPM2B_SENSITIVE_CREATE *sens = NULL;
	TPM2B_PUBLIC tmpl;
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	uint8_t policy[32];
	uint16_t alg = req->primary_alg;
	TSS2_RC rc;
	int r;

	memset(tok, 0, sizeof(*tok));
	if (!tpm2_bank_by_alg(req->bank) || req->pcr_mask >> TPM2_PCR_COUNT || (req->pcr_mask && !req->pcr_values))
		return fail(err, errlen, -EINVAL, "bad bank or PCR selection");
	if (alg != TPM2_ASYM_ECC && alg != TPM2_ASYM_RSA)
		return fail(err, errlen, -EINVAL, "the primary key is ECC or RSA");
	if (!key->len || key->len > sizeof(sens->sensitive.data.buffer))
		return fail(err, errlen, -EINVAL, "the key to seal must have 1 to %zu bytes",
			    sizeof(sens->sensitive.data.buffer));
	if (req->pin && !req->pin->len)
		return fail(err, errlen, -EINVAL, "empty PIN");
	if (req->pin && req->salt_len > sizeof(tok->salt))
		return fail(err, errlen, -EINVAL, "salt longer than %zu bytes", sizeof(tok->salt));
	r = tpm2_policy_digest(req->bank, req->pcr_mask, req->pcr_values, req->pin != NULL, policy);
	if (r < 0)
		return fail(err, errlen, r, "computing the policy digest");

	/* The sensitive part lives in locked memory, like every key. */
	struct secret *sens_mem = NULL;
	r = secret_new(&sens_mem, sizeof(*sens));
	if (r < 0)
		return fail(err, errlen, r, "cannot allocate locked memory: %s", strerror(-r));
	sens = (TPM2B_SENSITIVE_CREATE *)sens_mem->data;
	memset(sens, 0, sizeof(*sens));
	sens->sensitive.data.size = (UINT16)key->len;
	memcpy(sens->sensitive.data.buffer, key->data, key->len);
	if (req->pin) {
		sens->sensitive.userAuth.size = 32;
		r = tpm2_pin_auth(req->pin->data, req->pin->len, req->salt, req->salt_len,
				  sens->sensitive.userAuth.buffer);
		if (r < 0)
			r = fail(err, errlen, r, "deriving the PIN's auth value");
	}

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
	tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
	tmpl.publicArea.unique.keyedHash.size = 32;
	tmpl.publicArea.authPolicy.size = 32;
	memcpy(tmpl.publicArea.authPolicy.buffer, policy, 32);

	if (r == 0)
		r = req->use_srk ? get_or_create_srk(t, alg, &h, &alg, err, errlen)
				 : create_primary(t, alg, false, &h.primary, err, errlen);
	if (r == 0)
		r = encryption_session(t, &h, ESYS_TR_NONE, err, errlen);
	if (r == 0) {
		/* The HMAC session authorises the parent and encrypts inSensitive. */
		rc = Esys_Create(t->esys, h.primary, h.hmac_session, ESYS_TR_NONE, ESYS_TR_NONE, sens, &tmpl, NULL,
				 &no_pcrs, &priv, &pub, NULL, NULL, NULL);
		if (rc != TSS2_RC_SUCCESS)
			r = tss_fail(err, errlen, rc, "creating the sealed object");
	}
	if (r == 0) {
		size_t off = 0;
		if (Tss2_MU_TPM2B_PRIVATE_Marshal(priv, tok->blob, sizeof(tok->blob), &off) != TSS2_RC_SUCCESS ||
		    Tss2_MU_TPM2B_PUBLIC_Marshal(pub, tok->blob, sizeof(tok->blob), &off) != TSS2_RC_SUCCESS)
			r = fail(err, errlen, -EIO, "marshalling the sealed object");
		tok->blob_len = off;
	}
	if (r == 0 && req->use_srk) {
		uint8_t *buf = NULL;
		size_t len = 0;
		rc = Esys_TR_Serialize(t->esys, h.primary, &buf, &len);
		if (rc != TSS2_RC_SUCCESS)
			r = tss_fail(err, errlen, rc, "serializing the SRK handle");
		else if (len > sizeof(tok->srk))
			r = fail(err, errlen, -ENOSPC, "the serialized SRK handle is too large");
		else {
			memcpy(tok->srk, buf, len);
			tok->srk_len = len;
		}
		Esys_Free(buf);
	}
	if (r == 0) {
		tok->pcr_mask = req->pcr_mask;
		tok->pcr_bank = req->bank;
		tok->primary_alg = alg;
		tok->primary_alg_given = true;
		tok->pin = req->pin != NULL;
		memcpy(tok->policy_hash, policy, 32);
		tok->policy_hash_len = 32;
		if (req->pin && req->salt_len) {
			memcpy(tok->salt, req->salt, req->salt_len);
			tok->salt_len = req->salt_len;
		}
	} else {
		memset(tok, 0, sizeof(*tok));
	}
	Esys_Free(priv);
	Esys_Free(pub);
	secret_free(sens_mem);
	handles_release(t, &h);
	return r;
}
