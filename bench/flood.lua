-- Scenario 6: one client floods POST /v1/auth/login with unknown emails,
-- every request from the same address (BENCH_FORWARDED_FOR, honoured because
-- the server trusts 127.0.0.1 as its proxy), while the owners log in.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local n = 0
local forwarded = os.getenv("BENCH_FORWARDED_FOR") or "203.0.113.66"

function request()
  mark_sent()
  n = n + 1
  local body = string.format('{"email":"flood-%d-%d@bench.test","password":"guess %d"}', tid, n, n)
  return wrk.format("POST", "/v1/auth/login",
    { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = forwarded }, body)
end

function response(status, headers, body)
  count(status)
end
