# qemu/data-noload (issue 12): p6 is the host's, and so is an ext4 journal on
# it. The host leaves a committed journal transaction that rewrites the
# block of /DATA-MARKER and marks the file system as needing recovery, as
# e2fsprogs' own journal tests do (debugfs jo/jw/jc). With the default
# DATA_OPTIONS (noload) the journal is not replayed: the marker reads as
# built, /proc/mounts shows norecovery, and p6 is left byte for byte as it
# was. Control: the same disk with DATA_OPTIONS without noload, where the
# kernel replays the host's transaction and the marker reads as the host
# wrote it (and the init warns).
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_MOUNT_NOLOAD_RE='^STANDIN: mount /dev/vda6 /opt/nvflare/data ext4 ro,nosuid,nodev,noexec,relatime,(.*,)?(norecovery|noload)(,.*)?$'
E_MARKER="STANDIN: cat /opt/nvflare/data/DATA-MARKER: cvm-data marker"
E_REPLAYED="STANDIN: cat /opt/nvflare/data/DATA-MARKER: host-replayed!!"
E_WARN="cvminit: mounts: data: DATA_OPTIONS without noload: the kernel may replay p6's journal, which the host wrote"
# ==========================================================================

disk_build
# the host's transaction: /DATA-MARKER's block with other bytes
off=$(file_offset 6 /DATA-MARKER)
slot_extract 6 "$WORK/p6.img"
python3 -c "import sys; sys.stdout.buffer.write(b'host-replayed!!\n'.ljust(4096, b'\0'))" > "$WORK/host-block.bin"
printf 'jo\njw -b %s %s\njc\n' $((off / 4096)) "$WORK/host-block.bin" > "$WORK/journal.cmd"
debugfs -w -f "$WORK/journal.cmd" "$WORK/p6.img" >"$WORK/debugfs.log" 2>&1 || die "debugfs failed"
dumpe2fs -h "$WORK/p6.img" 2>/dev/null | grep -q '^Filesystem features:.* needs_recovery' ||
	die "p6 does not need recovery after the host's transaction"
debugfs -R "cat /DATA-MARKER" "$WORK/p6.img" 2>/dev/null | grep -qx 'cvm-data marker' ||
	die "the host's transaction is not only in the journal"
dd if="$WORK/p6.img" of="$DISK" bs=1M oflag=seek_bytes seek="$(part_offset 6)" conv=notrunc status=none
rm -f "$WORK/p6.img"
cp "$DISK" "$WORK/crafted.img"
base="ROOT_ENCRYPTION=none
JOB_STORE_ENCRYPTION=none
TMP_SIZE=64m
LAUNCHER_ARGS=\"--standin-cat=/opt/nvflare/data/DATA-MARKER\""

# 1: the default (noload): not replayed, p6 untouched
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
initramfs_build --config "$(printf '%s\n' "$base" | config_file noload.conf)"
part_snapshot 6
boot
expect_vm_exit 0
expect_poweroff
expect_launched
expect_regex "$E_MOUNT_NOLOAD_RE"
expect_line "$E_MARKER"
expect_no_line "$E_REPLAYED"
expect_no_line "$E_WARN"
expect_part_unchanged 6

# 2: control: DATA_OPTIONS without noload replays the host's transaction
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
initramfs_build --config "$(printf '%s\nDATA_OPTIONS=ro,nodev,nosuid,noexec\n' "$base" | config_file replay.conf)"
boot
expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_WARN"
expect_line "$E_REPLAYED"
expect_no_regex '^STANDIN: mount /dev/vda6 .*(norecovery|noload)'
