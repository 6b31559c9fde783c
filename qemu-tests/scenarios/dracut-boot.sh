# qemu/dracut-boot: an initramfs made by Debian's dracut with the cvminit
# module (make install-dracut), in a cached Debian chroot, boots the
# protected demo disk: cvminit is /init (no dracut init, no systemd), loads
# the modules the module listed in modules.load, opens and mounts every
# partition (p2/p4 dm-verity, p3/p5 LUKS2 by key file) and runs the launcher.
# shellcheck shell=bash disable=SC2119
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/distro-image.sh"

# ==== expected strings: align these with the init's real messages ========
# install() refusing a second init (dracut -m "cvminit base")
E_REFUSED="cvminit: dracut module 'base' brings its own /init: cvminit must be the only init"
# what dracut's own init (dracut-lib, systemd in the initrd) would print
E_FOREIGN_RE='^(dracut[:-]|\[ *OK *\]|Welcome to |systemd\[1\])'
# ==========================================================================

DC=$REPO/qemu-tests/distro-chroot.sh
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
[ "$(id -u)" -eq 0 ] || die "needs root: the dracut chroot (debootstrap, chroot, mounts)"

t0=$EPOCHREALTIME
chroot_dir=$("$DC" ensure dracut) || die "no dracut chroot (distro-chroot.sh ensure dracut failed)"
note "dracut chroot ready in $(since "$t0") s: $(sed -n '3,$p' "$chroot_dir/.cvminit-chroot" | tr '\t' = | paste -sd' ')"

protected_disk --jobs-keyfile
cfg=$(config_file cvminit.conf <<CONF
# dracut-boot: every partition protected, both LUKS2 volumes by key file
PART_TIMEOUT=10
TMP_SIZE=64m
$(protected_config --jobs-source keyfile)
LAUNCHER_ARGS="--standin-ls=/ --standin-cat=/boot/BOOT-MARKER --standin-cat=/opt/nvflare/config/CONFIG-MARKER --standin-cat=/opt/nvflare/jobs/JOBS-MARKER --standin-cat=/opt/nvflare/data/DATA-MARKER"
CONF
)
# cvminit's own image of the same inputs, for the size comparison
protected_initramfs_build --config "$cfg"
own=$INITRD

# What an image builder puts into its build system: the module (with the host
# tool, the release init and the default module list) from make, the
# configuration at the default path, and a dracut.conf.d file choosing the
# test init and the test key files.
stage=$WORK/stage
make -C "$REPO" -s --no-print-directory -o build/init -o build/cvminit \
	install-dracut DESTDIR="$stage" > "$WORK/install.log" 2>&1 ||
	{ sed 's/^/#   /' "$WORK/install.log"; die "make install-dracut failed"; }
mkdir -p "$stage/etc/cvminit" "$stage/etc/dracut.conf.d" "$stage/srv/cvminit-test" "$WORK/out"
cp "$cfg" "$stage/etc/cvminit/cvminit.conf"
cp "$INIT_TEST" "$ROOT_KEY" "$JOBS_KEY" "$stage/srv/cvminit-test/"
cat > "$stage/etc/dracut.conf.d/90-cvminit-test.conf" <<EOF
# cvminit test build and test key files (qemu/dracut-boot)
CVMINIT_INIT=/srv/cvminit-test/init-test
CVMINIT_FILES="/srv/cvminit-test/root.key:$KEYS_DIR/root.key:0400 /srv/cvminit-test/jobs.key:$KEYS_DIR/jobs.key:0400"
EOF

t0=$EPOCHREALTIME
"$DC" run dracut --work "$WORK/chroot" --copy-in "$stage" \
	--ro-bind "$KERNEL_MODDIR:/usr/lib/modules/$KERNEL_VER" \
	--ro-bind "$(dirname "$KERNEL_IMAGE")/config:/boot/config-$KERNEL_VER" \
	--bind "$WORK/out:/srv/out" -- \
	dracut -m cvminit --no-hostonly --reproducible --kver "$KERNEL_VER" --force /srv/out/initramfs.img \
	> "$WORK/dracut.log" 2>&1 || { tail -n 20 "$WORK/dracut.log" | sed 's/^/#   /'; die "dracut failed"; }
INITRD=$WORK/out/initramfs.img
[ -s "$INITRD" ] || die "dracut wrote no image"
note "dracut built the image in $(since "$t0") s (chroot run included): $(stat -c %s "$INITRD") bytes; cvminit initramfs build: $(stat -c %s "$own") bytes"
# A module that brings its own /init cannot share the image with cvminit.
if "$DC" run dracut --work "$WORK/chroot-refused" --copy-in "$stage" \
	--ro-bind "$KERNEL_MODDIR:/usr/lib/modules/$KERNEL_VER" --bind "$WORK/out:/srv/out" -- \
	dracut -m "cvminit base" --no-hostonly --kver "$KERNEL_VER" --force /srv/out/refused.img \
	> "$WORK/dracut-refused.log" 2>&1; then
	fail "dracut -m 'cvminit base' succeeded; cvminit's module should refuse it"
fi
grep -qF "$E_REFUSED" "$WORK/dracut-refused.log" ||
	fail "dracut -m 'cvminit base': no line '$E_REFUSED' (see dracut-refused.log)"
[ ! -e "$WORK/out/refused.img" ] || fail "dracut -m 'cvminit base' wrote an image"

distro_image_check
E_NOT_IN_IMAGE_RE=' (/usr/lib/systemd/systemd|/usr/lib/dracut-lib\.sh|/usr/bin/(ba|da)?sh)$'
if grep -qE "$E_NOT_IN_IMAGE_RE" "$WORK/image.list"; then
	fail "the image has dracut's or systemd's init or a shell: $(grep -E "$E_NOT_IN_IMAGE_RE" "$WORK/image.list" | head -n 3 | tr '\n' ' ')"
fi

# ---- the boot ----------------------------------------------------------
distro_boot_expect
