#!/usr/bin/env bash
# make check's view of `make coverage`: the parsers, policy checks and
# key-source logic keep at least COVERAGE_MIN_LINES % of their lines covered
# by the unit tests (the coverage build, without sanitizers), or one failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${COV_BINS:?run through make check}"
min=${COVERAGE_MIN_LINES:-90}
out=$(COVERAGE_MIN_LINES=$min tests/quality/coverage.sh build/coverage 2>&1)
rc=$?
summary=$(printf '%s\n' "$out" | grep '^coverage: lines' | tail -n 1)
echo "# ${summary:-no coverage summary}"
if [ "$rc" -eq 0 ]; then
	echo "ok - coverage/parsers-policy-key-source (at least ${min}% of lines)"
else
	printf '%s\n' "$out" | grep -E '^coverage: |\(exit ' | sed 's/^/# /'
	echo "not ok - coverage/parsers-policy-key-source (at least ${min}% of lines)"
	exit 1
fi
