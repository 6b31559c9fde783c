#!/bin/bash
# The README's owner procedure, run as written from a fresh shell (env -i)
# on test inputs: "For image builders" step 5 (cvminit measure ... --snp-ovmf
# ... --output measurements.json) and step 7 (report verify --measurements),
# "Delivering the job-store key" steps 3/4 (key wrap --measurements
# measurements.json --sign-key owner.pem). The test substitutions, and only
# they: a test build's configuration (TEE=mock) and --test-build, the mock
# chain of qemu-tests/mock-tee-chain.sh with its --root (the mock's ARK is not
# AMD's), a mock challenge and report (tests/mock-challenge.py) instead of a
# console, and Debian's ovmf-amdsev firmware with the test kernel.
# Prints one line per step:  ok - owner-procedure/<step>   or   not ok - ...
#
#   tests/owner-procedure.sh [--bin CVMINIT]
set -u

source "$(dirname "$0")/cli-lib.sh"
cli_init owner-procedure "$@"
mkdir -p "$work/bin"
mv "$bin" "$work/bin/cvminit"
step() { # step NAME COMMANDS: run COMMANDS in a fresh shell in $work, cvminit on PATH
	local name=$1 rc=0
	env -i HOME="$work" PATH="$work/bin:/usr/bin:/bin" bash -euo pipefail -c "cd '$work'; $2" \
		>"$work/$name.out" 2>"$work/$name.err" || rc=$?
	if [ "$rc" = 0 ]; then
		echo "ok - owner-procedure/$name"
	else
		echo "not ok - owner-procedure/$name (exit $rc: $(tail -c 400 "$work/$name.err" | tr '\n' ' '))"
		failed=$((failed + 1))
	fi
}

# test inputs
OVMF=$(qemu-tests/firmware.sh qemu-tests/ovmf-amdsev.lock) || { echo "not ok - owner-procedure/firmware"; exit 1; }
cp "$OVMF" "$work/OVMF.amdsev.fd"
KERNEL=${KERNEL_IMAGE:-$(ls "${CVMINIT_CACHE:-$HOME/.cache/cvminit}"/kernel/*/vmlinuz 2>/dev/null | head -n1)}
if [ -f "$KERNEL" ]; then cp "$KERNEL" "$work/vmlinuz"; else head -c 1048576 /dev/zero >"$work/vmlinuz"; fi
printf 'TEE=mock\nROOT_ENCRYPTION=none\nJOB_STORE_ENCRYPTION=none\n' >"$work/cvminit.conf"
head -c 200000 /dev/urandom >"$work/initrd.img"
qemu-tests/mock-tee-chain.sh "$work/chain" && cp "$work/chain/vcek.pem" "$work/chain/ark.pem" "$work/" &&
	cp "$work/chain/chain.pem" "$work/ask_ark.pem"
printf 'jobstore-key' >"$work/jobstore.key"
CMDLINE="console=ttyS0 panic=-1"

# README "For image builders", step 5 (--test-build: the test init; no LUKS2 here)
step measure "CMDLINE='$CMDLINE'
cvminit measure --initramfs initrd.img --config cvminit.conf --cmdline \"\$CMDLINE\" \\
    --banks sha256 --test-build \\
    --snp-ovmf OVMF.amdsev.fd --vcpus 4 --vcpu-type EPYC-Milan --kernel vmlinuz \\
    --output measurements.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format"]=="cvminit-measurements/1" and len(d["snp"]["measurement"])==96' \
	"$work/measurements.json" && echo "ok - owner-procedure/measurements-json" ||
	{ echo "not ok - owner-procedure/measurements-json"; failed=$((failed + 1)); }

# the CVM's side, mocked: the evidence it boots with, its report and its challenge
python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["evidence"])' "$work/measurements.json" >"$work/ev.json"
mock=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mock_tee_measurement"])' "$work/measurements.json")
tests/mock-challenge.py "$mock" "$work/chain/vcek.key" "$work/ev.json" >"$work/challenge.txt"
tests/mock-challenge.py "$mock" "$work/chain/vcek.key" "$work/ev.json" --report "$work/report.bin"

# step 7 (+ --root: the mock's ARK)
step report-verify "RD=\$(python3 -c 'import json; print(json.load(open(\"measurements.json\"))[\"report_data\"])')
cvminit report verify report.bin --vcek vcek.pem --chain ask_ark.pem --measurements measurements.json --expect-report-data \$RD --root ark.pem"

# "Authenticated lines" and "Delivering the job-store key", steps 3/4 (+ --root)
step key-wrap "openssl ecparam -name secp384r1 -genkey -noout -out owner.pem
echo \"JOBS_OWNER_PUBKEY=\$(cvminit key pubkey --sign-key owner.pem)\" >> cvminit.conf
cvminit key wrap --challenge challenge.txt --key jobstore.key --vcek vcek.pem --chain ask_ark.pem \\
    --measurements measurements.json --sign-key owner.pem --root ark.pem > wrapped.txt
grep -q '^cvminit-wrapped: ' wrapped.txt"

echo "# $failed failed"
[ "$failed" = 0 ]
