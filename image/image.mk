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
