# qemu/tdx-debug-policy (issue 13): the mock TEE as a TDX guest reports
# TD_ATTRIBUTES.DEBUG in its quote (MOCK_TEE_DEBUG=yes): the init refuses to
# continue at the attest stage, names the field, and powers off without
# launching anything (the TDX counterpart of qemu/tee-debug-policy); the
# `Measurement:` line (MRTD) is printed before the FATAL line all the same.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_STAGE=attest
E_REASON='TDX TD_ATTRIBUTES 0x0000000010000001 has DEBUG (bit 0) set: the host could read this TD'
# ===========================================================================

chain=$WORK/tdxchain
"$REPO/qemu-tests/mock-tdx-chain.sh" "$chain"
cfg=$(config_file cvminit.conf <<'CONF'
TEE=mock
MOCK_TEE_KIND=tdx
MOCK_TEE_DEBUG=yes
ROOT_ENCRYPTION=none
JOB_STORE_ENCRYPTION=none
CONF
)
disk_build
initramfs_build --config "$cfg" --file "$chain/ak.key:/etc/cvminit/mock/vcek.pem" \
	--file "$chain/tdx-sigtail.bin:/etc/cvminit/mock/tdx-sigtail.bin"
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
