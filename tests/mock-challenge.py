#!/usr/bin/env python3
"""A cvminit-challenge line as the test init's mock SEV-SNP TEE offers it at
p5's prompt, made on the host (test material only): a fresh P-384 public key,
the evidence document given, and an SNP report v2 as tee/mock.c builds it
(policy 0x30000, VMPL 0, the mock's TCB) with REPORT_DATA binding both and the
MEASUREMENT given, signed with the mock VCEK key of qemu-tests/mock-tee-chain.sh.
Lets host tests run `cvminit key wrap` without booting a VM.
With --report FILE instead: only the report the attest stage keeps as
report.bin (REPORT_DATA = SHA-512 of the evidence), written to FILE.
Usage: mock-challenge.py MEASUREMENT-HEX VCEK-KEY EVIDENCE-FILE [--report FILE]"""
import base64
import hashlib
import json
import subprocess
import sys
import tempfile

TCB = 0x7308000000000003  # MOCK_TEE_TCB's default


def der_ints(der):
    """r and s of a DER ECDSA-Sig-Value."""
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = []
    for _ in range(2):
        n = der[i + 1]
        out.append(int.from_bytes(der[i + 2:i + 2 + n], 'big'))
        i += 2 + n
    return out


def new_pubkey():
    with tempfile.NamedTemporaryFile() as k:
        subprocess.run(['openssl', 'ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', k.name], check=True)
        der = subprocess.run(['openssl', 'ec', '-in', k.name, '-pubout', '-outform', 'DER'], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return der[-97:]


def main():
    meas, key, evfile = sys.argv[1:4]
    plain = sys.argv[4:5] == ['--report']
    evidence = open(evfile, 'rb').read()
    pub = new_pubkey()
    rd = hashlib.sha512(b'cvminit-challenge/1\0' + hashlib.sha512(evidence).digest() + pub).digest()
    if plain:
        rd = hashlib.sha512(evidence).digest()
    rep = bytearray(0x4A0)
    rep[0:4] = (2).to_bytes(4, 'little')
    rep[8:16] = (0x30000).to_bytes(8, 'little')
    rep[0x34:0x38] = (1).to_bytes(4, 'little')
    rep[0x50:0x90] = rd
    rep[0x90:0xC0] = bytes.fromhex(meas)
    for off in (0x38, 0x180, 0x1E0, 0x1F0):
        rep[off:off + 8] = TCB.to_bytes(8, 'little')
    rep[0x1A0:0x1E0] = b'\x5a' * 64
    with tempfile.NamedTemporaryFile() as f:
        f.write(rep[:0x2A0])
        f.flush()
        der = subprocess.run(['openssl', 'dgst', '-sha384', '-sign', key, f.name], check=True,
                             stdout=subprocess.PIPE).stdout
    r, s = der_ints(der)
    rep[0x2A0:0x2A0 + 72] = r.to_bytes(72, 'little')
    rep[0x2E8:0x2E8 + 72] = s.to_bytes(72, 'little')
    if plain:
        open(sys.argv[5], 'wb').write(bytes(rep))
        return
    doc = {'format': 'cvminit-challenge/1', 'tee': 'snp', 'report': base64.b64encode(bytes(rep)).decode(),
           'pubkey': base64.b64encode(pub).decode(), 'evidence': evidence.decode(), 'certs': ''}
    print('cvminit-challenge: ' + base64.b64encode(json.dumps(doc, separators=(',', ':')).encode()).decode())


if __name__ == '__main__':
    main()
