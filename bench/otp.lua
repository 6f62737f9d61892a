-- Scenario 2: POST /v1/auth/otp with fresh codes, each body sent once.
-- BENCH_FILE.<thread id>: this thread's {"challenge_token","code"} bodies
-- (each optionally preceded by "address<TAB>", sent as X-Forwarded-For),
-- written by `helper.py otp-bodies` in an order where a user's later code
-- step always comes after its earlier one. When the file runs out the
-- thread stops, so nothing is ever replayed; the rate is taken from the
-- first request to the last response (see common.lua).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local bodies, i
function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BENCH_FILE") .. "." .. tid) do
    if line ~= "" then bodies[#bodies + 1] = line end
  end
  i = 0
end

function request()
  mark_sent()
  i = i + 1
  if i > #bodies then
    if not exhausted then
      exhausted = true
      -- Tells load.sh this thread is finished (it then ends wrk early).
      local f = io.open(os.getenv("BENCH_FILE") .. ".done." .. tid, "w")
      if f then f:close() end
    end
    wrk.thread:stop()
    -- The loop stops before this is answered; were it answered, it would
    -- count as an error (401), never as a success.
    return wrk.format("POST", "/v1/auth/otp", json_headers,
      '{"challenge_token":"exhausted","code":"000000"}')
  end
  -- "address<TAB>body": the code step comes from the user's own address.
  local ip, body = bodies[i]:match("^([^\t]+)\t(.*)$")
  if ip then
    return wrk.format("POST", "/v1/auth/otp",
      { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip }, body)
  end
  return wrk.format("POST", "/v1/auth/otp", json_headers, bodies[i])
end

function response(status, headers, body)
  count(status)
end
