# qemu/release-init-typed-root (issue 12): the release init (build/init, no
# test keys) with p2/p4 under dm-verity and the default key source of p3 —
# a passphrase typed on the console, which the host reads — stops in the
# config stage, before it needs a TEE: one FATAL line naming
# ROOT_KEY_SOURCE, no prompt, nothing opened or launched, p3 unchanged.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="config"
E_FATAL_REASON="ROOT_KEY_SOURCE=prompt: a key typed on the console is read by the host; set ROOT_DELIVERY_PUBKEY (p3's key then arrives only as a wrapped line the image builder signed), or use snp-derived, or tpm2 with TPM_IN_TEE=yes and ROOT_VOLUME_KEY_PIN"
E_ROOT_PROMPT='Passphrase for root (/dev/vda3): '
# ==========================================================================

protected_disk --root-passphrase
part_snapshot 3
# what a release configuration needs besides the key source: p2/p4 verified
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(verity_config 2 BOOT)
$(verity_config 4 CONFIG)
CONF
)
initramfs_build --init "$INIT_RELEASE" --config "$cfg"
boot --expect "$(rx_quote "$E_ROOT_PROMPT")" --send "$ROOT_PASSPHRASE"

expect_vm_exit 3 # the prompt the harness waited for never came
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_no_regex 'TEST BUILD'
expect_text_count 0 "$E_ROOT_PROMPT"
expect_no_regex '^cvminit: (modules|tee|partitions|verity|measure|attest|root|jobstore|mounts|switch_root): '
expect_secret_absent "$ROOT_PASSPHRASE" "p3's passphrase"
expect_part_unchanged 3
