"""The test KBS's verifier: what Trustee's KBS and attestation service do with an
Attestation payload, re-implemented for the tests (no I/O here).

Read against confidential-containers/trustee (kbs/src/attestation/backend.rs,
attestation-service/src/lib.rs, deps/verifier/src/{snp,tdx}/mod.rs, kbs/src/jwe/mod.rs)
and virtee/sev (the JSON form of an SNP report and how it becomes bytes again).
What differs on purpose (test chains instead of AMD's/Intel's roots) is said where
it happens; the README lists it.
"""
import base64
import hashlib
import json
import os
import struct

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap


class Refused(Exception):
    """The evidence (or request) is not accepted; the message goes to the log."""


# ---- RFC 8785 (JCS) -------------------------------------------------------
# Trustee hashes serde_json_canonicalizer::to_vec(runtime_data). No Debian package
# implements JCS for Python, so this is the part of RFC 8785 the runtime data can
# hold: objects, arrays, strings, integers, true/false/null. Floats are refused
# rather than formatted wrongly.
def jcs(value):
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode('utf-16-be'))  # 3.2.3: UTF-16 code units
        return '{' + ','.join(jcs_str(k) + ':' + jcs(value[k]) for k in keys) + '}'
    if isinstance(value, list):
        return '[' + ','.join(jcs(v) for v in value) + ']'
    if isinstance(value, str):
        return jcs_str(value)
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if value is None:
        return 'null'
    if isinstance(value, int):
        if abs(value) > 2 ** 53:
            raise ValueError('integer outside the I-JSON range')
        return str(value)
    raise ValueError('not canonicalisable here: %r' % type(value))


def jcs_str(s):
    # ECMAScript JSON.stringify: \b \t \n \f \r, other controls as \u00xx
    # (lowercase), '"' and '\\' escaped, everything else (also '/', non-ASCII) as is.
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch in '\b\t\n\f\r':
            out.append({'\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r'}[ch])
        elif o < 0x20:
            out.append('\\u%04x' % o)
        elif 0xD800 <= o <= 0xDFFF:
            raise ValueError('lone surrogate')
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


# ---- runtime data -----------------------------------------------------------
def tee_pubkey(jwk):
    """kbs_types::TeePubKey: internally tagged by "kty"; EC needs crv, alg, x, y
    and RSA alg, n, e, all strings; other members are dropped by serde, so they
    are not part of what Trustee hashes either."""
    if not isinstance(jwk, dict):
        raise ValueError('tee-pubkey is not an object')
    kty = jwk.get('kty')
    fields = {'EC': ('crv', 'alg', 'x', 'y'), 'RSA': ('alg', 'n', 'e')}.get(kty)
    if fields is None:
        raise ValueError('tee-pubkey: unknown kty %r' % (kty,))
    out = {'kty': kty}
    for f in fields:
        if not isinstance(jwk.get(f), str):
            raise ValueError('tee-pubkey: missing field `%s`' % f)
        out[f] = jwk[f]
    return out


def pubkey_summary(pubkey):
    """What the log shows of the TEE key: kty and alg, and an RSA modulus's
    size in bits (as the rsa crate would read n: big-endian)."""
    out = {'key_kty': pubkey['kty'], 'key_alg': pubkey['alg']}
    if pubkey['kty'] == 'RSA':
        try:
            out['key_bits'] = int.from_bytes(b64u_dec(pubkey['n']), 'big').bit_length()
        except ValueError:
            out['key_bits'] = None
    return out


def jwe_alg(jwe_text):
    """The alg of a flattened JWE's protected header (None if unreadable)."""
    try:
        return json.loads(b64u_dec(json.loads(jwe_text)['protected'])).get('alg')
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def runtime_data(nonce, pubkey, additional_evidence):
    """The primary evidence's runtime data as backend.rs builds it."""
    return {'tee-pubkey': pubkey, 'nonce': nonce, 'additional-evidence': additional_evidence}


def expected_report_data(rd):
    """SHA-384 (every TEE but IBM SE) of the JCS bytes, zero-padded to 64 bytes
    (verifier::regularize_data)."""
    return hashlib.sha384(jcs(rd).encode()).digest().ljust(64, b'\0')


# ---- certificates -------------------------------------------------------------
def load_certs(path):
    data = open(path, 'rb').read()
    if b'-----BEGIN' in data:
        return x509.load_pem_x509_certificates(data) if hasattr(x509, 'load_pem_x509_certificates') \
            else _pem_split(data)
    return [x509.load_der_x509_certificate(data)]


def _pem_split(data):
    out, marker = [], b'-----END CERTIFICATE-----'
    for part in data.split(marker)[:-1]:
        out.append(x509.load_pem_x509_certificate(part + marker + b'\n'))
    return out


def cert_signed_by(cert, issuer):
    """True when issuer's key signed cert (RSA-PSS as AMD's ARK/ASK, PKCS#1 v1.5, ECDSA)."""
    pub = issuer.public_key()
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            if cert.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.RSASSA_PSS:
                # AMD: RSASSA-PSS, SHA-384, MGF1 SHA-384, salt 48 (mock-tee-chain.sh signs so)
                pub.verify(cert.signature, cert.tbs_certificate_bytes,
                           padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384())
            else:
                pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                           cert.signature_hash_algorithm)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return cert.issuer == issuer.subject


def same_cert(a, b):
    return a.public_bytes(serialization.Encoding.DER) == b.public_bytes(serialization.Encoding.DER)


# ---- SEV-SNP --------------------------------------------------------------------
# The evidence is deps/verifier/src/snp SnpEvidence: {"attestation_report": the
# sev crate's AttestationReport as serde JSON (byte arrays as arrays of numbers,
# policy/plat_info/key_info as integers, TCBs as {fmc, bootloader, tee, snp,
# microcode}, current/committed as {major, minor, build}, signature {r, s} as
# 72-byte little-endian arrays), "cert_chain": null or [{"cert_type": "ARK" |
# "ASK" | "VCEK" | "VLEK" | ..., "data": [DER bytes]}]}.
SNP_REPORT_SIZE = 0x4A0
SNP_SIGNED = 0x2A0

_BYTES = {'family_id': 16, 'image_id': 16, 'report_data': 64, 'measurement': 48, 'host_data': 32,
          'id_key_digest': 48, 'author_key_digest': 48, 'report_id': 32, 'report_id_ma': 32, 'chip_id': 64}


def _u(obj, name, bits, optional=False):
    v = obj.get(name)
    if v is None and optional:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < (1 << bits):
        raise Refused('Deserialize SNP Evidence failed: `%s` is not a u%d' % (name, bits))
    return v


def _bytes(obj, name, n):
    v = obj.get(name)
    if not isinstance(v, list) or len(v) != n or \
            not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in v):
        raise Refused('Deserialize SNP Evidence failed: `%s` is not %d bytes' % (name, n))
    return bytes(v)


def _tcb(obj, name, turin):
    t = obj.get(name)
    if not isinstance(t, dict):
        raise Refused('Deserialize SNP Evidence failed: `%s` is not a TCB' % name)
    fmc = _u(t, 'fmc', 8, optional=True)
    bl, tee, snp, uc = (_u(t, k, 8) for k in ('bootloader', 'tee', 'snp', 'microcode'))
    if turin:
        return bytes([fmc or 0, bl, tee, snp, 0, 0, 0, uc])
    return bytes([bl, tee, 0, 0, 0, 0, snp, uc])


def _version(obj, name):
    v = obj.get(name)
    if not isinstance(v, dict):
        raise Refused('Deserialize SNP Evidence failed: `%s` is not a version' % name)
    return bytes([_u(v, 'build', 8), _u(v, 'minor', 8), _u(v, 'major', 8)])


def snp_generation(r):
    """sev's Generation for the TCB layout, and Trustee's ProcessorGeneration."""
    if r['version'] == 2:
        chip = r['chip_id']
        if chip == bytes(64):
            raise Refused('CHIP_ID is masked: a version 2 report cannot say its processor')
        return 'Turin' if chip[8:] == bytes(56) else 'Genoa'
    fam, mod = r.get('cpuid_fam_id'), r.get('cpuid_mod_id')
    if fam == 0x19 and mod is not None and 0 <= mod <= 0xF:
        return 'Milan'
    if fam == 0x19 and mod is not None and (0x10 <= mod <= 0x1F or 0xA0 <= mod < 0xAF):
        return 'Genoa'
    if fam == 0x1A and mod is not None and 0 <= mod <= 0x11:
        return 'Turin'
    raise Refused('Processor family/model not supported: %r/%r' % (fam, mod))


def snp_report_bytes(j):
    """The sev crate's Encoder for AttestationReport: JSON form -> the 1184 bytes the
    firmware signed (reserved bytes zero). Returns (bytes, parsed fields)."""
    if not isinstance(j, dict):
        raise Refused('Deserialize SNP Evidence failed: attestation_report is not an object')
    r = {'version': _u(j, 'version', 32)}
    for k in ('cpuid_fam_id', 'cpuid_mod_id', 'cpuid_step'):
        r[k] = _u(j, k, 8, optional=True)
    for k, n in _BYTES.items():
        r[k] = _bytes(j, k, n)
    gen = snp_generation(r)
    turin = gen == 'Turin'
    b = bytearray(SNP_REPORT_SIZE)
    struct.pack_into('<IIQ', b, 0x00, r['version'], _u(j, 'guest_svn', 32), _u(j, 'policy', 64))
    b[0x10:0x20] = r['family_id']
    b[0x20:0x30] = r['image_id']
    r['vmpl'] = _u(j, 'vmpl', 32)
    struct.pack_into('<II', b, 0x30, r['vmpl'], _u(j, 'sig_algo', 32))
    b[0x38:0x40] = _tcb(j, 'current_tcb', turin)
    struct.pack_into('<QI', b, 0x40, _u(j, 'plat_info', 64), _u(j, 'key_info', 32))
    b[0x50:0x90] = r['report_data']
    b[0x90:0xC0] = r['measurement']
    b[0xC0:0xE0] = r['host_data']
    b[0xE0:0x110] = r['id_key_digest']
    b[0x110:0x140] = r['author_key_digest']
    b[0x140:0x160] = r['report_id']
    b[0x160:0x180] = r['report_id_ma']
    b[0x180:0x188] = r['reported_tcb'] = _tcb(j, 'reported_tcb', turin)
    if r['version'] >= 3:
        b[0x188:0x18B] = bytes([r['cpuid_fam_id'] or 0, r['cpuid_mod_id'] or 0, r['cpuid_step'] or 0])
    b[0x1A0:0x1E0] = r['chip_id']
    b[0x1E0:0x1E8] = _tcb(j, 'committed_tcb', turin)
    b[0x1E8:0x1EB] = _version(j, 'current')
    b[0x1EC:0x1EF] = _version(j, 'committed')
    b[0x1F0:0x1F8] = _tcb(j, 'launch_tcb', turin)
    if r['version'] >= 5:
        struct.pack_into('<QQ', b, 0x1F8, _u(j, 'launch_mit_vector', 64, True) or 0,
                         _u(j, 'current_mit_vector', 64, True) or 0)
    sig = j.get('signature')
    if not isinstance(sig, dict):
        raise Refused('Deserialize SNP Evidence failed: `signature` is not an object')
    b[0x2A0:0x2E8] = _bytes(sig, 'r', 72)
    b[0x2E8:0x330] = _bytes(sig, 's', 72)
    r['generation'] = gen
    r['policy'] = j['policy']
    return bytes(b), r


# AMD's VCEK extensions (1.3.6.1.4.1.3704.1.x): hwID and the SPLs.
_AMD = '1.3.6.1.4.1.3704.1.'
_SPL = {'bootloader': '3.1', 'tee': '3.2', 'snp': '3.3', 'microcode': '3.8', 'fmc': '3.9'}


def _der_int(v):
    # an INTEGER TLV (the SPL extensions' value)
    if len(v) < 3 or v[0] != 2 or v[1] != len(v) - 2:
        raise Refused('a VCEK TCB extension is not a DER INTEGER')
    return int.from_bytes(v[2:], 'big')


def check_vcek_tcb(vcek, rep):
    """verify_report_tcb: when the VCEK carries AMD's extensions they must equal
    REPORTED_TCB (and hwID the CHIP_ID for a certificate named VCEK). Trustee
    requires them; the mock chain's VCEK has none, so here they are checked when
    present and their absence is returned for the log."""
    exts = {e.oid.dotted_string: e.value for e in vcek.extensions}
    tcb = rep['reported_tcb']
    turin = rep['generation'] == 'Turin'
    have = {k: _AMD + v in exts for k, v in _SPL.items()}
    if not any(have.values()):
        return 'the VCEK has no TCB extensions (not compared)'
    want = {'bootloader': tcb[1] if turin else tcb[0], 'tee': tcb[2] if turin else tcb[1],
            'snp': tcb[3] if turin else tcb[6], 'microcode': tcb[7]}
    if turin:
        want['fmc'] = tcb[0]
    for k, v in want.items():
        if not have[k]:
            raise Refused('Reported TCB values do not match: Oid not found (%s)' % k)
        if _der_int(exts[_AMD + _SPL[k]].value) != v:
            raise Refused('Reported TCB values do not match: %s version mismatch' % k)
    cn = vcek.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    if cn and cn[0].value == 'VCEK' and _AMD + '4' in exts:
        hwid = exts[_AMD + '4'].value
        if len(hwid) != 64:  # DER OCTET STRING form
            hwid = hwid[2:] if len(hwid) == 66 and hwid[0] == 4 else hwid
        if hwid != rep['chip_id']:
            raise Refused('Reported TCB values do not match: Chip ID mismatch')
    return None


def verify_snp(evidence, expect_rd, trust, min_version=3, require_vcek_tcb=False):
    """Snp::evaluate with trust = {'ark': cert, 'ask': cert, 'vcek': cert or None}
    (the test chain stands for AMD's built-in ARK/ASK and for KDS). Returns
    (claims, notes)."""
    notes = []
    if not isinstance(evidence, dict) or 'attestation_report' not in evidence:
        raise Refused('Deserialize SNP Evidence failed')
    raw, rep = snp_report_bytes(evidence['attestation_report'])
    if rep['version'] < min_version:
        raise Refused('Attestation Report version is too old. Please update your firmware.')
    if rep['version'] > 5:
        raise Refused('Unexpected attestation report version. Check SNP Firmware ABI specification')
    chain = evidence.get('cert_chain')
    ark, ask, vek = trust['ark'], trust['ask'], None
    if chain is not None:
        if not isinstance(chain, list):
            raise Refused('Deserialize SNP Evidence failed: cert_chain')
        given_ark = given_ask = None
        for ent in chain:
            if not isinstance(ent, dict):
                raise Refused('Deserialize SNP Evidence failed: cert_chain entry')
            t = ent.get('cert_type')
            data = ent.get('data')
            if t not in ('ARK', 'ASK', 'VCEK', 'VLEK'):
                continue
            if not isinstance(data, list) or not all(isinstance(x, int) and 0 <= x <= 255 for x in data):
                raise Refused('Deserialize SNP Evidence failed: cert_chain data')
            try:
                c = x509.load_der_x509_certificate(bytes(data))
            except ValueError as e:
                raise Refused('a cert_chain certificate does not parse: %s' % e)
            if t == 'ARK':
                if not cert_signed_by(c, trust['ark']):
                    raise Refused('Provided ARK has an invalid signature')
                given_ark = c
            elif t == 'ASK':
                given_ask = c
            elif vek is None:
                vek = c
        if vek is None:
            raise Refused('If a cert chain is provided, it must include a VCEK/VLEK')
        ark, ask = given_ark or ark, given_ask or ask
        notes.append('VCEK from the evidence')
    else:
        vek = trust.get('vcek')
        if vek is None:
            raise Refused('Failed to fetch VCEK from any configured source')
        notes.append('VCEK from the KBS (offline store)')
    if not (cert_signed_by(ark, ark) and cert_signed_by(ask, ark) and cert_signed_by(vek, ask)):
        raise Refused('Certificate chain failed to verify')
    r_le, s_le = raw[0x2A0:0x2E8], raw[0x2E8:0x330]
    r, s = int.from_bytes(r_le, 'little'), int.from_bytes(s_le, 'little')
    pub = vek.public_key()
    if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != 'secp384r1':
        raise Refused('the VCEK is not an EC P-384 key')
    try:
        pub.verify(utils.encode_dss_signature(r, s), raw[:SNP_SIGNED], ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise Refused('Report signature verification against VEK signature failed')
    note = check_vcek_tcb(vek, rep)
    if note and require_vcek_tcb:  # Trustee: the extensions are not optional
        raise Refused('Reported TCB values do not match: Oid not found (bootloader)')
    if note:
        notes.append(note)
    if rep['vmpl'] != 0:
        raise Refused('VMPL Check Failed')
    if expect_rd is not None and rep['report_data'] != expect_rd:
        raise Refused('Report Data Mismatch')
    pol, tcb = rep['policy'], rep['reported_tcb']
    turin = rep['generation'] == 'Turin'
    claims = {  # parse_tee_evidence (hex, as Trustee)
        'policy_abi_major': (pol >> 8) & 0xff, 'policy_abi_minor': pol & 0xff,
        'policy_smt_allowed': bool(pol >> 16 & 1), 'policy_migrate_ma': bool(pol >> 18 & 1),
        'policy_debug_allowed': bool(pol >> 19 & 1), 'policy_single_socket': bool(pol >> 20 & 1),
        'reported_tcb_bootloader': tcb[1] if turin else tcb[0], 'reported_tcb_tee': tcb[2] if turin else tcb[1],
        'reported_tcb_snp': tcb[3] if turin else tcb[6], 'reported_tcb_microcode': tcb[7],
        'measurement': rep['measurement'].hex(), 'report_data': rep['report_data'].hex(),
        'init_data': rep['host_data'].hex(), 'chip_id': rep['chip_id'].hex(),
    }
    return claims, notes


# ---- TDX ------------------------------------------------------------------------
# deps/verifier/src/tdx TdxEvidence: {"cc_eventlog": base64 or null, "quote": base64}
# (standard alphabet). The test KBS checks the quote as DCAP does structurally
# (quote signature by the attestation key, QE report signed by the PCK key and
# binding the attestation key, PCK -> CA -> root) with the test root instead of
# Intel's, and without collateral (TCB status, QE identity).
def _b64std(s, what):
    if not isinstance(s, str):
        raise Refused('Deserialize TDX Evidence failed: %s' % what)
    try:
        return base64.b64decode(s, validate=True)
    except ValueError:
        raise Refused('Deserialize TDX Evidence failed: %s is not base64' % what)


def _p256_verify(pub_xy, data, sig64):
    pub = ec.EllipticCurvePublicNumbers(int.from_bytes(pub_xy[:32], 'big'), int.from_bytes(pub_xy[32:], 'big'),
                                        ec.SECP256R1()).public_key()
    pub.verify(utils.encode_dss_signature(int.from_bytes(sig64[:32], 'big'), int.from_bytes(sig64[32:], 'big')),
               data, ec.ECDSA(hashes.SHA256()))


def verify_tdx(evidence, expect_rd, trust):
    """Tdx::evaluate for quotes v4 (TD 1.0 body) with trust = {'root': cert}."""
    if not isinstance(evidence, dict):
        raise Refused('Deserialize TDX Evidence failed.')
    q = _b64std(evidence.get('quote'), 'quote')
    if not q:
        raise Refused('TDX Quote is empty.')
    notes = []
    try:
        ver, akt, tee = struct.unpack_from('<HHI', q, 0)
        if ver != 4 or tee != 0x81 or akt != 2:
            raise Refused('unsupported quote (version %d, TEE type 0x%x, key type %d)' % (ver, tee, akt))
        body = q[48:48 + 584]
        signed = q[:48 + 584]
        off = 48 + 584
        (siglen,) = struct.unpack_from('<I', q, off)
        sd = q[off + 4:off + 4 + siglen]
        if len(sd) != siglen:
            raise Refused('quote truncated')
        sig, ak = sd[:64], sd[64:128]
        ctype, csize = struct.unpack_from('<HI', sd, 128)
        cd = sd[134:134 + csize]
        if ctype != 6 or len(cd) != csize:
            raise Refused('certification data is not type 6')
        qe_report, qe_sig = cd[:384], cd[384:448]
        (alen,) = struct.unpack_from('<H', cd, 448)
        auth = cd[450:450 + alen]
        itype, isize = struct.unpack_from('<HI', cd, 450 + alen)
        pem = cd[456 + alen:456 + alen + isize]
        if itype != 5 or len(pem) != isize:
            raise Refused('QE certification data is not a PEM chain (type 5)')
    except struct.error:
        raise Refused('quote truncated')
    certs = _pem_split(pem)
    if len(certs) < 3:
        raise Refused('the PCK chain is incomplete')
    pck, ca, root = certs[0], certs[1], certs[-1]
    try:
        _p256_verify(ak, signed, sig)
    except InvalidSignature:
        raise Refused('quote signature verification failed')
    try:
        pck.public_key().verify(utils.encode_dss_signature(int.from_bytes(qe_sig[:32], 'big'),
                                                           int.from_bytes(qe_sig[32:], 'big')),
                                qe_report, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused('QE report signature verification failed')
    if qe_report[320:352] != hashlib.sha256(ak + auth).digest() or qe_report[352:384] != bytes(32):
        raise Refused('the QE report does not bind the attestation key')
    if not (same_cert(root, trust['root']) and cert_signed_by(root, root) and cert_signed_by(ca, root)
            and cert_signed_by(pck, ca)):
        raise Refused('PCK certificate chain failed to verify')
    if expect_rd is not None and body[520:584] != expect_rd:
        raise Refused('REPORT_DATA is different from that in TDX Quote')
    if evidence.get('cc_eventlog'):
        _b64std(evidence['cc_eventlog'], 'cc_eventlog')
        notes.append('cc_eventlog present, not replayed by the test KBS')
    claims = {'quote': {'header': {'version': '%04x' % ver, 'tee_type': '%08x' % tee},
                        'body': {'mr_td': body[136:184].hex(), 'rtmr_0': body[328:376].hex(),
                                 'rtmr_1': body[376:424].hex(), 'rtmr_2': body[424:472].hex(),
                                 'rtmr_3': body[472:520].hex(), 'report_data': body[520:584].hex(),
                                 'td_attributes': body[120:128].hex(), 'xfam': body[128:136].hex()}},
              'measurement': body[136:184].hex()}
    return claims, notes


# ---- JWE ------------------------------------------------------------------------
def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def b64u_dec(s):
    if not isinstance(s, str):
        raise ValueError('not a string')
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def concat_kdf(alg, z, nbytes=32):
    """NIST SP 800-56A Concat KDF as kbs/src/jwe concat_kdf: AlgorithmID = alg,
    empty PartyUInfo/PartyVInfo, SuppPubInfo = key length in bits."""
    out = b''
    i = 1
    while len(out) < nbytes:
        out += hashlib.sha256(struct.pack('>I', i) + z + struct.pack('>I', len(alg)) + alg.encode()
                              + struct.pack('>I', 0) + struct.pack('>I', 0) + struct.pack('>I', nbytes * 8)).digest()
        i += 1
    return out[:nbytes]


def jwe_for(pubkey, payload):
    """kbs/src/jwe ecdh_es_a256kw_p256 (the reference guest's key) or rsa_oaep256:
    a flattened JWE as kbs_types::Response serialises it (protected, encrypted_key,
    iv, ciphertext, tag; no aad). Returns the JSON text."""
    if pubkey['kty'] == 'EC':
        if (pubkey['crv'], pubkey['alg']) != ('P-256', 'ECDH-ES+A256KW'):
            raise Refused('curve %s and algorithm %s is not supported' % (pubkey['crv'], pubkey['alg']))
        x, y = b64u_dec(pubkey['x']), b64u_dec(pubkey['y'])
        if len(x) != 32 or len(y) != 32:
            raise Refused('invalid bytes length of coordinates X')
        try:
            peer = ec.EllipticCurvePublicNumbers(int.from_bytes(x, 'big'), int.from_bytes(y, 'big'),
                                                 ec.SECP256R1()).public_key()
        except ValueError:
            raise Refused('invalid TEE public key')
        eph = ec.generate_private_key(ec.SECP256R1())
        z = eph.exchange(ec.ECDH(), peer)
        cek = os.urandom(32)
        encrypted_key = aes_key_wrap(concat_kdf('ECDH-ES+A256KW', z), cek)
        n = eph.public_key().public_numbers()
        # serde: alg, enc, then the flattened map (sorted: epk{crv, kty, x, y})
        protected = json.dumps({'alg': 'ECDH-ES+A256KW', 'enc': 'A256GCM',
                                'epk': {'crv': 'P-256', 'kty': 'EC', 'x': b64u(n.x.to_bytes(32, 'big')),
                                        'y': b64u(n.y.to_bytes(32, 'big'))}}, separators=(',', ':'))
    elif pubkey['kty'] == 'RSA':
        if pubkey['alg'] != 'RSA-OAEP-256':
            raise Refused('algorithm %s is not supported' % pubkey['alg'])
        pub = rsa.RSAPublicNumbers(int.from_bytes(b64u_dec(pubkey['e']), 'big'),
                                   int.from_bytes(b64u_dec(pubkey['n']), 'big')).public_key()
        cek = os.urandom(32)
        encrypted_key = pub.encrypt(cek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                                                      label=None))
        protected = json.dumps({'alg': 'RSA-OAEP-256', 'enc': 'A256GCM'}, separators=(',', ':'))
    else:
        raise Refused('unsupported key type')
    prot_b64 = b64u(protected.encode())
    iv = os.urandom(12)
    ct = AESGCM(cek).encrypt(iv, payload, prot_b64.encode())  # AAD = ASCII(BASE64URL(header))
    return json.dumps({'protected': prot_b64, 'encrypted_key': b64u(encrypted_key), 'iv': b64u(iv),
                       'ciphertext': b64u(ct[:-16]), 'tag': b64u(ct[-16:])}, separators=(',', ':'))
