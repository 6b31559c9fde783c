#!/bin/bash
# Builds the six-partition GPT test disk of DESIGN.md as a raw image, with no
# loop devices, device-mapper or root privileges: each partition is built as a
# file (mkfs.ext4 -d / mkfs.vfat, or a prebuilt image), then laid out with
# sgdisk and copied in with dd conv=notrunc.
#
#   qemu-tests/mkdisk.sh --out DISK.img --standin build/standin [options]
#
# Slots (N = 1..6), default PARTLABEL and content:
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
#   --quiet               no summary line
# Besides DISK.img it writes DISK.img.layout, one line per partition:
#   N LABEL START_BYTES SIZE_BYTES PARTUUID
# so scenarios can tamper with a byte of a partition in place.
#
# Deterministic where cheap: fixed disk GUID, PARTUUIDs, filesystem UUIDs and
# hash seeds, E2FSPROGS_FAKE_TIME and file times from SOURCE_DATE_EPOCH.
set -euo pipefail

prog=mkdisk.sh
die() { echo "$prog: $*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
t0=$EPOCHREALTIME

for t in sgdisk mkfs.ext4 mkfs.vfat debugfs dd truncate; do
	command -v "$t" >/dev/null || die "$t not found: run deps/install-tools.sh"
done

EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
DISK_GUID=c7a11e00-0000-4000-8000-000000000000
declare -A LABEL SIZE IMAGE PUUID OMIT PTYPE
LABEL=([1]=cvm-esp [2]=cvm-boot [3]=cvm-root [4]=cvm-config [5]=cvm-jobs [6]=cvm-data)
SIZE=([1]=2 [2]=8 [3]=16 [4]=8 [5]=8 [6]=8)
for n in 1 2 3 4 5 6; do
	PUUID[$n]=c7a11e00-0000-4000-8000-00000000000$n
	IMAGE[$n]=""
	PTYPE[$n]=8300
	OMIT[$n]=0
done
PTYPE[1]=ef00
ADDS=()    # "N|SRC|DEST"
TREES=()   # "N|DIR"
out="" standin="" launcher=/sbin/init no_launcher=0 parts_dir="" quiet=0

slot() {   # slot N=VALUE -> sets S_N and S_V
	local a=$1
	S_N=${a%%=*}; S_V=${a#*=}
	[[ "$a" == *=* ]] || die "expected N=VALUE, got '$a'"
	[[ "$S_N" =~ ^[1-6]$ ]] || die "slot must be 1..6, got '$S_N'"
}

while [ $# -gt 0 ]; do
	opt=$1; shift
	case "$opt" in
	--quiet) quiet=1; continue ;;
	--no-launcher) no_launcher=1; continue ;;
	esac
	[ $# -ge 1 ] || die "$opt needs a value"
	val=$1; shift
	case "$opt" in
	--out) out=$val ;;
	--standin) standin=$val ;;
	--launcher) launcher=$val ;;
	--parts-dir) parts_dir=$val ;;
	--omit) [[ "$val" =~ ^[1-6]$ ]] || die "--omit: slot must be 1..6"; OMIT[$val]=1 ;;
	--name) slot "$val"; LABEL[$S_N]=$S_V ;;
	--partuuid) slot "$val"; PUUID[$S_N]=$S_V ;;
	--type) slot "$val"; PTYPE[$S_N]=$S_V ;;
	--size) slot "$val"; [[ "$S_V" =~ ^[0-9]+$ ]] || die "--size: MiB expected"; SIZE[$S_N]=$S_V ;;
	--image) slot "$val"; [ -f "$S_V" ] || die "--image: no file $S_V"; IMAGE[$S_N]=$S_V ;;
	--add) slot "$val"; [[ "$S_V" == *:* ]] || die "--add: N=SRC:DEST expected"
		ADDS+=("$S_N|${S_V%%:*}|${S_V#*:}") ;;
	--tree) slot "$val"; [ -d "$S_V" ] || die "--tree: no directory $S_V"; TREES+=("$S_N|$S_V") ;;
	*) die "unknown option $opt (see the header of qemu-tests/mkdisk.sh)" ;;
	esac
done
[ -n "$out" ] || die "--out is required"
if [ "$no_launcher" = 0 ] && [ "${OMIT[3]}" = 0 ] && [ -z "${IMAGE[3]}" ]; then
	[ -n "$standin" ] || die "--standin is required (or --no-launcher)"
	[ -f "$standin" ] || die "stand-in $standin not found (make standin)"
fi

if [ -n "$parts_dir" ]; then
	mkdir -p "$parts_dir"; work=$(mktemp -d "$parts_dir/.mkdisk.XXXXXX")
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/mkdisk.XXXXXX")
fi
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

# Partition images.
export E2FSPROGS_FAKE_TIME=$EPOCH
declare -A PIMG
for n in 1 2 3 4 5 6; do
	[ "${OMIT[$n]}" = 1 ] && continue
	if [ -n "${IMAGE[$n]}" ]; then PIMG[$n]=${IMAGE[$n]}; continue; fi
	img="$work/p$n.img"
	PIMG[$n]=$img
	truncate -s "${SIZE[$n]}M" "$img"
	if [ "$n" = 1 ]; then
		mkfs.vfat -n ESP -i c7a11e01 --invariant "$img" >/dev/null || die "mkfs.vfat failed"
		continue
	fi
	find "$work/tree$n" -exec touch -h -d "@$EPOCH" {} +
	fsuuid=f5f5f5f5-0000-4000-8000-00000000000$n
	if ! mkfs.ext4 -q -F -b 4096 -L "${LABEL[$n]:0:16}" -U "$fsuuid" -E "hash_seed=$fsuuid,root_owner=0:0" \
		-d "$work/tree$n" "$img" 2>"$work/mkfs.log"; then
		cat "$work/mkfs.log" >&2
		die "mkfs.ext4 for slot $n failed (content larger than --size $n=${SIZE[$n]}?)"
	fi
	# mke2fs -d copies each file's ctime from the host: pin them too.
	(cd "$work/tree$n" && find . -print0) | while IFS= read -r -d '' f; do
		f=${f#.}; f=${f:-/}
		printf 'sif "%s" ctime @%s\nsif "%s" ctime_extra 0\n' "$f" "$EPOCH" "$f"
	done > "$work/debugfs$n.cmd"
	[ "$n" = 4 ] && echo "rmdir /lost+found" >> "$work/debugfs$n.cmd"
	debugfs -w -f "$work/debugfs$n.cmd" "$img" >"$work/debugfs.log" 2>&1 ||
		{ cat "$work/debugfs.log" >&2; die "debugfs on slot $n failed"; }
done

# GPT layout: 1 MiB aligned starts, slot order; sizes in 512-byte sectors.
MIB_S=2048
sgargs=(-o -U "$DISK_GUID")
start=$MIB_S
layout=""
for n in 1 2 3 4 5 6; do
	[ "${OMIT[$n]}" = 1 ] && continue
	bytes=$(stat -c %s "${PIMG[$n]}")
	secs=$(( (bytes + 511) / 512 ))
	end=$(( start + secs - 1 ))
	sgargs+=(-n "$n:$start:$end" -t "$n:${PTYPE[$n]}" -c "$n:${LABEL[$n]}" -u "$n:${PUUID[$n]}")
	layout+="$n ${LABEL[$n]} $((start * 512)) $bytes ${PUUID[$n]}"$'\n'
	start=$(( (end + 1 + MIB_S - 1) / MIB_S * MIB_S ))
done
disk_secs=$(( start + MIB_S ))   # room for the backup GPT
rm -f "$out"
truncate -s $((disk_secs * 512)) "$out"
if ! sgdisk "${sgargs[@]}" "$out" >"$work/sgdisk.log" 2>&1; then
	cat "$work/sgdisk.log" >&2; die "sgdisk failed"
fi
while read -r n _ off _ _; do
	[ -n "$n" ] || continue
	dd if="${PIMG[$n]}" of="$out" bs=1M oflag=seek_bytes seek="$off" conv=notrunc,sparse status=none ||
		die "dd of slot $n failed"
done <<<"$layout"
printf '%s' "$layout" > "$out.layout"
if [ -n "$parts_dir" ]; then
	for n in "${!PIMG[@]}"; do [ "${PIMG[$n]}" = "$work/p$n.img" ] && mv "${PIMG[$n]}" "$parts_dir/p$n.img"; done
fi
[ "$quiet" = 1 ] || echo "$prog: $out: $(awk '{printf "%sp%s=%s", s, $1, $2; s=" "}' "$out.layout") ($(since "$t0") s)"
