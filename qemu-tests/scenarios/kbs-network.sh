# qemu/kbs-network (issue 15): the guest talks only to the KBS it pins. One
# image (KBS_CA = the test CA, KBS_URL host kbs.test, KBS_TIMEOUT=5) booted
# against three KBS set-ups; each stops the boot at root with one FATAL line
# naming what failed, no launch, p3 unchanged:
#   1. a certificate for kbs.test from another CA (not the pinned one);
#   2. a certificate from the pinned CA for another name;
#   3. a KBS that accepts the connection and never answers: the deadline.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_OTHER_CA='KBS kbs.test:8443: POST /kbs/v0/auth: TLS: the KBS certificate is refused (pinned KBS_CA, name kbs.test): The certificate is not correctly signed by the trusted CA'
E_WRONG_NAME='KBS kbs.test:8443: POST /kbs/v0/auth: TLS: the KBS certificate is refused (pinned KBS_CA, name kbs.test): The certificate Common Name (CN) does not match with the expected CN'
E_TIMEOUT_RE='^KBS kbs\.test:8443: POST /kbs/v0/auth: TLS: the KBS did not complete the handshake before the deadline \(gave up after [0-9]+ attempts?, KBS_TIMEOUT=5 s\)$'
# ===========================================================================

kbs_setup
protected_disk
kbs_resource_file cvminit/luks/root "$ROOT_KEY"
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
TEE=mock
$(protected_config --root-source kbs --set VERITY_PREVERIFY=none)
$(kbs_config --root-only)
KBS_TIMEOUT=5
CONF
)
kbs_initramfs_build --config "$cfg"
M=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
part_snapshot 3

check_refused() { # check_refused LABEL FATAL-ERE
	expect_poweroff
	expect_fatal_regex root "${2#^}"
	expect_not_launched
	expect_kbs_event 0 auth
	expect_kbs_event 0 attest
	expect_part_unchanged 3
	note "$(grep -m1 'FATAL' "$CONSOLE_TXT")"
	cp "$CONSOLE_TXT" "$WORK/console-$1.txt"
	cp "$KBS_LOG" "$WORK/kbs-$1.log" 2>/dev/null || true
}

KBS_CERT=other-server kbs_start --allow-measurement "$M"
kbs_boot
check_refused other-ca "^$(rx_quote "$E_OTHER_CA")$"
expect_kbs_event 1 tls-failed  # the guest aborted the handshake: it did not accept the chain
rm -f "$KBS_LOG"

KBS_CERT=wrong-name kbs_start --allow-measurement "$M"
kbs_boot
check_refused wrong-name "^$(rx_quote "$E_WRONG_NAME")$"
expect_kbs_event 1 tls-failed
rm -f "$KBS_LOG"

kbs_start --allow-measurement "$M" --hang-at connect
kbs_boot
check_refused timeout "$E_TIMEOUT_RE"
expect_kbs_event 1 hang
