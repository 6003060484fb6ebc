#!/usr/bin/env bash
# End to end: predict, then reserve. Allocations of a workload with params,
# their usage reports and releases feed the shadow store beside the ledger;
# a later `alloc --workload` is sized by the prediction learned from them.
# Bad params are refused; a missing or broken shadow store never fails an
# allocation.
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/x.db

id_of() { sed -n 's/.*"id": \([0-9]*\).*/\1/p' <<<"$1" | head -1; }
mem_mi() { python3 -c 'import json,sys; m=json.loads(sys.argv[1])["resources"].get("memory"); print(m >> 20 if m is not None else "")' "$1" 2>/dev/null; }

cat > "$T/policy.ini" <<'EOF'
[ahead]
default_class = standard
unknown_tenants = refuse
[pool p]
capacity = cpu=16, memory=64Gi
unit = cpu=100m, memory=1Mi
[class standard]
priority = 50
quantile = 0.9
[tenant t]
quota = cpu=16, memory=64Gi
EOF
check "apply" 0 "applied" -- "$A" policy apply "$T/policy.ini"

# --- nothing known yet: the stated resources stand, and the store appears ---
check "first alloc, nothing known" 0 '"predicted": false' -- "$A" alloc -t t -p p -r cpu=1,memory=2Gi --workload etl --params rows=1 -o json
ok "shadow store created beside the ledger" '[ -f "$T/x-shadow.db" ]'
check "release first" 0 "released id=1" -- "$A" release 1
check "without --res or history: says it has no history" 3 "invalid_request: workload .fresh. has no history in" -- "$A" alloc -t t -p p --workload fresh

# --- history: ten runs whose memory is 100 MiB x rows (peak of two reports) ---
for r in 1 2 3 4 5 6 7 8 9 10; do
  out=$("$A" alloc -t t -p p -r cpu=1,memory=2Gi --workload etl --params "rows=$r,kind=etl" -o json 2>&1)
  id=$(id_of "$out")
  [ -n "$id" ] || { echo "FAIL alloc rows=$r: $out"; fail=$((fail+1)); continue; }
  check "report rows=$r" 0 "recorded for workload etl" -- "$A" report "$id" --usage "memory=$((100 * r))Mi,cpu=500m"
  check "report low rows=$r" 0 "" -- "$A" report "$id" --usage "memory=$((40 * r))Mi"
  check "release rows=$r" 0 "released" -- "$A" release "$id"
done
check "records ended with their peaks" 0 "rows=7,ahead\.[^,]*,memory,734003200,513802240" -- "$A" shadow requests --workload etl --param rows=7 -o csv
check "usage series written" 0 "etl +memory" -- "$A" shadow ls

# --- sized by prediction: the grant follows the params ---
out7=$("$A" alloc -t t -p p --workload etl --params rows=7,kind=etl -o json 2>&1); rc=$?
ok "rows=7 granted" '[ $rc = 0 ]'
ok "rows=7 json says predicted" 'grep -q "\"predicted\": true" <<<"$out7"'
ok "rows=7 json shows the prediction" 'tr -d "\n " <<<"$out7" | grep -qE "\"prediction\":\{[^}]*\"memory\":[0-9]+"'
ok "rows=7 prediction from the regression" 'grep -q "\"source\": \"regression\"" <<<"$out7"'
m7=$(mem_mi "$out7")
ok "rows=7 granted about 700Mi (got ${m7:-none})" '[ -n "$m7" ] && [ "$m7" -ge 695 ] && [ "$m7" -le 710 ]'
out3=$("$A" alloc -t t -p p --workload etl --params kind=etl,rows=3 -o json 2>&1)
m3=$(mem_mi "$out3")
ok "rows=3 granted about 300Mi (got ${m3:-none})" '[ -n "$m3" ] && [ "$m3" -ge 295 ] && [ "$m3" -le 310 ]'
out12=$("$A" alloc -t t -p p --workload etl -P rows=12 -P kind=etl -o json 2>&1)
m12=$(mem_mi "$out12")
ok "rows=12 (never seen) about 1200Mi (got ${m12:-none})" '[ -n "$m12" ] && [ "$m12" -ge 1180 ] && [ "$m12" -le 1230 ]'
check "table shows the prediction" 0 "predicted: .*memory=.* at p90 for etl \(.*regression on 10 requests" -- "$A" alloc -t t -p p --workload etl --params rows=2,kind=etl
# Default prediction mode (off): stated resources are not changed.
check "stated resources stand" 0 "granted  id=[0-9]+  cpu=1,memory=5Gi" -- "$A" alloc -t t -p p -r cpu=1,memory=5Gi --workload etl --params rows=2,kind=etl

# --- a workload known only from its usage series (imported history) ---
printf 'time,value\n' > "$T/web.csv"
for i in $(seq 1 100); do printf '%d,%d\n' $((1700000000 + i)) $((i * 1048576)) >> "$T/web.csv"; done
check "import series" 0 "" -- "$A" shadow import --workload web --dim memory --input "$T/web.csv"
check "sized from the series quantile" 0 '"memory": \{[^}]*"source": "series"' -- bash -c "'$A' alloc -t t -p p --workload web -o json | tr -d '\n'"
check "p90 of 1..100 Mi is 91Mi" 0 '"resources":\{"memory":95420416\}' -- bash -c "'$A' alloc -t t -p p --workload web -o json | tr -d ' \n'"

# --- bad input: clear errors, nothing allocated ---
before=$("$A" ls -o json)
check "params not k=v" 2 "--params: 'rows': expected key=value" -- "$A" alloc -t t -p p --workload etl --params rows
check "params empty value" 2 "--params: rows: empty value" -- "$A" alloc -t t -p p --workload etl --params rows=
check "params duplicate" 2 "--params: rows: given twice" -- "$A" alloc -t t -p p --workload etl --params rows=1,rows=2
check "params reserved key" 2 "reserved" -- "$A" alloc -t t -p p --workload etl --params ahead.alloc=3
check "params bad key" 2 "--params: .*key must be" -- "$A" alloc -t t -p p --workload etl --params 'r%ws=1'
check "params bad char" 2 "--params: k: value may not contain" -- "$A" alloc -t t -p p --workload etl --params 'k=a|b'
check "too many params" 2 "more than 13 parameters" -- "$A" alloc -t t -p p --workload etl --params a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1
check "bad workload" 2 "--workload: 'a b' is not a workload name" -- "$A" alloc -t t -p p --workload 'a b'
check "neither res nor workload" 2 "--res \(or --workload\) is required" -- "$A" alloc -t t -p p
check "shadow-db not for renew" 2 "only for release and tick" -- "$A" renew 1 --shadow-db "$T/s.db"
ok "nothing allocated by bad input" '[ "$before" = "$("$A" ls -o json)" ]'

# --- allocations without a workload are untouched by the shadow store ---
out=$("$A" alloc -t t -p p -r cpu=1 -o json); id=$(id_of "$out")
check "report without workload" 0 "^reported id=$id  unchanged" -- "$A" report "$id" --usage cpu=200m
check "report json without workload" 0 '^\{"outcome":"unchanged","id":[0-9]+,"resources":\{"cpu":1000\},"lease_expires":"[^"]+","workload":null\}$' -- bash -c "'$A' report '$id' --usage cpu=200m -o json | tr -d ' \n'"
check "release without workload" 0 "released id=$id" -- "$A" release "$id"

# --- allocations that end without release: tick closes their records ---
out=$("$A" alloc -t t -p p -r cpu=1 --workload shortlived --params rows=1 --lease 1s -o json); id=$(id_of "$out")
check "report short-lived" 0 "recorded for workload shortlived" -- "$A" report "$id" --usage memory=10Mi
sleep 2.2
check "tick closes the record" 0 "closed the shadow records of ended allocations" -- "$A" tick
check "closed record is marked lost" 0 "ahead.lost=1" -- "$A" shadow requests --workload shortlived -o csv
check "a lost record teaches nothing" 0 '"predicted": false' -- "$A" alloc -t t -p p -r cpu=1 --workload shortlived --params rows=1 -o json

# --- a broken shadow store never fails the allocation ---
export AHEAD_DB=$T/y.db
check "apply y" 0 "applied" -- "$A" policy apply "$T/policy.ini"
head -c 8192 /dev/urandom > "$T/y-shadow.db"
check "corrupt shadow: still granted" 0 "granted  id=1" -- "$A" alloc -t t -p p -r cpu=1 --workload etl --params rows=1
check "corrupt shadow: warned" 0 "warning: shadow store .*y-shadow.db" -- "$A" alloc -t t -p p -r cpu=1 --workload etl
check "corrupt shadow: report still works" 0 "reported id=1" -- "$A" report 1 --usage cpu=100m
check "corrupt shadow: report warns" 0 "warning: shadow store" -- "$A" report 1 --usage cpu=100m
check "corrupt shadow: release still works" 0 "released id=1" -- "$A" release 1
# Unwritable: a directory where the store would be.
export AHEAD_DB=$T/z.db
check "apply z" 0 "applied" -- "$A" policy apply "$T/policy.ini"
mkdir "$T/z-shadow.db"
check "shadow path is a directory: still granted" 0 "granted  id=1" -- "$A" alloc -t t -p p -r cpu=1 --workload etl
# --shadow-db names the store directly.
check "explicit --shadow-db" 0 '"predicted": true' -- "$A" alloc -t t -p p -r cpu=1 --workload etl --params rows=7,kind=etl --shadow-db "$T/x-shadow.db" -o json
check "release with --shadow-db" 0 "released id=2" -- "$A" release 2 --shadow-db "$T/x-shadow.db"

finish cli_predict
