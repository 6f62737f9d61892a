-- Scenario 4: POST /v1/auth/refresh. Refresh tokens rotate and an old one
-- is refused, so each token is sent at most once: every thread starts from
-- its share of precomputed sessions (BENCH_FILE: one refresh token per
-- line) and queues the new token of each 200 for a later request. A failed
-- refresh loses its session; `starved` counts requests that found the
-- queue empty (they are sent with a dummy token and count as errors).
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local queue, head, tail
starved = 0
function init(args)
  queue, head, tail = {}, 1, 0
  for _, tok in ipairs(my_lines()) do
    tail = tail + 1
    queue[tail] = tok
  end
end

function request()
  mark_sent()
  local tok = "rt_none"
  if head <= tail then
    tok = queue[head]
    queue[head] = nil
    head = head + 1
  else
    starved = starved + 1
  end
  return wrk.format("POST", "/v1/auth/refresh", json_headers,
    '{"refresh_token":"' .. tok .. '"}')
end

function response(status, headers, body)
  count(status)
  if status == 200 then
    local tok = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if tok then
      tail = tail + 1
      queue[tail] = tok
    end
  end
end
