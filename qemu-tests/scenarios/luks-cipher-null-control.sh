# qemu/luks-cipher-null-control (issue 12): the disk of qemu/luks-cipher-null
# (p3's segment cipher set to cipher_null-ecb, the host's plaintext root
# after the header) booted by a test build with MOCK_LUKS_POLICY=off: the
# genuine key opens the genuine keyslot, libcryptsetup maps a null cipher and
# the host's /sbin/init runs as PID 1. This is the attack working; it shows
# qemu/luks-cipher-null fails only because of the header policy.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/luks-attack.sh"

# ==== expected strings: align these with the init's real messages ========
E_POLICY_OFF="cvminit: luks: root: /dev/vda3: LUKS2 header policy OFF (MOCK_LUKS_POLICY=off, TEST BUILD)"
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from keyfile, [0-9]+ ms\)$'
E_HOST_ROOT="STANDIN: ls /: HOST-ROOT-MARKER"
# ==========================================================================

luks_attack_disk
luks_cipher_null_attack
luks_attack_boot "$(luks_attack_config --set MOCK_LUKS_POLICY=off)"

expect_vm_exit 0
expect_poweroff
expect_line "$E_POLICY_OFF"
expect_no_regex '^cvminit: FATAL: '
expect_regex "$E_OPENED_RE"
expect_launched
expect_line "$E_HOST_ROOT"                 # the host's root is PID 1's
expect_no_line "STANDIN: ls /: ROOT-MARKER"
