#!/usr/bin/env bash
# ahead serve and TLS: a non-loopback address is refused without TLS (and
# served with --insecure); with --tls-cert/--tls-key (libmicrohttpd's GnuTLS
# support) the API answers over HTTPS with that certificate, plain HTTP to
# the same port gets no answer, and the CLI's --server https://... works
# with the CA given ($AHEAD_CA_FILE names the CA to trust).
set -u
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 0; }
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 0; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cat >"$T/p.ini" <<'EOF'
[ahead]
unknown_tenants = default
[pool edge]
capacity = cpu=4, memory=8Gi
[class standard]
priority = 50
quantile = 0.95
[tenant *]
EOF

# 1. a non-loopback address without TLS: refused, naming the way out
check "plain non-loopback refused" 2 "not a loopback address.*--tls-cert.*--insecure" -- \
  "$A" serve --policy "$T/p.ini" --db "$T/a.db" --listen 0.0.0.0:$(free_port)
check "half a TLS pair refused" 2 "go together" -- \
  "$A" serve --policy "$T/p.ini" --db "$T/a.db" --listen 127.0.0.1:$(free_port) --tls-cert "$T/none.pem"
check "missing certificate file named" 1 "none.pem" -- \
  "$A" serve --policy "$T/p.ini" --db "$T/a.db" --listen 127.0.0.1:$(free_port) --tls-cert "$T/none.pem" \
  --tls-key "$T/none.key"

# 2. --insecure serves plain HTTP on all addresses
port=$(free_port)
"$A" serve --policy "$T/p.ini" --db "$T/b.db" --listen 0.0.0.0:$port --insecure --admin-token-file "$T/tok-b" \
  >"$T/b.out" 2>"$T/b.err" &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
check "insecure serves plain HTTP" 0 '"ok"' -- curl -fsS "http://127.0.0.1:$port/healthz"
kill $pid; wait $pid 2>/dev/null

# 3. HTTPS with a self-signed certificate for 127.0.0.1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || die "openssl could not make a certificate"
port=$(free_port)
"$A" serve --policy "$T/p.ini" --db "$T/c.db" --listen 127.0.0.1:$port --tls-cert "$T/cert.pem" \
  --tls-key "$T/key.pem" --admin-token-file "$T/tok" >"$T/c.out" 2>"$T/c.err" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do curl -fs --cacert "$T/cert.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
check "HTTPS healthz with the CA" 0 '"ok"' -- curl -fsS --cacert "$T/cert.pem" "https://127.0.0.1:$port/healthz"
check "HTTPS refused without trusting the certificate" 60 "" -- curl -fsS "https://127.0.0.1:$port/healthz"
out=$(curl -s -m 3 "http://127.0.0.1:$port/healthz" 2>&1); rc=$?
ok "plain HTTP to the TLS port gets no JSON" '[ $rc -ne 0 ] || ! grep -q "\"ok\"" <<<"$out"'
subj=$(echo | openssl s_client -connect 127.0.0.1:$port -servername 127.0.0.1 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
ok "the daemon presents the given certificate" '[[ "$subj" == *"CN = 127.0.0.1"* || "$subj" == *"CN=127.0.0.1"* ]]'
tok=$(cat "$T/tok")
check "HTTPS API with a token" 0 '"outcome": "granted"' -- curl -fsS --cacert "$T/cert.pem" -H "Authorization: Bearer $tok" \
  -d '{"tenant": "t", "pool": "edge", "resources": {"cpu": "1"}}' "https://127.0.0.1:$port/v1/allocations"
check "the CLI over HTTPS" 0 "edge" -- env AHEAD_CA_FILE="$T/cert.pem" "$A" pool ls --server "https://127.0.0.1:$port" \
  --token "$tok"
kill $pid; wait $pid; check_rc "TLS daemon stops cleanly" 0 $?
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
