# qemu/corrupt-luks-header: p3 (the root, LUKS2) has both copies of its
# LUKS2 binary header damaged (one byte of each header's JSON area: the magic
# stays, both checksums fail, so there is no good copy to recover from). The
# boot stops in stage luks (the header policy: both copies must be intact)
# with one FATAL line naming the partition and the failing checksum; no key
# is tried, nothing is repaired or written, the launcher never runs.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="luks"
E_FATAL_REASON_RE='root: /dev/vda3: LUKS2 header refused: header copy 1 \(offset 0\): checksum mismatch'
# LUKS2 on-disk format: binary header + JSON area of 16 KiB (metadata size),
# copy 1 at 0, copy 2 at 16 KiB; the JSON text starts 4096 bytes into each.
DAMAGE_OFFSETS="$((4096 + 16)) $((16384 + 4096 + 16))"
# ==========================================================================

protected_disk
for o in $DAMAGE_OFFSETS; do flip_byte 3 "$o"; done
note "inverted p3's bytes at $DAMAGE_OFFSETS (JSON area of both LUKS2 header copies)"
# Debian's cryptsetup agrees that no header copy is valid (--disable-locks
# also disables its header auto-recovery: it reads a private copy anyway).
slot_extract 3 "$WORK/p3-header.img" "$(luks_value 3 DATA_OFFSET)"
if cryptsetup luksDump --disable-locks "$WORK/p3-header.img" >"$WORK/luksdump.log" 2>&1; then
	die "cryptsetup luksDump still reads p3's header: the damage did not take"
fi
rm -f "$WORK/p3-header.img"
part_snapshot 3

cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config)
CONF
)
protected_initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal_regex "$E_FATAL_STAGE" "$E_FATAL_REASON_RE"
expect_not_launched
expect_no_regex '^cvminit: (jobstore|mounts|switch_root): '
expect_no_regex '^Passphrase for '
expect_part_unchanged 3
