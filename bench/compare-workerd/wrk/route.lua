-- wrk script for bench/compare-workerd: requests one route and counts responses by status.
-- Env:
--   CW_PATH     the path, e.g. /stateless, /hot, or a prefix like /spread/ when CW_KEYS > 0
--   CW_KEYS     0: always CW_PATH; N > 0: CW_PATH .. k for k in 0..N-1
--   CW_PICK     rr (default): each thread walks the keys round-robin from its own offset (so a
--               short warm-up touches every key); random: a uniformly random key per request
--   CW_HOT_KEY, CW_HOT_SHARE  with CW_KEYS > 0: this share (0..1) of the requests goes to
--               CW_PATH .. CW_HOT_KEY instead (a hot key among many; default none)
--   CW_THREADS  wrk's -t (for the round-robin offsets), default 2
-- Prints one line at the end:
--   RESULT requests=N seconds=S rps=R p50_ms=.. p99_ms=.. max_ms=.. s2xx=N s429=N s_other=N
--          socket_errors=N timeouts=N
-- (p50/p99/max are wrk's latency statistics; s_other counts statuses that are neither 2xx
-- nor 429; socket_errors are connect + read + write errors, timeouts wrk's request timeouts.)
local path = os.getenv("CW_PATH") or "/stateless"
local keys = tonumber(os.getenv("CW_KEYS") or "0")
local pick = os.getenv("CW_PICK") or "rr"
local nthreads = tonumber(os.getenv("CW_THREADS") or "2")
local hot_key = os.getenv("CW_HOT_KEY") or ""
local hot_share = tonumber(os.getenv("CW_HOT_SHARE") or "0")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + id * 7919)
  next_key = math.floor(id * keys / nthreads)
  s2xx, s429, s_other = 0, 0, 0
end

if keys > 0 then
  local next_name
  if pick == "random" then
    next_name = function() return math.random(0, keys - 1) end
  else
    next_name = function()
      local k = next_key
      next_key = (next_key + 1) % keys
      return k
    end
  end
  if hot_key ~= "" and hot_share > 0 then
    request = function()
      if math.random() < hot_share then return wrk.format("GET", path .. hot_key) end
      return wrk.format("GET", path .. next_name())
    end
  else
    request = function() return wrk.format("GET", path .. next_name()) end
  end
else
  local req = nil
  request = function()
    if not req then req = wrk.format("GET", path) end
    return req
  end
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    s2xx = s2xx + 1
  elseif status == 429 then
    s429 = s429 + 1
  else
    s_other = s_other + 1
  end
end

function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s2xx")
    b = b + t:get("s429")
    c = c + t:get("s_other")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "s2xx=%d s429=%d s_other=%d socket_errors=%d timeouts=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    a, b, c, e.connect + e.read + e.write, e.timeout))
end
