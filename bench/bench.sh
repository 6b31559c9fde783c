#!/bin/bash
# make bench: boots, in the same run, the cvminit initramfs and a baseline
# initramfs (busybox + Debian's dynamically linked cryptsetup/veritysetup,
# bench/baseline-init.sh) on the same kernel and disk, BENCH_RUNS times each,
# alternating, and reports per-stage times, the time from the kernel's exec
# of /init to the launcher's exec, initramfs sizes, the cvminit/baseline
# ratios and the size budget: a table on screen and build/bench/bench.json
# (also copied to build/bench.json). See bench/README.md.
#
# Environment (make passes them through):
#   BENCH_RUNS   boots per variant (default 3)
#   BENCH_DISK   plain (p2..p6 plain ext4) | protected (p2/p4 dm-verity,
#                p3/p5 LUKS2 with key files, PBKDF2 1000 iterations)
#   BENCH_KEEP_GOING=1   report even when a boot failed (the figures then miss it)
#   BENCH_REF_INIT=FILE [BENCH_REF_CVMINIT=FILE]   also boot a reference build
#                of cvminit (variant cvminit-ref: that init-test, its image made
#                by that host tool), e.g. main's, for a before/after in one run
#   BENCH_MODULES=FILE   the module list (default qemu-tests/modules)
#   BENCH_ANCHORS=yes    also build and boot a dracut+systemd and an
#                initramfs-tools image of the same disk (bench/anchors.sh;
#                needs BENCH_DISK=protected and root)
#   INIT_TEST INIT_RELEASE CVMINIT STANDIN BENCH_STAMP   the binaries (defaults under build/)
#   KERNEL_IMAGE KERNEL_MODDIR KERNEL_VER   the pinned kernel (qemu-tests/kernel.sh)
# Exit: 0 done and within the size budget; 1 a boot or a build failed, or
# the budget is exceeded (the figures are still written).
set -euo pipefail

prog=bench
die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*"; }
t_start=$EPOCHREALTIME

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"

RUNS=${BENCH_RUNS:-3}
DISK_KIND=${BENCH_DISK:-plain}
[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || die "BENCH_RUNS must be 1..99, not '$RUNS'"
case "$DISK_KIND" in plain | protected) ;; *) die "BENCH_DISK must be plain or protected, not '$DISK_KIND'" ;; esac
ANCHORS=${BENCH_ANCHORS:-no}
case "$ANCHORS" in yes | no) ;; *) die "BENCH_ANCHORS must be yes or no, not '$ANCHORS'" ;; esac
if [ "$ANCHORS" = yes ]; then
	[ "$DISK_KIND" = protected ] ||
		die "BENCH_ANCHORS=yes needs BENCH_DISK=protected: the anchors open the protected disk (crypttab, veritytab)"
	[ "$(id -u)" -eq 0 ] || die "BENCH_ANCHORS=yes needs root (the Debian chroots of qemu-tests/distro-chroot.sh)"
fi

INIT_TEST=${INIT_TEST:-build/init-test}
INIT_RELEASE=${INIT_RELEASE:-build/init}
CVMINIT=${CVMINIT:-build/cvminit}
STANDIN=${STANDIN:-build/standin}
STAMP=${BENCH_STAMP:-build/bench-stamp}
for f in "$INIT_TEST" "$INIT_RELEASE" "$CVMINIT" "$STANDIN" "$STAMP"; do
	[ -x "$f" ] || die "$f missing: run 'make bench' (it builds everything first)"
done
if [ -z "${KERNEL_IMAGE:-}" ] || [ -z "${KERNEL_MODDIR:-}" ] || [ -z "${KERNEL_VER:-}" ]; then
	kdir=$(qemu-tests/kernel.sh dir)
	KERNEL_VER=$(qemu-tests/kernel.sh kver)
	KERNEL_IMAGE=$kdir/vmlinuz
	KERNEL_MODDIR=$kdir/lib/modules/$KERNEL_VER
fi
[ -f "$KERNEL_IMAGE" ] || die "no kernel at $KERNEL_IMAGE: run 'make kernel'"

# The baseline's programs come from this machine's Debian packages, at bench
# time, never from the repository.
BUSYBOX=$(command -v busybox || true)
CRYPTSETUP=$(command -v cryptsetup || true)
VERITYSETUP=$(command -v veritysetup || true)
[ -n "$BUSYBOX" ] || die "busybox not found: deps/install-tools.sh installs busybox-static"
if [ -z "$CRYPTSETUP" ] || [ -z "$VERITYSETUP" ]; then
	die "cryptsetup/veritysetup not found: deps/install-tools.sh installs cryptsetup-bin"
fi
if readelf -l "$(readlink -f "$BUSYBOX")" 2>/dev/null | grep INTERP >/dev/null; then
	die "$BUSYBOX is dynamically linked: the baseline needs Debian's busybox-static"
fi

out=build/bench
rm -rf "$out"
mkdir -p "$out/runs" "$out/parts"

# ---- the disk ---------------------------------------------------------------
# The root holds the launcher stand-in as /sbin/standin and bench/stamp.c as
# /sbin/init: both inits exec /sbin/init, which notes the time and execs the
# stand-in (see bench/stamp.c).
mkdisk=(qemu-tests/mkdisk.sh --quiet --out "$out/disk.img" --standin "$STANDIN" --launcher /sbin/standin
	--add "3=$STAMP:/sbin/init")
if [ "$ANCHORS" = yes ]; then
	# systemd switches only to a root that has an os-release file
	printf 'ID=cvminit-bench\nNAME="cvminit bench disk"\n' > "$out/parts/os-release"
	mkdisk+=(--add "3=$out/parts/os-release:/etc/os-release")
fi
conf=$out/cvminit.conf
keys=()
modules_extra=()
has_key() { grep -qaF "$1" "$INIT_TEST"; } # the init's configuration keys are strings in it

{
	echo "# make bench ($DISK_KIND disk): read by cvminit and, sourced, by bench/baseline-init.sh"
	echo "TMP_SIZE=64m"
	echo 'LAUNCHER_ARGS="--standin-cat=/boot/BOOT-MARKER --standin-cat=/opt/nvflare/config/CONFIG-MARKER --standin-cat=/opt/nvflare/jobs/JOBS-MARKER --standin-cat=/opt/nvflare/data/DATA-MARKER"'
} > "$conf"

if [ "$DISK_KIND" = plain ]; then
	"${mkdisk[@]}" || die "mkdisk.sh failed"
	# the init's default for p3/p5 is LUKS2: say plain
	if has_key ROOT_ENCRYPTION; then
		printf '%s\n' ROOT_ENCRYPTION=none JOB_STORE_ENCRYPTION=none >> "$conf"
	fi
else
	for k in BOOT_VERITY_ROOTHASH CONFIG_VERITY_ROOTHASH ROOT_KEY_SOURCE JOBS_KEY_SOURCE ROOT_KEYFILE VERITY_PREVERIFY; do
		has_key "$k" || die "BENCH_DISK=protected: $INIT_TEST knows no $k yet (the dm-verity/LUKS2 code has not landed); use BENCH_DISK=plain"
	done
	grep -q -- '--luks-keyfile' qemu-tests/mkdisk.sh ||
		die "BENCH_DISK=protected: qemu-tests/mkdisk.sh has no --verity/--luks-keyfile options yet"
	# p2/p4: dm-verity, hash tree appended, fixed salt; p3/p5: LUKS2, one
	# key-file keyslot (PBKDF2, 1000 iterations): no prompt, a small PBKDF cost
	for n in 3 5; do
		printf 'cvminit-bench-p%s' "$n" | sha256sum | cut -c1-64 | tr -d '\n' > "$out/parts/p$n.key"
	done
	"${mkdisk[@]}" --verity 2 --verity 4 --luks-keyfile "3=$out/parts/p3.key" \
		--luks-keyfile "5=$out/parts/p5.key" || die "mkdisk.sh failed"
	for n in 2 4; do
		f=$out/disk.img.verity-$n
		[ -f "$f" ] || die "mkdisk.sh wrote no $f"
		eval "RH$n=$(sed -n 's/^ROOTHASH=//p' "$f") OFF$n=$(sed -n 's/^HASH_OFFSET=//p' "$f")"
		eval "SALT$n=$(sed -n 's/^SALT=//p' "$f")"
	done
	cat >> "$conf" <<-EOF
		BOOT_VERITY_ROOTHASH=$RH2
		BOOT_VERITY_HASH_OFFSET=$OFF2
		CONFIG_VERITY_ROOTHASH=$RH4
		CONFIG_VERITY_HASH_OFFSET=$OFF4
		BOOT_VERITY_SALT=$SALT2
		CONFIG_VERITY_SALT=$SALT4
		VERITY_PREVERIFY=config
		ROOT_ENCRYPTION=luks
		ROOT_KEY_SOURCE=keyfile
		JOB_STORE_ENCRYPTION=luks
		JOBS_KEY_SOURCE=keyfile
	EOF
	keys=(--file "$out/parts/p3.key:/etc/cvminit/keys/root.key:0400"
		--file "$out/parts/p5.key:/etc/cvminit/keys/jobs.key:0400")
	modules_extra=(dm-verity dm-crypt xts)
fi

# Same modules, same order, for both: the builder writes the one modules.load.
sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "${BENCH_MODULES:-qemu-tests/modules}" > "$out/modules"
for m in ${modules_extra[@]+"${modules_extra[@]}"}; do
	grep -qx -- "$m" "$out/modules" || echo "$m" >> "$out/modules"
done
modargs=(--kernel-modules "$KERNEL_MODDIR" --modules-from "$out/modules")

# ---- the initramfs images -------------------------------------------------------
build_img() { # NAME builder-args...
	local name=$1 tool=${BUILD_TOOL:-$CVMINIT}
	shift
	"$tool" initramfs build "$@" --output "$out/$name.img" > "$out/$name.build.log" 2>&1 || {
		sed 's/^/  /' "$out/$name.build.log" >&2
		die "initramfs $name: cvminit initramfs build failed"
	}
}

# The baseline's payload: busybox (static), veritysetup and cryptsetup with
# every shared library ldd names (the dynamic loader at its PT_INTERP path).
# Sources are resolved (the builder refuses a symlink as the last component).
payload=(--file "$BUSYBOX:/bin/busybox" --file "$(readlink -f "$CRYPTSETUP"):/sbin/cryptsetup"
	--file "$(readlink -f "$VERITYSETUP"):/sbin/veritysetup")
declare -A seen=()
payload_bytes=$(stat -c %s "$BUSYBOX")
payload_bytes=$((payload_bytes + $(stat -L -c %s "$CRYPTSETUP") + $(stat -L -c %s "$VERITYSETUP")))
while read -r lib; do
	if [ -z "$lib" ] || [ -n "${seen[$lib]:-}" ]; then continue; fi
	seen[$lib]=1
	payload+=(--file "$(readlink -f "$lib"):$lib")
	payload_bytes=$((payload_bytes + $(stat -L -c %s "$lib")))
done < <(ldd "$CRYPTSETUP" "$VERITYSETUP" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u)
nlibs=${#seen[@]}

say "building the initramfs images ($DISK_KIND disk, modules: $(paste -sd' ' "$out/modules"))"
build_img cvminit --init "$INIT_TEST" --config "$conf" "${modargs[@]}" ${keys[@]+"${keys[@]}"}
build_img baseline --init bench/baseline-init.sh --config "$conf" "${modargs[@]}" "${payload[@]}" \
	${keys[@]+"${keys[@]}"}
if [ "$DISK_KIND" = protected ]; then
	sed 's/^VERITY_PREVERIFY=.*/VERITY_PREVERIFY=none/' "$conf" > "$out/cvminit-nopv.conf"
	build_img cvminit-nopv --init "$INIT_TEST" --config "$out/cvminit-nopv.conf" "${modargs[@]}" "${keys[@]}"
fi
# Size budget and size comparison without modules: the release init (a
# release initramfs carries no key files) and the same configuration.
build_img release-nomod --init "$INIT_RELEASE" --config "$conf"
build_img baseline-nomod --init bench/baseline-init.sh --config "$conf" "${payload[@]}"

if [ -n "${BENCH_REF_INIT:-}" ]; then
	[ -x "$BENCH_REF_INIT" ] || die "BENCH_REF_INIT=$BENCH_REF_INIT is not an executable"
	BUILD_TOOL=${BENCH_REF_CVMINIT:-$CVMINIT} build_img cvminit-ref --init "$BENCH_REF_INIT" --config "$conf" \
		"${modargs[@]}" ${keys[@]+"${keys[@]}"}
fi

if [ "$ANCHORS" = yes ]; then
	say "building the anchors (dracut + systemd, initramfs-tools + cryptsetup-initramfs) in the Debian chroots"
	t_anchor=$EPOCHREALTIME
	KERNEL_IMAGE=$KERNEL_IMAGE KERNEL_MODDIR=$KERNEL_MODDIR KERNEL_VER=$KERNEL_VER \
		bench/anchors.sh "$out" "$out/parts/p3.key" "$out/parts/p5.key" "$RH2" "$OFF2" "$RH4" "$OFF4"
	# shellcheck disable=SC1091
	source "$out/anchors.env"
	say "anchors built in $(awk -v a="$t_anchor" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
fi

# ---- the boots ----------------------------------------------------------------------
variants=(cvminit baseline)
[ "$DISK_KIND" = protected ] && variants+=(cvminit-nopv)
[ -n "${BENCH_REF_INIT:-}" ] && variants+=(cvminit-ref)
[ "$ANCHORS" = yes ] && variants+=(dracut initramfs-tools)
boot_one() { # VARIANT RUN
	local v=$1 i=$2 log=$out/runs/$1-$2.log rc=0 append=quiet
	# shellcheck disable=SC2154 # ANCHOR_CMDLINE_*: from anchors.env
	case "$v" in
	dracut) append=$ANCHOR_CMDLINE_dracut ;;
	initramfs-tools) append=$ANCHOR_CMDLINE_initramfs_tools ;;
	esac
	# a fresh copy of the disk per boot: every boot finds the same bytes
	cp --sparse=always "$out/disk.img" "$out/runs/disk.img"
	python3 qemu-tests/vm.py --kernel "$KERNEL_IMAGE" --initrd "$out/$v.img" --disk "$out/runs/disk.img" \
		--log "$log" --timeout 180 --append "$append" --result "$out/runs/$v-$i.json" 2> "$out/runs/$v-$i.stderr" ||
		rc=$?
	local secs
	secs=$(sed -n 's/.*"seconds": \([0-9.]*\).*/\1/p' "$out/runs/$v-$i.json" 2>/dev/null || true)
	# (a file, not a pipe into grep -q: under pipefail tr could die of SIGPIPE)
	# (and without terminal escapes: systemd resets the console before the stamp's line)
	sed -e 's/\r//g' -e 's/\x1b\[[0-9;?!]*[A-Za-z]//g' -e 's/\x1b\][^\a]*\a//g' -e 's/\x1b[c78]//g' < "$log" > "$log.txt" 2>/dev/null ||
		: > "$log.txt"
	if [ "$rc" -ne 0 ] || ! grep -q '^BENCH: stamp ' "$log.txt" || ! grep -qx 'STANDIN: done' "$log.txt"; then
		echo "$prog: $v run $i FAILED (vm.py exit $rc); last console lines ($log):" >&2
		grep -v '^$' "$log.txt" | tail -n 8 | sed 's/^/  | /' >&2
		return 1
	fi
	printf '%s: %-13s run %d/%d: %5.1f s wall\n' "$prog" "$v" "$i" "$RUNS" "$secs"
}
failed=0
for ((i = 1; i <= RUNS; i++)); do
	# alternate which variant goes first, so a slow spell of the host does not
	# always fall on the same one
	if ((i % 2)); then order=("${variants[@]}"); else order=(); for ((k = ${#variants[@]} - 1; k >= 0; k--)); do order+=("${variants[k]}"); done; fi
	for v in "${order[@]}"; do
		boot_one "$v" "$i" || failed=$((failed + 1))
	done
done
rm -f "$out/runs/disk.img"
if [ "$failed" -gt 0 ] && [ "${BENCH_KEEP_GOING:-0}" != 1 ]; then
	die "$failed boot(s) failed: no figures (BENCH_KEEP_GOING=1 reports the others)"
fi

# ---- the report ------------------------------------------------------------------
bench_secs=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
rc=0
report_extra=()
[ "$ANCHORS" = yes ] && report_extra=(--anchors-env "$out/anchors.env")
python3 bench/report.py --dir "$out" --runs "$RUNS" --disk "$DISK_KIND" --variants "${variants[*]}" \
	--kernel-ver "$KERNEL_VER" --init "$INIT_RELEASE" --init-test "$INIT_TEST" \
	--payload-bytes "$payload_bytes" --payload-libs "$nlibs" --busybox "$BUSYBOX" \
	--cryptsetup "$CRYPTSETUP" --bench-seconds "$bench_secs" --failed "$failed" \
	${report_extra[@]+"${report_extra[@]}"} || rc=$?
cp "$out/bench.json" build/bench.json 2>/dev/null || true
[ "$failed" -eq 0 ] || rc=1
exit "$rc"
