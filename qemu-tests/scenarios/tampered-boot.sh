# qemu/tampered-boot: one byte of p2 (the boot partition, dm-verity) is
# changed inside the ext4 superblock's block (not the magic: the
# filesystem would still look valid to anything that does not verify).
# p2 is not pre-verified (VERITY_PREVERIFY=config), so the mapping is
# activated; the init's read right after activation hits the changed block
# and the kernel's dm-verity, in panic-on-corruption mode, stops the VM:
# the console shows the corrupted data block and the panic, nothing is
# mounted, the launcher never runs.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
# dm-verity's own lines (pinned kernel 6.12); 254:2 or similar is vda2's major:minor.
E_CORRUPT_RE='^device-mapper: verity: [0-9]+:[0-9]+: data block 0 is corrupted$'
E_PANIC="Kernel panic - not syncing: dm-verity device corrupted"
TAMPER_OFFSET=$((1024 + 0x78))   # ext4 superblock, s_volume_name[0] (data block 0)
# ==========================================================================

protected_disk
flip_byte 2 "$TAMPER_OFFSET"
note "inverted the byte at offset $TAMPER_OFFSET of p2 (ext4 superblock, volume name)"
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config)
CONF
)
protected_initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_how panic
expect_regex "$E_CORRUPT_RE"
expect_line "$E_PANIC"
expect_not_launched
expect_no_regex '^cvminit: (root|jobstore|mounts|switch_root): '
expect_no_regex '^Passphrase for '
