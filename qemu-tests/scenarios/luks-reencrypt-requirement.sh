# qemu/luks-reencrypt-requirement (issue 12): p3's header claims a pending
# online reencryption (config.requirements).
# The header is edited as a host could (qemu-tests/luks-edit.py: checksums
# recomputed, genuine keyslots, digest and UUID kept); the header policy
# stops the boot in stage luks with one FATAL line naming the volume and the
# field, before any key is tried: nothing opened, nothing launched, p3 and
# p5 unchanged. Shared steps: qemu-tests/luks-attack.sh.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/luks-attack.sh"

# ==== expected strings: align these with the init's real messages ========
E_FIELD='config.requirements is {"mandatory":["online-reencrypt-v2"]} (allowed: none)'
# ==========================================================================

luks_refused_scenario 3 "$E_FIELD" \
	'set config.requirements={"mandatory":["online-reencrypt-v2"]}'
