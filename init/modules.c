/* Stage 3: load the kernel modules the initramfs builder listed with
 * finit_module (the kernel decompresses .ko.xz/.ko.zst/.ko.gz): only the TEE
 * guest driver this machine can have, and modules whose prerequisites are
 * loaded concurrently (init/modlist.c decides both). The log is one line per
 * module in list order, written after the loads, so it does not depend on
 * which thread finished first. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "init/modlist.h"
#include "init/stages.h"
#include "init/util.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

/* finit_module is mostly the kernel's own CPU work (decompression,
 * signature, relocation, the module's init): threads help only with a vCPU
 * each. With one vCPU they measured slower under TCG (two loads contending
 * for one CPU), so one vCPU means one thread, the list in order. */
#define MOD_THREADS_MAX 4

static int is_compressed(const char *path)
{
	size_t n = strlen(path);

	return (n > 6 && !strcmp(path + n - 6, ".ko.xz")) || (n > 7 && !strcmp(path + n - 7, ".ko.zst")) ||
	       (n > 6 && !strcmp(path + n - 6, ".ko.gz"));
}

static unsigned long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
}

static int load_one(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	long rc = syscall(SYS_finit_module, fd, "", is_compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0);
	int e = rc == 0 ? 0 : errno;
	close(fd);
	return e;
}

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mod_list *l;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		int i = modlist_next(p->l);
		if (i < 0) {
			if (modlist_finished(p->l))
				break;
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		const char *path = p->l->v[i].path;
		pthread_mutex_unlock(&p->mu);
		unsigned long long t0 = now_us();
		int e = load_one(path);
		unsigned us = (unsigned)(now_us() - t0);
		pthread_mutex_lock(&p->mu);
		modlist_finish(p->l, i, e, us);
		pthread_cond_broadcast(&p->cv);
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Runs the list with n threads (the calling one included). */
static void run_pool(struct mod_list *l, unsigned n)
{
	struct pool p = { .l = l };
	pthread_t th[MOD_THREADS_MAX];
	unsigned started = 0;
	pthread_attr_t attr;

	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024); /* locked by mlockall: keep it small */
	for (unsigned k = 1; k < n; k++)
		if (pthread_create(&th[started], &attr, worker, &p) == 0)
			started++;
	pthread_attr_destroy(&attr);
	worker(&p); /* a failed pthread_create only means fewer threads */
	for (unsigned k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
}

static void real_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
#if defined(__x86_64__) || defined(__i386__)
	__cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
#else
	(void)leaf;
	(void)subleaf;
	r[0] = r[1] = r[2] = r[3] = 0;
#endif
}

static const char *tee_label(enum mod_tee t)
{
	return t == MOD_TEE_SEV ? "SEV-SNP" : "TDX";
}

int stage_modules(struct boot_ctx *ctx)
{
	char *list = NULL, err[256];
	size_t len = 0;
	struct mod_list l;
	unsigned absent = 0, already = 0, skipped = 0;
	int r = read_file_max(ctx->modules_path, 256 * 1024, &list, &len);

	if (r == -ENOENT) {
		log_line(&ctx->log, LOG_INFO, "no module list (%s): nothing to load", ctx->modules_path);
		return 0;
	}
	if (r < 0)
		return log_fail(&ctx->log, r, "cannot read %s: %s", ctx->modules_path, strerror(-r));
	r = modlist_parse(list, &l, err, sizeof(err));
	if (r == -ENOMEM)
		log_fail(&ctx->log, r, "%s: out of memory", ctx->modules_path);
	else if (r < 0)
		log_fail(&ctx->log, r, "%s:%s", ctx->modules_path, err);
	if (r < 0)
		goto out;

	/* Which TEE guest driver this machine can have, before loading any. */
	struct tee_evidence ev = { 0 };
	char sevdev[128];
	struct stat st;
	tee_evidence_cpuid(real_cpuid, &ev);
	snprintf(sevdev, sizeof(sevdev), "%s/bus/platform/devices/sev-guest", ctx->sysfs);
	ev.sev_guest_dev = stat(sevdev, &st) == 0;
	struct tee_drivers d = tee_drivers_for(ctx->plan.tee, &ev);
	skipped = modlist_apply_tee(&l, &d);

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = cpus > MOD_THREADS_MAX ? MOD_THREADS_MAX : cpus < 1 ? 1 : (unsigned)cpus;
	unsigned long long t0 = now_us();
	run_pool(&l, threads);
	unsigned long long wall = now_us() - t0;

	int first_fatal = -1;
	for (size_t i = 0; i < l.n; i++) {
		struct mod_entry *e = &l.v[i];
		if (e->state == MOD_SKIPPED) {
			log_line(&ctx->log, LOG_INFO, "%s: skipped: not this machine's TEE (%s)", e->name, d.why);
			continue;
		}
		if (e->state == MOD_PENDING) /* after a fatal failure */
			continue;
		switch (mod_classify(e->err)) {
		case MOD_LOADED:
			ctx->modules_loaded++;
			log_line(&ctx->log, LOG_INFO, "%s: loaded in %u.%u ms", e->name, e->us / 1000, e->us % 1000 / 100);
			break;
		case MOD_ALREADY:
			already++;
			log_line(&ctx->log, LOG_INFO, "%s: already present", e->name);
			break;
		case MOD_ABSENT:
			absent++;
			log_line(&ctx->log, LOG_INFO, "%s: no such device here (%s) in %u.%u ms%s%s", e->name,
				 strerror(e->err), e->us / 1000, e->us % 1000 / 100, e->tee ? ": no " : "",
				 e->tee ? tee_label(e->tee) : "");
			break;
		case MOD_FATAL:
			if (first_fatal < 0)
				first_fatal = (int)i;
			break;
		}
	}
	if (first_fatal >= 0) {
		struct mod_entry *e = &l.v[first_fatal];
		if (e->err == EOPNOTSUPP && is_compressed(e->path))
			r = log_fail(&ctx->log, -e->err,
				     "kernel cannot load compressed module %s (needs CONFIG_MODULE_DECOMPRESS)", e->path);
		else
			r = log_fail(&ctx->log, -e->err, "cannot load module %s: %s", e->path, strerror(e->err));
		goto out;
	}
	log_line(&ctx->log, LOG_INFO,
		 "loaded %u modules (%u already present, %u without hardware, %u TEE drivers skipped) in %llu ms, %u thread%s",
		 ctx->modules_loaded, already, absent, skipped, wall / 1000, threads, threads == 1 ? "" : "s");
	r = 0;
out:
	modlist_free(&l);
	free(list);
	return r;
}
