#!/usr/bin/env bash
# Pools on nodes (docs/PLACEMENT.md "Pools on nodes"): one etcd member
# (loopback ports 23920/23921, started and stopped here; skipped without
# etcd) and three `ahead serve --join` posing as three nodes of 4 cores
# each (zones a, b, a), under a policy whose pool `edge` spans every node:
#   - the pool's capacity is the nodes' sum; allocations are placed on one
#     node each, a workload's spread across nodes; a request bigger than any
#     node is refused; checked from etcd's own rows (every row names a node,
#     no node holds more than its capacity);
#   - the dashboard (headless chromium, when installed) lists the three
#     nodes, up, with what each holds, and the pool's fragmentation;
#   - three replicas of one request land on three nodes (API), node labels
#     pick zone b's node (CLI), malformed labels are a 422;
#   - a cordoned node takes nothing new;
#   - under load from clients with idempotency keys on the other two
#     instances, a node killed with SIGKILL has its allocations re-placed or
#     queued once its lease lapses (TTL 10 s), and nothing new is placed on
#     it meanwhile; no node is ever over its capacity;
#   - drain moves a node's allocations to others where they fit, with no
#     over-commit anywhere; uncordon clears it;
#   - each node enforces what lands on it ([linux] enforce_api = dry-run:
#     cgroups made, no limit written): an allocation's cgroup is under its
#     node's daemon's parent (PARENT/NODE/alloc-ID) whoever granted it, and
#     moves with it (checked on the cgroup v1 cpu mount; root only, else
#     said and skipped);
#   - edge-2 runs with its wall clock 4 s ahead (libfaketime, when
#     installed): it takes its share of work, stays up, and nothing is ever
#     moved off it (liveness is etcd's lease clock, not the hosts').
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
CGP=ahead-test-place-$$
cg_clean() { for m in /sys/fs/cgroup/*/"$CGP"; do [ -d "$m" ] && find "$m" -depth -type d -exec rmdir {} + 2>/dev/null; done; }
trap 'kill -9 $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; cg_clean; rm -rf "$T"' EXIT
etcd_start 1 23920 "$T/etcd" || { echo "FAIL etcd did not start"; exit 1; }
cat >"$T/policy.ini" <<INI
[ahead]
lease_ttl = 1h
queue_timeout = 10m
max_clock_skew = 5s
[pool edge]
nodes = *
spread = zone
[class c]
priority = 1
[tenant t]
[linux]
interval = 200ms
host = no
max_cgroups = 0
enforce_api = dry-run
api_cgroup_parent = $CGP
INI
CPU_MNT=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ {print $2; exit}' /proc/mounts)
[ "$(id -u)" = 0 ] && [ -n "$CPU_MNT" ] || CPU_MNT=
FAKELIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
python3 -u - "$A" "$T" "$ETCD_EP" "$ETCDCTL_BIN" "$ETCD_URLS" "$CPU_MNT/$CGP" "$FAKELIB" <<'PY'
import datetime, http.client, json, os, re, shutil, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.environ.get("AHEAD_SRC", "."), "tests"))
from cluster_lib import Checks, Serve, req, until  # noqa: E402

A, T, EP, ETCDCTL, URLS, CGDIR, FAKELIB = sys.argv[1:8]
CGDIR = CGDIR if CGDIR.startswith("/sys/") else None
PFX = "/place"
DB = "etcd://%s%s" % (EP, PFX)
CAP = {"edge-1": 4000, "edge-2": 4000, "edge-3": 4000}
C = Checks()
ok = C.ok
subprocess.run([A, "policy", "apply", os.path.join(T, "policy.ini"), "--db", DB], check=True, capture_output=True,
               timeout=60)


def node(i, name, zone, fake=None):
    env = None
    if fake and FAKELIB:
        # the wall clock only: intervals stay real (see cli_cluster_skew.sh)
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = {"LD_PRELOAD": FAKELIB, "FAKETIME": fake, "DONT_FAKE_MONOTONIC": "1",
               "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}
    return Serve(A, T, i, ["--policy", os.path.join(T, "policy.ini"), "--join", DB, "--node-name", name,
                           "--node-labels", "zone=" + zone, "--node-capacity", "cpu=4,memory=8Gi",
                           "--shadow-db", os.path.join(T, "shadow%d.db" % i)], env=env)


def cli(*args, timeout=60):
    return subprocess.run([A] + list(args), capture_output=True, text=True, timeout=timeout)


def etcd_rows():
    """Live allocations from etcd's own data: {id: (node, cpu milli)}."""
    out = subprocess.run([ETCDCTL, "--endpoints", URLS, "--command-timeout", "10s", "get", "--prefix", PFX + "/s/a/"],
                         env=dict(os.environ, ETCDCTL_API="3"), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("FAIL etcdctl get: %s" % out.stderr)
    lines = out.stdout.split("\n")
    rows = {}
    for i in range(0, len(lines) - 1, 2):
        r = json.loads(lines[i + 1])
        cpu = 0
        for part in r["r"].split(","):
            k, _, v = part.partition("=")
            if k == "cpu":
                cpu = int(v[:-1]) if v.endswith("m") else int(float(v) * 1000)
        rows[r["id"]] = (r.get("nd"), cpu)
    return rows


def per_node(rows):
    use = {}
    for nd, cpu in rows.values():
        use[nd] = use.get(nd, 0) + cpu
    return use


def overcommit(rows):
    return {n: u for n, u in per_node(rows).items() if n is None or u > CAP.get(n, 0)}


n1 = node(0, "edge-1", "a").start(token_file=os.path.join(T, "token"))
n2 = node(1, "edge-2", "b", fake="+4s").start()
m2 = re.search(r"^t=(\S+) .*msg=listening", n2.log(), re.M)
skew_seen = (datetime.datetime.strptime(m2.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(
    tzinfo=datetime.timezone.utc).timestamp() - time.time()) if m2 else 0
if not FAKELIB:
    print("SKIP (part): libfaketime not installed, edge-2's clock is not skewed")
n3 = node(2, "edge-3", "a").start()
TOK = open(os.path.join(T, "token")).read().strip()


def call(inst, method, path, body=None, key=None):
    try:
        return req(inst.port, TOK, method, path, body, key=key)
    except OSError:
        return None, None


def pool_cpu(inst):
    st, j = call(inst, "GET", "/v1/pools/edge")
    return j.get("dimensions", {}).get("cpu", {}).get("capacity") if st == 200 else None


# the pool's capacity is its nodes' sum, once each instance read the list
t = until(lambda: all(pool_cpu(n) == 12000 for n in (n1, n2, n3)), 15, 0.2)
ok("pool edge spans the three nodes: 12 cores, on every instance", t is not None, [pool_cpu(n) for n in (n1, n2, n3)])

granted = []
for i in range(6):
    st, j = call([n1, n2, n3][i % 3], "POST", "/v1/allocations",
                 {"tenant": "t", "pool": "edge", "resources": {"cpu": "1"}, "workload": "web"}, key="w%d" % i)
    if st in (200, 201) and j.get("outcome") == "granted":
        granted.append(j["id"])
ok("six 1-core allocations of one workload granted", len(granted) == 6, granted)
rows = etcd_rows()
use = per_node(rows)
ok("each row in etcd names its node", all(rows[i][0] in CAP for i in granted), rows)
ok("workload web is spread across zones (3 in zone b's one node, 3 in zone a) and nodes (zone a's two share)",
   use.get("edge-2") == 3000 and use.get("edge-1", 0) + use.get("edge-3", 0) == 3000
   and min(use.get("edge-1", 0), use.get("edge-3", 0)) >= 1000, use)
st, j = call(n2, "GET", "/v1/allocations/%d" % granted[0])
ok("GET /v1/allocations/ID says where it is placed", st == 200 and j.get("node") in CAP, j)
st, j = call(n2, "POST", "/v1/allocations", {"tenant": "t", "pool": "edge", "resources": {"cpu": "5"}}, key="big")
ok("5 cores (above any node's 4) is refused as exceeding capacity",
   st is not None and st >= 400 and "exceeds" in json.dumps(j), (st, j))
d = cli("node", "ls", "--db", DB, "-o", "json")
dj = {n["name"]: n for n in json.loads(d.stdout)["nodes"]} if d.returncode == 0 else {}
ok("node ls counts what is placed on each", {n: dj.get(n, {}).get("placed") for n in CAP}
   == {n: use.get(n, 0) // 1000 for n in CAP}, (dj, use))

# the dashboard shows the nodes (headless chromium, when installed): each node, up, what it holds
CHR = next((c for c in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if c and os.access(c, os.X_OK)), None)
if CHR:
    dd = subprocess.run([CHR, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--user-data-dir=" + os.path.join(T, "chr"), "--virtual-time-budget=8000", "--dump-dom",
                         "http://127.0.0.1:%d/#token=%s" % (n1.port, TOK)], capture_output=True, text=True, timeout=120)
    mt = re.search(r'<table id="nodes"[^>]*>(.*?)</table>', dd.stdout, re.S)
    body = mt.group(1) if mt else ""
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", tr) for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]
    shown = {c[0]: (c[1], c[2]) for c in cells if len(c) >= 3}
    ok("the dashboard's nodes table: the three nodes, up, holding what node ls says",
       shown == {n: ("up", str(use.get(n, 0) // 1000)) for n in CAP}, (shown, dd.stderr[-300:]))
    ok("the dashboard shows the pool's fragmentation", "Pool edge: stranded" in dd.stdout, dd.stdout[-300:])
else:
    print("SKIP (part): chromium not installed, the dashboard's nodes table is not checked")

# replicas of one request spread across the nodes; node labels pick the node
st, j = call(n1, "POST", "/v1/allocations",
             {"tenant": "t", "pool": "edge", "resources": {"cpu": "250m"}, "replicas": 3}, key="rep3")
reps = j.get("replicas", []) if st == 201 and j else []
ok("3 replicas in one request: 201, each granted on its own node",
   len(reps) == 3 and all(r.get("outcome") == "granted" for r in reps) and len({r.get("node") for r in reps}) == 3,
   (st, j))
rows = etcd_rows()
ok("the replicas' rows in etcd name those nodes", all(rows.get(r.get("id"), (None,))[0] == r.get("node") for r in reps),
   rows)
env = dict(os.environ, AHEAD_TOKEN=TOK)
r = subprocess.run([A, "alloc", "--server", "http://127.0.0.1:%d" % n3.port, "-t", "t", "-p", "edge", "-r", "cpu=250m",
                    "--node-labels", "zone=b", "-o", "json"], capture_output=True, text=True, timeout=60, env=env)
lab = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else {}
ok("ahead alloc --node-labels zone=b lands on edge-2 (zone b's node)", lab.get("node") == "edge-2", (r.stdout, r.stderr))
# the CLI read the policy from edge-3's daemon (GET /v1/policy opens a second etcd handle there):
# edge-3 must stay up (that handle once shared and deleted the daemon's instance key)
time.sleep(1.5)
d = cli("node", "ls", "--db", DB, "-o", "json")
ups = {n["name"]: n.get("up") for n in json.loads(d.stdout)["nodes"]} if d.returncode == 0 else {}
ok("every node still up after GET /v1/policy on edge-3", ups == {n: True for n in CAP}, ups)
with open(os.path.join(T, "rep.json"), "w") as f:
    json.dump(j or {}, f)
sch = subprocess.run(["python3", os.path.join(os.environ.get("AHEAD_SRC", "."), "tests/json_check.py"),
                      os.path.join(os.environ.get("AHEAD_SRC", "."), "docs/schema/ahead.schema.json"), "decision",
                      os.path.join(T, "rep.json")], capture_output=True, text=True)
ok("the replicas' answer is a decision (docs/schema)", sch.returncode == 0, sch.stdout + sch.stderr)
st, j = call(n2, "GET", "/v1/allocations/%d" % lab.get("id", 0))
ok("GET says the labels it asked for", st == 200 and j.get("node_labels") == "zone=b", j)
r = cli("describe", str(lab.get("id", 0)), "--db", DB)
ok("ahead describe shows its node and labels", "Node:         edge-2" in r.stdout
   and "Node labels:  zone=b" in r.stdout, r.stdout + r.stderr)
st, j = call(n2, "POST", "/v1/allocations",
             {"tenant": "t", "pool": "edge", "resources": {"cpu": "250m"}, "node_labels": "zone"}, key="badlab")
ok("malformed node_labels: 422 naming the field", st == 422 and "node_labels" in json.dumps(j), (st, j))
for x in reps + [lab]:
    call(n1, "DELETE", "/v1/allocations/%d" % x.get("id", 0))

# cordon: nothing new on edge-2
r = cli("node", "cordon", "edge-2", "--db", DB)
ok("cordon edge-2", r.returncode == 0, r.stderr)
time.sleep(2.5)  # each instance reads the list each second
new = []
for i in range(4):
    st, j = call([n1, n2, n3][i % 3], "POST", "/v1/allocations",
                 {"tenant": "t", "pool": "edge", "resources": {"cpu": "250m"}}, key="c%d" % i)
    if st in (200, 201) and j.get("outcome") == "granted":
        new.append(j["id"])
rows = etcd_rows()
ok("four more granted, none on cordoned edge-2", len(new) == 4 and all(rows[i][0] != "edge-2" for i in new),
   [rows.get(i) for i in new])
cli("node", "uncordon", "edge-2", "--db", DB)

# load on n1 and n2 while edge-3 is killed
stop = threading.Event()
lock = threading.Lock()
log = []  # (monotonic time granted, id)


def client(inst, tag):
    k = 0
    while not stop.is_set():
        k += 1
        key = "%s-%d" % (tag, k)
        st, j = call(inst, "POST", "/v1/allocations",
                     {"tenant": "t", "pool": "edge", "resources": {"cpu": "100m"}}, key=key)
        if st in (200, 201, 202) and j and j.get("outcome") in ("granted", "queued"):
            with lock:
                log.append((time.monotonic(), j["id"], j.get("outcome")))
            for _ in range(50):  # a queued one is cancelled; 503 (a commit raced another instance's): again
                ds, _ = call(inst, "DELETE", "/v1/allocations/%d" % j["id"])
                if ds != 503:
                    break
                time.sleep(0.05)
        time.sleep(0.05)


threads = [threading.Thread(target=client, args=(n, "l%d" % i)) for i, n in enumerate((n1, n2))]
for th in threads:
    th.start()
time.sleep(1)
rows = etcd_rows()
on3 = [i for i, (nd, _) in rows.items() if nd == "edge-3" and i in granted + new]  # not the load's own
ok("edge-3 holds allocations before it dies", len(on3) >= 1, rows)
t0 = time.monotonic()
n3.proc.kill()
n3.proc.wait()


def down():
    r = cli("node", "ls", "--db", DB, "-o", "json")
    return r.returncode == 0 and not {n["name"]: n for n in json.loads(r.stdout)["nodes"]}["edge-3"]["up"]


until(down, 20, 0.2)
t_down = time.monotonic() - t0
moved = until(lambda: not any(nd == "edge-3" for nd, _ in etcd_rows().values()), 20, 0.2)
t_moved = time.monotonic() - t0
# load goes on; nothing lands on the dead node meanwhile (polled from etcd)
landed = 0
for _ in range(10):
    landed += sum(1 for nd, _ in etcd_rows().values() if nd == "edge-3")
    time.sleep(0.3)
stop.set()
for th in threads:
    th.join()
print("edge-3: down %.1f s after its SIGKILL, its allocations off it %.1f s after (lease TTL 10 s)"
      % (t_down, t_moved))
ok("a killed node's allocations are re-placed or queued within its lease TTL + 2 s (sync each second)",
   moved is not None and t_moved <= 12, (t_down, t_moved))
rows = etcd_rows()
ok("... its allocations are still there, placed on live nodes or queued",
   all(i in rows and rows[i][0] in ("edge-1", "edge-2") or i not in rows for i in on3), [rows.get(i) for i in on3])
st, q = call(n1, "GET", "/v1/queue")
queued = {x["id"] for x in q.get("items", [])} if isinstance(q, dict) else set()
ok("... none lost: each of them is live on a node or queued again", all(i in rows or i in queued for i in on3),
   (on3, sorted(rows), sorted(queued)))
ok("nothing was placed on the dead node while the load went on (10 polls over 3 s)", landed == 0, landed)
ok("load went on: allocations were granted during the outage",
   sum(1 for t, _, o in log if t > t0 and o == "granted") > 20, len(log))
ok("no node over its capacity after the outage (from etcd)", not overcommit(rows), per_node(rows))

# edge-3 back (its allocations stay where they went); then drain edge-1:
# its 3 cores move to edge-3 (4 free) and edge-2, which have room for them
# (a load allocation whose release raced the outage may be left over)
n3 = node(2, "edge-3", "a").start()
until(lambda: all(pool_cpu(n) == 12000 for n in (n1, n2)), 15, 0.2)
rows = etcd_rows()
on1 = [i for i, (nd, _) in rows.items() if nd == "edge-1"]
r = cli("node", "drain", "edge-1", "--db", DB)
ok("drain edge-1", r.returncode == 0 and "draining" in r.stdout, r.stdout + r.stderr)
t = until(lambda: not any(nd == "edge-1" for nd, _ in etcd_rows().values()), 10, 0.2)
rows = etcd_rows()
ok("drain moved every allocation off edge-1 to nodes with room", t is not None and on1
   and all(rows.get(i, (None,))[0] in ("edge-2", "edge-3") for i in on1), (on1, per_node(rows)))
ok("... with no node over its capacity", not overcommit(rows), per_node(rows))
d = cli("node", "describe", "edge-1", "--db", DB)
ok("describe shows it draining, with nothing placed", "draining" in d.stdout and "placed:      0" in d.stdout,
   d.stdout)
r = cli("node", "uncordon", "edge-1", "--db", DB)
d = cli("node", "ls", "--db", DB, "-o", "json")
e1 = {n["name"]: n for n in json.loads(d.stdout)["nodes"]}.get("edge-1", {})
ok("uncordon clears the drain", r.returncode == 0 and not e1.get("draining") and not e1.get("cordoned"), e1)


def cgroups():
    """{node: set of allocation ids} from the cgroup v1 cpu mount."""
    out = {}
    for n in CAP:
        d = os.path.join(CGDIR, n)
        out[n] = {int(x[6:]) for x in os.listdir(d) if x.startswith("alloc-")} if os.path.isdir(d) else set()
    return out


def matches():
    rows, cg = etcd_rows(), cgroups()
    want = {n: {i for i, (nd, _) in rows.items() if nd == n} for n in CAP}
    return want == cg, want, cg


if CGDIR:
    t = until(lambda: matches()[0], 10, 0.2)
    good, want, cg = matches()
    ok("each allocation's cgroup is made by its node's daemon (PARENT/NODE/alloc-ID), whoever granted it, "
       "and moved with it", good, (want, cg))
    logs = [s.log() for s in (n1, n2, n3)]
    ok("... in dry-run: logged, no limit written", "msg=enforce_dry_run" in "".join(logs)
       and "why=placed_here" in "".join(logs), "")
else:
    print("SKIP: per-node enforcement needs root and a cgroup v1 cpu mount")
for x in (n1, n2, n3):
    ok("instance %d is still running" % x.i, x.proc.poll() is None,
       "exit %s: %s" % (x.proc.returncode, x.log()[-3000:]))
if FAKELIB:
    logs = "".join(x.log() for x in (n1, n2, n3))
    d = cli("node", "ls", "--db", DB, "-o", "json")
    e2 = {n["name"]: n for n in json.loads(d.stdout)["nodes"]}.get("edge-2", {})
    ok("edge-2, its wall clock 4 s ahead, stayed up and nothing was ever moved off it",
       e2.get("up") is True and "moved from node edge-2" not in logs, e2)
    ok("... its clock is ahead indeed (its log's time of listening against this test's clock, in s)",
       skew_seen >= 3, skew_seen)

# /metrics shows the nodes and the pool's fragmentation, as promtool reads them
def metrics(inst):
    c = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=15)
    c.request("GET", "/metrics", headers={"Authorization": "Bearer " + TOK})
    return c.getresponse().read().decode()


def node_allocs(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r'ahead_node_allocations\{node="([^"]+)"\} (\d+)$', line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


want = {n: sum(1 for nd, _ in etcd_rows().values() if nd == n) for n in CAP}
until(lambda: node_allocs(metrics(n2)) == want, 10, 0.2)
mt = metrics(n2)
ok("/metrics: allocations per node as etcd's rows have them", node_allocs(mt) == want, (node_allocs(mt), want))
ok("... nodes up, capacity, and the pool's stranded and small-piece ratios",
   'ahead_node_up{node="edge-3"} 1' in mt and 'ahead_node_capacity{node="edge-1",dim="cpu"} 4000' in mt
   and 'ahead_pool_stranded_ratio{pool="edge",dim="cpu"}' in mt and 'ahead_pool_small_free_ratio{pool="edge"' in mt,
   "\n".join(l for l in mt.splitlines() if "node" in l or "ratio" in l)[:1500])
st, h = call(n2, "GET", "/v1/host")
hn = {n["name"]: n["allocations"] for n in (h or {}).get("nodes", [])}
ok("GET /v1/host (the dashboard's This host panel): the nodes with what is placed on each, and the pool's "
   "fragmentation", st == 200 and hn == want and [f["pool"] for f in h.get("fragmentation", [])] == ["edge"]
   and "cpu" in h["fragmentation"][0]["stranded"], (st, h and h.get("nodes"), h and h.get("fragmentation")))
if shutil.which("promtool"):
    pr = subprocess.run(["promtool", "check", "metrics"], input=mt, capture_output=True, text=True)
    ok("... promtool check metrics passes", pr.returncode == 0, pr.stdout + pr.stderr)
for n in (n1, n2, n3):
    n.stop()
C.finish()
PY
