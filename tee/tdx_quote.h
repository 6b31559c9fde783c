/* Intel TDX attestation structures: DCAP quotes version 4 and 5 (ECDSA
 * P-256 attestation key, certification data type 6 with the QE report and
 * the PCK certificate chain) and the 1024-byte TDREPORT_STRUCT returned by
 * TDG.MR.REPORT (/dev/tdx_guest TDX_CMD_GET_REPORT0). Pure parsers shared
 * by the init and the host tool: no I/O, no allocation, no globals. Fixed
 * fields are copied; variable-length parts (QE auth data, PCK chain, the QE
 * report bytes) point into the caller's buffer and live as long as it.
 *
 * Quote v4: header (48) | TD report body TD10 (584) | u32 signature data
 *           length | signature data
 * Quote v5: header (48) | u16 body type, u32 body size | body (type 2:
 *           TD10, 584 bytes; type 3: TD15, 648 bytes) | u32 length | signature data
 * The quote signature covers every byte before the signature data length.
 * Signature data: signature r||s (64, big-endian) | attestation key X||Y
 * (64) | certification data: u16 type, u32 size, data. Type 6 (QE report
 * certification data): QE report (384, SGX report body) | QE report
 * signature (64) | u16 QE auth data size, data | u16 type (5: PCK chain,
 * PEM), u32 size, data. Bytes after the quote are tolerated (`trailing`). */
#ifndef CVMINIT_TEE_TDX_QUOTE_H
#define CVMINIT_TEE_TDX_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#define TDX_QUOTE_HEADER_SIZE 48u
#define TDX_TD10_BODY_SIZE 584u
#define TDX_TD15_BODY_SIZE 648u
#define TDX_TEE_TYPE_TDX 0x81u
#define TDX_ATT_KEY_ECDSA_P256 2u
#define TDX_BODY_TYPE_SGX 1u
#define TDX_BODY_TYPE_TD10 2u
#define TDX_BODY_TYPE_TD15 3u
#define TDX_CERT_TYPE_PCK_CHAIN 5u
#define TDX_CERT_TYPE_QE_REPORT 6u
#define SGX_REPORT_BODY_SIZE 384u
#define TDX_TDREPORT_SIZE 1024u

/* TD_ATTRIBUTES (little-endian u64). */
#define TDX_ATTR_DEBUG (1ull << 0)
#define TDX_ATTR_HGS_PLUS_PROF (1ull << 4)
#define TDX_ATTR_PERF_PROF (1ull << 5)
#define TDX_ATTR_PMT_PROF (1ull << 6)
#define TDX_ATTR_ICSSD (1ull << 16)
#define TDX_ATTR_LASS (1ull << 27)
#define TDX_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define TDX_ATTR_MIGRATABLE (1ull << 29)
#define TDX_ATTR_PKS (1ull << 30)
#define TDX_ATTR_KL (1ull << 31)
#define TDX_ATTR_TPA (1ull << 62)
#define TDX_ATTR_PERFMON (1ull << 63)

/* The TD report body of a quote (TD10; TD15 adds the last two fields). */
struct tdx_td_body {
	int td15;
	uint8_t tee_tcb_svn[16];
	uint8_t mr_seam[48];
	uint8_t mr_signer_seam[48];
	uint8_t seam_attributes[8];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mr_td[48];
	uint8_t mr_config_id[48];
	uint8_t mr_owner[48];
	uint8_t mr_owner_config[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	uint8_t tee_tcb_svn2[16]; /* TD15 */
	uint8_t mr_servicetd[48]; /* TD15 */
};

/* SGX report body (the QE report). */
struct sgx_report_body {
	uint8_t cpu_svn[16];
	uint32_t misc_select;
	uint8_t isv_ext_prod_id[16];
	uint8_t attributes[16];
	uint8_t mr_enclave[32];
	uint8_t mr_signer[32];
	uint8_t config_id[64];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint16_t config_svn;
	uint8_t isv_family_id[16];
	uint8_t report_data[64];
};

struct tdx_quote {
	/* header */
	uint16_t version;
	uint16_t att_key_type;
	uint32_t tee_type;
	uint16_t qe_svn;  /* bytes 8-9 (reserved in the v4/v5 specification) */
	uint16_t pce_svn; /* bytes 10-11 (reserved in the v4/v5 specification) */
	uint8_t qe_vendor_id[16];
	uint8_t user_data[20];
	/* body: v4 is always TD10 (type 2 and size 584 are filled in) */
	uint16_t body_type;
	uint32_t body_size;
	struct tdx_td_body body;
	size_t signed_len; /* the quote signature covers buf[0, signed_len) */
	/* signature data */
	uint32_t sig_data_len;
	uint8_t signature[64];  /* r || s, big-endian */
	uint8_t attest_key[64]; /* X || Y of the P-256 attestation key */
	uint16_t cert_type;
	uint32_t cert_size;
	const uint8_t *cert_data;
	/* certification data type 6 */
	int has_qe_report;
	const uint8_t *qe_report_raw; /* SGX_REPORT_BODY_SIZE bytes */
	struct sgx_report_body qe_report;
	uint8_t qe_report_sig[64]; /* r || s, big-endian */
	uint16_t qe_auth_len;
	const uint8_t *qe_auth;
	uint16_t pck_cert_type; /* 5: PEM certificate chain */
	uint32_t pck_cert_size;
	const uint8_t *pck_cert_data;
	size_t quote_len; /* bytes of the quote proper */
	size_t trailing;  /* bytes after it */
};

/* TDREPORT_STRUCT: REPORTMACSTRUCT (256) | TEE_TCB_INFO (239 + 17 reserved)
 * | TDINFO (512). */
struct tdx_tdreport {
	/* REPORTMACSTRUCT */
	uint8_t report_type, report_subtype, report_version; /* type 0x81: TDX */
	uint8_t cpu_svn[16];
	uint8_t tee_tcb_info_hash[48]; /* SHA-384 of TEE_TCB_INFO (239 bytes) */
	uint8_t tee_info_hash[48];     /* SHA-384 of TDINFO (512 bytes) */
	uint8_t report_data[64];
	uint8_t mac[32];
	/* TEE_TCB_INFO */
	uint8_t tcb_valid[8];
	uint8_t tee_tcb_svn[16];
	uint8_t mr_seam[48];
	uint8_t mr_signer_seam[48];
	uint8_t seam_attributes[8];
	uint8_t tee_tcb_svn2[16];
	/* TDINFO */
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mr_td[48];
	uint8_t mr_config_id[48];
	uint8_t mr_owner[48];
	uint8_t mr_owner_config[48];
	uint8_t rtmr[4][48];
	uint8_t servtd_hash[48];
	const uint8_t *tee_tcb_info_raw; /* 239 bytes, for the hash check */
	const uint8_t *tdinfo_raw;       /* 512 bytes */
	size_t trailing;
};

#define TDX_TEE_TCB_INFO_OFFSET 256u
#define TDX_TEE_TCB_INFO_SIZE 239u
#define TDX_TDINFO_OFFSET 512u
#define TDX_TDINFO_SIZE 512u

/* Parse buf[0, len). Return 0, or -1 with a one-line reason in err. */
int tdx_quote_parse(const uint8_t *buf, size_t len, struct tdx_quote *out, char *err, size_t errlen);
int tdx_tdreport_parse(const uint8_t *buf, size_t len, struct tdx_tdreport *out, char *err, size_t errlen);

/* TD_ATTRIBUTES as a number. */
uint64_t tdx_attributes_u64(const uint8_t attr[8]);

/* "td10", "td15", "sgx" or "unknown". */
const char *tdx_body_type_name(uint16_t type);

#endif
