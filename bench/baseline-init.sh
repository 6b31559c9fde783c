#!/bin/busybox sh
# shellcheck shell=sh
# bench/baseline-init.sh: the baseline /init of `make bench`. It does what
# cvminit does, stage by stage and in the same order, the conventional way:
# a busybox shell script (Debian's busybox-static) calling busybox applets and
# Debian's dynamically linked veritysetup/cryptsetup (copied with their shared
# libraries into the baseline initramfs at bench time). Same kernel, disk,
# modules (insmod in the order of the same /etc/cvminit/modules.load), same
# configuration file (/etc/cvminit/cvminit.conf is plain KEY=value, sourced
# here), same mounts, busybox switch_root, same launcher.
#
# It is a measuring stick, not a product: it checks what the conventional
# script would check and stops (power off) on the first failure, but it has
# none of cvminit's hardening (no mlock, no secret wiping, no measurement).
# busybox ash, not bash: no `set -o pipefail` here (the brief's bash rule is
# for the host scripts); every step checks its own status instead.
#
# Console lines mirror cvminit's so one parser reads both:
#   [    2.345678] baseline: <stage>: done in N.N ms
#   [    2.345678] baseline: <stage>: step <name>: N.N ms      (sub-steps: unlock-root,
#                                    unlock-jobs, preverify-config, preverify-boot)
#   [    2.345678] baseline: FATAL: <stage>: <reason>
# Timestamps are CLOCK_MONOTONIC (/proc/timer_list "now at", read with shell
# builtins: no fork per timestamp), as cvminit's console timestamps are;
# /proc/uptime (10 ms steps) when timer_list is missing.
set -u

# Defaults: those of init/config_keys.def (plain storage where the init's
# defaults would need keys the configuration gives anyway). The *_PART
# variables are read through eval.
# shellcheck disable=SC2034
BOOT_PART=PARTLABEL=cvm-boot ROOT_PART=PARTLABEL=cvm-root CONFIG_PART=PARTLABEL=cvm-config \
	JOBS_PART=PARTLABEL=cvm-jobs DATA_PART=PARTLABEL=cvm-data
BOOT_FSTYPE=ext4 BOOT_MOUNT=/boot BOOT_OPTIONS=ro,nodev,nosuid,noexec
ROOT_FSTYPE=ext4 ROOT_OPTIONS=rw,nodev,nosuid
CONFIG_FSTYPE=ext4 CONFIG_MOUNT=/opt/nvflare/config CONFIG_OPTIONS=ro,nodev,nosuid,noexec
JOBS_FSTYPE=ext4 JOBS_MOUNT=/opt/nvflare/jobs JOBS_OPTIONS=rw,nodev,nosuid,noexec
DATA_FSTYPE=ext4 DATA_MOUNT=/opt/nvflare/data DATA_OPTIONS=ro,nodev,nosuid,noexec,noload
PART_TIMEOUT=10 TMP_SIZE=25% SHM_SIZE=10% SYSCTL_HARDENING=yes
LAUNCHER=/sbin/init LAUNCHER_ARGS='' LAUNCHER_CWD=/
BOOT_VERITY_ROOTHASH=none BOOT_VERITY_HASH_OFFSET=0
CONFIG_VERITY_ROOTHASH=none CONFIG_VERITY_HASH_OFFSET=0
VERITY_ON_CORRUPTION=panic VERITY_PREVERIFY=config
ROOT_ENCRYPTION=none JOB_STORE_ENCRYPTION=none
ROOT_KEYFILE=/etc/cvminit/keys/root.key JOBS_KEYFILE=/etc/cvminit/keys/jobs.key
CONF=/etc/cvminit/cvminit.conf
MODLOAD=/etc/cvminit/modules.load
SYSROOT=/sysroot
STAGE=init
KMSG=           # /dev/kmsg once devtmpfs is mounted
PROC=/proc      # where proc is: it moves into the new root before the exec

now() {
	if [ -r "$PROC/timer_list" ]; then
		{ read -r _l; read -r _l; read -r _ _ NOW_NS _; } < "$PROC/timer_list"
	elif [ -r "$PROC/uptime" ]; then
		read -r _up _ < "$PROC/uptime"
		NOW_NS=${_up%.*}${_up#*.}0000000
	else
		NOW_NS=0
	fi
}

log() {
	now
	printf '[%5d.%06d] baseline: %s: %s\n' $((NOW_NS / 1000000000)) $((NOW_NS / 1000 % 1000000)) "$STAGE" "$*"
	# as cvminit: each line also goes to the kernel log (facility user, info)
	[ -n "$KMSG" ] && echo "<14>baseline: $STAGE: $*" > "$KMSG"
	return 0
}

fatal() {
	STAGE_SAVED=$STAGE
	STAGE=FATAL
	log "$STAGE_SAVED: $*"
	$BB sync
	$BB poweroff -f
	while :; do $BB sleep 60; done
}

ms_since() { # $1 = start ns -> MS ("12.3")
	now
	_us=$(((NOW_NS - $1) / 1000))
	MS="$((_us / 1000)).$((_us % 1000 / 100))"
}

stage() { STAGE=$1; now; T_STAGE=$NOW_NS; }
done_() { ms_since "$T_STAGE"; log "done in $MS ms"; }
step_begin() { now; T_STEP=$NOW_NS; }
step_end() { ms_since "$T_STEP"; log "step $1: $MS ms"; }

# ---- 1 early -----------------------------------------------------------------
# /proc first: the clock is read from it (cvminit mounts /dev first; the
# difference is inside the "startup" figure of the bench), and busybox's
# standalone shell runs its applets through /proc/self/exe: until /proc is
# mounted, and again once it has moved into the new root, applets are called
# as "$BB applet".
BB=/bin/busybox
$BB mount -t proc -o nosuid,nodev,noexec proc /proc || fatal "cannot mount proc"
stage early
umask 022
mount -t devtmpfs -o mode=0755,nosuid,noexec devtmpfs /dev || fatal "cannot mount devtmpfs at /dev"
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || fatal "cannot mount sysfs at /sys"
mkdir -p /run
mount -t tmpfs -o mode=0755,size=10%,nosuid,nodev tmpfs /run || fatal "cannot mount tmpfs at /run"
echo on > /proc/sys/kernel/printk_devkmsg 2>/dev/null
KMSG=/dev/kmsg
log "mounted /dev /proc /sys /run"
done_

# ---- 2 config ----------------------------------------------------------------
stage config
[ -r "$CONF" ] || fatal "cannot read $CONF"
# shellcheck disable=SC1090
. "$CONF" || fatal "$CONF: not a valid shell-style KEY=value file"
read -r CMDLINE < /proc/cmdline || fatal "cannot read /proc/cmdline"
# shellcheck disable=SC2046 # the digest is the first word
set -- $(sha256sum "$CONF")
log "read $CONF; kernel command line: ${CMDLINE}; sha256:$1"
done_

# ---- 3 modules ---------------------------------------------------------------
stage modules
loaded=0 absent=0 already=0
if [ -r "$MODLOAD" ]; then
	# "PATH needs=..." (the builder's graph): insmod goes in list order
	while read -r m _needs; do
		case "$m" in '' | '#'*) continue ;; esac
		if insmod "$m" 2>/run/insmod.err; then
			loaded=$((loaded + 1))
			continue
		fi
		err=
		read -r err < /run/insmod.err
		case "$err" in
		*"No such device"*) absent=$((absent + 1)); log "$m: no such device here" ;;
		*"File exists"*) already=$((already + 1)) ;;
		*) fatal "cannot load module $m: $err" ;;
		esac
	done < "$MODLOAD"
fi
log "loaded $loaded modules ($already already present, $absent without hardware)"
done_

# ---- 4 tee -------------------------------------------------------------------
stage tee
if [ -d /sys/kernel/config ] && mount -t configfs -o nosuid,nodev,noexec configfs /sys/kernel/config 2>/dev/null; then
	log "configfs mounted at /sys/kernel/config"
fi
if [ -e /dev/sev-guest ] || [ -e /dev/tdx_guest ]; then
	log "TEE guest interface present"
else
	log "no SEV-SNP or TDX guest interface: continuing (bench)"
fi
done_

# ---- 5 partitions ------------------------------------------------------------
stage partitions
scan() {
	PARTS=" "
	for u in /sys/class/block/*/uevent; do
		[ -e "${u%/uevent}/partition" ] || continue
		_dev='' _name=''
		while IFS='=' read -r k v; do
			case "$k" in DEVNAME) _dev=$v ;; PARTNAME) _name=$v ;; esac
		done < "$u"
		[ -n "$_name" ] && PARTS="$PARTS$_name=/dev/$_dev "
	done
}
lookup() { # $1 = PARTLABEL=x | none -> DEV ("" when absent or none)
	DEV=
	case "$1" in
	none) return 0 ;;
	PARTLABEL=*) ;;
	*) fatal "the baseline finds partitions by PARTLABEL only, not '$1'" ;;
	esac
	case "$PARTS" in *" ${1#PARTLABEL=}=/dev/"*) DEV=${PARTS#* "${1#PARTLABEL=}"=}; DEV=${DEV%% *} ;; esac
}
T_WAIT=$T_STAGE
while :; do
	scan
	missing=
	for r in BOOT ROOT CONFIG JOBS DATA; do
		ref=''
		eval "ref=\$${r}_PART"
		lookup "$ref"
		eval "${r}_DEV=\$DEV"
		[ "$ref" != none ] && [ -z "$DEV" ] && missing="$missing $ref"
	done
	[ -z "$missing" ] && break
	now
	[ $(((NOW_NS - T_WAIT) / 1000000000)) -ge "$PART_TIMEOUT" ] &&
		fatal "missing$missing after $PART_TIMEOUT s; found:$PARTS"
	usleep 50000
done
for r in BOOT ROOT CONFIG JOBS DATA; do
	eval "log \"$r: \$${r}_PART is \$${r}_DEV\""
done
done_

# ---- 6 verity ----------------------------------------------------------------
stage verity
verity() { # ROLE dev roothash offset name preverify(yes|no) -> $ROLE_DEV = /dev/mapper/name
	case "$VERITY_ON_CORRUPTION" in panic) _oc=--panic-on-corruption ;; *) _oc=--restart-on-corruption ;; esac
	if [ "$6" = yes ]; then
		step_begin
		veritysetup verify "$2" "$2" "$3" --hash-offset="$4" >/run/verity.err 2>&1 ||
			fatal "$1: full verification of $2 failed: $(cat /run/verity.err)"
		step_end "preverify-$5"
	fi
	veritysetup open "$2" "$5" "$2" "$3" --hash-offset="$4" "$_oc" >/run/verity.err 2>&1 ||
		fatal "$1: dm-verity activation of $2 failed: $(cat /run/verity.err)"
	# activation checks nothing: read the first block through the mapping
	dd if="/dev/mapper/$5" of=/dev/null bs=4096 count=1 2>/run/verity.err ||
		fatal "$1: first read of /dev/mapper/$5 failed: $(cat /run/verity.err)"
	eval "${1}_DEV=/dev/mapper/$5"
	log "$5: $2 verified by dm-verity ($VERITY_ON_CORRUPTION on corruption) as /dev/mapper/$5"
}
pv() { case "$VERITY_PREVERIFY" in all | "$1") echo yes ;; *) echo no ;; esac; }
nv=0
if [ "$BOOT_VERITY_ROOTHASH" != none ] && [ -n "$BOOT_DEV" ]; then
	verity BOOT "$BOOT_DEV" "$BOOT_VERITY_ROOTHASH" "$BOOT_VERITY_HASH_OFFSET" boot "$(pv boot)"
	nv=$((nv + 1))
fi
if [ "$CONFIG_VERITY_ROOTHASH" != none ]; then
	verity CONFIG "$CONFIG_DEV" "$CONFIG_VERITY_ROOTHASH" "$CONFIG_VERITY_HASH_OFFSET" config "$(pv config)"
	nv=$((nv + 1))
fi
[ "$nv" = 0 ] && log "no dm-verity volumes in this configuration"
done_

# ---- 7, 8 measure, attest: nothing the baseline can do (no TPM in the bench VM)
stage measure
log "no TPM measurement (baseline)"
done_
stage attest
log "no attestation report (baseline)"
done_

# ---- 9, 10 root, jobstore ----------------------------------------------------
mount_at() { # label what fstype rel opts
	mkdir -p "$SYSROOT$4" || fatal "$1: cannot create mount point $4"
	mount -t "$3" -o "$5" "$2" "$SYSROOT$4" 2>/run/mount.err ||
		fatal "$1: cannot mount $2 ($3) at $4: $(cat /run/mount.err)"
	log "$1: $2 on $4 ($3, $5)"
}
luks() { # ROLE dev keyfile name
	step_begin
	cryptsetup open --type luks2 --key-file "$3" "$2" "$4" >/run/luks.err 2>&1 ||
		fatal "$1: cannot unlock $2: $(cat /run/luks.err)"
	step_end "unlock-$4"
	eval "${1}_DEV=/dev/mapper/$4"
}
stage root
mkdir -p "$SYSROOT"
# shellcheck disable=SC2153 # ROOT_DEV is set through eval by the partitions stage
[ "$ROOT_ENCRYPTION" = luks ] && luks ROOT "$ROOT_DEV" "$ROOT_KEYFILE" root
mount_at root "$ROOT_DEV" "$ROOT_FSTYPE" / "$ROOT_OPTIONS"
done_

stage jobstore
if [ -n "$JOBS_DEV" ]; then
	[ "$JOB_STORE_ENCRYPTION" = luks ] && luks JOBS "$JOBS_DEV" "$JOBS_KEYFILE" jobs
	mount_at jobs "$JOBS_DEV" "$JOBS_FSTYPE" "$JOBS_MOUNT" "$JOBS_OPTIONS"
else
	log "jobs: not configured"
fi
done_

# ---- 11 mounts, harden ---------------------------------------------------------
stage mounts
[ -n "$BOOT_DEV" ] && mount_at boot "$BOOT_DEV" "$BOOT_FSTYPE" "$BOOT_MOUNT" "$BOOT_OPTIONS"
mount_at config "$CONFIG_DEV" "$CONFIG_FSTYPE" "$CONFIG_MOUNT" "$CONFIG_OPTIONS"
[ -n "$DATA_DEV" ] && mount_at data "$DATA_DEV" "$DATA_FSTYPE" "$DATA_MOUNT" "$DATA_OPTIONS"
mount_at tmp tmpfs tmpfs /tmp "rw,nosuid,nodev,mode=1777,size=$TMP_SIZE"
mkdir -p /dev/shm
mount -t tmpfs -o "nosuid,nodev,noexec,mode=1777,size=$SHM_SIZE" tmpfs /dev/shm ||
	fatal "shm: cannot mount tmpfs at /dev/shm"
log "shm: tmpfs on /dev/shm"
done_

stage harden
swaps() {
	SWAPS=
	{
		read -r _hdr
		while read -r s _; do SWAPS="$SWAPS $s"; done
	} < /proc/swaps
}
swaps
for s in $SWAPS; do swapoff "$s" || fatal "swapoff $s failed"; done
swaps
[ -n "$SWAPS" ] && fatal "swap still active after swapoff:$SWAPS"
log "swap off (verified: /proc/swaps lists none)"
if [ "$SYSCTL_HARDENING" = yes ]; then
	n=0
	for kv in kernel/kptr_restrict=2 kernel/dmesg_restrict=1 kernel/kexec_load_disabled=1 kernel/sysrq=0 \
		kernel/unprivileged_bpf_disabled=1 kernel/perf_event_paranoid=3 kernel/yama/ptrace_scope=2 \
		net/core/bpf_jit_harden=2 fs/protected_symlinks=1 fs/protected_hardlinks=1 fs/protected_fifos=2 \
		fs/protected_regular=2 fs/suid_dumpable=0 vm/swappiness=0; do
		[ -e "/proc/sys/${kv%%=*}" ] || continue
		echo "${kv#*=}" > "/proc/sys/${kv%%=*}" || fatal "sysctl ${kv%%=*}=${kv#*=} failed"
		n=$((n + 1))
	done
	log "$n hardening sysctls applied"
fi
done_

# ---- 12 switch_root ----------------------------------------------------------
stage switch_root
[ -x "$SYSROOT$LAUNCHER" ] || fatal "launcher $LAUNCHER not found in the new root"
# busybox switch_root leaves the launcher in /
[ "$LAUNCHER_CWD" = / ] || fatal "LAUNCHER_CWD=$LAUNCHER_CWD: the baseline supports / only"
for m in /dev /proc /sys /run; do
	$BB mkdir -p "$SYSROOT$m"
	$BB mount --move "$m" "$SYSROOT$m" || fatal "cannot move $m into the new root"
done
PROC=$SYSROOT/proc KMSG=$SYSROOT/dev/kmsg
log "exec $LAUNCHER $LAUNCHER_ARGS (cwd /)"
# switch_root deletes the initramfs' contents, moves the new root to /,
# chroots and execs. Word splitting of LAUNCHER_ARGS is wanted.
# shellcheck disable=SC2086
exec $BB switch_root "$SYSROOT" "$LAUNCHER" $LAUNCHER_ARGS
