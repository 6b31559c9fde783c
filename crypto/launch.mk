# Launch-measurement prediction (`cvminit measure snp`): the SEV-SNP launch
# digest of a firmware, kernel, initrd and command line (crypto/README.md,
# "Launch measurements"). Host tool only.
HOST_SRCS += crypto/host/snp_launch.c crypto/host/measure_snp_cmd.c crypto/hash.c

# The reference vectors, errors, and Debian's ovmf-amdsev firmware.
CHECK_SUITES += crypto/host/test-measure-snp.sh
CHECK_DEPS += $(B)/cvminit
