#!/bin/bash
# `cvminit initramfs build` checks a kbs configuration against the image it
# goes into (initramfs/configcheck.c): KBS_CA missing is an error and writes
# nothing; no network driver, or NET_ADDRESS=dhcp without af_packet, is a
# note. A synthetic module tree stands in for a kernel.
#   initramfs/test-configcheck.sh [--bin CVMINIT]
set -uo pipefail
# shellcheck source=tests/cli-lib.sh
. "$(dirname "$0")/../tests/cli-lib.sh"
cli_init initramfs-config "$@"

k=$work/modules/6.1.0-net
mkdir -p "$k/kernel/drivers/net" "$k/kernel/net/packet" "$k/kernel/fs"
printf 'kernel/drivers/net/virtio_net.ko:\nkernel/net/packet/af_packet.ko:\nkernel/fs/ext4.ko:\n' > "$k/modules.dep"
: > "$k/modules.builtin"
for m in drivers/net/virtio_net net/packet/af_packet fs/ext4; do echo "$m" > "$k/kernel/$m.ko"; done
kb=$work/modules/6.1.0-packet-builtin
cp -r "$k" "$kb"
printf 'kernel/drivers/net/virtio_net.ko:\nkernel/fs/ext4.ko:\n' > "$kb/modules.dep"
echo kernel/net/packet/af_packet.ko > "$kb/modules.builtin"
echo 'test CA' > "$work/ca.pem"

PFX='cvminit initramfs: '
# build NAME CONFIG-TEXT ARGS...: the config written to $work/NAME.conf; out
# in $work/NAME.img, stderr in $work/NAME.err, exit status in rc.
build() {
	local name=$1 text=$2
	shift 2
	printf '%s\n' "$text" > "$work/$name.conf"
	rm -f "$work/$name.img"
	(cd "$work" && "$bin" initramfs build --init "$bin" --config "$name.conf" --compress none \
		--output "$name.img" "$@") 2> "$work/$name.err"
	rc=$?
}
notes() { grep -c 'note:' "$work/$1.err"; }
KBS='ROOT_KEY_SOURCE=kbs
KBS_URL=https://kbs.test:8443
NET_ADDRESS=10.0.2.15/24'

# 1. KBS_CA (default path) not in the image: exit 1, the message, no file.
build noca "$KBS" --kernel-modules "$k" --modules virtio_net
want="${PFX}--config noca.conf: ROOT_KEY_SOURCE is kbs, but KBS_CA /etc/cvminit/kbs-ca.pem is not in the initramfs: add --file CA.pem:/etc/cvminit/kbs-ca.pem"
if [ "$rc" = 1 ] && grep -qFx "$want" "$work/noca.err" && [ ! -e "$work/noca.img" ]; then
	pass missing-ca-refused
else flunk missing-ca-refused "rc=$rc, $(head -c 400 "$work/noca.err")"; fi

# 2. With the CA and virtio_net: built, no note.
build ok "$KBS" --kernel-modules "$k" --modules virtio_net --file "$work/ca.pem:/etc/cvminit/kbs-ca.pem"
if [ "$rc" = 0 ] && [ -s "$work/ok.img" ] && [ "$(notes ok)" = 0 ]; then pass complete-image
else flunk complete-image "rc=$rc, $(head -c 400 "$work/ok.err")"; fi

# 3. No network driver among the modules: built, with the note naming the interface.
build nonic "$KBS
NET_INTERFACE=eth1" --kernel-modules "$k" --modules ext4 --file "$work/ca.pem:/etc/cvminit/kbs-ca.pem"
want="${PFX}note: --config nonic.conf: ROOT_KEY_SOURCE is kbs, but no network driver (kernel/drivers/net/) is among the modules: unless the kernel builds it in, eth1 will not appear (virtio_net under QEMU)"
if [ "$rc" = 0 ] && [ -s "$work/nonic.img" ] && grep -qFx "$want" "$work/nonic.err"; then pass no-network-driver-note
else flunk no-network-driver-note "rc=$rc, $(head -c 400 "$work/nonic.err")"; fi

# 4. DHCP without af_packet (a module of this kernel, not loaded): the note.
DHCP='JOBS_KEY_SOURCE=kbs
KBS_URL=https://kbs.test:8443
KBS_CA=/etc/kbs/ca.pem
NET_ADDRESS=dhcp'
build dhcp "$DHCP" --kernel-modules "$k" --modules virtio_net --file "$work/ca.pem:/etc/kbs/ca.pem"
want="${PFX}note: --config dhcp.conf: NET_ADDRESS=dhcp needs the packet socket: af_packet is neither built in nor among the modules (add af_packet)"
if [ "$rc" = 0 ] && grep -qFx "$want" "$work/dhcp.err" && [ "$(notes dhcp)" = 1 ]; then pass dhcp-without-af-packet-note
else flunk dhcp-without-af-packet-note "rc=$rc, $(head -c 400 "$work/dhcp.err")"; fi

# 5. DHCP with af_packet loaded, or built into the kernel: no note.
build dhcpmod "$DHCP" --kernel-modules "$k" --modules virtio_net,af_packet --file "$work/ca.pem:/etc/kbs/ca.pem"
build dhcpbi "$DHCP" --kernel-modules "$kb" --modules virtio_net --file "$work/ca.pem:/etc/kbs/ca.pem"
if [ "$(notes dhcpmod)" = 0 ] && [ "$(notes dhcpbi)" = 0 ] && [ -s "$work/dhcpmod.img" ] && [ -s "$work/dhcpbi.img" ]; then
	pass dhcp-with-af-packet
else flunk dhcp-with-af-packet "$(cat "$work/dhcpmod.err" "$work/dhcpbi.err" | head -c 400)"; fi

# 6. A custom KBS_CA: the file at the default path does not count; the
# message names p5's key.
build custom "$DHCP" --kernel-modules "$k" --modules virtio_net,af_packet --file "$work/ca.pem:/etc/cvminit/kbs-ca.pem"
want="${PFX}--config custom.conf: JOBS_KEY_SOURCE is kbs, but KBS_CA /etc/kbs/ca.pem is not in the initramfs: add --file CA.pem:/etc/kbs/ca.pem"
if [ "$rc" = 1 ] && grep -qFx "$want" "$work/custom.err" && [ ! -e "$work/custom.img" ]; then pass custom-ca-path
else flunk custom-ca-path "rc=$rc, $(head -c 400 "$work/custom.err")"; fi

# 7. Controls: no kbs source, or an http:// KBS (test builds: no CA), needs
# no CA; the first also no network driver.
build tpm2 'ROOT_KEY_SOURCE=tpm2' --kernel-modules "$k" --modules ext4
build plain "$KBS
KBS_URL=http://10.0.2.100:8080" --kernel-modules "$k" --modules virtio_net
if [ "$(notes tpm2)" = 0 ] && [ -s "$work/tpm2.img" ] && [ -s "$work/plain.img" ] &&
	! grep -q KBS_CA "$work/plain.err"; then
	pass no-kbs-or-http-needs-no-ca
else flunk no-kbs-or-http-needs-no-ca "$(cat "$work/tpm2.err" "$work/plain.err" | head -c 400)"; fi

total=7
echo "$((total - failed)) passed, $failed failed"
[ "$failed" = 0 ]
