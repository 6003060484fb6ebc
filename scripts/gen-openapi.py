# Writes docs/openapi.json, the API's OpenAPI 3 document (served at /openapi.json and embedded at
# build time). Edit the routes here, run python3 scripts/gen-openapi.py, commit both;
# tests/cli_api_routes.sh checks the document against the server's route table.
import json
E = {"$ref": "#/components/responses/Error"}
def op(summary, roles, ok, body=None, params=(), extra=None, tag="", write=False):
    o = {"summary": summary, "tags": [tag],
         "x-ahead-roles": roles,
         "responses": {ok: {"description": "success", "content": {"application/json": {"schema": {"type": "object"}}}}}}
    if roles:
        o["security"] = [{"bearer": []}]
        o["responses"]["401"] = E
        o["responses"]["403"] = E
    else:
        o["security"] = []
    o["responses"]["400"] = E
    if body:
        o["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    ps = list(params)
    if write:
        ps.append({"$ref": "#/components/parameters/IdempotencyKey"})
        o["responses"]["422"] = E
        o["responses"]["503"] = E
    if ps:
        o["parameters"] = ps
    for k, v in (extra or {}).items():
        sch = {"type": "object"} if k in ("201", "202") else {"$ref": "#/components/schemas/Error"}
        o["responses"][k] = {"description": v, "content": {"application/json": {"schema": sch}}}
    return o
def q(name, desc, schema={"type": "string"}):
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": schema}
def pp(name, desc):
    return {"name": name, "in": "path", "required": True, "description": desc, "schema": {"type": "string"}}
def web_op(summary, ctype, params=(), extra=None):
    o = op(summary, [], "200", params=params, extra=extra, tag="dashboard")
    o["responses"]["200"] = {"description": "the file", "content": {ctype: {"schema": {"type": "string"}}}}
    o["responses"]["304"] = {"description": "not modified (If-None-Match holds the file's ETag)"}
    del o["responses"]["400"]
    return o
R = ["viewer", "tenant", "operator", "admin"]
STAFF = ["viewer", "operator", "admin"]
W = ["tenant", "operator", "admin"]
OPS = ["operator", "admin"]
A = ["admin"]
res = {"type": "object", "description": "dimension -> integer in the base unit (cpu millicores, memory bytes) or a quantity string ('500m', '1.5Gi')",
       "additionalProperties": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]}}
dur = {"oneOf": [{"type": "string", "description": "a duration: 30s, 5m, 1.5h"}, {"type": "number", "description": "seconds"}]}
rv = {"type": "string", "description": "the resourceVersion last read; a stale one answers 409"}
paths = {
 "/healthz": {"get": op("liveness", [], "200", tag="health")},
 "/readyz": {"get": op("readiness: the ledger is open", [], "200", tag="health")},
 "/openapi.json": {"get": op("this document", [], "200", tag="health")},
 "/": {"get": web_op("the dashboard (web/index.html): pools, queue, decisions and workloads, live; the page asks for a token and calls the API with it", "text/html")},
 "/static/{file}": {"get": web_op("the dashboard's scripts and styles (web/, embedded at build time; ETag, 304 on If-None-Match)", "text/javascript", params=[pp("file", "a file name: app.js, app.css, uPlot.iife.min.js, uPlot.min.css")], extra={"404": "no such file"})},
 "/metrics": {"get": dict(op("Prometheus metrics (text exposition format 0.0.4; no token, like /healthz: docs/METRICS.md)", [], "200", tag="health"),
              responses={"200": {"description": "success", "content": {"text/plain": {"schema": {"type": "string"}}}}})},
 "/v1/pools": {
   "get": op("list pools: capacity, used, free, waiting per dimension", R, "200", tag="pools"),
   "post": op("create a pool (edits and re-applies the policy)", A, "201", tag="pools", write=True,
              body={"type": "object", "required": ["name", "capacity"], "additionalProperties": False,
                    "properties": {"name": {"type": "string"}, "capacity": res, "min": res, "max": res, "unit": res, "min_request": res, "max_queue": {"type": "integer"}}},
              extra={"409": "the pool exists"})},
 "/v1/pools/{name}": {
   "get": op("one pool", R, "200", params=[pp("name", "pool")], tag="pools", extra={"404": "no such pool"}),
   "put": op("resize a pool (set its capacity)", OPS, "200", params=[pp("name", "pool")], tag="pools", write=True,
             body={"type": "object", "required": ["capacity"], "additionalProperties": False, "properties": {"capacity": res, "resourceVersion": rv}},
             extra={"404": "no such pool", "409": "stale resourceVersion"}),
   "delete": op("delete an empty pool (edits and re-applies the policy)", A, "200", params=[pp("name", "pool")], tag="pools", write=True,
                extra={"404": "no such pool", "409": "the pool still holds allocations"})},
 "/v1/pools/{name}/history": {
   "get": op("a pool's samples (capacity, allocated, used, queued, counts; every --sample-every, 24 h in memory) and its allocated-demand forecast (30 intervals, 80% band; null before 12 samples)", R, "200",
             params=[pp("name", "pool"), q("since", "RFC 3339 or epoch seconds: samples at or after it")], tag="pools", extra={"404": "no such pool"})},
 "/v1/allocations": {
   "get": op("list live allocations and queued requests", R, "200", tag="allocations",
             params=[q("tenant", "only this tenant's"), q("pool", "only this pool's"), q("state", "granted or queued")]),
   "post": op("request an allocation: granted (201), queued (202) or refused (409 capacity/quota, 422 policy, 429 rate limited with Retry-After)", W, "201", tag="allocations", write=True,
              body={"type": "object", "required": ["pool"], "additionalProperties": False,
                    "properties": {"tenant": {"type": "string", "description": "required unless the token is a tenant token"}, "pool": {"type": "string"}, "class": {"type": "string"},
                                   "resources": res, "workload": {"type": "string"}, "params": {"type": "object", "additionalProperties": {"type": "string"}},
                                   "lease": dur, "queue_timeout": dur, "queue": {"type": "boolean"},
                                   "replicas": {"type": "integer", "minimum": 1, "maximum": 64, "description": "that many allocations of this request, each granted, queued or refused on its own (listed in the answer's replicas); the top level is the first refused, else the first queued, else the first"},
                                   "node_labels": {"type": "string", "description": "pools on nodes: k=v,... every node it is placed on carries"}}},
              extra={"202": "queued", "409": "refused: capacity, quota or queue", "429": "refused: the tenant is rate limited"})},
 "/v1/allocations/{id}": {
   "get": op("describe one allocation: reserved, predicted, used, model, lease, resizes", R, "200", params=[pp("id", "allocation id")], tag="allocations", extra={"404": "no such allocation (or another tenant's)"}),
   "delete": op("release an allocation (or cancel a queued request)", W, "200", params=[pp("id", "allocation id")], tag="allocations", write=True,
                body={"type": "object", "additionalProperties": False, "properties": {"resourceVersion": rv}},
                extra={"404": "no such allocation (or another tenant's)", "409": "stale resourceVersion"})},
 "/v1/allocations/{id}/renew": {
   "post": op("renew a lease (says when max_lease_ttl capped it)", W, "200", params=[pp("id", "allocation id")], tag="allocations", write=True,
              body={"type": "object", "additionalProperties": False, "properties": {"lease": dur, "resourceVersion": rv}},
              extra={"404": "no such allocation (or another tenant's)", "409": "stale resourceVersion, or queued"})},
 "/v1/allocations/{id}/usage": {
   "post": op("report usage: the allocation grows or shrinks, its lease renews", W, "200", params=[pp("id", "allocation id")], tag="allocations", write=True,
              body={"type": "object", "required": ["usage"], "additionalProperties": False, "properties": {"usage": res, "resourceVersion": rv}},
              extra={"404": "no such allocation (or another tenant's)", "409": "stale resourceVersion, or queued"})},
 "/v1/queue": {"get": op("queued requests, in queue order", R, "200", tag="allocations", params=[q("tenant", "only this tenant's"), q("pool", "only this pool's")])},
 "/v1/tenants": {"get": op("tenants of the policy with quota and use", R, "200", tag="tenants")},
 "/v1/tenants/{name}": {
   "get": op("one tenant", R, "200", params=[pp("name", "tenant")], tag="tenants", extra={"404": "no such tenant (or not yours)"}),
   "put": op("set a tenant's quota and rate (edits and re-applies the policy)", A, "200", params=[pp("name", "tenant")], tag="tenants", write=True,
             body={"type": "object", "additionalProperties": False, "properties": {"quota": res, "rate": {"type": "number"}, "burst": {"type": "number"}}},
             extra={"201": "the tenant was added to the policy", "422": "the edited policy does not validate"})},
 "/v1/policy": {
   "get": op("the applied policy: summary, text, resourceVersion (its generation)", STAFF, "200", tag="policy"),
   "put": op("validate a policy, then apply it atomically (JSON {text} or text/plain)", A, "200", tag="policy", write=True,
             body={"type": "object", "required": ["text"], "additionalProperties": False, "properties": {"text": {"type": "string"}, "resourceVersion": rv}},
             extra={"409": "stale resourceVersion"})},
 "/v1/workloads": {"get": op("workloads of the usage history: dimensions, points, first and last time", STAFF, "200", tag="workloads")},
 "/v1/workloads/{name}/forecast": {
   "get": op("a workload's usage forecast from its history (points with an 80% band, integers in the dimension's base unit)", STAFF, "200",
             params=[pp("name", "workload"), q("dim", "dimension (required)"), q("horizon", "steps ahead, 1-288 (default 24)", {"type": "integer"}), q("step", "bucket width, a duration (default: the series' granularity)")],
             tag="workloads", extra={"404": "no history, or too little (12 points)"})},
 "/v1/workloads/{name}/recommendation": {
   "get": op("what a workload should reserve: lower, target, upper per dimension", STAFF, "200", params=[pp("name", "workload"), q("class", "class whose quantile sizes the target"), q("params", "k=v,... of the request")], tag="workloads", extra={"404": "no history"})},
 "/v1/workloads/{name}/history": {
   "get": op("a workload's usage history", STAFF, "200", params=[pp("name", "workload"), q("dim", "dimension (required)"), q("from", "RFC 3339 or epoch seconds"), q("to", "RFC 3339 or epoch seconds"), q("step", "re-bucket to this duration")], tag="history", extra={"404": "no history"}),
   "post": op("import one chunk of samples into a series, all or nothing (the CLI sends a large import in chunks under the 1 MiB body limit, each with its own Idempotency-Key)", OPS, "200", params=[pp("name", "workload")], tag="history", write=True,
              body={"type": "object", "required": ["dim", "points"], "additionalProperties": False,
                    "properties": {"dim": {"type": "string"}, "granularity": dur,
                                   "points": {"type": "array", "description": "[time, value]: time RFC 3339 or integer nanoseconds, value in the dimension's base unit",
                                              "items": {"type": "array", "minItems": 2, "maxItems": 2}}}},
              extra={"413": "the body is larger than 1 MiB: send smaller chunks"})},
 "/v1/workloads/{name}/requests": {
   "get": op("a workload's request records: parameters, prediction, observed peak and mean", STAFF, "200", params=[pp("name", "workload"), q("param", "k=v: only records with this parameter"), q("limit", "at most this many (default 10000)")], tag="history", extra={"404": "no shadow store"})},
 "/v1/series": {
   "get": op("every usage-history series: workload, dim, granularity, points, samples, first and last", STAFF, "200", tag="history", extra={"404": "no shadow store"})},
 "/v1/history/compact": {
   "post": op("apply retention: roll old points into coarser tiers", OPS, "200", tag="history", write=True,
              body={"type": "object", "additionalProperties": False, "properties": {"now": {"type": "string", "description": "RFC 3339 (default: the server's clock)"}, "keep_raw": dur, "keep_1m": dur, "keep_1h": dur}},
              extra={"404": "no shadow store"})},
 "/v1/anomalies": {
   "get": op("anomaly events the usage history holds (ahead anomalies --store), newest last", STAFF, "200", tag="workloads",
             params=[q("workload", "only this workload's"), q("since", "ending at or after this time"), q("limit", "at most this many (the newest)")])},
 "/v1/workloads/{name}/anomalies": {
   "get": op("one workload's anomaly events", STAFF, "200", params=[pp("name", "workload"), q("since", "ending at or after this time"), q("limit", "at most this many (the newest)")], tag="workloads")},
 "/v1/events": {
   "get": op("the event log; with watch=1 a Server-Sent Events stream resuming after since", R, "200", tag="events",
             params=[q("since", "a resourceVersion: events after it"), q("limit", "at most this many"), q("id", "one allocation's"), q("watch", "1: stream (text/event-stream)")],
             extra={"410": "since is older than the oldest event kept: list again"})},
 "/v1/audit": {"get": op("the audit log of every write", A, "200", tag="admin", params=[q("after", "audit seq"), q("since", "time"), q("limit", "at most this many"), q("who", "token id")])},
 "/v1/tokens": {
   "get": op("tokens (never their secrets)", A, "200", tag="admin"),
   "post": op("create a token; its secret is in the answer, once", A, "201", tag="admin", write=True,
              body={"type": "object", "required": ["name", "role"], "additionalProperties": False,
                    "properties": {"name": {"type": "string"}, "role": {"enum": ["admin", "operator", "tenant", "viewer"]}, "tenant": {"type": "string"}, "expires_in": dur}})},
 "/v1/tokens/{id}": {"delete": op("revoke a token", A, "200", params=[pp("id", "token id")], tag="admin", write=True, extra={"404": "no such token"})},
 "/v1/tokens/{id}/rotate": {"post": op("a new token of the same name and role; the old one lives for the grace period", A, "201", params=[pp("id", "token id")], tag="admin", write=True,
              body={"type": "object", "additionalProperties": False, "properties": {"grace": dur}}, extra={"404": "no such token", "409": "the token is revoked"})},
 "/v1/server/stats": {"get": op("requests, batches and where the time went (parse, engine, commit, JSON)", A, "200", tag="admin")},
 "/v1/host": {"get": op("observe mode on the daemon's host (the policy's [linux] section): whether it observes, its globs and interval, cgroups observed, sample rounds, records written, errors, the last round; enforce: the daemon's cgroups for its allocations ([linux] enforce_api: mode, cgroups held, limit writes, errors, drift, orphans removed, the last error)", STAFF, "200", tag="history")},
}
doc = {"openapi": "3.0.3",
       "info": {"title": "ahead API", "version": "1",
                "description": "The HTTP/JSON API of `ahead serve`. Objects have the shape the CLI's -o json prints (docs/JSON.md, docs/schema/ahead.schema.json); lists are {resourceVersion, items}. Errors are {\"error\": {code, message, field}}. Every write accepts an Idempotency-Key. See docs/API.md.",
                "license": {"name": "MIT"}},
       "servers": [{"url": "http://127.0.0.1:7070"}],
       "paths": paths,
       "components": {
         "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "ahead_<id>_<secret>; roles admin, operator, tenant, viewer"}},
         "parameters": {"IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
            "description": "client-chosen, 1-128 printable ASCII; a retry with the same key returns the first answer (kept at least 24 h); reused for a different request: 422", "schema": {"type": "string", "maxLength": 128}}},
         "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message", "field"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": ["string", "null"] if False else "string", "nullable": True}}}}}},
         "responses": {"Error": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}}
open(__import__("os").path.join(__import__("os").path.dirname(__file__), "..", "docs", "openapi.json"), "w").write(json.dumps(doc, indent=2) + "\n")
