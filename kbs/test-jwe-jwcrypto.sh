#!/usr/bin/env bash
# JWEs made by python3-jwcrypto (an independent implementation) at test
# time, decrypted by the init's code (build/kbs-jwe-decrypt): the exact
# plaintext, and each tampering refused with its reason. Nothing committed.
# Debian's python3 (the python3-jwcrypto package), not whatever python3 is first on PATH.
set -uo pipefail
bin=${KBS_JWE_BIN:-build/kbs-jwe-decrypt}
pass=0 fail=0
t() { if [ "$2" = "$3" ]; then echo "ok - kbs-jwe/$1"; pass=$((pass+1)); else echo "not ok - kbs-jwe/$1"; echo "#   got:  $2"; echo "#   want: $3"; fail=$((fail+1)); fi; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"${KBS_PYTHON:-/usr/bin/python3}" - "$dir" <<'PY' || { echo "not ok - kbs-jwe/jwcrypto (python3-jwcrypto missing?)"; exit 1; }
import json, sys, base64
from jwcrypto import jwk, jwe
d = sys.argv[1]
key = jwk.JWK.generate(kty='EC', crv='P-256')
other = jwk.JWK.generate(kty='EC', crv='P-256')
priv = base64.urlsafe_b64decode(key.export(as_dict=True, private_key=True)['d'] + '==').hex()
open(f'{d}/d', 'w').write(priv)
def make(plain, k=key, hdr=None):
    h = hdr or {"alg": "ECDH-ES+A256KW", "enc": "A256GCM"}
    e = jwe.JWE(plain, json.dumps(h))
    e.add_recipient(k)
    # compact form: epk in the protected header, as Trustee puts it; then
    # Trustee's flattened members
    p, ek, iv, ct, tag = e.serialize(compact=True).split('.')
    return {"protected": p, "encrypted_key": ek, "iv": iv, "ciphertext": ct, "tag": tag}
secret = b"correct horse battery staple \x00\xff"
open(f'{d}/plain', 'w').write(secret.hex())
good = make(secret)
json.dump(good, open(f'{d}/good.json', 'w'))
bad = dict(good); ct = bytearray(base64.urlsafe_b64decode(bad['ciphertext'] + '==')); ct[0] ^= 1
bad['ciphertext'] = base64.urlsafe_b64encode(bytes(ct)).rstrip(b'=').decode()
json.dump(bad, open(f'{d}/ct.json', 'w'))
json.dump(make(secret, other), open(f'{d}/otherkey.json', 'w'))
a128 = make(secret, hdr={"alg": "ECDH-ES+A128KW", "enc": "A256GCM"})
json.dump(a128, open(f'{d}/a128.json', 'w'))
tag = dict(good); tb = bytearray(base64.urlsafe_b64decode(tag['tag'] + '==')); tb[3] ^= 0x80
tag['tag'] = base64.urlsafe_b64encode(bytes(tb)).rstrip(b'=').decode()
json.dump(tag, open(f'{d}/tag.json', 'w'))
hdr = dict(good); p = json.loads(base64.urlsafe_b64decode(hdr['protected'] + '==')); p['kid'] = 'x'
hdr['protected'] = base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b'=').decode()
json.dump(hdr, open(f'{d}/aad.json', 'w'))

# ---- KBS_TEE_KEY=rsa: RSA-OAEP-256 (SHA-256 for OAEP and MGF1) + A256GCM ----
import os
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
def u(s): return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
rkey = jwk.JWK.generate(kty='RSA', size=2048)
rother = jwk.JWK.generate(kty='RSA', size=2048)
pr = rkey.export(as_dict=True, private_key=True)
open(f'{d}/rsa', 'w').write(' '.join(u(pr[f]).hex() for f in ('n', 'e', 'd', 'p', 'q')))
def rmake(plain, k=rkey, alg="RSA-OAEP-256"):
    # Trustee's rsa_oaep256 header: {"alg","enc"} only, no whitespace
    e = jwe.JWE(plain, json.dumps({"alg": alg, "enc": "A256GCM"}, separators=(',', ':')),
                algs=[alg, "A256GCM"])
    e.add_recipient(k)
    p, ek, iv, ct, tag = e.serialize(compact=True).split('.')
    return {"protected": p, "encrypted_key": ek, "iv": iv, "ciphertext": ct, "tag": tag}
def put(name, o): json.dump(o, open(f'{d}/{name}.json', 'w'))
def flip(o, member, i, bit=1):
    o = dict(o); b = bytearray(u(o[member])); b[i] ^= bit; o[member] = b64(bytes(b)); return o
rgood = rmake(secret)
put('rsa-good', rgood)
put('rsa-ek', flip(rgood, 'encrypted_key', 100))
put('rsa-tag', flip(rgood, 'tag', 5, 0x40))
put('rsa-ct', flip(rgood, 'ciphertext', 0))
put('rsa-other', rmake(secret, rother))
put('rsa-rsa1_5', rmake(secret, alg='RSA1_5'))
put('rsa-oaep-sha1', rmake(secret, alg='RSA-OAEP'))
short = dict(rgood); short['encrypted_key'] = b64(u(rgood['encrypted_key'])[:-1])
put('rsa-short', short)
# by hand (cryptography, the test KBS's library): the header says
# RSA-OAEP-256; the OAEP hash and the MGF1 hash each SHA-256 or SHA-1
pub = rkey.get_op_key('encrypt')
def by_hand(oaep_hash, mgf_hash):
    cek, iv = os.urandom(32), os.urandom(12)
    prot = b64(b'{"alg":"RSA-OAEP-256","enc":"A256GCM"}')
    ek = pub.encrypt(cek, padding.OAEP(mgf=padding.MGF1(mgf_hash()), algorithm=oaep_hash(), label=None))
    ct = AESGCM(cek).encrypt(iv, secret, prot.encode())
    return {"protected": prot, "encrypted_key": b64(ek), "iv": b64(iv), "ciphertext": b64(ct[:-16]), "tag": b64(ct[-16:])}
put('rsa-hand-256-256', by_hand(hashes.SHA256, hashes.SHA256))
put('rsa-hand-sha1-oaep', by_hand(hashes.SHA1, hashes.SHA256))
put('rsa-hand-sha1-mgf1', by_hand(hashes.SHA256, hashes.SHA1))
PY
d=$(cat "$dir/d")
t decrypts-exact-plaintext "$("$bin" "$d" < "$dir/good.json")" "$(cat "$dir/plain")"
t changed-ciphertext "$("$bin" "$d" < "$dir/ct.json")" "error EBADMSG: the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)"
t changed-tag "$("$bin" "$d" < "$dir/tag.json")" "error EBADMSG: the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)"
t changed-protected-header "$("$bin" "$d" < "$dir/aad.json")" "error EBADMSG: the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)"
t other-recipient "$("$bin" "$d" < "$dir/otherkey.json")" "error EBADMSG: the JWE's content key does not unwrap (not encrypted to this boot's key, or changed)"
t other-alg "$("$bin" "$d" < "$dir/a128.json")" "error EINVAL: the JWE's alg is not ECDH-ES+A256KW (the only one this client offers)"
# RSA: the init's RSA-OAEP-256 path with a key jwcrypto made
read -r rn re rd rp rq < "$dir/rsa"
rsa() { "$bin" rsa "$rn" "$re" "$rd" "$rp" "$rq" < "$dir/$1.json"; }
E_UNWRAP="error EBADMSG: the JWE's content key does not unwrap (not encrypted to this boot's key, or changed)"
E_TAG="error EBADMSG: the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)"
E_ALG="error EINVAL: the JWE's alg is not RSA-OAEP-256 (the only one this client offers with an RSA key)"
t rsa-decrypts-exact-plaintext "$(rsa rsa-good)" "$(cat "$dir/plain")"
t rsa-changed-encrypted-key "$(rsa rsa-ek)" "$E_UNWRAP"
t rsa-changed-tag "$(rsa rsa-tag)" "$E_TAG"
t rsa-changed-ciphertext "$(rsa rsa-ct)" "$E_TAG"
t rsa-other-recipient "$(rsa rsa-other)" "$E_UNWRAP"
t rsa-refuses-rsa1_5 "$(rsa rsa-rsa1_5)" "$E_ALG"
t rsa-refuses-rsa-oaep-sha1 "$(rsa rsa-oaep-sha1)" "$E_ALG"
t rsa-refuses-ec-jwe "$(rsa good)" "$E_ALG"
t ec-refuses-rsa-jwe "$("$bin" "$d" < "$dir/rsa-good.json")" "error EINVAL: the JWE's alg is not ECDH-ES+A256KW (the only one this client offers)"
t rsa-short-encrypted-key "$(rsa rsa-short)" "error EINVAL: the JWE's encrypted_key, iv or tag has the wrong length (want 256, 12, 16 bytes)"
# OAEP and MGF1 both SHA-256: the control decrypts, either hash SHA-1 does not
t rsa-by-hand-sha256-sha256 "$(rsa rsa-hand-256-256)" "$(cat "$dir/plain")"
t rsa-oaep-hash-sha1 "$(rsa rsa-hand-sha1-oaep)" "$E_UNWRAP"
t rsa-mgf1-sha1 "$(rsa rsa-hand-sha1-mgf1)" "$E_UNWRAP"
echo "# kbs-jwe: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
