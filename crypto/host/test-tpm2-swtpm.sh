#!/bin/bash
# The TPM2 code against a real TPM 2.0 (swtpm, fresh state per group), and
# against systemd-cryptenroll and tpm2-tools as independent implementations:
#   lib       build/tpm2-swtpm-test lib: seal/unseal, PCR policy, PIN, primaries,
#             SRK, banks; then no transient object or session left in the TPM
#   lockout   wrong PINs until the TPM's dictionary-attack lockout
#   enroll    `cvminit tpm2 enroll` into a LUKS2 image before the PCR holds the
#             predicted value (refused), the events extended with tpm2-tools
#             from digests python's hashlib computed (= `tpm2 predict`), then
#             the token opens, also through tpm2-tools + Debian's cryptsetup
#   systemd   Debian's systemd-cryptenroll (252) enrolls images (with and
#             without a PIN) against the same swtpm; cvminit opens them; the
#             separator closes them
# Prints "ok - tpm2/<case>" or "not ok - tpm2/<case> (why)".
#
#   crypto/host/test-tpm2-swtpm.sh [--bin CVMINIT] [--test TPM2-SWTPM-TEST] [--keep]
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

bin=build/cvminit
tbin=build/tpm2-swtpm-test
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) bin=$2; shift 2 ;;
	--test) tbin=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--bin CVMINIT] [--test TPM2-SWTPM-TEST] [--keep]" >&2; exit 2 ;;
	esac
done
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac
case "$tbin" in /*) ;; *) tbin="$repo/$tbin" ;; esac

failed=0
ok() { echo "ok - tpm2/$1"; }
notok() { echo "not ok - tpm2/$1 ($2)"; failed=1; }
check() { # check NAME COMMAND...: ok when the command succeeds
	local name=$1; shift
	if "$@" >"$work/last.out" 2>&1; then ok "$name"; else notok "$name" "$(tail -n 3 "$work/last.out" | tr '\n' ' ')"; fi
}

for tool in swtpm swtpm_setup systemd-cryptenroll cryptsetup python3 tpm2_pcrextend tpm2_pcrread tpm2_unseal \
	tpm2_getcap; do
	command -v "$tool" >/dev/null 2>&1 || { notok tools "$tool missing: deps/install-tools.sh"; exit 1; }
done
for b in "$bin" "$tbin"; do
	[ -x "$b" ] || { notok tools "$b missing: run make"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cvminit-tpm2.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ "$keep" = 1 ] && echo "# kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# One manufactured state (no EK: not needed), copied for every swtpm.
# swtpm_setup writes outside its state directory unless given --config.
: > "$work/swtpm_setup.conf"
mkdir -p "$work/template"
if ! swtpm_setup --tpm2 --tpmstate "$work/template" --config "$work/swtpm_setup.conf" \
	--pcr-banks sha1,sha256,sha384 >"$work/setup.log" 2>&1; then
	notok swtpm_setup "$(tail -n 2 "$work/setup.log" | tr '\n' ' ')"
	exit 1
fi

# start_swtpm NAME: a fresh TPM; sets SOCK and SPEC.
start_swtpm() {
	local d="$work/$1"
	mkdir -p "$d"
	cp -a "$work/template" "$d/state"
	SOCK="$d/swtpm.sock"
	SPEC="swtpm:path=$SOCK"
	swtpm socket --tpm2 --tpmstate dir="$d/state" --server type=unixio,path="$SOCK" \
		--ctrl type=unixio,path="$SOCK.ctrl" --flags startup-clear --daemon --pid file="$d/pid" \
		--log file="$d/swtpm.log" || return 1
	for _ in $(seq 50); do
		[ -S "$SOCK" ] && [ -S "$SOCK.ctrl" ] && [ -s "$d/pid" ] && break
		sleep 0.1
	done
	pids+=("$(cat "$d/pid")")
	export TPM2TOOLS_TCTI="$SPEC"
}

# luks_image FILE: a LUKS2 image whose keyslot 0 opens with $work/unlock.key.
printf '%s' "cvminit-test-unlock-passphrase" > "$work/unlock.key"
luks_image() {
	truncate -s 20M "$1" &&
		cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
			--key-file "$work/unlock.key" "$1" >/dev/null
}

# ---- lib and lockout ---------------------------------------------------------
start_swtpm lib || { notok swtpm "cannot start swtpm"; exit 1; }
"$tbin" lib "$SPEC" 2>"$work/lib.err" || { failed=1; cat "$work/lib.err"; }
left=$(tpm2_getcap handles-transient 2>&1; tpm2_getcap handles-loaded-session 2>&1)
if [ -z "$left" ]; then ok no_handles_left; else notok no_handles_left "$(echo "$left" | tr '\n' ' ')"; fi

start_swtpm lockout || { notok swtpm "cannot start swtpm"; exit 1; }
"$tbin" lockout "$SPEC" 2>"$work/lockout.err" || { failed=1; cat "$work/lockout.err"; }

# ---- cvminit tpm2 enroll, prediction, independent checks ---------------------
conf="$work/cvminit.conf"
cat > "$conf" <<'EOF'
BOOT_VERITY_ROOTHASH=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
BOOT_VERITY_HASH_OFFSET=4096
CONFIG_VERITY_ROOTHASH=60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
CONFIG_VERITY_HASH_OFFSET=8192
ROOT_KEY_SOURCE=tpm2
TPM_IN_TEE=yes
ROOT_VOLUME_KEY_PIN=1111111111111111111111111111111111111111111111111111111111111111
JOBS_VOLUME_KEY_PIN=2222222222222222222222222222222222222222222222222222222222222222
JOBS_OWNER_PUBKEY=04abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab
EOF
cmdline="console=ttyS0 cvminit.part_timeout=20"

start_swtpm enroll || { notok swtpm "cannot start swtpm"; exit 1; }
"$bin" tpm2 predict --config "$conf" --cmdline "$cmdline" > "$work/predict.json" 2>"$work/predict.err"
check predict_json python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["pcr"]==15 and len(d["events"])==7 and d["sealed_events"]==4 and d["events"][4]=="cryptsetup:cvm-root:<uuid>" and d["events"][-1]=="cvminit:separator"' "$work/predict.json"

# Without the pins the volume-key events cannot be predicted: null, and why.
# (The release policy refuses tpm2 without ROOT_VOLUME_KEY_PIN, with the init's
# message; the test build's rules allow it, so the prediction says why it cannot.)
grep -v VOLUME_KEY_PIN "$conf" > "$work/unpinned.conf"
if "$bin" tpm2 predict --config "$work/unpinned.conf" --cmdline "$cmdline" >/dev/null 2>"$work/unpinned-release.err"; then
	notok predict_unpinned_release_refused "the release policy let tpm2 through without ROOT_VOLUME_KEY_PIN"
elif grep -q 'ROOT_KEY_SOURCE=tpm2 needs ROOT_VOLUME_KEY_PIN' "$work/unpinned-release.err"; then
	ok predict_unpinned_release_refused
else
	notok predict_unpinned_release_refused "$(cat "$work/unpinned-release.err")"
fi
"$bin" tpm2 predict --config "$work/unpinned.conf" --cmdline "$cmdline" --test-build > "$work/unpinned.json" 2>>"$work/predict.err"
check predict_unpinned python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["after_separator"] is None and d["before_separator"] is None and "ROOT_VOLUME_KEY_PIN" in d["unpredictable"] and len(d["events"])==5 and d["before_unlock"]' "$work/unpinned.json"

# The kernel command line is part of the configuration; the test build's
# schema (key-file keys) gives another digest than the release build's.
pjson() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]] if sys.argv[1] != "boot" else d["events"][0])' "$1"; }
rel=$("$bin" tpm2 predict --config "$conf" --cmdline "$cmdline" | pjson config_digest)
tb=$("$bin" tpm2 predict --config "$conf" --cmdline "$cmdline" --test-build | pjson config_digest)
noc=$("$bin" tpm2 predict --config "$conf" | pjson config_digest)
if [ -n "$rel" ] && [ -n "$tb" ] && [ "$rel" != "$tb" ] && [ "$rel" != "$noc" ]; then ok predict_schema_and_cmdline
else notok predict_schema_and_cmdline "release $rel test $tb without cmdline $noc"; fi
h=0000000000000000000000000000000000000000000000000000000000000abc
boot=$("$bin" tpm2 predict --config "$conf" --cmdline "cvminit.boot_roothash=$h" | pjson boot)
if [ "$boot" = "cvminit:verity:boot:$h" ]; then ok predict_cmdline_roothash; else notok predict_cmdline_roothash "$boot"; fi
if "$bin" tpm2 predict --config "$conf" --cmdline "cvminit.bogus=1" >/dev/null 2>"$work/bogus.err" ||
	! grep -q "cvminit.bogus" "$work/bogus.err"; then
	notok predict_bad_cmdline "accepted, or no clear error: $(cat "$work/bogus.err")"
else ok predict_bad_cmdline; fi

# A log in systemd's format, written by python, replayed by `tpm2 replay`.
python3 - "$work/predict.json" "$work/replay.log" <<'EOF'
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for e in d["events"]:
        # a volume-key event's sha256 digest is its pin (from the configuration above)
        pin = {"cvm-root": "11" * 32, "cvm-jobs": "22" * 32}.get(e.split(":")[1]) if e.startswith("cryptsetup:") else None
        dig = [{"hashAlg": "sha256", "digest": pin or hashlib.sha256(e.encode()).hexdigest()}]
        f.write("\x1e" + json.dumps({"pcr": 15, "digests": dig, "content_type": "systemd",
                                     "content": {"string": e, "eventType": "x"}}) + "\n")
EOF
after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["after_separator"])' "$work/predict.json")
got=$("$bin" tpm2 replay --log "$work/replay.log" | pjson value)
if [ -n "$got" ] && [ "$got" = "$after" ]; then ok replay_matches_prediction; else notok replay_matches_prediction "$got vs $after"; fi

img="$work/cvminit.img"
luks_image "$img"
check cvminit_enroll "$bin" tpm2 enroll --device "$img" --config "$conf" --cmdline "$cmdline" --tpm2-device "$SPEC" \
	--unlock-key-file "$work/unlock.key"
imgpin="$work/cvminit-pin.img"
luks_image "$imgpin"
check cvminit_enroll_pin_srk env NEWPIN=2468 "$bin" tpm2 enroll --device "$imgpin" --config "$conf" \
	--cmdline "$cmdline" --tpm2-device "$SPEC" --unlock-key-file "$work/unlock.key" --pin --srk
wrongkey="$work/wrong.key"
printf 'not-the-passphrase' > "$wrongkey"
imgw="$work/untouched.img"
luks_image "$imgw"
before=$(sha256sum < "$imgw")
if "$bin" tpm2 enroll --device "$imgw" --config "$conf" --tpm2-device "$SPEC" --unlock-key-file "$wrongkey" \
	>"$work/wrong.out" 2>&1; then
	notok enroll_wrong_unlock_key "enroll succeeded with a wrong unlock key"
elif [ "$(sha256sum < "$imgw")" != "$before" ]; then
	notok enroll_wrong_unlock_key "the image changed"
else
	ok enroll_wrong_unlock_key
fi

# Before the boot measured anything: the policy does not match.
"$tbin" luks-refused cvminit_token_refused_before_measurement "$img" "$SPEC" EPERM 2>>"$work/luks.err" || failed=1

# The boot's events, extended by tpm2-tools with python's digests (not ours).
python3 - "$work/predict.json" > "$work/extend.txt" <<'EOF' || notok extend_digests "python failed"
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
for e in d["events"][:d["sealed_events"]]:
    print("15:" + ",".join("%s=%s" % (a, hashlib.new(a, e.encode()).hexdigest()) for a in ("sha1", "sha256", "sha384")))
EOF
while read -r spec_line; do tpm2_pcrextend "$spec_line" >/dev/null 2>>"$work/extend.err" || failed=1; done < "$work/extend.txt"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["before_unlock"])' "$work/predict.json")
got=$(tpm2_pcrread sha256:15 2>/dev/null | sed -n 's/.*15: 0x//p' | tr 'A-F' 'a-f')
if [ -n "$got" ] && [ "$got" = "$want" ]; then ok predict_matches_tpm; else notok predict_matches_tpm "TPM $got, predicted $want"; fi
# The other banks, predicted with --bank.
for bank in sha1 sha384; do
	w=$("$bin" tpm2 predict --config "$conf" --cmdline "$cmdline" --bank "$bank" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["before_unlock"])')
	g=$(tpm2_pcrread "$bank:15" 2>/dev/null | sed -n 's/.*15: 0x//p' | tr 'A-F' 'a-f')
	if [ -n "$g" ] && [ "$g" = "$w" ]; then ok "predict_matches_tpm_$bank"; else notok "predict_matches_tpm_$bank" "TPM $g, predicted $w"; fi
done

"$tbin" luks cvminit_token_opens_after_measurement "$img" "$SPEC" 2>>"$work/luks.err" || failed=1
"$tbin" luks cvminit_token_pin_srk_opens "$imgpin" "$SPEC" 2468 2>>"$work/luks.err" || failed=1

# tpm2-tools unseals cvminit's token (transient ECC primary from the TCG
# template, PolicyPCR), and Debian's cryptsetup takes the base64 as passphrase.
tools_unseal() {
	local img=$1 d="$work/tools"
	rm -rf "$d" && mkdir -p "$d" || return 1
	cryptsetup token export --token-id 0 "$img" > "$d/token.json" || return 1
	python3 - "$d" <<'EOF' || return 1
import base64, json, sys
d = sys.argv[1]
t = json.load(open(d + "/token.json"))
blob = base64.b64decode(t["tpm2-blob"])
n = int.from_bytes(blob[:2], "big")
open(d + "/priv", "wb").write(blob[:2 + n])
open(d + "/pub", "wb").write(blob[2 + n:])
EOF
	# No resource manager: tpm2-tools leave objects loaded; flush after each step.
	local r=1
	tpm2_createprimary -Q -C o -g sha256 -G ecc256:aes128cfb \
		-a 'restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth' -c "$d/prim.ctx" &&
		tpm2_flushcontext -t &&
		tpm2_load -Q -C "$d/prim.ctx" -u "$d/pub" -r "$d/priv" -c "$d/key.ctx" &&
		tpm2_flushcontext -t &&
		tpm2_startauthsession -Q --policy-session -S "$d/session.ctx" &&
		tpm2_policypcr -Q -S "$d/session.ctx" -l sha256:15 &&
		tpm2_unseal -p session:"$d/session.ctx" -c "$d/key.ctx" -o "$d/key.bin" && r=0
	for f in -t -l -s; do tpm2_flushcontext "$f" >/dev/null 2>&1; done
	[ $r -eq 0 ] || return 1
	base64 -w0 < "$d/key.bin" | cryptsetup open --test-passphrase --key-file - "$img"
}
check cvminit_token_opens_with_tpm2_tools tools_unseal "$img"

# ---- systemd-cryptenroll (Debian's) enrolls, cvminit opens -------------------
sdimg="$work/systemd.img"
sdpin="$work/systemd-pin.img"
luks_image "$sdimg" && luks_image "$sdpin"
check systemd_cryptenroll env PASSWORD="$(cat "$work/unlock.key")" systemd-cryptenroll --tpm2-device="$SPEC" \
	--tpm2-pcrs=15 "$sdimg"
check systemd_cryptenroll_pin env PASSWORD="$(cat "$work/unlock.key")" NEWPIN=1357 systemd-cryptenroll \
	--tpm2-device="$SPEC" --tpm2-pcrs=15 --tpm2-with-pin=yes "$sdpin"
# systemd-cryptenroll 252 leaves a session loaded (harmless with the kernel's
# resource manager, not with a bare swtpm): flush before going on.
flush_all() { for f in -t -l -s; do tpm2_flushcontext "$f" >/dev/null 2>&1; done; }
flush_all
"$tbin" luks systemd_enrolled_opens "$sdimg" "$SPEC" 2>>"$work/luks.err" || failed=1
"$tbin" luks systemd_enrolled_pin_opens "$sdpin" "$SPEC" 1357 2>>"$work/luks.err" || failed=1

# The separator: nothing opens any more.
tpm2_pcrextend "15:sha256=$(printf '%s' cvminit:separator | sha256sum | cut -d' ' -f1)" >/dev/null 2>&1 || failed=1
"$tbin" luks-refused systemd_enrolled_refused_after_separator "$sdimg" "$SPEC" EPERM 2>>"$work/luks.err" || failed=1
"$tbin" luks-refused cvminit_token_refused_after_separator "$img" "$SPEC" EPERM 2>>"$work/luks.err" || failed=1

[ -s "$work/luks.err" ] && cat "$work/luks.err"
exit "$failed"
