#!/usr/bin/env bash
# `ahead serve` with a [source] in its policy against a real Prometheus: the
# test starts prometheus-node-exporter and prometheus (scraping it every
# second) on free loopback ports and the daemon with a [source node] reading
# node_memory_MemAvailable_bytes every second; the history the daemon serves
# (GET /v1/workloads/node/history) holds exactly Prometheus's own
# query_range values at the same times, and new points keep arriving; with
# Prometheus stopped the daemon keeps serving and warns; a SIGHUP with the
# source removed stops the polls.
# Skips (exit 0, with a message) when the Debian packages prometheus and
# prometheus-node-exporter (or python3, curl) are absent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PROM=$(command -v prometheus || true)
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
for need in "$PROM" "$NE" "$(command -v python3 || true)" "$(command -v curl || true)"; do
  if [ -z "$need" ]; then
    echo "SKIP: needs prometheus, prometheus-node-exporter, python3 and curl" \
      "(apt-get install prometheus prometheus-node-exporter)"
    exit 0
  fi
done

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
NE_PORT=$(free_port)
P_PORT=$(free_port)
A_PORT=$(free_port)
URL=http://127.0.0.1:$P_PORT

"$NE" --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults --collector.meminfo \
  >"$T/ne.log" 2>&1 &
pids+=($!)
cat >"$T/prom.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:$NE_PORT"]
EOF
"$PROM" --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$P_PORT" \
  >"$T/prom.log" 2>&1 &
prom_pid=$!
pids+=($prom_pid)

instant() {
  curl -sfG "$URL/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' \
      2>/dev/null || true
}
n=""
for _ in $(seq 120); do
  n=$(instant 'count_over_time(node_memory_MemAvailable_bytes[1m])')
  [ -n "$n" ] && [ "$n" -ge 10 ] && break
  sleep 0.5
done
[ -n "$n" ] && [ "$n" -ge 10 ] || die "prometheus has no 10 samples of node-exporter after 60 s: $(tail -5 "$T/prom.log")"
ok

BASE="[pool p]
capacity = cpu=4, memory=8Gi
[class c]
priority = 1
"
printf '%s' "$BASE" >"$T/p.ini"
cat >>"$T/p.ini" <<EOF
[source node]
kind = prometheus
url = $URL
query = node_memory_MemAvailable_bytes
workload = node
dim = memory
unit = bytes
step = 1s
every = 1s
lookback = 30s
EOF
"$A" policy apply "$T/p.ini" --db "$T/l.db" >/dev/null || die "policy apply"
"$A" serve --policy "$T/p.ini" --db "$T/l.db" --listen "127.0.0.1:$A_PORT" --admin-token-file "$T/tok" \
  >"$T/o" 2>"$T/e" &
serve_pid=$!
pids+=($serve_pid)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$A_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$A_PORT/healthz" >/dev/null || die "daemon did not start: $(cat "$T/e")"
tok=$(cat "$T/tok")
get() { curl -s -H "Authorization: Bearer $tok" "http://127.0.0.1:$A_PORT$1"; }

# the history as "epoch_seconds value" lines
hist() {
  get "/v1/workloads/node/history?dim=memory" | python3 -c '
import datetime, json, sys
d = json.load(sys.stdin)
for p in d["points"]:
    s = p["time"].rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S"
    t = datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc)
    print(repr(t.timestamp()), repr(float(p["mean"])))'
}
n=0
for _ in $(seq 100); do
  n=$(hist 2>/dev/null | wc -l || true)
  [ "$n" -ge 20 ] && break
  sleep 0.2
done
[ "$n" -ge 20 ] || die "the daemon's history has $n points, want 20 (the lookback): $(get "/v1/workloads/node/history?dim=memory" | head -c 300); $(tail -5 "$T/e")"
ok
grep -q 'msg=source_started source=node' "$T/e" && ok || bad "no source_started line: $(tail -3 "$T/e")"
grep -q 'msg=source_polled source=node workload=node dim=memory samples=[1-9]' "$T/e" && ok ||
  bad "no source_polled line with samples: $(tail -3 "$T/e")"

# the same times and values as Prometheus's own query_range over them
hist >"$T/got"
first=$(head -1 "$T/got" | cut -d' ' -f1)
last=$(tail -1 "$T/got" | cut -d' ' -f1)
curl -sfG "$URL/api/v1/query_range" --data-urlencode "query=node_memory_MemAvailable_bytes" \
  --data-urlencode "start=$first" --data-urlencode "end=$last" --data-urlencode "step=1s" |
  python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
assert len(r) == 1, len(r)
for t, v in r[0]["values"]:
    print(repr(float(t)), repr(float(v)))' >"$T/ref"
python3 - "$T/ref" "$T/got" <<'EOF' && ok || bad "the daemon's history differs from Prometheus"
import sys
ref = [l.split() for l in open(sys.argv[1])]
got = [l.split() for l in open(sys.argv[2])]
if len(ref) != len(got):
    sys.exit("points: %d from Prometheus, %d in the history" % (len(ref), len(got)))
for (rt, rv), (gt, gv) in zip(ref, got):
    if float(rt) != float(gt) or float(rv) != float(gv):
        sys.exit("Prometheus %s %s != history %s %s" % (rt, rv, gt, gv))
EOF
# one point a second, no gaps, none twice
python3 - "$T/got" <<'EOF' && ok || bad "the history's times are not one a second"
import sys
t = [float(l.split()[0]) for l in open(sys.argv[1])]
assert all(b - a == 1.0 for a, b in zip(t, t[1:])), t
EOF

# new points keep arriving
sleep 3
m=$(hist | tail -1 | cut -d' ' -f1)
python3 -c "import sys; sys.exit(0 if float('$m') >= float('$last') + 2 else 1)" && ok ||
  bad "no new points: last $last, then $m"

# Prometheus down: the daemon keeps serving and warns, every poll
kill "$prom_pid"
wait "$prom_pid" 2>/dev/null || true
# (a Prometheus shutting down may first answer 503: the poll after says no answer)
for _ in $(seq 50); do grep -q 'msg=source_failed source=node err=".*no answer' "$T/e" && break; sleep 0.2; done
grep -q 'msg=source_failed source=node err=".*no answer' "$T/e" && ok || bad "no warning with Prometheus down: $(tail -3 "$T/e")"
curl -fs "http://127.0.0.1:$A_PORT/healthz" >/dev/null && ok || bad "the daemon stopped serving with Prometheus down"
kill -0 "$serve_pid" && ok || bad "the daemon exited"

# SIGHUP with the source removed: the polls stop
printf '%s' "$BASE" >"$T/p.ini"
kill -HUP "$serve_pid"
for _ in $(seq 50); do grep -q 'msg=source_stopped source=node' "$T/e" && break; sleep 0.2; done
grep -q 'msg=source_stopped source=node' "$T/e" && ok || bad "no source_stopped after SIGHUP: $(tail -3 "$T/e")"
before=$(grep -c 'source=node' "$T/e")
sleep 2.5
after=$(grep -c 'source=node' "$T/e")
ok "no polls after the source was removed" '[ "$before" = "$after" ]'
curl -fs "http://127.0.0.1:$A_PORT/healthz" >/dev/null && ok || bad "the daemon stopped after SIGHUP"
finish cli_prometheus_source
