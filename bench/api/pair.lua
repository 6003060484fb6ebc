-- bench/run api: each connection chains allocate -> release. wrk gives a
-- script no connection identity, so the ids granted on this thread wait in
-- one queue: a connection's next request releases the oldest waiting id if
-- there is one, else allocates. Requests alternate POST and DELETE, and
-- the live count stays what preload.lua left (plus at most the connections).
local token = os.getenv("AHEAD_TOKEN")
local post_h = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local del_h = {["Authorization"] = "Bearer " .. token}
local body = os.getenv("AHEAD_BODY") or
  '{"tenant": "bench", "pool": "big", "resources": {"cpu": 100, "memory": "64Mi"}, "lease": "24h"}'
-- bench/run cluster: AHEAD_IDEM_PREFIX set gives every allocation an
-- Idempotency-Key (PREFIX-THREAD-N), as a cluster client sends
local idem = os.getenv("AHEAD_IDEM_PREFIX")
local n_keys = 0
local ids = {}
local head, tail = 1, 0
errors = 0
posts = 0
dels = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function request()
  if head <= tail then
    local id = ids[head]
    ids[head] = nil
    head = head + 1
    dels = dels + 1
    return wrk.format("DELETE", "/v1/allocations/" .. id, del_h, nil)
  end
  posts = posts + 1
  if idem then
    n_keys = n_keys + 1
    post_h["Idempotency-Key"] = string.format("%s-%d-%d", idem, thread_no or 0, n_keys)
  end
  return wrk.format("POST", "/v1/allocations", post_h, body)
end

function response(status, headers, b)
  if status == 201 then
    local id = b:match('"id": (%d+)')
    if id then
      tail = tail + 1
      ids[tail] = id
    end
  elseif status ~= 200 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local e, p, d = 0, 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
    p = p + t:get("posts")
    d = d + t:get("dels")
  end
  io.write(string.format("lua: posts=%d releases=%d errors=%d\n", p, d, e))
end
