#!/usr/bin/env bash
# Watches keep every instance's view in step (docs/CLUSTER.md "Watches"):
# a 3-member etcd cluster (loopback ports 23870-23875, started and stopped
# here; skipped without etcd) and two `ahead serve` on one ledger, both
# with --tick 60s, so nothing but the watch brings one instance's view the
# other's commits. A reaches the members directly, B through one TCP proxy
# per member (tests/etcd_proxy.py).
#   - what B commits, A lists within 3 s (and its /v1/events watch streams
#     it), and A's resourceVersion of it is B's, so a renew through A with
#     B's version is not a 409;
#   - B's watch resumed from a compacted revision re-lists: B cut off, A
#     commits, etcd compacts past B's last revision, B reconnected: B logs
#     the relist and its view is exactly etcd's;
#   - a paused member (SIGSTOP) under A's watch: A's stream is moved to
#     another member once its view moved past it, and B's commits reach A
#     again while the member is still paused;
#   - `ahead cluster status` shows each daemon's watch, up, not behind.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
trap 'kill $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; rm -rf "$T"' EXIT
etcd_start 3 23870 "$T/etcd" || { echo "FAIL etcd cluster did not start"; exit 1; }
cat >"$T/policy.ini" <<'INI'
[ahead]
lease_ttl = 1h
queue_timeout = 0
[pool p]
capacity = cpu=200, memory=64Gi
[class c]
priority = 1
[tenant t]
INI
"$A" policy check "$T/policy.ini" >/dev/null || { echo "FAIL the test's policy"; exit 1; }
python3 -u - "$A" "$T" "$ETCD_EP" "$ETCD_URLS" "$ETCDCTL_BIN" "${ETCD_PIDS[*]}" <<'PY'
import http.client, json, os, re, signal, statistics, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.environ.get("AHEAD_SRC", "."), "tests"))
from cluster_lib import Checks, Serve, req as req_, until  # noqa: E402
from etcd_proxy import Proxy  # noqa: E402

A, T, EP, URLS, ETCDCTL, PIDS = sys.argv[1:7]
PIDS = [int(p) for p in PIDS.split()]
PFX = "/watch"
C = Checks()
ok = C.ok

members = [(h, int(p)) for h, p in (e.split(":") for e in EP.split(","))]
proxies = [Proxy(m) for m in members]
for p in proxies:
    p.open()
DB_A = "etcd://%s%s" % (EP, PFX)
DB_B = "etcd://%s%s" % (",".join("127.0.0.1:%d" % p.port for p in proxies), PFX)
subprocess.run([A, "policy", "apply", os.path.join(T, "policy.ini"), "--db", DB_A], check=True,
               capture_output=True, timeout=60)


def serve(i, db):
    return Serve(A, T, i, ["--policy", os.path.join(T, "policy.ini"), "--db", db, "--log-level", "info",
                           "--tick", "60s"])


a = serve(0, DB_A).start(token_file=os.path.join(T, "token"))
TOKEN = open(os.path.join(T, "token")).read().strip()
b = serve(1, DB_B).start()


def req(inst, method, path, body=None, key=None, timeout=15):
    return req_(inst.port, TOKEN, method, path, body, key, timeout)


def etcdctl(*args):
    out = subprocess.run([ETCDCTL, "--endpoints", URLS, "--command-timeout", "10s"] + list(args),
                         env=dict(os.environ, ETCDCTL_API="3"), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("FAIL etcdctl %s: %s" % (args, out.stderr))
    return out.stdout


def etcd_ids():
    lines = etcdctl("get", "--prefix", PFX + "/s/a/").split("\n")
    return sorted(json.loads(lines[i + 1])["id"] for i in range(0, len(lines) - 1, 2))


BODY = {"tenant": "t", "pool": "p", "resources": {"cpu": "100m"}}


def alloc(inst, key, timeout=15):
    st, j = req(inst, "POST", "/v1/allocations", BODY, key=key, timeout=timeout)
    return j["id"] if st == 201 else None


def visible(inst, aid):
    st, _ = req(inst, "GET", "/v1/allocations/%d" % aid)
    return st == 200


# ---- 1: B's commits reach A's view through the watch ----
time.sleep(1)  # both watches open
lags = []
for n in range(15):
    aid = alloc(b, "b-%d" % n)
    if aid is None:
        ok("B grants", False, n)
        continue
    lags.append(until(lambda: visible(a, aid), 3))
seen = [x for x in lags if x is not None]
ok("A lists each of B's allocations within 3 s (its tick is 60 s)", len(seen) == len(lags) == 15, lags)
if seen:
    print("watch lag, B's grant to A's GET (15 grants): median %.0f ms, max %.0f ms" %
          (1000 * statistics.median(seen), 1000 * max(seen)))

# A's event stream carries B's events
frames, stop = [], threading.Event()


def stream():
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
    c.request("GET", "/v1/events?watch=1", headers={"Authorization": "Bearer " + TOKEN})
    r = c.getresponse()
    while not stop.is_set():
        try:
            line = r.fp.readline()
        except OSError:
            break
        if not line:
            break
        frames.append(line.decode())


th = threading.Thread(target=stream, daemon=True)
th.start()
time.sleep(0.5)
aid = alloc(b, "b-stream")
ok("A's /v1/events watch streams B's grant", until(lambda: any('"id": %d' % aid in f or '"id":%d' % aid in f
                                                              for f in frames), 3) is not None, frames[-5:])
stop.set()

# resourceVersion: B's renew answer and A's view agree
st, j = req(b, "POST", "/v1/allocations/%d/renew" % aid, {"lease": "2h"})
rv = (req(b, "GET", "/v1/allocations/%d" % aid)[1] or {}).get("resourceVersion")
ok("B renews", st == 200 and rv, (st, j, rv))
same = until(lambda: (req(a, "GET", "/v1/allocations/%d" % aid)[1] or {}).get("resourceVersion") == rv, 3)
ok("A's resourceVersion of it becomes B's", same is not None,
   (rv, (req(a, "GET", "/v1/allocations/%d" % aid)[1] or {}).get("resourceVersion")))
st, j = req(a, "POST", "/v1/allocations/%d/renew" % aid, {"lease": "3h", "resourceVersion": rv})
ok("... so a renew through A with B's resourceVersion is not a conflict", st == 200, (st, j))

# ---- 2: B's watch resumed from a compacted revision re-lists ----
for p in proxies:
    p.close()
time.sleep(0.5)
during = [alloc(a, "a-cut-%d" % n) for n in range(5)]
st, j = req(a, "DELETE", "/v1/allocations/%d" % aid)
ok("A releases one while B is cut off", st == 200, (st, j))
rev = int(json.loads(etcdctl("endpoint", "status", "-w", "json"))[0]["Status"]["header"]["revision"])
etcdctl("compact", str(rev))
for p in proxies:
    p.open()
relisted = until(lambda: "msg=watch_relist" in b.log(), 10)
ok("B's watch, resumed from a compacted revision, re-lists", relisted is not None, b.log()[-1500:])
ids = []


def b_matches():
    global ids
    st, j = req(b, "GET", "/v1/allocations?pool=p")
    ids = sorted(x["id"] for x in (j or {}).get("items", []))
    return st == 200 and ids == etcd_ids()


ok("... and B's view is exactly etcd's (A's commits while B was cut off included)",
   until(b_matches, 5) is not None and all(d in ids for d in during if d), (len(ids), len(etcd_ids())))

# ---- 3: a paused member under A's watch ----
# the member A's stream is on (GET /v1/host names it)
ep = ((req(a, "GET", "/v1/host")[1] or {}).get("cluster") or {}).get("endpoint", "")
urls = ["http://" + e for e in EP.split(",")]
ok("A's stream names its member", ep in urls, ep)
ETCD0 = PIDS[urls.index(ep)] if ep in urls else PIDS[0]
os.kill(int(ETCD0), signal.SIGSTOP)
try:
    # A keeps writing (its view moves on through another member, once its
    # client timed out and a new raft leader is elected if the paused
    # member led); the stream's stall shows against that view
    n_paused = [0]

    def a_writes_until_restart():
        n_paused[0] += 1
        # the first write may wait out the client's timeouts on the paused
        # member and, when it led, the election (2-4 s at these flags)
        alloc(a, "a-paused-%d" % n_paused[0], timeout=40)
        return "msg=watch_restarted" in a.log()

    restarted = until(a_writes_until_restart, 30, step=0.5)
    ok("A's watch, stuck on the paused member, is opened again elsewhere", restarted is not None, a.log()[-1500:])
    aid2 = alloc(b, "b-paused")
    ok("... and B's commits reach A again while the member is paused",
       aid2 is not None and until(lambda: visible(a, aid2), 5) is not None, aid2)
finally:
    os.kill(int(ETCD0), signal.SIGCONT)

# ---- 4: cluster status shows the watches ----
def status():
    cs = subprocess.run([A, "cluster", "status", "--db", DB_A, "-o", "json"], capture_output=True, text=True,
                        timeout=60)
    return json.loads(cs.stdout) if cs.returncode == 0 else {}


# a stream that stalled on the paused member is moved within 2 s of the
# view passing it (checked each second), and a view is published at most
# a second after it changed: caught up within a few seconds
st = {}


def caught_up():
    global st
    st = status()
    ws = [i.get("watch") for i in st.get("instances", [])]
    return (st.get("watch_lag") or {}).get("max_behind_revisions") == 0 and len(ws) == 2 and \
        all(w and w["up"] for w in ws)


until(caught_up, 20, step=0.5)
ws = [i.get("watch") for i in st.get("instances", [])]
ok("cluster status: both daemons watch, up", len(ws) == 2 and all(w and w["up"] for w in ws), ws)
ok("... neither view behind the head", all(w and w["behind_revisions"] == 0 for w in ws) and
   (st.get("watch_lag") or {}).get("max_behind_revisions") == 0, (ws, st.get("watch_lag")))
ok("... B's relist counted", any(w and w["relists"] >= 1 for w in ws), ws)
with open(os.path.join(T, "cs.json"), "w") as f:
    json.dump(st, f)
src = os.environ.get("AHEAD_SRC", ".")
sch = subprocess.run(["python3", os.path.join(src, "tests/json_check.py"), os.path.join(src, "docs/schema/ahead.schema.json"),
                      "cluster_status", os.path.join(T, "cs.json")], capture_output=True, text=True)
ok("... in the documented JSON shape", sch.returncode == 0, sch.stdout + sch.stderr)
tb = subprocess.run([A, "cluster", "status", "--db", DB_A], capture_output=True, text=True, timeout=60)
ok("... and as a table", tb.returncode == 0 and "WATCH" in tb.stdout and "watch lag: at most 0 revisions" in tb.stdout,
   tb.stdout)

# ---- 5: the watch in /metrics ----
def metrics(inst):
    c = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=10)
    c.request("GET", "/metrics", headers={"Authorization": "Bearer " + TOKEN})
    return c.getresponse().read().decode()


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


ma, mb = metrics(a), metrics(b)
ok("/metrics: both watches up", metric(ma, "ahead_cluster_watch_up") == 1 and metric(mb, "ahead_cluster_watch_up") == 1,
   (metric(ma, "ahead_cluster_watch_up"), metric(mb, "ahead_cluster_watch_up")))
ok("... A reloaded for each of B's commits it listed", (metric(ma, "ahead_cluster_watch_reloads_total") or 0) >= 15,
   metric(ma, "ahead_cluster_watch_reloads_total"))
ok("... B's relist and A's restart counted", (metric(mb, "ahead_cluster_watch_relists_total") or 0) >= 1 and
   (metric(ma, "ahead_cluster_watch_restarts_total") or 0) >= 1,
   (metric(mb, "ahead_cluster_watch_relists_total"), metric(ma, "ahead_cluster_watch_restarts_total")))
ok("... the view's revision is the head's", metric(ma, "ahead_cluster_view_revision") ==
   (status().get("head_revision") or -1), metric(ma, "ahead_cluster_view_revision"))
doc = open(os.path.join(src, "docs/METRICS.md")).read()
names = sorted(set(re.findall(r"^(ahead_cluster_\w+)", ma, re.M)))
ok("... each cluster metric documented in docs/METRICS.md", len(names) == 8 and all("`%s`" % n in doc for n in names),
   names)
st, h = req(a, "GET", "/v1/host")
cl = (h or {}).get("cluster") or {}
ok("GET /v1/host: the cluster member (the dashboard's line)", st == 200 and cl.get("ledger") == "etcd" and
   cl.get("watch_up") is True and cl.get("view_revision") == metric(ma, "ahead_cluster_view_revision") and
   cl.get("reloads", 0) >= 15 and "error" not in cl, (st, h))
promtool = subprocess.run(["sh", "-c", "command -v promtool"], capture_output=True, text=True).stdout.strip()
if promtool:
    pc = subprocess.run([promtool, "check", "metrics"], input=ma, capture_output=True, text=True)
    ok("... promtool check metrics passes", pc.returncode == 0, pc.stdout + pc.stderr)
else:
    print("SKIP promtool check: promtool not installed (Debian: prometheus)")

ok("both stop cleanly", a.stop() == 0 and b.stop() == 0, (a.proc.returncode, b.proc.returncode))
for p in proxies:
    p.close()
C.finish()
PY
