#!/usr/bin/env bash
# Runs the libFuzzer targets built by tests/quality.mk (see fuzz/README.md).
#
#   tests/quality/fuzz.sh [check]                    (what make check runs)
#   tests/quality/fuzz.sh run [--seconds N] [TARGET...]
#   tests/quality/fuzz.sh replay [TARGET...]
#   tests/quality/fuzz.sh merge [TARGET...]
# Options for every mode: --bindir DIR (default build/fuzz), --jobs N
# (default: number of CPUs). No TARGET: every fuzz/fuzz_*.c.
#
# check:  per target, replays every seed in fuzz/corpus/T (each input run
#         once, whole), then fuzzes for FUZZ_CHECK_SECONDS (default 10) from a
#         fresh copy, all targets together held to FUZZ_CHECK_BUDGET seconds
#         of wall time (default 60) on --jobs CPUs (FUZZ_CHECK_SECONDS=0:
#         replay only). One line per target:
#         "ok - fuzz/T" or "not ok - fuzz/T".
# run:    fuzzes each target for --seconds (default 60) into the persistent
#         work corpus build/fuzz/corpus/T (grows across runs).
# replay: only the replay part of check.
# merge:  adds the inputs of build/fuzz/corpus/T that reach new coverage to
#         fuzz/corpus/T (libFuzzer -merge=1), for review and commit.
# Crashes land in build/fuzz/artifacts/T/ (crash-*, leak-*, timeout-*,
# oom-*); logs in build/fuzz/logs/T.<mode>.log.
set -u
cd "$(dirname "$0")/../.."

mode=check
case "${1:-}" in check|run|replay|merge) mode=$1; shift ;; esac
bindir=build/fuzz
jobs=$(nproc 2>/dev/null || echo 1)
seconds=60
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--bindir) bindir=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
if [ ${#targets[@]} -eq 0 ]; then
	for f in fuzz/fuzz_*.c; do
		[ -e "$f" ] || continue
		t=${f#fuzz/fuzz_}
		targets+=("${t%.c}")
	done
fi
[ ${#targets[@]} -gt 0 ] || { echo "# fuzz: no targets"; exit 0; }
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

if [ "$mode" = check ]; then
	per=${FUZZ_CHECK_SECONDS:-10}
	budget=${FUZZ_CHECK_BUDGET:-60}
	rounds=$(( (${#targets[@]} + jobs - 1) / jobs ))
	# Replays and start-up take about 1 s per round.
	fit=$(( budget / rounds - 1 ))
	if [ "$per" -gt 0 ]; then
		[ "$fit" -lt "$per" ] && per=$fit
		[ "$per" -lt 1 ] && per=1
	fi
	seconds=$per
fi

logs=$bindir/logs
mkdir -p "$logs"

# The value of "// FUZZ_OPTS: ..." in the target's source.
opts_of() {
	sed -n 's|^// FUZZ_OPTS:[[:space:]]*||p' "fuzz/fuzz_$1.c"
}

# Replays every seed of fuzz/corpus/T, whole (not cut to -max_len).
replay() {
	local t=$1 bin=$2 log=$3
	local seeds=()
	local f
	for f in "fuzz/corpus/$t"/*; do
		[ -f "$f" ] && seeds+=("$f")
	done
	if [ ${#seeds[@]} -eq 0 ]; then
		echo "no seed corpus in fuzz/corpus/$t" >> "$log"
		return 2
	fi
	mkdir -p "$bindir/artifacts/$t"
	"$bin" -artifact_prefix="$bindir/artifacts/$t/" -timeout=10 "${seeds[@]}" >> "$log" 2>&1
}

# Fuzzes for $seconds; the work corpus gets what is new.
fuzz_for() {
	local t=$1 bin=$2 log=$3 work=$4
	local dict=() opts
	[ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
	opts=$(opts_of "$t")
	mkdir -p "$work" "$bindir/artifacts/$t"
	# shellcheck disable=SC2086
	"$bin" $opts "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$bindir/artifacts/$t/" \
		"$work" "fuzz/corpus/$t" >> "$log" 2>&1
}

# One target, one mode: writes "ok - ..." / "not ok - ..." plus notes to $out.
one() {
	local t=$1 out=$2
	local bin=$bindir/$t log=$logs/$t.$mode.log rc=0
	: > "$log"
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz/$t (not built: make fuzz-build)" > "$out"
		return
	fi
	local start=$SECONDS
	touch "$tmp/$t.start"
	case "$mode" in
	check|replay)
		replay "$t" "$bin" "$log"; rc=$?
		if [ "$rc" -eq 0 ] && [ "$mode" = check ] && [ "$seconds" -gt 0 ]; then
			rm -rf "$bindir/check/$t"
			fuzz_for "$t" "$bin" "$log" "$bindir/check/$t"; rc=$?
		fi ;;
	run)
		fuzz_for "$t" "$bin" "$log" "$bindir/corpus/$t"; rc=$? ;;
	merge)
		if [ -d "$bindir/corpus/$t" ]; then
			"$bin" -merge=1 $(opts_of "$t") "fuzz/corpus/$t" "$bindir/corpus/$t" >> "$log" 2>&1; rc=$?
		fi ;;
	esac
	local nseeds runs cov
	nseeds=$(find "fuzz/corpus/$t" -maxdepth 1 -type f 2>/dev/null | wc -l)
	runs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	local what="$nseeds seeds"
	[ -n "$runs" ] && what="$what, $runs runs in $((SECONDS - start)) s, $cov"
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz/$t ($what)" > "$out"
	else
		{
			echo "not ok - fuzz/$t ($what; exit $rc; log $log)"
			grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: |.*runtime error:)' "$log" | head -5 | sed 's/^/#   /'
			local a
			for a in "$bindir/artifacts/$t"/*; do
				[ -f "$a" ] && [ "$a" -nt "$tmp/$t.start" ] || continue
				echo "#   input: $a  (after the fix: cp it to fuzz/corpus/$t/regress-<what>)"
			done
		} > "$out"
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	one "$t" "$tmp/$t.out" &
	running=$((running + 1))
done
wait
failed=0
for t in "${targets[@]}"; do
	cat "$tmp/$t.out"
	grep -q '^not ok' "$tmp/$t.out" && failed=$((failed + 1))
done
[ "$mode" = check ] && echo "# fuzz: ${#targets[@]} targets, $seconds s each, $jobs at a time"
[ "$failed" -eq 0 ]
