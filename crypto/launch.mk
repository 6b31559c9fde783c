# Launch-measurement prediction (`cvminit measure snp`, `cvminit measure
# tdx`): the SEV-SNP launch digest and the TDX MRTD/RTMRs of a firmware,
# kernel, initrd and command line, and the replay of a TDX CCEL event log
# (crypto/README.md, "Launch measurements"). Host tool only.
HOST_SRCS += crypto/host/snp_launch.c crypto/host/measure_snp_cmd.c crypto/hash.c
HOST_SRCS += crypto/host/launch_file.c crypto/host/ovmf_table.c
HOST_SRCS += crypto/host/tdx_launch.c crypto/host/pe_authenticode.c crypto/host/ccel.c crypto/host/measure_tdx_cmd.c

# The reference vectors, errors, and Debian's ovmf-amdsev firmware.
CHECK_SUITES += crypto/host/test-measure-snp.sh
# The CCEL replay of a real quote's log, Debian's ovmf-inteltdx, errors.
CHECK_SUITES += crypto/host/test-measure-tdx.sh
CHECK_DEPS += $(B)/cvminit
