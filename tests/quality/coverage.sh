#!/usr/bin/env bash
# Line and branch coverage of the host-testable code (make coverage).
#
#   COV_BINS="build/coverage/test_config ..." tests/quality/coverage.sh DIR
#
# Runs each unit-test program (built with gcc --coverage into DIR by
# tests/quality.mk) from the repository root, then reads the counters with
# gcovr: one line per source file (lines and branches covered / total, %),
# the groups that matter most (parsers, policy checks, key-source logic), and
# the overall figures last. Reports: DIR/coverage.txt, DIR/coverage.json;
# DIR/html/index.html with COVERAGE_HTML=1.
# COVERAGE_MIN_LINES (default 0 = off): fail when the parser/policy/key-source
# group's line coverage is below it.
set -u
cd "$(dirname "$0")/../.."
dir=${1:-build/coverage}
command -v gcovr >/dev/null || { echo "coverage: gcovr missing: deps/install-tools.sh installs it" >&2; exit 2; }

# The files that decide what is accepted and trusted: parsers, policy checks,
# key-source logic. A glob that matches nothing is skipped.
KEY_FILES=(
	init/config.c init/plan.c init/mountopts.c init/partref.c init/harden.c init/partitions.c
	crypto/keysource.c crypto/secret.c crypto/tpm2_token.c crypto/snp_key.c crypto/eventlog.c crypto/wrap.c
	crypto/volume_key.c
	crypto/luks_header.c
	tee/snp_report.c tee/tdx_quote.c tee/policy.c
	initramfs/modclosure.c initramfs/cpio.c kconfig/parse.c kconfig/check.c
)

find "$dir" -name '*.gcda' -delete
failed=0
for bin in ${COV_BINS:-}; do
	out=$("$bin" 2>&1)
	rc=$?
	p=$(grep -c '^ok - ' <<<"$out")
	f=$(grep -c '^not ok - ' <<<"$out")
	if [ "$rc" -ne 0 ] || [ "$f" -gt 0 ]; then
		echo "coverage: $(basename "$bin"): $p passed, $f failed (exit $rc): figures include a failing run"
		failed=1
	fi
done

filter='^(init|crypto|tee|initramfs|kconfig|host)/'
gcovr -r . "$dir" --filter "$filter" --exclude-unreachable-branches \
	--json-summary "$dir/coverage.json" --txt "$dir/coverage.lines.txt" >/dev/null 2>"$dir/gcovr.log" || {
	echo "coverage: gcovr failed: $(tail -3 "$dir/gcovr.log")" >&2; exit 2; }
if [ "${COVERAGE_HTML:-0}" = 1 ]; then
	mkdir -p "$dir/html"
	gcovr -r . "$dir" --filter "$filter" --exclude-unreachable-branches --html-details "$dir/html/index.html" \
		>/dev/null 2>>"$dir/gcovr.log"
fi

python3 - "$dir/coverage.json" "${COVERAGE_MIN_LINES:-0}" "${KEY_FILES[@]}" <<'EOF' | tee "$dir/coverage.txt"
import json, sys
data = json.load(open(sys.argv[1]))
minimum = float(sys.argv[2])
key = set(sys.argv[3:])
def pct(c, t):
    return 100.0 * c / t if t else 100.0
def row(name, lc, lt, bc, bt):
    return f"{name:<28} {lc:>5}/{lt:<5} {pct(lc, lt):6.1f}%   {bc:>5}/{bt:<5} {pct(bc, bt):6.1f}%"
print(f"{'file':<28} {'lines':>11} {'':>7}   {'branches':>11}")
files = sorted(data["files"], key=lambda f: f["filename"])
k = [0, 0, 0, 0]
for f in files:
    v = (f["line_covered"], f["line_total"], f["branch_covered"], f["branch_total"])
    print(row(f["filename"] + (" *" if f["filename"] in key else ""), *v))
    if f["filename"] in key:
        k = [a + b for a, b in zip(k, v)]
print("(* = parser, policy or key-source logic; files no unit test links are not listed)")
unmeasured = sorted(key - {f["filename"] for f in files})
if unmeasured:
    print("not measured here (no unit test links them; the QEMU scenarios run them): " + " ".join(unmeasured))
print(row("parsers/policy/key-source", *k))
print(row("overall", data["line_covered"], data["line_total"], data["branch_covered"], data["branch_total"]))
print(f"coverage: lines {pct(data['line_covered'], data['line_total']):.1f}%, "
      f"branches {pct(data['branch_covered'], data['branch_total']):.1f}% "
      f"(parsers/policy/key-source: lines {pct(k[0], k[1]):.1f}%, branches {pct(k[2], k[3]):.1f}%)")
if minimum and pct(k[0], k[1]) < minimum:
    print(f"coverage: parsers/policy/key-source lines below {minimum:.0f}%")
    sys.exit(1)
EOF
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
