#!/bin/bash
# make demo: builds the protected demo disk and an initramfs with the test
# build of the init (this machine has no SNP/TDX), boots them in QEMU (TCG)
# with the console on the screen, answers the job store's passphrase prompt,
# and says whether the launcher stand-in ran in the new root. Everything
# lands in build/demo/.
#
# The disk is the six-partition disk of DESIGN.md with its protections, made
# by `cvminit image build` (through mkdisk.sh) and checked by Debian's tools
# before the boot (mkdisk.sh --verify):
#   p2 boot    dm-verity (tree appended)
#   p3 root    LUKS2 (encrypted offline by libcryptsetup), opened with a key file
#              the test build carries in the initramfs
#   p4 config  dm-verity, fully verified by cvminit before activation
#   p5 jobs    LUKS2, opened with the passphrase typed at the console prompt
#   p6 data    plain ext4, mounted read-only
# The root hashes are in the embedded configuration (build/demo/cvminit.conf).
#
#   qemu-tests/demo.sh               build, boot, answer the prompt
#   qemu-tests/demo.sh --disk-only   build build/demo/disk.img only (make demo-disk)
#
# Needs build/init-test, build/cvminit, build/standin and the kernel: make demo
# builds them first (INIT_TEST, CVMINIT, STANDIN override the paths).
# DEMO_APPEND adds kernel parameters (e.g. cvminit.debug=yes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/.." && pwd)
cd "$REPO"
disk_only=0
case "${1:-}" in
--disk-only) disk_only=1 ;;
'') ;;
*) echo "usage: qemu-tests/demo.sh [--disk-only]" >&2; exit 2 ;;
esac

WORK=$REPO/build/demo
NAME=demo
mkdir -p "$WORK"
export REPO WORK NAME
VM_TIMEOUT=${VM_TIMEOUT:-120}
# The scenario helpers build the protected disk and the initramfs exactly as
# qemu/boot-protected does.
# shellcheck source=qemu-tests/lib.sh
source "$here/lib.sh"
need() {
	for f in "$@"; do
		[ -x "$f" ] || { echo "demo: ${f#"$REPO"/} missing: run 'make demo'" >&2; exit 1; }
	done
}
need "$STANDIN"

echo "demo: building the protected demo disk (build/demo/disk.img) with cvminit image build"
protected_disk --verify
echo "demo: checked with Debian's tools: veritysetup verify (p2, p4), cryptsetup luksDump +"
echo "      open --test-passphrase (p3 key file, p5 passphrase)"
for n in 2 4; do
	echo "demo:   p$n dm-verity root hash $(verity_value $n ROOTHASH) (data $(verity_value $n HASH_OFFSET) bytes)"
done
for n in 3 5; do
	echo "demo:   p$n LUKS2 $(luks_value $n CIPHER), keyslots $(luks_value $n KEYSLOTS), data at $(luks_value $n DATA_OFFSET)"
done
[ "$disk_only" = 1 ] && exit 0
need "$INIT_TEST" "$CVMINIT"

cat > "$WORK/cvminit.conf" <<EOF
# The demo's embedded configuration: DESIGN.md's disk table with every
# protection (the root hashes below are the ones veritysetup printed), plus
# arguments that make the launcher stand-in show the mounted partitions.
TMP_SIZE=64m
$(protected_config)
LAUNCHER_ARGS="--standin-cat=/boot/BOOT-MARKER --standin-cat=/opt/nvflare/config/CONFIG-MARKER --standin-cat=/opt/nvflare/jobs/JOBS-MARKER --standin-cat=/opt/nvflare/data/DATA-MARKER"
EOF

echo "demo: building the initramfs (build/demo/initramfs.img)"
protected_initramfs_build --config "$WORK/cvminit.conf"

prompt='Passphrase for jobs (/dev/vda5): '
echo "demo: booting under QEMU TCG (quiet kernel; cvminit and the stand-in print below)."
echo "demo: NOTE: at the prompt \"$prompt\" this demo types the demo passphrase itself"
echo "      (a fixed test passphrase, JOBS_PASSPHRASE in qemu-tests/lib.sh); echo is off,"
echo "      so it does not appear below. A real boot waits for the model owner to type it."
echo "------------------------------------------------------------------------"
# shellcheck disable=SC2086
boot --tee --append quiet ${DEMO_APPEND:+--append "$DEMO_APPEND"} \
	--expect "$(rx_quote "$prompt")" --send "$JOBS_PASSPHRASE"
echo
echo "------------------------------------------------------------------------"
if grep -qF "$prompt" "$CONSOLE_TXT"; then
	echo "demo: the passphrase prompt appeared and the demo answered it (vm.py never logs what it sends)"
fi
if grep -qaF "$JOBS_PASSPHRASE" "$CONSOLE_LOG"; then
	echo "demo: WARNING: the passphrase appears in the console log" >&2
	exit 1
fi
if grep -qx 'STANDIN: NVFlare stand-in launched' "$CONSOLE_TXT"; then
	echo "demo: the launcher ran in the new root: $(grep -m1 '^STANDIN: pid=' "$CONSOLE_TXT")"
	grep '^STANDIN: mount /dev/' "$CONSOLE_TXT" | sed 's/^STANDIN: /demo:   /'
	echo "demo: console log: build/demo/console.log"
	exit 0
fi
echo "demo: the launcher did not run (vm.py: ${VM_HOW:-?}, exit $VM_RC); console log: build/demo/console.log" >&2
exit 1
