#!/usr/bin/env bash
# Every route the server has (ah_api_routes, printed by api_routes_main) is
# in docs/openapi.json and vice versa; the document is structurally an
# OpenAPI 3 document (every path has methods, every method responses, every
# $ref resolves), and the daemon serves the same document at /openapi.json.
set -u
. "$(dirname "$0")/lib.sh"
ROUTES=${AHEAD_BUILD:-$(dirname "$A")}/api_routes_main
[ -x "$ROUTES" ] || die "no $ROUTES (build the tests' helpers)"
"$ROUTES" >"$T/routes" || die "api_routes_main failed"
[ "$(wc -l <"$T/routes")" -gt 10 ] && ok || bad "api_routes_main printed only $(wc -l <"$T/routes") routes"

python3 - "$SRC/docs/openapi.json" "$T/routes" <<'PY' && ok || bad "openapi.json and the route table disagree"
import json, re, sys
doc = json.load(open(sys.argv[1]))
errs = []
def err(m): errs.append(m)
# -- structure
if not re.fullmatch(r"3\.\d+\.\d+", str(doc.get("openapi", ""))):
    err("openapi: not a 3.x.y version: %r" % doc.get("openapi"))
info = doc.get("info")
if not isinstance(info, dict) or not info.get("title") or not info.get("version"):
    err("info: title and version are required")
paths = doc.get("paths")
if not isinstance(paths, dict) or not paths:
    err("paths: missing or empty"); paths = {}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
def resolve(ref):
    if not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
def walk(node, where):
    if isinstance(node, dict):
        if "$ref" in node and resolve(node["$ref"]) is None:
            err("%s: $ref %s does not resolve" % (where, node["$ref"]))
        for k, v in node.items():
            walk(v, where + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, "%s/%d" % (where, i))
walk(doc, "#")
doc_routes = set()
for p, item in paths.items():
    if not p.startswith("/"):
        err("path %s does not start with /" % p)
    if not isinstance(item, dict):
        err("path %s: not an object" % p); continue
    ms = [m for m in item if m in METHODS]
    if not ms:
        err("path %s: no methods" % p)
    params_in_path = set(re.findall(r"\{([^}]+)\}", p))
    for m in ms:
        op = item[m]
        doc_routes.add((m.upper(), p))
        if not isinstance(op, dict):
            err("%s %s: not an object" % (m, p)); continue
        resp = op.get("responses")
        if not isinstance(resp, dict) or not resp:
            err("%s %s: no responses" % (m, p)); continue
        for code, r in resp.items():
            if not (re.fullmatch(r"[1-5](\d\d|XX)", code) or code == "default"):
                err("%s %s: response code %r" % (m, p, code))
            if isinstance(r, dict) and "$ref" not in r and "description" not in r:
                err("%s %s %s: a response needs a description" % (m, p, code))
        declared = set()
        for prm in (item.get("parameters", []) + op.get("parameters", [])):
            if "$ref" in prm:
                prm = resolve(prm["$ref"]) or {}
            if prm.get("in") == "path":
                declared.add(prm.get("name"))
                if prm.get("required") is not True:
                    err("%s %s: path parameter %s must be required" % (m, p, prm.get("name")))
        if declared != params_in_path:
            err("%s %s: path parameters %s, template has %s" % (m, p, sorted(declared), sorted(params_in_path)))
# -- the server's routes
server = set()
for line in open(sys.argv[2]):
    m, p = line.split()
    server.add((m, p))
for r in sorted(server - doc_routes):
    err("the server has %s %s; docs/openapi.json does not" % r)
for r in sorted(doc_routes - server):
    err("docs/openapi.json has %s %s; the server does not" % r)
for e in errs:
    print("  " + e)
print("%d server routes, %d documented" % (len(server), len(doc_routes)))
sys.exit(1 if errs else 0)
PY

# the daemon serves the checked-in document byte for byte
cat >"$T/p.ini" <<'EOP'
[ahead]
default_class = standard
[pool p]
capacity = cpu=8, memory=16Gi
[class standard]
priority = 50
[tenant t]
quota = cpu=8, memory=16Gi
EOP
"$A" serve --policy "$T/p.ini" --db "$T/x.db" --listen 127.0.0.1:0 >"$T/out" 2>"$T/err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$T/err")
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || die "the daemon did not start: $(cat "$T/err")"
curl -sf "http://127.0.0.1:$port/openapi.json" >"$T/served.json" && ok || bad "GET /openapi.json"
cmp -s "$T/served.json" "$SRC/docs/openapi.json" && ok || bad "/openapi.json differs from docs/openapi.json"
kill -TERM $pid; wait $pid; check_rc "SIGTERM exits 0" 0 $?
finish cli_api_routes
