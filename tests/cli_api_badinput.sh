#!/usr/bin/env bash
# ahead serve against bad input: malformed JSON, wrong types, 10 MB bodies
# (with a length and chunked), slowloris-style slow clients, invalid UTF-8
# and control characters in bodies, query arguments, paths and headers, path
# tricks (.., %2e%2e, //, %00, very long paths), broken request lines. Each
# gets a clear error (an {"error": ...} body from the API, or libmicrohttpd's
# 4xx for what never reaches it) while a prober client keeps being served:
# its latency is measured the whole time and while 100 slow clients trickle.
# Behaviour checks with generous bounds, not a benchmark.
set -u
. "$(dirname "$0")/lib.sh"
python3 -u - "$A" "$SRC" "$T" <<'PY'
import atexit, http.client, json, os, re, signal, socket, subprocess, sys, threading, time

A, SRC, T = sys.argv[1:4]
passed = failed = 0


def ok(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, str(detail)[:600]))
    return cond


POLICY = """[ahead]
default_class = standard
unknown_tenants = refuse
[pool p]
capacity = cpu=8, memory=16Gi
[class standard]
priority = 50
[tenant a]
quota = cpu=16, memory=32Gi
"""
with open(os.path.join(T, "p.ini"), "w") as f:
    f.write(POLICY)
err_path = os.path.join(T, "err")
proc = subprocess.Popen([A, "serve", "--policy", os.path.join(T, "p.ini"), "--db", os.path.join(T, "x.db"),
                         "--listen", "127.0.0.1:0", "--log-level", "info"],
                        stdout=open(os.path.join(T, "out"), "wb"), stderr=open(err_path, "wb"))
atexit.register(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
port = None
for _ in range(300):
    m = re.search(r"msg=listening .*port=(\d+)", open(err_path).read())
    if m:
        port = int(m.group(1))
        break
    if proc.poll() is not None:
        break
    time.sleep(0.05)
if not port:
    sys.exit("FAIL the daemon did not start: " + open(err_path).read()[-2000:])
m = re.search(r"store it now\): (ahead_\S+)", open(os.path.join(T, "out")).read())
TOKEN = m.group(1)
AUTH = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"


def parse(raw):
    """(status, headers, json or None, body) of a raw HTTP/1.1 answer; status 0 when there is none."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if not m:
        return 0, {}, None, raw
    hdrs = {}
    for l in head.split(b"\r\n")[1:]:
        k, _, v = l.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode("latin-1")
    try:
        j = json.loads(body)
    except ValueError:
        j = None
    return int(m.group(1)), hdrs, j, body


def read_answer(s, timeout=10):
    s.settimeout(timeout)
    buf = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            buf += c
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"content-length:\s*(\d+)", head, re.I)
                if m and len(body) >= int(m.group(1)):
                    break
    except (socket.timeout, ConnectionError):
        pass
    return buf


def raw(data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
    except ConnectionError:
        pass
    out = read_answer(s, timeout)
    s.close()
    return parse(out)


def request(method, path, body=b"", headers=b"", auth=True):
    h = b"%s %s HTTP/1.1\r\nHost: x\r\n" % (method, path)
    if auth:
        h += AUTH
    if body:
        h += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return raw(h + headers + b"\r\n" + body)


def api_error(name, r, status, field=None, code=None):
    st, hd, j, body = r
    e = j.get("error") if isinstance(j, dict) else None
    good = (st == status and isinstance(e, dict) and set(e) == {"code", "message", "field"}
            and isinstance(e["message"], str) and e["message"])
    if good and field is not None:
        good = e["field"] == field
    if good and code is not None:
        good = e["code"] == code
    ok(name, good, "%d %s" % (st, body[:300]))


# ---- the prober: another client, served the whole time ----
lat = []          # (t, seconds)
probe_fail = []
stop_probe = threading.Event()


def prober():
    while not stop_probe.is_set():
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/v1/pools", headers={"Authorization": "Bearer " + TOKEN})
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 200:
                probe_fail.append("status %d" % r.status)
        except Exception as e:  # noqa
            probe_fail.append(repr(e))
        lat.append((t0, time.monotonic() - t0))
        time.sleep(0.02)


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))] if xs else 0


th = threading.Thread(target=prober, daemon=True)
th.start()

# ---- malformed JSON ----
for body in [b"{", b'{"tenant": "a",}', b'{"tenant":}', b"nul", b"{'tenant': 'a'}", b'{"tenant": "a"} x',
             b"[" * 100000 + b"]" * 100000, b'{"tenant": 1e999}', b'{"n": 123456789012345678901234567890}',
             b'{"tenant": "a\x00"}', b'\xef\xbb\xbf{"tenant": "a"}']:
    r = request(b"POST", b"/v1/allocations", body)
    api_error("malformed %r -> 400" % body[:30], r, 400, code="malformed_json")
r = request(b"POST", b"/v1/allocations", b"[]")
api_error("an array body -> 400", r, 400, code="invalid")
r = request(b"POST", b"/v1/allocations", b'"text"')
api_error("a string body -> 400", r, 400)

# ---- wrong types ----
for body, field in [({"tenant": ["a"], "pool": "p"}, "tenant"), ({"tenant": "a", "pool": {"n": 1}}, "pool"),
                    ({"tenant": "a", "pool": "p", "resources": [1, 2]}, "resources"),
                    ({"tenant": "a", "pool": "p", "resources": {"cpu": None}}, "resources.cpu"),
                    ({"tenant": "a", "pool": "p", "resources": {"cpu": 1.5}}, "resources.cpu"),
                    ({"tenant": "a", "pool": "p", "resources": {"cpu": {"x": 1}}}, "resources.cpu"),
                    ({"tenant": "a", "pool": "p", "resources": {"cpu": "1"}, "lease": {}}, "lease"),
                    ({"tenant": "a", "pool": "p", "resources": {"cpu": "1"}, "queue": 1}, "queue")]:
    r = request(b"POST", b"/v1/allocations", json.dumps(body).encode())
    api_error("wrong type %s -> 400 naming %s" % (json.dumps(body)[:60], field), r, 400, field=field)

# ---- invalid UTF-8 and control characters ----
for body in [b'{"tenant": "\xff", "pool": "p"}', b'{"tenant": "\xc0\xaf", "pool": "p"}',
             b'{"tenant": "\xed\xa0\x80", "pool": "p"}', b'{"tenant": "\\ud800", "pool": "p"}',
             b'{"\xff": 1}']:
    r = request(b"POST", b"/v1/allocations", body)
    api_error("invalid UTF-8 in the body %r -> 400" % body[:24], r, 400, code="malformed_json")
for body, field in [(b'{"tenant": "a\\u0001b", "pool": "p", "resources": {"cpu": "1"}}', "tenant"),
                    (b'{"tenant": "a", "pool": "p\\u007f", "resources": {"cpu": "1"}}', "pool"),
                    (b'{"tenant": "a", "pool": "p", "resources": {"cpu": "1"}, "params": {"k": "v\\u0085"}}', "params"),
                    (b'{"tenant": "a", "pool": "p", "resources": {"cpu": "1"}, "workload": "w\\n"}', "workload")]:
    r = request(b"POST", b"/v1/allocations", body)
    api_error("a control character in %s -> 400 naming it" % field, r, 400, field=field)
for q, field in [(b"tenant=%FF", "tenant"), (b"tenant=a%00b", "tenant"), (b"tenant=%01", "tenant"),
                 (b"pool=%C0%AF", "pool"), (b"%FF=1", "query"), (b"state=\xff", "state")]:
    r = request(b"GET", b"/v1/allocations?" + q)
    api_error("query %r -> 400 naming %s" % (q, field), r, 400, field=field)
for p in [b"/v1/pools/%FF", b"/v1/pools/\xff\xfe", b"/v1/pools/%01", b"/v1/pools/a%0Ab", b"/v1/pools%00/x",
          b"/v1/allocations/1%00", b"/v1/pools/%ED%A0%80"]:
    r = request(b"GET", p)
    api_error("path %r -> 400 naming path" % p, r, 400, field="path")
r = request(b"POST", b"/v1/allocations", b'{"tenant": "a", "pool": "p", "resources": {"cpu": "1"}}',
            headers=b"Idempotency-Key: \xff\xfe\r\n")
api_error("invalid UTF-8 in Idempotency-Key -> 400", r, 400, field="Idempotency-Key")
r = raw(b"GET /v1/pools HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff" + TOKEN.encode()[1:] + b"\r\n\r\n")
api_error("invalid UTF-8 in Authorization -> 401", r, 401, field="Authorization")

# ---- path tricks: never another route, never a 200 ----
for p in [b"/v1/allocations/../tokens", b"/v1/allocations/%2e%2e/tokens", b"/v1/%2E%2E/v1/tokens",
          b"/v1/allocations/..%2Ftokens", b"/v1/allocations%2F..%2Ftokens", b"//v1//tokens", b"/v1//tokens",
          b"/v1/tokens/", b"/./v1/tokens", b"/v1/./tokens", b"/V1/TOKENS", b"/v1/tokens;x", b"v1/tokens",
          b"/v1/tokens%20", b"/v1/pools/p/../../tokens"]:
    r = request(b"GET", p)
    st, _, j, body = r
    ok("path trick %r is not served as a route" % p, st in (400, 404) and b'"items"' not in body, "%d %s" % (st, body[:200]))
    if st in (400, 404):
        api_error("path trick %r has an error body" % p, r, st)
r = request(b"GET", b"/v1/pools/" + b"a" * 3000)
api_error("a 3000-byte name -> 404", r, 404)
r = request(b"GET", b"/" + b"a/" * 2000)
api_error("a path of 2000 segments -> 404", r, 404)
st, hd, j, body = request(b"GET", b"/v1/pools/" + b"a" * 200000)
ok("a 200 KB path -> 414 (libmicrohttpd)", st == 414, "%d %s" % (st, body[:200]))
st, hd, j, body = raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
ok("a 200 KB header -> 431 (libmicrohttpd)", st == 431, "%d %s" % (st, body[:200]))
r = request(b"GET", b"/v1/allocations?" + b"&".join(b"k%d=v" % i for i in range(100)))
api_error("100 query arguments -> 400", r, 400)
st, _, _, body = raw(b"hello\r\n\r\n")
ok("a broken request line gets a 400 or a close", st in (0, 400), "%d %s" % (st, body[:100]))
st, _, _, body = raw(b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n")
ok("an unknown HTTP version gets a 505 or a close", st in (0, 400, 505), "%d %s" % (st, body[:100]))
r = request(b"BREW", b"/v1/pools")
api_error("an unknown method -> 405", r, 405)
st, _, _, body = raw(b"POST /v1/allocations HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Length: -5\r\n\r\n")
ok("a negative Content-Length gets a 400 or a close", st in (0, 400), "%d %s" % (st, body[:100]))
st, _, _, body = raw(b"POST /v1/allocations HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Length: 5\r\nContent-Length: 9\r\n\r\n12345")
ok("two Content-Lengths get a 400 or a close", st in (0, 400), "%d %s" % (st, body[:100]))

# ---- 10 MB bodies ----
ten = b" " * (10 << 20)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"POST /v1/allocations HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(ten) + ten[:65536])
r = parse(read_answer(s))
api_error("a 10 MB body with Content-Length -> 413 before it is read", r, 413, code="body_too_large")
try:
    s.sendall(ten[65536:])  # the server closed: this may fail, and must not matter
except (ConnectionError, socket.timeout):
    pass
s.close()
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(b"POST /v1/allocations HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n")
try:
    chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
    for _ in range(160):
        s.sendall(chunk)
    s.sendall(b"0\r\n\r\n")
except (ConnectionError, socket.timeout) as e:
    pass
r = parse(read_answer(s, 30))
s.close()
api_error("a 10 MB chunked body -> 413", r, 413, code="body_too_large")
body = b'{"tenant": "a", "pool": "p", "resources": {"cpu": "1"}, "params": {"k": "' + b"v" * 900000 + b'"}}'
r = request(b"POST", b"/v1/allocations", body)
api_error("a 900 KB body under the limit is read and refused for its content", r, 400, field="params")
st, _, j, _ = request(b"GET", b"/healthz", auth=False)
ok("the server still serves after the big bodies", st == 200)

# ---- slowloris: 100 connections trickling a header byte a second ----
slow = []
for i in range(100):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if i % 10 == 9:  # some trickle a body instead
        s.sendall(b"POST /v1/allocations HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{")
    else:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    slow.append(s)
stop_slow = threading.Event()
slow_dead = []


def trickle():
    while not stop_slow.wait(1.0):
        for s in slow:
            try:
                s.send(b"a")
            except OSError as e:
                slow_dead.append(repr(e))


tt = threading.Thread(target=trickle, daemon=True)
tt.start()
time.sleep(1.5)  # the slow clients are connected and have trickled at least once
t_slow0 = time.monotonic()
mine = []
for i in range(50):
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/v1/allocations", body=json.dumps({"tenant": "a", "pool": "p", "resources": {"cpu": "100m"}}),
              headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    resp = c.getresponse()
    b = resp.read()
    c.close()
    mine.append(time.monotonic() - t0)
    if resp.status != 201:
        ok("a write while slow clients trickle -> 201", False, "%d %s" % (resp.status, b[:200]))
    if resp.status == 201:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("DELETE", "/v1/allocations/%d" % json.loads(b)["id"], headers={"Authorization": "Bearer " + TOKEN})
        c.getresponse().read()
        c.close()
    time.sleep(0.03)
t_slow1 = time.monotonic()
during = [l for t, l in lat if t_slow0 <= t <= t_slow1]
print("slowloris: 50 writes p50 %.1f ms p99 %.1f ms; prober %d requests p99 %.1f ms" % (
    sorted(mine)[25] * 1e3, p99(mine) * 1e3, len(during), p99(during) * 1e3))
ok("another client's writes stay fast under 100 slow clients (p99 %.1f ms < 200)" % (p99(mine) * 1e3), p99(mine) < 0.2)
ok("the prober stays fast under 100 slow clients (p99 %.1f ms < 200)" % (p99(during) * 1e3), during and p99(during) < 0.2)
ok("the slow clients were held open while trickling", len(slow_dead) == 0, slow_dead[:3])
stop_slow.set()
tt.join()
for s in slow:
    s.close()

# ---- clients that send a write and go away at once (a reset, no read) ----
# The write is parked for its batch's commit when its connection closes: the
# daemon drops it or answers into the void, never touches freed memory (the
# ASan run of this test), and its books stay whole.
import struct
body = b'{"tenant": "a", "pool": "p", "resources": {"cpu": "10m", "memory": "1Mi"}}'
gone_req = (b"POST /v1/allocations HTTP/1.1\r\nHost: x\r\n" + AUTH +
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
for rnd in range(6):
    socks = []
    for _ in range(50):
        try:
            g = socket.create_connection(("127.0.0.1", port), timeout=5)
            g.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            socks.append(g)
        except OSError:
            pass
    for g in socks:
        try:
            g.sendall(gone_req)
        except OSError:
            pass
    for g in socks:
        g.close()
time.sleep(0.5)
ok("the daemon lives on after 300 writes whose clients reset at once", proc.poll() is None, proc.poll())
st, hd, lst, body_ = request(b"GET", b"/v1/allocations?pool=p&limit=1000")
items = lst.get("items", []) if isinstance(lst, dict) else []
st2, hd2, pool, _ = request(b"GET", b"/v1/pools/p")
print("writes of clients that reset at once: %d of 300 allocated" % len(items))
ok("its books are whole: the pool counts the allocations it lists (%d)" % len(items),
   st == 200 and st2 == 200 and isinstance(pool, dict) and pool.get("allocations") == len(items) <= 300,
   "%s %s %s" % (st, st2, str(pool)[:300]))
for it in items:
    request(b"DELETE", b"/v1/allocations/%s" % str(it["id"]).encode())
st, hd, pool, _ = request(b"GET", b"/v1/pools/p")
ok("and they release to an empty pool", st == 200 and pool.get("allocations") == 0, str(pool)[:300])

# ---- the prober, the whole time ----
stop_probe.set()
th.join()
all_l = [l for _, l in lat]
print("prober: %d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d failures" % (
    len(all_l), sorted(all_l)[len(all_l) // 2] * 1e3, p99(all_l) * 1e3, max(all_l) * 1e3, len(probe_fail)))
ok("the prober was always served", not probe_fail and len(all_l) > 20, probe_fail[:5])
ok("the prober's p99 over the whole test < 200 ms", p99(all_l) < 0.2, p99(all_l))
log = open(err_path, errors="replace").read()
ok("nothing 5xx in the log", not re.search(r"status=5\d\d", log), re.findall(r".*status=5\d\d.*", log)[:3])
proc.send_signal(signal.SIGTERM)
rc = proc.wait(30)
ok("SIGTERM exits 0", rc == 0, rc)
print("cli_api_badinput: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
rc=$?
[ $rc -eq 0 ] && ok || bad "the bad-input checks (see above)"
finish cli_api_badinput
