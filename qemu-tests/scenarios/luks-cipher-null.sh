# qemu/luks-cipher-null (issue 12): the LUKS2 segment cipher downgrade. The
# host copies p3's genuine header (keyslots, digest, UUID), sets
# segments.0.encryption to cipher_null-ecb, recomputes both checksums and
# puts a plaintext ext4 root of its own (with its own /sbin/init) after the
# header. The genuine key still opens the genuine keyslot and the kernel has
# crypto_null (qemu/luks-cipher-null-control shows that root launching with
# the policy off): the header policy stops the boot in stage luks before any
# key is tried, with one FATAL line; nothing launches, nothing is written.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/luks-attack.sh"

# ==== expected strings: align these with the init's real messages ========
E_FIELD="segments.0.encryption is cipher_null-ecb (allowed: aes-xts-plain64)"
# ==========================================================================

luks_attack_disk
luks_cipher_null_attack
part_snapshot 3
part_snapshot 5
luks_attack_boot "$(luks_attack_config)"

luks_expect_refused root /dev/vda3 "$E_FIELD"
expect_no_regex 'key file'            # the key was never read, let alone tried
expect_no_line "STANDIN: ls /: HOST-ROOT-MARKER"
