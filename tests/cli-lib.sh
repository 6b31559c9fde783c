# Sourced by the host tool's CLI test scripts (crypto/host/test-measure-*.sh,
# tee/test-measurements-cli.sh, tests/owner-procedure.sh): one preamble for
# all of them.
#   cli_init SUITE "$@"   cd to the repository; bin = the cvminit binary
#                         (--bin FILE, $CVMINIT_BIN or build/cvminit), copied
#                         into work, a fresh directory removed on exit;
#                         failed=0. A missing binary: one "not ok", exit 1.
#   cli_need TEST-COMMAND... WHY   when the command fails, bin lacks what the
#                         suite tests: "not ok - SUITE/binary (... WHY)", exit 1
#   pass NAME, flunk NAME [WHY]   "ok - SUITE/NAME", "not ok - SUITE/NAME (WHY)"
cli_init() {
	cli_suite=$1
	shift
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	cd "$repo" || exit 1
	bin="${CVMINIT_BIN:-build/cvminit}"
	if [ "${1:-}" = --bin ] && [ $# = 2 ]; then
		bin=$2
	elif [ $# != 0 ]; then
		echo "usage: $0 [--bin CVMINIT]" >&2
		exit 2
	fi
	case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac
	if [ ! -x "$bin" ]; then
		echo "not ok - $cli_suite/binary ($bin is missing: run make first)"
		exit 1
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/cvminit-$cli_suite.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	cp "$bin" "$work/cvminit" && bin="$work/cvminit"
	failed=0
}

cli_need() {
	local why=${*: -1}
	if ! "${@:1:$#-1}" >/dev/null 2>&1; then
		echo "not ok - $cli_suite/binary ($bin $why: run make first)"
		exit 1
	fi
}

pass() { echo "ok - $cli_suite/$1"; }
flunk() {
	echo "not ok - $cli_suite/$1${2:+ ($2)}"
	failed=$((failed + 1))
}
