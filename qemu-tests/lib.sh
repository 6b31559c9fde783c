# shellcheck shell=bash
# Helpers for QEMU scenarios (bash). A scenario is qemu-tests/scenarios/NAME.sh;
# qemu-tests/run.sh runs it with the working directory $WORK (build/qemu/NAME,
# fresh) and these variables set (each can be overridden from the environment):
#   REPO           repository root (absolute, found at run time)
#   WORK NAME      the scenario's work dir and name
#   INIT_TEST      build/init-test     (the test build of the init)
#   INIT_RELEASE   build/init
#   CVMINIT        build/cvminit       (host tool: initramfs builder)
#   STANDIN        build/standin       (launcher stand-in)
#   KERNEL_IMAGE KERNEL_MODDIR KERNEL_VER   the pinned kernel (qemu-tests/kernel.sh)
#   VM_TIMEOUT     hard limit per boot in seconds (default 90)
# A scenario sources this file, builds what it needs, boots, then asserts:
#
#   source "$REPO/qemu-tests/lib.sh"
#   disk_build [mkdisk.sh options]              -> $DISK (default $WORK/disk.img)
#   initramfs_build [--init BIN] [--config F] [--modules a,b] [builder args]
#                                               -> $INITRD ($WORK/initramfs.img)
#   boot [vm.py options]                        -> $CONSOLE_LOG, $VM_RC, $VM_HOW
#   part_offset N, part_size N, flip_byte N OFFSET, part_hash N [LEN]   (tamper helpers)
#   protected_disk [--jobs-plain|--jobs-keyfile|--root-passphrase] [mkdisk options]
#                  p2/p4 dm-verity, p3 LUKS2 (key file), p5 LUKS2 (passphrase), p6 plain
#   protected_config [--root-source S] [--jobs-source S] [--set K=V]   its configuration lines
#   protected_initramfs_build [options]   initramfs_build + the key files
#   verity_config N ROLE [HASH], verity_value N KEY, luks_value N KEY
#   file_offset N PATH, slot_extract N FILE [LEN], luks_header_hash N
#   luks_edit N EDIT...   (a LUKS2 header edited as a host could: qemu-tests/luks-edit.py)
#   part_snapshot N + expect_part_unchanged N   (nothing written by a boot)
#   rx_quote TEXT  (a literal for vm.py --expect)
#   expect_line "exact line"   expect_no_line "exact line"
#   expect_regex 'ERE'         expect_no_regex 'ERE'
#   expect_count N "exact line"
#   expect_poweroff            expect_launched   expect_not_launched
#   expect_fatal "stage" "reason"   (exactly one distinct FATAL stage line, and it is this one)
#   expect_mount DIR TYPE OPTS      (the stand-in's mount line for DIR has TYPE and every option in OPTS)
#   expect_vm_exit N           (vm.py's exit status: 0 exited, 3 expect unmatched, 124 timeout)
#   expect_how HOW             (power-off, reboot, panic, exit, timeout: how the guest ended)
#   expect_fatal_regex "stage" 'reason ERE'
#   expect_text_count N "text" (occurrences anywhere, e.g. a prompt without newline)
#   expect_secret_absent TEXT [WHAT]   (not in the raw nor the normalised console)
#   expect_boot_within SECONDS (QEMU start to exit, as vm.py measured it)
#   fail "message"             (a scenario's own check failed)
#   kbs_setup / kbs_resource PATH VALUE / kbs_start [kbs_server.py options] / kbs_stop
#   kbs_config [--jobs]  kbs_boot [vm.py options]  expect_kbs_event N EVENT [KEY=VALUE ...]
#                              (the test KBS of qemu-tests/kbs/: see the section below)
#
# Lines are compared after normalisation: trailing \r, terminal escape
# sequences and a leading kernel-style timestamp "[    1.234567] " removed
# (the normalised console is $WORK/console.txt). A failed assertion prints
# "# " diagnostics quoting the relevant console lines and marks the scenario
# failed; the remaining assertions still run, and the scenario exits 1 at the end.

set -euo pipefail

: "${REPO:?run scenarios through qemu-tests/run.sh}"
: "${WORK:?run scenarios through qemu-tests/run.sh}"
NAME=${NAME:-$(basename "$WORK")}
INIT_TEST=${INIT_TEST:-$REPO/build/init-test}
INIT_RELEASE=${INIT_RELEASE:-$REPO/build/init}
CVMINIT=${CVMINIT:-$REPO/build/cvminit}
STANDIN=${STANDIN:-$REPO/build/standin}
VM_TIMEOUT=${VM_TIMEOUT:-90}
if [ -z "${KERNEL_IMAGE:-}" ] || [ -z "${KERNEL_MODDIR:-}" ]; then
	_kdir=$("$REPO/qemu-tests/kernel.sh" dir)
	KERNEL_VER=${KERNEL_VER:-$("$REPO/qemu-tests/kernel.sh" kver)}
	KERNEL_IMAGE=${KERNEL_IMAGE:-$_kdir/vmlinuz}
	KERNEL_MODDIR=${KERNEL_MODDIR:-$_kdir/lib/modules/$KERNEL_VER}
fi
DISK=${DISK:-$WORK/disk.img}
INITRD=${INITRD:-$WORK/initramfs.img}
CONSOLE_LOG=$WORK/console.log
CONSOLE_TXT=$WORK/console.txt
VM_RC=""
VM_HOW=""
_FAILS=0

_lib_exit() {
	local rc=$?
	kbs_stop
	if [ "$rc" -eq 0 ] && [ "$_FAILS" -gt 0 ]; then
		echo "# $NAME: $_FAILS assertion(s) failed; console: ${CONSOLE_LOG#"$REPO"/}"
		exit 1
	fi
	exit "$rc"
}
trap _lib_exit EXIT

note() { echo "# $*"; }

# Stops the scenario now (setup could not be done): it is reported not ok.
die() { echo "# $NAME: $*"; exit 1; }

# Assertions run in a subshell without errexit/pipefail: a helper failing
# inside one can never stop the scenario; each returns 1 when it failed.
_assert() {
	local rc=0
	(set +e +o pipefail; "$@") || rc=$?
	[ "$rc" -eq 0 ] || _FAILS=$((_FAILS + 1))
	return 0
}

_fail() {
	echo "# FAIL: $1"
	shift
	local l
	for l in "$@"; do echo "#   $l"; done
	return 1
}

# ---- building -----------------------------------------------------------

disk_build() {
	[ -x "$STANDIN" ] || die "stand-in $STANDIN missing (make standin)"
	"$REPO/qemu-tests/mkdisk.sh" --quiet --out "$DISK" --standin "$STANDIN" "$@" ||
		die "mkdisk.sh failed"
}

# initramfs_build [--init BIN] [--config FILE] [--modules LIST] [other builder options]
# Defaults: --init $INIT_TEST, the modules of qemu-tests/modules, no config
# (the init's built-in defaults). Writes $INITRD.
initramfs_build() {
	local init=$INIT_TEST args=()
	local modules
	modules=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$REPO/qemu-tests/modules" | paste -sd, -)
	while [ $# -gt 0 ]; do
		case "$1" in
		--init) init=$2; shift 2 ;;
		--modules) modules=$2; shift 2 ;;
		*) args+=("$1"); shift ;;
		esac
	done
	[ -x "$init" ] || die "init $init missing (make)"
	[ -x "$CVMINIT" ] || die "host tool $CVMINIT missing (make)"
	local modargs=()
	[ -n "$modules" ] && modargs=(--kernel-modules "$KERNEL_MODDIR" --modules "$modules")
	"$CVMINIT" initramfs build --init "$init" ${modargs[@]+"${modargs[@]}"} \
		${args[@]+"${args[@]}"} --output "$INITRD" >"$WORK/initramfs.log" 2>&1 || {
		sed 's/^/#   /' "$WORK/initramfs.log"
		die "cvminit initramfs build failed"
	}
}

# part_offset N / part_size N: byte offset and size of slot N in $DISK
# (from $DISK.layout, written by mkdisk.sh).
part_offset() { awk -v n="$1" '$1 == n { print $3 }' "$DISK.layout"; }
part_size() { awk -v n="$1" '$1 == n { print $4 }' "$DISK.layout"; }

# flip_byte N OFFSET: inverts one byte of slot N at OFFSET (bytes from the
# partition's start), in place (tamper tests).
flip_byte() {
	local base
	base=$(part_offset "$1")
	[ -n "$base" ] || die "flip_byte: no slot $1 in $DISK.layout"
	python3 - "$DISK" $((base + $2)) <<'PY'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))
PY
}

# part_hash N [LEN]: SHA-256 of slot N's first LEN bytes (default: all of it),
# e.g. to show a LUKS header is unchanged by a failed unlock.
part_hash() {
	local off len
	off=$(part_offset "$1")
	len=${2:-$(part_size "$1")}
	[ -n "$off" ] || die "part_hash: no slot $1 in $DISK.layout"
	dd if="$DISK" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none |
		sha256sum | awk '{print $1}'
}

# config_file NAME <<'EOF' ... EOF : writes $WORK/NAME from stdin, prints its path.
config_file() { cat > "$WORK/$1"; echo "$WORK/$1"; }

# ---- protected disks: dm-verity and LUKS2 (issue 3) -----------------------
# The test secrets are fixed (tests only; never reuse them): the passphrases
# are typed at the console prompt by vm.py --send, the key files go into the
# initramfs (test builds only have the keyfile key source).
JOBS_PASSPHRASE=${JOBS_PASSPHRASE:-"jobs-demo-passphrase-4711"}
ROOT_PASSPHRASE=${ROOT_PASSPHRASE:-"root-demo-passphrase-0815"}
KEYS_DIR=/etc/cvminit/keys               # where the key files sit in the initramfs
ROOT_KEY=$WORK/root.key                  # host copies, made by protected_disk
JOBS_KEY=$WORK/jobs.key
_PROT_FILES=()                           # --file SRC:DEST for the initramfs
_PROT_JOBS=luks

# meta_value FILE KEY: KEY's value in a KEY=value file (quotes removed).
meta_value() {
	[ -f "$1" ] || die "no file $1 (built with the matching mkdisk.sh option?)"
	sed -n "s/^$2=//p" "$1" | tail -n 1 | sed 's/^"\(.*\)"$/\1/'
}
# verity_value N KEY / luks_value N KEY: from $DISK.verity-N / $DISK.luks-N
# (ROOTHASH HASH HASH_OFFSET SALT DATA_BLOCKS HASH_BLOCKS UUID /
#  UUID DATA_OFFSET KEYSLOTS CIPHER EXT4_SIZE).
verity_value() { meta_value "$DISK.verity-$1" "$2"; }
luks_value() { meta_value "$DISK.luks-$1" "$2"; }

# verity_config N ROLE [ROOTHASH]: the configuration lines for slot N's
# dm-verity volume, ROLE BOOT, CONFIG or DATA; ROOTHASH replaces the real one
# (wrong-hash tests). A tree on its own partition also pins the data size
# (ROLE_VERITY_DATA_SIZE, from the DATA_BLOCKS mkdisk.sh formatted).
verity_config() {
	local n=$1 role=$2 hash=${3:-}
	[ -n "$hash" ] || hash=$(verity_value "$n" ROOTHASH)
	echo "${role}_VERITY_ROOTHASH=$hash"
	echo "${role}_VERITY_HASH=$(verity_value "$n" HASH)"
	echo "${role}_VERITY_HASH_OFFSET=$(verity_value "$n" HASH_OFFSET)"
	echo "${role}_VERITY_SALT=$(verity_value "$n" SALT)"
	[ "$(verity_value "$n" HASH)" = appended ] ||
		echo "${role}_VERITY_DATA_SIZE=$(( $(verity_value "$n" DATA_BLOCKS) * 4096 ))"
}

# _test_key NAME FILE: a fixed 64-byte key file (SHA-512 of a name).
_test_key() {
	python3 -c 'import hashlib, sys; sys.stdout.buffer.write(hashlib.sha512(sys.argv[1].encode()).digest())' \
		"cvminit-test-key-$1" > "$2"
}

# protected_disk [--jobs-plain] [--jobs-keyfile] [--root-passphrase] [mkdisk.sh options]
# The demo disk with DESIGN.md's protections, built with Debian's tools:
#   p2 dm-verity (tree appended), p3 LUKS2 with the key file $ROOT_KEY
#   (PBKDF2), p4 dm-verity, p5 LUKS2 with the passphrase $JOBS_PASSPHRASE
#   (Argon2id), p6 plain ext4 (mounted read-only).
#   --jobs-plain       p5 plain ext4 (JOB_STORE_ENCRYPTION=none)
#   --jobs-keyfile     p5 also gets a key-file keyslot ($JOBS_KEY, slot 0)
#   --root-passphrase  p3 also gets a passphrase keyslot ($ROOT_PASSPHRASE, slot 1)
# Writes $DISK, $DISK.layout, $DISK.verity-{2,4}, $DISK.luks-{3,5}.
protected_disk() {
	local args=(--verity 2 --verity 4) jobs=luks jobs_key=0 root_pass=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--jobs-plain) jobs=none; shift ;;
		--jobs-keyfile) jobs_key=1; shift ;;
		--root-passphrase) root_pass=1; shift ;;
		*) break ;;
		esac
	done
	_test_key root "$ROOT_KEY"
	args+=(--luks-keyfile "3=$ROOT_KEY")
	_PROT_FILES=(--file "$ROOT_KEY:$KEYS_DIR/root.key:0400")
	if [ "$root_pass" = 1 ]; then
		printf '%s\n' "$ROOT_PASSPHRASE" > "$WORK/root.pass"
		args+=(--luks "3=$WORK/root.pass")
	fi
	_PROT_JOBS=$jobs
	if [ "$jobs" = luks ]; then
		printf '%s\n' "$JOBS_PASSPHRASE" > "$WORK/jobs.pass"
		args+=(--luks "5=$WORK/jobs.pass")
		if [ "$jobs_key" = 1 ]; then
			_test_key jobs "$JOBS_KEY"
			args+=(--luks-keyfile "5=$JOBS_KEY")
			_PROT_FILES+=(--file "$JOBS_KEY:$KEYS_DIR/jobs.key:0400")
		fi
	fi
	local t0=$EPOCHREALTIME
	disk_build "${args[@]}" "$@"
	note "protected disk built in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
}

# protected_config [--root-source keyfile|prompt] [--jobs-source prompt|keyfile] [--set KEY=VALUE ...]
# The configuration lines for the disk protected_disk built (defaults: p3 by
# key file, p5 by the console prompt; p5 plain if built with --jobs-plain).
# --set replaces KEY's line (or adds one): the init rejects a key set twice.
protected_config() {
	local root_src=keyfile jobs_src=prompt sets=() kv
	while [ $# -gt 0 ]; do
		case "$1" in
		--root-source) root_src=$2; shift 2 ;;
		--jobs-source) jobs_src=$2; shift 2 ;;
		--set) [[ "$2" == [A-Z]*=* ]] || die "protected_config: --set KEY=VALUE, got '$2'"
			sets+=("$2"); shift 2 ;;
		*) die "protected_config: unknown option $1" ;;
		esac
	done
	{
		verity_config 2 BOOT
		verity_config 4 CONFIG
		# p6 too when protected_disk was given --verity 6 or --verity-hash 6=M
		[ ! -f "$DISK.verity-6" ] || verity_config 6 DATA
		echo "VERITY_ON_CORRUPTION=panic"
		echo "VERITY_PREVERIFY=config"
		echo "ROOT_ENCRYPTION=luks"
		echo "ROOT_KEY_SOURCE=$root_src"
		[ "$root_src" = keyfile ] && echo "ROOT_KEYFILE=$KEYS_DIR/root.key"
		if [ "$_PROT_JOBS" = luks ]; then
			echo "JOB_STORE_ENCRYPTION=luks"
			echo "JOBS_KEY_SOURCE=$jobs_src"
			[ "$jobs_src" = keyfile ] && echo "JOBS_KEYFILE=$KEYS_DIR/jobs.key"
		else
			echo "JOB_STORE_ENCRYPTION=none"
		fi
		echo "PROMPT_TRIES=3"
	} > "$WORK/.protected.conf"
	for kv in ${sets[@]+"${sets[@]}"}; do
		if grep -q "^${kv%%=*}=" "$WORK/.protected.conf"; then
			KV=$kv awk -F= -v k="${kv%%=*}" '$1 == k { print ENVIRON["KV"]; next } { print }' \
				"$WORK/.protected.conf" > "$WORK/.protected.conf.new"
			mv "$WORK/.protected.conf.new" "$WORK/.protected.conf"
		else
			echo "$kv" >> "$WORK/.protected.conf"
		fi
	done
	cat "$WORK/.protected.conf"
	rm -f "$WORK/.protected.conf"
}

# protected_initramfs_build [initramfs_build options]: initramfs_build plus
# the key files protected_disk made (--file SRC:/etc/cvminit/keys/NAME:0400).
protected_initramfs_build() {
	initramfs_build ${_PROT_FILES[@]+"${_PROT_FILES[@]}"} "$@"
}

# file_offset N PATH: byte offset, from slot N's start, of the first data
# block of PATH in slot N's ext4 (a plain or dm-verity slot), e.g. to change
# one byte of a file's content.
file_offset() {
	local off size img blk
	off=$(part_offset "$1"); size=$(part_size "$1")
	[ -n "$off" ] || die "file_offset: no slot $1 in $DISK.layout"
	img=$WORK/.slot$1.img
	dd if="$DISK" of="$img" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$size" status=none
	blk=$(debugfs -R "bmap $2 0" "$img" 2>/dev/null | tail -n 1)
	rm -f "$img"
	[[ "$blk" =~ ^[0-9]+$ ]] && [ "$blk" -gt 0 ] || die "file_offset: no data block for $2 in slot $1"
	echo $((blk * 4096))
}

# slot_extract N FILE [LEN]: copies slot N (or its first LEN bytes) to FILE
# (host-side checks with veritysetup/cryptsetup).
slot_extract() {
	local off len
	off=$(part_offset "$1")
	[ -n "$off" ] || die "slot_extract: no slot $1 in $DISK.layout"
	len=${3:-$(part_size "$1")}
	dd if="$DISK" of="$2" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none
}

# volume_key_pin N KEYFILE | volume_key_pin N --passphrase FILE: the line
# "ROOT_VOLUME_KEY_PIN=<hex>" (slot 3) or "JOBS_..." (slot 5) for slot N of
# $DISK, computed as an image builder does (`cvminit measure volume-key-pin`).
volume_key_pin() {
	local n=$1 kind=--key-file key=$2 name=cvm-root
	[ "$n" = 5 ] && name=cvm-jobs
	if [ "$2" = --passphrase ]; then kind=--passphrase-file; key=$3; fi
	slot_extract "$n" "$WORK/.pin$n.img"
	"$CVMINIT" measure volume-key-pin --luks "$WORK/.pin$n.img" "$kind" "$key" --name "$name" ||
		die "cvminit measure volume-key-pin failed for slot $n"
	rm -f "$WORK/.pin$n.img"
}

# luks_header_hash N: SHA-256 of slot N's LUKS2 header area (both binary
# headers, JSON areas and keyslots: everything before the data segment).
luks_header_hash() { part_hash "$1" "$(luks_value "$1" DATA_OFFSET)"; }

# luks_edit N EDIT...: edits slot N's LUKS2 header JSON in place as a host
# could (qemu-tests/luks-edit.py: both checksums recomputed, keyslots,
# digest and UUID kept), e.g. luks_edit 3 'set segments.0.iv_tweak="1"'.
luks_edit() {
	local n=$1 off
	shift
	off=$(part_offset "$n")
	[ -n "$off" ] || die "luks_edit: no slot $n in $DISK.layout"
	python3 "$REPO/qemu-tests/luks-edit.py" "$DISK" --offset "$off" "$@" >/dev/null || die "luks-edit.py failed"
}

# part_snapshot N / expect_part_unchanged N: remember slot N's bytes (SHA-256
# of the whole partition, and of its LUKS2 header area if it has one) before
# a boot; afterwards assert they are identical (a failed unlock, a refused
# boot changes nothing on the disk).
part_snapshot() {
	{
		echo "ALL=$(part_hash "$1")"
		[ -f "$DISK.luks-$1" ] && echo "HEADER=$(luks_header_hash "$1")"
	} > "$WORK/snapshot-$1"
	return 0
}
expect_part_unchanged() { _assert _expect_part_unchanged "$@"; }
_expect_part_unchanged() {
	local n=$1 before now hb hn
	[ -f "$WORK/snapshot-$n" ] || { _fail "no snapshot of slot $n (part_snapshot $n before the boot)"; return 1; }
	before=$(meta_value "$WORK/snapshot-$n" ALL)
	now=$(part_hash "$n")
	[ "$before" = "$now" ] && return 0
	hb=$(meta_value "$WORK/snapshot-$n" HEADER)
	if [ -n "$hb" ]; then
		hn=$(luks_header_hash "$n")
		[ "$hb" = "$hn" ] || { _fail "slot $n's LUKS2 header area changed during the boot" \
			"before $hb" "after  $hn"; return 1; }
	fi
	_fail "slot $n's bytes changed during the boot${hb:+ (its LUKS2 header area did not)}" \
		"before $before" "after  $now"
}

# rx_quote TEXT: TEXT as a Python regular expression matching it literally
# (for vm.py --expect).
rx_quote() { printf '%s' "$1" | sed -e 's/[][\\.^$*+?(){}|]/\\&/g'; }

# mock_measurement CONFIG CMDLINE: the mock TEE's MEASUREMENT (96 hex digits)
# for the test build booted with that embedded configuration and kernel
# command line, as `cvminit measure --test-build` predicts it. CMDLINE is what
# /proc/cmdline shows: vm.py's "console=ttyS0 panic=-1" plus every --append.
mock_measurement() {
	[ -f "$INITRD" ] || die "mock_measurement: no initramfs $INITRD (initramfs_build)"
	"$CVMINIT" measure --initramfs "$INITRD" --config "$1" --cmdline "$2" --test-build --no-tpm \
		--output "$WORK/.mock-measure.json" || die "cvminit measure failed"
	sed -n 's/^  "mock_tee_measurement": "\([0-9a-f]\{96\}\)",$/\1/p' "$WORK/.mock-measure.json"
}

# mock_tdx_values CONFIG CMDLINE: "MRTD RTMR1 RTMR2" (96 hex digits each) of
# the mock TEE as a TDX guest (MOCK_TEE_KIND=tdx), as `cvminit measure
# --test-build` predicts them (tee/mock_measure.h: MRTD is the mock's
# MEASUREMENT, RTMR1 an extend of a label, RTMR2 of the command line).
mock_tdx_values() {
	local m r1 r2
	m=$(mock_measurement "$1" "$2")
	r1=$(sed -n 's/^  "mock_tdx_rtmr1": "\([0-9a-f]\{96\}\)",$/\1/p' "$WORK/.mock-measure.json")
	r2=$(sed -n 's/^  "mock_tdx_rtmr2": "\([0-9a-f]\{96\}\)",$/\1/p' "$WORK/.mock-measure.json")
	[ -n "$m" ] && [ -n "$r1" ] && [ -n "$r2" ] || die "mock_tdx_values: no prediction in measurements"
	echo "$m $r1 $r2"
}

# ---- booting ------------------------------------------------------------

# boot [vm.py options]: boots $INITRD with $DISK (unless --no-disk is the first
# option) and records the console. Never fails by itself: assert afterwards
# (expect_poweroff, expect_vm_exit ...). Sets VM_RC (vm.py's exit status),
# VM_HOW (power-off, reboot, panic, exit, timeout, ...) and VM_SECONDS.
boot() {
	local disk=(--disk "$DISK")
	if [ "${1:-}" = --no-disk ]; then disk=(); shift; fi
	[ -f "$INITRD" ] || die "no initramfs $INITRD (initramfs_build)"
	set +e
	python3 "$REPO/qemu-tests/vm.py" --kernel "$KERNEL_IMAGE" --initrd "$INITRD" \
		${disk[@]+"${disk[@]}"} --log "$CONSOLE_LOG" --timeout "$VM_TIMEOUT" \
		--result "$WORK/vm.json" "$@" 2>"$WORK/vm.stderr"
	VM_RC=$?
	set -e
	VM_HOW=$(sed -n 's/.*"how": "\([^"]*\)".*/\1/p' "$WORK/vm.json" 2>/dev/null || true)
	VM_SECONDS=$(sed -n 's/.*"seconds": \([0-9.]*\).*/\1/p' "$WORK/vm.json" 2>/dev/null || true)
	note "boot: ${VM_HOW:-?} after ${VM_SECONDS:-?} s (vm.py exit $VM_RC)"
	[ "$VM_RC" -le 3 ] || [ "$VM_RC" -eq 124 ] || sed 's/^/#   /' "$WORK/vm.stderr"
	normalize_console
}

# Writes $CONSOLE_TXT from $CONSOLE_LOG.
normalize_console() {
	[ -f "$CONSOLE_LOG" ] || : > "$CONSOLE_LOG"
	sed -E -e 's/\r+$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c78]//g' \
		-e 's/^\[ *[0-9]+\.[0-9]+\] //' "$CONSOLE_LOG" > "$CONSOLE_TXT"
}

_console() { [ -f "$CONSOLE_TXT" ] || normalize_console; }

# Quotes console lines for a diagnostic: those sharing the longest prefix of
# $1 (cut at a space, ':' or '=', at least 6 characters) with some line, else
# the last 15 lines.
_quote_near() {
	local want=$1 i c lines=""
	for ((i = ${#want}; i >= 6; i--)); do
		c=${want:i-1:1}
		[[ "$c" == " " || "$c" == ":" || "$c" == "=" ]] || continue
		lines=$(grep -nF -- "${want:0:i}" "$CONSOLE_TXT" | head -n 25)
		[ -n "$lines" ] && break
	done
	if [ -z "$lines" ]; then
		echo "#   (no console line starts like that; last lines:)"
		lines=$(grep -n '' "$CONSOLE_TXT" | tail -n 15)
		[ -n "$lines" ] || lines="(console empty)"
	fi
	printf '%s\n' "$lines" | sed 's/^/#   | /'
	return 1
}

# ---- assertions ---------------------------------------------------------

expect_line() { _assert _expect_line "$@"; }
_expect_line() {
	_console
	grep -qxF -- "$1" "$CONSOLE_TXT" && return 0
	_fail "expected console line: $1"
	_quote_near "$1"
}

expect_no_line() { _assert _expect_no_line "$@"; }
_expect_no_line() {
	_console
	local hits
	hits=$(grep -nxF -- "$1" "$CONSOLE_TXT" | head -n 5 || true)
	[ -z "$hits" ] && return 0
	_fail "unexpected console line: $1"
	printf '%s\n' "$hits" | sed 's/^/#   | /'
	return 1
}

expect_regex() { _assert _expect_regex "$@"; }
_expect_regex() {
	_console
	grep -qE -- "$1" "$CONSOLE_TXT" && return 0
	_fail "expected a console line matching /$1/"
	_quote_near "$(printf '%s' "$1" | sed -E 's/^\^//; s/[][\\.*+?(){}|$^].*//')"
}

expect_no_regex() { _assert _expect_no_regex "$@"; }
_expect_no_regex() {
	_console
	local hits
	hits=$(grep -nE -- "$1" "$CONSOLE_TXT" | head -n 5 || true)
	[ -z "$hits" ] && return 0
	_fail "unexpected console line matching /$1/"
	printf '%s\n' "$hits" | sed 's/^/#   | /'
	return 1
}

expect_count() { _assert _expect_count "$@"; }
_expect_count() {
	_console
	local n
	n=$(grep -cxF -- "$2" "$CONSOLE_TXT" || true)
	[ "$n" -eq "$1" ] && return 0
	_fail "expected $1 time(s), found $n: $2"
	_quote_near "$2"
}

expect_poweroff() { _assert _expect_poweroff "$@"; }
_expect_poweroff() {
	_console
	grep -qxF 'reboot: Power down' "$CONSOLE_TXT" && return 0
	_fail "the guest did not power off (vm.py: ${VM_HOW:-?}, exit ${VM_RC:-?})"
	grep -n '' "$CONSOLE_TXT" | tail -n 12 | sed 's/^/#   | /'
	return 1
}

expect_launched() {
	expect_line "STANDIN: NVFlare stand-in launched"
}

expect_not_launched() { _assert _expect_not_launched "$@"; }
_expect_not_launched() {
	_console
	local hits
	hits=$(grep -nF 'STANDIN:' "$CONSOLE_TXT" | head -n 5 || true)
	[ -z "$hits" ] && return 0
	_fail "the launcher ran, it should not have"
	printf '%s\n' "$hits" | sed 's/^/#   | /'
	return 1
}

# expect_fatal STAGE REASON: the console has the line "cvminit: FATAL: STAGE: REASON"
# and no other, different "cvminit: FATAL: <stage>: <reason>" line (a
# follow-up such as "cvminit: FATAL: powering off" has no stage and is not
# counted).
expect_fatal() { _assert _expect_fatal "$@"; }
_expect_fatal() {
	_console
	local want="cvminit: FATAL: $1: $2" all distinct
	all=$(grep -nE '^cvminit: FATAL: [a-z0-9_]+: ' "$CONSOLE_TXT" || true)
	distinct=$(printf '%s\n' "$all" | sed '/^$/d; s/^[0-9]*://' | sort -u | grep -c . || true)
	if grep -qxF -- "$want" "$CONSOLE_TXT" && [ "$distinct" -eq 1 ]; then
		return 0
	fi
	if [ -z "$all" ]; then
		_fail "no FATAL line; expected: $want"
		grep -n '^cvminit: ' "$CONSOLE_TXT" | tail -n 12 | sed 's/^/#   | /'
		[ -s "$CONSOLE_TXT" ] || echo "#   (console empty)"
	else
		_fail "expected exactly one FATAL line: $want"
		printf '%s\n' "$all" | head -n 10 | sed 's/^/#   | /'
	fi
	return 1
}

# expect_mount DIR TYPE OPTS: the stand-in reported a mount of TYPE at DIR
# whose options include each comma-separated option of OPTS (order free).
expect_mount() { _assert _expect_mount "$@"; }
_expect_mount() {
	_console
	local dir=$1 type=$2 opts=$3 line o missing=""
	line=$(awk -v d="$dir" '$1 == "STANDIN:" && $2 == "mount" && $4 == d' "$CONSOLE_TXT" | tail -n 1)
	if [ -z "$line" ]; then
		_fail "no mount at $dir reported by the stand-in"
		grep -n '^STANDIN: mount ' "$CONSOLE_TXT" | sed 's/^/#   | /'
		return 1
	fi
	local have_type have_opts
	have_type=$(printf '%s' "$line" | awk '{print $5}')
	have_opts=,$(printf '%s' "$line" | awk '{print $6}'),
	[ "$have_type" = "$type" ] || missing="type $type (is $have_type)"
	IFS=, read -r -a _o <<<"$opts"
	for o in "${_o[@]}"; do
		[[ "$have_opts" == *",$o,"* ]] || missing+="${missing:+, }$o"
	done
	[ -z "$missing" ] && return 0
	_fail "mount at $dir lacks: $missing"
	echo "#   | $line"
	return 1
}

expect_vm_exit() { _assert _expect_vm_exit "$@"; }
_expect_vm_exit() {
	[ "${VM_RC:-x}" = "$1" ] && return 0
	_fail "vm.py exit status ${VM_RC:-none}, expected $1 (${VM_HOW:-?})"
	sed 's/^/#   /' "$WORK/vm.stderr" 2>/dev/null | tail -n 5
	return 1
}

expect_boot_within() { _assert _expect_boot_within "$@"; }
_expect_boot_within() {
	awk -v s="${VM_SECONDS:-}" -v m="$1" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }' && return 0
	_fail "the boot took ${VM_SECONDS:-?} s, more than $1 s"
}

# expect_text_count N "text": the console holds "text" exactly N times,
# anywhere in its lines (a prompt has no newline of its own).
expect_text_count() { _assert _expect_text_count "$@"; }
_expect_text_count() {
	_console
	local n
	n=$(grep -oF -- "$2" "$CONSOLE_TXT" | wc -l)
	[ "$n" -eq "$1" ] && return 0
	_fail "expected \"$2\" $1 time(s) on the console, found $n"
	_quote_near "$2"
}

# expect_secret_absent TEXT [WHAT]: TEXT (a passphrase, a key) appears
# nowhere in the raw console log nor in the normalised one. The diagnostic
# never quotes TEXT, only where it was found.
expect_secret_absent() { _assert _expect_secret_absent "$@"; }
_expect_secret_absent() {
	_console
	local what=${2:-the secret} where=""
	grep -qaF -- "$1" "$CONSOLE_LOG" && where="console.log line(s) $(grep -naF -- "$1" "$CONSOLE_LOG" | cut -d: -f1 | paste -sd, -)"
	grep -qaF -- "$1" "$CONSOLE_TXT" && where+="${where:+; }console.txt line(s) $(grep -naF -- "$1" "$CONSOLE_TXT" | cut -d: -f1 | paste -sd, -)"
	[ -z "$where" ] && return 0
	_fail "$what appears on the console: $where"
}

# expect_fatal_regex STAGE REASON_ERE: like expect_fatal, for a reason whose
# detail varies (REASON_ERE is matched against the whole reason).
expect_fatal_regex() { _assert _expect_fatal_regex "$@"; }
_expect_fatal_regex() {
	_console
	local all distinct
	all=$(grep -nE '^cvminit: FATAL: [a-z0-9_]+: ' "$CONSOLE_TXT" || true)
	distinct=$(printf '%s\n' "$all" | sed '/^$/d; s/^[0-9]*://' | sort -u | grep -c . || true)
	if grep -qE -- "^cvminit: FATAL: $1: ($2)\$" "$CONSOLE_TXT" && [ "$distinct" -eq 1 ]; then
		return 0
	fi
	_fail "expected exactly one FATAL line matching /^cvminit: FATAL: $1: ($2)\$/"
	if [ -z "$all" ]; then
		grep -n '^cvminit: ' "$CONSOLE_TXT" | tail -n 12 | sed 's/^/#   | /'
	else
		printf '%s\n' "$all" | head -n 10 | sed 's/^/#   | /'
	fi
	return 1
}

# expect_how HOW: how the guest ended, as vm.py classified it (power-off,
# reboot, panic, exit, timeout).
expect_how() { _assert _expect_how "$@"; }
_expect_how() {
	[ "${VM_HOW:-}" = "$1" ] && return 0
	_fail "the guest ended by ${VM_HOW:-?} (vm.py exit ${VM_RC:-?}), expected $1"
	grep -n '' "$CONSOLE_TXT" 2>/dev/null | tail -n 8 | sed 's/^/#   | /'
	return 1
}

fail() { _assert _fail "$@"; }

# ---- the test KBS (qemu-tests/kbs/README.md) -------------------------------
# A scenario using the kbs key source runs the test KBS on 127.0.0.1 (port
# chosen, never fixed) and boots with a NIC whose only way out is the KBS
# (vm.py --kbs-port: restrict=on, guestfwd $KBS_GUEST_ADDR:$KBS_GUEST_PORT).
#   kbs_setup            $KBS_DIR ($WORK/kbs): tls/ (kbs_mkcerts.py: ca.pem,
#                        server.pem, other-server.pem, wrong-name.pem ...), res/,
#                        chain/ (mock-tee-chain.sh) and tdx/ (mock-tdx-chain.sh)
#   kbs_resource PATH VALUE   VALUE (exact bytes, no newline) at res/PATH
#   kbs_resource_file PATH FILE   FILE's bytes at res/PATH
#   kbs_start [options]  kbs_server.py with the test chains, $KBS_DIR/res and the
#                        log $KBS_LOG; KBS_CERT=wrong-name etc. picks another
#                        certificate; sets KBS_PORT; stopped when the scenario ends
#   kbs_stop             stops it (only the process kbs_start started)
#   kbs_config [--jobs-only|--root-only]   the guest's KBS_*/NET_* lines
#   kbs_initramfs_build [--tdx] [options]   protected_initramfs_build + the
#                        pinned CA and the mock's key, virtio_net among the modules
#   kbs_boot [vm.py options]   boot with the KBS forward
#   expect_kbs_event N EVENT [KEY=VALUE ...]   the KBS log has N such lines
KBS_PY=${KBS_PYTHON:-/usr/bin/python3}
KBS_DIR=$WORK/kbs
KBS_LOG=$KBS_DIR/kbs.log
KBS_PID=""
KBS_PORT=""
KBS_NAME=kbs.test
KBS_GUEST_ADDR=10.0.2.100
KBS_GUEST_PORT=8443
KBS_CA_PATH=/etc/cvminit/kbs-ca.pem
KBS_MODULES=virtio_net

kbs_setup() {
	mkdir -p "$KBS_DIR/res"
	"$KBS_PY" "$REPO/qemu-tests/kbs/kbs_mkcerts.py" "$KBS_DIR/tls" --name "$KBS_NAME" --ip "$KBS_GUEST_ADDR" ||
		die "kbs_mkcerts.py failed"
	# the VCEK carries TCB extensions equal to the default MOCK_TEE_TCB
	# (7308000000000003: bootloader 3, tee 0, snp 8, microcode 115)
	"$REPO/qemu-tests/mock-tee-chain.sh" "$KBS_DIR/chain" --vcek-tcb 3,0,8,115 || die "mock-tee-chain.sh failed"
	"$REPO/qemu-tests/mock-tdx-chain.sh" "$KBS_DIR/tdx" || die "mock-tdx-chain.sh failed"
}

kbs_resource() {
	mkdir -p "$(dirname "$KBS_DIR/res/$1")"
	printf '%s' "$2" > "$KBS_DIR/res/$1"
}

# kbs_resource_file PATH FILE: FILE's bytes (binary is fine: a key file) at res/PATH
kbs_resource_file() {
	mkdir -p "$(dirname "$KBS_DIR/res/$1")"
	cp "$2" "$KBS_DIR/res/$1"
}

kbs_start() {
	kbs_stop
	local cert=${KBS_CERT:-server} pf=$KBS_DIR/port
	rm -f "$pf"
	"$KBS_PY" "$REPO/qemu-tests/kbs/kbs_server.py" --cert "$KBS_DIR/tls/$cert.pem" --key "$KBS_DIR/tls/$cert.key" \
		--resources "$KBS_DIR/res" --snp-ark "$KBS_DIR/chain/ark.pem" --snp-ask "$KBS_DIR/chain/ask.pem" \
		--snp-vcek "$KBS_DIR/chain/vcek.pem" --tdx-root "$KBS_DIR/tdx/root.pem" --snp-min-version 3 --snp-require-vcek-tcb \
		--log "$KBS_LOG" \
		--port-file "$pf" "$@" >"$KBS_DIR/server.out" 2>&1 &
	KBS_PID=$!
	local i
	for i in $(seq 100); do
		[ -s "$pf" ] && break
		kill -0 "$KBS_PID" 2>/dev/null || { sed 's/^/#   /' "$KBS_DIR/server.out"; KBS_PID=""; die "the test KBS did not start"; }
		sleep 0.1
	done
	[ -s "$pf" ] || die "the test KBS did not listen within 10 s"
	KBS_PORT=$(cat "$pf")
	note "test KBS on 127.0.0.1:$KBS_PORT (pid $KBS_PID${cert:+, certificate $cert})"
}

kbs_stop() {
	[ -n "${KBS_PID:-}" ] || return 0
	kill "$KBS_PID" 2>/dev/null || true
	wait "$KBS_PID" 2>/dev/null || true
	KBS_PID=""
}

kbs_config() {
	local which=${1:-both}
	echo "KBS_URL=https://$KBS_NAME:$KBS_GUEST_PORT"
	echo "KBS_ADDRESS=$KBS_GUEST_ADDR"
	echo "KBS_CA=$KBS_CA_PATH"
	[ "$which" = --jobs-only ] || echo "KBS_RESOURCE_ROOT=cvminit/luks/root"
	[ "$which" = --root-only ] || echo "KBS_RESOURCE_JOBS=cvminit/luks/jobs"
	echo "NET_INTERFACE=eth0"
	echo "NET_ADDRESS=10.0.2.15/24"
	echo "NET_GATEWAY=10.0.2.2"
}

# kbs_initramfs_build [--tdx] [options]: --tdx puts the mock's TDX attestation
# key and quote tail (MOCK_TEE_KIND=tdx) in place of its SNP VCEK key.
kbs_initramfs_build() {
	local modules mock=(--file "$KBS_DIR/chain/vcek.key:/etc/cvminit/mock/vcek.pem")
	if [ "${1:-}" = --tdx ]; then
		mock=(--file "$KBS_DIR/tdx/ak.key:/etc/cvminit/mock/vcek.pem"
			--file "$KBS_DIR/tdx/tdx-sigtail.bin:/etc/cvminit/mock/tdx-sigtail.bin")
		shift
	fi
	modules=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$REPO/qemu-tests/modules" | paste -sd, -)
	protected_initramfs_build --modules "$modules,$KBS_MODULES" --file "$KBS_DIR/tls/ca.pem:$KBS_CA_PATH" \
		"${mock[@]}" "$@"
}

kbs_boot() {
	[ -n "$KBS_PORT" ] || die "kbs_boot: no test KBS (kbs_start)"
	boot --kbs-port "$KBS_PORT" --kbs-guest "$KBS_GUEST_ADDR:$KBS_GUEST_PORT" "$@"
}

# kbs_events EVENT [KEY=VALUE ...]: how many lines of $KBS_LOG have this event
# and these values (compared as the JSON value's text: status=401, error=PolicyDeny).
kbs_events() {
	[ -f "$KBS_LOG" ] || { echo 0; return; }
	"$KBS_PY" - "$KBS_LOG" "$@" <<'PY'
import json, sys
log, event, want = sys.argv[1], sys.argv[2], [a.split('=', 1) for a in sys.argv[3:]]
n = 0
for line in open(log):
    e = json.loads(line)
    if e.get('event') == event and all(str(e.get(k)) == v for k, v in want):
        n += 1
print(n)
PY
}

expect_kbs_event() { _assert _expect_kbs_event "$@"; }
_expect_kbs_event() {
	local want=$1 got; shift
	got=$(kbs_events "$@")
	[ "$got" = "$want" ] && return 0
	echo "# FAIL: the test KBS log has $got line(s) with $*, want $want:"
	sed 's/^/#   /' "$KBS_LOG" 2>/dev/null | tail -n 12
	return 1
}
