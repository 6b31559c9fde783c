# qemu/wrong-roothash: the disk is intact but the embedded configuration
# pins a different root hash for p4 (one hex digit changed): the boot stops
# before anything of p4 is used, with one FATAL line naming the config
# partition and the key; the launcher never runs, the VM powers off.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="verity"
E_FATAL_REASON="config: root hash does not match the hash tree on /dev/vda4 (wrong CONFIG_VERITY_ROOTHASH, or the tree was modified)"
E_NOT_ACTIVE="cvminit: verity: config: /dev/mapper/cvm-config active (panic on corruption)"
# ==========================================================================

protected_disk
real=$(verity_value 4 ROOTHASH)
# the same hash with its first hex digit changed
wrong=$(printf '%x' $(( (0x${real:0:1} + 1) % 16 )))${real:1}
note "p4's root hash $real; configured $wrong"
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config --set "CONFIG_VERITY_ROOTHASH=$wrong")
CONF
)
grep -qx "CONFIG_VERITY_ROOTHASH=$wrong" "$cfg" || die "the wrong root hash is not in $cfg"
protected_initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_no_line "$E_NOT_ACTIVE"
expect_not_launched
expect_no_regex '^cvminit: (root|jobstore|mounts|switch_root): '
expect_no_regex '^Passphrase for '
