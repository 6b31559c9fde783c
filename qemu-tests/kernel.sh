#!/bin/bash
# The pinned Debian test kernel for the QEMU scenarios.
#
#   qemu-tests/kernel.sh [fetch]        download (once), verify, extract (once); prints the kernel dir
#   qemu-tests/kernel.sh dir            prints the kernel dir (no download)
#   qemu-tests/kernel.sh kver           prints the kernel release (uname -r)
#   qemu-tests/kernel.sh features       =y / =m / off for the options cvminit relies on
#   qemu-tests/kernel.sh closure MOD..  the modules (dependencies first) needed to load MOD..
#                                       per modules.dep and modules.softdep (pre: softdeps)
#
# Everything comes from qemu-tests/kernel.lock (PACKAGE, VERSION, KVER, SHA256).
# The .deb is fetched with deps/papt.sh apt-get download into
# $CVMINIT_CACHE/kernel/debs/<SHA256>/ and extracted to $CVMINIT_CACHE/kernel/<KVER>/:
#   vmlinuz  config  System.map  lib/modules/<KVER>/ (modules.dep etc., made by depmod -b)
# A stamp file holding the .deb's SHA-256 marks a finished extraction; a
# partial one is never used (extraction goes to a temp dir, then rename).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
lock="${CVMINIT_KERNEL_LOCK:-$here/kernel.lock}"   # override: tests of this script
CACHE="${CVMINIT_CACHE:-$HOME/.cache/cvminit}"

die() { echo "kernel.sh: $*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

PACKAGE="" VERSION="" KVER="" SHA256=""
while IFS='=' read -r k v; do
	case "$k" in
	PACKAGE) PACKAGE=$v ;; VERSION) VERSION=$v ;; KVER) KVER=$v ;; SHA256) SHA256=$v ;;
	''|'#'*) ;;
	*) die "$lock: unknown key '$k'" ;;
	esac
done < "$lock"
if [ -z "$PACKAGE" ] || [ -z "$VERSION" ] || [ -z "$KVER" ] || [ -z "$SHA256" ]; then
	die "$lock: PACKAGE, VERSION, KVER and SHA256 are all required"
fi

kdir="$CACHE/kernel/$KVER"
debdir="$CACHE/kernel/debs/$SHA256"   # keyed by the pinned hash
stamp="$kdir/.cvminit-extracted"

is_ready() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$SHA256" ]; }

fetch() {
	if is_ready; then echo "$kdir"; return 0; fi
	mkdir -p "$debdir"
	local deb
	deb=$(find "$debdir" -maxdepth 1 -name "${PACKAGE}_*.deb" -print -quit 2>/dev/null || true)
	if [ -n "$deb" ] && ! echo "$SHA256  $deb" | sha256sum -c --status; then
		echo "kernel.sh: cached $deb is damaged; fetching again" >&2
		rm -f "$deb"; deb=""
	fi
	if [ -z "$deb" ]; then
		local t0 dl log
		t0=$EPOCHREALTIME
		dl=$(mktemp -d "$debdir/.dl.XXXXXX")
		log="$dl/apt.log"
		echo "kernel.sh: downloading $PACKAGE=$VERSION (~100 MB, once)" >&2
		if ! (cd "$dl" && "$repo/deps/papt.sh" apt-get -q download "$PACKAGE=$VERSION") >"$log" 2>&1; then
			cat "$log" >&2
			local offered
			offered=$("$repo/deps/papt.sh" apt-cache madison linux-image-amd64 2>/dev/null |
				awk -F'|' '/Packages/ {gsub(/ /, "", $2); split($3, a, " "); printf "%s%s (%s)", sep, $2, a[2]; sep=", "}') || true
			local gone=0
			if grep -qE "Version '.*' for '.*' was not found|Unable to locate package|Couldn't find any package" "$log" ||
			   ! "$repo/deps/papt.sh" apt-cache show "$PACKAGE=$VERSION" >/dev/null 2>&1; then gone=1; fi
			rm -rf "$dl"; rmdir "$debdir" 2>/dev/null || true
			if [ "$gone" = 1 ]; then
				die "$PACKAGE version $VERSION is no longer offered by any suite of deps/papt.sh ($("$repo/deps/papt.sh" suites)).
  linux-image-amd64 is now: ${offered:-unknown}.
  Pick a kernel that is offered
  (deps/papt.sh apt-cache show linux-image-<kver>), then update PACKAGE, VERSION, KVER
  and SHA256 in qemu-tests/kernel.lock and re-run 'make kernel'."
			fi
			die "download of $PACKAGE=$VERSION failed (network?); see above"
		fi
		deb=$(find "$dl" -maxdepth 1 -name '*.deb' -print -quit)
		[ -n "$deb" ] || { rm -rf "$dl"; die "apt-get download produced no .deb"; }
		local got
		got=$(sha256sum "$deb" | awk '{print $1}')
		if [ "$got" != "$SHA256" ]; then
			rm -rf "$dl"; rmdir "$debdir" 2>/dev/null || true
			die "SHA-256 mismatch for $(basename "$deb"):
  expected $SHA256 (qemu-tests/kernel.lock)
  got      $got
  The mirror serves different bytes for the pinned version. Do not just update the
  lock: check the Packages index (deps/papt.sh apt-cache show $PACKAGE=$VERSION) first."
		fi
		mv "$deb" "$debdir/"
		deb="$debdir/$(basename "$deb")"
		rm -rf "$dl"
		echo "kernel.sh: downloaded and verified in $(since "$t0") s" >&2
	fi
	extract "$deb"
	echo "$kdir"
}

extract() {
	local deb=$1 tmp t0
	t0=$EPOCHREALTIME
	command -v depmod >/dev/null || die "depmod missing: run deps/install-tools.sh (package kmod)"
	mkdir -p "$CACHE/kernel"
	tmp=$(mktemp -d "$CACHE/kernel/.x.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb -x "$deb" "$tmp/deb"
	local mods=""
	for m in "$tmp/deb/usr/lib/modules/$KVER" "$tmp/deb/lib/modules/$KVER"; do
		[ -d "$m" ] && { mods=$m; break; }
	done
	[ -n "$mods" ] || die "$deb has no lib/modules/$KVER"
	[ -f "$tmp/deb/boot/vmlinuz-$KVER" ] || die "$deb has no boot/vmlinuz-$KVER"
	mkdir -p "$tmp/out/lib/modules"
	mv "$tmp/deb/boot/vmlinuz-$KVER" "$tmp/out/vmlinuz"
	mv "$tmp/deb/boot/config-$KVER" "$tmp/out/config"
	[ -f "$tmp/deb/boot/System.map-$KVER" ] && mv "$tmp/deb/boot/System.map-$KVER" "$tmp/out/System.map"
	mv "$mods" "$tmp/out/lib/modules/$KVER"
	depmod -b "$tmp/out" "$KVER" || die "depmod failed"
	[ -s "$tmp/out/lib/modules/$KVER/modules.dep" ] || die "depmod wrote no modules.dep"
	echo "$SHA256" > "$tmp/out/.cvminit-extracted"
	rm -rf "$kdir"
	mv "$tmp/out" "$kdir"
	rm -rf "$tmp"
	trap - EXIT
	echo "kernel.sh: extracted to $kdir in $(since "$t0") s" >&2
}

need_ready() { is_ready || die "kernel not extracted yet: run 'make kernel' (or qemu-tests/kernel.sh)"; }

features() {
	need_ready
	local cfg="$kdir/config"
	local opts="CONFIG_VIRTIO_PCI CONFIG_VIRTIO_BLK CONFIG_EXT4_FS CONFIG_VFAT_FS CONFIG_BLK_DEV_DM
CONFIG_DM_VERITY CONFIG_DM_CRYPT CONFIG_TCG_TPM CONFIG_TCG_TIS CONFIG_TCG_CRB CONFIG_TSM_REPORTS
CONFIG_CONFIGFS_FS CONFIG_SEV_GUEST CONFIG_TDX_GUEST_DRIVER CONFIG_MODULE_DECOMPRESS
CONFIG_MODULE_COMPRESS_XZ CONFIG_MODULE_COMPRESS_ZSTD CONFIG_DEVTMPFS CONFIG_DEVTMPFS_MOUNT
CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP CONFIG_RD_XZ CONFIG_RD_ZSTD CONFIG_TMPFS CONFIG_SERIAL_8250_CONSOLE
CONFIG_CRYPTO_XTS CONFIG_CRYPTO_AES CONFIG_CRYPTO_SHA256 CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG
CONFIG_MODULE_SIG_FORCE CONFIG_SECURITY_LOCKDOWN_LSM CONFIG_AMD_MEM_ENCRYPT CONFIG_INTEL_TDX_GUEST"
	for o in $opts; do
		local v
		v=$(grep -E "^$o=" "$cfg" | cut -d= -f2- || true)
		printf '%-40s %s\n' "$o" "${v:-off}"
	done
}

# closure MOD...: dependency-first list of module files (relative to the
# modules dir) needed to load the named modules; built-in ones print as
# "builtin NAME". Follows modules.dep and the pre: softdeps of modules.softdep;
# an alias (e.g. crypto-crc32c) brings every module carrying it, as modprobe does.
closure() {
	need_ready
	local md="$kdir/lib/modules/$KVER"
	python3 - "$md" "$@" <<'PY'
import os, sys
md, want = sys.argv[1], sys.argv[2:]
norm = lambda n: n.replace('-', '_')
def modname(path):
    b = os.path.basename(path)
    for ext in ('.ko.xz', '.ko.zst', '.ko.gz', '.ko'):
        if b.endswith(ext): return norm(b[:-len(ext)])
    return norm(b)
dep, byname = {}, {}
for line in open(os.path.join(md, 'modules.dep')):
    path, _, rest = line.strip().partition(':')
    dep[path] = rest.split()
    byname[modname(path)] = path
builtin = {modname(l.strip()) for l in open(os.path.join(md, 'modules.builtin'))}
aliases = {}
for l in open(os.path.join(md, 'modules.alias')):
    p = l.split()
    if len(p) == 3 and p[0] == 'alias': aliases.setdefault(norm(p[1]), []).append(norm(p[2]))
soft = {}
sp = os.path.join(md, 'modules.softdep')
if os.path.exists(sp):
    for l in open(sp):
        p = l.split()
        if len(p) > 2 and p[0] == 'softdep':
            pre, mode = [], None
            for t in p[2:]:
                if t in ('pre:', 'post:'): mode = t; continue
                if mode == 'pre:': pre.append(t)
            soft[norm(p[1])] = pre
out, seen = [], set()
def visit(name, optional=False):
    n = norm(name)
    if n not in byname and n not in builtin and n in aliases:
        # like modprobe: an alias loads every module that carries it
        for a in aliases[n]: visit(a, optional)
        return
    if n in seen: return
    seen.add(n)
    if n in builtin: out.append('builtin ' + n); return
    if n not in byname:
        if optional: return
        sys.exit('kernel.sh closure: no module or built-in named ' + name)
    for s in soft.get(n, []): visit(s, True)
    for d in reversed(dep[byname[n]]): visit(modname(d))
    out.append(byname[n])
for w in want: visit(w)
print('\n'.join(out))
PY
}

case "${1:-fetch}" in
fetch) fetch ;;
dir) echo "$kdir" ;;
kver) echo "$KVER" ;;
features) features ;;
closure) shift; [ $# -ge 1 ] || die "closure: name at least one module"; closure "$@" ;;
*) die "unknown command '$1' (fetch|dir|kver|features|closure)" ;;
esac
