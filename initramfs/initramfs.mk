# initramfs/: `cvminit initramfs build`, the reproducible newc initramfs
# builder (see initramfs/README.md).
#
#   make initramfs     build/initramfs.img from build/init, the pinned test
#                      kernel's modules and INITRAMFS_* below (all overridable)

INITRAMFS_SRCS := initramfs/cpio.c initramfs/fileio.c initramfs/modclosure.c initramfs/configcheck.c initramfs/build.c
HOST_SRCS += $(INITRAMFS_SRCS)

UNIT_TESTS += cpio modclosure
UNIT_SRCS_cpio := $(INITRAMFS_SRCS) init/config.c init/plan.c init/mountopts.c init/partref.c crypto/verity_geometry.c
UNIT_SRCS_modclosure := initramfs/modclosure.c initramfs/fileio.c

# Two builds under different cwd/umask/TZ/locale/time/environment: same SHA-256.
CHECK_SUITES += initramfs/repro-test.sh
# A kbs configuration against the image: KBS_CA, network driver, af_packet.
CHECK_SUITES += initramfs/test-configcheck.sh
CHECK_DEPS += $(B)/cvminit

INITRAMFS_OUT ?= $(B)/initramfs.img
INITRAMFS_INIT ?= $(B)/init
INITRAMFS_CONFIG ?=
# Empty: the pinned Debian test kernel (qemu-tests/kernel.sh fetches it once).
INITRAMFS_KMODDIR ?=
INITRAMFS_MODULES ?= virtio_blk,virtio_pci,ext4,dm-verity,dm-crypt,tsm,sev-guest,tdx-guest
INITRAMFS_COMPRESS ?= gzip

.PHONY: initramfs
initramfs: $(B)/cvminit $(INITRAMFS_INIT)
	@kd='$(INITRAMFS_KMODDIR)'; \
	if [ -z "$$kd" ] && [ -n '$(INITRAMFS_MODULES)' ]; then \
		k=$$(qemu-tests/kernel.sh) && kd=$$k/lib/modules/$$(qemu-tests/kernel.sh kver) || exit 1; \
	fi; \
	$(B)/cvminit initramfs build --init '$(INITRAMFS_INIT)' \
		$(if $(INITRAMFS_CONFIG),--config '$(INITRAMFS_CONFIG)') \
		$(if $(INITRAMFS_MODULES),--kernel-modules "$$kd" --modules '$(INITRAMFS_MODULES)') \
		--compress '$(INITRAMFS_COMPRESS)' --output '$(INITRAMFS_OUT)' && \
	echo "$(INITRAMFS_OUT): sha256 $$(sha256sum < '$(INITRAMFS_OUT)' | cut -d' ' -f1)"
