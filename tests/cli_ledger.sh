#!/usr/bin/env bash
# End-to-end CLI tests for the ledger commands: good paths, and bad input on
# every entry point (each gives a clear error, the right exit code, and
# changes nothing in the ledger).
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/ledger.db


snapshot() { "$A" ls -o json 2>&1; "$A" events -o csv 2>&1 | wc -l; "$A" policy show 2>&1 | tail -n +2; }

# --- before any policy ---
check "no ledger yet" 5 "no such ledger" -- "$A" ls
check "unknown command" 2 "unknown command 'frobnicate'" -- "$A" frobnicate
check "no command" 2 "usage" -- "$A"
for c in policy pool alloc release renew report ls events tick forecast anomalies shadow replay; do
  check "$c --help" 0 "usage" -- "$A" "$c" --help
done

# --- malformed policy files: clear error with file and line, exit 2 ---
printf '' > "$T/empty.ini"
head -c 3000 /dev/urandom > "$T/binary.ini"; printf '\0\0' >> "$T/binary.ini"
printf '[ahead]\ndefault_class = x\n[pool p]\ncapacity = cpu=2Q\n[class x]\npriority=1\nquantile=0.9\n' > "$T/badunit.ini"
printf '[pool p]\ncapacity = cpu=2\n[class x]\npriority=1\nquantile=0.9\nflavour = mint\n' > "$T/unknownkey.ini"
printf '[pool p]\ncapacity = cpu=99999999999999999999999\n[class x]\npriority=1\nquantile=0.9\n' > "$T/huge.ini"
printf '[pool p]\ncapacity = cpu=2\n[class x]\npriority=1\nquantile=1.5\n' > "$T/quantile.ini"
check "policy empty" 2 "empty.ini" -- "$A" policy check "$T/empty.ini"
check "policy binary" 2 "binary.ini" -- "$A" policy check "$T/binary.ini"
check "policy missing file" 2 "nope.ini" -- "$A" policy check "$T/nope.ini"
check "policy bad unit names line 4" 2 "badunit.ini:4" -- "$A" policy check "$T/badunit.ini"
check "policy unknown key names line 6" 2 "unknownkey.ini:6.*flavour" -- "$A" policy check "$T/unknownkey.ini"
check "policy huge number" 2 "huge.ini:2" -- "$A" policy check "$T/huge.ini"
check "policy bad quantile" 2 "quantile.ini:5.*quantile" -- "$A" policy check "$T/quantile.ini"
check "policy unknown action" 2 "unknown action" -- "$A" policy frob x
check "policy check no file" 2 "missing FILE" -- "$A" policy check

# --- apply the demo policy, make some state ---
check "apply" 0 "applied" -- "$A" policy apply "$SRC/examples/demo-policy.ini"
check "grant" 0 "granted  id=1" -- "$A" alloc -t alice -p edge -r cpu=3,memory=4Gi -P job=x
check "queue" 4 "queued   id=2" -- "$A" alloc -t bob -p edge -r cpu=2 -q 1h
check "refuse quota" 3 "quota_exceeded" -- "$A" alloc -t alice -p edge -r cpu=2
check "refuse too big" 3 "exceeds_capacity" -- "$A" alloc -t bob -p edge -r memory=9Gi
check "json alloc" 3 '"reason": "unknown_pool"' -- "$A" alloc -t bob -p nowhere -r cpu=1 -o json
before=$(snapshot)

# --- bad input changes nothing ---
check "bad unit" 2 "cpu: .*suffix" -- "$A" alloc -t bob -p edge -r cpu=2x
check "unknown dim" 2 "gpu" -- "$A" alloc -t bob -p edge -r gpu=1
check "huge number" 2 "cpu" -- "$A" alloc -t bob -p edge -r cpu=99999999999999999999999
check "negative" 2 "cpu" -- "$A" alloc -t bob -p edge -r cpu=-1
check "empty res" 2 "res" -- "$A" alloc -t bob -p edge -r ""
check "missing tenant" 2 "--tenant is required" -- "$A" alloc -p edge -r cpu=1
check "bad lease" 2 "--lease" -- "$A" alloc -t bob -p edge -r cpu=1 -l forever
check "bad param" 2 "--param" -- "$A" alloc -t bob -p edge -r cpu=1 -P novalue
check "long param" 2 "--param" -- "$A" alloc -t bob -p edge -r cpu=1 -P "k=$(head -c 2000 /dev/zero | tr '\0' a)"
check "bad output" 2 "unknown output format" -- "$A" ls -o yaml
check "stray arg" 2 "unexpected argument" -- "$A" ls extra
check "release non-number" 2 "not a positive integer" -- "$A" release abc
check "release zero" 2 "not a positive integer" -- "$A" release 0
check "release missing" 2 "missing ID" -- "$A" release
check "release unknown" 5 "no such allocation" -- "$A" release 999
check "renew unknown" 5 "no such allocation" -- "$A" renew 999
check "renew bad lease" 2 "--lease" -- "$A" renew 1 --lease -5s
check "events bad since" 2 "--since" -- "$A" events --since x
check "pool bad action" 2 "unknown action" -- "$A" pool rm
check "apply binary" 2 "binary.ini" -- "$A" policy apply "$T/binary.ini"
check "apply bad unit" 2 "badunit.ini:4" -- "$A" policy apply "$T/badunit.ini"
# A policy that drops the pool in use is refused as a whole.
sed 's/\[pool edge\]/[pool other]/' "$SRC/examples/demo-policy.ini" > "$T/dropped.ini"
check "apply drops live pool" 3 "pool 'edge'" -- "$A" policy apply "$T/dropped.ini"
after=$(snapshot)
if [ "$before" == "$after" ]; then pass=$((pass+1)); else echo "FAIL: bad input changed the ledger"; diff <(echo "$before") <(echo "$after") | head; fail=$((fail+1)); fi

# --- database problems ---
head -c 8192 /dev/urandom > "$T/garbage.db"
check "garbage db" 1 "garbage.db" -- "$A" ls --db "$T/garbage.db"
check "db is a directory" 1 "" -- "$A" ls --db "$T"

# --- release serves the queue; renew; events ---
check "release" 0 "released id=1" -- "$A" release 1
check "queued now granted" 0 "2 +granted +bob" -- "$A" ls
check "renew" 0 "renewed  id=2" -- "$A" renew 2 --lease 1m
check "events by id" 0 "dequeue" -- "$A" events --id 2
check "pool ls json" 0 '"allocations": 1' -- "$A" pool ls -o json
check "report grows" 0 "grown  cpu=2500m" -- "$A" report 2 --usage cpu=1900m
check "report bad usage" 2 "--usage" -- "$A" report 2 --usage cpu=lots
check "report unknown" 5 "no such allocation" -- "$A" report 999 --usage cpu=1
check "events resize" 0 "resize" -- "$A" events --id 2
check "tick" 0 "1 allocations" -- "$A" tick
# a refusal names the tenant it refused, even one the policy does not know
check "unknown tenant refused" 3 "unknown_tenant|not defined" -- "$A" alloc -t mallory -p edge -r cpu=1
check "refusal event names the tenant" 0 "refuse.*mallory" -- "$A" events -o csv

finish
