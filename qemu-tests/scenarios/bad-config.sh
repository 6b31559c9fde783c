# qemu/bad-config: an unknown key in the embedded configuration: the init
# stops in the config stage with one FATAL line naming the key and its line;
# no partition is touched, the launcher never runs, the VM powers off.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="config"
E_FATAL_REASON="/etc/cvminit/cvminit.conf:3: unknown key NO_SUCH_KEY"
# ==========================================================================

cfg=$(config_file cvminit.conf <<'CONF'
# line 1: a comment
PART_TIMEOUT=5
NO_SUCH_KEY=1
TMP_SIZE=64m
CONF
)
disk_build
initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_no_regex '^cvminit: (partitions|mounts|switch_root): '
