#!/usr/bin/env bash
# The daemon samples its own allocations' cgroups ([linux]
# sample_allocations, default yes) and reports their usage to the sizer
# every report_interval, so an allocation grows with its cgroup's memory
# though its client never reports; and the io dimension is enforced on
# [linux] io_devices as io.max. A fake cgroup v2 tree under a real daemon:
# the test plays the kernel (cpu.stat, memory.current, io.stat). With
# sample_allocations = no nothing is reported. Bad io_devices are refused
# naming the key.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
for t in curl python3; do command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 0; }; done

FX=$T/fx
CG=$FX/sys/fs/cgroup
mkdir -p "$FX/proc/self" "$CG/ahead"
echo "30 23 0:26 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw" >"$FX/proc/self/mountinfo"
printf 'cpu  100 0 100 1000 0 0 0 0 0 0\n' >"$FX/proc/stat"
printf 'MemTotal:       8388608 kB\nMemAvailable:   4194304 kB\n' >"$FX/proc/meminfo"
cg_files() { # DIR: what the kernel shows in a new cgroup
  mkdir -p "$1"
  echo "max 100000" >"$1/cpu.max"
  echo "max" >"$1/memory.max"
  echo "max" >"$1/memory.high"
  : >"$1/io.max"
  echo "usage_usec 0" >"$1/cpu.stat"
  echo "$((64 * 1048576))" >"$1/memory.current"
  echo "8:0 rbytes=0 wbytes=0 rios=0 wios=0 dbytes=0 dios=0" >"$1/io.stat"
}

pol() { # SAMPLE IO_DEVICES
  cat <<EOP
[ahead]
unknown_tenants = default
report_interval = 1s
[pool p]
capacity = cpu=8, memory=16Gi, io=1Gi/s
[class c]
priority = 1
[tenant *]
[linux]
interval = 200ms
host = no
max_cgroups = 0
proc_root = $FX/proc
cgroup_prefix = $FX
enforce_api = on
run_hard_margin = 0.5
sample_allocations = $1
io_devices = $2
EOP
}

# bad devices
pol yes "8:0 sda" >"$T/bad1.ini"
check "io_devices word" 2 "io_devices: 'sda' is not a device MAJ:MIN" -- "$A" policy check "$T/bad1.ini"
pol yes "8:0, 8:0" >"$T/bad2.ini"
check "io_devices twice" 2 "io_devices: device 8:0 is named twice" -- "$A" policy check "$T/bad2.ini"
pol yes "8:-1" >"$T/bad3.ini"
check "io_devices minor" 2 "io_devices: '8:-1' is not a device MAJ:MIN" -- "$A" policy check "$T/bad3.ini"
pol maybe "8:0" >"$T/bad4.ini"
check "sample_allocations word" 2 "sample_allocations" -- "$A" policy check "$T/bad4.ini"
pol yes "8:0, 259:1" >"$T/p2.ini"
check "good policy, two devices" 0 "" -- "$A" policy check "$T/p2.ini"
# one device under the daemon: a fixture file is overwritten by each
# line written where the kernel's io.max keeps one line per device
pol yes "8:0" >"$T/p.ini"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=
start() { # DB
  "$A" serve --policy "$T/p.ini" --db "$1" --listen "127.0.0.1:$PORT" --admin-token-file "$T/tok" \
    >>"$T/o" 2>>"$T/e" &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
cpu_pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$cpu_pid" ] && kill $cpu_pid 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
start "$T/l.db"
tok=$(cat "$T/tok")
req() { curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' "$@"; }
get() { req "http://127.0.0.1:$PORT$1"; }
post() { req -X POST -d "$2" "http://127.0.0.1:$PORT$1"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
rd() { cat "$CG/ahead/$1" 2>/dev/null || echo absent; }

# a grant with io: io.max on each device named, both directions
cg_files "$CG/ahead/alloc-1"
ans=$(post /v1/allocations '{"tenant":"t","pool":"p","class":"c","resources":{"cpu":"1","memory":"1Gi","io":"10Mi/s"}}')
echo "$ans" >"$T/grant.json"
[ "$(echo "$ans" | field '["id"]')" = 1 ] && ok || bad "grant: $ans"
grep -q "^8:0 rbps=10485760 wbps=10485760" "$CG/ahead/alloc-1/io.max" && ok || bad "io.max 8:0: $(cat "$CG/ahead/alloc-1/io.max")"
[ "$(echo "$ans" | field '["cgroup"]["desired"]["io_bps"]')" = 10485760 ] && ok || bad "desired io_bps: $ans"
[ "$(echo "$ans" | field '["cgroup"]["desired"]["io_devices"]')" = "['8:0']" ] && ok || bad "desired io_devices: $ans"
desc=$(get /v1/allocations/1)
echo "$desc" >"$T/desc.json"
[ "$(echo "$desc" | field '["cgroup"]["applied"]["io_bps"]')" = 10485760 ] && ok || bad "applied io_bps: $desc"
if python3 -c 'import jsonschema' 2>/dev/null; then
  python3 "$SRC/tests/json_check.py" "$SRC/docs/schema/ahead.schema.json" decision "$T/grant.json" && ok || bad "grant answer not a decision"
  python3 "$SRC/tests/json_check.py" "$SRC/docs/schema/ahead.schema.json" description "$T/desc.json" && ok || bad "GET answer not a description"
fi

# the "kernel": half a core busy, memory at 95% of the reservation; no
# client report. The daemon's samples make the sizer grow the allocation
# (the built-in rule: usage at >= 90% grows it) and memory.high follows.
( u=0; while :; do u=$((u + 100000)); echo "usage_usec $u" >"$CG/ahead/alloc-1/cpu.stat.tmp" &&
    mv "$CG/ahead/alloc-1/cpu.stat.tmp" "$CG/ahead/alloc-1/cpu.stat"; sleep 0.2; done ) &
cpu_pid=$!
echo "$((1020 * 1048576))" >"$CG/ahead/alloc-1/memory.current"
grown=
for _ in $(seq 80); do
  m=$(get /v1/allocations/1 | field '["resources"]["memory"]')
  [ "$m" -gt 1073741824 ] 2>/dev/null && { grown=$m; break; }
  sleep 0.1
done
[ -n "$grown" ] && ok || bad "memory not grown from the cgroup's usage: $(get /v1/allocations/1)"
hi_ok=
for _ in $(seq 30); do
  h=$(rd alloc-1/memory.high)
  [ "$h" != max ] && [ "$h" -gt 1073741824 ] 2>/dev/null && { hi_ok=1; break; }
  sleep 0.1
done
[ -n "$hi_ok" ] && ok || bad "memory.high not raised: $(rd alloc-1/memory.high)"
met=$(get /metrics)
grep -q '^ahead_enforce_usage_samples_total [1-9]' <<<"$met" && ok || bad "samples metric: $(grep usage_samples <<<"$met")"
grep -q '^ahead_enforce_usage_reports_total{result="ok"} [1-9]' <<<"$met" && ok || bad "reports metric: $(grep usage_reports <<<"$met")"
# the resize is a ledger event, like a client's report would make
get '/v1/events?limit=100' >"$T/ev.json"
grep -q '"resize' "$T/ev.json" && ok || bad "no resize event: $(head -c 600 "$T/ev.json")"
# the cpu mean seen (about 500m) is in the allocation's record of its own reports
d=$(get /v1/allocations/1)
echo "$d" | grep -q '"cpu"' && ok || bad "describe: $d"
kill "$cpu_pid" 2>/dev/null; wait "$cpu_pid" 2>/dev/null; cpu_pid=
stop

# sample_allocations = no: the same usage reports nothing
pol no "8:0" >"$T/p.ini"
rm -f "$T/tok"
start "$T/l2.db"
tok=$(cat "$T/tok")
cg_files "$CG/ahead/alloc-1"
ans=$(post /v1/allocations '{"tenant":"t","pool":"p","class":"c","resources":{"cpu":"1","memory":"1Gi"}}')
[ "$(echo "$ans" | field '["id"]')" = 1 ] && ok || bad "grant (no sampling): $ans"
echo "$((1020 * 1048576))" >"$CG/ahead/alloc-1/memory.current"
sleep 2.5
[ "$(get /v1/allocations/1 | field '["resources"]["memory"]')" = 1073741824 ] && ok || bad "grown without sampling"
grep -q '^ahead_enforce_usage_reports_total{result="ok"} 0' <<<"$(get /metrics)" && ok || bad "reports without sampling"
stop
finish
