#!/usr/bin/env bash
# bench/run cluster [SECONDS] [CLIENTS]: three `ahead serve` instances on one
# 3-member etcd cluster, all on this machine (loopback ports 23840-23845 for
# etcd), under allocate+release pairs from CLIENTS (default 48) client
# threads spread over the instances, each request with an Idempotency-Key
# and sent again (to another instance) on 503 or a lost connection.
#   1. SECONDS (default 10) of pairs: pairs/s, p50 and p99 of a pair; then
#      (1w) the same pairs from wrk, one process per instance (-t1 -c128, or
#      $AHEAD_BENCH_WRK_CONNS, bench/api/pair.lua with an Idempotency-Key per
#      allocation), $AHEAD_BENCH_WRK_RUNS (default 5) runs of SECONDS: the
#      headline is their median (the spread printed beside it), since the
#      Python threads are themselves a ceiling (see 3);
#   2. the same load with kill -9 of one etcd member and one instance after
#      a third of it; then the check, from etcd's own data (etcdctl):
#      lost       acknowledged, unreleased allocations not in etcd
#      duplicated idempotency keys owning more than one allocation, and
#                 allocations no key owns (a request decided twice)
#      overcommit the pool's live use in etcd above its capacity (milli-cpu)
#   3. the reference, in the same run: the Python load against ONE instance
#      on SQLite (durability process): what that client reaches here.
# Ends with: cluster_pairs_per_s_python=N cluster_p99_ms_python=N
# cluster_ref_sqlite_pairs_per_s_python=N, then cluster_pairs_per_s=N
# cluster_p99_ms=N (wrk's: per request, the worst instance's; the Python
# figures when wrk is absent) cluster_lost=N cluster_duplicated=N
# cluster_overcommit=N
# The instances run with serve's defaults (no batch window: what arrived
# during a commit is the next batch) plus $AHEAD_BENCH_SERVE_ARGS, with
# --max-conns-per-ip 4096 (every client and forwarder is on 127.0.0.1 here)
# and, unless $AHEAD_BENCH_ONE_WRITER=0, each with --advertise (one writer,
# the others forward: docs/CLUSTER.md "One writer"). Run 1w also prints
# each process's CPU (etcd members, instances, wrk) as a share of one core
# and its own etcd profile (txns, their time, answers per commit). $AHEAD_BENCH_KEEP=1 keeps the
# temporary directory (logs, etcd data); $AHEAD_BENCH_DEBUG=1 prints the first
# answers that made a client resend. Before the end lines it prints where the
# time goes (etcd calls by kind, commits refused by the compare, reloads),
# from the instances' counters ($AHEAD_ETCD_PROFILE).
# $AHEAD_BENCH_EP_ROTATE=1 names etcd member 1 first in every instance's
# --db (member 0 last): which member carries the JSON gateway's work.
# On a shared machine the throughput says little; run it alone.
set -euo pipefail
SECS=${1:-10}
CLIENTS=${2:-48}
BIN=${AHEAD_BIN:?run through bench/run}
SRC=${AHEAD_SRC:-$PWD}
T=$(mktemp -d)
pass=0 fail=0
. "$SRC/tests/etcd_lib.sh"
etcd_need
trap 'kill $(cat "$T"/pids 2>/dev/null) 2>/dev/null || true; etcd_stop; [ -n "${AHEAD_BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT
etcd_start 3 23840 "$T/etcd" || { echo "bench cluster: etcd did not start"; exit 1; }
cat >"$T/policy.ini" <<'INI'
[ahead]
lease_ttl = 1h
queue_timeout = 0
[pool p]
capacity = cpu=1000, memory=1Ti
[class c]
priority = 1
[tenant t]
INI
set +e
DB_EP=$ETCD_EP
[ -n "${AHEAD_BENCH_EP_ROTATE:-}" ] && DB_EP=$(echo "$ETCD_EP" | awk -F, '{print $2","$3","$1}')
AHEAD_ETCD_PIDS="${ETCD_PIDS[*]}" python3 -u - "$BIN" "$T" "etcd://$DB_EP/bench" "$ETCD_URLS" "$ETCDCTL_BIN" "${ETCD_PIDS[0]}" "$SECS" "$CLIENTS" <<'PY'
import http.client, json, os, re, resource, signal, socket, subprocess, sys, threading, time

A, T, DB, URLS, ETCDCTL, ETCD0, SECS, CLIENTS = sys.argv[1:9]
SECS, CLIENTS, CAP = float(SECS), int(CLIENTS), 1000 * 1000
WRK_CONNS = int(os.environ.get("AHEAD_BENCH_WRK_CONNS", "128"))  # per instance
WRK_RUNS = max(1, int(os.environ.get("AHEAD_BENCH_WRK_RUNS", "5")))
lock = threading.Lock()


def req(port, method, path, body=None, key=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Authorization": "Bearer " + TOKEN} if TOKEN else {}
    if key:
        h["Idempotency-Key"] = key
    try:
        c.request(method, path, json.dumps(body) if body is not None else None, h)
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        c.close()


class Inst:
    def __init__(self, i):
        self.i = i

    def start(self, first=False):
        err = os.path.join(T, "serve%d.err" % self.i)
        off = os.path.getsize(err) if os.path.exists(err) else 0
        self.port = getattr(self, "port", None) or free_port()
        args = [A, "serve", "--policy", os.path.join(T, "policy.ini"), "--db", DB, "--listen",
                "127.0.0.1:%d" % self.port, "--log-level", "warn", "--shadow-db",
                os.path.join(T, "shadow%d.db" % self.i)]
        # every client is on 127.0.0.1 here, the forwarders' connections too
        args += ["--max-conns-per-ip", "4096"]
        args += os.environ.get("AHEAD_BENCH_SERVE_ARGS", "").split()
        if os.environ.get("AHEAD_BENCH_ONE_WRITER", "1") != "0":  # docs/CLUSTER.md "One writer"
            args += ["--advertise", "http://127.0.0.1:%d" % self.port]
        if first:
            args += ["--admin-token-file", os.path.join(T, "token")]
        os.makedirs(os.path.join(T, "prof"), exist_ok=True)
        self.proc = subprocess.Popen(args, env=dict(os.environ, AHEAD_ETCD_PROFILE=os.path.join(T, "prof")),
                                     stdout=open(os.path.join(T, "serve%d.out" % self.i), "ab"),
                                     stderr=open(err, "ab"))
        with open(os.path.join(T, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                req(self.port, "GET", "/healthz")
                return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit("bench cluster: instance %d did not start: %s" % (self.i, open(err).read()[-2000:]))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


TOKEN = None
insts = [Inst(0).start(first=True)]
TOKEN = open(os.path.join(T, "token")).read().strip()
insts += [Inst(1).start(), Inst(2).start()]
stats = {"retries": 0, "gave_up": 0}


def call(home, method, path, body=None, key=None):
    for attempt in range(150):
        live = [x for x in insts if x.proc.poll() is None] or insts
        inst = live[(home + attempt) % len(live)]
        try:
            st, j = req(inst.port, method, path, body, key)
            if st in (200, 201, 404, 409):
                return st, j
            if os.environ.get("AHEAD_BENCH_DEBUG") and stats["retries"] < 3:
                print("answer %s: %s" % (st, j))
        except OSError:
            pass
        with lock:
            stats["retries"] += 1
        time.sleep(0.05)
    with lock:
        stats["gave_up"] += 1
    return None, None


BODY = {"tenant": "t", "pool": "p", "resources": {"cpu": "1"}}


def load(tag, secs, on_third=None):
    stop = threading.Event()
    lat, acked, released = [], {}, set()
    seq = iter(range(10 ** 9))

    def worker(w):
        while not stop.is_set():
            with lock:
                k = "%s%d" % (tag, next(seq))
            t0 = time.monotonic()
            st, j = call(w, "POST", "/v1/allocations", BODY, key=k)
            if st is None:
                continue
            with lock:
                acked[k] = (st, j.get("id") if st == 201 else None)
            if st == 201:
                st2, _ = call(w + 1, "DELETE", "/v1/allocations/%d" % j["id"])
                if st2 in (200, 404):
                    with lock:
                        released.add(k)
                        lat.append(time.monotonic() - t0)

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(CLIENTS)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    if on_third:
        time.sleep(secs / 3)
        on_third()
        time.sleep(secs - secs / 3)
    else:
        time.sleep(secs)
    stop.set()
    for t in ts:
        t.join()
    return time.monotonic() - t0, lat, acked, released


def etcd_get(prefix):
    out = subprocess.run([ETCDCTL, "--endpoints", URLS, "--command-timeout", "20s", "get", "--prefix", prefix],
                         env=dict(os.environ, ETCDCTL_API="3"), capture_output=True, text=True, timeout=120)
    lines = out.stdout.split("\n")
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] * 1000 if v else 0


def prof():
    tot = {}
    d = os.path.join(T, "prof")
    for f in os.listdir(d):
        if f.endswith(".tmp"):
            continue
        for kv in open(os.path.join(d, f)).read().split():
            k, v = kv.split("=")
            tot[k] = tot.get(k, 0) + int(v)
    return tot


time.sleep(1.2)
p0 = prof()
secs, lat, acked, _ = load("a", SECS)
time.sleep(1.2)  # the instances rewrite their counters each second
p1 = prof()
P = {k: p1.get(k, 0) - p0.get(k, 0) for k in p1}
pairs_per_s = len(lat) / secs
p50, p99 = pct(lat, 0.50), pct(lat, 0.99)
print("run 1: %d pairs in %.1f s by %d clients on 3 instances: %.0f pairs/s, p50 %.1f ms, p99 %.1f ms, %d resent"
      % (len(lat), secs, CLIENTS, pairs_per_s, p50, p99, stats["retries"]))


# run 1w: the same pairs from wrk (C, one process per instance, -t1 -c64 by default,
# bench/api/pair.lua with an Idempotency-Key per allocation): a client that
# is not the bottleneck the Python threads are (see the reference below).
def proc_cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def writer_url():
    r = subprocess.run([ETCDCTL, "--endpoints", URLS, "get", "/bench/writer", "--print-value-only"],
                       capture_output=True, text=True)
    return r.stdout.strip()


def cpu_now():
    """CPU seconds so far of each etcd member and each instance (the
    writer marked), for where the time goes."""
    w = writer_url()
    out = {}
    for p in os.environ.get("AHEAD_ETCD_PIDS", "").split():
        out[("etcd", int(p), False)] = proc_cpu_s(int(p))
    for x in insts:
        out[("ahead", x.i)] = proc_cpu_s(x.proc.pid)
        if w.endswith(":%d" % x.port):
            out["writer"] = x.i
    return out


def wrk_run(tag, secs):
    lua = os.path.join(os.environ.get("AHEAD_SRC", "."), "bench/api/pair.lua")
    procs = []
    for x in insts:
        env = dict(os.environ, AHEAD_TOKEN=TOKEN, AHEAD_IDEM_PREFIX="%s%d" % (tag, x.i),
                   # a short lease: what a run leaves live when wrk stops (up to one
                   # allocation per connection) expires before it fills the pool
                   AHEAD_BODY=json.dumps(dict(BODY, lease="20s")))
        procs.append(subprocess.Popen(["wrk", "-t1", "-c%d" % WRK_CONNS, "-d%ds" % secs, "--latency", "-s", lua,
                                       "http://127.0.0.1:%d" % x.port], env=env, stdout=subprocess.PIPE, text=True))
    q0 = prof()
    cpu0, t0, ru0 = cpu_now(), time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    outs = [p.communicate(timeout=secs + 60)[0] for p in procs]
    cpu1, t1, ru1 = cpu_now(), time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(1.2)  # the instances rewrite their counters each second
    q1 = prof()
    Q = {k: q1.get(k, 0) - q0.get(k, 0) for k in q1}
    wall = t1 - t0
    share = lambda a, b: 100.0 * (b - a) / wall
    parts = ["etcd m%d %.0f%%" % (i, share(cpu0[k], cpu1[k])) for i, k in enumerate(cpu0) if k[0] == "etcd"]
    wr = {cpu0.get("writer"), cpu1.get("writer")} - {None}  # two: the writer changed during the run
    parts += ["ahead %d%s %.0f%%" % (k[1], " (writer)" if k[1] in wr else "", share(cpu0[k], cpu1.get(k, cpu0[k])))
              for k in cpu0 if k != "writer" and k[0] == "ahead"]
    parts.append("wrk %.0f%%" % share(ru0.ru_utime + ru0.ru_stime, ru1.ru_utime + ru1.ru_stime))
    print("cpu during run 1%s (percent of one core; the machine has %d): %s" % (tag, os.cpu_count(), ", ".join(parts)))
    rel = err = 0
    lats = []
    for o in outs:
        m = re.search(r"lua: posts=(\d+) releases=(\d+) errors=(\d+)", o)
        if m:
            rel += int(m.group(2))
            err += int(m.group(3))
        for q in ("50", "99"):
            m = re.search(r"\s%s(?:\.000)?%%\s+([0-9.]+)(us|ms|s)" % q, o)
            if m:
                v = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
                lats.append((q, v))
    print("run 1%s: per instance, p50 %s ms, p99 %s ms" % (
        tag, "/".join("%.1f" % v for q, v in lats if q == "50"), "/".join("%.1f" % v for q, v in lats if q == "99")))
    qc = max(Q.get("commits", 0), 1)
    print("time (run 1%s): %d txns (%.1f ms each, %d refused), %d commits, %.0f answers per commit; %d ranges "
          "(%.1f ms each), %d reloads (%d from the watch's mirror)" % (
              tag, Q.get("txn", 0), Q.get("txn_ms", 0) / max(Q.get("txn", 0), 1), Q.get("refused", 0),
              Q.get("commits", 0), 2 * rel / qc, Q.get("range", 0), Q.get("range_ms", 0) / max(Q.get("range", 0), 1),
              Q.get("loads", 0), Q.get("mirror_loads", 0)))
    p50w = max([v for q, v in lats if q == "50"] or [0])
    p99w = max([v for q, v in lats if q == "99"] or [0])
    return rel / secs, p50w, p99w, err


have_wrk = subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode == 0
if have_wrk:
    # the headline is an absolute figure: the median of WRK_RUNS runs, with the spread
    runs = []
    for r in range(WRK_RUNS):
        tag = "w%d" % (r + 1)
        pr, p50r, p99r, errr = wrk_run(tag, int(SECS))
        print("run 1%s: wrk, 3 x %d connections: %.0f pairs/s, per request p50 %.1f ms, p99 %.1f ms "
              "(the worst instance's), %d answers not 200/201 (retried by the next request)"
              % (tag, WRK_CONNS, pr, p50r, p99r, errr))
        runs.append((pr, p99r))
    med = lambda v: sorted(v)[len(v) // 2]
    wrk_pairs, wrk_p99 = med([r[0] for r in runs]), med([r[1] for r in runs])
    print("run 1w: %d runs of %s s, 3 x %d connections: %.0f pairs/s median (%.0f-%.0f), p99 %.1f ms median "
          "(%.1f-%.1f)" % (WRK_RUNS, SECS, WRK_CONNS, wrk_pairs, min(r[0] for r in runs), max(r[0] for r in runs),
                          wrk_p99, min(r[1] for r in runs), max(r[1] for r in runs)))
else:
    wrk_pairs = wrk_p99 = None
    print("run 1w: skipped (no wrk; apt-get install wrk)")


def kill():
    os.kill(int(ETCD0), signal.SIGKILL)
    insts[2].proc.kill()
    insts[2].proc.wait()
    print("run 2: killed etcd member 0 and instance 2")


secs, lat2, acked, released = load("b", SECS, kill)
allocs = {}
for k, v in etcd_get("/bench/s/a/"):
    row = json.loads(v)
    m = re.search(r"cpu=([0-9.]+)(m?)", row["r"])
    allocs[row["id"]] = (int(m.group(1)) if m.group(2) else int(float(m.group(1)) * 1000)) if m else 0
# Every run's keys (not only run 2's): wrk's run leaves up to one live
# allocation per connection when it stops, owned by its "w" keys, which an
# owner map of run 2's keys alone counted as allocations no key owns.
owners = {}
for k, v in etcd_get("/bench/idem/"):
    row = json.loads(v)
    if row["st"] in (201, 202):  # granted, or queued and granted later
        owners.setdefault(json.loads(row["b"])["id"], []).append(k)
live = {v[1] for k, v in acked.items() if v[0] == 201 and k not in released}
lost = len(live - set(allocs))
dup = sum(len(v) - 1 for v in owners.values()) + len(set(allocs) - set(owners))
over = max(0, sum(allocs.values()) - CAP)
print("run 2: %d pairs, %d acknowledged allocations left live, %d in etcd, %d resent, %d given up"
      % (len(lat2), len(live), len(allocs), stats["retries"], stats["gave_up"]))
# The reference, in the same run: the same client load against ONE
# `ahead serve` on the embedded SQLite ledger (durability = process). Its
# pairs/s is what this client and machine reach without etcd or a second
# instance: the ceiling a cluster figure is measured against.
for x in insts:
    if x.proc.poll() is None:
        x.proc.terminate()
        x.proc.wait()
ref = Inst(9)
ref_db, DB = DB, os.path.join(T, "ref.db")
os.replace(os.path.join(T, "token"), os.path.join(T, "token.etcd"))
ref.start(first=True)
TOKEN = open(os.path.join(T, "token")).read().strip()
insts[:] = [ref]
secs_r, lat_r, _, _ = load("r", SECS)
ref.proc.terminate()
ref.proc.wait()
DB = ref_db
ref_pairs = len(lat_r) / secs_r
print("reference: the same %d clients on ONE instance on SQLite (durability process): %.0f pairs/s, p99 %.1f ms"
      % (CLIENTS, ref_pairs, pct(lat_r, 0.99)))
c = max(P.get("commits", 0), 1)
wall = secs * 3 * 1000
print("time (run 1, summed over the 3 instances, %.0f instance-ms of wall time):" % wall)
print("  txn    %6d calls %7d ms (%.1f ms each): commits, %d refused by the compare (%.0f%%), %.1f ops each"
      % (P.get("txn", 0), P.get("txn_ms", 0), P.get("txn_ms", 0) / max(P.get("txn", 0), 1), P.get("refused", 0),
         100.0 * P.get("refused", 0) / c, P.get("ops", 0) / c))
print("  range  %6d calls %7d ms (%.1f ms each): %d begins, %d without a head read, %d found head moved; "
      "%d reloads (%d ms), %d of them from a refused txn's answer and %d from the watch's mirror (no range of their own)"
      % (P.get("range", 0), P.get("range_ms", 0), P.get("range_ms", 0) / max(P.get("range", 0), 1),
         P.get("begins", 0), P.get("opt_begins", 0), P.get("stale_begins", 0), P.get("loads", 0),
         P.get("load_ms", 0), P.get("snap_loads", 0), P.get("mirror_loads", 0)))
print("  lease  %6d calls %7d ms; put %d calls %d ms"
      % (P.get("lease", 0), P.get("lease_ms", 0), P.get("put", 0), P.get("put_ms", 0)))
print("  pairs per commit: %.2f; etcd calls per pair: %.1f"
      % (len(lat) / c, (P.get("txn", 0) + P.get("range", 0)) / max(len(lat), 1)))
print("cluster_pairs_per_s_python=%d cluster_p99_ms_python=%d cluster_ref_sqlite_pairs_per_s_python=%d"
      % (pairs_per_s, p99, ref_pairs))
if wrk_pairs is not None:  # the headline: the client that is not the bottleneck
    pairs_per_s, p99 = wrk_pairs, wrk_p99
print("cluster_pairs_per_s=%d cluster_p99_ms=%d cluster_lost=%d cluster_duplicated=%d cluster_overcommit=%d"
      % (pairs_per_s, p99, lost, dup, over))
sys.exit(0 if lost == 0 and dup == 0 and over == 0 and stats["gave_up"] == 0 else 1)
PY
