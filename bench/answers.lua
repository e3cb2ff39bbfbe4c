-- (i) PUT /ID/answers/: every request replaces the caller's answers to the
-- three slots of one of its events with the other of two answer sets, so
-- each request changes something (a PUT that changes nothing logs nothing
-- and would measure less). Events are spread over the threads
-- (BENCH_EVENTS), as for (e): an answer takes the event's row lock.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.headers["Content-Type"] = "application/json"
local function answer_set(first, second, third)
  return '{"answers": [' ..
    '{"slot": {"begin": "2031-03-10T09:00:00Z", "duration": "01:00"}, "answer": "' .. first .. '"}, ' ..
    '{"slot": {"begin": "2031-03-11T09:00:00Z", "duration": "01:00"}, "answer": "' .. second .. '"}, ' ..
    '{"slot": {"begin": "2031-03-12T09:00:00Z", "duration": "01:00"}, "answer": "' .. third .. '"}]}'
end
local sets = {answer_set("yes", "maybe", "no"), answer_set("no", "yes", "maybe")}
write_in_turn("PUT", function(id) return "/" .. id .. "/answers/" end, sets)
