# qemu/verity-hashpart: the other dm-verity layouts and sources of the root
# hash. p2's hash tree sits on its own partition (PARTLABEL cvm-boot-verity,
# slot 7, veritysetup format DATA HASH) instead of appended, its data size
# pinned by BOOT_VERITY_DATA_SIZE (verity_config adds it); both p2 and p4
# are fully verified before activation (VERITY_PREVERIFY=all); p4's root hash
# comes from the (measured) kernel command line, cvminit.config_roothash=,
# which overrides a stale one in the embedded configuration. The boot
# completes with both mappings mounted.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_CMDLINE_RE='^cvminit: config: [0-9]+ keys from /etc/cvminit/cvminit.conf, 1 from the kernel command line; '
E_VERIFIED_RE=(
	'^cvminit: verity: boot: /dev/vda2 verified against its root hash \(full check, [0-9]+ ms\)$'
	'^cvminit: verity: config: /dev/vda4 verified against its root hash \(full check, [0-9]+ ms\)$'
)
E_LINES=(
	"cvminit: verity: boot: /dev/mapper/cvm-boot active (panic on corruption)"
	"cvminit: verity: config: /dev/mapper/cvm-config active (panic on corruption)"
	"STANDIN: mount /dev/mapper/cvm-boot /boot ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/mapper/cvm-config /opt/nvflare/config ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: cat /boot/BOOT-MARKER: cvm-boot marker"
	"STANDIN: cat /opt/nvflare/config/CONFIG-MARKER: cvm-config marker"
)
# ==========================================================================

protected_disk --jobs-plain --verity-hash 2=7
[ "$(verity_value 2 HASH)" = PARTLABEL=cvm-boot-verity ] || die "p2's tree is not on cvm-boot-verity"
real=$(verity_value 4 ROOTHASH)
stale=$(printf '%x' $(( (0x${real:0:1} + 1) % 16 )))${real:1}
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config --set VERITY_PREVERIFY=all --set "CONFIG_VERITY_ROOTHASH=$stale")
LAUNCHER_ARGS="--standin-cat=/boot/BOOT-MARKER --standin-cat=/opt/nvflare/config/CONFIG-MARKER"
CONF
)
grep -qx "BOOT_VERITY_DATA_SIZE=$(( $(verity_value 2 DATA_BLOCKS) * 4096 ))" "$cfg" || die "p2's data size is not pinned"
protected_initramfs_build --config "$cfg"
boot --append "cvminit.config_roothash=$real"

expect_vm_exit 0
expect_poweroff
expect_no_regex '^cvminit: FATAL: '
expect_regex "$E_CMDLINE_RE"
for r in "${E_VERIFIED_RE[@]}"; do expect_regex "$r"; done
for l in "${E_LINES[@]}"; do expect_line "$l"; done
expect_launched
