#!/bin/bash
# The OEM pipeline in one step: a layout and its directories -> the protected
# disk, the cvminit.conf that pins it, the initramfs that embeds that
# configuration, and the published measurements. Reproducible: the same inputs
# give the same verity partitions, GPT, configuration, initramfs and
# measurements.json byte for byte (LUKS2 volumes differ only by their random
# keys and salts, unless P<N>_LUKS_VOLUME_KEY_FILE fixes the volume key; a
# random volume key changes its pin, hence the configuration and what follows).
#
#   image/oem-build.sh --layout LAYOUT --config BASE.CONF --out DIR
#                      [--init build/init] [--kernel-modules DIR --modules A,B,...]
#                      [--cmdline TEXT] [--test-build] [--qcow2]
#
# BASE.CONF: the choices that are not facts of the disk (key sources, mounts,
# launcher, TCB floor, owner keys); the tool appends the pins. Writes
#   DIR/disk.img          the raw GPT disk (DIR/disk.qcow2 with --qcow2)
#   DIR/pins.conf         the configuration fragment from `cvminit image build`
#   DIR/manifest          per-slot facts (starts, sizes, UUIDs)
#   DIR/cvminit.conf      BASE.CONF + pins.conf: what the initramfs embeds
#   DIR/initramfs.img     `cvminit initramfs build` (gzip)
#   DIR/measurements.json `cvminit measure` (with --cmdline: the command line the
#                         VM will boot with)
# and then runs `cvminit image verify` on the disk against DIR/cvminit.conf
# (release schema; skipped with --test-build, whose keys it does not know).
# CVMINIT overrides the tool (default build/cvminit).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CVMINIT=${CVMINIT:-$here/../build/cvminit}
die() { echo "oem-build: $*" >&2; exit 1; }
usage() { sed -n '10,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

layout="" base="" out="" init="$here/../build/init" kmods="" modules="" cmdline="" test_build=0 qcow2=()
while [ $# -gt 0 ]; do
	case "$1" in
	--layout) layout=$2; shift 2 ;;
	--config) base=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--init) init=$2; shift 2 ;;
	--kernel-modules) kmods=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--cmdline) cmdline=$2; shift 2 ;;
	--test-build) test_build=1; shift ;;
	--qcow2) qcow2=(--qcow2); shift ;;
	*) usage ;;
	esac
done
[ -n "$layout" ] && [ -n "$base" ] && [ -n "$out" ] || usage
[ -x "$CVMINIT" ] || die "$CVMINIT not found (make build/cvminit)"
[ -f "$init" ] || die "$init not found (make)"
[ -z "$kmods" ] || [ -n "$modules" ] || die "--kernel-modules needs --modules"
mkdir -p "$out"
t0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

"$CVMINIT" image build --layout "$layout" --out "$out/disk.img" --config-out "$out/pins.conf" \
	--manifest-out "$out/manifest" ${qcow2[@]+"${qcow2[@]}"}
cat "$base" "$out/pins.conf" > "$out/cvminit.conf.tmp" && mv "$out/cvminit.conf.tmp" "$out/cvminit.conf"

mod_args=()
[ -z "$kmods" ] || mod_args=(--kernel-modules "$kmods" --modules "$modules")
"$CVMINIT" initramfs build --init "$init" --config "$out/cvminit.conf" ${mod_args[@]+"${mod_args[@]}"} \
	--compress gzip --output "$out/initramfs.img"

m_args=(--initramfs "$out/initramfs.img" --config "$out/cvminit.conf" --output "$out/measurements.json")
[ -z "$cmdline" ] || m_args+=(--cmdline "$cmdline")
[ "$test_build" = 0 ] || m_args+=(--test-build)
"$CVMINIT" measure "${m_args[@]}"

if [ "$test_build" = 0 ]; then
	"$CVMINIT" image verify "$out/disk.img" --config "$out/cvminit.conf" --layout "$layout" > "$out/verify.txt" ||
		{ cat "$out/verify.txt" >&2; die "cvminit image verify failed (above)"; }
	echo "oem-build: $(tail -n 1 "$out/verify.txt") (cvminit image verify; details in $out/verify.txt)"
fi
for f in disk.img cvminit.conf initramfs.img measurements.json; do
	echo "oem-build: $out/$f sha256 $(sha256sum < "$out/$f" | cut -d' ' -f1)"
done
echo "oem-build: done in $(since "$t0") s"
