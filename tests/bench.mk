# make bench: cvminit against a busybox + cryptsetup baseline, in QEMU, and
# the size budget (bench/README.md). Not part of make check.
#
#   make bench                          plain disk, 3 boots per variant
#   make bench BENCH_RUNS=5             more boots
#   make bench BENCH_DISK=protected     2x dm-verity + 2x LUKS2 (key files)
#   make bench BENCH_ANCHORS=yes        also dracut+systemd and initramfs-tools images
#                                       of the protected disk (root; the disk defaults to protected)
# Writes build/bench/bench.json (and build/bench.json); fails when a boot
# fails or build/init / the initramfs exceed the size budget.

BENCH_RUNS ?= 3
BENCH_ANCHORS ?= no
BENCH_DISK ?= $(if $(filter yes,$(BENCH_ANCHORS)),protected,plain)
BENCH_CC ?= musl-gcc
BENCH_CFLAGS := -static -Os -std=gnu11 $(WARN)

$(B)/bench-stamp: bench/stamp.c
	@mkdir -p $(dir $@)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $<
	strip --strip-all $@

bench: deps-tools deps all kernel $(B)/standin $(B)/bench-stamp
	@BENCH_RUNS="$(BENCH_RUNS)" BENCH_DISK="$(BENCH_DISK)" BENCH_ANCHORS="$(BENCH_ANCHORS)" bench/bench.sh
