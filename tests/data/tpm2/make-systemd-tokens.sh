#!/bin/bash
# Regenerates token-systemd252-ecc.json and token-systemd252-pin.json: the
# systemd-tpm2 tokens Debian bookworm's systemd-cryptenroll (252) writes
# against swtpm, PCR 15 (sha256) extended once with the digest aa..aa (so
# its value is gen-known-answers.py's systemd252_pcr15), with and without a
# PIN (1234). Needs swtpm, swtpm-tools, systemd, libtss2-tcti-swtpm0,
# tpm2-tools, cryptsetup-bin. The blobs are random: a rerun changes them (the
# unit tests check structure, the policy hashes and a byte-exact round trip).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"' EXIT

: > "$work/setup.conf"
mkdir "$work/state"
swtpm_setup --tpm2 --tpmstate "$work/state" --config "$work/setup.conf" --pcr-banks sha256 >/dev/null
swtpm socket --tpm2 --tpmstate dir="$work/state" --server type=unixio,path="$work/sock" \
	--ctrl type=unixio,path="$work/sock.ctrl" --flags startup-clear --daemon --pid file="$work/pid"
sleep 0.3
export TPM2TOOLS_TCTI="swtpm:path=$work/sock"
tpm2_pcrextend "15:sha256=$(printf 'aa%.0s' $(seq 32))"

printf 'unlock-me' > "$work/pass"
for kind in ecc pin; do
	truncate -s 20M "$work/$kind.img"
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$work/pass" \
		"$work/$kind.img"
	pinopt=()
	[ "$kind" = pin ] && pinopt=(--tpm2-with-pin=yes)
	PASSWORD=unlock-me NEWPIN=1234 systemd-cryptenroll --tpm2-device="swtpm:path=$work/sock" --tpm2-pcrs=15 \
		"${pinopt[@]}" "$work/$kind.img"
	cryptsetup token export --token-id 0 "$work/$kind.img" > "$here/token-systemd252-$kind.json"
	for f in -t -l -s; do tpm2_flushcontext "$f" >/dev/null 2>&1 || true; done
done
systemd-cryptenroll --version | head -n 1
