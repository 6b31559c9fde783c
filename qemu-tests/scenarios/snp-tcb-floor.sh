# qemu/snp-tcb-floor (issue 12): the snp-derived key is bound to a TCB floor
# (SNP_KEY_MIN_TCB: the MSG_KEY_REQ's TCB_VERSION, its field selected). The
# mock TEE behaves as the firmware does: it refuses a TCB_VERSION above its
# committed TCB (MOCK_TEE_TCB, which stands for the platform and is not in
# the mock's measurement) and mixes the requested one into the key.
#   1. enrollment with a floor below the platform's TCB: p3 opens, the token
#      records the floor;
#   2. the same image after a firmware update above the floor: the same key;
#   3. the host rolls the firmware back below the floor: the firmware refuses,
#      one FATAL line, no launch, p3's header unchanged;
#   4. an image whose floor differs from the enrolled one: the token says so.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
FLOOR=7307000000000003          # microcode 0x73, SNP 7, boot loader 3
E_ENROLLED='cvminit: root: snp-derived key enrolled in keyslot 1'
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from snp-derived, [0-9]+ ms\)$'
E_REFUSED="the SNP firmware refused the key request: TCB floor SNP_KEY_MIN_TCB=$FLOOR is above the platform's committed TCB (rolled back?)"
E_OTHER_FLOOR="p3 was enrolled with SNP_KEY_MIN_TCB=$FLOOR but the configuration says SNP_KEY_MIN_TCB=7308000000000003 (the key mixes the floor in: re-enroll)"
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
head -c 32 /dev/urandom | base64 > "$WORK/provisioning.key"
disk_build --luks-keyfile "3=$WORK/provisioning.key"
files=(--file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem" --file "$WORK/provisioning.key:/etc/cvminit/keys/root.key")
# the image: enrolling and production are the same configuration
image="TEE=mock
JOB_STORE_ENCRYPTION=none
TMP_SIZE=64m
ROOT_KEY_SOURCE=snp-derived
ROOT_ENROLL=yes
ROOT_PROVISION_SOURCE=keyfile
SNP_KEY_MIN_TCB=$FLOOR"

# 1: enrollment on a platform at TCB 7308000000000003 (the mock's default)
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
initramfs_build --config "$(printf '%s\n' "$image" | config_file enroll.conf)" "${files[@]}"
boot
expect_poweroff
expect_launched
expect_line "$E_ENROLLED"
expect_regex "$E_OPENED_RE"
slot_extract 3 "$WORK/p3-header.img" $((16 * 1024 * 1024))
cryptsetup luksDump "$WORK/p3-header.img" > "$WORK/luksdump.txt" 2>&1 || fail "cryptsetup luksDump failed"
cryptsetup luksDump --dump-json-metadata "$WORK/p3-header.img" > "$WORK/luks.json" 2>/dev/null ||
	fail "cryptsetup luksDump --dump-json-metadata failed"
python3 - "$WORK/luks.json" "$FLOOR" <<'PY' || fail "the cvminit-snp token does not record the floor"
import json, sys
toks = [t for t in json.load(open(sys.argv[1]))['tokens'].values() if t['type'] == 'cvminit-snp']
sys.exit(0 if len(toks) == 1 and toks[0].get('cvminit-snp-min-tcb') == sys.argv[2] else 1)
PY

# 2: the firmware was updated (SNP 9, microcode 0x74): the key is the same
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
initramfs_build --config "$(printf '%s\nMOCK_TEE_TCB=7409000000000003\n' "$image" | config_file updated.conf)" "${files[@]}"
boot
expect_poweroff
expect_launched
expect_regex "$E_OPENED_RE"
expect_no_line "$E_ENROLLED"

# 3: rolled back below the floor (SNP 6): refused before any keyslot is tried
CONSOLE_LOG=$WORK/console-3.log CONSOLE_TXT=$WORK/console-3.txt
initramfs_build --config "$(printf '%s\nMOCK_TEE_TCB=7306000000000003\n' "$image" | config_file rolled-back.conf)" "${files[@]}"
part_snapshot 3
boot
expect_poweroff
expect_fatal root "$E_REFUSED"
expect_not_launched
expect_no_line "$E_ENROLLED"
expect_no_regex '^Passphrase for'
expect_part_unchanged 3

# 4: an image with another floor (at the platform's TCB): another key; the
# token names both floors
CONSOLE_LOG=$WORK/console-4.log CONSOLE_TXT=$WORK/console-4.txt
initramfs_build --config "$(printf '%s\n' "$image" | sed 's/^ROOT_ENROLL=yes$/ROOT_ENROLL=no/; s/^SNP_KEY_MIN_TCB=.*/SNP_KEY_MIN_TCB=7308000000000003/' | config_file other-floor.conf)" "${files[@]}"
boot
expect_poweroff
expect_fatal root "$E_OTHER_FLOOR"
expect_not_launched
