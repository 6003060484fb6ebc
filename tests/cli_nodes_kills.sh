#!/usr/bin/env bash
# A node's kills in its observed record (docs/PLACEMENT.md, failure-aware
# placement): one etcd member (loopback ports 23950/23951, started and
# stopped here; skipped without etcd) and two `ahead serve --join` (edge-1,
# edge-2, 4 cores each) enforcing on one fake cgroup v2 tree (the test plays
# the kernel), each under PARENT/NODE. A batch allocation lands on one;
# the test writes an OOM kill into its cgroup's memory.events; edge-1's
# daemon sees it, publishes it on its instance key, and `ahead node ls`
# shows kills = 2 for it. A batch request still goes by best fit (to the
# tighter node, that one); then a request of a class with priority 100 goes
# to the other node (no kills), where best fit alone would pick the first.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
trap 'kill -9 $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; rm -rf "$T"' EXIT
etcd_start 1 23950 "$T/etcd" || { echo "FAIL etcd did not start"; exit 1; }
DB="etcd://$ETCD_EP/kills"
FX=$T/fx
CG=$FX/sys/fs/cgroup
mkdir -p "$FX/proc/self" "$CG/ahead"
echo "30 23 0:26 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw" >"$FX/proc/self/mountinfo"
printf 'cpu  100 0 100 1000 0 0 0 0 0 0\n' >"$FX/proc/stat"
printf 'MemTotal:       8388608 kB\nMemAvailable:   4194304 kB\n' >"$FX/proc/meminfo"
cat >"$T/policy.ini" <<INI
[ahead]
lease_ttl = 1h
queue_timeout = 10m
default_class = batch
report_interval = 1s
[pool edge]
nodes = *
[class batch]
priority = 1
[class critical]
priority = 100
[tenant t]
[linux]
interval = 200ms
host = no
max_cgroups = 0
proc_root = $FX/proc
cgroup_prefix = $FX
enforce_api = on
api_cgroup_parent = ahead
INI
python3 -u - "$A" "$T" "$DB" "$CG" <<'PY'
import json, os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.environ.get("AHEAD_SRC", "."), "tests"))
from cluster_lib import Checks, Serve, req, until  # noqa: E402

A, T, DB, CG = sys.argv[1:5]
C = Checks()
ok = C.ok
r = subprocess.run([A, "policy", "apply", os.path.join(T, "policy.ini"), "--db", DB], capture_output=True, text=True,
                   timeout=60)
ok("policy applied", r.returncode == 0, r.stderr)


def node(i, name):
    return Serve(A, T, i, ["--policy", os.path.join(T, "policy.ini"), "--join", DB, "--node-name", name,
                           "--node-capacity", "cpu=4,memory=8Gi", "--shadow-db", os.path.join(T, "shadow%d.db" % i)])


n1 = node(0, "edge-1").start(token_file=os.path.join(T, "token"))
n2 = node(1, "edge-2").start()
TOK = open(os.path.join(T, "token")).read().strip()


def call(method, path, body=None, key=None):
    try:
        return req(n1.port, TOK, method, path, body, key=key)
    except OSError:
        return None, None


def nodes():
    d = subprocess.run([A, "node", "ls", "--db", DB, "-o", "json"], capture_output=True, text=True, timeout=60)
    return {n["name"]: n for n in json.loads(d.stdout)["nodes"]} if d.returncode == 0 else {}


def pool_cpu():
    st, j = call("GET", "/v1/pools/edge")
    return j.get("dimensions", {}).get("cpu", {}).get("capacity") if st == 200 else None


ok("two nodes: 8 cores", until(lambda: pool_cpu() == 8000, 15, 0.2) is not None, pool_cpu())


def alloc(klass, cpu, key):
    st, j = call("POST", "/v1/allocations", {"tenant": "t", "pool": "edge", "class": klass,
                                             "resources": {"cpu": cpu, "memory": "1Gi"}}, key=key)
    return j or {}


a = alloc("batch", "1", "a")
ok("a batch allocation is granted", a.get("outcome") == "granted", a)
where = a.get("node")
cg = os.path.join(CG, "ahead", where or "none", "alloc-%d" % a.get("id", 0))
ok("its cgroup is made under its node's parent", until(lambda: os.path.isdir(cg), 10, 0.1) is not None, cg)
# the kernel: two OOM kills in it
with open(os.path.join(cg, "memory.current"), "w") as f:
    f.write("%d\n" % (64 << 20))
with open(os.path.join(cg, "memory.events"), "w") as f:
    f.write("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")


lease0 = call("GET", "/v1/allocations/%d" % a.get("id", 0))[1].get("lease_expires")


def sampled():
    st, j = call("GET", "/v1/allocations/%d" % a.get("id", 0))
    return st == 200 and j.get("lease_expires") != lease0  # a usage report renews the lease


# seen once at 0 (its usage reported, so sampled at least once), then the kills come
ok("the daemon samples the cgroup", until(sampled, 20, 0.2) is not None, call("GET", "/v1/allocations/%d" % a.get("id", 0)))
with open(os.path.join(cg, "memory.events"), "w") as f:
    f.write("low 0\nhigh 3\nmax 2\noom 2\noom_kill 2\n")
t = until(lambda: nodes().get(where, {}).get("kills") == 2, 15, 0.3)
ns = nodes()
ok("node ls shows the node's 2 kills (its daemon saw them)", t is not None, ns)
d = subprocess.run([A, "node", "describe", where or "-", "--db", DB], capture_output=True, text=True, timeout=60)
ok("node describe says it: 2 OOM kills", "0 failed cgroup writes, 2 OOM kills" in d.stdout, d.stdout + d.stderr)
other = [n for n in ns if n != where]
ok("the other node has none", other and ns[other[0]].get("kills") == 0, ns)
time.sleep(2)  # each daemon reads the node list each second
b = alloc("batch", "1", "b")
ok("a batch request goes by best fit (the tighter node, kills or not)", b.get("outcome") == "granted"
   and b.get("node") == where, (b, where))
c = alloc("critical", "1", "c")
ok("a priority-100 request goes to the node without kills, where best fit picks the other",
   c.get("outcome") == "granted" and other and c.get("node") == other[0], (c, where))
n1.stop()
n2.stop()
C.finish()
PY
