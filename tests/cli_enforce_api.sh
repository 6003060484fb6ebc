#!/usr/bin/env bash
# The daemon's cgroup per allocation ([linux] enforce_api) on a fixture
# cgroup v2 tree: a grant over the API makes ahead/alloc-ID with the
# grant's cpu.max, memory.high and memory.max, the answer names its path
# (and validates against the schema); a resize rewrites the limits; a
# release removes the cgroup (kept pending while it is not empty); a
# limit changed by hand is restored (on_drift = restore) or adopted
# (adopt); dry-run writes nothing; a restart after kill -9 re-applies
# desired limits to live allocations and removes orphans, admitting
# nothing twice; /metrics and /v1/host say what it does. Bad keys are
# refused naming them.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
for t in curl python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 0; }; done

FX=$T/fx
CG=$FX/sys/fs/cgroup
mkdir -p "$FX/proc/self" "$CG/ahead"
echo "30 23 0:26 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw" >"$FX/proc/self/mountinfo"
printf 'cpu  100 0 100 1000 0 0 0 0 0 0\n' >"$FX/proc/stat"
printf 'MemTotal:       8388608 kB\nMemAvailable:   4194304 kB\n' >"$FX/proc/meminfo"
# what the kernel would show in a new cgroup: the fixture makes the files
# just before each grant (ids are 1, 2, ... in a new ledger)
cg_files() { # DIR
  mkdir -p "$1"
  echo "max 100000" >"$1/cpu.max"
  echo "max" >"$1/memory.max"
  echo "max" >"$1/memory.high"
  echo "$((64 * 1048576))" >"$1/memory.current"
}

pol() { # ENFORCE_API ON_DRIFT
  cat <<EOP
[ahead]
unknown_tenants = default
[pool p]
capacity = cpu=8, memory=16Gi
[class c]
priority = 1
[tenant *]
[linux]
interval = 200ms
host = no
max_cgroups = 0
proc_root = $FX/proc
cgroup_prefix = $FX
enforce_api = $1
on_drift = $2
run_hard_margin = 0.5
EOP
}
pol on restore >"$T/p.ini"

# bad keys
pol maybe restore >"$T/bad1.ini"
check "enforce_api word" 2 "enforce_api: 'maybe' is not one of off, on, dry-run" -- "$A" policy check "$T/bad1.ini"
pol on sometimes >"$T/bad2.ini"
check "on_drift word" 2 "on_drift: 'sometimes' is not one of restore, adopt" -- "$A" policy check "$T/bad2.ini"
{ pol on restore; echo "api_cgroup_parent = ../up"; } >"$T/bad3.ini"
check "parent climbing" 2 "api_cgroup_parent: '../up' climbs out" -- "$A" policy check "$T/bad3.ini"
{ pol on restore; echo "api_cgroup_parent = /abs"; } >"$T/bad4.ini"
check "parent absolute" 2 "api_cgroup_parent: '/abs' is absolute" -- "$A" policy check "$T/bad4.ini"
{ pol on restore; echo "api_cgroup_parent = a*"; } >"$T/bad5.ini"
check "parent glob" 2 "api_cgroup_parent: 'a\\*' has a glob character" -- "$A" policy check "$T/bad5.ini"
check "good policy" 0 "" -- "$A" policy check "$T/p.ini"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=
start() {
  "$A" serve --policy "$T/p.ini" --db "$T/l.db" --listen "127.0.0.1:$PORT" --admin-token-file "$T/tok" \
    >>"$T/o" 2>>"$T/e" &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
}
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
start
tok=$(cat "$T/tok")
req() { curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' "$@"; }
get() { req "http://127.0.0.1:$PORT$1"; }
post() { req -X POST -d "$2" "http://127.0.0.1:$PORT$1"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
rd() { cat "$CG/ahead/$1" 2>/dev/null || echo absent; }
wait_for() { # FILE VALUE
  for _ in $(seq 50); do [ "$(rd "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}

# a grant: the cgroup's limits are the grant's
cg_files "$CG/ahead/alloc-1"
ans=$(post /v1/allocations '{"tenant":"t","pool":"p","class":"c","resources":{"cpu":"1500m","memory":"1Gi"}}')
echo "$ans" >"$T/grant.json"
[ "$(echo "$ans" | field '["id"]')" = 1 ] && ok || bad "grant: $ans"
[ "$(echo "$ans" | field '["cgroup"]["paths"]')" = "['$CG/ahead/alloc-1']" ] && ok || bad "cgroup path in the answer: $ans"
[ "$(echo "$ans" | field '["cgroup"]["mode"]')" = on ] && ok || bad "mode: $ans"
[ "$(rd alloc-1/cpu.max)" = "150000 100000" ] && ok || bad "cpu.max: $(rd alloc-1/cpu.max)"
[ "$(rd alloc-1/memory.high)" = 1073741824 ] && ok || bad "memory.high: $(rd alloc-1/memory.high)"
[ "$(rd alloc-1/memory.max)" = 1610612736 ] && ok || bad "memory.max (soft + 50%): $(rd alloc-1/memory.max)"
desc=$(get /v1/allocations/1)
echo "$desc" >"$T/desc.json"
[ "$(echo "$desc" | field '["cgroup"]["applied"]["memory_max_bytes"]')" = 1610612736 ] && ok || bad "GET applied: $desc"
if python3 -c 'import jsonschema' 2>/dev/null; then
  python3 "$SRC/tests/json_check.py" "$SRC/docs/schema/ahead.schema.json" decision "$T/grant.json" && ok || bad "grant answer not a decision"
  python3 "$SRC/tests/json_check.py" "$SRC/docs/schema/ahead.schema.json" description "$T/desc.json" && ok || bad "GET answer not a description"
fi

# a resize (usage near the reservation: the sizer grows it); memory.high
# page-aligned by the enforcer
post /v1/allocations/1/usage '{"usage":{"cpu":"1500m","memory":"1Gi"}}' >"$T/u.json"
d1=$(get /v1/allocations/1)
new=$(echo "$d1" | field '["resources"]["memory"]')
want=$(echo "$d1" | field '["cgroup"]["desired"]["memory_high_bytes"]')
cpu_m=$(echo "$d1" | field '["cgroup"]["desired"]["cpu_millicores"]')
if [ "$new" != 1073741824 ]; then
  ok_hi=
  for _ in $(seq 50); do
    h=$(rd alloc-1/memory.high)
    [ "$h" != max ] && [ $((want - h)) -ge 0 ] && [ $((want - h)) -lt 4096 ] && { ok_hi=1; break; }
    sleep 0.1
  done
  [ -n "$ok_hi" ] && ok || bad "resize: memory.high $(rd alloc-1/memory.high), want $want"
else
  bad "the usage report did not resize: $(cat "$T/u.json")"
fi

# drift restored within an interval
echo "max 100000" >"$CG/ahead/alloc-1/cpu.max"
wait_for alloc-1/cpu.max "$((cpu_m * 100)) 100000" && ok || bad "drift not restored: $(rd alloc-1/cpu.max), want ${cpu_m}m"
grep -q 'msg=drift id=1 limits="cpu" action=restored' "$T/e" && ok || bad "drift not logged: $(grep drift "$T/e")"

# a second grant, then a release: removal waits while the cgroup is not empty
cg_files "$CG/ahead/alloc-2"
a2=$(post /v1/allocations '{"tenant":"t","pool":"p","class":"c","resources":{"cpu":"1","memory":"512Mi"}}')
[ "$(echo "$a2" | field '["id"]')" = 2 ] && ok || bad "second grant: $a2"
[ "$(rd alloc-2/memory.high)" = 536870912 ] && ok || bad "second memory.high: $(rd alloc-2/memory.high)"
req -X DELETE "http://127.0.0.1:$PORT/v1/allocations/2" >/dev/null
[ -d "$CG/ahead/alloc-2" ] && ok || bad "a cgroup with files left was removed"
sleep 0.3
m=$(get /metrics)
grep -q "^ahead_enforce_cgroups_pending_removal 1$" <<<"$m" && ok || bad "pending removal: $(grep "^ahead_enforce_cg" <<<"$m")"
rm -f "$CG"/ahead/alloc-2/* # the tasks left (as the kernel's files go with rmdir)
for _ in $(seq 30); do [ -d "$CG/ahead/alloc-2" ] || break; sleep 0.1; done
[ -d "$CG/ahead/alloc-2" ] && bad "released cgroup not removed" || ok

m=$(get /metrics)
grep -q '^ahead_enforce_cgroups 1$' <<<"$m" && ok || bad "cgroups gauge: $(grep enforce_cgroups <<<"$m")"
grep -q '^ahead_enforce_cgroups_created_total 2$' <<<"$m" && ok || bad "created: $(grep created <<<"$m")"
grep -q '^ahead_enforce_cgroups_removed_total 1$' <<<"$m" && ok || bad "removed: $(grep removed <<<"$m")"
grep -q '^ahead_enforce_mode{mode="on"} 1$' <<<"$m" && ok || bad "mode gauge"
grep -q '^ahead_enforce_drift_total{action="restored"} 1$' <<<"$m" && ok || bad "drift counter: $(grep drift <<<"$m")"
w=$(grep '^ahead_enforce_limit_writes_total ' <<<"$m" | cut -d' ' -f2)
[ "${w:-0}" -ge 7 ] && ok || bad "limit writes: $w"
host=$(get /v1/host)
[ "$(echo "$host" | field '["enforce"]["mode"]')" = on ] && [ "$(echo "$host" | field '["enforce"]["cgroups"]')" = 1 ] && ok ||
  bad "/v1/host enforce: $host"

# kill -9, then while no daemon runs: a limit changed, an orphan left
kill -9 $pid; wait $pid 2>/dev/null
mkdir -p "$CG/ahead/alloc-77"
echo "max" >"$CG/ahead/alloc-1/memory.max"
echo "max" >"$CG/ahead/alloc-1/memory.high"
want_high=$(python3 -c "import json; print(json.load(open('$T/desc.json'))['cgroup']['desired']['memory_high_bytes'])")
start
for _ in $(seq 50); do [ -d "$CG/ahead/alloc-77" ] || break; sleep 0.1; done
[ -d "$CG/ahead/alloc-77" ] && bad "orphan not removed" || ok
[ "$(rd alloc-1/memory.high)" != max ] && ok || bad "desired not re-applied after restart: $(rd alloc-1/memory.high)"
n=$(get /v1/allocations | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$n" = 1 ] && ok || bad "after restart: $n allocations, want 1 (nothing admitted twice)"
grep -q 'msg=enforce_reconciled live=1 orphans_removed=1' "$T/e" && ok || bad "reconcile not logged: $(grep enforce "$T/e")"
ev=$(get '/v1/events?limit=100')
grep -q '"orphaned"' <<<"$ev" && ok || bad "no orphaned event"
grep -q '"drift"' <<<"$ev" && ok || bad "no drift event"

# adopt: a limit changed by hand is kept
pol on adopt >"$T/p.ini"
kill -HUP $pid
sleep 0.5
echo "200000 100000" >"$CG/ahead/alloc-1/cpu.max"
sleep 1
[ "$(rd alloc-1/cpu.max)" = "200000 100000" ] && ok || bad "adopted drift was overwritten: $(rd alloc-1/cpu.max)"
grep -q 'msg=drift id=1 limits="cpu" action=adopted' "$T/e" && ok || bad "adopt not logged"
grep -q '^ahead_enforce_drift_total{action="adopted"} 1$' <<<"$(get /metrics)" && ok || bad "adopted counter"
# ... and kept across a restart (the ledger's drift event records what was
# adopted); a kill -9 loses nothing of it
ev=$(get '/v1/events?limit=200')
grep -q '"adopted"' <<<"$ev" && ok || bad "adoption not recorded in the event: $ev"
kill -9 $pid; wait $pid 2>/dev/null
start
for _ in $(seq 50); do grep -q 'msg=enforce_adoption_kept id=1' "$T/e" && break; sleep 0.1; done
grep -q 'msg=enforce_adoption_kept id=1' "$T/e" && ok || bad "adoption not kept at restart: $(grep enforce_ "$T/e" | tail -3)"
sleep 1
[ "$(rd alloc-1/cpu.max)" = "200000 100000" ] && ok || bad "adopted limit overwritten at restart: $(rd alloc-1/cpu.max)"

# the global stop switch with on_stop = restore: limits back to none; and
# when it ends, the desired limits again
{ pol on restore; printf 'enforce = off\non_stop = restore\n'; } >"$T/p.ini"
kill -HUP $pid
wait_for alloc-1/cpu.max "max 100000" && [ "$(rd alloc-1/memory.max)" = max ] && [ "$(rd alloc-1/memory.high)" = max ] && ok ||
  bad "enforce = off, on_stop = restore: $(rd alloc-1/cpu.max) $(rd alloc-1/memory.high) $(rd alloc-1/memory.max)"
grep -q 'msg=enforce_stopped on_stop=restore' "$T/e" && ok || bad "stop not logged"
grep -q '^ahead_enforce_mode{mode="off"} 1$' <<<"$(get /metrics)" && ok || bad "stopped: mode gauge not off"
pol on restore >"$T/p.ini"
kill -HUP $pid
wait_for alloc-1/cpu.max "$((cpu_m * 100)) 100000" && [ "$(rd alloc-1/memory.high)" != max ] && ok ||
  bad "enforcement resumed: $(rd alloc-1/cpu.max) $(rd alloc-1/memory.high), want ${cpu_m}m"

# dry-run: a grant gets a cgroup, no limit written
pol dry-run restore >"$T/p.ini"
kill -HUP $pid
sleep 0.5
cg_files "$CG/ahead/alloc-3"
a3=$(post /v1/allocations '{"tenant":"t","pool":"p","class":"c","resources":{"cpu":"2","memory":"2Gi"}}')
[ "$(echo "$a3" | field '["cgroup"]["mode"]')" = dry-run ] && ok || bad "dry-run answer: $a3"
[ "$(rd alloc-3/cpu.max)" = "max 100000" ] && [ "$(rd alloc-3/memory.max)" = max ] && ok ||
  bad "dry-run wrote: $(rd alloc-3/cpu.max) $(rd alloc-3/memory.max)"
d=$(get /metrics | grep '^ahead_enforce_dry_run_writes_total ' | cut -d' ' -f2)
[ "${d:-0}" -ge 3 ] && ok || bad "dry-run writes counted: $d"
grep -q 'msg=enforce_dry_run id=3' "$T/e" && ok || bad "dry-run not logged"

# off (the default without the key): no cgroup, no member in the answer
pol off restore >"$T/p.ini"
kill -HUP $pid
sleep 0.5
a4=$(post /v1/allocations '{"tenant":"t","pool":"p","class":"c","resources":{"cpu":"1","memory":"1Gi"}}')
echo "$a4" | python3 -c 'import json,sys; sys.exit("cgroup" in json.load(sys.stdin))' && ok || bad "off still answers a cgroup: $a4"
[ -d "$CG/ahead/alloc-4" ] && bad "off made a cgroup" || ok
grep -q '^ahead_enforce_mode{mode="off"} 1$' <<<"$(get /metrics)" && ok || bad "off gauge"
finish
