#!/usr/bin/env bash
# Every command's -o json against the one schema (docs/schema/ahead.schema.json):
# each answer validates as its shape, and with -o json every message on
# stderr is an {"error": {code, message, field}} (or a warning) object.
set -u
. "$(dirname "$0")/lib.sh"
SCHEMA=$SRC/docs/schema/ahead.schema.json
python3 -c 'import jsonschema' 2>/dev/null || die "python3 jsonschema module missing (scripts/install-deps.sh installs python3-jsonschema)"
export AHEAD_DB=$T/x.db
n=0
# js DEF WANT_RC -- ARGS...: ahead ARGS -o json exits WANT_RC, stdout is a DEF
# (DEF "-": nothing on stdout), stderr only error/warning objects.
js() {
  local def=$1 want=$2; shift 3
  local rc out
  n=$((n+1)); out=$T/j$n
  "$A" "$@" >"$out.json" 2>"$out.err" && rc=0 || rc=$?
  if [ "$rc" != "$want" ]; then bad "ahead $*: exit $rc, want $want: $(head -c 400 "$out.err")"; return; fi
  if [ "$def" = - ]; then
    [ ! -s "$out.json" ] && ok || bad "ahead $*: printed on stdout: $(head -c 200 "$out.json")"
  else
    python3 "$SRC/tests/json_check.py" "$SCHEMA" "$def" "$out.json" && ok || bad "ahead $* is not a $def"
  fi
  python3 "$SRC/tests/json_check.py" "$SCHEMA" --lines "$out.err" && ok || bad "ahead $*: stderr is not JSON errors"
}

cat >"$T/p.ini" <<'EOP'
[ahead]
default_class = standard
unknown_tenants = refuse
[pool p]
capacity = cpu=8, memory=16Gi
unit = cpu=100m, memory=1Mi
[class standard]
priority = 50
quantile = 0.9
[tenant t]
quota = cpu=16, memory=16Gi
EOP

# --- errors before anything exists ---
js - 5 -- ls -o json
js - 2 -- alloc --bogus -o json
js - 2 -- ls -o json --limit 0
grep -q '"field":"--limit"' "$T/j$n.err" && ok || bad "--limit error names its field: $(cat "$T/j$n.err")"

# --- policy ---
js policy 0 -- policy check "$T/p.ini" -o json
js policy 0 -- policy apply "$T/p.ini" -o json
js policy 0 -- policy show -o json
js - 2 -- policy check "$T/none.ini" -o json

# --- the request path ---
js decision 0 -- alloc -t t -p p -r cpu=1,memory=1Gi -P job=a -o json
js decision 3 -- alloc -t t -p p -r cpu=100 -o json
for r in 1 2 3; do
  id=$("$A" alloc -t t -p p -r cpu=1,memory=1Gi --workload etl --params "rows=$r" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  "$A" report "$id" --usage "memory=$((300 * r))Mi,cpu=500m" >/dev/null || bad "report $r"
  "$A" release "$id" >/dev/null || bad "release $r"
done
js decision 0 -- alloc -t t -p p --workload etl --params rows=4 -o json
wid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/j$n.json")
js decision 4 -- alloc -t t -p p -r cpu=8 -q 1h -o json
qid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/j$n.json")
js report 0 -- report "$wid" --usage memory=2Gi,cpu=700m -o json
js report 0 -- report 1 --usage cpu=100m -o json
js renew 0 -- renew 1 --lease 1h -o json
js renew 0 -- renew 1 --lease 400d -o json
js - 5 -- renew 99 -o json
js allocation_list 0 -- ls -o json
js description 0 -- describe "$wid" -o json
js description 0 -- describe 1 -o json
js description 0 -- describe "$qid" -o json
js recommendation 0 -- recommend etl -o json
js - 5 -- recommend nothing-known -o json
js pool_list 0 -- pool ls -o json
js event_list 0 -- events -o json
js scale_action_list 0 -- scale --dry-run -o json
js release 0 -- release "$qid" -o json
js tick 0 -- tick -o json
js event_list 0 -- events --since 3 -o json

# --- the usage history ---
js history_series_list 0 -- shadow ls -o json
js history_points 0 -- shadow query --workload etl --dim memory -o json
js history_request_list 0 -- shadow requests --workload etl -o json
js history_compact 0 -- shadow compact -o json
js - 2 -- shadow requests -o json

# --- series tools and replay ---
awk 'BEGIN { print "timestamp,value"; for (i = 0; i < 600; i++) { v = 50 + 20 * sin(6.2832 * i / 48); if (i == 400) v = 500; printf "%d,%.4f\n", 1400000000 + i * 300, v } }' >"$T/s.csv"
js forecast 0 -- forecast --input "$T/s.csv" --horizon 4 -o json
js anomalies 0 -- anomalies --input "$T/s.csv" -o json
js anomalies 0 -- anomalies --input "$T/s.csv" --scores -o json
js - 2 -- forecast --input "$T/none.csv" -o json
printf 'time,workload,dim,used,requested\n0,a,cpu,100,250\n300,a,cpu,200,250\n600,a,cpu,300,250\n' >"$T/tiny.csv"
js replay 0 -- replay --trace "$T/tiny.csv" -o json
js - 2 -- replay --trace "$T/tiny.csv" --policy hpa -o json
finish cli_json_schema
