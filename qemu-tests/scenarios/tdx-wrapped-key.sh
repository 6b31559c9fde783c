# qemu/tdx-wrapped-key (issue 13): TDX key delivery end to end, through the
# mock TEE acting as a TDX guest (MOCK_TEE_KIND=tdx). At p5's prompt the
# challenge carries a TDX quote v4 (MRTD, RTMR1, RTMR2 from the mock's
# documented formulas, tee/mock_measure.h) signed by a test attestation key
# whose QE report is signed by a test PCK chain (qemu-tests/mock-tdx-chain.sh);
# the harness, as the model owner, runs `cvminit key wrap` with --root the
# test root and the predicted MRTD/RTMR1/RTMR2, and the pasted line opens p5.
# Then, on the host, with the captured challenge: a wrong RTMR2 is refused;
# a debuggable TD is refused. The guest itself refuses to run as a debuggable
# TD (qemu/tdx-debug-policy), so it never offers such a challenge: the debug
# quote is the captured one with TD_ATTRIBUTES.DEBUG set and re-signed by the
# same test attestation key (challenge-edit.py), the quote a mock booted with
# MOCK_TEE_DEBUG=yes would give; a control run with --allow-debug shows the
# edited quote otherwise verifies, so only the DEBUG check refuses it.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_JOBS_PROMPT='Passphrase for jobs (/dev/vda5): '
E_MOCK="cvminit: tee: MOCK TEE (TEST BUILD): TDX quotes are signed by a test key"
E_CHALLENGE_RE='^cvminit-challenge: [A-Za-z0-9+/]+=*$'
E_OPENED_RE='^cvminit: jobstore: jobs: /dev/vda5 opened as /dev/mapper/cvm-jobs \(LUKS2, key from prompt, [0-9]+ ms\)$'
E_ATTEST_RE='^cvminit: attest: TDX report from mock \([0-9]+ bytes\), '
E_RTMR2_MSG='RTMR2'
E_DEBUG_MSG='TD_ATTRIBUTES.DEBUG (bit 0) is set'
# ===========================================================================

chain=$WORK/tdxchain
"$REPO/qemu-tests/mock-tdx-chain.sh" "$chain"
protected_disk
printf '%s' "$JOBS_PASSPHRASE" > "$WORK/owner.key"
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
TEE=mock
MOCK_TEE_KIND=tdx
$(protected_config)
LAUNCHER_ARGS="--standin-cat=/opt/nvflare/jobs/JOBS-MARKER"
CONF
)
protected_initramfs_build --config "$cfg" --file "$chain/ak.key:/etc/cvminit/mock/vcek.pem" \
	--file "$chain/tdx-sigtail.bin:/etc/cvminit/mock/tdx-sigtail.bin"
# the owner expects what `cvminit measure --test-build` predicts for this image
CMDLINE="console=ttyS0 panic=-1"
read -r E_MRTD E_RTMR1 E_RTMR2 < <(mock_tdx_values "$cfg" "$CMDLINE")
[[ "$E_MRTD" =~ ^[0-9a-f]{96}$ && "$E_RTMR1" =~ ^[0-9a-f]{96}$ && "$E_RTMR2" =~ ^[0-9a-f]{96}$ ]] ||
	die "no predicted mock TDX values"
# RTMR2 recomputed here from the documented formula, independently of the C code
R2=$(python3 -c 'import hashlib,sys; print(hashlib.sha384(bytes(48)+hashlib.sha384(sys.argv[1].encode()).digest()).hexdigest())' "$CMDLINE")
[ "$R2" = "$E_RTMR2" ] || fail "the predicted RTMR2 $E_RTMR2 is not extend(0, SHA-384(cmdline)) $R2"
PINS="--root '$chain/root.pem' --expect-measurement $E_MRTD --expect-rtmr1 $E_RTMR1 --expect-rtmr2 $E_RTMR2"
wrap="'$CVMINIT' key wrap --challenge - --key '$WORK/owner.key' $PINS 2>'$WORK/wrap.err' | tee '$WORK/wrapped.txt'"
boot --expect "$(rx_quote "$E_JOBS_PROMPT")" --send-cmd "$wrap"

expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_MOCK"
expect_regex "$E_ATTEST_RE"
expect_line "Measurement: $(printf '%s' "$E_MRTD" | xxd -r -p | base64 -w0)"
expect_regex "$E_CHALLENGE_RE"
expect_regex "$E_OPENED_RE"
expect_line "STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
expect_secret_absent "$JOBS_PASSPHRASE" "the job-store key"
grep -q '^cvminit-wrapped: ' "$WORK/wrapped.txt" || { sed 's/^/#   /' "$WORK/wrap.err"; fail "cvminit key wrap produced no wrapped line"; }

# ---- the wrap tool on the host: what it must refuse ------------------------
normalize_console
grep -m1 '^cvminit-challenge: ' "$CONSOLE_TXT" > "$WORK/challenge.txt"
python3 - "$WORK/challenge.txt" <<'PY' || fail "the challenge does not carry a TDX quote v4"
import base64, json, sys
doc = json.loads(base64.b64decode(open(sys.argv[1]).read().split(': ', 1)[1]))
q = base64.b64decode(doc['report'])
assert doc['tee'] == 'tdx', doc['tee']
assert int.from_bytes(q[0:2], 'little') == 4 and int.from_bytes(q[4:8], 'little') == 0x81, 'not a TDX quote v4'
assert int.from_bytes(q[48 + 120:48 + 128], 'little') == 1 << 28, 'TD_ATTRIBUTES is not SEPT_VE_DISABLE alone'
PY
wrap_rc() { # wrap_rc CHALLENGE-FILE [extra args]: exit status of cvminit key wrap
	local f=$1; shift
	set +e
	"$CVMINIT" key wrap --challenge "$f" --key "$WORK/owner.key" --root "$chain/root.pem" \
		--expect-measurement "$E_MRTD" --expect-rtmr1 "$E_RTMR1" "$@" > "$WORK/wrap-out.txt" 2> "$WORK/wrap-err.txt"
	local rc=$?
	set -e
	echo "$rc"
}
rc=$(wrap_rc "$WORK/challenge.txt" --expect-rtmr2 "$E_RTMR2")
[ "$rc" = 0 ] || { sed 's/^/#   /' "$WORK/wrap-err.txt"; fail "the captured challenge does not wrap: exit $rc"; }
# fail closed: no expected RTMR2, no key
rc=$(wrap_rc "$WORK/challenge.txt")
[ "$rc" = 2 ] || fail "no expected RTMR2: exit $rc, want 2"
grep -q "$E_RTMR2_MSG" "$WORK/wrap-err.txt" || fail "no expected RTMR2: the message does not name RTMR2"
# the test root is not a built-in Intel root: refused without --root
set +e
"$CVMINIT" key wrap --challenge "$WORK/challenge.txt" --key "$WORK/owner.key" --expect-measurement "$E_MRTD" \
	--expect-rtmr1 "$E_RTMR1" --expect-rtmr2 "$E_RTMR2" > "$WORK/wrap-out.txt" 2> "$WORK/wrap-err.txt"
rc=$?
set -e
[ "$rc" = 4 ] || fail "self-made PCK chain without --root: exit $rc, want 4"
[ ! -s "$WORK/wrap-out.txt" ] || fail "self-made PCK chain: a wrapped line was printed"
# another command line (a host booting its own kernel command line): RTMR2 differs
E_OTHER=$(python3 -c 'import hashlib,sys; print(hashlib.sha384(bytes(48)+hashlib.sha384(sys.argv[1].encode()).digest()).hexdigest())' "$CMDLINE init=/bin/sh")
rc=$(wrap_rc "$WORK/challenge.txt" --expect-rtmr2 "$E_OTHER")
[ "$rc" = 5 ] || fail "wrong RTMR2: exit $rc, want 5"
[ ! -s "$WORK/wrap-out.txt" ] || fail "wrong RTMR2: something was printed on stdout"
grep -q "$E_RTMR2_MSG" "$WORK/wrap-err.txt" || fail "wrong RTMR2: the message does not name RTMR2"
grep -q 'refusing to wrap' "$WORK/wrap-err.txt" || fail "wrong RTMR2: no 'refusing to wrap' message"
# a debuggable TD: TD_ATTRIBUTES.DEBUG set, the quote re-signed by the test attestation key
python3 "$REPO/qemu-tests/challenge-edit.py" "$WORK/challenge.txt" "$chain/ak.key" debug > "$WORK/challenge-debug.txt"
rc=$(wrap_rc "$WORK/challenge-debug.txt" --expect-rtmr2 "$E_RTMR2")
[ "$rc" = 5 ] || fail "debuggable TD: exit $rc, want 5"
[ ! -s "$WORK/wrap-out.txt" ] || fail "debuggable TD: something was printed on stdout"
grep -qF "$E_DEBUG_MSG" "$WORK/wrap-err.txt" || fail "debuggable TD: the message does not name DEBUG"
# control: the edited quote's signatures verify; only the DEBUG check refused it
rc=$(wrap_rc "$WORK/challenge-debug.txt" --expect-rtmr2 "$E_RTMR2" --allow-debug)
[ "$rc" = 0 ] || { sed 's/^/#   /' "$WORK/wrap-err.txt"; fail "control: the re-signed debug quote with --allow-debug: exit $rc, want 0"; }
# a TDX guest without configfs-tsm offers a TDREPORT: not verifiable off the machine, refused
python3 "$REPO/qemu-tests/challenge-edit.py" "$WORK/challenge.txt" "$chain/ak.key" tdreport > "$WORK/challenge-tdreport.txt"
rc=$(wrap_rc "$WORK/challenge-tdreport.txt" --expect-rtmr2 "$E_RTMR2")
[ "$rc" = 3 ] || fail "TDREPORT challenge: exit $rc, want 3"
[ ! -s "$WORK/wrap-out.txt" ] || fail "TDREPORT challenge: a wrapped line was printed"
grep -q 'the challenge carries a TDREPORT' "$WORK/wrap-err.txt" || fail "TDREPORT challenge: the message does not say so"
