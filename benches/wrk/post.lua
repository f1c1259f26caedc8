-- POST /api/v1/auth/token with the fixed JSON body BENCH_BODY.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
install_status_counter()
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
