# qemu/boot-plain: the whole boot sequence on the plain demo disk (issue 2):
# every stage runs, the launcher runs as PID 1 in the new root with its
# configured arguments and working directory, every mount has the configured
# flags, no swap, and the initramfs contents were freed before the exec.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
# every stage but switch_root ends with "done in" (switch_root ends in the exec)
E_STAGES="early config modules tee partitions verity luks measure attest root jobstore mounts harden"
E_STAGE_DONE_RE='^cvminit: %s: done in [0-9]+\.[0-9] ms$'       # printf'd with each stage
E_SWAPOFF_RE='^cvminit: harden: swap off \(verified: /proc/swaps lists none\)$'
E_TEST_BUILD_RE='^cvminit: [a-z_]+: TEST BUILD'                   # test builds say so on the console
E_FREED_RE='^cvminit: switch_root: freed the initramfs: [1-9][0-9]* entries removed$'
E_EXEC_RE='^cvminit: switch_root: exec /sbin/init --standin-ls=/ --standin-cat=/boot/BOOT-MARKER'
E_LAUNCHER=(
	"STANDIN: NVFlare stand-in launched"
	"STANDIN: pid=1"
	"STANDIN: argc=4"
	"STANDIN: argv[0]=/sbin/init"
	"STANDIN: argv[1]=--standin-ls=/"
	"STANDIN: argv[2]=--standin-cat=/boot/BOOT-MARKER"
	"STANDIN: argv[3]=--standin-cat=/opt/nvflare/data/DATA-MARKER"
	"STANDIN: cwd=/opt/nvflare/jobs"
	"STANDIN: swaps none"
	"STANDIN: ls /: ROOT-MARKER"
	"STANDIN: cat /boot/BOOT-MARKER: cvm-boot marker"
	"STANDIN: cat /opt/nvflare/data/DATA-MARKER: cvm-data marker"
	"STANDIN: done"
)
# Exact /proc/mounts lines of the disk partitions (pinned kernel; PARTLABEL
# order on the disk is vda1..vda6).
E_MOUNT_LINES=(
	"STANDIN: mount /dev/vda3 / ext4 rw,nosuid,nodev,relatime"
	"STANDIN: mount /dev/vda2 /boot ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/vda4 /opt/nvflare/config ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/vda5 /opt/nvflare/jobs ext4 rw,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/vda6 /opt/nvflare/data ext4 ro,nosuid,nodev,noexec,relatime,norecovery"
)
# Flags that must be present (DIR TYPE OPTS), order free.
E_MOUNT_FLAGS=(
	"/tmp tmpfs rw,nosuid,nodev,size=65536k"
	"/dev/shm tmpfs rw,nosuid,nodev,noexec"
	"/dev devtmpfs rw"
	"/proc proc rw"
	"/sys sysfs rw"
	"/run tmpfs rw,nosuid,nodev"
)
# ==========================================================================

cfg=$(config_file cvminit.conf <<'CONF'
# boot-plain: the defaults, plus what the checks below need.
PART_TIMEOUT=10
# the plain demo disk: no LUKS2 on p3/p5 (test builds only); no root hashes
# configured, so p2/p4 are not dm-verity either (BOOT/CONFIG_VERITY_ROOTHASH=none)
ROOT_ENCRYPTION=none
JOB_STORE_ENCRYPTION=none
TMP_SIZE=64m
LAUNCHER_ARGS="--standin-ls=/ --standin-cat=/boot/BOOT-MARKER --standin-cat=/opt/nvflare/data/DATA-MARKER"
LAUNCHER_CWD=/opt/nvflare/jobs
CONF
)
disk_build
initramfs_build --config "$cfg"
boot

expect_vm_exit 0
expect_poweroff
expect_regex "$E_TEST_BUILD_RE"
for s in $E_STAGES; do
	# shellcheck disable=SC2059
	expect_regex "$(printf "$E_STAGE_DONE_RE" "$s")"
done
expect_regex "$E_SWAPOFF_RE"
expect_regex "$E_FREED_RE"
expect_regex "$E_EXEC_RE"
expect_no_regex '^cvminit: FATAL: '
for l in "${E_LAUNCHER[@]}"; do expect_line "$l"; done
for l in "${E_MOUNT_LINES[@]}"; do expect_line "$l"; done
for m in "${E_MOUNT_FLAGS[@]}"; do
	# shellcheck disable=SC2086
	expect_mount $m
done
expect_no_regex '^STANDIN: swap '
# the launcher's view is the new root's, not the initramfs's
expect_no_line "STANDIN: ls /: init"
expect_no_line "STANDIN: ls /: sysroot"
