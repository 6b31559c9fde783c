#!/bin/bash
# Tests of `cvminit measure snp` (the SEV-SNP launch digest):
#  - every SNP and SVSM vector of sev-snp-measure's own tests
#    (tests/data/vectors/sev-snp-measure/EXPECTED.txt, one ok line each);
#  - the vCPU signature options against each other, base64 output;
#  - errors: exact message, exit status, nothing on stdout;
#  - Debian's ovmf-amdsev firmware (qemu-tests/ovmf-amdsev.lock) with the test
#    kernel and a test initramfs: stable, and changed by each input;
#  - the time for a 4 MiB firmware + 10 MB kernel + 50 MB initrd.
# Prints one line per case:  ok - measure-snp/<case>   or   not ok - measure-snp/<case> (why)
#
#   crypto/host/test-measure-snp.sh [--bin CVMINIT]
set -u

source "$(dirname "$0")/../../tests/cli-lib.sh"
cli_init measure-snp "$@"
cli_need "$bin" measure snp --help "has no 'measure snp' command"

V=tests/data/vectors/sev-snp-measure

# run ARGS...: `cvminit measure snp ARGS`; OUT, ERR (text), RC.
RC=0 OUT="" ERR=""
run() {
	RC=0
	"$bin" measure snp "$@" >"$work/out" 2>"$work/err" || RC=$?
	OUT=$(cat "$work/out")
	ERR=$(cat "$work/err")
}

# digest NAME WANT ARGS...: prints exactly WANT, nothing on stderr, exit 0.
digest() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$RC" != 0 ] || [ -n "$ERR" ]; then
		flunk "$name" "exit $RC: $ERR"
	elif [ "$OUT" != "$want" ]; then
		flunk "$name" "got $OUT, want $want"
	else
		pass "$name"
	fi
}

# fails NAME STATUS MESSAGE ARGS...: exit STATUS, stderr exactly MESSAGE (one
# line), stdout empty.
fails() {
	local name=$1 want=$2 msg=$3
	shift 3
	run "$@"
	if [ "$RC" != "$want" ]; then
		flunk "$name" "exit $RC, want $want: $ERR"
	elif [ -n "$OUT" ]; then
		flunk "$name" "printed '$OUT' on stdout"
	elif [ "$ERR" != "$msg" ]; then
		flunk "$name" "stderr '$ERR', want '$msg'"
	else
		pass "$name"
	fi
}

# ---- the reference's vectors ------------------------------------------------
# The SVSM fixtures are stored compressed: decompress, then check their bytes.
fx=$work/fixtures
mkdir -p "$fx"
cp "$V"/*.bin "$fx/"
while IFS='|' read -r f size sum; do
	f=${f#\#@ }
	if ! xz -dc "$V/$f.xz" >"$fx/$f" 2>/dev/null; then
		flunk "fixture/$f" "cannot decompress $V/$f.xz"
	elif [ "$(stat -c %s "$fx/$f")" != "$size" ] || [ "$(sha256sum <"$fx/$f" | cut -d' ' -f1)" != "$sum" ]; then
		flunk "fixture/$f" "size or SHA-256 differs from EXPECTED.txt"
	else
		pass "fixture/$f"
	fi
done < <(grep '^#@ ' "$V/EXPECTED.txt")

nvec=0
ovmf_hash=""
while IFS= read -r line; do
	case "$line" in '#'* | '') continue ;; esac
	IFS='|' read -r -a f <<<"$line"
	name=${f[0]} want=${f[1]}
	args=()
	for a in "${f[@]:2}"; do
		a=${a//@/$fx}
		# '%': the digest the last --ovmf-hash-only vector printed (the
		# reference's "full" tests feed calc_snp_ovmf_hash's result back).
		[ "$a" = % ] && a=$ovmf_hash
		args+=("$a")
	done
	# a trailing empty field (--append '') is dropped by read -a: restore it
	case "$line" in *'|') args+=("") ;; esac
	digest "vector/$name" "$want" "${args[@]}"
	case " ${args[*]} " in *" --ovmf-hash-only "*) ovmf_hash=$OUT ;; esac
	nvec=$((nvec + 1))
done <"$V/EXPECTED.txt"
[ "$nvec" -ge 19 ] && pass "vector/count" || flunk "vector/count" "only $nvec vectors read"

# ---- options against each other ----------------------------------------------
A=$fx/ovmf_AmdSev_suffix.bin
base=(--ovmf "$A" --vcpus 2 --kernel /dev/null --append "console=ttyS0")
run "${base[@]}" --vcpu-type EPYC-v4; epyc=$OUT
digest vcpu/sig-equals-type "$epyc" "${base[@]}" --vcpu-sig 0x800f12
digest vcpu/sig-decimal "$epyc" "${base[@]}" --vcpu-sig 8392466
digest vcpu/family-model-stepping "$epyc" "${base[@]}" --vcpu-family 23 --vcpu-model 1 --vcpu-stepping 2
# test_vcpu_types.py: cpu_sig(14, 1, 2) == 0x0e12 (a family below 0xf)
run "${base[@]}" --vcpu-sig 0x0e12; low=$OUT
digest vcpu/low-family "$low" "${base[@]}" --vcpu-family 14 --vcpu-model 1 --vcpu-stepping 2
# Each type gives its family's digest; the families differ.
declare -A fam_digest=()
types_ok=1
for t in EPYC EPYC-v1 EPYC-v2 EPYC-IBPB EPYC-v3 EPYC-v4 EPYC-Rome EPYC-Rome-v1 EPYC-Rome-v2 EPYC-Rome-v3 \
	EPYC-Milan EPYC-Milan-v1 EPYC-Milan-v2 EPYC-Genoa EPYC-Genoa-v1 EPYC-Turin; do
	run "${base[@]}" --vcpu-type "$t"
	fam=${t%%-v[0-9]*}; [ "$fam" = EPYC-IBPB ] && fam=EPYC
	if [ "$RC" != 0 ]; then types_ok=0; flunk "vcpu/types" "$t: exit $RC $ERR"; break; fi
	if [ -n "${fam_digest[$fam]:-}" ] && [ "${fam_digest[$fam]}" != "$OUT" ]; then
		types_ok=0; flunk "vcpu/types" "$t differs from $fam"; break
	fi
	fam_digest[$fam]=$OUT
done
if [ "$types_ok" = 1 ]; then
	if [ "$(printf '%s\n' "${fam_digest[@]}" | sort -u | wc -l)" = 5 ]; then pass "vcpu/types"
	else flunk "vcpu/types" "the five families do not give five digests"; fi
fi
digest vcpu/milan-by-fms "${fam_digest[EPYC-Milan]}" "${base[@]}" --vcpu-family 25 --vcpu-model 1 --vcpu-stepping 1
digest vcpu/genoa-by-fms "${fam_digest[EPYC-Genoa]}" "${base[@]}" --vcpu-family 25 --vcpu-model 17 --vcpu-stepping 0
digest vcpu/turin-by-fms "${fam_digest[EPYC-Turin]}" "${base[@]}" --vcpu-family 26 --vcpu-model 0 --vcpu-stepping 0
digest vmm/QEMU-is-default "$epyc" "${base[@]}" --vcpu-type EPYC-v4 --vmm-type QEMU
run "${base[@]}" --vcpu-type EPYC-v4 --output-format base64
b64=$(printf '%s' "$epyc" | xxd -r -p | base64 -w0)
[ "$RC" = 0 ] && [ "$OUT" = "$b64" ] && pass output/base64 || flunk output/base64 "got $OUT, want $b64"
run "${base[@]}" --vcpu-type EPYC-v4 --guest-features 0x1
[ "$OUT" = "$epyc" ] && pass features/default-0x1 || flunk features/default-0x1 "--guest-features 0x1 differs from the default"

# ---- errors --------------------------------------------------------------------
P="cvminit measure snp:"
X=$fx/ovmf_OvmfX64_suffix.bin
head -c 4096 /dev/zero >"$work/zero.fd"
head -c 4000 "$A" >"$work/short.fd"
# The AmdSev suffix with its SEV metadata GUID changed: a footer table without
# SEV metadata (an OVMF without SEV-SNP support). Control: unchanged, it works.
python3 - "$A" "$work/nometa.fd" <<'PY'
import sys, uuid
d = bytearray(open(sys.argv[1], 'rb').read())
g = uuid.UUID('dc886566-984a-4798-a75e-5585a7bf67cc').bytes_le
i = d.find(g)
assert i > 0 and d.find(g, i + 1) < 0
d[i] ^= 0xff
open(sys.argv[2], 'wb').write(d)
PY
digest error/control-unpatched "$epyc" --ovmf "$A" --vcpus 2 --vcpu-type EPYC-v4 --kernel /dev/null --append "console=ttyS0"
fails error/no-sev-metadata 3 "$P $work/nometa.fd: no SEV metadata in the OVMF footer table (not an SEV-SNP capable build)" \
	--ovmf "$work/nometa.fd" --vcpus 1 --vcpu-type EPYC-v4
fails error/not-ovmf 3 "$P $work/zero.fd: no OVMF footer table (not an OVMF build, or truncated)" \
	--ovmf "$work/zero.fd" --vcpus 1 --vcpu-type EPYC-v4
fails error/truncated 3 "$P $work/short.fd: firmware size is not a non-zero multiple of 4 KiB (truncated?)" \
	--ovmf "$work/short.fd" --vcpus 1 --vcpu-type EPYC-v4
: >"$work/empty.fd"
fails error/empty 3 "$P $work/empty.fd: firmware size is not a non-zero multiple of 4 KiB (truncated?)" \
	--ovmf "$work/empty.fd" --vcpus 1 --vcpu-type EPYC-v4
fails error/kernel-without-hashes-page 3 "$P $X: --kernel given but the SEV metadata has no kernel-hashes section (not an AmdSev build)" \
	--ovmf "$X" --vcpus 1 --vcpu-type EPYC-v4 --kernel /dev/null
fails error/unknown-vcpu-type 2 "$P unknown vCPU type (see --help for the list): 'EPYC-Foo'" \
	--ovmf "$A" --vcpus 1 --vcpu-type EPYC-Foo
fails error/unknown-vmm 2 "$P unknown VMM type (QEMU, ec2, gce): 'kvm'" \
	--ovmf "$A" --vcpus 1 --vcpu-type EPYC-v4 --vmm-type kvm
fails error/no-vcpu-type 2 "$P one of --vcpu-type, --vcpu-sig or --vcpu-family/--vcpu-model/--vcpu-stepping is needed for QEMU" \
	--ovmf "$A" --vcpus 1
fails error/no-vcpus 2 "$P --vcpus N is required" --ovmf "$A" --vcpu-type EPYC-v4
fails error/zero-vcpus 2 "$P --vcpus must be a number from 1 to 8192: '0'" --ovmf "$A" --vcpus 0 --vcpu-type EPYC-v4
fails error/initrd-without-kernel 2 "$P --initrd and --append need --kernel" \
	--ovmf "$A" --vcpus 1 --vcpu-type EPYC-v4 --initrd /dev/null
fails error/bad-ovmf-hash 2 "$P --snp-ovmf-hash is not 96 hex digits: 'abcd'" \
	--ovmf "$A" --vcpus 1 --vcpu-type EPYC-v4 --snp-ovmf-hash abcd
fails error/bad-features 2 "$P --guest-features is not a number: '0xZZ'" \
	--ovmf "$A" --vcpus 1 --vcpu-type EPYC-v4 --guest-features 0xZZ
fails error/missing-ovmf 1 "$P $work/none.fd: No such file or directory" \
	--ovmf "$work/none.fd" --vcpus 1 --vcpu-type EPYC-v4
fails error/missing-kernel 1 "$P $work/vmlinuz: No such file or directory" \
	--ovmf "$A" --vcpus 1 --vcpu-type EPYC-v4 --kernel "$work/vmlinuz"
fails error/missing-initrd 1 "$P $work/initrd: No such file or directory" \
	--ovmf "$A" --vcpus 1 --vcpu-type EPYC-v4 --kernel /dev/null --initrd "$work/initrd"
fails error/svsm-needs-vars 2 "$P --svsm needs one of --vars-size N or --vars-file FILE" \
	--ovmf "$fx/svsm_ovmf.fd" --svsm "$fx/svsm.bin" --vcpus 1 --vcpu-type EPYC-v4
fails error/svsm-image-without-info 3 "$P $A: no SVSM info entry in the SVSM image's footer table" \
	--ovmf "$fx/svsm_ovmf.fd" --svsm "$A" --vars-size 540672 --vcpus 1 --vcpu-type EPYC-v4
head -c 540672 /dev/zero >"$work/vars.fd"
run --ovmf "$fx/svsm_ovmf.fd" --svsm "$fx/svsm.bin" --vars-file "$work/vars.fd" --vcpus 2 --vcpu-type EPYC-v4
want=$(awk -F'|' '$1 == "test_snp_svsm_2_vcpus" { print $2 }' "$V/EXPECTED.txt")
[ "$RC" = 0 ] && [ "$OUT" = "$want" ] && pass svsm/vars-file || flunk svsm/vars-file "exit $RC: $OUT $ERR"

# ---- Debian's ovmf-amdsev with the test kernel and a test initramfs ----------
if ! fw=$(qemu-tests/firmware.sh qemu-tests/ovmf-amdsev.lock 2>"$work/fw.log"); then
	flunk debian/fetch "$(tail -n 3 "$work/fw.log" | tr '\n' ' ')"
elif ! kdir=$(qemu-tests/kernel.sh fetch 2>"$work/k.log"); then
	flunk debian/kernel "$(tail -n 3 "$work/k.log" | tr '\n' ' ')"
else
	pass debian/fetch
	cp "$fw" "$work/ovmf.fd"
	fw=$work/ovmf.fd
	kernel=$kdir/vmlinuz
	init=build/init-test; [ -x "$init" ] || init=$bin
	"$bin" initramfs build --init "$init" --output "$work/initrd.img" --source-date-epoch 0 >/dev/null 2>"$work/ird.log" ||
		flunk debian/initramfs "$(cat "$work/ird.log")"
	cp "$kernel" "$work/vmlinuz2" && printf 'x' >>"$work/vmlinuz2"
	cp "$work/initrd.img" "$work/initrd2.img" && printf 'x' >>"$work/initrd2.img"
	dbase=(--ovmf "$fw" --vcpus 2 --vcpu-type EPYC-Milan --kernel "$kernel" --initrd "$work/initrd.img"
		--append "console=ttyS0 cvminit.debug=0")
	run "${dbase[@]}"; d0=$OUT
	if [ "$RC" = 0 ] && [[ "$d0" =~ ^[0-9a-f]{96}$ ]]; then pass debian/digest; else flunk debian/digest "exit $RC: $ERR"; fi
	echo "# ovmf-amdsev $(sed -n 's/^VERSION=//p' qemu-tests/ovmf-amdsev.lock), $(basename "$kdir"), 2 x EPYC-Milan: $d0"
	run "${dbase[@]}"
	[ "$OUT" = "$d0" ] && pass debian/stable || flunk debian/stable "second run gave $OUT"
	# differs NAME ARGS...: the digest with ARGS (replacing dbase) is a
	# different valid digest.
	differs() {
		local name=$1
		shift
		run "$@"
		if [ "$RC" != 0 ] || ! [[ "$OUT" =~ ^[0-9a-f]{96}$ ]]; then flunk "debian/changes-with-$name" "exit $RC: $ERR"
		elif [ "$OUT" = "$d0" ]; then flunk "debian/changes-with-$name" "same digest"
		else pass "debian/changes-with-$name"; fi
	}
	differs kernel --ovmf "$fw" --vcpus 2 --vcpu-type EPYC-Milan --kernel "$work/vmlinuz2" --initrd "$work/initrd.img" --append "console=ttyS0 cvminit.debug=0"
	differs initrd --ovmf "$fw" --vcpus 2 --vcpu-type EPYC-Milan --kernel "$kernel" --initrd "$work/initrd2.img" --append "console=ttyS0 cvminit.debug=0"
	differs no-initrd --ovmf "$fw" --vcpus 2 --vcpu-type EPYC-Milan --kernel "$kernel" --append "console=ttyS0 cvminit.debug=0"
	differs append --ovmf "$fw" --vcpus 2 --vcpu-type EPYC-Milan --kernel "$kernel" --initrd "$work/initrd.img" --append "console=ttyS0 cvminit.debug=1"
	differs vcpus --ovmf "$fw" --vcpus 3 --vcpu-type EPYC-Milan --kernel "$kernel" --initrd "$work/initrd.img" --append "console=ttyS0 cvminit.debug=0"
	differs vcpu-type --ovmf "$fw" --vcpus 2 --vcpu-type EPYC-Genoa --kernel "$kernel" --initrd "$work/initrd.img" --append "console=ttyS0 cvminit.debug=0"
	differs vmm-type "${dbase[@]}" --vmm-type gce
	differs guest-features "${dbase[@]}" --guest-features 0x21
	# The firmware's pages: one byte of the image changed.
	cp "$fw" "$work/ovmf2.fd"
	printf '\x5a' | dd of="$work/ovmf2.fd" bs=1 seek=1048576 conv=notrunc status=none
	differs firmware --ovmf "$work/ovmf2.fd" --vcpus 2 --vcpu-type EPYC-Milan --kernel "$kernel" --initrd "$work/initrd.img" --append "console=ttyS0 cvminit.debug=0"
	# The precomputed firmware part gives the same digest.
	run --ovmf "$fw" --ovmf-hash-only; oh=$OUT
	digest debian/snp-ovmf-hash "$d0" "${dbase[@]}" --snp-ovmf-hash "$oh"
	# Half of the image (a multiple of 4 KiB, footer gone): refused.
	head -c 2097152 "$fw" >"$work/half.fd"
	fails debian/truncated 3 "$P $work/half.fd: no OVMF footer table (not an OVMF build, or truncated)" \
		--ovmf "$work/half.fd" --vcpus 2 --vcpu-type EPYC-Milan

	# ---- performance: 4 MiB firmware + 10 MB kernel + 50 MB initrd ----------
	head -c 10000000 /dev/urandom >"$work/big-kernel"
	head -c 50000000 /dev/urandom >"$work/big-initrd"
	t0=$EPOCHREALTIME
	run --ovmf "$fw" --vcpus 8 --vcpu-type EPYC-Genoa --kernel "$work/big-kernel" --initrd "$work/big-initrd" --append "console=ttyS0"
	t1=$EPOCHREALTIME
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	echo "# time: 4 MiB firmware + 10 MB kernel + 50 MB initrd, 8 vCPUs: $secs s"
	# The goal is well under a second; the bound leaves room for a busy machine.
	if [ "$RC" = 0 ] && awk -v s="$secs" 'BEGIN { exit !(s < 3) }'; then pass performance
	else flunk performance "exit $RC, $secs s"; fi
fi

echo "# $failed failed"
[ "$failed" = 0 ]
