#!/bin/bash
# make demo: builds the six-partition demo disk and an initramfs with the test
# build of the init (this machine has no SNP/TDX), boots them in QEMU (TCG)
# with the console on the screen, and says whether the launcher stand-in ran
# in the new root. Everything lands in build/demo/.
#
# Needs build/init-test, build/cvminit, build/standin and the kernel: make demo
# builds them first (INIT_TEST, CVMINIT, STANDIN override the paths).
# DEMO_APPEND adds kernel parameters (e.g. cvminit.debug=yes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"

out=build/demo
mkdir -p "$out"
kdir=$("$here/kernel.sh")
kver=$("$here/kernel.sh" kver)
init=${INIT_TEST:-build/init-test}
cvminit=${CVMINIT:-build/cvminit}
standin=${STANDIN:-build/standin}
for f in "$init" "$cvminit" "$standin"; do
	[ -x "$f" ] || { echo "demo: $f missing: run 'make demo'" >&2; exit 1; }
done

echo "demo: building the demo disk ($out/disk.img)"
"$here/mkdisk.sh" --out "$out/disk.img" --standin "$standin"

cat > "$out/cvminit.conf" <<'EOF'
# The demo's embedded configuration: the defaults of DESIGN.md's disk table,
# plus arguments that make the launcher stand-in show the mounted partitions.
TMP_SIZE=64m
LAUNCHER_ARGS="--standin-cat=/boot/BOOT-MARKER --standin-cat=/opt/nvflare/config/CONFIG-MARKER --standin-cat=/opt/nvflare/jobs/JOBS-MARKER --standin-cat=/opt/nvflare/data/DATA-MARKER"
EOF

echo "demo: building the initramfs ($out/initramfs.img)"
"$cvminit" initramfs build --init "$init" --config "$out/cvminit.conf" \
	--kernel-modules "$kdir/lib/modules/$kver" --modules-from "$here/modules" \
	--output "$out/initramfs.img"

echo "demo: booting under QEMU TCG (quiet kernel; cvminit and the stand-in print below)"
echo "------------------------------------------------------------------------"
set +e
# shellcheck disable=SC2086
python3 "$here/vm.py" --kernel "$kdir/vmlinuz" --initrd "$out/initramfs.img" \
	--disk "$out/disk.img" --log "$out/console.log" --timeout 120 --tee \
	--append quiet ${DEMO_APPEND:+--append "$DEMO_APPEND"}
rc=$?
set -e
echo
echo "------------------------------------------------------------------------"
if tr -d '\r' < "$out/console.log" | grep -qx 'STANDIN: NVFlare stand-in launched'; then
	echo "demo: the launcher ran in the new root: $(tr -d '\r' < "$out/console.log" | grep -m1 '^STANDIN: pid=')"
	echo "demo: console log: $out/console.log"
	exit 0
fi
echo "demo: the launcher did not run (vm.py exit $rc); console log: $out/console.log" >&2
exit 1
