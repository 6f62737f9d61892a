-- Shared by the bench/*.lua wrk scripts (loaded with dofile).
--
-- Counts 200s apart from everything else, times each thread from its first
-- request to its last response (LuaJIT FFI clock, so a run that stops early
-- because its precomputed bodies ran out still gets an exact rate), and
-- prints one machine-readable RESULT line from done().
--
-- Environment: BENCH_THREADS (= wrk -t), BENCH_FILE (lines to send).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

json_headers = { ["Content-Type"] = "application/json" }

ok, other, t_first, t_last = 0, 0, nil, nil
statuses = {}  -- non-200 responses by status code

function mark_sent()
  if not t_first then t_first = now_us() end
end

function count(status)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
  t_last = now_us()
end

-- Lines of BENCH_FILE that belong to this thread (round-robin split), so no
-- two threads ever send the same one-time body.
function my_lines()
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  local mine, i = {}, 0
  for line in io.lines(os.getenv("BENCH_FILE")) do
    if line ~= "" then
      if i % n == tid then mine[#mine + 1] = line end
      i = i + 1
    end
  end
  return mine
end

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local n_ok, n_other, first, last = 0, 0, math.huge, 0
  local by_status = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses") or {}) do
      by_status[code] = (by_status[code] or 0) + n
    end
    n_ok = n_ok + t:get("ok")
    n_other = n_other + t:get("other")
    local f, l = t:get("t_first"), t:get("t_last")
    if f and f < first then first = f end
    if l and l > last then last = l end
  end
  local secs = (last > first) and (last - first) / 1e6 or summary.duration / 1e6
  local e = summary.errors
  local function ms(p) return latency:percentile(p) / 1000 end
  local parts = {}
  for code, n in pairs(by_status) do parts[#parts + 1] = code .. ":" .. n end
  table.sort(parts)
  local non200 = (#parts > 0) and table.concat(parts, ",") or "-"
  io.write(string.format(
    "RESULT requests=%d secs=%.2f rps=%.1f ok=%d ok_rps=%.1f non200=%d " ..
    "sock_err=%d timeouts=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_ms=%.2f " ..
    "statuses=%s\n",
    summary.requests, secs, summary.requests / secs, n_ok, n_ok / secs, n_other,
    e.connect + e.read + e.write, e.timeout,
    ms(50), ms(90), ms(99), latency.max / 1000, latency.mean / 1000, non200))
end
