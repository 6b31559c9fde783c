#!/bin/sh
# Fetches the pinned upstream source tarballs of deps/lock through the private
# apt configuration (deps/papt.sh) and checks each against its SHA-256 in the
# lock. Tarballs are kept in $CVMINIT_CACHE/src and reused while their hash
# matches (no network then).
#
#   deps/fetch.sh                    fetch + verify every component
#   deps/fetch.sh NAME...            only these
#   deps/fetch.sh --unpack NAME DIR  fetch + verify, then unpack the upstream
#                                    tarball's top directory's contents into DIR
#
# Only the upstream (orig) tarball is used: the Debian patches are not applied.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
LOCK="$here/lock"
CACHE="${CVMINIT_CACHE:-$HOME/.cache/cvminit}"
SRC="$CACHE/src"

die() { echo "deps: $*" >&2; exit 1; }

# lock_line NAME -> sets name srcpkg debver upver file sha
lock_line() {
	line=$(sed -e 's/#.*//' "$LOCK" | awk -v n="$1" '$1 == n' )
	[ -n "$line" ] || die "$1: no such component in deps/lock"
	# shellcheck disable=SC2086
	set -- $line
	[ $# -eq 6 ] || die "$1: deps/lock line has $# fields, want 6 (name srcpkg debver upver tarball sha256)"
	name=$1 srcpkg=$2 debver=$3 upver=$4 file=$5 sha=$6
	case "$sha" in *[!0-9a-f]*) die "$name: SHA-256 in deps/lock is not lower-case hex";; esac
	[ ${#sha} -eq 64 ] || die "$name: SHA-256 in deps/lock is not 64 hex digits"
}

all_names() { sed -e 's/#.*//' "$LOCK" | awk 'NF { print $1 }'; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# cached_ok NAME: the tarball is in the cache and matches the lock.
cached_ok() {
	lock_line "$1"
	[ -f "$SRC/$file" ] && [ "$(sha_of "$SRC/$file")" = "$sha" ]
}

# Source packages of the components asked for whose tarball is not cached
# (one apt-cache madison call covers them all).
srcpkgs_to_fetch() {
	for n in $WANT; do
		cached_ok "$n" || printf '%s ' "$srcpkg"
	done
}
MADISON="" MADISON_DONE=""

fetch_one() {
	lock_line "$1"
	mkdir -p "$SRC"
	if [ -f "$SRC/$file" ]; then
		got=$(sha_of "$SRC/$file")
		[ "$got" = "$sha" ] && return 0
		echo "deps: $name: cached $file does not match deps/lock; fetching it again" >&2
		rm -f "$SRC/$file"
	fi
	# Is the pinned Debian version still offered by one of the suites?
	if [ -z "$MADISON_DONE" ]; then
		if ! MADISON=$("$here/papt.sh" apt-cache madison $(srcpkgs_to_fetch) 2>"$SRC/.madison.err"); then
			cat "$SRC/.madison.err" >&2
			die "$name: could not query Debian's archive through deps/papt.sh (network? see above)"
		fi
		MADISON_DONE=1
	fi
	offered=$(printf '%s\n' "$MADISON" |
		awk -F'|' -v p="$srcpkg" '
			{ for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i) }
			$1 == p && $3 ~ / Sources$/ { split($3, u, " "); split(u[2], s, "/"); print s[1] " " $2 }')
	if ! printf '%s\n' "$offered" | awk -v v="$debver" '$2 == v { f = 1 } END { exit !f }'; then
		list=$(printf '%s\n' "$offered" | awk 'NF { printf "%s%s %s", sep, $1, $2; sep = ", " }')
		[ -n "$list" ] || list="nothing"
		die "$name $debver is no longer offered by $("$here/papt.sh" suites | tr ' ' /) (offered: $list): pick a new version, update deps/lock (tarball SHA-256 too)"
	fi
	dl=$(mktemp -d "$SRC/.dl.XXXXXX")
	log="$dl/apt.log"
	if ! (cd "$dl" && "$here/papt.sh" apt-get -q source --download-only "$srcpkg=$debver") >"$log" 2>&1; then
		# apt checks each file against the signed index as it arrives; a
		# mirror may lack the Debian packaging tarball, which is not used.
		if [ -f "$dl/$file" ]; then
			echo "deps: $name: note: the mirror lacks part of source package $srcpkg $debver; the upstream tarball (the only part used) arrived: $(grep -m1 '^E:' "$log" | sed 's/^E: //')" >&2
		else
			cat "$log" >&2
			rm -rf "$dl"
			die "$name: apt-get source $srcpkg=$debver failed (see above)"
		fi
	fi
	if [ ! -f "$dl/$file" ]; then
		have=$(cd "$dl" && ls -- *.orig.tar.* 2>/dev/null | tr '\n' ' ')
		rm -rf "$dl"
		die "$name: $srcpkg $debver did not bring $file (got: ${have:-no orig tarball}): fix the tarball name in deps/lock"
	fi
	got=$(sha_of "$dl/$file")
	if [ "$got" != "$sha" ]; then
		mkdir -p "$SRC/rejected"
		mv -f "$dl/$file" "$SRC/rejected/$file"
		rm -rf "$dl"
		die "$name: SHA-256 of $file is $got, lock says $sha: the archive changed; check it (kept as $SRC/rejected/$file) and update deps/lock"
	fi
	# Keep the .dsc and Debian packaging next to it for reference.
	for f in "$dl"/*; do
		case "$f" in *.log) ;; *) mv -f "$f" "$SRC/";; esac
	done
	rm -rf "$dl"
	echo "deps: $name: fetched $file (SHA-256 ok)"
}

if [ "${1:-}" = --unpack ]; then
	[ $# -eq 3 ] || { echo "usage: $0 --unpack NAME DIR" >&2; exit 2; }
	WANT=$2
	fetch_one "$2"
	dest=$3
	mkdir -p "$dest"
	# Upstream tarballs hold one top directory whose name varies (+ds repacks).
	strip=1
	tar -tf "$SRC/$file" | head -n 1 | grep -q '^\./' && strip=2
	top=$(tar -tf "$SRC/$file" | sed -e 's#^\./##' -e 's#/.*##' -e '/^$/d' | sort -u)
	[ "$(printf '%s\n' "$top" | wc -l)" -eq 1 ] || die "$name: $file has more than one top directory"
	tar -xf "$SRC/$file" -C "$dest" --strip-components=$strip --no-same-owner
	exit 0
fi

[ $# -gt 0 ] || set -- $(all_names)
WANT="$*"
for n in "$@"; do fetch_one "$n"; done
