# qemu/no-launcher: the configured launcher does not exist in the new root:
# the init stops before switching with one FATAL line naming the launcher;
# the launcher never runs, the VM powers off.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="switch_root"
E_FATAL_REASON="launcher /sbin/init not found in the new root: No such file or directory"
# ==========================================================================

cfg=$(config_file cvminit.conf <<'CONF'
PART_TIMEOUT=5
ROOT_ENCRYPTION=none
JOB_STORE_ENCRYPTION=none
CONF
)
disk_build --no-launcher
initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
