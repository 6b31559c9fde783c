# image/: `cvminit image build|check|verify`, the partition tool (see image/README.md).
IMAGE_SRCS := image/cmd.c image/layout.c image/build.c image/verify.c image/util.c \
	crypto/hash.c crypto/luks_header.c crypto/verity_geometry.c crypto/volume_key.c crypto/secret.c \
	crypto/tpm2_util.c crypto/measure_events.c
HOST_SRCS += $(IMAGE_SRCS)

# The layout parser and its checks, alone (ASan/UBSan).
UNIT_TESTS += image_layout
UNIT_SRCS_image_layout := image/layout.c init/config.c init/plan.c init/mountopts.c init/partref.c crypto/tpm2_util.c crypto/secret.c
UNIT_LIBS_image_layout := -lmbedcrypto

# Build, verify, tamper, reproduce: the tool on real files (no root, no dm).
CHECK_SUITES += image/test-image.sh
CHECK_DEPS += $(B)/cvminit

# The OEM pipeline in one step (image/oem-build.sh): layout + directories ->
# disk, cvminit.conf, initramfs, measurements.json, then `cvminit image verify`.
#   make oem-image OEM_LAYOUT=my/layout.conf OEM_CONFIG=my/base.conf [OEM_OUT=build/oem]
#                  [OEM_CMDLINE="console=ttyS0"] [OEM_MODULES=virtio_blk,...]
# Without OEM_LAYOUT/OEM_CONFIG: the test layout of tests/data/image.
OEM_LAYOUT ?= tests/data/image/layout.conf
OEM_CONFIG ?= tests/data/image/base.conf
OEM_OUT ?= $(B)/oem
OEM_CMDLINE ?=
OEM_KMODDIR ?=
OEM_MODULES ?=
.PHONY: oem-image
oem-image: $(B)/cvminit $(B)/init
	@image/oem-build.sh --layout '$(OEM_LAYOUT)' --config '$(OEM_CONFIG)' --out '$(OEM_OUT)' --init $(B)/init \
		$(if $(OEM_CMDLINE),--cmdline '$(OEM_CMDLINE)') \
		$(if $(OEM_MODULES),--kernel-modules "$${OEM_KMODDIR:-$$(qemu-tests/kernel.sh)/lib/modules/$$(qemu-tests/kernel.sh kver)}" --modules '$(OEM_MODULES)')
