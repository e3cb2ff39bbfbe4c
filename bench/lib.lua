-- Shared by every bench scenario: headers from the environment, a count of
-- non-2xx answers per thread, and one machine-readable RESULT line at the end.
--   BENCH_AUTH   value of the Authorization header (empty: none)
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
wrk.headers["Accept"] = "application/json"

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- BENCH_EVENTS="4,9,..." and BENCH_THREADS: the event ids this thread works
-- on (every thread its own share, so two threads never write one event).
function my_events()
  local mine, i = {}, 0
  local n = tonumber(os.getenv("BENCH_THREADS") or "2")
  for id in string.gmatch(os.getenv("BENCH_EVENTS") or "", "%d+") do
    if i % n == tid then
      table.insert(mine, id)
    end
    i = i + 1
  end
  return mine
end

-- (e), (f), (i): the write scenarios. Each request writes the next of this
-- thread's events (my_events) with the next of `bodies` for that event, in
-- turn, so that every request changes something; `path_of(id)` is its path.
function write_in_turn(method, path_of, bodies)
  local events, turn, next_index = {}, {}, 0
  function init(args)
    events = my_events()
  end
  function request()
    next_index = next_index % #events + 1
    local id = events[next_index]
    turn[id] = (turn[id] or 0) % #bodies + 1
    return wrk.format(method, path_of(id), nil, bodies[turn[id]])
  end
end

non2xx = 0
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if non2xx <= 3 then
      io.stderr:write("non-2xx " .. status .. ": " .. string.sub(body or "", 1, 200) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  -- RESULT requests duration_us req_per_s p50_ms p99_ms non2xx socket_errors
  io.write(string.format("RESULT %d %d %.1f %.2f %.2f %d %d\n", summary.requests, summary.duration,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, bad, socket_errors))
end
