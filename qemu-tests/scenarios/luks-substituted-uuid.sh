# qemu/luks-substituted-uuid (issue 12): like luks-substituted-root, but the
# host's volume copies the genuine p3's LUKS2 UUID (what the evidence and a
# UUID check would see is identical); the keyslot opens with the key the host
# learned, and only the volume key differs. ROOT_VOLUME_KEY_PIN refuses it:
# one FATAL line, nothing launched, p3 unchanged.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="root"
E_FATAL_REASON="/dev/vda3: volume key does not match ROOT_VOLUME_KEY_PIN: not the volume this image was built with (substituted?)"
E_NONE_LEFT="cvminit: halt: no cvminit dm mapping left"
# ==========================================================================

protected_disk --jobs-keyfile
uuid=$(luks_value 3 UUID)
slot_extract 3 "$WORK/genuine-p3.img"
genuine_hdr=$(head -c 16777216 "$WORK/genuine-p3.img" | sha256sum)
rm -f "$WORK/genuine-p3.img"
pin=$(volume_key_pin 3 "$ROOT_KEY")
printf "the host's own root\n" > "$WORK/host-marker"
"$REPO/qemu-tests/mkdisk.sh" --quiet --out "$WORK/host.img" --standin "$STANDIN" \
	--luks-keyfile "3=$ROOT_KEY" --luks-uuid "3=$uuid" --add "3=$WORK/host-marker:/HOST-MARKER" ||
	die "mkdisk.sh (host volume) failed"
hoff=$(awk '$1 == 3 { print $3 }' "$WORK/host.img.layout")
hsize=$(awk '$1 == 3 { print $4 }' "$WORK/host.img.layout")
[ "$hsize" = "$(part_size 3)" ] || die "the host's p3 ($hsize bytes) does not fit slot 3 ($(part_size 3) bytes)"
dd if="$WORK/host.img" of="$DISK" bs=1M iflag=skip_bytes,count_bytes skip="$hoff" count="$hsize" \
	oflag=seek_bytes seek="$(part_offset 3)" conv=notrunc status=none
slot_extract 3 "$WORK/p3-now.img"
[ "$(cryptsetup luksUUID --disable-locks "$WORK/p3-now.img")" = "$uuid" ] || die "the host's volume lacks the genuine UUID"
[ "$(head -c 16777216 "$WORK/p3-now.img" | sha256sum)" != "$genuine_hdr" ] || die "p3 was not substituted"
rm -f "$WORK/p3-now.img"
part_snapshot 3

cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
TMP_SIZE=64m
$(protected_config --jobs-source keyfile)
LAUNCHER_ARGS="--standin-cat=/HOST-MARKER"
$pin
CONF
)
protected_initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_no_regex '^cvminit: root: /dev/vda3 opened as '
expect_line "$E_NONE_LEFT"
expect_part_unchanged 3
