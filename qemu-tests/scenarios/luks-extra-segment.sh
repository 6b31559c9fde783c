# qemu/luks-extra-segment (issue 12): p3's header gains a second segment
# (cipher_null-ecb, its data after the genuine segment's start).
# The header is edited as a host could (qemu-tests/luks-edit.py: checksums
# recomputed, genuine keyslots, digest and UUID kept); the header policy
# stops the boot in stage luks with one FATAL line naming the volume and the
# field, before any key is tried: nothing opened, nothing launched, p3 and
# p5 unchanged. Shared steps: qemu-tests/luks-attack.sh.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/luks-attack.sh"

# ==== expected strings: align these with the init's real messages ========
E_FIELD='segments has 2 entries (allowed: exactly one, segment 0)'
# ==========================================================================

luks_refused_scenario 3 "$E_FIELD" \
	'set segments.1={"type":"crypt","offset":"33554432","size":"dynamic","iv_tweak":"0","encryption":"cipher_null-ecb","sector_size":512}'
