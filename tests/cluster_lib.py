"""What the cluster tests share (tests/cli_cluster_*.sh): checks that count
and print, an `ahead serve` started on a free port (read from its log), and
one HTTP request with the admin token."""
import http.client
import json
import os
import re
import subprocess
import sys
import time


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s %s" % (name, str(detail)[:900]))
        return cond

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


class Serve:
    """One `ahead serve` of a test: args after `serve` (its --listen is
    127.0.0.1:PORT, 0 unless given), logs as T/serveI.err, its pid appended to T/pids (the
    script's trap kills what is left). pre: a command to run it under."""

    def __init__(self, bin_, t, i, args, pre=(), env=None, port=0):
        self.bin, self.t, self.i, self.args, self.pre, self.env = bin_, t, i, list(args), list(pre), env
        self.proc, self.port, self.listen_port = None, None, port

    def start(self, token_file=None):
        err = os.path.join(self.t, "serve%d.err" % self.i)
        off = os.path.getsize(err) if os.path.exists(err) else 0
        args = self.pre + [self.bin, "serve"] + self.args + ["--listen", "127.0.0.1:%d" % self.listen_port]
        if token_file:
            args += ["--admin-token-file", token_file]
        self.proc = subprocess.Popen(args, env=dict(os.environ, **(self.env or {})),
                                     stdout=open(os.path.join(self.t, "serve%d.out" % self.i), "ab"),
                                     stderr=open(err, "ab"))
        with open(os.path.join(self.t, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            with open(err) as f:
                f.seek(off)
                m = re.search(r"msg=listening .*port=(\d+)", f.read())
            # the token file is written before the daemon listens; waited
            # for anyway, and said plainly when it never comes
            if m and (not token_file or os.path.exists(token_file)):
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        with open(os.path.join(self.t, "serve%d.out" % self.i)) as f:
            out = f.read()
        raise SystemExit("FAIL instance %d did not start%s: %s %s" % (
            self.i, " with its admin token file" if token_file else "", self.log()[-2000:], out[-500:]))

    def log(self):
        with open(os.path.join(self.t, "serve%d.err" % self.i)) as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        return self.proc.returncode if self.proc else None


def req(port, token, method, path, body=None, key=None, timeout=15):
    """(status, parsed JSON or None); raises OSError when nothing answers."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Authorization": "Bearer " + token}
    if body is not None:
        h["Content-Type"] = "application/json"
    if key:
        h["Idempotency-Key"] = key
    try:
        c.request(method, path, json.dumps(body) if body is not None else None, h)
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        c.close()


def until(fn, secs, step=0.01):
    """Calls fn() until it is true or secs passed: how long it took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        if fn():
            return time.monotonic() - t0
        time.sleep(step)
    return None
