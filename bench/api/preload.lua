-- bench/run api: holds allocations before the measured runs (long leases).
-- Each thread allocates its share of AHEAD_LIVE, then only asks /healthz
-- (wrk runs for its whole duration; bench/api.sh repeats short runs until
-- the pool holds LIVE).
local token = os.getenv("AHEAD_TOKEN")
local want = tonumber(os.getenv("AHEAD_LIVE")) / tonumber(os.getenv("AHEAD_THREADS"))
local h = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local body = '{"tenant": "bench", "pool": "big", "resources": {"cpu": 100, "memory": "64Mi"}, "lease": "24h"}'
local sent = 0
function request()
  if sent >= want then return wrk.format("GET", "/healthz") end
  sent = sent + 1
  return wrk.format("POST", "/v1/allocations", h, body)
end
