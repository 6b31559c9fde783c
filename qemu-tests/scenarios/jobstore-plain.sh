# qemu/jobstore-plain: the job store configured plain
# (JOB_STORE_ENCRYPTION=none, as the seeds allow), everything else protected:
# the boot completes without any prompt, p5 is mounted from /dev/vda5 itself
# (no dm-crypt mapping for it), p3 from its LUKS2 mapping.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_MOUNT_LINES=(
	"STANDIN: mount /dev/mapper/cvm-root / ext4 rw,nosuid,nodev,relatime"
	"STANDIN: mount /dev/mapper/cvm-boot /boot ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/mapper/cvm-config /opt/nvflare/config ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/vda5 /opt/nvflare/jobs ext4 rw,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/vda6 /opt/nvflare/data ext4 ro,nosuid,nodev,noexec,relatime,norecovery"
)
E_LAUNCHER=(
	"STANDIN: NVFlare stand-in launched"
	"STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
	"STANDIN: exists /dev/mapper/cvm-jobs=no"
	"STANDIN: swaps none"
	"STANDIN: done"
)
# ==========================================================================

protected_disk --jobs-plain
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config)
LAUNCHER_ARGS="--standin-cat=/opt/nvflare/jobs/JOBS-MARKER --standin-exists=/dev/mapper/cvm-jobs"
CONF
)
grep -qx 'JOB_STORE_ENCRYPTION=none' "$cfg" || die "JOB_STORE_ENCRYPTION=none missing from $cfg"
protected_initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_no_regex '^cvminit: FATAL: '
expect_no_regex 'Passphrase for '
for l in "${E_MOUNT_LINES[@]}"; do expect_line "$l"; done
for l in "${E_LAUNCHER[@]}"; do expect_line "$l"; done
expect_no_regex '^STANDIN: mount /dev/mapper/cvm-jobs '
