#!/usr/bin/env bash
# ahead describe ID and ahead recommend WORKLOAD (issue 9, item 5): what an
# allocation holds, what was predicted for it and by which model, what it
# used, its lease and resizes; what a workload should reserve with the
# history and measured error behind it; and the no-history message of a
# request that names a workload the history does not know.
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/x.db
cat > "$T/policy.ini" <<'EOP'
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
EOP
expect_rc 0 "applied" -- policy apply "$T/policy.ini"

# --- no history: the request is told why, and how to fix it ---
check "alloc without history" 3 "workload 'fresh' has no history in $T/x-shadow.db; give --res or import history" -- "$A" alloc -t t -p p --workload fresh
check "recommend without history" 5 "workload 'fresh' has no history" -- "$A" recommend fresh

# --- history: six runs of 100Mi x rows ---
for r in 1 2 3 4 5 6; do
  id=$("$A" alloc -t t -p p -r cpu=1,memory=2Gi --workload etl --params "rows=$r,kind=etl" -o json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1)
  "$A" report "$id" --usage "memory=$((100 * r))Mi,cpu=500m" >/dev/null || bad "report $r"
  "$A" release "$id" >/dev/null || bad "release $r"
done
expect_rc 0 "granted  id=7" -- alloc -t t -p p --workload etl --params rows=7,kind=etl
expect_rc 0 "grown" -- report 7 --usage memory=2Gi,cpu=900m
expect_rc 0 "granted  id=8" -- alloc -t t -p p -r cpu=1 -P job=plain

# --- describe: table ---
expect_rc 0 "" -- describe 7
has "describe workload" "$T/out" "Workload:     etl"
has "describe user params" "$T/out" "Parameters:   kind=etl,rows=7"
has "describe ahead's own params apart" "$T/out" "ahead's own: ahead.alloc=7"
has "describe lease" "$T/out" "Lease:        until "
has "describe history now, labelled" "$T/out" "History now:  would predict at p90 cpu="
has "describe this allocation's last report" "$T/out" "Last report:  20"
has "describe sized-by header" "$T/out" "DIMENSION  RESERVED  PREDICTED  SIZED BY"
has "describe resized" "$T/out" "Resizes:      1, last "
grep -qE '^  memory +[0-9.]+[GM]i +[0-9]+Mi +group on 6 requests +2Gi +2Gi +2Gi$' "$T/out" && ok || bad "describe memory row in readable units: $(grep memory "$T/out")"
grep -qE '^  memory .*[0-9]{7}' "$T/out" && bad "describe prints raw bytes: $(grep memory "$T/out")" || ok
expect_rc 0 "Workload:     - (sized by its stated resources)" -- describe 8
has "describe without history: params" "$T/out" "Parameters:   job=plain"
check "describe unknown" 5 "no such allocation" -- "$A" describe 99
check "describe bad id" 2 "not a positive integer" -- "$A" describe x

# --- describe: JSON ---
expect_rc 0 '"workload": "etl"' -- describe 7 -o json
has "json params apart" "$T/out" '"ahead_params": {'
has "json resources as integers" "$T/out" '"memory": 2147483648'
has "json peak" "$T/out" '"peak": {'
has "json sized by" "$T/out" '"sized_by": {'
has "json history now" "$T/out" '"history_now": {'
has "json model" "$T/out" '"model": "group"'
has "json resizes" "$T/out" '"resizes": 1,'
has "json lease time" "$T/out" '"lease_expires": "20'

# --- two allocations of one workload: each shows its own last report ---
expect_rc 0 "granted  id=9" -- alloc -t t -p p -r cpu=1,memory=1Gi --workload etl --params rows=2,kind=etl
expect_rc 0 "granted  id=10" -- alloc -t t -p p -r cpu=1,memory=1Gi --workload etl --params rows=3,kind=etl
expect_rc 0 "reported id=9" -- report 9 --usage memory=300Mi
expect_rc 0 "reported id=10" -- report 10 --usage memory=700Mi
expect_rc 0 "reported id=9" -- report 9 --usage memory=310Mi
expect_rc 0 "" -- describe 9
grep -qE '^  memory +.* 310Mi$' "$T/out" && ok || bad "describe 9 shows its own last report: $(grep memory "$T/out")"
grep -qE '^  memory +.* 310Mi +[0-9]+Mi +310Mi$' "$T/out" && ok || bad "describe 9 peak and last are its own: $(grep memory "$T/out")"
expect_rc 0 "" -- describe 10
grep -qE '^  memory +.* 700Mi +700Mi +700Mi$' "$T/out" && ok || bad "describe 10 shows its own last report: $(grep memory "$T/out")"
expect_rc 0 '"memory": 734003200' -- describe 10 -o json
python3 - "$T/out" <<'EOPY' && ok || bad "json last_usage of 10 is its own"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["last_usage"]["memory"] == 700 * 2**20, d["last_usage"]
EOPY
expect_rc 0 "" -- describe 9 -o json
python3 - "$T/out" <<'EOPY' && ok || bad "json last_usage of 9 is its own"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["last_usage"]["memory"] == 310 * 2**20, d["last_usage"]
assert d["last_usage_at"] is not None
EOPY

# --- the model that sized it stays, whatever the history picks later ---
( echo "time,value"; for i in 0 1 2 3 4 5 6 7 8 9; do echo "$((1700000000 + i * 60)),$((1073741824 + i * 1048576))"; done ) > "$T/svc.csv"
expect_rc 0 "imported 10 samples" -- shadow import --workload svc --dim memory --input "$T/svc.csv"
expect_rc 0 "memory: series on 10 usage samples" -- alloc -t t -p p -r cpu=1 --workload svc
sid=$(sed -n 's/^granted  id=\([0-9]*\).*/\1/p' "$T/out")
for r in 1 2 3; do
  id=$("$A" alloc -t t -p p -r cpu=1 --workload svc -o json | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1)
  "$A" report "$id" --usage memory=3Gi >/dev/null || bad "svc report $r"
  "$A" release "$id" >/dev/null || bad "svc release $r"
done
expect_rc 0 "" -- describe "$sid"
grep -qE '^  memory +.* series on 10 usage samples ' "$T/out" && ok || bad "sized by the model at grant: $(grep memory "$T/out")"
grep -qE '^History now:  would predict at p90 memory=3Gi \((group|workload) on 3 requests\)$' "$T/out" && ok || bad "history now, apart: $(grep History "$T/out")"
expect_rc 0 "" -- describe "$sid" -o json
python3 - "$T/out" <<'EOPY' && ok || bad "json sized_by is the model at grant"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["sized_by"]["memory"] == {"model": "series", "history": 10}, d["sized_by"]
assert d["history_now"]["by_dim"]["memory"]["model"] != "series", d["history_now"]
EOPY
expect_rc 0 "by series" -- shadow requests --workload svc

# --- recommend: table and JSON ---
expect_rc 0 "Workload:  etl (class standard)" -- recommend etl --params rows=7,kind=etl
grep -qE '^memory +[0-9]+Mi +[0-9]+Mi +[0-9]+Mi +[a-z]+ +6 requests +[0-9]+%, [0-9]+ of [0-9]+ above' "$T/out" && ok || bad "recommend memory row: $(cat "$T/out")"
has "recommend header" "$T/out" "DIMENSION  LOWER p50  TARGET p90  UPPER p99  MODEL"
expect_rc 0 '"scored": 5' -- recommend etl -o json
has "recommend json target" "$T/out" '"target": '
has "recommend json error" "$T/out" '"mean_abs_error": '
check "recommend unknown class" 5 "no class 'nope'" -- "$A" recommend etl --class nope
check "recommend bad params" 2 "--params" -- "$A" recommend etl --params "ahead.alloc=1"
check "recommend no ledger" 5 "no such ledger" -- "$A" recommend etl --db "$T/none.db"
ok "recommend made no ledger" '[ ! -e "$T/none.db" ]'
finish cli_describe
