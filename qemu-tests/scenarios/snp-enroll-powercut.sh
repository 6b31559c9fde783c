# qemu/snp-enroll-powercut (issue 5): the power is cut in the middle of an
# enrollment (after the derived keyslot was added, before the provisioning
# keyslot was removed). The next boot still opens p3 — with the derived key —
# and completes the enrollment.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_ENROLLED='cvminit: root: snp-derived key enrolled in keyslot 1'
E_CUT='cvminit: root: MOCK POWER CUT after-keyslot (TEST BUILD)'
E_REMOVED='cvminit: root: provisioning keyslot 0 removed'
E_COMPLETE='cvminit: root: enrollment complete: keyslot 1 opens with the snp-derived key only'
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from snp-derived, [0-9]+ ms\)$'
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
head -c 32 /dev/urandom | base64 > "$WORK/provisioning.key"
disk_build --luks-keyfile "3=$WORK/provisioning.key"
files=(--file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem" --file "$WORK/provisioning.key:/etc/cvminit/keys/root.key")
conf='TEE=mock
JOB_STORE_ENCRYPTION=none
TMP_SIZE=64m
ROOT_KEY_SOURCE=snp-derived
ROOT_ENROLL=yes
ROOT_PROVISION_SOURCE=keyfile'

# 1: the power goes in the middle
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
initramfs_build --config "$(printf '%s\nMOCK_POWERCUT=after-keyslot\n' "$conf" | config_file cut.conf)" "${files[@]}"
boot
expect_poweroff
expect_line "$E_ENROLLED"
expect_line "$E_CUT"
expect_no_line "$E_REMOVED"
expect_not_launched
# both keys open p3 now: the derived keyslot 1 and the provisioning keyslot 0
slot_extract 3 "$WORK/p3-cut.img" $((16 * 1024 * 1024))
cryptsetup luksDump "$WORK/p3-cut.img" > "$WORK/luksdump-cut.txt" 2>&1 || fail "luksDump after the cut failed"
[ "$(grep -cE '^  [0-9]+: luks2' "$WORK/luksdump-cut.txt")" -eq 2 ] || fail "after the cut: want two keyslots"

# 2: the next boot opens with the derived key and finishes the job
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
initramfs_build --config "$(printf '%s\n' "$conf" | config_file resume.conf)" "${files[@]}"
boot
expect_poweroff
expect_launched
expect_no_line "$E_ENROLLED"
expect_line "$E_REMOVED"
expect_line "$E_COMPLETE"
expect_regex "$E_OPENED_RE"
slot_extract 3 "$WORK/p3-done.img" $((16 * 1024 * 1024))
cryptsetup luksDump "$WORK/p3-done.img" > "$WORK/luksdump-done.txt" 2>&1 || fail "luksDump after completion failed"
[ "$(grep -cE '^  [0-9]+: luks2' "$WORK/luksdump-done.txt")" -eq 1 ] || fail "after completion: want one keyslot"
