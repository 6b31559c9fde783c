#!/bin/bash
# Tests of `cvminit report show|verify` on the real attestation vectors in
# tests/data/vectors/ (see its README.md): the fields their sources assert,
# signature and chain verification, the debug policy, the --expect-* checks,
# single-byte changes of every signed region, truncations and garbage.
# Prints one line per case:  ok - report/<case>   or   not ok - report/<case> (why)
#
#   tee/test-report-cli.sh [--bin CVMINIT]
#
# Certificate validity is checked at a fixed instant (--time), so the result
# does not depend on today's date.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"

bin="${CVMINIT_BIN:-build/cvminit}"
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) [ $# -ge 2 ] || { echo "usage: $0 [--bin CVMINIT]" >&2; exit 2; }; bin=$2; shift 2 ;;
	*) echo "usage: $0 [--bin CVMINIT]" >&2; exit 2 ;;
	esac
done
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac
if [ ! -x "$bin" ] || ! "$bin" report --help >/dev/null 2>&1; then
	echo "not ok - report/binary ($bin has no report command: run make first)"
	exit 1
fi

V=tests/data/vectors
S=$V/go-sev-guest
X=$V/go-tdx-guest
Y=$V/synthetic
AT=2027-06-01T00:00:00Z   # inside every certificate's validity
JOBS=$(nproc 2>/dev/null || echo 2)

work=$(mktemp -d "${TMPDIR:-/tmp}/cvminit-report.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A private copy: a rebuild of build/cvminit during the run cannot disturb it.
cp "$bin" "$work/cvminit" && bin="$work/cvminit"

mkdir -p "$work/show" "$work/verify" "$work/usage" "$work/garbage"

failed=0
pass() { echo "ok - report/$1"; }
flunk() {
	echo "not ok - report/$1${2:+ ($2)}"
	failed=$((failed + 1))
}

# run NAME ARGS...: `cvminit ARGS`, output in $work/NAME.{out,err}, exit status in RC.
RC=0
run() {
	local name=$1
	shift
	RC=0
	"$bin" "$@" >"$work/$name.out" 2>"$work/$name.err" || RC=$?
}

# expect NAME WANT ARGS...: one case on the exit status. A verdict other than
# success or usage must come with exactly one line on stderr.
expect() {
	local name=$1 want=$2
	shift 2
	run "$name" "$@"
	if [ "$RC" != "$want" ]; then
		flunk "$name" "exit $RC, expected $want: $(head -c 300 "$work/$name.err" | tr '\n' ' ')"
	elif [ "$want" -ge 3 ] && [ "$(wc -l <"$work/$name.err")" != 1 ]; then
		flunk "$name" "stderr is not one line: $(tr '\n' '|' <"$work/$name.err")"
	else
		pass "$name"
	fi
}

# has FILE KEY JSON-VALUE: FILE has the member line `"KEY": VALUE`.
has() {
	awk -v k="$1" -v v="$2" '{ sub(/^ +/, ""); sub(/,$/, ""); if ($0 == "\"" k "\": " v) f = 1 } END { exit !f }' "$3"
}

# fields NAME FILE KEY VALUE [KEY VALUE ...]: one case, every member present.
fields() {
	local name=$1 out=$2 missing=""
	shift 2
	while [ $# -ge 2 ]; do
		has "$1" "$2" "$out" || missing="$missing $1=$2"
		shift 2
	done
	if [ -z "$missing" ]; then pass "$name"; else flunk "$name" "missing:$missing"; fi
}

z() { printf '"%0*d"' $(($1 * 2)) 0; } # "000...0" for N bytes

# ---- show: the fields the sources assert (EXPECTED.txt) ------------------------
run show-snp report show $S/attestation.bin
if [ "$RC" != 0 ]; then flunk show/snp-expected-fields "exit $RC"; else
	fields show/snp-expected-fields "$work/show-snp.out" \
		format '"snp"' version 2 guest_svn 0 vmpl 0 signature_algo 1 \
		raw '"0x00000000000b0000"' debug true smt true reserved_bit17 true migrate_ma false \
		single_socket false abi_major 0 abi_minor 0 \
		report_data '"01020304050000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"' \
		host_data "$(z 32)" family_id "$(z 16)" image_id "$(z 16)" \
		id_key_digest "$(z 48)" author_key_digest "$(z 48)" \
		report_id '"8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a"' \
		report_id_ma '"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"' \
		measurement '"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"' \
		chip_id '"3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d"' \
		raw '"0x4405000000000002"' layout '"milan-genoa"' boot_loader 2 tee 0 snp 5 microcode 68 \
		raw '"0x0000000000000001"' smt_enabled true tsme_enabled false \
		author_key_en false mask_chip_key false signing_key 0 signing_key_name '"vcek"' \
		current_build 3 current_minor 49 current_major 1 \
		committed_build 3 committed_minor 49 committed_major 1 \
		cpuid_fam_id null launch_mit_vector null trailing_bytes 0
	# every TCB is 0x4405000000000002, and the signature starts as EXPECTED.txt says
	n=$(grep -c '"raw": "0x4405000000000002"' "$work/show-snp.out")
	if [ "$n" = 4 ] && grep -q '"r_le": "4f8e8b5a' "$work/show-snp.out" && grep -q '"s_le": "e689246b' "$work/show-snp.out"; then
		pass show/snp-tcbs-and-signature
	else
		flunk show/snp-tcbs-and-signature "$n TCBs equal 0x4405000000000002, or signature prefix differs"
	fi
fi

run show-v4 report show $X/tdx_prod_quote_SPR_E4.dat
if [ "$RC" != 0 ]; then flunk show/tdx-v4-expected-fields "exit $RC"; else
	fields show/tdx-v4-expected-fields "$work/show-v4.out" \
		format '"tdx-quote"' version 4 att_key_type 2 tee_type 129 qe_svn 0 pce_svn 0 \
		qe_vendor_id '"939a7233f79c4ca9940a0db3957f0607"' \
		user_data '"739c3f292a15bace1f726351a70d4b7900000000"' body_type 2 body_size 584 \
		tee_tcb_svn '"03000400000000000000000000000000"' \
		mr_seam '"2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656"' \
		mr_signer_seam "$(z 48)" seam_attributes '"0000000000000000"' \
		td_attributes '"0000004000000000"' debug false pks true \
		xfam '"e71a060000000000"' \
		mr_td '"6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb"' \
		mr_config_id "$(z 48)" mr_owner "$(z 48)" mr_owner_config "$(z 48)" \
		rtmr0 '"2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a"' \
		rtmr1 '"2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61"' \
		rtmr2 '"8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e"' \
		rtmr3 "$(z 48)" \
		report_data '"6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113"' \
		signature_data_size 4299 type 6 size 4165 qe_auth_data_size 32 type 5 size 3677 \
		pem_certificates 3 quote_size 4935 trailing_bytes 39 \
		isv_prod_id 2 isv_svn 4 \
		mr_signer '"dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5"' \
		mr_enclave '"853e298f3b7cde28b06493d06fb2ad6f9566a97fea6d3de66236b2af1a35150f"' \
		cpu_svn '"04040d0f03ff00030000000000000000"'
fi

run show-v5 report show $X/quote_v5_sample.dat
if [ "$RC" != 0 ]; then flunk show/tdx-v5-expected-fields "exit $RC"; else
	fields show/tdx-v5-expected-fields "$work/show-v5.out" \
		version 5 body_type 3 body_type_name '"td15"' body_size 648 \
		tee_tcb_svn '"0b010400000000000000000000000000"' \
		tee_tcb_svn2 '"0d010400000000000000000000000000"' \
		td_attributes '"0000001000000000"' sept_ve_disable true debug false \
		xfam '"e702060000000000"' \
		mr_td '"7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876"' \
		mr_seam '"7bf063280e94fb051f5dd7b1fc59ce9aac42bb961df8d44b709c9b0ff87a7b4df648657ba6d1189589feab1d5a3c9a9d"' \
		mr_servicetd "$(z 48)" signature_data_size 4300 size 4166 size 3678 isv_svn 7 trailing_bytes 0
fi

run show-cos report show $X/cos-113-tdx-quote.dat
if [ "$RC" != 0 ]; then flunk show/tdx-cos-expected-fields "exit $RC"; else
	fields show/tdx-cos-expected-fields "$work/show-cos.out" \
		version 4 report_data "$(z 64)" td_attributes '"0000001000000000"' xfam '"e700060000000000"' \
		mr_td '"dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a"' \
		rtmr0 '"3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6"' \
		rtmr1 '"f62dbc072bd5d3f3438b7b35c39a727f5aea2ffc2473f43723953f530daf62504f0a7944aa62c41a86e8a878c2b122c1"' \
		rtmr2 '"4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1"' \
		rtmr3 "$(z 48)" trailing_bytes 3065 quote_size 4935
fi

run show-tdr report show $Y/tdreport.bin
if [ "$RC" != 0 ]; then flunk show/tdreport-fields "exit $RC"; else
	fields show/tdreport-fields "$work/show-tdr.out" \
		format '"tdreport"' report_type 129 report_subtype 0 valid '"ff01000000000000"' \
		attributes '"0000004000000000"' debug false pks true \
		mr_td '"6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb"' \
		report_data '"6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113"'
fi

if command -v python3 >/dev/null; then
	bad=""
	for f in snp v4 v5 cos tdr; do
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/show-$f.out" 2>/dev/null || bad="$bad $f"
	done
	if [ -z "$bad" ]; then pass show/json-parses; else flunk show/json-parses "invalid JSON:$bad"; fi
else
	echo "ok - report/show/json-parses # SKIP python3 not installed"
fi

expect show/forced-format-tdx-on-snp 3 report show $S/attestation.bin --format tdx-quote
expect show/forced-format-snp-on-quote 3 report show $X/quote_v5_sample.dat --format snp
expect show/forced-format-ok 0 report show $X/quote_v5_sample.dat --format tdx-quote
expect show/unknown-format-name 2 report show $S/attestation.bin --format sgx
: >"$work/empty"
expect show/empty-file 3 report show "$work/empty"
expect show/missing-file 1 report show "$work/does-not-exist"
expect usage/no-subcommand 2 report
expect usage/help 0 report --help
expect usage/verify-without-file 2 report verify
expect usage/unknown-option 2 report verify $S/attestation.bin --bogus
expect usage/bad-time 2 report verify $X/quote_v5_sample.dat --root $X/trusted_root.pem --time yesterday

# ---- verify: SEV-SNP --------------------------------------------------------------
SNP=(report verify $S/attestation.bin --vcek $S/vcek.testcer --chain $S/ask_ark_milan.pem --time $AT)
expect verify/snp-debug-policy-refused 5 "${SNP[@]}" --no-expectations
grep -q 'DEBUG (bit 19)' "$work/verify/snp-debug-policy-refused.err" ||
	flunk verify/snp-debug-policy-names-the-bit "$(cat "$work/verify/snp-debug-policy-refused.err")"
expect verify/snp-allow-debug 0 "${SNP[@]}" --allow-debug --no-expectations
expect verify/snp-allow-debug-pinned-root 0 "${SNP[@]}" --allow-debug --root $S/ask_ark_milan.pem --no-expectations
{ echo "-----BEGIN CERTIFICATE-----"; base64 -w 64 $S/vcek.testcer; echo "-----END CERTIFICATE-----"; } >"$work/vcek.pem"
expect verify/snp-vcek-as-pem 0 report verify $S/attestation.bin --vcek "$work/vcek.pem" --chain $S/ask_ark_milan.pem --time $AT --allow-debug --no-expectations
expect verify/snp-genoa-chain 4 report verify $S/attestation.bin --vcek $S/vcek.testcer --chain $S/ask_ark_genoa.pem --time $AT --allow-debug --no-expectations
expect verify/snp-vlek-chain 4 report verify $S/attestation.bin --vcek $S/vcek.testcer --chain $S/milanvlek.testcer --time $AT --allow-debug --no-expectations
expect verify/snp-wrong-root 4 "${SNP[@]}" --allow-debug --root $S/ask_ark_genoa.pem --no-expectations
expect verify/snp-wrong-leaf 4 report verify $S/attestation.bin --vcek $S/ask_ark_milan.pem --chain $S/ask_ark_milan.pem --time $AT --allow-debug --no-expectations
expect verify/snp-vcek-expired 4 report verify $S/attestation.bin --vcek $S/vcek.testcer --chain $S/ask_ark_milan.pem --time 2030-01-01 --allow-debug --no-expectations
expect verify/snp-vcek-not-yet-valid 4 report verify $S/attestation.bin --vcek $S/vcek.testcer --chain $S/ask_ark_milan.pem --time 2022-09-01 --allow-debug --no-expectations
expect verify/snp-vcek-garbage 3 report verify $S/attestation.bin --vcek "$work/empty" --chain $S/ask_ark_milan.pem --time $AT --allow-debug --no-expectations
expect verify/snp-needs-vcek 2 report verify $S/attestation.bin --chain $S/ask_ark_milan.pem
expect verify/snp-needs-chain 2 report verify $S/attestation.bin --vcek $S/vcek.testcer
MEAS=b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01
RD=0102030405$(printf '%0118d' 0)
expect verify/snp-expect-match 0 "${SNP[@]}" --allow-debug --expect-measurement $MEAS --expect-report-data $RD
expect verify/snp-expect-measurement-mismatch 5 "${SNP[@]}" --allow-debug --expect-measurement ${MEAS%01}02
expect verify/snp-expect-report-data-mismatch 5 "${SNP[@]}" --allow-debug --expect-report-data ${RD%0}1 --no-expectations
expect verify/snp-expect-report-data-65-bytes 2 "${SNP[@]}" --allow-debug --expect-report-data ${RD}00
expect verify/snp-expect-report-data-not-hex 2 "${SNP[@]}" --allow-debug --expect-report-data "not even hex"
# fail closed: no expected measurement, no verdict (only --no-expectations inspects)
expect verify/snp-no-expectations-refused 2 "${SNP[@]}" --allow-debug
grep -q 'no expected MEASUREMENT' "$work/verify/snp-no-expectations-refused.err" || flunk verify/snp-no-expectations-refused-says-why
expect verify/snp-no-expectations-contradiction 2 "${SNP[@]}" --allow-debug --no-expectations --expect-measurement $MEAS
# built-in roots: the ARK needs no --root; a bundle with extra certificates
# (ASK + ARK + ASVK of several products) verifies, the extras are named and ignored
grep -q "'ARK-Milan' is the built-in AMD root ARK-Milan" "$work/verify/snp-allow-debug.out" || flunk verify/snp-builtin-ark-pinned
cat $S/ask_ark_genoa.pem $S/milanvlek.testcer $S/ask_ark_milan.pem $S/ask_ark_turin_vcek.pem >"$work/bundle.pem"
expect verify/snp-bundle-extra-certs 0 report verify $S/attestation.bin --vcek $S/vcek.testcer --chain "$work/bundle.pem" --time $AT --allow-debug --expect-measurement $MEAS
grep -q "certificate 'SEV-VLEK-Milan' in --chain is not on the path to 'ARK-Milan': ignored" "$work/verify/snp-bundle-extra-certs.out" ||
	flunk verify/snp-bundle-extra-certs-named
# the owner's policy, each check with its own message (exit 5) and option
policy_case() { # NAME MESSAGE ARGS...: exit 5 and the message on stderr
	local name=$1 msg=$2
	shift 2
	expect "verify/$name" 5 "$@"
	grep -qF "$msg" "$work/verify/$name.err" || flunk "verify/$name-message" "$(cat "$work/verify/$name.err")"
}
policy_case snp-min-tcb-snp 'REPORTED_TCB snp=5 is below --min-tcb snp=6' "${SNP[@]}" --allow-debug --no-expectations --min-tcb bl=2,tee=0,snp=6,ucode=68
policy_case snp-min-tcb-ucode 'REPORTED_TCB ucode=68 is below --min-tcb ucode=69' "${SNP[@]}" --allow-debug --no-expectations --min-tcb bl=0,tee=0,snp=0,ucode=69
expect verify/snp-min-tcb-met 0 "${SNP[@]}" --allow-debug --no-expectations --min-tcb bl=2,tee=0,snp=5,ucode=68
policy_case snp-min-tcb-fmc-not-turin 'has no FMC field (not Turin)' "${SNP[@]}" --allow-debug --no-expectations --min-tcb bl=0,tee=0,snp=0,ucode=0,fmc=1
expect verify/snp-min-tcb-incomplete 2 "${SNP[@]}" --allow-debug --no-expectations --min-tcb bl=2,snp=5
expect verify/snp-min-tcb-unknown-field 2 "${SNP[@]}" --allow-debug --no-expectations --min-tcb bl=2,tee=0,snp=5,ucode=68,xyz=1
policy_case snp-vmpl 'requested at VMPL 0, expected VMPL 1' "${SNP[@]}" --allow-debug --no-expectations --vmpl 1
expect verify/snp-vmpl-out-of-range 2 "${SNP[@]}" --allow-debug --no-expectations --vmpl 4
policy_case snp-require-no-smt 'SMT (bit 16) is allowed, but --require-no-smt was given' "${SNP[@]}" --allow-debug --no-expectations --require-no-smt
policy_case snp-require-single-socket 'SINGLE_SOCKET (bit 20) is clear' "${SNP[@]}" --allow-debug --no-expectations --require-single-socket
policy_case snp-min-report-version 'report version 2 is below the minimum 3' "${SNP[@]}" --allow-debug --no-expectations --min-report-version 3
# the policy is judged only after the signature: a debug report with a bad
# expectation but good signature is a policy failure, a bad signature is not
expect verify/snp-policy-before-expectation 5 "${SNP[@]}" --expect-measurement ${MEAS%01}02

# ---- verify: TDX quotes ------------------------------------------------------------
for q in tdx_prod_quote_SPR_E4 quote_v5_sample cos-113-tdx-quote; do
	expect "verify/tdx-$q" 0 report verify $X/$q.dat --root $X/trusted_root.pem --time $AT --no-expectations
	grep -q '^verified$' "$work/verify/tdx-$q.out" || flunk "verify/tdx-$q-says-verified"
done
expect verify/tdx-quiet 0 report verify $X/quote_v5_sample.dat --root $X/trusted_root.pem --time $AT -q --no-expectations
[ -s "$work/verify/tdx-quiet.out" ] && flunk verify/tdx-quiet-is-silent "output with -q"
expect verify/tdx-expired 4 report verify $X/tdx_prod_quote_SPR_E4.dat --root $X/trusted_root.pem --time 2053-01-01 --no-expectations
expect verify/tdx-not-yet-valid 4 report verify $X/quote_v5_sample.dat --root $X/trusted_root.pem --time 2025-06-01 --no-expectations
expect verify/tdx-wrong-root 4 report verify $X/tdx_prod_quote_SPR_E4.dat --root $S/ask_ark_milan.pem --time $AT --no-expectations
# the Intel SGX Root CA is built in: no --root needed
expect verify/tdx-builtin-root 0 report verify $X/tdx_prod_quote_SPR_E4.dat --time $AT --no-expectations
grep -q "'Intel SGX Root CA' is the built-in Intel root" "$work/verify/tdx-builtin-root.out" || flunk verify/tdx-builtin-root-says-pinned
expect verify/tdx-no-vcek 2 report verify $X/tdx_prod_quote_SPR_E4.dat --root $X/trusted_root.pem --vcek $S/vcek.testcer
MRTD=6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb
TRD=6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113
RTMR1=2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61
RTMR2=8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e
RTMRS=(--expect-rtmr1 $RTMR1 --expect-rtmr2 $RTMR2)
TDX=(report verify $X/tdx_prod_quote_SPR_E4.dat --root $X/trusted_root.pem --time $AT)
policy_case tdx-attribute-not-allowed 'TD_ATTRIBUTES bit 30 (PKS) is set and not allowed' "${TDX[@]}" --no-expectations --td-attributes-allowed 0x10000000
expect verify/tdx-attribute-allowed 0 "${TDX[@]}" --no-expectations --td-attributes-allowed 0x40000000
policy_case tdx-xfam 'XFAM is e71a060000000000, expected e71a060000000001' "${TDX[@]}" --no-expectations --expect-xfam e71a060000000001
expect verify/tdx-xfam-match 0 "${TDX[@]}" --no-expectations --expect-xfam e71a060000000000
policy_case tdx-min-tee-tcb-svn 'TEE_TCB_SVN byte 0 is 3, below --min-tee-tcb-svn' "${TDX[@]}" --no-expectations --min-tee-tcb-svn 04000400000000000000000000000000
expect verify/tdx-min-tee-tcb-svn-met 0 "${TDX[@]}" --no-expectations --min-tee-tcb-svn 03000400000000000000000000000000
expect verify/tdx-expect-match 0 "${TDX[@]}" --expect-measurement $MRTD "${RTMRS[@]}" --expect-report-data $TRD
expect verify/tdx-expect-rtmr1-mismatch 5 "${TDX[@]}" --expect-measurement $MRTD --expect-rtmr1 ${RTMR1%61}62 --expect-rtmr2 $RTMR2
grep -q '^cvminit report verify: expectation: RTMR1 is ' "$work/verify/tdx-expect-rtmr1-mismatch.err" || flunk verify/tdx-expect-rtmr1-mismatch-names-rtmr1
expect verify/tdx-expect-rtmr2-mismatch 5 "${TDX[@]}" --expect-measurement $MRTD --expect-rtmr1 $RTMR1 --expect-rtmr2 ${RTMR2%4e}4f
grep -q '^cvminit report verify: expectation: RTMR2 is ' "$work/verify/tdx-expect-rtmr2-mismatch.err" || flunk verify/tdx-expect-rtmr2-mismatch-names-rtmr2
# fail closed: MRTD alone covers only the firmware
expect verify/tdx-mrtd-only-refused 2 "${TDX[@]}" --expect-measurement $MRTD
grep -q 'missing expected RTMR1 RTMR2' "$work/verify/tdx-mrtd-only-refused.err" || flunk verify/tdx-mrtd-only-refused-names-rtmrs
expect verify/tdx-rtmr-for-snp-refused 2 "${SNP[@]}" --allow-debug --expect-measurement $MEAS --expect-rtmr1 $RTMR1
expect verify/tdx-expect-mrtd-mismatch 5 "${TDX[@]}" --expect-measurement ${MRTD%bb}bc "${RTMRS[@]}"
expect verify/tdx-expect-report-data-mismatch 5 "${TDX[@]}" --expect-report-data ${TRD%13}14 --no-expectations
cp $X/quote_v5_sample.dat "$work/v5-trailing.dat"
printf 'trailing text\n' >>"$work/v5-trailing.dat"
expect verify/tdx-trailing-bytes-ignored 0 report verify "$work/v5-trailing.dat" --root $X/trusted_root.pem --time $AT --no-expectations

# ---- verify: TDREPORT (no signature off the platform) ------------------------------
expect verify/tdreport-unauthenticated 4 report verify $Y/tdreport.bin --no-expectations
expect verify/tdreport-debug-refused 5 report verify $Y/tdreport-debug.bin --no-expectations
expect verify/tdreport-debug-allowed-still-unauthenticated 4 report verify $Y/tdreport-debug.bin --allow-debug --no-expectations
expect verify/tdreport-expect-mismatch 5 report verify $Y/tdreport.bin --expect-measurement ${MRTD%bb}bc "${RTMRS[@]}"
cp $Y/tdreport.bin "$work/tdr-edited.bin"
printf '\x01' | dd of="$work/tdr-edited.bin" bs=1 seek=600 conv=notrunc status=none
expect verify/tdreport-tdinfo-changed 4 report verify "$work/tdr-edited.bin" --no-expectations
grep -q TEE_INFO_HASH "$work/verify/tdreport-tdinfo-changed.err" || flunk verify/tdreport-tdinfo-changed-names-hash

# ---- test chains made here (openssl): the paths the real vectors cannot take ------
# A clean-policy SNP report (the real one has DEBUG set) re-signed by a test
# VCEK under a test ASK/ARK, and a TDX quote with TD_ATTRIBUTES.DEBUG set,
# re-signed by a test attestation key whose QE report is signed by a test PCK
# chain. Throwaway keys, made for this run only.
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
bytes() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }           # hex -> bytes
putat() { bytes "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; } # FILE OFF HEX
le() { local v=$1 n=$2 i o=""; for ((i = 0; i < n; i++)); do o+=$(printf %02x $(((v >> (8 * i)) & 255))); done; printf %s "$o"; }
# sign KEY DIGEST FILE BYTES: the ECDSA r and s of FILE as BYTES-byte
# big-endian hex, "r s".
sign() {
	openssl dgst -"$2" -sign "$1" -out "$work/sig.der" "$3" || return 1
	openssl asn1parse -inform DER -in "$work/sig.der" | awk -F: '/INTEGER/ { print $NF }' |
		while read -r h; do
			h=$(printf %s "$h" | tr 'A-F' 'a-f' | sed 's/^\(00\)*//')
			z=$(printf '%*s' $((2 * $4 - ${#h})) '' | tr ' ' 0)
			printf '%s%s ' "$z" "$h"
		done
}
revhex() { printf %s "$1" | fold -w2 | tac | tr -d '\n'; }
mock_ok=0
if command -v openssl >/dev/null && qemu-tests/mock-tee-chain.sh "$work/amd" >/dev/null 2>&1; then
	# SEV-SNP: the real report with DEBUG cleared (policy 0xB0000 -> 0x30000), re-signed.
	# resign_snp OUT POLICY-BYTE-10: the real report with byte 10 of POLICY
	# (bits 16-23) replaced, re-signed by the test VCEK.
	resign_snp() {
		cp $S/attestation.bin "$1"
		putat "$1" 10 "$2"
		head -c 672 "$1" >"$work/snp-signed"
		read -r r s < <(sign "$work/amd/vcek.key" sha384 "$work/snp-signed" 48)
		[ -n "${s:-}" ] || return 1
		putat "$1" 672 "$(revhex "$r")$(printf '%048d' 0)"
		putat "$1" 744 "$(revhex "$s")$(printf '%048d' 0)"
	}
	resign_snp "$work/snp-clean.bin" 03 && mock_ok=1
	resign_snp "$work/snp-ma.bin" 07 || mock_ok=0        # + MIGRATE_MA (bit 18)
	resign_snp "$work/snp-socket.bin" 13 || mock_ok=0    # + SINGLE_SOCKET (bit 20)
	# TDX: root -> CA -> PCK (P-256, ECDSA SHA-256), an attestation key, the quote rebuilt.
	i=$work/intel
	mkdir -p "$i"
	ca="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign"
	printf '%s\n' "$ca" >"$i/ca.ext"
	if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$i/root.key" \
		-subj "/CN=Test SGX Root CA" -days 3650 -sha256 -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$i/root.pem" 2>/dev/null &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$i/ca.key" \
			-subj "/CN=Test SGX PCK Platform CA" -out "$i/ca.csr" 2>/dev/null &&
		openssl x509 -req -in "$i/ca.csr" -CA "$i/root.pem" -CAkey "$i/root.key" -CAcreateserial -days 3650 \
			-sha256 -extfile "$i/ca.ext" -out "$i/ca.pem" 2>/dev/null &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$i/pck.key" \
			-subj "/CN=Test SGX PCK Certificate" -out "$i/pck.csr" 2>/dev/null &&
		openssl x509 -req -in "$i/pck.csr" -CA "$i/ca.pem" -CAkey "$i/ca.key" -CAcreateserial -days 3650 \
			-sha256 -out "$i/pck.pem" 2>/dev/null &&
		openssl ecparam -name prime256v1 -genkey -noout -out "$i/ak.key" 2>/dev/null &&
		openssl ec -in "$i/ak.key" -pubout -outform DER 2>/dev/null | tail -c 64 >"$i/ak.pub"; then
		src=$X/tdx_prod_quote_SPR_E4.dat
		head -c 632 $src >"$i/signed"
		putat "$i/signed" $((48 + 120)) "$(printf %02x $(($(od -An -tu1 -j168 -N1 $src) | 1)))"
		tail -c +$((0x27C + 134 + 1)) $src | head -c 384 >"$i/qe"
		tail -c +$((0x27C + 134 + 384 + 64 + 2 + 1)) $src | head -c 32 >"$i/auth"
		cat "$i/ak.pub" "$i/auth" | sha256sum | cut -c1-64 >"$i/bind"
		putat "$i/qe" 320 "$(cat "$i/bind")"
		cat "$i/pck.pem" "$i/ca.pem" "$i/root.pem" >"$i/chain.pem"
		pem_size=$(stat -c %s "$i/chain.pem")
		cert_size=$((384 + 64 + 2 + 32 + 6 + pem_size))
		read -r qr qs < <(sign "$i/ak.key" sha256 "$i/signed" 32)
		read -r er es < <(sign "$i/pck.key" sha256 "$i/qe" 32)
		if [ -n "${qs:-}" ] && [ -n "${es:-}" ]; then
			{
				cat "$i/signed"
				bytes "$(le $((128 + 6 + cert_size)) 4)$qr$qs$(hexof "$i/ak.pub")$(le 6 2)$(le $cert_size 4)"
				cat "$i/qe"
				bytes "$er$es$(le 32 2)$(hexof "$i/auth")$(le 5 2)$(le "$pem_size" 4)"
				cat "$i/chain.pem"
			} >"$work/tdx-debug.dat"
			mock_ok=$((mock_ok + 1))
		fi
	fi
fi
if [ "$mock_ok" = 2 ]; then
	AMD=(--vcek "$work/amd/vcek.pem" --chain "$work/amd/chain.pem" --root "$work/amd/ark.pem")
	expect verify/test-chain-snp-clean-policy 0 report verify "$work/snp-clean.bin" "${AMD[@]}" --no-expectations
	# the owner's policy: a migration agent is refused unless allowed
	expect verify/test-chain-snp-migration-agent-refused 5 report verify "$work/snp-ma.bin" "${AMD[@]}" --no-expectations
	grep -q 'MIGRATE_MA (bit 18) is set' "$work/verify/test-chain-snp-migration-agent-refused.err" ||
		flunk verify/test-chain-snp-migration-agent-message "$(cat "$work/verify/test-chain-snp-migration-agent-refused.err")"
	expect verify/test-chain-snp-migration-agent-allowed 0 report verify "$work/snp-ma.bin" "${AMD[@]}" --no-expectations --allow-migration-agent
	expect verify/test-chain-snp-single-socket-required 0 report verify "$work/snp-socket.bin" "${AMD[@]}" --no-expectations --require-single-socket
	expect verify/test-chain-snp-other-root 4 report verify "$work/snp-clean.bin" "${AMD[@]:0:4}" --root $S/ask_ark_milan.pem --no-expectations
	# a self-made ARK -> ASK -> VCEK chain signs a forged report: refused without --root
	expect verify/test-chain-snp-self-made-refused 4 report verify "$work/snp-clean.bin" "${AMD[@]:0:4}" --no-expectations
	grep -q "which is not a built-in AMD root of trust" "$work/verify/test-chain-snp-self-made-refused.err" ||
		flunk verify/test-chain-snp-self-made-refused-says-why "$(cat "$work/verify/test-chain-snp-self-made-refused.err")" --no-expectations
	expect verify/test-chain-tdx-debug-refused 5 report verify "$work/tdx-debug.dat" --root "$i/root.pem" --no-expectations
	expect verify/test-chain-tdx-debug-allowed 0 report verify "$work/tdx-debug.dat" --root "$i/root.pem" --allow-debug --no-expectations
	expect verify/test-chain-tdx-intel-root 4 report verify "$work/tdx-debug.dat" --root $X/trusted_root.pem --allow-debug --no-expectations
	expect verify/test-chain-tdx-self-made-refused 4 report verify "$work/tdx-debug.dat" --allow-debug --no-expectations --no-expectations
	# the QE report must bind the attestation key: a different QE auth data breaks it
	cp "$work/tdx-debug.dat" "$work/tdx-unbound.dat"
	putat "$work/tdx-unbound.dat" $((0x27C + 134 + 384 + 64 + 2)) ff
	expect verify/test-chain-tdx-qe-binding 4 report verify "$work/tdx-unbound.dat" --root "$i/root.pem" --allow-debug --no-expectations
	grep -q 'does not bind the attestation key' "$work/verify/test-chain-tdx-qe-binding.err" ||
		flunk verify/test-chain-tdx-qe-binding-message "$(cat "$work/verify/test-chain-tdx-qe-binding.err")"
else
	echo "ok - report/verify/test-chains # SKIP openssl could not make the test chains"
fi

# ---- single-byte changes ----------------------------------------------------------
# flip_all NAME SRC OFFSETS-FILE ARGS...: for each offset, XOR that byte with 1
# and verify; every change must fail with 3 (malformed) or 4 (signature).
flip_worker() {
	local src=$1 list=$2 out=$3 tmp=$4
	shift 4
	local -a B
	mapfile -t B < <(od -An -v -tu1 -w1 "$src" | tr -d ' ')
	cp "$src" "$tmp"
	local off rc e
	while read -r off; do
		printf -v e '\\%03o' $((B[off] ^ 1))
		printf "$e" | dd of="$tmp" bs=1 seek="$off" conv=notrunc status=none
		rc=0
		"$bin" report verify "$tmp" "$@" --no-expectations -q >/dev/null 2>&1 || rc=$?
		case $rc in 3 | 4) ;; *) echo "0x$(printf %x "$off"):exit$rc" >>"$out" ;; esac
		printf -v e '\\%03o' "${B[off]}"
		printf "$e" | dd of="$tmp" bs=1 seek="$off" conv=notrunc status=none
	done <"$list"
}
flip_all() {
	local name=$1 src=$2 list=$3
	shift 3
	local out="$work/$name.flipfail" n
	: >"$out"
	n=$(wc -l <"$list")
	for ((j = 0; j < JOBS; j++)); do
		awk -v j=$j -v n=$JOBS '(NR - 1) % n == j' "$list" >"$list.$j"
		flip_worker "$src" "$list.$j" "$out" "$work/$name.tmp.$j" "$@" &
	done
	wait
	if [ -s "$out" ]; then
		flunk "$name" "$(wc -l <"$out") of $n changed bytes still verify or fail oddly: $(head -n 8 "$out" | tr '\n' ' ')"
	else
		pass "$name ($n single-byte changes)"
	fi
}
# SEV-SNP: every byte of the report (signed area 0x000-0x29F, signature, reserved).
seq 0 1183 >"$work/snp.offsets"
flip_all verify/snp-every-byte-changed $S/attestation.bin "$work/snp.offsets" \
	--vcek $S/vcek.testcer --chain $S/ask_ark_milan.pem --time $AT --allow-debug
# TDX v4: every byte of header and body, every 3rd of the signature,
# attestation key, certification data header, QE report, its signature and
# QE auth data, every 17th of the PCK chain (PEM), and its last byte.
{ seq 0 631; seq 632 3 1257; seq 1258 17 4933; echo 4934; } >"$work/v4.offsets"
flip_all verify/tdx-v4-signed-bytes-changed $X/tdx_prod_quote_SPR_E4.dat "$work/v4.offsets" \
	--root $X/trusted_root.pem --time $AT
# TDX v5: every byte of header and body descriptor, a spread over the rest.
{ seq 0 53; seq 54 23 5005; echo 5005; } >"$work/v5.offsets"
flip_all verify/tdx-v5-spread-bytes-changed $X/quote_v5_sample.dat "$work/v5.offsets" \
	--root $X/trusted_root.pem --time $AT

# ---- truncation and garbage ---------------------------------------------------------
# trunc_all NAME SRC LENGTHS-FILE CMD...: each truncation must give exit 3
# with one line on stderr.
trunc_worker() {
	local src=$1 list=$2 out=$3 tmp=$4
	shift 4
	local len rc
	while read -r len; do
		head -c "$len" "$src" >"$tmp"
		rc=0
		"$bin" "$@" "$tmp" >/dev/null 2>"$tmp.err" || rc=$?
		if [ "$rc" != 3 ] || [ "$(wc -l <"$tmp.err")" != 1 ]; then echo "$len:exit$rc" >>"$out"; fi
	done <"$list"
}
trunc_all() {
	local name=$1 src=$2 list=$3 out="$work/trunc.fail"
	shift 3
	: >"$out"
	for ((j = 0; j < JOBS; j++)); do
		awk -v j=$j -v n=$JOBS '(NR - 1) % n == j' "$list" >"$list.$j"
		trunc_worker "$src" "$list.$j" "$out" "$work/trunc.$j" "$@" &
	done
	wait
	if [ -s "$out" ]; then
		flunk "$name" "lengths: $(sort -n "$out" | head -n 12 | tr '\n' ' ')"
	else
		pass "$name ($(wc -l <"$list") lengths)"
	fi
}
seq 0 1183 >"$work/snp.lengths"
trunc_all show/snp-every-truncation $S/attestation.bin "$work/snp.lengths" report show
{ seq 0 1 60; seq 61 11 4934; echo 631 632 635 636 4934 | tr ' ' '\n'; } >"$work/v4.lengths"
trunc_all show/tdx-v4-truncations $X/tdx_prod_quote_SPR_E4.dat "$work/v4.lengths" report show
{ seq 0 19 5005; echo 53 54 701 702 705 706 5005 | tr ' ' '\n'; } >"$work/v5.lengths"
trunc_all show/tdx-v5-truncations $X/quote_v5_sample.dat "$work/v5.lengths" report show
seq 0 7 1023 >"$work/tdr.lengths"
trunc_all show/tdreport-truncations $Y/tdreport.bin "$work/tdr.lengths" report show
echo 0 100 1183 >"$work/vs.lengths"
tr ' ' '\n' <"$work/vs.lengths" >"$work/vs.l"
trunc_all verify/snp-truncations $S/attestation.bin "$work/vs.l" report verify --vcek $S/vcek.testcer --chain $S/ask_ark_milan.pem --time $AT --no-expectations
printf '%s\n' 0 700 4934 >"$work/vq.l"
trunc_all verify/tdx-truncations $X/tdx_prod_quote_SPR_E4.dat "$work/vq.l" report verify --root $X/trusted_root.pem --time $AT --no-expectations

# Deterministic garbage (xorshift32), 2048 bytes.
garbage() {
	local n=$1 x=2463534242 i b out=""
	for ((i = 0; i < n; i++)); do
		x=$(((x ^ (x << 13)) & 0xffffffff))
		x=$((x ^ (x >> 17)))
		x=$(((x ^ (x << 5)) & 0xffffffff))
		printf -v b '\\%03o' $((x & 255))
		out+=$b
	done
	printf "$out"
}
garbage 2048 >"$work/junk"
# keep it unrecognisable: first byte 0xff
printf '\377' | dd of="$work/junk" bs=1 seek=0 conv=notrunc status=none
expect garbage/show 3 report show "$work/junk"
expect garbage/verify 3 report verify "$work/junk" --vcek $S/vcek.testcer --chain $S/ask_ark_milan.pem --no-expectations
# An SNP-looking header (version 2, algorithm 1, VCEK) on garbage: the fixed
# layout parses, the signature does not verify.
head -c 1184 "$work/junk" >"$work/garbage-snp"
printf '\002\000\000\000' | dd of="$work/garbage-snp" bs=1 seek=0 conv=notrunc status=none
printf '\001\000\000\000' | dd of="$work/garbage-snp" bs=1 seek=52 conv=notrunc status=none
printf '\000\000\000\000' | dd of="$work/garbage-snp" bs=1 seek=72 conv=notrunc status=none
expect garbage/snp-header-show 0 report show "$work/garbage-snp"
expect garbage/snp-header-verify 4 report verify "$work/garbage-snp" --vcek $S/vcek.testcer --chain $S/ask_ark_milan.pem --time $AT --allow-debug --no-expectations
# A TDX quote header on garbage.
{ head -c 8 $X/tdx_prod_quote_SPR_E4.dat; head -c 2000 "$work/junk"; } >"$work/garbage-tdx"
expect garbage/tdx-header-show 3 report show "$work/garbage-tdx"
expect garbage/tdx-header-verify 3 report verify "$work/garbage-tdx" --root $X/trusted_root.pem --no-expectations
# A TDREPORT type on garbage: parses, the internal hashes do not match.
{ printf '\201\000\000\000'; head -c 1020 "$work/junk"; } >"$work/garbage-tdr"
expect garbage/tdreport-header-verify 4 report verify "$work/garbage-tdr" --no-expectations

[ "$failed" = 0 ]
