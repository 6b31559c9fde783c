#!/usr/bin/env python3
"""Edits a cvminit-challenge line for the wrap tool's refusal tests (test
material only): `debug` sets POLICY.DEBUG in the SNP report and re-signs it
with the test VCEK key (so only the policy is wrong) or, for a TDX challenge,
sets TD_ATTRIBUTES.DEBUG in the quote's TD report body and re-signs header and
body with the mock's test attestation key (P-256, SHA-256; the certification
data still verifies, it binds the key, not the body); `swap-pubkey` puts
another P-384 public key into the challenge (the report no longer binds it);
`tdreport` replaces a TDX quote by a TDREPORT with the quote's TD fields, what
a TDX guest without configfs-tsm offers (its MAC cannot be checked off the
machine).
Usage: challenge-edit.py CHALLENGE-FILE VCEK-KEY|ATTESTATION-KEY debug|swap-pubkey|tdreport"""
import base64
import json
import subprocess
import sys
import tempfile

PREFIX = 'cvminit-challenge: '


TDX_SIGNED = 48 + 584  # quote v4: header and TD 1.0 report body
TDX_TD_ATTRIBUTES = 48 + 120


def der_ints(der):
    """r and s of a DER ECDSA-Sig-Value."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = []
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        out.append(int.from_bytes(der[i + 2:i + 2 + n], 'big'))
        i += 2 + n
    return out


def resign(report, key):
    with tempfile.NamedTemporaryFile() as f:
        f.write(report[:0x2A0])
        f.flush()
        der = subprocess.run(['openssl', 'dgst', '-sha384', '-sign', key, f.name],
                             check=True, stdout=subprocess.PIPE).stdout
    r, s = der_ints(der)
    rep = bytearray(report)
    rep[0x2A0:0x2A0 + 72] = r.to_bytes(72, 'little')
    rep[0x2E8:0x2E8 + 72] = s.to_bytes(72, 'little')
    return bytes(rep)


def resign_tdx(quote, key):
    with tempfile.NamedTemporaryFile() as f:
        f.write(quote[:TDX_SIGNED])
        f.flush()
        der = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', key, f.name],
                             check=True, stdout=subprocess.PIPE).stdout
    r, s = der_ints(der)
    q = bytearray(quote)
    q[TDX_SIGNED + 4:TDX_SIGNED + 36] = r.to_bytes(32, 'big')
    q[TDX_SIGNED + 36:TDX_SIGNED + 68] = s.to_bytes(32, 'big')
    return bytes(q)


def other_pubkey():
    with tempfile.NamedTemporaryFile() as k:
        subprocess.run(['openssl', 'ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', k.name],
                       check=True)
        der = subprocess.run(['openssl', 'ec', '-in', k.name, '-pubout', '-outform', 'DER'], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return der[-97:]


def main():
    path, key, what = sys.argv[1:4]
    line = next(l for l in open(path) if l.startswith(PREFIX))
    doc = json.loads(base64.b64decode(line[len(PREFIX):].strip()))
    if what == 'debug' and doc['tee'] == 'tdx':
        q = bytearray(base64.b64decode(doc['report']))
        assert int.from_bytes(q[0:2], 'little') == 4, 'not a quote v4'
        q[TDX_TD_ATTRIBUTES] |= 0x01  # TD_ATTRIBUTES.DEBUG, bit 0
        doc['report'] = base64.b64encode(resign_tdx(bytes(q), key)).decode()
    elif what == 'debug':
        rep = bytearray(base64.b64decode(doc['report']))
        rep[10] |= 0x08  # policy bit 19
        doc['report'] = base64.b64encode(resign(bytes(rep), key)).decode()
    elif what == 'tdreport':
        q = base64.b64decode(doc['report'])
        td = bytearray(1024)
        td[0] = 0x81  # REPORTTYPE: TDX, subtype 0, version 0
        td[128:192] = q[48 + 520:48 + 584]  # REPORT_DATA
        td[512:512 + 16] = q[48 + 120:48 + 136]  # TDINFO: TD_ATTRIBUTES, XFAM
        td[528:528 + 48 * 8] = q[48 + 136:48 + 520]  # MRTD .. RTMR3
        doc['report'] = base64.b64encode(bytes(td)).decode()
    elif what == 'swap-pubkey':
        doc['pubkey'] = base64.b64encode(other_pubkey()).decode()
    else:
        sys.exit('unknown edit ' + what)
    payload = base64.b64encode(json.dumps(doc, separators=(',', ':')).encode()).decode()
    print(PREFIX + payload)


if __name__ == '__main__':
    main()
