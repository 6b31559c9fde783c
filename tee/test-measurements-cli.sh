#!/bin/bash
# Tests of --measurements FILE (`cvminit report verify`, `cvminit key wrap`):
# the expected values come from cvminit measure's measurements.json
# (crypto/MEASUREMENTS.md). Each refusal with its exact message and exit
# status: unknown format, malformed JSON, no measurement for the report's TEE,
# a flag that says otherwise, a wrong measurement or HOST_DATA/MROWNER, a TDX
# document without RTMR2; key wrap prints nothing on stdout then. Report
# verify runs on the real vectors in tests/data/vectors; key wrap on a mock
# challenge (tests/mock-challenge.py, qemu-tests/mock-tee-chain.sh). Also:
# cvminit measure's output is the same bytes for the same inputs.
# Prints one line per case:  ok - measurements/<case>   or   not ok - measurements/<case> (why)
#
#   tee/test-measurements-cli.sh [--bin CVMINIT]
set -u

source "$(dirname "$0")/../tests/cli-lib.sh"
cli_init measurements "$@"
cli_need grep -q -- --measurements <("$bin" report --help 2>/dev/null) "has no --measurements"
mkdir -p "$work/verify" "$work/measure" "$work/wrap"

# case NAME WANT-RC WANT-STDERR-LINE ARGS...: exit status, and (unless
# WANT-STDERR-LINE is empty) that exact line on stderr.
case_() {
	local name=$1 want=$2 line=$3
	shift 3
	local rc=0
	"$bin" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
	if [ "$rc" != "$want" ]; then
		flunk "$name" "exit $rc, expected $want: $(head -c 400 "$work/$name.err" | tr '\n' ' ')"
	elif [ -n "$line" ] && ! grep -qxF -- "$line" "$work/$name.err"; then
		flunk "$name" "stderr lacks '$line': $(head -c 600 "$work/$name.err" | tr '\n' '|')"
	elif [ "$want" != 0 ] && [ "${name#wrap/}" != "$name" ] && [ -s "$work/$name.out" ]; then
		flunk "$name" "key wrap refused but printed: $(head -c 100 "$work/$name.out")"
	else
		pass "$name"
	fi
}

# doc FILE JSON-BODY: a measurements document with the members given.
doc() { printf '{"format": "cvminit-measurements/1", %s}\n' "$2" >"$1"; }

S=tests/data/vectors/go-sev-guest
X=tests/data/vectors/go-tdx-guest
AT=2027-06-01T00:00:00Z
MEAS=b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01
BAD=${MEAS%01}02
MRTD=6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb
RTMR1=2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61
RTMR2=8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e
Z96=$(printf '%096d' 0)
SNP=(report verify $S/attestation.bin --vcek $S/vcek.testcer --chain $S/ask_ark_milan.pem --time $AT --allow-debug)
TDX=(report verify $X/tdx_prod_quote_SPR_E4.dat --root $X/trusted_root.pem --time $AT)
RV="cvminit report verify"

# ---- report verify on the real vectors ---------------------------------------
doc "$work/snp.json" "\"snp\": {\"measurement\": \"$MEAS\", \"vcpus\": 4}"
case_ verify/snp-file 0 "" "${SNP[@]}" --measurements "$work/snp.json"
grep -q "MEASUREMENT is the expected $MEAS" "$work/verify/snp-file.out" 2>/dev/null ||
	grep -q "MEASUREMENT is the expected $MEAS" "$work/verify/snp-file.out" || flunk verify/snp-file-checked "no MEASUREMENT line"
case_ verify/snp-file-and-same-flag 0 "" "${SNP[@]}" --measurements "$work/snp.json" --expect-measurement $MEAS
doc "$work/snp-wrong.json" "\"snp\": {\"measurement\": \"$BAD\"}"
case_ verify/snp-file-wrong-measurement 5 "$RV: expectation: MEASUREMENT is $MEAS, expected $BAD" \
	"${SNP[@]}" --measurements "$work/snp-wrong.json"
case_ verify/snp-file-conflicts-with-flag 2 \
	"$RV: --expect-measurement $BAD conflicts with snp.measurement of $work/snp.json: $MEAS (give one, or the same value)" \
	"${SNP[@]}" --measurements "$work/snp.json" --expect-measurement $BAD
doc "$work/snp-hd.json" "\"snp\": {\"measurement\": \"$MEAS\", \"host_data\": \"$(printf '%064d' 1)\"}"
case_ verify/snp-file-wrong-host-data 5 "$RV: expectation: HOST_DATA is $(printf '%064d' 0), expected $(printf '%064d' 1)" \
	"${SNP[@]}" --measurements "$work/snp-hd.json"
doc "$work/v2.json" "\"snp\": {\"measurement\": \"$MEAS\"}"
sed -i 's|measurements/1|measurements/2|' "$work/v2.json"
case_ verify/unknown-format 2 \
	"$RV: --measurements $work/v2.json: unknown format 'cvminit-measurements/2' (this cvminit reads cvminit-measurements/1; a newer cvminit wrote it?)" \
	"${SNP[@]}" --measurements "$work/v2.json"
head -c 60 "$work/snp.json" >"$work/cut.json"
case_ verify/malformed-json 2 "$RV: --measurements $work/cut.json: not a JSON document (continue at byte 60)" \
	"${SNP[@]}" --measurements "$work/cut.json"
doc "$work/nosnp.json" '"tee": "snp", "initramfs": {"size": 1}'
case_ verify/no-snp-object 2 "" "${SNP[@]}" --measurements "$work/nosnp.json"
grep -q "^$RV: no expected MEASUREMENT: .*--measurements measurements.json with an snp object (cvminit measure .*--snp-ovmf" \
	"$work/verify/no-snp-object.err" || flunk verify/no-snp-object-says-how "$(head -c 300 "$work/verify/no-snp-object.err")"
case_ verify/no-expectations-contradiction 2 "$RV: --no-expectations contradicts --measurements" \
	"${SNP[@]}" --measurements "$work/snp.json" --no-expectations
case_ verify/missing-file 1 "" "${SNP[@]}" --measurements "$work/absent.json"
doc "$work/tdx.json" "\"tdx\": {\"mrtd\": \"$MRTD\", \"rtmr1\": \"$RTMR1\", \"rtmr2\": \"$RTMR2\", \"mrconfigid\": \"$Z96\"}"
case_ verify/tdx-file 0 "" "${TDX[@]}" --measurements "$work/tdx.json"
doc "$work/tdx-nortmr2.json" "\"tdx\": {\"mrtd\": \"$MRTD\", \"rtmr1\": \"$RTMR1\"}"
case_ verify/tdx-file-without-rtmr2 2 "" "${TDX[@]}" --measurements "$work/tdx-nortmr2.json"
grep -q "^$RV: missing expected RTMR2: .*--measurements measurements.json with a tdx object" \
	"$work/verify/tdx-file-without-rtmr2.err" || flunk verify/tdx-file-without-rtmr2-names-rtmr2
doc "$work/tdx-owner.json" "\"tdx\": {\"mrtd\": \"$MRTD\", \"rtmr1\": \"$RTMR1\", \"rtmr2\": \"$RTMR2\", \"mrowner\": \"${Z96%0}1\"}"
case_ verify/tdx-file-wrong-mrowner 5 "$RV: expectation: MROWNER is $Z96, expected ${Z96%0}1" \
	"${TDX[@]}" --measurements "$work/tdx-owner.json"
case_ verify/tdx-file-conflicts-with-rtmr2 2 \
	"$RV: --expect-rtmr2 $RTMR1 conflicts with tdx.rtmr2 of $work/tdx.json: $RTMR2 (give one, or the same value)" \
	"${TDX[@]}" --measurements "$work/tdx.json" --expect-rtmr2 $RTMR1
case_ verify/tdx-snp-file-only 2 "" "${TDX[@]}" --measurements "$work/snp.json"
case_ verify/host-data-on-tdx 2 \
	"$RV: --expect-host-data (HOST_DATA) is for SEV-SNP; this is a TDX report" \
	"${TDX[@]}" --measurements "$work/tdx.json" --expect-host-data "$(printf '%064d' 0)"

# ---- cvminit measure: deterministic ------------------------------------------
printf 'TEE=mock\nROOT_ENCRYPTION=none\nJOB_STORE_ENCRYPTION=none\n' >"$work/c.conf"
head -c 65536 /dev/zero | tr '\0' 'x' >"$work/initrd.img"
M=(measure --initramfs "$work/initrd.img" --config "$work/c.conf" --test-build --cmdline "console=ttyS0 panic=-1")
"$bin" "${M[@]}" --output "$work/m1.json" && "$bin" "${M[@]}" >"$work/m2.json" && cmp -s "$work/m1.json" "$work/m2.json" &&
	pass measure/deterministic || flunk measure/deterministic
case_ measure/snp-options-need-ovmf 2 "cvminit measure: --vcpus, --vcpu-type, ... go with --snp-ovmf FILE" \
	"${M[@]}" --vcpus 2
case_ measure/kernel-needs-a-firmware 2 "cvminit measure: --kernel goes with --snp-ovmf FILE or --tdx-ovmf FILE" \
	"${M[@]}" --kernel "$work/c.conf"
case_ measure/snp-ovmf-needs-kernel 2 "cvminit measure: --snp-ovmf needs --kernel FILE and --vcpus N (measured direct boot)" \
	"${M[@]}" --snp-ovmf "$work/c.conf" --vcpus 2 --vcpu-type EPYC
case_ measure/snp-ovmf-not-firmware 3 \
	"cvminit measure: --snp-ovmf: $work/c.conf: firmware size is not a non-zero multiple of 4 KiB (truncated?)" \
	"${M[@]}" --snp-ovmf "$work/c.conf" --vcpus 2 --vcpu-type EPYC --kernel "$work/c.conf"

# ---- key wrap on a mock challenge --------------------------------------------
chain=$work/chain
qemu-tests/mock-tee-chain.sh "$chain"
python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["evidence"])' "$work/m1.json" >"$work/ev.json"
mock=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mock_tee_measurement"])' "$work/m1.json")
tests/mock-challenge.py "$mock" "$chain/vcek.key" "$work/ev.json" >"$work/challenge.txt"
printf 'jobstore-secret' >"$work/jobs.key"
KW=(key wrap --challenge "$work/challenge.txt" --key "$work/jobs.key" --vcek "$chain/vcek.pem" --chain "$chain/chain.pem" --root "$chain/ark.pem")
W="cvminit key wrap"
case_ wrap/file 0 "$W: $work/m1.json is a test build's (TEE=mock): expecting the mock TEE's values" \
	"${KW[@]}" --measurements "$work/m1.json"
grep -q '^cvminit-wrapped: ' "$work/wrap/file.out" 2>/dev/null || flunk wrap/file-prints-line
python3 - "$work/m1.json" "$work/m-wrong.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m['mock_tee_measurement'] = m['mock_tee_measurement'][:-2] + ('00' if m['mock_tee_measurement'][-2:] != '00' else '01')
json.dump(m, open(sys.argv[2], 'w'), indent=2)
PY
wrong=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mock_tee_measurement"])' "$work/m-wrong.json")
case_ wrap/wrong-measurement 5 "$RV: expectation: MEASUREMENT is $mock, expected $wrong" \
	"${KW[@]}" --measurements "$work/m-wrong.json"
case_ wrap/conflict-with-flag 2 \
	"$W: --expect-measurement $wrong conflicts with mock_tee_measurement of $work/m1.json: $mock (give one, or the same value)" \
	"${KW[@]}" --measurements "$work/m1.json" --expect-measurement "$wrong"
case_ wrap/unknown-format 2 \
	"$W: --measurements $work/v2.json: unknown format 'cvminit-measurements/2' (this cvminit reads cvminit-measurements/1; a newer cvminit wrote it?)" \
	"${KW[@]}" --measurements "$work/v2.json"
case_ wrap/malformed-json 2 "$W: --measurements $work/cut.json: not a JSON document (continue at byte 60)" \
	"${KW[@]}" --measurements "$work/cut.json"
case_ wrap/no-measurement 2 "" "${KW[@]}" --measurements "$work/nosnp.json"
grep -q "^$W: refusing: no expected MEASUREMENT: .*--snp-ovmf" "$work/wrap/no-measurement.err" ||
	flunk wrap/no-measurement-says-how "$(head -c 300 "$work/wrap/no-measurement.err")"
case_ wrap/no-expectations-at-all 2 "" "${KW[@]}"
doc "$work/real.json" "\"tee\": \"snp\", \"snp\": {\"measurement\": \"$mock\"}"
case_ wrap/release-shaped-file 0 "" "${KW[@]}" --measurements "$work/real.json"

echo "# $failed failed"
[ "$failed" = 0 ]
