# qemu/wrapped-key-tampered (issue 7): a wrapped line with one character
# changed in transit is rejected with a clear message and the prompt comes
# again; after the configured tries the boot stops, nothing launched, and
# p5's header is unchanged.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_JOBS_PROMPT='Passphrase for jobs (/dev/vda5): '
E_REJECT='cvminit: jobstore: wrapped key rejected: it does not decrypt (tampered or corrupted) (%s left)'
E_FATAL_STAGE=jobstore
E_FATAL_REASON='no valid passphrase or wrapped key for jobs after 3 tries'
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
protected_disk
part_snapshot 5
printf '%s' "$JOBS_PASSPHRASE" > "$WORK/owner.key"
cfg=$(config_file cvminit.conf <<CONF
TEE=mock
$(protected_config)
CONF
)
protected_initramfs_build --config "$cfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
# The owner wraps correctly; the host flips one base64 character of the
# ciphertext (near the end of the line) before it reaches the guest.
tamper="'$CVMINIT' key wrap --challenge - --key '$WORK/owner.key' --vcek '$chain/vcek.pem' --chain '$chain/chain.pem' --root '$chain/ark.pem' --expect-measurement $E_MEASUREMENT 2>>'$WORK/wrap.err' | python3 -c 'import sys; l=sys.stdin.read().rstrip(); i=len(l)-12; c=\"B\" if l[i]!=\"B\" else \"C\"; print(l[:i]+c+l[i+1:])'"
q=$(rx_quote "$E_JOBS_PROMPT")
boot --expect "$q" --send-cmd "$tamper" --expect "$q" --send-cmd "$tamper" --expect "$q" --send-cmd "$tamper"

expect_vm_exit 0
expect_poweroff
# shellcheck disable=SC2059
expect_line "$(printf "$E_REJECT" "2 tries")"
# shellcheck disable=SC2059
expect_line "$(printf "$E_REJECT" "1 try")"
# shellcheck disable=SC2059
expect_line "$(printf "$E_REJECT" "0 tries")"
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_secret_absent "$JOBS_PASSPHRASE" "the job-store key"
expect_part_unchanged 5
