# qemu/luks-unknown-token (issue 12): p5's header gains a token of a type
# cvminit does not know (systemd-fido2).
# The header is edited as a host could (qemu-tests/luks-edit.py: checksums
# recomputed, genuine keyslots, digest and UUID kept); the header policy
# stops the boot in stage luks with one FATAL line naming the volume and the
# field, before any key is tried: nothing opened, nothing launched, p3 and
# p5 unchanged. Shared steps: qemu-tests/luks-attack.sh.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/luks-attack.sh"

# ==== expected strings: align these with the init's real messages ========
E_FIELD='tokens.0.type is systemd-fido2 (allowed: systemd-tpm2, cvminit-snp)'
# ==========================================================================

luks_refused_scenario 5 "$E_FIELD" \
	'set tokens.0={"type":"systemd-fido2","keyslots":["0"]}'
