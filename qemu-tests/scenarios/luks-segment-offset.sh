# qemu/luks-segment-offset (issue 12): p3's segment starts 8 MiB earlier
# (inside the keyslots area the host controls), the keyslots area shrunk to
# match.
# The header is edited as a host could (qemu-tests/luks-edit.py: checksums
# recomputed, genuine keyslots, digest and UUID kept); the header policy
# stops the boot in stage luks with one FATAL line naming the volume and the
# field, before any key is tried: nothing opened, nothing launched, p3 and
# p5 unchanged. Shared steps: qemu-tests/luks-attack.sh.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/luks-attack.sh"

# ==== expected strings: align these with the init's real messages ========
E_FIELD='segments.0.offset is 8388608 (expected 16777216)'
# ==========================================================================

luks_refused_scenario 3 "$E_FIELD" \
	'set segments.0.offset="8388608"' \
	'set config.keyslots_size="8355840"'
