# qemu/wrapped-key-signed (issue 13): authenticated delivery. With the
# owner's public key pinned in the measured configuration (JOBS_OWNER_PUBKEY),
# p5's prompt opens only lines the owner signed for p5. What the host can do
# with the challenge it sees is refused, each with its own message, each
# counted as a try: a line it wrapped itself (unsigned), a line signed by a
# key of its own, the owner's line made for p3's prompt (purpose root), and
# a typed passphrase. Then the owner's signed line opens p5. A boot whose
# tries are all spent on the host's lines stops with p5 unchanged; the same
# lines are shown to reach the prompt's checks (the unsigned one opens p5
# when no owner is pinned: only the pin stops it).
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_PROMPT='Wrapped key for jobs (/dev/vda5): '
E_OFFER="cvminit: jobstore: jobs: the key must be sealed to this boot: run 'cvminit key wrap --sign-key OWNER.pem' on the challenge below and paste its cvminit-wrapped line at the prompt"
E_ONLY="cvminit: jobstore: jobs: only a cvminit-wrapped line is accepted at this prompt, not a typed passphrase (JOBS_OWNER_PUBKEY is set)"
E_UNSIGNED="cvminit: jobstore: wrapped key rejected: not signed for jobs by the key pinned in JOBS_OWNER_PUBKEY (4 tries left)"
E_STRANGER="cvminit: jobstore: wrapped key rejected: not signed for jobs by the key pinned in JOBS_OWNER_PUBKEY (3 tries left)"
E_PURPOSE="cvminit: jobstore: wrapped key rejected: not signed for jobs by the key pinned in JOBS_OWNER_PUBKEY (2 tries left)"
E_TYPED="cvminit: jobstore: typed passphrase refused for jobs: only a cvminit-wrapped line is accepted here, the host reads the console (1 try left)"
E_OPENED_RE='^cvminit: jobstore: jobs: /dev/vda5 opened as /dev/mapper/cvm-jobs \(LUKS2, key from prompt, [0-9]+ ms\)$'
E_FATAL_REASON="no valid wrapped key for jobs after 3 tries"
E_TYPED_PROMPT='Passphrase for jobs (/dev/vda5): '
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
openssl ecparam -name secp384r1 -genkey -noout -out "$WORK/owner.pem" 2>/dev/null || die "openssl cannot make a P-384 key"
openssl ecparam -name secp384r1 -genkey -noout -out "$WORK/host.pem" 2>/dev/null
OWNER_PUB=$("$CVMINIT" key pubkey --sign-key "$WORK/owner.pem") || die "cvminit key pubkey failed"
[[ "$OWNER_PUB" =~ ^04[0-9a-f]{192}$ ]] || die "cvminit key pubkey printed '$OWNER_PUB'"
protected_disk
printf '%s' "$JOBS_PASSPHRASE" > "$WORK/owner.key"
conf() {
	config_file "$1" <<CONF
PART_TIMEOUT=10
TMP_SIZE=64m
TEE=mock
$(protected_config "${@:2}")
LAUNCHER_ARGS="--standin-cat=/opt/nvflare/jobs/JOBS-MARKER"
CONF
}
cfg=$(conf cvminit.conf --set "JOBS_OWNER_PUBKEY=$OWNER_PUB" --set PROMPT_TRIES=5)
protected_initramfs_build --config "$cfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
wrap="'$CVMINIT' key wrap --challenge - --key '$WORK/owner.key' --vcek '$chain/vcek.pem' --chain '$chain/chain.pem' --root '$chain/ark.pem' --expect-measurement $E_MEASUREMENT"
q=$(rx_quote "$E_PROMPT")

# ---- the host's lines refused, then the owner's signed line opens p5 -----
boot --expect "$q" --send-cmd "$wrap 2>>'$WORK/wrap.err'" \
	--expect "$q" --send-cmd "$wrap --sign-key '$WORK/host.pem' 2>>'$WORK/wrap.err'" \
	--expect "$q" --send-cmd "$wrap --sign-key '$WORK/owner.pem' --purpose root 2>>'$WORK/wrap.err'" \
	--expect "$q" --send "$JOBS_PASSPHRASE" \
	--expect "$q" --send-cmd "$wrap --sign-key '$WORK/owner.pem' 2>>'$WORK/wrap.err'"
expect_vm_exit 0
expect_poweroff
expect_line "$E_OFFER"
expect_line "$E_ONLY"
expect_line "$E_UNSIGNED"
expect_line "$E_STRANGER"
expect_line "$E_PURPOSE"
expect_line "$E_TYPED"
expect_regex "$E_OPENED_RE"
expect_launched
expect_line "STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
expect_text_count 0 "$E_TYPED_PROMPT"
expect_no_regex 'wrong passphrase for jobs'
expect_secret_absent "$JOBS_PASSPHRASE" "the job-store key"

# ---- only the host's lines: the tries run out, nothing opens, p5 unchanged
part_snapshot 5 # (the boot above mounted p5)
CONSOLE_LOG=$WORK/refused-console.log CONSOLE_TXT=$WORK/refused-console.txt
INITRD=$WORK/refused.img
rcfg=$(conf refused.conf --set "JOBS_OWNER_PUBKEY=$OWNER_PUB")
protected_initramfs_build --config "$rcfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
E_MEASUREMENT=$(mock_measurement "$rcfg" "console=ttyS0 panic=-1")
wrap="'$CVMINIT' key wrap --challenge - --key '$WORK/owner.key' --vcek '$chain/vcek.pem' --chain '$chain/chain.pem' --root '$chain/ark.pem' --expect-measurement $E_MEASUREMENT"
boot --expect "$q" --send-cmd "$wrap 2>>'$WORK/wrap.err'" \
	--expect "$q" --send-cmd "$wrap --sign-key '$WORK/host.pem' 2>>'$WORK/wrap.err'" \
	--expect "$q" --send "$JOBS_PASSPHRASE"
expect_vm_exit 0
expect_poweroff
expect_fatal jobstore "$E_FATAL_REASON"
expect_not_launched
expect_part_unchanged 5

# ---- control: no owner pinned (test rules): the host's unsigned line opens p5
CONSOLE_LOG=$WORK/control-console.log CONSOLE_TXT=$WORK/control-console.txt
INITRD=$WORK/control.img
ccfg=$(conf control.conf)
protected_initramfs_build --config "$ccfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
E_MEASUREMENT=$(mock_measurement "$ccfg" "console=ttyS0 panic=-1")
wrap="'$CVMINIT' key wrap --challenge - --key '$WORK/owner.key' --vcek '$chain/vcek.pem' --chain '$chain/chain.pem' --root '$chain/ark.pem' --expect-measurement $E_MEASUREMENT"
boot --expect "$(rx_quote "$E_TYPED_PROMPT")" --send-cmd "$wrap 2>>'$WORK/wrap.err'"
expect_vm_exit 0
expect_launched
expect_line "STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
