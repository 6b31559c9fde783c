#!/usr/bin/env bash
# Checks the hardening of the init binaries with readelf/objdump/strings and
# prints "ok - hardening/<binary>/<check>" or "not ok - ...".
#
#   tests/quality/check-hardening.sh [--bindir DIR]     (default build)
#
# For build/init (release) and build/init-test (test build):
#   static        ELF without PT_INTERP and without DT_NEEDED
#   stack-protector  __stack_chk_fail in the unstripped twin (NAME.unstripped),
#                 and canary reads (%fs:0x28) in the code
#   stack-clash   the probes of -fstack-clash-protection (or $0x0,(%rsp))
#   relro         a PT_GNU_RELRO segment
#   bind-now      DT_FLAGS BIND_NOW or DT_FLAGS_1 NOW when there is a dynamic
#                 section (static-pie); a static non-PIE binary has no dynamic
#                 relocations to bind lazily
#   nx-stack      PT_GNU_STACK present and not executable
#   static-pie    ET_DYN + no PT_INTERP + DT_FLAGS_1 PIE. Until the Makefile
#                 links static-pie this is "ok ... # SKIP"; set
#                 HARDEN_REQUIRE_STATIC_PIE=yes (tests/quality.mk) to require it
#   no-text-relocations  no DT_TEXTREL
# Release only: none of FORBIDDEN_RELEASE below in `strings` of build/init,
# no symbol matching FORBIDDEN_RELEASE_SYMBOLS in build/init.unstripped (no
# mock TEE, no key-file key source).
# Test build only: "TEST BUILD" present (the console marks test builds).
set -u
cd "$(dirname "$0")/../.."

# ---- the one list of what a release binary must not contain ------------------
# Fixed strings, case-sensitive, matched against `strings -a` of build/init.
# Each is specific to cvminit's test-only code (the libraries linked in have
# their own "keyfile"/"key file" messages, e.g. libcryptsetup's loop-AES and
# mbedtls_pk_parse_keyfile, so bare words would not do).
FORBIDDEN_RELEASE=(
	"TEST BUILD"            # console banner and messages of test builds
	"NOT FOR PRODUCTION"    # --version of test builds
	"MOCK TEE"              # the mock TEE provider's messages
	"mock TEE"
	"cvminit-mock"          # the mock's report/measurement labels
	"/etc/cvminit/mock/"    # the mock's signing key in the initramfs
	"/etc/cvminit/keys/"    # default key-file paths
	"ROOT_KEYFILE"          # test-build-only configuration keys
	"JOBS_KEYFILE"
	"MOCK_TEE_TCB"          # the mock's committed TCB (issue 12)
	"mock SEV-SNP launch measurement"  # the mock's measurement label
	"MOCK_LUKS_POLICY"      # the switch that skips the LUKS2 header policy
	"MOCK_TEE_KIND"         # the mock as a TDX guest (issue 13)
	"MOCK_TEE_TDX_CERTS"
	"mock TDX RTMR1"        # the mock's RTMR1 label
	"|keyfile"              # "keyfile" as a key-source choice
	"|mock"                 # "mock" as a TEE choice
	"key file %s"           # the key-file source's messages
)
# Symbols (extended regex) of test-only code, matched against the symbol table
# of build/init.unstripped.
FORBIDDEN_RELEASE_SYMBOLS='^(mock_|tee_mock|.*_mock_|unlock_by_keyfile|keyfile_|read_keyfile)'
REQUIRED_TEST=("TEST BUILD")

bindir=build
[ "${1:-}" = --bindir ] && bindir=$2
require_pie=${HARDEN_REQUIRE_STATIC_PIE:-no}
failed=0

ok() { echo "ok - hardening/$1${2:+ ($2)}"; }
bad() { echo "not ok - hardening/$1${2:+ ($2)}"; failed=$((failed + 1)); }

check_bin() {
	local name=$1 bin=$bindir/$1 unstripped=$bindir/$1.unstripped
	if [ ! -f "$bin" ]; then
		bad "$name/exists" "$bin missing: make all"
		return
	fi
	local hdr ph dyn
	hdr=$(readelf -hW "$bin" 2>&1)
	ph=$(readelf -lW "$bin" 2>&1)
	dyn=$(readelf -dW "$bin" 2>&1)
	local type
	type=$(sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p' <<<"$hdr")

	if grep -q 'INTERP' <<<"$ph"; then
		bad "$name/static" "has a program interpreter: $(grep -o 'interpreter: [^]]*' <<<"$ph")"
	elif grep -q '(NEEDED)' <<<"$dyn"; then
		bad "$name/static" "needs shared libraries: $(grep '(NEEDED)' <<<"$dyn" | tr -s ' ' | head -3)"
	else
		ok "$name/static" "ELF $type, no interpreter, no shared libraries"
	fi

	if [ ! -f "$unstripped" ]; then
		bad "$name/stack-protector" "$unstripped missing (the symbol check needs it)"
	elif ! nm "$unstripped" 2>/dev/null | grep -qw '__stack_chk_fail'; then
		bad "$name/stack-protector" "no __stack_chk_fail in $unstripped"
	else
		local canary
		canary=$(objdump -d --no-show-raw-insn "$bin" | grep -c '%fs:0x28')
		if [ "$canary" -gt 0 ]; then
			ok "$name/stack-protector" "__stack_chk_fail linked, $canary canary reads"
		else
			bad "$name/stack-protector" "__stack_chk_fail linked but no canary reads in the code"
		fi
	fi

	local probes
	probes=$(objdump -d --no-show-raw-insn "$bin" | grep -cE 'orq? +\$0x0,(0x[0-9a-f]+)?\(%rsp\)')
	if [ "$probes" -gt 0 ]; then
		ok "$name/stack-clash" "$probes stack probes"
	else
		bad "$name/stack-clash" "no stack probes: built without -fstack-clash-protection?"
	fi

	if grep -q 'GNU_RELRO' <<<"$ph"; then
		ok "$name/relro" "PT_GNU_RELRO"
	else
		bad "$name/relro" "no PT_GNU_RELRO: link with -Wl,-z,relro"
	fi

	if grep -q 'There is no dynamic section' <<<"$dyn"; then
		ok "$name/bind-now" "no dynamic section: static non-PIE, nothing bound lazily"
	elif grep -qE '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' <<<"$dyn"; then
		ok "$name/bind-now" "BIND_NOW"
	else
		bad "$name/bind-now" "dynamic section without BIND_NOW: link with -Wl,-z,now"
	fi

	if grep -q '(TEXTREL)' <<<"$dyn"; then
		bad "$name/no-text-relocations" "DT_TEXTREL: link with -Wl,-z,text"
	else
		ok "$name/no-text-relocations"
	fi

	local stack
	stack=$(grep -A1 'GNU_STACK' <<<"$ph" | tr '\n' ' ')
	if [ -z "$stack" ]; then
		bad "$name/nx-stack" "no PT_GNU_STACK: the kernel would make the stack executable"
	elif grep -qE 'GNU_STACK.* RWE ' <<<"$stack"; then
		bad "$name/nx-stack" "PT_GNU_STACK is RWE"
	else
		ok "$name/nx-stack" "PT_GNU_STACK RW"
	fi

	if [ "$type" = DYN ] && ! grep -q 'INTERP' <<<"$ph" && grep -qE '\(FLAGS_1\).*PIE' <<<"$dyn"; then
		ok "$name/static-pie" "ET_DYN, no interpreter"
	elif [ "$require_pie" = yes ]; then
		bad "$name/static-pie" "ELF $type: not static-pie"
	else
		echo "ok - hardening/$name/static-pie # SKIP ELF $type: not static-pie (HARDEN_REQUIRE_STATIC_PIE=yes requires it)"
	fi
}

check_release_content() {
	local bin=$bindir/init unstripped=$bindir/init.unstripped
	[ -f "$bin" ] || return
	local text found=() s
	text=$(strings -a "$bin")
	for s in "${FORBIDDEN_RELEASE[@]}"; do
		if grep -qF -- "$s" <<<"$text"; then
			found+=("'$s' ($(grep -F -- "$s" <<<"$text" | head -1 | cut -c1-80))")
		fi
	done
	if [ ${#found[@]} -eq 0 ]; then
		ok "init/no-test-strings" "none of ${#FORBIDDEN_RELEASE[@]} forbidden strings"
	else
		bad "init/no-test-strings" "release binary contains: ${found[*]}"
	fi
	if [ ! -f "$unstripped" ]; then
		bad "init/no-test-symbols" "$unstripped missing"
		return
	fi
	local syms
	syms=$(nm "$unstripped" 2>/dev/null | awk '{print $NF}' | grep -E -- "$FORBIDDEN_RELEASE_SYMBOLS" | head -5 | tr '\n' ' ')
	if [ -z "$syms" ]; then
		ok "init/no-test-symbols" "no symbol matches $FORBIDDEN_RELEASE_SYMBOLS"
	else
		bad "init/no-test-symbols" "release binary has: $syms"
	fi
}

check_test_content() {
	local bin=$bindir/init-test
	[ -f "$bin" ] || return
	local s missing=()
	for s in "${REQUIRED_TEST[@]}"; do
		strings -a "$bin" | grep -qF -- "$s" || missing+=("$s")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		ok "init-test/marked" "contains '${REQUIRED_TEST[*]}'"
	else
		bad "init-test/marked" "test build lacks: ${missing[*]}"
	fi
}

for b in init init-test; do
	check_bin "$b"
done
check_release_content
check_test_content
[ "$failed" -eq 0 ]
