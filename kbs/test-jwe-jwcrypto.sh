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
PY
d=$(cat "$dir/d")
t decrypts-exact-plaintext "$("$bin" "$d" < "$dir/good.json")" "$(cat "$dir/plain")"
t changed-ciphertext "$("$bin" "$d" < "$dir/ct.json")" "error EBADMSG: the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)"
t changed-tag "$("$bin" "$d" < "$dir/tag.json")" "error EBADMSG: the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)"
t changed-protected-header "$("$bin" "$d" < "$dir/aad.json")" "error EBADMSG: the JWE does not decrypt (A256GCM tag mismatch: changed in transit?)"
t other-recipient "$("$bin" "$d" < "$dir/otherkey.json")" "error EBADMSG: the JWE's content key does not unwrap (not encrypted to this boot's key, or changed)"
t other-alg "$("$bin" "$d" < "$dir/a128.json")" "error EINVAL: the JWE's alg is not ECDH-ES+A256KW (the only one this client offers)"
echo "# kbs-jwe: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
