-- bench/run api: each connection chains allocate -> release. wrk gives a
-- script no connection identity, so the ids granted on this thread wait in
-- one queue: a connection's next request releases the oldest waiting id if
-- there is one, else allocates. Requests alternate POST and DELETE, and
-- the live count stays what preload.lua left (plus at most the connections).
local token = os.getenv("AHEAD_TOKEN")
local post_h = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local del_h = {["Authorization"] = "Bearer " .. token}
local body = '{"tenant": "bench", "pool": "big", "resources": {"cpu": 100, "memory": "64Mi"}, "lease": "24h"}'
local ids = {}
local head, tail = 1, 0
errors = 0
posts = 0
dels = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
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
