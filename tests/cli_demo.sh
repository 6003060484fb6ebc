#!/usr/bin/env bash
# The README's first command: `bash scripts/demo.sh --for 45s` (install step
# skipped, this build's binary, a free port, a scratch state directory)
# starts the daemon, prints the dashboard's URL and the token, and within the
# first minute the API shows growing use: allocations live, grant and resize
# events growing, usage history with points. Then it stops cleanly: the
# replay released everything, the daemon exited 0 and left its port.
set -u
. "$(dirname "$0")/lib.sh"
DEMO=
cleanup() {
  # the demo's children run in their own sessions: stop them by their pids
  for f in "$T/state/replay.pid" "$T/state/serve.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  [ -n "$DEMO" ] && kill "$DEMO" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
unset AHEAD_SERVER AHEAD_TOKEN AHEAD_IDEMPOTENCY_KEY AHEAD_DB

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
AHEAD_DEMO_NO_INSTALL=1 AHEAD_DEMO_BIN=$A AHEAD_DEMO_PORT=$PORT AHEAD_DEMO_STATE=$T/state \
  bash "$SRC/scripts/demo.sh" --for 45s >"$T/demo.out" 2>"$T/demo.err" &
DEMO=$!
TOK=$T/state/admin-token
for _ in $(seq 150); do
  grep -q '^Dashboard: ' "$T/demo.out" 2>/dev/null && break
  kill -0 "$DEMO" 2>/dev/null || break
  sleep 0.1
done
grep -q '^Dashboard: ' "$T/demo.out" || die "no dashboard line: $(cat "$T/demo.out" "$T/demo.err")"
ok "the dashboard's URL and the token" \
  'grep -qE "^Dashboard: http://127\.0\.0\.1:$PORT/  Token: ahead_[0-9a-f_]+$" "$T/demo.out"'
ok "the token printed is the admin token" \
  '[ "$(sed -n "s/^Dashboard: .*Token: //p" "$T/demo.out")" = "$(head -1 "$TOK")" ]'

get() { curl -sf -H "Authorization: Bearer $(head -1 "$TOK")" "$URL$1"; }
# sample: live allocations, grant+resize events, history points of web-01's cpu
sample() {
  local n e h
  n=$(get /v1/allocations | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))') || n=-1
  e=$(get "/v1/events?limit=100000" | python3 -c 'import json, sys
print(sum(1 for x in json.load(sys.stdin)["items"] if x["kind"] in ("grant", "resize")))') || e=-1
  h=$(get "/v1/workloads/web-01/history?dim=cpu" | python3 -c 'import json, sys
print(sum(p["count"] for p in json.load(sys.stdin)["points"]))' 2>/dev/null) || h=0
  echo "$n $e $h"
}
sleep 8
read -r n1 e1 h1 < <(sample)
sleep 12
read -r n2 e2 h2 < <(sample)
echo "at ~10 s: $n1 allocations, $e1 grant/resize events, $h1 history samples of web-01 cpu"
echo "at ~22 s: $n2 allocations, $e2 grant/resize events, $h2 history samples of web-01 cpu"
ok "allocations appear (12 generated workloads)" '[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ]'
ok "grant and resize events grow" '[ "$e1" -gt 0 ] && [ "$e2" -gt "$e1" ]'
ok "usage reports arrive: web-01's cpu history grows" '[ "$h1" -gt 0 ] && [ "$h2" -gt "$h1" ]'
ok "the live summary lines" 'grep -q "^\[0:[0-9][0-9]\] pool demo: cpu .* allocated; 12 allocations" "$T/demo.out"'
ok "the replay's lines" 'grep -q "^       replay +0:00:.*granted 12" "$T/demo.out"'

wait "$DEMO" && rc=0 || rc=$?
DEMO=
check_rc "--for 45s: the demo ends by itself, exit 0" 0 "$rc"
has "the replay released what it held" "$T/demo.out" "released 12"
has "the daemon stopped cleanly" "$T/demo.out" "ahead serve stopped cleanly (exit 0)"
ok "nothing listens on the port any more" \
  '! python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $PORT), timeout=1)" 2>/dev/null'
ok "both children gone" \
  '! kill -0 "$(cat "$T/state/serve.pid")" 2>/dev/null && ! kill -0 "$(cat "$T/state/replay.pid")" 2>/dev/null'
ok "stderr is quiet" '[ ! -s "$T/demo.err" ]' || cat "$T/demo.err"

# the ledger afterwards (local, read-only: the daemon is gone): nothing live
"$A" ls --db "$T/state/ahead.db" -o json >"$T/ls.json" 2>&1 || bad "ls of the demo's ledger"
ok "the ledger holds no live allocation" '[ "$(python3 -c "import json; print(len(json.load(open(\"$T/ls.json\"))))")" = 0 ]'
# bad arguments
bash "$SRC/scripts/demo.sh" --for 5x >/dev/null 2>"$T/e1" && rc=0 || rc=$?
check_rc "--for 5x: usage error" 2 "$rc"
has "--for 5x: says why" "$T/e1" "not a duration"
bash "$SRC/scripts/demo.sh" --bogus >/dev/null 2>&1 && rc=0 || rc=$?
check_rc "unknown argument: usage error" 2 "$rc"
finish
