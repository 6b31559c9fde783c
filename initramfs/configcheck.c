/* What a configuration needs from the initramfs it goes into, checked when
 * the image is built instead of found at boot as a FATAL line: a kbs key
 * source reads KBS_CA from the initramfs, needs a network driver for
 * NET_INTERFACE and, with NET_ADDRESS=dhcp, the packet socket (af_packet).
 *
 * Only the init's lexer is used, not its schema: the builder does not know
 * whether /init is a release or a test build (their key sets differ), and a
 * configuration the init refuses is built on purpose by the QEMU scenarios. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/config.h"
#include "initramfs/configcheck.h"
#include "initramfs/fileio.h"

#define PFX "cvminit initramfs: "

/* The keys read, as indices of the init's own table (names, defaults). */
enum { K_ROOT_SRC, K_JOBS_SRC, K_URL, K_CA, K_NET_ADDRESS, K_NET_INTERFACE, K__N };
static const int key_cfg[K__N] = {
	CFG_ROOT_KEY_SOURCE, CFG_JOBS_KEY_SOURCE, CFG_KBS_URL, CFG_KBS_CA, CFG_NET_ADDRESS, CFG_NET_INTERFACE,
};

struct seen {
	char val[K__N][CONFIG_VALUE_MAX + 1]; /* the default until a line sets it */
};

static int on_key(void *ctx, const char *key, unsigned line, const char *where, char *err, size_t errlen)
{
	(void)ctx, (void)key, (void)line, (void)where, (void)err, (void)errlen;
	return 0;
}

static int on_set(void *ctx, const char *key, const char *value, unsigned line, char *err, size_t errlen)
{
	struct seen *s = ctx;
	(void)line, (void)err, (void)errlen;
	for (int k = 0; k < K__N; k++)
		if (!strcmp(key, cfg_defs[key_cfg[k]].name)) /* the last one wins, as in the init */
			snprintf(s->val[k], sizeof(s->val[k]), "%s", value);
	return 0;
}

/* A module of the tree under /lib/modules/<kver>/<dir>, or named <file>.ko*. */
static bool tree_has_module(const struct cpio_tree *t, const char *dir, const char *file)
{
	for (size_t i = 0; i < t->n; i++) {
		const char *p = t->v[i].path;
		if (t->v[i].type != CPIO_FILE || strncmp(p, "lib/modules/", 12))
			continue;
		const char *rel = strchr(p + 12, '/'); /* after <kver> */
		if (!rel)
			continue;
		rel++;
		if (dir && !strncmp(rel, dir, strlen(dir)))
			return true;
		const char *base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		size_t n = file ? strlen(file) : 0;
		if (file && !strncmp(base, file, n) && !strncmp(base + n, ".ko", 3))
			return true;
	}
	return false;
}

/* modules.builtin lists kernel/net/packet/af_packet.ko when CONFIG_PACKET=y. */
static bool builtin_has(const char *kmoddir, const char *relpath)
{
	char path[4096], err[256];
	unsigned char *buf = NULL;
	size_t len = 0;
	if (!kmoddir || (size_t)snprintf(path, sizeof(path), "%s/modules.builtin", kmoddir) >= sizeof(path) ||
	    ifs_read_file(path, 0, &buf, &len, NULL, err, sizeof(err)))
		return false;
	bool found = false;
	size_t n = strlen(relpath);
	for (size_t off = 0; off < len && !found;) {
		const unsigned char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len;
		found = end - off == n && !memcmp(buf + off, relpath, n);
		off = end + 1;
	}
	free(buf);
	return found;
}

int initramfs_check_config(const struct cpio_tree *t, const char *config_dest, const char *kmoddir)
{
	const struct cpio_entry *e = cpio_find(t, config_dest);
	if (!e)
		return 0;
	struct seen s;
	for (int k = 0; k < K__N; k++)
		snprintf(s.val[k], sizeof(s.val[k]), "%s", cfg_defs[key_cfg[k]].def);
	static const struct config_lexer lx = { on_key, on_set };
	char err[512];
	if (config_lex((const char *)e->data, e->size, e->origin, &lx, &s, err, sizeof(err)) < 0)
		return 0; /* the init says so at boot, with the same lexer */
	bool root = !strcmp(s.val[K_ROOT_SRC], "kbs"), jobs = !strcmp(s.val[K_JOBS_SRC], "kbs");
	if (!root && !jobs)
		return 0;
	const char *who = root && jobs ? "ROOT_KEY_SOURCE and JOBS_KEY_SOURCE are" : root ? "ROOT_KEY_SOURCE is" : "JOBS_KEY_SOURCE is";
	const char *ca = s.val[K_CA], *ifname = s.val[K_NET_INTERFACE];
	int rc = 0;
	/* http:// is for test builds only and has no CA; the init refuses it in a release build. */
	if (strncmp(s.val[K_URL], "http://", 7) && *ca && !cpio_find(t, ca)) {
		fprintf(stderr, PFX "%s: %s kbs, but KBS_CA %s is not in the initramfs: add --file CA.pem:%s\n",
			e->origin, who, ca, ca);
		rc = -1;
	}
	if (!tree_has_module(t, "kernel/drivers/net/", NULL))
		fprintf(stderr,
			PFX "note: %s: %s kbs, but no network driver (kernel/drivers/net/) is among the modules: "
			"unless the kernel builds it in, %s will not appear (virtio_net under QEMU)\n",
			e->origin, who, ifname);
	if (!strcmp(s.val[K_NET_ADDRESS], "dhcp") && !tree_has_module(t, NULL, "af_packet") &&
	    !builtin_has(kmoddir, "kernel/net/packet/af_packet.ko"))
		fprintf(stderr,
			PFX "note: %s: NET_ADDRESS=dhcp needs the packet socket: af_packet is %s\n", e->origin,
			kmoddir ? "neither built in nor among the modules (add af_packet)"
				: "not among the modules (fine only if the kernel has CONFIG_PACKET=y)");
	return rc;
}
