-- (f) POST /ID/notify/ to one recipient; the slots equal the event's.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"parties": ["bob@bench.test"], ' ..
  '"slots": [{"begin": "2031-03-10T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-03-11T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-03-12T09:00:00Z", "duration": "01:00"}]}'
