# qemu/tpm2-unlock (issue 4): p3's key is sealed by `cvminit tpm2 enroll` to
# the PCR value cvminit will produce (predicted, before the first boot); the
# init measures p2/p4's root hashes, the configuration and the key source into
# PCR 15, unseals the key without any prompt, and the launcher shows that the
# event log under /run/log/cvminit replays to the PCR.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/tpm.sh"

# ==== expected strings =====================================================
E_MEASURED='cvminit: measure: 4 events extended into PCR 15, logged to /run/log/cvminit/tpm2-measure.log'
E_UNSEALED='cvminit: root: system key unsealed by the TPM (PCR policy)'
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from tpm2, [0-9]+ ms\)$'
E_SEPARATOR='cvminit: switch_root: separator extended into PCR 15: the system key can no longer be unsealed'
# ===========================================================================

protected_disk --jobs-keyfile
tpm_manufacture
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
$(protected_config --root-source tpm2 --jobs-source keyfile)
$(volume_key_pin 3 "$ROOT_KEY")
$(volume_key_pin 5 "$JOBS_KEY")
LAUNCHER_ARGS="--standin-cat=/run/log/cvminit/tpm2-measure.log"
CONF
)
tpm_start
tpm_enroll_p3 "$cfg"
tpm_stop
protected_initramfs_build --config "$cfg"
boot --swtpm "$TPM_STATE" --append quiet

expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_MEASURED"
expect_line "$E_UNSEALED"
expect_regex "$E_OPENED_RE"
expect_line "$E_SEPARATOR"
expect_no_regex '^Passphrase for root'
# The log the launcher read replays, record by record, to the value the
# enrollment predicted (PCR 15 before the separator), then with it.
normalize_console
sed -n 's|^STANDIN: cat /run/log/cvminit/tpm2-measure.log: ||p' "$CONSOLE_TXT" > "$WORK/log-lines.txt"
python3 - "$WORK/log-lines.txt" > "$WORK/measure.log" <<'PY'
import sys
for line in open(sys.argv[1]):
    line = line.rstrip('\n').lstrip('\x1e')
    if line:
        sys.stdout.write('\x1e' + line + '\n')
PY
"$CVMINIT" tpm2 replay --log "$WORK/measure.log" > "$WORK/replay.json" 2>&1 || fail "the event log does not replay: $(cat "$WORK/replay.json")"
"$CVMINIT" tpm2 predict --config "$cfg" --test-build --cmdline quiet > "$WORK/predict.json"
want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["after_separator"])' "$WORK/predict.json")
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["value"])' "$WORK/replay.json")
[ -n "$want" ] && [ "$want" = "$got" ] || fail "replayed PCR '$got' differs from the predicted final value '$want'"
