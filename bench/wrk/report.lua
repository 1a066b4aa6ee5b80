-- wrk reporting hook shared by duro's HTTP benchmarks: one machine-readable line per run.
-- Optional: set env DURO_SPREAD=N to spread requests over N object names under DURO_PREFIX.
local spread = tonumber(os.getenv("DURO_SPREAD") or "0")
local prefix = os.getenv("DURO_PREFIX") or "/counter/"
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(os.time() + id * 7919)
end

if spread > 0 then
  request = function()
    return wrk.format("GET", prefix .. "obj" .. math.random(1, spread))
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
                 summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, errors))
end
