#!/bin/sh
# Installs the Debian packages listed in deps/host-packages.txt that are not
# installed yet. Quiet when nothing is missing; says what it does otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
want=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/host-packages.txt" | awk '{print $1}')
# One dpkg-query for all (this runs on every make): "name status" lines.
# shellcheck disable=SC2086
have=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $want 2>/dev/null || true)
missing=""
for p in $want; do
	printf '%s\n' "$have" | grep -qx "$p installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "cvminit: installing missing build/test packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "cvminit: not root: run 'sudo apt-get install$missing' and retry" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -q update >/dev/null || { echo "cvminit: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get -q install -y --no-install-recommends $missing >/dev/null || {
	echo "cvminit: apt-get install failed for:$missing" >&2; exit 1; }
echo "cvminit: packages installed"
