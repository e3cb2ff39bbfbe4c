-- (e) PATCH /ID/ narrowing: alternates between two slot sets, so every
-- request changes the event (3 slots -> 2 slots -> 3 slots ...).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local wide = '{"slots": [{"begin": "2031-02-10T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-02-11T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-02-12T09:00:00Z", "duration": "01:00"}]}'
local narrow = '{"slots": [{"begin": "2031-02-10T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-02-11T09:00:00Z", "duration": "01:00"}]}'
local flip = false
wrk.headers["Content-Type"] = "application/json"
function request()
  flip = not flip
  return wrk.format("PATCH", nil, nil, flip and narrow or wide)
end
