#!/usr/bin/env bash
# ahead replay --into URL: a tiny plain trace replayed into a live daemon
# leaves in its ledger the grants, the usage reports and the releases it
# should (events, usage history); a refused workload asks again at its next
# sample; SIGTERM releases what a looping replay holds. Then the generator
# (--generate): seeded, the documented shape, re-readable as a plain trace,
# and the usage errors of the new options.
set -u
. "$(dirname "$0")/lib.sh"
DPID=
stop_daemon() {
  if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; fi
}
trap 'stop_daemon; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
unset AHEAD_SERVER AHEAD_TOKEN AHEAD_IDEMPOTENCY_KEY AHEAD_DB

cat >"$T/p.ini" <<'EOP'
[ahead]
default_class = standard
unknown_tenants = refuse
lease_ttl = 10m
[pool p]
capacity = cpu=4, memory=8Gi
unit = cpu=100m, memory=1Mi
max_queue = 10
[class standard]
priority = 50
quantile = 0.9
[tenant t]
quota = cpu=4, memory=8Gi
EOP

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$A" serve --policy "$T/p.ini" --db "$T/d.db" --listen "127.0.0.1:$PORT" --admin-token-file "$T/admin" \
  >"$T/serve.out" 2>"$T/serve.err" &
DPID=$!
for _ in $(seq 100); do
  [ -s "$T/admin" ] && "$A" pool ls --server "$URL" --token-file "$T/admin" >/dev/null 2>&1 && break
  sleep 0.1
done
[ -s "$T/admin" ] || die "ahead serve did not come up: $(cat "$T/serve.err")"
api() { "$A" "$@" --server "$URL" --token-file "$T/admin"; }
get() { curl -sf -H "Authorization: Bearer $(cat "$T/admin")" "$URL$1"; }

# w1: three samples; w2: two; big: 6 cores at first (more than the pool), then 1 core.
cat >"$T/tiny.csv" <<'EOF'
time,workload,dim,used
1000,w1,cpu,500
1000,w1,memory,1073741824
1000,w2,cpu,250
1000,big,cpu,6000
1060,w1,cpu,700
1060,w1,memory,1073741824
1060,w2,cpu,300
1060,big,cpu,1000
1120,w1,cpu,1500
1120,w1,memory,2147483648
EOF
"$A" replay --into "$URL" --token-file "$T/admin" --trace "$T/tiny.csv" --tenant t --pool p --speed 60 \
  -o json >"$T/sum.json" 2>"$T/lines" && rc=0 || rc=$?
check_rc "replay --into a tiny trace" 0 "$rc"
j() { python3 -c "import json, sys; print(json.load(open('$T/sum.json'))$1)"; }
ok "three workloads" '[ "$(j "[\"workloads\"]")" = 3 ]'
ok "three steps, ten samples" '[ "$(j "[\"steps\"]")" = 3 ] && [ "$(j "[\"samples\"]")" = 10 ]'
# w1, w2 granted at once; big refused (exceeds capacity), asked again at 1060 and granted
ok "four requests: 3 granted, 1 refused" \
  '[ "$(j "[\"requests\"]")" = 4 ] && [ "$(j "[\"granted\"]")" = 3 ] && [ "$(j "[\"refused\"]")" = 1 ]'
ok "the refusal's reason counted" '[ "$(j "[\"refusals\"]")" = "{'"'"'exceeds_capacity'"'"': 1}" ]'
# a report right after each grant (the first sample) and at every later sample:
# w1 3, w2 2, big 1
ok "six usage reports" '[ "$(j "[\"reports\"]")" = 6 ]'
ok "all three released" '[ "$(j "[\"released\"]")" = 3 ]'
ok "the trace's times" '[ "$(j "[\"trace_start\"]")" = 1970-01-01T00:16:40.000Z ] && [ "$(j "[\"trace_end\"]")" = 1970-01-01T00:18:40.000Z ]'
has "allocation lines on stderr with -o json" "$T/lines" "w1: granted as allocation 1 (cpu=500m, memory=1Gi)"
has "the refusal on stderr" "$T/lines" "big: refused (exceeds_capacity)"

api events -o json >"$T/ev.json" || die "events"
ev() { python3 -c "import json, collections
e = json.load(open('$T/ev.json'))
print(sorted(collections.Counter(x['kind'] for x in e if x['kind'] in ('grant', 'release', 'refuse')).items()))"; }
ok "the ledger: 3 grants, 1 refusal, 3 releases" \
  '[ "$(ev)" = "[('"'"'grant'"'"', 3), ('"'"'refuse'"'"', 1), ('"'"'release'"'"', 3)]" ]'
ok "the reports resized (w1 grew to its 1.5 cores)" \
  "python3 -c \"import json; e=[x for x in json.load(open('$T/ev.json')) if x['kind']=='resize' and x['id']==1]; assert e and e[-1]['resources']['cpu']>=1500, e\""
ok "the grant of w1 as asked (its first sample)" \
  "python3 -c \"import json; e=[x for x in json.load(open('$T/ev.json')) if x['kind']=='grant' and x['id']==1]; assert e[0]['resources']['cpu']==500, e\""
ok "nothing live afterwards" '[ "$(get /v1/allocations | python3 -c "import json,sys; print(len(json.load(sys.stdin)[\"items\"]))")" = 0 ]'
# the usage history holds what was reported: w1's cpu 500, 700, 1500; memory up to 2 GiB
get "/v1/workloads/w1/history?dim=cpu" >"$T/h1.json" || bad "history of w1 cpu"
ok "w1's cpu history: the three samples" \
  "python3 -c \"import json; p=json.load(open('$T/h1.json'))['points']; assert sum(x['count'] for x in p)==3 and max(x['max'] for x in p)==1500 and sum(x['mean']*x['count'] for x in p)==2700, p\""
get "/v1/workloads/w1/history?dim=memory" >"$T/h1m.json" || bad "history of w1 memory"
ok "w1's memory history peaks at 2 GiB" \
  "python3 -c \"import json; p=json.load(open('$T/h1m.json'))['points']; assert max(x['max'] for x in p)==2147483648, p\""
get "/v1/workloads/big/history?dim=cpu" >"$T/hb.json" || bad "history of big"
ok "big's history: only the sample after its grant" \
  "python3 -c \"import json; p=json.load(open('$T/hb.json'))['points']; assert sum(x['count'] for x in p)==1 and p[0]['max']==1000, p\""

# the table output: a final summary
"$A" replay --into "$URL" --token-file "$T/admin" --trace "$T/tiny.csv" --speed 6000 >"$T/table" 2>&1 && rc=0 || rc=$?
check_rc "default tenant and pool (the policy's first)" 0 "$rc"
has "the summary names the tenant and pool" "$T/table" "as tenant t, pool p"
has "final summary" "$T/table" "replay: done after"
has "final counts" "$T/table" "released 3"

# SIGTERM: a looping generated replay stops, releases, exits 0
"$A" replay --into "$URL" --token-file "$T/admin" --generate 4 --loop --every 1s -o json >"$T/loop.json" 2>"$T/loop.err" &
LP=$!
for _ in $(seq 50); do
  [ "$(get /v1/allocations | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" -ge 4 ] && break
  sleep 0.1
done
sleep 1.2
kill -TERM "$LP"; wait "$LP" && rc=0 || rc=$?
check_rc "SIGTERM: exit 0" 0 "$rc"
ok "SIGTERM: the summary says stopped" '[ "$(python3 -c "import json; print(json.load(open(\"$T/loop.json\"))[\"stopped\"])")" = True ]'
ok "SIGTERM: all released" '[ "$(get /v1/allocations | python3 -c "import json,sys; print(len(json.load(sys.stdin)[\"items\"]))")" = 0 ]'
has "periodic summaries on stderr" "$T/loop.err" "replay: +0:00:01"

# errors against the daemon
expect_rc 3 "" -- replay --into "$URL" --token wrong_token --trace "$T/tiny.csv"
expect_rc 2 "no pool 'nope'" -- replay --into "$URL" --token-file "$T/admin" --trace "$T/tiny.csv" --pool nope
expect_rc 2 "tenant 'nobody' is not defined" -- replay --into "$URL" --token-file "$T/admin" --trace "$T/tiny.csv" --tenant nobody
printf 'time,workload,dim,used\n2000,a,cpu,100\n1000,a,cpu,100\n' >"$T/unordered.csv"
expect_rc 2 "sorted by time" -- replay --into "$URL" --token-file "$T/admin" --trace "$T/unordered.csv" --speed 100000
ok "nothing left live after the errors" '[ "$(get /v1/allocations | python3 -c "import json,sys; print(len(json.load(sys.stdin)[\"items\"]))")" = 0 ]'
stop_daemon
expect_rc 1 "" -- replay --into "$URL" --token-file "$T/admin" --trace "$T/tiny.csv"

# the generator
"$A" replay --generate 5 --write-trace "$T/g1.csv" || bad "write-trace"
"$A" replay --generate 5 --write-trace - >"$T/g2.csv" || bad "write-trace -"
"$A" replay --generate 5 --seed 2 --write-trace "$T/g3.csv" || bad "write-trace seed 2"
ok "seeded: the same options, the same trace" 'cmp -s "$T/g1.csv" "$T/g2.csv"'
ok "another seed, another trace" '! cmp -s "$T/g1.csv" "$T/g3.csv"'
ok "a day of 5-minute samples: 1 + 5 x 2 x 288 lines" '[ "$(wc -l <"$T/g1.csv")" = 2881 ]'
ok "the header of a plain trace" '[ "$(head -1 "$T/g1.csv")" = time,workload,dim,used ]'
ok "named by kind" '[ "$(cut -d, -f2 "$T/g1.csv" | sed 1d | sort -u | tr "\n" " ")" = "api-02 batch-03 cache-04 web-01 web-05 " ]'
"$A" replay --generate 2 --days 2 --step 600 --write-trace "$T/g4.csv" || bad "days, step"
ok "--days 2 --step 600: 1 + 2 x 2 x 288 lines" '[ "$(wc -l <"$T/g4.csv")" = 1153 ]'
ok "starts at 2026-01-01T00:00:00Z" '[ "$(sed -n 2p "$T/g1.csv" | cut -d, -f1)" = 1767225600 ]'
# web by day, batch by night: web-01's cpu at 14:00 above its 02:00, batch-03's the other way
python3 - "$T/g1.csv" <<'EOF' && ok || bad "daily cycles: web by day, batch by night"
import sys, collections
h = collections.defaultdict(list)
for line in open(sys.argv[1]).read().split("\n")[1:]:
    if not line: continue
    t, w, d, v = line.split(",")
    if d == "cpu": h[(w, (int(t) % 86400) // 3600)].append(int(v))
m = lambda w, hr: sum(h[(w, hr)]) / len(h[(w, hr)])
assert m("web-01", 14) > 1.3 * m("web-01", 2), (m("web-01", 14), m("web-01", 2))
assert m("batch-03", 2) > 1.3 * m("batch-03", 14), (m("batch-03", 2), m("batch-03", 14))
EOF
"$A" replay --generate 5 --policy ahead --dim cpu >"$T/r1" 2>&1 || bad "offline replay of a generated trace"
"$A" replay --trace "$T/g1.csv" --policy ahead --dim cpu >"$T/r2" 2>&1 || bad "offline replay of the written trace"
ok "--generate replays as its written trace does" 'diff <(head -2 "$T/r1") <(head -2 "$T/r2") >/dev/null'

# usage errors
expect_rc 2 "--trace and --generate" -- replay --generate 3 --trace "$T/g1.csv"
expect_rc 2 "--trace is required, or --generate N" -- replay
expect_rc 2 "--speed needs --into" -- replay --generate 3 --speed 10
expect_rc 2 "--loop needs --into" -- replay --generate 3 --loop
expect_rc 2 "--token needs --into" -- replay --generate 3 --token x
expect_rc 2 "--seed is for --generate" -- replay --trace "$T/g1.csv" --seed 3
expect_rc 2 "--csv is for the offline replay" -- replay --into "$URL" --generate 3 --csv "$T/x.csv"
expect_rc 2 "--policy is for the offline replay" -- replay --into "$URL" --generate 3 --policy ahead
expect_rc 2 "--generate" -- replay --generate 0
expect_rc 2 "--generate" -- replay --generate 10001
expect_rc 2 "--days" -- replay --generate 2 --days 367
expect_rc 2 "--speed" -- replay --into "$URL" --generate 2 --speed 0
expect_rc 2 "not an http" -- replay --into ftp://x --generate 2
expect_rc 2 "--unit" -- replay --generate 2 --unit cores
expect_rc 0 "--into URL" -- replay --help
finish
