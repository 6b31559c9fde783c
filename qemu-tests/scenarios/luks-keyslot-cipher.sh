# qemu/luks-keyslot-cipher (issue 12): p5's keyslot 0 area cipher set to
# cipher_null-ecb (the keyslot variant, CVE-2025-59054); p5 is refused as p3
# would be.
# The header is edited as a host could (qemu-tests/luks-edit.py: checksums
# recomputed, genuine keyslots, digest and UUID kept); the header policy
# stops the boot in stage luks with one FATAL line naming the volume and the
# field, before any key is tried: nothing opened, nothing launched, p3 and
# p5 unchanged. Shared steps: qemu-tests/luks-attack.sh.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/luks-attack.sh"

# ==== expected strings: align these with the init's real messages ========
E_FIELD='keyslots.0.area.encryption is cipher_null-ecb (allowed: aes-xts-plain64)'
# ==========================================================================

luks_refused_scenario 5 "$E_FIELD" \
	'set keyslots.0.area.encryption="cipher_null-ecb"'
