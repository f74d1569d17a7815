-- wrk script of the benchmark (bench/wrk.py runs it): builds each request, counts the statuses.
--
--   wrk -t1 -c32 -d12s -s bench/requests.lua http://127.0.0.1:PORT -- MODE PATH [TOKENS_FILE RUN_ID]
--
-- MODE "get":  GET PATH (the bare reference's "/" or the service's "/healthz").
-- MODE "ping": POST PATH with one new ping per request: a fresh UUID id, the current time (to the
--              microsecond), a position on the island or at sea, and the next device's token from
--              TOKENS_FILE (one token a line, round-robin). The bare reference's POST route gets the
--              very same requests, so the difference is the service's own work.
-- RUN_ID (14 hex digits, new for every wrk run) and a per-connection counter make the ids unique.
-- Nothing heavy runs per response: one table increment for the status.
-- At the end one line "BENCH_JSON {...}" carries requests, errors, latency and statuses.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")

-- mostly on the island (Phuket Town, Patong, Kata), some in the sea off Chalong: lat, lon, jitter
local AREAS = {
  {7.8804, 98.3923, 0.01}, {7.8955, 98.2990, 0.003}, {7.8205, 98.2990, 0.003}, {7.80, 98.37, 0.02},
}

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count)
  table.insert(threads, thread)
end

local mode, path, run_id
local tokens = {}
local n = 0
statuses = {}  -- a global: done() reads it from every thread
local headers = {}
local idx = 1

local function now_rfc3339()
  ffi.C.gettimeofday(tv, nil)
  local sec = tonumber(tv.tv_sec)
  return os.date("!%Y-%m-%dT%H:%M:%S", sec) .. string.format(".%06dZ", tonumber(tv.tv_usec))
end

function init(args)
  mode, path = args[1] or "get", args[2] or "/"
  idx = thread_index or 1
  if mode == "ping" then
    for line in io.lines(args[3]) do
      if #line > 0 then table.insert(tokens, line) end
    end
    run_id = args[4] or "00000000000000"
    headers = {["Content-Type"] = "application/json", ["Authorization"] = ""}
  end
  math.randomseed(os.time() * 100 + idx)
end

function request()
  if mode ~= "ping" then
    return wrk.format("GET", path)
  end
  n = n + 1
  local area = AREAS[(n % #AREAS) + 1]
  local jitter = area[3]
  local lat = area[1] + (math.random() * 2 - 1) * jitter
  local lon = area[2] + (math.random() * 2 - 1) * jitter
  local id = string.format("%s-%04x-4%s-a%s-%012x", run_id:sub(1, 8), idx, run_id:sub(9, 11),
                           run_id:sub(12, 14), n)
  headers["Authorization"] = "Bearer " .. tokens[((n + idx * 7919) % #tokens) + 1]
  local body = string.format(
    '{"pings":[{"id":"%s","lat":%.6f,"lon":%.6f,"recorded_at":"%s","accuracy_m":10.0,"battery_pct":80}]}',
    id, lat, lon, now_rfc3339())
  return wrk.format("POST", path, headers, body)
end

function response(status, _headers, _body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, _requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    if counts then
      for status, count in pairs(counts) do
        merged[status] = (merged[status] or 0) + count
      end
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(parts, ",")))
end
