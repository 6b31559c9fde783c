# shellcheck shell=bash
# TPM helpers for QEMU scenarios (source after lib.sh):
#   tpm_manufacture                 -> $TPM_STATE: a fresh swtpm state (sha1/sha256/sha384 banks)
#   tpm_start / tpm_stop            -> a swtpm on the host from a copy of $TPM_STATE ($TPM_SPEC)
#   tpm_enroll_p3 CONF [args]       seal p3's key with `cvminit tpm2 enroll` against the running
#                                   swtpm (p3 is cut out of $DISK, enrolled, written back)
# A VM boots with `boot --swtpm "$TPM_STATE"`: the same TPM (same seeds) as at enrollment.
TPM_STATE=$WORK/tpm-state
TPM_RUN=$WORK/tpm-run
TPM_PID=""

tpm_manufacture() {
	: > "$WORK/swtpm_setup.conf"
	mkdir -p "$TPM_STATE"
	swtpm_setup --tpm2 --tpmstate "$TPM_STATE" --config "$WORK/swtpm_setup.conf" \
		--pcr-banks sha1,sha256,sha384 > "$WORK/swtpm_setup.log" 2>&1 || die "swtpm_setup failed"
}

tpm_start() {
	rm -rf "$TPM_RUN"
	mkdir -p "$TPM_RUN"
	cp -a "$TPM_STATE" "$TPM_RUN/state"
	TPM_SOCK=$TPM_RUN/swtpm.sock
	TPM_SPEC="swtpm:path=$TPM_SOCK"
	swtpm socket --tpm2 --tpmstate dir="$TPM_RUN/state" --server type=unixio,path="$TPM_SOCK" \
		--ctrl type=unixio,path="$TPM_SOCK.ctrl" --flags startup-clear --daemon \
		--pid file="$TPM_RUN/pid" --log file="$TPM_RUN/swtpm.log" || die "swtpm did not start"
	for _ in $(seq 50); do
		[ -S "$TPM_SOCK" ] && [ -s "$TPM_RUN/pid" ] && break
		sleep 0.1
	done
	TPM_PID=$(cat "$TPM_RUN/pid")
	# keep lib.sh's exit handler (it turns failed assertions into exit 1)
	trap '_tpm_rc=$?; tpm_stop; (exit $_tpm_rc); _lib_exit' EXIT
}

tpm_stop() {
	[ -n "$TPM_PID" ] && kill "$TPM_PID" 2>/dev/null
	TPM_PID=""
}

# tpm_enroll_p3 CONF [cvminit tpm2 enroll args]: the key file $ROOT_KEY unlocks p3.
tpm_enroll_p3() {
	local conf=$1; shift
	local off size
	off=$(part_offset 3)
	size=$(part_size 3)
	slot_extract 3 "$WORK/p3.img"
	"$CVMINIT" tpm2 enroll --device "$WORK/p3.img" --config "$conf" --test-build --tpm2-device "$TPM_SPEC" \
		--unlock-key-file "$ROOT_KEY" "$@" > "$WORK/enroll.log" 2>&1 ||
		{ sed 's/^/#   /' "$WORK/enroll.log"; die "cvminit tpm2 enroll failed"; }
	dd if="$WORK/p3.img" of="$DISK" bs=1M oflag=seek_bytes seek="$off" count="$size" iflag=count_bytes \
		conv=notrunc status=none
}
