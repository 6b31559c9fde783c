# qemu/snp-derived-unlock (issue 5): p3 is provisioned with a one-time
# passphrase (here a key file, test build); an enrollment boot replaces it by
# the SNP-derived key (mock TEE) and writes the cvminit-snp token; the next
# boot of the same image opens p3 with the derived key alone (the enrolling
# image is the production image: the key is bound to its measurement), an
# image with a changed configuration derives another key and cannot open p3,
# and the provisioning passphrase no longer opens anything.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_ENROLLED='cvminit: root: snp-derived key enrolled in keyslot 1'
E_REMOVED='cvminit: root: provisioning keyslot 0 removed'
E_COMPLETE='cvminit: root: enrollment complete: keyslot 1 opens with the snp-derived key only'
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from snp-derived, [0-9]+ ms\)$'
E_OLD_KEY_REASON='the key file /etc/cvminit/keys/root.key does not open root'
E_OTHER_IMAGE_REASON='the snp-derived key does not open /dev/vda3 (not enrolled, or the launch measurement, policy or key parameters changed)'
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
head -c 32 /dev/urandom | base64 > "$WORK/provisioning.key"
disk_build --luks-keyfile "3=$WORK/provisioning.key"
files=(--file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem" --file "$WORK/provisioning.key:/etc/cvminit/keys/root.key")
base='TEE=mock
JOB_STORE_ENCRYPTION=none
TMP_SIZE=64m'

# 1: enrollment boot
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
enroll=$(printf '%s\nROOT_KEY_SOURCE=snp-derived\nROOT_ENROLL=yes\nROOT_PROVISION_SOURCE=keyfile\n' "$base" | config_file enroll.conf)
initramfs_build --config "$enroll" "${files[@]}"
boot
expect_poweroff
expect_launched
expect_line "$E_ENROLLED"
expect_line "$E_REMOVED"
expect_line "$E_COMPLETE"
expect_regex "$E_OPENED_RE"

# 2: the next boot of the same image: the derived key alone
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
boot
expect_poweroff
expect_launched
expect_regex "$E_OPENED_RE"
expect_no_line "$E_ENROLLED"
expect_mount / ext4 rw,nosuid,nodev

# 2b: another image (one key differs): another measurement, another key
CONSOLE_LOG=$WORK/console-2b.log CONSOLE_TXT=$WORK/console-2b.txt
initramfs_build --config "$(printf '%s\nROOT_KEY_SOURCE=snp-derived\n' "$base" | config_file derived.conf)" "${files[@]}"
boot
expect_poweroff
expect_fatal root "$E_OTHER_IMAGE_REASON"
expect_not_launched

# 3: the provisioning key is gone from the header
CONSOLE_LOG=$WORK/console-3.log CONSOLE_TXT=$WORK/console-3.txt
initramfs_build --config "$(printf '%s\nROOT_KEY_SOURCE=keyfile\n' "$base" | config_file old.conf)" "${files[@]}"
boot
expect_poweroff
expect_fatal root "$E_OLD_KEY_REASON"
expect_not_launched

slot_extract 3 "$WORK/p3-header.img" $((16 * 1024 * 1024))
cryptsetup luksDump "$WORK/p3-header.img" > "$WORK/luksdump.txt" 2>&1 || fail "cryptsetup luksDump failed"
grep -q 'cvminit-snp' "$WORK/luksdump.txt" || fail "no cvminit-snp token in the header"
[ "$(grep -cE '^  [0-9]+: luks2' "$WORK/luksdump.txt")" -eq 1 ] || fail "want exactly one keyslot left"
