# qemu/data-verity (issue 12): p6 (the data partition, written by the host)
# may be dm-verity protected like p2 and p4 (DATA_VERITY_*). With its tree
# appended, the boot opens it as /dev/mapper/cvm-data and mounts that
# read-only with noload; then one byte of a file's content on p6 is changed
# the way a host would, and the same image stops with one FATAL line naming
# p6 (VERITY_PREVERIFY=data checks it block by block before activation):
# nothing is mounted, the launcher never runs, the disk is left as it was.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_ACTIVE="cvminit: verity: data: /dev/mapper/cvm-data active (panic on corruption)"
E_VERIFIED_RE='^cvminit: verity: data: /dev/vda6 verified against its root hash \(full check, [0-9]+ ms\)$'
# ext4 shows noload as norecovery in /proc/mounts
E_MOUNT_RE='^STANDIN: mount /dev/mapper/cvm-data /opt/nvflare/data ext4 ro,nosuid,nodev,noexec,relatime,(.*,)?(norecovery|noload)(,.*)?$'
E_MARKER="STANDIN: cat /opt/nvflare/data/DATA-MARKER: cvm-data marker"
E_FATAL_REASON="data: /dev/vda6 does not match its root hash (the partition was modified)"
TAMPERED_FILE=/DATA-MARKER      # its first byte is inverted
# ==========================================================================

protected_disk --jobs-plain --verity 6
[ "$(verity_value 6 HASH)" = appended ] || die "p6's tree is not appended"
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config --set VERITY_PREVERIFY=data)
LAUNCHER_ARGS="--standin-cat=/opt/nvflare/data/DATA-MARKER"
CONF
)
grep -qx "DATA_VERITY_ROOTHASH=$(verity_value 6 ROOTHASH)" "$cfg" || die "no DATA_VERITY_ROOTHASH in $cfg"
protected_initramfs_build --config "$cfg"

# 1: the genuine p6
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
boot
expect_vm_exit 0
expect_poweroff
expect_no_regex '^cvminit: FATAL: '
expect_regex "$E_VERIFIED_RE"
expect_line "$E_ACTIVE"
expect_regex "$E_MOUNT_RE"
expect_line "$E_MARKER"
expect_launched

# 2: the host changes one byte of a file on p6
off=$(file_offset 6 "$TAMPERED_FILE")
[ "$off" -lt "$(verity_value 6 HASH_OFFSET)" ] || die "$TAMPERED_FILE is not in p6's data area"
flip_byte 6 "$off"
note "inverted the byte at offset $off of p6 (first byte of $TAMPERED_FILE)"
slot_extract 6 "$WORK/p6.img"
if veritysetup verify --data-blocks="$(verity_value 6 DATA_BLOCKS)" --hash-offset="$(verity_value 6 HASH_OFFSET)" \
	"$WORK/p6.img" "$WORK/p6.img" "$(verity_value 6 ROOTHASH)" >"$WORK/veritysetup-verify.log" 2>&1; then
	die "veritysetup verify still accepts the tampered p6: the tamper did not take"
fi
# without dm-verity the changed file would be read as it is now
debugfs -R "cat $TAMPERED_FILE" "$WORK/p6.img" 2>/dev/null | grep -q 'cvm-data marker' &&
	die "the tamper did not change $TAMPERED_FILE's content"
rm -f "$WORK/p6.img"
part_snapshot 6
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
boot
expect_vm_exit 0
expect_poweroff
expect_fatal verity "$E_FATAL_REASON"
expect_no_line "$E_ACTIVE"
expect_not_launched
expect_no_regex '^cvminit: (root|jobstore|mounts|switch_root): '
expect_part_unchanged 6
