/* Unit tests for kconfig/: the .config parser, the fragment parser, verdicts,
 * groups and tags, exit statuses, reports and the `cvminit kconfig` command. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/commands.h"
#include "kconfig/kconfig.h"
#include "tests/harness.h"

TH_DEFINE("kconfig");

static int parse_cfg(struct kc_config *c, const char *text)
{
	return kc_config_parse(c, text, strlen(text), "test.config", NULL);
}

static int parse_frag(struct kc_fragment *f, const char *text, char *err, size_t errlen)
{
	return kc_fragment_parse(f, text, strlen(text), "test.frag", err, errlen);
}

static enum kc_state state_of(const struct kc_config *c, const char *name)
{
	const struct kc_sym *s = kc_config_get(c, name);
	return s ? s->state : KC_ABSENT;
}

static const char *value_of(const struct kc_config *c, const char *name)
{
	const struct kc_sym *s = kc_config_get(c, name);
	return s ? s->value : NULL;
}

/* ---- .config parser ---------------------------------------------------- */

static const char CFG_BASIC[] =
	"#\n"
	"# Automatically generated file; DO NOT EDIT.\n"
	"# Linux/x86 6.12.107 Kernel Configuration\n"
	"#\n"
	"CONFIG_CC_VERSION_TEXT=\"gcc (Debian 14.2.0-19) 14.2.0\"\n"
	"CONFIG_YES=y\n"
	"CONFIG_MOD=m\n"
	"CONFIG_EQ_N=n\n"
	"# CONFIG_OFF is not set\n"
	"CONFIG_NUM=65536\n"
	"CONFIG_NEG=-1\n"
	"CONFIG_HEX=0x01b6\n"
	"CONFIG_EMPTY_STR=\"\"\n"
	"\n"
	"# a comment mentioning CONFIG_FOO=y\n"
	"CONFIG_lower_Case=y\n";

static void config_basic(void)
{
	struct kc_config c;
	CHECK_INT(parse_cfg(&c, CFG_BASIC), 0);
	CHECK_STR(c.title, "Linux/x86 6.12.107 Kernel Configuration");
	CHECK_INT(c.assignments, 10);
	CHECK_INT(c.malformed, 0);
	CHECK_INT(c.duplicates, 0);
	CHECK_INT(state_of(&c, "YES"), KC_YES);
	CHECK_INT(state_of(&c, "MOD"), KC_MODULE);
	CHECK_INT(state_of(&c, "EQ_N"), KC_NO);
	CHECK_INT(state_of(&c, "OFF"), KC_NO);
	CHECK_INT(state_of(&c, "NUM"), KC_VALUE);
	CHECK_STR(value_of(&c, "NUM"), "65536");
	CHECK_STR(value_of(&c, "NEG"), "-1");
	CHECK_STR(value_of(&c, "HEX"), "0x01b6");
	CHECK_INT(state_of(&c, "CC_VERSION_TEXT"), KC_STRING);
	CHECK_STR(value_of(&c, "CC_VERSION_TEXT"), "gcc (Debian 14.2.0-19) 14.2.0");
	CHECK_INT(state_of(&c, "EMPTY_STR"), KC_STRING);
	CHECK_STR(value_of(&c, "EMPTY_STR"), "");
	CHECK_INT(state_of(&c, "lower_Case"), KC_YES);
	CHECK_INT(state_of(&c, "FOO"), KC_ABSENT);   /* only in a comment */
	CHECK_INT(state_of(&c, "NOWHERE"), KC_ABSENT);
	CHECK(kc_config_get(&c, "YES")->line == 6);
	kc_config_free(&c);
}

static void config_crlf_same_as_lf(void)
{
	const char *lf = "# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"x y\"\nCONFIG_N=5\n";
	const char *crlf = "# Linux/x86 6.1.0 Kernel Configuration\r\nCONFIG_A=y\r\n# CONFIG_B is not set\r\nCONFIG_S=\"x y\"\r\nCONFIG_N=5\r\n";
	struct kc_config a, b;
	CHECK_INT(parse_cfg(&a, lf), 0);
	CHECK_INT(parse_cfg(&b, crlf), 0);
	CHECK_INT(b.malformed, 0);
	CHECK_INT(a.n, b.n);
	for (size_t i = 0; i < a.n && i < b.n; i++) {
		CHECK_STR(a.syms[i].name, b.syms[i].name);
		CHECK_INT(a.syms[i].state, b.syms[i].state);
		if (a.syms[i].value || b.syms[i].value)
			CHECK_STR(a.syms[i].value, b.syms[i].value);
	}
	CHECK_STR(b.title, "Linux/x86 6.1.0 Kernel Configuration");
	kc_config_free(&a);
	kc_config_free(&b);
}

static void config_duplicates_last_wins(void)
{
	/* As Kconfig's own reader: each assignment overrides the one before. */
	const char *t = "CONFIG_A=y\nCONFIG_B=m\nCONFIG_A=m\n# CONFIG_B is not set\nCONFIG_A=y\nCONFIG_C=1\nCONFIG_C=2\n";
	struct kc_config c;
	char *buf = NULL;
	size_t len = 0;
	FILE *w = open_memstream(&buf, &len);
	CHECK_INT(kc_config_parse(&c, t, strlen(t), "dup.config", w), 0);
	fclose(w);
	CHECK_INT(c.n, 3);
	CHECK_INT(c.assignments, 7);
	CHECK_INT(c.duplicates, 3);
	CHECK_INT(state_of(&c, "A"), KC_YES);
	CHECK_INT(kc_config_get(&c, "A")->line, 5);
	CHECK_INT(state_of(&c, "B"), KC_NO);
	CHECK_STR(value_of(&c, "C"), "2");
	CHECK(buf && strstr(buf, "dup.config:3: CONFIG_A assigned again (first at line 1)"));
	CHECK(buf && strstr(buf, "the last assignment wins"));
	free(buf);
	kc_config_free(&c);
}

static void config_malformed_lines(void)
{
	const char *t =
		"CONFIG_GOOD=y\n"
		"CONFIG_NOEQ\n"            /* no '=' */
		"CONFIG_=y\n"              /* empty name */
		"CONFIG_EMPTY=\n"          /* empty value */
		"CONFIG_OPEN=\"unterminated\n"
		"CONFIG_SPACE=a b\n"       /* unquoted blank */
		"CONFIG_JUNK=\"x\" tail\n" /* junk after a string */
		"random text\n"
		"  CONFIG_INDENTED=y\n"
		"CONFIG_TRAIL=y  \n"       /* trailing blanks: Kconfig takes it */
		"# CONFIG_OFF is not set   \n"
		"# CONFIG_WEIRD is sort of set\n" /* a comment, not an assignment */
		"CONFIG_LAST=m";           /* no final newline */
	struct kc_config c;
	char *buf = NULL;
	size_t len = 0;
	FILE *w = open_memstream(&buf, &len);
	CHECK_INT(kc_config_parse(&c, t, strlen(t), "bad.config", w), 0);
	fclose(w);
	CHECK_INT(c.malformed, 8);
	CHECK_INT(state_of(&c, "GOOD"), KC_YES);
	CHECK_INT(state_of(&c, "TRAIL"), KC_YES);
	CHECK_INT(state_of(&c, "OFF"), KC_NO);
	CHECK_INT(state_of(&c, "WEIRD"), KC_ABSENT);
	CHECK_INT(state_of(&c, "LAST"), KC_MODULE);
	CHECK_INT(state_of(&c, "NOEQ"), KC_ABSENT);
	CHECK_INT(state_of(&c, "OPEN"), KC_ABSENT);
	CHECK_INT(state_of(&c, "INDENTED"), KC_ABSENT);
	CHECK(buf && strstr(buf, "bad.config:2: ignoring malformed line: CONFIG_NOEQ"));
	CHECK(buf && strstr(buf, "bad.config:5: ignoring malformed value"));
	CHECK(buf && strstr(buf, "bad.config:8: ignoring unexpected line: random text"));
	free(buf);
	kc_config_free(&c);
}

static void config_string_escapes(void)
{
	struct kc_config c;
	CHECK_INT(parse_cfg(&c, "CONFIG_S=\"a\\\"b\\\\c # not a comment\"\n"), 0);
	CHECK_STR(value_of(&c, "S"), "a\"b\\c # not a comment");
	char buf[64];
	kc_found_text(kc_config_get(&c, "S"), buf, sizeof(buf));
	CHECK_STR(buf, "\"a\\\"b\\\\c # not a comment\"");
	kc_config_free(&c);
}

static void config_rejects_binary(void)
{
	struct kc_config c;
	const char t[] = "CONFIG_A=y\n\0CONFIG_B=y\n";
	CHECK_INT(kc_config_parse(&c, t, sizeof(t) - 1, "bin", NULL), -1);
	CHECK_INT(parse_cfg(&c, ""), 0); /* empty: parses, nothing in it */
	CHECK_INT(c.n, 0);
	CHECK_INT(c.assignments, 0);
	CHECK(kc_config_get(&c, "A") == NULL);
	kc_config_free(&c);
}

/* ---- fragment parser --------------------------------------------------- */

static const char FRAG_ALL[] =
	"# cvminit-fragment: required\n"
	"# comment\n"
	"\n"
	"CONFIG_YES=y  # must be built in\n"
	"CONFIG_MOD=m\t# [module=mod-name] built in or module\n"
	"# CONFIG_OFF is not set  # must be off\n"
	"CONFIG_EQN=n  # also off\n"
	"CONFIG_STR=\"a \\\"q\\\" #x\"  # [optional] exact string\n"
	"CONFIG_NUM=0x10  # a number\n"
	"CONFIG_NEG=-5  # a negative number\n"
	"CONFIG_G1=y  # [anyof=grp when=tdx] first of a group\n"
	"CONFIG_G2=m  # [ module=g2  anyof=grp ]   second of a group   \n"
	"CONFIG_COND=y  # [if=CONFIG_A,CONFIG_B] only when A or B is set\n";

static void fragment_all_forms(void)
{
	struct kc_fragment f;
	char err[256];
	int r = parse_frag(&f, FRAG_ALL, err, sizeof(err));
	CHECK_INT(r, 0);
	if (r) {
		TH_FAIL("%s", err);
		return;
	}
	CHECK_INT(f.kind, KC_KIND_REQUIRED);
	CHECK_INT(f.n, 10);
	CHECK_STR(f.entries[0].name, "YES");
	CHECK_INT(f.entries[0].want, KW_YES);
	CHECK_STR(f.entries[0].reason, "must be built in");
	CHECK_INT(f.entries[0].line, 4);
	CHECK_INT(f.entries[1].want, KW_MODULE);
	CHECK_STR(f.entries[1].module, "mod-name");
	CHECK_STR(f.entries[1].reason, "built in or module");
	CHECK_INT(f.entries[2].want, KW_OFF);
	CHECK_STR(f.entries[2].reason, "must be off");
	CHECK_INT(f.entries[3].want, KW_OFF);
	CHECK_INT(f.entries[4].want, KW_STRING);
	CHECK_STR(f.entries[4].value, "a \"q\" #x");
	CHECK(f.entries[4].optional);
	CHECK_STR(f.entries[4].reason, "exact string");
	CHECK_INT(f.entries[5].want, KW_NUMBER);
	CHECK_STR(f.entries[5].value, "0x10");
	CHECK_STR(f.entries[6].value, "-5");
	CHECK_STR(f.entries[7].anyof, "grp");
	CHECK_STR(f.entries[7].when, "tdx");
	CHECK_STR(f.entries[8].module, "g2");
	CHECK_STR(f.entries[8].reason, "second of a group");
	CHECK_INT(f.entries[9].n_ifs, 2);
	CHECK_STR(f.entries[9].ifs[0], "A");
	CHECK_STR(f.entries[9].ifs[1], "B");
	kc_fragment_free(&f);
}

static void fragment_crlf_and_kind(void)
{
	struct kc_fragment f;
	char err[256];
	const char *t = "# cvminit-fragment:   hardening  \r\n# CONFIG_SWAP is not set  # no swap\r\nCONFIG_X=y  # why\r\n";
	CHECK_INT(parse_frag(&f, t, err, sizeof(err)), 0);
	CHECK_INT(f.kind, KC_KIND_HARDENING);
	CHECK_INT(f.n, 2);
	CHECK_STR(f.entries[0].reason, "no swap");
	CHECK_STR(f.entries[1].reason, "why");
	kc_fragment_free(&f);
}

static void fragment_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "CONFIG_A=y  # x\n", "missing '# cvminit-fragment: required'" },
		{ "# cvminit-fragment: optional\n", "must be followed by 'required' or 'hardening'" },
		{ "# cvminit-fragment: required\n# cvminit-fragment: required\n", "second" },
		{ "# cvminit-fragment: required\nCONFIG_A=y\n", "test.frag:2: CONFIG_A has no reason" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  #   \n", "no reason after its annotations" },
		{ "# cvminit-fragment: required\nCONFIG_A=y# x\n", "value must be y, m, n" },
		{ "# cvminit-fragment: required\nCONFIG_A=\"s\"# x\n", "put blanks between" },
		{ "# cvminit-fragment: required\nCONFIG_A=y x  # r\n", "unexpected text after the value" },
		{ "# cvminit-fragment: required\nCONFIG_A=m  # r\n", "needs [module=NAME]" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # [module=a] r\n", "only goes with =m" },
		{ "# cvminit-fragment: required\nCONFIG_A=m  # [module=a module=b] r\n", "'module' given twice" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # [optional optional] r\n", "'optional' given twice" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # [color=red] r\n", "unknown annotation 'color=red'" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # [when=a/b] r\n", "needs a name" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # [when=x r\n", "without ']'" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # [if=B] r\n", "takes CONFIG_ names" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # [if=CONFIG_B,] r\n", "takes CONFIG_ names" },
		{ "# cvminit-fragment: required\nCONFIG_A=yes  # r\n", "value must be y, m, n" },
		{ "# cvminit-fragment: required\nCONFIG_A=12a  # r\n", "value must be y, m, n" },
		{ "# cvminit-fragment: required\nCONFIG_A=0x  # r\n", "value must be y, m, n" },
		{ "# cvminit-fragment: required\nCONFIG_A=\"open  # r\n", "unterminated string" },
		{ "# cvminit-fragment: required\nCONFIG_A  # r\n", "expected CONFIG_NAME=value" },
		{ "# cvminit-fragment: required\n# CONFIG_A=y  # r\n", "must be '# CONFIG_X is not set" },
		{ "# cvminit-fragment: required\n# CONFIG_A is not set\n", "CONFIG_A has no reason" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # r\nCONFIG_A=n  # r\n", "test.frag:3: CONFIG_A already given at line 2" },
		{ "# cvminit-fragment: required\nCONFIG_A=y  # [anyof=g] r\n", "anyof group 'g' has only CONFIG_A" },
		{ "# cvminit-fragment: required\n  CONFIG_A=y  # r\n", "must not start with blanks" },
		{ "# cvminit-fragment: required\nFOO=y  # r\n", "expected CONFIG_NAME=value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kc_fragment f;
		char err[256] = "";
		int r = parse_frag(&f, cases[i].text, err, sizeof(err));
		if (r != -1) {
			TH_FAIL("case %zu parsed, want error '%s'", i, cases[i].want);
			kc_fragment_free(&f);
			continue;
		}
		if (!strstr(err, cases[i].want))
			TH_FAIL("case %zu: error '%s', want '%s'", i, err, cases[i].want);
		if (strncmp(err, "test.frag:", 10))
			TH_FAIL("case %zu: error '%s' does not name the file", i, err);
	}
}

static void fragment_embedded_parse(void)
{
	/* The fragments shipped in the binary parse: required, hardening and the
	 * fast profile (a required-kind fragment of built-in drivers). */
	int seen[2] = { 0, 0 };
	CHECK_INT(kc_embedded_count, 3);
	for (size_t i = 0; i < kc_embedded_count; i++) {
		struct kc_fragment f;
		char err[256];
		const struct kc_embedded *em = &kc_embedded_fragments[i];
		if (kc_fragment_parse(&f, em->text, em->len, em->path, err, sizeof(err))) {
			TH_FAIL("%s", err);
			continue;
		}
		seen[f.kind]++;
		CHECK(f.n >= 15);
		if (strstr(em->path, "fast"))
			for (size_t j = 0; j < f.n; j++)
				CHECK(f.entries[j].want == KW_YES); /* built in, every one */
		for (size_t j = 0; j < f.n; j++) {
			CHECK(f.entries[j].reason && strlen(f.entries[j].reason) > 5);
			if (f.kind == KC_KIND_HARDENING)
				CHECK(f.entries[j].want != KW_MODULE);
		}
		kc_fragment_free(&f);
	}
	CHECK_INT(seen[KC_KIND_REQUIRED], 2);
	CHECK_INT(seen[KC_KIND_HARDENING], 1);
	CHECK(strstr(kc_embedded_fragments[0].path, "kconfig/") == kc_embedded_fragments[0].path);
}

/* ---- verdicts ---------------------------------------------------------- */

/* One entry of the given want against one found line; returns the verdict. */
static enum kc_verdict one(const char *frag_line, const char *cfg_line)
{
	char ftext[256];
	snprintf(ftext, sizeof(ftext), "# cvminit-fragment: required\n%s\n", frag_line);
	struct kc_fragment f;
	struct kc_config c;
	struct kc_section s;
	char err[256];
	if (parse_frag(&f, ftext, err, sizeof(err))) {
		TH_FAIL("%s", err);
		return (enum kc_verdict)-1;
	}
	if (parse_cfg(&c, cfg_line)) {
		kc_fragment_free(&f);
		return (enum kc_verdict)-1;
	}
	enum kc_verdict v = (enum kc_verdict)-1;
	if (kc_check(&s, &c, &f, NULL, 0) == 0) {
		v = s.results[0].verdict;
		CHECK_INT(s.results[0].satisfied, v == KV_BUILTIN || v == KV_MODULE || v == KV_OFF || v == KV_OK);
		kc_section_free(&s);
	}
	kc_config_free(&c);
	kc_fragment_free(&f);
	return v;
}

static void verdict_matrix(void)
{
	const char *Y = "CONFIG_X=y  # r", *M = "CONFIG_X=m  # [module=x] r", *N = "# CONFIG_X is not set  # r";
	const char *S = "CONFIG_X=\"abc\"  # r", *I = "CONFIG_X=16  # r";
	const char *fy = "CONFIG_X=y\n", *fm = "CONFIG_X=m\n", *fn = "# CONFIG_X is not set\n", *fa = "CONFIG_OTHER=y\n";
	const char *fs = "CONFIG_X=\"abc\"\n", *fs2 = "CONFIG_X=\"abd\"\n", *fi = "CONFIG_X=0x10\n", *fi2 = "CONFIG_X=17\n";
	const char *fsnum = "CONFIG_X=\"16\"\n";

	CHECK_INT(one(Y, fy), KV_BUILTIN);
	CHECK_INT(one(Y, fm), KV_WRONG);   /* a module where built-in is needed */
	CHECK_INT(one(Y, fn), KV_MISSING);
	CHECK_INT(one(Y, fa), KV_MISSING); /* absent */
	CHECK_INT(one(Y, fi), KV_WRONG);

	CHECK_INT(one(M, fy), KV_BUILTIN);
	CHECK_INT(one(M, fm), KV_MODULE);
	CHECK_INT(one(M, fn), KV_MISSING);
	CHECK_INT(one(M, fa), KV_MISSING);

	CHECK_INT(one(N, fy), KV_WRONG);
	CHECK_INT(one(N, fm), KV_WRONG);
	CHECK_INT(one(N, fn), KV_OFF);
	CHECK_INT(one(N, fa), KV_OFF);     /* absent counts as off */
	CHECK_INT(one("CONFIG_X=n  # r", "CONFIG_X=n\n"), KV_OFF);

	CHECK_INT(one(S, fs), KV_OK);
	CHECK_INT(one(S, fs2), KV_WRONG);
	CHECK_INT(one(S, fa), KV_MISSING);
	CHECK_INT(one(S, fy), KV_WRONG);

	CHECK_INT(one(I, fi), KV_OK);      /* 16 == 0x10 */
	CHECK_INT(one(I, fi2), KV_WRONG);
	CHECK_INT(one(I, fsnum), KV_WRONG); /* a string "16" is not the number 16 */
	CHECK_INT(one(I, fa), KV_MISSING);
	CHECK_INT(one(I, fn), KV_MISSING);
	CHECK_INT(one("CONFIG_X=-1  # r", "CONFIG_X=-1\n"), KV_OK);
}

static void verdict_texts(void)
{
	CHECK_STR(kc_verdict_name(KV_BUILTIN), "built-in");
	CHECK_STR(kc_verdict_name(KV_MODULE), "module");
	CHECK_STR(kc_verdict_name(KV_MISSING), "missing");
	CHECK_STR(kc_verdict_name(KV_WRONG), "wrong");
	CHECK_STR(kc_verdict_name(KV_NA), "n/a");
	char b[32];
	kc_found_text(NULL, b, sizeof(b));
	CHECK_STR(b, "-");
	struct kc_entry e = { .want = KW_MODULE };
	kc_want_text(&e, b, sizeof(b));
	CHECK_STR(b, "y/m");
	e.want = KW_OFF;
	kc_want_text(&e, b, sizeof(b));
	CHECK_STR(b, "n");
}

struct fixture {
	struct kc_fragment f;
	struct kc_config c;
	struct kc_section s;
	int ok;
};

static void fx_setup(struct fixture *x, const char *frag, const char *cfg, char *const *skip, size_t n_skip)
{
	char err[256];
	memset(x, 0, sizeof(*x));
	if (parse_frag(&x->f, frag, err, sizeof(err))) {
		TH_FAIL("%s", err);
		return;
	}
	if (parse_cfg(&x->c, cfg)) {
		kc_fragment_free(&x->f);
		TH_FAIL("config did not parse");
		return;
	}
	if (kc_check(&x->s, &x->c, &x->f, skip, n_skip)) {
		kc_config_free(&x->c);
		kc_fragment_free(&x->f);
		TH_FAIL("kc_check failed");
		return;
	}
	x->ok = 1;
}

static void fx_free(struct fixture *x)
{
	if (!x->ok)
		return;
	kc_section_free(&x->s);
	kc_config_free(&x->c);
	kc_fragment_free(&x->f);
}

static const char FRAG_GROUPS[] =
	"# cvminit-fragment: required\n"
	"CONFIG_TIS=m  # [module=tpm_tis anyof=tpm] a\n"
	"CONFIG_CRB=m  # [module=tpm_crb anyof=tpm] b\n"
	"CONFIG_L1=y  # [anyof=list] c\n"
	"CONFIG_L2=y  # [anyof=list] d\n"
	"CONFIG_L3=y  # [anyof=list optional] e\n"
	"CONFIG_OPT=y  # [optional] f\n";

static void groups_and_optional(void)
{
	struct fixture x;
	/* tpm met by CRB alone; list unmet (counts once); OPT optional. */
	fx_setup(&x, FRAG_GROUPS, "CONFIG_CRB=m\nCONFIG_L1=m\n", NULL, 0);
	if (!x.ok)
		return;
	const struct kc_result *r = x.s.results;
	CHECK_INT(r[0].verdict, KV_MISSING);
	CHECK(r[0].group_ok);
	CHECK(!r[0].failing);
	CHECK_INT(r[1].verdict, KV_MODULE);
	CHECK_INT(r[2].verdict, KV_WRONG);
	CHECK(!r[2].group_ok);
	CHECK(r[2].failing);
	CHECK(r[3].failing);
	CHECK(!r[4].failing); /* optional member of an unmet group */
	CHECK(!r[5].failing);
	CHECK_INT(x.s.satisfied, 1);
	CHECK_INT(x.s.failing, 1); /* the list group, once */
	CHECK_INT(kc_exit_status(&x.s, 1, 0), 1);
	fx_free(&x);

	/* Everything met: exit 0. */
	fx_setup(&x, FRAG_GROUPS, "CONFIG_TIS=y\nCONFIG_L2=y\n", NULL, 0);
	if (!x.ok)
		return;
	CHECK_INT(x.s.failing, 0);
	CHECK_INT(kc_exit_status(&x.s, 1, 1), 0);
	fx_free(&x);
}

static const char FRAG_TAGS[] =
	"# cvminit-fragment: required\n"
	"CONFIG_SEV=m  # [module=sev-guest when=snp] a\n"
	"CONFIG_TDX=m  # [module=tdx-guest when=tdx] b\n"
	"CONFIG_DEC=y  # [if=CONFIG_GZ,CONFIG_XZ] c\n"
	"CONFIG_SNPALT=y  # [anyof=alt when=snp] d\n"
	"CONFIG_TDXALT=y  # [anyof=alt when=tdx] e\n";

static void tags_and_conditions(void)
{
	struct fixture x;
	char *skip_tdx[] = { "tdx" };
	const char *cfg = "CONFIG_SEV=m\n# CONFIG_GZ is not set\n";

	/* Without --skip: the TDX driver and the alt group fail; DEC n/a. */
	fx_setup(&x, FRAG_TAGS, cfg, NULL, 0);
	if (!x.ok)
		return;
	CHECK_INT(x.s.results[0].verdict, KV_MODULE);
	CHECK_INT(x.s.results[1].verdict, KV_MISSING);
	CHECK(x.s.results[1].failing);
	CHECK_INT(x.s.results[2].verdict, KV_NA);
	CHECK(!x.s.results[2].failing);
	CHECK_INT(x.s.na, 1);
	CHECK_INT(x.s.failing, 2);
	fx_free(&x);

	/* --skip tdx: TDX lines skipped, and a skipped member does not satisfy
	 * its group: SNPALT alone decides "alt", and it is missing. */
	fx_setup(&x, FRAG_TAGS, cfg, skip_tdx, 1);
	if (!x.ok)
		return;
	CHECK_INT(x.s.results[1].verdict, KV_SKIPPED);
	CHECK(!x.s.results[1].failing);
	CHECK_INT(x.s.results[4].verdict, KV_SKIPPED);
	CHECK(x.s.results[3].failing);
	CHECK_INT(x.s.skipped, 2);
	CHECK_INT(x.s.failing, 1);
	const char **mods = NULL;
	size_t nm = kc_modules(&x.s, 1, &mods);
	CHECK_INT(nm, 1);
	if (nm == 1)
		CHECK_STR(mods[0], "sev-guest");
	free(mods);
	fx_free(&x);

	/* The condition holds when one listed option is y or m. */
	fx_setup(&x, FRAG_TAGS, "CONFIG_XZ=m\nCONFIG_SNPALT=y\n", skip_tdx, 1);
	if (!x.ok)
		return;
	CHECK_INT(x.s.results[2].verdict, KV_MISSING);
	CHECK(x.s.results[2].failing);
	CHECK(!x.s.results[3].failing);
	fx_free(&x);
}

static void exit_status_rules(void)
{
	const char *req = "# cvminit-fragment: required\nCONFIG_A=y  # r\n";
	const char *hard = "# cvminit-fragment: hardening\n# CONFIG_SWAP is not set  # r\n";
	struct fixture r, h;
	struct kc_section both[2];

	/* Hardening findings alone: 0, or 1 with --strict. */
	fx_setup(&r, req, "CONFIG_A=y\nCONFIG_SWAP=y\n", NULL, 0);
	fx_setup(&h, hard, "CONFIG_A=y\nCONFIG_SWAP=y\n", NULL, 0);
	if (!r.ok || !h.ok)
		return;
	both[0] = r.s;
	both[1] = h.s;
	CHECK_INT(h.s.failing, 1);
	CHECK_INT(kc_exit_status(both, 2, 0), 0);
	CHECK_INT(kc_exit_status(both, 2, 1), 1);
	fx_free(&r);
	fx_free(&h);

	/* A required failure: 1 either way. */
	fx_setup(&r, req, "CONFIG_A=m\n", NULL, 0);
	fx_setup(&h, hard, "CONFIG_A=m\n", NULL, 0);
	if (!r.ok || !h.ok)
		return;
	both[0] = r.s;
	both[1] = h.s;
	CHECK_INT(kc_exit_status(both, 2, 0), 1);
	CHECK_INT(kc_exit_status(both, 2, 1), 1);
	fx_free(&r);
	fx_free(&h);
}

static void modules_order_and_dedupe(void)
{
	const char *f1 = "# cvminit-fragment: required\n"
			 "CONFIG_B=m  # [module=b] r\nCONFIG_A=m  # [module=a] r\nCONFIG_Y=m  # [module=y] r\n";
	const char *f2 = "# cvminit-fragment: required\nCONFIG_A2=m  # [module=a] r\nCONFIG_C=m  # [module=c] r\n";
	const char *cfg = "CONFIG_A=m\nCONFIG_B=m\nCONFIG_Y=y\nCONFIG_A2=m\nCONFIG_C=m\n";
	struct fixture x1, x2;
	fx_setup(&x1, f1, cfg, NULL, 0);
	fx_setup(&x2, f2, cfg, NULL, 0);
	if (!x1.ok || !x2.ok)
		return;
	struct kc_section secs[2] = { x1.s, x2.s };
	const char **m = NULL;
	size_t n = kc_modules(secs, 2, &m);
	CHECK_INT(n, 3); /* b a c: fragment order, "a" once, built-in y not listed */
	if (n == 3) {
		CHECK_STR(m[0], "b");
		CHECK_STR(m[1], "a");
		CHECK_STR(m[2], "c");
	}
	free(m);
	fx_free(&x1);
	fx_free(&x2);
}

/* ---- reports ----------------------------------------------------------- */

static char *render(const struct kc_report *r, int json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	if (json)
		kc_print_json(f, r);
	else
		kc_print_table(f, r);
	fclose(f);
	return buf;
}

static void report_table_and_json(void)
{
	const char *frag = "# cvminit-fragment: required\n"
			   "CONFIG_DM_VERITY=m  # [module=dm-verity] verity \"quoted\" reason\n"
			   "CONFIG_VERY_LONG_OPTION_NAME_FOR_COLUMN_WIDTH=y  # long\n"
			   "CONFIG_GONE=y  # needed\n";
	struct fixture x;
	fx_setup(&x, frag, "# Linux/x86 6.12.1 Kernel Configuration\nCONFIG_DM_VERITY=m\n", NULL, 0);
	if (!x.ok)
		return;
	struct kc_report rep = { .config_label = "my.config", .cfg = &x.c, .secs = &x.s, .n = 1 };
	char *t = render(&rep, 0), *t2 = render(&rep, 0);
	CHECK(t && t2 && !strcmp(t, t2)); /* deterministic */
	CHECK(t && strstr(t, "kernel config: my.config (Linux/x86 6.12.1 Kernel Configuration)\n"));
	CHECK(t && strstr(t, "CONFIG_DM_VERITY                              y/m  m     module    load dm-verity\n"));
	CHECK(t && strstr(t, "  FAIL CONFIG_GONE: missing (found -): needed\n"));
	CHECK(t && strstr(t, "modules to load (1): dm-verity\n"));
	CHECK(t && strstr(t, "result: FAIL: 2 required failing"));
	/* no line ends in a blank */
	for (const char *p = t; p && (p = strchr(p, '\n')); p++)
		if (p > t && p[-1] == ' ')
			TH_FAIL("trailing blank before: %.20s", p + 1);
	char *j = render(&rep, 1);
	CHECK(j && strstr(j, "\"reason\": \"verity \\\"quoted\\\" reason\""));
	CHECK(j && strstr(j, "\"found\": null, \"verdict\": \"missing\", \"failing\": true"));
	CHECK(j && strstr(j, "\"modules\": [\"dm-verity\"]"));
	CHECK(j && strstr(j, "\"exit\": 1\n}\n"));
	free(t);
	free(t2);
	free(j);
	fx_free(&x);
}

/* ---- the command ------------------------------------------------------- */

static char tmpdir[64];

static char *tmp_path(const char *name)
{
	static char buf[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}


static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	if (buf)
		(void)!fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

/* Runs cvminit kconfig ARGS with stdout and stderr captured in files. */
static int run(char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	int fo = open(tmp_path("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int fe = open(tmp_path("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	close(fo);
	close(fe);
	int rc = cmd_kconfig(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	return rc;
}

static int out_has(const char *which, const char *needle)
{
	char *t = read_file(tmp_path(which));
	int r = t && strstr(t, needle) != NULL;
	if (!r)
		fprintf(stderr, "# %s was: %s\n", which, t ? t : "(none)");
	free(t);
	return r;
}

static int out_lacks(const char *which, const char *needle)
{
	char *t = read_file(tmp_path(which));
	int r = t && strstr(t, needle) == NULL;
	free(t);
	return r;
}

static void command_exit_codes(void)
{
	char *cfg_ok = tmp_path("ok.config");
	th_write_file(cfg_ok, "CONFIG_BLK_DEV_NVME=m\nCONFIG_EFI_PARTITION=y\n");
	char cfg_ok_s[128], frag_s[128], mods_s[128];
	snprintf(cfg_ok_s, sizeof(cfg_ok_s), "%s", cfg_ok);
	snprintf(frag_s, sizeof(frag_s), "tests/data/kconfig/platform-nvme.config");
	snprintf(mods_s, sizeof(mods_s), "%s", tmp_path("modules"));

	CHECK_INT(run((char *[]){ "kconfig", NULL }), EXIT_USAGE);
	CHECK_INT(run((char *[]){ "kconfig", "--help", NULL }), EXIT_OK);
	CHECK(out_has("stdout", "usage: cvminit kconfig check CONFIG"));
	CHECK_INT(run((char *[]){ "kconfig", "frobnicate", NULL }), EXIT_USAGE);
	CHECK_INT(run((char *[]){ "kconfig", "check", NULL }), EXIT_USAGE);
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg_ok_s, "--bogus", NULL }), EXIT_USAGE);
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg_ok_s, "--fragment", NULL }), EXIT_USAGE);
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg_ok_s, "extra", NULL }), EXIT_USAGE);
	/* unreadable config */
	CHECK_INT(run((char *[]){ "kconfig", "check", "tests/data/kconfig/does-not-exist", NULL }), EXIT_USAGE);
	CHECK(out_has("stderr", "does-not-exist"));
	/* not a .config */
	char *notcfg = tmp_path("not.config");
	th_write_file(notcfg, "hello\nworld\n");
	char notcfg_s[128];
	snprintf(notcfg_s, sizeof(notcfg_s), "%s", notcfg);
	CHECK_INT(run((char *[]){ "kconfig", "check", notcfg_s, NULL }), EXIT_USAGE);
	CHECK(out_has("stderr", "not a kernel .config"));
	/* a bad fragment */
	char *badfrag = tmp_path("bad.frag");
	th_write_file(badfrag, "# cvminit-fragment: required\nCONFIG_X=m  # no module\n");
	char badfrag_s[128];
	snprintf(badfrag_s, sizeof(badfrag_s), "%s", badfrag);
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg_ok_s, "--fragment", badfrag_s, NULL }), EXIT_USAGE);
	CHECK(out_has("stderr", "bad.frag:2: CONFIG_X=m needs [module=NAME]"));
	/* a --skip tag nobody uses */
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg_ok_s, "--skip", "sgx", NULL }), EXIT_USAGE);
	CHECK(out_has("stderr", "tags in use: snp tdx virtio"));

	/* An OEM fragment that is met: 0, modules written. */
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg_ok_s, "--fragment", frag_s, "--modules-out", mods_s, NULL }),
		  EXIT_OK);
	char *mods = read_file(mods_s);
	CHECK_STR(mods, "nvme\n");
	free(mods);
	CHECK(out_has("stdout", "result: PASS: 0 required failing"));
	/* CRLF config, same verdicts */
	CHECK_INT(run((char *[]){ "kconfig", "check", "tests/data/kconfig/mini-crlf.config", "--fragment", frag_s, NULL }),
		  EXIT_OK);
	CHECK(out_has("stdout", "(Linux/x86 6.12.0 Kernel Configuration)"));

	/* The embedded fragments against a config lacking nearly everything: 1. */
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg_ok_s, NULL }), EXIT_FAIL);
	CHECK(out_has("stdout", "== required (kconfig/required.config) =="));
	CHECK(out_has("stdout", "== hardening (kconfig/hardening.config) =="));
	CHECK(out_has("stdout", "  FAIL CONFIG_DM_VERITY: missing (found -):"));
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg_ok_s, "--json", NULL }), EXIT_FAIL);
	CHECK(out_has("stdout", "\"result\": \"fail\""));

	/* Hardening only: findings pass without --strict, fail with it. */
	char *hcfg = tmp_path("h.config");
	th_write_file(hcfg, "CONFIG_SWAP=y\n");
	char hcfg_s[128];
	snprintf(hcfg_s, sizeof(hcfg_s), "%s", hcfg);
	CHECK_INT(run((char *[]){ "kconfig", "check", hcfg_s, "--fragment", "builtin:hardening", NULL }), EXIT_OK);
	CHECK(out_has("stdout", "  warn CONFIG_SWAP: wrong (found y)"));
	CHECK_INT(run((char *[]){ "kconfig", "check", hcfg_s, "--fragment", "builtin:hardening", "--strict", NULL }),
		  EXIT_FAIL);
	CHECK(out_has("stdout", "  FAIL CONFIG_SWAP: wrong (found y)"));
	CHECK_INT(run((char *[]){ "kconfig", "check", hcfg_s, "--fragment", "builtin:nonesuch", NULL }), EXIT_USAGE);

	/* fragment: a plain Kconfig fragment, and --raw is the embedded text. */
	CHECK_INT(run((char *[]){ "kconfig", "fragment", "required", "--skip", "tdx", NULL }), EXIT_OK);
	CHECK(out_has("stdout", "\nCONFIG_DM_VERITY=m\n"));
	CHECK(out_lacks("stdout", "CONFIG_TDX_GUEST_DRIVER"));
	CHECK_INT(run((char *[]){ "kconfig", "fragment", "hardening", NULL }), EXIT_OK);
	CHECK(out_has("stdout", "\n# CONFIG_SWAP is not set\n"));
	CHECK(out_has("stdout", "\nCONFIG_DEFAULT_MMAP_MIN_ADDR=65536\n"));
	CHECK_INT(run((char *[]){ "kconfig", "fragment", "--raw", "hardening", NULL }), EXIT_OK);
	CHECK(out_has("stdout", "# cvminit-fragment: hardening"));
	CHECK_INT(run((char *[]){ "kconfig", "fragment", NULL }), EXIT_USAGE);
	CHECK_INT(run((char *[]){ "kconfig", "fragment", "other", NULL }), EXIT_USAGE);
}

/* --profile fast: every driver built in, so nothing is left to load. */
static void profile_fast(void)
{
	static const char all_y[] =
		"CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_BLK=y\nCONFIG_EXT4_FS=y\nCONFIG_CRYPTO_CRC32C=y\n"
		"CONFIG_BLK_DEV_DM=y\nCONFIG_DM_VERITY=y\nCONFIG_DM_CRYPT=y\nCONFIG_CRYPTO_XTS=y\n"
		"CONFIG_CRYPTO_AES=y\nCONFIG_CRYPTO_ECB=y\nCONFIG_CRYPTO_SHA256=y\nCONFIG_SEV_GUEST=y\n"
		"CONFIG_TDX_GUEST_DRIVER=y\nCONFIG_TSM_REPORTS=y\nCONFIG_CONFIGFS_FS=y\nCONFIG_VIRTIO_NET=y\n";
	char cfg[128], mods[128], cfgm[128];
	snprintf(cfg, sizeof(cfg), "%s", tmp_path("fast.config"));
	snprintf(cfgm, sizeof(cfgm), "%s", tmp_path("fastm.config"));
	snprintf(mods, sizeof(mods), "%s", tmp_path("fast.modules"));
	th_write_file(cfg, all_y);
	/* all built in: pass, no module to load (optional AES-NI/SSSE3 absent: notes) */
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg, "--fragment", "builtin:fast", "--modules-out", mods, NULL }),
		  EXIT_OK);
	CHECK(out_has("stdout", "== required (kconfig/fast.config) =="));
	CHECK(out_has("stdout", "  note CONFIG_CRYPTO_AES_NI_INTEL: missing (found -)"));
	char *m = read_file(mods);
	CHECK_STR(m, "");
	free(m);
	/* one driver as a module: wrong, and it fails */
	char *text = strdup(all_y);
	CHECK(text != NULL);
	if (text) {
		char *p = strstr(text, "CONFIG_DM_VERITY=y");
		p[strlen("CONFIG_DM_VERITY=")] = 'm';
		th_write_file(cfgm, text);
		free(text);
	}
	CHECK_INT(run((char *[]){ "kconfig", "check", cfgm, "--fragment", "builtin:fast", NULL }), EXIT_FAIL);
	CHECK(out_has("stdout", "  FAIL CONFIG_DM_VERITY: wrong (found m): dm-verity of p2/p4 built in"));
	/* --skip: a platform without TDX or a key broker */
	CHECK_INT(run((char *[]){ "kconfig", "check", cfgm, "--fragment", "builtin:fast", "--skip", "tdx", "--skip",
				  "kbs", NULL }),
		  EXIT_FAIL);
	CHECK(out_has("stdout", "CONFIG_VIRTIO_NET"));
	/* --profile fast adds the fragment to the default ones (once) */
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg, "--profile", "fast", NULL }), EXIT_FAIL);
	CHECK(out_has("stdout", "== required (kconfig/required.config) =="));
	CHECK(out_has("stdout", "== required (kconfig/fast.config) =="));
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg, "--fragment", "builtin:fast", "--profile", "fast", NULL }),
		  EXIT_OK);
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg, "--profile", "slow", NULL }), EXIT_USAGE);
	CHECK(out_has("stderr", "unknown profile 'slow' (known: fast)"));
	CHECK_INT(run((char *[]){ "kconfig", "check", cfg, "--profile", NULL }), EXIT_USAGE);
	/* the fragment for merge_config.sh */
	CHECK_INT(run((char *[]){ "kconfig", "fragment", "fast", "--skip", "tdx", NULL }), EXIT_OK);
	CHECK(out_has("stdout", "\nCONFIG_DM_VERITY=y\n"));
	CHECK(out_lacks("stdout", "CONFIG_TDX_GUEST_DRIVER"));
}

static void fragment_output_reparses(void)
{
	/* What `kconfig fragment` prints is itself a .config our parser reads
	 * with no malformed line, and it satisfies the fragment it came from. */
	CHECK_INT(run((char *[]){ "kconfig", "fragment", "required", NULL }), EXIT_OK);
	char *plain = read_file(tmp_path("stdout"));
	if (!plain) {
		TH_FAIL("no output");
		return;
	}
	char cfgpath[128];
	snprintf(cfgpath, sizeof(cfgpath), "%s", tmp_path("plain.config"));
	th_write_file(cfgpath, plain);
	struct kc_config c;
	CHECK_INT(kc_config_parse(&c, plain, strlen(plain), "plain", NULL), 0);
	CHECK_INT(c.malformed, 0);
	kc_config_free(&c);
	free(plain);
	CHECK_INT(run((char *[]){ "kconfig", "check", cfgpath, "--fragment", "builtin:required", NULL }), EXIT_OK);

	CHECK_INT(run((char *[]){ "kconfig", "fragment", "hardening", NULL }), EXIT_OK);
	plain = read_file(tmp_path("stdout"));
	if (!plain) {
		TH_FAIL("no output");
		return;
	}
	th_write_file(cfgpath, plain);
	free(plain);
	CHECK_INT(run((char *[]){ "kconfig", "check", cfgpath, "--fragment", "builtin:hardening", "--strict", NULL }),
		  EXIT_OK);
	CHECK(out_has("stdout", " satisfied, 0 findings, 0 skipped, 0 not applicable\n"));
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/cvminit-test-kconfig.XXXXXX", t && *t && strlen(t) < 40 ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	TEST(config_basic);
	TEST(config_crlf_same_as_lf);
	TEST(config_duplicates_last_wins);
	TEST(config_malformed_lines);
	TEST(config_string_escapes);
	TEST(config_rejects_binary);
	TEST(fragment_all_forms);
	TEST(fragment_crlf_and_kind);
	TEST(fragment_errors);
	TEST(fragment_embedded_parse);
	TEST(verdict_matrix);
	TEST(verdict_texts);
	TEST(groups_and_optional);
	TEST(tags_and_conditions);
	TEST(exit_status_rules);
	TEST(modules_order_and_dedupe);
	TEST(report_table_and_json);
	TEST(command_exit_codes);
	TEST(fragment_output_reparses);
	TEST(profile_fast);
	static const char *files[] = { "stdout", "stderr", "ok.config", "modules", "not.config",
				       "bad.frag", "h.config", "plain.config" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(tmp_path(files[i]));
	rmdir(tmpdir);
	return TH_END();
}
