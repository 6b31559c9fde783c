# Attested delivery of the job-store key: crypto/wrap.c is shared by the
# init (challenge, unwrap) and the host tool (`cvminit key wrap`).
HOST_SRCS += crypto/wrap.c crypto/secret.c crypto/host/key_cmd.c

# `cvminit measure` (the published measurements of an image)
HOST_SRCS += crypto/host/measure_cmd.c tee/evidence.c
