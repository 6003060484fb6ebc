#!/usr/bin/env bash
# `ahead shadow` as the daemon's client (--server): the same sequence of
# imports, queries, exports, listings, request records and a compaction
# runs locally on ledger A and over HTTP against `ahead serve` on ledger B;
# the transcripts (output and exit code of every step) must be equal once
# the stores' paths and times are masked. Then what only a client has: a
# large import (more than the 1 MiB body cap) goes in several chunks and
# lands as a local import does, a chunk that fails leaves nothing of it, a
# retried import is answered once, and the roles: tenants see no history,
# viewers read but do not import.
set -u
. "$(dirname "$0")/lib.sh"
DPID=
stop_daemon() {
  if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; fi
}
trap 'stop_daemon; rm -rf "$T"' EXIT
unset AHEAD_SERVER AHEAD_TOKEN AHEAD_IDEMPOTENCY_KEY AHEAD_DB

cat >"$T/p.ini" <<'EOP'
[ahead]
default_class = standard
[pool p]
capacity = cpu=8, memory=16Gi
[class standard]
priority = 50
quantile = 0.9
[tenant t]
quota = cpu=16, memory=16Gi
EOP

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$A" serve --policy "$T/p.ini" --db "$T/b.db" --listen "127.0.0.1:$PORT" --admin-token-file "$T/admin" \
  >"$T/serve.out" 2>"$T/serve.err" &
DPID=$!
for _ in $(seq 100); do
  [ -s "$T/admin" ] && "$A" pool ls --server "$URL" --token-file "$T/admin" >/dev/null 2>&1 && break
  sleep 0.1
done
[ -s "$T/admin" ] || die "ahead serve did not come up: $(cat "$T/serve.err")"
"$A" policy apply "$T/p.ini" --db "$T/a.db" >/dev/null || die "local policy apply"
S=(--server "$URL" --token-file "$T/admin")

# the inputs: 2 h of cpu in cores every 30 s (with a missing value), a bad file
python3 - "$T" <<'EOF'
import sys
t = sys.argv[1]
with open(t + "/c.csv", "w") as f:
    f.write("timestamp,value\n")
    for i in range(240):
        f.write("%d,%s\n" % (1700000000 + 30 * i, "" if i == 17 else "%.3f" % (0.25 + (i % 13) * 0.125)))
with open(t + "/m.csv", "w") as f:
    f.write("time,mem\n")
    for i in range(100):
        f.write("2023-11-14T22:%02d:%02dZ,%d\n" % (13 + i // 60, i % 60, 100 + i))
with open(t + "/bad.csv", "w") as f:
    f.write("timestamp,value\n1700000000,1\n1700000030,one\n")
EOF

# run MODE NAME ARGS...: one step of the transcript (MODE local or remote).
run() {
  local mode=$1 name=$2; shift 2
  local rc
  if [ "$mode" = local ]; then
    "$A" "$@" --db "$T/a.db" >"$T/step" 2>"$T/step.err" && rc=0 || rc=$?
  else
    "$A" "$@" "${S[@]}" >"$T/step" 2>"$T/step.err" && rc=0 || rc=$?
  fi
  { echo "## $name: exit $rc"; cat "$T/step" "$T/step.err"; } >>"$T/$mode.txt"
}

sequence() {
  local m=$1 db=$2
  run "$m" import shadow import --workload web --dim cpu --input "$T/c.csv" --unit cores --granularity 1m
  run "$m" import-more shadow import --workload web --dim memory --input "$T/m.csv" --value-col mem --unit MiB
  run "$m" import-gran shadow import --workload web --dim cpu --input "$T/c.csv" --granularity 5m
  run "$m" import-bad shadow import --workload web --dim cpu --input "$T/bad.csv"
  run "$m" import-nofile shadow import --workload web --dim cpu --input "$T/nope.csv"
  run "$m" import-unit shadow import --workload web --dim cpu --input "$T/c.csv" --unit MiB
  run "$m" import-again shadow import --workload web --dim cpu --input "$T/c.csv" --unit cores
  run "$m" query shadow query --workload web --dim cpu
  run "$m" query-json shadow query --workload web --dim cpu -o json
  run "$m" query-csv shadow query --workload web --dim cpu -o csv
  run "$m" query-step shadow query --workload web --dim cpu --step 15m --from 2023-11-14T22:30:00Z --to 1700005000
  run "$m" query-mem shadow query --workload web --dim memory -o csv
  run "$m" query-missing shadow query --workload web --dim io
  run "$m" query-noname shadow query --dim cpu
  run "$m" export shadow export --workload web --dim cpu
  run "$m" export-step shadow export --workload web --dim cpu --step 1h
  run "$m" ls shadow ls
  run "$m" ls-json shadow ls -o json
  run "$m" ls-csv shadow ls -o csv
  # request records: the daemon's come from its allocations; here written beside its ledger
  "$A" shadow record --db "$db" --workload etl --start 2023-11-14T10:00:00Z --params rows=5 \
    --predicted cpu=1500,memory=2000000000 >/dev/null || bad "record ($m)"
  id=$("$A" shadow record --db "$db" --workload etl --start 2023-11-14T11:00:00Z --params rows=7)
  "$A" shadow record --db "$db" --id "$id" --end 2023-11-14T11:30:00Z --peak cpu=900 --mean cpu=400 >/dev/null ||
    bad "record end ($m)"
  run "$m" requests shadow requests --workload etl
  run "$m" requests-json shadow requests --workload etl -o json
  run "$m" requests-csv shadow requests --workload etl -o csv
  run "$m" requests-param shadow requests --workload etl --param rows=7 --limit 5
  run "$m" requests-none shadow requests --workload nobody
  run "$m" compact shadow compact --now 2023-11-16T00:00:00Z --keep-raw 1h
  run "$m" compact-json shadow compact --now 2023-11-16T00:00:00Z --keep-raw 1h -o json
  run "$m" ls-after shadow ls
}
sequence local "$T/a.db"
sequence remote "$T/b.db"
mask() {
  sed -E "s#$T/[ab]([.-])#DB\1#g; s#$T/#T/#g" "$1"
}
mask "$T/local.txt" >"$T/l"
mask "$T/remote.txt" >"$T/r"
if diff -u "$T/l" "$T/r" >"$T/diff"; then ok; else bad "local and --server transcripts differ:"; head -60 "$T/diff"; fi
grep -q '^## import: exit 0' "$T/r" && grep -q '^## import-gran: exit 2' "$T/r" &&
  grep -q '^## import-bad: exit 2' "$T/r" && grep -q '^## query-missing: exit 5' "$T/r" &&
  grep -q '^## compact: exit 0' "$T/r" && grep -q '^## requests: exit 0' "$T/r" && ok ||
  bad "--server exit codes (none 5, imported 0, usage 2): $(grep '^##' "$T/r" | head -40)"
grep -q "imported 239 samples into web/cpu (1 missing values skipped)" "$T/r" && ok || bad "the import's summary"

# --- a large import: more than the body cap, in chunks, as a local import ---
python3 - "$T/big.csv" <<'EOF'
import sys, math
with open(sys.argv[1], "w") as f:
    f.write("timestamp,value\n")
    for i in range(90000):
        f.write("%d.%03d,%.6f\n" % (1700000000 + i * 10, i % 1000, 500 + 400 * math.sin(i / 97.0)))
EOF
ok "the big CSV is over 1 MiB" '[ "$(stat -c %s "$T/big.csv")" -gt 1048576 ]'
check "big import locally" 0 "imported 90000 samples into big/cpu" -- \
  "$A" shadow import --workload big --dim cpu --input "$T/big.csv" --granularity 1m --db "$T/a.db"
n0=$("$A" audit "${S[@]}" -o json --limit 100000 | python3 -c 'import json,sys; print(sum(1 for a in json.load(sys.stdin) if a["method"] == "POST" and a["path"] == "/v1/workloads/big/history"))')
AHEAD_IDEMPOTENCY_KEY=cli-shadow-big "$A" shadow import --workload big --dim cpu --input "$T/big.csv" \
  --granularity 1m "${S[@]}" >"$T/big.out" 2>"$T/big.err" && rc=0 || rc=$?
check_rc "big import over --server" 0 "$rc"
has "big import's summary as local" "$T/big.out" "imported 90000 samples into big/cpu (0 missing values skipped)"
"$A" audit "${S[@]}" -o json --limit 100000 >"$T/audit.json"
posts=$(python3 -c 'import json,sys; print(sum(1 for a in json.load(open(sys.argv[1])) if a["method"] == "POST" and a["path"] == "/v1/workloads/big/history" and a["status"] == 200))' "$T/audit.json")
ok "the big import went in several chunks (POSTs: $posts)" '[ "$((posts - n0))" -ge 3 ]'
keys=$(python3 -c 'import json,sys; print(len({a["idempotency_key"] for a in json.load(open(sys.argv[1])) if a["path"] == "/v1/workloads/big/history"}))' "$T/audit.json")
ok "each chunk its own Idempotency-Key ($keys)" '[ "$keys" = "$posts" ]'
"$A" shadow export --workload big --dim cpu --db "$T/a.db" >"$T/big.l" || bad "local export"
"$A" shadow export --workload big --dim cpu "${S[@]}" >"$T/big.r" || bad "remote export"
ok "the chunked import lands as the local one (export byte for byte)" 'cmp -s "$T/big.l" "$T/big.r"'
ok "the export has every minute" '[ "$(wc -l <"$T/big.r")" = 15002 ]'
# the same invocation again (same key): each chunk is answered as the first time, nothing doubles
AHEAD_IDEMPOTENCY_KEY=cli-shadow-big "$A" shadow import --workload big --dim cpu --input "$T/big.csv" \
  --granularity 1m "${S[@]}" >/dev/null 2>&1 || bad "the retried import"
"$A" shadow export --workload big --dim cpu "${S[@]}" >"$T/big.r2"
ok "a retried import (same key) adds nothing" 'cmp -s "$T/big.l" "$T/big.r2"'
grep -q '"outcome": "replayed"\|"replayed"' <("$A" audit "${S[@]}" -o json --limit 100000) && ok || bad "the retried chunks are replayed"
# the export file of the local store imports over --server? (not yet: a clear usage error)
check "an export file over --server is refused clearly" 2 "export file" -- \
  "$A" shadow import --workload copy --dim cpu --input "$T/big.l" "${S[@]}"
check "--long over --server is refused clearly" 2 "long" -- \
  "$A" shadow import --long --input "$T/c.csv" "${S[@]}"

# --- imports beside batched writes: allocations of a workload write request
# records into the same shadow store inside the ledger's batch while the
# chunks (exclusive routes, outside any batch) land; neither waits forever ---
( for i in $(seq 15); do
    id=$("$A" alloc -t t -p p -r cpu=100m --workload etl --params "rows=$i" "${S[@]}" -o json 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)
    [ -n "$id" ] && "$A" release "$id" "${S[@]}" >/dev/null 2>&1
  done ) &
apid=$!
timeout 120 "$A" shadow import --workload big2 --dim cpu --input "$T/big.csv" --granularity 1m "${S[@]}" \
  >"$T/big2.out" 2>&1 && rc=0 || rc=$?
wait "$apid"
check_rc "an import beside allocations" 0 "$rc"
"$A" shadow export --workload big2 --dim cpu "${S[@]}" | sed 1d >"$T/big2.r"
sed 1d "$T/big.l" >"$T/big.l1"
ok "it lands whole" 'cmp -s "$T/big.l1" "$T/big2.r"'
n=$("$A" shadow requests --workload etl "${S[@]}" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
ok "the allocations' records landed beside it ($n)" '[ "$n" -ge 15 ]'

# --- a chunk that fails leaves nothing of it ---
TOK=$(cat "$T/admin")
post() { curl -s -o "$T/post.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
  --data-binary "$2" "$URL$1"; }
st=$(post /v1/workloads/chunk/history '{"dim": "cpu", "points": [[1700000000000000000, 5], [1700000060000000000, "x"]]}')
ok "a bad point: 400 ($st)" '[ "$st" = 400 ]'
has "the bad point is named" "$T/post.json" 'points\[1\]'
check "nothing of the bad chunk" 5 "no series chunk/cpu" -- "$A" shadow query --workload chunk --dim cpu "${S[@]}"
st=$(post /v1/workloads/chunk/history '{"dim": "cpu", "granularity": "1m", "points": [[1700000000000000000, 5], ["2023-11-14T22:14:20Z", 7]]}')
ok "a good chunk (ns and RFC 3339 times): 200 ($st)" '[ "$st" = 200 ]'
st=$(post /v1/workloads/chunk/history '{"dim": "cpu", "granularity": "5m", "points": [[1700000120000000000, 9]]}')
ok "a chunk against the series' granularity: 400 ($st)" '[ "$st" = 400 ]'
check "the refused chunk left nothing" 0 "^chunk +cpu +1m +2 +2 " -- "$A" shadow ls "${S[@]}"
python3 -c 'print("{\"dim\": \"cpu\", \"points\": [" + ",".join("[%d, 1]" % (1700000000000000000 + i * 10**9) for i in range(60000)) + "]}")' >"$T/huge.json"
st=$(post /v1/workloads/huge/history "@$T/huge.json")
ok "a body over the cap: 413 ($st)" '[ "$st" = 413 ]'

# --- roles: tenants see no history; viewers read, operators write ---
"$A" token create tt --role tenant --tenant t "${S[@]}" -o json >"$T/tt.json" || bad "token create tenant"
"$A" token create vv --role viewer "${S[@]}" -o json >"$T/vv.json" || bad "token create viewer"
"$A" token create oo --role operator "${S[@]}" -o json >"$T/oo.json" || bad "token create operator"
TT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/tt.json")
VV=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/vv.json")
OO=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/oo.json")
check "tenant: ls refused" 3 "may not GET /v1/series" -- "$A" shadow ls --server "$URL" --token "$TT"
check "tenant: query refused" 3 "may not" -- "$A" shadow query --workload web --dim cpu --server "$URL" --token "$TT"
check "tenant: requests refused" 3 "may not" -- "$A" shadow requests --workload etl --server "$URL" --token "$TT"
check "tenant: import refused" 3 "may not" -- "$A" shadow import --workload web --dim cpu --input "$T/c.csv" --server "$URL" --token "$TT"
for p in /v1/series "/v1/workloads/web/history?dim=cpu" /v1/workloads/etl/requests; do
  st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TT" "$URL$p")
  ok "tenant: GET $p is 403 ($st)" '[ "$st" = 403 ]'
done
check "viewer: ls" 0 "web +cpu" -- "$A" shadow ls --server "$URL" --token "$VV"
check "viewer: query" 0 "TIME" -- "$A" shadow query --workload web --dim cpu --server "$URL" --token "$VV"
check "viewer: import refused" 3 "role viewer may not POST" -- \
  "$A" shadow import --workload v --dim cpu --input "$T/c.csv" --server "$URL" --token "$VV"
check "viewer: compact refused" 3 "may not" -- "$A" shadow compact --server "$URL" --token "$VV"
check "operator: import" 0 "imported 239 samples into op/cpu" -- \
  "$A" shadow import --workload op --dim cpu --input "$T/c.csv" --server "$URL" --token "$OO"
check "operator: compact" 0 "rolled" -- "$A" shadow compact --server "$URL" --token "$OO"

# --- usage errors ---
check "--shadow-db with --server" 2 "shadow-db" -- "$A" shadow ls --shadow-db "$T/s.db" "${S[@]}"
check "--server and --db" 2 "give one" -- "$A" shadow ls --db "$T/a.db" "${S[@]}"
check "a workload with '/' over --server" 2 "cannot be addressed" -- "$A" shadow query --workload a/b --dim cpu "${S[@]}"
check "--help names --server" 0 "--server URL" -- "$A" shadow --help
# the daemon still answers (no writer left the shadow store locked)
check "the daemon is well after it all" 0 "big +cpu" -- "$A" shadow ls "${S[@]}"
finish cli_client_shadow
