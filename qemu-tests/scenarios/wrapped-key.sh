# qemu/wrapped-key (issue 7): the job-store key crosses the host-owned console
# sealed. At p5's prompt the init prints a challenge (a mock-TEE report that
# binds a fresh public key); the harness, as the model owner, verifies it and
# wraps the key with `cvminit key wrap`; the pasted line opens p5. The key
# never appears on the console. Then, on the host, the wrap tool refuses a
# wrong measurement, a debuggable policy and a report that does not bind the
# challenge's key.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_JOBS_PROMPT='Passphrase for jobs (/dev/vda5): '
E_OFFER="cvminit: jobstore: jobs: the key may be typed, or sealed to this boot: run 'cvminit key wrap' on the challenge below and paste its cvminit-wrapped line at the prompt"
E_CHALLENGE_RE='^cvminit-challenge: [A-Za-z0-9+/]+=*$'
E_OPENED_RE='^cvminit: jobstore: jobs: /dev/vda5 opened as /dev/mapper/cvm-jobs \(LUKS2, key from prompt, [0-9]+ ms\)$'
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
protected_disk
printf '%s' "$JOBS_PASSPHRASE" > "$WORK/owner.key"
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
TEE=mock
$(protected_config)
LAUNCHER_ARGS="--standin-cat=/opt/nvflare/jobs/JOBS-MARKER"
CONF
)
protected_initramfs_build --config "$cfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
# the owner expects the measurement `cvminit measure` predicts for this image
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
wrap="'$CVMINIT' key wrap --challenge - --key '$WORK/owner.key' --vcek '$chain/vcek.pem' --chain '$chain/chain.pem' --root '$chain/ark.pem' --expect-measurement $E_MEASUREMENT 2>'$WORK/wrap.err' | tee '$WORK/wrapped.txt'"
boot --expect "$(rx_quote "$E_JOBS_PROMPT")" --send-cmd "$wrap"

expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_OFFER"
expect_regex "$E_CHALLENGE_RE"
expect_regex "$E_OPENED_RE"
expect_line "STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
expect_secret_absent "$JOBS_PASSPHRASE" "the job-store key"
grep -q '^cvminit-wrapped: ' "$WORK/wrapped.txt" || { sed 's/^/#   /' "$WORK/wrap.err"; fail "cvminit key wrap produced no wrapped line"; }

# ---- the wrap tool on the host: what it must refuse ------------------------
normalize_console
grep -m1 '^cvminit-challenge: ' "$CONSOLE_TXT" > "$WORK/challenge.txt"
wrap_rc() { # wrap_rc CHALLENGE-FILE [extra args]: exit status of cvminit key wrap
	local f=$1; shift
	set +e
	"$CVMINIT" key wrap --challenge "$f" --key "$WORK/owner.key" --vcek "$chain/vcek.pem" --chain "$chain/chain.pem" \
		${WRAP_PINS-"--root" "$chain/ark.pem" "--expect-measurement" "$E_MEASUREMENT"} "$@" > "$WORK/wrap-out.txt" 2> "$WORK/wrap-err.txt"
	local rc=$?
	set -e
	echo "$rc"
}
[ "$(wrap_rc "$WORK/challenge.txt")" = 0 ] || fail "the captured challenge does not wrap"
# fail closed: no expected measurement, no key (exit 2, nothing printed)
rc=$(WRAP_PINS="--root $chain/ark.pem" wrap_rc "$WORK/challenge.txt")
[ "$rc" = 2 ] || fail "no expected measurement: exit $rc, want 2"
[ ! -s "$WORK/wrap-out.txt" ] || fail "no expected measurement: something was printed on stdout"
grep -q 'no expected MEASUREMENT' "$WORK/wrap-err.txt" || fail "no expected measurement: the message does not say so"
# the mock's chain is self-made: without --root naming its ARK it is refused
rc=$(WRAP_PINS="--expect-measurement $E_MEASUREMENT" wrap_rc "$WORK/challenge.txt")
[ "$rc" = 4 ] || fail "self-made chain without --root: exit $rc, want 4"
grep -q 'not a built-in AMD root of trust' "$WORK/wrap-err.txt" || fail "self-made chain: the message does not name the root"
rc=$(wrap_rc "$WORK/challenge.txt" --expect-measurement "$(printf '%096d' 0)")
[ "$rc" = 5 ] || fail "wrong measurement: exit $rc, want 5"
[ ! -s "$WORK/wrap-out.txt" ] || fail "wrong measurement: something was printed on stdout"
grep -q 'refusing to wrap' "$WORK/wrap-err.txt" || fail "wrong measurement: no 'refusing to wrap' message"
# a debuggable guest: the same report with POLICY.DEBUG set, re-signed by the test VCEK
python3 "$REPO/qemu-tests/challenge-edit.py" "$WORK/challenge.txt" "$chain/vcek.key" debug > "$WORK/challenge-debug.txt"
rc=$(wrap_rc "$WORK/challenge-debug.txt")
[ "$rc" = 5 ] || fail "debuggable policy: exit $rc, want 5"
grep -qi 'debug' "$WORK/wrap-err.txt" || fail "debuggable policy: the message does not say debug"
# another public key than the report binds: a host-in-the-middle's key
python3 "$REPO/qemu-tests/challenge-edit.py" "$WORK/challenge.txt" "$chain/vcek.key" swap-pubkey > "$WORK/challenge-mitm.txt"
rc=$(wrap_rc "$WORK/challenge-mitm.txt")
[ "$rc" = 5 ] || [ "$rc" = 4 ] || fail "substituted public key: exit $rc, want 4 or 5"
[ ! -s "$WORK/wrap-out.txt" ] || fail "substituted public key: a wrapped line was printed"
