#!/usr/bin/env bash
# Generates, at test time, the key chain of the mock TEE (test builds only):
# an ARK (self-signed) and an ASK (RSA, RSASSA-PSS SHA-384, as AMD's), and a
# VCEK certificate (EC P-384) signed by the ASK, plus the VCEK's private key,
# which goes into a test initramfs so the mock signs its reports with it.
#   mock-tee-chain.sh OUTDIR [--vcek-tcb BL,TEE,SNP,UCODE]
#     ->  ark.pem ask.pem chain.pem vcek.pem vcek.key
# --vcek-tcb gives the VCEK AMD's TCB extensions (blSPL, teeSPL, snpSPL,
# ucodeSPL, and hwID = the mock's CHIP_ID), as AMD's KDS issues them and as
# Trustee's verifier requires: they must equal the mock's MOCK_TEE_TCB.
# These keys are throwaway test material: never use them for anything else.
set -euo pipefail
out=${1:?usage: mock-tee-chain.sh OUTDIR [--vcek-tcb BL,TEE,SNP,UCODE]}
vcek_tcb=""
if [ "${2:-}" = --vcek-tcb ]; then
	vcek_tcb=${3:?--vcek-tcb wants BL,TEE,SNP,UCODE}
	[[ "$vcek_tcb" =~ ^[0-9]+,[0-9]+,[0-9]+,[0-9]+$ ]] || { echo "mock-tee-chain.sh: --vcek-tcb BL,TEE,SNP,UCODE" >&2; exit 2; }
fi
mkdir -p "$out"
cd "$out"
pss=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sha384)
ca_ext=$(mktemp)
vcek_ext=$(mktemp)
trap 'rm -f "$ca_ext" "$vcek_ext"' EXIT
if [ -n "$vcek_tcb" ]; then
	IFS=, read -r bl tee snp ucode <<<"$vcek_tcb"
	{
		echo "1.3.6.1.4.1.3704.1.3.1=ASN1:INTEGER:$bl"
		echo "1.3.6.1.4.1.3704.1.3.2=ASN1:INTEGER:$tee"
		echo "1.3.6.1.4.1.3704.1.3.3=ASN1:INTEGER:$snp"
		echo "1.3.6.1.4.1.3704.1.3.8=ASN1:INTEGER:$ucode"
		echo "1.3.6.1.4.1.3704.1.4=ASN1:FORMAT:HEX,OCTETSTRING:$(printf '5a%.0s' $(seq 64))"
	} > "$vcek_ext"
fi
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
	${vcek_tcb:+-extfile "$vcek_ext"} -out vcek.pem 2>/dev/null
cat ask.pem ark.pem > chain.pem
rm -f ask.csr vcek.csr ./*.srl
