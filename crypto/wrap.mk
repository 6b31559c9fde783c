# Attested delivery of the job-store key: crypto/wrap.c is shared by the
# init (challenge, unwrap) and the host tool (`cvminit key wrap`).
HOST_SRCS += crypto/wrap.c crypto/secret.c crypto/host/key_cmd.c
