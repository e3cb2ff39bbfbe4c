-- (a), (b), (c), (g), (h): GET of the URL given to wrk.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.method = "GET"
