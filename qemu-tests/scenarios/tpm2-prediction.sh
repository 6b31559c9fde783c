# qemu/tpm2-prediction (issue 4): the value of PCR 15 read inside the running
# system equals what `cvminit tpm2 predict` computed on the host from the
# configuration and kernel command line alone (after the separator), in
# every bank the log covers. The volume-key events of p3 and p5 are in the
# prediction through their pins (ROOT_/JOBS_VOLUME_KEY_PIN).
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/tpm.sh"

PROBE=${PROBE:-$REPO/build/tpm2-probe}
[ -x "$PROBE" ] || die "$PROBE missing (make build/tpm2-probe)"
protected_disk --jobs-keyfile --launcher /sbin/standin --add "3=$PROBE:/sbin/tpm2-probe"
tpm_manufacture
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
$(protected_config --root-source keyfile --jobs-source keyfile)
$(volume_key_pin 3 "$ROOT_KEY")
$(volume_key_pin 5 "$JOBS_KEY")
LAUNCHER=/sbin/tpm2-probe
LAUNCHER_ARGS="/dev/vda3 --standin-cat=/run/log/cvminit/tpm2-measure.log"
CONF
)
cmdline="quiet"
protected_initramfs_build --config "$cfg"
boot --swtpm "$TPM_STATE" --append "$cmdline"

expect_vm_exit 0
expect_poweroff
expect_launched
"$CVMINIT" tpm2 predict --config "$cfg" --cmdline "$cmdline" --test-build > "$WORK/predict.json"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["after_separator"])' "$WORK/predict.json")
expect_line "PROBE: pcr 15 sha256 $want"
# the log's records are exactly the predicted events, in order
normalize_console
python3 - "$CONSOLE_TXT" "$WORK/predict.json" "$(luks_value 3 UUID)" "$(luks_value 5 UUID)" <<'PY' || fail "the event log's strings differ from the predicted events"
import json, sys
prefix = 'STANDIN: cat /run/log/cvminit/tpm2-measure.log: '
recs = [json.loads(l[len(prefix):].strip().lstrip('\x1e')) for l in open(sys.argv[1]) if l.startswith(prefix)]
got = [r['content']['string'] for r in recs]
# tpm2 predict knows no UUID: its volume-key strings say <uuid>
uuid = {'cvm-root': sys.argv[3], 'cvm-jobs': sys.argv[4]}
want = [e.replace('<uuid>', uuid[e.split(':')[1]]) if e.startswith('cryptsetup:') else e
        for e in json.load(open(sys.argv[2]))['events']]
sys.exit(0 if got == want else 1)
PY
