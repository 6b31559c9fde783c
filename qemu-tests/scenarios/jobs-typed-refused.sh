# qemu/jobs-typed-refused (issue 12): under the release key-source policy
# (here a test build with MOCK_RELEASE_POLICY=yes and the mock TEE) p5's
# prompt takes only cvminit-wrapped lines: the host reads the console, so a
# typed passphrase, even the right one, is refused with a clear line and
# counts as a try; when the tries run out the boot stops, nothing is
# launched, p5 is unchanged and the passphrase appears nowhere. Control: the
# same disk and configuration without MOCK_RELEASE_POLICY opens p5 with the
# same typed passphrase (so only the policy refused it).
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_POLICY_ON="cvminit: config: MOCK_RELEASE_POLICY=yes: the release key-source policy applies to this TEST build"
E_WRAPPED_PROMPT='Wrapped key for jobs (/dev/vda5): '
E_TYPED_PROMPT='Passphrase for jobs (/dev/vda5): '
E_ONLY_WRAPPED="cvminit: jobstore: jobs: only a cvminit-wrapped line is accepted at this prompt, not a typed passphrase (JOBS_OWNER_PUBKEY is set)"
E_REFUSED_2="cvminit: jobstore: typed passphrase refused for jobs: only a cvminit-wrapped line is accepted here, the host reads the console (2 tries left)"
E_REFUSED_1="cvminit: jobstore: typed passphrase refused for jobs: only a cvminit-wrapped line is accepted here, the host reads the console (1 try left)"
E_REFUSED_0="cvminit: jobstore: typed passphrase refused for jobs: only a cvminit-wrapped line is accepted here, the host reads the console (0 tries left)"
E_CHALLENGE_RE='^cvminit-challenge: [A-Za-z0-9+/]+=*$'
E_FATAL_STAGE="jobstore"
E_FATAL_REASON="no valid wrapped key for jobs after 3 tries"
# the owner's key is never used (no line is pasted); it is there because the
# policy requires it; the control (test rules, p5 opened) has none
openssl ecparam -name secp384r1 -genkey -noout -out "$WORK/owner.pem" 2>/dev/null || die "openssl cannot make a P-384 key"
OWNER_PUB=$("$CVMINIT" key pubkey --sign-key "$WORK/owner.pem") || die "cvminit key pubkey failed"
# ==========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
protected_disk
part_snapshot 5
conf() {
	config_file "$1" <<CONF
PART_TIMEOUT=10
TMP_SIZE=64m
TEE=mock
$(protected_config "${@:2}")
LAUNCHER_ARGS="--standin-cat=/opt/nvflare/jobs/JOBS-MARKER"
CONF
}

# ---- the release policy: typed passphrases refused -----------------------
protected_initramfs_build --config "$(conf cvminit.conf --set MOCK_RELEASE_POLICY=yes --set "JOBS_OWNER_PUBKEY=$OWNER_PUB")" \
	--file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
rx=$(rx_quote "$E_WRAPPED_PROMPT")
boot --expect "$rx" --send "$JOBS_PASSPHRASE" --expect "$rx" --send "$JOBS_PASSPHRASE" \
	--expect "$rx" --send "$JOBS_PASSPHRASE"

expect_vm_exit 0
expect_poweroff
expect_line "$E_POLICY_ON"
expect_regex "$E_CHALLENGE_RE"
expect_line "$E_ONLY_WRAPPED"
expect_text_count 3 "$E_WRAPPED_PROMPT"
expect_text_count 0 "$E_TYPED_PROMPT"
expect_line "$E_REFUSED_2"
expect_line "$E_REFUSED_1"
expect_line "$E_REFUSED_0"
expect_fatal "$E_FATAL_STAGE" "$E_FATAL_REASON"
expect_not_launched
expect_no_regex '^cvminit: (mounts|switch_root): '
expect_no_regex 'wrong passphrase for jobs'
expect_secret_absent "$JOBS_PASSPHRASE" "the typed job-store passphrase"
expect_part_unchanged 5

# ---- control (after: it opens p5): test rules, the typed passphrase opens p5
INITRD=$WORK/control.img
protected_initramfs_build --config "$(conf control.conf)" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
CONSOLE_LOG=$WORK/control-console.log CONSOLE_TXT=$WORK/control-console.txt
boot --expect "$(rx_quote "$E_TYPED_PROMPT")" --send "$JOBS_PASSPHRASE"
expect_vm_exit 0
expect_launched
expect_line "STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker"
