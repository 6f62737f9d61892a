-- Scenario 3 (and the /v1/me probe of scenario 5): GET /v1/me with valid
-- Bearer tokens, cycling. BENCH_FILE: one access token per line.
-- BENCH_DELAY_MS (optional): pause between requests on a connection, to
-- probe latency without adding load.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local reqs
function init(args)
  reqs = {}
  for _, tok in ipairs(my_lines()) do
    reqs[#reqs + 1] = wrk.format("GET", "/v1/me", { ["Authorization"] = "Bearer " .. tok })
  end
  i = 0
end

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
  function delay() return pause end
end

function request()
  mark_sent()
  i = i % #reqs + 1
  return reqs[i]
end

function response(status, headers, body)
  count(status)
end
