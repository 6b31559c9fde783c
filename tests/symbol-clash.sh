#!/usr/bin/env bash
# The init links static archives: a global symbol of ours with the name of
# one of theirs silently replaces theirs (it happened: our write_all() broke
# tpm2-tss's device TCTI). Fails when any of our objects defines a global
# symbol that a dependency archive defines too.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DEPS_RELEASE:?run through make check}"
ours=$(mktemp)
theirs=$(mktemp)
trap 'rm -f "$ours" "$theirs"' EXIT
objs=$(find build/release build/test -name '*.o' 2>/dev/null)
[ -n "$objs" ] || { echo "not ok - build/symbol-clash (no objects: run make)"; exit 1; }
# shellcheck disable=SC2086
nm -g --defined-only $objs 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u > "$ours"
nm -g --defined-only "$DEPS_RELEASE"/lib/*.a 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u > "$theirs"
clash=$(comm -12 "$ours" "$theirs")
if [ -n "$clash" ]; then
	echo "# symbols defined by cvminit and by a dependency: $(echo "$clash" | tr '\n' ' ')"
	echo "not ok - build/symbol-clash"
	exit 1
fi
echo "ok - build/symbol-clash"
