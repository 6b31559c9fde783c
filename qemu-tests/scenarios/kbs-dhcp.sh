# qemu/kbs-dhcp (issue 15): NET_ADDRESS=dhcp. The interface is configured
# from a DHCPv4 lease (kbs/dhcp.c): QEMU's user-mode network (restrict=on,
# one guestfwd to the test KBS) has a DHCP server that leases 10.0.2.15/24
# (restrict=on: no router option; the forwarded 10.0.2.100 is on the link).
# The lease chooses only the guest's address and route; the
# KBS is still the measured KBS_ADDRESS, over TLS to the pinned CA, and p3's
# key comes from it. The interface is down again before switch_root.
# Then the same image against a DHCP server that hands out the subnet's
# broadcast address (QEMU's dhcpstart=10.0.2.255): every offer is refused,
# the boot stops at KBS_TIMEOUT naming the refusal, nothing reaches the KBS,
# and the interface is taken down on the fatal path.
# (Each other refusal is in unit/dhcp and fuzz/kbs_dhcp.)
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings =====================================================
E_LEASE='cvminit: root: network: eth0: DHCP lease 10.0.2.15/24 from server 10.0.2.2 (lease 86400 s, not renewed)'
E_UP='cvminit: root: network: eth0 up, 10.0.2.15/24'
E_RELEASED='cvminit: root: the KBS released cvminit/luks/root (attempt 1)'
E_OPENED_RE='^cvminit: root: /dev/vda3 opened as /dev/mapper/cvm-root \(LUKS2, key from kbs, [0-9]+ ms\)$'
E_REFUSED='cvminit: root: network: eth0: DHCP reply refused: the offered address is the subnet'"'"'s network or broadcast address'
E_NO_OFFER_RE='^network: eth0: no usable DHCP offer within 10 s \(KBS_TIMEOUT; [0-9]+ replies refused, the last: the offered address is the subnet'"'"'s network or broadcast address\)$'
E_DOWN='cvminit: switch_root: network: eth0 down, addresses flushed'
# ===========================================================================

kbs_setup
protected_disk --jobs-plain
kbs_resource_file cvminit/luks/root "$ROOT_KEY"
cfg=$(config_file cvminit.conf <<CONF
TMP_SIZE=64m
TEE=mock
$(protected_config --root-source kbs --set VERITY_PREVERIFY=none)
$(kbs_config --root-only | grep -v '^NET_')
NET_INTERFACE=eth0
NET_ADDRESS=dhcp
KBS_TIMEOUT=10
CONF
)
kbs_initramfs_build --config "$cfg"
M=$(mock_measurement "$cfg" "console=ttyS0 panic=-1")
kbs_start --allow-measurement "$M"
kbs_boot
expect_vm_exit 0
expect_poweroff
expect_launched
expect_line "$E_LEASE"
expect_line "$E_UP"
expect_line "$E_RELEASED"
expect_regex "$E_OPENED_RE"
expect_line "$E_DOWN"
expect_no_regex 'DHCP reply refused'
expect_kbs_event 1 attest status=200 measurement="$M"
expect_kbs_event 1 resource status=200 resource=cvminit/luks/root

# ---- the host's DHCP server offers an address no host may have -------------
cp "$CONSOLE_TXT" "$WORK/console-lease.txt"
rm -f "$KBS_LOG"
part_snapshot 3
kbs_start --allow-measurement "$M"
kbs_boot --kbs-dhcp-start 10.0.2.255
expect_poweroff
expect_line "$E_REFUSED"
expect_fatal_regex root "${E_NO_OFFER_RE#^}"
expect_no_regex 'network: eth0 up'
expect_line "cvminit: halt: network: eth0 down, addresses flushed"
expect_not_launched
expect_part_unchanged 3
expect_kbs_event 0 tls
expect_kbs_event 0 auth
