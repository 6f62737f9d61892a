-- Scenario 1: POST /v1/auth/login, cycling through password-only users.
-- BENCH_FILE: one {"email","password"} JSON body per line.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local bodies, i
-- Optional pause between requests per connection (scenario 6's owners).
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if pause > 0 then
  function delay() return pause end
end
function init(args)
  bodies = my_lines()
  if #bodies == 0 then bodies = { '{"email":"none@bench.test","password":"x"}' } end
  i = 0
end

function request()
  mark_sent()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/auth/login", json_headers, bodies[i])
end

function response(status, headers, body)
  count(status)
end
