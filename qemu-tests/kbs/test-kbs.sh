#!/usr/bin/env bash
# make check suite kbs/...: the test KBS (kbs_server.py) against the independent
# reference client (kbs_ref_client.py), on 127.0.0.1 only. Debian's python3 with
# python3-cryptography and python3-jwcrypto (deps/host-packages.txt).
#   qemu-tests/kbs/test-kbs.sh [CASE...]    e.g. test-kbs.sh snp-release hang
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${KBS_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import cryptography, jwcrypto' 2>/dev/null; then
	echo "not ok - kbs/python-modules"
	echo "# $PY lacks cryptography or jwcrypto: run deps/install-tools.sh"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p build/kbs-test
KBS_TEST_DIR=build/kbs-test exec "$PY" qemu-tests/kbs/test_kbs.py "$@"
