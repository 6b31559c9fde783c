#!/bin/sh
# Private apt: runs apt-get/apt-cache against Debian trixie, forky and sid
# (binary and source indices) with state kept under $CVMINIT_CACHE/apt.
# The machine's own apt sources and state are never read or changed.
#
#   deps/papt.sh apt-get source --download-only cryptsetup=2:2.8.8-1
#   deps/papt.sh apt-cache showsrc cryptsetup
#   deps/papt.sh suites            -> prints the fixed search order
#
# Index lists are refreshed when missing or older than a day
# (CVMINIT_APT_MAX_AGE seconds), or always with CVMINIT_APT_REFRESH=1.
set -eu

SUITES="trixie forky sid"
MIRROR="${CVMINIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
CACHE="${CVMINIT_CACHE:-$HOME/.cache/cvminit}"
ROOT="$CACHE/apt"
MAX_AGE="${CVMINIT_APT_MAX_AGE:-86400}"

if [ "${1:-}" = suites ]; then echo "$SUITES"; exit 0; fi
[ $# -ge 1 ] || { echo "usage: $0 apt-get|apt-cache ARGS..." >&2; exit 2; }
tool=$1; shift
case "$tool" in apt-get|apt-cache) ;; *) echo "papt: unsupported tool '$tool'" >&2; exit 2;; esac

[ -r "$KEYRING" ] || { echo "papt: $KEYRING missing: install debian-archive-keyring" >&2; exit 1; }

mkdir -p "$ROOT/sources.d" "$ROOT/prefs.d" "$ROOT/lists/partial" "$ROOT/cache/archives/partial"
# One deb822 file per suite, named so apt reads them in the search order.
i=0
for s in $SUITES; do
	i=$((i + 1))
	f="$ROOT/sources.d/$i-$s.sources"
	want="Types: deb deb-src
URIs: $MIRROR
Suites: $s
Components: main
Signed-By: $KEYRING"
	[ -f "$f" ] && [ "$(cat "$f")" = "$want" ] || printf '%s\n' "$want" > "$f"
done

opts() {
	"$@" -o Dir::Etc::SourceList=/dev/null \
	-o Dir::Etc::SourceParts="$ROOT/sources.d" \
	-o Dir::Etc::Preferences=/dev/null \
	-o Dir::Etc::PreferencesParts="$ROOT/prefs.d" \
	-o Dir::State::Lists="$ROOT/lists" \
	-o Dir::Cache="$ROOT/cache" \
	-o Dir::State::status=/dev/null \
	-o APT::Get::List-Cleanup=0 \
	-o Debug::NoLocking=1 \
	-o APT::Sandbox::User=root
}

stamp="$ROOT/lists/.cvminit-updated"
now=$(date +%s)
age=$MAX_AGE
[ -f "$stamp" ] && age=$((now - $(stat -c %Y "$stamp")))
if [ "${CVMINIT_APT_REFRESH:-0}" = 1 ] || [ ! -f "$stamp" ] || [ "$age" -ge "$MAX_AGE" ]; then
	echo "papt: refreshing Debian indices for: $SUITES" >&2
	# apt-get update exits 0 when index downloads fail ("W: Failed to
	# fetch"), which would later read as "no such version": fail here.
	if ! opts apt-get -q update >"$ROOT/update.log" 2>&1 ||
		grep -qE '^(E|W): (Failed to fetch|Some index files failed)' "$ROOT/update.log"; then
		cat "$ROOT/update.log" >&2
		echo "papt: apt-get update failed (network or keyring); see above" >&2
		exit 1
	fi
	touch "$stamp"
fi
opts "$tool" "$@"
