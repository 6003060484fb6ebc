#!/usr/bin/env bash
# Observe mode (the policy's [linux] section) on a fixture tree: the daemon
# samples the cgroups its globs name (and the host) into the usage history
# without touching their limits; rates come out of counter deltas; with no
# glob matching it observes every top-level cgroup; a reload without the
# section stops it; bad sections are refused naming the key.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
for t in curl python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 0; }; done

FX=$T/fx
CG=$FX/sys/fs/cgroup
mkdir -p "$FX/proc/self" "$CG/app-web" "$CG/app-db" "$CG/other"
echo "30 23 0:26 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw" >"$FX/proc/self/mountinfo"
printf 'cpu  100 0 100 1000 0 0 0 0 0 0\n' >"$FX/proc/stat"
printf 'MemTotal:       8388608 kB\nMemAvailable:   4194304 kB\n' >"$FX/proc/meminfo"
for c in app-web app-db other; do
  echo "usage_usec 0" >"$CG/$c/cpu.stat"
  echo "$((100 * 1048576))" >"$CG/$c/memory.current"
  printf 'anon 52428800\nfile 52428800\n' >"$CG/$c/memory.stat"
  echo "max" >"$CG/$c/memory.max"
  echo "max 100000" >"$CG/$c/cpu.max"
done
touch -d '2020-01-01' "$CG"/*/memory.max "$CG"/*/cpu.max
before=$(cd "$CG" && stat -c '%n %Y %s' */memory.max */cpu.max | md5sum)

BASE="[ahead]
unknown_tenants = default
[pool p]
capacity = cpu=4, memory=8Gi
[class c]
priority = 1
[tenant *]
"
linux() { # globs
  printf '%s[linux]\nobserve = %s\ninterval = 200ms\nproc_root = %s\ncgroup_prefix = %s\n' "$BASE" "$1" "$FX/proc" "$FX"
}
linux 'app-*' >"$T/p.ini"

# bad sections, refused with the key named
printf '%s[linux]\nobserve = /sys/fs/cgroup/x\n' "$BASE" >"$T/bad1.ini"
check "absolute glob refused" 2 "observe: glob '/sys/fs/cgroup/x' is absolute" -- "$A" policy check "$T/bad1.ini"
printf '%s[linux]\nobserve = a/../b\n' "$BASE" >"$T/bad2.ini"
check "climbing glob refused" 2 "observe: glob 'a/../b' climbs out" -- "$A" policy check "$T/bad2.ini"
printf '%s[linux]\ninterval = 10ms\n' "$BASE" >"$T/bad3.ini"
check "interval too short" 2 "interval: 10ms is out of range" -- "$A" policy check "$T/bad3.ini"
printf '%s[linux]\nenforce_everything = yes\n' "$BASE" >"$T/bad4.ini"
check "unknown key" 2 "unknown key \\(allowed: observe, interval" -- "$A" policy check "$T/bad4.ini"
printf '%s[linux fast]\n' "$BASE" >"$T/bad5.ini"
check "named section" 2 "\[linux\] takes no name" -- "$A" policy check "$T/bad5.ini"
check "good section" 0 "" -- "$A" policy check "$T/p.ini"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$A" serve --policy "$T/p.ini" --db "$T/l.db" --listen "127.0.0.1:$PORT" --admin-token-file "$T/tok" \
  >"$T/o" 2>"$T/e" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
tok=$(cat "$T/tok")
get() { curl -s -H "Authorization: Bearer $tok" "http://127.0.0.1:$PORT$1"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# app-web burns 100 ms of cpu every 200 ms (500 millicores); app-db none
for i in $(seq 1 15); do
  echo "usage_usec $((i * 100000))" >"$CG/app-web/cpu.stat" # in place, as the kernel's file (the collector keeps it open)
  sleep 0.2
done

host=$(get /v1/host)
[ "$(echo "$host" | field '["observing"]')" = True ] && ok || bad "not observing: $host"
[ "$(echo "$host" | field '["cgroups"]')" = 2 ] && ok || bad "observed cgroups: $host"
[ "$(echo "$host" | field '["errors"]')" = 0 ] && ok || bad "errors: $host"
[ "$(echo "$host" | field '["cluster"]')" = None ] && ok || bad "a SQLite ledger follows no cluster: $host"
wl=$(get /v1/workloads | python3 -c 'import json,sys; print(" ".join(sorted(i["workload"] for i in json.load(sys.stdin)["items"])))')
[ "$wl" = "cg:app-db cg:app-web host" ] && ok || bad "workloads: $wl"

# memory exactly as the files say; cpu as the counter's rate
mem=$(get "/v1/workloads/cg:app-web/history?dim=memory" | python3 -c '
import json,sys; p=json.load(sys.stdin)["points"]; print(len(p), min(x["mean"] for x in p), max(x["mean"] for x in p))')
read -r n lo hi <<<"$mem"
[ "$n" -ge 3 ] && [ "${lo%.*}" = 104857600 ] && [ "${hi%.*}" = 104857600 ] && ok || bad "memory history: $mem"
cpu=$(get "/v1/workloads/cg:app-web/history?dim=cpu" | python3 -c '
import json,sys
p=json.load(sys.stdin)["points"]
v=[x["mean"] for x in p]
print(len(v), sum(v)/len(v), max(v))')
read -r n mean top <<<"$cpu"
# about 500m: the shell's writes drift (sleep plus fork), the samples fall
# between them, and the last ones may come after the loop
python3 -c "import sys; sys.exit(0 if $n >= 3 and 150 <= $mean <= 800 and 300 <= $top <= 1600 else 1)" && ok ||
  bad "cpu history (about 500m): $cpu"
db=$(get "/v1/workloads/cg:app-db/history?dim=cpu" | python3 -c 'import json,sys; print(max(x["mean"] for x in json.load(sys.stdin)["points"]))')
[ "${db%.*}" = 0 ] && ok || bad "idle cgroup's cpu: $db"

# recommendations over the API, through the CLI
check "recommend observed cgroup" 0 "memory +100Mi" -- env AHEAD_SERVER="http://127.0.0.1:$PORT" AHEAD_TOKEN="$tok" \
  "$A" recommend cg:app-web
# limits untouched
after=$(cd "$CG" && stat -c '%n %Y %s' */memory.max */cpu.max | md5sum)
[ "$before" = "$after" ] && ok || bad "limit files changed"
# the gauge is the count after the last round; a round that rescans under
# a loaded machine may land between two scrapes, so give it a few rounds
seen=""
for _ in $(seq 20); do
  seen=$(get /metrics | grep '^ahead_observe_cgroups ')
  [ "$seen" = "ahead_observe_cgroups 2" ] && break
  sleep 0.2
done
[ "$seen" = "ahead_observe_cgroups 2" ] && ok || bad "metrics: $(get /metrics | grep observe_)"

# a glob matching nothing: every top-level cgroup
linux 'nothing-*' >"$T/p.ini"
kill -HUP $pid
for _ in $(seq 50); do [ "$(get /v1/host | field '["cgroups"]')" = 3 ] && break; sleep 0.1; done
[ "$(get /v1/host | field '["cgroups"]')" = 3 ] && ok || bad "fallback to top-level cgroups: $(get /v1/host)"
# a removed cgroup leaves
rm -rf "$CG/other"
for _ in $(seq 60); do [ "$(get /v1/host | field '["cgroups"]')" = 2 ] && break; sleep 0.1; done
[ "$(get /v1/host | field '["cgroups"]')" = 2 ] && ok || bad "removed cgroup still observed: $(get /v1/host)"
# without the section: off
printf '%s' "$BASE" >"$T/p.ini"
kill -HUP $pid
for _ in $(seq 50); do [ "$(get /v1/host | field '["observing"]')" = False ] && break; sleep 0.1; done
[ "$(get /v1/host | field '["observing"]')" = False ] && ok || bad "still observing after the section went"
finish
