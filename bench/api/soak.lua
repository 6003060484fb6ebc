-- bench/run soak: each id granted on this thread gets a usage report, then
-- a release, while new ones are requested (some with a workload, so the
-- usage history and its records are exercised too).
local token = os.getenv("AHEAD_TOKEN")
local post_h = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local del_h = {["Authorization"] = "Bearer " .. token}
local n = 0
-- an id moves fresh -> (usage report sent) -> used once the report is
-- answered, so its release never overtakes its report on another connection
local fresh, used, reporting = {}, {}, {}
errors = 0
codes = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end

local function pop(q) local v = q[1]; if v then table.remove(q, 1) end; return v end

function request()
  n = n + 1
  local id = pop(used)
  if id then return wrk.format("DELETE", "/v1/allocations/" .. id, del_h, nil) end
  id = pop(fresh)
  if id then
    reporting[id] = true
    local body = string.format('{"usage": {"cpu": %d, "memory": %d}}', 50 + n % 100, (32 + n % 64) * 1048576)
    return wrk.format("POST", "/v1/allocations/" .. id .. "/usage", post_h, body)
  end
  local wl = (n % 3 == 0) and string.format(', "workload": "w%d", "params": {"size": "%d"}', n % 7, n % 5) or ""
  local body = '{"tenant": "bench", "pool": "big", "resources": {"cpu": 100, "memory": "64Mi"}, "lease": "1h"' .. wl .. '}'
  return wrk.format("POST", "/v1/allocations", post_h, body)
end

function response(status, headers, b)
  if status == 201 then
    local id = b:match('"id": (%d+)')
    if id then table.insert(fresh, id) end
  elseif status == 200 then
    local id = b:match('"id": (%d+)')
    if id and reporting[id] then reporting[id] = nil; table.insert(used, id) end
  else
    errors = errors + 1
    local k = "s" .. status
    codes[k] = (codes[k] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = 0
  local by = {}
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
    for k, n in pairs(t:get("codes")) do by[k] = (by[k] or 0) + n end
  end
  io.write(string.format("lua: errors=%d\n", e))
  local parts = {}
  for k, n in pairs(by) do table.insert(parts, string.format("%s x%d", k:sub(2), n)) end
  table.sort(parts)
  io.write("lua: statuses=" .. table.concat(parts, ", ") .. "\n")
end
