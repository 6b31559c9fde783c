# qemu/initramfs-tools-boot: an initramfs made by Debian's mkinitramfs with
# the cvminit hook (make install-initramfs-tools), in a cached Debian chroot,
# boots the protected demo disk: cvminit replaced initramfs-tools' /init
# script (none of its scripts, udev or klibc tools run), loads the modules
# the hook listed in modules.load, opens and mounts every partition (p2/p4
# dm-verity, p3/p5 LUKS2 by key file) and runs the launcher. Also: without
# CVMINIT_INITRAMFS=yes the hook leaves the image alone.
# shellcheck shell=bash disable=SC2119
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/distro-image.sh"

# ==== expected strings: align these with the init's real messages ========
# what initramfs-tools' own /init and udev would print
E_FOREIGN_RE='^(Loading, please wait|Begin: |Starting systemd-udevd|\(initramfs\) )'
# ==========================================================================

DC=$REPO/qemu-tests/distro-chroot.sh
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
[ "$(id -u)" -eq 0 ] || die "needs root: the initramfs-tools chroot (debootstrap, chroot, mounts)"

t0=$EPOCHREALTIME
chroot_dir=$("$DC" ensure initramfs-tools) || die "no initramfs-tools chroot (distro-chroot.sh ensure initramfs-tools failed)"
note "initramfs-tools chroot ready in $(since "$t0") s: $(sed -n '3,$p' "$chroot_dir/.cvminit-chroot" | tr '\t' = | paste -sd' ')"

protected_disk --jobs-keyfile
cfg=$(config_file cvminit.conf <<CONF
# initramfs-tools-boot: every partition protected, both LUKS2 volumes by key file
PART_TIMEOUT=10
TMP_SIZE=64m
$(protected_config --jobs-source keyfile)
LAUNCHER_ARGS="--standin-ls=/ --standin-cat=/boot/BOOT-MARKER --standin-cat=/opt/nvflare/config/CONFIG-MARKER --standin-cat=/opt/nvflare/jobs/JOBS-MARKER --standin-cat=/opt/nvflare/data/DATA-MARKER"
CONF
)
# cvminit's own image of the same inputs, for the size comparison
protected_initramfs_build --config "$cfg"
own=$INITRD

# What an image builder puts into its build system: the hook (with the host
# tool, the release init and the default module list) from make, the
# configuration at the default path, and an initramfs-tools conf.d file that
# switches the hook on and chooses the test init and the test key files
# (MODULES=list: no modules beyond the hook's; no busybox: nothing uses it).
stage=$WORK/stage
make -C "$REPO" -s --no-print-directory -o build/init -o build/cvminit \
	install-initramfs-tools DESTDIR="$stage" > "$WORK/install.log" 2>&1 ||
	{ sed 's/^/#   /' "$WORK/install.log"; die "make install-initramfs-tools failed"; }
mkdir -p "$stage/etc/cvminit" "$stage/etc/initramfs-tools/conf.d" "$stage/srv/cvminit-test" "$WORK/out"
cp "$cfg" "$stage/etc/cvminit/cvminit.conf"
cp "$INIT_TEST" "$ROOT_KEY" "$JOBS_KEY" "$stage/srv/cvminit-test/"
cat > "$stage/etc/initramfs-tools/conf.d/cvminit" <<EOF
# cvminit as /init, test build and test key files (qemu/initramfs-tools-boot)
MODULES=list
BUSYBOX=n
export CVMINIT_INITRAMFS="\${CVMINIT_INITRAMFS:-yes}"
export CVMINIT_INIT=/srv/cvminit-test/init-test
export CVMINIT_FILES="/srv/cvminit-test/root.key:$KEYS_DIR/root.key:0400 /srv/cvminit-test/jobs.key:$KEYS_DIR/jobs.key:0400"
EOF
run_mkinitramfs() {  # run_mkinitramfs WORKDIR OUTPUT [VAR=VALUE...]: in the chroot
	local work=$1 out=$2
	shift 2
	local envs=() e
	for e in "$@"; do envs+=(--env "$e"); done
	"$DC" run initramfs-tools --work "$work" --copy-in "$stage" \
		--ro-bind "$KERNEL_MODDIR:/usr/lib/modules/$KERNEL_VER" \
		--ro-bind "$(dirname "$KERNEL_IMAGE")/config:/boot/config-$KERNEL_VER" \
		--bind "$WORK/out:/srv/out" ${envs[@]+"${envs[@]}"} -- \
		mkinitramfs -v -o "/srv/out/$out" "$KERNEL_VER"
}

t0=$EPOCHREALTIME
run_mkinitramfs "$WORK/chroot" initramfs.img > "$WORK/mkinitramfs.log" 2>&1 ||
	{ tail -n 20 "$WORK/mkinitramfs.log" | sed 's/^/#   /'; die "mkinitramfs failed"; }
INITRD=$WORK/out/initramfs.img
[ -s "$INITRD" ] || die "mkinitramfs wrote no image"
note "mkinitramfs built the image in $(since "$t0") s (chroot run included): $(stat -c %s "$INITRD") bytes; cvminit initramfs build: $(stat -c %s "$own") bytes"
grep -qxF "Calling hook cvminit" "$WORK/mkinitramfs.log" || fail "mkinitramfs did not call the cvminit hook (mkinitramfs.log)"
# Switched off (CVMINIT_INITRAMFS=no), the hook leaves initramfs-tools' /init.
run_mkinitramfs "$WORK/chroot-off" off.img CVMINIT_INITRAMFS=no > "$WORK/mkinitramfs-off.log" 2>&1 ||
	{ tail -n 20 "$WORK/mkinitramfs-off.log" | sed 's/^/#   /'; die "mkinitramfs (hook off) failed"; }
"$DC" image-cat "$WORK/out/off.img" /init > "$WORK/off-init" || die "no /init in off.img"
off_init=$(head -n 1 "$WORK/off-init" | tr -cd '[:print:]')
[ "$off_init" = "#!/bin/sh" ] || fail "with CVMINIT_INITRAMFS=no /init is not initramfs-tools' script (starts: $off_init)"
if "$DC" image-cat "$WORK/out/off.img" /etc/cvminit/cvminit.conf > /dev/null 2>&1; then
	fail "with CVMINIT_INITRAMFS=no the image still has /etc/cvminit/cvminit.conf"
fi

distro_image_check
# ---- the boot ----------------------------------------------------------
distro_boot_expect
