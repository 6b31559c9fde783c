# qemu/fatal-cleanup (issue 12): a boot that fails after p3 was opened and
# mounted (p5's volume key does not match JOBS_VOLUME_KEY_PIN) ends with one
# FATAL line, then the halt lines: the separator capped into PCR 15 (its
# sha256 value, read back from the TPM, is exactly the predicted chain:
# stage measure's events, p3's and p5's volume-key events, the separator —
# so nothing sealed to the earlier value unseals after the failure), the new
# root unmounted, every cvm-* mapping removed, and the kernel's own list
# showing none left. p5 was never activated and is unchanged.
source "$REPO/qemu-tests/lib.sh"
source "$REPO/qemu-tests/tpm.sh"

# ==== expected strings: align these with the init's real messages ========
E_FATAL_STAGE="jobstore"
E_FATAL_REASON="jobs: /dev/vda5: volume key does not match JOBS_VOLUME_KEY_PIN: not the volume this image was built with (substituted?)"
E_HALT_RE='^cvminit: halt: PCR 15 capped \(sha256 [0-9a-f]{64}\); unmounted 1; removed mappings cvm-root cvm-config cvm-boot; 0 key buffers wiped$'
E_NONE_LEFT="cvminit: halt: no cvminit dm mapping left"
# ==========================================================================

protected_disk --jobs-keyfile
root_pin=$(volume_key_pin 3 "$ROOT_KEY")
jobs_pin=$(volume_key_pin 5 "$JOBS_KEY")
wrong_pin=$(python3 -c 'import hashlib; print(hashlib.sha256(b"not p5").hexdigest())')
part_snapshot 5
tpm_manufacture
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
$(protected_config --jobs-source keyfile)
$root_pin
JOBS_VOLUME_KEY_PIN=$wrong_pin
CONF
)
protected_initramfs_build --config "$cfg"
"$CVMINIT" tpm2 predict --config "$cfg" --test-build --cmdline quiet > "$WORK/predict.json" ||
	die "cvminit tpm2 predict failed"
boot --swtpm "$TPM_STATE" --append quiet

expect_vm_exit 0
expect_poweroff
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_no_regex '^cvminit: jobstore: /dev/vda5 opened as '
expect_regex "$E_HALT_RE"
expect_line "$E_NONE_LEFT"
expect_part_unchanged 5
# the FATAL line comes first, the halt lines after it, power-off last
order=$(grep -nE '^cvminit: (FATAL|halt): ' "$CONSOLE_TXT" | sed 's/:.*cvminit: /:/; s/:\([a-zA-Z]*\): .*/:\1/' | cut -d: -f2 | paste -sd' ')
[ "$order" = "FATAL halt halt halt" ] || fail "FATAL/halt lines out of order: $order"
got=$(sed -nE 's/^cvminit: halt: PCR 15 capped \(sha256 ([0-9a-f]{64})\).*/\1/p' "$CONSOLE_TXT")
want=$(python3 - "$WORK/predict.json" "${root_pin#*=}" "${jobs_pin#*=}" <<'PY'
import hashlib, json, sys
v = bytes.fromhex(json.load(open(sys.argv[1]))['before_unlock'])
for d in (bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]), hashlib.sha256(b'cvminit:separator').digest()):
    v = hashlib.sha256(v + d).digest()
print(v.hex())
PY
)
[ -n "$got" ] && [ "$got" = "$want" ] || fail "PCR 15 after the halt is '$got', predicted '$want'"
