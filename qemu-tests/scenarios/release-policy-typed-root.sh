# qemu/release-policy-typed-root (issue 12): a key typed on the console is read
# by the host, so the release key-source policy refuses ROOT_KEY_SOURCE=prompt.
# A test build told to apply it (MOCK_RELEASE_POLICY=yes) stops in the config
# stage with one FATAL line naming the key: no prompt is shown, no partition
# is opened, nothing is launched, p3 is unchanged. Control: the same disk and
# configuration without MOCK_RELEASE_POLICY asks for p3's passphrase, which
# opens it, and the boot launches (so only the policy stopped the first boot).
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="config"
E_FATAL_REASON="ROOT_KEY_SOURCE=prompt: a key typed on the console is read by the host; set ROOT_DELIVERY_PUBKEY (p3's key then arrives only as a wrapped line the image builder signed), or use snp-derived, or tpm2 with TPM_IN_TEE=yes and ROOT_VOLUME_KEY_PIN"
E_ROOT_PROMPT='Passphrase for root (/dev/vda3): '
E_JOBS_PROMPT='Passphrase for jobs (/dev/vda5): '
PIN=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
# ==========================================================================

protected_disk --root-passphrase
part_snapshot 3
part_snapshot 5
# conf NAME [protected_config options]. Under the release rules p5 is pinned
# (a value that is never compared: no volume is opened), so that p3's typed
# key is the only thing the policy refuses; the control opens p5 and has no pin.
conf() {
	config_file "$1" <<CONF
PART_TIMEOUT=10
TMP_SIZE=64m
$(protected_config --root-source prompt "${@:2}")
CONF
}

# ---- the release policy: refused before any prompt -----------------------
initramfs_build --config "$(conf cvminit.conf --set MOCK_RELEASE_POLICY=yes --set "JOBS_VOLUME_KEY_PIN=$PIN")"
boot --expect "$(rx_quote "$E_ROOT_PROMPT")" --send "$ROOT_PASSPHRASE"

expect_vm_exit 3 # the prompt the harness waited for never came
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_text_count 0 "$E_ROOT_PROMPT"
expect_no_regex '^cvminit: (modules|tee|partitions|verity|measure|attest|root|jobstore|mounts|switch_root): '
expect_secret_absent "$ROOT_PASSPHRASE" "p3's passphrase"
expect_part_unchanged 3
expect_part_unchanged 5

# ---- control (after: it opens p3/p5): test rules, the typed key opens p3 ---
INITRD=$WORK/control.img
initramfs_build --config "$(conf control.conf)"
CONSOLE_LOG=$WORK/control-console.log CONSOLE_TXT=$WORK/control-console.txt
boot --expect "$(rx_quote "$E_ROOT_PROMPT")" --send "$ROOT_PASSPHRASE" \
	--expect "$(rx_quote "$E_JOBS_PROMPT")" --send "$JOBS_PASSPHRASE"
expect_vm_exit 0
expect_launched
expect_no_regex '^cvminit: FATAL: '

