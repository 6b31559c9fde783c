/* libFuzzer target: kernel .config files (kc_config_parse in kconfig/parse.c),
 * then the whole verdict and report path of `cvminit kconfig check` against
 * cvminit's own fragments (embedded at build time): kc_check, kc_modules,
 * kc_exit_status, the table and the JSON report (written to /dev/null). */
// FUZZ_SRCS: kconfig/parse.c kconfig/check.c $(KCONFIG_EMBED)
// FUZZ_OPTS: -max_len=16384
#include "fuzz/fuzz.h"
#include "kconfig/kconfig.h"

#define MAXFRAG 4
static struct kc_fragment frags[MAXFRAG];
static size_t nfrags;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	for (size_t i = 0; i < kc_embedded_count && nfrags < MAXFRAG; i++) {
		const struct kc_embedded *em = &kc_embedded_fragments[i];
		if (kc_fragment_parse(&frags[nfrags], em->text, em->len, em->path, err, sizeof(err))) {
			fprintf(stderr, "fuzz: embedded fragment does not parse: %s\n", err);
			abort();
		}
		nfrags++;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_config cfg;
	struct kc_section secs[MAXFRAG];
	char *const skip[] = { "tdx" };
	FILE *null = fuzz_devnull();

	/* An exact-size copy: the parser takes (text, len), no terminator. */
	char *text = malloc(size ? size : 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	if (kc_config_parse(&cfg, text, size, "fuzz.config", null) != 0) {
		free(text);
		return 0;
	}
	free(text); /* nothing may point into the input after parsing */

	/* Sorted, unique names, each findable. */
	for (size_t i = 0; i < cfg.n; i++) {
		FUZZ_ASSERT(cfg.syms[i].name && cfg.syms[i].name[0]);
		if (i)
			FUZZ_ASSERT(strcmp(cfg.syms[i - 1].name, cfg.syms[i].name) < 0);
		FUZZ_ASSERT(kc_config_get(&cfg, cfg.syms[i].name) == &cfg.syms[i]);
		FUZZ_ASSERT((cfg.syms[i].value != NULL) ==
			    (cfg.syms[i].state == KC_STRING || cfg.syms[i].state == KC_VALUE));
	}
	FUZZ_ASSERT(cfg.n <= cfg.assignments);

	size_t n = 0;
	for (; n < nfrags; n++)
		if (kc_check(&secs[n], &cfg, &frags[n], skip, size % 2) != 0)
			break;
	if (n == nfrags) {
		struct kc_report r = { .config_label = "fuzz.config", .cfg = &cfg, .secs = secs, .n = n,
				       .skip = skip, .n_skip = size % 2, .strict = (int)(size % 3 == 0) };
		const char **mods = NULL;
		size_t nm = kc_modules(secs, n, &mods);
		for (size_t i = 0; i < nm; i++)
			FUZZ_ASSERT(mods[i] && mods[i][0]);
		free(mods);
		int st = kc_exit_status(secs, n, r.strict);
		FUZZ_ASSERT(st == 0 || st == 1);
		kc_print_table(null, &r);
		kc_print_json(null, &r);
	}
	for (size_t i = 0; i < n; i++)
		kc_section_free(&secs[i]);
	kc_config_free(&cfg);
	return 0;
}
