#!/usr/bin/env bash
# Shaping a pool on nodes through its scale hook (docs/SCALING.md "Pools
# on nodes"): one etcd member (loopback ports 23940/23941, started and
# stopped here; skipped without etcd) and two `ahead serve --join` posing
# as two 4-core nodes of pool `edge` (shaping = on, node_size = cpu=4,
# min_nodes = 2, max_nodes = 3, a shaping step every second). Three 3-core requests: two
# fit (one per node), the third waits. The elected shaper runs the hook as
# HOOK edge nodes 2 3; the hook (a script here) starts a third
# `ahead serve --join` as node edge-3; the pool's capacity grows only when
# edge-3 joins, the waiting request is then placed on it, the hook ran
# once, and the scale event says nodes 2 -> 3.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
trap 'kill -9 $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; rm -rf "$T"' EXIT
etcd_start 1 23940 "$T/etcd" || { echo "FAIL etcd did not start"; exit 1; }
DB="etcd://$ETCD_EP/shape"
# The hook: HOOK POOL nodes FROM TO [NODE]. Up: start the nodes FROM+1..TO
# (detached: the hook returns once they are launched; they join on their
# own). Down: stop the node named.
cat >"$T/hook.sh" <<SH
#!/usr/bin/env bash
echo "\$*" >>"$T/hook.log"
[ "\$2" = nodes ] || exit 2
if [ "\$4" -gt "\$3" ]; then
  for i in \$(seq \$((\$3 + 1)) "\$4"); do
    setsid "$A" serve --policy "$T/policy.ini" --join "$DB" --node-name edge-\$i --node-labels zone=a \\
      --node-capacity cpu=4,memory=8Gi --listen 127.0.0.1:0 --shadow-db "$T/shadow\$i.db" --scale-every 1s \\
      </dev/null >"$T/node\$i.out" 2>"$T/node\$i.err" &
    echo \$! >>"$T/pids"
    echo \$! >"$T/pid-edge-\$i"
  done
else
  kill "\$(cat "$T/pid-\$5")"
fi
exit 0
SH
chmod +x "$T/hook.sh"
cat >"$T/policy.ini" <<INI
[ahead]
lease_ttl = 1h
queue_timeout = 10m
[pool edge]
nodes = *
shaping = on
node_size = cpu=4, memory=8Gi
min_nodes = 2
max_nodes = 3
capacity_cost = cpu=0.04, memory=0.01
scale_hook = $T/hook.sh
hook_timeout = 20s
[class c]
priority = 1
shortfall_cost = cpu=2, memory=0.25
[tenant t]
INI
python3 -u - "$A" "$T" "$DB" <<'PY'
import json, os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.environ.get("AHEAD_SRC", "."), "tests"))
from cluster_lib import Checks, Serve, req, until  # noqa: E402

A, T, DB = sys.argv[1:4]
C = Checks()
ok = C.ok
r = subprocess.run([A, "policy", "apply", os.path.join(T, "policy.ini"), "--db", DB], capture_output=True, text=True,
                   timeout=60)
ok("the policy of a shaped node pool applies", r.returncode == 0, r.stderr)


def node(i, name, every):
    return Serve(A, T, i, ["--policy", os.path.join(T, "policy.ini"), "--join", DB, "--node-name", name,
                           "--node-labels", "zone=a", "--node-capacity", "cpu=4,memory=8Gi", "--scale-every", every,
                           "--shadow-db", os.path.join(T, "shadow%d.db" % i)])


# edge-1 never shapes (--scale-every 0): the shaper is edge-2, which starts once edge-1 has joined,
# so no step sees one node alone (below min_nodes = 2 it would rightly ask for a second)
n1 = node(0, "edge-1", "0").start(token_file=os.path.join(T, "token"))
n2 = node(1, "edge-2", "1s").start()
TOK = open(os.path.join(T, "token")).read().strip()


def call(method, path, body=None, key=None):
    try:
        return req(n1.port, TOK, method, path, body, key=key)
    except OSError:
        return None, None


def pool_cpu():
    st, j = call("GET", "/v1/pools/edge")
    return j.get("dimensions", {}).get("cpu", {}).get("capacity") if st == 200 else None


def hook_lines():
    p = os.path.join(T, "hook.log")
    return open(p).read().split("\n")[:-1] if os.path.exists(p) else []


ok("two nodes: 8 cores", until(lambda: pool_cpu() == 8000, 15, 0.2) is not None, pool_cpu())
ids = []
for i in range(3):
    st, j = call("POST", "/v1/allocations", {"tenant": "t", "pool": "edge", "resources": {"cpu": "3"}}, key="k%d" % i)
    ids.append((st, (j or {}).get("outcome"), (j or {}).get("id")))
ok("3 x 3 cores on two 4-core nodes: two granted, one queued",
   [x[1] for x in ids] == ["granted", "granted", "queued"], ids)
t = until(lambda: len(hook_lines()) >= 1, 40, 0.2)
ok("the shaper runs the hook for a third node: 'edge nodes 2 3'", t is not None and hook_lines()[0] == "edge nodes 2 3",
   hook_lines())
joined = until(lambda: pool_cpu() == 12000, 40, 0.2)
ok("the capacity grows when edge-3 joins (12 cores)", joined is not None, pool_cpu())
qid = ids[2][2]


def placed():
    st, j = call("GET", "/v1/allocations/%d" % qid)
    return j if st == 200 and j.get("state") == "granted" else None


ok("the waiting request is placed on edge-3", until(lambda: placed() is not None, 15, 0.2) is not None
   and placed().get("node") == "edge-3", placed())
time.sleep(4)  # a few more shaping steps: the demand is met, nothing more is asked
ok("the hook ran once", len(hook_lines()) == 1, hook_lines())
ev = subprocess.run([A, "events", "--db", DB, "-o", "json"], capture_output=True, text=True, timeout=60)
scale = [e for e in (json.loads(ev.stdout) if ev.returncode == 0 else []) if e.get("kind") == "scale"]
ok("one scale event: nodes 2 -> 3, hook succeeded", len(scale) == 1 and "nodes 2 -> 3" in scale[0].get("detail", "")
   and "succeeded" in scale[0].get("detail", ""), (ev.stderr, scale))
n1.stop()
n2.stop()
C.finish()
PY
