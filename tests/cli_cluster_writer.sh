#!/usr/bin/env bash
# One writer (docs/CLUSTER.md "One writer"): one etcd member (loopback ports
# 23890/23891, started and stopped here; skipped without etcd) and two
# `ahead serve --advertise URL` on one ledger:
#   - exactly one holds PREFIX/writer, named by its URL (checked in etcd);
#   - an allocation asked of the other is forwarded: the writer decides it
#     (its log has the request, the forwarder's says it came from the
#     writer), the answer is the writer's, and a read of it on the
#     forwarder right after sees it (read-your-writes through one instance);
#   - the forwarder sends them in relays (one request carrying many); a
#     relay cut short is refused whole, a read or a bad token in one is
#     refused on its own, an allocation in one is decided;
#   - the writer's commits are the only ones: the forwarder commits no
#     allocation itself while the writer is up (its etcd profile);
#   - kill -9 of the writer: the forwarder decides itself at once (the
#     writer unreachable: nothing sent), then takes the writer's key once
#     the lease ends; the pool's use in etcd is what the live answers hold;
#   - a bad --advertise is refused, naming the option and the reason.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
trap 'kill $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; rm -rf "$T"' EXIT

check "bad --advertise: refused, naming the option and why" 2 "--advertise ftp://x:1: not an http:// or https:// URL" -- \
  "$A" serve --policy /dev/null --advertise ftp://x:1
check "bad --advertise: a space refused" 2 "a space" -- "$A" serve --policy /dev/null --advertise "http://h:1/a b"
check "bad --advertise: no port refused" 2 "no :PORT" -- "$A" serve --policy /dev/null --advertise "http://h"
[ "$fail" = 0 ] || die "the option's checks failed"

etcd_start 1 23890 "$T/etcd" || { echo "FAIL etcd did not start"; exit 1; }
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
python3 -u - "$A" "$T" "$ETCD_EP" "$ETCD_URLS" "$ETCDCTL_BIN" "$pass" <<'PY'
import os, socket, subprocess, sys, time

sys.path.insert(0, os.path.join(os.environ.get("AHEAD_SRC", "."), "tests"))
from cluster_lib import Checks, Serve, req as req_, until  # noqa: E402

A, T, EP, URLS, ETCDCTL = sys.argv[1:6]
PFX = "/writer-test"
DB = "etcd://%s%s" % (EP, PFX)
C = Checks()
ok = C.ok
subprocess.run([A, "policy", "apply", os.path.join(T, "policy.ini"), "--db", DB], check=True, capture_output=True,
               timeout=60)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def serve(i):
    port = free_port()
    prof = os.path.join(T, "prof%d" % i)
    os.makedirs(prof, exist_ok=True)
    return Serve(A, T, i, ["--policy", os.path.join(T, "policy.ini"), "--db", DB, "--log-level", "info",
                           "--shadow-db", os.path.join(T, "shadow%d.db" % i),
                           "--advertise", "http://127.0.0.1:%d" % port],
                 env={"AHEAD_ETCD_PROFILE": prof}, port=port)


def etcd_get(key):
    r = subprocess.run([ETCDCTL, "--endpoints", URLS, "get", PFX + "/" + key, "--print-value-only"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.strip()


a = serve(0).start(token_file=os.path.join(T, "token"))
TOKEN = open(os.path.join(T, "token")).read().strip()
b = serve(1).start()
insts = {"http://127.0.0.1:%d" % x.port: x for x in (a, b)}


def req(inst, method, path, body=None, key=None):
    return req_(inst.port, TOKEN, method, path, body, key)


ok("a writer is elected", until(lambda: etcd_get("writer") in insts, 15, 0.1) is not None, etcd_get("writer"))
w = insts[etcd_get("writer")]
f = b if w is a else a
time.sleep(1.5)  # both have stepped the election since: the forwarder knows who writes
print("writer: instance %d, forwarder: instance %d" % (w.i, f.i))
cs = subprocess.run([A, "cluster", "status", "--db", DB, "-o", "json"], capture_output=True, text=True, timeout=30)
try:
    csj = __import__("json").loads(cs.stdout)
except ValueError:
    csj = {}
ok("cluster status -o json names the writer by its URL", (csj.get("writer") or {}).get("url") == etcd_get("writer"),
   (cs.returncode, cs.stdout[-600:], cs.stderr[-300:]))
ct = subprocess.run([A, "cluster", "status", "--db", DB], capture_output=True, text=True, timeout=30)
ok("... and so does its table", ("writer: %s" % etcd_get("writer")) in ct.stdout, ct.stdout[-600:])


def commits(inst):
    """The instance's committed transactions, from its etcd profile."""
    time.sleep(1.1)  # rewritten each second
    d = os.path.join(T, "prof%d" % inst.i)
    for n in os.listdir(d):
        if n == "etcd.%d" % inst.proc.pid:
            txt = open(os.path.join(d, n)).read()
            for part in txt.split():
                if part.startswith("commits="):
                    return int(part.split("=")[1])
    return None


f_commits0 = commits(f)
live = {}
for n in range(5):
    st, j = req(f, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "resources": {"cpu": "1", "memory": "1Gi"}},
                key="k%d" % n)
    ok("allocation %d asked of the forwarder: 201" % n, st == 201, (st, j))
    if st != 201:
        continue
    live[j["id"]] = j
    st2, j2 = req(f, "GET", "/v1/allocations/%d" % j["id"])
    ok("... read back on the forwarder at once (read-your-writes)", st2 == 200 and j2.get("id") == j["id"], (st2, j2))
st, j = req(f, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "resources": {"cpu": "1", "memory": "1Gi"}},
            key="k0")
ok("a retried key through the forwarder: the same allocation", st in (200, 201) and j.get("id") in live, (st, j))
ok("the writer's log has the forwarded requests",
   w.log().count("msg=request method=POST path=\"/v1/allocations\" status=201") >= 5, w.log()[-1500:])
ok("the forwarder's log says the answers came from the writer", "who=(writer)" in f.log(), f.log()[-1500:])
f_commits1 = commits(f)
ok("the forwarder committed no allocation itself (%s -> %s commits)" % (f_commits0, f_commits1),
   f_commits0 is not None and f_commits1 is not None and f_commits1 - f_commits0 <= 1, (f_commits0, f_commits1))

ok("... in relays: the writer answered the forwarder's relay",
   'path="/v1/internal/relay" status=200' in w.log(), w.log()[-1500:])


def relay(inst, body):
    """POSTs a relay frame straight to inst: (status, body bytes)."""
    import urllib.error
    import urllib.request
    rq = urllib.request.Request("http://127.0.0.1:%d/v1/internal/relay" % inst.port, data=body, method="POST",
                                headers={"Content-Type": "application/x-ahead-relay"})
    try:
        with urllib.request.urlopen(rq, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def frame(items):
    out = b"AHEAD-RELAY 1 %d\n" % len(items)
    for method, path, auth, idem, body in items:
        f = [path.encode(), auth.encode() if auth else None, idem.encode() if idem else None,
             b"application/json", body]
        out += method.encode() + b" 0 " + b" ".join(b"-1" if x is None else b"%d" % len(x) for x in f) + b"\n"
        out += b"".join(x for x in f if x)
    return out


st, body = relay(w, b"AHEAD-RELAY 1 2\nPOST 0 3")
ok("a cut-short relay: 400 naming why, nothing decided", st == 400 and b"bad_relay" in body and b"relay" in body,
   (st, body[:300]))
one = b'{"tenant": "t", "pool": "p", "resources": {"cpu": "1", "memory": "1Gi"}}'
st, body = relay(w, frame([("POST", "/v1/allocations", "Bearer " + TOKEN, "relay-k", one),
                           ("GET", "/v1/pools/p", "Bearer " + TOKEN, None, b""),
                           ("POST", "/v1/allocations", "Bearer nope", "relay-k2", one)]))
def answers(body):
    """A relay's answer frame: [(status, body bytes)], by its lengths."""
    head, _, rest = body.partition(b"\n")
    out = []
    for _ in range(int(head.split()[2])):
        line, _, rest = rest.partition(b"\n")
        st_, _ra, n = (int(x) for x in line.split())
        out.append((st_, rest[:n]))
        rest = rest[n:]
    return out


try:
    an = answers(body) if st == 200 else []
except (ValueError, IndexError):
    an = []
ok("a relay's answer: one per request, in order", len(an) == 3, (st, body[:600]))
an += [(0, b"")] * 3
ok("... an allocation in it decided (201)", an[0][0] == 201 and b'"granted"' in an[0][1], an[0])
ok("... a read in it refused: a relay carries allocation writes only",
   an[1][0] == 400 and b"a relay carries allocation writes only" in an[1][1], an[1])
ok("... and a bad token in it refused on its own (401)", an[2][0] == 401, an[2])
if an[0][0] == 201:
    rid = __import__("json").loads(an[0][1])["id"]
    live[rid] = {"id": rid}

# a release through the forwarder
aid = sorted(live)[0]
st, j = req(f, "DELETE", "/v1/allocations/%d" % aid)
ok("a release through the forwarder", st == 200, (st, j))
live.pop(aid, None)

# the writer dies: the forwarder decides itself, then takes the key
w.proc.kill()
w.proc.wait()
t0 = time.monotonic()
st, j = req(f, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "resources": {"cpu": "1", "memory": "1Gi"}},
            key="after-kill")
ok("with the writer killed the forwarder answers itself (%.2f s)" % (time.monotonic() - t0), st == 201, (st, j))
if st == 201:
    live[j["id"]] = j
ok("... and says why in its log", "msg=writer_unreachable" in f.log(), f.log()[-1500:])
me = "http://127.0.0.1:%d" % f.port
took = until(lambda: etcd_get("writer") == me, 20, 0.2)
ok("the survivor takes the writer's key once the lease ends (%s s)" % took, took is not None, etcd_get("writer"))
st, j = req(f, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "resources": {"cpu": "1", "memory": "1Gi"}},
            key="as-writer")
ok("an allocation on the new writer", st == 201, (st, j))
if st == 201:
    live[j["id"]] = j

# the use in etcd is what the live answers hold
r = subprocess.run([ETCDCTL, "--endpoints", URLS, "get", "--prefix", PFX + "/s/a/", "--keys-only"],
                   capture_output=True, text=True, timeout=30)
ids = sorted(int(k.rsplit("/", 1)[1]) for k in r.stdout.split())
ok("etcd holds exactly the live allocations (%d)" % len(live), ids == sorted(live), (ids, sorted(live)))
st, j = req(f, "GET", "/v1/pools/p")
used = j.get("dimensions", {}).get("cpu", {}).get("used") if st == 200 else None
ok("the pool's use is theirs (%s millicores, %s allocations)" % (used, j.get("allocations")),
   used == 1000 * len(live) and j.get("allocations") == len(live), (st, j))
ok("the survivor stops cleanly (exit 0: under ASan, no leak)", f.stop() == 0, f.log()[-800:])
print("(and %d option checks before)" % int(sys.argv[6]))
C.finish()
PY
