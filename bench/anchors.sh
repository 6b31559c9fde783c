#!/bin/bash
# make bench BENCH_ANCHORS=yes: builds the two anchors, initramfs images made
# the conventional way by the generators people use, in the cached Debian
# chroots of qemu-tests/distro-chroot.sh (anchor-dracut-systemd,
# anchor-initramfs-tools-cryptsetup), for the bench's protected disk:
#
#   dracut.img           dracut + systemd in the initrd: /etc/crypttab (key
#                        files) for p3/p5, /etc/veritytab (hash-offset=) for
#                        p2/p4 (systemd-cryptsetup / systemd-veritysetup)
#   initramfs-tools.img  initramfs-tools + cryptsetup-initramfs: /etc/crypttab
#                        (key files, option initramfs) for p3/p5, and a
#                        local-top script running veritysetup for p2/p4
#                        (initramfs-tools has no verity support)
#
# Both use their generator's defaults otherwise (no host-only image, every
# module the generator picks, its compressor). Both switch to the disk's root
# (root=/dev/mapper/cvm-root) and exec its /sbin/init, bench/stamp.c, as
# cvminit and the baseline do. See bench/README.md ("The anchors").
#
#   bench/anchors.sh OUTDIR P3KEY P5KEY RH2 OFF2 RH4 OFF4
# Environment: KERNEL_IMAGE KERNEL_MODDIR KERNEL_VER (bench.sh sets them).
# Writes OUTDIR/dracut.img, OUTDIR/initramfs-tools.img, OUTDIR/anchors.env
# (the kernel command line of each and the chroots' package versions) and the
# build logs OUTDIR/anchor-*.log. Needs root (the chroots).
set -euo pipefail

prog=bench
die() { echo "$prog: $*" >&2; exit 1; }
[ $# -eq 7 ] || die "usage: bench/anchors.sh OUTDIR P3KEY P5KEY RH2 OFF2 RH4 OFF4"
out=$1 p3key=$2 p5key=$3 rh2=$4 off2=$5 rh4=$6 off4=$7
DC=qemu-tests/distro-chroot.sh
[ "$(id -u)" -eq 0 ] || die "BENCH_ANCHORS=yes needs root (the Debian chroots: debootstrap, chroot, mounts)"

# The same device names as cvminit's, so the launcher sees the same volumes.
keys() { # STAGE: the two key files, 0400, at /etc/bench-keys/
	mkdir -p "$1/etc/bench-keys"
	install -m 0400 "$p3key" "$1/etc/bench-keys/root.key"
	install -m 0400 "$p5key" "$1/etc/bench-keys/jobs.key"
}
run_in() { # CHROOT STAGE LOG CMD...: CMD in a throw-away copy of CHROOT
	local name=$1 stage=$2 log=$3
	shift 3
	rm -rf "$out/anchor-work-$name"
	"$DC" run "$name" --work "$out/anchor-work-$name" --copy-in "$stage" \
		--ro-bind "$KERNEL_MODDIR:/usr/lib/modules/$KERNEL_VER" \
		--ro-bind "$(dirname "$KERNEL_IMAGE")/config:/boot/config-$KERNEL_VER" \
		--bind "$out/anchor-out:/srv/out" -- "$@" > "$log" 2>&1 ||
		{ tail -n 20 "$log" | sed 's/^/  /' >&2; die "$* failed in the $name chroot (log: $log)"; }
	rm -rf "$out/anchor-work-$name"
}
mkdir -p "$out/anchor-out"
for c in dracut-systemd initramfs-tools-cryptsetup; do
	"$DC" ensure "$c" > /dev/null || die "no $c chroot (qemu-tests/distro-chroot.sh ensure $c failed)"
done

# ---- dracut + systemd ---------------------------------------------------
st=$out/anchor-stage-dracut
rm -rf "$st"
keys "$st"
mkdir -p "$st/etc/dracut.conf.d"
cat > "$st/etc/crypttab" <<EOF
cvm-root /dev/vda3 /etc/bench-keys/root.key luks
cvm-jobs /dev/vda5 /etc/bench-keys/jobs.key luks
EOF
cat > "$st/etc/veritytab" <<EOF
cvm-boot /dev/vda2 /dev/vda2 $rh2 hash-offset=$off2,panic-on-corruption
cvm-config /dev/vda4 /dev/vda4 $rh4 hash-offset=$off4,panic-on-corruption
EOF
# hostonly=no: dracut copies crypttab/veritytab only in host-only mode, so
# install_items names them (and the key files) explicitly.
cat > "$st/etc/dracut.conf.d/90-bench.conf" <<EOF
hostonly="no"
add_dracutmodules+=" systemd crypt systemd-veritysetup "
install_items+=" /etc/crypttab /etc/veritytab /etc/bench-keys/root.key /etc/bench-keys/jobs.key "
early_microcode="no"
reproducible="yes"
EOF
run_in dracut-systemd "$st" "$out/anchor-dracut.log" dracut --kver "$KERNEL_VER" --force /srv/out/dracut.img
mv "$out/anchor-out/dracut.img" "$out/dracut.img"

# ---- initramfs-tools + cryptsetup-initramfs -----------------------------
st=$out/anchor-stage-initramfs-tools
rm -rf "$st"
keys "$st"
mkdir -p "$st/etc/cryptsetup-initramfs" "$st/etc/initramfs-tools/conf.d" \
	"$st/etc/initramfs-tools/hooks" "$st/etc/initramfs-tools/scripts/local-top"
# "initramfs": unlock in the initramfs although it is not the build host's root
cat > "$st/etc/crypttab" <<EOF
cvm-root /dev/vda3 /etc/bench-keys/root.key luks,initramfs
cvm-jobs /dev/vda5 /etc/bench-keys/jobs.key luks,initramfs
EOF
echo 'KEYFILE_PATTERN="/etc/bench-keys/*.key"' > "$st/etc/cryptsetup-initramfs/conf-hook"
echo 'UMASK=0077' > "$st/etc/initramfs-tools/conf.d/bench" # the image holds key files
cat > "$st/etc/initramfs-tools/hooks/bench-verity" <<'EOF'
#!/bin/sh
# make bench anchor: veritysetup and dm-verity for scripts/local-top/bench-verity
case "$1" in prereqs) exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
copy_exec /usr/sbin/veritysetup /sbin
manual_add_modules dm_verity
EOF
cat > "$st/etc/initramfs-tools/scripts/local-top/bench-verity" <<EOF
#!/bin/sh
# make bench anchor: p2/p4 dm-verity (initramfs-tools has no verity support)
case "\$1" in prereqs) exit 0 ;; esac
. /scripts/functions
modprobe -q dm_verity
veritysetup open /dev/vda2 cvm-boot /dev/vda2 $rh2 --hash-offset=$off2 --panic-on-corruption || panic "veritysetup cvm-boot failed"
veritysetup open /dev/vda4 cvm-config /dev/vda4 $rh4 --hash-offset=$off4 --panic-on-corruption || panic "veritysetup cvm-config failed"
EOF
chmod 0755 "$st/etc/initramfs-tools/hooks/bench-verity" "$st/etc/initramfs-tools/scripts/local-top/bench-verity"
run_in initramfs-tools-cryptsetup "$st" "$out/anchor-initramfs-tools.log" \
	mkinitramfs -o /srv/out/initramfs-tools.img "$KERNEL_VER"
mv "$out/anchor-out/initramfs-tools.img" "$out/initramfs-tools.img"
rmdir "$out/anchor-out"

# ---- what report.py and bench.sh need -----------------------------------
{
	echo "ANCHOR_CMDLINE_dracut='quiet root=/dev/mapper/cvm-root rootfstype=ext4 rw rd.shell=0 rd.emergency=poweroff'"
	echo "ANCHOR_CMDLINE_initramfs_tools='quiet root=/dev/mapper/cvm-root rootfstype=ext4 rw'"
	for c in dracut-systemd initramfs-tools-cryptsetup; do
		echo "ANCHOR_PACKAGES_${c//-/_}='$(sed -n '3,$p' "$("$DC" path "$c")/.cvminit-chroot" | tr '\t' = | paste -sd' ')'"
	done
} > "$out/anchors.env"
