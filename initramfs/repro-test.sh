#!/bin/bash
# shellcheck disable=SC2016 # the single-quoted sh -c scripts expand their own "$N"
# Proves that `cvminit initramfs build` is reproducible: two builds of the same
# inputs under a different working directory, umask, time zone, locale, build
# time, compressor environment (GZIP, XZ_OPT, XZ_DEFAULTS, ZSTD_CLEVEL,
# ZSTD_NBTHREADS) and source-file metadata (copies with other mtimes and
# permission bits) give the same SHA-256, for every --compress choice. Also
# checks that GNU cpio reads the archive back to the same files.
#
#   initramfs/repro-test.sh [CVMINIT]      CVMINIT defaults to build/cvminit
#
# Inputs: the cvminit binary itself as /init (a static binary), the test
# configuration and the synthetic module set in tests/data/initramfs/, and,
# when qemu-tests/kernel.sh has already extracted the pinned Debian kernel,
# the real closure of virtio_blk,ext4,dm-verity,dm-crypt,sev-guest,tdx-guest.
# Prints "ok - initramfs/reproducible" or "not ok - initramfs/reproducible"
# and "ok/not ok - initramfs/cpio-compatible"; exits non-zero on failure.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tool=${1:-$repo/build/cvminit}
case "$tool" in /*) ;; *) tool=$PWD/$tool ;; esac
if [ ! -x "$tool" ]; then
	echo "not ok - initramfs/reproducible # $tool missing: run make first"
	echo "not ok - initramfs/cpio-compatible # $tool missing"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cvminit-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
why=""

data=$repo/tests/data/initramfs
kdir=$data/modules/6.1.0-test
mods=top,soft_user,cyc_a,crypto-foo
# The real kernel, only if it is already there (this test downloads nothing).
if kd=$("$repo/qemu-tests/kernel.sh" dir 2>/dev/null) && kv=$("$repo/qemu-tests/kernel.sh" kver 2>/dev/null) &&
	[ -f "$kd/lib/modules/$kv/modules.dep" ]; then
	kdir=$kd/lib/modules/$kv
	mods=virtio_blk,virtio_pci,ext4,dm-verity,dm-crypt,sev-guest,tdx-guest
	echo "# using the extracted kernel $kv"
fi

# Build 1: from the repo root, conventional environment, epoch from the env.
mkdir -p "$work/one"
(
	cd "$repo" && umask 022 &&
	env -i PATH="$PATH" TZ=UTC LC_ALL=C SOURCE_DATE_EPOCH=1700000000 \
	sh -c 'for c in none gzip xz zstd; do
		"$0" initramfs build --init "$0" --config "$1" --kernel-modules "$2" --modules "$3" \
			--file "$1:/etc/extra.conf" --output "$4/initrd.$c" --compress "$c" 2>>"$4/../log" || exit 1
	done' "$tool" "$data/cvminit.conf" "$kdir" "$mods" "$work/one"
) || { fail=1; why="build 1 failed"; }

sleep 1 # a different build time (whole seconds)

# Build 2: copies of the inputs with other metadata, another cwd, a hostile
# environment, epoch from the option.
mkdir -p "$work/two/src" "$work/two/cwd"
cp "$tool" "$work/two/src/init"
cp "$data/cvminit.conf" "$work/two/src/conf"
kname=$(basename "$kdir")
# The module metadata copied (other mtimes), the module trees linked (a real
# kernel's are large); the tool only refuses a link as a path's last component.
mkdir "$work/two/src/$kname"
for f in "$kdir"/*; do
	if [ -d "$f" ]; then ln -s "$f" "$work/two/src/$kname/"; else cp "$f" "$work/two/src/$kname/"; fi
done
chmod 0700 "$work/two/src/init"
chmod 0600 "$work/two/src/conf"
find "$work/two/src" ! -type l -exec touch -d '2001-02-03 04:05:06' {} +
(
	cd "$work/two/cwd" && umask 077 &&
	env -i PATH="$PATH" TZ=Pacific/Kiritimati LANG=tr_TR.UTF-8 LC_ALL=tr_TR.UTF-8 \
		GZIP=-1 XZ_OPT=-0 XZ_DEFAULTS=-T0 ZSTD_CLEVEL=1 ZSTD_NBTHREADS=2 \
	sh -c 'for c in none gzip xz zstd; do
		"$0" initramfs build --source-date-epoch 1700000000 --compress "$c" --output "../initrd.$c" \
			--file ../src/conf:/etc/extra.conf --modules "$2" --kernel-modules "../src/$1" \
			--config ../src/conf --init ../src/init 2>>../log || exit 1
	done' "$tool" "$kname" "$mods"
) || { fail=1; why="${why:+$why; }build 2 failed"; }

for c in none gzip xz zstd; do
	a="" b=""
	[ -f "$work/one/initrd.$c" ] && a=$(sha256sum < "$work/one/initrd.$c" | cut -d' ' -f1)
	[ -f "$work/two/initrd.$c" ] && b=$(sha256sum < "$work/two/initrd.$c" | cut -d' ' -f1)
	echo "# $c: $(stat -c %s "$work/one/initrd.$c" 2>/dev/null || echo '?') bytes, sha256 ${a:-none} / ${b:-none}"
	if [ -z "$a" ] || [ "$a" != "$b" ]; then
		fail=1
		why="${why:+$why; }$c differs"
	fi
done
# The epoch must matter (guards against a test that compares nothing).
"$tool" initramfs build --init "$tool" --source-date-epoch 1 --output "$work/epoch1" --compress none 2>/dev/null
"$tool" initramfs build --init "$tool" --source-date-epoch 2 --output "$work/epoch2" --compress none 2>/dev/null
if cmp -s "$work/epoch1" "$work/epoch2"; then
	fail=1
	why="${why:+$why; }--source-date-epoch changes nothing"
fi

if [ "$fail" = 0 ]; then
	echo "ok - initramfs/reproducible"
elif [ -s "$work/log" ]; then
	sed 's/^/# /' "$work/log"
	echo "not ok - initramfs/reproducible # $why"
else
	echo "not ok - initramfs/reproducible # $why"
fi

# GNU cpio: lists the same paths as --list, extracts the same contents.
cfail=""
if ! command -v cpio >/dev/null; then
	cfail="cpio not installed"
else
	listed=$(cd "$repo" && "$tool" initramfs build --init "$tool" --config "$data/cvminit.conf" \
		--kernel-modules "$kdir" --modules "$mods" --file "$data/cvminit.conf:/etc/extra.conf" --list 2>/dev/null |
		awk '{ print substr($3, 2) }')
	got=$(cpio -t --quiet < "$work/one/initrd.none" 2>/dev/null)
	[ -n "$listed" ] && [ "$listed" = "$got" ] || cfail="cpio -t differs from --list"
	mkdir -p "$work/x"
	(cd "$work/x" && cpio -i -d --quiet --no-absolute-filenames < "$work/one/initrd.none") 2>/dev/null ||
		cfail="${cfail:+$cfail; }cpio -i failed"
	cmp -s "$work/x/init" "$tool" || cfail="${cfail:+$cfail; }/init content differs"
	cmp -s "$work/x/etc/cvminit/cvminit.conf" "$data/cvminit.conf" || cfail="${cfail:+$cfail; }config differs"
	while read -r m _needs; do
		[ -n "$m" ] || continue
		rel=${m#/lib/modules/*/}
		cmp -s "$work/x$m" "$kdir/$rel" || { cfail="${cfail:+$cfail; }$m differs"; break; }
	done < "$work/x/etc/cvminit/modules.load"
	[ "$(stat -c %a "$work/x/init")" = 755 ] || cfail="${cfail:+$cfail; }/init mode"
fi
if [ -z "$cfail" ]; then
	echo "ok - initramfs/cpio-compatible"
else
	echo "not ok - initramfs/cpio-compatible # $cfail"
	fail=1
fi
exit "$fail"
