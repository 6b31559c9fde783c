#!/usr/bin/env bash
# Runs every test suite and prints one summary line "N passed, N failed".
# Suites print TAP-style lines ("ok - name" / "not ok - name"); a suite that
# exits non-zero without saying which case failed counts as one failure.
# Inputs (from make): UNIT_BINS (host unit-test programs), CHECK_SUITES
# (further commands, e.g. the QEMU scenarios).
set -u
cd "$(dirname "$0")/.."
mkdir -p build
log=build/check.log
: > "$log"
passed=0
failed=0
failures=()

run_suite() {
	local name=$1; shift
	local out rc t0=$SECONDS
	out=$(mktemp)
	"$@" > >(tee "$out" | sed -E 's|^([0-9]+ passed, [0-9]+ failed.*)$|# '"$name"': \1|') 2>&1
	rc=$?
	wait
	cat "$out" >> "$log"
	local p f
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	while IFS= read -r line; do failures+=("$line"); done < <(grep '^not ok - ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name (exited $rc)"
		failures+=("not ok - $name (exited $rc)")
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
	# where the time goes (make check should stay under about 20 minutes)
	echo "# $name: $((SECONDS - t0)) s" | tee -a "$log"
}

for bin in ${UNIT_BINS:-}; do
	run_suite "$(basename "$bin")" "$bin"
done
for suite in ${CHECK_SUITES:-}; do
	run_suite "$suite" "$suite"
done

if [ "$failed" -gt 0 ]; then
	echo
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
