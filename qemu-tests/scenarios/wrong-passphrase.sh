# qemu/wrong-passphrase: three wrong passphrases at the job store's console
# prompt (PROMPT_TRIES=3): a clear line after each of the first two, then one
# FATAL line; the VM powers off, the launcher never runs, none of the typed
# passphrases (nor the right one) appears on the console, and p5's bytes,
# its LUKS2 header area first of all, are identical before and after.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_JOBS_PROMPT='Passphrase for jobs (/dev/vda5): '           # no newline, echo off
E_WRONG_2="cvminit: jobstore: wrong passphrase for jobs (2 tries left)"
E_WRONG_1="cvminit: jobstore: wrong passphrase for jobs (1 try left)"
E_FATAL_STAGE="jobstore"
E_FATAL_REASON="no valid passphrase for jobs after 3 tries"
WRONG=("wrong-passphrase-one" "wrong-passphrase-two" "${JOBS_PASSPHRASE}x")   # the last: one character too many
# ==========================================================================

protected_disk
part_snapshot 5
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config)
CONF
)
protected_initramfs_build --config "$cfg"
rx=$(rx_quote "$E_JOBS_PROMPT")
boot --expect "$rx" --send "${WRONG[0]}" --expect "$rx" --send "${WRONG[1]}" --expect "$rx" --send "${WRONG[2]}"

expect_vm_exit 0
expect_poweroff
expect_text_count 3 "$E_JOBS_PROMPT"
expect_line "$E_WRONG_2"
expect_line "$E_WRONG_1"
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_no_regex '^cvminit: (mounts|switch_root): '
for w in "${WRONG[@]}"; do expect_secret_absent "$w" "a typed passphrase"; done
expect_secret_absent "$JOBS_PASSPHRASE" "the job-store passphrase"
expect_part_unchanged 5
# p3 was opened (key file) before the prompt: a failed p5 leaves p3 as it was too.
