#!/usr/bin/env bash
# bench/run soak [MINUTES]: ahead serve under steady load for MINUTES
# (default 10), built with LeakSanitizer alone (-fsanitize=leak: the
# production allocator and no quarantine, so the RSS is the one a user
# sees, and a leak report at exit), its RSS sampled every 10 s; at the end
# SIGTERM and LeakSanitizer's verdict. The load: wrk with 16 connections
# (bench/api/soak.lua: allocate, report usage, release; a third of the
# requests name a workload, so the history and its records grow and are
# swept), one Server-Sent Events watch held open, ticks and sweeps as
# configured in production. The RSS growth is measured from the end of
# the first minute (warm-up: SQLite's page caches fill) to the end.
# AHEAD_SOAK_BUILD=DIR uses another build (for example an ASan one).
set -euo pipefail
MIN=${1:-10}
for t in wrk curl python3; do command -v $t >/dev/null || { echo "bench soak: needs $t"; exit 1; }; done
B=${AHEAD_SOAK_BUILD:-$PWD/build-soak}
if [ ! -f "$B/CMakeCache.txt" ]; then
  cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAHEAD_MAN=OFF -DCMAKE_C_FLAGS=-fsanitize=leak \
    -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=leak >/dev/null
fi
cmake --build "$B" -j2 --target ahead_cli >/dev/null
tmp=$(mktemp -d)
pid=; watch=
cleanup() { [ -n "$watch" ] && kill "$watch" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$port
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
ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=64:log_path=$tmp/asan LSAN_OPTIONS=log_path=$tmp/asan \
  "$B/ahead" serve --policy "$tmp/policy.ini" --db "$tmp/ledger.db" --listen 127.0.0.1:$port --log-level warn \
  --admin-token-file "$tmp/admin" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do curl -fs $URL/healthz >/dev/null 2>&1 && break; sleep 0.1; done
export AHEAD_TOKEN=$(cat "$tmp/admin")
curl -sN -H "Authorization: Bearer $AHEAD_TOKEN" "$URL/v1/events?watch=1" >/dev/null 2>&1 &
watch=$!
# RSS in KiB: all of it, and its anonymous part (the heap: what a leak grows;
# the file-backed part is the ledger's mapped pages, which grow with the file)
rss() { awk '/VmRSS/ {r=$2} /RssAnon/ {a=$2} END {print r, a}' /proc/$pid/status; }
echo "ahead bench soak: ${MIN} min, wrk -t1 -c16 (allocate, report, release), one watch; build $(basename "$B")"
echo
printf '  %8s %12s %14s\n' "minute" "RSS MiB" "anon RSS MiB"
wrk -t1 -c16 -d$((MIN * 60))s -s bench/api/soak.lua $URL >"$tmp/wrk" 2>&1 &
wrkpid=$!
: >"$tmp/rss"
start=$(date +%s)
while kill -0 $wrkpid 2>/dev/null; do
  sleep 10
  now=$(( $(date +%s) - start ))
  read -r r a < <(rss)
  echo "$now $r $a" >>"$tmp/rss"
  if [ $((now % 60)) -lt 10 ]; then
    printf '  %8.1f %12.1f %14.1f\n' "$(echo "$now/60" | bc -l)" "$(echo "$r/1024" | bc -l)" "$(echo "$a/1024" | bc -l)"
  fi
done
wait $wrkpid || true
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk")
errs=$(sed -n 's/^lua: errors=//p' "$tmp/wrk")
kill $watch 2>/dev/null || true; watch=
kill -TERM $pid; wait $pid; rc=$?; pid=
leaks=$(cat "$tmp"/asan* 2>/dev/null | grep -c "ERROR: LeakSanitizer" || true)
read -r growth anon_growth < <(python3 - "$tmp/rss" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
def g(col):
    base = [r[col] for r in rows if r[0] >= 60][:1] or [rows[0][col]]
    return (rows[-1][col] - base[0]) * 100.0 / base[0]
print(f"{g(1):.1f} {g(2):.1f}")
PY
)
dbsize=$(du -k "$tmp/ledger.db" | cut -f1)
echo
echo "  requests: $reqs ($errs not answered 2xx); from minute 1 to the end: RSS ${growth}%, anonymous RSS ${anon_growth}%"
echo "  (the ledger file is $((dbsize / 1024)) MiB at the end: the audit log is append-only; the daemon maps the file only while loading)"
echo "  daemon exit status: $rc; LeakSanitizer reports: $leaks"
[ "$leaks" -gt 0 ] && grep -A12 "ERROR: LeakSanitizer" "$tmp"/asan* | head -30
echo
echo "soak_rss_growth_pct=$growth"
echo "soak_anon_rss_growth_pct=$anon_growth"
echo "soak_requests=$reqs"
echo "soak_leak_reports=$leaks"
