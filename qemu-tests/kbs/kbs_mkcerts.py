#!/usr/bin/python3
"""Test TLS material for the test KBS (throwaway; never use it for anything else):

  kbs_mkcerts.py OUTDIR [--name kbs.test] [--ip 10.0.2.100]
    ca.pem                      the CA a guest pins (KBS_CA)
    server.pem server.key       the KBS: SAN DNS:NAME and IP:IP, signed by ca.pem
    other-ca.pem                another CA
    other-server.pem/.key       the same names, signed by other-ca.pem (not the pinned CA)
    wrong-name.pem/.key         signed by ca.pem, but for wrong-name.invalid only
    expired.pem/.key            signed by ca.pem for NAME, expired yesterday
EC P-256 keys, ECDSA SHA-256, as mbedtls and Python's ssl both take.
"""
import argparse
import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'cvminit test'),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(out, stem, cert, key):
    with open(os.path.join(out, stem + '.pem'), 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        with open(os.path.join(out, stem + '.key'), 'wb') as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def make_leaf(ca, ca_key, dns, ips, expired=False):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)) if expired else \
        (now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650))
    san = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder().subject_name(_name(dns[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert, key


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out')
    p.add_argument('--name', default='kbs.test')
    p.add_argument('--ip', action='append', default=None, help='IP SAN (default 10.0.2.100, 127.0.0.1)')
    ns = p.parse_args(argv)
    ips = ns.ip if ns.ip is not None else ['10.0.2.100', '127.0.0.1']
    os.makedirs(ns.out, exist_ok=True)
    ca, ca_key = make_ca('cvminit test KBS CA')
    _write(ns.out, 'ca', ca, None)
    _write(ns.out, 'server', *make_leaf(ca, ca_key, [ns.name], ips))
    _write(ns.out, 'wrong-name', *make_leaf(ca, ca_key, ['wrong-name.invalid'], []))
    _write(ns.out, 'expired', *make_leaf(ca, ca_key, [ns.name], ips, expired=True))
    other, other_key = make_ca('cvminit test KBS CA')  # same name, another key
    _write(ns.out, 'other-ca', other, None)
    _write(ns.out, 'other-server', *make_leaf(other, other_key, [ns.name], ips))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
