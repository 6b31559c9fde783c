# qemu/luks-iv-tweak (issue 12): p3's segment gets iv_tweak 2048 (sectors
# decrypt with another sector's IV: blocks can be moved).
# The header is edited as a host could (qemu-tests/luks-edit.py: checksums
# recomputed, genuine keyslots, digest and UUID kept); the header policy
# stops the boot in stage luks with one FATAL line naming the volume and the
# field, before any key is tried: nothing opened, nothing launched, p3 and
# p5 unchanged. Shared steps: qemu-tests/luks-attack.sh.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/luks-attack.sh"

# ==== expected strings: align these with the init's real messages ========
E_FIELD='segments.0.iv_tweak is 2048 (expected 0)'
# ==========================================================================

luks_refused_scenario 3 "$E_FIELD" \
	'set segments.0.iv_tweak="2048"'
