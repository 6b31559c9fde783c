# qemu/boot-protected: the demo disk with every protection of DESIGN.md, the
# partitions made by Debian's veritysetup/cryptsetup: p2 and p4 dm-verity
# (appended trees, root hashes from the embedded configuration, p4 fully
# verified before activation), p3 LUKS2 opened with a key file (test build),
# p5 LUKS2 opened with the passphrase typed at the console prompt (vm.py
# --expect/--send), p6 plain read-only. The launcher runs and sees the
# dm devices mounted with the planned flags and no swap; the passphrase is
# never shown on the console.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_JOBS_PROMPT='Passphrase for jobs (/dev/vda5): '           # no newline, echo off
E_VERITY_LINES=(
	"cvminit: verity: boot: /dev/mapper/cvm-boot active (panic on corruption)"
	"cvminit: verity: config: /dev/mapper/cvm-config active (panic on corruption)"
)
E_PREVERIFY_RE='^cvminit: verity: config: /dev/vda4 verified against its root hash \(full check, [0-9]+ ms\)$'
E_NO_PREVERIFY_BOOT_RE='^cvminit: verity: boot: /dev/vda2 verified'   # VERITY_PREVERIFY=config: p2 not
E_STAGE_DONE_RE='^cvminit: %s: done in [0-9]+\.[0-9] ms$'
E_STAGES="verity root jobstore mounts"
E_LAUNCHER=(
	"STANDIN: NVFlare stand-in launched"
	"STANDIN: pid=1"
	"STANDIN: swaps none"
	"STANDIN: ls /: ROOT-MARKER"
	"STANDIN: cat /boot/BOOT-MARKER: cvm-boot marker"
	"STANDIN: cat /opt/nvflare/config/CONFIG-MARKER: cvm-config marker"
	"STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
	"STANDIN: cat /opt/nvflare/data/DATA-MARKER: cvm-data marker"
	"STANDIN: exists /dev/mapper/cvm-jobs=yes"
	"STANDIN: done"
)
# Exact /proc/mounts lines (pinned kernel): the dm devices by their
# /dev/mapper names, as the init mounts them.
E_MOUNT_LINES=(
	"STANDIN: mount /dev/mapper/cvm-root / ext4 rw,nosuid,nodev,relatime"
	"STANDIN: mount /dev/mapper/cvm-boot /boot ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/mapper/cvm-config /opt/nvflare/config ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/mapper/cvm-jobs /opt/nvflare/jobs ext4 rw,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/vda6 /opt/nvflare/data ext4 ro,nosuid,nodev,noexec,relatime,norecovery"
)
# ==========================================================================

protected_disk
cfg=$(config_file cvminit.conf <<CONF
# boot-protected: every partition protected (see protected_config in lib.sh)
PART_TIMEOUT=10
TMP_SIZE=64m
$(protected_config)
# (a configuration value holds at most 255 characters)
LAUNCHER_ARGS="--standin-ls=/ --standin-cat=/boot/BOOT-MARKER --standin-cat=/opt/nvflare/config/CONFIG-MARKER --standin-cat=/opt/nvflare/jobs/JOBS-MARKER --standin-cat=/opt/nvflare/data/DATA-MARKER --standin-exists=/dev/mapper/cvm-jobs"
CONF
)
protected_initramfs_build --config "$cfg"
boot --expect "$(rx_quote "$E_JOBS_PROMPT")" --send "$JOBS_PASSPHRASE"

expect_vm_exit 0
expect_poweroff
expect_no_regex '^cvminit: FATAL: '
expect_text_count 1 "$E_JOBS_PROMPT"
expect_secret_absent "$JOBS_PASSPHRASE" "the job-store passphrase"
expect_regex "$E_PREVERIFY_RE"
expect_no_regex "$E_NO_PREVERIFY_BOOT_RE"
for l in "${E_VERITY_LINES[@]}"; do expect_line "$l"; done
for s in $E_STAGES; do
	# shellcheck disable=SC2059
	expect_regex "$(printf "$E_STAGE_DONE_RE" "$s")"
done
expect_no_regex 'device-mapper: verity: .* is corrupted'
for l in "${E_LAUNCHER[@]}"; do expect_line "$l"; done
for l in "${E_MOUNT_LINES[@]}"; do expect_line "$l"; done
expect_no_regex '^STANDIN: mount /dev/vda[2345] '
expect_no_regex '^STANDIN: swap '
