#!/usr/bin/env bash
# End-to-end tests of `ahead scale`: the hook is called with POOL DIM FROM
# TO, capacity changes only when it succeeds, failures and timeouts are
# recorded with their attempts, allocation goes on meanwhile, bad policy
# keys are refused with their line, and old databases still open.
set -u
. "$(dirname "$0")/lib.sh"
export AHEAD_DB=$T/ledger.db


# --- hooks ---
cat > "$T/record.sh" <<EOF
#!/bin/sh
echo "\$*" >> "$T/calls.log"
echo "resized \$2 \$3"
EOF
cat > "$T/fail.sh" <<EOF
#!/bin/sh
echo "\$*" >> "$T/fail.log"
head -c 5000 /dev/zero | tr '\\0' x
echo
echo "quota exceeded at the provider" >&2
exit 3
EOF
cat > "$T/slow.sh" <<'EOF'
#!/bin/sh
sleep 30
EOF
chmod +x "$T"/*.sh

policy() { # policy FILE HOOK [EXTRA POOL KEYS...]
  local f=$1 hook=$2; shift 2
  {
    printf '[ahead]\nunknown_tenants = default\n[tenant *]\n'
    printf '[pool edge]\ncapacity = cpu=4, memory=8Gi\nmin = cpu=2\nmax = cpu=16\nunit = cpu=1\n'
    printf 'shaping = on\ncapacity_cost = cpu=1\nscale_hook = %s\n' "$hook"
    for k in "$@"; do printf '%s\n' "$k"; done
    printf '[class std]\npriority = 10\nshortfall_cost = cpu=10\n'
  } > "$f"
}

# --- usage ---
check "help" 0 "HOOK POOL DIMENSION FROM TO" -- "$A" scale --help
check "listed" 0 "scale" -- "$A" --help
check "bad option" 2 "usage" -- "$A" scale --frob
check "stray arg" 2 "unexpected argument" -- "$A" scale now
check "csv refused" 2 "csv is not supported" -- "$A" scale -o csv
check "no policy" 2 "no policy applied" -- "$A" scale

# --- bad policy keys: refused with file, line, section and key ---
policy "$T/relhook.ini" "grow.sh"
check "relative hook" 2 "relhook.ini:11: \[pool edge\] scale_hook: 'grow.sh' is not an absolute path" -- "$A" policy check "$T/relhook.ini"
policy "$T/badcost.ini" "$T/record.sh" "create_cost = cpu=cheap"
check "bad cost" 2 "badcost.ini:12: \[pool edge\] create_cost: cpu: expected a price" -- "$A" policy check "$T/badcost.ini"
policy "$T/badlead.ini" "$T/record.sh" "lead_time = 5 m"
check "bad lead time" 2 "badlead.ini:12: \[pool edge\] lead_time: bad duration" -- "$A" policy check "$T/badlead.ini"
policy "$T/badretry.ini" "$T/record.sh" "hook_retries = 99"
check "bad retries" 2 "badretry.ini:12: \[pool edge\] hook_retries: 99 is out of range" -- "$A" policy check "$T/badretry.ini"
printf '[pool p]\ncapacity = cpu=4\nshaping = on\ncapacity_cost = 1\n[class c]\npriority = 1\nshortfall_cost = 1\n' > "$T/noroom.ini"
check "shaping without room" 2 "noroom.ini:3: \[pool p\] shaping: on needs room to scale" -- "$A" policy check "$T/noroom.ini"
printf '[pool p]\ncapacity = cpu=4\nhook_timeout = 5s\n[class c]\npriority = 1\n' > "$T/orphan.ini"
check "hook option without hook" 2 "orphan.ini:3: \[pool p\] hook_timeout: has no effect without a scale_hook" -- "$A" policy check "$T/orphan.ini"
printf '[pool p]\ncapacity = cpu=4\n[class c]\npriority = 1\nshortfall_cost = gpu=1\n' > "$T/unkdim.ini"
check "shortfall unknown dim" 2 "unkdim.ini:5: \[class c\] shortfall_cost: gpu: unknown dimension" -- "$A" policy check "$T/unkdim.ini"

# --- a successful scale-up: the hook sees pool, dim, from, to ---
policy "$T/ok.ini" "$T/record.sh --tag x"
check "apply" 0 "applied" -- "$A" policy apply "$T/ok.ini"
check "grant 4" 0 "granted" -- "$A" alloc -t a -p edge -r cpu=4
check "queue 2" 4 "queued" -- "$A" alloc -t b -p edge -r cpu=2 -q 1h
check "dry run" 0 "edge +cpu +scale +4 +6 .*planned" -- "$A" scale --dry-run
check "dry run json" 0 '"to": 6000' -- "$A" scale --dry-run -o json --db "$AHEAD_DB"
[ ! -e "$T/calls.log" ] && ok || bad "dry run ran the hook"
check "dry run left capacity" 0 "edge +cpu +4 " -- "$A" pool ls
check "dry run recorded nothing" 0 "" -- "$A" events
"$A" events | grep -q " scale " && bad "dry run recorded a scale event" || ok
check "scale up" 0 "edge +cpu +scale +4 +6 .* 1 +scaled" -- "$A" scale
if [ "$(cat "$T/calls.log" 2>/dev/null)" = "--tag x edge cpu 4000 6000" ]; then ok; else bad "hook args: '$(cat "$T/calls.log" 2>/dev/null)'"; fi
check "capacity grown" 0 "edge +cpu +6 +6 +0 " -- "$A" pool ls
check "queued request granted" 0 "2 +granted" -- "$A" ls
check "scale event" 0 "scale .*edge .*cpu=6,memory=8Gi +scaled: cpu 4 -> 6 \(scale\); hook succeeded after 1 attempt" -- "$A" events
check "scale event json" 0 '"exit_status": 0' -- "$A" events -o json
check "scale event output" 0 '"output": "resized x edge' -- "$A" events -o json
# Demand gone, but a scale-down is held for 10 minutes (stabilise).
check "release 1" 0 "released" -- "$A" release 1
check "release 2" 0 "released" -- "$A" release 2
check "scale-down held" 0 "no scaling needed" -- "$A" scale
[ "$(wc -l < "$T/calls.log")" = 1 ] && ok || bad "hook ran again"

# --- a failing hook: retried, recorded, capacity unchanged, alloc goes on ---
export AHEAD_DB=$T/fail.db
policy "$T/fail.ini" "$T/fail.sh" "hook_retries = 1"
check "apply fail policy" 0 "applied" -- "$A" policy apply "$T/fail.ini"
check "small grant" 0 "granted" -- "$A" alloc -t a -p edge -r cpu=1
check "hook fails" 1 "edge +cpu +scale +4 +2 .* 2 +hook_failed" -- "$A" scale
[ "$(wc -l < "$T/fail.log")" = 2 ] && ok || bad "failing hook attempts: $(wc -l < "$T/fail.log")"
check "capacity unchanged" 0 "edge +cpu +4 +1 +3 " -- "$A" pool ls
check "alloc still works" 0 "granted" -- "$A" alloc -t b -p edge -r cpu=3
check "failure recorded" 0 "hook_failed: cpu 4 -> 2 \(scale\); hook failed after 2 attempts" -- "$A" events
check "failure attempts json" 0 '"attempts": 2' -- "$A" events -o json
check "failure exit json" 0 '"exit_status": 3' -- "$A" events -o json
out=$("$A" events -o json | grep '"output"' | head -1)
len=$(printf '%s' "$out" | sed 's/.*"output": "//; s/"$//' | wc -c)
[ "$len" -le 1100 ] && [ "$len" -ge 1000 ] && ok || bad "hook output not capped near 1 KiB: $len"

# --- a hook that hangs: killed at its timeout, recorded as such ---
export AHEAD_DB=$T/slow.db
policy "$T/slow.ini" "$T/slow.sh" "hook_timeout = 1s" "hook_retries = 0"
check "apply slow policy" 0 "applied" -- "$A" policy apply "$T/slow.ini"
start=$(date +%s)
check "hook times out" 1 "edge +cpu +scale +4 +2 .* 1 +hook_timeout" -- "$A" scale
[ $(( $(date +%s) - start )) -lt 10 ] && ok || bad "timeout took too long"
check "timeout recorded" 0 '"timed_out": true' -- "$A" events -o json
check "timeout capacity unchanged" 0 "edge +cpu +4 " -- "$A" pool ls

# --- no hook: the capacity is the scaler's to set ---
export AHEAD_DB=$T/nohook.db
printf '[ahead]\nunknown_tenants = default\n[tenant *]\n[pool edge]\ncapacity = cpu=4\nmin = cpu=2\nmax = cpu=16\nunit = cpu=1\nshaping = on\ncapacity_cost = cpu=1\n[class std]\npriority = 10\nshortfall_cost = cpu=10\n' > "$T/nohook.ini"
check "apply no hook" 0 "applied" -- "$A" policy apply "$T/nohook.ini"
check "scale down, no hook" 0 "edge +cpu +scale +4 +2 .* - +scaled" -- "$A" scale
check "no hook event" 0 "cpu 4 -> 2 \(scale\); no hook" -- "$A" events

# --- rebalancing between siblings: b is full with 3 waiting (3 + 0.4 above
# its 90% line, rounded up to whole cores = 4), a is idle ---
export AHEAD_DB=$T/rebal.db
printf '[ahead]\nunknown_tenants = default\n[tenant *]\n[pool a]\ncapacity = cpu=10\nmin = cpu=2\nmax = cpu=20\nunit = cpu=1\nparent = rack\nscale_hook = %s\n[pool b]\ncapacity = cpu=4\nmin = cpu=2\nmax = cpu=20\nunit = cpu=1\nparent = rack\nscale_hook = %s\n[class std]\npriority = 10\n' "$T/record.sh" "$T/record.sh" > "$T/rebal.ini"
: > "$T/calls.log"
check "apply rebalance" 0 "applied" -- "$A" policy apply "$T/rebal.ini"
check "b full" 0 "granted" -- "$A" alloc -t x -p b -r cpu=4
check "b queue" 4 "queued" -- "$A" alloc -t x -p b -r cpu=3 -q 1h
check "rebalance" 0 "b +cpu +rebalance +4 +8 " -- "$A" scale
if [ "$(cat "$T/calls.log")" = "a cpu 10000 6000
b cpu 4000 8000" ]; then ok; else bad "rebalance hooks: $(cat "$T/calls.log")"; fi
check "donor shrunk" 0 "a +cpu +6 " -- "$A" pool ls
check "receiver grown, queue served" 0 "b +cpu +8 +7 " -- "$A" pool ls
check "rebalance event" 0 '"peer": "a"' -- "$A" events -o json

# --- a database from before scale events still opens, and is upgraded ---
if command -v sqlite3 >/dev/null; then
  export AHEAD_DB=$T/old.db
  check "apply old" 0 "applied" -- "$A" policy apply "$T/ok.ini"
  sqlite3 "$AHEAD_DB" "ALTER TABLE events DROP COLUMN data; DROP TABLE pool_demand; DROP INDEX events_by_kind_pool; PRAGMA user_version=0;"
  check "old db events" 0 "policy" -- "$A" events
  [ "$(sqlite3 "$AHEAD_DB" 'PRAGMA user_version')" = 7 ] && ok || bad "user_version not upgraded"
  sqlite3 "$AHEAD_DB" "SELECT data FROM events LIMIT 1" >/dev/null 2>&1 && ok || bad "events.data missing"
  check "old db scales" 0 "scaled" -- "$A" scale
else
  echo "skip: sqlite3 shell not installed (old-database test)"
fi

finish
