-- Scenario 5: a light latency probe of BENCH_PATH (e.g. /healthz), one
-- request every BENCH_DELAY_MS per connection, while another wrk runs the
-- login storm.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local req
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "10")

function init(args)
  -- Built here, not at load time: wrk fills in wrk.host only afterwards.
  req = wrk.format("GET", os.getenv("BENCH_PATH") or "/healthz")
end

function delay() return pause end

function request()
  mark_sent()
  return req
end

function response(status, headers, body)
  count(status)
end
