#!/usr/bin/python3
"""A reference KBS client for the test KBS's self-test, written independently of
the server (jwcrypto for the TEE key and the JWE; its own report encoding and
canonical JSON): the RCAR handshake of Trustee's KBS protocol 0.4.0 with evidence
made here, signed with the mock TEE's test keys in the exact SEV-SNP report /
TDX quote v4 layout (as tee/mock.c signs them).

  kbs_ref_client.py --url https://127.0.0.1:PORT --ca ca.pem --server-name kbs.test
      --resource cvminit/luks/root (--snp-key vcek.key | --tdx-key ak.key --tdx-sigtail F)
      [--measurement HEX] [--out FILE]
Exit 0 and the secret in --out (never on stdout); else one line on stderr.
"""
import argparse
import base64
import hashlib
import http.client
import json
import socket
import ssl
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from jwcrypto import jwe as jjwe
from jwcrypto import jwk as jjwk

SNP_LEN = 0x4A0


# ---- the mock TEE, as tee/mock.c ------------------------------------------------
def snp_report(key_pem, report_data, measurement, *, version=2, vmpl=0, policy=0x30000,
               tcb=0x7308000000000003, chip_id=b'\x5a' * 64, cpuid=(0x19, 0x01, 0x01), sign=True):
    """An SNP ATTESTATION_REPORT (SEV-SNP ABI table 22) signed with ECDSA P-384 over
    bytes 0..0x29F, r/s little-endian in 72-byte fields."""
    r = bytearray(SNP_LEN)
    struct.pack_into('<IIQ', r, 0, version, 0, policy)
    struct.pack_into('<II', r, 0x30, vmpl, 1)
    struct.pack_into('<Q', r, 0x38, tcb)
    r[0x50:0x90] = report_data
    r[0x90:0xC0] = measurement
    struct.pack_into('<Q', r, 0x180, tcb)
    if version >= 3:
        r[0x188:0x18B] = bytes(cpuid)
    r[0x1A0:0x1E0] = chip_id
    struct.pack_into('<Q', r, 0x1E0, tcb)
    struct.pack_into('<Q', r, 0x1F0, tcb)
    if sign:
        key = serialization.load_pem_private_key(open(key_pem, 'rb').read(), None)
        der = key.sign(bytes(r[:0x2A0]), ec.ECDSA(hashes.SHA384()))
        rr, ss = utils.decode_dss_signature(der)
        r[0x2A0:0x2A0 + 48] = rr.to_bytes(48, 'little')
        r[0x2E8:0x2E8 + 48] = ss.to_bytes(48, 'little')
    return bytes(r)


def snp_report_json(raw):
    """The sev crate's AttestationReport as serde JSON, decoded from the bytes
    (its Decoder): what a guest sends as attestation_report."""
    version, svn, policy = struct.unpack_from('<IIQ', raw, 0)
    fam, mod, step = raw[0x188], raw[0x189], raw[0x18A]
    if version == 2:
        turin = raw[0x1A8:0x1E0] == bytes(56)
    else:
        turin = fam == 0x1A

    def tcb(off):
        b = raw[off:off + 8]
        if turin:
            return {'fmc': b[0], 'bootloader': b[1], 'tee': b[2], 'snp': b[3], 'microcode': b[7]}
        return {'fmc': None, 'bootloader': b[0], 'tee': b[1], 'snp': b[6], 'microcode': b[7]}

    def arr(a, n):
        return list(raw[a:a + n])

    def ver(off):
        return {'major': raw[off + 2], 'minor': raw[off + 1], 'build': raw[off]}

    j = {'version': version, 'guest_svn': svn, 'policy': policy, 'family_id': arr(0x10, 16),
         'image_id': arr(0x20, 16), 'vmpl': struct.unpack_from('<I', raw, 0x30)[0],
         'sig_algo': struct.unpack_from('<I', raw, 0x34)[0], 'current_tcb': tcb(0x38),
         'plat_info': struct.unpack_from('<Q', raw, 0x40)[0], 'key_info': struct.unpack_from('<I', raw, 0x48)[0],
         'report_data': arr(0x50, 64), 'measurement': arr(0x90, 48), 'host_data': arr(0xC0, 32),
         'id_key_digest': arr(0xE0, 48), 'author_key_digest': arr(0x110, 48), 'report_id': arr(0x140, 32),
         'report_id_ma': arr(0x160, 32), 'reported_tcb': tcb(0x180),
         'cpuid_fam_id': fam if version >= 3 else None, 'cpuid_mod_id': mod if version >= 3 else None,
         'cpuid_step': step if version >= 3 else None, 'chip_id': arr(0x1A0, 64), 'committed_tcb': tcb(0x1E0),
         'current': ver(0x1E8), 'committed': ver(0x1EC), 'launch_tcb': tcb(0x1F0),
         'launch_mit_vector': struct.unpack_from('<Q', raw, 0x1F8)[0] if version >= 5 else None,
         'current_mit_vector': struct.unpack_from('<Q', raw, 0x200)[0] if version >= 5 else None,
         'signature': {'r': arr(0x2A0, 72), 's': arr(0x2E8, 72)}}
    return j


def tdx_quote(ak_pem, sigtail, report_data, mrtd, *, rtmr1=bytes(48), rtmr2=bytes(48), attributes=1 << 28):
    """A TDX quote v4 as the mock makes it: header, TD 1.0 body, signature data
    (signature by the attestation key, then the host-made tail)."""
    q = bytearray(48 + 584)
    struct.pack_into('<HHI', q, 0, 4, 2, 0x81)
    q[12:28] = bytes.fromhex('939a7233f79c4ca9940a0db3957f0607')
    b = 48
    q[b] = 3
    q[b + 16:b + 64] = b'\x5a' * 48
    struct.pack_into('<QQ', q, b + 120, attributes, 0x602e7)
    q[b + 136:b + 184] = mrtd
    q[b + 376:b + 424] = rtmr1
    q[b + 424:b + 472] = rtmr2
    q[b + 520:b + 584] = report_data
    key = serialization.load_pem_private_key(open(ak_pem, 'rb').read(), None)
    rr, ss = utils.decode_dss_signature(key.sign(bytes(q), ec.ECDSA(hashes.SHA256())))
    tail = open(sigtail, 'rb').read()
    return bytes(q) + struct.pack('<I', 64 + len(tail)) + rr.to_bytes(32, 'big') + ss.to_bytes(32, 'big') + tail


# ---- the client ----------------------------------------------------------------------
class KbsAnswer(Exception):
    def __init__(self, stage, status, body):
        super().__init__('%s: HTTP %d %s' % (stage, status, body.decode(errors='replace')))
        self.stage, self.status, self.body = stage, status, body


def report_data_for(nonce, pubkey_jwk, additional=''):
    # canonical JSON by sorted keys: the members are ASCII strings and one object
    doc = {'nonce': nonce, 'tee-pubkey': pubkey_jwk, 'additional-evidence': additional}
    text = json.dumps(doc, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    return hashlib.sha384(text.encode()).digest() + bytes(16)


class _Conn(http.client.HTTPSConnection):
    """HTTPS to an address, the certificate checked for server_name (as a guest
    dials 10.0.2.100 but pins the KBS's name)."""

    def __init__(self, host, port, ctx, server_name, timeout):
        super().__init__(host, port, context=ctx, timeout=timeout)
        self._ctx, self._name = ctx, server_name

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self._name)


class Client:
    def __init__(self, host, port, ca, server_name, timeout=10):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = True
        self.conn = _Conn(host, port, ctx, server_name, timeout)
        self.cookie = None

    def call(self, stage, method, path, body=None, cookie=True):
        hdrs = {}
        if body is not None:
            hdrs['Content-Type'] = 'application/json'
        if cookie and self.cookie:
            hdrs['Cookie'] = 'kbs-session-id=' + self.cookie
        self.conn.request(method, path, body=body, headers=hdrs)
        r = self.conn.getresponse()
        data = r.read()
        sc = r.getheader('Set-Cookie')
        if sc:
            k, _, rest = sc.partition('=')
            if k == 'kbs-session-id':
                self.cookie = rest.split(';')[0]
        if r.status != 200:
            raise KbsAnswer(stage, r.status, data)
        return data

    def auth(self, tee, version='0.4.0'):
        body = json.dumps({'version': version, 'tee': tee, 'extra-params': ''})
        ch = json.loads(self.call('auth', 'POST', '/kbs/v0/auth', body))
        return ch['nonce']

    def attest(self, pubkey, nonce, evidence, additional='', cookie=True):
        body = json.dumps({'runtime-data': {'nonce': nonce, 'tee-pubkey': pubkey},
                           'tee-evidence': {'primary_evidence': evidence, 'additional_evidence': additional}})
        return json.loads(self.call('attest', 'POST', '/kbs/v0/attest', body, cookie=cookie))

    def resource(self, path, cookie=True):
        return self.call('resource', 'GET', '/kbs/v0/resource/' + path, cookie=cookie)


def tee_key(kty='EC'):
    """A TEE key pair as the reference guest makes it: EC P-256 for
    ECDH-ES+A256KW, or RSA-2048 for RSA-OAEP-256 (kbs-types TeePubKey)."""
    if kty == 'RSA':
        k = jjwk.JWK.generate(kty='RSA', size=2048)
        pub = json.loads(k.export_public())
        pub['alg'] = 'RSA-OAEP-256'
        return k, pub
    k = jjwk.JWK.generate(kty='EC', crv='P-256')
    pub = json.loads(k.export_public())
    pub['alg'] = 'ECDH-ES+A256KW'
    return k, pub


def decrypt(key, jwe_text):
    t = jjwe.JWE()
    t.deserialize(jwe_text.decode() if isinstance(jwe_text, bytes) else jwe_text, key=key)
    return t.payload


def snp_evidence(raw, chain=None):
    return {'attestation_report': snp_report_json(raw), 'cert_chain': chain}


def cert_entry(kind, pem_path):
    from cryptography import x509
    c = x509.load_pem_x509_certificate(open(pem_path, 'rb').read())
    return {'cert_type': kind, 'data': list(c.public_bytes(serialization.Encoding.DER))}


def run(ns):
    host, _, port = ns.url[len('https://'):].partition(':')
    c = Client(host, int(port or 443), ns.ca, ns.server_name, ns.timeout)
    key, pub = tee_key()
    tee = 'tdx' if ns.tdx_key else 'snp'
    nonce = c.auth(tee)
    rd = report_data_for(nonce, pub)
    m = bytes.fromhex(ns.measurement)
    if tee == 'snp':
        ev = snp_evidence(snp_report(ns.snp_key, rd, m), [cert_entry('VCEK', ns.snp_vcek)] if ns.snp_vcek else None)
    else:
        ev = {'cc_eventlog': None, 'quote': base64.b64encode(tdx_quote(ns.tdx_key, ns.tdx_sigtail, rd, m)).decode()}
    c.attest(pub, nonce, ev)
    secret = decrypt(key, c.resource(ns.resource))
    with open(ns.out, 'wb') as f:
        f.write(secret)
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--url', required=True)
    p.add_argument('--ca', required=True)
    p.add_argument('--server-name', default='kbs.test')
    p.add_argument('--resource', required=True)
    p.add_argument('--snp-key')
    p.add_argument('--snp-vcek', help='send this VCEK in cert_chain')
    p.add_argument('--tdx-key')
    p.add_argument('--tdx-sigtail')
    p.add_argument('--measurement', default='00' * 48)
    p.add_argument('--timeout', type=float, default=10)
    p.add_argument('--out', required=True)
    ns = p.parse_args(argv)
    try:
        return run(ns)
    except (KbsAnswer, OSError, ssl.SSLError, ValueError) as e:
        print('kbs_ref_client: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
