-- (e) PATCH /ID/ narrowing: every request narrows or widens one event's
-- slots (3 -> 2 -> 3 ...), so each request changes something. The events
-- are spread over the threads (BENCH_EVENTS): a PATCH takes the event's row
-- lock until it commits, so one event for all 16 connections would measure
-- that lock, not the service.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.headers["Content-Type"] = "application/json"
local wide = '{"slots": [{"begin": "2031-03-10T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-03-11T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-03-12T09:00:00Z", "duration": "01:00"}]}'
local narrow = '{"slots": [{"begin": "2031-03-10T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-03-11T09:00:00Z", "duration": "01:00"}]}'
write_in_turn("PATCH", function(id) return "/" .. id .. "/" end, {narrow, wide})
