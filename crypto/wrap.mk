# Attested delivery of the job-store key: crypto/wrap.c is shared by the
# init (challenge, unwrap) and the host tool (`cvminit key wrap`).
HOST_SRCS += crypto/wrap.c crypto/secret.c crypto/host/key_cmd.c

# `cvminit measure` (the published measurements of an image)
HOST_SRCS += crypto/host/measure_cmd.c tee/evidence.c

# Unit test: wrap.c is written for mbedtls 3, so the test links the deps'
# static mbedcrypto and json-c (plain C; they link into the host program).
UNIT_TESTS += wrap
UNIT_SRCS_wrap := crypto/wrap.c crypto/secret.c
UNIT_CFLAGS_wrap = $(DEPS_CFLAGS)
UNIT_LIBS_wrap = $(DEPS_RELEASE)/lib/libjson-c.a $(DEPS_RELEASE)/lib/libmbedcrypto.a
$(B)/unit/test_wrap $(B)/coverage/test_wrap: $(DEPS_STAMP)
