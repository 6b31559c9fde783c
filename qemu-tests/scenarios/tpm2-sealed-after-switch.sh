# qemu/tpm2-sealed-after-switch (issue 4): once cvminit has extended its
# separator, nothing in the running system can unseal the system key: the
# launcher (a probe using the same TPM2 code) reads PCR 15, tries to unseal
# p3's systemd-tpm2 token through /dev/tpmrm0, and is refused.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/tpm.sh"

# ==== expected strings =====================================================
E_UNSEALED='cvminit: root: system key unsealed by the TPM (PCR policy)'
E_REFUSED_RE='^PROBE: unseal refused: PCR mismatch: PCR 15 \(sha256\) does not hold the value the key was sealed to$'
# ===========================================================================

PROBE=${PROBE:-$REPO/build/tpm2-probe}
[ -x "$PROBE" ] || die "$PROBE missing (make build/tpm2-probe)"
protected_disk --jobs-keyfile --launcher /sbin/standin --add "3=$PROBE:/sbin/tpm2-probe"
tpm_manufacture
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
$(protected_config --root-source tpm2 --jobs-source keyfile)
LAUNCHER=/sbin/tpm2-probe
LAUNCHER_ARGS=/dev/vda3
CONF
)
tpm_start
tpm_enroll_p3 "$cfg"
tpm_stop
protected_initramfs_build --config "$cfg"
boot --swtpm "$TPM_STATE" --append quiet

expect_vm_exit 0
expect_poweroff
expect_line "$E_UNSEALED"
expect_regex "$E_REFUSED_RE"
expect_no_line 'PROBE: unseal SUCCEEDED'
expect_launched
