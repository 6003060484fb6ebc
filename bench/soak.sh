#!/usr/bin/env bash
# bench/run soak [MINUTES]: ahead serve under steady load for MINUTES
# (default 10), as twins under the same load at the same time:
#   - the Release build (what users run, glibc's allocator): its RSS is
#     sampled every 10 s and is the headline;
#   - a LeakSanitizer build (-fsanitize=leak, build-soak/): LSan replaces
#     malloc with the sanitizer's allocator, whose footprint is not the
#     one a user sees (it grew ~10 MiB/min here where glibc's stayed
#     flat), so it is only asked for its verdict: SIGTERM at the end and
#     the leak reports at exit.
# The load, per twin: wrk with 16 connections (bench/api/soak.lua:
# allocate, report usage, release; a third of the requests name a
# workload, so the history and its records grow and are swept), one
# Server-Sent Events watch held open, ticks and sweeps as configured in
# production. The RSS growth is measured from the end of the first minute
# (warm-up: SQLite's page caches fill to their caps,
# src/store/ledger_internal.h) to the end.
# AHEAD_SOAK_BUILD=DIR uses another build for the LSan twin (for example
# an ASan one).
set -euo pipefail
MIN=${1:-10}
for t in wrk curl python3; do command -v $t >/dev/null || { echo "bench soak: needs $t"; exit 1; }; done
REL=${AHEAD_BIN:?run through bench/run}
B=${AHEAD_SOAK_BUILD:-$PWD/build-soak}
if [ ! -f "$B/CMakeCache.txt" ]; then
  cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAHEAD_MAN=OFF -DCMAKE_C_FLAGS=-fsanitize=leak \
    -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=leak >/dev/null
fi
cmake --build "$B" -j2 --target ahead_cli >/dev/null
tmp=$(mktemp -d)
pids=(); bg=()
cleanup() { for p in "${bg[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
cat >"$tmp/policy.ini" <<P
[ahead]
lease_ttl = 1h
unknown_tenants = default
[pool big]
capacity = cpu=20000, memory=20Ti
[class standard]
priority = 50
quantile = 0.95
[tenant *]
P
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # name binary -> sets port_NAME, pid_NAME
  local name=$1 bin=$2 port
  port=$(freeport)
  mkdir -p "$tmp/$name"
  ASAN_OPTIONS=detect_leaks=1:log_path=$tmp/$name/asan LSAN_OPTIONS=log_path=$tmp/$name/asan \
    "$bin" serve --policy "$tmp/policy.ini" --db "$tmp/$name/ledger.db" --listen 127.0.0.1:$port --log-level warn \
    --admin-token-file "$tmp/$name/admin" >"$tmp/$name/out" 2>"$tmp/$name/err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do curl -fs http://127.0.0.1:$port/healthz >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs http://127.0.0.1:$port/healthz >/dev/null || { echo "bench soak: $name did not start:"; cat "$tmp/$name/err"; exit 1; }
  printf -v "port_$name" '%s' "$port"
  printf -v "pid_$name" '%s' "$pid"
}
load() { # name -> wrk and a watch against it
  local name=$1 port=$2
  local tok; tok=$(cat "$tmp/$name/admin")
  curl -sN -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/events?watch=1" >/dev/null 2>&1 &
  bg+=($!)
  AHEAD_TOKEN=$tok wrk -t1 -c16 -d$((MIN * 60))s -s bench/api/soak.lua http://127.0.0.1:$port >"$tmp/$name/wrk" 2>&1 &
  printf -v "wrk_$name" '%s' "$!"
}
start rel "$REL"
start lsan "$B/ahead"
load rel "$port_rel"
load lsan "$port_lsan"
# RSS in KiB: all of it, and its anonymous part (the heap: what a leak grows;
# the file-backed part is the ledger's mapped pages and SQLite's -shm)
rss() { awk '/VmRSS/ {r=$2} /RssAnon/ {a=$2} END {print r, a}' /proc/$pid_rel/status; }
echo "ahead bench soak: ${MIN} min, twins under the same load: the Release build (RSS) and a LeakSanitizer"
echo "build ($(basename "$B"): leaks at exit); each wrk -t1 -c16 (allocate, report, release) and one watch"
echo
printf '  %8s %12s %14s\n' "minute" "RSS MiB" "anon RSS MiB"
: >"$tmp/rss"
start_s=$(date +%s)
while kill -0 "$wrk_rel" 2>/dev/null; do
  sleep 10
  now=$(( $(date +%s) - start_s ))
  read -r r a < <(rss)
  echo "$now $r $a" >>"$tmp/rss"
  if [ $((now % 60)) -lt 10 ]; then
    printf '  %8.1f %12.1f %14.1f\n' "$(echo "$now/60" | bc -l)" "$(echo "$r/1024" | bc -l)" "$(echo "$a/1024" | bc -l)"
  fi
done
wait "$wrk_rel" || true
wait "$wrk_lsan" || true
for p in "${bg[@]}"; do kill "$p" 2>/dev/null || true; done; bg=()
reqs() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/$1/wrk"; }
errs() {
  local st
  st=$(sed -n 's/^lua: statuses=//p' "$tmp/$1/wrk")
  printf '%s' "$(sed -n 's/^lua: errors=//p' "$tmp/$1/wrk")"
  [ -n "$st" ] && printf ': %s' "$st"
  sed -n 's/^ *Socket errors: /; socket errors: /p' "$tmp/$1/wrk" | tr -d '\n'
}
kill -TERM "$pid_rel"; rc_rel=0; wait "$pid_rel" || rc_rel=$?
kill -TERM "$pid_lsan"; rc_lsan=0; wait "$pid_lsan" || rc_lsan=$?
pids=()
leaks=$(cat "$tmp"/lsan/asan* 2>/dev/null | grep -c "ERROR: LeakSanitizer" || true)
read -r growth anon_growth half_growth < <(python3 - "$tmp/rss" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
def g(col, after):
    base = [r[col] for r in rows if r[0] >= after][:1] or [rows[0][col]]
    return (rows[-1][col] - base[0]) * 100.0 / base[0]
# from minute 1 (the headline), and over the second half (a slope left
# after the caches filled would show here)
print(f"{g(1, 60):.1f} {g(2, 60):.1f} {g(1, rows[-1][0] / 2):.1f}")
PY
)
dbsize=$(du -k "$tmp/rel/ledger.db" | cut -f1)
echo
echo "  Release twin: $(reqs rel) requests ($(errs rel) not answered 2xx); from minute 1 to the end: RSS ${growth}%,"
echo "    anonymous RSS ${anon_growth}%; over the second half: RSS ${half_growth}%; exit status $rc_rel"
echo "  LSan twin: $(reqs lsan) requests ($(errs lsan) not answered 2xx); exit status $rc_lsan; LeakSanitizer reports: $leaks"
echo "  (the ledger file is $((dbsize / 1024)) MiB at the end: the audit log is append-only; the daemon maps the file only while loading)"
[ "$leaks" -gt 0 ] && grep -A12 "ERROR: LeakSanitizer" "$tmp"/lsan/asan* | head -30
echo
echo "soak_rss_growth_pct=$growth"
echo "soak_anon_rss_growth_pct=$anon_growth"
echo "soak_rss_growth_pct_second_half=$half_growth"
echo "soak_requests=$(reqs rel)"
echo "soak_lsan_requests=$(reqs lsan)"
echo "soak_leak_reports=$leaks"
