# qemu/tee-evidence (issue 5): with the mock TEE (test build), the init gets
# an SNP report whose REPORT_DATA is the SHA-512 of evidence.json, keeps
# both under /run/cvminit/attestation, prints the launch measurement as
# "Measurement: <base64>", and the host tool verifies the report against the
# test chain with exactly those expectations.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_MOCK='cvminit: tee: MOCK TEE (TEST BUILD): reports are signed by a test key'
E_ATTEST_RE='^cvminit: attest: SNP report from mock \(1184 bytes\), REPORT_DATA sha512\(evidence\.json\) [0-9a-f]{16}\.\.\.; launch measurement [A-Za-z0-9+/]{64}$'
E_EVIDENCE_RE='^\{"format":"cvminit-evidence/1","verity":\{"boot":"none","config":"none","data":"none"\},"luks":\{"root":"none","jobs":"none"\},"config_sha256":"[0-9a-f]{64}","eventlog_sha256":"(none|[0-9a-f]{64})","nonce":"00112233"\}$'
# the mock's launch measurement covers the configuration and the command
# line (tee/mock_measure.h): predicted below with `cvminit measure`
CMDLINE_APPEND="cvminit.attest_nonce=00112233"
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
cfg=$(config_file cvminit.conf <<'CONF'
TEE=mock
ROOT_ENCRYPTION=none
JOB_STORE_ENCRYPTION=none
TMP_SIZE=64m
LAUNCHER_ARGS="--standin-cat=/run/cvminit/attestation/evidence.json --standin-hex=/run/cvminit/attestation/report.bin"
CONF
)
disk_build
initramfs_build --config "$cfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1 $CMDLINE_APPEND")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
boot --append "$CMDLINE_APPEND"

expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_MOCK"
expect_regex "$E_ATTEST_RE"
expect_regex '^Measurement: [A-Za-z0-9+/]{64}$'
normalize_console
evidence=$(sed -n 's|^STANDIN: cat /run/cvminit/attestation/evidence.json: ||p' "$CONSOLE_TXT")
report_hex=$(sed -n 's|^STANDIN: hex /run/cvminit/attestation/report.bin: ||p' "$CONSOLE_TXT")
[[ "$evidence" =~ $E_EVIDENCE_RE ]] || fail "evidence.json is not the canonical document: $evidence"
[ ${#report_hex} -eq 2368 ] || fail "report.bin is ${#report_hex} hex digits, want 2368 (1184 bytes)"
printf '%s' "$report_hex" | xxd -r -p > "$WORK/report.bin"
rd=$(printf '%s' "$evidence" | sha512sum | cut -c1-128)
measurement_line=$(sed -n 's/^Measurement: //p' "$CONSOLE_TXT" | head -n1)
[ "$(printf '%s' "$measurement_line" | base64 -d | xxd -p -c 64)" = "$E_MEASUREMENT" ] ||
	fail "Measurement line does not decode to the predicted measurement $E_MEASUREMENT"
set +e
"$CVMINIT" report verify "$WORK/report.bin" --vcek "$chain/vcek.pem" --chain "$chain/chain.pem" \
	--root "$chain/ark.pem" --expect-report-data "$rd" --expect-measurement "$E_MEASUREMENT" > "$WORK/verify.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || { sed 's/^/#   /' "$WORK/verify.out"; fail "cvminit report verify exited $rc, want 0"; }
# and the binding really binds: another REPORT_DATA is refused (exit 5)
other=$(printf '%s' "${evidence/00112233/00112234}" | sha512sum | cut -c1-128)
set +e
"$CVMINIT" report verify "$WORK/report.bin" --vcek "$chain/vcek.pem" --chain "$chain/chain.pem" \
	--root "$chain/ark.pem" --expect-measurement "$E_MEASUREMENT" --expect-report-data "$other" > /dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 5 ] || fail "verify with another REPORT_DATA exited $rc, want 5"
