#!/usr/bin/env bash
# The fleet's nodes (docs/CLUSTER.md "Nodes"): one etcd member (loopback
# ports 23900/23901, started and stopped here; skipped without etcd) and
# three `ahead serve --join` posing as three nodes on one machine:
#   - each registers its capacity (stated in human units, or the host's
#     cores and memory by default) and labels; `ahead node ls` lists three
#     nodes up, in the documented JSON shape, and as a table;
#   - cordon is kept in the record, survives the node's restart, and
#     uncordon clears it; a cordon of an unknown node exits 5;
#   - a node killed with SIGKILL is down within its lease TTL (10 s) and
#     keeps its record; restarted, it is up again;
#   - a second daemon claiming a live node's name is refused; bad labels,
#     capacities and names are refused naming the option;
#   - --node-* without --join, and --join with a SQLite path, are refused.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
trap 'kill -9 $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; rm -rf "$T"' EXIT
etcd_start 1 23900 "$T/etcd" || { echo "FAIL etcd did not start"; exit 1; }
cat >"$T/policy.ini" <<'INI'
[ahead]
lease_ttl = 1h
queue_timeout = 0
[pool p]
capacity = cpu=64, memory=256Gi
[class c]
priority = 1
[tenant t]
INI
python3 -u - "$A" "$T" "$ETCD_EP" <<'PY'
import json, os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.environ.get("AHEAD_SRC", "."), "tests"))
from cluster_lib import Checks, Serve  # noqa: E402

A, T, EP = sys.argv[1:4]
SRC = os.environ.get("AHEAD_SRC", ".")
DB = "etcd://%s/fleet" % EP
C = Checks()
ok = C.ok
subprocess.run([A, "policy", "apply", os.path.join(T, "policy.ini"), "--db", DB], check=True, capture_output=True,
               timeout=60)


def node(i, name, extra):
    return Serve(A, T, i, ["--policy", os.path.join(T, "policy.ini"), "--join", DB, "--node-name", name,
                           "--shadow-db", os.path.join(T, "shadow%d.db" % i)] + extra)


def cli(*args, timeout=60):
    return subprocess.run([A] + list(args), capture_output=True, text=True, timeout=timeout)


def nodes():
    r = cli("node", "ls", "--db", DB, "-o", "json")
    if r.returncode != 0:
        return None, r
    return {n["name"]: n for n in json.loads(r.stdout)["nodes"]}, r


def until(fn, secs, step=0.25):
    end = time.monotonic() + secs
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


n1 = node(0, "edge-1", ["--node-labels", "zone=a,rack=r1", "--node-capacity", "cpu=4,memory=8Gi"]).start()
n2 = node(1, "edge-2", ["--node-labels", "zone=b", "--node-capacity", "cpu=2500m,memory=4Gi"]).start()
n3 = node(2, "edge-3", ["--node-labels", "zone=a"]).start()

ns, r = nodes()
ok("node ls answers", ns is not None, r.stderr if ns is None else "")
ns = ns or {}
ok("three nodes, all up", sorted(ns) == ["edge-1", "edge-2", "edge-3"] and all(n["up"] for n in ns.values()), ns)
e1, e2, e3 = ns.get("edge-1", {}), ns.get("edge-2", {}), ns.get("edge-3", {})
ok("edge-1 offers what it stated, in base units (4 cores, 8 GiB)",
   e1.get("capacity") == {"cpu": 4000, "memory": 8 << 30}, e1)
ok("edge-2 too (2500m, 4 GiB)", e2.get("capacity") == {"cpu": 2500, "memory": 4 << 30}, e2)
ncpu = os.cpu_count() or 0
mem = 0
with open("/proc/meminfo") as f:
    for line in f:
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) * 1024
ok("edge-3 stated nothing: it offers the host's cores and memory",
   e3.get("capacity") == {"cpu": ncpu * 1000, "memory": mem}, (e3, ncpu, mem))
ok("labels as given", e1.get("labels") == {"zone": "a", "rack": "r1"} and e2.get("labels") == {"zone": "b"}, ns)
ok("each is served by its instance, on a lease", all(n["instance"] and n["pid"] and n["lease_ttl_s"] is not None
                                                      for n in ns.values()), ns)
with open(os.path.join(T, "nodes.json"), "w") as f:
    f.write(r.stdout)
sch = subprocess.run(["python3", os.path.join(SRC, "tests/json_check.py"),
                      os.path.join(SRC, "docs/schema/ahead.schema.json"), "node_list",
                      os.path.join(T, "nodes.json")], capture_output=True, text=True)
ok("... in the documented JSON shape", sch.returncode == 0, sch.stdout + sch.stderr)
tb = cli("node", "ls", "--db", DB)
ok("... and as a table, in human units", tb.returncode == 0 and "edge-2" in tb.stdout and "2500m" in tb.stdout
   and "zone=a,rack=r1" in tb.stdout, tb.stdout + tb.stderr)
d = cli("node", "describe", "edge-1", "--db", DB, "-o", "json")
dj = json.loads(d.stdout) if d.returncode == 0 else {}
with open(os.path.join(T, "node.json"), "w") as f:
    f.write(d.stdout)
sch = subprocess.run(["python3", os.path.join(SRC, "tests/json_check.py"),
                      os.path.join(SRC, "docs/schema/ahead.schema.json"), "node", os.path.join(T, "node.json")],
                     capture_output=True, text=True)
ok("node describe: one node, in the documented shape", dj.get("name") == "edge-1" and sch.returncode == 0,
   d.stdout + d.stderr + sch.stdout)

# cordon: kept in the record, across the node's restart
r = cli("node", "cordon", "edge-2", "--db", DB)
ok("cordon edge-2", r.returncode == 0 and "cordoned" in r.stdout, r.stdout + r.stderr)
ns, _ = nodes()
ok("... it shows cordoned and still up", (ns or {}).get("edge-2", {}).get("cordoned") is True
   and ns["edge-2"]["up"], ns)
n2.stop()
n2 = node(1, "edge-2", ["--node-labels", "zone=b", "--node-capacity", "cpu=2500m,memory=4Gi"]).start()
ns, _ = nodes()
ok("... and stays cordoned after its daemon restarts", (ns or {}).get("edge-2", {}).get("cordoned") is True, ns)
r = cli("node", "uncordon", "edge-2", "--db", DB)
ns, _ = nodes()
ok("uncordon clears it", r.returncode == 0 and (ns or {}).get("edge-2", {}).get("cordoned") is False, ns)
r = cli("node", "cordon", "edge-9", "--db", DB)
ok("cordon of an unknown node: exit 5, named", r.returncode == 5 and "edge-9" in r.stderr, r.stderr)

# a node killed: down within its lease TTL, its record kept; back when restarted
t0 = time.monotonic()
n3.proc.kill()
n3.proc.wait()
down = until(lambda: (lambda m: m is not None and not m.get("edge-3", {}).get("up", True))(nodes()[0]), 20, 0.5)
dt = time.monotonic() - t0
print("edge-3 down %.1f s after its SIGKILL (lease TTL 10 s)" % dt)
ok("a node killed with SIGKILL is down within its lease TTL (10 s, +2 s to poll)", down and dt <= 12, dt)
ns, _ = nodes()
ok("... its record stays (capacity, labels)", (ns or {}).get("edge-3", {}).get("labels") == {"zone": "a"}
   and ns["edge-3"]["instance"] is None, ns)
d = cli("node", "describe", "edge-3", "--db", DB)
ok("... describe says nobody serves it", d.returncode == 0 and "nobody" in d.stdout, d.stdout + d.stderr)
n3 = node(2, "edge-3", ["--node-labels", "zone=a"]).start()
ns, _ = nodes()
ok("restarted, it is up again", (ns or {}).get("edge-3", {}).get("up") is True, ns)

# refusals
dup = subprocess.run([A, "serve", "--policy", os.path.join(T, "policy.ini"), "--join", DB, "--node-name", "edge-1",
                      "--listen", "127.0.0.1:0", "--shadow-db", os.path.join(T, "dup.db")],
                     capture_output=True, text=True, timeout=60)
ok("a second daemon claiming live node edge-1 is refused, naming who serves it",
   dup.returncode != 0 and "edge-1" in dup.stderr and "live lease" in dup.stderr, dup.stderr[-600:])


def refused(args, want):
    r = subprocess.run([A, "serve", "--policy", os.path.join(T, "policy.ini"), "--listen", "127.0.0.1:0",
                        "--shadow-db", os.path.join(T, "bad.db")] + args, capture_output=True, text=True, timeout=60)
    ok("refused: %s" % " ".join(args)[-70:], r.returncode == 2 and want in r.stderr, r.stderr[-400:])


refused(["--join", DB, "--node-name", "edge-x", "--node-labels", "Zone=a"], "--node-labels")
refused(["--join", DB, "--node-name", "edge-x", "--node-capacity", "cpu=lots"], "--node-capacity")
refused(["--join", DB, "--node-name", "Edge_X!"], "--node-name")
refused(["--node-name", "edge-x", "--db", DB], "need --join")
refused(["--join", os.path.join(T, "local.db")], "etcd")
for n in (n1, n2, n3):
    n.stop()
C.finish()
PY
