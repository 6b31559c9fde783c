# qemu/harness-selftest: the harness alone, without cvminit. The stand-in is
# the initramfs's /init (a plain cpio, no builder): checks the kernel, vm.py's
# console capture and --expect/--send, power-off ending QEMU, the assertion
# helpers and the demo disk's layout (sgdisk -v). A failure here means the
# harness is broken, not the init.
source "$REPO/qemu-tests/lib.sh"

# ---- expected console lines ----
E_LAUNCHED="STANDIN: NVFlare stand-in launched"
E_PID="STANDIN: pid=1"
E_ARGV1="STANDIN: argv[1]=--standin-prompt=Line:"
E_READ="STANDIN: read hello harness"
E_DONE="STANDIN: done"
# ---------------------------------

disk_build
sgdisk -v "$DISK" >"$WORK/sgdisk-v.log" 2>&1 || die "sgdisk -v: $(tail -n 3 "$WORK/sgdisk-v.log")"
[ "$(awk '{print $2}' "$DISK.layout" | tr '\n' ' ')" = "cvm-esp cvm-boot cvm-root cvm-config cvm-jobs cvm-data " ] ||
	die "unexpected layout: $(cat "$DISK.layout")"

mkdir -p "$WORK/ird/dev"
cp "$STANDIN" "$WORK/ird/init"
(cd "$WORK/ird" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$INITRD"

# Everything after "--" reaches /init as arguments, even with '='.
boot --append "quiet -- --standin-prompt=Line:" --expect '^Line:' --send 'hello harness'
expect_vm_exit 0
expect_poweroff
expect_line "$E_LAUNCHED"
expect_line "$E_PID"
expect_line "$E_ARGV1"
expect_line "$E_READ"
expect_line "$E_DONE"
expect_no_line "STANDIN: pid=2"
expect_no_regex '^cvminit: FATAL: '
