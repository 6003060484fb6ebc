#!/usr/bin/env bash
# The policy's `sizing`: `ahead report` resizes with the allocation policy
# replay scores (here ahead's), warmed on the workload's shadow history,
# instead of the built-in 90%/50% rule; a bad value is refused with its line.
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/ledger.db


policy() { # policy SIZING
  printf '[ahead]\nsizing = %s\nlease_ttl = 1h\n[pool p]\ncapacity = cpu=32, memory=16Gi\n[class std]\npriority = 10\nquantile = 0.9\n[tenant t]\n' "$1" > "$T/policy.ini"
}

policy magic
check "bad sizing names line 2" 2 "policy.ini:2.*sizing.*expected builtin, ahead" -- "$A" policy check "$T/policy.ini"
printf '[ahead]\nreport_interval = 0s\n[pool p]\ncapacity = cpu=8\n[class c]\npriority=1\nquantile=0.9\n' > "$T/ri.ini"
check "bad report_interval" 2 "ri.ini:2.*report_interval" -- "$A" policy check "$T/ri.ini"

# builtin: a low report changes nothing at once (the shrink waits 10 min)
policy builtin
check "apply builtin" 0 "applied" -- "$A" policy apply "$T/policy.ini"
check "grant 1" 0 "granted  id=1" -- "$A" alloc -t t -p p -r cpu=2,memory=1Gi -w web
check "builtin keeps" 0 "unchanged  cpu=2" -- "$A" report 1 --usage cpu=100m

# ahead: the same report is sized by ahead's policy: down at once
policy ahead
check "apply ahead" 0 "applied" -- "$A" policy apply "$T/policy.ini"
check "grant 2" 0 "granted  id=2" -- "$A" alloc -t t -p p -r cpu=2,memory=1Gi -w api
check "ahead shrinks at once" 0 "shrunk  cpu=1[0-9]{3}m" -- "$A" report 2 --usage cpu=100m
# memory was not measured: left as it is
check "memory untouched" 0 '"resources":\{"cpu":1[0-9]{3},"memory":1073741824\}' -- bash -c "'$A' report 2 --usage cpu=100m -o json | tr -d ' \n'"
# a jump: grown at once, above the usage
out=$("$A" report 2 --usage cpu=3 -o json 2>&1)
cpu=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1])["resources"]; print("%dm" % r["cpu"])' "$out")
if python3 -c 'import sys; v=sys.argv[1]; c=float(v[:-1])/1000 if v.endswith("m") else float(v); sys.exit(0 if c >= 3 else 1)' "$cpu"; then
  pass=$((pass+1)); else echo "FAIL ahead grows above usage: $out"; fail=$((fail+1)); fi
# the reports went into the workload's history in the shadow store
check "history recorded" 0 "api" -- "$A" shadow ls
# no shadow history (an allocation without --workload): sized cold, still works
check "grant 3" 0 "granted  id=3" -- "$A" alloc -t t -p p -r cpu=1
check "report cold" 0 "reported id=3" -- "$A" report 3 --usage cpu=500m

finish
