/* The built-in roots of trust (tee/host/roots.c): each pinned key is the key
 * of the vendor certificate it names, as published (copies in
 * tests/data/vectors), and nothing else matches. */
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "tee/host/roots.h"
#include "tests/harness.h"

TH_DEFINE("roots");

/* The trusted root found for the certificate with common name cn in a PEM file. */
static const struct trusted_root *root_of(const char *path, const char *cn)
{
	static mbedtls_x509_crt list;
	const struct trusted_root *found = NULL;

	mbedtls_x509_crt_free(&list);
	mbedtls_x509_crt_init(&list);
	if (mbedtls_x509_crt_parse_file(&list, path) != 0) {
		TH_FAIL("cannot parse %s", path);
		return NULL;
	}
	for (mbedtls_x509_crt *c = &list; c && c->raw.len; c = c->next) {
		char name[128];
		if (mbedtls_x509_dn_gets(name, sizeof(name), &c->subject) < 0 || !strstr(name, cn))
			continue;
		const struct trusted_root *r = trusted_root_find(c);
		if (r && found)
			TH_FAIL("two certificates named %s in %s", cn, path);
		found = r ? r : found;
	}
	return found;
}

#define V "tests/data/vectors/"

static void amd_arks_are_pinned(void)
{
	const struct trusted_root *r = root_of(V "go-sev-guest/ask_ark_milan.pem", "CN=ARK-Milan");
	CHECK(r && !strcmp(r->name, "ARK-Milan") && !strcmp(r->vendor, "AMD"));
	r = root_of(V "go-sev-guest/ask_ark_genoa.pem", "CN=ARK-Genoa");
	CHECK(r && !strcmp(r->name, "ARK-Genoa"));
	r = root_of(V "go-sev-guest/ask_ark_turin_vcek.pem", "CN=ARK-Turin");
	CHECK(r && !strcmp(r->name, "ARK-Turin"));
	/* the VLEK bundle's ARK is the same Milan key */
	r = root_of(V "go-sev-guest/milanvlek.testcer", "CN=ARK-Milan");
	CHECK(r && !strcmp(r->name, "ARK-Milan"));
}

static void intel_root_is_pinned(void)
{
	const struct trusted_root *r = root_of(V "go-tdx-guest/trusted_root.pem", "CN=Intel SGX Root CA");
	CHECK(r && !strcmp(r->name, "Intel SGX Root CA") && !strcmp(r->vendor, "Intel"));
}

static void intermediates_are_not_roots(void)
{
	CHECK(root_of(V "go-sev-guest/ask_ark_milan.pem", "CN=SEV-Milan") == NULL);
	CHECK(root_of(V "go-sev-guest/milanvlek.testcer", "CN=SEV-VLEK-Milan") == NULL);
	CHECK(root_of(V "go-sev-guest/ask_ark_genoa.pem", "CN=SEV-Genoa") == NULL);
}

static void every_root_is_distinct_and_named(void)
{
	CHECK_INT(trusted_root_count, 4);
	for (unsigned i = 0; i < trusted_root_count; i++) {
		CHECK(trusted_roots[i].name && trusted_roots[i].vendor && trusted_roots[i].source);
		for (unsigned j = i + 1; j < trusted_root_count; j++)
			CHECK(memcmp(trusted_roots[i].spki_sha256, trusted_roots[j].spki_sha256, 32) != 0);
	}
}

int main(void)
{
	TEST(amd_arks_are_pinned);
	TEST(intel_root_is_pinned);
	TEST(intermediates_are_not_roots);
	TEST(every_root_is_distinct_and_named);
	return TH_END();
}
