# qemu/luks-pinned (issue 12): the genuine disk with both volume-key pins in
# the configuration (computed by `cvminit measure volume-key-pin` from the
# image, p3 from its key file, p5 from its typed passphrase and again from its
# key file: one volume key, one pin) boots; each unlock says its pin matched,
# and the TPM event log carries systemd's volume-key events (eventType
# "volume-key", string cryptsetup:<name>:<uuid>, sha256 digest = the pin) in
# unlock order, and replays to what `cvminit tpm2 predict` and `cvminit
# measure` published before the boot.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/tpm.sh"

# ==== expected strings: align these with the init's real messages ========
E_ROOT_PIN="cvminit: root: volume key matches ROOT_VOLUME_KEY_PIN (keyslot 0)"
E_JOBS_PIN="cvminit: jobstore: jobs: volume key matches JOBS_VOLUME_KEY_PIN (keyslot 0)"
# ==========================================================================

protected_disk --jobs-keyfile
root_pin=$(volume_key_pin 3 "$ROOT_KEY")
jobs_pin=$(volume_key_pin 5 --passphrase "$WORK/jobs.pass")
[ "$(volume_key_pin 5 "$JOBS_KEY")" = "$jobs_pin" ] || fail "p5's pin differs between its two keyslots"
tpm_manufacture
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
$(protected_config --jobs-source keyfile)
$root_pin
$jobs_pin
LAUNCHER_ARGS="--standin-cat=/run/log/cvminit/tpm2-measure.log"
CONF
)
protected_initramfs_build --config "$cfg"
"$CVMINIT" tpm2 predict --config "$cfg" --test-build --cmdline quiet > "$WORK/predict.json" ||
	die "cvminit tpm2 predict failed"
"$CVMINIT" measure --initramfs "$INITRD" --config "$cfg" --cmdline quiet --test-build --banks sha1,sha256,sha384 \
	--root-uuid "$(luks_value 3 UUID)" --jobs-uuid "$(luks_value 5 UUID)" --output "$WORK/measurements.json" ||
	die "cvminit measure failed"
boot --swtpm "$TPM_STATE" --append quiet

expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_ROOT_PIN"
expect_line "$E_JOBS_PIN"
sed -n 's|^STANDIN: cat /run/log/cvminit/tpm2-measure.log: ||p' "$CONSOLE_TXT" > "$WORK/log-lines.txt"
python3 - "$WORK/log-lines.txt" > "$WORK/measure.log" <<'PY'
import sys
for line in open(sys.argv[1]):
    line = line.rstrip('\n').lstrip('\x1e')
    if line:
        sys.stdout.write('\x1e' + line + '\n')
PY
"$CVMINIT" tpm2 replay --log "$WORK/measure.log" > "$WORK/replay.json" 2>&1 ||
	fail "the event log does not replay: $(cat "$WORK/replay.json")"
python3 - "$WORK/measure.log" "$WORK/replay.json" "$WORK/predict.json" "$WORK/measurements.json" \
	"${root_pin#*=}" "${jobs_pin#*=}" "$(luks_value 3 UUID)" "$(luks_value 5 UUID)" <<'PY' ||
import json, sys
log, replay, predict, meas, rpin, jpin, ruuid, juuid = sys.argv[1:]
recs = [json.loads(r) for r in open(log).read().split('\x1e') if r.strip()]
ok = True
def check(what, got, want):
    global ok
    if got != want:
        ok = False
        print('# %s: got %r, want %r' % (what, got, want))
vk = [(r['content']['string'], r['content'].get('eventType'),
       [d['digest'] for d in r['digests'] if d['hashAlg'] == 'sha256'][0]) for r in recs
      if r['content']['string'].startswith('cryptsetup:')]
check('volume-key events', vk, [('cryptsetup:cvm-root:' + ruuid, 'volume-key', rpin),
                                ('cryptsetup:cvm-jobs:' + juuid, 'volume-key', jpin)])
strings = [r['content']['string'] for r in recs]
check('event order', strings[-3:], ['cryptsetup:cvm-root:' + ruuid, 'cryptsetup:cvm-jobs:' + juuid,
                                    'cvminit:separator'])
p = json.load(open(predict))
check('replayed PCR 15 vs tpm2 predict', json.load(open(replay))['value'], p['after_separator'])
m = json.load(open(meas))
check('published pins', m['volume_key_pins'], {'root': rpin, 'jobs': jpin})
check('published events', m['tpm2']['events'], strings)
check('published PCR 15', m['tpm2']['after_separator'], p['after_separator'])
sys.exit(0 if ok else 1)
PY
	fail "the volume-key events differ from the pins and the predictions (see above)"
