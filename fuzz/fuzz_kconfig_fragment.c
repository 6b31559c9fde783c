/* libFuzzer target: cvminit's annotated kernel config fragments
 * (kc_fragment_parse in kconfig/parse.c), then the verdicts and both reports
 * against a small fixed .config, so that whatever a fragment can express is
 * also evaluated and printed. */
// FUZZ_SRCS: kconfig/parse.c kconfig/check.c
// FUZZ_OPTS: -max_len=8192
#include "fuzz/fuzz.h"
#include "kconfig/kconfig.h"

static struct kc_config cfg;

static const char fixed_config[] = "# Linux/x86 6.12.0 Kernel Configuration\n"
				   "CONFIG_BLK_DEV_INITRD=y\n"
				   "CONFIG_EXT4_FS=m\n"
				   "CONFIG_DM_VERITY=m\n"
				   "# CONFIG_KEXEC is not set\n"
				   "CONFIG_MODULE_SIG=y\n"
				   "CONFIG_MODULE_COMPRESS_XZ=y\n"
				   "CONFIG_LSM=\"landlock,lockdown,yama\"\n"
				   "CONFIG_NR_CPUS=64\n"
				   "CONFIG_ILLEGAL_POINTER_VALUE=0xdead000000000000\n"
				   "CONFIG_X86_X32_ABI=n\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (kc_config_parse(&cfg, fixed_config, sizeof(fixed_config) - 1, "fixed.config", NULL) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_fragment frag;
	struct kc_section sec;
	char err[512];
	char *const skip[] = { "snp", "tdx" };
	FILE *null = fuzz_devnull();

	char *text = malloc(size ? size : 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	err[0] = '\0';
	int r = kc_fragment_parse(&frag, text, size, "fuzz.fragment", err, sizeof(err));
	free(text);
	FUZZ_ASSERT(fuzz_terminated(err, sizeof(err)));
	if (r != 0) {
		FUZZ_ASSERT(r == -1 && err[0] != '\0');
		return 0;
	}
	for (size_t i = 0; i < frag.n; i++) {
		const struct kc_entry *e = &frag.entries[i];
		char buf[64];
		FUZZ_ASSERT(e->name && e->name[0]);
		FUZZ_ASSERT((e->value != NULL) == (e->want == KW_STRING || e->want == KW_NUMBER));
		kc_want_text(e, buf, sizeof(buf));
		FUZZ_ASSERT(fuzz_terminated(buf, sizeof(buf)));
	}
	(void)kc_kind_name(frag.kind);
	if (kc_check(&sec, &cfg, &frag, skip, size % 3) == 0) {
		FUZZ_ASSERT(sec.satisfied + sec.skipped + sec.na <= frag.n);
		struct kc_report rep = { .config_label = "fixed.config", .cfg = &cfg, .secs = &sec, .n = 1,
					 .skip = skip, .n_skip = size % 3, .strict = (int)(size & 1) };
		const char **mods = NULL;
		(void)kc_modules(&sec, 1, &mods);
		free(mods);
		(void)kc_exit_status(&sec, 1, rep.strict);
		kc_print_table(null, &rep);
		kc_print_json(null, &rep);
		kc_section_free(&sec);
	}
	kc_fragment_free(&frag);
	return 0;
}
