#!/usr/bin/python3
"""A test Key Broker Service speaking Trustee's KBS attestation protocol 0.4.0
(RCAR: /kbs/v0/auth, /kbs/v0/attest, /kbs/v0/resource/<repo>/<type>/<tag>) for
cvminit's tests. Listens on 127.0.0.1 only, over TLS with a test certificate.
See qemu-tests/kbs/README.md for the options, the log and what is checked.
Test material only: never point a real guest at it.
"""
import argparse
import base64
import datetime
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbs_verify as kv  # noqa: E402

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, utils  # noqa: E402

VERSION = '0.4.0'  # KBS_{MAJOR,MINOR,PATCH}_VERSION; the request must match exactly (=0.4.0)
ERR_PREFIX = 'https://github.com/confidential-containers/kbs/errors/'
TEES = ('az-snp-vtpm', 'az-tdx-vtpm', 'nvidia', 'sgx', 'snp', 'tdx', 'cca', 'csv', 'se', 'hygondcu', 'tpm',
        'sample', 'sampledevice')  # kbs_types::Tee
MAX_BODY = 2 * 1024 * 1024  # payload_request_size default: 2 MiB


class KbsError(Exception):
    """kbs/src/error.rs: an ErrorInformation body and 401 (404 for a bad path or plugin)."""

    def __init__(self, kind, detail, log=None, status=None):
        super().__init__(detail)
        self.kind, self.detail, self.why = kind, detail, log
        self.status = status or (404 if kind in ('InvalidRequestPath', 'PluginNotFound') else 401)


def attest_failed(why):
    # Error::AttestationError(RcarAttestFailed{source}): the source is not in the text
    return KbsError('AttestationError', 'Attestation error: RCAR handshake Attest failed', why)


def auth_failed(why):
    # RcarAuthFailed shows its source (the outermost anyhow context)
    return KbsError('AttestationError', 'Attestation error: RCAR handshake Auth failed: ' + why, why)


class State:
    def __init__(self, ns):
        self.ns = ns
        self.lock = threading.Lock()
        self.sessions = {}
        self.log_lock = threading.Lock()
        self.counts = {}
        self.trust_snp = None
        if ns.snp_ark:
            self.trust_snp = {'ark': kv.load_certs(ns.snp_ark)[0], 'ask': kv.load_certs(ns.snp_ask)[0],
                              'vcek': kv.load_certs(ns.snp_vcek)[0] if ns.snp_vcek else None}
        self.trust_tdx = {'root': kv.load_certs(ns.tdx_root)[0]} if ns.tdx_root else None
        self.allowed = set()
        for m in ns.allow_measurement:
            self.allowed.add(parse_measurement(m))
        self.token_key = ec.generate_private_key(ec.SECP256R1())

    def log(self, **kw):
        kw = dict({'t': round(time.time(), 3)}, **kw)
        line = json.dumps(kw, sort_keys=True)
        with self.log_lock:
            if self.ns.log:
                with open(self.ns.log, 'a') as f:
                    f.write(line + '\n')
            if self.ns.verbose:
                print('kbs: ' + line, file=sys.stderr, flush=True)

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1
            return self.counts[what]


def parse_measurement(text):
    """An allowed measurement: 96 hex digits or base64 of 48 bytes -> lowercase hex."""
    t = text.strip()
    try:
        if len(t) == 96:
            return bytes.fromhex(t).hex()
        b = base64.b64decode(t, validate=True)
        if len(b) == 48:
            return b.hex()
    except ValueError:
        pass
    raise SystemExit('kbs: --allow-measurement %r: not 96 hex digits nor base64 of 48 bytes' % text)


def make_token(state, tee, claims, pubkey):
    """The attestation token: a JWT (ES256) with the claims the resource policy
    reads; Trustee's is an EAR token from the attestation service, which a client
    does not need to parse for the resource flow."""
    now = int(time.time())
    hdr = {'alg': 'ES256', 'typ': 'JWT'}
    body = {'iss': 'cvminit-test-kbs', 'iat': now, 'exp': now + 300,
            'submods': {'cpu0': {'ear.veraison.annotated-evidence': {tee: claims}}}, 'tee-pubkey': pubkey}
    si = kv.b64u(json.dumps(hdr, separators=(',', ':')).encode()) + '.' + \
        kv.b64u(json.dumps(body, separators=(',', ':')).encode())
    r, s = utils.decode_dss_signature(state.token_key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))
    return si + '.' + kv.b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))


def http_date(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime('%a, %d %b %Y %H:%M:%S GMT')


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'cvminit-test-kbs'
    sys_version = ''

    def log_message(self, fmt, *args):  # the JSON log replaces http.server's
        pass

    def setup(self):
        super().setup()
        self.connection.settimeout(self.server.state.ns.io_timeout)

    def handle(self):
        try:
            super().handle()
        except (OSError, ssl.SSLError) as e:
            self.server.state.log(event='connection-error', error=str(e))

    # ---- the endpoints ----------------------------------------------------
    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def do_PUT(self):
        self.dispatch('PUT')

    def do_DELETE(self):
        self.dispatch('DELETE')

    def dispatch(self, method):
        st = self.server.state
        ns = st.ns
        path = urlsplit(self.path).path
        n = st.count(path)
        length = self.headers.get('Content-Length')
        body = b''
        try:
            if length is not None:
                ln = int(length)
                if ln < 0 or ln > MAX_BODY:
                    raise ValueError
                body = self.rfile.read(ln)
        except ValueError:
            self.reply(400, b'bad Content-Length', None, path, method, kind='bad-request')
            return
        cookie = self.session_cookie()
        entry = {'method': method, 'path': path, 'cookie': cookie is not None, 'n': n}
        hang = ns.hang_at and path.startswith('/kbs/v0/' + ns.hang_at)
        if hang:
            st.log(event='hang', **entry)
            time.sleep(ns.hang_seconds)  # never answers (the client's deadline is shorter)
            self.close_connection = True
            return
        if ns.delay:
            time.sleep(ns.delay)
        try:
            if not path.startswith('/kbs/v0/'):
                raise KbsError('InvalidRequestPath', 'Request path %s is invalid' % path, status=404)
            parts = path[len('/kbs/v0/'):].split('/')
            plugin = parts[0]
            if plugin == 'auth' and method == 'POST':
                self.auth(body, entry)
            elif plugin == 'attest' and method == 'POST':
                self.attest(body, cookie, entry)
            elif plugin == 'resource':
                self.resource(method, parts[1:], cookie, entry)
            else:
                raise KbsError('PluginNotFound', 'Plugin %s not found' % plugin)
        except KbsError as e:
            err = json.dumps({'type': ERR_PREFIX + e.kind, 'detail': e.detail}, separators=(',', ':'))
            entry.update(status=e.status, error=e.kind, detail=e.detail)
            if e.why:
                entry['why'] = e.why
            st.log(event='refused', **entry)
            self.send_raw(e.status, err.encode(), None)
        except Exception as e:  # a bug here must show, not look like a refusal
            entry.update(status=500, error='internal', detail='%s: %s' % (type(e).__name__, e))
            st.log(event='internal-error', **entry)
            self.send_raw(500, b'test KBS internal error', None)
            self.close_connection = True

    def session_cookie(self):
        for h in self.headers.get_all('Cookie') or []:
            for part in h.split(';'):
                k, _, v = part.strip().partition('=')
                if k == 'kbs-session-id':
                    return v
        return None

    def auth(self, body, entry):
        st = self.server.state
        try:
            req = json.loads(body)
        except ValueError:
            raise auth_failed('deserialize Request')
        if not isinstance(req, dict) or not isinstance(req.get('version'), str) or req.get('tee') not in TEES \
                or 'extra-params' not in req:
            raise auth_failed('deserialize Request')
        v = req['version'].split('.')
        if len(v) != 3 or not all(x.isdigit() and (x == '0' or not x.startswith('0')) for x in v):
            raise auth_failed('failed to parse KBS version')
        if req['version'] != VERSION:
            raise auth_failed('KBS Client Protocol Version Mismatch: expect =%s while the request is %s'
                              % (VERSION, req['version']))
        expires = time.time() + st.ns.session_minutes * 60
        if st.ns.replay_session:
            # what the guest would meet if an earlier boot's attested session
            # came back: its cookie and nonce, its token, its TEE key
            with open(st.ns.replay_session) as f:
                old = json.load(f)
            sid, nonce = old['sid'], old['nonce']
            with st.lock:
                st.sessions[sid] = {'state': 'attested', 'tee': old['tee'], 'nonce': nonce, 'expires': expires,
                                    'token': old['token'], 'claims': old['claims'],
                                    'pubkey': kv.tee_pubkey(old['tee-pubkey'])}
            entry.update(replayed_session=sid[:8])
        else:
            sid = uuid.uuid4().hex
            nonce = base64.b64encode(os.urandom(32)).decode()  # make_nonce: 32 bytes, standard base64
            with st.lock:
                st.sessions[sid] = {'state': 'authed', 'tee': req['tee'], 'nonce': nonce, 'expires': expires}
        ch = json.dumps({'nonce': nonce, 'extra-params': ''}, separators=(',', ':'))
        entry.update(status=200, tee=req['tee'], session=sid[:8])
        st.log(event='auth', **entry)
        self.send_raw(200, ch.encode(), 'application/json', sid, expires)

    def attest(self, body, sid, entry):
        st = self.server.state
        ns = st.ns
        if sid is None:
            raise attest_failed('cookie not found')
        try:
            att = json.loads(body)
        except ValueError:
            raise attest_failed('deserialize Attestation')
        rd = att.get('runtime-data') if isinstance(att, dict) else None
        ev = att.get('tee-evidence') if isinstance(att, dict) else None
        if not isinstance(rd, dict) or not isinstance(rd.get('nonce'), str) or not isinstance(ev, dict) \
                or 'primary_evidence' not in ev or not isinstance(ev.get('additional_evidence'), str):
            raise attest_failed('deserialize Attestation')
        try:
            pubkey = kv.tee_pubkey(rd.get('tee-pubkey'))
        except ValueError as e:
            raise attest_failed('deserialize Attestation: %s' % e)
        with st.lock:
            sess = st.sessions.get(sid)
            if sess and sess['expires'] < time.time():
                del st.sessions[sid]
                sess = None
        if sess is None:
            raise attest_failed('session not found')
        if sess['state'] == 'attested':
            # Trustee answers an attested session's attest with the old token
            entry.update(status=200, session=sid[:8], replay=True)
            st.log(event='attest-again', **entry)
            self.send_raw(200, json.dumps({'token': sess['token']}).encode(), 'application/json', sid,
                          sess['expires'])
            return
        if rd['nonce'] != sess['nonce']:
            raise attest_failed('the nonce in the handshake session is different from the client side in KBS '
                                "protocol's Attestation message")
        if ev['additional_evidence']:
            raise attest_failed('additional evidence is not supported by the test KBS')
        runtime = kv.runtime_data(sess['nonce'], pubkey, ev['additional_evidence'])
        expect = kv.expected_report_data(runtime)
        entry.update(tee=sess['tee'], session=sid[:8], expected_report_data=expect.hex(), **kv.pubkey_summary(pubkey))
        if ns.refuse_attestation:
            raise attest_failed('refused by --refuse-attestation')
        try:
            if sess['tee'] == 'snp' and st.trust_snp:
                claims, notes = kv.verify_snp(ev['primary_evidence'], expect, st.trust_snp, ns.snp_min_version,
                                               ns.snp_require_vcek_tcb)
            elif sess['tee'] == 'tdx' and st.trust_tdx:
                claims, notes = kv.verify_tdx(ev['primary_evidence'], expect, st.trust_tdx)
            else:
                raise kv.Refused('no verifier for TEE %s' % sess['tee'])
        except kv.Refused as e:
            raise attest_failed('verify TEE evidence failed: %s' % e)
        token = make_token(st, sess['tee'], claims, pubkey)
        with st.lock:
            sess.update(state='attested', token=token, claims=claims, pubkey=pubkey)
        if ns.record_session:
            with open(ns.record_session, 'w') as f:
                json.dump({'sid': sid, 'nonce': sess['nonce'], 'tee': sess['tee'], 'token': token, 'claims': claims,
                           'tee-pubkey': rd['tee-pubkey']}, f)
        entry.update(status=200, measurement=claims['measurement'], notes=notes)
        st.log(event='attest', **entry)
        self.send_raw(200, json.dumps({'token': token}, separators=(',', ':')).encode(), 'application/json',
                      sid, sess['expires'])

    def resource(self, method, rpath, sid, entry):
        st = self.server.state
        ns = st.ns
        with st.lock:
            sess = st.sessions.get(sid) if sid else None
            if sess and sess['expires'] < time.time():
                del st.sessions[sid]
                sess = None
        if sess is None or sess['state'] != 'attested':
            raise KbsError('TokenNotFound', 'Attestation Token not found',
                           'no cookie' if sid is None else 'session not attested')
        entry.update(session=sid[:8], measurement=sess['claims']['measurement'])
        # the resource policy: the measurement must be an allowed one
        if sess['claims']['measurement'] not in st.allowed:
            raise KbsError('PolicyDeny', 'Access denied by policy', 'measurement not allowed',
                           status=ns.deny_status)
        if method != 'GET':
            raise KbsError('PluginInternalError', 'Plugin internal error', 'method %s' % method)
        names = [unquote(p) for p in rpath]
        if len(names) != 3 or not all(n and n not in ('.', '..') and '/' not in n for n in names):
            raise KbsError('PluginInternalError', 'Plugin internal error', 'resource path %r' % (rpath,))
        f = os.path.join(ns.resources, *names)
        if not os.path.isfile(f):
            if ns.missing_status == 404:
                raise KbsError('InvalidRequestPath', 'Request path %s is invalid' % '/'.join(names), status=404)
            raise KbsError('PluginInternalError', 'Plugin internal error', 'resource not found: ' + '/'.join(names))
        data = open(f, 'rb').read()
        try:
            jwe = kv.jwe_for(sess['pubkey'], data)
        except kv.Refused as e:
            raise KbsError('JweError', 'JWE failed', str(e))
        if ns.tamper_jwe:
            jwe = tamper(jwe, ns.tamper_jwe)
        if ns.record_jwe:
            os.makedirs(ns.record_jwe, exist_ok=True)
            with open(os.path.join(ns.record_jwe, '_'.join(names) + '.jwe'), 'w') as out:
                out.write(jwe)
        replayed = None
        if ns.replay_jwe:  # what a host could send: a genuine JWE of an earlier session
            jwe, replayed = open(ns.replay_jwe).read(), os.path.basename(ns.replay_jwe)
        entry.update(status=200, resource='/'.join(names), tampered=ns.tamper_jwe or None, replayed=replayed,
                     jwe_alg=kv.jwe_alg(jwe))
        st.log(event='resource', **entry)
        self.send_raw(200, jwe.encode(), 'application/json', sid, sess['expires'])

    # ---- replies -------------------------------------------------------------
    def send_raw(self, status, body, ctype, sid=None, expires=None):
        self.send_response(status)
        if ctype:
            self.send_header('Content-Type', ctype)
        if sid:
            # actix: Cookie::build(kbs-session-id, id).expires(timeout)
            self.send_header('Set-Cookie', 'kbs-session-id=%s; Expires=%s' % (sid, http_date(expires)))
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply(self, status, body, ctype, path, method, kind):
        self.server.state.log(event='refused', method=method, path=path, status=status, error=kind)
        self.send_raw(status, body, ctype)
        self.close_connection = True


def tamper(jwe, how):
    """What a host between the KBS and the guest (or a broken KBS) could send."""
    j = json.loads(jwe)
    if how == 'tag':
        t = bytearray(kv.b64u_dec(j['tag']))
        t[0] ^= 1
        j['tag'] = kv.b64u(bytes(t))
    elif how == 'ciphertext':
        c = bytearray(kv.b64u_dec(j['ciphertext']))
        c[0] ^= 1
        j['ciphertext'] = kv.b64u(bytes(c))
    elif how == 'encrypted_key':
        c = bytearray(kv.b64u_dec(j['encrypted_key']))
        c[-1] ^= 1
        j['encrypted_key'] = kv.b64u(bytes(c))
    elif how == 'epk':  # another ephemeral key: another wrapping key
        n = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
        h = json.loads(kv.b64u_dec(j['protected']))
        h['epk']['x'], h['epk']['y'] = kv.b64u(n.x.to_bytes(32, 'big')), kv.b64u(n.y.to_bytes(32, 'big'))
        j['protected'] = kv.b64u(json.dumps(h, separators=(',', ':')).encode())
    elif how == 'alg':
        h = json.loads(kv.b64u_dec(j['protected']))
        h['enc'] = 'A128GCM'
        j['protected'] = kv.b64u(json.dumps(h, separators=(',', ':')).encode())
    elif how == 'truncated':
        return jwe[:len(jwe) // 2]
    elif how == 'not-json':
        return 'this is not a JWE'
    return json.dumps(j, separators=(',', ':'))


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state, ctx):
        self.state = state
        self.ctx = ctx
        super().__init__(('127.0.0.1', state.ns.port), Handler)

    def finish_request(self, request, client_address):
        # TLS per connection in the handler thread: a client that never finishes
        # its handshake blocks only itself.
        st = self.state
        if st.ns.hang_at == 'connect':
            st.log(event='hang', path='(tcp)', n=st.count('(tcp)'))
            time.sleep(st.ns.hang_seconds)
            return
        request.settimeout(st.ns.io_timeout)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            st.log(event='tls-failed', error=str(e))
            return
        st.log(event='tls', version=tls.version())
        try:
            Handler(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--port', type=int, default=0, help='TCP port on 127.0.0.1 (0: chosen, printed)')
    p.add_argument('--port-file', help='write the port here once listening')
    p.add_argument('--cert', required=True, help='TLS server certificate chain (PEM)')
    p.add_argument('--key', required=True, help='its private key (PEM)')
    p.add_argument('--resources', required=True, help='directory: <repo>/<type>/<tag> files')
    p.add_argument('--snp-ark', help='SEV-SNP trust anchor (the test ARK)')
    p.add_argument('--snp-ask', help='its ASK, used when the evidence carries none')
    p.add_argument('--snp-vcek', help='the VCEK used when the evidence carries no cert_chain (offline store)')
    p.add_argument('--snp-min-version', type=int, default=2,
                   help='lowest SNP report version accepted (Trustee: 3, as the QEMU scenarios ask; the mock makes 3)')
    p.add_argument('--snp-require-vcek-tcb', action='store_true',
                   help="refuse a VCEK without AMD's TCB extensions, as Trustee does (default: accept, noted)")
    p.add_argument('--tdx-root', help='TDX trust anchor (the test SGX root)')
    p.add_argument('--allow-measurement', action='append', default=[],
                   help='resource policy: a measurement (SNP MEASUREMENT / TDX MRTD; hex or base64) allowed')
    p.add_argument('--log', help='append one JSON line per event to this file')
    p.add_argument('--verbose', action='store_true', help='the log lines on stderr too')
    p.add_argument('--session-minutes', type=float, default=5, help='session lifetime (Trustee: 5)')
    p.add_argument('--io-timeout', type=float, default=30, help='seconds a connection may stay idle')
    # knobs for the refusal tests
    p.add_argument('--refuse-attestation', action='store_true', help='every attest fails (401)')
    p.add_argument('--deny-status', type=int, default=401, choices=(401, 403),
                   help='status of a policy refusal (Trustee: 401 PolicyDeny; the protocol text: 403)')
    p.add_argument('--missing-status', type=int, default=401, choices=(401, 404),
                   help='a missing resource: 401 PluginInternalError (Trustee) or 404 (the protocol text)')
    p.add_argument('--hang-at', choices=('connect', 'auth', 'attest', 'resource'),
                   help='never answer from this point on (connect: not even the TLS handshake)')
    p.add_argument('--hang-seconds', type=float, default=3600)
    p.add_argument('--delay', type=float, default=0, help='seconds before every answer')
    p.add_argument('--tamper-jwe', choices=('tag', 'ciphertext', 'encrypted_key', 'epk', 'alg', 'truncated',
                                            'not-json'), help='send a damaged JWE')
    p.add_argument('--record-jwe', metavar='DIR', help='keep every JWE sent as DIR/<repo>_<type>_<tag>.jwe')
    p.add_argument('--record-session', metavar='FILE',
                   help='keep the last attested session (cookie, nonce, token, TEE key) in FILE')
    p.add_argument('--replay-session', metavar='FILE',
                   help="answer every auth with that earlier session's cookie and nonce, still attested")
    p.add_argument('--replay-jwe', metavar='FILE', help='send this (earlier) JWE instead of a fresh one')
    ns = p.parse_args(argv)
    if not (ns.snp_ark or ns.tdx_root):
        p.error('give --snp-ark/--snp-ask or --tdx-root (or both)')
    if ns.snp_ark and not ns.snp_ask:
        p.error('--snp-ark needs --snp-ask')
    state = State(ns)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(ns.cert, ns.key)
    srv = Server(state, ctx)
    port = srv.server_address[1]
    if ns.port_file:
        tmp = ns.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % port)
        os.replace(tmp, ns.port_file)
    state.log(event='listening', port=port, pid=os.getpid())
    print('kbs: listening on 127.0.0.1:%d' % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
