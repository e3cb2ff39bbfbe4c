-- (d) POST / : 3 parties, 3 slots.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title": "bench create", ' ..
  '"parties": ["alice@bench.test", "bob@bench.test", "carol@bench.test"], ' ..
  '"slots": [{"begin": "2031-01-10T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-01-11T09:00:00Z", "duration": "01:00"}, ' ..
  '{"begin": "2031-01-12T09:00:00Z", "duration": "00:30"}]}'
