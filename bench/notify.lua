-- (f) POST /ID/notify/ to one recipient; the slots equal the event's.
-- Spread over the events in BENCH_EVENTS, one share per thread (a notify
-- locks the event's row until it commits, as a PATCH does).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.headers["Content-Type"] = "application/json"
local body = '{"parties": ["bob@bench.test"], ' ..
  '"slots": [{"begin": "2031-03-10T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-03-11T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-03-12T09:00:00Z", "duration": "01:00"}]}'
write_in_turn("POST", function(id) return "/" .. id .. "/notify/" end, {body})
