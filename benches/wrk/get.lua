-- A fixed GET (scenarios B and C): the URL is wrk's; nothing per request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
