#!/usr/bin/env bash
# Generates, at test time, the key chain of the mock TEE (test builds only):
# an ARK (self-signed) and an ASK (RSA, RSASSA-PSS SHA-384, as AMD's), and a
# VCEK certificate (EC P-384) signed by the ASK, plus the VCEK's private key,
# which goes into a test initramfs so the mock signs its reports with it.
#   mock-tee-chain.sh OUTDIR  ->  ark.pem ask.pem chain.pem vcek.pem vcek.key
# These keys are throwaway test material: never use them for anything else.
set -euo pipefail
out=${1:?usage: mock-tee-chain.sh OUTDIR}
mkdir -p "$out"
cd "$out"
pss=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sha384)
ca_ext=$(mktemp)
trap 'rm -f "$ca_ext"' EXIT
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$ca_ext"
openssl req -x509 -newkey rsa:3072 -nodes -keyout ark.key -subj "/O=cvminit test/CN=ARK-mock" -days 3650 \
	"${pss[@]}" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-out ark.pem 2>/dev/null
openssl req -new -newkey rsa:3072 -nodes -keyout ask.key -subj "/O=cvminit test/CN=SEV-mock" -out ask.csr 2>/dev/null
openssl x509 -req -in ask.csr -CA ark.pem -CAkey ark.key -CAcreateserial -days 3650 "${pss[@]}" \
	-extfile "$ca_ext" -out ask.pem 2>/dev/null
openssl ecparam -name secp384r1 -genkey -noout -out vcek.key
openssl req -new -key vcek.key -subj "/O=cvminit test/CN=SEV-VCEK" -out vcek.csr 2>/dev/null
openssl x509 -req -in vcek.csr -CA ask.pem -CAkey ask.key -CAcreateserial -days 3650 "${pss[@]}" \
	-out vcek.pem 2>/dev/null
cat ask.pem ark.pem > chain.pem
rm -f ask.csr vcek.csr ./*.srl
