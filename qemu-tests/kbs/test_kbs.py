#!/usr/bin/python3
"""make check suite `kbs/...`: the test KBS against the independent reference
client (kbs_ref_client.py), on 127.0.0.1 only. Prints ok/not ok lines and
"N passed, N failed". Run from the repository root: qemu-tests/kbs/test-kbs.sh.
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import kbs_ref_client as rc  # noqa: E402
import kbs_verify as kv  # noqa: E402

from cryptography import x509  # noqa: E402
from jwcrypto.common import JWException  # noqa: E402

PY = sys.executable
SECRET = b'kbs-test root passphrase \x00\xff'  # any bytes, as a LUKS2 passphrase may be
RES = 'cvminit/luks/root'
ERR = 'https://github.com/confidential-containers/kbs/errors/'
ATTEST_FAILED = {'type': ERR + 'AttestationError', 'detail': 'Attestation error: RCAR handshake Attest failed'}
POLICY_DENY = {'type': ERR + 'PolicyDeny', 'detail': 'Access denied by policy'}
TOKEN_NOT_FOUND = {'type': ERR + 'TokenNotFound', 'detail': 'Attestation Token not found'}

CASES = []


def case(name):
    def reg(fn):
        CASES.append((name, fn))
        return fn
    return reg


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Env:
    def __init__(self, work):
        self.work = work
        self.chain = os.path.join(work, 'chain')
        self.other = os.path.join(work, 'other-chain')
        self.tdx = os.path.join(work, 'tdx')
        self.tls = os.path.join(work, 'tls')
        self.res = os.path.join(work, 'res')
        for script, out in (('mock-tee-chain.sh', self.chain), ('mock-tee-chain.sh', self.other),
                            ('mock-tdx-chain.sh', self.tdx)):
            subprocess.run([os.path.join(REPO, 'qemu-tests', script), out], check=True)
        subprocess.run([PY, os.path.join(HERE, 'kbs_mkcerts.py'), self.tls], check=True)
        os.makedirs(os.path.join(self.res, 'cvminit', 'luks'))
        with open(os.path.join(self.res, RES), 'wb') as f:
            f.write(SECRET)
        self.m = hashlib.sha384(b'the allowed measurement').digest()
        self.n = 0

    def f(self, *p):
        return os.path.join(self.work, *p)


class Kbs:
    """One test KBS process; its log as a list of dicts."""

    def __init__(self, env, *knobs, cert='server', snp=True, tdx=True, allow=None):
        env.n += 1
        self.log_path = env.f('kbs-%d.log' % env.n)
        pf = env.f('kbs-%d.port' % env.n)
        args = [PY, os.path.join(HERE, 'kbs_server.py'), '--cert', os.path.join(env.tls, cert + '.pem'),
                '--key', os.path.join(env.tls, cert + '.key'), '--resources', env.res, '--log', self.log_path,
                '--port-file', pf]
        if snp:
            args += ['--snp-ark', os.path.join(env.chain, 'ark.pem'), '--snp-ask', os.path.join(env.chain, 'ask.pem'),
                     '--snp-vcek', os.path.join(env.chain, 'vcek.pem')]
        if tdx:
            args += ['--tdx-root', os.path.join(env.tdx, 'root.pem')]
        for m in (allow if allow is not None else [env.m.hex()]):
            args += ['--allow-measurement', m]
        self.err = open(env.f('kbs-%d.stderr' % env.n), 'wb')
        self.p = subprocess.Popen(args + list(knobs), stdout=subprocess.DEVNULL, stderr=self.err)
        t = time.monotonic() + 10
        while not os.path.exists(pf):
            if self.p.poll() is not None or time.monotonic() > t:
                raise RuntimeError('the test KBS did not start (exit %s)' % self.p.poll())
            time.sleep(0.05)
        self.port = int(open(pf).read())
        self.env = env

    def client(self, ca='ca', name='kbs.test', timeout=5):
        return rc.Client('127.0.0.1', self.port, os.path.join(self.env.tls, ca + '.pem'), name, timeout)

    def log(self):
        return [json.loads(line) for line in open(self.log_path)]

    def close(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.err.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def snp_ev(env, rd, m=None, chain_dir=None, send_vcek=False, **kw):
    d = chain_dir or env.chain
    raw = rc.snp_report(os.path.join(d, 'vcek.key'), rd, m if m is not None else env.m, **kw)
    chain = [rc.cert_entry('VCEK', os.path.join(d, 'vcek.pem'))] if send_vcek else None
    return rc.snp_evidence(raw, chain)


def handshake(kbs, tee='snp', evidence=None, pub_override=None, rd_override=None, kty='EC', **kw):
    """auth + attest (+ resource): returns (client, key, secret or KbsAnswer)."""
    c = kbs.client()
    key, pub = rc.tee_key(kty)
    nonce = c.auth(tee)
    rd = rd_override if rd_override is not None else rc.report_data_for(nonce, pub)
    if evidence is None:
        if tee == 'snp':
            evidence = snp_ev(kbs.env, rd, **kw)
        else:
            evidence = {'cc_eventlog': None, 'quote': base64.b64encode(rc.tdx_quote(
                os.path.join(kbs.env.tdx, 'ak.key'), os.path.join(kbs.env.tdx, 'tdx-sigtail.bin'), rd,
                kw.get('m', kbs.env.m))).decode()}
    elif callable(evidence):
        evidence = evidence(rd)
    c.attest(pub_override or pub, nonce, evidence)
    return c, key


def expect_refusal(fn, stage, status, body):
    try:
        fn()
    except rc.KbsAnswer as e:
        check(e.stage == stage, 'refused at %s, want %s (%s)' % (e.stage, stage, e))
        check(e.status == status, 'HTTP %d, want %d' % (e.status, status))
        got = json.loads(e.body)
        check(got == body, 'body %r, want %r' % (got, body))
        return
    raise AssertionError('not refused (want %s HTTP %d)' % (stage, status))


# ---- the cases ---------------------------------------------------------------------
@case('kbs/jcs-report-data')
def t_jcs(env):
    # RFC 8785 ordering/escaping on what the runtime data can hold
    check(kv.jcs({'b': 1, 'a': [True, None, 'x/\u00e9\u0001\n"\\'], '\u20ac': {}, '\U0001f600': 0, 'A': -5})
          == '{"A":-5,"a":[true,null,"x/\u00e9\\u0001\\n\\"\\\\"],"b":1,"\u20ac":{},"\U0001f600":0}',
          'JCS output differs')
    # the exact bytes Trustee hashes for an EC key: members sorted, additional-evidence included
    jwk = {'kty': 'EC', 'crv': 'P-256', 'alg': 'ECDH-ES+A256KW', 'x': 'X1', 'y': 'Y2', 'use': 'enc', 'kid': 'k'}
    want = hashlib.sha384(b'{"additional-evidence":"","nonce":"bm9uY2U=","tee-pubkey":{"alg":"ECDH-ES+A256KW",'
                          b'"crv":"P-256","kty":"EC","x":"X1","y":"Y2"}}').digest() + bytes(16)
    got = kv.expected_report_data(kv.runtime_data('bm9uY2U=', kv.tee_pubkey(jwk), ''))
    check(got == want, 'REPORT_DATA %s, want %s' % (got.hex(), want.hex()))
    check(rc.report_data_for('bm9uY2U=', kv.tee_pubkey(jwk)) == want, 'the reference client disagrees')
    # an RSA key (TeePubKey::RSA: alg, n, e): the same known answer as
    # unit/kbs/runtime_data_jcs_rsa (n = bytes 0xc5 + 7i, e = 65537)
    n = bytes((0xc5 + 7 * i) & 0xff for i in range(256))
    rjwk = {'kty': 'RSA', 'alg': 'RSA-OAEP-256', 'n': kv.b64u(n), 'e': 'AQAB', 'kid': 'k'}
    want = bytes.fromhex('4724b949c6faf3edb9b7ece8bfbfa65fad4f79e1ebb8a17e3129798a67824dc7'
                         '40f3d0b1c6ee3455b4f22ac2366b8095') + bytes(16)
    got = kv.expected_report_data(kv.runtime_data('bm9uY2U=', kv.tee_pubkey(rjwk), ''))
    check(got == want, 'RSA REPORT_DATA %s, want %s' % (got.hex(), want.hex()))


@case('kbs/snp-release')
def t_snp(env):
    with Kbs(env) as k:
        c, key = handshake(k)
        got = rc.decrypt(key, c.resource(RES))
        check(got == SECRET, 'decrypted %r' % got)
        ev = [e['event'] for e in k.log()]
        check(ev[:5] == ['listening', 'tls', 'auth', 'attest', 'resource'], 'log events %r' % ev)
        att = [e for e in k.log() if e['event'] == 'attest'][0]
        check(att['measurement'] == env.m.hex(), 'logged measurement')


@case('kbs/snp-release-rsa')
def t_snp_rsa(env):
    # an RSA-2048 TEE key: the resource comes back RSA-OAEP-256 + A256GCM,
    # which jwcrypto (the reference client) decrypts
    with Kbs(env) as k:
        c, key = handshake(k, kty='RSA')
        got = rc.decrypt(key, c.resource(RES))
        check(got == SECRET, 'decrypted %r' % got)
        att = [e for e in k.log() if e['event'] == 'attest'][0]
        check((att['key_kty'], att['key_alg'], att['key_bits']) == ('RSA', 'RSA-OAEP-256', 2048),
              'logged key %r' % ((att.get('key_kty'), att.get('key_alg'), att.get('key_bits')),))
        res = [e for e in k.log() if e['event'] == 'resource'][0]
        check(res['jwe_alg'] == 'RSA-OAEP-256', 'logged JWE alg %r' % res.get('jwe_alg'))


@case('kbs/snp-vcek-in-evidence')
def t_snp_chain(env):
    with Kbs(env) as k:
        c, key = handshake(k, send_vcek=True)
        check(rc.decrypt(key, c.resource(RES)) == SECRET, 'secret')
        notes = [e for e in k.log() if e['event'] == 'attest'][0]['notes']
        check('VCEK from the evidence' in notes, 'notes %r' % notes)


@case('kbs/snp-report-v3')
def t_snp_v3(env):
    with Kbs(env, '--snp-min-version', '3') as k:
        c, key = handshake(k, version=3, cpuid=(0x19, 0x01, 0x01))
        check(rc.decrypt(key, c.resource(RES)) == SECRET, 'secret')
        expect_refusal(lambda: handshake(k, version=2), 'attest', 401, ATTEST_FAILED)
        expect_refusal(lambda: handshake(k, version=3, cpuid=(0x17, 0x31, 0)), 'attest', 401, ATTEST_FAILED)


@case('kbs/snp-vcek-tcb-required')
def t_snp_vcek_tcb(env):
    # the suite's VCEK has no TCB extensions: accepted by default (noted), refused
    # when the KBS requires them as Trustee does (the QEMU scenarios' set-up)
    with Kbs(env) as k:
        handshake(k)
    with Kbs(env, '--snp-require-vcek-tcb') as k:
        expect_refusal(lambda: handshake(k), 'attest', 401, ATTEST_FAILED)


@case('kbs/tdx-release')
def t_tdx(env):
    with Kbs(env) as k:
        c, key = handshake(k, tee='tdx')
        check(rc.decrypt(key, c.resource(RES)) == SECRET, 'secret')
        att = [e for e in k.log() if e['event'] == 'attest'][0]
        check(att['measurement'] == env.m.hex() and att['tee'] == 'tdx', 'logged MRTD')


@case('kbs/snp-real-report-json')
def t_real_snp(env):
    # a real AMD-signed report through the JSON form and back: the bytes the
    # firmware signed come out again and the real VCEK -> ASK -> ARK chain holds
    d = os.path.join(REPO, 'tests', 'data', 'vectors', 'go-sev-guest')
    raw = open(os.path.join(d, 'attestation.bin'), 'rb').read()
    j = json.loads(json.dumps(rc.snp_report_json(raw)))
    back, _ = kv.snp_report_bytes(j)
    check(back[:0x330] == raw[:0x330], 'JSON -> bytes differs from the signed report')
    ask, ark = kv.load_certs(os.path.join(d, 'ask_ark_milan.pem'))
    trust = {'ark': ark, 'ask': ask, 'vcek': x509.load_der_x509_certificate(open(os.path.join(d, 'vcek.testcer'),
                                                                                    'rb').read())}
    claims, notes = kv.verify_snp({'attestation_report': j, 'cert_chain': None}, None, trust, 2)
    check(claims['measurement'] == 'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5'
                                   'a608eb0cf2e4872b01', 'measurement claim')
    check(claims['policy_debug_allowed'] is True and notes == ['VCEK from the KBS (offline store)'], 'claims/notes')
    j['measurement'][0] ^= 1
    try:
        kv.verify_snp({'attestation_report': j, 'cert_chain': None}, None, trust, 2)
        raise AssertionError('a changed measurement verified')
    except kv.Refused as e:
        check(str(e) == 'Report signature verification against VEK signature failed', str(e))
    j['measurement'][0] ^= 1
    j['reported_tcb']['snp'] += 1  # the VCEK's TCB extensions no longer match (and the signature)
    try:
        kv.verify_snp({'attestation_report': j, 'cert_chain': None}, None, trust, 2)
        raise AssertionError('a changed TCB verified')
    except kv.Refused:
        pass


@case('kbs/tdx-real-quote')
def t_real_tdx(env):
    d = os.path.join(REPO, 'tests', 'data', 'vectors', 'go-tdx-guest')
    q = open(os.path.join(d, 'tdx_prod_quote_SPR_E4.dat'), 'rb').read()[:4935]
    trust = {'root': kv.load_certs(os.path.join(d, 'trusted_root.pem'))[0]}
    claims, _ = kv.verify_tdx({'quote': base64.b64encode(q).decode(), 'cc_eventlog': None}, None, trust)
    check(len(claims['measurement']) == 96, 'MRTD claim')
    bad = bytearray(q)
    bad[48 + 136] ^= 1
    try:
        kv.verify_tdx({'quote': base64.b64encode(bytes(bad)).decode()}, None, trust)
        raise AssertionError('a changed MRTD verified')
    except kv.Refused as e:
        check(str(e) == 'quote signature verification failed', str(e))


@case('kbs/wrong-report-data')
def t_wrong_rd(env):
    with Kbs(env) as k:
        expect_refusal(lambda: handshake(k, rd_override=hashlib.sha384(b'other').digest() + bytes(16)),
                       'attest', 401, ATTEST_FAILED)
        why = [e for e in k.log() if e['event'] == 'refused'][0]['why']
        check(why == 'verify TEE evidence failed: Report Data Mismatch', why)
        expect_refusal(lambda: handshake(k, tee='tdx', rd_override=bytes(64)), 'attest', 401, ATTEST_FAILED)


@case('kbs/jwk-extra-members')
def t_jwk_extra(env):
    # Trustee parses tee-pubkey into kbs_types::TeePubKey and hashes that: members
    # beyond kty/crv/alg/x/y are not bound. A guest hashing its JWK with them fails.
    with Kbs(env) as k:
        c = k.client()
        key, pub = rc.tee_key()
        pub_x = dict(pub, use='enc', kid='tee')
        nonce = c.auth('snp')
        c.attest(pub_x, nonce, snp_ev(env, rc.report_data_for(nonce, pub)))
        check(rc.decrypt(key, c.resource(RES)) == SECRET, 'secret')
        c2 = k.client()
        nonce = c2.auth('snp')
        expect_refusal(lambda: c2.attest(pub_x, nonce, snp_ev(env, rc.report_data_for(nonce, pub_x))),
                       'attest', 401, ATTEST_FAILED)


@case('kbs/wrong-measurement')
def t_wrong_m(env):
    with Kbs(env, allow=[hashlib.sha384(b'another image').hexdigest()]) as k:
        c, key = handshake(k)  # attestation itself succeeds; the resource policy refuses
        expect_refusal(lambda: c.resource(RES), 'resource', 401, POLICY_DENY)
    with Kbs(env, '--deny-status', '403', allow=[base64.b64encode(hashlib.sha384(b'x').digest()).decode()]) as k:
        c, key = handshake(k)
        expect_refusal(lambda: c.resource(RES), 'resource', 403, POLICY_DENY)
    with Kbs(env, allow=[base64.b64encode(env.m).decode()]) as k:  # base64 form of the allowed value
        c, key = handshake(k)
        check(rc.decrypt(key, c.resource(RES)) == SECRET, 'base64 measurement in the policy')


@case('kbs/bad-signature')
def t_bad_sig(env):
    with Kbs(env) as k:
        def flipped(rd):
            ev = snp_ev(env, rd)
            ev['attestation_report']['measurement'][0] ^= 1
            return ev
        expect_refusal(lambda: handshake(k, evidence=flipped), 'attest', 401, ATTEST_FAILED)
        # signed by a VCEK of another (untrusted) chain, carried in the evidence or not
        expect_refusal(lambda: handshake(k, chain_dir=env.other), 'attest', 401, ATTEST_FAILED)
        expect_refusal(lambda: handshake(k, chain_dir=env.other, send_vcek=True), 'attest', 401, ATTEST_FAILED)
        whys = [e['why'] for e in k.log() if e['event'] == 'refused']
        check(whys == ['verify TEE evidence failed: Report signature verification against VEK signature failed'] * 2
              + ['verify TEE evidence failed: Certificate chain failed to verify'], whys)
        expect_refusal(lambda: handshake(k, vmpl=1), 'attest', 401, ATTEST_FAILED)


@case('kbs/replayed-nonce')
def t_replay(env):
    with Kbs(env) as k:
        a, b = k.client(), k.client()
        key, pub = rc.tee_key()
        na = a.auth('snp')
        nb = b.auth('snp')
        ev_a = snp_ev(env, rc.report_data_for(na, pub))
        # B presents evidence bound to A's nonce, with A's nonce and with its own
        expect_refusal(lambda: b.attest(pub, na, ev_a), 'attest', 401, ATTEST_FAILED)
        expect_refusal(lambda: b.attest(pub, nb, ev_a), 'attest', 401, ATTEST_FAILED)
        a.attest(pub, na, ev_a)
        # an attestation captured from the finished session A, replayed in a new session
        c = k.client()
        c.auth('snp')
        expect_refusal(lambda: c.attest(pub, na, ev_a), 'attest', 401, ATTEST_FAILED)
        whys = [e['why'] for e in k.log() if e['event'] == 'refused']
        check(whys[0].startswith('the nonce in the handshake session is different'), whys[0])


@case('kbs/missing-cookie')
def t_cookie(env):
    with Kbs(env) as k:
        c = k.client()
        key, pub = rc.tee_key()
        nonce = c.auth('snp')
        ev = snp_ev(env, rc.report_data_for(nonce, pub))
        expect_refusal(lambda: c.attest(pub, nonce, ev, cookie=False), 'attest', 401, ATTEST_FAILED)
        expect_refusal(lambda: c.resource(RES), 'resource', 401, TOKEN_NOT_FOUND)  # authed, not attested
        c.attest(pub, nonce, ev)
        expect_refusal(lambda: c.resource(RES, cookie=False), 'resource', 401, TOKEN_NOT_FOUND)
        c.cookie = '0' * 32
        expect_refusal(lambda: c.resource(RES), 'resource', 401, TOKEN_NOT_FOUND)


@case('kbs/session-expiry')
def t_expiry(env):
    with Kbs(env, '--session-minutes', '0.02') as k:
        c, key = handshake(k)
        time.sleep(1.5)
        expect_refusal(lambda: c.resource(RES), 'resource', 401, TOKEN_NOT_FOUND)


@case('kbs/attest-again')
def t_again(env):
    with Kbs(env) as k:
        c = k.client()
        key, pub = rc.tee_key()
        nonce = c.auth('snp')
        ev = snp_ev(env, rc.report_data_for(nonce, pub))
        t1 = c.attest(pub, nonce, ev)['token']
        t2 = c.attest(pub, nonce, {'garbage': 1})['token']  # Trustee: the old token, unchecked
        check(t1 == t2 and t1.count('.') == 2, 'tokens')


@case('kbs/auth-errors')
def t_auth(env):
    with Kbs(env) as k:
        c = k.client()
        expect_refusal(lambda: c.auth('snp', version='0.1.1'), 'auth', 401, {
            'type': ERR + 'AttestationError', 'detail': 'Attestation error: RCAR handshake Auth failed: KBS Client '
            'Protocol Version Mismatch: expect =0.4.0 while the request is 0.1.1'})
        expect_refusal(lambda: c.auth('mock'), 'auth', 401, {
            'type': ERR + 'AttestationError', 'detail': 'Attestation error: RCAR handshake Auth failed: '
            'deserialize Request'})
        expect_refusal(lambda: c.call('x', 'GET', '/kbs/v0/frobnicate'), 'x', 404,
                       {'type': ERR + 'PluginNotFound', 'detail': 'Plugin frobnicate not found'})
        nonce = c.auth('snp')
        check(len(base64.b64decode(nonce, validate=True)) == 32, 'nonce is 32 bytes, standard base64')


@case('kbs/refuse-attestation')
def t_refuse(env):
    with Kbs(env, '--refuse-attestation') as k:
        expect_refusal(lambda: handshake(k), 'attest', 401, ATTEST_FAILED)


@case('kbs/resource-missing')
def t_missing(env):
    with Kbs(env) as k:
        c, key = handshake(k)
        expect_refusal(lambda: c.resource('cvminit/luks/none'), 'resource', 401,
                       {'type': ERR + 'PluginInternalError', 'detail': 'Plugin internal error'})
        expect_refusal(lambda: c.resource('cvminit/../luks'), 'resource', 401,
                       {'type': ERR + 'PluginInternalError', 'detail': 'Plugin internal error'})
    with Kbs(env, '--missing-status', '404') as k:
        c, key = handshake(k)
        expect_refusal(lambda: c.resource('cvminit/luks/none'), 'resource', 404,
                       {'type': ERR + 'InvalidRequestPath', 'detail': 'Request path cvminit/luks/none is invalid'})


@case('kbs/tls-pin-and-name')
def t_tls(env):
    def fails(kbs, want, **kw):
        try:
            kbs.client(**kw).auth('snp')
        except ssl.SSLCertVerificationError as e:
            check(want in str(e), 'TLS error %r, want %r' % (str(e), want))
            return
        raise AssertionError('TLS accepted (want %s)' % want)
    with Kbs(env) as k:
        fails(k, 'unable to get local issuer certificate', ca='other-ca')
        fails(k, "Hostname mismatch, certificate is not valid for 'other.test'", name='other.test')
    with Kbs(env, cert='wrong-name') as k:
        fails(k, "Hostname mismatch, certificate is not valid for 'kbs.test'")
    with Kbs(env, cert='other-server') as k:
        fails(k, 'unable to get local issuer certificate')
    with Kbs(env, cert='expired') as k:
        fails(k, 'certificate has expired')


@case('kbs/hang')
def t_hang(env):
    for where, stage in (('connect', 'auth'), ('attest', 'attest'), ('resource', 'resource')):
        with Kbs(env, '--hang-at', where) as k:
            c = k.client(timeout=1.5)
            t0 = time.monotonic()
            try:
                key, pub = rc.tee_key()
                nonce = c.auth('snp')
                check(stage != 'auth', 'auth answered')
                c.attest(pub, nonce, snp_ev(env, rc.report_data_for(nonce, pub)))
                check(stage != 'attest', 'attest answered')
                c.resource(RES)
                raise AssertionError('answered at %s' % where)
            except (socket.timeout, TimeoutError):
                check(time.monotonic() - t0 < 5, 'timeout took too long')
            check(any(e['event'] == 'hang' for e in k.log()), 'no hang in the log')


@case('kbs/tampered-jwe')
def t_tamper(env):
    for how in ('tag', 'ciphertext', 'encrypted_key', 'epk', 'alg', 'truncated', 'not-json'):
        with Kbs(env, '--tamper-jwe', how) as k:
            c, key = handshake(k)
            body = c.resource(RES)
            try:
                rc.decrypt(key, body)
                raise AssertionError('%s: jwcrypto decrypted a tampered JWE' % how)
            except (JWException, ValueError, KeyError, TypeError):
                pass
            check([e for e in k.log() if e['event'] == 'resource'][0]['tampered'] == how, 'log')


@case('kbs/replayed-jwe')
def t_replayed_jwe(env):
    # the host keeps a genuine answer of an earlier session and serves it again:
    # it is sealed to that session's key, a new one cannot open it
    rec = env.f('recorded')
    with Kbs(env, '--record-jwe', rec) as k:
        c, old_key = handshake(k)
        first = c.resource(RES)
    saved = os.path.join(rec, 'cvminit_luks_root.jwe')
    check(open(saved, 'rb').read() == first, 'the recorded JWE is what was sent')
    with Kbs(env, '--replay-jwe', saved) as k:
        c, key = handshake(k)
        body = c.resource(RES)
        check(body == first, 'the replayed JWE is the recorded one')
        check(rc.decrypt(old_key, body) == SECRET, 'control: the earlier key opens it')
        try:
            rc.decrypt(key, body)
            raise AssertionError('a replayed JWE opened with the new key')
        except (JWException, ValueError):
            pass


@case('kbs/jwe-shape')
def t_shape(env):
    # what Trustee's kbs_types::Response serialises: these members, no aad; the
    # protected header {"alg","enc","epk":{crv,kty,x,y}} and AAD = its base64url
    with Kbs(env) as k:
        c, key = handshake(k)
        j = json.loads(c.resource(RES))
        check(list(j) == ['protected', 'encrypted_key', 'iv', 'ciphertext', 'tag'], 'members %r' % list(j))
        h = json.loads(kv.b64u_dec(j['protected']))
        check(list(h) == ['alg', 'enc', 'epk'] and h['alg'] == 'ECDH-ES+A256KW' and h['enc'] == 'A256GCM', h)
        check(list(h['epk']) == ['crv', 'kty', 'x', 'y'], h['epk'])
        check(len(kv.b64u_dec(j['encrypted_key'])) == 40 and len(kv.b64u_dec(j['iv'])) == 12
              and len(kv.b64u_dec(j['tag'])) == 16, 'sizes')


@case('kbs/listens-on-loopback-only')
def t_loopback(env):
    with Kbs(env) as k:
        want = '0100007F:%04X' % k.port
        rows = [ln.split() for ln in open('/proc/net/tcp').read().splitlines()[1:]]
        mine = [r[1] for r in rows if r[3] == '0A' and r[1].endswith(':%04X' % k.port)]
        check(mine == [want], 'listening sockets %r, want only %s' % (mine, want))


def main():
    only = sys.argv[1:]
    work = tempfile.mkdtemp(prefix='kbs-test.', dir=os.environ.get('KBS_TEST_DIR') or None)
    env = Env(work)
    failed = passed = 0
    for name, fn in CASES:
        if only and name.split('/', 1)[1] not in only:
            continue
        try:
            fn(env)
            print('ok - ' + name, flush=True)
            passed += 1
        except Exception as e:  # a failed check or an unexpected error: not ok, with the reason
            print('not ok - %s\n# %s: %s' % (name, type(e).__name__, e), flush=True)
            failed += 1
    print('%d passed, %d failed' % (passed, failed))
    if failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print('# work dir kept: ' + work)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
