# qemu/kbs-refused (issue 15): what the KBS (or the host between it and the
# guest) answers instead of the key stops the boot with one FATAL line naming
# the KBS's answer; nothing is launched and p3/p5 are not written.
#   1. SNP: the KBS's resource policy allows another measurement: attestation
#      passes, the resource is refused (Trustee: 401 PolicyDeny).
#   2. TDX (the mock as a TDX guest, quote v4): attestation passes, the JWE the
#      guest receives has a changed authentication tag.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_ASK_ROOT='cvminit: root: asking the KBS https://kbs.test:8443 for cvminit/luks/root (deadline 10 s)'
E_DENIED='KBS kbs.test:8443: GET /kbs/v0/resource/cvminit/luks/root: the KBS answered 401 (unauthorized: attestation or policy refused): PolicyDeny: Access denied by policy'
E_TAMPERED='KBS kbs.test:8443: the answer to GET /kbs/v0/resource/cvminit/luks/root: the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)'
# ===========================================================================

kbs_setup
protected_disk
kbs_resource_file cvminit/luks/root "$ROOT_KEY"
base() {
	cat <<CONF
TMP_SIZE=64m
TEE=mock
$(protected_config --root-source kbs --set VERITY_PREVERIFY=none)
$(kbs_config --root-only)
KBS_TIMEOUT=10
CONF
}
part_snapshot 3
part_snapshot 5

# ---- 1. the measurement is not the one the policy allows ----------------------
cfg=$(base | config_file cvminit.conf)
kbs_initramfs_build --config "$cfg"
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
kbs_start --allow-measurement "$(printf 'another image' | sha384sum | cut -c1-96)"
kbs_boot
expect_poweroff
expect_line "$E_ASK_ROOT"
expect_fatal root "$E_DENIED"
expect_not_launched
expect_no_regex '^cvminit: root: the KBS released'
expect_kbs_event 1 attest status=200 measurement="$E_MEASUREMENT"
expect_kbs_event 1 refused error=PolicyDeny status=401
expect_kbs_event 0 resource
expect_part_unchanged 3
expect_part_unchanged 5
cp "$KBS_LOG" "$WORK/kbs-policy.log"

# ---- 2. TDX; the JWE's tag changed on the way -------------------------------------
rm -f "$KBS_LOG"
cfg=$( (base; echo MOCK_TEE_KIND=tdx) | config_file tdx.conf)  # MOCK_* do not change the measurement
kbs_initramfs_build --tdx --config "$cfg"
kbs_start --allow-measurement "$E_MEASUREMENT" --tamper-jwe tag
kbs_boot
expect_poweroff
expect_fatal root "$E_TAMPERED"
expect_not_launched
expect_no_regex '^cvminit: root: the KBS released'
expect_kbs_event 1 attest status=200 tee=tdx measurement="$E_MEASUREMENT"
expect_kbs_event 1 resource status=200 tampered=tag
expect_part_unchanged 3
expect_part_unchanged 5
