#!/usr/bin/env bash
# ahead top: a daemon with two pools and some allocations, queued requests
# and a pool resize; (a) `top --once` prints each pool's capacity and
# allocated amounts as GET /v1/pools has them (read back from the human
# units), bars proportional to allocated / capacity, the queue and the
# allocation counts of GET /v1/queue and /v1/allocations, and the resize
# among the events; (b) under tmux the screen shows the same, follows a new
# allocation within an interval, redraws on a resize of the window, and
# quits with exit 0 on q. Usage errors and a daemon that does not answer.
set -u
. "$(dirname "$0")/lib.sh"
DPID=
TMUX_SOCK=ahead-top-$$
stop_all() {
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
  if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; fi
}
trap 'stop_all; rm -rf "$T"' EXIT
unset AHEAD_SERVER AHEAD_TOKEN AHEAD_DB

cat >"$T/p.ini" <<'EOP'
[ahead]
default_class = standard
unknown_tenants = refuse
queue_timeout = 10m
lease_ttl = 10m
[dimension gpu]
unit = count
[pool edge]
capacity = cpu=8, memory=16Gi
unit = cpu=100m, memory=1Mi
max_queue = 10
[pool train]
capacity = cpu=32, memory=128Gi, gpu=8
max_queue = 10
[class standard]
priority = 50
quantile = 0.9
[tenant t]
quota = cpu=100, memory=512Gi, gpu=8
EOP

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$A" serve --policy "$T/p.ini" --db "$T/d.db" --listen "127.0.0.1:$PORT" --admin-token-file "$T/admin" \
  >"$T/serve.out" 2>"$T/serve.err" &
DPID=$!
for _ in $(seq 100); do
  [ -s "$T/admin" ] && curl -sf -o /dev/null -H "Authorization: Bearer $(cat "$T/admin")" "$URL/v1/pools" && break
  sleep 0.1
done
[ -s "$T/admin" ] || die "ahead serve did not come up: $(cat "$T/serve.err")"
TOKEN=$(cat "$T/admin")

api() { # METHOD PATH [BODY]
  curl -s -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"} "$URL$2"
}
alloc() { api POST /v1/allocations "{\"tenant\":\"t\",\"pool\":\"$1\",\"resources\":$2}" >>"$T/allocs.json"; }
alloc edge '{"cpu":"2500m","memory":"1.5Gi"}'
alloc edge '{"cpu":"300m","memory":"3Gi"}'
alloc train '{"cpu":"7","memory":"100Gi","gpu":3}'
alloc edge '{"cpu":"7"}' # queued: 5.2 of 8 free
alloc edge '{"cpu":"6"}' # queued behind it
api PUT /v1/pools/train '{"capacity":{"cpu":"24","memory":"112Gi","gpu":8}}' >"$T/resize.json"
grep -q '"capacity"' "$T/resize.json" || bad "resize train: $(cat "$T/resize.json")"

# check.py FRAME: the frame against the API's answers now.
cat >"$T/check.py" <<'EOPY'
import json, re, sys, urllib.request
frame, url, token = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
def get(path):
    req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
pools, queue = get("/v1/pools")["items"], get("/v1/queue")["items"]
granted = get("/v1/allocations?state=granted")["items"]
SUF = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
       "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
def parse(dim, s):  # the human form back in base units
    if dim == "cpu":
        return float(s[:-1]) if s.endswith("m") else float(s) * 1000
    m = re.fullmatch(r"([0-9.]+)([KMGTPE]i?)?", s)
    if not m:
        raise ValueError(s)
    return float(m.group(1)) * SUF.get(m.group(2) or "", 1)
def near(a, b):  # three significant digits: within 0.5 %
    return abs(a - b) <= max(0.5, 0.005 * abs(b))
errs = []
lines = frame.split("\n")
m = re.search(r"^pools (\d+)  allocations (\d+)  queued (\d+)", frame, re.M)
if not m:
    errs.append("no header counts")
else:
    if int(m.group(1)) != len(pools): errs.append("pools %s != %d" % (m.group(1), len(pools)))
    if int(m.group(2)) != len(granted): errs.append("allocations %s != %d" % (m.group(2), len(granted)))
    if int(m.group(3)) != len(queue): errs.append("queued %s != %d" % (m.group(3), len(queue)))
m = re.search(r"^QUEUE  (\d+) queued", frame, re.M)
if not m or int(m.group(1)) != len(queue): errs.append("queue title: %s" % (m and m.group(0)))
qrows = [l for l in lines if re.match(r"^ +\d+  t +edge ", l)]
if sorted(int(l.split()[0]) for l in qrows) != sorted(q["id"] for q in queue):
    errs.append("queue rows %s vs ids %s" % (qrows, [q["id"] for q in queue]))
for p in pools:
    i = next((k for k, l in enumerate(lines) if re.match(r"^  %s +allocations " % p["pool"], l)), None)
    if i is None:
        errs.append("no pool %s" % p["pool"]); continue
    m = re.search(r"allocations (\d+)  queued (\d+)", lines[i])
    if (int(m.group(1)), int(m.group(2))) != (p["allocations"], p["queued"]):
        errs.append("%s counts %s" % (p["pool"], m.group(0)))
    for k, (dim, d) in enumerate(p["dimensions"].items()):
        l = lines[i + 1 + k]
        m = re.match(r"^    (\S+) +\[([^\]]*)\] +(\d+)% +(\S+) / (\S+) +free (\S+) +waiting (\S+)$", l)
        if not m or m.group(1) != dim:
            errs.append("%s %s: line %r" % (p["pool"], dim, l)); continue
        bar, pct = m.group(2), int(m.group(3))
        cap, used = d["capacity"], d["used"]
        for name, text, want in (("allocated", m.group(4), used), ("capacity", m.group(5), cap),
                                 ("free", m.group(6), d["free"]), ("waiting", m.group(7), d["waiting"])):
            if not near(parse(dim, text), want):
                errs.append("%s %s %s: %s vs %d" % (p["pool"], dim, name, text, want))
        if set(bar) - set("#."): errs.append("bar %r is not ASCII #/." % bar)
        if abs(bar.count("#") - used / cap * len(bar)) > 0.5 + 1e-9:
            errs.append("%s %s: bar %d/%d for %d/%d" % (p["pool"], dim, bar.count("#"), len(bar), used, cap))
        if abs(pct - 100.0 * used / cap) > 0.5 + 1e-9:
            errs.append("%s %s: %d%% for %d/%d" % (p["pool"], dim, pct, used, cap))
if errs:
    print("\n".join(errs)); print(frame); sys.exit(1)
EOPY

# (a) one frame as text
"$A" top --once --server "$URL" --token-file "$T/admin" >"$T/once" 2>"$T/once.err"
check_rc "top --once" 0 $?
python3 "$T/check.py" "$T/once" "$URL" "$TOKEN" && ok || bad "top --once against the API"
has "header names the server" "$T/once" "ahead top - $URL  revision [0-9]"
has "human units" "$T/once" "2800m / 8 "
has "memory in Gi" "$T/once" "4.5Gi / 16Gi"
has "resized train: capacity 24" "$T/once" "7 / 24 "
grep -qE '^  [0-9T:-]+ +[0-9ms]+ +scale +train ' "$T/once" && ok || bad "the resize is an event: $(cat "$T/once")"
has "event counts" "$T/once" "last 24 h: 1 scale"
has "anomalies" "$T/once" "none reported"
LC_ALL=C grep -q '[^ -~]' "$T/once" && bad "--once is not plain ASCII" || ok
"$A" top -b -n 2 -i 100ms --server "$URL" --token "$TOKEN" >"$T/two" 2>&1
check_rc "top -b -n 2" 0 $?
ok "two frames" '[ "$(grep -c "^ahead top - " "$T/two")" = 2 ]'
COLUMNS=60 "$A" top --once --server "$URL" --token "$TOKEN" >"$T/narrow"
ok "COLUMNS=60 frame is 60 wide" '[ "$(awk "length > 60" "$T/narrow" | wc -l)" = 0 ]'

# usage errors and a daemon that does not answer
check "no server" 2 "give --server URL" -- "$A" top --once
check "--once with -n 3" 2 "--once is one frame" -- "$A" top --once -n 3 --server "$URL"
check "interval too short" 2 "interval" -- "$A" top --once -i 1ms --server "$URL"
check "bad token" 3 "" -- "$A" top --once --server "$URL" --token nope
check "not a terminal" 2 "not a terminal" -- "$A" top --server "$URL" --token "$TOKEN"
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
check "no daemon" 1 "127.0.0.1:$DEAD" -- "$A" top --once --server "http://127.0.0.1:$DEAD" --token x
check "--help" 0 "--once" -- "$A" top --help

# (b) the screen under tmux
if ! command -v tmux >/dev/null; then
  echo "cli_top: tmux not installed: skipping the screen checks (apt-get install tmux)"
  finish cli_top; exit
fi
tm() { tmux -L "$TMUX_SOCK" "$@"; }
# wait_pane PATTERN: the pane shows PATTERN within 10 s (captured into $T/pane).
wait_pane() {
  for _ in $(seq 100); do
    tm capture-pane -p -t top >"$T/pane" 2>/dev/null
    grep -qE -- "$1" "$T/pane" && return 0
    sleep 0.1
  done
  return 1
}
tm -f /dev/null new-session -d -s top -x 120 -y 40 \
  "LC_ALL=C TERM=screen '$A' top --server '$URL' --token-file '$T/admin' --interval 500ms 2>'$T/tmux.err'; echo \$? >'$T/tmux.rc'; sleep 30" ||
  die "tmux new-session failed"
wait_pane '^QUEUE' || bad "tmux: no frame: $(cat "$T/pane" "$T/tmux.err" 2>/dev/null)"
python3 "$T/check.py" "$T/pane" "$URL" "$TOKEN" && ok || bad "tmux frame against the API"
ok "the keys on the last row" '[ "$(sed -n 40p "$T/pane" | cut -c1-6)" = "q quit" ]'
alloc train '{"cpu":"1","memory":"1Gi","gpu":1}'
wait_pane '^  train +allocations 2 ' || bad "tmux: the new allocation did not show: $(cat "$T/pane")"
python3 "$T/check.py" "$T/pane" "$URL" "$TOKEN" && ok || bad "tmux frame after the allocation"
has "gpu 4 of 8" "$T/pane" "  4 / 8 "
tm send-keys -t top e
wait_pane '^EVENTS .*\*$' && ok || bad "e focuses the events: $(cat "$T/pane")"
tm resize-window -t top -x 80 -y 20 2>/dev/null
if wait_pane '^q quit' && [ "$(wc -l <"$T/pane")" -le 20 ] && [ "$(sed -n 20p "$T/pane" | cut -c1-6)" = "q quit" ]; then
  ok
  ok "80 wide" '[ "$(awk "length > 80" "$T/pane" | wc -l)" = 0 ]'
else
  bad "resize to 80x20: $(cat "$T/pane")"
fi
tm send-keys -t top q
for _ in $(seq 50); do [ -s "$T/tmux.rc" ] && break; sleep 0.1; done
ok "q quits with 0" '[ "$(cat "$T/tmux.rc" 2>/dev/null)" = 0 ]'
ok "nothing on stderr" '[ ! -s "$T/tmux.err" ]'

# UTF-8: block bars (a second session while the first one's shell sleeps)
tm new-session -d -s top2 -x 120 -y 40 \
  "LC_ALL=C.UTF-8 TERM=screen '$A' top --server '$URL' --token '$TOKEN' -n 8 -i 500ms; echo \$? >'$T/tmux2.rc'; sleep 30"
for _ in $(seq 100); do
  tm capture-pane -p -t top2 >"$T/pane2" 2>/dev/null
  grep -q '^QUEUE' "$T/pane2" && break
  sleep 0.1
done
grep -q '█' "$T/pane2" && ok || bad "UTF-8 bars: $(cat "$T/pane2")"
for _ in $(seq 100); do [ -s "$T/tmux2.rc" ] && break; sleep 0.1; done
ok "-n 8 ends by itself with 0" '[ "$(cat "$T/tmux2.rc" 2>/dev/null)" = 0 ]'
finish cli_top
