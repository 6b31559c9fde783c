#!/bin/bash
# Cross-checks `cvminit initramfs closure` against the host's modprobe
# (kmod) on a real kernel: for each module, the load order must equal
# `modprobe --show-depends` (host modprobe.d ignored, repeats dropped).
# A module named on several "softdep" lines may differ by design: kmod uses
# only the first such line, cvminit all of them; there kmod's list must be a
# subsequence of cvminit's. Not part of make check (3-4 minutes for a
# full Debian kernel); run it after changing initramfs/modclosure.c.
#
#   initramfs/kmod-crosscheck.sh [--bin CVMINIT] [KDIR [MODULE...]]
#
# KDIR is a lib/modules/<kver> directory whose parent's parent's parent is the
# root modprobe -d takes (default: the kernel qemu-tests/kernel.sh extracted).
# Without MODULEs, every module of modules.dep is checked.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$repo/build/cvminit
if [ "${1:-}" = --bin ]; then bin=$2; shift 2; fi
if [ $# -ge 1 ]; then
	kdir=$1; shift
else
	kdir=$("$repo/qemu-tests/kernel.sh" dir)/lib/modules/$("$repo/qemu-tests/kernel.sh" kver)
fi
[ -f "$kdir/modules.dep" ] || { echo "kmod-crosscheck: $kdir/modules.dep missing" >&2; exit 2; }
command -v modprobe >/dev/null || { echo "kmod-crosscheck: modprobe (kmod) missing" >&2; exit 2; }
kdir=$(cd "$kdir" && pwd)
kver=$(basename "$kdir")
root=$(cd "$kdir/../../.." && pwd)

if [ $# -eq 0 ]; then
	mapfile -t mods < <(sed -E 's/:.*//; s|.*/||; s/\..*//' "$kdir/modules.dep")
else
	mods=("$@")
fi
multi=" $(awk '$1 == "softdep" { n[$2]++ } END { for (m in n) if (n[m] > 1) printf "%s ", m }' \
	"$kdir/modules.softdep" 2>/dev/null | tr - _)"

same=0 superset=0 bad=0
for m in "${mods[@]}"; do
	mine=$("$bin" initramfs closure --kernel-modules "$kdir" --modules "$m" 2>/dev/null | grep -v '^builtin ' || true)
	theirs=$(modprobe -C /dev/null -d "$root" -S "$kver" --show-depends "$m" 2>/dev/null |
		sed -n "s|^insmod $kdir/||p" | sed 's/ .*//' | awk '!seen[$0]++' || true)
	if [ "$mine" = "$theirs" ]; then
		same=$((same + 1))
		continue
	fi
	n=$(echo "$m" | tr - _)
	if [[ "$multi" == *" $n "* ]] &&
		[ "$(grep -Fxf <(echo "$theirs") <<<"$mine")" = "$theirs" ]; then
		superset=$((superset + 1))
		echo "# $m: several softdep lines; cvminit adds $(($(wc -l <<<"$mine") - $(wc -l <<<"$theirs"))) module(s) kmod leaves out"
		continue
	fi
	bad=$((bad + 1))
	echo "# $m differs:"
	diff <(echo "$theirs") <(echo "$mine") | sed 's/^/#   /' || true
done
echo "# $kver: ${#mods[@]} modules: $same identical to kmod, $superset deliberate supersets, $bad different"
if [ "$bad" = 0 ]; then
	echo "ok - initramfs/kmod-crosscheck"
else
	echo "not ok - initramfs/kmod-crosscheck"
	exit 1
fi
