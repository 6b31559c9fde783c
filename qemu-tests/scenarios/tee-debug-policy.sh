# qemu/tee-debug-policy (issue 5): the (mock) TEE reports a guest policy that
# lets the host debug the VM: the init refuses to continue, names the field,
# and powers off without launching anything.
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
boot

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_STAGE" "$E_REASON"
expect_not_launched
expect_no_regex '^Measurement: '
