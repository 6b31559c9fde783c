# Shared by the LUKS2 header-attack scenarios (qemu/luks-*): a protected disk
# built the normal way (qemu-tests/mkdisk.sh, Debian's cryptsetup), then p3's
# or p5's header edited in place as a host that owns the disk can
# (qemu-tests/luks-edit.py: the JSON changed, both unkeyed checksums
# recomputed; keyslots, digest and UUID stay the genuine ones). Every key
# comes from a key file (test build), so nothing waits at a prompt. The
# initramfs has crypto_null, so the kernel could map a null cipher: only the
# header policy stops these boots (qemu/luks-cipher-null-control shows the
# attack working with the policy off). Sourced after qemu-tests/lib.sh.

# The FATAL line of a refused header (stage luks).
E_LUKS_STAGE="luks"
E_LUKS_REFUSED_FMT='%s: %s: LUKS2 header refused: %s'    # label, device, field message
LUKS_ATTACK_MODULES="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$REPO/qemu-tests/modules" | paste -sd, -),crypto_null"

# luks_attack_disk: the protected disk, p3 and p5 both opened by key file.
luks_attack_disk() {
	protected_disk --jobs-keyfile
}

# luks_attack_config [--set K=V ...]: its configuration.
luks_attack_config() {
	config_file cvminit.conf <<CONF
PART_TIMEOUT=10
TMP_SIZE=64m
$(protected_config --jobs-source keyfile "$@")
LAUNCHER_ARGS="--standin-ls=/"
CONF
}

# luks_attack_boot CONFIG: initramfs (with crypto_null) and one boot.
luks_attack_boot() {
	protected_initramfs_build --config "$1" --modules "$LUKS_ATTACK_MODULES"
	zcat "$INITRD" | cpio -t 2>/dev/null | grep -q '/crypto_null\.ko' || die "crypto_null is not in the initramfs"
	boot
}

# luks_host_root: what the cipher_null attack puts after p3's header: a
# plaintext ext4 of the host's, with its own /sbin/init (the stand-in) and
# /HOST-ROOT-MARKER, exactly as large as p3's data area.
luks_host_root() {
	local off size tree=$WORK/host-root
	off=$(luks_value 3 DATA_OFFSET)
	size=$(( $(part_size 3) - off ))
	rm -rf "$tree"; mkdir -p "$tree/sbin"
	for d in boot opt/nvflare/config opt/nvflare/jobs opt/nvflare/data tmp dev proc sys run; do mkdir -p "$tree/$d"; done
	echo "the host's root" > "$tree/HOST-ROOT-MARKER"
	install -m 0755 "$STANDIN" "$tree/sbin/init"
	rm -f "$WORK/host-root.img"; truncate -s "$size" "$WORK/host-root.img"
	mkfs.ext4 -q -F -b 4096 -E root_owner=0:0 -d "$tree" "$WORK/host-root.img" || die "mkfs.ext4 of the host root failed"
	dd if="$WORK/host-root.img" of="$DISK" bs=1M oflag=seek_bytes conv=notrunc status=none \
		seek=$(( $(part_offset 3) + off )) || die "cannot write the host root into p3"
	rm -rf "$tree" "$WORK/host-root.img"
}

# luks_cipher_null_attack: p3's segment cipher set to cipher_null-ecb and the
# host's plaintext root put in its data area (the published segment attack).
luks_cipher_null_attack() {
	luks_edit 3 'set segments.0.encryption="cipher_null-ecb"'
	luks_host_root
	# Debian's cryptsetup agrees the header is valid, and the genuine key
	# still opens its keyslot
	slot_extract 3 "$WORK/p3.img"
	cryptsetup luksDump --disable-locks "$WORK/p3.img" | grep -q 'cipher: cipher_null-ecb' ||
		die "cryptsetup does not read the edited header"
	cryptsetup open --test-passphrase --disable-locks --key-file "$ROOT_KEY" "$WORK/p3.img" ||
		die "the genuine key no longer opens the edited header"
	rm -f "$WORK/p3.img"
}

# luks_refused_scenario N FIELD_MESSAGE EDIT...: slot N's header edited
# (luks-edit.py edits), the boot stops in stage luks with exactly that FATAL
# line, nothing is opened or launched, and the disk is unchanged.
luks_refused_scenario() {
	local n=$1 msg=$2 label dev
	shift 2
	case "$n" in 3) label=root dev=/dev/vda3 ;; 5) label=jobs dev=/dev/vda5 ;; *) die "slot $n" ;; esac
	luks_attack_disk
	luks_edit "$n" "$@"
	part_snapshot 3
	part_snapshot 5
	luks_attack_boot "$(luks_attack_config)"
	luks_expect_refused "$label" "$dev" "$msg"
}

# luks_expect_refused LABEL DEV FIELD_MESSAGE
luks_expect_refused() {
	expect_vm_exit 0
	expect_poweroff
	# shellcheck disable=SC2059
	expect_fatal "$E_LUKS_STAGE" "$(printf "$E_LUKS_REFUSED_FMT" "$1" "$2" "$3")"
	expect_not_launched
	expect_no_regex '^cvminit: (measure|attest|root|jobstore|mounts|switch_root): '
	expect_no_regex 'opened as /dev/mapper/'
	expect_part_unchanged 3
	expect_part_unchanged 5
}
