#!/usr/bin/env bash
# ahead shadow import --prometheus against a real Prometheus: the test starts
# prometheus-node-exporter and prometheus (scraping it every second) on free
# loopback ports, waits for ~20 samples, reads query_range itself with curl
# and checks that ahead lands the same times and values in the shadow store
# (in base units), at the step asked, split into several requests past
# Prometheus's 11,000 points; then the error cases: unreachable URL, bad
# PromQL (HTTP 400 bad_data), several series without --match, an empty
# result, a server that is not Prometheus (node-exporter answers HTML), NaN/Inf values.
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
DEAD_PORT=$(free_port) # nothing listens there
URL=http://127.0.0.1:$P_PORT
DB=(--db "$T/ahead.db")

"$NE" --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults --collector.meminfo \
  --collector.cpu >"$T/ne.log" 2>&1 &
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
pids+=($!)

# instant QUERY's first value, or nothing
instant() {
  curl -sfG "$URL/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' \
      2>/dev/null || true
}
n=""
for _ in $(seq 120); do
  n=$(instant 'count_over_time(node_memory_MemAvailable_bytes[1m])')
  [ -n "$n" ] && [ "$n" -ge 20 ] && break
  sleep 0.5
done
[ -n "$n" ] && [ "$n" -ge 20 ] || die "prometheus has no 20 samples of node-exporter after 60 s: $(tail -5 "$T/prom.log")"
ok

# range query as Prometheus answers it: "epoch_seconds value" lines
range() { # QUERY START END STEP
  curl -sfG "$URL/api/v1/query_range" --data-urlencode "query=$1" --data-urlencode "start=$2" \
    --data-urlencode "end=$3" --data-urlencode "step=$4" |
    python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
assert len(r) == 1, len(r)
for t, v in r[0]["values"]:
    print(repr(float(t)), v)'
}
# the shadow series as "epoch_seconds mean" lines: the values from the
# lossless export (-o json prints 10 significant digits), each point's
# width and count, and the series' granularity, from -o json
shadow() { # WORKLOAD DIM WIDTH_S
  "$A" shadow query "${DB[@]}" --workload "$1" --dim "$2" -o json >"$T/q.json"
  "$A" shadow export "${DB[@]}" --workload "$1" --dim "$2" >"$T/q.csv"
  python3 - "$T/q.json" "$T/q.csv" "$3" <<'EOF'
import csv, datetime, json, sys
d = json.load(open(sys.argv[1]))
w = float(sys.argv[3])
assert float(d["granularity_s"]) == w, ("granularity", d["granularity_s"])
for p in d["points"]:
    assert float(p["width_s"]) == w and p["count"] == 1, p
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == len(d["points"]), (len(rows), len(d["points"]))
for r in rows:
    s = r["time"].rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S"
    t = datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc)
    print(repr(t.timestamp()), repr(float(r["value"])))
EOF
}
# do reference lines (times, values x FACTOR) equal the shadow's exactly?
same() { # REF SHADOW FACTOR
  python3 - "$1" "$2" "$3" <<'EOF'
import sys
ref = [l.split() for l in open(sys.argv[1])]
got = [l.split() for l in open(sys.argv[2])]
f = float(sys.argv[3])
if len(ref) != len(got):
    sys.exit("points: %d from Prometheus, %d in the shadow" % (len(ref), len(got)))
for (rt, rv), (gt, gv) in zip(ref, got):
    if float(rt) != float(gt) or float(rv) * f != float(gv):
        sys.exit("Prometheus %s %s (x%s) != shadow %s %s" % (rt, rv, f, gt, gv))
EOF
}

NOW=$(date +%s)
END=$((NOW - 3)) # samples at or before END are all in
START=$((END - 9))

# memory: 10 points 1 s apart, bytes as they are
Q='node_memory_MemAvailable_bytes'
range "$Q" "$START" "$END" 1s >"$T/mem.ref"
[ "$(wc -l <"$T/mem.ref")" = 10 ] || die "reference: want 10 points, got $(wc -l <"$T/mem.ref")"
expect_rc 0 "imported 10 samples into node/memory from node_memory_MemAvailable_bytes{instance=\"127.0.0.1:$NE_PORT\",job=\"node\"} (0 missing values skipped, 1 request)" -- \
  shadow import "${DB[@]}" --prometheus "$URL/" --query "$Q" --workload node --dim memory --unit bytes \
  --start "$START" --end "$(date -u -d "@$END" +%Y-%m-%dT%H:%M:%SZ)" --step 1s
shadow node memory 1 >"$T/mem.got"
same "$T/mem.ref" "$T/mem.got" 1 && ok || bad "memory series differs from Prometheus"

# cpu: a rate in cores at a 2 s step lands in millicores, 2 s buckets
Q='rate(node_cpu_seconds_total{mode="idle"}[5s])'
range "sum($Q)" "$((START - START % 2))" "$END" 2s >"$T/cpu.ref"
expect_rc 0 "imported $(wc -l <"$T/cpu.ref") samples into node/cpu" -- shadow import "${DB[@]}" --prometheus "$URL" --query "sum($Q)" \
  --workload node --dim cpu --unit cores --start "$START" --end "$END" --step 2s
shadow node cpu 2 >"$T/cpu.got"
same "$T/cpu.ref" "$T/cpu.got" 1000 && ok || bad "cpu series (cores -> millicores) differs from Prometheus"

# times exactly: vector(time()) is each step's own time
expect_rc 0 "imported 10 samples" -- shadow import "${DB[@]}" --prometheus "$URL" --query 'vector(time())' \
  --workload clock --dim custom --start "$START" --end "$END" --step 1s
shadow clock custom 1 | awk '$1 != $2 { bad = 1 } END { exit bad }' && ok || bad "vector(time()) is not its own time"

# a range past 11,000 points: 12 s at 1 ms is 12,001 points in two requests;
# at every whole second they equal the 1 s reference
Q='node_memory_MemAvailable_bytes'
expect_rc 0 "imported 12001 samples into fine/memory" -- shadow import "${DB[@]}" --prometheus "$URL" --query "$Q" \
  --workload fine --dim memory --start "$((END - 12))" --end "$END" --step 1ms
has "two requests" "$T/out" "2 requests)"
range "$Q" "$((END - 12))" "$END" 1s >"$T/fine.ref"
"$A" shadow export "${DB[@]}" --workload fine --dim memory >"$T/fine.csv"
python3 - "$T/fine.ref" "$T/fine.csv" <<'EOF' && ok || bad "1 ms series differs from Prometheus at whole seconds"
import sys, csv, datetime
ref = {float(t): float(v) for t, v in (l.split() for l in open(sys.argv[1]))}
got = {}
for row in csv.DictReader(open(sys.argv[2])):
    s = row["time"].rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S"
    t = datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()
    got[round(t, 3)] = float(row["value"])
assert len(got) == 12001, len(got)
assert min(got) == min(ref) and max(got) == max(ref), (min(got), max(got))
for t, v in ref.items():
    assert got[t] == v, (t, v, got.get(t))
EOF

# NaN and +Inf are skipped and counted: 1/(t mod 2) is +Inf at even seconds
expect_rc 0 "imported 5 samples into odd/custom from {} (5 missing values skipped" -- shadow import "${DB[@]}" \
  --prometheus "$URL" --query 'vector(1) / vector(time() % 2)' --workload odd --dim custom \
  --start "$((START - START % 2))" --end "$((START - START % 2 + 9))" --step 1s
expect_rc 5 "holds only missing values (10 NaN or infinite)" -- shadow import "${DB[@]}" --prometheus "$URL" \
  --query 'vector(0) / vector(0)' --workload nan --dim custom --start "$START" --end "$END" --step 1s
# values that round to nothing in the base unit warn, as the CSV import does
expect_rc 0 "imported 10 samples" -- shadow import "${DB[@]}" --prometheus "$URL" --query 'vector(0.5)' \
  --workload tiny --dim cpu --start "$START" --end "$END" --step 1s
has "below-one warning" "$T/err" "WARNING: {}: 10 of 10 values are below 1 millicore once read as millicores (the default)"

# several series: refused, naming the labels that tell them apart
expect_rc 2 "pick one with --match LABEL=VALUE (labels that differ:" -- shadow import "${DB[@]}" --prometheus "$URL" \
  --query 'rate(node_cpu_seconds_total[5s])' --workload many --dim cpu --unit cores --start "$START" --end "$END" --step 1s
has "names mode" "$T/err" "mode"
has "names a series" "$T/err" 'node_cpu_seconds_total\|{cpu="0"'
expect_rc 0 "imported 10 samples into one/cpu" -- shadow import "${DB[@]}" --prometheus "$URL" \
  --query 'rate(node_cpu_seconds_total[5s])' --match 'cpu=0,mode=idle' --workload one --dim cpu --unit cores \
  --start "$START" --end "$END" --step 1s
range 'rate(node_cpu_seconds_total{cpu="0",mode="idle"}[5s])' "$START" "$END" 1s >"$T/one.ref"
shadow one cpu 1 >"$T/one.got"
same "$T/one.ref" "$T/one.got" 1000 && ok || bad "--match's series differs from Prometheus"
expect_rc 5 "--match keeps none of the" -- shadow import "${DB[@]}" --prometheus "$URL" \
  --query 'rate(node_cpu_seconds_total[5s])' --match mode=bogus --workload none --dim cpu --start "$START" --end "$END" \
  --step 1s

# an empty result, a bad query, no server, not Prometheus
expect_rc 5 "$URL/api/v1/query_range: the query returned no series between" -- shadow import "${DB[@]}" \
  --prometheus "$URL" --query 'node_memory_MemAvailable_bytes{job="nope"}' --workload e --dim memory
expect_rc 2 "$URL/api/v1/query_range: HTTP 400: bad_data: " -- shadow import "${DB[@]}" --prometheus "$URL" \
  --query 'rate((' --workload e --dim memory
has "Prometheus's own message" "$T/err" "parse error"
expect_rc 1 "http://127.0.0.1:$DEAD_PORT/api/v1/query_range: no answer: " -- shadow import "${DB[@]}" \
  --prometheus "http://127.0.0.1:$DEAD_PORT" --query up --workload e --dim memory
expect_rc 2 "http://127.0.0.1:$NE_PORT/api/v1/query_range: HTTP 200: not a Prometheus API answer ('<html>" -- \
  shadow import "${DB[@]}" --prometheus "http://127.0.0.1:$NE_PORT" --query up --workload e --dim memory
expect_rc 1 "http://***@127.0.0.1:$DEAD_PORT/api" -- shadow import "${DB[@]}" \
  --prometheus "http://user:secret@127.0.0.1:$DEAD_PORT" --query up --workload e --dim memory
grep -q secret "$T/err" && bad "the password is in the message" || ok
"$A" shadow ls "${DB[@]}" -o csv >"$T/ls.csv"
grep -q '^e,' "$T/ls.csv" && bad "a failed import left a series" || ok

# the command line
expect_rc 0 "--prometheus URL" -- shadow import --help
expect_rc 2 "--query is for --prometheus URL" -- shadow import "${DB[@]}" --query up --workload w --dim cpu --input x.csv
expect_rc 2 "--prometheus needs --query PROMQL" -- shadow import "${DB[@]}" --prometheus "$URL" --workload w --dim cpu
expect_rc 2 "--input does not apply to --prometheus" -- shadow import "${DB[@]}" --prometheus "$URL" --query up \
  --workload w --dim cpu --input x.csv
expect_rc 2 "--workload W is required" -- shadow import "${DB[@]}" --prometheus "$URL" --query up --dim cpu
expect_rc 2 "is not an http:// or https:// URL" -- shadow import "${DB[@]}" --prometheus "ftp://x" --query up \
  --workload w --dim cpu
expect_rc 2 "not a base URL" -- shadow import "${DB[@]}" --prometheus "$URL/?x=1" --query up --workload w --dim cpu
expect_rc 2 "--step: Prometheus takes whole milliseconds" -- shadow import "${DB[@]}" --prometheus "$URL" --query up \
  --workload w --dim cpu --step 1.5ms
expect_rc 2 "--start must not be after --end" -- shadow import "${DB[@]}" --prometheus "$URL" --query up \
  --workload w --dim cpu --start 2000 --end 1000
expect_rc 2 "at most 1000 requests" -- shadow import "${DB[@]}" --prometheus "$URL" --query up \
  --workload w --dim cpu --start 0 --end 1000000000 --step 1s
expect_rc 2 "--match: expected LABEL=VALUE" -- shadow import "${DB[@]}" --prometheus "$URL" --query up \
  --workload w --dim cpu --match 'a-b=1'
expect_rc 2 "--unit GiB does not fit --dim cpu" -- shadow import "${DB[@]}" --prometheus "$URL" --query up \
  --workload w --dim cpu --unit GiB

finish cli_prometheus
