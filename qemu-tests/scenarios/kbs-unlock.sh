# qemu/kbs-unlock (issue 15): p3 and p5 take their LUKS2 keys from the test KBS
# (Trustee KBS protocol 0.4.0) over the only network path the VM has (user-mode
# net, restrict=on, one guestfwd): the mock TEE's report binds the KBS's nonce
# and the guest's key, the KBS checks it with the test chain and releases each
# resource, as a JWE, only to the measurement its policy allows. Under the
# release key-source policy (MOCK_RELEASE_POLICY=yes) kbs counts as a source
# the host cannot read, and the volume-key pins are still demanded: without
# them the boot stops at config before any network. p3's key is a binary key
# file, p5's a passphrase; neither appears on the console. Then two replays
# of genuine answers of that boot, each sealed to that boot's key, which died
# with it: the JWE that opened p3, and the whole attested session (its cookie
# and nonce, so the guest's evidence binds the old nonce, and Trustee answers
# an attested session's attest with the old token). The new boot cannot open
# either and stops.
# Last, one boot with KBS_TEE_KEY=rsa: the guest offers an RSA-2048 key
# (TeePubKey::RSA), the KBS answers RSA-OAEP-256 + A256GCM, and both volumes
# open (the EC boot of 2 is the control: the KBS logs an EC key there).
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_POLICY_ON="cvminit: config: MOCK_RELEASE_POLICY=yes: the release key-source policy applies to this TEST build"
E_NOPIN="ROOT_KEY_SOURCE=kbs needs ROOT_VOLUME_KEY_PIN: the host cannot read the released key, but a broker that releases a wrong one (or a host that serves a volume of its own) must not get a boot"
E_ASK_ROOT='cvminit: root: asking the KBS https://kbs.test:8443 for cvminit/luks/root (deadline 30 s)'
E_ASK_JOBS='cvminit: jobstore: jobs: asking the KBS https://kbs.test:8443 for cvminit/luks/jobs (deadline 30 s)'
E_RELEASED_ROOT='cvminit: root: the KBS released cvminit/luks/root (attempt 1)'
E_RELEASED_JOBS='cvminit: jobstore: jobs: the KBS released cvminit/luks/jobs (attempt 1)'
E_ROOT_PIN='cvminit: root: volume key matches ROOT_VOLUME_KEY_PIN (keyslot 0)'
E_JOBS_PIN='cvminit: jobstore: jobs: volume key matches JOBS_VOLUME_KEY_PIN (keyslot 0)'
E_ROOT_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from kbs, [0-9]+ ms\)$'
E_REPLAYED="KBS kbs.test:8443: the answer to GET /kbs/v0/resource/cvminit/luks/root: the JWE's content key does not unwrap (not encrypted to this boot's key, or changed)"
E_JOBS_OPENED_RE='^cvminit: jobstore: jobs: /dev/vda5 opened as /dev/mapper/cvm-jobs \(LUKS2, key from kbs, [0-9]+ ms\)$'
E_RSA_ROOT_RE='^cvminit: root: RSA-2048 TEE key pair made in [0-9]+ ms$'
E_RSA_JOBS_RE='^cvminit: jobstore: jobs: RSA-2048 TEE key pair made in [0-9]+ ms$'
# ===========================================================================

kbs_setup
protected_disk
kbs_resource_file cvminit/luks/root "$ROOT_KEY"
kbs_resource cvminit/luks/jobs "$JOBS_PASSPHRASE"
root_pin=$(volume_key_pin 3 "$ROOT_KEY")
jobs_pin=$(volume_key_pin 5 --passphrase "$WORK/jobs.pass")
base() {
	cat <<CONF
TMP_SIZE=64m
TEE=mock
MOCK_RELEASE_POLICY=yes
$(protected_config --root-source kbs --jobs-source kbs)
$(kbs_config)
KBS_TIMEOUT=30
LAUNCHER_ARGS="--standin-cat=/opt/nvflare/jobs/JOBS-MARKER --standin-cat=/proc/net/route --standin-cat=/sys/class/net/eth0/operstate"
CONF
}

# ---- 1. release policy without the pins: refused at config, KBS untouched ----
cfg=$(base | config_file nopin.conf)
kbs_initramfs_build --config "$cfg"
kbs_start --allow-measurement "$(printf '00%.0s' $(seq 48))"  # never asked: `cvminit measure` refuses this config too
kbs_boot
expect_poweroff
expect_fatal config "$E_NOPIN"
expect_not_launched
expect_kbs_event 0 auth

# ---- 2. with the pins: both volumes from the KBS ----------------------------
cfg=$( (base; echo "$root_pin"; echo "$jobs_pin") | config_file cvminit.conf)
kbs_initramfs_build --config "$cfg"
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
kbs_start --allow-measurement "$E_MEASUREMENT" --record-jwe "$KBS_DIR/sent" --record-session "$KBS_DIR/session.json"
kbs_boot

expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_POLICY_ON"
expect_line "Measurement: $(printf '%s' "$E_MEASUREMENT" | xxd -r -p | base64 -w0)"
expect_line "$E_ASK_ROOT"
expect_line "$E_RELEASED_ROOT"
expect_line "$E_ROOT_PIN"
expect_regex "$E_ROOT_OPENED_RE"
expect_line "$E_ASK_JOBS"
expect_line "$E_RELEASED_JOBS"
expect_line "$E_JOBS_PIN"
expect_regex "$E_JOBS_OPENED_RE"
expect_line "STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
# the interface went down before switch_root: no route left, link down
expect_line "cvminit: switch_root: network: eth0 down, addresses flushed"
expect_regex '^STANDIN: cat /proc/net/route: Iface[[:space:]]+Destination[[:space:]]+Gateway'
expect_no_regex '^STANDIN: cat /proc/net/route: eth0'
expect_line "STANDIN: cat /sys/class/net/eth0/operstate: down"
expect_secret_absent "$JOBS_PASSPHRASE" "p5's passphrase"
expect_secret_absent "$(xxd -p -c 256 "$ROOT_KEY")" "p3's key (hex)"
# the KBS saw two attestations of this measurement, each followed by its resource
expect_kbs_event 2 attest status=200 tee=snp measurement="$E_MEASUREMENT" key_kty=EC key_alg=ECDH-ES+A256KW
expect_kbs_event 1 resource status=200 resource=cvminit/luks/root jwe_alg=ECDH-ES+A256KW
expect_kbs_event 1 resource status=200 resource=cvminit/luks/jobs jwe_alg=ECDH-ES+A256KW
expect_kbs_event 0 refused
expect_no_regex 'RSA-2048 TEE key pair'

# a replay: one FATAL line, nothing released, launched or written, network down
boot_replay_refused() {
	kbs_boot
	expect_poweroff
	expect_fatal root "$E_REPLAYED"
	expect_part_unchanged 3
	expect_part_unchanged 5
	expect_not_launched
	expect_no_regex '^cvminit: root: the KBS released'
	expect_line "cvminit: halt: network: eth0 down, addresses flushed"
}

# ---- 3. the host replays the earlier boot's JWE for p3 -----------------------
[ -s "$KBS_DIR/sent/cvminit_luks_root.jwe" ] || die "no JWE recorded for p3"
cp "$CONSOLE_TXT" "$WORK/console-unlock.txt"
rm -f "$KBS_LOG"
kbs_start --allow-measurement "$E_MEASUREMENT" --replay-jwe "$KBS_DIR/sent/cvminit_luks_root.jwe"
part_snapshot 3
part_snapshot 5
boot_replay_refused
expect_kbs_event 1 attest status=200 measurement="$E_MEASUREMENT"
expect_kbs_event 1 resource status=200 replayed=cvminit_luks_root.jwe

# ---- 4. the host brings back the earlier boot's attested session ------------
# (old nonce and cookie): the guest attests with the old nonce and gets the
# old token back; the resource is sealed to the old boot's key
old_sid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sid"][:8])' "$KBS_DIR/session.json") ||
	die "no session recorded"
cp "$CONSOLE_TXT" "$WORK/console-replay-jwe.txt"
rm -f "$KBS_LOG"
kbs_start --allow-measurement "$E_MEASUREMENT" --replay-session "$KBS_DIR/session.json"
boot_replay_refused
expect_kbs_event 1 auth status=200 replayed_session="$old_sid"
expect_kbs_event 1 attest-again status=200 session="$old_sid"
expect_kbs_event 0 attest
expect_kbs_event 1 resource status=200 resource=cvminit/luks/root session="$old_sid"

# ---- 5. KBS_TEE_KEY=rsa: an RSA-2048 TEE key, RSA-OAEP-256 JWEs -------------
cfg=$( (base; echo "KBS_TEE_KEY=rsa"; echo "$root_pin"; echo "$jobs_pin") | config_file rsa.conf)
kbs_initramfs_build --config "$cfg"
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
cp "$CONSOLE_TXT" "$WORK/console-replay-session.txt"
rm -f "$KBS_LOG"
kbs_start --allow-measurement "$E_MEASUREMENT"
kbs_boot
expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_ASK_ROOT"
expect_regex "$E_RSA_ROOT_RE"
expect_line "$E_RELEASED_ROOT"
expect_line "$E_ROOT_PIN"
expect_regex "$E_ROOT_OPENED_RE"
expect_line "$E_ASK_JOBS"
expect_regex "$E_RSA_JOBS_RE"
expect_line "$E_RELEASED_JOBS"
expect_line "$E_JOBS_PIN"
expect_regex "$E_JOBS_OPENED_RE"
expect_line "STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
expect_secret_absent "$JOBS_PASSPHRASE" "p5's passphrase"
expect_secret_absent "$(xxd -p -c 256 "$ROOT_KEY")" "p3's key (hex)"
expect_kbs_event 2 attest status=200 tee=snp measurement="$E_MEASUREMENT" key_kty=RSA key_alg=RSA-OAEP-256 key_bits=2048
expect_kbs_event 1 resource status=200 resource=cvminit/luks/root jwe_alg=RSA-OAEP-256
expect_kbs_event 1 resource status=200 resource=cvminit/luks/jobs jwe_alg=RSA-OAEP-256
expect_kbs_event 0 refused
# the key generation time under TCG, for the docs (kbs/README.md)
sed -n 's/^cvminit: \(.*\)RSA-2048 TEE key pair made in \([0-9]*\) ms$/# \1RSA-2048 key generation: \2 ms/p' "$CONSOLE_TXT"
