#!/bin/bash
# Cached Debian chroots with a distro's initramfs tool, for the scenarios
# dracut-boot and initramfs-tools-boot (dracut and initramfs-tools conflict on
# Debian, so neither is installed on the build machine).
#
#   qemu-tests/distro-chroot.sh ensure NAME      build once (if missing); prints the chroot dir
#   qemu-tests/distro-chroot.sh path NAME        prints the chroot dir (exit 1 if not built)
#   qemu-tests/distro-chroot.sh run NAME --work DIR [--proc] [--copy-in SRC]
#       [--bind SRC:DEST]... [--ro-bind SRC:DEST]... [--env K=V]... -- CMD [ARG...]
#                                                runs CMD in a throw-away copy of the chroot
#   qemu-tests/distro-chroot.sh image-list IMAGE         the entries of an initramfs
#   qemu-tests/distro-chroot.sh image-cat IMAGE PATH     one file of an initramfs, to stdout
#   qemu-tests/distro-chroot.sh image-sha256 IMAGE PATH...  "<sha256>  PATH" per file ("missing" if absent)
#                                                (image-cat, image-sha256: symbolic links in PATH
#                                                 are followed inside the image)
#
# NAME is dracut or initramfs-tools (cvminit's integration), or one of the
# `make bench BENCH_ANCHORS=yes` anchors: dracut-systemd (dracut + systemd +
# systemd-cryptsetup/-veritysetup) or initramfs-tools-cryptsetup
# (initramfs-tools + cryptsetup-initramfs + busybox). Each chroot is Debian $SUITE, debootstrap
# --variant=minbase from $CVMINIT_DEBIAN_MIRROR (default deb.debian.org) plus
# the tool (apt-get --no-install-recommends), kept in
#   $CVMINIT_CACHE/chroots/NAME-<first 16 hex of this script's SHA-256>/
# so a change to this script builds new ones (older ones of NAME are removed).
# The minbase system is built once for both (chroots/base-<hash>/, removed
# when both exist) and copied. An anchor chroot is a copy of its tool's
# chroot plus its packages, kept in
#   $CVMINIT_CACHE/chroots/anchor-NAME-<16 hex of the tool's hash and the anchor section>/
# so the anchors can change without rebuilding the scenarios' chroots.
# Each is built in a temporary directory and renamed when complete; a lock
# serialises builds (scenarios may run in parallel). Needs root (debootstrap,
# chroot, mount), debootstrap and the Debian archive keyring.
#
# `run` never changes the cached chroot: in a private mount namespace
# (unshare -m, so every mount ends with the command, even if it is killed)
# the chroot is the read-only lower layer of an overlay whose upper layer is
# DIR/upper; --copy-in copies a directory tree into the overlay's root
# (e.g. a `make install DESTDIR=` tree), --bind/--ro-bind mount a host
# directory or file at DEST, --proc mounts /proc (only when asked). CMD runs with a
# clean environment (PATH, HOME, LC_ALL=C.UTF-8 and the --env values).
set -euo pipefail

MIRROR=${CVMINIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
CACHE=${CVMINIT_CACHE:-$HOME/.cache/cvminit}
CHROOTS=$CACHE/chroots
self=$(readlink -f "$0")
# The chroots' version: the setup section below (from its first marker line
# to its last); the rest of this file can change without rebuilding them.
HASH=$(sed -n '/^# ==== setup /,/^# ==== end of setup /p' "$self" | sha256sum | cut -c1-16)

die() { echo "distro-chroot: $*" >&2; exit 1; }
say() { echo "distro-chroot: $*" >&2; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mount)"
}

TMPBUILD=""
cleanup_build() {
	# Everything was mounted in private namespaces that have ended, so
	# nothing is mounted below the temporary directory any more.
	if [ -n "$TMPBUILD" ] && [ -d "$TMPBUILD" ]; then
		rm -rf --one-file-system "$TMPBUILD"
	fi
}

# ==== setup of the chroots (hashed: a change here builds new ones) ==========
SUITE=trixie

# The Debian packages of each chroot (with their dependencies).
packages() {
	case "$1" in
	dracut) echo "dracut zstd" ;;
	initramfs-tools) echo "initramfs-tools zstd" ;;
	*) die "unknown chroot '$1' (dracut or initramfs-tools)" ;;
	esac
}

# in_chroot DIR CMD...: CMD in DIR with /proc mounted, in a private mount
# namespace (apt's maintainer scripts want /proc).
in_chroot() {
	local dir=$1
	shift
	unshare --mount --propagation private -- "$self" __chroot-proc "$dir" "$@"
}

build_base() {
	local final=$CHROOTS/base-$HASH t0
	[ -d "$final" ] && return 0
	command -v debootstrap >/dev/null || die "debootstrap missing (deps/install-tools.sh)"
	[ -r "$KEYRING" ] || die "$KEYRING missing (debian-archive-keyring)"
	t0=$EPOCHREALTIME
	say "debootstrap --variant=minbase $SUITE from $MIRROR (once; about a minute)"
	TMPBUILD=$(mktemp -d "$CHROOTS/.build-base-XXXXXX")
	# debootstrap mounts /proc and /sys in the target: in a private namespace
	# those mounts cannot outlive it, whatever happens.
	if ! unshare --mount --propagation private -- debootstrap --variant=minbase \
		--keyring="$KEYRING" "$SUITE" "$TMPBUILD/root" "$MIRROR" >"$TMPBUILD/debootstrap.log" 2>&1; then
		tail -n 20 "$TMPBUILD/debootstrap.log" >&2
		die "debootstrap failed (log above)"
	fi
	mv "$TMPBUILD/debootstrap.log" "$TMPBUILD/root/.cvminit-debootstrap.log"
	mv "$TMPBUILD/root" "$final"
	rm -rf "$TMPBUILD"
	TMPBUILD=""
	say "minbase $SUITE ready in $(since "$t0") s"
}

build_tool() {
	local name=$1 final=$CHROOTS/$1-$HASH pkgs t0 d
	pkgs=$(packages "$name")
	t0=$EPOCHREALTIME
	say "building the $name chroot (Debian $SUITE minbase + $pkgs): once, about 2 minutes"
	build_base
	TMPBUILD=$(mktemp -d "$CHROOTS/.build-$name-XXXXXX")
	cp -a "$CHROOTS/base-$HASH" "$TMPBUILD/root"
	# shellcheck disable=SC2086
	if ! in_chroot "$TMPBUILD/root" sh -c "apt-get -q update && apt-get -q install -y --no-install-recommends $pkgs && apt-get clean" \
		>"$TMPBUILD/apt.log" 2>&1; then
		tail -n 20 "$TMPBUILD/apt.log" >&2
		die "apt-get install $pkgs failed in the chroot (log above)"
	fi
	rm -rf "$TMPBUILD/root/var/lib/apt/lists/"*
	{
		echo "# cvminit test chroot $name: Debian $SUITE minbase + $pkgs, from $MIRROR"
		echo "# built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(since "$t0") s by qemu-tests/distro-chroot.sh ($HASH)"
		# shellcheck disable=SC2086
		chroot "$TMPBUILD/root" dpkg-query -W $pkgs
	} > "$TMPBUILD/root/.cvminit-chroot"
	mv "$TMPBUILD/apt.log" "$TMPBUILD/root/.cvminit-apt.log"
	mv "$TMPBUILD/root" "$final"
	rm -rf "$TMPBUILD"
	TMPBUILD=""
	# chroots of older versions of this script
	for d in "$CHROOTS/$name"-* "$CHROOTS"/base-*; do
		[ -d "$d" ] || continue
		case "$d" in "$final" | "$CHROOTS/base-$HASH") continue ;; esac
		say "removing the outdated ${d##*/}"
		rm -rf --one-file-system "$d"
	done
	# the minbase copy is needed only until every chroot of this version exists
	if [ -d "$CHROOTS/dracut-$HASH" ] && [ -d "$CHROOTS/initramfs-tools-$HASH" ]; then
		rm -rf --one-file-system "$CHROOTS/base-$HASH"
	fi
	say "$name chroot ready in $(since "$t0") s: $(sed -n '3,$p' "$final/.cvminit-chroot" | tr '\t' = | paste -sd' ')"
}

# in_chroot's second half, in the new namespace: /proc only for the build
ns_chroot_proc() {
	local dir=$1
	shift
	NS_MOUNTS=()
	trap ns_umount_all EXIT
	mount --make-rprivate /
	mount -t proc proc "$dir/proc"
	NS_MOUNTS=("$dir/proc")
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}
# ==== end of setup ===========================================================

# ==== anchor setup (hashed with the setup above: a change here rebuilds only the anchors) ====
# make bench's conventional initramfs generators, on top of a tool chroot:
# anchor_base NAME: the tool chroot it copies; anchor_packages NAME: what it adds.
anchor_base() {
	case "$1" in
	dracut-systemd) echo dracut ;;
	initramfs-tools-cryptsetup) echo initramfs-tools ;;
	*) return 1 ;;
	esac
}
anchor_packages() {
	case "$1" in
	dracut-systemd) echo "systemd systemd-cryptsetup cryptsetup-bin udev kmod e2fsprogs" ;;
	initramfs-tools-cryptsetup) echo "cryptsetup-initramfs cryptsetup-bin busybox udev kmod e2fsprogs" ;;
	esac
}
# ==== end of anchor setup ====================================================
AHASH=$( { echo "$HASH"; sed -n '/^# ==== anchor setup /,/^# ==== end of anchor setup /p' "$self"; } | sha256sum | cut -c1-16)

# chroot_dir NAME: where NAME's chroot lives (dies on an unknown NAME)
chroot_dir() {
	if anchor_base "$1" >/dev/null; then
		echo "$CHROOTS/anchor-$1-$AHASH"
	else
		packages "$1" >/dev/null
		echo "$CHROOTS/$1-$HASH"
	fi
}

build_anchor() {
	local name=$1 base final pkgs t0 d
	base=$(anchor_base "$name")
	final=$(chroot_dir "$name")
	pkgs=$(anchor_packages "$name")
	t0=$EPOCHREALTIME
	[ -d "$CHROOTS/$base-$HASH" ] || build_tool "$base"
	say "building the $name chroot ($base chroot + $pkgs): once, about 2 minutes"
	TMPBUILD=$(mktemp -d "$CHROOTS/.build-$name-XXXXXX")
	cp -a "$CHROOTS/$base-$HASH" "$TMPBUILD/root"
	# shellcheck disable=SC2086
	if ! in_chroot "$TMPBUILD/root" sh -c "apt-get -q update && apt-get -q install -y --no-install-recommends $pkgs && apt-get clean" \
		>"$TMPBUILD/apt.log" 2>&1; then
		tail -n 20 "$TMPBUILD/apt.log" >&2
		die "apt-get install $pkgs failed in the chroot (log above)"
	fi
	rm -rf "$TMPBUILD/root/var/lib/apt/lists/"*
	{
		echo "# cvminit bench anchor chroot $name: the $base chroot + $pkgs, from $MIRROR"
		echo "# built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(since "$t0") s by qemu-tests/distro-chroot.sh ($AHASH)"
		# shellcheck disable=SC2086
		# shellcheck disable=SC2046 # package names: one word each
		chroot "$TMPBUILD/root" dpkg-query -W $(packages "$base") $pkgs
	} > "$TMPBUILD/root/.cvminit-chroot"
	mv "$TMPBUILD/apt.log" "$TMPBUILD/root/.cvminit-apt.log"
	mv "$TMPBUILD/root" "$final"
	rm -rf "$TMPBUILD"
	TMPBUILD=""
	for d in "$CHROOTS/anchor-$name"-*; do
		if [ ! -d "$d" ] || [ "$d" = "$final" ]; then continue; fi
		say "removing the outdated ${d##*/}"
		rm -rf --one-file-system "$d"
	done
	say "$name chroot ready in $(since "$t0") s: $(sed -n '3,$p' "$final/.cvminit-chroot" | tr '\t' = | paste -sd' ')"
}

cmd_ensure() {
	local name=${1:?ensure NAME} final
	final=$(chroot_dir "$name")
	if [ ! -d "$final" ]; then
		need_root
		mkdir -p "$CHROOTS"
		exec 9>"$CHROOTS/.lock"
		if ! flock -n 9; then
			say "waiting for another build of the chroots to finish"
			flock 9
		fi
		trap cleanup_build EXIT
		trap 'exit 130' INT TERM HUP
		if [ ! -d "$final" ]; then
			if anchor_base "$name" >/dev/null; then build_anchor "$name"; else build_tool "$name"; fi
		fi
		exec 9>&-
	fi
	echo "$final"
}

cmd_path() {
	local name=${1:?path NAME} dir
	dir=$(chroot_dir "$name")
	[ -d "$dir" ] || die "no $name chroot yet (distro-chroot.sh ensure $name)"
	echo "$dir"
}

cmd_run() {
	local name=${1:?run NAME ...} work="" root
	shift
	root=$(cmd_path "$name")
	need_root
	local args=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--work) work=$2; shift 2 ;;
		--proc) args+=("$1"); shift ;;
		--copy-in | --bind | --ro-bind | --env) args+=("$1" "$2"); shift 2 ;;
		--) shift; break ;;
		*) die "run: unknown option $1" ;;
		esac
	done
	[ -n "$work" ] || die "run: --work DIR is required"
	[ $# -gt 0 ] || die "run: no command"
	mkdir -p "$work/upper" "$work/ovl" "$work/root"
	exec unshare --mount --propagation private -- "$self" __run-ns "$root" "$work" "${args[@]}" -- "$@"
}

# ---- inside private mount namespaces (internal) ----------------------------

ns_umount_all() {
	# The namespace ends with this process and takes its mounts with it; this
	# is the tidy way out when it ends normally.
	local m
	for m in ${NS_MOUNTS[@]+"${NS_MOUNTS[@]}"}; do
		umount -l "$m" 2>/dev/null || true
	done
}

ns_run() {
	local lower=$1 work=$2 proc=0 src dest
	shift 2
	local envs=() copies=() binds=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--proc) proc=1; shift ;;
		--copy-in) copies+=("$2"); shift 2 ;;
		--bind) binds+=("rw:$2"); shift 2 ;;
		--ro-bind) binds+=("ro:$2"); shift 2 ;;
		--env) envs+=("$2"); shift 2 ;;
		--) shift; break ;;
		esac
	done
	local root=$work/root b
	NS_MOUNTS=()
	trap ns_umount_all EXIT
	mount --make-rprivate /
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/upper,workdir=$work/ovl" "$root"
	NS_MOUNTS=("$root")
	for src in ${copies[@]+"${copies[@]}"}; do
		cp -a "$src/." "$root/"
	done
	for b in ${binds[@]+"${binds[@]}"}; do
		src=${b#*:}
		dest=${src#*:}
		src=${src%%:*}
		if [ -d "$src" ]; then
			mkdir -p "$root$dest"
		else
			mkdir -p "$(dirname "$root$dest")"
			[ -e "$root$dest" ] || : > "$root$dest"
		fi
		mount --bind "$src" "$root$dest"
		[ "${b%%:*}" = rw ] || mount -o remount,bind,ro "$root$dest"
		NS_MOUNTS=("$root$dest" "${NS_MOUNTS[@]}")
	done
	if [ "$proc" = 1 ]; then
		mount -t proc proc "$root/proc"
		NS_MOUNTS=("$root/proc" "${NS_MOUNTS[@]}")
	fi
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		${envs[@]+"${envs[@]}"} "$@"
}

# ---- reading an initramfs (python3, stdlib + zstd) ------------------------
# Concatenated newc archives, each plain or compressed (gzip, xz, zstd), as
# the kernel unpacks them; a later entry replaces an earlier one.
image_py() {
	python3 - "$@" <<'PY'
import gzip, hashlib, lzma, subprocess, sys

def segments(data):
    i = 0
    while i < len(data):
        if data[i:i + 6] in (b"070701", b"070702"):
            entries, i = newc(data, i)
            yield entries
        elif data[i] == 0:
            i += 1
        else:
            head = data[i:i + 6]
            rest = data[i:]
            if head[:2] == b"\x1f\x8b":
                plain = gzip.decompress(rest)
            elif head == b"\xfd7zXZ\x00":
                plain = lzma.decompress(rest)
            elif head[:4] == b"\x28\xb5\x2f\xfd":
                plain = subprocess.run(["zstd", "-dcq"], input=rest, stdout=subprocess.PIPE, check=True).stdout
            else:
                sys.exit("image: unknown data at offset %d: %s" % (i, head.hex()))
            for e in segments(plain):
                yield e
            return

def newc(data, i):
    entries = []
    while True:
        h = data[i:i + 110]
        if h[:6] not in (b"070701", b"070702"):
            sys.exit("image: bad cpio header at %d" % i)
        f = [int(h[6 + 8 * k:14 + 8 * k], 16) for k in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name = data[i + 110:i + 110 + namesize - 1].decode()
        i = (i + 110 + namesize + 3) & ~3
        body = data[i:i + size]
        i = (i + size + 3) & ~3
        if name == "TRAILER!!!":
            return entries, i
        entries.append((name.lstrip("./") if name != "." else "", mode, body))

data = open(sys.argv[2], "rb").read()
files = {}
for seg in segments(data):
    for name, mode, body in seg:
        if name:
            files["/" + name] = (mode, body)
if sys.argv[1] == "list":
    for p in sorted(files):
        mode, body = files[p]
        kind = {0o040000: "d", 0o100000: "-", 0o120000: "l", 0o020000: "c", 0o060000: "b"}.get(mode & 0o170000, "?")
        extra = " -> " + body.decode() if kind == "l" else ""
        print("%s%04o %9d %s%s" % (kind, mode & 0o7777, len(body), p, extra))
else:
    # PATH resolved inside the image: symbolic links (absolute ones relative
    # to the image's root) are followed, as the init would see them.
    def resolve(path, depth=0):
        if depth > 40:
            sys.exit("image: too many levels of symbolic links: %s" % path)
        cur = ""
        for comp in [c for c in path.split("/") if c not in ("", ".")]:
            if comp == "..":
                cur = cur.rsplit("/", 1)[0]
                continue
            nxt = cur + "/" + comp
            ent = files.get(nxt)
            if ent and ent[0] & 0o170000 == 0o120000:
                target = ent[1].decode()
                nxt = resolve(("" if target.startswith("/") else cur) + "/" + target, depth + 1)
            cur = nxt
        return cur or "/"
    def body(path):
        p = resolve(path)
        if p not in files or files[p][0] & 0o170000 != 0o100000:
            return None
        return files[p][1]
    if sys.argv[1] == "cat":
        b = body(sys.argv[3])
        if b is None:
            sys.exit("image: no file %s in %s" % (sys.argv[3], sys.argv[2]))
        sys.stdout.buffer.write(b)
    else:
        for path in sys.argv[3:]:
            b = body(path)
            print("%s  %s" % ("missing" if b is None else hashlib.sha256(b).hexdigest(), path))
PY
}

case "${1:-}" in
ensure) shift; cmd_ensure "$@" ;;
path) shift; cmd_path "$@" ;;
run) shift; cmd_run "$@" ;;
image-list) [ $# -eq 2 ] || die "image-list IMAGE"; image_py list "$2" ;;
image-cat) [ $# -eq 3 ] || die "image-cat IMAGE PATH"; image_py cat "$2" "$3" ;;
image-sha256) [ $# -ge 3 ] || die "image-sha256 IMAGE PATH..."; shift; image_py sha256 "$@" ;;
__chroot-proc) shift; ns_chroot_proc "$@" ;;
__run-ns) shift; ns_run "$@" ;;
*)
	sed -n '2,/^set -euo/p' "$self" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
