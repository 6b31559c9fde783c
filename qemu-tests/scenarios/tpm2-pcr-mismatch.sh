# qemu/tpm2-pcr-mismatch (issue 4): p3's key is sealed to one configuration;
# the VM boots with another (its digest differs, so PCR 15 does): the TPM
# refuses, the init says so and stops without launching. Configured with the
# recovery prompt, the same mismatch asks for p3's recovery passphrase, and
# the right one boots.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/tpm.sh"

# ==== expected strings =====================================================
E_STAGE=root
E_REASON='the TPM refused to unseal the system key: PCR mismatch: PCR 15 (sha256) does not hold the value the key was sealed to'
E_FALLBACK='cvminit: root: the TPM refused the system key (PCR mismatch: PCR 15 (sha256) does not hold the value the key was sealed to): asking for the recovery passphrase'
E_RECOVERY_PROMPT='Passphrase for root (recovery) (/dev/vda3): '
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from tpm2, [0-9]+ ms\)$'
# ===========================================================================

protected_disk --jobs-keyfile --root-passphrase
tpm_manufacture
base=$(protected_config --root-source tpm2 --jobs-source keyfile)
sealed=$(printf 'TMP_SIZE=64m\n%s\n' "$base" | config_file sealed.conf)
tpm_start
tpm_enroll_p3 "$sealed"
tpm_stop

# 1: a changed configuration (another /tmp size): refused, no launch
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
protected_initramfs_build --config "$(printf 'TMP_SIZE=65m\n%s\n' "$base" | config_file tampered.conf)"
boot --swtpm "$TPM_STATE" --append quiet
expect_poweroff
expect_fatal "$E_STAGE" "$E_REASON"
expect_not_launched

# 2: the same mismatch with the recovery prompt configured
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
protected_initramfs_build --config "$(printf 'TMP_SIZE=65m\nROOT_TPM2_FALLBACK=prompt\n%s\n' "$base" | config_file fallback.conf)"
boot --swtpm "$TPM_STATE" --append quiet --expect "$(rx_quote "$E_RECOVERY_PROMPT")" --send "$ROOT_PASSPHRASE"
expect_poweroff
expect_line "$E_FALLBACK"
expect_launched
expect_secret_absent "$ROOT_PASSPHRASE" "the recovery passphrase"
