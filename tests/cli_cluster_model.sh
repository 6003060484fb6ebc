#!/usr/bin/env bash
# One prediction across instances (docs/CLUSTER.md "One prediction"): one
# etcd member (loopback ports 23880/23881, started and stopped here;
# skipped without etcd) and two `ahead serve` on one ledger, each with its
# own usage history (--shadow-db). A learns a workload from its runs (its
# records: params → observed peak); B has never seen it:
#   - a request of that workload that states no resources is sized the same
#     on A and on B, for each of three parameter values, from the state A
#     published at PREFIX/model/etl (checked in etcd: bounded, the records);
#   - B's own runs of the workload are merged into the publication, not
#     written over A's: afterwards it holds the records of both;
#   - a workload nobody knows is still refused with the no-history message.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
trap 'kill $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; rm -rf "$T"' EXIT
etcd_start 1 23880 "$T/etcd" || { echo "FAIL etcd did not start"; exit 1; }
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
python3 -u - "$A" "$T" "$ETCD_EP" "$ETCD_URLS" "$ETCDCTL_BIN" <<'PY'
import json, os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.environ.get("AHEAD_SRC", "."), "tests"))
from cluster_lib import Checks, Serve, req as req_  # noqa: E402

A, T, EP, URLS, ETCDCTL = sys.argv[1:6]
PFX = "/model"
DB = "etcd://%s%s" % (EP, PFX)
C = Checks()
ok = C.ok
subprocess.run([A, "policy", "apply", os.path.join(T, "policy.ini"), "--db", DB], check=True, capture_output=True,
               timeout=60)


def serve(i):
    return Serve(A, T, i, ["--policy", os.path.join(T, "policy.ini"), "--db", DB,
                           "--shadow-db", os.path.join(T, "shadow%d.db" % i)])


a = serve(0).start(token_file=os.path.join(T, "token"))
TOKEN = open(os.path.join(T, "token")).read().strip()
b = serve(1).start()


def req(inst, method, path, body=None):
    return req_(inst.port, TOKEN, method, path, body)


def run(inst, rows, peak_mi):
    """One run of workload etl: stated resources, one usage report, released."""
    st, j = req(inst, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "workload": "etl",
                                                   "params": {"rows": str(rows)},
                                                   "resources": {"cpu": "1", "memory": "8Gi"}})
    if st != 201:
        return ok("run on %d" % inst.i, False, (st, j))
    aid = j["id"]
    st, j = req(inst, "POST", "/v1/allocations/%d/usage" % aid,
                {"usage": {"memory": "%dMi" % peak_mi, "cpu": "500m"}})
    ok("usage report", st == 200, (st, j))
    st, j = req(inst, "DELETE", "/v1/allocations/%d" % aid)
    ok("release", st == 200, (st, j))


def sized(inst, rows):
    st, j = req(inst, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "workload": "etl",
                                                   "params": {"rows": str(rows)}})
    if st != 201:
        return None, (st, j)
    req(inst, "DELETE", "/v1/allocations/%d" % j["id"])
    return j.get("resources"), j


def runs(pub):
    """The published records that carry an observed memory peak (the runs)."""
    return [r for r in pub.get("rec", []) if (r.get("d", {}).get("memory") or [0])[0] > 0]


def published():
    out = subprocess.run([ETCDCTL, "--endpoints", URLS, "get", PFX + "/model/etl", "--print-value-only"],
                         env=dict(os.environ, ETCDCTL_API="3"), capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


# A learns etl: memory grows with rows
for i, rows in enumerate([100, 200, 400, 800, 1600, 100, 200, 400]):
    run(a, rows, 200 + rows)
time.sleep(1.2)  # an instance merges its history into the publication at most once a second

st, j = req(b, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "workload": "unknown-wl"})
ok("a workload nobody knows is refused with the no-history message",
   st in (400, 422) and "no history" in json.dumps(j), (st, j))

mem = {}
for rows in (150, 800, 3000):
    ra, ja = sized(a, rows)
    mem[rows] = (ra or {}).get("memory", 0)
    rb, jb = sized(b, rows)
    ok("rows=%d: A sizes it from history" % rows, ra is not None, ja)
    print("rows=%d: A %s, B %s" % (rows, ra, rb))
    ok("rows=%d: B, which never saw etl, sizes it the same as A (%s vs %s)" % (rows, ra, rb),
       ra is not None and ra == rb, (ja, jb))

ok("the size follows the parameter (memory grows with rows)", 0 < mem[150] < mem[800] < mem[3000], mem)

text = published()
pub = json.loads(text) if text else {}
ok("the state is published in etcd, bounded", 0 < len(text) <= 256 * 1024 and pub.get("v") == 1, len(text))
n_a = len(runs(pub))
ok("... with A's ended records (8 runs)", n_a == 8, pub.get("rec"))

# B's own runs are merged into the publication, not written over A's
for rows in (300, 600):
    run(b, rows, 200 + rows)
time.sleep(1.2)
sized(b, 100)  # B merges what it knows into the publication
pub = json.loads(published() or "{}")
ok("B's runs merged into the publication: the records of both",
   len(runs(pub)) == 10, pub.get("rec"))
ra, ja = sized(a, 500)
rb, jb = sized(b, 500)
ok("... and both still size alike (%s vs %s)" % (ra, rb), ra is not None and ra == rb, (ja, jb))

a.stop()
b.stop()
C.finish()
PY
