/* CCEL replay (see ccel.h). The formats are the TCG PC Client Platform
 * Firmware Profile's (TCG_PCR_EVENT, TCG_EfiSpecIDEvent, TCG_PCR_EVENT2)
 * with the CC MR index in the PCR field (UEFI 2.10, EFI_CC_EVENT). No
 * library on the host parses them (tpm2-tss's is for TPM PCRs and not in
 * the host tool); every length is checked before use. */
#include "crypto/host/ccel.h"

#include <errno.h>
#include <string.h>

#include <mbedtls/md.h>

#define ALG_SHA384 0x000c
#define MAX_ALGS 16

static uint32_t le16(const uint8_t *p) { return (uint32_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int bad(const char **why, size_t *at, size_t off, const char *msg)
{
	*why = msg;
	*at = off;
	return -EBADMSG;
}

int ccel_replay(const uint8_t *log, size_t len, uint8_t rtmr[CCEL_RTMRS][CCEL_MR_SIZE], unsigned *events, ccel_fn fn,
		void *ctx, const char **why, size_t *at)
{
	static const char spec_sig[16] = "Spec ID Event03";
	struct {
		uint32_t id, size;
	} algs[MAX_ALGS];

	memset(rtmr, 0, CCEL_RTMRS * CCEL_MR_SIZE);
	*events = 0;
	/* TCG_PCR_EVENT: pcr, type, SHA-1 digest (20), size, TCG_EfiSpecIDEvent */
	if (len < 32 || le32(log + 4) != 3 /* EV_NO_ACTION */)
		return bad(why, at, 0, "no Spec ID header event (not a TCG2 event log)");
	size_t hsize = le32(log + 28);
	if (hsize > len - 32 || hsize < 28 || memcmp(log + 32, spec_sig, 16))
		return bad(why, at, 0, "Spec ID header event out of range or without its signature");
	const uint8_t *spec = log + 32;
	size_t nalg = le32(spec + 24);
	if (nalg == 0 || nalg > MAX_ALGS || nalg * 4 > hsize - 28)
		return bad(why, at, 0, "Spec ID header lists no or too many digest algorithms");
	int has384 = 0;
	for (size_t i = 0; i < nalg; i++) {
		algs[i].id = le16(spec + 28 + 4 * i);
		algs[i].size = le16(spec + 30 + 4 * i);
		if (algs[i].id == ALG_SHA384)
			has384 = algs[i].size == CCEL_MR_SIZE;
	}
	if (!has384)
		return bad(why, at, 0, "the log has no SHA-384 digests");

	const mbedtls_md_info_t *sha384 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
	size_t off = 32 + hsize;
	while (len - off >= 8) {
		const uint8_t *e = log + off;
		struct ccel_event ev = { .mr_index = le32(e), .type = le32(e + 4) };
		if (ev.type == 0xffffffffu || (ev.mr_index == 0 && ev.type == 0))
			break; /* the unused rest of the area */
		if (len - off < 12)
			return bad(why, at, off, "event header truncated");
		size_t cnt = le32(e + 8), p = off + 12;
		int got = 0;
		if (cnt == 0 || cnt > nalg)
			return bad(why, at, off, "event digest count out of range");
		for (size_t i = 0; i < cnt; i++) {
			if (len - p < 2)
				return bad(why, at, off, "event digest truncated");
			uint32_t id = le16(log + p), size = 0;
			for (size_t k = 0; k < nalg; k++)
				if (algs[k].id == id)
					size = algs[k].size, k = nalg;
			if (!size)
				return bad(why, at, off, "event digest of an algorithm the header does not list");
			if (len - p - 2 < size)
				return bad(why, at, off, "event digest truncated");
			if (id == ALG_SHA384) {
				memcpy(ev.digest, log + p + 2, CCEL_MR_SIZE);
				got = 1;
			}
			p += 2 + size;
		}
		if (!got)
			return bad(why, at, off, "event without a SHA-384 digest");
		if (len - p < 4 || le32(log + p) > len - p - 4)
			return bad(why, at, off, "event data truncated");
		ev.data_size = le32(log + p);
		ev.data = log + p + 4;
		if (ev.mr_index < 1 || ev.mr_index > CCEL_RTMRS)
			return bad(why, at, off, "event MR index is not an RTMR (1..4)");
		/* RTMR extend: new = SHA-384(old || digest) */
		uint8_t buf[2 * CCEL_MR_SIZE];
		memcpy(buf, rtmr[ev.mr_index - 1], CCEL_MR_SIZE);
		memcpy(buf + CCEL_MR_SIZE, ev.digest, CCEL_MR_SIZE);
		mbedtls_md(sha384, buf, sizeof(buf), rtmr[ev.mr_index - 1]);
		(*events)++;
		if (fn) {
			int r = fn(&ev, ctx);
			if (r)
				return r;
		}
		off = p + 4 + ev.data_size;
	}
	return 0;
}

const char *ccel_event_type_name(uint32_t type)
{
	static const struct {
		uint32_t type;
		const char *name;
	} names[] = {
		{ 0x1, "EV_POST_CODE" },
		{ 0x3, "EV_NO_ACTION" },
		{ 0x4, "EV_SEPARATOR" },
		{ 0x5, "EV_ACTION" },
		{ 0x6, "EV_EVENT_TAG" },
		{ 0x7, "EV_S_CRTM_CONTENTS" },
		{ 0x8, "EV_S_CRTM_VERSION" },
		{ 0xa, "EV_PLATFORM_CONFIG_FLAGS" },
		{ 0xd, "EV_IPL" },
		{ 0xe, "EV_IPL_PARTITION_DATA" },
		{ 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
		{ 0x80000002, "EV_EFI_VARIABLE_BOOT" },
		{ 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
		{ 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
		{ 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
		{ 0x80000006, "EV_EFI_GPT_EVENT" },
		{ 0x80000007, "EV_EFI_ACTION" },
		{ 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
		{ 0x80000009, "EV_EFI_HANDOFF_TABLES" },
		{ 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
		{ 0x8000000b, "EV_EFI_HANDOFF_TABLES2" },
		{ 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	return NULL;
}
