# qemu/wrapped-key-replay (issue 7): a wrapped line that opened p5 in an
# earlier boot is worthless in the next one (a fresh key pair per boot): it
# is refused as made for another challenge; the owner's fresh line (or the
# passphrase) still opens p5.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_JOBS_PROMPT='Passphrase for jobs (/dev/vda5): '
E_REPLAY="cvminit: jobstore: wrapped key rejected: it was made for another challenge, not this boot's (replayed?) (2 tries left)"
E_OPENED_RE='^cvminit: jobstore: jobs: /dev/vda5 opened as /dev/mapper/cvm-jobs \(LUKS2, key from prompt, [0-9]+ ms\)$'
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
protected_disk
printf '%s' "$JOBS_PASSPHRASE" > "$WORK/owner.key"
cfg=$(config_file cvminit.conf <<CONF
TEE=mock
$(protected_config)
CONF
)
protected_initramfs_build --config "$cfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
wrap="'$CVMINIT' key wrap --challenge - --key '$WORK/owner.key' --vcek '$chain/vcek.pem' --chain '$chain/chain.pem' --root '$chain/ark.pem' --expect-measurement $E_MEASUREMENT 2>>'$WORK/wrap.err'"
q=$(rx_quote "$E_JOBS_PROMPT")

# 1: a boot the owner unlocked; the host keeps a copy of the wrapped line
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
boot --expect "$q" --send-cmd "$wrap | tee '$WORK/recorded.txt'"
expect_launched
expect_regex "$E_OPENED_RE"
grep -q '^cvminit-wrapped: ' "$WORK/recorded.txt" || fail "no wrapped line was recorded"

# 2: the next boot: the host replays the recorded line, then the owner answers
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
boot --expect "$q" --send-cmd "cat '$WORK/recorded.txt'" --expect "$q" --send-cmd "$wrap"
expect_poweroff
expect_line "$E_REPLAY"
expect_regex "$E_OPENED_RE"
expect_launched
expect_secret_absent "$JOBS_PASSPHRASE" "the job-store key"
