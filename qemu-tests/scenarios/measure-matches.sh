# qemu/measure-matches (issue 6): `cvminit measure`, run on the host before
# the first boot, predicts what the boot shows: the initramfs hashes, PCR 15
# after the separator (p3's and p5's volume-key events predicted from their
# pins), the event log byte for byte, the evidence document and the
# attestation report's REPORT_DATA and MEASUREMENT (mock TEE, swtpm).
# With --snp-ovmf (Debian's ovmf-amdsev, the test kernel) the document also
# holds the SEV-SNP launch MEASUREMENT: its inputs (the SHA-256 of kernel,
# initrd and command line that QEMU writes into the SEV hashes table) must be
# those of the kernel and initramfs this VM booted and the command line it
# shows, and the digest `cvminit measure snp`'s. The mock cannot compute a
# real launch digest (it sees no firmware or VMSA), so what the owner checks
# against this boot's report is the mock's MEASUREMENT: `report verify
# --measurements measurements.json` accepts the report.bin of this boot, and
# refuses it when the document's mock measurement is changed by one byte.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/tpm.sh"

PROBE=${PROBE:-$REPO/build/tpm2-probe}
[ -x "$PROBE" ] || die "$PROBE missing (make build/tpm2-probe)"
chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
# p6 with dm-verity too: its root hash is measured after p4's and is in the evidence
protected_disk --jobs-keyfile --verity 6 --launcher /sbin/standin --add "3=$PROBE:/sbin/tpm2-probe"
tpm_manufacture
cfg=$(config_file cvminit.conf <<CONF
TEE=mock
TMP_SIZE=64m
$(protected_config --root-source keyfile --jobs-source keyfile)
$(volume_key_pin 3 "$ROOT_KEY")
$(volume_key_pin 5 "$JOBS_KEY")
LAUNCHER=/sbin/tpm2-probe
LAUNCHER_ARGS="/dev/vda3 --standin-cat=/proc/cmdline --standin-cat=/run/log/cvminit/tpm2-measure.log --standin-cat=/run/cvminit/attestation/evidence.json --standin-hex=/run/cvminit/attestation/report.bin"
CONF
)
# what /proc/cmdline will show (vm.py's console=ttyS0 panic=-1, then --append):
# the mock TEE's measurement covers all of it, as a real one does
append="quiet"
cmdline="console=ttyS0 panic=-1 $append"
protected_initramfs_build --config "$cfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
OVMF=$("$REPO/qemu-tests/firmware.sh" "$REPO/qemu-tests/ovmf-amdsev.lock") || die "no ovmf-amdsev firmware"
# the published document, made before the first boot (swtpm's banks, in the TPM's order)
"$CVMINIT" measure --initramfs "$INITRD" --config "$cfg" --cmdline "$cmdline" --test-build \
	--banks sha1,sha256,sha384 --root-uuid "$(luks_value 3 UUID)" --jobs-uuid "$(luks_value 5 UUID)" \
	--snp-ovmf "$OVMF" --vcpus 1 --vcpu-type EPYC-Milan --kernel "$KERNEL_IMAGE" \
	--output "$WORK/measurements.json" || die "cvminit measure failed"
SNP_ALONE=$("$CVMINIT" measure snp --ovmf "$OVMF" --vcpus 1 --vcpu-type EPYC-Milan --kernel "$KERNEL_IMAGE" \
	--initrd "$INITRD" --append "$cmdline") || die "cvminit measure snp failed"
boot --swtpm "$TPM_STATE" --append "$append"

expect_vm_exit 0
expect_poweroff
expect_launched
normalize_console
python3 - "$WORK/measurements.json" "$CONSOLE_TXT" "$INITRD" "$KERNEL_IMAGE" "$OVMF" "$SNP_ALONE" <<'PY' || fail "the boot does not match the published measurements (see above)"
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
lines = [l.rstrip('\n') for l in open(sys.argv[2])]
ok = True
def check(what, got, want):
    global ok
    if got != want:
        ok = False
        print('# %s: boot shows %r, measurements say %r' % (what, got, want))
img = open(sys.argv[3], 'rb').read()
ev = m['tpm2']['events']
check('p6 measured after p2 and p4', [e.split(':')[2] for e in ev[:3]], ['boot', 'config', 'data'])
check('p6 in the evidence', m['verity']['data'] == 'none', False)
check('initramfs sha256', hashlib.sha256(img).hexdigest(), m['initramfs']['sha256'])
check('initramfs sha384', hashlib.sha384(img).hexdigest(), m['initramfs']['sha384'])
pcr = [l.split()[-1] for l in lines if l.startswith('PROBE: pcr 15 sha256 ')]
check('PCR 15 (sha256) after the separator', pcr[:1], [m['tpm2']['after_separator']])
pre = 'STANDIN: cat /run/log/cvminit/tpm2-measure.log: '
log = ''.join('\x1e' + l[len(pre):].lstrip('\x1e') + '\n' for l in lines if l.startswith(pre))
want = m['tpm2']['eventlog']
check('event log before the separator', log[:len(want)], want)
# after stage measure's log: p3's and p5's volume-key events, then the separator
check('events after the published log',
      [json.loads(r)['content']['string'] for r in log[len(want):].split('\x1e') if r.strip()],
      m['tpm2']['events'][m['tpm2']['sealed_events']:])
pre = 'STANDIN: cat /run/cvminit/attestation/evidence.json: '
ev = [l[len(pre):] for l in lines if l.startswith(pre)]
check('evidence.json', ev[:1], [m['evidence']])
pre = 'STANDIN: hex /run/cvminit/attestation/report.bin: '
rep = [bytes.fromhex(l[len(pre):]) for l in lines if l.startswith(pre)]
check('REPORT_DATA of report.bin', rep[0][0x50:0x90].hex() if rep else None, m['report_data'])
check('MEASUREMENT of report.bin (mock TEE)', rep[0][0x90:0xC0].hex() if rep else None, m.get('mock_tee_measurement'))
# the SEV-SNP prediction: its inputs are what this boot was given and shows
snp = m['snp']
sha = lambda b: hashlib.sha256(b).hexdigest()
pre = 'STANDIN: cat /proc/cmdline: '
shown = [l[len(pre):] for l in lines if l.startswith(pre)]
check('snp.kernel_sha256 = the booted kernel', snp['kernel_sha256'], sha(open(sys.argv[4], 'rb').read()))
check('snp.initrd_sha256 = the booted initramfs', snp['initrd_sha256'], sha(img))
check('snp.cmdline_sha256 = /proc/cmdline and its NUL', snp['cmdline_sha256'],
      sha(shown[0].encode() + b'\0') if shown else None)
check('snp.ovmf_sha256', snp['ovmf_sha256'], sha(open(sys.argv[5], 'rb').read()))
check('snp inputs', (snp['vcpus'], snp['vcpu_type'], snp['vcpu_sig'], snp['vmm_type'], snp['guest_features']),
      (1, 'EPYC-Milan', '0x00a00f11', 'qemu', '0x1'))
check('snp.measurement = cvminit measure snp', snp['measurement'], sys.argv[6])
import base64
check('snp.measurement_base64', base64.b64decode(snp['measurement_base64']).hex(), snp['measurement'])
sys.exit(0 if ok else 1)
PY

# the owner's check of this boot's report against the published document
sed -n 's|^STANDIN: hex /run/cvminit/attestation/report.bin: ||p' "$CONSOLE_TXT" | head -n1 | xxd -r -p > "$WORK/report.bin"
RD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report_data"])' "$WORK/measurements.json")
verify=("$CVMINIT" report verify "$WORK/report.bin" --vcek "$chain/vcek.pem" --chain "$chain/chain.pem" --root "$chain/ark.pem"
	--expect-report-data "$RD" -q)
"${verify[@]}" --measurements "$WORK/measurements.json" 2> "$WORK/verify.err" ||
	fail "report verify --measurements refused this boot's report: $(cat "$WORK/verify.err")"
python3 - "$WORK/measurements.json" "$WORK/edited.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
v = m['mock_tee_measurement']
m['mock_tee_measurement'] = v[:-2] + ('%02x' % (int(v[-2:], 16) ^ 1))
json.dump(m, open(sys.argv[2], 'w'), indent=2)
PY
rc=0
"${verify[@]}" --measurements "$WORK/edited.json" 2> "$WORK/verify.err" || rc=$?
[ "$rc" = 5 ] && grep -q '^cvminit report verify: expectation: MEASUREMENT is ' "$WORK/verify.err" ||
	fail "an edited mock measurement: exit $rc, want 5 with the MEASUREMENT named: $(cat "$WORK/verify.err")"
