#!/usr/bin/env bash
# Generates, at test time, what the mock TEE needs to act as a TDX guest
# (MOCK_TEE_KIND=tdx, test builds only): a root -> CA -> PCK chain (EC P-256,
# ECDSA SHA-256, as Intel's SGX root and PCK certificates), an attestation key
# (P-256), and the quote's signature data after the signature:
#   attestation public key X||Y (64) | u16 6 | u32 size | QE report (384,
#   REPORT_DATA = SHA-256(attestation key || QE auth data) || 32 zeros) |
#   QE report signature r||s by the PCK key (64) | u16 auth size | QE auth data
#   | u16 5 | u32 size | PEM chain PCK, CA, root
# The guest signs the quote's header and TD report body with ak.key and
# appends tdx-sigtail.bin (MOCK_TEE_TDX_CERTS): no PCK key in the guest.
#   mock-tdx-chain.sh OUTDIR -> root.pem chain.pem ak.key tdx-sigtail.bin
# These keys are throwaway test material: never use them for anything else.
set -euo pipefail
out=${1:?usage: mock-tdx-chain.sh OUTDIR}
mkdir -p "$out"
cd "$out"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > ca.ext
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout root.key -subj "/O=cvminit test/CN=Test SGX Root CA (mock TDX)" -days 3650 \
	-sha256 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-out root.pem 2>/dev/null
openssl req -new "${ec[@]}" -keyout ca.key -subj "/O=cvminit test/CN=Test SGX PCK Platform CA" -out ca.csr 2>/dev/null
openssl x509 -req -in ca.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -sha256 -extfile ca.ext \
	-out ca.pem 2>/dev/null
openssl req -new "${ec[@]}" -keyout pck.key -subj "/O=cvminit test/CN=Test SGX PCK Certificate" -out pck.csr 2>/dev/null
openssl x509 -req -in pck.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 -out pck.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out ak.key 2>/dev/null
cat pck.pem ca.pem root.pem > chain.pem
python3 - <<'PY'
import hashlib, subprocess

def der_ints(der):
    """r and s of a DER ECDSA-Sig-Value, 32 bytes each, big-endian."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b''
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        out += int.from_bytes(der[i + 2:i + 2 + n], 'big').to_bytes(32, 'big')
        i += 2 + n
    return out

ak = subprocess.run(['openssl', 'ec', '-in', 'ak.key', '-pubout', '-outform', 'DER'], check=True,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout[-64:]
auth = bytes(range(32))  # QE authentication data: any bytes, bound by the QE report
qe = bytearray(384)
qe[320:352] = hashlib.sha256(ak + auth).digest()
open('qe-report.bin', 'wb').write(qe)
sig = der_ints(subprocess.run(['openssl', 'dgst', '-sha256', '-sign', 'pck.key', 'qe-report.bin'], check=True,
                              stdout=subprocess.PIPE).stdout)
pem = open('chain.pem', 'rb').read()
cert = bytes(qe) + sig + len(auth).to_bytes(2, 'little') + auth + (5).to_bytes(2, 'little') \
    + len(pem).to_bytes(4, 'little') + pem
open('tdx-sigtail.bin', 'wb').write(ak + (6).to_bytes(2, 'little') + len(cert).to_bytes(4, 'little') + cert)
PY
rm -f ca.csr pck.csr ca.ext qe-report.bin ./*.srl
