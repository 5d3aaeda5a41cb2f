-- wrk script: POST /push from many simulated spokes. Each request is one
-- spoke's cycle (dht22, bme680, pi-monitor and network readings) with a
-- timestamp of its own, so nothing is a duplicate the hub could skip.
-- Spokes: the SPOKES environment variable (default 1000).
local spokes = tonumber(os.getenv("SPOKES") or "1000")
local token = os.getenv("TOKEN") or "bench"
local n = 0
local base = 1700000000000 + math.random(0, 1000000) * 1000000

local fmt = '{"node_id":"spoke-%d","readings":['
  .. '{"sensor_id":"spoke-%d:dht22","plugin":"dht22","timestamp":%d,"data":{"sensor-id":"dht22","temperature":%.1f,"humidity":%.1f}},'
  .. '{"sensor_id":"spoke-%d:bme680","plugin":"bme680","timestamp":%d,"data":{"sensor-id":"bme680","temperature":%.2f,"humidity":%.2f,"pressure":1013.2,"gas-resistance":52000,"iaq":48.5,"iaq-accuracy":"high"}},'
  .. '{"sensor_id":"spoke-%d:pi-monitor","plugin":"pi-monitor","timestamp":%d,"data":{"cpu-temp":48.3,"cpu-usage":12.5,"memory-used-mb":180,"memory-total-mb":512,"uptime-seconds":86400}},'
  .. '{"sensor_id":"spoke-%d:network","plugin":"cluster","timestamp":%d,"data":{"role":"spoke","latency":{"hub":0.8},"push_ms":1.2,"queued":0,"dropped":0}}'
  .. '],"logs":[],"queued":0,"dropped":0,"push_ms":1.2}'

local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}

function setup(thread)
  thread:set("id", math.random(0, 1000000))
end

request = function()
  n = n + 1
  local s = n % spokes
  local ts = base + n
  local t = 20 + (n % 100) / 10
  local body = string.format(fmt, s, s, ts, t, 45.0, s, ts, t, 40.0, s, ts, s, ts)
  return wrk.format("POST", "/push", headers, body)
end

done = function(summary, latency, requests)
  local ok = summary.requests - (summary.errors.status or 0)
  io.write(string.format("pushes/s %.0f  p50 %.2f ms  p99 %.2f ms  max %.2f ms  non-2xx %d  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
