/* The modules stage's decisions (init/modlist.c): the load list and its
 * graph, the scheduler, and which TEE guest driver a machine can have, from
 * injected CPUID values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "init/modlist.h"
#include "tests/harness.h"

TH_DEFINE("modlist");

#define K "/lib/modules/6.12.0/kernel/"

static char *dup(const char *s)
{
	char *d = strdup(s);
	CHECK(d != NULL);
	return d;
}

/* The list `make bench` loads (the closure of qemu-tests/modules). */
static const char bench_list[] =
	"# comment\n"
	K "drivers/block/virtio_blk.ko.xz needs=\n"
	K "lib/crc16.ko.xz needs=\n"
	K "fs/mbcache.ko.xz needs=\n"
	K "fs/jbd2/jbd2.ko.xz needs=\n"
	K "fs/ext4/ext4.ko.xz needs=crc16,mbcache,jbd2\n"
	K "fs/configfs/configfs.ko.xz needs=\n"
	K "drivers/virt/coco/tsm.ko.xz needs=configfs\n"
	K "drivers/virt/coco/sev-guest/sev-guest.ko.xz needs=tsm\n"
	K "drivers/virt/coco/tdx-guest/tdx-guest.ko.xz needs=tsm\n"
	"\n"
	K "drivers/md/dm-mod.ko.xz needs=\n"
	K "drivers/md/dm-verity.ko.xz needs=dm-mod\n";

static void parse_graph(void)
{
	char *buf = dup(bench_list), err[256] = "";
	struct mod_list l;

	CHECK_INT(modlist_parse(buf, &l, err, sizeof(err)), 0);
	CHECK_INT(l.n, 11);
	CHECK_STR(l.v[0].name, "virtio_blk");
	CHECK_STR(l.v[0].path, K "drivers/block/virtio_blk.ko.xz");
	CHECK_INT(l.v[0].nneeds, 0);
	CHECK_STR(l.v[4].name, "ext4");
	CHECK_INT(l.v[4].nneeds, 3);
	CHECK_INT(l.v[4].needs[0], 1);
	CHECK_INT(l.v[4].needs[2], 3);
	CHECK_STR(l.v[7].name, "sev_guest");
	CHECK_INT(l.v[7].tee, MOD_TEE_SEV);
	CHECK_INT(l.v[8].tee, MOD_TEE_TDX);
	CHECK_INT(l.v[6].tee, MOD_TEE_NO);
	CHECK_INT(l.v[10].needs[0], 9); /* dm-mod, written with '-' */
	modlist_free(&l);
	free(buf);
}

/* Lines without needs= (the dracut module, the initramfs-tools hook): one
 * after the other, as before. */
static void legacy_serial(void)
{
	char *buf = dup(K "a.ko\n" K "b.ko.zst\n\n" K "c.ko.gz\n"), err[256];
	struct mod_list l;

	CHECK_INT(modlist_parse(buf, &l, err, sizeof(err)), 0);
	CHECK_INT(l.n, 3);
	CHECK_INT(l.v[0].nneeds, 0);
	CHECK_INT(l.v[1].nneeds, 1);
	CHECK_INT(l.v[1].needs[0], 0);
	CHECK_INT(l.v[2].needs[0], 1);
	CHECK_INT(modlist_next(&l), 0);
	CHECK_INT(modlist_next(&l), -1);
	modlist_finish(&l, 0, 0, 10);
	CHECK_INT(modlist_next(&l), 1);
	CHECK_INT(modlist_next(&l), -1);
	modlist_finish(&l, 1, ENODEV, 10);
	CHECK_INT(modlist_next(&l), 2);
	CHECK(!modlist_finished(&l));
	modlist_finish(&l, 2, EEXIST, 10);
	CHECK(modlist_finished(&l));
	modlist_free(&l);
	free(buf);
}

static void parse_errors(void)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "lib/a.ko\n", "line 1: module path must be absolute" },
		{ "# x\n" K "a.ko needs=b\n", "line 2: a needs b, which is not listed before it" },
		{ K "a.ko needs=a\n", "line 1: a needs a, which is not listed before it" },
		{ K "a.ko\n" K "b.ko depends=a\n", "line 2: expected 'needs=NAME,...' after the path, not 'depends=a'" },
		{ K "a.ko needs=x y\n", "line 1: expected 'needs=NAME,...' after the path, not 'needs=x y'" },
		{ K "a.txt\n", "line 1: " K "a.txt is not a module file (NAME.ko[.xz|.zst|.gz])" },
		{ K "a.ko\n" K "b.ko needs=a,\xc3\xa9\n", "line 2: needs '\xc3\xa9': not a module name" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = dup(cases[i].text), err[256] = "";
		struct mod_list l;
		CHECK_INT(modlist_parse(buf, &l, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, cases[i].err);
		modlist_free(&l);
		free(buf);
	}
}

/* Simulates the pool: everything ready at once is handed out, completion in
 * reverse order; records the start order. */
static void schedule_parallel(void)
{
	char *buf = dup(bench_list), err[256];
	struct mod_list l;
	int started[16], ns = 0;

	CHECK_INT(modlist_parse(buf, &l, err, sizeof(err)), 0);
	while (!modlist_finished(&l)) {
		int batch[16], nb = 0, i;
		while ((i = modlist_next(&l)) >= 0)
			batch[nb++] = started[ns++] = i;
		CHECK(nb > 0); /* never stuck */
		if (!nb)
			break;
		while (nb--)
			modlist_finish(&l, batch[nb], 0, 1);
	}
	/* wave 1: everything without prerequisites, in list order */
	static const int want[] = { 0, 1, 2, 3, 5, 9, 4, 6, 10, 7, 8 };
	CHECK_INT(ns, 11);
	for (int k = 0; k < ns && k < 11; k++)
		CHECK_INT(started[k], want[k]);
	for (size_t k = 0; k < l.n; k++)
		CHECK_INT(l.v[k].state, MOD_DONE);
	modlist_free(&l);
	free(buf);
}

/* A fatal failure: nothing new starts, what runs finishes, the dependents
 * never start. */
static void schedule_fatal(void)
{
	char *buf = dup(bench_list), err[256];
	struct mod_list l;

	CHECK_INT(modlist_parse(buf, &l, err, sizeof(err)), 0);
	CHECK_INT(modlist_next(&l), 0);
	CHECK_INT(modlist_next(&l), 1);
	modlist_finish(&l, 1, ENOEXEC, 5);
	CHECK(l.stop);
	CHECK_INT(l.v[1].state, MOD_FAILED);
	CHECK_INT(modlist_next(&l), -1);
	CHECK(!modlist_finished(&l)); /* virtio_blk still loading */
	modlist_finish(&l, 0, 0, 5);
	CHECK(modlist_finished(&l));
	CHECK_INT(l.v[4].state, MOD_PENDING);
	modlist_free(&l);
	free(buf);
}

static void classify(void)
{
	CHECK_INT(mod_classify(0), MOD_LOADED);
	CHECK_INT(mod_classify(EEXIST), MOD_ALREADY);
	CHECK_INT(mod_classify(ENODEV), MOD_ABSENT);
	CHECK_INT(mod_classify(ENXIO), MOD_ABSENT);
	CHECK_INT(mod_classify(ENOENT), MOD_FATAL);
	CHECK_INT(mod_classify(EKEYREJECTED), MOD_FATAL);
	CHECK_INT(mod_classify(EOPNOTSUPP), MOD_FATAL);
}

/* Injected CPUID: the leaves a machine answers. */
static uint32_t max_basic, max_ext, l8000001f_eax;
static const char *l21_sig; /* 12 bytes EBX EDX ECX, NULL: zeros */
static int calls_21, calls_8000001f;

static void fake_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)sub;
	memset(r, 0, 4 * sizeof(uint32_t));
	if (leaf == 0) {
		r[0] = max_basic;
	} else if (leaf == 0x80000000u) {
		r[0] = max_ext;
	} else if (leaf == 0x8000001Fu) {
		calls_8000001f++;
		r[0] = l8000001f_eax;
	} else if (leaf == 0x21) {
		calls_21++;
		if (l21_sig) {
			memcpy(&r[1], l21_sig, 4);
			memcpy(&r[3], l21_sig + 4, 4);
			memcpy(&r[2], l21_sig + 8, 4);
		}
	}
}

static struct tee_evidence cpuid_with(uint32_t basic, uint32_t ext, uint32_t eax, const char *sig)
{
	struct tee_evidence ev = { 0 };

	max_basic = basic;
	max_ext = ext;
	l8000001f_eax = eax;
	l21_sig = sig;
	calls_21 = calls_8000001f = 0;
	tee_evidence_cpuid(fake_cpuid, &ev);
	return ev;
}

static void cpuid_evidence(void)
{
	struct tee_evidence ev;

	/* SEV-SNP guest: SEV, SEV-ES, SNP bits */
	ev = cpuid_with(0x10, 0x80000021u, 0x1000001Bu, NULL);
	CHECK(ev.amd_mem_encrypt && !ev.tdx);
	CHECK_INT(calls_21, 0); /* leaf 0x21 above the maximum: not read */
	/* SME only (a bare-metal host): counts as evidence, sev-guest then fails ENODEV */
	ev = cpuid_with(0x10, 0x8000001Fu, 0x1u, NULL);
	CHECK(ev.amd_mem_encrypt);
	/* 0x8000001F without SME/SEV (plain AMD guest) */
	ev = cpuid_with(0x10, 0x80000021u, 0x0u, NULL);
	CHECK(!ev.amd_mem_encrypt && !ev.tdx);
	/* extended range too short: the leaf is not read (TCG's -cpu max) */
	ev = cpuid_with(0x1f, 0x8000001Eu, 0x3u, NULL);
	CHECK(!ev.amd_mem_encrypt);
	CHECK_INT(calls_8000001f, 0);
	/* a nonsense maximum (0x8000001F not an extended-range answer) */
	ev = cpuid_with(0x1f, 0x00000001u, 0x3u, NULL);
	CHECK(!ev.amd_mem_encrypt);
	/* TDX guest */
	ev = cpuid_with(0x23, 0x80000008u, 0, "IntelTDX    ");
	CHECK(ev.tdx && !ev.amd_mem_encrypt);
	CHECK_INT(calls_21, 1);
	/* the signature must be exact, in EBX EDX ECX order */
	ev = cpuid_with(0x23, 0x80000008u, 0, "IntelTDX   \0");
	CHECK(!ev.tdx);
	ev = cpuid_with(0x23, 0x80000008u, 0, "lTDXInte    ");
	CHECK(!ev.tdx);
	/* leaf 0x21 beyond the maximum: on Intel it would return the last
	 * leaf's data, never read */
	ev = cpuid_with(0x20, 0x80000008u, 0, "IntelTDX    ");
	CHECK(!ev.tdx);
	CHECK_INT(calls_21, 0);
}

static void driver_choice(void)
{
	struct tee_evidence none = { 0 }, amd = { .amd_mem_encrypt = true }, tdx = { .tdx = true },
			    sysfs = { .sev_guest_dev = true }, both = { .amd_mem_encrypt = true, .tdx = true };
	struct tee_drivers d;

	d = tee_drivers_for(TEE_WANT_AUTO, &none);
	CHECK(!d.sev && !d.tdx);
	CHECK_STR(d.why, "CPUID shows neither AMD memory encryption nor TDX");
	d = tee_drivers_for(TEE_WANT_AUTO, &amd);
	CHECK(d.sev && !d.tdx);
	d = tee_drivers_for(TEE_WANT_AUTO, &sysfs);
	CHECK(d.sev && !d.tdx);
	d = tee_drivers_for(TEE_WANT_AUTO, &tdx);
	CHECK(!d.sev && d.tdx);
	CHECK_STR(d.why, "CPUID shows TDX");
	d = tee_drivers_for(TEE_WANT_AUTO, &both); /* both: the tee stage refuses */
	CHECK(d.sev && d.tdx);
	/* the configuration demands a TEE: its driver is loaded whatever CPUID
	 * says (its failure stays where it was fatal), the other one is not */
	d = tee_drivers_for(TEE_WANT_SNP, &none);
	CHECK(d.sev && !d.tdx);
	d = tee_drivers_for(TEE_WANT_SNP, &tdx);
	CHECK(d.sev && !d.tdx);
	CHECK_STR(d.why, "TEE=snp");
	d = tee_drivers_for(TEE_WANT_TDX, &amd);
	CHECK(!d.sev && d.tdx);
	d = tee_drivers_for(TEE_WANT_MOCK, &both);
	CHECK(!d.sev && !d.tdx);
}

static void apply_tee(void)
{
	char *buf = dup(bench_list), err[256];
	struct mod_list l;
	struct tee_drivers d = { .sev = true };

	CHECK_INT(modlist_parse(buf, &l, err, sizeof(err)), 0);
	CHECK_INT(modlist_apply_tee(&l, &d), 1);
	CHECK_INT(l.v[7].state, MOD_PENDING);
	CHECK_INT(l.v[8].state, MOD_SKIPPED);
	/* the rest completes; the skipped driver counts as finished */
	for (int i; !modlist_finished(&l);) {
		i = modlist_next(&l);
		CHECK(i >= 0 && i != 8);
		if (i < 0)
			break;
		modlist_finish(&l, i, i == 7 ? ENODEV : 0, 1);
	}
	CHECK_INT(l.v[7].state, MOD_DONE);
	CHECK_INT(l.v[8].state, MOD_SKIPPED);
	modlist_free(&l);
	free(buf);
}

int main(void)
{
	TEST(parse_graph);
	TEST(legacy_serial);
	TEST(parse_errors);
	TEST(schedule_parallel);
	TEST(schedule_fatal);
	TEST(classify);
	TEST(cpuid_evidence);
	TEST(driver_choice);
	TEST(apply_tee);
	return TH_END();
}
