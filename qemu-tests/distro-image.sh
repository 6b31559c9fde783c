# Shared by the scenarios that boot an initramfs made by a distribution's
# builder with cvminit's integration (qemu/dracut-boot,
# qemu/initramfs-tools-boot): what the image must hold and what the boot must
# show. Sourced after qemu-tests/lib.sh; the scenario sets DC, INITRD, cfg and
# E_FOREIGN_RE (what the builder's own init would print).

# ==== expected strings: align these with the init's real messages ========
E_RUN_INIT="Run /init as init process"
E_TEST_BUILD_RE='^cvminit: early: TEST BUILD'
E_STAGES="early config modules tee partitions verity luks measure attest root jobstore mounts harden"
E_STAGE_DONE_RE='^cvminit: %s: done in [0-9]+\.[0-9] ms$'
# printf'd with the number of modules.load lines minus sev-guest and tdx-guest
# (sev-guest and tdx-guest: skipped, CPUID shows neither TEE under TCG)
E_MODULES_FMT='^cvminit: modules: loaded %d modules \\(0 already present, 0 without hardware, 2 TEE drivers skipped\\) in [0-9]+ ms, [0-9]+ threads?$'
E_OPENED_RE=(
	'^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from keyfile, [0-9]+ ms\)$'
	'^cvminit: jobstore: jobs: /dev/vda5 opened as /dev/mapper/cvm-jobs \(LUKS2, key from keyfile, [0-9]+ ms\)$'
)
E_VERITY_LINES=(
	"cvminit: verity: boot: /dev/mapper/cvm-boot active (panic on corruption)"
	"cvminit: verity: config: /dev/mapper/cvm-config active (panic on corruption)"
)
E_FREED_RE='^cvminit: switch_root: freed the initramfs: [1-9][0-9]* entries removed$'
E_LAUNCHER=(
	"STANDIN: NVFlare stand-in launched"
	"STANDIN: pid=1"
	"STANDIN: swaps none"
	"STANDIN: ls /: ROOT-MARKER"
	"STANDIN: cat /boot/BOOT-MARKER: cvm-boot marker"
	"STANDIN: cat /opt/nvflare/config/CONFIG-MARKER: cvm-config marker"
	"STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
	"STANDIN: cat /opt/nvflare/data/DATA-MARKER: cvm-data marker"
	"STANDIN: done"
)
E_MOUNT_LINES=(
	"STANDIN: mount /dev/mapper/cvm-root / ext4 rw,nosuid,nodev,relatime"
	"STANDIN: mount /dev/mapper/cvm-boot /boot ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/mapper/cvm-config /opt/nvflare/config ext4 ro,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/mapper/cvm-jobs /opt/nvflare/jobs ext4 rw,nosuid,nodev,noexec,relatime"
	"STANDIN: mount /dev/vda6 /opt/nvflare/data ext4 ro,nosuid,nodev,noexec,relatime,norecovery"
)
# ==========================================================================

# distro_image_check: cvminit is /init, with its configuration, keys and
# modules, each file with the bytes of its source. Sets nmod.
distro_image_check() {
	"$DC" image-list "$INITRD" > "$WORK/image.list" || die "cannot read the image"
	note "image: $(wc -l < "$WORK/image.list") entries, $(awk '$1 ~ /^-/ { s += $2 } END { print s }' "$WORK/image.list") bytes in files"
	"$DC" image-cat "$INITRD" /etc/cvminit/modules.load > "$WORK/modules.load" || die "no /etc/cvminit/modules.load in the image"
	"$CVMINIT" initramfs closure --kernel-modules "$KERNEL_MODDIR" --modules-from "$REPO/qemu-tests/modules" 2>/dev/null |
		grep -v '^builtin ' | sed "s|^|/lib/modules/$KERNEL_VER/|" > "$WORK/modules.expected"
	cmp -s "$WORK/modules.load" "$WORK/modules.expected" ||
		fail "modules.load differs from the closure of qemu-tests/modules: $(diff "$WORK/modules.expected" "$WORK/modules.load" | head -n 4 | tr '\n' ' ')"
	# each file in the image (symbolic links followed) has the bytes of its source
	{
		echo "/init $INIT_TEST"
		echo "/etc/cvminit/cvminit.conf $cfg"
		echo "$KEYS_DIR/root.key $ROOT_KEY"
		echo "$KEYS_DIR/jobs.key $JOBS_KEY"
		while read -r m; do echo "$m $KERNEL_MODDIR/${m#/lib/modules/"$KERNEL_VER"/}"; done < "$WORK/modules.load"
	} > "$WORK/image.expected"
	# shellcheck disable=SC2046 # paths: one word each
	"$DC" image-sha256 "$INITRD" $(cut -d' ' -f1 "$WORK/image.expected") > "$WORK/image.sha256" || die "cannot read the image"
	while read -r path src; do
		want=$(sha256sum < "$src" | cut -d' ' -f1)
		grep -qxF "$want  $path" "$WORK/image.sha256" || fail "$path in the image is not $src ($(grep -F "  $path" "$WORK/image.sha256" | cut -c1-16))"
	done < "$WORK/image.expected"
	for k in root jobs; do
		grep -q "^-0400 .* $KEYS_DIR/$k.key\$" "$WORK/image.list" || fail "$KEYS_DIR/$k.key is not in the image with mode 0400"
	done
	nmod=$(wc -l < "$WORK/modules.load")
}

# distro_boot_expect: boots the image and checks the console.
distro_boot_expect() {
	boot
	expect_vm_exit 0
	expect_poweroff
	expect_no_regex '^cvminit: FATAL: '
	expect_line "$E_RUN_INIT"
	expect_regex "$E_TEST_BUILD_RE"
	expect_no_regex "$E_FOREIGN_RE"
	# shellcheck disable=SC2059
	expect_regex "$(printf "$E_MODULES_FMT" $((nmod - 2)))"
	for s in $E_STAGES; do
		# shellcheck disable=SC2059
		expect_regex "$(printf "$E_STAGE_DONE_RE" "$s")"
	done
	for l in "${E_VERITY_LINES[@]}"; do expect_line "$l"; done
	for r in "${E_OPENED_RE[@]}"; do expect_regex "$r"; done
	expect_regex "$E_FREED_RE"
	expect_no_regex 'initramfs only partly freed'
	for l in "${E_LAUNCHER[@]}"; do expect_line "$l"; done
	for l in "${E_MOUNT_LINES[@]}"; do expect_line "$l"; done
	expect_no_regex '^STANDIN: swap '
}
