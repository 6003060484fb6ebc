-- bench/run api: holds LIVE allocations before the measured runs (long
-- leases), then stops. LIVE and the thread count come from the environment.
local token = os.getenv("AHEAD_TOKEN")
local want = tonumber(os.getenv("AHEAD_LIVE")) / tonumber(os.getenv("AHEAD_THREADS"))
local h = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local body = '{"tenant": "bench", "pool": "big", "resources": {"cpu": 100, "memory": "64Mi"}, "lease": "24h"}'
local got = 0
function request()
  return wrk.format("POST", "/v1/allocations", h, body)
end
function response(status, headers, b)
  if status == 201 then got = got + 1 end
  if got >= want then wrk.thread:stop() end
end
