#!/bin/bash
# Runs `cvminit kconfig check` on the real configs of the Debian kernels pinned
# in kconfig/test-kernels.lock and compares the whole output and the exit
# status with kconfig/expected/<case>.txt. Prints one line per case:
#   ok - kconfig/<case>      or      not ok - kconfig/<case>
#
#   kconfig/test-real-configs.sh [--bin CVMINIT] [--update]
#
# --bin      the host tool to test (default: $CVMINIT_BIN, else build/cvminit if
#            it has the kconfig command, else a standalone build made with gcc
#            from host/main.c and kconfig/*.c in a temporary directory)
# --update   write the current outputs to kconfig/expected/ (review the diff!)
#
# Only /boot/config-<kver> is taken from each .deb, and kept under
# $CVMINIT_CACHE/kconfig/<sha256-of-the-deb>/ ($CVMINIT_CACHE defaults to
# ~/.cache/cvminit). A config that qemu-tests/kernel.sh already extracted from the
# same .deb (same SHA-256) is reused, and so is a .deb it already downloaded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
lock="${CVMINIT_KCONFIG_LOCK:-$here/test-kernels.lock}"   # override: tests of this script
expdir="$here/expected"
CACHE="${CVMINIT_CACHE:-$HOME/.cache/cvminit}"

bin="${CVMINIT_BIN:-}"
update=0
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) [ $# -ge 2 ] || { echo "usage: $0 [--bin CVMINIT] [--update]" >&2; exit 2; }
	       bin=$2; shift 2 ;;
	--update) update=1; shift ;;
	*) echo "usage: $0 [--bin CVMINIT] [--update]" >&2; exit 2 ;;
	esac
done

# case  kernel  expected-exit  extra arguments
CASES=(
	"bookworm-6.1          bookworm-6.1  1"
	"bookworm-6.1-snp      bookworm-6.1  0  --skip tdx"
	"trixie-6.12           trixie-6.12   0"
	"trixie-6.12-strict    trixie-6.12   1  --strict"
)

work=$(mktemp -d "${TMPDIR:-/tmp}/cvminit-kconfig.XXXXXX")
trap 'rm -rf "$work"' EXIT

note() { sed 's/^/# /' >&2; }

# ---- the binary -------------------------------------------------------------
build_standalone() {
	local out="$work/standalone"
	mkdir -p "$out"
	sh "$here/embed.sh" "$out/fragments.c" kconfig/required.config kconfig/hardening.config
	# Every other command of host/commands.def gets a weak stub.
	cat > "$out/stubs.c" <<-'EOF'
	#include <stdio.h>
	#include "host/commands.h"
	#define CMD(name, help) __attribute__((weak)) int cmd_##name(int argc, char **argv) \
		{ (void)argc; (void)argv; fputs("not in this standalone build\n", stderr); return EXIT_USAGE; }
	#include "host/commands.def"
	#undef CMD
	EOF
	${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -D_GNU_SOURCE -I. \
		-o "$out/cvminit" host/main.c kconfig/parse.c kconfig/check.c kconfig/cmd.c \
		"$out/fragments.c" "$out/stubs.c"
	echo "$out/cvminit"
}

cd "$repo"
if [ -z "$bin" ]; then
	if [ -x build/cvminit ] && build/cvminit kconfig --help >/dev/null 2>&1; then
		bin=build/cvminit
	else
		echo "# build/cvminit has no kconfig command yet: building a standalone test binary" >&2
		bin=$(build_standalone)
	fi
fi
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac
[ -x "$bin" ] || { echo "test-real-configs: $bin is not executable" >&2; exit 2; }

# ---- the configs ------------------------------------------------------------
# fetch NAME APT PACKAGE VERSION SHA256: prints the cached config's path, or
# explains on stderr and fails.
fetch() {
	local name=$1 apt=$2 pkg=$3 ver=$4 sha=$5
	local kver=${pkg#linux-image-}
	local dir="$CACHE/kconfig/$sha" cfg="config-$kver"
	if [ -s "$dir/$cfg" ]; then echo "$dir/$cfg"; return 0; fi
	mkdir -p "$CACHE/kconfig"
	# Leftovers of runs that were killed mid-download.
	find "$CACHE/kconfig" -maxdepth 1 -name '.tmp.*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
	local tmp
	tmp=$(mktemp -d "$CACHE/kconfig/.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT   # fetch runs in a subshell: this is its own trap
	# 1. qemu-tests/kernel.sh extracted the same .deb already.
	local kdir="$CACHE/kernel/$kver"
	if [ -s "$kdir/config" ] && [ "$(cat "$kdir/.cvminit-extracted" 2>/dev/null)" = "$sha" ]; then
		cp "$kdir/config" "$tmp/$cfg"
	else
		# 2. a .deb downloaded before (by kernel.sh), else 3. download it now.
		local deb
		deb=$(find "$CACHE/kernel/debs/$sha" -maxdepth 1 -name "${pkg}_*.deb" -print -quit 2>/dev/null || true)
		if [ -z "$deb" ] || ! echo "$sha  $deb" | sha256sum -c --status; then
			echo "# $name: downloading $pkg=$ver (~100 MB; only its config is kept)" >&2
			local get=(apt-get) show=(apt-cache)
			if [ "$apt" = papt ]; then get=("$repo/deps/papt.sh" apt-get); show=("$repo/deps/papt.sh" apt-cache); fi
			if ! (cd "$tmp" && "${get[@]}" -q download "$pkg=$ver") >"$tmp/apt.log" 2>&1; then
				note < "$tmp/apt.log"
				# (apt-cache show exits 0 for an unknown version of a known package)
				if ! "${show[@]}" show "$pkg=$ver" 2>/dev/null | grep -q '^Package: '; then
					local now
					now=$("${show[@]}" show linux-image-amd64 2>/dev/null | sed -n 's/^Depends: \(linux-image-[^ ,]*\) (= \([^)]*\)).*/\1=\2/p' | head -n1)
					echo "test-real-configs: $pkg=$ver ($name) is no longer offered by the ${apt} apt sources." >&2
					echo "  linux-image-amd64 there now depends on: ${now:-unknown}." >&2
					echo "  Update the '$name' line of kconfig/test-kernels.lock (version and the .deb's SHA-256 from" >&2
					echo "  'apt-cache show PACKAGE=VERSION'), run kconfig/test-real-configs.sh --update, review kconfig/expected/." >&2
					[ "$apt" = system ] && echo "  (If the machine's apt lists are stale, 'apt-get update' first.)" >&2
				else
					echo "test-real-configs: download of $pkg=$ver failed (network?); see above" >&2
				fi
				rm -rf "$tmp"; return 1
			fi
			deb=$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)
			local got
			got=$(sha256sum "$deb" | awk '{print $1}')
			if [ "$got" != "$sha" ]; then
				echo "test-real-configs: $pkg=$ver has SHA-256 $got, but kconfig/test-kernels.lock pins $sha." >&2
				echo "  Debian rebuilt or the mirror serves other bytes: check, then update the lock deliberately." >&2
				rm -rf "$tmp"; return 1
			fi
		fi
		if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./boot/$cfg"; then
			echo "test-real-configs: $deb has no ./boot/$cfg" >&2
			rm -rf "$tmp"; return 1
		fi
		mv "$tmp/boot/$cfg" "$tmp/$cfg"
	fi
	mkdir -p "$dir"
	mv "$tmp/$cfg" "$dir/$cfg.part.$$" && mv "$dir/$cfg.part.$$" "$dir/$cfg"
	rm -rf "$tmp"
	echo "$dir/$cfg"
}

declare -A CONFIG
while read -r name apt pkg ver sha rest; do
	case "$name" in ''|'#'*) continue ;; esac
	[ -n "$sha" ] && [ -z "$rest" ] || { echo "test-real-configs: $lock: bad line for '$name'" >&2; exit 2; }
	CONFIG[$name]=$(fetch "$name" "$apt" "$pkg" "$ver" "$sha") || CONFIG[$name]=""
done < "$lock"

# ---- the cases --------------------------------------------------------------
failed=0
for c in "${CASES[@]}"; do
	read -r cname kernel want_rc args <<<"$c"
	# shellcheck disable=SC2206
	extra=(${args:-})
	id="kconfig/$cname"
	cfg="${CONFIG[$kernel]:-}"
	if [ -z "$cfg" ]; then
		echo "not ok - $id (the $kernel config is unavailable; see above)"
		failed=$((failed + 1)); continue
	fi
	out="$work/$cname"
	mkdir -p "$out"
	rc=0
	# Run from the config's directory so the report names just config-<kver>.
	(cd "$(dirname "$cfg")" && "$bin" kconfig check "$(basename "$cfg")" "${extra[@]}" \
		--modules-out "$out/modules") >"$out/stdout" 2>"$out/stderr" || rc=$?
	if [ "$update" = 1 ]; then
		mkdir -p "$expdir"
		cp "$out/stdout" "$expdir/$cname.txt"
		echo "# updated kconfig/expected/$cname.txt (exit $rc; the script expects $want_rc)" >&2
	fi
	why=""
	[ "$rc" = "$want_rc" ] || why="exit $rc, expected $want_rc"
	[ -s "$out/stderr" ] && why="${why:+$why; }unexpected stderr"
	if [ ! -f "$expdir/$cname.txt" ]; then
		why="${why:+$why; }no kconfig/expected/$cname.txt"
	elif ! diff -u "$expdir/$cname.txt" "$out/stdout" >"$out/diff"; then
		why="${why:+$why; }output differs from kconfig/expected/$cname.txt"
	fi
	# --modules-out must hold exactly the table's "modules to load" list.
	table_mods=$(sed -n 's/^modules to load ([0-9]*)://p' "$out/stdout" | tr -s ' ' '\n' | sed '/^$/d')
	[ "$table_mods" = "$(cat "$out/modules" 2>/dev/null)" ] || why="${why:+$why; }--modules-out differs from the table"
	if [ -z "$why" ]; then
		echo "ok - $id"
	else
		echo "not ok - $id ($why)"
		[ -s "$out/stderr" ] && note < "$out/stderr"
		[ -s "$out/diff" ] && head -n 60 "$out/diff" | note
		failed=$((failed + 1))
	fi
done

# The JSON report says the same as the table (python3 only parses it).
id="kconfig/trixie-6.12-json"
cfg="${CONFIG[trixie-6.12]:-}"
if [ -z "$cfg" ]; then
	echo "not ok - $id (the trixie-6.12 config is unavailable)"; failed=$((failed + 1))
elif ! command -v python3 >/dev/null; then
	echo "ok - $id # SKIP python3 not installed"
else
	rc=0
	"$bin" kconfig check "$cfg" --json >"$work/json" 2>"$work/json.err" || rc=$?
	if python3 - "$work/json" "$expdir/trixie-6.12.txt" "$rc" <<-'EOF' 2>"$work/json.why"; then
	import json, re, sys
	doc = json.load(open(sys.argv[1]))
	table = open(sys.argv[2]).read()
	rc = int(sys.argv[3])
	assert doc["exit"] == rc == 0 and doc["result"] == "pass", (doc["exit"], rc)
	mods = re.search(r"^modules to load \(\d+\):(.*)$", table, re.M).group(1).split()
	assert doc["modules"] == mods, (doc["modules"], mods)
	for sec in doc["sections"]:
	    for o in sec["options"]:
	        row = re.search(r"^%s +\S+ +\S+ +(\S+)" % re.escape(o["option"]), table, re.M)
	        assert row and row.group(1) == o["verdict"], (o["option"], o["verdict"])
	EOF
		echo "ok - $id"
	else
		echo "not ok - $id (JSON report disagrees with the table)"; note < "$work/json.why"
		failed=$((failed + 1))
	fi
fi

[ "$failed" = 0 ]
