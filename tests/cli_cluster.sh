#!/usr/bin/env bash
# Three `ahead serve` instances on one ledger in a 3-member etcd cluster
# (started here on loopback ports 23820-23825, stopped at exit; skipped
# without etcd). Clients POST allocations with Idempotency-Keys to any
# instance and retry a key elsewhere on 503 or a dropped connection:
#   - concurrent allocations never over-commit the pool, checked from
#     etcd's own data (etcdctl get --prefix), not from ahead's view;
#   - kill -9 of one etcd member and of one ahead instance during
#     allocate+release load: every acknowledged allocation is in etcd, no
#     idempotency key owns two allocations, no allocation lacks a key, and
#     every surviving (and the restarted) instance accounts the pool's use
#     exactly as etcd holds it.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
trap 'kill $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; rm -rf "$T"' EXIT
etcd_start 3 23820 "$T/etcd" || die "etcd cluster did not start"
cat >"$T/policy.ini" <<'INI'
[ahead]
lease_ttl = 1h
queue_timeout = 0
[pool p]
capacity = cpu=20, memory=64Gi
[class c]
priority = 1
[tenant t]
INI
python3 -u - "$A" "$T" "etcd://$ETCD_EP/cluster" "$ETCD_URLS" "$ETCDCTL_BIN" "${ETCD_PIDS[0]}" <<'PY'
import http.client, json, os, random, re, signal, subprocess, sys, threading, time

A, T, DB, URLS, ETCDCTL, ETCD0 = sys.argv[1:7]
PFX = "/cluster"
passed = failed = 0


def ok(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, str(detail)[:900]))
    return cond


class Inst:
    def __init__(self, i):
        self.i, self.proc, self.port = i, None, None

    def start(self, first=False):
        err = os.path.join(T, "serve%d.err" % self.i)
        off = os.path.getsize(err) if os.path.exists(err) else 0
        args = [A, "serve", "--policy", os.path.join(T, "policy.ini"), "--db", DB, "--listen", "127.0.0.1:0",
                "--log-level", "info", "--shadow-db", os.path.join(T, "shadow%d.db" % self.i)]
        if first:
            args += ["--admin-token-file", os.path.join(T, "token")]
        self.proc = subprocess.Popen(args, stdout=open(os.path.join(T, "serve%d.out" % self.i), "ab"),
                                     stderr=open(err, "ab"))
        with open(os.path.join(T, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            with open(err) as f:
                f.seek(off)
                m = re.search(r"msg=listening .*port=(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit("FAIL instance %d did not start: %s" % (self.i, open(err).read()[-2000:]))


insts = [Inst(0).start(first=True)]
TOKEN = open(os.path.join(T, "token")).read().strip()
insts += [Inst(1).start(), Inst(2).start()]


def req(port, method, path, body=None, key=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Authorization": "Bearer " + TOKEN}
    if body is not None:
        h["Content-Type"] = "application/json"
    if key:
        h["Idempotency-Key"] = key
    try:
        c.request(method, path, json.dumps(body) if body is not None else None, h)
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        c.close()


stats = {"retries": 0, "gave_up": 0}
lock = threading.Lock()


def call(method, path, body=None, key=None, want=(200, 201, 404, 409)):
    """Any instance; the same key again elsewhere on 503 or a lost connection."""
    for attempt in range(150):
        inst = random.choice(insts)
        try:
            st, j = req(inst.port, method, path, body, key)
            if st in want:
                return st, j
        except OSError:
            pass
        with lock:
            stats["retries"] += 1
        time.sleep(0.1)
    with lock:
        stats["gave_up"] += 1
    return None, None


def etcd_get(prefix):
    out = subprocess.run([ETCDCTL, "--endpoints", URLS, "--command-timeout", "10s", "get", "--prefix", prefix],
                         env=dict(os.environ, ETCDCTL_API="3"), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("FAIL etcdctl get %s: %s" % (prefix, out.stderr))
    lines = out.stdout.split("\n")
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def cpu_milli(text):
    m = re.search(r"(?:^|,)cpu=([0-9.]+)(m?)", text)
    if not m:
        return 0
    return int(m.group(1)) if m.group(2) else int(float(m.group(1)) * 1000)


def etcd_state():
    """From etcd's own data: live allocations {id: cpu milli}, and each
    idempotency key's answer (status, allocation id)."""
    allocs = {}
    for k, v in etcd_get(PFX + "/s/a/"):
        row = json.loads(v)
        allocs[row["id"]] = cpu_milli(row["r"])
    keys = {}
    for k, v in etcd_get(PFX + "/idem/"):
        row = json.loads(v)
        body = json.loads(row["b"]) if row.get("b") else {}
        keys[k.rsplit("/", 1)[1]] = (row["st"], body.get("id"))
    return allocs, keys


def run_clients(keys, fn, n_threads=6):
    todo = list(keys)
    tl = threading.Lock()

    def worker():
        while True:
            with tl:
                if not todo:
                    return
                k = todo.pop()
            fn(k)

    ts = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in ts:
        t.start()
    return ts


BODY = {"tenant": "t", "pool": "p", "resources": {"cpu": "1"}}
acked = {}  # key -> (status, id)


def alloc(k):
    st, j = call("POST", "/v1/allocations", BODY, key=k)
    if st:
        with lock:
            acked[k] = (st, j.get("id") if st == 201 else None)


# ---- 1: 60 concurrent requests of cpu=1 on a pool of cpu=20 ----
for t in run_clients(["a%d" % i for i in range(60)], alloc):
    t.join()
allocs, keys = etcd_state()
granted = {k: v[1] for k, v in acked.items() if v[0] == 201}
ok("every request answered", len(acked) == 60 and stats["gave_up"] == 0, (len(acked), stats))
ok("no over-commit in etcd: live cpu <= capacity", sum(allocs.values()) <= 20000, sum(allocs.values()))
ok("the pool filled: 20 granted", len(granted) == 20 and len(allocs) == 20, (len(granted), len(allocs)))
ok("every acknowledged grant is in etcd", set(granted.values()) <= set(allocs), (granted, sorted(allocs)))
ok("each key owns at most one allocation, each allocation one key",
   len(set(granted.values())) == len(granted) and
   sorted(v[1] for v in keys.values() if v[0] == 201) == sorted(allocs), (keys, sorted(allocs)))
ok("the refusals said no capacity", all(v[0] == 409 for k, v in acked.items() if k not in granted), acked)
# every instance accounts the same use (a write or a tick reloads them)
time.sleep(1.5)


def pool_used(port):
    st, j = req(port, "GET", "/v1/pools/p")
    return st, j


def cpu_used(j):
    return ((j or {}).get("dimensions", {}).get("cpu") or {}).get("used")


for inst in insts:
    st, j = pool_used(inst.port)
    ok("instance %d: pool p uses cpu=20, as etcd holds" % inst.i, st == 200 and cpu_used(j) == 20000,
       (st, json.dumps(j)[:400]))

# ---- 2: release them all, then allocate+release pairs with kills ----
def release(k):
    st, _ = call("DELETE", "/v1/allocations/%d" % granted[k])
    ok("release %s" % k, st in (200, 404), st)


for t in run_clients(list(granted), release):
    t.join()
allocs, _ = etcd_state()
ok("all released (etcd holds none)", allocs == {}, allocs)

released = set()


def pair(k):
    alloc(k)
    st_id = acked.get(k)
    if st_id and st_id[0] == 201 and int(k[1:]) % 25:  # one in 25 kept: the pool stays short of full
        st, _ = call("DELETE", "/v1/allocations/%d" % st_id[1])
        if st in (200, 404):
            with lock:
                released.add(k)


acked.clear()
stop = threading.Event()
seq = iter(range(1000000))
sent = []


def pair_worker():
    while not stop.is_set():
        with lock:
            k = "b%d" % next(seq)
            sent.append(k)
        pair(k)


threads = [threading.Thread(target=pair_worker) for _ in range(6)]
for t in threads:
    t.start()
time.sleep(1.5)
at_kill = len(acked)
os.kill(int(ETCD0), signal.SIGKILL)  # member 0: every instance's first endpoint
insts[2].proc.kill()                  # one ahead instance
insts[2].proc.wait()
victim = insts.pop(2)
# load goes on (a new leader, two instances) until 20 more pairs, or 90 s on a loaded host
end = time.monotonic() + 90
while len(acked) < at_kill + 20 and time.monotonic() < end:
    time.sleep(0.25)
stop.set()
for t in threads:
    t.join()
print("pairs: %d before the kills, %d in all, %d granted" % (at_kill, len(acked),
      sum(1 for v in acked.values() if v[0] == 201)))
ok("load ran before and after the kills", at_kill > 0 and len(acked) >= at_kill + 20, (at_kill, len(acked)))
ok("every request answered despite the kills", len(acked) == len(sent) and stats["gave_up"] == 0,
   (len(acked), len(sent), stats))
allocs, keys = etcd_state()
granted2 = {k: v[1] for k, v in acked.items() if v[0] == 201}
live = {k: i for k, i in granted2.items() if k not in released}
ok("no over-commit in etcd after the kills", sum(allocs.values()) <= 20000, sum(allocs.values()))
ok("every acknowledged, unreleased allocation survived", set(live.values()) <= set(allocs), (live, sorted(allocs)))
ok("nothing released came back", not (set(granted2[k] for k in released) & set(allocs)), (released, allocs))
owned = [v[1] for k, v in keys.items() if v[0] == 201 and k.startswith("b")]
ok("no idempotency key owns two allocations", len(owned) == len(set(owned)), owned)
ok("no allocation without its key (no duplicate decided on a retry)", set(allocs) <= set(owned), (allocs, owned))
ok("the acknowledged answers are the stored ones", all(keys[k] == acked[k] for k in acked if k in keys),
   [(k, keys.get(k), acked[k]) for k in acked if keys.get(k) != acked[k]][:5])

# the killed instance comes back on the same ledger; all account the pool as etcd does
victim.start()
insts.append(victim)
time.sleep(2.5)
want = sum(allocs.values())
for inst in insts:
    st, j = pool_used(inst.port)
    ok("instance %d accounts cpu as etcd holds (%d m)" % (inst.i, want), st == 200 and cpu_used(j) == want,
       (st, json.dumps(j)[:400]))
    st, j = req(inst.port, "GET", "/v1/allocations")
    ids = sorted(i["id"] for i in (j or {}).get("items", []))
    ok("instance %d lists the allocations etcd holds" % inst.i, ids == sorted(allocs), (ids, sorted(allocs)))
print("retries=%d (503 or a lost connection, the same key sent again)" % stats["retries"])
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
rc=$?
# the killed member rejoins
etcd_member_start 0
ok "member 0 rejoins" 'for i in $(seq 50); do etcdctl_ endpoint health >/dev/null 2>&1 && break; sleep 0.2; done; etcdctl_ endpoint health >/dev/null 2>&1'
[ "$rc" = 0 ] || fail=$((fail + 1))
finish
