#!/bin/bash
# A pinned Debian firmware file (OVMF builds for the launch-measurement tests).
#
#   qemu-tests/firmware.sh LOCK     download (once), verify, extract (once); prints the file's path
#
# LOCK (e.g. qemu-tests/ovmf-amdsev.lock) names PACKAGE, VERSION, SHA256 (the
# .deb's) and FILE (its path inside the package). The .deb is fetched with
# deps/papt.sh apt-get download into $CVMINIT_CACHE/firmware/<SHA256>/ and FILE
# extracted beside it; an extraction goes to a temp dir first, so a partial
# one is never used.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
CACHE="${CVMINIT_CACHE:-$HOME/.cache/cvminit}"

die() { echo "firmware.sh: $*" >&2; exit 1; }
[ $# = 1 ] || die "usage: $0 LOCK"
lock=$1
[ -f "$lock" ] || die "$lock: no such lock file"

PACKAGE="" VERSION="" SHA256="" FILE=""
while IFS='=' read -r k v; do
	case "$k" in
	PACKAGE) PACKAGE=$v ;; VERSION) VERSION=$v ;; SHA256) SHA256=$v ;; FILE) FILE=$v ;;
	''|'#'*) ;;
	*) die "$lock: unknown key '$k'" ;;
	esac
done < "$lock"
[ -n "$PACKAGE" ] && [ -n "$VERSION" ] && [ -n "$SHA256" ] && [ -n "$FILE" ] ||
	die "$lock: PACKAGE, VERSION, SHA256 and FILE are all required"

dir="$CACHE/firmware/$SHA256"
out="$dir/$(basename "$FILE")"
[ -f "$out" ] && { echo "$out"; exit 0; }

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.dl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "firmware.sh: downloading $PACKAGE=$VERSION (once)" >&2
if ! (cd "$tmp" && "$repo/deps/papt.sh" apt-get -q download "$PACKAGE=$VERSION") >"$tmp/apt.log" 2>&1; then
	cat "$tmp/apt.log" >&2
	die "download of $PACKAGE=$VERSION failed (network, or the version is no longer offered:
  deps/papt.sh apt-cache policy $PACKAGE; then update $lock)"
fi
deb=$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)
[ -n "$deb" ] || die "apt-get download produced no .deb"
got=$(sha256sum "$deb" | awk '{print $1}')
[ "$got" = "$SHA256" ] || die "SHA-256 mismatch for $(basename "$deb"):
  expected $SHA256 ($lock)
  got      $got"
dpkg-deb -x "$deb" "$tmp/x"
[ -f "$tmp/x/$FILE" ] || die "$(basename "$deb") has no $FILE"
mv "$tmp/x/$FILE" "$out.tmp" && mv "$out.tmp" "$out"
echo "$out"
