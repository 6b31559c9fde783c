# qemu/snp-provision-signed (issue 13): the SNP-derived key is enrolled from a
# provisioning secret that crosses the host's console only as a wrapped line
# the image builder signed (ROOT_DELIVERY_PUBKEY, purpose root), into the
# volume whose volume key matches ROOT_VOLUME_KEY_PIN. The builder's line
# made for p5's prompt (purpose jobs) and the typed secret are refused, each
# a try; the signed line enrolls; the next boot opens p3 with the derived key
# alone, and no provisioning prompt is shown any more.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_PROMPT='Wrapped key for root (provisioning) (/dev/vda3): '
E_OFFER="cvminit: root: root (provisioning): the key must be sealed to this boot: run 'cvminit key wrap --sign-key BUILDER.pem --purpose root' on the challenge below and paste its cvminit-wrapped line at the prompt"
E_PURPOSE="cvminit: root: wrapped key rejected: not signed for root (provisioning) by the key pinned in ROOT_DELIVERY_PUBKEY (3 tries left)"
E_TYPED="cvminit: root: typed passphrase refused for root (provisioning): only a cvminit-wrapped line is accepted here, the host reads the console (2 tries left)"
E_ENROLLED='cvminit: root: snp-derived key enrolled in keyslot 1'
E_COMPLETE='cvminit: root: enrollment complete: keyslot 1 opens with the snp-derived key only'
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from snp-derived, [0-9]+ ms\)$'
# ===========================================================================

chain=$WORK/chain
"$REPO/qemu-tests/mock-tee-chain.sh" "$chain"
openssl ecparam -name secp384r1 -genkey -noout -out "$WORK/builder.pem" 2>/dev/null || die "openssl cannot make a P-384 key"
BUILDER_PUB=$("$CVMINIT" key pubkey --sign-key "$WORK/builder.pem") || die "cvminit key pubkey failed"
head -c 24 /dev/urandom | base64 > "$WORK/provisioning.pass"
disk_build --luks "3=$WORK/provisioning.pass"
PIN=$(volume_key_pin 3 --passphrase "$WORK/provisioning.pass" | sed -n 's/^ROOT_VOLUME_KEY_PIN=//p')
[[ "$PIN" =~ ^[0-9a-f]{64}$ ]] || die "no volume-key pin for p3"
cfg=$(config_file enroll.conf <<CONF
TEE=mock
JOB_STORE_ENCRYPTION=none
TMP_SIZE=64m
PROMPT_TRIES=4
ROOT_KEY_SOURCE=snp-derived
ROOT_ENROLL=yes
ROOT_PROVISION_SOURCE=prompt
ROOT_DELIVERY_PUBKEY=$BUILDER_PUB
ROOT_VOLUME_KEY_PIN=$PIN
CONF
)
initramfs_build --config "$cfg" --file "$chain/vcek.key:/etc/cvminit/mock/vcek.pem"
E_MEASUREMENT=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
[[ "$E_MEASUREMENT" =~ ^[0-9a-f]{96}$ ]] || die "no predicted mock measurement"
wrap="'$CVMINIT' key wrap --challenge - --key '$WORK/provisioning.pass' --vcek '$chain/vcek.pem' --chain '$chain/chain.pem' --root '$chain/ark.pem' --expect-measurement $E_MEASUREMENT --sign-key '$WORK/builder.pem'"
q=$(rx_quote "$E_PROMPT")

# 1: the enrollment boot
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
boot --expect "$q" --send-cmd "$wrap --purpose jobs 2>>'$WORK/wrap.err'" \
	--expect "$q" --send "$(head -n1 "$WORK/provisioning.pass")" \
	--expect "$q" --send-cmd "$wrap --purpose root 2>>'$WORK/wrap.err'"
expect_vm_exit 0
expect_poweroff
expect_line "$E_OFFER"
expect_line "$E_PURPOSE"
expect_line "$E_TYPED"
expect_line "$E_ENROLLED"
expect_line "$E_COMPLETE"
expect_regex "$E_OPENED_RE"
expect_launched
expect_secret_absent "$(head -n1 "$WORK/provisioning.pass")" "the provisioning secret"

# 2: the next boot of the same image: the derived key alone, no prompt
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
boot
expect_vm_exit 0
expect_poweroff
expect_launched
expect_regex "$E_OPENED_RE"
expect_no_line "$E_ENROLLED"
expect_text_count 0 "$E_PROMPT"
