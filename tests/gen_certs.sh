#!/usr/bin/env bash
# Makes a throwaway PKI for tests and local demos of meridian-node's mutual TLS:
#
#   gen_certs.sh DIR
#
# DIR/ca.pem, ca.key          the cluster CA (self-signed)
# DIR/node.pem, node.key      a region node: serverAuth + clientAuth (it also calls peers),
#                             SAN DNS:localhost, IP:127.0.0.1
# DIR/client.pem, client.key  a client signed by the cluster CA (clientAuth)
# DIR/rogue-ca.pem            another CA, unknown to the cluster
# DIR/rogue.pem, rogue.key    a client signed by the other CA: must be refused
#
# EC P-256 keys, 2-day validity. Needs only `openssl`. Idempotent: overwrites DIR's files.
set -euo pipefail
dir=${1:?usage: gen_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "$2" -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
leaf() {  # name subject ca usage [san]
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$4"
    if [[ -n ${5:-} ]]; then echo "subjectAltName=$5"; fi
  } >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 2 \
    -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "/CN=meridian-test-ca"
leaf node "/CN=meridian-node" ca "serverAuth,clientAuth" "DNS:localhost,IP:127.0.0.1"
leaf client "/CN=meridian-client" ca "clientAuth"
ca rogue-ca "/CN=rogue-ca"
leaf rogue "/CN=rogue-client" rogue-ca "clientAuth"
rm -f ./*.srl
chmod 600 ./*.key
