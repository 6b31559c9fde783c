# qemu/tpm2-systemd-enrolled (issue 4): the p3 token is written by Debian's
# own systemd-cryptenroll (252) against swtpm, after PCR 15 was extended with
# the events `cvminit tpm2 predict` lists; cvminit opens p3 with it.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/tpm.sh"

# ==== expected strings =====================================================
E_UNSEALED='cvminit: root: system key unsealed by the TPM (PCR policy)'
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from tpm2, [0-9]+ ms\)$'
# ===========================================================================

command -v systemd-cryptenroll >/dev/null || die "systemd-cryptenroll missing (deps/install-tools.sh)"
protected_disk --jobs-keyfile --root-passphrase
tpm_manufacture
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
$(protected_config --root-source tpm2 --jobs-source keyfile)
CONF
)
"$CVMINIT" tpm2 predict --config "$cfg" --test-build --cmdline quiet > "$WORK/predict.json"
tpm_start
export TPM2TOOLS_TCTI=$TPM_SPEC
# extend PCR 15 with stage measure's events (what the key is sealed to), in every bank
python3 - "$WORK/predict.json" > "$WORK/extend.txt" <<'PY'
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
for ev in d['events'][:d['sealed_events']]:
    print('15:' + ','.join('%s=%s' % (b, hashlib.new(b, ev.encode()).hexdigest()) for b in ('sha1', 'sha256', 'sha384')))
PY
while read -r spec; do tpm2_pcrextend "$spec" || die "tpm2_pcrextend failed"; done < "$WORK/extend.txt"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["before_unlock"])' "$WORK/predict.json")
got=$(tpm2_pcrread sha256:15 2>/dev/null | sed -n 's/.*15: 0x//p' | tr 'A-F' 'a-f')
[ "$got" = "$want" ] || die "swtpm PCR 15 is $got, predicted $want"
slot_extract 3 "$WORK/p3.img"
PASSWORD=$ROOT_PASSPHRASE systemd-cryptenroll --tpm2-device="$TPM_SPEC" --tpm2-pcrs=15 "$WORK/p3.img" \
	> "$WORK/cryptenroll.log" 2>&1 || { sed 's/^/#   /' "$WORK/cryptenroll.log"; die "systemd-cryptenroll failed"; }
for f in -t -l -s; do tpm2_flushcontext "$f" >/dev/null 2>&1 || true; done
tpm_stop
cryptsetup token export --token-id 0 "$WORK/p3.img" > "$WORK/token.json" 2>/dev/null || true
grep -q '"systemd-tpm2"' "$WORK/token.json" || die "no systemd-tpm2 token after systemd-cryptenroll"
dd if="$WORK/p3.img" of="$DISK" bs=1M oflag=seek_bytes seek="$(part_offset 3)" conv=notrunc status=none
protected_initramfs_build --config "$cfg"
boot --swtpm "$TPM_STATE" --append quiet

expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_UNSEALED"
expect_regex "$E_OPENED_RE"
