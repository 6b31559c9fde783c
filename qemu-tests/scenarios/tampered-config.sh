# qemu/tampered-config: one byte of a file's content on p4 (the config
# partition, dm-verity) is changed after the disk was built. The embedded
# root hash is the right one; the full pre-verification of p4
# (VERITY_PREVERIFY=config, the default) finds the changed block before the
# mapping is even activated: the boot stops with one FATAL line naming the
# config partition, nothing is mounted, the launcher never runs, the VM
# powers off and the disk is left as it was.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="verity"
E_FATAL_REASON="config: /dev/vda4 does not match its root hash (the partition was modified)"
E_NOT_ACTIVE="cvminit: verity: config: /dev/mapper/cvm-config active (panic on corruption)"
TAMPERED_FILE=/CONFIG-MARKER      # its first byte is inverted
# ==========================================================================

protected_disk
off=$(file_offset 4 "$TAMPERED_FILE")
[ "$off" -lt "$(verity_value 4 HASH_OFFSET)" ] || die "$TAMPERED_FILE is not in p4's data area"
flip_byte 4 "$off"
note "inverted the byte at offset $off of p4 (first byte of $TAMPERED_FILE)"
# Debian's veritysetup agrees that p4 no longer matches its root hash.
slot_extract 4 "$WORK/p4.img"
if veritysetup verify --data-blocks="$(verity_value 4 DATA_BLOCKS)" --hash-offset="$(verity_value 4 HASH_OFFSET)" \
	"$WORK/p4.img" "$WORK/p4.img" "$(verity_value 4 ROOTHASH)" >"$WORK/veritysetup-verify.log" 2>&1; then
	die "veritysetup verify still accepts the tampered p4: the tamper did not take"
fi
rm -f "$WORK/p4.img"
part_snapshot 4

cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config)
CONF
)
protected_initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_no_line "$E_NOT_ACTIVE"
expect_not_launched
expect_no_regex '^cvminit: (root|jobstore|mounts|switch_root): '
expect_no_regex '^Passphrase for '
expect_part_unchanged 4
