#!/usr/bin/env bash
# Clock skew between instances changes no decision (docs/CLUSTER.md
# "Clocks"): one etcd member (loopback ports 23884/23885, started and
# stopped here; skipped without etcd or faketime) and two `ahead serve` on
# one ledger. B runs with its wall clock 4 s ahead (libfaketime, preloaded); A ticks
# only every 60 s, so B's ticks end the leases. With max_clock_skew = 5s an
# allocation granted on A with a 6 s lease is still held 5 s later (B's
# clock says 9 s) and ends between 6 and 6 + 5 s; with max_clock_skew = 0s
# the same clock makes B end it early, which is what the bound is for.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
etcd_need
# libfaketime preloaded into B itself (not the faketime wrapper, which
# would leave B behind when killed): its multi-threaded build, since the
# daemon runs a watch thread
FAKELIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
if [ -z "$FAKELIB" ]; then
  echo "SKIP: libfaketime not installed (Debian: apt-get install faketime)"
  exit 0
fi
trap 'kill $(cat "$T"/pids 2>/dev/null) 2>/dev/null; etcd_stop; rm -rf "$T"' EXIT
etcd_start 1 23884 "$T/etcd" || { echo "FAIL etcd did not start"; exit 1; }
for skew in 5s 0s; do
  cat >"$T/policy-$skew.ini" <<INI
[ahead]
lease_ttl = 1h
queue_timeout = 0
max_clock_skew = $skew
[pool p]
capacity = cpu=64, memory=256Gi
[class c]
priority = 1
[tenant t]
INI
done
python3 -u - "$A" "$T" "$ETCD_EP" "$FAKELIB" <<'PY'
import json, os, subprocess, sys, time

sys.path.insert(0, os.path.join(os.environ.get("AHEAD_SRC", "."), "tests"))
from cluster_lib import Checks, Serve, req as req_  # noqa: E402

A, T, EP, FAKELIB = sys.argv[1:5]
DB = "etcd://%s/skew" % EP
C = Checks()
ok = C.ok


def apply(skew):
    r = subprocess.run([A, "policy", "apply", os.path.join(T, "policy-%s.ini" % skew), "--db", DB],
                       capture_output=True, text=True, timeout=60)
    ok("policy with max_clock_skew = %s applied" % skew, r.returncode == 0, r.stderr)


apply("5s")


def serve(i, tick, fake=None):
    env = {}
    if fake:
        # libfaketime moves the wall clock only: intervals stay real. An
        # ASan build checks that its runtime is loaded first, and the
        # preload comes before it.
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = {"LD_PRELOAD": FAKELIB, "FAKETIME": fake, "DONT_FAKE_MONOTONIC": "1",
               "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}
    return Serve(A, T, i, ["--policy", os.path.join(T, "policy-5s.ini"), "--db", DB, "--tick", tick], env=env)


a = serve(0, "60s").start(token_file=os.path.join(T, "token"))
TOKEN = open(os.path.join(T, "token")).read().strip()
b = serve(1, "1s", fake="+4s").start()


def req(inst, method, path, body=None):
    return req_(inst.port, TOKEN, method, path, body)


# B's clock really is ahead: its answer's expiry against A's
st, ja = req(a, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "resources": {"cpu": "1"}, "lease": "1h"})
st2, jb = req(b, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "resources": {"cpu": "1"}, "lease": "1h"})


def t_of(j):
    s = j["lease_expires"].rstrip("Z")
    base, frac = (s.split(".") + ["0"])[:2]
    return time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float("0." + frac)


ok("B's clock is about 4 s ahead of A's", st == 201 and st2 == 201 and 3.0 < t_of(jb) - t_of(ja) < 5.5,
   (ja, jb))


def held_for(secs_lease):
    """Grants on A with a lease of secs_lease; how long A's view holds it."""
    st, j = req(a, "POST", "/v1/allocations", {"tenant": "t", "pool": "p", "resources": {"cpu": "1"},
                                                "lease": "%ds" % secs_lease})
    if st != 201:
        return None
    aid, t0 = j["id"], time.monotonic()
    while time.monotonic() - t0 < secs_lease + 12:
        st, _ = req(a, "GET", "/v1/allocations/%d" % aid)
        if st == 404:
            return time.monotonic() - t0
        time.sleep(0.1)
    return float("inf")


held = held_for(6)
ok("max_clock_skew 5s: the 6 s lease is not ended early by the fast clock (held %.1f s)" % (held or -1),
   held is not None and held >= 6.0, held)
ok("... and it ends within the bound (by 6 + 5 s, and a tick)", held is not None and held <= 12.5, held)
ev = subprocess.run([A, "events", "--db", DB, "-o", "json"], capture_output=True, text=True, timeout=60)
ok("... as a lease expiry event", ev.returncode == 0 and "lease expired" in ev.stdout, ev.stderr[-300:])

apply("0s")
time.sleep(1.5)  # both instances take the new policy (its generation) at their next call
req(b, "GET", "/v1/pools")
req(a, "GET", "/v1/pools")
held0 = held_for(6)
ok("max_clock_skew 0s: the fast clock ends the same lease early (held %.1f s < 6 s)" % (held0 or -1),
   held0 is not None and held0 < 5.0, held0)

a.stop()
b.stop()
print("held: %.1f s at max_clock_skew 5s, %.1f s at 0s" % (held or -1, held0 or -1))
C.finish()
PY
