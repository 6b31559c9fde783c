# qemu/tee-debug-policy (issue 5): the (mock) TEE reports a guest policy that
# lets the host debug the VM: the init refuses to continue, names the field,
# and powers off without launching anything. The `Measurement:` line that
# NVIDIA's tooling reads is on the console all the same, before the FATAL line
# (issue 14: printed as soon as the report exists, as theirs is).
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_STAGE=attest
E_REASON='SNP guest policy 0xb0000 allows debugging (POLICY.DEBUG, bit 19): the host could read this VM'
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
cfg=$(config_file cvminit.conf <<'CONF'
TEE=mock
MOCK_TEE_DEBUG=yes
ROOT_ENCRYPTION=none
JOB_STORE_ENCRYPTION=none
CONF
)
disk_build
initramfs_build --config "$cfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
E_MEAS=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEAS" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_STAGE" "$E_REASON"
expect_not_launched
E_LINE="Measurement: $(printf '%s' "$E_MEAS" | xxd -r -p | base64 -w0)"
expect_line "$E_LINE"
m_at=$(grep -nxF -- "$E_LINE" "$CONSOLE_TXT" | head -n1 | cut -d: -f1)
f_at=$(grep -n '^cvminit: FATAL: ' "$CONSOLE_TXT" | head -n1 | cut -d: -f1)
[ -n "$m_at" ] && [ -n "$f_at" ] && [ "$m_at" -lt "$f_at" ] ||
	fail "the Measurement line (line ${m_at:-none}) is not before the FATAL line (line ${f_at:-none})"
