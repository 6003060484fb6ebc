#!/usr/bin/env bash
# The daemon's cgroup per allocation against the real kernel (cgroup v1
# cpu and memory, as root; skipped with a message otherwise): `ahead serve`
# with [linux] enforce_api = on; an allocation over the API gets
# PARENT/alloc-ID with cpu.cfs_quota_us and memory.limit_in_bytes
# (and soft_limit_in_bytes) matching the grant, a process can join it, a
# resize changes them, a release removes the cgroup, a limit changed by
# hand is restored; kill -9 of the daemon, a limit changed and an orphan
# left meanwhile: the restart re-applies the desired limits, removes the
# orphan and admits nothing twice.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
for t in curl python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 0; }; done
skip() { echo "skip: real-kernel daemon enforcement checks: $*"; echo "0 passed, 0 failed"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root"
CPU=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpu(,|$)/ {print $5; exit}' /proc/self/mountinfo)
MEM=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
[ -n "$CPU" ] && [ -n "$MEM" ] || skip "no cgroup v1 cpu and memory mounts"
PARENT=ahead-test-$$
mkdir "$CPU/$PARENT" 2>/dev/null && rmdir "$CPU/$PARENT" && mkdir "$MEM/$PARENT" 2>/dev/null && rmdir "$MEM/$PARENT" ||
  skip "cgroup v1 cpu or memory not writable"

cleanup_cg() {
  for m in $(awk '$9 == "cgroup" || $9 == "cgroup2" {print $5}' /proc/self/mountinfo); do
    [ -d "$m/$PARENT" ] || continue
    for d in "$m/$PARENT"/alloc-*; do
      [ -d "$d" ] || continue
      while read -r p; do echo "$p" >"$m/cgroup.procs" 2>/dev/null; done <"$d/cgroup.procs" 2>/dev/null
      rmdir "$d" 2>/dev/null
    done
    rmdir "$m/$PARENT" 2>/dev/null
  done
}

cat >"$T/p.ini" <<EOP
[ahead]
unknown_tenants = default
[pool p]
capacity = cpu=4, memory=4Gi
[class c]
priority = 1
[tenant *]
[linux]
interval = 200ms
host = no
max_cgroups = 0
enforce_api = on
api_cgroup_parent = $PARENT
run_hard_margin = 0.5
EOP

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid= sleeper=
start() {
  "$A" serve --policy "$T/p.ini" --db "$T/l.db" --listen "127.0.0.1:$PORT" --admin-token-file "$T/tok" \
    >>"$T/o" 2>>"$T/e" &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
}
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$sleeper" ] && kill $sleeper 2>/dev/null; wait 2>/dev/null; cleanup_cg; rm -rf "$T"' EXIT
start
tok=$(cat "$T/tok")
req() { curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' "$@"; }
get() { req "http://127.0.0.1:$PORT$1"; }
post() { req -X POST -d "$2" "http://127.0.0.1:$PORT$1"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
quota() { cat "$CPU/$PARENT/alloc-$1/cpu.cfs_quota_us" 2>/dev/null || echo absent; }
limit() { cat "$MEM/$PARENT/alloc-$1/memory.limit_in_bytes" 2>/dev/null || echo absent; }
soft() { cat "$MEM/$PARENT/alloc-$1/memory.soft_limit_in_bytes" 2>/dev/null || echo absent; }

ans=$(post /v1/allocations '{"tenant":"t","pool":"p","class":"c","resources":{"cpu":"500m","memory":"256Mi"}}')
id=$(echo "$ans" | field '["id"]')
[ "$id" = 1 ] && ok || bad "grant: $ans"
echo "$ans" | grep -q "$MEM/$PARENT/alloc-1" && ok || bad "answer lacks the memory cgroup path: $ans"
[ "$(quota 1)" = 50000 ] && ok || bad "cpu quota: $(quota 1), want 50000 (500m at a 100 ms period)"
[ "$(soft 1)" = 268435456 ] && ok || bad "soft limit: $(soft 1)"
[ "$(limit 1)" = 402653184 ] && ok || bad "hard limit: $(limit 1), want 384Mi"
[ "$(cat "$MEM/$PARENT/alloc-1/memory.oom_control" | awk '/oom_kill_disable/ {print $2}')" = 1 ] && ok || bad "oom_kill_disable"

# a process joins it through the paths the answer gave
sleep 300 &
sleeper=$!
for p in $(echo "$ans" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["cgroup"]["paths"]))'); do
  echo $sleeper >"$p/cgroup.procs"
done
grep -q "memory:/$PARENT/alloc-1" /proc/$sleeper/cgroup && ok || bad "the process did not join: $(cat /proc/$sleeper/cgroup)"

# v1's soft level, emulated: a usage threshold at it (cgroup.event_control);
# a process going 44 MiB above it (under the hard limit) is found there
grep -q '^ahead_enforce_soft_watched 1$' <<<"$(get /metrics)" && ok || bad "soft level not watched: $(get /metrics | grep soft_)"
PATHS=$(echo "$ans" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["cgroup"]["paths"]))')
sh -c 'for p in $0; do echo $$ >"$p/cgroup.procs"; done; exec python3 -c "import time; b=bytearray(300 << 20); b[::4096]=b\"x\"*(len(b)//4096); time.sleep(1.5)"' "$PATHS" ||
  bad "the 300 MiB process failed"
seen=
for _ in $(seq 20); do
  grep -q '^ahead_enforce_soft_exceeded_total [1-9]' <<<"$(get /metrics)" && { seen=1; break; }
  sleep 0.1
done
[ -n "$seen" ] && ok || bad "soft level crossing not found: $(get /metrics | grep soft_); $(grep soft "$T/e")"
grep -q 'msg=soft_level_exceeded id=1' "$T/e" && ok || bad "soft crossing not logged"
# ... and the daemon's own sample of the cgroup (sample_allocations) is
# reported at once, not at the next report_interval (5 min here): the
# sizer grows the allocation past 256 MiB with no client report
grown=
for _ in $(seq 30); do
  m=$(get /v1/allocations/1 | field '["resources"]["memory"]')
  [ "$m" -gt 268435456 ] 2>/dev/null && { grown=$m; break; }
  sleep 0.1
done
[ -n "$grown" ] && ok || bad "no grow after the soft crossing: $(get /v1/allocations/1)"
[ "$(soft 1)" -gt 268435456 ] 2>/dev/null && ok || bad "soft limit not raised: $(soft 1)"

# a resize (usage near the reservation: the sizer grows it)
post /v1/allocations/1/usage '{"usage":{"cpu":"500m","memory":"256Mi"}}' >/dev/null
d=$(get /v1/allocations/1)
want_q=$(( $(echo "$d" | field '["cgroup"]["desired"]["cpu_millicores"]') * 100 ))
want_h=$(echo "$d" | field '["cgroup"]["desired"]["memory_max_bytes"]')
[ "$want_q" -gt 50000 ] && ok || bad "the usage report did not resize: $d"
[ "$(quota 1)" = "$want_q" ] && ok || bad "resized quota: $(quota 1), want $want_q"
[ "$(( $(limit 1) / 4096 ))" = "$(( want_h / 4096 ))" ] && ok || bad "resized limit: $(limit 1), want $want_h"

# a limit changed by hand: restored within an interval
echo -1 >"$CPU/$PARENT/alloc-1/cpu.cfs_quota_us"
for _ in $(seq 30); do [ "$(quota 1)" = "$want_q" ] && break; sleep 0.1; done
[ "$(quota 1)" = "$want_q" ] && ok || bad "drift not restored: $(quota 1)"

# kill -9; meanwhile a limit changed and an orphan left
kill -9 $pid; wait $pid 2>/dev/null
echo 9223372036854771712 >"$MEM/$PARENT/alloc-1/memory.limit_in_bytes"
echo -1 >"$CPU/$PARENT/alloc-1/cpu.cfs_quota_us"
mkdir "$CPU/$PARENT/alloc-99" "$MEM/$PARENT/alloc-99"
start
for _ in $(seq 50); do [ -d "$MEM/$PARENT/alloc-99" ] || break; sleep 0.1; done
[ -d "$MEM/$PARENT/alloc-99" ] || [ -d "$CPU/$PARENT/alloc-99" ] && bad "orphan not removed" || ok
[ "$(quota 1)" = "$want_q" ] && ok || bad "quota not re-applied after restart: $(quota 1)"
[ "$(( $(limit 1) / 4096 ))" = "$(( want_h / 4096 ))" ] && ok || bad "limit not re-applied after restart: $(limit 1)"
n=$(get /v1/allocations | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$n" = 1 ] && ok || bad "after restart: $n allocations, want 1"

# release: tasks left keep it (pending), gone once they left
req -X DELETE "http://127.0.0.1:$PORT/v1/allocations/1" >/dev/null
sleep 0.5
[ -d "$MEM/$PARENT/alloc-1" ] && ok || bad "a cgroup with a task was removed"
kill $sleeper; wait $sleeper 2>/dev/null; sleeper=
for _ in $(seq 50); do [ -d "$MEM/$PARENT/alloc-1" ] || break; sleep 0.1; done
[ -d "$MEM/$PARENT/alloc-1" ] || [ -d "$CPU/$PARENT/alloc-1" ] && bad "released cgroup not removed" || ok
m=$(get /metrics)
grep -q '^ahead_enforce_cgroups 0$' <<<"$m" && ok || bad "gauge after release: $(grep '^ahead_enforce_cg' <<<"$m")"
grep -q '^ahead_enforce_write_errors_total 0$' <<<"$m" && ok || bad "write errors: $(grep errors <<<"$m"; grep enforce_ "$T/e")"
finish
