#!/usr/bin/env bash
# GET /v1/anomalies and /v1/workloads/NAME/anomalies: the anomaly events
# the usage history holds (stored by `ahead anomalies --store W:D`), the
# same events `ahead anomalies` printed, filtered by workload, since and
# limit; none (an empty list) before any history exists; tenants may not read them.
set -u
. "$(dirname "$0")/lib.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cat >"$T/p.ini" <<'P'
[ahead]
unknown_tenants = default
[pool edge]
capacity = cpu=4, memory=8Gi
[class standard]
priority = 50
quantile = 0.95
[tenant *]
P
# a flat series with two spikes, 5-minute steps
python3 - "$T/s.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("timestamp,value\n")
    for i in range(2000):
        v = 50 + (i % 7) * 0.1
        if i in (900, 1600):
            v = 400
        f.write("%d,%.2f\n" % (1700000000 + 300 * i, v))
PY
"$A" policy apply "$T/p.ini" --db "$T/l.db" >/dev/null || die "policy apply"
port=$(free_port)
start() {
  "$A" serve --policy "$T/p.ini" --db "$T/l.db" --listen 127.0.0.1:$port --admin-token-file "$T/tok" >"$T/o" 2>"$T/e" &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  die "daemon did not start: $(cat "$T/e")"
}
start
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT
tok=$(cat "$T/tok")
get() { curl -s -H "Authorization: Bearer $tok" "http://127.0.0.1:$port$1"; }
n=$(get /v1/anomalies | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
ok "no history: no anomalies" '[ "$n" = 0 ]'
kill $pid; wait $pid 2>/dev/null
"$A" anomalies --input "$T/s.csv" --store svc:cpu --db "$T/l.db" -o json >"$T/local.json" 2>/dev/null || die "anomalies --store"
start
get /v1/workloads/svc/anomalies >"$T/api.json"
python3 - "$T/local.json" "$T/api.json" <<'PY' && ok || bad "API anomalies = the stored events"
import json, sys
local = json.load(open(sys.argv[1]))
ev = local["events"] if isinstance(local, dict) else local
api = json.load(open(sys.argv[2]))["items"]
assert len(api) == len(ev) and len(api) >= 2, (len(api), len(ev))
for a, e in zip(api, ev):
    assert a["workload"] == "svc" and a["dim"] == "cpu", a
    assert a["start"] == e["start"] and a["end"] == e["end"], (a, e)
PY
n=$(get "/v1/anomalies?limit=1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
ok "limit keeps the newest" '[ "$n" = 1 ]'
n=$(get "/v1/anomalies?since=2030-01-01T00:00:00Z" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
ok "since filters" '[ "$n" = 0 ]'
n=$(get "/v1/workloads/other/anomalies" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
ok "another workload has none" '[ "$n" = 0 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/anomalies?since=yesterday-ish")
ok "bad since is a 400" '[ "$code" = 400 ]'
ttok=$(curl -s -H "Authorization: Bearer $tok" -d '{"name": "t", "role": "tenant", "tenant": "t"}' \
  "http://127.0.0.1:$port/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ttok" "http://127.0.0.1:$port/v1/anomalies")
ok "a tenant token may not read anomalies" '[ "$code" = 403 ]'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
