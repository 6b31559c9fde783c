#!/usr/bin/env bash
# make check's view of `make lint`: zero findings (beyond the reviewed
# suppressions in tests/quality/lint-suppressions.txt) or one failure line.
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${LINT_CFLAGS:?run through make check}"
if out=$(tests/quality/lint.sh init crypto tee initramfs kconfig host 2>&1); then
	echo "# $(printf '%s\n' "$out" | tail -n 1)"
	echo "ok - lint/cppcheck-clang-tidy"
else
	printf '%s\n' "$out" | grep -E '^[^ ]+:[0-9]+: ' | sed 's/^/# /' | head -n 40
	echo "# $(printf '%s\n' "$out" | tail -n 1)"
	echo "not ok - lint/cppcheck-clang-tidy"
	exit 1
fi
