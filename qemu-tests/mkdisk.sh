#!/bin/bash
# Builds the six-partition GPT test disk of DESIGN.md as a raw image, with no
# loop devices, device-mapper or root privileges: a thin front end of
# `cvminit image build` (image/README.md). It stages each partition's tree,
# turns the options below into a layout (POLICY=test, every identifier fixed)
# and lets the tool make the partitions and the GPT; Debian's veritysetup and
# cryptsetup stay as independent checkers (--verify).
#
#   qemu-tests/mkdisk.sh --out DISK.img --standin build/standin [options]
#
# Slots (N = 1..6), default PARTLABEL and content (7 and 8 exist only as
# separate verity hash partitions, or with --image):
#   1 cvm-esp     vfat, empty (ESP; never mounted)
#   2 cvm-boot    ext4, /BOOT-MARKER
#   3 cvm-root    ext4, /ROOT-MARKER, the launcher (default /sbin/init = --standin)
#                 and the mount points /boot /opt/nvflare/{config,jobs,data} /tmp
#                 /dev /proc /sys /run
#   4 cvm-config  ext4, /CONFIG-MARKER (no lost+found: NVFlare's kit --verify rejects it)
#   5 cvm-jobs    ext4, /JOBS-MARKER
#   6 cvm-data    ext4, /DATA-MARKER
# A marker file holds one line "<label> marker".
#
# Options (repeatable where they take N=...):
#   --out FILE            the raw disk image (required)
#   --standin FILE        the launcher stand-in binary (required unless --no-launcher)
#   --launcher PATH       where the stand-in goes in the root (default /sbin/init)
#   --no-launcher         leave the launcher out of the root
#   --omit N              no partition N (the GPT entry N stays empty)
#   --name N=LABEL        PARTLABEL of slot N
#   --partuuid N=UUID     PARTUUID of slot N (defaults are fixed, see below)
#   --type N=CODE         GPT type of slot N as an sgdisk code or GUID (default
#                         ef00 for slot 1, 8300 for the others)
#   --size N=MIB          filesystem size of slot N in MiB (defaults: 2 8 16 8 8 8)
#   --image N=FILE        use FILE as slot N's content as is (verity/LUKS images);
#                         the partition is FILE's size rounded up to 512 bytes
#   --add N=SRC:DEST      copy file SRC to DEST inside slot N's filesystem
#   --tree N=DIR          copy DIR's contents into slot N's filesystem root
#   --parts-dir DIR       keep the partition images there (default: a temp dir, removed)
#   --verify              check the verity and LUKS2 partitions with Debian's
#                         veritysetup verify / cryptsetup luksDump + open
#                         --test-passphrase (each key) before laying out the disk
#   --quiet               no summary line
#
# Protected slots (2..6; the content is the ext4 above, built first):
#   --verity N            dm-verity, hash tree appended inside the partition
#                         (hash area at the ext4 size; sha256, 4096/4096,
#                         superblock on); the partition is data + tree
#   --verity-hash N=M     dm-verity with the tree on its own partition, slot M
#                         (7 or 8; PARTLABEL <label of N>-verity, PARTUUID
#                         c7a11e00-0000-4000-8000-00000000000M unless --name/--partuuid M=)
#   --verity-salt N=HEX   pin the salt (default: a fixed salt per slot, the
#                         SHA-256 of "cvminit-test-verity-salt-N", so root hashes
#                         are reproducible); "random": 32 random bytes
#   --luks N=PASSFILE     LUKS2, a passphrase keyslot: the first line of PASSFILE
#                         (without its newline: what is typed at the prompt),
#                         Argon2id with TCG-sized costs (32 MiB, 4 iterations, 1 thread)
#   --luks-uuid N=UUID    the LUKS2 UUID of slot N (default: the fixed one below)
#   --luks-keyfile N=KEYFILE  LUKS2, a key-file keyslot: all bytes of KEYFILE,
#                         PBKDF2 with 1000 iterations (a high-entropy key, like a
#                         TPM-sealed one); with --luks as well it is keyslot 0 and the
#                         passphrase keyslot 1
#   LUKS2 is made offline, without device-mapper, by libcryptsetup: the ext4
#   at the 16 MiB data offset, the header in front of it, the data encrypted in
#   place (aes-xts-plain64, 512-bit key; fixed UUID
#   c7a11e00-1000-4000-8000-00000000000N unless --luks-uuid).
# Besides DISK.img it writes DISK.img.layout, one line per partition:
#   N LABEL START_BYTES SIZE_BYTES PARTUUID
# so scenarios can tamper with a byte of a partition in place, and for each
# protected slot N a file of KEY=value lines:
#   DISK.img.verity-N   ROOTHASH HASH (appended | PARTLABEL=...) HASH_OFFSET SALT
#                       DATA_BLOCKS HASH_BLOCKS HASH_SLOT (only for a separate tree) UUID
#   DISK.img.luks-N     UUID DATA_OFFSET (= header size) KEYSLOTS (e.g. "0:keyfile 1:passphrase")
#                       CIPHER EXT4_SIZE VOLUME_KEY_PIN (p3, p5)
#
# Deterministic: fixed disk GUID, PARTUUIDs, filesystem UUIDs and hash seeds,
# every file-system time from SOURCE_DATE_EPOCH (the tool pins them).
set -euo pipefail

prog=mkdisk.sh
die() { echo "$prog: $*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
t0=$EPOCHREALTIME

for t in sgdisk mkfs.ext4 mkfs.vfat debugfs sha256sum; do
	command -v "$t" >/dev/null || die "$t not found: run deps/install-tools.sh"
done

EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
DISK_GUID=c7a11e00-0000-4000-8000-000000000000
SLOTS="1 2 3 4 5 6 7 8"
LUKS_REDUCE=$((32 * 1024 * 1024))   # --reduce-device-size: twice the 16 MiB LUKS2 header
declare -A LABEL SIZE IMAGE PUUID OMIT PTYPE VERITY VSALT VHASH LUKS_PASS LUKS_KEY LUKS_UUID
LABEL=([1]=cvm-esp [2]=cvm-boot [3]=cvm-root [4]=cvm-config [5]=cvm-jobs [6]=cvm-data [7]="" [8]="")
SIZE=([1]=2 [2]=8 [3]=16 [4]=8 [5]=8 [6]=8 [7]=0 [8]=0)
for n in $SLOTS; do
	PUUID[$n]=c7a11e00-0000-4000-8000-00000000000$n
	IMAGE[$n]=""
	PTYPE[$n]=8300
	OMIT[$n]=0
	VERITY[$n]=""     # "" | appended | M (slot of the separate hash partition)
	VSALT[$n]=$(printf 'cvminit-test-verity-salt-%s' "$n" | sha256sum | cut -c1-64)
	VHASH[$n]=""      # slot M: the data slot whose tree it holds
	LUKS_PASS[$n]=""
	LUKS_KEY[$n]=""
	LUKS_UUID[$n]=""
done
PTYPE[1]=ef00
ADDS=()    # "N|SRC|DEST"
TREES=()   # "N|DIR"
out="" standin="" launcher=/sbin/init no_launcher=0 parts_dir="" quiet=0 verify=0

slot() {   # slot N=VALUE -> sets S_N and S_V
	local a=$1
	S_N=${a%%=*}; S_V=${a#*=}
	[[ "$a" == *=* ]] || die "expected N=VALUE, got '$a'"
	[[ "$S_N" =~ ^[1-8]$ ]] || die "slot must be 1..8, got '$S_N'"
}
content_slot() {   # slots whose content this script builds
	[[ "$1" =~ ^[2-6]$ ]] || die "$2: slot must be 2..6, got '$1'"
}

while [ $# -gt 0 ]; do
	opt=$1; shift
	case "$opt" in
	--quiet) quiet=1; continue ;;
	--verify) verify=1; continue ;;
	--no-launcher) no_launcher=1; continue ;;
	esac
	[ $# -ge 1 ] || die "$opt needs a value"
	val=$1; shift
	case "$opt" in
	--out) out=$val ;;
	--standin) standin=$val ;;
	--launcher) launcher=$val ;;
	--parts-dir) parts_dir=$val ;;
	--omit) [[ "$val" =~ ^[1-8]$ ]] || die "--omit: slot must be 1..8"; OMIT[$val]=1 ;;
	--name) slot "$val"; LABEL[$S_N]=$S_V ;;
	--partuuid) slot "$val"; PUUID[$S_N]=$S_V ;;
	--type) slot "$val"; PTYPE[$S_N]=$S_V ;;
	--size) slot "$val"; [[ "$S_V" =~ ^[0-9]+$ ]] || die "--size: MiB expected"; SIZE[$S_N]=$S_V ;;
	--image) slot "$val"; [ -f "$S_V" ] || die "--image: no file $S_V"; IMAGE[$S_N]=$S_V ;;
	--add) slot "$val"; content_slot "$S_N" "$opt"; [[ "$S_V" == *:* ]] || die "--add: N=SRC:DEST expected"
		ADDS+=("$S_N|${S_V%%:*}|${S_V#*:}") ;;
	--tree) slot "$val"; content_slot "$S_N" "$opt"; [ -d "$S_V" ] || die "--tree: no directory $S_V"; TREES+=("$S_N|$S_V") ;;
	--verity) content_slot "$val" "$opt"; VERITY[$val]=appended ;;
	--verity-hash) slot "$val"; content_slot "$S_N" "$opt"
		[[ "$S_V" =~ ^[78]$ ]] || die "--verity-hash: the hash partition goes to slot 7 or 8"
		[ -z "${VHASH[$S_V]}" ] || die "--verity-hash: slot $S_V already holds slot ${VHASH[$S_V]}'s tree"
		VERITY[$S_N]=$S_V; VHASH[$S_V]=$S_N ;;
	--verity-salt) slot "$val"; content_slot "$S_N" "$opt"
		[[ "$S_V" == random || "$S_V" =~ ^([0-9a-fA-F]{2}){1,256}$ ]] ||
			die "--verity-salt: even-length hex (at most 256 bytes) or 'random' expected"
		VSALT[$S_N]=$S_V ;;
	--luks) slot "$val"; content_slot "$S_N" "$opt"; [ -f "$S_V" ] || die "--luks: no passphrase file $S_V"
		LUKS_PASS[$S_N]=$(readlink -f "$S_V") ;;
	--luks-uuid) slot "$val"; [[ "$S_V" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
		die "--luks-uuid: a lower-case UUID expected"; LUKS_UUID[$S_N]=$S_V ;;
	--luks-keyfile) slot "$val"; content_slot "$S_N" "$opt"; [ -f "$S_V" ] || die "--luks-keyfile: no key file $S_V"
		[ -s "$S_V" ] || die "--luks-keyfile: $S_V is empty"
		LUKS_KEY[$S_N]=$(readlink -f "$S_V") ;;
	*) die "unknown option $opt (see the header of qemu-tests/mkdisk.sh)" ;;
	esac
done
[ -n "$out" ] || die "--out is required"
if [ "$no_launcher" = 0 ] && [ "${OMIT[3]}" = 0 ] && [ -z "${IMAGE[3]}" ]; then
	[ -n "$standin" ] || die "--standin is required (or --no-launcher)"
	[ -f "$standin" ] || die "stand-in $standin not found (make standin)"
fi
protected=0
for n in 2 3 4 5 6; do
	luks=0
	[ -n "${LUKS_PASS[$n]}${LUKS_KEY[$n]}" ] && luks=1
	[ -n "${VERITY[$n]}" ] || [ "$luks" = 1 ] || continue
	protected=1
	[ -n "${VERITY[$n]}" ] && [ "$luks" = 1 ] && die "slot $n: --verity and --luks exclude each other"
	[ -z "${IMAGE[$n]}" ] || die "slot $n: --image is used as is; it cannot also get --verity/--luks"
	[ "${OMIT[$n]}" = 0 ] || die "slot $n is omitted; it cannot get --verity/--luks"
	v=${VERITY[$n]}
	if [[ "$v" =~ ^[78]$ ]]; then
		[ "${OMIT[$v]}" = 0 ] && [ -z "${IMAGE[$v]}" ] || die "slot $v holds slot $n's hash tree: no --omit/--image $v"
		[ -n "${LABEL[$v]}" ] || LABEL[$v]=${LABEL[$n]}-verity
	fi
done
for n in 7 8; do
	if [ -z "${VHASH[$n]}" ] && [ -z "${IMAGE[$n]}" ]; then OMIT[$n]=1; fi
	[ -n "${LABEL[$n]}" ] || LABEL[$n]=cvm-extra-$n
done

if [ -n "$parts_dir" ]; then
	mkdir -p "$parts_dir"; work=$(mktemp -d "$parts_dir/.mkdisk.XXXXXX")
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/mkdisk.XXXXXX")
fi
work=$(cd "$work" && pwd)
trap 'rm -rf "$work"' EXIT

# Staged trees.
for n in 2 3 4 5 6; do
	mkdir -p "$work/tree$n"
	echo "${LABEL[$n]} marker" > "$work/tree$n/$(case $n in 2) echo BOOT;; 3) echo ROOT;; 4) echo CONFIG;;
		5) echo JOBS;; 6) echo DATA;; esac)-MARKER"
done
for d in boot opt/nvflare/config opt/nvflare/jobs opt/nvflare/data tmp dev proc sys run; do
	mkdir -p "$work/tree3/$d"
done
chmod 1777 "$work/tree3/tmp"
if [ "$no_launcher" = 0 ] && [ -n "$standin" ]; then
	mkdir -p "$work/tree3/$(dirname "$launcher")"
	install -m 0755 "$standin" "$work/tree3/$launcher"
fi
for t in ${TREES[@]+"${TREES[@]}"}; do
	n=${t%%|*}; d=${t#*|}
	cp -a "$d/." "$work/tree$n/"
done
for a in ${ADDS[@]+"${ADDS[@]}"}; do
	IFS='|' read -r n src dest <<<"$a"
	[ -e "$src" ] || die "--add: no file $src"
	mkdir -p "$work/tree$n/$(dirname "$dest")"
	cp -a "$src" "$work/tree$n/$dest"
done

# The disk itself: a layout for `cvminit image build` (image/README.md), which
# makes every partition (ext4 from the staged trees, dm-verity and LUKS2 through
# libcryptsetup, the GPT through sgdisk) and reports the facts this script's
# callers read.
CVMINIT=${CVMINIT:-$(cd "$(dirname "$0")/.." && pwd)/build/cvminit}
[ -x "$CVMINIT" ] || die "$CVMINIT not found (make build/cvminit)"
layout=$work/layout.conf
{
	echo "POLICY=test"
	echo "DISK_GUID=$DISK_GUID"
	echo "EPOCH=$EPOCH"
	for n in $SLOTS; do
		[ "${OMIT[$n]}" = 1 ] && continue
		echo "P${n}_NAME=\"${LABEL[$n]}\""
		echo "P${n}_UUID=${PUUID[$n]}"
		echo "P${n}_TYPE=${PTYPE[$n]}"
		case $n in 2) echo "P2_ROLE=boot" ;; 3) echo "P3_ROLE=root" ;; 4) echo "P4_ROLE=config" ;;
			5) echo "P5_ROLE=jobs" ;; 6) echo "P6_ROLE=data" ;; esac
		if [ -n "${IMAGE[$n]}" ]; then
			echo "P${n}_IMAGE=\"$(readlink -f "${IMAGE[$n]}")\""
			continue
		fi
		[ -n "${VHASH[$n]}" ] && continue   # the tree of slot VHASH[n]
		echo "P${n}_SIZE=${SIZE[$n]}M"
		if [ "$n" = 1 ]; then
			echo "P1_FS=vfat"; echo "P1_FS_UUID=c7a11e01"; echo "P1_FS_LABEL=ESP"
			continue
		fi
		# times are pinned by the tool; modes and owners stay as staged
		echo "P${n}_DIR=\"$work/tree$n\""
		echo "P${n}_FS_UUID=f5f5f5f5-0000-4000-8000-00000000000$n"
		echo "P${n}_FS_LABEL=\"${LABEL[$n]:0:16}\""
		[ "$n" = 4 ] && echo "P4_LOST_FOUND=no"
		if [ -n "${VERITY[$n]}" ]; then
			echo "P${n}_PROTECTION=verity"
			[ "${VERITY[$n]}" = appended ] || echo "P${n}_VERITY_HASH=P${VERITY[$n]}"
			salt=${VSALT[$n]}
			[ "$salt" = random ] && salt=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
			echo "P${n}_VERITY_SALT=$salt"
			echo "P${n}_VERITY_UUID=c7a11e00-2000-4000-8000-00000000000$n"
		elif [ -n "${LUKS_PASS[$n]}${LUKS_KEY[$n]}" ]; then
			echo "P${n}_PROTECTION=luks2"
			echo "P${n}_LUKS_UUID=${LUKS_UUID[$n]:-c7a11e00-1000-4000-8000-00000000000$n}"
			if [ -n "${LUKS_PASS[$n]}" ]; then
				# the first line, without its newline: what is typed at the prompt
				head -n 1 "${LUKS_PASS[$n]}" | tr -d '\n' > "$work/pass$n"
				[ -s "$work/pass$n" ] || die "--luks $n: the passphrase in ${LUKS_PASS[$n]} is empty"
				echo "P${n}_LUKS_PASSPHRASE_FILE=\"$work/pass$n\""
				# TCG-sized Argon2id costs: 32 MiB, 4 iterations, 1 thread
				echo "P${n}_LUKS_PBKDF=argon2id"
				echo "P${n}_LUKS_PBKDF_MEMORY=32768"
				echo "P${n}_LUKS_PBKDF_ITERATIONS=4"
			fi
			[ -z "${LUKS_KEY[$n]}" ] || echo "P${n}_LUKS_KEY_FILE=\"${LUKS_KEY[$n]}\""
		fi
	done
} > "$layout"
# the tree files' own times and modes go in as they are; mkfs.ext4 copies
# them, and the tool pins atime/mtime/ctime to EPOCH
mkdir -p "$work/parts"
if ! "$CVMINIT" image build --layout "$layout" --out "$work/disk.img" --manifest-out "$work/manifest" \
	--parts-dir "$work/parts" --quiet >"$work/image.log" 2>&1; then
	cat "$work/image.log" >&2
	die "cvminit image build failed (layout: see above)"
fi
declare -A M
while IFS='=' read -r k v; do
	v=${v#\"}; M[$k]=${v%\"}
done < "$work/manifest"
declare -A PIMG
for n in $SLOTS; do
	[ -n "${M[P${n}_NAME]:-}" ] || continue
	if [ -n "${IMAGE[$n]}" ]; then PIMG[$n]=${IMAGE[$n]}; else PIMG[$n]=$work/parts/p$n.img; fi
done

# The per-slot facts files the scenarios read (see the header).
for n in 2 3 4 5 6; do
	if [ -n "${M[P${n}_VERITY_ROOTHASH]:-}" ]; then
		hslot=${M[P${n}_VERITY_HASH_SLOT]}
		{
			echo "ROOTHASH=${M[P${n}_VERITY_ROOTHASH]}"
			if [ "$hslot" = 0 ]; then echo "HASH=appended"; else echo "HASH=PARTLABEL=${LABEL[$hslot]}"; fi
			echo "HASH_OFFSET=${M[P${n}_VERITY_HASH_OFFSET]}"
			echo "SALT=${M[P${n}_VERITY_SALT]}"
			echo "DATA_BLOCKS=${M[P${n}_VERITY_DATA_BLOCKS]}"
			echo "HASH_BLOCKS=${M[P${n}_VERITY_HASH_BLOCKS]}"
			[ "$hslot" = 0 ] || echo "HASH_SLOT=$hslot"
			echo "UUID=${M[P${n}_VERITY_UUID]}"
		} > "$work/verity-$n"
	fi
	if [ -n "${M[P${n}_LUKS_UUID]:-}" ]; then
		{
			echo "UUID=${M[P${n}_LUKS_UUID]}"
			echo "DATA_OFFSET=${M[P${n}_LUKS_DATA_OFFSET]}"
			echo "KEYSLOTS=\"${M[P${n}_LUKS_KEYSLOTS]}\""
			echo "CIPHER=${M[P${n}_LUKS_CIPHER]}"
			echo "EXT4_SIZE=${M[P${n}_CONTENT_BYTES]}"
			[ -z "${M[P${n}_LUKS_VOLUME_KEY_PIN]:-}" ] || echo "VOLUME_KEY_PIN=${M[P${n}_LUKS_VOLUME_KEY_PIN]}"
		} > "$work/luks-$n"
	fi
done

# run LOG CMD...: runs CMD in $work, its output in $work/LOG; on failure shows
# it and stops.
run() {
	local log=$work/$1; shift
	(cd "$work" && "$@") >"$log" 2>&1 && return 0
	cat "$log" >&2
	die "failed: $*"
}

# verify_slot N IMG: Debian's tools, independent of the tool that wrote the
# partition, accept it.
verify_slot() {
	local n=$1 img=$2
	if [ -f "$work/verity-$n" ]; then
		local ROOTHASH HASH_OFFSET DATA_BLOCKS himg=$img
		eval "$(grep -E '^(ROOTHASH|HASH_OFFSET|DATA_BLOCKS)=' "$work/verity-$n")"
		[ "${VERITY[$n]}" = appended ] || himg=${PIMG[${VERITY[$n]}]}
		run "verify$n.log" veritysetup verify --data-blocks="$DATA_BLOCKS" --hash-offset="$HASH_OFFSET" \
			"$img" "$himg" "$ROOTHASH"
	fi
	if [ -f "$work/luks-$n" ]; then
		run "verify$n.log" cryptsetup luksDump --disable-locks "$img"
		[ -z "${LUKS_KEY[$n]}" ] ||
			run "verify$n.log" cryptsetup open --disable-locks --test-passphrase --key-file "${LUKS_KEY[$n]}" "$img"
		[ -z "${LUKS_PASS[$n]}" ] ||
			run "verify$n.log" cryptsetup open --disable-locks --test-passphrase --key-file "$work/pass$n" "$img"
	fi
}
if [ "$verify" = 1 ]; then
	command -v veritysetup >/dev/null && command -v cryptsetup >/dev/null ||
		die "veritysetup/cryptsetup not found: run deps/install-tools.sh (package cryptsetup-bin)"
	for n in 2 3 4 5 6; do [ "${OMIT[$n]}" = 1 ] || verify_slot "$n" "${PIMG[$n]}"; done
fi

layout_lines=""
for n in $SLOTS; do
	[ -n "${M[P${n}_NAME]:-}" ] || continue
	layout_lines+="$n ${LABEL[$n]} ${M[P${n}_START]} $(stat -c %s "${PIMG[$n]}") ${M[P${n}_UUID]}"$'\n'
done
rm -f "$out" "$out".verity-* "$out".luks-*
mv "$work/disk.img" "$out"
printf '%s' "$layout_lines" > "$out.layout"
prot=""
for n in 2 3 4 5 6; do
	for k in verity luks; do
		if [ -f "$work/$k-$n" ]; then cp "$work/$k-$n" "$out.$k-$n"; prot+=" p$n=$k"; fi
	done
done
if [ -n "$parts_dir" ]; then
	for n in "${!PIMG[@]}"; do [ "${PIMG[$n]}" = "$work/parts/p$n.img" ] && mv "${PIMG[$n]}" "$parts_dir/p$n.img"; done
fi
[ "$quiet" = 1 ] || echo "$prog: $out: $(awk '{printf "%sp%s=%s", s, $1, $2; s=" "}' "$out.layout")${prot:+ (protected:$prot)} ($(since "$t0") s)"
