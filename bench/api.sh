#!/usr/bin/env bash
# bench/run api [RUNS] [SECONDS]: the daemon under wrk on loopback.
#
# 64 connections (wrk -t1 -c64, bench/api/pair.lua: each request releases
# an id granted earlier on its thread, else allocates one), with LIVE
# (default 100,000) allocations held throughout. The daemon runs on core 1
# and wrk on core 0 (taskset), so neither steals the other's CPU. Each
# durability (process, then power) gets RUNS runs of SECONDS (default 5 x
# 5 s); the figures are the median of the runs with their min-max spread.
# After the process runs the same daemon answers GET /healthz RUNS times:
# the transport's own rate on that core, the reference that pairs/s is
# reported as a share of (machines differ; the share does less).
# Then the libFuzzer harness (bench/fuzz/fuzz_api.c, clang) runs for
# AHEAD_FUZZ_SECONDS (default 60). Headline lines at the end.
set -euo pipefail
RUNS=${1:-5}
SECS=${2:-5}
LIVE=${AHEAD_LIVE:-100000}
FUZZ_SECS=${AHEAD_FUZZ_SECONDS:-60}
BIN=${AHEAD_BIN:?run through bench/run}
for t in wrk taskset curl python3; do
  command -v $t >/dev/null || { echo "bench api: needs $t (apt-get install wrk util-linux curl python3)"; exit 1; }
done
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then SRV_CPU=1; WRK_CPU=0; else SRV_CPU=0; WRK_CPU=0; fi

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$port

policy() { # durability
  cat >"$tmp/policy-$1.ini" <<EOF
[ahead]
lease_ttl = 24h
max_lease_ttl = 48h
queue_timeout = 0
unknown_tenants = default
durability = $1

[pool big]
capacity = cpu=20000, memory=20Ti

[class standard]
priority = 50
quantile = 0.95

[tenant *]
EOF
}
start() { # durability
  policy "$1"
  taskset -c $SRV_CPU "$BIN" serve --policy "$tmp/policy-$1.ini" --db "$tmp/ledger.db" --listen 127.0.0.1:$port \
    --log-level warn --admin-token-file "$tmp/admin" >"$tmp/serve.out" 2>"$tmp/serve.err" &
  pid=$!
  for _ in $(seq 100); do curl -fs $URL/healthz >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench api: the daemon did not start:"; cat "$tmp/serve.err"; exit 1
}
stop() { kill "$pid"; wait "$pid" || true; pid=; }
stats() { curl -fs -H "Authorization: Bearer $AHEAD_TOKEN" $URL/v1/server/stats; }
live() { curl -fs -H "Authorization: Bearer $AHEAD_TOKEN" $URL/v1/pools/big | python3 -c 'import json,sys; print(json.load(sys.stdin)["allocations"])'; }

run_wrk() { # durability -> appends "pairs_per_s p50_ms p99_ms" to $tmp/runs-$1
  local out=$tmp/wrk.out
  taskset -c $WRK_CPU wrk -t1 -c64 -d${SECS}s --latency -s bench/api/pair.lua $URL >"$out" 2>&1
  python3 - "$out" >>"$tmp/runs-$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    v, u = re.match(r"([\d.]+)(us|ms|s)", s).groups()
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"\n\s+50%\s+(\S+)", t).group(1))
p99 = ms(re.search(r"\n\s+99%\s+(\S+)", t).group(1))
err = re.search(r"errors=(\d+)", t).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(f"{rps/2:.0f} {p50:.3f} {p99:.3f} {err} {non2xx.group(1) if non2xx else 0}")
EOF
}

echo "ahead bench api: wrk -t1 -c64 on core $WRK_CPU, ahead serve on core $SRV_CPU ($ncpu cores), loopback"
echo "  $RUNS runs x ${SECS}s per durability, $LIVE live allocations held, log level warn"
echo
for dur in process power; do
  start $dur
  export AHEAD_TOKEN=$(cat "$tmp/admin")
  if [ "$dur" = process ]; then
    t0=$(date +%s.%N)
    have=0
    while [ "$have" -lt "$LIVE" ]; do
      AHEAD_LIVE=$((LIVE - have)) AHEAD_THREADS=2 taskset -c $WRK_CPU wrk -t2 -c64 -d2s -s bench/api/preload.lua $URL \
        >/dev/null 2>&1
      have=$(live)
    done
    t1=$(date +%s.%N)
    printf '  preload: %s live allocations in %.1f s\n' "$(live)" "$(echo "$t1 - $t0" | bc)"
  fi
  s0=$(stats)
  : >"$tmp/runs-$dur"
  for i in $(seq "$RUNS"); do run_wrk $dur; done
  s1=$(stats)
  printf '  live after the %s runs: %s\n' "$dur" "$(live)"
  if [ "$dur" = process ]; then
    # The reference, same daemon and connections: GET /healthz answers
    # from the loop without the engine, the ledger or a token, so its rate
    # is what libmicrohttpd and the kernel's loopback allow on this core
    # today, and pairs/s as a share of it compares across machines.
    : >"$tmp/ref"
    for i in $(seq "$RUNS"); do
      taskset -c $WRK_CPU wrk -t1 -c64 -d${SECS}s $URL/healthz 2>&1 | sed -n 's/^Requests\/sec: *//p' >>"$tmp/ref"
    done
  fi
  python3 - "$dur" "$tmp/runs-$dur" "$s0" "$s1" >>"$tmp/summary" <<'EOF'
import json, statistics, sys
dur, path, s0, s1 = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
rows = [list(map(float, l.split())) for l in open(path) if l.strip()]
cols = list(zip(*rows))
def med(i): return statistics.median(cols[i])
d = {k: s1[k] - s0[k] for k in s1}
req = max(d["requests"], 1)
w = max(d["writes"], 1)
print(json.dumps({"dur": dur, "pairs": med(0), "pairs_lo": min(cols[0]), "pairs_hi": max(cols[0]),
                  "p50": med(1), "p50_lo": min(cols[1]), "p50_hi": max(cols[1]),
                  "p99": med(2), "p99_lo": min(cols[2]), "p99_hi": max(cols[2]),
                  "errors": sum(cols[3]) + sum(cols[4]),
                  "batch": d["writes"] / max(d["batches"], 1),
                  "parse_us": d["parse_ns"] / req / 1e3, "engine_us": d["engine_ns"] / req / 1e3,
                  "commit_us": d["commit_ns"] / w / 1e3, "json_us": d["json_ns"] / req / 1e3,
                  "runs": rows}))
EOF
  stop
done

python3 - "$tmp/summary" "$tmp/ref" <<'EOF'
import json, sys
S = [json.loads(l) for l in open(sys.argv[1])]
print()
print(f"  {'durability':<11}{'pairs/s (median, min-max)':<30}{'p50 ms':<22}{'p99 ms':<22}{'errors':>7}")
for s in S:
    print(f"  {s['dur']:<11}{s['pairs']:>8.0f} ({s['pairs_lo']:.0f}-{s['pairs_hi']:.0f}){'':<10}"
          f"{s['p50']:>6.3f} ({s['p50_lo']:.3f}-{s['p50_hi']:.3f})  {s['p99']:>6.3f} ({s['p99_lo']:.3f}-{s['p99_hi']:.3f})  {s['errors']:>6.0f}")
print()
print("  where the time goes, per request (inside the API; the rest is HTTP in libmicrohttpd and the kernel):")
print(f"  {'durability':<11}{'parse us':>9}{'engine us':>11}{'json us':>9}{'commit us/write':>17}{'writes/commit':>15}")
for s in S:
    print(f"  {s['dur']:<11}{s['parse_us']:>9.2f}{s['engine_us']:>11.2f}{s['json_us']:>9.2f}{s['commit_us']:>17.2f}{s['batch']:>15.1f}")
p, w = S[0], S[1]
import statistics
ref = [float(l) for l in open(sys.argv[2]) if l.strip()]
rmed = statistics.median(ref)
share = 2 * p['pairs'] / rmed
print()
print(f"  reference: GET /healthz on the same daemon and 64 connections (HTTP and loopback only):")
print(f"    {rmed:.0f} requests/s (median, {min(ref):.0f}-{max(ref):.0f}); allocate/release at `process` runs at")
print(f"    {share:.2f} of that rate, so on this machine today the transport alone caps pairs/s at {rmed / 2:.0f}")
with open(sys.argv[1] + ".head", "w") as f:
    f.write(f"api_pairs_per_s={p['pairs']:.0f}\napi_p50_ms={p['p50']:.3f}\napi_p99_ms={p['p99']:.3f}\n"
            f"api_pairs_per_s_power={w['pairs']:.0f}\napi_p99_ms_power={w['p99']:.3f}\n"
            f"api_ref_healthz_rps={rmed:.0f}\napi_share_of_transport={share:.3f}\n")
EOF

# ---- the fuzzer ----
echo
execs=0; crashes=0
FUZZ_BUILD=${AHEAD_FUZZ_BUILD:-$PWD/build-fuzz}
if command -v clang >/dev/null; then
  if [ ! -f "$FUZZ_BUILD/CMakeCache.txt" ]; then
    CC=clang cmake -S . -B "$FUZZ_BUILD" -DCMAKE_C_COMPILER=clang -DAHEAD_FUZZ=ON -DAHEAD_MAN=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  if cmake --build "$FUZZ_BUILD" -j2 --target fuzz_api >"$tmp/fuzz-build.log" 2>&1; then
    mkdir -p "$tmp/corpus" "$tmp/crashes"
    cp bench/api/corpus/* "$tmp/corpus/"
    (cd "$tmp/crashes" && "$FUZZ_BUILD/fuzz_api" -max_total_time="$FUZZ_SECS" -print_final_stats=1 -rss_limit_mb=4096 \
      "$tmp/corpus" >"$tmp/fuzz.log" 2>&1) || true
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log" | tail -1)
    crashes=$(find "$tmp/crashes" -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' | wc -l)
    echo "  fuzz: bench/fuzz/fuzz_api.c for ${FUZZ_SECS}s: ${execs:-0} requests run, $crashes crashing inputs"
    if [ "$crashes" -gt 0 ]; then
      mkdir -p build-fuzz/crashes && cp "$tmp"/crashes/* build-fuzz/crashes/ && echo "  (kept in build-fuzz/crashes/)"
      grep -m3 -A3 "ERROR" "$tmp/fuzz.log" | sed 's/^/    /'
    fi
  else
    echo "  fuzz: the harness did not build (clang with libFuzzer needed):"; tail -5 "$tmp/fuzz-build.log"
  fi
else
  echo "  fuzz: skipped (no clang)"
fi
echo
cat "$tmp/summary.head"
echo "api_fuzz_execs=${execs:-0}"
echo "api_fuzz_crashes=$crashes"
