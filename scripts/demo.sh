#!/usr/bin/env bash
# The live demo, the README's first command: installs what is missing, builds,
# starts `ahead serve` with examples/demo-live.ini on 127.0.0.1:7070, prints
# the dashboard's URL and the admin token, and feeds the daemon load you can
# watch: `ahead replay --into` a generated trace (12 workloads with daily
# cycles, noise and spikes; a trace day every 2.4 minutes, looping). Every 5 s
# it prints a line of what the API says (the pool) and one of what the replay
# did. Ctrl-C (or --for) stops the replay, which releases its allocations, then
# the daemon.
#
#   bash scripts/demo.sh [--for DURATION]   # DURATION: 45s, 10m, 1h or seconds
#   bash scripts/demo.sh --cli              # the one-shot CLI walkthrough instead
#
# Environment: AHEAD_DEMO_FOR (as --for), AHEAD_DEMO_PORT (7070),
# AHEAD_DEMO_STATE (./demo-state: ledger, usage history, admin token, logs;
# kept, so a second run goes on learning; delete it to start afresh),
# AHEAD_DEMO_WORKLOADS (12), AHEAD_DEMO_SPEED (600 trace seconds a second),
# AHEAD_DEMO_NO_INSTALL=1 (skip scripts/install-deps.sh),
# AHEAD_DEMO_BIN=PATH (this ahead binary instead of building build/ahead).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

for_s=${AHEAD_DEMO_FOR:-}
while [ $# -gt 0 ]; do
  case $1 in
    --cli) shift; exec bash scripts/demo-cli.sh "$@" ;;
    --for) [ $# -ge 2 ] || { echo "demo.sh: --for needs a DURATION" >&2; exit 2; }; for_s=$2; shift 2 ;;
    --for=*) for_s=${1#--for=}; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
# --for: whole seconds, or N followed by s, m or h
if [ -n "$for_s" ]; then
  case $for_s in
    *[!0-9smh]*|''|[smh]*) echo "demo.sh: --for: '$for_s' is not a duration (45s, 10m, 1h)" >&2; exit 2 ;;
  esac
  n=${for_s%[smh]}
  case $n in *[!0-9]*|'') echo "demo.sh: --for: '$for_s' is not a duration (45s, 10m, 1h)" >&2; exit 2 ;; esac
  case $for_s in *m) n=$((n * 60)) ;; *h) n=$((n * 3600)) ;; esac
  [ "$n" -gt 0 ] || { echo "demo.sh: --for must be more than 0" >&2; exit 2; }
  for_s=$n
fi
port=${AHEAD_DEMO_PORT:-7070}
case $port in *[!0-9]*|'') echo "demo.sh: AHEAD_DEMO_PORT: '$port' is not a port" >&2; exit 2 ;; esac
state=${AHEAD_DEMO_STATE:-$root/demo-state}
workloads=${AHEAD_DEMO_WORKLOADS:-12}
speed=${AHEAD_DEMO_SPEED:-600}
url=http://127.0.0.1:$port

if [ "${AHEAD_DEMO_NO_INSTALL:-}" != 1 ]; then
  echo "== installing what is missing (scripts/install-deps.sh)"
  bash scripts/install-deps.sh || exit 1
fi
if [ -n "${AHEAD_DEMO_BIN:-}" ]; then
  ahead=$AHEAD_DEMO_BIN
else
  echo "== building (build/ahead)"
  bash scripts/build.sh build >/dev/null || { echo "demo.sh: the build failed" >&2; exit 1; }
  ahead=$root/build/ahead
fi
unset AHEAD_SERVER AHEAD_TOKEN AHEAD_DB AHEAD_IDEMPOTENCY_KEY

if ! python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null; then
  echo "demo.sh: port $port is in use (an ahead serve already running?); pick another: AHEAD_DEMO_PORT=7071 bash scripts/demo.sh" >&2
  exit 1
fi

mkdir -p "$state" || exit 1
tok=$state/admin-token
dpid= rpid= stopping=
api() { "$ahead" "$@" --server "$url" --token-file "$tok"; }

# stop: the replay first (it releases what it holds), then the daemon.
stop() {
  [ -n "$stopping" ] && return
  stopping=1
  local rc=0
  echo
  if [ -n "$rpid" ] && kill -0 "$rpid" 2>/dev/null; then
    echo "== stopping the replay (it releases its allocations)"
    kill -TERM "$rpid" 2>/dev/null
    wait "$rpid"; local r=$?
    [ "$r" = 0 ] || { echo "demo.sh: the replay exited $r" >&2; rc=1; }
    grep '^replay: \(done\|stopped\|requests\|reports\)' "$state/replay.log" | tail -3
  fi
  if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
    kill -TERM "$dpid" 2>/dev/null
    wait "$dpid"; local d=$?
    if [ "$d" = 0 ]; then
      echo "== ahead serve stopped cleanly (exit 0)"
    else
      echo "demo.sh: ahead serve exited $d; its log: $state/serve.log" >&2
      tail -5 "$state/serve.log" >&2
      rc=1
    fi
  fi
  echo "State kept in $state (ledger, history, token, logs); run again to go on, delete it to start afresh."
  return $rc
}
trap 'stop; exit $?' INT TERM

echo "== starting ahead serve on $url (policy examples/demo-live.ini, state in $state)"
# own sessions (setsid): Ctrl-C reaches this script only, which stops the two in order
setsid "$ahead" serve --policy "$root/examples/demo-live.ini" --db "$state/ahead.db" --listen "127.0.0.1:$port" \
  --admin-token-file "$tok" --log-level warn >>"$state/serve.log" 2>&1 &
dpid=$!
echo "$dpid" >"$state/serve.pid"
up=
for _ in $(seq 100); do
  kill -0 "$dpid" 2>/dev/null || break
  if [ -s "$tok" ] && api pool ls >/dev/null 2>&1; then up=1; break; fi
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "demo.sh: ahead serve did not come up; its log ($state/serve.log):" >&2
  tail -5 "$state/serve.log" >&2
  [ -s "$tok" ] || echo "demo.sh: no admin token in $tok (a ledger from elsewhere?): delete $state to start afresh" >&2
  stop >/dev/null; exit 1
fi

# allocations an earlier run left (killed before it released them) would hold the quota
left=$(api ls -o json 2>/dev/null | python3 -c 'import json, sys
print(" ".join(str(a["id"]) for a in json.load(sys.stdin) if a.get("tenant") == "demo"))')
if [ -n "$left" ]; then
  echo "== releasing the allocations an earlier run left: $left"
  for id in $left; do api release "$id" >/dev/null 2>&1; done
fi

echo
echo "Dashboard: $url/  Token: $(head -1 "$tok")"
echo "(the token is also in $tok; try: $ahead ls -o wide --server $url --token-file $tok)"
echo

setsid "$ahead" replay --into "$url" --token-file "$tok" --generate "$workloads" --loop --speed "$speed" \
  --every 5s >"$state/replay.log" 2>&1 &
rpid=$!
echo "$rpid" >"$state/replay.pid"
echo "== load: ahead replay --into $url --generate $workloads --loop --speed $speed (log: $state/replay.log)"
echo "   $workloads workloads (web, api busy by day; batch by night; cache flat), one trace day every" \
     "$((86400 / speed / 60)).$((86400 / speed % 60 * 10 / 60)) minutes;" \
     "${for_s:+stops after ${for_s}s, }Ctrl-C stops"
echo

# one line of the pool (from the API) and one of the replay every 5 s
pool_line() {
  api pool ls -o json 2>/dev/null | python3 -c 'import json, sys
for p in json.load(sys.stdin):
    d = p["dimensions"]
    parts = []
    if "cpu" in d:
        parts.append("cpu %.1f of %g cores" % (d["cpu"]["used"] / 1000, d["cpu"]["capacity"] / 1000))
    if "memory" in d:
        parts.append("memory %.1f of %g GiB" % (d["memory"]["used"] / 2**30, d["memory"]["capacity"] / 2**30))
    print("pool %s: %s allocated; %d allocations, %d queued" % (p["pool"], ", ".join(parts), p["allocations"], p["queued"]))'
}
start=$SECONDS
while :; do
  sleep 5 & wait $!
  el=$((SECONDS - start))
  if ! kill -0 "$dpid" 2>/dev/null; then echo "demo.sh: ahead serve ended; its log:" >&2; tail -5 "$state/serve.log" >&2; stop; exit 1; fi
  if ! kill -0 "$rpid" 2>/dev/null; then echo "demo.sh: the replay ended; its log:" >&2; tail -5 "$state/replay.log" >&2; stop; exit 1; fi
  printf '[%d:%02d] %s\n' $((el / 60)) $((el % 60)) "$(pool_line)"
  last=$(grep '^replay: +' "$state/replay.log" | tail -1)
  [ -n "$last" ] && printf '       replay %s\n' "${last#replay: }"
  if [ -n "$for_s" ] && [ "$el" -ge "$for_s" ]; then stop; exit $?; fi
done
