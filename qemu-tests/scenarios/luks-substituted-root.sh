# qemu/luks-substituted-root (issue 12): the host replaces p3 by a LUKS2
# volume it made itself, with the key it learned (here the test key file:
# a typed passphrase or an emulated TPM's secret are the host's alike), its
# own content and its own UUID. The keyslot opens; the volume key is not the
# one the image was built with, so ROOT_VOLUME_KEY_PIN stops the boot before
# the mapping exists: one FATAL line, nothing launched, p3 unchanged, and the
# halt lines say what was undone. Control: the same disk, the same init,
# without the pin: the host's root launches (its marker file is read), so the
# pin alone stops the attack.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="root"
E_FATAL_REASON="/dev/vda3: volume key does not match ROOT_VOLUME_KEY_PIN: not the volume this image was built with (substituted?)"
E_HALT="cvminit: halt: PCR 15 not measured; unmounted 0; removed mappings cvm-config cvm-boot; 0 key buffers wiped"
E_NONE_LEFT="cvminit: halt: no cvminit dm mapping left"
E_HOST_ROOT="STANDIN: cat /HOST-MARKER: the host's own root"
HOST_UUID=c7a11e00-1000-4000-8000-0000000000ff
# ==========================================================================

protected_disk --jobs-keyfile
pin=$(volume_key_pin 3 "$ROOT_KEY")        # the image builder's pin of the genuine p3
# The host's volume: built the normal way, same key, its own files and UUID.
printf "the host's own root\n" > "$WORK/host-marker"
"$REPO/qemu-tests/mkdisk.sh" --quiet --out "$WORK/host.img" --standin "$STANDIN" \
	--luks-keyfile "3=$ROOT_KEY" --luks-uuid "3=$HOST_UUID" --add "3=$WORK/host-marker:/HOST-MARKER" ||
	die "mkdisk.sh (host volume) failed"
hoff=$(awk '$1 == 3 { print $3 }' "$WORK/host.img.layout")
hsize=$(awk '$1 == 3 { print $4 }' "$WORK/host.img.layout")
[ "$hsize" = "$(part_size 3)" ] || die "the host's p3 ($hsize bytes) does not fit slot 3 ($(part_size 3) bytes)"
dd if="$WORK/host.img" of="$DISK" bs=1M iflag=skip_bytes,count_bytes skip="$hoff" count="$hsize" \
	oflag=seek_bytes seek="$(part_offset 3)" conv=notrunc status=none
slot_extract 3 "$WORK/p3-now.img"
[ "$(cryptsetup luksUUID --disable-locks "$WORK/p3-now.img")" = "$HOST_UUID" ] || die "p3 was not substituted"
rm -f "$WORK/p3-now.img"
part_snapshot 3

conf() {
	config_file cvminit.conf <<CONF
PART_TIMEOUT=10
TMP_SIZE=64m
$(protected_config --jobs-source keyfile)
LAUNCHER_ARGS="--standin-cat=/HOST-MARKER"
$*
CONF
}
protected_initramfs_build --config "$(conf "$pin")"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_no_regex '^cvminit: root: /dev/vda3 opened as '
expect_line "$E_HALT"
expect_line "$E_NONE_LEFT"
expect_part_unchanged 3

# Control: without the pin the very same substituted disk boots the host's root.
protected_initramfs_build --config "$(conf)"
boot
expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "cvminit: root: volume key not pinned (keyslot 0)"
expect_line "$E_HOST_ROOT"
