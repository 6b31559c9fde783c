/* /proc/swaps parsing (swap must be verified off) and the sysctl table. */
#include <errno.h>
#include <string.h>

#include "init/harden.h"
#include "tests/harness.h"

TH_DEFINE("harden");

static char paths[SWAPS_MAX][256];

static void no_swap(void)
{
	CHECK_INT(swaps_parse("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", paths, SWAPS_MAX), 0);
	CHECK_INT(swaps_parse("", paths, SWAPS_MAX), 0);
}

static void active_swaps_with_escapes(void)
{
	const char *text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
			   "/dev/vdb2                               partition\t1048572\t\t0\t\t-2\n"
			   "/swap\\040file                          file\t\t65532\t\t0\t\t-3\n";
	CHECK_INT(swaps_parse(text, paths, SWAPS_MAX), 2);
	CHECK_STR(paths[0], "/dev/vdb2");
	CHECK_STR(paths[1], "/swap file");
}

static void nul_escape_stays_literal(void)
{
	/* "\000" would decode to NUL and cut the path short (found by fuzzing) */
	const char *text = "Filename Type Size Used Priority\n/a\\000b partition 1 0 -2\n";
	CHECK_INT(swaps_parse(text, paths, SWAPS_MAX), 1);
	CHECK_STR(paths[0], "/a\\000b");
}

static void too_many_swaps(void)
{
	char text[4096] = "Filename Type Size Used Priority\n";
	for (int i = 0; i < SWAPS_MAX + 1; i++)
		strcat(text, "/dev/x partition 1 0 -2\n");
	CHECK_INT(swaps_parse(text, paths, SWAPS_MAX), -E2BIG);
}

static void sysctl_table_is_sane(void)
{
	CHECK(hardening_sysctl_count >= 10);
	for (size_t i = 0; i < hardening_sysctl_count; i++) {
		CHECK(hardening_sysctls[i].key[0] != '/');
		CHECK(strchr(hardening_sysctls[i].key, '.') == NULL);
	}
}

int main(void)
{
	TEST(no_swap);
	TEST(active_swaps_with_escapes);
	TEST(nul_escape_stays_literal);
	TEST(too_many_swaps);
	TEST(sysctl_table_is_sane);
	return TH_END();
}
