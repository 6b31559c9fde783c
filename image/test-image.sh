#!/bin/bash
# The image tool on real files, unprivileged and offline (no loop devices, no
# device-mapper): `cvminit image build` on tests/data/image/layout.conf, then
# - Debian's veritysetup/cryptsetup accept what it wrote (independent checkers);
# - `cvminit image verify` passes the genuine disk, and fails (exit 1, the
#   exact FAIL line) on a flipped byte in a verity partition, a LUKS2 header
#   edited as a host would (checksums recomputed), a wrong GPT name;
# - layout errors name the key and leave no disk behind;
# - two builds from two copies of the inputs in different directories, with a
#   different umask, time zone and file times, give the same verity
#   partitions, GPT and configuration fragment (and, with the fixed volume key
#   of p3, the same p3 ciphertext);
# - image/oem-build.sh twice: the same pins, cvminit.conf, initramfs and
#   measurements.json byte for byte (volume keys fixed).
#
#   image/test-image.sh [CVMINIT]      CVMINIT defaults to build/cvminit
# Prints "ok - image/<case>" / "not ok - image/<case>"; exits 1 on any failure.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tool=${1:-$repo/build/cvminit}
case "$tool" in /*) ;; *) tool=$PWD/$tool ;; esac
data=$repo/tests/data/image
work=$(mktemp -d "${TMPDIR:-/tmp}/cvminit-image-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

ok() { echo "ok - image/$1"; }
not_ok() { echo "not ok - image/$1"; shift; for l in "$@"; do echo "# $l"; done; failed=1; }
# check NAME CONDITION-COMMAND...: one line for the case
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n" "failed: $*"; fi; }

if [ ! -x "$tool" ]; then
	not_ok build "$tool missing: run make first"
	exit 1
fi

# manifest VALUE KEY of build DIR
mval() { sed -n "s/^$2=\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$1/manifest"; }
# extract DIR SLOT FILE: the partition's bytes
extract() {
	dd if="$1/disk.img" of="$3" bs=1M iflag=skip_bytes,count_bytes skip="$(mval "$1" "P$2_START")" \
		count="$(mval "$1" "P$2_BYTES")" status=none
}
build() {   # build DIR LAYOUT: the disk, pins, manifest, cvminit.conf
	mkdir -p "$1"
	"$tool" image build --layout "$2" --out "$1/disk.img" --config-out "$1/pins.conf" \
		--manifest-out "$1/manifest" --quiet >"$1/build.log" 2>&1 &&
		cat "$data/base.conf" "$1/pins.conf" > "$1/cvminit.conf"
}
verify() {   # verify DIR DISK [args]: output in DIR/verify.out, returns the exit status
	local d=$1 disk=$2; shift 2
	"$tool" image verify "$disk" --config "$d/cvminit.conf" --layout "$data/layout.conf" \
		--passphrase-file "root=$data/root.pass" --passphrase-file "jobs=$data/jobs.pass" "$@" >"$d/verify.out" 2>&1
}

# ---- build, and Debian's tools as independent checkers ----------------------
A=$work/a
if build "$A" "$data/layout.conf"; then ok build; else not_ok build "$(cat "$A/build.log")"; exit 1; fi

if command -v veritysetup >/dev/null && command -v cryptsetup >/dev/null; then
	why=()
	for n in 2 4; do
		extract "$A" $n "$work/p$n.img"
		veritysetup verify --hash-offset="$(mval "$A" P${n}_VERITY_HASH_OFFSET)" "$work/p$n.img" "$work/p$n.img" \
			"$(mval "$A" P${n}_VERITY_ROOTHASH)" >/dev/null 2>&1 || why+=("veritysetup verify p$n")
	done
	extract "$A" 6 "$work/p6.img"; extract "$A" 7 "$work/p7.img"
	veritysetup verify --data-blocks="$(mval "$A" P6_VERITY_DATA_BLOCKS)" "$work/p6.img" "$work/p7.img" \
		"$(mval "$A" P6_VERITY_ROOTHASH)" >/dev/null 2>&1 || why+=("veritysetup verify p6 (tree on p7)")
	for n in 3 5; do
		extract "$A" $n "$work/p$n.img"
		pass=$data/jobs.pass; [ $n = 3 ] && pass=$data/root.pass
		head -n1 "$pass" | tr -d '\n' > "$work/pass$n"
		cryptsetup luksDump --disable-locks "$work/p$n.img" > "$work/dump$n" 2>&1 || why+=("luksDump p$n")
		grep -q 'cipher: aes-xts-plain64' "$work/dump$n" || why+=("p$n: segment not aes-xts-plain64")
		grep -q 'offset: 16777216 \[bytes\]' "$work/dump$n" || why+=("p$n: data not at 16 MiB")
		cryptsetup open --disable-locks --test-passphrase --key-file "$work/pass$n" "$work/p$n.img" \
			>/dev/null 2>&1 || why+=("p$n: passphrase does not open it")
	done
	# the fixed volume key of p3 is the one in its keyslot
	cryptsetup luksDump --disable-locks --dump-volume-key --volume-key-file "$work/vk3" \
		--key-file "$work/pass3" --batch-mode "$work/p3.img" >/dev/null 2>&1 && cmp -s "$work/vk3" "$data/root.vk" ||
		why+=("p3: not the volume key of P3_LUKS_VOLUME_KEY_FILE")
	if [ ${#why[@]} = 0 ]; then ok debian-tools-accept; else not_ok debian-tools-accept "${why[@]}"; fi
else
	not_ok debian-tools-accept "veritysetup/cryptsetup missing (deps/install-tools.sh: cryptsetup-bin)"
fi

# ---- verify: the genuine disk, then as a host would edit it ------------------
if verify "$A" "$A/disk.img" && ! grep -q '^FAIL' "$A/verify.out" && grep -qx '32 ok, 0 FAIL' "$A/verify.out"; then
	ok verify-genuine
else
	not_ok verify-genuine "$(cat "$A/verify.out")"
fi

# expect_fail NAME DISK LINE: verify exits 1 with exactly that FAIL line
expect_fail() {
	local name=$1 disk=$2 line=$3 rc
	verify "$A" "$disk"; rc=$?
	if [ $rc = 1 ] && grep -qxF "$line" "$A/verify.out"; then ok "$name"
	else not_ok "$name" "exit $rc, want 1 and: $line" "$(grep -v '^ok' "$A/verify.out")"; fi
}

# a flipped byte in p4's data (inside a file: the last data block)
cp --sparse=always "$A/disk.img" "$work/flip.img"
off=$(( $(mval "$A" P4_START) + $(mval "$A" P4_VERITY_HASH_OFFSET) - 100 ))
printf '\x5a' | dd of="$work/flip.img" bs=1 seek=$off conv=notrunc status=none
expect_fail verify-flipped-verity-byte "$work/flip.img" "FAIL - verity: config: every block does not match CONFIG_VERITY_ROOTHASH"

# p3's LUKS2 header with a cipher_null segment and valid checksums
cp --sparse=always "$A/disk.img" "$work/luks.img"
extract "$A" 3 "$work/p3edit.img"
python3 "$repo/qemu-tests/luks-edit.py" "$work/p3edit.img" 'set segments.0.encryption="cipher_null-ecb"' >/dev/null &&
	dd if="$work/p3edit.img" of="$work/luks.img" bs=1M count=16 seek="$(mval "$A" P3_START)" oflag=seek_bytes \
		conv=notrunc status=none
expect_fail verify-edited-luks-header "$work/luks.img" \
	"FAIL - luks: root: LUKS2 header refused: segments.0.encryption is cipher_null-ecb (allowed: aes-xts-plain64)"

# a GPT name changed (the init would not find cvm-boot)
cp --sparse=always "$A/disk.img" "$work/gpt.img"
sgdisk -c 2:cvm-b00t "$work/gpt.img" >/dev/null 2>&1
expect_fail verify-wrong-gpt-name "$work/gpt.img" "FAIL - gpt: boot: PARTLABEL=cvm-boot is not on the disk"
if grep -qxF "FAIL - layout: P2: GPT name cvm-boot, PARTUUID $(mval "$A" P2_UUID), 4235264 bytes at 3145728; GPT name is cvm-b00t" \
	"$A/verify.out"; then ok verify-wrong-gpt-name-layout
else not_ok verify-wrong-gpt-name-layout "$(grep '^FAIL' "$A/verify.out")"; fi

# control: a copy of the genuine disk passes (the edits above made the failures)
cp --sparse=always "$A/disk.img" "$work/copy.img"
if verify "$A" "$work/copy.img"; then ok verify-control-copy; else not_ok verify-control-copy "$(grep '^FAIL' "$A/verify.out")"; fi

# a volume-key pin of another volume
sed 's/^ROOT_VOLUME_KEY_PIN=.*/ROOT_VOLUME_KEY_PIN=0000000000000000000000000000000000000000000000000000000000000000/' \
	"$A/cvminit.conf" > "$work/pin.conf"
if "$tool" image verify "$A/disk.img" --config "$work/pin.conf" --passphrase-file "root=$data/root.pass" \
	>"$work/pin.out" 2>&1; then not_ok verify-wrong-pin "exit 0"
elif grep -qxF "FAIL - luks: root: volume key does not match ROOT_VOLUME_KEY_PIN" "$work/pin.out"; then ok verify-wrong-pin
else not_ok verify-wrong-pin "$(grep '^FAIL' "$work/pin.out")"; fi

# ---- layout errors: the key named, exit 1, nothing written ------------------
# layout_error NAME MESSAGE EDIT...: the test layout with EDIT lines appended
# (ALONE=1: the EDIT lines alone)
layout_error() {
	local name=$1 want=$2 rc; shift 2
	mkdir -p "$work/err-$name"
	{ [ "${ALONE:-0}" = 1 ] || cat "$data/layout.conf"; printf '%s\n' "$@"; } > "$data/.err-$name.conf"
	"$tool" image build --layout "$data/.err-$name.conf" --out "$work/err-$name/disk.img" >"$work/err-$name/out" 2>&1
	rc=$?
	rm -f "$data/.err-$name.conf"
	if [ $rc = 1 ] && grep -qF "$want" "$work/err-$name/out" && [ -z "$(ls -A "$work/err-$name" | grep -v '^out$')" ]; then
		ok "layout-error-$name"
	else
		not_ok "layout-error-$name" "exit $rc, want 1 and '$want', nothing written" "$(cat "$work/err-$name/out")" \
			"$(ls -A "$work/err-$name")"
	fi
}
layout_error unknown-key ".err-unknown-key.conf:$(( $(wc -l < "$data/layout.conf") + 1 )): unknown key P4_VERITY_SALTT" \
	"P4_VERITY_SALTT=00"
# the content of P3_DIR (over 8 MiB) in a 1 MiB file system
big=$work/big-root
mkdir -p "$big" && head -c $((2 * 1024 * 1024)) /dev/zero > "$big/blob"
layout_error size-too-small "P8_SIZE: 1048576 bytes is too small for the content of P8_DIR" \
	"P8_NAME=extra" "P8_DIR=$big" "P8_SIZE=1M"
layout_error overlap "P8_START: partition 8 (bytes 3145728..4194303) overlaps the partition before it" \
	"P8_NAME=extra" "P8_START=3M" "P8_SIZE=1M"
layout_error missing "P8_VERITY_HASH: partition P9 is not in the layout (no P9_NAME)" "P8_NAME=extra" \
	"P8_DIR=data" "P8_SIZE=4M" "P8_PROTECTION=verity" "P8_VERITY_HASH=P9"
layout_error hash-partition-taken "P8_VERITY_HASH: P7 already holds P6's tree" "P8_NAME=extra" "P8_DIR=data" \
	"P8_SIZE=4M" "P8_PROTECTION=verity" "P8_VERITY_HASH=P7"
layout_error missing-name "P9_SIZE: partition 9 has no P9_NAME" "P9_SIZE=1M"
layout_error refused-cipher "LUKS_CIPHER: the release policy refuses cipher aes-cbc-essiv:sha256" \
	"LUKS_CIPHER=aes-cbc-essiv:sha256"
ALONE=1 layout_error refused-protection \
	".err-refused-protection.conf:1: P2_PROTECTION: none for the boot volume: the release policy requires dm-verity (BOOT_VERITY_ROOTHASH); POLICY=test allows it" \
	"P2_NAME=cvm-boot" "P2_ROLE=boot" "P2_DIR=boot" "P2_SIZE=4M"
ALONE=1 layout_error refused-root-verity "P3_PROTECTION: verity for the root volume: the release policy requires luks2" \
	"P3_NAME=cvm-root" "P3_ROLE=root" "P3_DIR=root" "P3_SIZE=8M" "P3_PROTECTION=verity"

# ---- reproducible: two copies of the inputs, another directory, umask, TZ ----
# Copy B: other directory names, umask 077 (files 0600: P<N>_MODES=normalize
# records them as git does), file times moved, another time zone and locale.
B=$work/elsewhere/clone-b
mkdir -p "$B"
(umask 077 && cp -r "$data" "$B/inputs" && find "$B/inputs" -exec touch -d '2001-02-03 04:05:06' {} +)
(umask 077 && cd "$B" && TZ=Asia/Kolkata LC_ALL=C.UTF-8 build "$B/out" "$B/inputs/layout.conf") ||
	not_ok reproducible "second build failed: $(cat "$B/out/build.log")"
why=()
# p5's volume key is random (no P5_LUKS_VOLUME_KEY_FILE): its pin is the one line that differs
nopin() { grep -v '^\(JOBS_VOLUME_KEY_PIN\|P5_LUKS_VOLUME_KEY_PIN\)=' "$1"; }
cmp -s <(nopin "$A/pins.conf") <(nopin "$B/out/pins.conf") || why+=("configuration fragments differ")
cmp -s <(nopin "$A/manifest") <(nopin "$B/out/manifest") || why+=("manifests differ")
grep -q '^ROOT_VOLUME_KEY_PIN=' "$A/pins.conf" || why+=("no ROOT_VOLUME_KEY_PIN in the fragment")
# the GPT: protective MBR + primary header and entries, and the backup at the end
size=$(stat -c %s "$A/disk.img")
cmp -s <(head -c $((34 * 512)) "$A/disk.img") <(head -c $((34 * 512)) "$B/out/disk.img") || why+=("primary GPT differs")
cmp -s <(tail -c $((33 * 512)) "$A/disk.img") <(tail -c $((33 * 512)) "$B/out/disk.img") || why+=("backup GPT differs")
for n in 1 2 4 6 7; do
	extract "$A" $n "$work/a$n"; extract "$B/out" $n "$work/b$n"
	cmp -s "$work/a$n" "$work/b$n" || why+=("partition $n differs")
done
# p3 with its fixed volume key: the same ciphertext (only the header's salts differ)
cmp -s <(tail -c +$((16 * 1024 * 1024 + 1)) "$work/p3.img") \
	<(extract "$B/out" 3 /dev/stdout | tail -c +$((16 * 1024 * 1024 + 1))) || why+=("p3's encrypted data differs")
[ "$size" = "$(stat -c %s "$B/out/disk.img")" ] || why+=("disk sizes differ")
if [ ${#why[@]} = 0 ]; then ok reproducible; else not_ok reproducible "${why[@]}"; fi

# a control: another SEED changes the identifiers (the comparison can fail)
sed 's/^SEED=.*/SEED=another/' "$data/layout.conf" > "$data/.seed.conf"
build "$work/seed" "$data/.seed.conf"; rm -f "$data/.seed.conf"
if ! cmp -s "$A/pins.conf" "$work/seed/pins.conf" && ! cmp -s <(head -c 17408 "$A/disk.img") <(head -c 17408 "$work/seed/disk.img"); then
	ok reproducible-control
else
	not_ok reproducible-control "another SEED gave the same GPT or configuration"
fi

# ---- the one-step pipeline: same inputs, same disk pins, conf, initramfs, measurements
# (p5 gets a fixed volume key too, so nothing random reaches the configuration)
if [ -f "$repo/build/init" ]; then
	{ cat "$data/layout.conf"; echo "P5_LUKS_VOLUME_KEY_FILE=root.vk"; } > "$data/.fixed.conf"
	why=()
	for d in p1 p2; do
		(umask 077 && cd "$work" && TZ=America/Denver CVMINIT=$tool "$repo/image/oem-build.sh" --layout "$data/.fixed.conf" \
			--config "$data/base.conf" --out "$work/$d" --init "$repo/build/init" \
			--cmdline "console=ttyS0 cvminit.debug=no" >"$work/$d.log" 2>&1) || why+=("oem-build.sh $d failed: $(tail -n 3 "$work/$d.log")")
	done
	rm -f "$data/.fixed.conf"
	for f in pins.conf cvminit.conf initramfs.img measurements.json; do
		cmp -s "$work/p1/$f" "$work/p2/$f" || why+=("$f differs")
	done
	grep -q 'oem-build: 30 ok, 0 FAIL' "$work/p1.log" || why+=("image verify in the pipeline: $(grep 'oem-build:' "$work/p1.log" | head -n 1)")
	if [ ${#why[@]} = 0 ]; then ok pipeline-reproducible; else not_ok pipeline-reproducible "${why[@]}"; fi
else
	not_ok pipeline-reproducible "build/init missing: run make first"
fi

# ---- --qcow2: the same disk, converted by qemu-img --------------------------
Q=$work/q
mkdir -p "$Q"
if "$tool" image build --layout "$data/layout.conf" --out "$Q/disk.img" --qcow2 --quiet >"$Q/build.log" 2>&1 &&
	[ "$(qemu-img info --output=json "$Q/disk.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')" = qcow2 ] &&
	qemu-img compare -q -f raw -F qcow2 "$Q/disk.img" "$Q/disk.qcow2"; then
	ok qcow2-equals-raw
else
	not_ok qcow2-equals-raw "$(cat "$Q/build.log")"
fi

exit $failed
