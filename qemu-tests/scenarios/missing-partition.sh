# qemu/missing-partition: the config partition (p4) is absent from the disk:
# within PART_TIMEOUT the init stops with one FATAL line that names it and
# lists what it found; the VM powers off; the launcher never runs.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
TIMEOUT=3
E_FATAL_STAGE="partitions"
E_FATAL_REASON="missing PARTLABEL=cvm-config (config) after $TIMEOUT s; found: vda1 (cvm-esp), vda2 (cvm-boot), vda3 (cvm-root), vda5 (cvm-jobs), vda6 (cvm-data)"
# The same in parts, in case the exact list format differs:
E_FATAL_RE="^cvminit: FATAL: partitions: .*cvm-config.*found:.*cvm-root.*cvm-jobs"
E_MAX_SECONDS=40   # the whole boot, well above the 3 s wait on a loaded TCG host
# ==========================================================================

cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=$TIMEOUT
CONF
)
disk_build --omit 4
initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_regex "$E_FATAL_RE"
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_no_regex '^cvminit: switch_root: '
expect_boot_within "$E_MAX_SECONDS"
