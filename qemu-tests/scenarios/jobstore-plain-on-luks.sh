# qemu/jobstore-plain-on-luks: the configuration says the job store is plain
# (JOB_STORE_ENCRYPTION=none) but p5 holds a LUKS2 volume: one FATAL line that
# names the device and the key to change (not the kernel's bare "Invalid
# argument" of an ext4 mount attempt), no prompt, no launch, p5 unchanged.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="jobstore"
E_FATAL_REASON="jobs: /dev/vda5 holds a LUKS volume but JOB_STORE_ENCRYPTION=none; not mounted as plain (set JOB_STORE_ENCRYPTION=luks)"
# ==========================================================================

protected_disk
part_snapshot 5
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config --set JOB_STORE_ENCRYPTION=none)
CONF
)
grep -q '^JOBS_KEY_SOURCE=' "$cfg" && sed -i '/^JOBS_KEY_SOURCE=/d' "$cfg"
protected_initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_no_regex 'Passphrase for '
expect_no_regex 'Invalid argument'
expect_not_launched
expect_no_regex '^cvminit: (mounts|switch_root): '
expect_part_unchanged 5
