#!/usr/bin/env bash
# Static analysis: cppcheck and clang-tidy (checks in .clang-tidy) over the C
# sources of the given directories. Prints one line per finding,
#   FILE:LINE: TOOL-CHECK: MESSAGE
# sorted and without duplicates, then a count per check, and exits 1 when
# there is any finding (2 when a tool is missing or fails).
#
#   LINT_CFLAGS="-std=gnu11 -D_GNU_SOURCE -I. ..." tests/quality/lint.sh DIR...
#
# Each file is analysed in every build it is part of: init/, crypto/ and
# tee/ (not tee/host/) as the release init and as the test build
# (-DCVMINIT_TEST_BUILD); initramfs/, kconfig/, host/ and */host/ as the host
# tool (-DCVMINIT_HOST_TOOL). The host's glibc headers stand in for musl's.
#
# Accepted findings (false positives, after review) go in
# tests/quality/lint-suppressions.txt, one "FILE-GLOB CHECK  # reason" per
# line; CHECK is as printed (e.g. clang-tidy-bugprone-branch-clone,
# cppcheck-uninitvar). Prefer fixing the code.
# LINT_JOBS (default: number of CPUs) clang-tidy processes run at once.
set -u
cd "$(dirname "$0")/../.."

[ $# -gt 0 ] || { echo "usage: LINT_CFLAGS=... $0 DIR..." >&2; exit 2; }
for tool in clang-tidy cppcheck; do
	command -v "$tool" >/dev/null || {
		echo "lint: $tool missing: deps/install-tools.sh installs it" >&2; exit 2; }
done
cflags=${LINT_CFLAGS:--std=gnu11 -D_GNU_SOURCE -I.}
jobs=${LINT_JOBS:-$(nproc 2>/dev/null || echo 1)}
supp=tests/quality/lint-suppressions.txt
out=build/lint
mkdir -p "$out"
rm -f "$out"/*.txt "$out"/*.log

# Which builds a file belongs to: "release test" or "host".
variants_of() {
	case "$1" in
	*/host/*|initramfs/*|kconfig/*|host/*|image/*) echo host ;;
	*) echo "release test" ;;
	esac
}
flags_of() {
	case "$1" in
	release) echo "" ;;
	test) echo "-DCVMINIT_TEST_BUILD" ;;
	host) echo "-DCVMINIT_HOST_TOOL" ;;
	esac
}

files=()
for d in "$@"; do
	while IFS= read -r f; do files+=("$f"); done < <(find "$d" -name '*.c' -type f | sort)
done
[ ${#files[@]} -gt 0 ] || { echo "lint: no C files in $*" >&2; exit 2; }

# ---- clang-tidy: one process per file and build, LINT_JOBS at a time --------
jobsfile=$out/tidy-jobs.txt
: > "$jobsfile"
for f in "${files[@]}"; do
	for v in $(variants_of "$f"); do
		printf '%s\t%s\n' "$f" "$(flags_of "$v")" >> "$jobsfile"
	done
done
export cflags out
tidy_one() {
	local f=$1 extra=$2 log
	log=$out/tidy-$(echo "$f$extra" | tr '/ =' '___').log
	# shellcheck disable=SC2086
	clang-tidy -quiet "$f" -- $cflags $extra > "$log" 2>&1
}
export -f tidy_one
tr '\t' '\n' < "$jobsfile" | xargs -d '\n' -n 2 -P "$jobs" bash -c 'tidy_one "$1" "$2"' _
# clang-tidy exits non-zero for compile errors (clang-diagnostic-error): those
# are findings too (printed below); any other failure stops the lint.
for log in "$out"/tidy-*.log; do
	sed -nE 's#^(\./)?([^ :]+):([0-9]+):[0-9]+: (warning|error): (.*) \[([^]]+)\]$#\2:\3: clang-tidy-\6: \5#p' "$log"
done | sed -e "s#^$PWD/##" -e "s#^\./##" > "$out/tidy.txt"
if grep -q 'Error while processing\|error: unable to\|command not found' "$out"/tidy-*.log &&
	! grep -q 'clang-diagnostic-error' "$out/tidy.txt"; then
	echo "lint: clang-tidy failed:" >&2
	grep -h 'Error while processing\|error: unable to' "$out"/tidy-*.log | head -5 >&2
	exit 2
fi

# ---- cppcheck: every file, once per build kind ------------------------------
# Style checks that are about taste, not bugs, are suppressed here:
#   variableScope, constVariable, constParameter, constParameterPointer
# (C89-style declarations and missing const are not defects).
cpp_common=(--quiet --std=c11 --enable=warning,portability,performance,style --inline-suppr
	--suppress=missingIncludeSystem --suppress=variableScope --suppress=constVariable
	--suppress=constParameter --suppress=constParameterPointer
	--template='{file}:{line}: cppcheck-{id}: {message}' -j "$jobs")
# Only the project's own include paths: cppcheck has no model of the
# dependencies' headers (mbedtls' config check #errors without CHAR_BIT).
cpp_defs=()
for w in $cflags; do
	case "$w" in -D*|-I.|-I./*|-I[a-z]*) cpp_defs+=("$w") ;; esac
done
: > "$out/cppcheck.txt"
for v in release test host; do
	sel=()
	for f in "${files[@]}"; do
		case " $(variants_of "$f") " in *" $v "*) sel+=("$f") ;; esac
	done
	[ ${#sel[@]} -gt 0 ] || continue
	# shellcheck disable=SC2046
	cppcheck "${cpp_common[@]}" "${cpp_defs[@]}" $(flags_of "$v") "${sel[@]}" \
		2>> "$out/cppcheck.txt" > "$out/cppcheck-$v.log" || {
		echo "lint: cppcheck failed ($v): $(tail -3 "$out/cppcheck-$v.log")" >&2; exit 2; }
done

# ---- merge, suppress, report -------------------------------------------------
sort -u -t: -k1,1 -k2,2n "$out/tidy.txt" "$out/cppcheck.txt" | sort -u > "$out/all.txt"
cp "$out/all.txt" "$out/findings.txt"
if [ -f "$supp" ]; then
	while read -r glob check _; do
		case "$glob" in ''|'#'*) continue ;; esac
		awk -v g="$glob" -v c="$check" '
			function globre(s) { gsub(/[.+^$(){}|\\]/, "\\\\&", s); gsub(/\*/, ".*", s); gsub(/\?/, ".", s); return "^" s "$" }
			{ split($0, p, ":"); chk = $3; sub(/^ /, "", chk)
			  if (p[1] ~ globre(g) && chk == c) next; print }' FS=':' "$out/findings.txt" > "$out/findings.tmp"
		mv "$out/findings.tmp" "$out/findings.txt"
	done < "$supp"
fi
sort -t: -k1,1 -k2,2n -o "$out/findings.txt" "$out/findings.txt"
n=$(grep -c . "$out/findings.txt")
cat "$out/findings.txt"
if [ "$n" -gt 0 ]; then
	echo
	echo "lint: findings per check:"
	awk -F': ' '{print $2}' "$out/findings.txt" | sort | uniq -c | sort -rn | sed 's/^/  /'
fi
echo "lint: ${#files[@]} files, $n findings ($(($(grep -c . "$out/all.txt") - n)) suppressed); list in $out/findings.txt"
[ "$n" -eq 0 ]
