#!/usr/bin/env bash
# kill -9 of ahead serve under load, several rounds on one ledger: 64
# connections (api_load_main) send POST /v1/allocations with unique
# Idempotency-Keys and release some of what they get; the daemon is killed
# at a random moment; after each restart on the same ledger:
#  - every answer a client received is in the ledger (its grant event; a
#    received release is a release event and the allocation is gone);
#  - every allocation no client got an answer for is from a request that was
#    sent (its key was), and retrying that key returns it (same id);
#  - retrying every unanswered key exactly once converges: afterwards every
#    allocation in the ledger is one some key was answered with, no key has
#    two, no id two keys, and a second retry answers the same ids.
set -u
. "$(dirname "$0")/lib.sh"
LOAD=${AHEAD_BUILD:-$(dirname "$A")}/api_load_main
[ -x "$LOAD" ] || die "no $LOAD (build the tests' helpers)"
python3 -u - "$A" "$T" "$LOAD" <<'PY'
import atexit, http.client, json, os, random, re, signal, subprocess, sys, time

A, T, LOAD = sys.argv[1:4]
ROUNDS, CONNS = 5, 64
passed = failed = 0


def ok(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, str(detail)[:800]))
    return cond


policy = os.path.join(T, "p.ini")
with open(policy, "w") as f:
    f.write("""[ahead]
default_class = standard
unknown_tenants = refuse
[pool p]
capacity = cpu=100000, memory=16Gi
[class standard]
priority = 50
lease_ttl = 24h
[tenant a]
quota = cpu=100000, memory=16Gi
""")
db = os.path.join(T, "ledger.db")
errp, outp = os.path.join(T, "err"), os.path.join(T, "out")
proc = None
atexit.register(lambda: proc is not None and proc.poll() is None and (proc.kill(), proc.wait()))


def start():
    global proc
    off = os.path.getsize(errp) if os.path.exists(errp) else 0
    proc = subprocess.Popen([A, "serve", "--policy", policy, "--db", db, "--listen", "127.0.0.1:0", "--log-level", "info"],
                            stdout=open(outp, "ab"), stderr=open(errp, "ab"))
    end = time.monotonic() + 60
    while time.monotonic() < end:
        with open(errp, "rb") as f:
            f.seek(off)
            m = re.search(rb"msg=listening .*port=(\d+)", f.read())
        if m:
            return int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    sys.exit("FAIL the daemon did not start: " + open(errp, errors="replace").read()[-2000:])


def call(port, method, path, body=None, key=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Authorization": "Bearer " + TOKEN}
    if key:
        h["Idempotency-Key"] = key
    data = None
    if body is not None:
        data = body.encode()
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    b = r.read()
    c.close()
    return r.status, (json.loads(b) if b else None)


BODY = '{"tenant": "a", "pool": "p", "resources": {"cpu": 1}}'  # what api_load_main sends


def ledger(port):
    """grant ids, release ids (from the events) and live ids."""
    # paged: a list answers at most 100,000 events, and five rounds of a
    # fast daemon write more than that
    items, since = [], 0
    while True:
        st, ev = call(port, "GET", "/v1/events?limit=100000&since=%d" % since)
        ok("events list", st == 200, st)
        if st != 200 or not ev["items"]:
            break
        items += ev["items"]
        since = ev["items"][-1]["seq"]
        if len(ev["items"]) < 100000:
            break
    grants = [e["id"] for e in items if e["kind"] == "grant"]
    rel = {e["id"] for e in items if e["kind"] == "release"}
    st, al = call(port, "GET", "/v1/allocations")
    live = {i["id"] for i in al["items"]}
    ok("no id is granted twice", len(grants) == len(set(grants)), len(grants) - len(set(grants)))
    return set(grants), rel, live


port = start()
m = re.search(r"store it now\): (ahead_\S+)", open(outp).read())
TOKEN = m.group(1)
seed = int(os.environ.get("AHEAD_CRASH_SEED", str(int(time.time()))))
rnd = random.Random(seed)
print("seed %d (AHEAD_CRASH_SEED to repeat)" % seed)

key_id = {}        # every key -> the id it was answered with (load or retry)
total_answered = total_orphans = 0
for rnd_i in range(ROUNDS):
    out = os.path.join(T, "load%d.txt" % rnd_i)
    load = subprocess.Popen([LOAD, str(port), TOKEN, out, "r%d" % rnd_i, "30", str(CONNS)])
    time.sleep(0.4 + rnd.random() * 1.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ok("the load tool ends after the kill", load.wait(60) == 0)
    sent, answered, rel_sent, rel_answered, other = set(), {}, {}, {}, []
    for line in open(out):
        f = line.split()
        if f[:2] == ["S", "alloc"]:
            sent.add(f[2])
        elif f[:2] == ["A", "alloc"]:
            if f[3] == "201":
                answered[f[2]] = int(f[4])
            else:
                other.append(line.strip())
        elif f[:2] == ["S", "release"]:
            rel_sent[f[2]] = int(f[3])
        elif f[:2] == ["A", "release"]:
            rel_answered[f[2]] = int(f[3])
    unanswered = sorted(sent - set(answered) - {l.split()[2] for l in other})
    # a 503 (the commit failed, nothing happened) is an answer too; nothing else is expected
    ok("round %d: every other answer is a 503" % rnd_i, all(l.split()[3] == "503" for l in other), other[:3])
    ok("round %d: the load made progress (%d answers)" % (rnd_i, len(answered)), len(answered) >= CONNS, len(answered))
    ok("round %d: at most one request in flight per connection (%d unanswered)" % (rnd_i, len(unanswered)),
       len(unanswered) <= CONNS, len(unanswered))
    for k, i in answered.items():
        key_id.setdefault(k, i)
    port = start()
    grants, rels, live = ledger(port)
    lost = [k for k, i in answered.items() if i not in grants]
    ok("round %d: every answered grant is in the ledger" % rnd_i, not lost, lost[:5])
    lost_rel = [k for k, st in rel_answered.items() if st == 200 and (rel_sent[k] not in rels or rel_sent[k] in live)]
    ok("round %d: every answered release is in the ledger" % rnd_i, not lost_rel, lost_rel[:5])
    bad_rel = [k for k, st in rel_answered.items() if st != 200]
    ok("round %d: releases were answered 200" % rnd_i, not bad_rel, bad_rel[:5])
    known = set(key_id.values())
    orphans = grants - known
    total_orphans += len(orphans)
    ok("round %d: allocations nobody got an answer for (%d) are at most the unanswered requests (%d)" % (
        rnd_i, len(orphans), len(unanswered)), len(orphans) <= len(unanswered))
    # retry every unanswered key exactly once
    retry = {}
    for k in unanswered:
        st, j = call(port, "POST", "/v1/allocations", BODY, key=k)
        ok("round %d: retry of %s -> 201" % (rnd_i, k), st == 201 and j and j.get("id"), (st, j))
        if st == 201:
            retry[k] = j["id"]
    ok("round %d: every orphan is what a retry of its key returns" % rnd_i, orphans <= set(retry.values()),
       sorted(orphans - set(retry.values()))[:5])
    ok("round %d: retries of distinct keys answer distinct ids" % rnd_i, len(set(retry.values())) == len(retry))
    ok("round %d: no retry answers an id another key already has" % rnd_i, not (set(retry.values()) & known))
    key_id.update(retry)
    grants2, _, _ = ledger(port)
    ok("round %d: after the retries every allocation in the ledger is one a key was answered with" % rnd_i,
       grants2 == set(key_id.values()), (len(grants2), len(set(key_id.values())),
                                         sorted(grants2 ^ set(key_id.values()))[:5]))
    # a second retry answers the same (converged)
    again = {k: call(port, "POST", "/v1/allocations", BODY, key=k) for k in list(retry)[:20] + list(answered)[:20]}
    ok("round %d: a second retry answers the same ids" % rnd_i,
       all(st == 201 and j["id"] == key_id[k] for k, (st, j) in again.items()),
       [(k, st, j and j.get("id"), key_id[k]) for k, (st, j) in again.items() if not (st == 201 and j["id"] == key_id[k])][:3])
    grants3, _, _ = ledger(port)
    ok("round %d: and allocates nothing" % rnd_i, grants3 == grants2)
    total_answered += len(answered)
    print("round %d: %d answered, %d unanswered, %d of them in the ledger unanswered, %d releases answered" % (
        rnd_i, len(answered), len(unanswered), len(orphans), len(rel_answered)))
ok("no two keys share an id", len(set(key_id.values())) == len(key_id))
print("%d rounds: %d answered allocations, %d committed but unanswered (all returned by their retries)" % (
    ROUNDS, total_answered, total_orphans))
proc.send_signal(signal.SIGTERM)
ok("SIGTERM exits 0 after the rounds", proc.wait(30) == 0)
print("cli_api_crash: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
rc=$?
[ $rc -eq 0 ] && ok || bad "the crash checks (see above)"
finish cli_api_crash
