/* Authenticode hashing of a PE/COFF image (see pe_authenticode.h), by the
 * steps of the PE/COFF specification's appendix "Calculating the PE Image
 * Hash", in the order edk2 follows when it measures a loaded image: the
 * headers without the checksum and the certificate-table directory entry,
 * the sections with raw data sorted by file offset, then the bytes after
 * them less the certificate table. Hand-written because mbedtls (the
 * project's crypto library) has no PE or Authenticode support; every offset
 * taken from the image is checked against its length before use. */
#include "crypto/host/pe_authenticode.h"

#include <errno.h>
#include <string.h>

#define MAX_SECTIONS 96 /* the PE format allows 96 sections */
#define DIR_SECURITY 4

static uint32_t le16(const uint8_t *p) { return (uint32_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

struct raw {
	uint32_t off, size;
};

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

int pe_authenticode(const uint8_t *img, size_t len, mbedtls_md_type_t t, uint8_t *out, const char **why)
{
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(t);
	mbedtls_md_context_t c;
	struct raw sec[MAX_SECTIONS];

	if (!info)
		return fail(why, "unknown digest type");
	if (len < 0x40 || img[0] != 'M' || img[1] != 'Z')
		return fail(why, "not a PE image (no MZ header)");
	size_t pe = le32(img + 0x3c);
	if (pe > len || len - pe < 24 || memcmp(img + pe, "PE\0\0", 4))
		return fail(why, "not a PE image (no PE signature)");
	size_t nsec = le16(img + pe + 6), optsz = le16(img + pe + 20), opt = pe + 24;
	if (optsz > len - opt || optsz < 2)
		return fail(why, "PE optional header out of range");
	uint32_t magic = le16(img + opt);
	/* PE32 and PE32+ differ in where the data directories start. */
	size_t ndirs_at = magic == 0x10b ? 92 : magic == 0x20b ? 108 : 0;
	if (!ndirs_at)
		return fail(why, "PE optional header has an unknown magic");
	if (optsz < ndirs_at + 4)
		return fail(why, "PE optional header too short");
	size_t csum = opt + 64, hdrs = le32(img + opt + 60), ndirs = le32(img + opt + ndirs_at);
	size_t dirs = opt + ndirs_at + 4, cert_dir = dirs + 8 * DIR_SECURITY;
	int has_cert = ndirs > DIR_SECURITY;
	if (has_cert && cert_dir + 8 > opt + optsz)
		return fail(why, "PE certificate table entry outside the optional header");
	if (hdrs > len || hdrs < (has_cert ? cert_dir + 8 : csum + 4))
		return fail(why, "PE SizeOfHeaders out of range");
	size_t sh = opt + optsz;
	if (nsec > MAX_SECTIONS || nsec * 40 > len - sh)
		return fail(why, "PE section table out of range");
	uint64_t sum = hdrs;
	size_t n = 0;
	for (size_t i = 0; i < nsec; i++) {
		const uint8_t *s = img + sh + 40 * i;
		struct raw r = { le32(s + 20), le32(s + 16) };
		if (r.size == 0)
			continue;
		if (r.off > len || r.size > len - r.off)
			return fail(why, "PE section data outside the file");
		/* insertion sort by file offset, stable (as edk2) */
		size_t j = n++;
		while (j > 0 && r.off < sec[j - 1].off) {
			sec[j] = sec[j - 1];
			j--;
		}
		sec[j] = r;
		sum += r.size;
	}
	uint32_t cert_size = has_cert ? le32(img + cert_dir + 4) : 0;
	if (sum < len && (uint64_t)cert_size > len - sum)
		return fail(why, "PE certificate table larger than the data after the sections");

	int bad = 0;
	mbedtls_md_init(&c);
	bad |= mbedtls_md_setup(&c, info, 0) || mbedtls_md_starts(&c);
	bad |= mbedtls_md_update(&c, img, csum);
	if (has_cert) {
		bad |= mbedtls_md_update(&c, img + csum + 4, cert_dir - (csum + 4));
		bad |= mbedtls_md_update(&c, img + cert_dir + 8, hdrs - (cert_dir + 8));
	} else {
		bad |= mbedtls_md_update(&c, img + csum + 4, hdrs - (csum + 4));
	}
	for (size_t i = 0; i < n; i++)
		bad |= mbedtls_md_update(&c, img + sec[i].off, sec[i].size);
	if (sum < len)
		bad |= mbedtls_md_update(&c, img + sum, len - sum - cert_size);
	bad |= mbedtls_md_finish(&c, out);
	mbedtls_md_free(&c);
	return bad ? fail(why, "digest failed") : 0;
}
