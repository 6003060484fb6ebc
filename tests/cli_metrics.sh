#!/usr/bin/env bash
# GET /metrics and the telemetry routes of a live daemon under load
# (docs/METRICS.md, docs/API.md): `promtool check metrics` passes on what it
# serves; capacity and allocated per pool equal GET /v1/pools; the decision
# counters equal the answers the test got, by outcome and reason; the
# latency histogram counts every request made; queue waits are observed
# (a grant after a release, a timeout); GET /v1/pools/{name}/history has a
# sample every --sample-every, used = the sum of the usage reported, and a
# forecast after 12 samples; GET /v1/workloads and a workload's forecast
# read an imported history; the shipped alert rules pass `promtool check
# rules` and `promtool test rules`. Without promtool (Debian package
# prometheus) its checks are skipped with a message; the rest runs.
set -u
. "$(dirname "$0")/lib.sh"

# a workload with 100 points at 5 minutes (a daily-ish wave), for the
# workload routes: imported before the daemon starts
python3 - "$T/w.csv" <<'PY'
import math, sys
with open(sys.argv[1], "w") as f:
    f.write("time,value\n")
    for i in range(100):
        f.write("%d,%d\n" % (1700000000 + 300 * i, 1000 + 400 * math.sin(i / 8.0)))
PY
"$A" shadow import --db "$T/ledger.db" --workload w1 --dim cpu --input "$T/w.csv" --granularity 5m >"$T/imp" 2>&1 ||
  die "shadow import failed: $(cat "$T/imp")"

PROMTOOL=$(command -v promtool || true)
[ -n "$PROMTOOL" ] || echo "SKIP promtool checks: promtool not found (apt-get install prometheus; add it to scripts/install-deps.sh)"

python3 -u - "$A" "$T" "$SRC" "$PROMTOOL" <<'PY'
import atexit, http.client, json, os, re, subprocess, sys, threading, time
from collections import Counter

A, T, SRC, PROMTOOL = sys.argv[1:5]
passed = failed = 0


def ok(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, str(detail)[:1500]))
    return cond


policy = os.path.join(T, "p.ini")
with open(policy, "w") as f:
    f.write("""[ahead]
default_class = standard
unknown_tenants = refuse
queue_timeout = 2s
[pool big]
capacity = cpu=1000, memory=64Gi
[pool small]
capacity = cpu=1, memory=1Gi
[class standard]
priority = 50
lease_ttl = 1h
[tenant a]
quota = cpu=2000, memory=128Gi
""")
db = os.path.join(T, "ledger.db")
errp, outp = os.path.join(T, "err"), os.path.join(T, "out")
proc = subprocess.Popen([A, "serve", "--policy", policy, "--db", db, "--listen", "127.0.0.1:0", "--sample-every", "1s"],
                        stdout=open(outp, "wb"), stderr=open(errp, "wb"))
atexit.register(lambda: proc.poll() is None and (proc.terminate(), proc.wait()))
port = None
end = time.monotonic() + 60
while time.monotonic() < end and port is None:
    m = re.search(rb"msg=listening .*port=(\d+)", open(errp, "rb").read())
    if m:
        port = int(m.group(1))
    elif proc.poll() is not None:
        break
    time.sleep(0.05)
if port is None:
    sys.exit("FAIL the daemon did not start: " + open(errp, errors="replace").read()[-2000:])
t_start = time.time()
TOKEN = re.search(r"store it now\): (ahead_\S+)", open(outp).read()).group(1)

made = Counter()          # (method, route template, status class) -> requests
lock = threading.Lock()


def call(method, path, body=None, route=None, token=True, raw=False):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Authorization": "Bearer " + TOKEN} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body)
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    b = r.read()
    c.close()
    with lock:
        made[(method, route or path.split("?")[0], "%dxx" % (r.status // 100))] += 1
    if raw:
        return r.status, b.decode(), r.getheader("Content-Type")
    return r.status, (json.loads(b) if b else None)


def metrics():
    st, text, ctype = call("GET", "/metrics", token=False, raw=True)
    ok("/metrics answers 200 without a token", st == 200, st)
    ok("/metrics is the text format", ctype.startswith("text/plain; version=0.0.4"), ctype)
    return text


def parse(text):
    """{(name, frozenset(labels)): value}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not ok("a sample line parses", m, line):
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def val(ms, name, **labels):
    return ms.get((name, frozenset(labels.items())))


def promtool_metrics(text, what):
    if not PROMTOOL:
        return
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True)
    ok("promtool check metrics (%s)" % what, r.returncode == 0, (r.stdout + r.stderr).decode())


promtool_metrics(metrics(), "at start")

# ---- load: grants, refusals, usage reports, a queue ----
decided = Counter()       # (outcome, reason) as answered
ids = []


def decide(body):
    st, j = call("POST", "/v1/allocations", body, route="/v1/allocations")
    oc = j.get("outcome")
    reason = j.get("reason") or "none" if oc == "refused" else "none"
    with lock:
        decided[(oc, reason)] += 1
        if oc == "granted":
            ids.append((j["id"], body["pool"]))
    return st, j


def worker(n, k):
    for i in range(n):
        if i % 10 == 9:
            decide({"tenant": "nobody", "pool": "big", "resources": {"cpu": 100}})   # unknown_tenant
        elif i % 10 == 8:
            decide({"tenant": "a", "pool": "big", "resources": {"cpu": 5000000}})    # exceeds_capacity
        else:
            decide({"tenant": "a", "pool": "big", "resources": {"cpu": 100 + k, "memory": 1048576}})


ths = [threading.Thread(target=worker, args=(40, k)) for k in range(8)]
for t in ths:
    t.start()
for t in ths:
    t.join()
ok("the load was decided", sum(decided.values()) == 320, decided)

# usage of some allocations of pool big: the newest report counts
reported = {}
for n, (i, pool) in enumerate(ids[:20]):
    for u in (50 + n, 70 + n):     # two reports: the second is the newest
        st, j = call("POST", "/v1/allocations/%d/usage" % i, {"usage": {"cpu": u}}, route="/v1/allocations/{id}/usage")
        ok("usage report", st == 200, (st, j))
    reported[i] = 70 + n
# one of them released: its usage no longer counts
rel = ids[0][0]
st, j = call("DELETE", "/v1/allocations/%d" % rel, route="/v1/allocations/{id}")
ok("release", st == 200, (st, j))
used_want = sum(v for i, v in reported.items() if i != rel)

# the queue: pool small holds 1 core; a second request waits, is granted at
# the first's release; a third waits and times out (queue_timeout 2s)
st, j1 = decide({"tenant": "a", "pool": "small", "resources": {"cpu": 700}})
ok("small: first granted", st == 201, j1)
st, j2 = decide({"tenant": "a", "pool": "small", "resources": {"cpu": 700}})
ok("small: second queued", st == 202 and j2["outcome"] == "queued", j2)
time.sleep(0.3)
st, j = call("DELETE", "/v1/allocations/%d" % j1["id"], route="/v1/allocations/{id}")
ok("small: release", st == 200, j)
st, j = call("GET", "/v1/allocations/%d" % j2["id"], route="/v1/allocations/{id}")
ok("small: the queued one was granted", st == 200 and j.get("state", j.get("outcome")) != "queued", j)
st, j3 = decide({"tenant": "a", "pool": "small", "resources": {"cpu": 700}})
ok("small: third queued", st == 202, j3)
time.sleep(3.5)   # its timeout (2 s) passes; the tick (1 s) times it out
st, j = call("GET", "/v1/queue", route="/v1/queue")
ok("small: the queue is empty after the timeout", st == 200 and not j["items"], j)

# wait for 13 samples at 1 s (the forecast needs 12)
time.sleep(max(0, t_start + 14.5 - time.time()))

# ---- /metrics agrees with the API ----
st, pools = call("GET", "/v1/pools")
text = metrics()
promtool_metrics(text, "under load")
ms = parse(text)
for p in pools["items"]:
    for d, v in p["dimensions"].items():
        ok("capacity %s/%s = GET /v1/pools" % (p["pool"], d), val(ms, "ahead_pool_capacity", pool=p["pool"], dim=d) == v["capacity"],
           (val(ms, "ahead_pool_capacity", pool=p["pool"], dim=d), v))
        ok("allocated %s/%s = GET /v1/pools" % (p["pool"], d), val(ms, "ahead_pool_allocated", pool=p["pool"], dim=d) == v["used"],
           (val(ms, "ahead_pool_allocated", pool=p["pool"], dim=d), v))
    ok("allocations %s" % p["pool"], val(ms, "ahead_pool_allocations", pool=p["pool"]) == p["allocations"])
    ok("queue depth %s" % p["pool"], val(ms, "ahead_pool_queue_depth", pool=p["pool"]) == p["queued"])
ok("used = the sum of the newest usage of live allocations", val(ms, "ahead_pool_used", pool="big", dim="cpu") == used_want,
   (val(ms, "ahead_pool_used", pool="big", dim="cpu"), used_want))
for (oc, reason), n in decided.items():
    ok("decisions %s/%s" % (oc, reason), val(ms, "ahead_decisions_total", outcome=oc, reason=reason) == n,
       (val(ms, "ahead_decisions_total", outcome=oc, reason=reason), n))
total = sum(v for (name, _), v in ms.items() if name == "ahead_decisions_total")
ok("no other decisions counted", total == sum(decided.values()), (total, decided))
ok("queue wait: one grant observed", val(ms, "ahead_queue_wait_seconds_count", outcome="granted") == 1)
ok("queue wait: one timeout observed", val(ms, "ahead_queue_wait_seconds_count", outcome="timeout") == 1)
w = val(ms, "ahead_queue_wait_seconds_sum", outcome="timeout")
ok("queue wait: the timeout waited about 2 s", w is not None and 1.5 <= w <= 4.5, w)
ok("engine changes: a dequeue", val(ms, "ahead_engine_changes_total", kind="dequeue") == 1)
# the latency histogram counts every request made before this scrape (the
# scrape itself is counted after its answer)
made_now = dict(made)
made_now[("GET", "/metrics", "2xx")] -= 1
for (meth, route, cls), n in sorted(made_now.items()):
    got = val(ms, "ahead_http_request_duration_seconds_count", route=route, method=meth, status=cls)
    ok("latency count %s %s %s" % (meth, route, cls), got == n, (got, n))
    inf = val(ms, "ahead_http_request_duration_seconds_bucket", route=route, method=meth, status=cls, le="+Inf")
    ok("latency +Inf bucket %s %s" % (meth, route), inf == n, (inf, n))
bw = val(ms, "ahead_commit_batch_writes_sum")
ok("commit batch sizes sum to the writes", bw is not None and bw >= 320, bw)
ok("no commit failed", val(ms, "ahead_ledger_commit_failures_total") == 0)
ok("anomalies exported", val(ms, "ahead_anomalies_total") == 0)
ok("build info", any(n == "ahead_build_info" for n, _ in ms))
ok("no allocation id or tenant label", not re.search(r'\b(id|tenant|workload)="', text))
pred = val(ms, "ahead_pool_predicted_allocated", pool="big", dim="cpu")
ok("a prediction per pool after 12 samples", pred is not None, pred)
chk = val(ms, "ahead_forecast_interval_checks_total", pool="big", dim="cpu")
hits = val(ms, "ahead_forecast_interval_hits_total", pool="big", dim="cpu")
ok("forecast checks counted", chk is not None and chk >= 1 and 0 <= hits <= chk, (chk, hits))

# ---- GET /v1/pools/{name}/history ----
st, h = call("GET", "/v1/pools/big/history", route="/v1/pools/{name}/history")
ok("history 200", st == 200, h)
ok("history interval_s", h["interval_s"] == 1, h["interval_s"])
times = [s["time"] for s in h["samples"]]
ok("history: a sample a second", 12 <= len(times) <= 20, len(times))


def epoch(t):
    return time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + float(t[19:-1] or 0)


gaps = [epoch(b) - epoch(a) for a, b in zip(times, times[1:])]
ok("history: samples 1 s apart", gaps and all(0.8 <= g <= 1.6 for g in gaps), gaps)
last = h["samples"][-1]
big = next(p for p in pools["items"] if p["pool"] == "big")
ok("history: allocated = the pool's", last["allocated"]["cpu"] == big["dimensions"]["cpu"]["used"], (last, big))
ok("history: used = the sum of reported usage", last["used"]["cpu"] == used_want, (last["used"], used_want))
ok("history: capacity", last["capacity"] == {"cpu": 1000000, "memory": 64 << 30}, last["capacity"])
ok("history: allocations", last["allocations"] == big["allocations"], last)
fc = h["forecast"]
ok("history: a forecast", fc and fc["level"] == 0.8 and len(fc["points"]) == 30 and fc["model"], fc)
if fc:
    p0 = fc["points"][0]
    ok("forecast point in band", p0["lower"]["cpu"] <= p0["point"]["cpu"] <= p0["upper"]["cpu"], p0)
    ok("forecast starts after the last sample", epoch(p0["time"]) > epoch(last["time"]), (p0["time"], last["time"]))
st, h2 = call("GET", "/v1/pools/big/history?since=" + times[-3], route="/v1/pools/{name}/history")
ok("history ?since", st == 200 and [s["time"] for s in h2["samples"]][:3] == times[-3:], h2.get("samples", h2))
st, j = call("GET", "/v1/pools/nope/history", route="/v1/pools/{name}/history")
ok("history of an unknown pool: 404", st == 404, j)
st, j = call("GET", "/v1/pools/big/history?since=yesterday", route="/v1/pools/{name}/history")
ok("history ?since=bad: 400 naming since", st == 400 and j["error"]["field"] == "since", j)
st, j = call("GET", "/v1/pools/big/history", route="/v1/pools/{name}/history", token=False)
ok("history needs a token", st == 401, j)
st, h = call("GET", "/v1/pools/small/history", route="/v1/pools/{name}/history")
ok("history: small saw its queue", any(s["queue"] == 1 and s["queued"]["cpu"] == 700 for s in h["samples"]), h["samples"][:6])

# ---- workloads ----
st, j = call("GET", "/v1/workloads")
ok("workloads", st == 200 and [i["workload"] for i in j["items"]] == ["w1"] and j["items"][0]["dims"] == ["cpu"]
   and j["items"][0]["points"] == 100 and j["items"][0]["first"] == "2023-11-14T22:10:00.000Z", j)
st, f = call("GET", "/v1/workloads/w1/forecast?dim=cpu&horizon=12", route="/v1/workloads/{name}/forecast")
ok("workload forecast", st == 200 and f["step_s"] == 300 and len(f["points"]) == 12 and f["level"] == 0.8 and f["model"], f)
if st == 200:
    ok("workload forecast: integers in band", all(isinstance(p["point"], int) and p["lower"] <= p["point"] <= p["upper"] for p in f["points"]), f)
    ok("workload forecast: after the last point", f["points"][0]["time"] == "2023-11-15T06:30:00.000Z", f["points"][0])
    ok("workload forecast: near the series", all(300 <= p["point"] <= 1700 for p in f["points"]), f["points"])
st, j = call("GET", "/v1/workloads/w1/forecast?dim=cpu&horizon=0", route="/v1/workloads/{name}/forecast")
ok("workload forecast horizon=0: 400", st == 400 and j["error"]["field"] == "horizon", j)
st, j = call("GET", "/v1/workloads/w1/forecast?dim=memory", route="/v1/workloads/{name}/forecast")
ok("workload forecast of an absent series: 404", st == 404 and j["error"]["code"] == "no_history", j)
st, j = call("GET", "/v1/workloads/w1/forecast", route="/v1/workloads/{name}/forecast")
ok("workload forecast without dim: 400", st == 400 and j["error"]["field"] == "dim", j)

proc.terminate()
ok("the daemon stops", proc.wait(timeout=30) == 0)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
rc=$?
[ $rc = 0 ] && ok || bad "metrics checks (see above)"

if [ -n "$PROMTOOL" ]; then
  check "promtool check rules" 0 SUCCESS -- "$PROMTOOL" check rules "$SRC/contrib/prometheus/ahead-rules.yml"
  (cd "$SRC/contrib/prometheus" && "$PROMTOOL" test rules ahead-rules.test.yml) >"$T/rt" 2>&1 && ok || { bad "promtool test rules"; cat "$T/rt"; }
  check "promtool check config" 0 SUCCESS -- "$PROMTOOL" check config "$SRC/contrib/prometheus/prometheus.yml"
fi
finish
