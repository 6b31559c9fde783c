# qemu/kbs-network (issue 15): the guest talks only to the KBS it pins. One
# image (KBS_CA = the test CA, KBS_URL host kbs.test, KBS_TIMEOUT=5) booted
# against three KBS set-ups; each stops the boot at root with one FATAL line
# naming what failed, no launch, p3 unchanged:
#   1. a certificate for kbs.test from another CA (not the pinned one);
#   2. a certificate from the pinned CA for another name;
#   3. a KBS that accepts the connection and never answers: the deadline.
# Then three network configurations, each stopping the boot before anything
# reaches the KBS: the KBS off the link without a gateway (config), an
# interface the VM lacks (root, after waiting), and a consistent set-up for
# another network (root, at the deadline; the interface is taken down).
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_OTHER_CA='KBS kbs.test:8443: POST /kbs/v0/auth: TLS: the KBS certificate is refused (pinned KBS_CA, name kbs.test): The certificate is not correctly signed by the trusted CA'
E_WRONG_NAME='KBS kbs.test:8443: POST /kbs/v0/auth: TLS: the KBS certificate is refused (pinned KBS_CA, name kbs.test): The certificate Common Name (CN) does not match with the expected CN'
E_OFFLINK="KBS_ADDRESS 10.0.2.100 is not on NET_ADDRESS's subnet 10.0.3.15/24 and NET_GATEWAY is empty: nothing could reach the KBS"
E_NO_IF='network: interface eth7 did not appear within 5 s (is virtio_net in the module list? NET_INTERFACE)'
E_WRONGNET_RE='^KBS kbs\.test:8443: POST /kbs/v0/auth: 10\.0\.2\.100:8443 \(kbs\.test\) did not accept a TCP connection: no answer before the deadline \(gave up after [0-9]+ attempts?, KBS_TIMEOUT=5 s\)$'
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
rm -f "$KBS_LOG"

# ---- network configuration errors: each named, nothing sent to the KBS ------
# a network config without the KBS's NET_* lines, then the case's own
net_cfg() { # net_cfg NAME NET-LINES...
	local name=$1; shift
	config_file "$name.conf" <<CONF
TMP_SIZE=64m
TEE=mock
$(protected_config --root-source kbs --set VERITY_PREVERIFY=none)
$(kbs_config --root-only | grep -v '^NET_')
KBS_TIMEOUT=5
$(printf '%s\n' "$@")
CONF
}
check_no_network() { # check_no_network LABEL
	expect_poweroff
	expect_not_launched
	expect_kbs_event 0 tls
	expect_kbs_event 0 tls-failed
	expect_kbs_event 0 auth
	expect_part_unchanged 3
	cp "$CONSOLE_TXT" "$WORK/console-$1.txt"
}

# 1. the KBS off the link and no gateway: refused at config, no interface touched
kbs_initramfs_build --config "$(net_cfg offlink NET_INTERFACE=eth0 NET_ADDRESS=10.0.3.15/24)"
kbs_start --allow-measurement "$M"
kbs_boot
expect_fatal config "$E_OFFLINK"
expect_no_regex '^cvminit: [a-z]+: network: '
check_no_network offlink
rm -f "$KBS_LOG"

# 2. an interface the VM does not have
kbs_initramfs_build --config "$(net_cfg noif NET_INTERFACE=eth7 NET_ADDRESS=10.0.2.15/24 NET_GATEWAY=10.0.2.2)"
kbs_start --allow-measurement "$M"
kbs_boot
expect_fatal root "$E_NO_IF"
expect_line "cvminit: halt: network: eth7 absent, nothing to take down"
check_no_network noif
rm -f "$KBS_LOG"

# 3. consistent, but not this network: the gateway never answers; at the
#    deadline the boot stops naming the KBS, and the interface goes down
kbs_initramfs_build --config "$(net_cfg wrongnet NET_INTERFACE=eth0 NET_ADDRESS=10.0.3.15/24 NET_GATEWAY=10.0.3.2)"
kbs_start --allow-measurement "$M"
kbs_boot
expect_line "cvminit: root: network: eth0 up, 10.0.3.15/24 via 10.0.3.2"
expect_fatal_regex root "${E_WRONGNET_RE#^}"
expect_line "cvminit: halt: network: eth0 down, addresses flushed"
check_no_network wrongnet
